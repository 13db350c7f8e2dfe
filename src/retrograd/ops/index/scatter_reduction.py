"""scatter_reduce: source values reduced (sum, prod, mean, amax, amin) into a copy of the input
at positions chosen along a dim, with or without the input's own value (`include_self`); and
index_reduce, the same for whole slices (source slice i into input slice index[i]), which is
scatter_reduce with the index spread over each slice.

The derivatives are PyTorch's, including where PyTorch multiplies by a mask rather than
selecting (amax/amin share the gradient among the elements equal to the result; the NaN/Inf
test compares with PyTorch, so an unselected element gets what PyTorch gives it).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._tensor import Tensor
from ..._warnings import warn_once_at_caller
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch
from .._table import apply, register
from ..shape import wrap_dim
from .along_dim import (
    _INDEX_AND_DIM_AS_GIVEN,
    _check_slices,
    _element_key,
    _index_params,
    _leading_part,
    _scatter_arguments,
    _vector_index,
)

__all__ = ["IndexReduceBackward0", "ScatterReduceBackward0", "index_reduce", "scatter_reduce"]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_IDENTITIES = {"sum": 0, "mean": 0, "prod": 1}
_ACCUMULATE = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _array(value) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else value


def _reduced(self: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray, reduce: str,
             include_self: bool) -> np.ndarray:
    """The forward on arrays."""
    result = self.copy()
    key = _element_key(index, dim)
    values = src[_leading_part(index)]
    if not include_self:  # the identity of the reduction (amax, amin: the values themselves)
        result[key] = _IDENTITIES.get(reduce, values)
    _ACCUMULATE[reduce].at(result, key, values)
    if reduce == "mean":
        counts = _counts(self.shape, dim, index, include_self, self.dtype)
        if result.dtype.kind in "iu":
            result = np.floor_divide(result, counts.astype(result.dtype))
        else:
            result = result / counts
    return result.astype(self.dtype, copy=False)


def _counts(shape: tuple, dim: int, index: np.ndarray, include_self: bool, dtype) -> np.ndarray:
    """How many values each place of the result averages (at least 1)."""
    counts = np.full(shape, 1 if include_self else 0, dtype=np.float64)
    np.add.at(counts, _element_key(index, dim), 1)
    return np.maximum(counts, 1).astype(dtype if np.dtype(dtype).kind == "f" else np.float64)


def _src_part(src, index: np.ndarray):
    return _math.basic_index(src, _leading_part(index)) if tuple(index.shape) != tuple(src.shape) else src


def _to_src(grad_part, src, index: np.ndarray):
    """A gradient of the source's leading block, as a gradient of the whole source."""
    if tuple(index.shape) == tuple(src.shape):
        return grad_part
    return _math.place_at_key(grad_part, tuple(src.shape), _leading_part(index))


def _scatter_add_constant(values: np.ndarray, shape: tuple, dim: int, index: np.ndarray) -> np.ndarray:
    result = np.zeros(shape, dtype=values.dtype)
    np.add.at(result, _element_key(index, dim), values)
    return result


def _gradients(grad, self, src, result, dim, index, reduce, include_self):
    """(the gradient of self, of src), PyTorch's formulas for each reduction."""
    index = _math.index_array(index)
    shape = tuple(self.shape)
    src_part = _src_part(src, index)
    if reduce == "sum":
        grad_self, grad_src = grad, _math.gather(grad, dim, index)
    elif reduce == "mean":
        counts = _math.constant(_counts(shape, dim, index, include_self, _array(grad).dtype), grad)
        grad_self = grad / counts
        grad_src = _math.gather(grad_self, dim, index)
    elif reduce == "prod":
        grad_self, grad_src = _prod_gradients(grad, self, src_part, result, dim, index, include_self)
    else:
        value = _array(_math.gather(result, dim, index))
        self_is_result = (_array(self) == _array(result)).astype(_array(grad).dtype)
        src_is_result = (_array(src_part) == value).astype(_array(grad).dtype)
        shared = self_is_result + _scatter_add_constant(src_is_result, shape, dim, index)
        distributed = grad / _math.constant(shared, grad)
        grad_self = _math.constant(self_is_result, grad) * distributed
        grad_src = _math.constant(src_is_result, grad) * _math.gather(distributed, dim, index)
    if not include_self:
        grad_self = _math.scatter_fill(grad_self, dim, index, 0)
    return grad_self, _to_src(grad_src, src, index)


def _prod_gradients(grad, self, src_part, result, dim, index, include_self):
    """prod: the product of the others, computed without dividing by a zero (PyTorch's way)."""
    self_zero = _array(self) == 0
    masked_self = _math.where(self_zero, 1.0, self)
    masked_self_result = _reduce_either(masked_self, dim, index, src_part, "prod", include_self)
    grad_self = grad * masked_self_result / masked_self
    src_zero = _array(src_part) == 0
    zeros_there = _scatter_add_constant(src_zero.astype(np.int64), tuple(self.shape), dim, index)
    single_zero = src_zero & (zeros_there[_element_key(index, dim)] == 1)
    masked_src = _math.where(single_zero, 1.0, src_part)
    masked_src_result = _reduce_either(self, dim, index, masked_src, "prod", include_self)
    grad_src = _math.where(single_zero, _math.gather(grad * masked_src_result, dim, index),
                           _math.gather(grad * result, dim, index) / _math.where(src_zero, 1.0, src_part))
    return grad_self, grad_src


def _reduce_either(self, dim, index, src, reduce, include_self):
    """scatter_reduce on arrays, or recorded on Tensors."""
    if isinstance(self, Tensor) or isinstance(src, Tensor):
        self = self if isinstance(self, Tensor) else Tensor._make(self)
        src = src if isinstance(src, Tensor) else Tensor._make(src)
        return apply(ScatterReduceBackward0, self, src, dim=dim, index=index, reduce=reduce,
                     include_self=include_self)
    return _reduced(self, src, dim, index, reduce, include_self)


def _tangent(self, src, self_t, src_t, result, dim, index, reduce, include_self):
    """Every element of self and src reaches one element of the result, so J·v is the
    derivative formulas at an incoming gradient of ones, times the tangents, the source's
    scatter-added to where it goes."""
    index = _math.index_array(index)
    ones = _math.constant(np.ones(tuple(self.shape)), self_t)
    self_factor, src_factor = _gradients(ones, self, src, result, dim, index, reduce, include_self)
    moved = _math.basic_index(src_factor * src_t, _leading_part(index))
    return self_factor * self_t + _math.gather_backward(moved, tuple(self.shape), dim, index)


class ScatterReduceBackward0(ShownAsPyTorch, Formula):
    """Source values reduced into a copy of the input at positions chosen along a dim (Note
    [Indices shown as PyTorch saves them], ops/index/along_dim.py)."""

    inputs = ("self", "src")

    @staticmethod
    def forward(self, src, dim, index, reduce, include_self, dim_as_given=None, index_as_given=None):
        return _reduced(self._data, src._data, dim, _math.index_array(index), reduce, include_self)

    tangent = staticmethod(_tangent)
    derivatives = {
        "self": lambda grad, self, src, result, dim, index, reduce, include_self: _gradients(
            grad, self, src, result, dim, index, reduce, include_self)[0],
        "src": lambda grad, self, src, result, dim, index, reduce, include_self: _gradients(
            grad, self, src, result, dim, index, reduce, include_self)[1],
    }
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN


@register(methods="scatter_reduce", inplace="scatter_reduce_")
def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """A copy of `input` with `src`'s values reduced in at `index` along `dim` by `reduce`
    ("sum", "prod", "mean", "amax" or "amin"), the input's own value included unless
    `include_self` is False."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError("scatter_reduce(): argument 'src' (position 4) must be Tensor, "
                        f"not {type(src).__name__}")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    wrapped, indices = _scatter_arguments(input, dim, index, src, "scatter_reduce")
    return apply(ScatterReduceBackward0, input, src, dim=wrapped, reduce=reduce,
                 include_self=bool(include_self), **_index_params(dim, wrapped, index, indices))


# ---------------------------------------------------------------------------
# index_reduce: whole slices


def _spread_index(index, shape: tuple, dim: int) -> np.ndarray:
    """The vector `index` as the element index of scatter_reduce for a source of `shape`."""
    index = _math.index_array(index)
    along = [1] * len(shape)
    along[dim] = -1
    return np.broadcast_to(index.reshape(along), shape)


def _index_tangent(self, source, self_t, source_t, result, dim, index, reduce, include_self):
    return _tangent(self, source, self_t, source_t, result, dim, _spread_index(index, source.shape, dim),
                    reduce, include_self)


class IndexReduceBackward0(ShownAsPyTorch, Formula):
    """Source slices reduced into a copy of the input's slices chosen along a dim (shown as
    ScatterReduceBackward0)."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, dim, index, reduce, include_self, dim_as_given=None, index_as_given=None):
        spread = _spread_index(index, source._data.shape, dim)
        return _reduced(self._data, source._data, dim, spread, reduce, include_self)

    tangent = staticmethod(_index_tangent)
    derivatives = {
        "self": lambda grad, self, source, result, dim, index, reduce, include_self: _gradients(
            grad, self, source, result, dim, _spread_index(index, source.shape, dim), reduce,
            include_self)[0],
        "source": lambda grad, self, source, result, dim, index, reduce, include_self: _gradients(
            grad, self, source, result, dim, _spread_index(index, source.shape, dim), reduce,
            include_self)[1],
    }
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN


_SLICE_REDUCTIONS = ("prod", "mean", "amax", "amin")


@register(methods="index_reduce", inplace="index_reduce_")
def index_reduce(input, dim: int, index, source, reduce: str, *, include_self: bool = True):
    """A copy of `input` with `source`'s slices reduced into the slices at `index` along `dim`
    by `reduce` ("prod", "mean", "amax" or "amin"), the input's own values included unless
    `include_self` is False. (In beta in PyTorch, which warns once.)"""
    warn_once_at_caller("index_reduce() is in beta and the API may change at any time.")
    if reduce not in _SLICE_REDUCTIONS:
        raise RuntimeError(
            f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if input.ndim == 0 or not isinstance(source, Tensor) or source.ndim != input.ndim:
        raise RuntimeError("index_reduce(): self and source must have the same number of dimensions "
                           "(at least one)")
    wrapped = wrap_dim(dim, input.ndim)
    indices = _vector_index(index, "index_reduce", "index_reduce_(): Expected dtype int32/int64 for index")
    if source.dtype is not input.dtype:
        raise RuntimeError("index_reduce_(): self and source must have the same scalar type")
    bad = _check_slices(input, wrapped, indices, source, lambda count, source_count: RuntimeError(
        f"index_reduce_(): Number of indices ({count}) should be equal to source.size(dim): "
        f"({source_count}), for dim: {wrapped}"))
    if bad.size:
        raise IndexError("index out of range in self")
    return apply(IndexReduceBackward0, input, source, dim=wrapped, reduce=reduce,
                 include_self=bool(include_self), **_index_params(dim, wrapped, index, indices))
