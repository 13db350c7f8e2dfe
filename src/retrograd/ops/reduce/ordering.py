"""Reductions that order or select: sort, argsort, topk, kthvalue, median, mode, and maxima
and minima (max, min, amax, amin, argmax, aminmax, ...)."""

from __future__ import annotations

import numbers

import numpy as np

from ... import _dtype, return_types
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShowsDimAsGiven
from .._table import apply, register
from .._tangents import REDUCTION
from ..pointwise import maximum, minimum
from .sums import (
    _check_nonempty_dim,
    _KeepsDim,
    _one_dim,
    _scatter_picked,
    _select,
    _SelectsAlongDim,
    normalize_dims,
)

# ---------------------------------------------------------------------------
# Orderings


def _descending_key(data: np.ndarray) -> np.ndarray:
    """A key whose ascending order is `data`'s descending order (ties keep their order; a NaN
    stays NaN, which sorts last: _order moves the NaNs first)."""
    if data.dtype.kind == "b":
        return ~data.astype(np.int8)
    if data.dtype.kind in "iu":
        return ~data
    return -data


def _order(data: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """The stable order of `data` along dim. NaN counts as larger than inf (PyTorch's order):
    last ascending, first descending."""
    key = _descending_key(data) if descending else data
    order = np.argsort(key, axis=dim, kind="stable")
    if descending and data.dtype.kind in "fc":
        nan = np.isnan(np.take_along_axis(data, order, axis=dim))
        if nan.any():  # a stable pass on "is not NaN" brings the NaNs (in their order) to the front
            order = np.take_along_axis(order, np.argsort(~nan, axis=dim, kind="stable"), axis=dim)
    return order


def _first_nan_wins(data: np.ndarray, dim: int, indices: np.ndarray) -> np.ndarray:
    """Where a slice holds a NaN, the index of its first NaN (NaN propagates, as PyTorch)."""
    if data.dtype.kind not in "fc":
        return indices
    nan = np.isnan(data)
    has_nan = nan.any(axis=dim, keepdims=True)
    if not has_nan.any():
        return indices
    return np.where(has_nan, np.argmax(nan, axis=dim, keepdims=True), indices)


class SortBackward0(_KeepsDim):

    @staticmethod
    def choose(data, dim, descending=False):
        return _order(data, dim, descending)


class SortBackward1(SortBackward0):
    """sort with `stable` given: PyTorch's other overload, the same sort."""


@register(methods="sort")
def sort(input, dim: int = -1, descending: bool = False, stable: bool | None = None):
    """The elements sorted along `dim`, and where each came from: (values, indices).

    The sort is always stable (equal elements keep their order); NaN counts as largest.
    Passing `stable` records SortBackward1, as PyTorch's overload that takes it.
    """
    given, dim = dim, _one_dim(input, dim, "sort")
    node_class = SortBackward0 if stable is None else SortBackward1
    return _select(node_class, return_types.sort, input, dim, descending=descending, dim_as_given=given)


@register(methods="argsort", differentiable=False)
def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort `input` along `dim` (stable)."""
    dim = _one_dim(input, dim, "argsort")
    data = input._data
    work = data.reshape(1) if data.ndim == 0 else data
    return Tensor._make(_order(work, dim, descending).reshape(data.shape))


class TopkBackward0(_KeepsDim):

    @staticmethod
    def choose(data, dim, k, largest):
        order = _order(data, dim, descending=largest)
        return np.take(order, np.arange(k), axis=dim)


@register(
    methods="topk",
)
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) elements along `dim`, in order, with their indices."""
    given, dim = dim, _one_dim(input, dim, "topk")
    _refuse_bool(input, RuntimeError("topk does not support bool dtypes on CPU"))
    size = input._data.shape[dim] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    return _select(TopkBackward0, return_types.topk, input, dim, k=k, largest=largest, dim_as_given=given)


class KthvalueBackward0(_SelectsAlongDim):

    @staticmethod
    def choose(data, dim, k):
        order = _order(data, dim, descending=False)
        return np.take(order, [k - 1], axis=dim)


@register(methods="kthvalue")
def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest element along `dim` (k counts from 1), with its index."""
    given, dim = dim, _one_dim(input, dim, "kthvalue")
    _refuse_bool(input, NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'"))
    size = input._data.shape[dim] if input.ndim else 1
    if size == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {dim} to have non-zero size.")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return _select(KthvalueBackward0, return_types.kthvalue, input, dim, keepdim, k=k, dim_as_given=given)


class MedianBackward1(_SelectsAlongDim):
    """The lower median along a dim (NaN if the slice holds one)."""

    @staticmethod
    def choose(data, dim):
        order = _order(data, dim, descending=False)
        middle = np.take(order, [(data.shape[dim] - 1) // 2], axis=dim)
        return _first_nan_wins(data, dim, middle)


def _evenly_distribute(grad, self, result):
    """The gradient of a whole-tensor max, min or median: shared evenly by the elements equal to
    the result (or, for a NaN result, by the NaNs), and only by them (as PyTorch)."""
    chosen = (self == result) | ((self != self) & (result != result))
    return _math.where(chosen, grad / _math.count_along(chosen, None, grad), 0.0)


class MedianBackward0(Formula):
    """The lower median of all elements (NaN if there is one)."""

    @staticmethod
    def forward(self):
        flat = self._data.reshape(-1)
        index = MedianBackward1.choose(flat, 0)
        return flat[index].reshape(())

    tangent = REDUCTION
    derivatives = {"self": lambda grad, self, result: _evenly_distribute(grad, self, result)}


@register(methods="median")
def median(input, dim=None, keepdim: bool = False):
    """The lower median of all elements, or along `dim` as (values, indices)."""
    _refuse_bool(input, NotImplementedError("\"median_cpu\" not implemented for 'Bool'"))
    if dim is None:
        if input._data.size == 0:
            return Tensor._make(np.array(np.nan, dtype=input._data.dtype))
        return apply(MedianBackward0, input)
    given, dim = dim, _one_dim(input, dim, "median")
    _check_nonempty_dim(input, dim, "median")
    return _select(MedianBackward1, return_types.median, input, dim, keepdim, dim_as_given=given)


def _count_of_numbers(data: np.ndarray, dim: int) -> np.ndarray:
    """How many elements along `dim` are not NaN (the dim kept, of size 1)."""
    if data.dtype.kind not in "fc":
        return np.full((*data.shape[:dim], 1, *data.shape[dim + 1:]), data.shape[dim])
    return np.sum(~np.isnan(data), axis=dim, keepdims=True)


class NanmedianBackward1(_SelectsAlongDim):
    """The lower median of the numbers along a dim, NaNs ignored (NaN only for a slice of
    NaNs, whose middle element it picks)."""

    @staticmethod
    def choose(data, dim):
        order = _order(data, dim, descending=False)  # the NaNs last
        numbers = _count_of_numbers(data, dim)
        middle = np.where(numbers > 0, (numbers - 1) // 2, (data.shape[dim] - 1) // 2)
        return np.take_along_axis(order, middle.astype(np.int64), axis=dim)


class NanmedianBackward0(Formula):
    """The lower median of all the numbers, NaNs ignored (NaN if there is no number)."""

    @staticmethod
    def forward(self):
        flat = self._data.reshape(-1)
        if flat.dtype.kind in "fc":
            flat = flat[~np.isnan(flat)]
        if flat.size == 0:
            return np.array(np.nan, dtype=self._data.dtype)
        return np.sort(flat)[(flat.size - 1) // 2].reshape(())

    tangent = REDUCTION
    derivatives = {"self": lambda grad, self, result: _evenly_distribute(grad, self, result)}


@register(methods="nanmedian")
def nanmedian(input, dim=None, keepdim: bool = False):
    """The lower median of the numbers (NaNs ignored) of all elements, or along `dim` as
    (values, indices)."""
    if dim is None:
        _refuse_bool(input, NotImplementedError("\"median_cpu\" not implemented for 'Bool'"))
        if input._data.size == 0:
            return Tensor._make(np.array(np.nan, dtype=input._data.dtype))
        return apply(NanmedianBackward0, input)
    given, dim = dim, _one_dim(input, dim, "nanmedian")
    _refuse_bool(input, NotImplementedError("\"median_out\" not implemented for 'Bool'"))
    _check_nonempty_dim(input, dim, "median")
    return _select(NanmedianBackward1, return_types.nanmedian, input, dim, keepdim, dim_as_given=given)


class ModeBackward0(_SelectsAlongDim):
    """The most frequent value along a dim (the smallest among equally frequent ones),
    with the index of its last occurrence."""

    @staticmethod
    def choose(data, dim):
        moved = np.moveaxis(data, dim, -1)
        ordered = np.sort(moved, axis=-1)
        positions = np.arange(ordered.shape[-1])
        starts_run = np.ones(ordered.shape, dtype=bool)
        starts_run[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
        if data.dtype.kind in "fc":  # NaNs (sorted last) count as one value, as PyTorch counts them
            starts_run[..., 1:] &= ~(np.isnan(ordered[..., 1:]) & np.isnan(ordered[..., :-1]))
        run_start = np.maximum.accumulate(np.where(starts_run, positions, 0), axis=-1)
        count_so_far = positions - run_start
        value = np.take_along_axis(ordered, np.argmax(count_so_far, axis=-1)[..., None], axis=-1)
        occurrences = moved == value
        if data.dtype.kind in "fc":
            occurrences |= np.isnan(moved) & np.isnan(value)
        last = ordered.shape[-1] - 1 - np.argmax(occurrences[..., ::-1], axis=-1)
        return np.moveaxis(last[..., None], -1, dim)


@register(methods="mode")
def mode(input, dim: int = -1, keepdim: bool = False):
    """The most frequent value along `dim` and the index of its last occurrence."""
    given, dim = dim, _one_dim(input, dim, "mode")
    _check_nonempty_dim(input, dim, "mode")
    return _select(ModeBackward0, return_types.mode, input, dim, keepdim, dim_as_given=given)


class CummaxBackward0(_KeepsDim):
    """The running maximum along a dim; each value's index is the latest position of the max.

    An index repeats along the dim, so the gradient is added where it does (not put).
    """

    running = staticmethod(np.maximum.accumulate)
    # Reads `self` (for its shape) as PyTorch saves it: changing it in place raises, as there.
    derivatives = {
        "self": lambda grad, indices, dim, self: _scatter_picked(
            grad, indices, dim, self.shape, False, unique=False),
    }

    @classmethod
    def choose(cls, data, dim):
        running = cls.running(data, axis=dim)
        is_new = (data == running)
        if data.dtype.kind in "fc":
            is_new |= np.isnan(data)
        shape = [1] * data.ndim
        shape[dim] = data.shape[dim]
        positions = np.arange(data.shape[dim]).reshape(shape)
        return np.maximum.accumulate(np.where(is_new, positions, 0), axis=dim)


class CumminBackward0(CummaxBackward0):
    running = staticmethod(np.minimum.accumulate)


@register(methods="cummax")
def cummax(input, dim: int):
    """The running maximum along `dim`, with the index where each maximum was reached."""
    given, dim = dim, _one_dim(input, dim, "cummax")
    return _select(CummaxBackward0, return_types.cummax, input, dim, dim_as_given=given)


@register(methods="cummin")
def cummin(input, dim: int):
    """The running minimum along `dim`, with the index where each minimum was reached."""
    given, dim = dim, _one_dim(input, dim, "cummin")
    return _select(CumminBackward0, return_types.cummin, input, dim, dim_as_given=given)


# ---------------------------------------------------------------------------
# Maxima and minima


def _check_reducible(input: Tensor, dims: tuple[int, ...], op_name: str, dim_given: bool) -> None:
    """PyTorch refuses to reduce an empty tensor without a dim, or over an empty dim."""
    if input._data.size:
        return
    if not dim_given:
        raise RuntimeError(
            f"{op_name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    for dim in dims:
        if input._data.shape[dim] == 0:
            raise IndexError(f"{op_name}(): Expected reduction dim {dim} to have non-zero size.")


def _amax_backward(grad, self, result, dim: tuple, keepdim: bool):
    """Ties share the gradient evenly. PyTorch multiplies by the 0/1 mask of the extremes here
    (it does not select), so a NaN or Inf incoming gradient reaches every element, as there."""
    shape = self.shape
    chosen = self == _math.unsqueeze_reduced(result, shape, dim, keepdim)
    return _math.unsqueeze_reduced(grad, shape, dim, keepdim) / _math.count_along(chosen, dim, grad) * chosen


class AmaxBackward0(ShowsDimAsGiven, Formula):
    """The largest element over dims: ties share the gradient evenly (as PyTorch)."""

    kernel = np.maximum.reduce  # (np.max's ufunc, without its two Python functions)

    @classmethod
    def forward(cls, self, dim, keepdim, dim_as_given=None):
        return cls.kernel(self._data, axis=dim, keepdims=keepdim)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, dim, keepdim: _amax_backward(grad, self, result, dim, keepdim),
    }


class AminBackward0(AmaxBackward0):
    kernel = np.minimum.reduce


class MaxBackward1(Formula):
    """max() of all elements: ties share the gradient, which reaches only them. The kernel is
    the ufunc's reduce, which `np.max` calls through two Python functions."""

    kernel = np.maximum.reduce

    @classmethod
    def forward(cls, self):
        return cls.kernel(self._data, axis=None)

    tangent = REDUCTION
    derivatives = {"self": lambda grad, self, result: _evenly_distribute(grad, self, result)}


class MinBackward1(MaxBackward1):
    """min() of all elements."""

    kernel = np.minimum.reduce


@register(methods="amax")
def amax(input, dim=(), keepdim: bool = False):
    """The largest element over `dim` (all dims if empty); ties share the gradient."""
    dims = normalize_dims(dim, input.ndim)
    _check_reducible(input, dims, "amax", dim not in ((), None))
    return apply(AmaxBackward0, input, dim=dims, keepdim=keepdim, dim_as_given=dim)


@register(methods="amin")
def amin(input, dim=(), keepdim: bool = False):
    """The smallest element over `dim` (all dims if empty); ties share the gradient."""
    dims = normalize_dims(dim, input.ndim)
    _check_reducible(input, dims, "amin", dim not in ((), None))
    return apply(AminBackward0, input, dim=dims, keepdim=keepdim, dim_as_given=dim)


class MaxBackward0(_SelectsAlongDim):
    """max along a dim: the first largest element (or the first NaN) and its index."""

    @staticmethod
    def choose(data, dim):
        return np.argmax(data, axis=dim, keepdims=True)


class MinBackward0(_SelectsAlongDim):

    @staticmethod
    def choose(data, dim):
        return np.argmin(data, axis=dim, keepdims=True)


def _extreme(input, dim, keepdim, whole_node, along_node, result_type, pairwise, op_name):
    if isinstance(dim, Tensor):
        return pairwise(input, dim)
    if dim is None:
        _check_reducible(input, (), op_name, False)
        return apply(whole_node, input)
    given, dim = dim, _one_dim(input, dim, op_name)
    _check_nonempty_dim(input, dim, op_name)
    return _select(along_node, result_type, input, dim, keepdim, dim_as_given=given)


@register(methods="max")
def max(input, dim=None, keepdim: bool = False):
    """The largest element; along `dim`, (values, indices); with a tensor, elementwise maximum."""
    return _extreme(input, dim, keepdim, MaxBackward1, MaxBackward0, return_types.max, maximum, "max")


@register(methods="min")
def min(input, dim=None, keepdim: bool = False):
    """The smallest element; along `dim`, (values, indices); with a tensor, elementwise minimum."""
    return _extreme(input, dim, keepdim, MinBackward1, MinBackward0, return_types.min, minimum, "min")


def _refuse_bool(input: Tensor, error: Exception) -> None:
    """The ordering ops PyTorch does not run on bool tensors."""
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        raise error


def _arg_extreme(input, dim, keepdim, kernel, op_name: str) -> Tensor:
    _refuse_bool(input, RuntimeError(f"{op_name}(): does not support bool input"))
    data = input._data
    if dim is None:
        if data.size == 0:
            raise IndexError(f"{op_name}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = np.asarray(kernel(data.reshape(-1)), dtype=np.int64)
        return Tensor._make(index.reshape((1,) * data.ndim) if keepdim else index)
    dim = _one_dim(input, dim, op_name)
    _check_nonempty_dim(input, dim, op_name)
    work = data.reshape(1) if data.ndim == 0 else data
    index = kernel(work, axis=dim, keepdims=keepdim).astype(np.int64)
    return Tensor._make(index.reshape(()) if data.ndim == 0 else index)


@register(methods="argmax", differentiable=False)
def argmax(input, dim=None, keepdim: bool = False):
    """The index of the first largest element (of the flattened tensor if `dim` is None)."""
    return _arg_extreme(input, dim, keepdim, np.argmax, "argmax")


@register(methods="argmin", differentiable=False)
def argmin(input, dim=None, keepdim: bool = False):
    """The index of the first smallest element (of the flattened tensor if `dim` is None)."""
    return _arg_extreme(input, dim, keepdim, np.argmin, "argmin")


# ---------------------------------------------------------------------------
# Quantiles
#
# Note [quantile is composite]
#     PyTorch writes quantile with other ops, so its graph (and gradient) is theirs: the
#     reduced dim is moved last (unsqueeze(-1).transpose(dim, -1) unless it is last already;
#     the flattened tensor without a dim), sorted, viewed as `kept shape + [n]`, and the two
#     neighbours of each rank are gathered and blended with lerp_ (or one is gathered, for
#     lower/higher/nearest); the q axis is then moved first (unsqueeze_(0).transpose_(0, -1))
#     and squeezed out of the last place. The ranks q·(n - 1) are computed as PyTorch computes
#     them, in the input's dtype, so the chosen neighbours and the weights agree (lerp's last
#     bit may not: PyTorch's kernel fuses a multiply-add); the weight is `rank - floor(rank)`
#     as a tensor expression in q, so a q that requires grad gets PyTorch's gradient
#     (b - a)·(n - 1). A slice holding a NaN gives NaN (its rank is the last index, where sort
#     put the NaNs); nanquantile ranks among the non-NaN values only. Its out= records the
#     write into `out` (ops/_out.py, _COMPOSITE), as PyTorch's does.

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _check_quantile_arguments(input, q, interpolation) -> None:
    """PyTorch's checks of q, interpolation and dtypes, in PyTorch's order."""
    if not isinstance(q, Tensor):
        if not isinstance(q, numbers.Real):
            raise TypeError(f"quantile(): argument 'q' must be float or Tensor, not {type(q).__name__}")
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {float(q):g}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"but got {interpolation}"
        )
    if isinstance(q, Tensor) and q.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor) and q.dtype is not input.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")


def _quantile_layout(input, dim, keepdim: bool):
    """The input with the reduced dim last (and its size), and the result's shape without q."""
    shape = input._data.shape
    if dim is None:
        moved = input.flatten()
        kept = (1,) * len(shape) if keepdim else ()
    else:
        dim = _one_dim(input, dim, "quantile")
        moved = input if dim == len(shape) - 1 else input.unsqueeze(-1).transpose(dim, -1)
        kept = tuple(1 if axis == dim else size for axis, size in enumerate(shape))
        if not keepdim:
            kept = kept[:dim] + kept[dim + 1 :]
    if input._data.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    return moved, moved._data.shape[-1], kept


def _quantile_ranks(sorted_values, q, ignore_nan: bool):
    """The fractional position q·(n - 1) of each quantile in each sorted slice (PyTorch's
    arithmetic, in the input's dtype), as a tensor of shape `kept + [len(q)]`."""
    data = sorted_values._data
    if not isinstance(q, Tensor):
        q = Tensor._make(np.array([q], dtype=data.dtype))
    nan = np.isnan(data)
    if ignore_nan:
        last = (~nan).sum(axis=-1, keepdims=True) - 1
        ranks = q * Tensor._make(last.astype(np.int64))
        return ranks.masked_fill(Tensor._make(ranks._data < 0), 0)
    # (as PyTorch: q times the last index, a Scalar, broadcast against the NaN rows)
    from ..composite.numeric import MulBackward1  # (a later module, which imports this one)

    last_index = data.shape[-1] - 1
    ranks = apply(MulBackward1, q, other=last_index)
    has_nan = nan.any(axis=-1, keepdims=True)
    shape = np.broadcast_shapes(tuple(ranks.shape), has_nan.shape)
    return ranks.expand(shape).masked_fill(Tensor._make(np.broadcast_to(has_nan, shape)), last_index)


def _interpolate(sorted_values, ranks, interpolation: str):
    """Each quantile from its neighbours in the sorted slices, as `interpolation` says."""
    rounded = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}.get(interpolation)
    if rounded is not None:
        return sorted_values.gather(-1, Tensor._make(rounded(ranks._data).astype(np.int64)))
    below = np.floor(ranks._data)
    below_values = sorted_values.gather(-1, Tensor._make(below.astype(np.int64)))
    above_values = sorted_values.gather(-1, Tensor._make(np.ceil(ranks._data).astype(np.int64)))
    if interpolation == "midpoint":
        weights = Tensor._make(np.full(ranks._data.shape, 0.5, dtype=ranks._data.dtype))
    else:
        weights = ranks - Tensor._make(below)
    return below_values.lerp_(above_values, weights)


def _quantile(input, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool) -> Tensor:
    """quantile and nanquantile (Note [quantile is composite])."""
    _check_quantile_arguments(input, q, interpolation)
    moved, size, kept = _quantile_layout(input, dim, keepdim)
    if isinstance(q, Tensor) and ((q._data < 0) | (q._data > 1) | np.isnan(q._data)).any():
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    sorted_values = moved.sort(-1).values.view(*kept, size)
    result = _interpolate(sorted_values, _quantile_ranks(sorted_values, q, ignore_nan), interpolation)
    if isinstance(q, Tensor) and q.ndim == 1:
        result.unsqueeze_(0).transpose_(0, -1)
    return result.squeeze_(-1)


@register(methods="quantile")
def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The q-th quantiles of all elements, or along `dim` (NaN where a slice holds a NaN).

    q is a number or a 1-d tensor (whose axis comes first in the result); `interpolation`
    (linear, lower, higher, midpoint, nearest) says how a quantile between two elements is
    taken.
    """
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


@register(methods="nanquantile")
def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """quantile that ignores NaNs: the quantiles of each slice's other values (NaN if all are NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)
