"""Elementwise operators with three inputs (lerp, addcmul, addcdiv) and selection by a mask
(where, masked_fill)."""

from __future__ import annotations

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._direct_write import direct_writer, plain_number
from .._formula import Formula
from .._table import apply, register, register_method
from .._tangents import ELEMENT_WISE, LINEAR, LinearWith
from .promotion import _check_broadcast, _unary_input, integral_coefficient, operand_arrays, same_dtype_tensor

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


@register(methods="lerp", inplace="lerp_", floating=("input", "end"))
def lerp(input, end, weight):
    """Linear interpolation input + weight * (end - input); weight a number or tensor."""
    if isinstance(weight, Tensor):
        return apply(LerpBackward1, input, end, weight)
    return apply(LerpBackward0, input, end, weight=weight)


@direct_writer("lerp_")
def _lerp_into(data: np.ndarray, end, weight):
    """`_lerp_arrays` for a number weight, written into `data` (the start)."""
    high = same_dtype_tensor(data, end)
    if high is None or data.dtype.kind != "f" or not plain_number(weight):
        return NotImplemented
    weight = np.asarray(weight, dtype=data.dtype)
    difference = np.subtract(high, data)
    if np.abs(weight) < 0.5:
        np.multiply(difference, weight, out=difference)
        np.add(data, difference, out=data)
    else:
        np.multiply(difference, 1 - weight, out=difference)
        np.subtract(high, difference, out=data)


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
        if tensor1._data.dtype.kind in "iub" and tensor2._data.dtype.kind in "iub":  # (before promotion)
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


@register(methods="addcmul", inplace="addcmul_")
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2, with broadcasting."""
    value = integral_coefficient(value, (input, tensor1, tensor2), "value")
    return apply(AddcmulBackward0, input, tensor1, tensor2, value=value)


@register(methods="addcdiv", inplace="addcdiv_")
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2, with broadcasting."""
    return apply(AddcdivBackward0, input, tensor1, tensor2, value=value)


def _scaled_product(data: np.ndarray, tensor1, tensor2, value, combine) -> np.ndarray | None:
    """`value * tensor1` combined (`np.multiply`, `np.true_divide`) with `tensor2`, as addcmul
    and addcdiv compute it, for a direct write into `data`; None where the general path decides
    (another dtype, a shape that does not fit, a value that is no plain number, integers)."""
    first, second = same_dtype_tensor(data, tensor1), same_dtype_tensor(data, tensor2)
    if first is None or second is None or data.dtype.kind != "f" or not plain_number(value):
        return None
    scaled = np.multiply(first, value)
    return combine(scaled, second, out=scaled if scaled.shape == second.shape else None)


@direct_writer("addcmul_")
def _addcmul_into(data: np.ndarray, tensor1, tensor2, *, value=1):
    product = _scaled_product(data, tensor1, tensor2, value, np.multiply)
    if product is None:
        return NotImplemented
    np.add(data, product, out=data)


@direct_writer("addcdiv_")
def _addcdiv_into(data: np.ndarray, tensor1, tensor2, *, value=1):
    quotient = _scaled_product(data, tensor1, tensor2, value, np.true_divide)
    if quotient is None:
        return NotImplemented
    np.add(data, quotient, out=data)


# ---------------------------------------------------------------------------
# Selecting by a mask


class WhereBackward0(Formula):
    """condition ? input : other; each side's gradient is the incoming one where it was taken."""

    inputs = ("self", "other")

    @staticmethod
    def forward(self, other, condition):
        left, right = operand_arrays(self, other, "where")
        shape, left_shape, right_shape = condition._data.shape, left.shape, right.shape
        if not shape == left_shape == right_shape:  # (the common case needs no broadcasting)
            _check_broadcast(shape, np.broadcast_shapes(left_shape, right_shape))
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


@register()
def where(condition, input=None, other=None):
    """input where `condition` holds, else other (numbers allowed); where(condition) = nonzero."""
    if input is None and other is None:
        if not isinstance(condition, Tensor):
            _check_condition(condition)
        return tuple(Tensor._make(index.astype(np.int64)) for index in np.nonzero(condition._data))
    if type(condition) is not Tensor or condition._data.dtype != np.bool_:  # (else it passes)
        _check_condition(condition)
    if type(input) is not Tensor or type(other) is not Tensor:  # (two tensors: no number to fit)
        for tensor, number in ((input, other), (other, input)):  # a number must fit, never wraps
            if type(number) is int and isinstance(tensor, Tensor) and tensor._data.dtype.kind in "iu":
                from ..._creation import check_convertible

                check_convertible(number, tensor.dtype)
    return apply(WhereBackward0, input, other, condition=condition)


register_method("where", lambda self, condition, other: where(condition, self, other))


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


@register(methods="masked_fill", inplace="masked_fill_")
def masked_fill(input, mask, value):
    """input with `value` (a number or 0-d tensor) wherever the bool `mask` is True."""
    _check_mask(mask, value)
    if isinstance(value, Tensor):
        return apply(MaskedFillBackward1, input, value, mask=mask)
    if type(value) in (int, float) and isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        from ..._creation import check_convertible

        check_convertible(value, input.dtype)  # a fill value must fit, never wraps
    return apply(MaskedFillBackward0, input, mask=mask, value=value)
