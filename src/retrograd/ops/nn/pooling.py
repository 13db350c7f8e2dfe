"""Pooling: max, average, adaptive and Lp pooling over 1 or 2 spatial dims."""

from __future__ import annotations

import functools
import math
import numbers
from typing import ClassVar

import numpy as np

from ..._dtype import scalar_type_name
from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, check_saved, kept_arguments
from .._table import apply, output, register
from .._tangents import LINEAR
from ..pointwise import (
    _constant_like,
    sign,
)
from ..pointwise import abs as absolute
from ._backward_ops import joined_to_input
from ._common import _torch_name, _tuple
from ._maps import _col2im_array, _SeparableMapBackward, _window_view, col2im, scatter_add_along
from .activation import relu
from .padding import constant_pad

# ---------------------------------------------------------------------------
# Pooling


def _pool_output_size(size, kernel, stride, padding, dilation, ceil_mode) -> int:
    effective = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (effective + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return count


def _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, name):
    """Kernel, stride, padding, dilation pairs and the output size; PyTorch's checks.

    Arguments given as plain ints and tuples of ints (the usual call) are looked up per
    geometry (Note [Pooling geometry per call])."""
    if (_plain(kernel_size) and (stride is None or _plain(stride)) and _plain(padding) and _plain(dilation)
            and type(ceil_mode) is bool):
        return _pool_geometry_of(input.shape, kernel_size, stride, padding, dilation, ceil_mode, name)
    return _pool_geometry_of.__wrapped__(input.shape, kernel_size, stride, padding, dilation, ceil_mode, name)


# Note [Pooling geometry per call]
#     A pooling call's arguments are normalised and checked, its output size and padding
#     pairs computed, and max pooling's index offsets built, from the input's shape and the
#     arguments alone: a network calls each pooling with the same few, so these are cached
#     (functools.lru_cache) by shape and arguments. Only plain ints, tuples of ints and bools
#     are keys (a float, a list or a Tensor takes the uncached path, and so keeps its own
#     errors); the cached arrays are read-only. An error is raised each call, never cached.


def _plain(value) -> bool:
    """Whether a pooling argument is an int or a tuple of ints (a key of the geometry cache)."""
    return type(value) is int or (type(value) is tuple and all(type(v) is int for v in value))


@functools.lru_cache(maxsize=256)
def _pool_geometry_of(shape, kernel_size, stride, padding, dilation, ceil_mode, name):
    """`_pool_geometry` from the input's shape."""
    ndim = len(shape)
    if ndim not in (3, 4):
        raise RuntimeError(
            f"{name}: Expected 3D or 4D (batch mode) tensor for input, but got: "
            f"[{', '.join(map(str, shape))}]"
        )
    if 0 in shape[ndim - 3:]:  # only a batch (of a 4-d input) may be empty
        raise RuntimeError(
            f"{name}: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
            f"input, but got:[{', '.join(map(str, shape))}]"
        )
    kernel = _tuple(kernel_size, 2, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, 2, "stride")
    padding, dilation = _tuple(padding, 2, "padding"), _tuple(dilation, 2, "dilation")
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    out = tuple(_pool_output_size(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip(shape[-2:], kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, shape[-3:]))}). Calculated output size: "
            f"({shape[-3]}x{out[0]}x{out[1]}). Output size is too small"
        )
    return kernel, stride, padding, dilation, out


def _pool_pairs(size, kernel, stride, padding, dilation, out) -> tuple:
    """(before, after) padding per spatial dim so that `out` windows fit (ceil_mode may need more)."""
    pairs = []
    for s, k, st, p, d, o in zip(size, kernel, stride, padding, dilation, out):
        needed = (o - 1) * st + d * (k - 1) + 1
        pairs.append((p, max(p, needed - s - p)))
    return tuple(pairs)


def _window_max(padded: np.ndarray, kernel, stride, dilation, out):
    """The max of each window and which kernel position (row-major code) holds it: the first
    maximum, as argmax; a NaN wins, the last NaN as in PyTorch's kernel.

    The separable passes propagate a NaN to the max of every window holding one, so a NaN
    among the maxima is the sign that some window needs the NaN rule, and the scan runs."""
    values, codes = _window_max_separable(padded, kernel, stride, dilation, out)
    if values.dtype.kind == "f" and np.isnan(values).any():
        return _window_max_scan(padded, kernel, stride, dilation, out)
    return values, codes


# Note [Tiled max pooling]
#     The common max pooling (stride = kernel, no padding, no dilation: windows that tile
#     the input) on a small input is one gather of the windows into a trailing axis and one
#     argmax over it, in place of the separable passes' dozen NumPy calls each way. argmax
#     picks the first maximum in row-major order, as the separable passes do, and the value
#     is read at it, so the result is the same to the bit (a -0.0 before a 0.0 included); a
#     NaN among the values sends the input to the scan for the NaN rule, as `_window_max`
#     does. An argmax along a short axis costs per window, not per call: from a few thousand
#     elements on the separable passes (forward) and the per-position writes (backward) are
#     faster, and the input goes there.
_TILED_MOST = 4096


def _tiles(shape, kernel, stride, padding, dilation, out) -> bool:
    """Whether max pooling over `shape` takes the tiled path (Note [Tiled max pooling]): its
    windows tile the input (ceil_mode may add a window reaching past it) and it is small."""
    return (stride == kernel and padding == (0, 0) and dilation == (1, 1)
            and out[0] * kernel[0] <= shape[-2] and out[1] * kernel[1] <= shape[-1]
            and math.prod(shape) <= _TILED_MOST)


def _window_max_tiled(data: np.ndarray, kernel, out):
    """`_window_max` for windows that tile `data` (Note [Tiled max pooling])."""
    lead = data.shape[:-2]
    size = kernel[0] * kernel[1]
    cropped = data[..., : out[0] * kernel[0], : out[1] * kernel[1]]
    windows = cropped.reshape(*lead, out[0], kernel[0], out[1], kernel[1]).swapaxes(-3, -2)
    windows = windows.reshape(-1, size)
    codes = windows.argmax(-1)
    values = windows[_row_numbers(len(codes)), codes].reshape(*lead, *out)
    if values.dtype.kind == "f" and np.isnan(values).any():
        return _window_max_scan(data, kernel, kernel, (1, 1), out)
    return values, codes.astype(_code_type(kernel)).reshape(values.shape)


@functools.lru_cache(maxsize=64)
def _row_numbers(count: int) -> np.ndarray:
    """0 .. count-1 (read-only: cached)."""
    numbers_ = np.arange(count)
    numbers_.flags.writeable = False
    return numbers_


def _code_type(kernel) -> np.dtype:
    """The smallest unsigned integer dtype that holds every kernel position's code."""
    return np.min_scalar_type(kernel[0] * kernel[1] - 1)


def _running_max(candidates, offsets):
    """Along one axis: the max of `candidates` (equal-shaped fresh contiguous arrays, the
    first overwritten) and, for each element, the code of the first one that holds it, the
    k-th candidate's codes being `offsets[k]` (each above every earlier one, so a later
    winner's code is the max of the two; the first is 0 or a fresh array, overwritten).

    Without NaN `np.maximum` is the selection itself (with one, the max is NaN and the codes
    are not used), and each step is a few whole-array ufuncs in place (a masked copy would be
    some 50 times slower)."""
    values, codes = candidates[0], offsets[0]
    for candidate, offset in zip(candidates[1:], offsets[1:]):
        better = candidate > values
        np.maximum(values, candidate, out=values)
        if np.ndim(codes) == 0:
            codes = better * offset
        else:
            np.maximum(codes, better * offset, out=codes)
    return values, codes


def _every_other(data: np.ndarray, axis: int, start: int, step: int, count: int) -> np.ndarray:
    """`count` entries of the last (axis -1) or second-last (axis -2) dim from `start` by `step`,
    as a fresh contiguous copy. A NumPy ufunc on a strided view runs element by element (some
    30 times slower than on contiguous data), a copy does not; rows go as one opaque element
    each, so their copy is one long loop however short the rows."""
    chosen = slice(start, start + step * (count - 1) + 1, step)
    if axis == -1 or not data.flags.c_contiguous:
        return np.array(data[..., chosen] if axis == -1 else data[..., chosen, :], order="C")
    row = np.dtype((np.void, data.shape[-1] * data.itemsize))
    rows = data.view(row)[..., 0]
    return np.array(rows[..., chosen], order="C").view(data.dtype).reshape(
        *data.shape[:-2], count, data.shape[-1])


def _put_rows(data: np.ndarray, start: int, step: int, rows: np.ndarray) -> None:
    """Write `rows` into the second-last dim of the fresh contiguous `data` from `start` by
    `step`: the inverse of `_every_other`, each row one opaque element."""
    chosen = slice(start, start + step * (rows.shape[-2] - 1) + 1, step)
    row = np.dtype((np.void, data.shape[-1] * data.itemsize))
    data.view(row)[..., 0][..., chosen] = np.ascontiguousarray(rows).view(row)[..., 0]


def _window_max_separable(padded, kernel, stride, dilation, out):
    """`_window_max` for NaN-free windows, one dim at a time: the max along each window's row, then
    along its column. The row-major first maximum is the first row holding a maximum and,
    within it, that row's first maximum, which is what the two passes pick."""
    code_type = _code_type(kernel).type
    columns = [_every_other(padded, -1, j * dilation[1], stride[1], out[1]) for j in range(kernel[1])]
    along_rows, column_codes = _running_max(columns, [code_type(j) for j in range(kernel[1])])
    rows = [_every_other(along_rows, -2, i * dilation[0], stride[0], out[0]) for i in range(kernel[0])]
    if np.ndim(column_codes) == 0:
        row_codes = [code_type(i * kernel[1]) for i in range(kernel[0])]
    else:
        row_codes = [_every_other(column_codes, -2, i * dilation[0], stride[0], out[0])
                     + code_type(i * kernel[1]) for i in range(kernel[0])]
    values, codes = _running_max(rows, row_codes)
    if np.ndim(codes) == 0:
        codes = np.zeros(values.shape, code_type)
    return values, codes


def _window_max_scan(padded: np.ndarray, kernel, stride, dilation, out):
    """`_window_max` by one strided slice per kernel position (the NaN rule: a later NaN wins)."""
    row_extent, column_extent = stride[0] * (out[0] - 1) + 1, stride[1] * (out[1] - 1) + 1
    values = choice = None
    for i in range(kernel[0]):
        row = i * dilation[0]
        for j in range(kernel[1]):
            column = j * dilation[1]
            window = padded[..., row: row + row_extent: stride[0], column: column + column_extent: stride[1]]
            if values is None:
                values = window.copy()
                choice = np.zeros(values.shape, dtype=_code_type(kernel))
                continue
            better = (window > values) | np.isnan(window)
            np.copyto(values, window, where=better)
            choice[better] = i * kernel[1] + j
    return values, choice


def _flat_indices(choice, kernel, stride, padding, dilation, width) -> np.ndarray:
    """Flat indices into the input's H*W plane of the kernel positions `choice` selects."""
    offsets, first = _index_offsets(kernel, stride, padding, dilation, width, choice.shape[-2:])
    indices = offsets.take(choice)
    indices += first
    return indices


@functools.lru_cache(maxsize=256)
def _index_offsets(kernel, stride, padding, dilation, width, out) -> tuple:
    """For `_flat_indices`: each kernel position's offset from its window's first element, and
    each window's first element, as flat indices into the H*W plane (read-only: cached)."""
    first = ((np.arange(out[0]) * stride[0] - padding[0])[:, None] * width
             + (np.arange(out[1]) * stride[1] - padding[1])[None, :])
    position = np.arange(kernel[0] * kernel[1])
    offsets = (position // kernel[1]) * dilation[0] * width + (position % kernel[1]) * dilation[1]
    first.flags.writeable = offsets.flags.writeable = False
    return offsets, first


def _picked_in_plane(x, indices):
    """The elements of x at flat `indices` into its last two dims (H*W)."""
    index = indices._data if isinstance(indices, Tensor) else indices
    flat = x.reshape((*x.shape[:-2], x.shape[-2] * x.shape[-1]))
    picked = _math.take_along(flat, index.reshape((*index.shape[:-2], index.shape[-2] * index.shape[-1])), -1)
    return picked.reshape(index.shape)


def _stride_as_given(stride, geometry_stride) -> tuple:
    """A pooling's stride as PyTorch's node shows it: `()` when the call gave none (the
    kernel size is then the stride), else one per spatial dim."""
    return () if stride is None or stride == [] or stride == () else geometry_stride


# Note [Pooling nodes keep what PyTorch's save]
#     A pooling node computes with its own geometry (padding pairs, window codes, divisors)
#     and shows the input, the indices and the arguments PyTorch's node saves (kept as given:
#     kept_arguments). Its backward on arrays reads its saved tensors, as PyTorch's does,
#     though it needs only the indices or nothing: a second backward through it is refused,
#     and so is one after the input or the returned indices were changed in place.


class MaxPool2DWithIndicesBackward0(ShownAsPyTorch, Node):
    """The max of each window (values, and flat indices into the input's H*W plane);
    backward scatter-adds the gradient to the arg-max positions (Note [Pooling nodes keep
    what PyTorch's save])."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    inputs, outputs = ("x",), ("result", "indices")
    # Each value is the input at its arg-max: so is its tangent.
    tangent = staticmethod(lambda x_t, indices: (_picked_in_plane(x_t, indices), None))
    __slots__ = ("_arguments", "choice", "geometry", "indices", "shape")
    non_differentiable_outputs = (1,)
    saved_names = ("self", "result1")
    hidden = ("choice", "geometry", "indices", "shape")
    shown: ClassVar[dict] = kept_arguments("kernel_size", "stride", "padding", "dilation", "ceil_mode")

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out, arguments=()):
        ctx.save_for_backward(x, output(1))
        ctx._arguments = arguments
        data = x._data
        height, width = data.shape[-2:]
        if data.dtype.kind in "fiu" and _tiles(data.shape, kernel, stride, padding, dilation, out):
            values, choice = _window_max_tiled(data, kernel, out)
            indices = _flat_indices(choice, kernel, stride, padding, dilation, width)
            ctx.indices, ctx.shape = indices, data.shape
            ctx.choice, ctx.geometry = choice, (kernel, stride, dilation, out)
            return values, indices
        pairs = _pool_pairs((height, width), kernel, stride, padding, dilation, out)
        lead = [(0, 0)] * (data.ndim - 2)
        fill = -np.inf if data.dtype.kind == "f" else np.iinfo(data.dtype).min
        padded = np.pad(data, [*lead, *pairs], constant_values=fill) if any(map(any, pairs)) else data
        values, choice = _window_max(padded, kernel, stride, dilation, out)
        indices = _flat_indices(choice, kernel, stride, padding, dilation, width)
        ctx.indices, ctx.shape = indices, data.shape
        spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        if padded is data and all(s >= span for s, span in zip(stride, spans)):
            # windows that neither overlap nor reach into padding: backward writes each kernel
            # position's selected gradient in place (see `_backward_into_windows`)
            ctx.choice, ctx.geometry = choice, (kernel, stride, dilation, out)
        else:
            ctx.choice = ctx.geometry = None
        return values, indices

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad, grad_indices=None):
        if not isinstance(grad, Tensor):
            check_saved(self)
            if getattr(self, "geometry", None) is not None:
                if _tiles(self.shape, *self.geometry[:2], (0, 0), *self.geometry[2:]):
                    return self._backward_tiled(grad)
                return self._backward_into_windows(grad)
            return _scatter_to_maxima(grad, self.indices, self.shape)
        # Recorded (create_graph) as PyTorch's max_pool2d_with_indices_backward: a function of
        # the gradient and of the input, flat in the input, so a second derivative is zeros.
        x, _ = self._saved_tensors
        backward_class = (AdaptiveMaxPool2DBackwardBackward0 if isinstance(self, AdaptiveMaxPool2DBackward0)
                          else MaxPool2DWithIndicesBackwardBackward0)
        return apply(backward_class, grad, x, indices=self.indices)

    def _backward_tiled(self, grad: np.ndarray) -> np.ndarray:
        """Windows that tile the input (Note [Tiled max pooling]): each window's gradient put at
        its max's kernel position (a selection: NaN stays there), the windows laid back out."""
        kernel, _, _, out = self.geometry
        lead = grad.shape[:-2]
        chosen = self.choice[..., None] == _row_numbers(kernel[0] * kernel[1])
        windows = np.where(chosen, grad[..., None], 0).reshape(*lead, *out, *kernel).swapaxes(-3, -2)
        block = windows.reshape(*lead, out[0] * kernel[0], out[1] * kernel[1])
        if block.shape == self.shape:
            return block
        result = np.zeros(self.shape, dtype=grad.dtype)
        result[..., : block.shape[-2], : block.shape[-1]] = block
        return result

    def _backward_into_windows(self, grad: np.ndarray) -> np.ndarray:
        """Disjoint windows: per kernel position, the gradient selected where that position held
        the max (no scatter, and NaN stays at the maxima), written into its columns of a block
        of rows, and each block into its rows of the result (see `_every_other`)."""
        kernel, stride, dilation, out = self.geometry
        result = np.zeros(self.shape, dtype=grad.dtype)
        column_extent = stride[1] * (out[1] - 1) + 1
        block = np.empty((*grad.shape[:-1], self.shape[-1]), dtype=grad.dtype)
        for i in range(kernel[0]):
            if kernel[1] * out[1] < self.shape[-1]:  # columns no window covers
                block.fill(0)
            for j in range(kernel[1]):
                column = j * dilation[1]
                block[..., column: column + column_extent: stride[1]] = _math.keep_where(
                    self.choice == i * kernel[1] + j, grad)
            _put_rows(result, i * dilation[0], stride[0], block)
        return result


def _scatter_to_maxima(grad: np.ndarray, indices: np.ndarray, shape: tuple) -> np.ndarray:
    """Zeros of `shape` with `grad` added at the flat `indices` into each H*W plane."""
    lead = shape[:-2]
    plane = shape[-2] * shape[-1]
    rows = int(np.prod(lead, dtype=np.int64))
    positions = indices.reshape(rows, indices.size // max(rows, 1)) + (np.arange(rows) * plane)[:, None]
    summed = np.bincount(positions.ravel(), weights=grad.reshape(-1), minlength=rows * plane)
    return summed.astype(grad.dtype, copy=False).reshape(shape)


def _scatter_recorded(grad, indices: np.ndarray, shape: tuple):
    """`_scatter_to_maxima`, recorded on Tensors."""
    if not isinstance(grad, Tensor):
        return _scatter_to_maxima(grad, indices, shape)
    lead = shape[:-2]
    flat_grad = grad.reshape(*lead, grad.shape[-2] * grad.shape[-1])
    flat_indices = indices.reshape(*lead, indices.shape[-2] * indices.shape[-1])
    flat = scatter_add_along(flat_grad, -1, flat_indices, shape[-2] * shape[-1])
    return flat.reshape(shape)


class MaxPool2DWithIndicesBackwardBackward0(Formula):
    """max pooling's derivative: the gradient put at the maxima. By the gradient its derivative
    picks the maxima again; by the input it is zero (PyTorch's max_pool_double_backward)."""

    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, indices):
        return _scatter_to_maxima(grad_output._data, indices, self._data.shape)

    tangent = staticmethod(lambda grad_output_t, indices, self_shape: _scatter_recorded(
        grad_output_t, indices, self_shape))
    derivatives = {
        "grad_output": lambda grad, indices: _picked_in_plane(grad, indices),
        "self": lambda grad: _math.zeros_like(grad),
    }


class AdaptiveMaxPool2DBackwardBackward0(MaxPool2DWithIndicesBackwardBackward0):
    """adaptive_max_pool2d's derivative (see MaxPool2DWithIndicesBackwardBackward0)."""


@register(torch_name=_torch_name("max_pool2d"))  # torch.max_pool2d has no return_indices
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The max over each window of the last two dims (padding counts as -inf)."""
    stride_given = stride
    kernel, stride, padding, dilation, out = _pool_geometry(
        input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    arguments = (kernel, _stride_as_given(stride_given, stride), padding, dilation, ceil_mode)
    values, indices = apply(MaxPool2DWithIndicesBackward0, input, kernel=kernel, stride=stride,
                            padding=padding, dilation=dilation, out=out, arguments=arguments)
    return (values, indices) if return_indices else values


def _adaptive_windows(size: int, out: int):
    """For each output position, the input positions of its window, padded to the longest
    window by repeating the last position (a repeat never changes a max)."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1)) * size) // out)
    longest = int((ends - starts).max()) if out else 0
    positions = starts[:, None] + np.arange(longest)[None, :]
    return np.minimum(positions, ends[:, None] - 1)


class AdaptiveMaxPool2DBackward0(MaxPool2DWithIndicesBackward0):
    """The max over windows chosen to give the requested output size; backward as max_pool2d's."""

    __slots__ = ()
    shown: ClassVar[dict] = {}

    @staticmethod
    def forward(ctx, x, out):
        ctx.save_for_backward(x, output(1))
        data = x._data
        height, width = data.shape[-2:]
        rows, columns = _adaptive_windows(height, out[0]), _adaptive_windows(width, out[1])
        picked = data[..., rows[:, :, None, None], columns[None, None, :, :]]
        picked = np.moveaxis(picked, -3, -2)
        flat = picked.reshape(*picked.shape[:-2], picked.shape[-2] * picked.shape[-1])
        choice = np.argmax(flat, axis=-1)
        if flat.dtype.kind == "f":  # the last NaN of a window is its max (PyTorch's kernel)
            nan = np.isnan(flat)
            last_nan = flat.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
            choice = np.where(nan.any(axis=-1), last_nan, choice)
        values = np.take_along_axis(flat, choice[..., None], axis=-1)[..., 0]
        kernel_w = columns.shape[1]
        chosen_rows = rows[np.arange(out[0])[:, None], choice // kernel_w]
        chosen_columns = columns[np.arange(out[1])[None, :], choice % kernel_w]
        indices = (chosen_rows * width + chosen_columns).astype(np.int64)
        ctx.indices, ctx.shape = indices, data.shape
        return values, indices


@register(torch_name=_torch_name("adaptive_max_pool2d"), floating=True)
def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size (None keeps that dim's size)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: [{', '.join(map(str, input.shape))}]"
        )
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) else tuple(output_size)
    out = tuple(int(s) if s is not None else size for s, size in zip(sizes, input.shape[-2:]))
    values, indices = apply(AdaptiveMaxPool2DBackward0, input, out=out)
    return (values, indices) if return_indices else values


@register(torch_name=_torch_name("adaptive_max_pool1d"), floating=True)
def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max pooling of the last dim to a fixed output size."""
    _check_1d_pool_input(input, "adaptive_max_pool1d")
    values, indices = adaptive_max_pool2d(input.unsqueeze(-2), (1, _one(output_size, "output_size")), True)
    values, indices = values.squeeze(-2), indices.squeeze(-2)
    return (values, indices) if return_indices else values


def _average_divisor(size, kernel, stride, padding, out, count_include_pad) -> np.ndarray:
    """How many elements each output averages over, per output row and column (outer product)."""
    counts = []
    for s, k, st, p, o in zip(size, kernel, stride, padding, out):
        starts = np.arange(o) * st - p
        ends = np.minimum(starts + k, s + p)
        if count_include_pad:
            counts.append(ends - starts)
        else:
            counts.append(np.minimum(ends, s) - np.maximum(starts, 0))
    return np.multiply.outer(counts[0], counts[1])


class AvgPool2DBackward0(ShownAsPyTorch, Node):
    """The mean of each window; backward spreads grad / divisor over each window (col2im).
    See Note [Pooling nodes keep what PyTorch's save]."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("_arguments", "divisor", "kernel", "pairs", "size", "stride")
    saved_names = ("self",)
    hidden = ("divisor", "kernel", "pairs", "size")
    shown: ClassVar[dict] = kept_arguments(
        "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out, count_include_pad, divisor_override, arguments=()):
        data = x._data
        size = data.shape[-2:]
        pairs = _pool_pairs(size, kernel, stride, padding, (1, 1), out)
        padded = np.pad(data, [*[(0, 0)] * (data.ndim - 2), *pairs])
        windows = _window_view(padded, kernel, stride, (1, 1))[..., : out[0], : out[1], :, :]
        if divisor_override:
            divisor = np.full(out, float(divisor_override))
        else:
            divisor = _average_divisor(size, kernel, stride, padding, out, count_include_pad)
        divisor = divisor.astype(data.dtype)
        ctx.save_for_backward(x)  # as PyTorch: its gradient is a function of x (joined_to_input)
        ctx.divisor, ctx.kernel, ctx.stride, ctx.pairs, ctx.size = divisor, kernel, stride, pairs, size
        ctx._arguments = arguments
        total = windows.sum(axis=(-2, -1))
        if data.dtype.kind in "iu":  # integers stay integers, the quotient truncated (as PyTorch)
            return (np.sign(total) * (np.abs(total) // np.maximum(divisor, 1))).astype(data.dtype)
        return total / divisor

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad):
        if not isinstance(grad, Tensor):
            check_saved(self)
            scaled = grad / self.divisor
            lead, out = grad.shape[:-2], grad.shape[-2:]
            spread = np.broadcast_to(scaled.reshape(*lead, 1, 1, *out), (*lead, *self.kernel, *out))
            padded_size = tuple(s + before + after for s, (before, after) in zip(self.size, self.pairs))
            image = _col2im_array(spread, padded_size, self.stride, (1, 1))
            (top, bottom), (left, right) = self.pairs
            return image[..., top: padded_size[0] - bottom, left: padded_size[1] - right]
        scaled = grad / _constant_like(grad, self.divisor)
        lead, out = grad.shape[:-2], grad.shape[-2:]
        spread = scaled.reshape(*lead, 1, 1, *out).expand(*lead, *self.kernel, *out)
        padded_size = tuple(s + before + after for s, (before, after) in zip(self.size, self.pairs))
        image = col2im(spread, padded_size, self.stride, (1, 1))
        crop = [(0, 0)] * (grad.ndim - 2) + [(-before, -after) for before, after in self.pairs]
        return joined_to_input("AvgPool2DBackwardBackward0", constant_pad(image, crop), *self._saved_tensors)


@register(torch_name="nn.functional.avg_pool2d")
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean over each window of the last two dims."""
    stride_given = stride
    kernel, stride, padding, _, out = _pool_geometry(
        input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d"
    )
    arguments = (kernel, _stride_as_given(stride_given, stride), padding, ceil_mode, count_include_pad,
                 divisor_override)
    return apply(AvgPool2DBackward0, input, kernel=kernel, stride=stride, padding=padding, out=out,
                 count_include_pad=count_include_pad, divisor_override=divisor_override, arguments=arguments)


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """Row i averages input positions floor(i*size/out) .. ceil((i+1)*size/out) - 1."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1)) * size) // out)
    positions = np.arange(size)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


class AdaptiveAvgPool2DBackward0(_SeparableMapBackward):
    """Adaptive average pooling: an averaging matrix on each of the last two dims."""

    joined = "AdaptiveAvgPool2DBackwardBackward0"
    __slots__ = ()


@register(torch_name="nn.functional.adaptive_avg_pool2d", floating=True)
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that dim's size)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
            f"[{', '.join(map(str, input.shape))}]"
        )
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) else tuple(output_size)
    out = tuple(int(s) if s is not None else size for s, size in zip(sizes, input.shape[-2:]))
    if out == (1, 1):
        return input.mean((-1, -2), keepdim=True)  # PyTorch's shortcut, and its dims order
    matrices = tuple(_adaptive_matrix(size, o, input._data.dtype) for size, o in zip(input.shape[-2:], out))
    return apply(AdaptiveAvgPool2DBackward0, input, matrices=matrices)


# ---------------------------------------------------------------------------
# 1-d pooling (as 2-d pooling over a height of 1), unfold/fold, pixel shuffle


def _check_1d_pool_input(input, name: str) -> None:
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"{name}() Expected 2D or 3D input tensor, but got [{', '.join(map(str, input.shape))}]"
        )


def _one(value, name: str) -> int:
    (single,) = _tuple(value, 1, name)
    return single


def _stride_1d(stride, kernel_size) -> tuple:
    """A 1-d pooling's stride as the 2-d pooling it runs takes it: the kernel size when none is
    given, as PyTorch's 1-d poolings default it (their node shows `(1, kernel_size)`)."""
    if stride is None or stride == [] or stride == ():
        stride = kernel_size
    return (1, _one(stride, "stride"))


@register(torch_name=_torch_name("max_pool1d"))
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The max over each window of the last dim.

    Integers too when the indices are asked for, as PyTorch, whose kernel without them takes
    floating point only."""
    _check_1d_pool_input(input, "max_pool1d")
    if not return_indices and input._data.dtype.kind not in "fc":
        name = scalar_type_name(input.dtype)
        raise NotImplementedError(f'"max_pool1d_impl" not implemented for \'{name}\'')
    stride = _stride_1d(stride, kernel_size)
    result = max_pool2d(input.unsqueeze(-2), (1, _one(kernel_size, "kernel_size")), stride,
                        (0, _one(padding, "padding")), (1, _one(dilation, "dilation")), ceil_mode, True)
    values, indices = result[0].squeeze(-2), result[1].squeeze(-2)
    return (values, indices) if return_indices else values


@register(torch_name=_torch_name("avg_pool1d"))
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """The mean over each window of the last dim."""
    _check_1d_pool_input(input, "avg_pool1d")
    stride = _stride_1d(stride, kernel_size)
    return avg_pool2d(input.unsqueeze(-2), (1, _one(kernel_size, "kernel_size")), stride,
                      (0, _one(padding, "padding")), ceil_mode, count_include_pad).squeeze(-2)


@register(torch_name=_torch_name("adaptive_avg_pool1d"), floating=True)
def adaptive_avg_pool1d(input, output_size):
    """Average pooling of the last dim to a fixed output size."""
    _check_1d_pool_input(input, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _one(output_size, "output_size"))).squeeze(-2)


@register(torch_name=_torch_name("lp_pool2d"))
def lp_pool2d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The p-norm over each window of the last two dims: (sum of x^p)^(1/p)."""
    kernel = _tuple(kernel_size, 2, "kernel_size")
    average = avg_pool2d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return _window_norm(average, kernel[0] * kernel[1], norm_type)


def _window_norm(average, count: int, norm_type: float):
    """(count * average)^(1/p), the average passed through sign(x) * relu(|x|) first, as
    PyTorch's lp pooling composes it (its graph, and a zero gradient at a zero average)."""
    return ((sign(average) * relu(absolute(average))) * count) ** (1.0 / norm_type)


@register(torch_name=_torch_name("lp_pool1d"))
def lp_pool1d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The p-norm over each window of the last dim."""
    kernel = _one(kernel_size, "kernel_size")
    average = avg_pool1d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return _window_norm(average, kernel, norm_type)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = True):
    """max_pool1d returning (values, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = True):
    """max_pool2d returning (values, indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
