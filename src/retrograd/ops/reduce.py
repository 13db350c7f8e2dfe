"""Reductions: operators that combine the elements of a tensor along dimensions."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _samples
from ._table import apply, register

__all__ = ["mean", "normalize_dims", "sum"]


def normalize_dims(dim, ndim: int) -> tuple[int, ...]:
    """`dim` (None, an int, or a sequence) as a sorted tuple of non-negative dims.

    A 0-d tensor accepts dim 0 and -1, as in PyTorch.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    if not dims and dim is not None and not isinstance(dim, int):
        return tuple(range(ndim))
    rank = max(ndim, 1)
    wrapped = []
    for value in dims:
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise TypeError(f"dim must be an int or a tuple of ints, got {type(value).__name__}")
        if not -rank <= value < rank:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but "
                f"got {value})"
            )
        wrapped.append(int(value) % rank)
    if len(set(wrapped)) != len(wrapped):
        repeated = next(d for d in wrapped if wrapped.count(d) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return tuple(sorted(d for d in wrapped if d < ndim))


def kept_shape(shape: tuple, dims: tuple[int, ...]) -> tuple[int, ...]:
    """`shape` with the reduced `dims` kept as size 1 (the shape of a keepdim result)."""
    return tuple(1 if index in dims else size for index, size in enumerate(shape))


def expand_reduced(grad: Tensor, shape: tuple, dims: tuple[int, ...], keepdim: bool) -> Tensor:
    """The gradient of a reduction, broadcast back over the reduced dims."""
    if not keepdim and dims:
        grad = grad.reshape(kept_shape(shape, dims))
    return grad.expand(shape)


class SumBackward0(Node):
    """Sum of all elements: the gradient is the incoming one, everywhere."""

    __slots__ = ("dims", "keepdim", "shape")

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        data = x._data
        ctx.shape, ctx.dims, ctx.keepdim = data.shape, dims, keepdim
        if dtype is None and data.dtype.kind in "biu":
            dtype = _dtype.int64
        return np.sum(data, axis=dims, keepdims=keepdim, dtype=None if dtype is None else dtype.numpy)

    def backward(self, grad):
        return expand_reduced(grad, self.shape, self.dims, self.keepdim)


class SumBackward1(SumBackward0):
    """Sum over chosen dims."""

    __slots__ = ()


@register(methods="sum", samples=_samples.reduction())
def sum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum of all elements, or over `dim` (an int or tuple)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sum(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dims = normalize_dims(dim, input.ndim)
    node = SumBackward0 if dim is None else SumBackward1
    return apply(node, input, dims=dims, keepdim=keepdim, dtype=dtype)


class MeanBackward0(Node):
    """Mean of all elements: the incoming gradient divided by the count."""

    __slots__ = ("count", "dims", "keepdim", "shape")

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        data = x._data
        if dtype is not None:
            data = data.astype(dtype.numpy)
        if data.dtype.kind not in "fc":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_dtype.scalar_type_name(x.dtype)}"
            )
        count = int(np.prod([data.shape[d] for d in dims], dtype=np.int64))
        ctx.shape, ctx.dims, ctx.keepdim, ctx.count = data.shape, dims, keepdim, count
        if count == 0:
            return np.full(
                kept_shape(data.shape, dims) if keepdim else
                tuple(s for i, s in enumerate(data.shape) if i not in dims),
                np.nan,
                dtype=data.dtype,
            )
        return np.mean(data, axis=dims, keepdims=keepdim)

    def backward(self, grad):
        return expand_reduced(grad, self.shape, self.dims, self.keepdim) / max(self.count, 1)


class MeanBackward1(MeanBackward0):
    """Mean over chosen dims."""

    __slots__ = ()


@register(methods="mean", samples=_samples.reduction())
def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean of all elements, or over `dim` (an int or tuple)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"mean(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dims = normalize_dims(dim, input.ndim)
    node = MeanBackward0 if dim is None else MeanBackward1
    return apply(node, input, dims=dims, keepdim=keepdim, dtype=dtype)
