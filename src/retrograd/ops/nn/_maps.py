"""Linear index maps whose backward is each other: gather/scatter-add along an axis,
im2col/col2im over the last two dims, and separable per-dim matrices (adaptive pooling, resampling)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._tensor import Tensor
from ...autograd.graph import Node
from .._saved_shown import ShownAsPyTorch, check_saved
from .._table import apply
from .._tangents import LINEAR
from ..pointwise import (
    _constant_like,
)
from ._backward_ops import joined_to_input

# ---------------------------------------------------------------------------
# Index maps: gather and scatter-add along one axis (each the other's backward)


class GatherBackward0(Node):
    """x picked along `axis` at `index` (an array broadcastable to the result)."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("axis", "index", "size")

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.axis, ctx.index, ctx.size = axis, index, x._data.shape[axis]
        return np.take_along_axis(x._data, index, axis)

    def backward(self, grad):
        return scatter_add_along(grad, self.axis, self.index, self.size)


class ScatterAddBackward0(Node):
    """Zeros with `size` along `axis`, with `src` added at `index` (repeats accumulate)."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("axis", "index")

    @staticmethod
    def forward(ctx, src, axis, index, size):
        ctx.axis, ctx.index = axis, index
        data = src._data
        shape = list(data.shape)
        shape[axis] = size
        grids = [np.arange(extent).reshape([-1 if d == dim else 1 for d in range(data.ndim)])
                 for dim, extent in enumerate(data.shape)]
        grids[axis] = index
        positions = np.ravel_multi_index(tuple(np.broadcast_arrays(*grids)), shape)
        total = int(np.prod(shape, dtype=np.int64))
        summed = np.bincount(positions.ravel(), weights=data.ravel(), minlength=total)
        return summed.astype(data.dtype, copy=False).reshape(shape)

    def backward(self, grad):
        return gather_along(grad, self.axis, self.index)


def gather_along(x: Tensor, axis: int, index: np.ndarray) -> Tensor:
    return apply(GatherBackward0, x, axis=axis % x.ndim, index=index)


def scatter_add_along(src: Tensor, axis: int, index: np.ndarray, size: int) -> Tensor:
    index = np.broadcast_to(index, src.shape)
    return apply(ScatterAddBackward0, src, axis=axis % src.ndim, index=index, size=size)


# ---------------------------------------------------------------------------
# Windows over the last two dims: im2col and its adjoint col2im


def _window_view(data: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """A read-only view (..., out_h, out_w, kernel_h, kernel_w) of the windows of `data`."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = np.lib.stride_tricks.sliding_window_view(data, span, axis=(-2, -1))
    return windows[..., :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def _columns_array(data: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """The windows as columns (..., kernel_h, kernel_w, out_h, out_w), contiguous: the layout
    in which a convolution is one matrix product per sample (and F.unfold a reshape)."""
    windows = _window_view(data, kernel, stride, dilation)
    lead = windows.ndim - 4
    order = (*range(lead), lead + 2, lead + 3, lead, lead + 1)
    return np.ascontiguousarray(windows.transpose(order))


def _col2im_array(cols: np.ndarray, size, stride, dilation) -> np.ndarray:
    """Sum each window entry of `cols` (..., kh, kw, out_h, out_w) back to its place in an
    array of spatial `size`: one strided add per kernel position."""
    kernel_h, kernel_w, out_h, out_w = cols.shape[-4:]
    result = np.zeros((*cols.shape[:-4], *size), dtype=cols.dtype)
    row_extent, col_extent = stride[0] * (out_h - 1) + 1, stride[1] * (out_w - 1) + 1
    for i in range(kernel_h):
        row = i * dilation[0]
        for j in range(kernel_w):
            column = j * dilation[1]
            result[..., row: row + row_extent: stride[0], column: column + col_extent: stride[1]] += (
                cols[..., i, j, :, :]
            )
    return result


class _WindowColumnsBackward(Node):
    """The windows of the last two dims as columns (..., kernel_h, kernel_w, out_h, out_w):
    the layout the convolution and pooling backwards work in (F.unfold's node, with
    PyTorch's layout and name, is Im2ColBackward0 in conv.py)."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("dilation", "size", "stride")

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation):
        ctx.size, ctx.stride, ctx.dilation = x._data.shape[-2:], stride, dilation
        return _columns_array(x._data, kernel, stride, dilation)

    def backward(self, grad):
        return col2im(grad, self.size, self.stride, self.dilation)


class _WindowSumBackward(Node):
    """Columns (..., kh, kw, out_h, out_w) summed back into an image of spatial `size` (the
    adjoint of _WindowColumnsBackward; F.fold's node is Col2ImBackward0 in conv.py)."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("dilation", "kernel", "stride")

    @staticmethod
    def forward(ctx, cols, size, stride, dilation):
        ctx.kernel, ctx.stride, ctx.dilation = cols._data.shape[-4:-2], stride, dilation
        return _col2im_array(cols._data, size, stride, dilation)

    def backward(self, grad):
        return im2col(grad, self.kernel, self.stride, self.dilation)


def im2col(x: Tensor, kernel, stride, dilation) -> Tensor:
    return apply(_WindowColumnsBackward, x, kernel=tuple(kernel), stride=tuple(stride),
                 dilation=tuple(dilation))


def col2im(cols: Tensor, size, stride, dilation) -> Tensor:
    return apply(_WindowSumBackward, cols, size=tuple(size), stride=tuple(stride), dilation=tuple(dilation))


def _adjoint_last(grad: np.ndarray, entries: tuple, size: int) -> np.ndarray:
    """grad (..., out) times a matrix (out, size) given as its entries (rows, columns, weights):
    only those products are summed, so a NaN stays inside the inputs its row weighs."""
    rows, columns, weights = entries
    lead = grad.shape[:-1]
    count = int(np.prod(lead, dtype=np.int64))
    values = grad.reshape(count, grad.shape[-1])[:, rows] * weights
    positions = columns + (np.arange(count) * size)[:, None]
    summed = np.bincount(positions.ravel(), weights=values.ravel(), minlength=count * size)
    return summed.astype(grad.dtype, copy=False).reshape(*lead, size)


def _adjoint_last_recorded(grad: Tensor, entries: tuple, size: int) -> Tensor:
    """`_adjoint_last` on a Tensor, recorded (differentiable again)."""
    rows, columns, weights = entries
    lead = (1,) * (grad.ndim - 1)
    picked = gather_along(grad, -1, rows.reshape(*lead, -1))
    return scatter_add_along(picked * _constant_like(grad, weights), -1, columns.reshape(*lead, -1), size)


def _nonzero_entries(matrix: np.ndarray) -> tuple:
    rows, columns = np.nonzero(matrix)
    return rows, columns, matrix[rows, columns]


class _SeparableMapBackward(ShownAsPyTorch, Node):
    """A linear map applied to each of the last len(matrices) dims by a matrix (out, in):
    adaptive average pooling and resampling. The backward contracts with the same matrices
    the other way, through einsum, so it is differentiable again.

    On arrays the backward sums only the matrix's `entries` (rows, columns, weights): its
    nonzero entries unless the op lists them, as linear resampling does with the weights
    PyTorch's kernel multiplies even when they are 0 (0 * Inf is NaN there too). `joined`
    names the grad_fn PyTorch gives the first derivative when it is a function of the input
    (adaptive average pooling; see `joined_to_input`), which then saves the input and
    checks it on a backward, as PyTorch's does. The node shows the input's sizes and the
    arguments PyTorch's node saves (`shown`, kept as `_arguments`), not its matrices."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    joined: str | None = None
    __slots__ = ("_arguments", "entries", "matrices", "shape")
    hidden = ("entries", "matrices", "shape")
    shown: ClassVar[dict] = {}

    @staticmethod
    def forward(ctx, x, matrices, entries=None, arguments=()):
        data = x._data
        ctx.matrices, ctx.shape, ctx._arguments = matrices, data.shape, arguments
        # Each output sums only the inputs its row weighs (as PyTorch's kernels read only those):
        # a NaN input reaches the outputs of its window, not all of them through a 0 * NaN.
        entries = entries if entries is not None else tuple(map(_nonzero_entries, matrices))
        ctx.entries = entries
        if getattr(ctx, "joined", None) is not None:  # (nothing to read when nothing records)
            ctx.save_for_backward(x)
        rows, columns, weights = entries[-1]
        result = _adjoint_last(data, (columns, rows, weights), matrices[-1].shape[0])
        if len(matrices) == 2:
            rows, columns, weights = entries[0]
            result = _adjoint_last(result.swapaxes(-1, -2), (columns, rows, weights), matrices[0].shape[0])
            result = result.swapaxes(-1, -2)
        return np.ascontiguousarray(result)

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad):
        if self.joined is not None and not isinstance(grad, Tensor):
            check_saved(self)
        if self.entries is None:
            self.entries = tuple(map(_nonzero_entries, self.matrices))
        if not isinstance(grad, Tensor):
            result = _adjoint_last(grad, self.entries[-1], self.shape[-1])
            if len(self.matrices) == 2:
                result = _adjoint_last(result.swapaxes(-1, -2), self.entries[0], self.shape[-2])
                result = result.swapaxes(-1, -2)
            return np.ascontiguousarray(result)
        # Recorded, the same sums: picked (gather), weighed, added back (scatter-add).
        result = _adjoint_last_recorded(grad, self.entries[-1], self.shape[-1])
        if len(self.matrices) == 2:
            result = _adjoint_last_recorded(result.transpose(-1, -2), self.entries[0], self.shape[-2])
            result = result.transpose(-1, -2)
        if self.joined is not None:
            result = joined_to_input(self.joined, result, *self._saved_tensors)
        return result
