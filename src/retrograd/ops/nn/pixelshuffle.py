"""Pixel shuffle/unshuffle and channel shuffle: one node each, as PyTorch's, whose gradient is
the inverse rearrangement (pixel_unshuffle for pixel_shuffle, and so on)."""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from .._formula import Formula
from .._table import apply, register
from .._tangents import LINEAR
from ._common import _torch_name

# ---------------------------------------------------------------------------
# Arrays


def _shuffled(data: np.ndarray, r: int) -> np.ndarray:
    """(..., C * r^2, H, W) to (..., C, H * r, W * r)."""
    *lead, channels, height, width = data.shape
    grouped = data.reshape(-1, channels // (r * r), r, r, height, width)
    shuffled = grouped.transpose(0, 1, 4, 2, 5, 3)
    return shuffled.reshape(*lead, channels // (r * r), height * r, width * r)


def _unshuffled(data: np.ndarray, r: int) -> np.ndarray:
    """(..., C, H * r, W * r) to (..., C * r^2, H, W); an empty input keeps its shape (as PyTorch)."""
    if data.size == 0:
        return data.copy()
    *lead, channels, height, width = data.shape
    grouped = data.reshape(-1, channels, height // r, r, width // r, r)
    shuffled = grouped.transpose(0, 1, 3, 5, 2, 4)
    return shuffled.reshape(*lead, channels * r * r, height // r, width // r)


def _channels_shuffled(data: np.ndarray, groups: int) -> np.ndarray:
    """(N, g * c, ...) read as (N, g, c, ...) and laid out as (N, c, g, ...)."""
    batch, channels, *spatial = data.shape
    grouped = data.reshape(batch, groups, channels // groups, *spatial)
    return np.ascontiguousarray(grouped.swapaxes(1, 2)).reshape(batch, channels, *spatial)


# ---------------------------------------------------------------------------
# Nodes: each derivative is the inverse rearrangement (recorded, on Tensors: create_graph)


def _pixel_unshuffle_of(grad, r: int):
    return pixel_unshuffle(grad, r) if isinstance(grad, Tensor) else _unshuffled(grad, r)


def _pixel_shuffle_of(grad, r: int):
    return pixel_shuffle(grad, r) if isinstance(grad, Tensor) else _shuffled(grad, r)


def _channel_shuffle_of(grad, groups: int):
    return channel_shuffle(grad, groups) if isinstance(grad, Tensor) else _channels_shuffled(grad, groups)


class PixelShuffleBackward0(Formula):
    """(..., C * r^2, H, W) to (..., C, H * r, W * r)."""

    @staticmethod
    def forward(self, upscale_factor):
        return _shuffled(self._data, upscale_factor)

    tangent = LINEAR
    derivatives = {"self": lambda grad, upscale_factor: _pixel_unshuffle_of(grad, upscale_factor)}


class PixelUnshuffleBackward0(Formula):
    """(..., C, H * r, W * r) to (..., C * r^2, H, W): the inverse of pixel_shuffle."""

    @staticmethod
    def forward(self, downscale_factor):
        return _unshuffled(self._data, downscale_factor)

    tangent = LINEAR
    derivatives = {"self": lambda grad, downscale_factor: _pixel_shuffle_of(grad, downscale_factor)}


class ChannelShuffleBackward0(Formula):
    """The channels of `groups` groups interleaved; the gradient is shuffled back (with the
    group size as the number of groups)."""

    @staticmethod
    def forward(self, groups):
        return _channels_shuffled(self._data, groups)

    tangent = LINEAR
    derivatives = {"self": lambda grad, groups: _channel_shuffle_of(grad, grad.shape[1] // groups)}


@register(torch_name=_torch_name("pixel_shuffle"))
def pixel_shuffle(input, upscale_factor: int):
    """(..., C * r^2, H, W) to (..., C, H * r, W * r)."""
    r = upscale_factor
    channels = input.shape[-3]
    if channels % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
        )
    return apply(PixelShuffleBackward0, input, upscale_factor=upscale_factor)


@register(torch_name=_torch_name("pixel_unshuffle"))
def pixel_unshuffle(input, downscale_factor: int):
    """(..., C, H * r, W * r) to (..., C * r^2, H, W): the inverse of pixel_shuffle."""
    r = downscale_factor
    height, width = input.shape[-2:]
    for name, size, dim in (("height", height, -2), ("width", width, -1)):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={size} is not divisible by {r}"
            )
    return apply(PixelUnshuffleBackward0, input, downscale_factor=downscale_factor)


@register(torch_name=_torch_name("channel_shuffle"))
def channel_shuffle(input, groups: int):
    """Interleave the channels of `groups` groups: (N, g * c, ...) as (N, g, c, ...) to (N, c, g, ...)."""
    return apply(ChannelShuffleBackward0, input, groups=groups)
