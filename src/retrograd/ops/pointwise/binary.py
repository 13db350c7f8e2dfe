"""Elementwise operators with two inputs: maxima and minima, atan2, hypot, copysign and the
other two-input ops."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._table import apply, register, register_method, run_in_place
from .._tangents import ELEMENT_WISE
from .arithmetic import _check_integer_divisor, _rounded_quotient
from .promotion import _floating, check_operand, floating_operand_arrays, operand_arrays

# ---------------------------------------------------------------------------
# Two-input elementwise ops


class MaximumBackward0(Formula):
    """max(a, b): the gradient goes to the larger; ties split it in halves (as PyTorch)."""

    inputs = ("self", "other")
    pick = staticmethod(np.maximum)
    op_name = "maximum"

    @classmethod
    def forward(cls, self, other):
        left, right = operand_arrays(self, other, cls.op_name)
        return cls.pick(left, right)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _math.where(
            self < other, 0.0, _math.where(self == other, grad / 2, grad)),
        "other": lambda grad, self, other: _math.where(
            self > other, 0.0, _math.where(self == other, grad / 2, grad)),
    }


class MinimumBackward0(MaximumBackward0):
    pick = staticmethod(np.minimum)
    op_name = "minimum"
    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _math.where(
            self > other, 0.0, _math.where(self == other, grad / 2, grad)),
        "other": lambda grad, self, other: _math.where(
            self < other, 0.0, _math.where(self == other, grad / 2, grad)),
    }


class FmaxBackward0(MaximumBackward0):
    """Like maximum, but a NaN loses to a number; ties go wholly to the first input."""

    pick = staticmethod(np.fmax)
    op_name = "fmax"
    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _math.where((self >= other) | _math.isnan(other), grad, 0.0),
        "other": lambda grad, self, other: _math.where((self >= other) | _math.isnan(other), 0.0, grad),
    }


class FminBackward0(MaximumBackward0):
    pick = staticmethod(np.fmin)
    op_name = "fmin"
    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _math.where((self <= other) | _math.isnan(other), grad, 0.0),
        "other": lambda grad, self, other: _math.where((self <= other) | _math.isnan(other), 0.0, grad),
    }


def _binary_tensor_op(node_class, name: str, doc: str, inplace: bool = True):
    """Register a two-tensor op with its method and (unless `inplace` is False) `_` variant."""

    def function(input, other):
        if not isinstance(other, Tensor):
            raise TypeError(
                f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"
            )
        return apply(node_class, input, other)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return register(name, methods=name, inplace=f"{name}_" if inplace else None)(function)


maximum = _binary_tensor_op(MaximumBackward0, "maximum", "The larger of the two at each position.")
minimum = _binary_tensor_op(MinimumBackward0, "minimum", "The smaller of the two at each position.")
fmax = _binary_tensor_op(FmaxBackward0, "fmax", "maximum that ignores NaN (NaN only if both are).")
fmin = _binary_tensor_op(FminBackward0, "fmin", "minimum that ignores NaN (NaN only if both are).")


def _atan2_scale(grad, self, other):
    """grad / (self² + other²), and 0 at the origin (as PyTorch)."""
    squared_radius = self * self + other * other
    return _math.where(squared_radius == 0, 0.0, grad / squared_radius)


class Atan2Backward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "atan2")
        return np.arctan2(_floating(left), _floating(right))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _atan2_scale(grad, self, other) * other,
        "other": lambda grad, self, other: _atan2_scale(grad, self, other) * -self,
    }


atan2 = _binary_tensor_op(Atan2Backward0, "atan2", "The angle of the point (other, input), in (-pi, pi].")
arctan2 = atan2
register_method("arctan2", atan2)


class HypotBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        return np.hypot(*floating_operand_arrays(self, other, "hypot"))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, result: grad * self / result,
        "other": lambda grad, other, result: grad * other / result,
    }


hypot = _binary_tensor_op(HypotBackward0, "hypot", "sqrt(input**2 + other**2) without overflow.")


def _summand_share(grad, mine, theirs, base: float):
    """grad times d/d(mine) of log_base(base**mine + base**theirs): grad / (1 + base**(theirs - mine)),
    PyTorch's formula (an Inf arriving stays Inf where the share is positive)."""
    with np.errstate(over="ignore"):
        return grad / (1 + (_math.exp(theirs - mine) if base == math.e else base ** (theirs - mine)))


class LogaddexpBackward0(Formula):
    """log(exp(self) + exp(other)), without overflow."""

    inputs = ("self", "other")
    kernel = staticmethod(np.logaddexp)
    op_name = "logaddexp"

    @classmethod
    def forward(cls, self, other):
        return cls.kernel(*floating_operand_arrays(self, other, cls.op_name))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _summand_share(grad, self, other, math.e),
        "other": lambda grad, self, other: _summand_share(grad, other, self, math.e),
    }


class Logaddexp2Backward0(LogaddexpBackward0):
    """log2(2**self + 2**other), without overflow."""

    kernel = staticmethod(np.logaddexp2)
    op_name = "logaddexp2"
    derivatives = {
        "self": lambda grad, self, other: _summand_share(grad, self, other, 2.0),
        "other": lambda grad, self, other: _summand_share(grad, other, self, 2.0),
    }


logaddexp = _binary_tensor_op(LogaddexpBackward0, "logaddexp",
                             "log(exp(input) + exp(other)), computed without overflow.", inplace=False)
logaddexp2 = _binary_tensor_op(Logaddexp2Backward0, "logaddexp2",
                              "log2(2**input + 2**other), computed without overflow.", inplace=False)


def _copysign_derivative(grad, self, result):
    """grad * result / self, and 0 where self is 0 (PyTorch's copysign_tensor_self_backward)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = result / self
    return grad * _math.where(self == 0, 0.0, ratio)


def _copysign_arrays(self, other) -> np.ndarray:
    left, right = operand_arrays(self, other, "copysign")
    left = _floating(left)
    return np.copysign(left, right, dtype=left.dtype)


class CopysignBackward0(Formula):
    """The magnitude of self with the sign of other; other's gradient is zero."""

    inputs = ("self", "other")
    forward = staticmethod(_copysign_arrays)
    tangent = ELEMENT_WISE
    derivatives = {"self": _copysign_derivative, "other": lambda grad: _math.zeros_like(grad)}


class CopysignBackward1(Formula):
    """The magnitude of self with the sign of a number."""

    forward = staticmethod(_copysign_arrays)
    tangent = ELEMENT_WISE
    derivatives = {"self": _copysign_derivative}


@register(methods="copysign", inplace="copysign_")
def copysign(input, other):
    """The magnitude of input with the sign of other (-0.0 counts as negative)."""
    if isinstance(other, Tensor):
        return apply(CopysignBackward0, input, other)
    return apply(CopysignBackward1, input, other=other)


def _xlogy_arrays(self, other):
    """self * log(other) for tensors (or one number); integers made float."""
    x, y = (_floating(array) for array in operand_arrays(self, other, "xlogy"))
    return _xlogy_kernel(x, y)


def _xlogy_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y), 0 where x is 0 (unless y is NaN), for float arrays of one dtype."""
    product = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), product.dtype.type(0), product)


def _xlogy_derivative_in_self(grad, self, other):
    """xlogy(grad, other), selected to 0 where self is 0 and other is not positive (for a
    number other, NaN counts as not positive; for a tensor it does not), as PyTorch."""
    if isinstance(grad, Tensor):
        factor = xlogy(grad, other)
    else:
        factor = _xlogy_kernel(grad, np.asarray(other).astype(grad.dtype, copy=False))
    if isinstance(other, numbers.Number):
        return factor if other > 0 else _math.where(self == 0, 0.0, factor)
    return _math.where((self == 0) & (other <= 0), 0.0, factor)


class XlogyBackward0(Formula):
    """self * log(other) for tensors, 0 where self is 0."""

    inputs = ("self", "other")
    forward = staticmethod(_xlogy_arrays)
    tangent = ELEMENT_WISE
    derivatives = {
        "self": _xlogy_derivative_in_self,
        "other": lambda grad, self, other: grad * self / other,
    }


class XlogyBackward1(Formula):
    """A number times log(other)."""

    inputs = ("other",)
    tangent = ELEMENT_WISE
    derivatives = {"other": lambda grad, self, other: grad * self / other}

    @staticmethod
    def forward(other, self):
        return _xlogy_arrays(self, other)


class XlogyBackward2(Formula):
    """self * log of a number."""

    forward = staticmethod(_xlogy_arrays)
    tangent = ELEMENT_WISE
    derivatives = {"self": _xlogy_derivative_in_self}


@register(methods="xlogy", inplace="xlogy_")
def xlogy(input, other):
    """input * log(other), and 0 where input is 0 (unless other is NaN)."""
    if not isinstance(input, Tensor):
        check_operand(input, "xlogy", 1, "self")
        return apply(XlogyBackward1, other, self=input)
    if isinstance(other, Tensor):
        return apply(XlogyBackward0, input, other)
    check_operand(other, "xlogy", 2, "other")
    return apply(XlogyBackward2, input, other=other)


class RemainderBackward0(Formula):
    """input mod a number (the sign of the divisor, as Python's %): gradient 1."""

    op_name = "remainder"
    kernel = staticmethod(np.remainder)

    @classmethod
    def forward(cls, self, other):
        left, right = operand_arrays(self, other, cls.op_name)
        _check_integer_divisor(right, cls.op_name)
        return cls.kernel(left, right)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: grad}


class RemainderBackward1(RemainderBackward0):
    """input mod other for tensors (the same kernel): d/d other = -floor(input / other)."""

    inputs = ("self", "other")
    derivatives = {
        "self": lambda grad: grad,
        "other": lambda grad, self, other: -grad * _math.rounded_quotient(self, other, "floor"),
    }


class FmodBackward0(RemainderBackward0):
    """input mod a number with the sign of the dividend (C's fmod): gradient 1."""

    tangent = ELEMENT_WISE
    op_name = "fmod"
    kernel = staticmethod(np.fmod)


class FmodBackward1(RemainderBackward1):
    """fmod for tensors: d/d other = -trunc(input / other)."""

    op_name = "fmod"
    kernel = staticmethod(np.fmod)
    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad: grad,
        "other": lambda grad, self, other: -grad * _math.rounded_quotient(self, other, "trunc"),
    }


@register(methods=("remainder", "__mod__"), inplace="remainder_")
def remainder(input, other):
    """input - floor(input / other) * other: the result has the divisor's sign (Python's %)."""
    if not isinstance(input, Tensor):
        check_operand(input, "remainder", 1, "self")
        input = Tensor._make(np.asarray(input, dtype=_dtype.result_type(input, other).numpy))
    if isinstance(other, Tensor):
        return apply(RemainderBackward1, input, other)
    check_operand(other, "remainder", 2, "other")
    return apply(RemainderBackward0, input, other=other)


@register(methods="fmod", inplace="fmod_")
def fmod(input, other):
    """input - trunc(input / other) * other: the result has the dividend's sign (C's fmod)."""
    if isinstance(other, Tensor):
        return apply(FmodBackward1, input, other)
    check_operand(other, "fmod", 2, "other")
    return apply(FmodBackward0, input, other=other)


def _reflected_mod(self, other):
    if not isinstance(other, numbers.Number):
        return NotImplemented
    return remainder(other, self)


register_method("__rmod__", _reflected_mod)


@register(methods=("floor_divide", "__floordiv__"), inplace="floor_divide_", differentiable=False)
def floor_divide(input, other):
    """floor(input / other), in the promoted dtype; not differentiable (as in PyTorch)."""
    a, b = operand_arrays(input, other, "floor_divide")
    return Tensor._make(np.asarray(_rounded_quotient(a, b, "floor")))


def _reflected_floor_divide(self, other):
    if not isinstance(other, numbers.Number):
        return NotImplemented
    a, b = operand_arrays(other, self, "floor_divide")
    return Tensor._make(np.asarray(_rounded_quotient(a, b, "floor")))


register_method("__rfloordiv__", _reflected_floor_divide)


@register(methods="float_power")
def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is always float64)."""
    if isinstance(input, Tensor):
        input = input.to(_dtype.float64)
    else:
        input = float(input)
    if isinstance(exponent, Tensor):
        exponent = exponent.to(_dtype.float64)
    elif isinstance(exponent, numbers.Number):
        exponent = float(exponent)
    return pow(input, exponent)


def _float_power_in_place(self, exponent):
    """In-place float_power: only a float64 tensor can hold the result."""
    if self.dtype is not _dtype.float64:
        raise RuntimeError(
            f"the base given to float_power_ has dtype {_dtype.scalar_type_name(self.dtype)} but "
            "the operation's result requires dtype Double"
        )
    return run_in_place(self, float_power, exponent)


register_method("float_power_", _float_power_in_place)
