"""Indexing operators: `x[key]`, `x[key] = value`, gather/scatter, index_*, masked_*, take.

Note [Two-step indexing]
    PyTorch reads a key left to right: ints, slices and None make a view first (ints
    remove their dim), and the tensors and lists in the key then index that view together
    (advanced indexing, a copy). A key is parsed once into those two NumPy keys: `basic`
    (ints, slices, None; ends with Ellipsis so NumPy always gives a view, see Note [Basic
    index keys] in shape.py) and `advanced` (slices and integer arrays, or None when the key
    has no tensors). Doing it in two steps gives PyTorch's result shapes where NumPy's own
    rule would differ (`x[:, 0, :, [1, 2]]`).

Gradients of advanced indexing accumulate over repeated indices with `np.add.at`.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _math, _samples
from ._formula import Formula
from ._table import apply, register, run_in_place
from ._tangents import LINEAR, LinearWith
from .shape import (
    AliasBackward0,
    SelectBackward0,
    SliceBackward0,
    UnsqueezeBackward0,
    basic_view,
    check_expandable,
    format_shape,
    wrap_dim,
)

__all__ = [
    "gather",
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "index_select",
    "masked_scatter",
    "masked_select",
    "nonzero",
    "one_hot",
    "scatter",
    "scatter_add",
    "take",
    "take_along_dim",
]


# ---------------------------------------------------------------------------
# Parsing a key (see Note [Two-step indexing])


@dataclasses.dataclass(frozen=True)
class _Key:
    basic: tuple
    advanced: tuple | None
    view_class: type[Node]

    @property
    def basic_is_trivial(self) -> bool:
        """The basic step changes nothing (only full slices)."""
        return self.view_class is AliasBackward0


_INVALID_INDEX = (
    "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
    "indices (got {})"
)


def _as_index_array(item) -> np.ndarray | None:
    """A tensor, array or list used in a key, as an integer or bool array (None if it is not one)."""
    if isinstance(item, Tensor):
        array = item._data
    elif isinstance(item, np.ndarray):
        array = item
    elif isinstance(item, list):
        array = np.asarray([int(v) if isinstance(v, Tensor) else v for v in item])
        if array.size == 0:
            array = array.astype(np.int64)
    else:
        return None
    if array.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(item, Tensor) and array.dtype == np.uint8:
        warnings.warn(
            "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.",
            UserWarning,
            stacklevel=4,
        )
        return array.astype(bool)
    return array


def _is_integer(item) -> bool:
    return isinstance(item, numbers.Integral) and not isinstance(item, bool | np.bool_)


def _normalised_items(key) -> list:
    """The key's items with index tensors and lists turned into arrays, 0-d integer tensors
    into ints and 0-d bool tensors into Python bools."""
    items = key if isinstance(key, tuple) else (key,)
    result = []
    for item in items:
        array = _as_index_array(item)
        if array is None:
            result.append(item)
        elif array.ndim == 0:
            result.append(bool(array) if array.dtype.kind == "b" else int(array))
        else:
            result.append(array)
    return result


def _dims_used(item) -> int:
    if item is None or item is Ellipsis or isinstance(item, bool | np.bool_):
        return 0
    if isinstance(item, np.ndarray) and item.dtype.kind == "b":
        return item.ndim
    return 1


def _check_slice(item: slice) -> slice:
    step = 1 if item.step is None else int(item.step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    if step < 0:
        raise ValueError("step must be greater than zero")
    start = None if item.start is None else int(item.start)
    stop = None if item.stop is None else int(item.stop)
    return slice(start, stop, step)


def _check_mask(mask: np.ndarray, shape: tuple, dim: int) -> None:
    for offset, size in enumerate(mask.shape):
        if dim + offset >= len(shape) or shape[dim + offset] != size:
            raise IndexError(
                f"The shape of the mask {format_shape(mask.shape)} at index {offset} does not match "
                f"the shape of the indexed tensor {format_shape(shape)} at index {dim + offset}"
            )


def _check_indices(indices: np.ndarray, size: int, ordinal: int) -> np.ndarray:
    """Integer indices into a dim of `size`, made non-negative; IndexError names the first bad one."""
    bad = (indices < -size) | (indices >= size)
    if bad.any():
        raise IndexError(
            f"index {indices[bad].flat[0]} is out of bounds for dimension {ordinal} with size {size}"
        )
    return np.where(indices < 0, indices + size, indices).astype(np.int64, copy=False)


def _wrap_int(index, shape: tuple, dim: int) -> int:
    size = shape[dim]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
    return int(index) % size


def _parse_key(key, shape: tuple) -> _Key:
    """Split a user's key into the basic and advanced NumPy keys of Note [Two-step indexing]."""
    if type(key) is int and shape:
        return _Key((_wrap_int(key, shape, 0), Ellipsis), None, SelectBackward0)
    items = _normalised_items(key)
    ndim = len(shape)
    used = sum(_dims_used(item) for item in items)
    if ndim == 0 and len(items) == 1 and _is_integer(items[0]):
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
            "in C++ to convert a 0-dim tensor to a number"
        )
    if ndim == 0 and len(items) == 1 and isinstance(items[0], slice):
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    basic, advanced = [], []
    view_class = AliasBackward0
    has_advanced = False
    dim = ordinal = 0
    for item in items:
        if item is Ellipsis:
            basic += [slice(None)] * (ndim - used)
            advanced += [slice(None)] * (ndim - used)
            dim += ndim - used
        elif item is None or isinstance(item, bool | np.bool_):
            basic.append(None)
            view_class = UnsqueezeBackward0
            if item is False:
                advanced.append(np.zeros(0, dtype=np.int64))
                has_advanced = True
            else:
                advanced.append(slice(None))
        elif _is_integer(item):
            basic.append(_wrap_int(item, shape, dim))
            view_class = SelectBackward0
            dim += 1
        elif isinstance(item, slice):
            item = _check_slice(item)
            basic.append(item)
            advanced.append(slice(None))
            if item != slice(None, None, 1):
                view_class = SliceBackward0
            dim += 1
        elif isinstance(item, np.ndarray) and item.dtype.kind == "b":
            _check_mask(item, shape, dim)
            basic += [slice(None)] * item.ndim
            advanced += list(np.nonzero(item))
            has_advanced = True
            dim += item.ndim
            ordinal += 1
        elif isinstance(item, np.ndarray):
            basic.append(slice(None))
            advanced.append(_check_indices(item, shape[dim], ordinal))
            has_advanced = True
            dim += 1
            ordinal += 1
        else:
            raise IndexError(_INVALID_INDEX.format(type(item).__name__))
    return _Key((*basic, Ellipsis), (*advanced, Ellipsis) if has_advanced else None, view_class)


def _apply_key(tensor: Tensor, key: _Key) -> Tensor:
    """`tensor[key]` in two steps: a basic view, then advanced indexing when the key has tensors."""
    if key.advanced is None:
        return basic_view(tensor, key.basic, key.view_class)
    if not key.basic_is_trivial:
        tensor = basic_view(tensor, key.basic, key.view_class)
    return apply(IndexBackward0, tensor, key=key.advanced)


# ---------------------------------------------------------------------------
# Reading: x[key]


class IndexBackward0(Formula):
    """Advanced indexing (a copy): the gradient is added back at the indices, so repeated
    indices accumulate (and positions not read get exactly zero)."""

    @staticmethod
    def forward(self, key):
        return self._data[key]

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape, key: _math.accumulate_at(grad, self_shape, key)}


class IndexBackwardBackward0(Formula):
    """Values added into zeros at an advanced key (repeated indices accumulate)."""

    inputs = ("grad_output",)

    @staticmethod
    def forward(grad_output, shape, key):
        return _math.accumulate_at(grad_output._data, shape, key)

    tangent = LINEAR
    derivatives = {"grad_output": lambda grad, key: _math.index_at(grad, key)}


def accumulate_at(values: Tensor, shape: tuple, key: tuple) -> Tensor:
    """Zeros of `shape` with `values` added at the advanced `key` (differentiable in `values`)."""
    return apply(IndexBackwardBackward0, values, shape=shape, key=key)


def _getitem_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    mask = Tensor._make(np.array([True, False, True]))
    return [
        ((x, 1), {}),
        ((x, (slice(None), -1)), {}),
        ((x, (slice(1, None), slice(None, None, 2))), {}),
        ((x, (None, Ellipsis, 0)), {}),
        ((x, Ellipsis), {}),
        ((x, tensor([0, 2, 0, 0])), {}),
        ((x, (slice(None), [3, 1, 3])), {}),
        ((x, (tensor([[0], [2]]), tensor([1, 1, 3]))), {}),
        ((x, mask), {}),
        ((x, Tensor._make(x._data > 0)), {}),
        ((_samples.make(rng, (2, 3, 4)), (slice(None), 0, [1, 2])), {}),
        ((x, []), {}),
        ((_samples.make(rng, ()), None), {}),
    ]


@register("__getitem__", samples=_getitem_samples)
def getitem(input, key):
    """`input[key]`: ints, slices, None and `...` give views; tensors, lists and masks give copies."""
    return _apply_key(input, _parse_key(key, input._data.shape))


Tensor.__getitem__ = getitem


# ---------------------------------------------------------------------------
# Writing: x[key] = value, index_put


def _read_at_key(grad, key: _Key):
    """grad[key] in the two steps of Note [Two-step indexing], on an array or a Tensor."""
    if key.advanced is None:
        return _math.basic_index(grad, key.basic)
    if not key.basic_is_trivial:
        grad = _math.basic_index(grad, key.basic)
    return _math.index_at(grad, key.advanced)


def _values_grad(grad, key: _Key, values_shape: tuple):
    """The gradient of the values written at `key`: what was written there (the engine sums
    it over the dims the values were broadcast along)."""
    picked = _read_at_key(grad, key)
    extra = len(values_shape) - picked.ndim
    if extra > 0:
        picked = _math.reshape(picked, (1,) * extra + tuple(picked.shape))
    return picked


def _overwritten_grad(grad, key: _Key, accumulate: bool):
    """The input's gradient after values were written (zero where they replaced it) or added."""
    return grad if accumulate else _math.zero_at_key(grad, key.basic, key.advanced)


class IndexPutBackward0(Formula):
    """Values written at a key of a copy: the gradient of the overwritten places goes to the
    values (summed where they were broadcast), the rest to the input."""

    inputs = ("self", "values")

    @staticmethod
    def forward(self, values, key, accumulate):
        source = values._data if isinstance(values, Tensor) else values
        result = self._data.copy()
        target = result[key.basic]
        if key.advanced is None:
            target[...] = source
            return result
        try:
            if accumulate:
                np.add.at(target, key.advanced, np.broadcast_to(source, target[key.advanced].shape))
            else:
                target[key.advanced] = source
        except ValueError:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {format_shape(np.shape(source))} cannot be "
                f"broadcast to indexing result of shape {format_shape(target[key.advanced].shape)}"
            ) from None
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, key, accumulate: _overwritten_grad(grad, key, accumulate),
        "values": lambda grad, key, values_shape: _values_grad(grad, key, values_shape),
    }


class CopySlices(IndexPutBackward0):
    """Values written at a basic key (ints, slices, None) of a tensor."""

    __slots__ = ()


class ZeroAtKeyBackward(Formula):
    """A copy with zeros written at x[basic][advanced]: the gradient is zeroed at the same places."""

    @staticmethod
    def forward(self, basic, advanced):
        return _math.zero_at_key(self._data, basic, advanced)

    tangent = LINEAR
    derivatives = {"self": lambda grad, basic, advanced: _math.zero_at_key(grad, basic, advanced)}


def _check_basic_value(input: Tensor, key: _Key, value) -> None:
    """PyTorch's expand error when `value` does not broadcast to the indexed region."""
    if key.advanced is not None or not isinstance(value, Tensor):
        return
    target = input._data[key.basic].shape
    source = tuple(value._data.shape)
    while len(source) > len(target) and source[0] == 1:
        source = source[1:]
    check_expandable(source, target)


def _put(input: Tensor, key: _Key, value, accumulate: bool = False) -> Tensor:
    if not isinstance(value, Tensor | numbers.Number):
        kind = type(value)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"can't assign a {name} to a {_dtype.tensor_type_name(input.dtype)}")
    _check_basic_value(input, key, value)
    node = CopySlices if key.advanced is None and not accumulate else IndexPutBackward0
    return apply(node, input, value, key=key, accumulate=accumulate)


def _setitem(self: Tensor, key, value) -> None:
    """`self[key] = value`, in place and recorded (see IndexPutBackward0)."""
    run_in_place(self, _put, _parse_key(key, self._data.shape), value)


Tensor.__setitem__ = _setitem


def _index_put_key(indices, shape: tuple) -> _Key:
    if not isinstance(indices, tuple | list):
        raise TypeError(
            f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}"
        )
    items = []
    for item in indices:
        array = _as_index_array(item) if item is not None else None
        items.append(slice(None) if item is None else np.atleast_1d(array))
    return _parse_key(tuple(items), shape)


def _index_put_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, (tensor([0, 2]),), _samples.make(rng, (4,))), {}),
        ((x, (tensor([0, 2, 0]), tensor([1, 1, 3])), _samples.make(rng, (3,))), {"accumulate": True}),
        ((x, (Tensor._make(x._data > 0),), _samples.make(rng, ())), {}),
    ]


def _is_masked_fill(indices, values: Tensor, accumulate: bool) -> bool:
    """One bool mask and one value, no accumulation: PyTorch takes its masked_fill path, which
    casts the value to the destination's dtype instead of refusing another dtype."""
    return (not accumulate and values.numel() == 1 and isinstance(indices, list | tuple)
            and len(indices) == 1 and isinstance(indices[0], Tensor) and indices[0].dtype.name == "bool")


@register(methods="index_put", inplace="index_put_", samples=_index_put_samples)
def index_put(input, indices, values, accumulate: bool = False):
    """A copy of `input` with `values` written (or added, with `accumulate`) at `input[indices]`."""
    if isinstance(values, Tensor) and values.dtype is not input.dtype:
        if _is_masked_fill(indices, values, accumulate):
            return index_put(input, indices, values.to(input.dtype))
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{_dtype.scalar_type_name(input.dtype)} for the destination and "
            f"{_dtype.scalar_type_name(values.dtype)} for the source."
        )
    return _put(input, _index_put_key(indices, input._data.shape), values, accumulate)


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


class GatherBackward0(Formula):
    """out[i][j] = input[index[i][j]][j] (dim 0): the gradient is added back at those places."""

    @staticmethod
    def forward(self, dim, index):
        return self._data[_element_key(index, dim)]

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, index: _math.gather_backward(grad, self_shape, dim, index),
    }


def _gather(input: Tensor, dim: int, index: np.ndarray) -> Tensor:
    return apply(GatherBackward0, input, dim=dim, index=index)


def _gather_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 1, tensor([[0, 0], [3, 1], [2, 2]])), {}),
        ((x, 0, tensor([[2, 0, 1, 1], [0, 0, 0, 2]])), {}),
        ((x, -1, tensor([[1], [0]])), {}),
    ]


@register(methods="gather", samples=_gather_samples)
def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """Values picked along `dim` by `index` (same number of dims; other sizes no larger)."""
    dim = wrap_dim(dim, input.ndim)
    indices = _index_data(index, "gather(): Expected dtype int32/int64 for index")
    _check_index_shape(indices, input._data.shape, dim)
    _check_in_range(indices, input._data.shape[dim], dim)
    return _gather(input, dim, indices)


class ScatterAddBackward0(Formula):
    """Source values added into a copy of the input at positions chosen along a dim."""

    inputs = ("self", "src")

    @staticmethod
    def forward(self, src, dim, index):
        result = self._data.copy()
        np.add.at(result, _element_key(index, dim), src._data[_leading_part(index)])
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad: grad,
        "src": lambda grad, dim, index, src_shape: _source_grad(grad, dim, index, src_shape),
    }


class ScatterBackward0(Formula):
    """Source values written into a copy of the input at positions chosen along a dim."""

    inputs = ("self", "src")

    @staticmethod
    def forward(self, src, dim, index):
        result = self._data.copy()
        result[_element_key(index, dim)] = src._data[_leading_part(index)]
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, index: _math.scatter_fill(grad, dim, index, 0),
        "src": lambda grad, dim, index, src_shape: _source_grad(grad, dim, index, src_shape),
    }


class ScatterBackward1(Formula):
    """A number written into a copy of the input at positions chosen along a dim."""

    @staticmethod
    def forward(self, dim, index, value):
        return _math.scatter_fill(self._data, dim, index, value)

    tangent = LinearWith(value=0)
    derivatives = {"self": lambda grad, dim, index: _math.scatter_fill(grad, dim, index, 0)}


def _scatter_arguments(input, dim, index, source, op_name: str):
    dim = wrap_dim(dim, input.ndim)
    indices = _index_data(index, f"{op_name}(): Expected dtype int64 for index")
    source_shape = source._data.shape if isinstance(source, Tensor) else None
    if isinstance(source, Tensor) and source.dtype is not input.dtype:
        raise RuntimeError(f"{op_name}(): Expected self.dtype to be equal to src.dtype")
    _check_index_shape(indices, input._data.shape, dim, source_shape)
    _check_in_range(indices, input._data.shape[dim], dim)
    return dim, indices


def _permutation_index(rng, shape: tuple, dim: int):
    """Indices without repeats along `dim` (scatter with repeated indices keeps an arbitrary one)."""
    size = shape[dim]
    orders = np.argsort(rng.random((*shape[:dim], size, *shape[dim + 1:])), axis=dim)
    return Tensor._make(orders.astype(np.int64))


def _scatter_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 1, _permutation_index(rng, (3, 4), 1), _samples.make(rng, (3, 4))), {}),
        ((x, 0, tensor([[2, 0, 1]]), _samples.make(rng, (1, 3))), {}),
        ((x, 0, tensor([[1, 2], [0, 1]])), {"value": 1.5}),
    ]


@register(methods="scatter", inplace="scatter_", samples=_scatter_samples)
def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):
    """A copy of `input` with `src` values (or the number `value`) written along `dim` at `index`."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    dim, indices = _scatter_arguments(input, dim, index, src, "scatter")
    if src is None:
        return apply(ScatterBackward1, input, dim=dim, index=indices, value=value)
    return apply(ScatterBackward0, input, src, dim=dim, index=indices)


def _scatter_add_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 1, tensor([[0, 0, 3], [1, 1, 1], [2, 0, 2]]), _samples.make(rng, (3, 3))), {}),
        ((x, 0, tensor([[2, 2, 1, 0]]), _samples.make(rng, (1, 4))), {}),
    ]


@register(methods="scatter_add", inplace="scatter_add_", samples=_scatter_add_samples)
def scatter_add(input, dim: int, index, src):
    """A copy of `input` with `src` values added along `dim` at `index` (repeats accumulate)."""
    dim, indices = _scatter_arguments(input, dim, index, src, "scatter_add")
    return apply(ScatterAddBackward0, input, src, dim=dim, index=indices)


def _take_along_dim_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, tensor([[0, 3], [1, 1], [2, 0]]), 1), {}),
        ((x, tensor([[2, 0, 0, 1]])), {"dim": 0}),
        ((x, tensor([11, 0, 5, 5])), {}),
    ]


@register(methods="take_along_dim", samples=_take_along_dim_samples)
def take_along_dim(input, indices, dim=None):
    """Values picked along `dim` by `indices`, broadcasting the other dims (the flattened
    input when dim is None)."""
    if dim is None:
        return take_along_dim(input.reshape(-1), indices.reshape(-1), 0)
    dim = wrap_dim(dim, input.ndim)
    size = input._data.shape[dim]
    if isinstance(indices, Tensor) and (indices._data < 0).any():
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
        return np.take(self._data, index, axis=dim)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, index: _math.index_select_backward(grad, self_shape, dim, index),  # noqa: E501
    }


def _index_select(input: Tensor, dim: int, indices: np.ndarray) -> Tensor:
    return apply(IndexSelectBackward0, input, dim=dim, index=indices)


def _index_select_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    empty_index = Tensor._make(np.zeros(0, dtype=np.int64))
    return [((x, 0, tensor([2, 0, 2])), {}), ((x, 1, tensor([3])), {}), ((x, -1, tensor(1)), {}),
            ((x, 0, empty_index), {})]


@register(methods="index_select", samples=_index_select_samples)
def index_select(input, dim: int, index):
    """The slices of `input` along `dim` at the positions in the vector `index` (a copy)."""
    if input.ndim == 0:
        input = input.reshape(1)
    dim = wrap_dim(dim, input.ndim)
    indices = _vector_index(index, "index_select", "index_select(): Expected dtype int32 or int64 for index")
    size = input._data.shape[dim]
    if size == 0 and indices.size:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if ((indices < 0) | (indices >= size)).any():
        raise IndexError("index out of range in self")
    return _index_select(input, dim, indices)


def _check_slices(input, dim: int, indices: np.ndarray, source: Tensor, op_name: str, count_error):
    size = input._data.shape[dim]
    source_shape = source._data.shape if source.ndim else (1,)
    if len(indices) != source_shape[dim if source.ndim else 0]:
        raise count_error(
            f"{op_name}(): Number of indices ({len(indices)}) should be equal to source.size(dim) "
            f"({source_shape[dim if source.ndim else 0]})"
        )
    expected = input._data.shape[:dim] + input._data.shape[dim + 1:]
    if source.ndim and source_shape[:dim] + source_shape[dim + 1:] != expected:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {format_shape(input._data.shape)} source.shape = {format_shape(source_shape)}"
        )
    bad = (indices < 0) | (indices >= size)
    if bad.any():
        raise IndexError(f"index {indices[bad][0]} is out of bounds for dimension {dim} with size {size}")


def _index_add_source_grad(grad, dim: int, index: np.ndarray, alpha):
    selected = _math.index_select(grad, dim, index)
    return selected if alpha == 1 else selected * alpha


class IndexAddBackward0(Formula):
    """alpha * source slices added into a copy of the input along a dim (repeats accumulate)."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, dim, index, alpha):
        result = self._data.copy()
        values = source._data if alpha == 1 else source._data * alpha
        target_shape = (*result.shape[:dim], len(index), *result.shape[dim + 1:])
        np.add.at(result, _slices_key(dim, index), values.reshape(target_shape))
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad: grad,
        "source": lambda grad, dim, index, alpha: _index_add_source_grad(grad, dim, index, alpha),
    }


def _index_add_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 0, tensor([2, 0, 2]), _samples.make(rng, (3, 4))), {}),
        ((x, 1, tensor([1, 3]), _samples.make(rng, (3, 2))), {"alpha": -2.0}),
    ]


@register(methods="index_add", inplace="index_add_", samples=_index_add_samples)
def index_add(input, dim: int, index, source, *, alpha=1):
    """A copy of `input` with alpha * `source`'s slices added along `dim` at `index`."""
    dim = wrap_dim(dim, input.ndim)
    indices = _vector_index(index, "index_add", "index_add_(): Expected dtype int32/int64 for index")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({_dtype.scalar_type_name(input.dtype)}) and source "
            f"({_dtype.scalar_type_name(source.dtype)}) must have the same scalar type"
        )
    if source.ndim == 0 and input.ndim > 0:  # index_copy takes a 0-d source here, index_add does not
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {format_shape(input._data.shape)} source.shape = []"
        )
    _check_slices(input, dim, indices, source, "index_add_", RuntimeError)
    return apply(IndexAddBackward0, input, source, dim=dim, index=indices, alpha=alpha)


class IndexCopyBackward0(Formula):
    """Source slices written into a copy of the input along a dim."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, dim, index):
        result = self._data.copy()
        key = _slices_key(dim, index)
        result[key] = source._data.reshape(result[key].shape)
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, index: _math.index_fill(grad, dim, index, 0),
        "source": lambda grad, dim, index: _math.index_select(grad, dim, index),
    }


def _index_copy_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [((x, 0, tensor([2, 0]), _samples.make(rng, (2, 4))), {}),
            ((x, 1, tensor([3]), _samples.make(rng, (3, 1))), {})]


@register(methods="index_copy", inplace="index_copy_", samples=_index_copy_samples)
def index_copy(input, dim: int, index, source):
    """A copy of `input` with `source`'s slices written along `dim` at `index`."""
    dim = wrap_dim(dim, input.ndim)
    indices = _vector_index(index, "index_copy", "index_copy_(): Expected a long tensor for index")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{_dtype.scalar_type_name(input.dtype)} and (source) {_dtype.scalar_type_name(source.dtype)}"
        )
    _check_slices(input, dim, indices, source, "index_copy_", IndexError)
    return apply(IndexCopyBackward0, input, source, dim=dim, index=indices)


class IndexFillBackward0(Formula):
    """A number written into whole slices of a copy along a dim."""

    @staticmethod
    def forward(self, dim, index, value):
        return _math.index_fill(self._data, dim, index, value)

    tangent = LinearWith(value=0)
    derivatives = {"self": lambda grad, dim, index: _math.index_fill(grad, dim, index, 0)}


def _filled_slices_sum(grad, dim: int, index: np.ndarray):
    """The gradient of the value index_fill wrote: the sum of the slices it filled (each once)."""
    return _math.index_select(grad, dim, np.unique(index)).sum()


class IndexFillBackward1(Formula):
    """A 0-d tensor's value written into whole slices of a copy: its gradient sums those slices."""

    inputs = ("self", "value")

    @staticmethod
    def forward(self, value, dim, index):
        return _math.index_fill(self._data, dim, index, value._data)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, index: _math.index_fill(grad, dim, index, 0),
        "value": lambda grad, dim, index: _filled_slices_sum(grad, dim, index),
    }


def _index_fill_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [((x, 1, tensor([0, 2]), -1.5), {}), ((x, 0, tensor([1, 1]), _samples.make(rng, ())), {})]


@register(methods="index_fill", inplace="index_fill_", samples=_index_fill_samples)
def index_fill(input, dim: int, index, value):
    """A copy of `input` with the slices along `dim` at `index` set to `value` (a number or 0-d tensor)."""
    dim = wrap_dim(dim, input.ndim)
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
        return apply(IndexFillBackward1, input, value, dim=dim, index=indices)
    return apply(IndexFillBackward0, input, dim=dim, index=indices, value=value)


# ---------------------------------------------------------------------------
# By a bool mask: masked_select, masked_scatter


def _mask_data(mask, message: str) -> np.ndarray:
    if not isinstance(mask, Tensor):
        raise TypeError(f"expected mask to be a Tensor, but got {type(mask).__name__}")
    if mask.dtype is not _dtype.bool:
        raise RuntimeError(message)
    return mask._data


def _broadcast_with_mask(input: Tensor, mask: np.ndarray) -> tuple:
    from .pointwise import _check_broadcast

    _check_broadcast(input._data.shape, mask.shape)
    shape = np.broadcast_shapes(input._data.shape, mask.shape)
    return shape, np.broadcast_to(mask, shape)


class MaskedSelectBackward0(Formula):
    """The elements where the mask is True, as a vector: the gradient goes back to them
    (the engine sums it over the dims the input was broadcast along)."""

    @staticmethod
    def forward(self, mask):
        shape = np.broadcast_shapes(self._data.shape, mask.shape)
        return np.broadcast_to(self._data, shape)[np.broadcast_to(mask, shape)]

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, mask, self_shape: _math.masked_select_backward(grad, mask, self_shape),
    }


def _masked_select_samples(rng):
    x = _samples.make(rng, (3, 4))
    row_mask = Tensor._make(np.array([True, False, False, True]))
    return [((x, Tensor._make(x._data > 0)), {}), ((x, row_mask), {})]


@register(methods="masked_select", samples=_masked_select_samples)
def masked_select(input, mask):
    """The elements of `input` where `mask` (broadcast together) is True, as a 1-d tensor."""
    mask = _mask_data(mask, "masked_select: expected BoolTensor for mask")
    _broadcast_with_mask(input, mask)
    return apply(MaskedSelectBackward0, input, mask=mask)


def _masked_scatter_source_grad(grad, mask: np.ndarray, source_shape: tuple):
    """The source's gradient: the mask's places in order, zeros for the elements not used."""
    selected = _math.masked_select(grad, mask)
    size = int(np.prod(source_shape, dtype=np.int64))
    count = selected.shape[0]
    if size != count:
        selected = _math.place_at_key(selected, (size,), (slice(0, count), Ellipsis))
    return _math.reshape(selected, source_shape)


class MaskedScatterBackward0(Formula):
    """Source elements, in order, written where the mask is True in a copy of the input."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, mask):
        shape = np.broadcast_shapes(self._data.shape, mask.shape)
        mask = np.broadcast_to(mask, shape)
        count = int(np.count_nonzero(mask))
        result = np.broadcast_to(self._data, shape).copy()
        result[mask] = source._data.reshape(-1)[:count]
        return result

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, mask: _math.where(mask, 0.0, grad),
        "source": lambda grad, mask, source_shape: _masked_scatter_source_grad(grad, mask, source_shape),
    }


def _masked_scatter_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [
        ((x, Tensor._make(x._data > 0), _samples.make(rng, (3, 4))), {}),
        ((x, Tensor._make(np.array([True, False, False, True])), _samples.make(rng, (7,))), {}),
    ]


@register(methods="masked_scatter", inplace="masked_scatter_", samples=_masked_scatter_samples)
def masked_scatter(input, mask, source):
    """A copy of `input` with `source`'s elements, in order, written where `mask` is True."""
    mask = _mask_data(
        mask, f"masked_scatter_ only supports boolean masks, but got mask with dtype "
        f"{_dtype.scalar_type_name(mask.dtype) if isinstance(mask, Tensor) else mask}"
    )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{_dtype.scalar_type_name(input.dtype)} and {_dtype.scalar_type_name(source.dtype)}"
        )
    _, full_mask = _broadcast_with_mask(input, mask)
    if np.count_nonzero(full_mask) > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply(MaskedScatterBackward0, input, source, mask=mask)


# ---------------------------------------------------------------------------
# Flat positions: take, nonzero; one_hot


def _take_backward(grad, self_shape: tuple, index: np.ndarray):
    """Zeros of the input's shape with `grad` added at the flat positions `index`."""
    size = int(np.prod(self_shape, dtype=np.int64))
    return _math.reshape(_math.accumulate_at(grad, (size,), (index,)), self_shape)


class TakeBackward0(Formula):
    """Elements picked by flat position: the gradient is added back at those positions."""

    @staticmethod
    def forward(self, index):
        return self._data.reshape(-1)[index]

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape, index: _take_backward(grad, self_shape, index)}


def _take_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [((x, tensor([[0, 11], [5, 5]])), {}), ((x, tensor([-1, 3])), {})]


@register(methods="take", samples=_take_samples)
def take(input, index):
    """Elements of `input` seen as a flat vector, at positions `index` (result has index's shape)."""
    if not isinstance(index, Tensor) or index.dtype is not _dtype.int64:
        name = _dtype.scalar_type_name(index.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {name}")
    size = input.numel()
    indices = index._data
    bad = (indices < -size) | (indices >= size)
    if bad.any():
        raise IndexError(
            f"out of range: tried to access index {indices[bad].flat[0]} on a tensor of {size} elements."
        )
    return apply(TakeBackward0, input, index=np.where(indices < 0, indices + size, indices))


@register(methods="nonzero", differentiable=False)
def nonzero(input, *, as_tuple: bool = False):
    """The coordinates of the nonzero elements: one row per element, or one vector per dim."""
    from .._creation import tensor

    data = input._data
    if as_tuple:
        return tuple(tensor(coordinates) for coordinates in np.nonzero(np.atleast_1d(data)))
    return tensor(np.argwhere(data).astype(np.int64))


@register(differentiable=False)
def one_hot(tensor, num_classes: int = -1):
    """Class indices as one-hot vectors (int64) of length `num_classes` (max + 1 when -1)."""
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size and data.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if data.size and data.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((data[..., None] == np.arange(num_classes)).astype(np.int64))
