"""Indexing with a key: parsing `x[key]` (see Note [Two-step indexing]), reading it, and
writing it (`x[key] = value`, index_put)."""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, formula_value, saved_array
from .._table import apply, register, register_method, run_in_place
from .._tangents import LINEAR
from ..shape import (
    AliasBackward0,
    SelectBackward0,
    SliceBackward0,
    UnsqueezeBackward0,
    basic_view,
    check_expandable,
    format_shape,
)

# ---------------------------------------------------------------------------
# Parsing a key (see Note [Two-step indexing])


@dataclasses.dataclass(frozen=True)
class _Key:
    basic: tuple
    advanced: tuple | None
    # the node of the basic step; None when several components of `basic` pick, slice or
    # insert, each recorded as its own node (Note [One node per component])
    view_class: type[Node] | None

    @property
    def basic_is_trivial(self) -> bool:
        """The basic step changes nothing (only full slices)."""
        return self.view_class is AliasBackward0


@dataclasses.dataclass(frozen=True)
class _MaskedKey(_Key):
    """A key with a bool mask: `shown` holds the indices as PyTorch's nodes show them (the
    mask itself, where `advanced` holds the positions it selects; None for a dim taken whole)."""

    shown: tuple = ()


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
    """An int key component, checked and kept as given (a negative one counts from the end,
    as NumPy reads it; SelectBackward0 shows it as given, as PyTorch's)."""
    size = shape[dim]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
    return int(index)


def _plain_key(key, shape: tuple, writing: bool = False) -> _Key | None:
    """What `_parse_key` gives for a key of Python ints and slices whose bounds are ints or
    None and whose step is positive (`x[:, 0:1]`, `x[2]`), without its general checks; None
    for any other key."""
    in_tuple = type(key) is tuple
    items = key if in_tuple else (key,)
    if len(items) > len(shape):
        return None
    basic = []
    view_class = AliasBackward0
    for dim, item in enumerate(items):
        if type(item) is int:
            basic.append(_wrap_int(item, shape, dim))
            view_class = SelectBackward0 if view_class is AliasBackward0 else None
        elif type(item) is slice:
            start, stop, step = item.start, item.stop, item.step
            if step is None:
                step = 1
            elif type(step) is not int or step <= 0:
                return None
            if (start is not None and type(start) is not int) or (stop is not None and type(stop) is not int):
                return None
            if (in_tuple or writing) and _takes_the_whole_dim(start, stop, step, shape[dim]):
                basic.append(_WHOLE_DIM)
            else:
                basic.append(slice(start, stop, step))
                view_class = SliceBackward0 if view_class is AliasBackward0 else None
        else:
            return None
    return _Key((*basic, Ellipsis), None, view_class)


_WHOLE_DIM = slice(None, None, 1)


def _takes_the_whole_dim(start, stop, step: int, size: int) -> bool:
    """Whether a slice in a tuple key records no node.

    Note [Slices that record nothing]
        PyTorch records a component of a tuple key `x[a:b, ...]` only when it changes
        something: a slice that starts at 0 (or is left open there), ends at or past the
        dim's size (or is left open) and steps by 1 records no SliceBackward0, so `x[:, 0:4]`
        of a 4-column x is `x[:, :]`, an AliasBackward0, and `x[0:4, 1]` one SelectBackward0.
        A start given as a negative number (`x[-4:, :]`) records its slice even where it
        takes the whole dim, as PyTorch compares the bounds as given. A key that is a lone
        slice (`x[:]`, `x[::1]`) always records one when read; a write (`x[0:4] = v`) skips
        it as any other, and a write whose key picks the whole tensor is a fill_ or copy_ of
        it (`_write_whole`).
    """
    return step == 1 and (start is None or start == 0) and (stop is None or stop >= size)


def _parse_key(key, shape: tuple, writing: bool = False) -> _Key:
    """Split a user's key into the basic and advanced NumPy keys of Note [Two-step indexing].
    `writing`: the key of `x[key] = value` (see Note [Slices that record nothing])."""
    plain = _plain_key(key, shape, writing)
    if plain is not None:
        return plain
    items = _normalised_items(key)
    in_tuple = isinstance(key, tuple)
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
    basic, advanced, shown = [], [], []
    view_class = AliasBackward0
    has_advanced = has_mask = False
    dim = ordinal = 0
    for item in items:
        if item is Ellipsis:
            basic += [slice(None)] * (ndim - used)
            advanced += [slice(None)] * (ndim - used)
            shown += [None] * (ndim - used)
            dim += ndim - used
        elif item is None or isinstance(item, bool | np.bool_):
            basic.append(None)
            view_class = UnsqueezeBackward0 if view_class is AliasBackward0 else None
            if item is None:
                advanced.append(slice(None))
                shown.append(None)
            else:  # (a bool indexes the dim it inserts: position 0 for True, none for False)
                advanced.append(np.zeros(1 if item else 0, dtype=np.int64))
                shown.append(advanced[-1])
                has_advanced = True
        elif _is_integer(item):
            basic.append(_wrap_int(item, shape, dim))
            view_class = SelectBackward0 if view_class is AliasBackward0 else None
            dim += 1
        elif isinstance(item, slice):
            item = _check_slice(item)
            if (in_tuple or writing) and _takes_the_whole_dim(item.start, item.stop, item.step, shape[dim]):
                basic.append(_WHOLE_DIM)
            else:
                basic.append(item)
                view_class = SliceBackward0 if view_class is AliasBackward0 else None
            advanced.append(slice(None))
            shown.append(None)
            dim += 1
        elif isinstance(item, np.ndarray) and item.dtype.kind == "b":
            _check_mask(item, shape, dim)
            basic += [slice(None)] * item.ndim
            advanced += list(np.nonzero(item))
            shown.append(item)
            has_advanced = has_mask = True
            dim += item.ndim
            ordinal += 1
        elif isinstance(item, np.ndarray):
            basic.append(slice(None))
            advanced.append(_check_indices(item, shape[dim], ordinal))
            shown.append(advanced[-1])
            has_advanced = True
            dim += 1
            ordinal += 1
        else:
            raise IndexError(_INVALID_INDEX.format(type(item).__name__))
    if has_mask:
        return _MaskedKey((*basic, Ellipsis), (*advanced, Ellipsis), view_class, tuple(shown))
    return _Key((*basic, Ellipsis), (*advanced, Ellipsis) if has_advanced else None, view_class)


def _component_views(tensor: Tensor, basic: tuple) -> Tensor:
    """The basic step of `tensor[key]` for a key of several components: one node each.

    Note [One node per component]
        PyTorch records a basic key component by component, left to right: `x[1:, ::2]` is
        a SliceBackward0 on dim 0, then one on dim 1 of that; `x[None, ..., 0]` an
        UnsqueezeBackward0, then a SelectBackward0. A key with one such component (the
        common `x[i]`, `x[:, j]`, `x[a:b]`) is one node of the whole key (Note [Basic index
        keys]); a key with several is recorded as the same chain as PyTorch's, each node
        showing its own input's sizes."""
    dim = 0
    for component in basic[:-1]:
        if component is None:
            tensor = apply(UnsqueezeBackward0, tensor, dim=dim)
            dim += 1
        elif isinstance(component, slice):
            if component != slice(None, None, 1) and component != slice(None):
                tensor = basic_view(tensor, (*(slice(None),) * dim, component, Ellipsis), SliceBackward0)
            dim += 1
        else:
            tensor = basic_view(tensor, (*(slice(None),) * dim, component, Ellipsis), SelectBackward0)
    return tensor


def _apply_key(tensor: Tensor, key: _Key) -> Tensor:
    """`tensor[key]` in two steps: a basic view, then advanced indexing when the key has tensors."""
    view_class = key.view_class
    if key.advanced is None:
        if view_class is not None:
            return basic_view(tensor, key.basic, view_class)
        return _component_views(tensor, key.basic)
    if view_class is None:
        tensor = _component_views(tensor, key.basic)
    elif view_class is not AliasBackward0:
        tensor = basic_view(tensor, key.basic, view_class)
    if type(key) is _MaskedKey:
        return apply(IndexBackward0, tensor, key=key.advanced, indices_given=key.shown)
    return apply(IndexBackward0, tensor, key=key.advanced)


# ---------------------------------------------------------------------------
# Reading: x[key]


def _indices_shown(node) -> tuple:
    """The `indices` PyTorch's advanced-indexing nodes show: one entry per indexed dim, an
    index tensor (int64), a bool mask as given (one entry for all the dims it covers), or
    None for a dim taken whole; freed with the node."""
    key = formula_value(node, "key")
    if isinstance(key, _MaskedKey):
        items = key.shown
    elif isinstance(key, _Key):
        items = key.advanced
    else:
        items = node._params.get("indices_given", key)
    return tuple(None if item is None or isinstance(item, slice) else saved_array(node, item)
                 for item in items if item is not Ellipsis)


class IndexBackward0(ShownAsPyTorch, Formula):
    """Advanced indexing (a copy): the gradient is added back at the indices, so repeated
    indices accumulate (and positions not read get exactly zero)."""

    @staticmethod
    def forward(self, key, indices_given=None):
        return self._data[key]

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape, key: _math.accumulate_at(grad, self_shape, key)}
    hidden = ("key", "indices_given")
    shown: ClassVar[dict] = {"indices": _indices_shown}


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


@register("__getitem__")
def getitem(input, key):
    """`input[key]`: ints, slices, None and `...` give views; tensors, lists and masks give copies.

    A lone int or slice of int bounds and a positive step (`x[0]`, `x[1:-1]`) is recorded
    as `_plain_key` and `_apply_key` record it (one SelectBackward0 or SliceBackward0 view),
    without building its `_Key`."""
    shape = input._data.shape
    if type(key) is int and shape:
        return basic_view(input, (_wrap_int(key, shape, 0), Ellipsis), SelectBackward0)
    if type(key) is slice and shape:
        start, stop, step = key.start, key.stop, key.step
        if ((step is None or (type(step) is int and step > 0))
                and (start is None or type(start) is int) and (stop is None or type(stop) is int)):
            step = 1 if step is None else step
            return basic_view(input, (slice(start, stop, step), Ellipsis), SliceBackward0)
    return _apply_key(input, _parse_key(key, shape))


register_method("__getitem__", getitem)


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


class IndexPutBackward0(ShownAsPyTorch, Formula):
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
    hidden = ("key", "values_sym_sizes")
    shown: ClassVar[dict] = {"indices": _indices_shown}


class CopySlices(IndexPutBackward0):
    """Values written at a basic key (ints, slices, None) of a tensor (PyTorch's node shows
    no saved values)."""

    __slots__ = ()
    hidden = ("key", "values_sym_sizes", "accumulate")
    shown: ClassVar[dict] = {}


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


def _check_value(input: Tensor, value) -> None:
    if not isinstance(value, Tensor | numbers.Number):
        kind = type(value)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"can't assign a {name} to a {_dtype.tensor_type_name(input.dtype)}")


def _put(input: Tensor, key: _Key, value, accumulate: bool = False) -> Tensor:
    """`input` with `value` written at `key`: CopySlices where the key's basic step makes a
    view to write into (PyTorch writes into that view, so its base records CopySlices),
    IndexPutBackward0 where tensors index the input itself."""
    _check_value(input, value)
    _check_basic_value(input, key, value)
    into_a_view = key.advanced is None or not key.basic_is_trivial
    node = CopySlices if into_a_view and not accumulate else IndexPutBackward0
    return apply(node, input, value, key=key, accumulate=accumulate)


# The C types PyTorch names when a written number does not fit a dtype.
_C_TYPES = {"float32": "float", "float64": "double", "float16": "double", "int64": "int64_t",
            "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t"}
_INT64_RANGE = range(-(2**63), 2**63)


def _written_value(input: Tensor, value):
    """The value of `input[key] = value`: a tensor as it is, a number as the 0-d tensor of
    input's dtype PyTorch makes of it, with PyTorch's errors for a number it cannot hold (an
    int beyond int64; a complex number for a real dtype, an out-of-range number for an
    integer dtype or float32; an unsigned dtype takes negative ints down to -max, which
    wrap, and float16 takes a large number as inf)."""
    _check_value(input, value)
    if isinstance(value, Tensor):
        return value
    dtype = input._data.dtype
    if isinstance(value, int) and value not in _INT64_RANGE:
        raise ValueError("Overflow when unpacking long long")
    if dtype.kind in "iuf" and (isinstance(value, complex) or not _fits(value, dtype)):
        raise RuntimeError(f"value cannot be converted to type {_C_TYPES.get(dtype.name, dtype.name)} "
                           "without overflow")
    with np.errstate(all="ignore"):
        return Tensor._make(np.asarray(value).astype(dtype))


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _fits(number, dtype: np.dtype) -> bool:
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        wraps = dtype.kind == "u" and isinstance(number, int)  # (a negative int wraps, a float does not)
        return math.isfinite(number) and (-info.max if wraps else info.min) <= number <= info.max
    return dtype != np.float32 or not math.isfinite(number) or abs(number) <= _FLOAT32_MAX


def _write_whole(self: Tensor, key: _Key, value: Tensor) -> None:
    """`self[key] = value` for a key that picks the whole tensor (`x[:]`, `x[...]`): PyTorch
    fills it with a 0-d value (FillBackward3) and copies any other into it (CopyBackwards),
    as `fill_` and `copy_` do."""
    if value._data.ndim == 0:
        self.fill_(value)
        return
    _check_basic_value(self, key, value)
    self.copy_(value)


def _setitem(self: Tensor, key, value) -> None:
    """`self[key] = value`, in place and recorded (see IndexPutBackward0). The value is
    checked before the key, as PyTorch checks it."""
    value = _written_value(self, value)
    if key is False or (isinstance(key, Tensor) and key._data.ndim == 0 and key._data.dtype == np.bool_
                        and not key._data):
        return  # (PyTorch writes nothing for a lone False)
    parsed = _parse_key(key, self._data.shape, writing=True)
    if parsed.advanced is None and parsed.basic_is_trivial:
        _write_whole(self, parsed, value)
        return
    run_in_place(self, _put, parsed, value)


register_method("__setitem__", _setitem)


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


def _is_masked_fill(indices, values: Tensor, accumulate: bool) -> bool:
    """One bool mask and one value, no accumulation: PyTorch takes its masked_fill path, which
    casts the value to the destination's dtype instead of refusing another dtype."""
    return (not accumulate and values.numel() == 1 and isinstance(indices, list | tuple)
            and len(indices) == 1 and isinstance(indices[0], Tensor) and indices[0].dtype.name == "bool")


@register(methods="index_put", inplace="index_put_")
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
