"""Operators that overwrite a tensor's values: zero_, fill_, copy_ (in-place only), and `fill`,
fill_'s out-of-place form."""

from __future__ import annotations

import numbers

import numpy as np

from .._creation import check_convertible
from .._tensor import Tensor
from . import _direct_write, _math
from ._formula import Formula
from ._table import apply, register, run_in_place
from ._tangents import LINEAR, LinearWith
from .pointwise.promotion import _check_broadcast

__all__ = []


def _sum_all(grad):
    return _math.sum_dims(grad, tuple(range(grad.ndim)))


class ZeroBackward0(Formula):
    """All values replaced by 0: no gradient reaches the old values (zeros, not grad * 0)."""

    @staticmethod
    def forward(self):
        return np.zeros_like(self._data)

    tangent = LINEAR
    derivatives = {"self": lambda grad: _math.zeros_like(grad)}


class FillBackward2(Formula):
    """All values replaced by a number."""

    @staticmethod
    def forward(self, value):
        return np.full_like(self._data, value)

    tangent = LinearWith(value=0)
    derivatives = {"self": lambda grad: _math.zeros_like(grad)}


class FillBackward3(Formula):
    """All values replaced by a 0-d tensor: its gradient is the sum of the incoming one."""

    inputs = ("self", "value")

    @staticmethod
    def forward(self, value):
        return np.full_like(self._data, value._data)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad: _math.zeros_like(grad),
        "value": lambda grad: _sum_all(grad),
    }


class CopyBackwards(Formula):
    """Values copied from `src` (broadcast and cast): its gradient is the incoming one
    (summed back to src's shape and cast to its dtype by the engine)."""

    inputs = ("self", "src")

    @staticmethod
    def forward(self, src):
        return np.broadcast_to(src._data, self._data.shape).astype(self._data.dtype)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad: _math.zeros_like(grad),
        "src": lambda grad: grad,
    }


class FillBackward0(FillBackward2):
    """`fill(input, number)`: a new tensor of input's shape and dtype holding the number."""

    tangent = LinearWith(value=0)
    derivatives = {"self": lambda grad: _math.zeros_like(grad)}


class FillBackward1(FillBackward3):
    """`fill(input, tensor)`: the 0-d tensor's value everywhere; its gradient is the sum."""

    tangent = LINEAR
    derivatives = {
        "self": lambda grad: _math.zeros_like(grad),
        "value": lambda grad: _sum_all(grad),
    }


def _zero(input):
    return apply(ZeroBackward0, input)


def _fill(input, value, nodes: tuple = (FillBackward2, FillBackward3)):
    """fill_'s op (`nodes`: the nodes for a number and for a 0-d tensor; fill's are others)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions."
            )
        return apply(nodes[1], input, value)
    if not isinstance(value, numbers.Number):
        raise TypeError(f"fill_(): argument 'value' must be Number, not {type(value).__name__}")
    if input._data.dtype.kind in "iu" and type(value) in (int, float):
        check_convertible(value, input.dtype)
    return apply(nodes[0], input, value=value)


def _copy(input, src):
    if isinstance(src, numbers.Number) and not isinstance(src, complex):
        src = Tensor._make(np.asarray(src))  # a number is copied as a 0-d tensor (PyTorch)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    target, source = input._data.shape, src._data.shape
    _check_broadcast(target, source)
    broadcast = np.broadcast_shapes(source, target)
    if broadcast != target:
        raise RuntimeError(
            f"output with shape [{', '.join(map(str, target))}] doesn't match the broadcast shape "
            f"[{', '.join(map(str, broadcast))}]"
        )
    return apply(CopyBackwards, input, src)


def zero_(self) -> Tensor:
    """Fill self with zeros, in place."""
    if _direct_write.write(self, "zero_", (), {}):
        return self
    return run_in_place(self, _zero, fills=True)


def fill_(self, value) -> Tensor:
    """Fill self with `value` (a number or a 0-d tensor), in place."""
    if _direct_write.write(self, "fill_", (value,), {}):
        return self
    return run_in_place(self, _fill, value, fills=True)


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    """Copy the values of `src` (broadcast, cast to self's dtype) into self, in place."""
    if _direct_write.write(self, "copy_", (src,), {}):
        return self
    return run_in_place(self, _copy, src, cast=True)


# Direct writes (Note [Direct in-place writes], _direct_write.py): the values the forwards
# above give, written into the target's array.


@_direct_write.direct_writer("zero_")
def _zero_into(data: np.ndarray):
    data.fill(0)


@_direct_write.direct_writer("fill_")
def _fill_into(data: np.ndarray, value):
    """A number data's dtype holds (float into a floating tensor, an int that fits an integer one);
    cast as `np.full_like` casts it."""
    if not _holds(data.dtype, value):
        return NotImplemented
    np.copyto(data, value, casting="unsafe")
    return None


def _holds(dtype: np.dtype, value) -> bool:
    if type(value) is float:
        return dtype.kind == "f"
    if type(value) is not int:
        return False
    if dtype.kind == "f":
        return abs(value) < 2**63
    limits = np.iinfo(dtype) if dtype.kind in "iu" else None
    return limits is not None and limits.min <= value <= limits.max


@_direct_write.direct_writer("copy_")
def _copy_into(data: np.ndarray, src):
    """A tensor of a real dtype whose shape broadcasts to data's, cast as `astype` casts it
    (a tensor copied into itself goes the general way, which writes nothing)."""
    if not isinstance(src, Tensor):
        return NotImplemented
    source = src._data
    if source is data or type(source) is not np.ndarray or source.dtype.kind not in "fiub" or \
            not _direct_write.broadcasts_to(source.shape, data.shape):
        return NotImplemented
    np.copyto(data, source, casting="unsafe")
    return None


zero_ = register("zero_", methods="zero_", mutates_input=True,
                 torch_name="zero_")(zero_)
fill_ = register("fill_", methods="fill_", mutates_input=True)(fill_)
copy_ = register("copy_", methods="copy_", mutates_input=True)(copy_)


@register()
def fill(input, value):
    """A new tensor of input's shape and dtype holding `value` (a number or a 0-d tensor):
    fill_ out of place (FillBackward0 / FillBackward1)."""
    return _fill(input, value, (FillBackward0, FillBackward1))
