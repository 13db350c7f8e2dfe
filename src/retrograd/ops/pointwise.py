"""Elementwise operators: arithmetic, powers, exponentials and trigonometry.

Each op is a node class (its forward on arrays, its backward as tensor operations, named
as PyTorch names the grad_fn) and a registered function. Broadcast gradients are summed
back to each input's shape by the engine (see engine._fit_to_inputs), not here.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _samples
from ._table import OUTPUT, apply, register

__all__ = [
    "add",
    "cos",
    "div",
    "divide",
    "exp",
    "log",
    "mul",
    "multiply",
    "neg",
    "negative",
    "pow",
    "reciprocal",
    "rsub",
    "sin",
    "sqrt",
    "sub",
    "subtract",
    "tan",
    "true_divide",
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


def operand_arrays(a, b, op_name: str):
    """The two operands as arrays (or NumPy-weak Python numbers) of their promoted dtype."""
    check_operand(a, op_name, 1, "input")
    check_operand(b, op_name, 2, "other")
    a_data = a._data if isinstance(a, Tensor) else a
    b_data = b._data if isinstance(b, Tensor) else b
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a_data.dtype == b_data.dtype:
        _check_broadcast(a_data.shape, b_data.shape)
        return a_data, b_data
    target = _dtype.result_type(a, b).numpy
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        _check_broadcast(a_data.shape, b_data.shape)
    return _as_dtype(a_data, target), _as_dtype(b_data, target)


def _as_dtype(value, target: np.dtype):
    if isinstance(value, np.ndarray):
        return value if value.dtype == target else value.astype(target)
    return np.asarray(value, dtype=target)


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
    if array.dtype.kind in "fc":
        return array
    return array.astype(_dtype.get_default_dtype().numpy)


def _unary_input(x, op_name: str) -> np.ndarray:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    return x._data


# ---------------------------------------------------------------------------
# Arithmetic


class AddBackward0(Node):
    __slots__ = ("alpha",)

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        a, b = operand_arrays(a, b, "add")
        ctx.alpha = alpha
        return a + b if alpha == 1 else a + alpha * b

    def backward(self, grad):
        return grad, grad if self.alpha == 1 else grad * self.alpha


@register(methods=("add", "__add__", "__radd__"), inplace="add_", samples=_samples.binary())
def add(input, other, *, alpha=1):
    """input + alpha * other, with broadcasting."""
    return apply(AddBackward0, input, other, alpha=alpha)


class SubBackward0(Node):
    __slots__ = ("alpha",)

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        a, b = operand_arrays(a, b, "sub")
        if a.dtype.kind == "b":
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                "`^` or `logical_xor()` operator instead."
            )
        ctx.alpha = alpha
        return a - b if alpha == 1 else a - alpha * b

    def backward(self, grad):
        return grad, -grad if self.alpha == 1 else grad * -self.alpha


@register(methods=("sub", "__sub__"), inplace="sub_", samples=_samples.binary())
def sub(input, other, *, alpha=1):
    """input - alpha * other, with broadcasting."""
    return apply(SubBackward0, input, other, alpha=alpha)


subtract = sub
Tensor.subtract = sub


class RsubBackward0(Node):
    """other - alpha * input for two tensors."""

    __slots__ = ("alpha",)

    @staticmethod
    def forward(ctx, a, other, alpha=1):
        a, b = operand_arrays(a, other, "rsub")
        ctx.alpha = alpha
        return b - a if alpha == 1 else b - alpha * a

    def backward(self, grad):
        return (-grad if self.alpha == 1 else grad * -self.alpha), grad


class RsubBackward1(Node):
    """number - alpha * input: the number is a parameter, not an input."""

    __slots__ = ("alpha", "other")

    @staticmethod
    def forward(ctx, a, other, alpha=1):
        a, b = operand_arrays(a, other, "rsub")
        ctx.alpha = alpha
        return b - a if alpha == 1 else b - alpha * a

    def backward(self, grad):
        return -grad if self.alpha == 1 else grad * -self.alpha


@register(methods="__rsub__", samples=_samples.binary())
def rsub(input, other, *, alpha=1):
    """other - alpha * input (what `number - tensor` computes)."""
    if isinstance(other, Tensor):
        return apply(RsubBackward0, input, other, alpha=alpha)
    check_operand(other, "rsub", 2, "other")
    return apply(RsubBackward1, input, other=other, alpha=alpha)


class MulBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = operand_arrays(a, b, "mul")
        return a * b

    def backward(self, grad):
        a, b = self.saved_tensors
        needs_a, needs_b = self.next_functions[0][0], self.next_functions[1][0]
        return (
            grad * b if needs_a is not None else None,
            grad * a if needs_b is not None else None,
        )


@register(methods=("mul", "__mul__", "__rmul__"), inplace="mul_", samples=_samples.binary())
def mul(input, other):
    """input * other, elementwise with broadcasting."""
    return apply(MulBackward0, input, other)


multiply = mul
Tensor.multiply = mul


class DivBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = operand_arrays(a, b, "div")
        return np.true_divide(_floating(a), b)

    def backward(self, grad):
        a, b = self.saved_tensors
        grad_a = grad / b if self.next_functions[0][0] is not None else None
        grad_b = -grad * a / b / b if self.next_functions[1][0] is not None else None
        return grad_a, grad_b


@register(
    methods=("div", "divide", "true_divide", "__truediv__"),
    inplace="div_",
    samples=_samples.binary(low=0.5, high=2.0),
)
def div(input, other, *, rounding_mode=None):
    """input / other (true division; integer inputs give floats)."""
    if rounding_mode is not None:
        raise NotImplementedError("div(rounding_mode=...) arrives with the full operator library")
    return apply(DivBackward0, input, other)


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


class NegBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        data = _unary_input(x, "neg")
        if data.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return -data

    def backward(self, grad):
        return -grad


@register(methods=("neg", "negative", "__neg__"), inplace="neg_", samples=_samples.unary())
def neg(input):
    """-input."""
    return apply(NegBackward0, input)


negative = neg


class ReciprocalBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return np.reciprocal(_floating(_unary_input(x, "reciprocal")))

    def backward(self, grad):
        (result,) = self.saved_tensors
        return -grad * result * result


@register(methods="reciprocal", inplace="reciprocal_", samples=_samples.unary(0.5, 2.0))
def reciprocal(input):
    """1 / input."""
    return apply(ReciprocalBackward0, input)


# ---------------------------------------------------------------------------
# Powers


def _power_dtype_check(base: np.ndarray, exponent) -> None:
    if base.dtype.kind in "iub" and isinstance(exponent, numbers.Integral) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


class PowBackward0(Node):
    """x ** c for a number c: d/dx = c * x ** (c - 1)."""

    __slots__ = ("exponent",)

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        base, power = operand_arrays(x, exponent, "pow")
        _power_dtype_check(base, exponent)
        return np.power(base, power)

    def backward(self, grad):
        (x,) = self.saved_tensors
        if self.exponent == 0:
            return grad * 0
        return grad * self.exponent * x ** (self.exponent - 1)


class PowBackward1(Node):
    """x ** y for tensors: d/dx = y * x ** (y - 1), d/dy = x ** y * log(x) (0 where x = 0, y >= 0)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y, OUTPUT)
        base, power = operand_arrays(x, y, "pow")
        return np.power(base, power)

    def backward(self, grad):
        x, y, result = self.saved_tensors
        grad_x = grad_y = None
        if self.next_functions[0][0] is not None:
            grad_x = grad * y * x ** (y - 1)
        if self.next_functions[1][0] is not None:
            grad_y = grad * result * _log_where_defined(x, y)
        return grad_x, grad_y


class PowBackward2(Node):
    """c ** y for a number c: d/dy = c ** y * log(c)."""

    __slots__ = ("base",)

    @staticmethod
    def forward(ctx, y, base):
        ctx.save_for_backward(OUTPUT)
        ctx.base = base
        power, number = operand_arrays(y, base, "pow")
        return np.power(number, power)

    def backward(self, grad):
        (result,) = self.saved_tensors
        if self.base == 0:
            return grad * 0
        return grad * result * float(np.log(self.base))


def _log_where_defined(x: Tensor, y: Tensor) -> Tensor:
    """log(x), with 0 where x == 0 and y >= 0 (the limit PyTorch uses for d(x**y)/dy)."""
    x_data, y_data = np.broadcast_arrays(x._data, y._data)
    undefined = (x_data == 0) & (y_data >= 0)
    if not undefined.any():
        return log(x)
    safe_x = where_constant(undefined, 1.0, x)
    return log(safe_x)


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
        return apply(PowBackward2, exponent, base=input)
    if isinstance(exponent, Tensor):
        return apply(PowBackward1, input, exponent)
    check_operand(exponent, "pow", 2, "exponent")
    return apply(PowBackward0, input, exponent=exponent)


def _reflected_pow(self, other):
    if not isinstance(other, numbers.Number):
        return NotImplemented
    return apply(PowBackward2, self, base=other)


Tensor.__rpow__ = _reflected_pow


class SqrtBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return np.sqrt(_floating(_unary_input(x, "sqrt")))

    def backward(self, grad):
        (result,) = self.saved_tensors
        return grad / (2 * result)


@register(methods="sqrt", inplace="sqrt_", samples=_samples.unary(0.5, 2.0))
def sqrt(input):
    """The square root of each element."""
    return apply(SqrtBackward0, input)


# ---------------------------------------------------------------------------
# Exponentials and logarithms


class ExpBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return np.exp(_floating(_unary_input(x, "exp")))

    def backward(self, grad):
        (result,) = self.saved_tensors
        return grad * result


@register(methods="exp", inplace="exp_", samples=_samples.unary())
def exp(input):
    """e raised to each element."""
    return apply(ExpBackward0, input)


class LogBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(_floating(_unary_input(x, "log")))

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad / x


@register(methods="log", inplace="log_", samples=_samples.unary(0.5, 2.0))
def log(input):
    """The natural logarithm of each element."""
    return apply(LogBackward0, input)


# ---------------------------------------------------------------------------
# Trigonometry


class SinBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(_floating(_unary_input(x, "sin")))

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * cos(x)


@register(methods="sin", inplace="sin_", samples=_samples.unary())
def sin(input):
    """The sine of each element (radians)."""
    return apply(SinBackward0, input)


class CosBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(_floating(_unary_input(x, "cos")))

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * -sin(x)


@register(methods="cos", inplace="cos_", samples=_samples.unary())
def cos(input):
    """The cosine of each element (radians)."""
    return apply(CosBackward0, input)


class TanBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(OUTPUT)
        return np.tan(_floating(_unary_input(x, "tan")))

    def backward(self, grad):
        (result,) = self.saved_tensors
        return grad * (1 + result * result)


@register(methods="tan", inplace="tan_", samples=_samples.unary(-1.2, 1.2))
def tan(input):
    """The tangent of each element (radians)."""
    return apply(TanBackward0, input)
