"""Comparisons, tests of values, logical and bitwise operators.

None of these is differentiable: each computes on arrays and returns a plain tensor (bool
for comparisons, tests and logical ops; the promoted integer or bool dtype for bitwise
ops), never recording a node, even when an input requires grad.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._table import register, register_method
from .pointwise import _check_broadcast, _unary_input, operand_arrays

__all__ = [
    "allclose",
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "eq",
    "equal",
    "ge",
    "greater",
    "greater_equal",
    "gt",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "le",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "lt",
    "ne",
    "not_equal",
]


def _plain(array) -> Tensor:
    return Tensor._make(np.asarray(array))


# ---------------------------------------------------------------------------
# Comparisons: bool tensors, with broadcasting and type promotion


def _comparison(name: str, kernel, operators: tuple[str, ...], aliases: tuple[str, ...]):
    def function(input, other):
        left, right = operand_arrays(input, other, name)
        return _plain(kernel(left, right))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"input {operators[0] if operators else name} other, elementwise, as a bool tensor."
    function = register(name, methods=(name, *aliases, *operators), inplace=f"{name}_",
                        differentiable=False)(function)
    for alias in aliases:
        register_method(f"{alias}_", getattr(Tensor, f"{name}_"))
    return function


eq = _comparison("eq", np.equal, ("__eq__",), ())
ne = _comparison("ne", np.not_equal, ("__ne__",), ("not_equal",))
lt = _comparison("lt", np.less, ("__lt__",), ("less",))
le = _comparison("le", np.less_equal, ("__le__",), ("less_equal",))
gt = _comparison("gt", np.greater, ("__gt__",), ("greater",))
ge = _comparison("ge", np.greater_equal, ("__ge__",), ("greater_equal",))
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


def _same_dtype(input: Tensor, other: Tensor, name: str) -> None:
    if input.dtype is not other.dtype:
        raise RuntimeError(
            f"{_dtype.scalar_type_name(input.dtype)} did not match {_dtype.scalar_type_name(other.dtype)}"
        )


@register(methods="isclose", differentiable=False)
def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """|input - other| <= atol + rtol * |other|, elementwise (equal infinities are close)."""
    _same_dtype(input, other, "isclose")
    left, right = operand_arrays(input, other, "isclose")
    if left.dtype.kind == "b":
        return _plain(left == right)
    return _plain(np.isclose(left, right, rtol=rtol, atol=atol, equal_nan=equal_nan))


@register(methods="allclose", differentiable=False)
def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if every pair of elements is close (see isclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@register(methods="equal", differentiable=False)
def equal(input, other) -> bool:
    """True if both tensors have the same shape and the same values."""
    if input._data.shape != other._data.shape:
        return False
    left, right = operand_arrays(input, other, "equal")
    return bool(np.array_equal(left, right))


# ---------------------------------------------------------------------------
# Tests of values


def _value_test(name: str, kernel, doc: str):
    def function(input):
        data = _unary_input(input, name)
        if data.dtype.kind not in "fc":
            return _plain(kernel(data.astype(np.float64)))
        return _plain(kernel(data))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return register(name, methods=name, differentiable=False)(function)


isnan = _value_test("isnan", np.isnan, "Where each element is NaN.")
isinf = _value_test("isinf", np.isinf, "Where each element is +inf or -inf.")
isfinite = _value_test("isfinite", np.isfinite, "Where each element is neither infinite nor NaN.")
isposinf = _value_test("isposinf", np.isposinf, "Where each element is +inf.")
isneginf = _value_test("isneginf", np.isneginf, "Where each element is -inf.")


# ---------------------------------------------------------------------------
# Logical operators: any dtype in, bool out (nonzero counts as True)


def _truth(value, name: str, position: int, argument: str):
    if isinstance(value, Tensor):
        return value._data.astype(bool, copy=False)
    raise TypeError(
        f"{name}(): argument '{argument}' (position {position}) must be Tensor, not "
        f"{type(value).__name__}"
    )


def _logical(name: str, kernel):
    def function(input, other):
        left = _truth(input, name, 1, "input")
        right = _truth(other, name, 2, "other")
        _check_broadcast(left.shape, right.shape)
        return _plain(kernel(left, right))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name.split('_')[1].upper()} of the truth of each element."
    return register(name, methods=name, inplace=f"{name}_", differentiable=False)(function)


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


@register(methods="logical_not", inplace="logical_not_", differentiable=False)
def logical_not(input):
    """Elementwise NOT of the truth of each element (nonzero is True)."""
    return _plain(np.logical_not(_truth(input, "logical_not", 1, "input")))


# ---------------------------------------------------------------------------
# Bitwise operators: integer and bool tensors only


def _integer_operands(input, other, name: str):
    left, right = operand_arrays(input, other, name)
    kind = np.result_type(left, right).kind
    if kind not in "iub":
        found = _dtype.result_type(input, other)
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_dtype.scalar_type_name(found)}\'')
    return left, right


def _bitwise(name: str, kernel, operators: tuple[str, ...]):
    def function(input, other):
        if not isinstance(input, Tensor):
            input, other = other, input
        return _plain(kernel(*_integer_operands(input, other, name)))

    function.__name__ = function.__qualname__ = name
    operation = name.split("_", 1)[1].upper()
    function.__doc__ = f"Elementwise bitwise {operation} of integer or bool tensors."
    return register(name, methods=(name, *operators), inplace=f"{name}_", differentiable=False)(function)


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, ("__and__", "__rand__"))
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, ("__or__", "__ror__"))
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, ("__xor__", "__rxor__"))


def _shift(name: str, kernel, operator: str):
    def function(input, other):
        left, right = _integer_operands(input, other, name)
        return _plain(kernel(left, right))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name.split('_')[1]} shift of integer tensors."
    return register(name, methods=(name, operator), inplace=f"{name}_", differentiable=False)(function)


bitwise_left_shift = _shift("bitwise_left_shift", np.left_shift, "__lshift__")
bitwise_right_shift = _shift("bitwise_right_shift", np.right_shift, "__rshift__")

# `x &= y` and friends write into x, as in PyTorch.
register_method("__iand__", lambda self, other: self.bitwise_and_(other))
register_method("__ior__", lambda self, other: self.bitwise_or_(other))
register_method("__ixor__", lambda self, other: self.bitwise_xor_(other))
register_method("__ilshift__", lambda self, other: self.bitwise_left_shift_(other))
register_method("__irshift__", lambda self, other: self.bitwise_right_shift_(other))


@register(methods="bitwise_not", inplace="bitwise_not_", differentiable=False)
def bitwise_not(input):
    """Elementwise bitwise NOT (logical NOT for bool tensors)."""
    data = _unary_input(input, "bitwise_not")
    if data.dtype.kind not in "iub":
        raise NotImplementedError(
            f'"bitwise_not_cpu" not implemented for \'{_dtype.scalar_type_name(input.dtype)}\''
        )
    return _plain(np.invert(data))


def _invert(self):
    if self._data.dtype.kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


register_method("__invert__", _invert)
