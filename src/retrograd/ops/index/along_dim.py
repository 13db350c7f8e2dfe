"""Indexing along one dim: element by element (gather, scatter, scatter_add, take_along_dim)
and whole slices (index_select, index_add, index_copy, index_fill)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ..._warnings import warn_once_at_caller
from ...autograd.graph import Node
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, argument_saved, as_given, tensor_as_given
from .._table import apply, register
from .._tangents import LINEAR, LinearWith
from ..shape import (
    format_shape,
    wrap_dim,
)

# ---------------------------------------------------------------------------
# Along one dim, element by element: gather, scatter, scatter_add, take_along_dim


def _index_data(index, message: str) -> np.ndarray:
    if not isinstance(index, Tensor):
        raise TypeError(f"expected index to be a Tensor, but got {type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(message)
    return index._data.astype(np.int64, copy=False)


def _element_key(index: np.ndarray, dim: int) -> tuple:
    """The NumPy key that reaches, for every position of `index`, the element whose coordinate
    along `dim` is the index value and whose other coordinates are the position's own."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _check_in_range(index: np.ndarray, size: int, dim: int) -> None:
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError(
            f"index {index[bad].flat[0]} is out of bounds for dimension {dim} with size {size}"
        )


def _check_index_shape(index: np.ndarray, shape: tuple, dim: int, src_shape: tuple | None = None) -> None:
    if index.ndim != len(shape):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d, size in enumerate(index.shape):
        if d != dim and size > shape[d]:
            if src_shape is None:
                raise RuntimeError(
                    f"Size does not match at dimension {d} expected index {format_shape(index.shape)} to "
                    f"be no larger than self {format_shape(shape)} apart from dimension {dim}"
                )
            break
        if src_shape is not None and size > src_shape[d]:
            break
    else:
        return
    raise RuntimeError(
        f"Expected index {format_shape(index.shape)} to be no larger than self {format_shape(shape)} "
        f"apart from dimension {dim} and to be no larger size than src {format_shape(src_shape)}"
    )


def _leading_part(index: np.ndarray) -> tuple:
    """The basic key of the leading block of a source that an index of this shape reads."""
    return (*(slice(0, size) for size in index.shape), Ellipsis)


def _source_grad(grad, dim: int, index: np.ndarray, src_shape: tuple):
    """The gradient of a scatter's source: gathered at the index, zero where the index did not reach."""
    gathered = _math.gather(grad, dim, index)
    if tuple(index.shape) == tuple(src_shape):
        return gathered
    return _math.place_at_key(gathered, src_shape, _leading_part(index))


# Note [Indices shown as PyTorch saves them]
#     The ops that pick or write along a dim read their index as an int64 array, checked and
#     wrapped once in the forward. PyTorch's nodes save the index tensor the call gave (and
#     the dim as given): each node below saves its index as a tensor (argument_saved: the one
#     the call gave, or the checked array on its version counter), so that a backward after
#     an in-place change of the index, or a second one, is refused as PyTorch refuses it.
#     The formulas read its array (on tensors, with create_graph, the tensor: `_math.index_array`
#     takes the array again where one is needed). A node shows `index` as the tensor the call
#     gave (kept as `index_as_given` where it differs) and `dim` as given (tensor_as_given,
#     as_given).
_INDEX_AND_DIM_AS_GIVEN = {"dim": as_given("dim", int), "index": tensor_as_given("index")}


def _index_params(dim, wrapped: int, index: Tensor, indices: np.ndarray) -> dict:
    """The parameters of a node that reads `indices` along the dim `wrapped`: the index
    saved as a tensor, and the dim and the index as the call gave them where they differ
    from what the formulas read (Note [Indices shown as PyTorch saves them])."""
    kept = {"index": argument_saved(index, indices)}
    if dim != wrapped:
        kept["dim_as_given"] = dim
    if indices is not index._data:
        kept["index_as_given"] = index._data
    return kept


class GatherBackward0(ShownAsPyTorch, Formula):
    """out[i][j] = input[index[i][j]][j] (dim 0): the gradient is added back at those places.
    The formula reads `self` and `sparse_grad`, as PyTorch's, so the node keeps the input
    (Note [Indices shown as PyTorch saves them])."""

    @staticmethod
    def forward(self, dim, index, sparse_grad=False, dim_as_given=None, index_as_given=None):
        return self._data[_element_key(_math.index_array(index), dim)]

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self, dim, index, sparse_grad: _math.gather_backward(
            grad, self.shape, dim, index),
    }
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN


def _gather(input: Tensor, dim: int, index, **as_given_and_sparse) -> Tensor:
    return apply(GatherBackward0, input, dim=dim, index=index, **as_given_and_sparse)


@register(methods="gather")
def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """Values picked along `dim` by `index` (same number of dims; other sizes no larger)."""
    wrapped = wrap_dim(dim, input.ndim)
    indices = _index_data(index, "gather(): Expected dtype int32/int64 for index")
    _check_index_shape(indices, input._data.shape, wrapped)
    _check_in_range(indices, input._data.shape[wrapped], wrapped)
    return apply(GatherBackward0, input, dim=wrapped, **_index_params(dim, wrapped, index, indices),
                   **({"sparse_grad": True} if sparse_grad else {}))


class ScatterAddBackward0(ShownAsPyTorch, Formula):
    """Source values added into a copy of the input at positions chosen along a dim (Note
    [Indices shown as PyTorch saves them]; the source's shape, which the formula reads for a
    source larger than the index, PyTorch does not show)."""

    inputs = ("self", "src")

    @staticmethod
    def forward(self, src, dim, index, dim_as_given=None, index_as_given=None):
        index = _math.index_array(index)
        result = self._data.copy()
        np.add.at(result, _element_key(index, dim), src._data[_leading_part(index)])
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad: grad,
        "src": lambda grad, dim, index, src_shape: _source_grad(grad, dim, index, src_shape),
    }
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN
    hidden = ("src_sym_sizes",)


class ScatterBackward0(ShownAsPyTorch, Formula):
    """Source values written into a copy of the input at positions chosen along a dim (as
    ScatterAddBackward0 shows its values)."""

    inputs = ("self", "src")

    @staticmethod
    def forward(self, src, dim, index, dim_as_given=None, index_as_given=None):
        index = _math.index_array(index)
        result = self._data.copy()
        result[_element_key(index, dim)] = src._data[_leading_part(index)]
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, index: _math.scatter_fill(grad, dim, index, 0),
        "src": lambda grad, dim, index, src_shape: _source_grad(grad, dim, index, src_shape),
    }
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN
    hidden = ("src_sym_sizes",)


class ScatterBackward1(ShownAsPyTorch, Formula):
    """A number written into a copy of the input at positions chosen along a dim."""

    @staticmethod
    def forward(self, dim, index, value, dim_as_given=None, index_as_given=None):
        return _math.scatter_fill(self._data, dim, _math.index_array(index), value)

    tangent = LinearWith(value=0)
    derivatives = {"self": lambda grad, dim, index: _math.scatter_fill(grad, dim, index, 0)}
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN


def _scatter_arguments(input, dim, index, source, op_name: str):
    """The wrapped dim and the index as an array, checked against the input and the source."""
    dim = wrap_dim(dim, input.ndim)
    indices = _index_data(index, f"{op_name}(): Expected dtype int64 for index")
    source_shape = source._data.shape if isinstance(source, Tensor) else None
    if isinstance(source, Tensor) and source.dtype is not input.dtype:
        raise RuntimeError(f"{op_name}(): Expected self.dtype to be equal to src.dtype")
    _check_index_shape(indices, input._data.shape, dim, source_shape)
    _check_in_range(indices, input._data.shape[dim], dim)
    return dim, indices


# Note [scatter with reduce]
#     PyTorch's scatter(..., reduce="add" | "multiply") adds or multiplies the source values (or
#     the number `value`) into a copy of the input, repeats accumulating, and has no derivative:
#     its result records a node named `NotImplemented` whose backward refuses. Its Tensor-source
#     form is deprecated in favour of scatter_reduce, with a warning shown once per process.

_SCATTER_REDUCTIONS = {"add": np.add, "multiply": np.multiply}


class NotImplemented(Node):
    """PyTorch's node for a result without a derivative (Note [scatter with reduce]): recording
    works, backward refuses."""

    hand_written = "not differentiable: the node only refuses a backward, as PyTorch's does"
    __slots__ = ()

    @staticmethod
    def forward(ctx, self, src, dim, index, value, reduce):
        result = self._data.copy()
        values = np.asarray(value).astype(result.dtype) if src is None else src._data[_leading_part(index)]
        _SCATTER_REDUCTIONS[reduce].at(result, _element_key(index, dim), values)
        return result

    def backward(self, *grads):
        raise RuntimeError("derivative for aten::scatter is not implemented")


def _scatter_reduced(input, dim: int, indices: np.ndarray, src, value, reduce: str) -> Tensor:
    """scatter with `reduce` (Note [scatter with reduce])."""
    if src is not None:
        warn_once_at_caller("The reduce argument of torch.scatter with Tensor src is deprecated and will be "
                            "removed in a future PyTorch release (PyTorch's scatter_reduce replaces it; "
                            "for reduce='add', use scatter_add).")
    return apply(NotImplemented, input, src, dim=dim, index=indices, value=value, reduce=reduce)


@register(methods="scatter", inplace="scatter_")
def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):
    """A copy of `input` with `src` values (or the number `value`) written along `dim` at `index`.

    With `reduce` ("add" or "multiply") they are combined with what is there instead."""
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is None and value is None:
        raise TypeError("scatter() received an invalid combination of arguments: it needs a source, "
                        "either a tensor `src` or a number `value`")
    if reduce is not None and reduce not in _SCATTER_REDUCTIONS:  # (checked first, as in PyTorch)
        raise RuntimeError("reduce argument must be either add or multiply.")
    wrapped, indices = _scatter_arguments(input, dim, index, src, "scatter")
    if reduce is not None:
        return _scatter_reduced(input, wrapped, indices, src, value, reduce)
    if src is None:
        return apply(ScatterBackward1, input, dim=wrapped, value=value,
                     **_index_params(dim, wrapped, index, indices))
    return apply(ScatterBackward0, input, src, dim=wrapped, **_index_params(dim, wrapped, index, indices))


@register(methods="scatter_add", inplace="scatter_add_")
def scatter_add(input, dim: int, index, src):
    """A copy of `input` with `src` values added along `dim` at `index` (repeats accumulate)."""
    wrapped, indices = _scatter_arguments(input, dim, index, src, "scatter_add")
    return apply(ScatterAddBackward0, input, src, dim=wrapped, **_index_params(dim, wrapped, index, indices))


@register(methods="take_along_dim")
def take_along_dim(input, indices, dim=None):
    """Values picked along `dim` by `indices`, broadcasting the other dims (the flattened
    input when dim is None)."""
    if dim is None:  # (as PyTorch: a gather of the views, no broadcast)
        return gather(input.view(-1), 0, indices.view(-1))
    dim = wrap_dim(dim, input.ndim)
    size = input._data.shape[dim]
    if isinstance(indices, Tensor):  # a new tensor, as PyTorch's (no version shared with the given one)
        indices = Tensor._make(np.where(indices._data < 0, indices._data + size, indices._data))
    if input.ndim != indices.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices"
        )
    flat_input = (*input._data.shape[:dim], 1, *input._data.shape[dim + 1:])
    flat_indices = (*indices._data.shape[:dim], 1, *indices._data.shape[dim + 1:])
    common = list(np.broadcast_shapes(flat_input, flat_indices))
    input_shape, indices_shape = list(common), list(common)
    input_shape[dim], indices_shape[dim] = input._data.shape[dim], indices._data.shape[dim]
    return gather(input.expand(input_shape), dim, indices.expand(indices_shape))


# ---------------------------------------------------------------------------
# Whole slices along one dim: index_select, index_add, index_copy, index_fill


def _vector_index(index, op_name: str, dtype_message: str) -> np.ndarray:
    indices = _index_data(index, dtype_message)
    if indices.ndim > 1:
        raise IndexError(f"{op_name}(): Index is supposed to be a vector")
    return indices.reshape(-1)


def _slices_key(dim: int, indices: np.ndarray) -> tuple:
    return (slice(None),) * dim + (indices,)


class IndexSelectBackward0(Formula):
    """Whole slices picked along a dim: the gradient is added back into those slices."""

    @staticmethod
    def forward(self, dim, index):
        data, positions = self._data, _math.index_positions(index)
        if data.ndim == 0:  # a scalar picked by its one index stays a scalar, as in PyTorch
            return data.reshape(1)[positions].reshape(())
        return np.take(data, positions, axis=dim)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, index: _math.index_select_backward(grad, self_shape, dim, index),  # noqa: E501
    }


def _index_select(input: Tensor, dim: int, indices: np.ndarray) -> Tensor:
    return apply(IndexSelectBackward0, input, dim=dim, index=indices)


@register(methods="index_select")
def index_select(input, dim: int, index):
    """The slices of `input` along `dim` at the positions in the vector `index` (a copy).

    The node saves `index` itself and `dim` as given, as PyTorch's does (so saved-tensor hooks
    see the index, and changing it in place before backward is caught)."""
    wrapped = wrap_dim(dim, max(input.ndim, 1))
    indices = _vector_index(index, "index_select", "index_select(): Expected dtype int32 or int64 for index")
    if input.ndim == 0 and indices.size != 1:
        raise RuntimeError(
            f"index_select(): Index to scalar can have only 1 value, got {indices.size} value(s)")
    size = input._data.shape[wrapped] if input.ndim else 1
    if size == 0 and indices.size:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if ((indices < 0) | (indices >= size)).any():
        raise IndexError("index out of range in self")
    return apply(IndexSelectBackward0, input, dim=dim, index=index)


def _check_slices(input, dim: int, indices: np.ndarray, source: Tensor, count_error) -> np.ndarray:
    """index_add's and index_copy's checks of the count and shape of `source`'s slices (the
    count message is the op's own: `count_error(count, source_count)`); the out-of-range
    indices are returned for the op to refuse in its own words."""
    shape = input._data.shape or (1,)  # a 0-d self is one slice, as PyTorch
    size = shape[dim]
    source_shape = source._data.shape if source.ndim else (1,)
    source_count = source_shape[dim if source.ndim else 0]
    if len(indices) != source_count:
        raise count_error(len(indices), source_count)
    expected = shape[:dim] + shape[dim + 1:]
    if source.ndim and source_shape[:dim] + source_shape[dim + 1:] != expected:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {format_shape(input._data.shape)} source.shape = {format_shape(source_shape)}"
        )
    return indices[(indices < 0) | (indices >= size)]


def _as_slices(data):
    """An array or Tensor with at least one dim: a 0-d self of index_add/index_copy is one slice."""
    return _math.reshape(data, (1,)) if data.ndim == 0 else data


def _index_add_source_grad(grad, dim: int, index: np.ndarray, alpha):
    selected = _math.index_select(_as_slices(grad), dim, index)
    return selected if alpha == 1 else selected * alpha


def _index_copy_self_grad(grad, dim: int, index: np.ndarray):
    return _math.reshape(_math.index_fill(_as_slices(grad), dim, index, 0), grad.shape)


# What PyTorch's index_add and index_copy nodes show besides the index and the dim: the
# number of dims of the source (its gradient formula reads the source, as PyTorch's does).
_SLICES_SHOWN = {**_INDEX_AND_DIM_AS_GIVEN, "source_dim": lambda node: node._parameter("source_dim")}


class IndexAddBackward0(ShownAsPyTorch, Formula):
    """alpha * source slices added into a copy of the input along a dim (repeats accumulate)."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, dim, index, alpha, source_dim=None, dim_as_given=None, index_as_given=None):
        index = _math.index_array(index)
        result = _as_slices(self._data).copy()
        values = source._data if alpha == 1 else source._data * alpha
        target_shape = (*result.shape[:dim], len(index), *result.shape[dim + 1:])
        np.add.at(result, _slices_key(dim, index), values.reshape(target_shape))
        return result.reshape(self._data.shape)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad: grad,
        "source": lambda grad, dim, index, source, alpha: _math.reshape(
            _index_add_source_grad(grad, dim, index, alpha), source.shape),
    }
    shown: ClassVar[dict] = _SLICES_SHOWN


@register(methods="index_add", inplace="index_add_")
def index_add(input, dim: int, index, source, *, alpha=1):
    """A copy of `input` with alpha * `source`'s slices added along `dim` at `index`."""
    wrapped = wrap_dim(dim, max(input.ndim, 1))
    indices = _vector_index(index, "index_add", "index_add_(): Expected dtype int32/int64 for index")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({_dtype.scalar_type_name(input.dtype)}) and source "
            f"({_dtype.scalar_type_name(source.dtype)}) must have the same scalar type"
        )
    if (source.ndim == 0) != (input.ndim == 0):  # index_copy takes either, index_add does not
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {format_shape(input._data.shape)} "
            f"source.shape = {format_shape(source._data.shape)}"
        )
    bad = _check_slices(input, wrapped, indices, source, lambda count, source_count: RuntimeError(
        f"index_add_(): Number of indices ({count}) should be equal to source.size(dim): ({source_count}), "
        f"for dim: {wrapped}"))
    if bad.size and input.ndim <= 1:  # PyTorch's kernel for one dimension words it so
        raise IndexError("index out of range in self")
    if bad.size:
        size = (input._data.shape or (1,))[wrapped]
        raise RuntimeError(f"index {bad[0]} is out of bounds for dimension {wrapped} with size {size}")
    return apply(IndexAddBackward0, input, source, dim=wrapped, alpha=alpha, source_dim=source.ndim,
                 **_index_params(dim, wrapped, index, indices))


class IndexCopyBackward0(ShownAsPyTorch, Formula):
    """Source slices written into a copy of the input along a dim (shown as IndexAddBackward0)."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, dim, index, source_dim=None, dim_as_given=None, index_as_given=None):
        result = _as_slices(self._data).copy()
        key = _slices_key(dim, _math.index_array(index))
        result[key] = source._data.reshape(result[key].shape)
        return result.reshape(self._data.shape)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, index: _index_copy_self_grad(grad, dim, index),
        "source": lambda grad, dim, index, source: _math.reshape(
            _math.index_select(_as_slices(grad), dim, index), source.shape),
    }
    shown: ClassVar[dict] = _SLICES_SHOWN


@register(methods="index_copy", inplace="index_copy_")
def index_copy(input, dim: int, index, source):
    """A copy of `input` with `source`'s slices written along `dim` at `index`."""
    wrapped = wrap_dim(dim, max(input.ndim, 1))
    indices = _vector_index(index, "index_copy", "index_copy_(): Expected a long tensor for index")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{_dtype.scalar_type_name(input.dtype)} and (source) {_dtype.scalar_type_name(source.dtype)}"
        )
    bad = _check_slices(input, wrapped, indices, source, lambda count, source_count: IndexError(
        f"index_copy_(): Number of indices ({count}) should be equal to source.size(dim) ({source_count})"))
    if bad.size:
        raise IndexError(f"index_copy_(): index {bad[0]} is out of bounds for dimension {wrapped} with size "
                         f"{(input._data.shape or (1,))[wrapped]}")
    return apply(IndexCopyBackward0, input, source, dim=wrapped, source_dim=source.ndim,
                 **_index_params(dim, wrapped, index, indices))


class IndexFillBackward0(ShownAsPyTorch, Formula):
    """A number written into whole slices of a copy along a dim."""

    @staticmethod
    def forward(self, dim, index, value, dim_as_given=None, index_as_given=None):
        return _math.index_fill(self._data, dim, _math.index_array(index), value)

    tangent = LinearWith(value=0)
    derivatives = {"self": lambda grad, dim, index: _math.index_fill(grad, dim, index, 0)}
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN


def _filled_slices_sum(grad, dim: int, index: np.ndarray):
    """The gradient of the value index_fill wrote: the sum of the slices it filled (each once)."""
    return _math.index_select(grad, dim, np.unique(_math.index_array(index))).sum()


class IndexFillBackward1(ShownAsPyTorch, Formula):
    """A 0-d tensor's value written into whole slices of a copy: its gradient sums those slices."""

    inputs = ("self", "value")

    @staticmethod
    def forward(self, value, dim, index, dim_as_given=None, index_as_given=None):
        return _math.index_fill(self._data, dim, _math.index_array(index), value._data)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, index: _math.index_fill(grad, dim, index, 0),
        "value": lambda grad, dim, index: _filled_slices_sum(grad, dim, index),
    }
    shown: ClassVar[dict] = _INDEX_AND_DIM_AS_GIVEN


@register(methods="index_fill", inplace="index_fill_")
def index_fill(input, dim: int, index, value):
    """A copy of `input` with the slices along `dim` at `index` set to `value` (a number or 0-d tensor)."""
    given, dim = dim, wrap_dim(dim, input.ndim)
    indices = _vector_index(index, "index_fill", "index_fill_(): Expected dtype int64 for index")
    size = input._data.shape[dim] if input.ndim else 1
    bad = (indices < -size) | (indices >= size)
    if bad.any():
        raise IndexError(f"index {indices[bad][0]} is out of bounds for dimension {dim} with size {size}")
    indices = np.where(indices < 0, indices + size, indices)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        return apply(IndexFillBackward1, input, value, dim=dim, **_index_params(given, dim, index, indices))
    return apply(IndexFillBackward0, input, dim=dim, value=value, **_index_params(given, dim, index, indices))
