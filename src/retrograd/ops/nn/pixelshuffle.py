"""Pixel shuffle/unshuffle and channel shuffle (reshapes and permutes)."""

from __future__ import annotations

from .._table import register
from ._common import _torch_name


@register(torch_name=_torch_name("pixel_shuffle"))
def pixel_shuffle(input, upscale_factor: int):
    """(..., C * r^2, H, W) to (..., C, H * r, W * r)."""
    r = upscale_factor
    *lead, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
        )
    grouped = input.reshape(-1, channels // (r * r), r, r, height, width)
    shuffled = grouped.permute(0, 1, 4, 2, 5, 3)
    return shuffled.reshape(*lead, channels // (r * r), height * r, width * r)


@register(torch_name=_torch_name("pixel_unshuffle"))
def pixel_unshuffle(input, downscale_factor: int):
    """(..., C, H * r, W * r) to (..., C * r^2, H, W): the inverse of pixel_shuffle."""
    r = downscale_factor
    *lead, channels, height, width = input.shape
    for name, size, dim in (("height", height, -2), ("width", width, -1)):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={size} is not divisible by {r}"
            )
    if input.numel() == 0:
        return input.clone()  # (as PyTorch: an empty input keeps its shape)
    grouped = input.reshape(-1, channels, height // r, r, width // r, r)
    shuffled = grouped.permute(0, 1, 3, 5, 2, 4)
    return shuffled.reshape(*lead, channels * r * r, height // r, width // r)


@register(torch_name=_torch_name("channel_shuffle"))
def channel_shuffle(input, groups: int):
    """Interleave the channels of `groups` groups: (N, g * c, ...) as (N, g, c, ...) to (N, c, g, ...)."""
    batch, channels, *spatial = input.shape
    grouped = input.reshape(batch, groups, channels // groups, *spatial)
    return grouped.transpose(1, 2).reshape(batch, channels, *spatial)
