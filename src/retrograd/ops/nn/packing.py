"""Packing a padded batch of sequences (nn.utils.rnn.pack_padded_sequence): an op of its own,
as PyTorch's `_pack_padded_sequence`, whose derivative puts the packed rows back in place."""

from __future__ import annotations

import numpy as np

from ... import _creation
from ..._tensor import Tensor
from .._formula import Formula

__all__ = ["PackPaddedSequenceBackward0"]


def _pack_arrays(padded: np.ndarray, batch_sizes: tuple) -> np.ndarray:
    return np.concatenate([padded[step, :size] for step, size in enumerate(batch_sizes)])


def _unpack_to_padded(grad, batch_sizes: tuple, padded_shape: tuple):
    """The adjoint of packing: packed rows back to their places in a zero padded batch."""
    if isinstance(grad, Tensor):
        padded = _creation.zeros(padded_shape, dtype=grad.dtype)
        offset = 0
        for step, size in enumerate(batch_sizes):
            padded[step, :size] = grad[offset:offset + size]
            offset += size
        return padded
    padded = np.zeros(padded_shape, dtype=grad.dtype)
    offsets = np.cumsum((0, *batch_sizes))
    for step, size in enumerate(batch_sizes):
        padded[step, :size] = grad[offsets[step]:offsets[step + 1]]
    return padded


class PackPaddedSequenceBackward0(Formula):
    inputs = ("self",)

    @staticmethod
    def forward(self, batch_sizes=()):
        return _pack_arrays(self._data, batch_sizes)

    derivatives = {
        "self": lambda grad, batch_sizes, self_shape: _unpack_to_padded(grad, batch_sizes, self_shape),
    }


