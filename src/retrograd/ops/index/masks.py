"""Indexing by a bool mask (masked_select, masked_scatter) and by flat positions (take,
nonzero), and one_hot."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, argument_saved, tensor_as_given
from .._table import apply, register
from .._tangents import LINEAR

# ---------------------------------------------------------------------------
# By a bool mask: masked_select, masked_scatter


def _mask_data(mask, message: str) -> np.ndarray:
    if not isinstance(mask, Tensor):
        raise TypeError(f"expected mask to be a Tensor, but got {type(mask).__name__}")
    if mask.dtype is not _dtype.bool:
        raise RuntimeError(message)
    return mask._data


def _broadcast_with_mask(input: Tensor, mask: np.ndarray) -> tuple:
    from ..pointwise import _check_broadcast

    _check_broadcast(input._data.shape, mask.shape)
    shape = np.broadcast_shapes(input._data.shape, mask.shape)
    return shape, np.broadcast_to(mask, shape)


# PyTorch's nodes save the mask or the index tensor the call gave; the formulas here read an
# array (a mask checked once, flat positions wrapped once), saved as a tensor (on the given
# one's version counter) and shown as the tensor PyTorch saves (Note [Indices shown as
# PyTorch saves them], ops/index/along_dim.py).
_MASK_SHOWN = {"mask": tensor_as_given("mask")}
_INDEX_SHOWN = {"index": tensor_as_given("index")}


class MaskedSelectBackward0(ShownAsPyTorch, Formula):
    """The elements where the mask is True, as a vector: the gradient goes back to them
    (the engine sums it over the dims the input was broadcast along). The formula reads
    `self`, as PyTorch's, so the node keeps the input."""

    @staticmethod
    def forward(self, mask):
        mask = _math.index_array(mask)
        shape = np.broadcast_shapes(self._data.shape, mask.shape)
        return np.broadcast_to(self._data, shape)[np.broadcast_to(mask, shape)]

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self, mask: _math.masked_select_backward(grad, mask, self.shape),
    }
    shown: ClassVar[dict] = _MASK_SHOWN


@register(methods="masked_select")
def masked_select(input, mask):
    """The elements of `input` where `mask` (broadcast together) is True, as a 1-d tensor."""
    array = _mask_data(mask, "masked_select: expected BoolTensor for mask")
    _broadcast_with_mask(input, array)
    return apply(MaskedSelectBackward0, input, mask=argument_saved(mask, array))


def _masked_scatter_source_grad(grad, mask: np.ndarray, source_shape: tuple):
    """The source's gradient: the mask's places in order, zeros for the elements not used."""
    selected = _math.masked_select(grad, mask)
    size = int(np.prod(source_shape, dtype=np.int64))
    count = selected.shape[0]
    if size != count:
        selected = _math.place_at_key(selected, (size,), (slice(0, count), Ellipsis))
    return _math.reshape(selected, source_shape)


class MaskedScatterBackward0(ShownAsPyTorch, Formula):
    """Source elements, in order, written where the mask is True in a copy of the input."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, mask):
        mask = _math.index_array(mask)
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
    shown: ClassVar[dict] = _MASK_SHOWN


@register(methods="masked_scatter", inplace="masked_scatter_")
def masked_scatter(input, mask, source):
    """A copy of `input` with `source`'s elements, in order, written where `mask` is True."""
    array = _mask_data(
        mask, f"masked_scatter_ only supports boolean masks, but got mask with dtype "
        f"{_dtype.scalar_type_name(mask.dtype) if isinstance(mask, Tensor) else mask}"
    )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{_dtype.scalar_type_name(input.dtype)} and {_dtype.scalar_type_name(source.dtype)}"
        )
    _, full_mask = _broadcast_with_mask(input, array)
    if np.count_nonzero(full_mask) > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply(MaskedScatterBackward0, input, source, mask=argument_saved(mask, array))


# ---------------------------------------------------------------------------
# Flat positions: take, nonzero; one_hot


def _take_backward(grad, self_shape: tuple, index: np.ndarray):
    """Zeros of the input's shape with `grad` added at the flat positions `index`."""
    size = int(np.prod(self_shape, dtype=np.int64))
    return _math.reshape(_math.accumulate_at(grad, (size,), (_math.index_array(index),)), self_shape)


class TakeBackward0(ShownAsPyTorch, Formula):
    """Elements picked by flat position: the gradient is added back at those positions. The
    formula reads `self`, as PyTorch's, so the node keeps the input."""

    @staticmethod
    def forward(self, index, index_as_given=None):
        return self._data.reshape(-1)[_math.index_array(index)]

    tangent = LINEAR
    derivatives = {"self": lambda grad, self, index: _take_backward(grad, self.shape, index)}
    shown: ClassVar[dict] = _INDEX_SHOWN


@register(methods="take")
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
    wrapped = np.where(indices < 0, indices + size, indices)
    return apply(TakeBackward0, input, index=argument_saved(index, wrapped), index_as_given=indices)


def _put_into(data: np.ndarray, index: np.ndarray, values: np.ndarray, accumulate: bool) -> np.ndarray:
    """A copy of `data` with `values` written (or added) at the flat positions `index`."""
    result = data.reshape(-1).copy()
    if accumulate:
        np.add.at(result, index.reshape(-1), values.reshape(-1))
    else:
        result[index.reshape(-1)] = values.reshape(-1)
    return result.reshape(data.shape)


def _put_self_grad(grad, index: np.ndarray, source, accumulate: bool):
    """The incoming gradient, with zeros where the put overwrote (unless it accumulated)."""
    if accumulate:
        return grad
    if isinstance(grad, Tensor):
        zeros = _math.zeros_of_shape(tuple(source.shape), grad)
        return apply(PutBackward0, grad, zeros, index=index, accumulate=False)
    return _put_into(grad, index, np.zeros(tuple(source.shape), grad.dtype), False)


def _put_source_grad(grad, index: np.ndarray, source):
    """The incoming gradient at the flat positions `index`, in the source's shape."""
    if isinstance(grad, Tensor):
        return _math.reshape(apply(TakeBackward0, grad, index=index), tuple(source.shape))
    return grad.reshape(-1)[_math.index_array(index)].reshape(source.shape)


class PutBackward0(ShownAsPyTorch, Formula):
    """`source` written (or added, with `accumulate`) at flat positions of a copy of the input."""

    inputs = ("self", "source")

    @staticmethod
    def forward(self, source, index, accumulate, index_as_given=None):
        return _put_into(self._data, _math.index_array(index), source._data, accumulate)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, index, source, accumulate: _put_self_grad(grad, index, source, accumulate),
        "source": lambda grad, index, source: _put_source_grad(grad, index, source),
    }
    shown: ClassVar[dict] = _INDEX_SHOWN


@register(methods="put", inplace="put_")
def put(input, index, source, accumulate: bool = False):
    """A copy of `input` with `source`'s elements written at the flat (row-major) positions
    `index` (added there with `accumulate`, repeats adding up)."""
    if not isinstance(index, Tensor) or index.dtype is not _dtype.int64:
        name = _dtype.scalar_type_name(index.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {name}")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{_dtype.scalar_type_name(input.dtype)} and source.dtype = "
            f"{_dtype.scalar_type_name(source.dtype)}")
    if source.numel() != index.numel():
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    size = input.numel()
    indices = index._data.reshape(-1)
    bad = (indices < -size) | (indices >= size)
    if bad.any():
        raise IndexError(
            f"out of range: tried to access index {indices[bad].flat[0]} on a tensor of {size} elements.")
    flat = np.where(indices < 0, indices + size, indices)
    return apply(PutBackward0, input, source, index=argument_saved(index, flat), accumulate=bool(accumulate),
                 index_as_given=index._data)


@register(methods="nonzero", differentiable=False)
def nonzero(input, *, as_tuple: bool = False):
    """The coordinates of the nonzero elements: one row per element, or one vector per dim."""
    from ..._creation import tensor

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
