"""Elementwise operators, arithmetic and powers: add, sub, mul, div (and its rounding modes),
remainder, fmod, pow and friends."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ... import _dtype
from ..._scaled_update import combine_scaled_into
from ..._tensor import Tensor
from .. import _math
from .._direct_write import direct_writer, plain_number
from .._formula import Formula
from .._table import apply, register, register_method
from .._tangents import ELEMENT_WISE
from .promotion import (
    _floating,
    _unary_input,
    check_operand,
    floating_input,
    integral_coefficient,
    operand_arrays,
    same_dtype_operand,
)

# ---------------------------------------------------------------------------
# Arithmetic


class AddBackward0(Formula):
    inputs = ("self", "other")
    array_kernel = staticmethod(np.add)

    @staticmethod
    def forward(self, other, alpha=1):
        a, b = operand_arrays(self, other, "add")
        return AddBackward0.array_kernel(a, b) if alpha == 1 else a + alpha * b

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad: grad,
        "other": lambda grad, alpha: grad if alpha == 1 else grad * alpha,
    }


@register(methods=("add", "__add__", "__radd__"), inplace="add_", direct=AddBackward0)
def add(input, other, *, alpha=1):
    """input + alpha * other, with broadcasting."""
    if alpha == 1:  # (the common case: no parameter for the node to keep)
        return apply(AddBackward0, input, other)
    alpha = integral_coefficient(alpha, (input, other), "alpha", refuse=True)
    return apply(AddBackward0, input, other, alpha=alpha)


def _write_scaled(combine: np.ufunc, data: np.ndarray, other, alpha):
    """`data = combine(data, alpha * other)` as add and sub compute it, written into `data`
    (Note [Scaled updates by blocks], _scaled_update.py); NotImplemented, before anything is
    written, where the general path decides: an alpha that would promote, or any alpha for
    integers."""
    operand = same_dtype_operand(data, other)
    if operand is None or not plain_number(alpha):
        return NotImplemented
    if alpha == 1:
        combine(data, operand, out=data)
    elif data.dtype.kind == "f":
        combine_scaled_into(combine, data, operand, alpha)
    else:
        return NotImplemented
    return None


@direct_writer("add_")
def _add_into(data: np.ndarray, other, *, alpha=1):
    return _write_scaled(np.add, data, other, alpha)


def _is_bool(operand) -> bool:
    return isinstance(operand, bool) or (isinstance(operand, Tensor) and operand._data.dtype.kind == "b")


def _check_no_bool_subtraction(first, second) -> None:
    """PyTorch refuses a bool tensor (or a Python bool, which it wraps as one) on either side of a
    subtraction."""
    first_bool, second_bool = _is_bool(first), _is_bool(second)
    if first_bool and second_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
            "`^` or `logical_xor()` operator instead."
        )
    if first_bool or second_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )


class SubBackward0(Formula):
    inputs = ("self", "other")
    array_kernel = staticmethod(np.subtract)

    @staticmethod
    def forward(self, other, alpha=1):
        _check_no_bool_subtraction(self, other)
        a, b = operand_arrays(self, other, "sub")
        return SubBackward0.array_kernel(a, b) if alpha == 1 else a - alpha * b

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad: grad,
        "other": lambda grad, alpha: -grad if alpha == 1 else grad * -alpha,
    }


@register(methods=("sub", "__sub__"), inplace="sub_", direct=SubBackward0)
def sub(input, other, *, alpha=1):
    """input - alpha * other, with broadcasting."""
    if alpha == 1:  # (the common case: no parameter for the node to keep)
        return apply(SubBackward0, input, other)
    alpha = integral_coefficient(alpha, (input, other), "alpha", refuse=True)
    return apply(SubBackward0, input, other, alpha=alpha)


@direct_writer("sub_")
def _sub_into(data: np.ndarray, other, *, alpha=1):
    if data.dtype.kind == "b" or type(other) is bool:  # (refused: _check_no_bool_subtraction)
        return NotImplemented
    return _write_scaled(np.subtract, data, other, alpha)


subtract = sub
register_method("subtract", sub)


def _reflected_difference(self, other, alpha=1):
    _check_no_bool_subtraction(self, other)
    a, b = operand_arrays(self, other, "rsub")
    return b - a if alpha == 1 else b - alpha * a


class RsubBackward0(Formula):
    """other - alpha * input for two tensors."""

    inputs = ("self", "other")
    forward = staticmethod(_reflected_difference)
    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, alpha: -grad if alpha == 1 else grad * -alpha,
        "other": lambda grad: grad,
    }


class RsubBackward1(Formula):
    """number - alpha * input: the number is a parameter, not an input."""

    inputs = ("self",)
    forward = staticmethod(_reflected_difference)
    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, alpha: -grad if alpha == 1 else grad * -alpha}


@register(methods="__rsub__", direct=RsubBackward1, direct_if="a number second",
          direct_params=("other", "alpha"))
def rsub(input, other, *, alpha=1):
    """other - alpha * input (what `number - tensor` computes)."""
    if isinstance(other, Tensor):
        return apply(RsubBackward0, input, other, alpha=alpha)
    check_operand(other, "rsub", 2, "other")
    return apply(RsubBackward1, input, other=other, alpha=alpha)


class MulBackward0(Formula):
    inputs = ("self", "other")
    array_kernel = staticmethod(np.multiply)

    @staticmethod
    def forward(self, other):
        return MulBackward0.array_kernel(*operand_arrays(self, other, "mul"))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, other: grad * other,
        "other": lambda grad, self: grad * self,
    }


@register(methods=("mul", "__mul__", "__rmul__"), inplace="mul_", direct=MulBackward0)
def mul(input, other):
    """input * other, elementwise with broadcasting."""
    return apply(MulBackward0, input, other)


@direct_writer("mul_")
def _mul_into(data: np.ndarray, other):
    operand = same_dtype_operand(data, other)
    if operand is None:
        return NotImplemented
    np.multiply(data, operand, out=data)


multiply = mul
register_method("multiply", mul)


class DivBackward0(Formula):
    inputs = ("self", "other")
    array_kernel = staticmethod(np.true_divide)

    @staticmethod
    def forward(self, other):
        a, b = operand_arrays(self, other, "div")
        return DivBackward0.array_kernel(_floating(a), _floating(b))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, other: grad / other,
        "other": lambda grad, self, other: -grad * self / other / other,
    }


class DivBackward2(Formula):
    """Rounded division (`rounding_mode` 'trunc' or 'floor'): a step function, gradient 0.

    The formulas read what PyTorch's read (its node shares them with true division), so the
    node keeps `other` for the gradient of `self`, and `self` and `other` for that of `other`,
    as PyTorch's does: changing one in place before backward is the error PyTorch raises.
    """

    inputs = ("self", "other")

    @staticmethod
    def forward(self, other, rounding_mode):
        a, b = operand_arrays(self, other, "div")
        return _rounded_quotient(a, b, rounding_mode)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, other, rounding_mode: _math.zeros_like(grad),
        "other": lambda grad, self, other, rounding_mode: _math.zeros_like(grad),
    }


def _check_integer_divisor(divisor, kernel_name: str) -> None:
    """PyTorch's refusals for integer division: by zero, and of bools."""
    kind = np.asarray(divisor).dtype.kind
    if kind == "b":
        raise NotImplementedError(f'"{kernel_name}_cpu" not implemented for \'Bool\'')
    if kind in "iu" and not np.all(divisor):
        raise RuntimeError("ZeroDivisionError")


def _rounded_quotient(a, b, rounding_mode: str) -> np.ndarray:
    """a / b rounded toward zero ('trunc') or down ('floor'), in the promoted dtype."""
    _check_integer_divisor(b, "div_floor" if rounding_mode == "floor" else "div_trunc")
    if rounding_mode == "floor":
        return np.floor_divide(a, b)
    if np.result_type(a, b).kind in "fc":
        return np.trunc(np.true_divide(a, b))
    quotient = np.floor_divide(a, b)
    inexact = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
    return quotient + inexact.astype(quotient.dtype)


_ROUNDING_MODES = (None, "trunc", "floor")


@register(
    methods=("div", "divide", "true_divide", "__truediv__"),
    inplace="div_",
    direct=DivBackward0,
)
def div(input, other, *, rounding_mode=None):
    """input / other: true division (integers give floats), or rounded with `rounding_mode`."""
    if rounding_mode not in _ROUNDING_MODES:
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    if rounding_mode is None:
        return apply(DivBackward0, input, other)
    return apply(DivBackward2, input, other, rounding_mode=rounding_mode)


divide = true_divide = div


@direct_writer("div_")
def _div_into(data: np.ndarray, other, *, rounding_mode=None):
    operand = same_dtype_operand(data, other)
    if operand is None or rounding_mode is not None or data.dtype.kind != "f":
        return NotImplemented
    np.true_divide(data, operand, out=data)


def _reflected_div(self, other):
    """`number / tensor`: the reciprocal times the number, as PyTorch records it."""
    return mul(reciprocal(self), other)


register_method("__rtruediv__", _reflected_div)

# `x += y` and friends write into x, as in PyTorch (they are the in-place methods).
register_method("__iadd__", lambda self, other: self.add_(other))
register_method("__isub__", lambda self, other: self.sub_(other))
register_method("__imul__", lambda self, other: self.mul_(other))
register_method("__itruediv__", lambda self, other: self.div_(other))
register_method("__ifloordiv__", lambda self, other: self.floor_divide_(other))
register_method("__imod__", lambda self, other: self.remainder_(other))
register_method("__ipow__", lambda self, other: self.pow_(other))


class NegBackward0(Formula):
    @staticmethod
    def forward(self):
        data = _unary_input(self, "neg")
        if data.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return -data

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: -grad}


@register(methods=("neg", "negative", "__neg__"), inplace="neg_", direct=NegBackward0)
def neg(input):
    """-input."""
    return apply(NegBackward0, input)


negative = neg


def positive(input):
    """+input: the tensor itself (PyTorch refuses it for bool tensors)."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


register_method("positive", positive)
register_method("__pos__", positive)


class ReciprocalBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.reciprocal(floating_input(self, "reciprocal"))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: -grad * result * result}


@register(methods="reciprocal", inplace="reciprocal_")
def reciprocal(input):
    """1 / input."""
    return apply(ReciprocalBackward0, input)


# ---------------------------------------------------------------------------
# Powers


def _power_dtype_check(base: np.ndarray, exponent) -> None:
    if base.dtype.kind in "iub" and isinstance(exponent, numbers.Integral) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _gradient_of_power(grad, self, exponent):
    """d(x ** c)/dx applied to `grad`, for a number c, as PyTorch computes it: zeros for c = 0
    (even at x = 0), else grad * (c * x ** (c - 1)) with c a float, multiplied in that order
    (so the same bits as PyTorch's: `(grad * c) * x ** (c - 1)` rounds otherwise), and
    recorded as PyTorch records it with create_graph (PowBackward0 with the exponent c - 1.0,
    the product by c, then by grad)."""
    if exponent == 0:
        return _math.zeros_like(grad)
    if not isinstance(exponent, complex):
        exponent = float(exponent)
    if isinstance(self, Tensor):  # (pow's own call, less the checks a float exponent passes)
        return grad * (exponent * apply(PowBackward0, self, exponent=exponent - 1))
    return grad * (exponent * _math.scalar_power(self, exponent - 1))


class PowBackward0(Formula):
    """x ** c for a number c: d/dx = c * x ** (c - 1), and 0 where c = 0 (even at x = 0)."""

    @staticmethod
    def forward(self, exponent):
        base, power = operand_arrays(self, exponent, "pow")
        _power_dtype_check(base, exponent)
        return _math.power_kernel(base, power, exponent)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, exponent: _gradient_of_power(grad, self, exponent)}


class PowBackward1(Formula):
    """x ** y for tensors: d/dx = y * x ** (y - 1), d/dy = x ** y * log(x) (0 where x = 0, y >= 0)."""

    inputs = ("self", "exponent")

    @staticmethod
    def forward(self, exponent):
        base, power = operand_arrays(self, exponent, "pow")
        return _power(base, power)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, exponent: _math.where(
            exponent == 0, 0.0, grad * exponent * self ** (exponent - 1)),
        "exponent": lambda grad, self, exponent, result: _math.where(
            (self == 0) & (exponent >= 0), 0.0, grad * result * _math.log(self)),
    }


class PowBackward2(Formula):
    """c ** y for a number c: d/dy = c ** y * log(c) (0 where c = 0 and y >= 0, as PyTorch)."""

    inputs = ("exponent",)

    @staticmethod
    def forward(exponent, self):
        power, number = operand_arrays(exponent, self, "pow")
        return _power(number, power)

    tangent = ELEMENT_WISE
    derivatives = {
        "exponent": lambda grad, self, exponent, result: _math.where(
            exponent >= 0, 0.0, grad * result * -math.inf) if self == 0
        else grad * result * float(np.log(self)),
    }


def _power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """base ** exponent; for integers a negative exponent gives 1 / base**|exponent| truncated
    (1 for base 1, +-1 for base -1, else 0), as PyTorch, where NumPy would refuse."""
    if base.dtype.kind == "b" and np.asarray(exponent).dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if base.dtype.kind == "f":
        return _math.float32_in_float64(np.power, base, exponent)
    if base.dtype.kind not in "iu" or not np.any(np.asarray(exponent) < 0):
        return np.power(base, exponent)
    negative = exponent < 0
    result = np.power(base, np.where(negative, 0, exponent))
    odd = np.remainder(exponent, 2) == 1
    inverse = np.where(base == 1, 1, np.where(base == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, inverse, result).astype(result.dtype)


def where_constant(mask: np.ndarray, value: float, x: Tensor) -> Tensor:
    """x with `value` where `mask` holds; differentiable in x (the masked places get 0)."""
    keep = Tensor._make((~mask).astype(x._data.dtype))
    fill = Tensor._make((mask * value).astype(x._data.dtype))
    return x * keep + fill


@register(methods=("pow", "__pow__"), inplace="pow_")
def pow(input, exponent):
    """input ** exponent; either may be a number."""
    if not isinstance(input, Tensor):
        check_operand(input, "pow", 1, "self")
        return apply(PowBackward2, exponent, self=input)
    if isinstance(exponent, Tensor):
        return apply(PowBackward1, input, exponent)
    check_operand(exponent, "pow", 2, "exponent")
    return apply(PowBackward0, input, exponent=exponent)


def _reflected_pow(self, other):
    if not isinstance(other, numbers.Number):
        return NotImplemented
    return apply(PowBackward2, self, self=other)


register_method("__rpow__", _reflected_pow)


class SqrtBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.sqrt(floating_input(self, "sqrt"))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad / (2 * result)}


@register(methods="sqrt", inplace="sqrt_", direct=SqrtBackward0)
def sqrt(input):
    """The square root of each element."""
    return apply(SqrtBackward0, input)


@direct_writer("sqrt_")
def _sqrt_into(data: np.ndarray):
    if data.dtype.kind != "f":
        return NotImplemented
    np.sqrt(data, out=data)
