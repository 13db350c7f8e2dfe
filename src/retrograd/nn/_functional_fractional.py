"""Fractional max pooling (Graham, "Fractional Max-Pooling", 2015): max pooling whose windows
start at pseudo-random, increasing offsets, so the output can be any size between the input's
and the input's over the kernel's.

The offsets follow PyTorch's kernel: for a sample u in [0, 1) per (batch, channel, dim),
alpha = (in − kernel) / (out − 1) and window i starts at ⌊(i + u)·alpha⌋ − ⌊u·alpha⌋, computed
in the input's dtype; the last window ends at the input's edge. The samples are drawn with
`rand(N, C, 2)` in the input's dtype (u for the width first, then for the height), so a seeded
program pools the windows PyTorch pools.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices"]


def _pair_of_ints(value, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise RuntimeError(f"fractional_max_pool2d: {name} must either be a single Int or tuple of Ints")
    return int(pair[0]), int(pair[1])


def _window_starts(samples: np.ndarray, input_size: int, output_size: int, kernel: int) -> np.ndarray:
    """(..., output_size) window starts from samples (...), in the samples' dtype as PyTorch."""
    dtype = samples.dtype.type
    starts = np.empty((*samples.shape, output_size), np.int64)
    if output_size > 1:
        alpha = dtype(input_size - kernel) / dtype(output_size - 1)
        steps = np.arange(output_size - 1).astype(samples.dtype)
        scaled = ((steps + samples[..., None]) * alpha).astype(np.int64)
        starts[..., :-1] = scaled - (samples * alpha).astype(np.int64)[..., None]
    starts[..., -1] = input_size - kernel
    return starts


def _pick_maximum(values: np.ndarray) -> np.ndarray:
    """Index of each window's maximum along the last axis: the first largest value, or the last
    NaN if there is one (PyTorch's loop replaces its maximum by any NaN it meets)."""
    is_nan = np.isnan(values)
    first_largest = np.argmax(np.where(is_nan, -np.inf, values), axis=-1)
    last_nan = values.shape[-1] - 1 - np.argmax(is_nan[..., ::-1], axis=-1)
    return np.where(is_nan.any(axis=-1), last_nan, first_largest)


def _check_samples(samples: Tensor, input: Tensor, batch: int, channels: int) -> None:
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.size(0) < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.size(1) != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.size(2) != 2:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to 2; got {samples.size(2)}.")


def _pool_indices(data: np.ndarray, samples: np.ndarray, kernel, output) -> np.ndarray:
    """(N, C, out_h, out_w) flat indices (h·W + w) of the pooled maxima of `data` (N, C, H, W)."""
    (kernel_h, kernel_w), (out_h, out_w) = kernel, output
    batch, channels, height, width = data.shape
    if out_h + kernel_h - 1 > height:
        raise RuntimeError(
            f"fractional_max_pool2d(): pool height {kernel_h} too large relative to input height {height}"
        )
    if out_w + kernel_w - 1 > width:
        raise RuntimeError(
            f"fractional_max_pool2d(): pool width {kernel_w} too large relative to input width {width}"
        )
    samples = samples[:batch]
    cols = _window_starts(samples[..., 0], width, out_w, kernel_w)[..., None] + np.arange(kernel_w)
    rows = _window_starts(samples[..., 1], height, out_h, kernel_h)[..., None] + np.arange(kernel_h)
    flat = rows[:, :, :, None, :, None] * width + cols[:, :, None, :, None, :]
    flat = flat.reshape(batch, channels, out_h, out_w, kernel_h * kernel_w)
    values = np.take_along_axis(data.reshape(batch, channels, 1, 1, height * width), flat, axis=-1)
    return np.take_along_axis(flat, _pick_maximum(values)[..., None], axis=-1)[..., 0]


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """`(output, indices)` of fractional max pooling over the last two dims of a 3-d or 4-d
    input; the output size is `output_size`, or the input's size times `output_ratio`.
    `indices` index the flattened (H·W) plane, as `max_unpool2d` expects."""
    from .._creation import rand

    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool2d requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > 2:
            raise ValueError(
                "fractional_max_pool2d requires output_ratio to either be a single Int or tuple of Ints."
            )
        ratio = (output_ratio, output_ratio) if isinstance(output_ratio, (int, float)) else output_ratio
        output_size = [int(input.size(-2) * ratio[0]), int(input.size(-1) * ratio[1])]
    if _random_samples is None:
        batch = 1 if input.dim() == 3 else input.size(0)
        _random_samples = rand(batch, input.size(-3), 2, dtype=input.dtype)
    kernel = _pair_of_ints(kernel_size, "kernel_size")
    output = _pair_of_ints(output_size, "output_size")
    batched = input if input.dim() == 4 else input.unsqueeze(0)
    _check_samples(_random_samples, input, batched.size(0), batched.size(1))
    indices = Tensor._make(_pool_indices(batched._data, _random_samples._data, kernel, output))
    planes = batched.flatten(-2)
    pooled = planes.gather(-1, indices.flatten(-2)).view(indices.shape)
    if input.dim() == 3:
        return pooled.squeeze(0), indices.squeeze(0)
    return pooled, indices


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    """Fractional max pooling (see `fractional_max_pool2d_with_indices`); with
    `return_indices`, the flat indices of the maxima too."""
    pooled, indices = fractional_max_pool2d_with_indices(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )
    return (pooled, indices) if return_indices else pooled
