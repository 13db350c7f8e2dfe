"""Elementwise operators: arithmetic, rounding division, powers, exponentials, logarithms,
trigonometry, the error function, rounding, clamping, maxima, interpolation and selection
by a mask (where, masked_fill).

Each op is a node class (its forward on arrays, its backward as tensor operations, named
as PyTorch names the grad_fn) and a registered function. Broadcast gradients are summed
back to each input's shape by the engine (see engine._fit_to_inputs), not here.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from . import _math, _samples
from ._formula import Formula
from ._table import apply, register, run_in_place
from ._tangents import ELEMENT_WISE, LINEAR, LinearWith

__all__ = [
    "abs",
    "absolute",
    "acos",
    "acosh",
    "add",
    "addcdiv",
    "addcmul",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "cos",
    "cosh",
    "div",
    "divide",
    "erf",
    "erfc",
    "erfinv",
    "exp",
    "exp2",
    "expm1",
    "fix",
    "float_power",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "frac",
    "hypot",
    "lerp",
    "log",
    "log1p",
    "log2",
    "log10",
    "logit",
    "masked_fill",
    "maximum",
    "minimum",
    "mul",
    "multiply",
    "nan_to_num",
    "neg",
    "negative",
    "positive",
    "pow",
    "reciprocal",
    "remainder",
    "round",
    "rsqrt",
    "rsub",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "sub",
    "subtract",
    "tan",
    "tanh",
    "true_divide",
    "trunc",
    "where",
]


# ---------------------------------------------------------------------------
# Operands and promotion


def check_operand(value, op_name: str, position: int, argument: str) -> None:
    """TypeError, with PyTorch's wording, for an operand that is neither tensor nor number."""
    if not isinstance(value, Tensor | numbers.Number):
        raise TypeError(
            f"{op_name}(): argument '{argument}' (position {position}) must be Tensor, not "
            f"{type(value).__name__}"
        )


def integral_coefficient(value, tensors, name: str, *, refuse: bool = False):
    """A scalar coefficient (alpha, beta, value) as PyTorch reads it for integer operands: a
    float one is refused (add, sub, addr) or truncated to an integer (addmm, addcmul, ...)."""
    if type(value) is not float or not all(
        isinstance(t, Tensor) and t._data.dtype.kind in "iu" for t in tensors
    ):
        return value
    if refuse:
        raise RuntimeError(
            f"For integral input tensors, argument {name} must not be a floating point number."
        )
    return int(value)


# The tensor kinds a Python number leaves unchanged: a fast path for the cases where
# _dtype.result_type(tensor, number) is the tensor's own dtype (the number's category is not
# higher); every other mix goes through result_type itself.
_KEEPS_KIND = {float: "f", int: "fiu", bool: "fiub"}


def operand_arrays(a, b, op_name: str):
    """The two operands as arrays (or NumPy scalars) of their promoted dtype."""
    if isinstance(a, Tensor):
        # Fast paths for the common cases, where no promotion is needed.
        a_data = a._data
        if isinstance(b, Tensor):
            b_data = b._data
            if a_data.dtype == b_data.dtype:
                if a_data.shape != b_data.shape:
                    _check_broadcast(a_data.shape, b_data.shape)
                return a_data, b_data
        elif a_data.dtype.kind in _KEEPS_KIND.get(type(b), ""):
            try:
                return a_data, a_data.dtype.type(b)
            except OverflowError:
                return a_data, wrapped_integer(b, a_data.dtype)
    check_operand(a, op_name, 1, "input")
    check_operand(b, op_name, 2, "other")
    a_data = a._data if isinstance(a, Tensor) else a
    b_data = b._data if isinstance(b, Tensor) else b
    target = _dtype.result_type(a, b).numpy
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        _check_broadcast(a_data.shape, b_data.shape)
    return _as_dtype(a_data, target), _as_dtype(b_data, target)


def _as_dtype(value, target: np.dtype):
    if isinstance(value, np.ndarray):
        return value if value.dtype == target else value.astype(target)
    try:
        return np.asarray(value, dtype=target)
    except OverflowError:
        return np.asarray(wrapped_integer(value, target), dtype=target)


def wrapped_integer(value: int, target: np.dtype):
    """A Python integer in an integer dtype it does not fit, wrapped as PyTorch's C++ cast wraps
    it (two's complement): int8 + 200 adds -56, as `tensor([1], dtype=int8) + 200` is [-55]."""
    bits = 8 * target.itemsize
    value = int(value) % (1 << bits)
    if target.kind == "i" and value >= 1 << (bits - 1):
        value -= 1 << bits
    return target.type(value)


def _check_broadcast(left: tuple, right: tuple) -> None:
    if left == right:
        return
    for index in range(1, min(len(left), len(right)) + 1):
        a, b = left[-index], right[-index]
        if a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                f"non-singleton dimension {max(len(left), len(right)) - index}"
            )


def _floating(array: np.ndarray) -> np.ndarray:
    """Integer and bool arrays become the default float dtype (true division, roots, ...)."""
    array = np.asarray(array)
    if array.dtype.kind in "fc":
        return array
    return array.astype(_dtype.get_default_dtype().numpy)


def _unary_input(x, op_name: str) -> np.ndarray:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    return x._data


# ---------------------------------------------------------------------------
# Arithmetic


class AddBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other, alpha=1):
        a, b = operand_arrays(self, other, "add")
        return a + b if alpha == 1 else a + alpha * b

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad: grad,
        "other": lambda grad, alpha: grad if alpha == 1 else grad * alpha,
    }


@register(methods=("add", "__add__", "__radd__"), inplace="add_",
          samples=_samples.binary(options=({"alpha": 2.5},)))
def add(input, other, *, alpha=1):
    """input + alpha * other, with broadcasting."""
    if alpha != 1:
        alpha = integral_coefficient(alpha, (input, other), "alpha", refuse=True)
    return apply(AddBackward0, input, other, alpha=alpha)


class SubBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other, alpha=1):
        a, b = operand_arrays(self, other, "sub")
        if a.dtype.kind == "b":
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                "`^` or `logical_xor()` operator instead."
            )
        return a - b if alpha == 1 else a - alpha * b

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad: grad,
        "other": lambda grad, alpha: -grad if alpha == 1 else grad * -alpha,
    }


@register(methods=("sub", "__sub__"), inplace="sub_", samples=_samples.binary(options=({"alpha": 2.5},)))
def sub(input, other, *, alpha=1):
    """input - alpha * other, with broadcasting."""
    if alpha != 1:
        alpha = integral_coefficient(alpha, (input, other), "alpha", refuse=True)
    return apply(SubBackward0, input, other, alpha=alpha)


subtract = sub
Tensor.subtract = sub


def _reflected_difference(self, other, alpha=1):
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


@register(methods="__rsub__", samples=_samples.binary(options=({"alpha": 2.5},)))
def rsub(input, other, *, alpha=1):
    """other - alpha * input (what `number - tensor` computes)."""
    if isinstance(other, Tensor):
        return apply(RsubBackward0, input, other, alpha=alpha)
    check_operand(other, "rsub", 2, "other")
    return apply(RsubBackward1, input, other=other, alpha=alpha)


class MulBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        a, b = operand_arrays(self, other, "mul")
        return a * b

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, other: grad * other,
        "other": lambda grad, self: grad * self,
    }


@register(methods=("mul", "__mul__", "__rmul__"), inplace="mul_", samples=_samples.binary())
def mul(input, other):
    """input * other, elementwise with broadcasting."""
    return apply(MulBackward0, input, other)


multiply = mul
Tensor.multiply = mul


class DivBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        a, b = operand_arrays(self, other, "div")
        return np.true_divide(_floating(a), _floating(b))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, other: grad / other,
        "other": lambda grad, self, other: -grad * self / other / other,
    }


class DivBackward2(Formula):
    """Rounded division (`rounding_mode` 'trunc' or 'floor'): a step function, gradient 0."""

    inputs = ("self", "other")

    @staticmethod
    def forward(self, other, rounding_mode):
        a, b = operand_arrays(self, other, "div")
        return _rounded_quotient(a, b, rounding_mode)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: _math.zeros_like(grad), "other": lambda grad: _math.zeros_like(grad)}


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


def _div_samples(rng):
    cases = _samples.binary(low=0.5, high=2.0)(rng)
    x, y = _samples.make(rng, (2, 3), 0.5, 2.0), _samples.make(rng, (2, 3), 0.5, 2.0)
    cases += [((x, y), {"rounding_mode": "trunc"}), ((x, y), {"rounding_mode": "floor"})]
    return cases


@register(
    methods=("div", "divide", "true_divide", "__truediv__"),
    inplace="div_",
    samples=_div_samples,
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


def _reflected_div(self, other):
    """`number / tensor`: the reciprocal times the number, as PyTorch records it."""
    return mul(reciprocal(self), other)


Tensor.__rtruediv__ = _reflected_div

# `x += y` and friends write into x, as in PyTorch (they are the in-place methods).
Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.__ifloordiv__ = lambda self, other: self.floor_divide_(other)
Tensor.__imod__ = lambda self, other: self.remainder_(other)
Tensor.__ipow__ = lambda self, other: self.pow_(other)


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


@register(methods=("neg", "negative", "__neg__"), inplace="neg_", samples=_samples.unary())
def neg(input):
    """-input."""
    return apply(NegBackward0, input)


negative = neg


def positive(input):
    """+input: the tensor itself (PyTorch refuses it for bool tensors)."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


Tensor.positive = Tensor.__pos__ = positive


class ReciprocalBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.reciprocal(_floating(_unary_input(self, "reciprocal")))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: -grad * result * result}


@register(methods="reciprocal", inplace="reciprocal_", samples=_samples.unary(0.5, 2.0))
def reciprocal(input):
    """1 / input."""
    return apply(ReciprocalBackward0, input)


# ---------------------------------------------------------------------------
# Powers


def _power_dtype_check(base: np.ndarray, exponent) -> None:
    if base.dtype.kind in "iub" and isinstance(exponent, numbers.Integral) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


class PowBackward0(Formula):
    """x ** c for a number c: d/dx = c * x ** (c - 1), and 0 where c = 0 (even at x = 0)."""

    @staticmethod
    def forward(self, exponent):
        base, power = operand_arrays(self, exponent, "pow")
        _power_dtype_check(base, exponent)
        return _scalar_power(base, power, exponent)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, exponent: _math.zeros_like(grad) if exponent == 0
        else grad * exponent * self ** (exponent - 1),
    }


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
    """c ** y for a number c: d/dy = c ** y * log(c)."""

    inputs = ("exponent",)

    @staticmethod
    def forward(exponent, self):
        power, number = operand_arrays(exponent, self, "pow")
        return _power(number, power)

    tangent = ELEMENT_WISE
    derivatives = {
        "exponent": lambda grad, self, result: _math.zeros_like(grad) if self == 0
        else grad * result * float(np.log(self)),
    }


def _scalar_power(base: np.ndarray, power, exponent) -> np.ndarray:
    """base ** exponent for a number, computed as PyTorch's CPU kernel computes it where that
    is a known formula, so float32 results are the same bits: multiplication for 2, 3 and -2,
    a division for -1, sqrt and 1 / sqrt for 0.5 and -0.5 (also much faster than np.power).
    Other exponents: in float64, rounded to float32, which agrees with PyTorch's own pow kernel
    far more often than NumPy's float32 pow (see docs/float32_bits.md)."""
    if base.dtype.kind != "f":
        return np.power(base, power)
    if exponent == 2:
        return base * base
    if exponent == 3:
        return base * base * base
    if exponent == -1:
        return 1 / base
    if exponent == -2:
        return 1 / (base * base)
    if exponent == 0.5:
        return np.sqrt(base)
    if exponent == -0.5:
        return 1 / np.sqrt(base)
    return _float32_in_float64(np.power, base, power)


def _float32_in_float64(kernel, base: np.ndarray, exponent) -> np.ndarray:
    """kernel(base, exponent), for float32 (and float16) computed in float64 and rounded."""
    if base.dtype.itemsize >= 8:
        return kernel(base, exponent)
    wide = kernel(base.astype(np.float64), np.asarray(exponent, np.float64))
    return wide.astype(base.dtype)


def _power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """base ** exponent; for integers a negative exponent gives 1 / base**|exponent| truncated
    (1 for base 1, +-1 for base -1, else 0), as PyTorch, where NumPy would refuse."""
    if base.dtype.kind == "b" and np.asarray(exponent).dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if base.dtype.kind == "f":
        return _float32_in_float64(np.power, base, exponent)
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


def _pow_samples(rng):
    x = _samples.make(rng, (2, 3), 0.5, 2.0)
    return [
        ((x, 2), {}),
        ((x, 0.5), {}),
        ((x, -1.5), {}),
        ((_samples.make(rng, (), 0.5, 2.0), 3), {}),
        ((x, _samples.make(rng, (2, 3), -1.0, 1.0)), {}),
        ((x, _samples.make(rng, (3,), -1.0, 1.0)), {}),
        ((2.0, x), {}),
    ]


@register(methods=("pow", "__pow__"), inplace="pow_", samples=_pow_samples)
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


Tensor.__rpow__ = _reflected_pow


class SqrtBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.sqrt(_floating(_unary_input(self, "sqrt")))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad / (2 * result)}


@register(methods="sqrt", inplace="sqrt_", samples=_samples.unary(0.5, 2.0))
def sqrt(input):
    """The square root of each element."""
    return apply(SqrtBackward0, input)


# ---------------------------------------------------------------------------
# Exponentials and logarithms


class ExpBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.exp(_floating(_unary_input(self, "exp")))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * result}


@register(methods="exp", inplace="exp_", samples=_samples.unary())
def exp(input):
    """e raised to each element."""
    return apply(ExpBackward0, input)


class LogBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.log(_floating(_unary_input(self, "log")))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad / self}


@register(methods="log", inplace="log_", samples=_samples.unary(0.5, 2.0))
def log(input):
    """The natural logarithm of each element."""
    return apply(LogBackward0, input)


# ---------------------------------------------------------------------------
# Trigonometry


class SinBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.sin(_floating(_unary_input(self, "sin")))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.cos(self)}


@register(methods="sin", inplace="sin_", samples=_samples.unary())
def sin(input):
    """The sine of each element (radians)."""
    return apply(SinBackward0, input)


class CosBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.cos(_floating(_unary_input(self, "cos")))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * -_math.sin(self)}


@register(methods="cos", inplace="cos_", samples=_samples.unary())
def cos(input):
    """The cosine of each element (radians)."""
    return apply(CosBackward0, input)


class TanBackward0(Formula):
    @staticmethod
    def forward(self):
        return np.tan(_floating(_unary_input(self, "tan")))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * (1 + result * result)}


@register(methods="tan", inplace="tan_", samples=_samples.unary(-1.2, 1.2))
def tan(input):
    """The tangent of each element (radians)."""
    return apply(TanBackward0, input)


# ---------------------------------------------------------------------------
# One-input ops, declared by a node class each
#
# A `_Elementwise` subclass names its NumPy kernel (`compute`), whether integer inputs keep
# their dtype (abs, floor) or become the default float dtype (exp, sin), and declares its
# derivative (see Note [Declared derivatives] in _formula.py).


class _Elementwise(Formula):
    tangent = ELEMENT_WISE
    op_name = ""
    keeps_integers = False
    accepts_bool = True

    @staticmethod
    def compute(data: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def forward(cls, self):
        data = _unary_input(self, cls.op_name)
        if data.dtype.kind == "b" and not cls.accepts_bool:
            raise NotImplementedError(f'"{cls.op_name}_cpu" not implemented for \'Bool\'')
        if not cls.keeps_integers:
            data = _floating(data)
        with np.errstate(all="ignore"):
            return np.asarray(cls.compute(data), dtype=data.dtype)


def _elementwise_op(node_class: type[_Elementwise], doc: str, low: float = -2.0, high: float = 2.0,
                    aliases: tuple[str, ...] = ()):
    """Register `node_class` as the function `node_class.op_name`, its method and `_` variant."""
    name = node_class.op_name

    def function(input):
        return apply(node_class, input)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    function = register(name, methods=(name, *aliases), inplace=f"{name}_",
                        samples=_samples.unary(low, high))(function)
    for alias in aliases:
        setattr(Tensor, f"{alias}_", getattr(Tensor, f"{name}_"))
    return function


def _constant_like(reference: Tensor, array: np.ndarray) -> Tensor:
    """A constant (no-grad) tensor of `reference`'s dtype: a mask or weight in a backward."""
    return Tensor._make(np.asarray(array, dtype=reference._data.dtype))


class AbsBackward0(_Elementwise):
    op_name, keeps_integers, accepts_bool = "abs", True, False
    compute = staticmethod(np.abs)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.sign(self)}


class SignBackward0(_Elementwise):
    op_name, keeps_integers = "sign", True

    @staticmethod
    def compute(data):
        """-1, 0 or 1; the sign of NaN is 0, as PyTorch."""
        if data.dtype.kind == "b":
            return data.copy()
        return np.nan_to_num(np.sign(data), nan=0.0) if data.dtype.kind == "f" else np.sign(data)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: _math.zeros_like(grad)}


class RsqrtBackward0(_Elementwise):
    op_name = "rsqrt"

    @staticmethod
    def compute(data):
        return 1 / np.sqrt(data)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * -0.5 * result * result * result}


class Exp2Backward0(_Elementwise):
    op_name = "exp2"
    compute = staticmethod(np.exp2)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * result * _LN2}


class Expm1Backward0(_Elementwise):
    op_name = "expm1"
    compute = staticmethod(np.expm1)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * (result + 1)}


class Log2Backward0(_Elementwise):
    op_name = "log2"
    compute = staticmethod(np.log2)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad / (self * _LN2)}


class Log10Backward0(_Elementwise):
    op_name = "log10"
    compute = staticmethod(np.log10)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad / (self * _LN10)}


class Log1PBackward0(_Elementwise):
    op_name = "log1p"
    compute = staticmethod(np.log1p)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad / (self + 1)}


class AsinBackward0(_Elementwise):
    op_name = "asin"
    compute = staticmethod(np.arcsin)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.rsqrt(1 - self * self)}


class AcosBackward0(_Elementwise):
    op_name = "acos"
    compute = staticmethod(np.arccos)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: -grad * _math.rsqrt(1 - self * self)}


class AtanBackward0(_Elementwise):
    op_name = "atan"
    compute = staticmethod(np.arctan)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad / (1 + self * self)}


class SinhBackward0(_Elementwise):
    op_name = "sinh"
    compute = staticmethod(np.sinh)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.cosh(self)}


class CoshBackward0(_Elementwise):
    op_name = "cosh"
    compute = staticmethod(np.cosh)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.sinh(self)}


class TanhBackward0(_Elementwise):
    op_name = "tanh"
    compute = staticmethod(np.tanh)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * (1 - result * result)}


class AsinhBackward0(_Elementwise):
    op_name = "asinh"
    compute = staticmethod(np.arcsinh)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.rsqrt(self * self + 1)}


class AcoshBackward0(_Elementwise):
    op_name = "acosh"
    compute = staticmethod(np.arccosh)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.rsqrt(self * self - 1)}


class AtanhBackward0(_Elementwise):
    op_name = "atanh"
    compute = staticmethod(np.arctanh)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad / (1 - self * self)}


def _stable_sigmoid(data: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), PyTorch's formula (the same bits more often than a branch on the sign,
    and 2.5x faster): where exp(-x) overflows to inf the result is 0, as it should be."""
    return 1 / (1 + np.exp(-data))


class SigmoidBackward0(_Elementwise):
    op_name = "sigmoid"
    compute = staticmethod(_stable_sigmoid)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * result * (1 - result)}


class ErfBackward0(_Elementwise):
    op_name = "erf"

    @staticmethod
    def compute(data):
        return _erf_and_erfc(data)[0]

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _TWO_OVER_SQRT_PI * _math.exp(-self * self)}


class ErfcBackward0(_Elementwise):
    op_name = "erfc"

    @staticmethod
    def compute(data):
        return _erf_and_erfc(data)[1]

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * -_TWO_OVER_SQRT_PI * _math.exp(-self * self)}


class ErfinvBackward0(_Elementwise):
    op_name = "erfinv"

    @staticmethod
    def compute(data):
        return _erfinv(data)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * (_SQRT_PI / 2) * _math.exp(result * result)}


class _RoundingToInteger(_Elementwise):
    """Rounding to an integer value: integers stay as they are, the gradient is 0 everywhere."""

    keeps_integers, accepts_bool = True, False
    rounding = staticmethod(np.floor)

    @classmethod
    def compute(cls, data):
        return data.copy() if data.dtype.kind in "iu" else cls.rounding(data)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: _math.zeros_like(grad)}


class FloorBackward0(_RoundingToInteger):
    tangent = ELEMENT_WISE
    op_name, rounding = "floor", staticmethod(np.floor)


class CeilBackward0(_RoundingToInteger):
    tangent = ELEMENT_WISE
    op_name, rounding = "ceil", staticmethod(np.ceil)


class TruncBackward0(_RoundingToInteger):
    tangent = ELEMENT_WISE
    op_name, rounding = "trunc", staticmethod(np.trunc)


class FracBackward0(_Elementwise):
    op_name, keeps_integers = "frac", True

    @staticmethod
    def compute(data):
        if data.dtype.kind in "iub":
            found = _dtype.scalar_type_name(_dtype.from_numpy_dtype(data.dtype))
            raise NotImplementedError(f'"frac_cpu" not implemented for \'{found}\'')
        return data - np.trunc(data)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: grad}


_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))
_SQRT_PI = float(np.sqrt(np.pi))
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI

abs = _elementwise_op(AbsBackward0, "The absolute value of each element.", aliases=("absolute",))
absolute = abs
Tensor.__abs__ = abs
sign = _elementwise_op(SignBackward0, "-1, 0 or 1 by the sign of each element (0 gradient).")
rsqrt = _elementwise_op(RsqrtBackward0, "1 / sqrt(x) of each element.", 0.5, 2.0)
exp2 = _elementwise_op(Exp2Backward0, "2 raised to each element.")
expm1 = _elementwise_op(Expm1Backward0, "exp(x) - 1, accurate for small x.")
log2 = _elementwise_op(Log2Backward0, "The base-2 logarithm of each element.", 0.5, 2.0)
log10 = _elementwise_op(Log10Backward0, "The base-10 logarithm of each element.", 0.5, 2.0)
log1p = _elementwise_op(Log1PBackward0, "log(1 + x), accurate for small x.", -0.5, 2.0)
asin = _elementwise_op(AsinBackward0, "The arcsine of each element.", -0.9, 0.9, aliases=("arcsin",))
acos = _elementwise_op(AcosBackward0, "The arccosine of each element.", -0.9, 0.9, aliases=("arccos",))
atan = _elementwise_op(AtanBackward0, "The arctangent of each element.", aliases=("arctan",))
sinh = _elementwise_op(SinhBackward0, "The hyperbolic sine of each element.")
cosh = _elementwise_op(CoshBackward0, "The hyperbolic cosine of each element.")
tanh = _elementwise_op(TanhBackward0, "The hyperbolic tangent of each element.")
asinh = _elementwise_op(AsinhBackward0, "The inverse hyperbolic sine.", aliases=("arcsinh",))
acosh = _elementwise_op(AcoshBackward0, "The inverse hyperbolic cosine (x >= 1).", 1.2, 3.0,
                        aliases=("arccosh",))
atanh = _elementwise_op(AtanhBackward0, "The inverse hyperbolic tangent (|x| < 1).", -0.8, 0.8,
                        aliases=("arctanh",))
sigmoid = _elementwise_op(SigmoidBackward0, "1 / (1 + exp(-x)), computed without overflow.", -4.0, 4.0)
erf = _elementwise_op(ErfBackward0, "The error function of each element.")
erfc = _elementwise_op(ErfcBackward0, "1 - erf(x), accurate where erf(x) is near 1.")
erfinv = _elementwise_op(ErfinvBackward0, "The inverse of erf, on (-1, 1).", -0.9, 0.9)
floor = _elementwise_op(FloorBackward0, "The largest integer <= each element (0 gradient).")
ceil = _elementwise_op(CeilBackward0, "The smallest integer >= each element (0 gradient).")
trunc = _elementwise_op(TruncBackward0, "Each element rounded toward zero (0 gradient).", aliases=("fix",))
fix = trunc
frac = _elementwise_op(FracBackward0, "The fractional part x - trunc(x) of each element.")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


# ---------------------------------------------------------------------------
# The error function and its inverse, vectorised in float64
#
# erf(x) for |x| < 2.5 comes from the series 2/sqrt(pi) exp(-x^2) sum (2x^2)^n x / (2n+1)!!
# (every term positive, so no cancellation); beyond, erfc(x) from its continued fraction
# x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), evaluated from a fixed depth back to the front.
# Both agree with the exact values to about 1e-15 relative (1e-12 for erfc near 2.5).

_ERF_SERIES_TERMS = 60
_ERFC_FRACTION_DEPTH = 60
_ERF_SERIES_LIMIT = 2.5


def _erf_series(x: np.ndarray) -> np.ndarray:
    term = x.copy()
    total = x.copy()
    twice_square = 2.0 * x * x
    for n in range(1, _ERF_SERIES_TERMS):
        term *= twice_square / (2 * n + 1)
        total += term
    return _TWO_OVER_SQRT_PI * np.exp(-x * x) * total


def _erfc_fraction(x: np.ndarray) -> np.ndarray:
    tail = x.copy()
    for k in range(_ERFC_FRACTION_DEPTH, 0, -1):
        tail = x + (k / 2.0) / tail
    return np.exp(-x * x) / (_SQRT_PI * tail)


def _erf_and_erfc(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """erf and erfc of every element, in `data`'s float dtype."""
    x = np.asarray(data, dtype=np.float64)
    near = np.abs(x) < _ERF_SERIES_LIMIT
    far = ~near & ~np.isnan(x)
    erf_values = np.full(x.shape, np.nan)
    erfc_values = np.full(x.shape, np.nan)
    series = _erf_series(x[near])
    erf_values[near] = series
    erfc_values[near] = 1.0 - series
    far_x = x[far]
    with np.errstate(all="ignore"):
        fraction = _erfc_fraction(np.minimum(np.abs(far_x), 30.0))
    erf_values[far] = np.sign(far_x) * (1.0 - fraction)
    erfc_values[far] = np.where(far_x > 0, fraction, 2.0 - fraction)
    return erf_values.astype(data.dtype), erfc_values.astype(data.dtype)


def _erfinv(data: np.ndarray) -> np.ndarray:
    """Inverse erf: Winitzki's closed-form guess, then three Halley steps on erf(y) = |x|.

    Near |x| = 1 the residual is taken as erfc(y) - (1 - |x|), where it has no cancellation.
    """
    x = np.asarray(data, dtype=np.float64)
    target = np.abs(x)
    a = 0.147
    log_term = np.log1p(-target * target)
    middle = 2 / (np.pi * a) + log_term / 2
    y = np.sqrt(np.sqrt(middle * middle - log_term / a) - middle)
    inside = target < 1
    for _ in range(3):
        safe_y = np.where(inside, y, 0.0)
        erf_y, erfc_y = _erf_and_erfc(safe_y)
        residual = np.where(target < 0.5, erf_y - target, (1 - target) - erfc_y)
        step = residual / (_TWO_OVER_SQRT_PI * np.exp(-safe_y * safe_y))
        y = np.where(inside, safe_y - step / (1 + safe_y * step), y)
    y = np.where(target == 1, np.inf, np.where(target > 1, np.nan, y))
    return (np.sign(x) * y).astype(data.dtype)


# ---------------------------------------------------------------------------
# One-input ops with parameters


@register(methods="square", inplace="square_", samples=_samples.unary())
def square(input):
    """input * input (recorded as a power, as PyTorch does; bool gives int64)."""
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        input = input.to(_dtype.int64)
    return pow(input, 2)


class RoundBackward0(Formula):
    @staticmethod
    def forward(self, decimals):
        data = _unary_input(self, "round")
        if data.dtype.kind in "iu" and decimals == 0:
            return data.copy()
        if data.dtype.kind in "iub":
            raise NotImplementedError(
                f'"round_cpu" not implemented for \'{_dtype.scalar_type_name(self.dtype)}\''
            )
        if decimals == 0:
            return np.round(data)
        scale = np.asarray(10.0**decimals, dtype=data.dtype)
        return np.round(data * scale) / scale

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: _math.zeros_like(grad)}


class RoundBackward1(RoundBackward0):
    """round with `decimals`."""

    tangent = ELEMENT_WISE

@register(methods="round", inplace="round_", samples=_samples.unary(decimals=1))
def round(input, *, decimals: int = 0):
    """Each element rounded to `decimals` places, halves to even (0 gradient)."""
    node = RoundBackward0 if decimals == 0 else RoundBackward1
    return apply(node, input, decimals=decimals)


class LogitBackward0(Formula):
    """log(p / (1 - p)); with `eps`, p is first clamped to [eps, 1 - eps] (gradient 0 outside,
    and NaN outside [0, 1] without eps, as PyTorch)."""

    @staticmethod
    def forward(self, eps):
        data = _floating(_unary_input(self, "logit"))
        if eps is not None:
            data = np.clip(data, eps, 1 - eps)
        with np.errstate(all="ignore"):
            return np.log(data / (1 - data))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, eps: _math.where(
            (self < 0) | (self > 1) if eps is None else (self < eps) | (self > 1 - eps),
            float("nan") if eps is None else 0.0,
            grad / (self * (1 - self))),
    }


@register(methods="logit", inplace="logit_", samples=_samples.plus(_samples.unary(0.1, 0.9), {"eps": 0.2}))
def logit(input, eps: float | None = None):
    """The log-odds log(p / (1 - p)) of each element."""
    return apply(LogitBackward0, input, eps=eps)


class NanToNumBackward0(Formula):
    """NaN and infinities replaced by numbers: no gradient reaches the replaced places."""

    @staticmethod
    def forward(self, nan, posinf, neginf):
        data = _unary_input(self, "nan_to_num")
        if data.dtype.kind not in "fc":
            return data.copy()
        return np.nan_to_num(data, nan=nan, posinf=posinf, neginf=neginf)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.isfinite(self)}  # PyTorch multiplies


@register(methods="nan_to_num", inplace="nan_to_num_",
          samples=_samples.plus(_samples.unary(), {"nan": 0.5, "posinf": 9.0, "neginf": -9.0}))
def nan_to_num(input, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (default: the dtype's extremes)."""
    return apply(NanToNumBackward0, input, nan=nan, posinf=posinf, neginf=neginf)


# ---------------------------------------------------------------------------
# Clamping


def _inside(x, low, high):
    """Where low <= x <= high (a bound may be None): a bool array or tensor."""
    if low is None:
        return x <= high
    if high is None:
        return x >= low
    return (x >= low) & (x <= high)


class ClampBackward1(Formula):
    """Clamp to number bounds: the gradient passes where min <= x <= max."""

    @staticmethod
    def forward(self, min, max):
        data = _unary_input(self, "clamp")
        target = _dtype.result_type(self, *(bound for bound in (min, max) if bound is not None)).numpy
        return _clamp_arrays(data.astype(target, copy=False), min, max)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, min, max: _math.where(_inside(self, min, max), grad, 0.0)}


class ClampBackward0(Formula):
    """Clamp to tensor bounds: x's gradient where it is kept, each bound's where it wins."""

    inputs = ("self", "min", "max")

    @staticmethod
    def forward(self, min, max):
        data = _unary_input(self, "clamp")
        bounds = [bound for bound in (min, max) if bound is not None]
        target = _dtype.result_type(self, *bounds).numpy
        low = None if min is None else min._data.astype(target, copy=False)
        high = None if max is None else max._data.astype(target, copy=False)
        return _clamp_arrays(data.astype(target, copy=False), low, high)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, min, max: _math.where(_inside(self, min, max), grad, 0.0),
        "min": lambda grad, self, min, max: _math.where(
            (self < min) if max is None else (self < min) & (min <= max), grad, 0.0),
        "max": lambda grad, self, min, max: _math.where(
            (self if min is None else _math.where(self < min, min, self)) > max, grad, 0.0),
    }


def _clamp_arrays(data: np.ndarray, low, high) -> np.ndarray:
    """max(data, low) then min(., high): where low > high every element becomes high."""
    if low is not None:
        data = np.maximum(data, low)
    if high is not None:
        data = np.minimum(data, high)
    return data


def _clamp_samples(rng):
    x = _samples.make(rng, (2, 3))
    low, high = _samples.make(rng, (3,), -1.0, -0.2), _samples.make(rng, (2, 3), 0.2, 1.0)
    x_data = x._data
    x_data[np.abs(x_data - 0.5) < 0.05] += 0.2
    x_data[np.abs(x_data + 0.5) < 0.05] -= 0.2
    return [
        ((x, -0.5, 0.5), {}),
        ((x,), {"min": -0.5}),
        ((x,), {"max": 0.5}),
        ((x, low, high), {}),
        ((x, None, high), {}),
        ((_samples.make(rng, ()), -0.5, 0.5), {}),
    ]


@register(methods=("clamp", "clip"), inplace="clamp_", samples=_clamp_samples)
def clamp(input, min=None, max=None):
    """Each element limited to [min, max]; either bound may be None, a number or a tensor."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        low, high = (_as_bound_tensor(bound, input) for bound in (min, max))
        return apply(ClampBackward0, input, low, high)
    return apply(ClampBackward1, input, min=min, max=max)


def _as_bound_tensor(bound, input: Tensor):
    if bound is None or isinstance(bound, Tensor):
        return bound
    return Tensor._make(np.asarray(bound, dtype=_dtype.result_type(input, bound).numpy))


clip = clamp
Tensor.clip_ = Tensor.clamp_


def clamp_min(input, min):
    """clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """clamp(input, max=max)."""
    return clamp(input, max=max)


Tensor.clamp_min, Tensor.clamp_max = clamp_min, clamp_max


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


def _tensor_pair_samples(low=-2.0, high=2.0):
    """Broadcasting pairs of tensors (the ops that take no Python number)."""

    def samples(rng):
        return [
            ((_samples.make(rng, left, low, high), _samples.make(rng, right, low, high)), {})
            for left, right in _samples.BROADCAST_PAIRS
        ]

    return samples


def _binary_tensor_op(node_class, name: str, doc: str, samples=None):
    """Register a two-tensor op with its method and `_` variant."""

    def function(input, other):
        if not isinstance(other, Tensor):
            raise TypeError(
                f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"
            )
        return apply(node_class, input, other)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return register(name, methods=name, inplace=f"{name}_", samples=samples or _tensor_pair_samples())(
        function
    )


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
Tensor.arctan2 = atan2


class HypotBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "hypot")
        if left.dtype.kind != "f":
            found = _dtype.scalar_type_name(_dtype.from_numpy_dtype(left.dtype))
            raise NotImplementedError(f'"hypot_cpu" not implemented for \'{found}\'')
        return np.hypot(left, right)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, result: grad * self / result,
        "other": lambda grad, other, result: grad * other / result,
    }


hypot = _binary_tensor_op(HypotBackward0, "hypot", "sqrt(input**2 + other**2) without overflow.")


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


class RemainderBackward1(Formula):
    """input mod other for tensors: d/d other = -floor(input / other)."""

    inputs = ("self", "other")
    op_name = "remainder"
    kernel = staticmethod(np.remainder)

    @classmethod
    def forward(cls, self, other):
        left, right = operand_arrays(self, other, cls.op_name)
        _check_integer_divisor(right, cls.op_name)
        return cls.kernel(left, right)

    tangent = ELEMENT_WISE
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


def _modulo_samples(rng):
    """Dividends and divisors kept away from the jumps at exact multiples."""
    x = Tensor._make(rng.uniform(0.1, 0.9, size=(2, 3)) + rng.integers(-3, 3, size=(2, 3)))
    y = _samples.make(rng, (3,), 1.5, 2.5)
    quotient = x._data / y._data
    x._data[np.abs(quotient - np.round(quotient)) < 0.05] += 0.3
    return [((x, y), {}), ((x, 1.0), {}), ((x, -1.0), {})]


@register(methods=("remainder", "__mod__"), inplace="remainder_", samples=_modulo_samples)
def remainder(input, other):
    """input - floor(input / other) * other: the result has the divisor's sign (Python's %)."""
    if not isinstance(input, Tensor):
        check_operand(input, "remainder", 1, "self")
        input = Tensor._make(np.asarray(input, dtype=_dtype.result_type(input, other).numpy))
    if isinstance(other, Tensor):
        return apply(RemainderBackward1, input, other)
    check_operand(other, "remainder", 2, "other")
    return apply(RemainderBackward0, input, other=other)


@register(methods="fmod", inplace="fmod_", samples=_modulo_samples)
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


Tensor.__rmod__ = _reflected_mod


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


Tensor.__rfloordiv__ = _reflected_floor_divide


def _float_power_samples(rng):
    x = _samples.make(rng, (2, 3), 0.5, 2.0)
    return [((x, 2), {}), ((x, -0.5), {}), ((x, _samples.make(rng, (3,), -1.0, 1.0)), {})]


@register(methods="float_power", samples=_float_power_samples)
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


Tensor.float_power_ = _float_power_in_place


# ---------------------------------------------------------------------------
# Three-input ops


class LerpBackward0(Formula):
    """start + weight * (end - start) for a number weight."""

    inputs = ("self", "end")

    @staticmethod
    def forward(self, end, weight):
        return _lerp_arrays(self, end, weight)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, weight: grad * (1 - weight),
        "end": lambda grad, weight: grad * weight,
    }


class LerpBackward1(Formula):
    """start + weight * (end - start) for a tensor weight."""

    inputs = ("self", "end", "weight")

    @staticmethod
    def forward(self, end, weight):
        return _lerp_arrays(self, end, weight._data)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, weight: grad * (1 - weight),
        "end": lambda grad, weight: grad * weight,
        "weight": lambda grad, self, end: grad * (end - self),
    }


def _lerp_arrays(start: Tensor, end: Tensor, weight) -> np.ndarray:
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp(): argument 'end' (position 2) must be Tensor, not {type(end).__name__}")
    if start.dtype is not end.dtype:
        raise RuntimeError(
            f"expected dtype {start.dtype.name} for `end` but got dtype {end.dtype.name}"
        )
    low, high = start._data, end._data
    _check_broadcast(low.shape, high.shape)
    weight = np.asarray(weight, dtype=low.dtype)
    # From the nearer end, so that weight 0 gives start and weight 1 gives end exactly.
    return np.where(np.abs(weight) < 0.5, low + weight * (high - low), high - (high - low) * (1 - weight))


def _lerp_samples(rng):
    start, end = _samples.make(rng, (2, 3)), _samples.make(rng, (3,))
    return [
        ((start, end, 0.3), {}),
        ((start, end, 0.8), {}),
        ((start, end, _samples.make(rng, (2, 3), 0.0, 1.0)), {}),
    ]


@register(methods="lerp", inplace="lerp_", samples=_lerp_samples, floating=("input", "end"))
def lerp(input, end, weight):
    """Linear interpolation input + weight * (end - input); weight a number or tensor."""
    if isinstance(weight, Tensor):
        return apply(LerpBackward1, input, end, weight)
    return apply(LerpBackward0, input, end, weight=weight)


class AddcmulBackward0(Formula):
    """input + value * tensor1 * tensor2."""

    inputs = ("self", "tensor1", "tensor2")

    @staticmethod
    def forward(self, tensor1, tensor2, value):
        base, first, second = _three_operands(self, tensor1, tensor2, value, "addcmul")
        return base + value * first * second

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad: grad,
        "tensor1": lambda grad, tensor2, value: grad * value * tensor2,
        "tensor2": lambda grad, tensor1, value: grad * value * tensor1,
    }


class AddcdivBackward0(Formula):
    """input + value * tensor1 / tensor2."""

    inputs = ("self", "tensor1", "tensor2")

    @staticmethod
    def forward(self, tensor1, tensor2, value):
        base, first, second = _three_operands(self, tensor1, tensor2, value, "addcdiv")
        if first.dtype.kind in "iub" and second.dtype.kind in "iub":
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future  release "
                "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
                "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
                "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
                "float inputs. The future addcdiv behavior is just the latter implementation: "
                "(input + value * tensor1 / tensor2), for all dtypes."
            )
        return base + value * first / second

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad: grad,
        "tensor1": lambda grad, tensor2, value: grad * value / tensor2,
        "tensor2": lambda grad, tensor1, tensor2, value: -grad * value * tensor1 / (tensor2 * tensor2),
    }


def _three_operands(input, tensor1, tensor2, value, op_name: str):
    for position, (argument, operand) in enumerate(
        (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)), start=1
    ):
        if not isinstance(operand, Tensor):
            raise TypeError(
                f"{op_name}(): argument '{argument}' (position {position}) must be Tensor, not "
                f"{type(operand).__name__}"
            )
    _check_broadcast(tensor1._data.shape, tensor2._data.shape)
    _check_broadcast(input._data.shape, np.broadcast_shapes(tensor1._data.shape, tensor2._data.shape))
    target = _dtype.result_type(input, tensor1, tensor2).numpy
    return (
        input._data.astype(target, copy=False),
        tensor1._data.astype(target, copy=False),
        tensor2._data.astype(target, copy=False),
    )


def _addc_samples(low=-2.0, high=2.0):
    def samples(rng):
        base = _samples.make(rng, (2, 3))
        first = _samples.make(rng, (3,))
        second = _samples.make(rng, (2, 1), low, high)
        return [((base, first, second), {}), ((base, first, second), {"value": 0.5})]

    return samples


@register(methods="addcmul", inplace="addcmul_", samples=_addc_samples())
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2, with broadcasting."""
    value = integral_coefficient(value, (input, tensor1, tensor2), "value")
    return apply(AddcmulBackward0, input, tensor1, tensor2, value=value)


@register(methods="addcdiv", inplace="addcdiv_", samples=_addc_samples(0.5, 2.0))
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2, with broadcasting."""
    return apply(AddcdivBackward0, input, tensor1, tensor2, value=value)


# ---------------------------------------------------------------------------
# Selecting by a mask


class WhereBackward0(Formula):
    """condition ? input : other; each side's gradient is the incoming one where it was taken."""

    inputs = ("self", "other")

    @staticmethod
    def forward(self, other, condition):
        left, right = operand_arrays(self, other, "where")
        _check_broadcast(condition._data.shape, np.broadcast_shapes(np.shape(left), np.shape(right)))
        return np.where(condition._data, left, right)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, condition: _math.where(condition, grad, 0.0),
        "other": lambda grad, condition: _math.where(condition, 0.0, grad),
    }


def _check_condition(condition) -> None:
    if not isinstance(condition, Tensor):
        raise TypeError(
            f"where(): argument 'condition' (position 1) must be Tensor, not {type(condition).__name__}"
        )
    if condition.dtype is not _dtype.bool:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{_dtype.scalar_type_name(condition.dtype)}"
        )


def _where_samples(rng):
    condition = Tensor._make(rng.uniform(size=(2, 3)) > 0.5)
    return [
        ((condition, _samples.make(rng, (2, 3)), _samples.make(rng, (3,))), {}),
        ((condition, _samples.make(rng, (2, 1)), 0.5), {}),
        ((Tensor._make(np.array([True, False, True])), _samples.make(rng, ()), _samples.make(rng, (2, 3))),
         {}),
    ]


@register(samples=_where_samples)
def where(condition, input=None, other=None):
    """input where `condition` holds, else other (numbers allowed); where(condition) = nonzero."""
    if input is None and other is None:
        if not isinstance(condition, Tensor):
            _check_condition(condition)
        return tuple(Tensor._make(index.astype(np.int64)) for index in np.nonzero(condition._data))
    _check_condition(condition)
    for tensor, number in ((input, other), (other, input)):  # a number must fit, never wraps
        if type(number) is int and isinstance(tensor, Tensor) and tensor._data.dtype.kind in "iu":
            from .._creation import check_convertible

            check_convertible(number, tensor.dtype)
    return apply(WhereBackward0, input, other, condition=condition)


Tensor.where = lambda self, condition, other: where(condition, self, other)


class MaskedFillBackward0(Formula):
    """Masked places set to a number: they get no gradient."""

    @staticmethod
    def forward(self, mask, value):
        data = _unary_input(self, "masked_fill")
        return np.where(mask._data, np.asarray(value).astype(data.dtype), data)

    tangent = LinearWith(value=0)
    derivatives = {"self": lambda grad, mask: _math.where(mask, 0.0, grad)}


class MaskedFillBackward1(Formula):
    """Masked places set to a 0-d tensor: it collects their gradients."""

    inputs = ("self", "value")

    @staticmethod
    def forward(self, value, mask):
        data = _unary_input(self, "masked_fill")
        return np.where(mask._data, value._data.astype(data.dtype), data)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, mask: _math.where(mask, 0.0, grad),
        "value": lambda grad, mask: _math.where(mask, grad, 0.0).sum(),
    }


def _check_mask(mask, value) -> None:
    if not isinstance(mask, Tensor) or mask.dtype is not _dtype.bool:
        found = mask.dtype.name if isinstance(mask, Tensor) else type(mask).__name__
        found = {"float32": "float", "float64": "double", "int64": "long"}.get(found, found)
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {found}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )


def _masked_fill_samples(rng):
    x = _samples.make(rng, (2, 3))
    mask = Tensor._make(rng.uniform(size=(2, 3)) > 0.5)
    return [((x, mask, 0.5), {}), ((x, mask, _samples.make(rng, ())), {})]


@register(methods="masked_fill", inplace="masked_fill_", samples=_masked_fill_samples)
def masked_fill(input, mask, value):
    """input with `value` (a number or 0-d tensor) wherever the bool `mask` is True."""
    _check_mask(mask, value)
    if isinstance(value, Tensor):
        return apply(MaskedFillBackward1, input, value, mask=mask)
    if type(value) in (int, float) and isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        from .._creation import check_convertible

        check_convertible(value, input.dtype)  # a fill value must fit, never wraps
    return apply(MaskedFillBackward0, input, mask=mask, value=value)
