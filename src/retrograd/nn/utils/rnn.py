"""Variable-length sequences for the recurrent layers: padding and packing.

A batch of sequences of different lengths is either *padded* (one tensor, time-major
`(T, B, *)` or batch-first, the short ones filled with a padding value) or *packed*: the
valid elements only, time step after time step, with `batch_sizes[t]` the number of
sequences still running at step t (the sequences sorted by decreasing length). RNN, LSTM
and GRU take a `PackedSequence` and skip the padding, as PyTorch's do.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import _creation, _dtype
from ..._tensor import Tensor
from ...ops._table import apply
from ...ops.nn.packing import PackPaddedSequenceBackward0

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                    "unsorted_indices"])):
    """Packed sequences: `data` holds the valid steps of every sequence, time-major;
    `batch_sizes[t]` how many sequences are still running at step t; `sorted_indices` the batch
    order packing used (None when the input was already sorted), `unsorted_indices` its inverse."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _inverse_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same sequences with `data` converted (dtype or device), as `Tensor.to`."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                         self.unsorted_indices)

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype.float32)

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype.float64)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def _inverse_permutation(permutation: Tensor) -> Tensor:
    inverse = np.empty_like(permutation._data)
    inverse[permutation._data] = np.arange(permutation._data.size, dtype=inverse.dtype)
    return Tensor._make(inverse)


def _batch_sizes(lengths: np.ndarray) -> np.ndarray:
    """How many of the (decreasing) `lengths` still run at each time step."""
    steps = np.arange(int(lengths[0]))
    return (lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of sequences of the given lengths (each at least 1)."""
    lengths = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths, dtype=np.int64)
    if lengths.ndim != 1 or lengths.size != input.size(1 if not batch_first else 0):
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} (batch_size="
            f"{input.size(1 if not batch_first else 0)})"
        )
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                "this requirement if you do not need ONNX exportability."
            )
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = Tensor._make(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if lengths.size and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in "
                           "'lengths' that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    if lengths.size and lengths[0] > input.size(0):
        raise RuntimeError(
            f"Expected sequence length to be larger than or equal to {int(lengths[0])}, but got "
            f"{input.size(0)}"
        )
    batch_sizes = _batch_sizes(lengths)
    data = apply(PackPaddedSequenceBackward0, input, batch_sizes=tuple(int(size) for size in batch_sizes))
    return PackedSequence(data, Tensor._make(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The padded batch a PackedSequence packs, and each sequence's length (int64, on the CPU)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes._data
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but "
                f"got total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    batch = int(batch_sizes[0])
    padded = _creation.full((steps, batch, *data.shape[1:]), padding_value, dtype=data.dtype)
    offset = 0
    for step, size in enumerate(batch_sizes.tolist()):
        padded[step, :size] = data[offset:offset + size]
        offset += size
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1).astype(np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._data]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._make(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths (first dimension) into one padded batch."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(sequence.size(0) for sequence in sequences)
    first = sequences[0]
    padded = _creation.full((longest, len(sequences), *first.shape[1:]), padding_value, dtype=first.dtype)
    for index, sequence in enumerate(sequences):
        length = sequence.size(0)
        if padding_side == "right":
            padded[:length, index] = sequence
        else:
            padded[longest - length:, index] = sequence
    return padded.transpose(0, 1) if batch_first else padded


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [padded_sequences[index, :int(length)] for index, length in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (each of shape (length, *))."""
    lengths = [sequence.size(0) for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence packs, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
