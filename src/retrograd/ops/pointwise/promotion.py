"""Elementwise operators, operands and promotion: turning tensors and Python numbers into arrays
of the promoted dtype, the fast paths for the common cases, and the checks shared by the ops."""

from __future__ import annotations

import numbers

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .._direct_write import broadcasts_to

# ---------------------------------------------------------------------------
# Operands and promotion


def check_operand(value, op_name: str, position: int, argument: str) -> None:
    """TypeError, with PyTorch's wording, for an operand that is neither tensor nor number."""
    if type(value) is not float and type(value) is not int and not isinstance(value, Tensor | numbers.Number):
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
            scalar_type = a_data.dtype.type
            known = _SCALARS.get(scalar_type)
            if known is not None:
                scalar = known.get(b)
                if scalar is not None:
                    return a_data, scalar
            try:
                return a_data, _kept_scalar(scalar_type, b)
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


# Note [Numbers as NumPy scalars]
#     A tensor op with a Python number (`y * 0.5`, `1 - p`) computes with the number as a
#     NumPy scalar of the tensor's dtype. Making one costs more than the rest of the operand
#     check, and programs use the same few numbers over and over, so the scalars made are kept,
#     per scalar type, keyed by the number. Numbers that are equal as Python numbers convert
#     to the same scalar, with two exceptions that are never kept: zero (0.0 and -0.0 are
#     equal keys but different scalars) and NaN (never equal to itself, so it would only
#     pile up). A table that grows past _MOST_SCALARS numbers starts again empty.
_SCALARS: dict[type, dict] = {}
_MOST_SCALARS = 256


def _scalar(scalar_type: type, number):
    """`number` as a NumPy scalar of `scalar_type`: the one kept, or a new one. (operand_arrays
    looks in the table itself, a call less, and calls _kept_scalar when it finds none.)"""
    known = _SCALARS.get(scalar_type)
    scalar = None if known is None else known.get(number)
    return _kept_scalar(scalar_type, number) if scalar is None else scalar


def _kept_scalar(scalar_type: type, number):
    """A new NumPy scalar of `number`, kept for the next time when it may be."""
    scalar = scalar_type(number)
    if number and number == number:  # (not zero, not NaN: Note [Numbers as NumPy scalars])
        known = _SCALARS.get(scalar_type)
        if known is None or len(known) >= _MOST_SCALARS:
            known = _SCALARS[scalar_type] = {}
        known[number] = scalar
    return scalar


def same_dtype_operand(data: np.ndarray, value):
    """`value` as `operand_arrays` reads it beside `data`, in the plain case of a direct in-place
    write (Note [Direct in-place writes], ops/_direct_write.py): a tensor of data's dtype whose
    shape broadcasts to data's, or a number data's dtype keeps. None for anything else."""
    if isinstance(value, Tensor):
        return same_dtype_tensor(data, value)
    if data.dtype.kind not in _KEEPS_KIND.get(type(value), ""):
        return None
    try:
        return _scalar(data.dtype.type, value)
    except OverflowError:
        return None


def same_dtype_tensor(data: np.ndarray, value) -> np.ndarray | None:
    """The array of tensor `value` if it has data's dtype and broadcasts to data's shape (the
    tensor operand of a direct in-place write); None for anything else."""
    if not isinstance(value, Tensor):
        return None
    array = value._data
    if type(array) is not np.ndarray or array.dtype != data.dtype:
        return None
    return array if array.shape == data.shape or broadcasts_to(array.shape, data.shape) else None


def floating_operand_arrays(a, b, op_name: str):
    """`operand_arrays` for a kernel PyTorch has for floating dtypes only (`hypot_cpu`): an
    integer promoted dtype is its NotImplementedError."""
    left, right = operand_arrays(a, b, op_name)
    if left.dtype.kind != "f":
        found = _dtype.scalar_type_name(_dtype.from_numpy_dtype(left.dtype))
        raise NotImplementedError(f'"{op_name}_cpu" not implemented for \'{found}\'')
    return left, right


def _as_dtype(value, target: np.dtype):
    if isinstance(value, np.ndarray):
        if value.dtype == target:
            return value
        # (an expanded operand is converted row-major: NumPy's order "K" would lay its copy out
        # along the repeated dims, and the op's result, which follows it, would not be contiguous)
        return value.astype(target, order="C" if 0 in value.strides else "K")
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


def floating_input(x, op_name: str) -> np.ndarray:
    """The array of a one-input op's input, integer and bool as the default float dtype (exp, sin)."""
    if type(x) is Tensor:  # the common case first: one type test and a dtype kind
        data = x._data
        if data.dtype.kind in "fc":
            return data
    return _floating(_unary_input(x, op_name))
