"""Fractional max pooling (Graham, "Fractional Max-Pooling", 2015): max pooling whose windows
start at pseudo-random, increasing offsets, so the output can be any size between the input's
and the input's over the kernel's.

The offsets follow PyTorch's kernels: for a sample u in [0, 1) per (batch, channel, dim),
alpha = (in − kernel) / (out − 1) and window i starts at ⌊(i + u)·alpha⌋ − ⌊u·alpha⌋, computed
in the input's dtype; the last window ends at the input's edge. The samples are drawn with
`rand(N, C, dims)` in the input's dtype, and read as PyTorch reads them (2-d: u for the width
first, then the height; 3-d: time, height, width), so a seeded program pools the windows
PyTorch pools.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor

__all__ = [
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]

# dims -> (op name, how its messages name each spatial dim, which sample each dim reads,
#          the end of "kernel_size must either be a single Int or tuple of ...", the name its
#          size check gives, and how much room that check wants: PyTorch's 2-d kernel allows
#          out + pool − 1 == in, its 3-d kernel requires out + pool − 1 < in).
_KINDS = {
    2: ("fractional_max_pool2d", ("height", "width"), (1, 0), "Ints", "fractional_max_pool2d()", 0),
    3: ("fractional_max_pool3d", ("time", "height", "width"), (0, 1, 2), "three Ints",
        "fractional_max_pool3d_out()", 1),
}


def _ints(value, dims: int, name: str) -> tuple[int, ...]:
    op, _, _, tuple_words, _, _ = _KINDS[dims]
    values = (value,) * dims if isinstance(value, int) else tuple(value)
    if len(values) != dims:
        raise RuntimeError(f"{op}: {name} must either be a single Int or tuple of {tuple_words}")
    return tuple(int(v) for v in values)


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


def _check_samples(samples: Tensor, input: Tensor, batch: int, channels: int, dims: int) -> None:
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.size(0) < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.size(1) != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.size(2) != dims:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {dims}; got {samples.size(2)}.")


def _pool_indices(data: np.ndarray, samples: np.ndarray, kernel: tuple, output: tuple) -> np.ndarray:
    """(N, C, *output) flat indices (into the spatial dims of `data` (N, C, *spatial) taken as one)
    of the pooled maxima."""
    dims = len(kernel)
    _, dim_names, sample_of, _, where, room = _KINDS[dims]
    batch, channels, *spatial = data.shape
    for name, size, pool, out in zip(dim_names, spatial, kernel, output):
        if out + pool - 1 + room > size:
            raise RuntimeError(f"{where}: pool {name} {pool} too large relative to input {name} {size}")
    samples = samples[:batch]
    flat = np.zeros((batch, channels) + (1,) * (2 * dims), np.int64)
    stride = 1
    for axis in reversed(range(dims)):
        starts = _window_starts(samples[..., sample_of[axis]], spatial[axis], output[axis], kernel[axis])
        positions = starts[..., None] + np.arange(kernel[axis])
        shape = [batch, channels] + [1] * (2 * dims)
        shape[2 + axis], shape[2 + dims + axis] = output[axis], kernel[axis]
        flat = flat + positions.reshape(shape) * stride
        stride *= spatial[axis]
    flat = flat.reshape(batch, channels, *output, math.prod(kernel))
    planes = data.reshape(batch, channels, *(1,) * dims, math.prod(spatial))
    values = np.take_along_axis(planes, flat, axis=-1)
    return np.take_along_axis(flat, _pick_maximum(values)[..., None], axis=-1)[..., 0]


def _fractional_max_pool(input: Tensor, kernel_size, output_size, samples: Tensor | None,
                         dims: int) -> tuple[Tensor, Tensor]:
    """Pool the last `dims` dims of an unbatched (dims + 1) or batched (dims + 2) input."""
    from .._creation import rand

    unbatched = input.dim() == dims + 1
    if samples is None:
        batch = 1 if unbatched else input.size(0)
        samples = rand(batch, input.size(-dims - 1), dims, dtype=input.dtype)
    kernel = _ints(kernel_size, dims, "kernel_size")
    output = _ints(output_size, dims, "output_size")
    batched = input.unsqueeze(0) if unbatched else input
    _check_samples(samples, input, batched.size(0), batched.size(1), dims)
    indices = Tensor._make(_pool_indices(batched._data, samples._data, kernel, output))
    pooled = batched.flatten(-dims).gather(-1, indices.flatten(-dims)).view(indices.shape)
    if unbatched:
        return pooled.squeeze(0), indices.squeeze(0)
    return pooled, indices


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """`(output, indices)` of fractional max pooling over the last two dims of a 3-d or 4-d
    input; the output size is `output_size`, or the input's size times `output_ratio`.
    `indices` index the flattened (H·W) plane, as `max_unpool2d` expects."""
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool2d requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > 2:
            raise ValueError(
                "fractional_max_pool2d requires output_ratio to either be a single Int or tuple of Ints."
            )
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * 2
        output_size = [int(input.size(-2) * ratio[0]), int(input.size(-1) * ratio[1])]
    return _fractional_max_pool(input, kernel_size, output_size, _random_samples, 2)


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    """Fractional max pooling over two dims (see `fractional_max_pool2d_with_indices`); with
    `return_indices`, the flat indices of the maxima too."""
    pooled, indices = fractional_max_pool2d_with_indices(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )
    return (pooled, indices) if return_indices else pooled


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """`(output, indices)` of fractional max pooling over the last three dims of a 4-d or 5-d
    input; `indices` index the flattened (T·H·W) volume, as `max_unpool3d` expects."""
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool3d requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * 3
        output_size = [int(input.size(-3) * ratio[0]), int(input.size(-2) * ratio[1]),
                       int(input.size(-1) * ratio[2])]
    return _fractional_max_pool(input, kernel_size, output_size, _random_samples, 3)


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples: Tensor | None = None):
    """Fractional max pooling over three dims (see `fractional_max_pool3d_with_indices`); with
    `return_indices`, the flat indices of the maxima too."""
    pooled, indices = fractional_max_pool3d_with_indices(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )
    return (pooled, indices) if return_indices else pooled
