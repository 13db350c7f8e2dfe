"""Losses: elementwise, class-index (nll, cross entropy), divergence and margin losses."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, saved_array
from .._table import apply, register
from .._tangents import LINEAR, REDUCTION
from ..composite.numeric import AddBackward1, DivBackward1, MulBackward1, SubBackward1
from ..pointwise import (
    _check_broadcast,
    _constant_like,
    clamp_min,
    exp,
    masked_fill,
    minimum,
    sqrt,
    where,
    xlogy,
)
from ..pointwise import abs as absolute
from ..reduce import _index_along
from ._common import _torch_name
from .activation import _log_softmax_along, logsigmoid
from .distance import pairwise_distance

# ---------------------------------------------------------------------------
# Losses


_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """The old size_average/reduce flags, translated to `reduction` (with PyTorch's warning)."""
    if size_average is None and reduce is None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return reduction
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction='"
        f"{'none' if reduce is False else 'sum' if size_average is False else 'mean'}' instead.",
        UserWarning,
        stacklevel=3,
    )
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_array(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.mean(loss) if loss.size else np.array(np.nan, dtype=loss.dtype)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def _warn_if_broadcast(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
            "the same size.",
            UserWarning,
            stacklevel=3,
        )


def _loss_forward(compute, self, target, reduction, **params):
    """The elementwise loss of the broadcast pair, reduced."""
    _check_broadcast(self._data.shape, target._data.shape)
    common = _dtype.result_type(self, target).numpy  # int64 with float32 is float32, as PyTorch
    data, target_data = np.broadcast_arrays(self._data.astype(common, copy=False),
                                            target._data.astype(common, copy=False))
    return _reduce_array(compute(data, target_data, **params), reduction)


def _reduced(grad, reduction, difference):
    """The incoming gradient of each element: grad, or grad / count for 'mean' (grad is 0-d
    after a reduction and broadcasts against the elementwise derivative)."""
    if reduction == "mean":
        return grad / max(_math.numel(difference), 1)
    return grad


def _weighted_by(value, weight):
    """value * weight, weight an array parameter (None: no weight)."""
    return value if weight is None else value * _math.constant(weight, value)


def _mse_derivative(grad, self, target, reduction):
    difference = self - target
    return _reduced(grad, reduction, difference) * (difference * 2)


class _ReductionAsNumber:
    """A loss node that shows its reduction as PyTorch does, as the number of its enum
    (`_saved_reduction` is 0 for "none", 1 for "mean", 2 for "sum"; torchviz draws it), and
    a weight its formulas read as an array as the tensor PyTorch saves (freed with the node)."""

    __slots__ = ()

    def _find_saved(self, name: str):
        value = super()._find_saved(name)
        if name == "reduction" and isinstance(value, str):
            return _REDUCTION_NUMBERS[value]
        if type(value) is np.ndarray:
            return saved_array(self, value)
        return value


_REDUCTION_NUMBERS = {"none": 0, "mean": 1, "sum": 2}


class MseLossBackward0(_ReductionAsNumber, Formula):
    inputs = ("self", "target")

    @staticmethod
    def forward(self, target, reduction):
        return _loss_forward(_squared_difference, self, target, reduction)

    tangent = REDUCTION
    derivatives = {
        "self": _mse_derivative,
        "target": lambda grad, self, target, reduction: -_mse_derivative(grad, self, target, reduction),
    }


def _squared_difference(data, target):
    difference = data - target
    return difference * difference


def _smooth_l1(data, target, beta):
    distance = np.abs(data - target)
    if beta == 0:
        return distance
    return np.where(distance < beta, 0.5 * distance * distance / beta, distance - 0.5 * beta)


def _smooth_l1_derivative(grad, self, target, reduction, beta):
    """d / beta inside |d| < beta, sign(d) outside (d = input - target), as _huber_derivative."""
    difference = self - target
    grad = _reduced(grad, reduction, difference)
    if beta == 0:
        return grad * _math.sign(difference)
    quadratic = _math.absolute(difference) < beta
    local = (_math.mask_like(quadratic, difference) * difference / beta
             + _math.mask_like(~quadratic, difference) * _math.sign(difference))
    return grad * local


class SmoothL1LossBackward0(_ReductionAsNumber, Formula):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""

    inputs = ("self", "target")

    @staticmethod
    def forward(self, target, reduction, beta):
        return _loss_forward(_smooth_l1, self, target, reduction, beta=beta)

    tangent = REDUCTION
    derivatives = {
        "self": _smooth_l1_derivative,
        "target": lambda grad, self, target, reduction, beta: -_smooth_l1_derivative(
            grad, self, target, reduction, beta),
    }


def _huber(data, target, delta):
    distance = np.abs(data - target)
    return np.where(distance < delta, 0.5 * distance * distance, delta * (distance - 0.5 * delta))


def _huber_derivative(grad, self, target, reduction, delta):
    """d inside |d| < delta, delta * sign(d) outside; the local derivative (finite) multiplies
    grad, so the second derivative has the mask as a factor, as PyTorch's."""
    difference = self - target
    grad = _reduced(grad, reduction, difference)
    quadratic = _math.absolute(difference) < delta
    local = (_math.mask_like(quadratic, difference) * difference
             + _math.mask_like(~quadratic, difference) * (_math.sign(difference) * delta))
    return grad * local


class HuberLossBackward0(_ReductionAsNumber, Formula):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""

    inputs = ("self", "target")

    @staticmethod
    def forward(self, target, reduction, delta):
        return _loss_forward(_huber, self, target, reduction, delta=delta)

    tangent = REDUCTION
    derivatives = {
        "self": _huber_derivative,
        "target": lambda grad, self, target, reduction, delta: -_huber_derivative(
            grad, self, target, reduction, delta),
    }


_LOG_FLOOR = -100.0
_BCE_EPSILON = 1e-12


def _bce(data, target, weight):
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(data), _LOG_FLOOR)
        log_rest = np.maximum(np.log1p(-data), _LOG_FLOOR)
    loss = -(target * log_x + (1 - target) * log_rest)
    return loss if weight is None else loss * weight


class BinaryCrossEntropyBackward0(_ReductionAsNumber, Formula):
    """-w (t log x + (1 - t) log(1 - x)), each log floored at -100 as PyTorch does."""

    inputs = ("self", "target")

    @staticmethod
    def forward(self, target, reduction, weight=None):
        return _loss_forward(_bce, self, target, reduction, weight=weight)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, target, reduction, weight: _weighted_by(
            _reduced(grad, reduction, self) * (self - target)
            / _math.clamp_min((1 - self) * self, _BCE_EPSILON), weight),
        "target": lambda grad, self, reduction, weight: _weighted_by(
            _reduced(grad, reduction, self) * (_math.log(1 - self) - _math.log(self)), weight),
    }


def _bce_logits(data, target, weight, pos_weight):
    softplus_negative = np.logaddexp(0, -data)
    if pos_weight is None:
        loss = (1 - target) * data + softplus_negative
    else:
        loss = (1 - target) * data + (1 + (pos_weight - 1) * target) * softplus_negative
    return loss if weight is None else loss * weight


def _bce_logits_input_derivative(grad, self, target, reduction, weight, pos_weight):
    grad = _reduced(grad, reduction, self)
    if pos_weight is None:
        return _weighted_by(grad * (_math.sigmoid(self) - target), weight)
    extra = _math.constant(pos_weight, self) - 1
    return _weighted_by(grad * ((1 - target) - (target * extra + 1) * _math.sigmoid(-self)), weight)


def _bce_logits_target_derivative(grad, self, reduction, weight, pos_weight):
    grad = _reduced(grad, reduction, self)
    if pos_weight is None:
        return _weighted_by(grad * -self, weight)
    extra = _math.constant(pos_weight, self) - 1
    return _weighted_by(grad * (_math.softplus(-self) * extra - self), weight)


class BinaryCrossEntropyWithLogitsBackward0(_ReductionAsNumber, Formula):
    """w ((1 - t) x + (1 + (pw - 1) t) softplus(-x)): the stable form, no log of a sigmoid."""

    inputs = ("self", "target")

    @staticmethod
    def forward(self, target, reduction, weight=None, pos_weight=None):
        return _loss_forward(_bce_logits, self, target, reduction, weight=weight, pos_weight=pos_weight)

    tangent = REDUCTION
    derivatives = {"self": _bce_logits_input_derivative, "target": _bce_logits_target_derivative}


def _elementwise_loss(node, input, target, size_average, reduce, reduction, **params):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_if_broadcast(input, target)
    return apply(node, input, target, reduction=reduction, **params)


def _weighted(loss: Tensor, weight: Tensor, reduction: str, mean_over_weight: bool) -> Tensor:
    """Each element's loss scaled by weight (same shape as input), then reduced; 'mean'
    divides by the total weight (mse, l1) or by the element count (huber), as PyTorch does."""
    if weight.shape != loss.shape:
        raise ValueError("Weights and input must have the same size.")
    scaled = loss * weight
    if reduction == "mean" and mean_over_weight:
        return scaled.sum() / weight.sum()
    return _reduce(scaled, reduction)


@register(torch_name=_torch_name("mse_loss"),
          floating=("input", "target"))
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """The (mean) squared difference; with `weight`, the weighted mean."""
    if weight is None:
        return _elementwise_loss(MseLossBackward0, input, target, size_average, reduce, reduction)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_if_broadcast(input, target)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    # (composed as PyTorch's Python composes it: PowBackward0, MulBackward0, the reduction)
    return _weighted((input - target) ** 2, weight, reduction, mean_over_weight=True)


@register(torch_name=_torch_name("l1_loss"))
def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """The (mean) absolute difference; with `weight`, the weighted mean."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_if_broadcast(input, target)
    loss = absolute(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    return _weighted(loss, weight, reduction, mean_over_weight=True)


@register(torch_name=_torch_name("smooth_l1_loss"),
          floating=("input", "target"))
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """Quadratic for |d| < beta, linear beyond (continuous slope)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _elementwise_loss(SmoothL1LossBackward0, input, target, size_average, reduce, reduction,
                             beta=beta)


@register(torch_name=_torch_name("huber_loss"),
          floating=("input", "target"))
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """Quadratic for |d| < delta, delta * (|d| - delta / 2) beyond."""
    target = _in_input_dtype(target, input)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return _elementwise_loss(HuberLossBackward0, input, target, None, None, reduction, delta=delta)
    loss = _elementwise_loss(HuberLossBackward0, input, target, None, None, "none", delta=delta)
    return _weighted(loss, weight, reduction, mean_over_weight=False)


def _expands_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of `shape` expands to `target` (what Tensor.expand accepts)."""
    return len(shape) <= len(target) and all(size in (1, wanted) for size, wanted in
                                             zip(reversed(shape), reversed(target)))


def _weight_array(weight, like: Tensor):
    return None if weight is None else np.asarray(weight._data, dtype=like._data.dtype)


@register(torch_name=_torch_name("binary_cross_entropy"), floating=True,
          same_dtype=("input", "target", "weight"))
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """-(target log(input) + (1 - target) log(1 - input)), input a probability."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
            "is deprecated. Please ensure they have the same size."
        )
    data = input._data
    if data.size and ((data < 0).any() or (data > 1).any() or np.isnan(data).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    weight = _weight_array(weight, input)
    if weight is not None and _expands_to(weight.shape, input._data.shape):
        weight = np.broadcast_to(weight, input._data.shape)  # (expanded as PyTorch's node saves it)
    return apply(BinaryCrossEntropyBackward0, input, target, reduction=reduction, weight=weight)


@register(torch_name=_torch_name("binary_cross_entropy_with_logits"),
          floating=True)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits.

    pos_weight scales the positive term (per class, broadcast over the last dim).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return apply(BinaryCrossEntropyWithLogitsBackward0, input, target, reduction=reduction,
                 weight=_weight_array(weight, input), pos_weight=_weight_array(pos_weight, input))


# Class-index losses


def _nll_target_as_given(node):
    """The target as the call gave it: the class index, the ignore index where ignored."""
    target, ignore, axis = (node._parameter(name) for name in ("target", "ignore", "axis"))
    classes = np.squeeze(target, axis)
    if ignore is not None:
        classes = np.where(ignore, node._parameter("ignore_index"), classes)
    return saved_array(node, classes.astype(np.int64))


def _nll_total_weight(node):
    """The summed weight of the kept targets ('mean' divides by it); 0 for 'none', as PyTorch."""
    target_weight = node._parameter("target_weight")
    total = target_weight.sum() if node._parameter("reduction") != "none" else 0
    return saved_array(node, np.asarray(total, dtype=target_weight.dtype))


def _nll_class_weight(node):
    weight = node._parameter("weight")
    return None if weight is None else saved_array(node, weight)


class NllLossBackward0(ShownAsPyTorch, _ReductionAsNumber, Formula):
    """-weight[t] * input[t] along the class dim (ignored targets contribute 0), reduced;
    backward puts the scaled gradient at the target positions (`_math.nll_loss_backward`),
    selecting the kept targets: an ignored one gets 0, also when all are ignored.

    It shows PyTorch's saved values (the target as given, the ignore index, the class weight
    and the total weight), see Note [Saved values as PyTorch shows them]."""

    @staticmethod
    def forward(self, target, target_weight, ignore, axis, reduction, ignore_index=-100, weight=None):
        return _nll_loss_array(self._data, target, target_weight, axis, reduction)

    shown: ClassVar[dict] = {
        "ignore_index": lambda node: node._parameter("ignore_index"),
        "target": _nll_target_as_given,
        "total_weight": _nll_total_weight,
        "weight": _nll_class_weight,
    }
    hidden = ("target_weight", "ignore", "axis")

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self, target, target_weight, ignore, axis, reduction: _nll_loss_backward(
            grad, self, target, target_weight, ignore, axis, reduction),
    }


class NllLoss2DBackward0(NllLossBackward0):
    """nll_loss over an (N, C, H, W) input, PyTorch's node for inputs of 3 or more dims (Note
    [nll_loss over more dims]); the same formulas."""


def _nll_loss_array(data, target, target_weight, axis, reduction):
    picked = data[_index_along(target, axis)]  # (what take_along_axis does, without its checks)
    losses = -picked.squeeze(axis) * target_weight
    if reduction == "none":
        return losses
    total = np.add.reduce(losses, axis=None)
    if reduction == "sum":
        return total
    total_weight = np.add.reduce(target_weight, axis=None)
    if 0 < abs(total_weight) < np.inf:
        return total / total_weight
    with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: 0 / 0 is NaN, silently
        return total / total_weight


def _nll_loss_backward(grad, self, target, target_weight, ignore, axis, reduction):
    """nll_loss's derivative by its input; recorded (create_graph) as a function of the gradient
    and of the input, whose own derivative by the input is zero (PyTorch's nll_loss_backward)."""
    if isinstance(grad, Tensor):
        return apply(NllLossBackwardBackward0, grad, self, target=target, target_weight=target_weight,
                     ignore=ignore, axis=axis, reduction=reduction)
    return _math.nll_loss_backward(grad, self.shape, target, target_weight, ignore, axis, reduction)


def _nll_loss_of(grad, target, target_weight, axis, reduction):
    if isinstance(grad, Tensor):
        return apply(NllLossBackward0, grad, target=target, target_weight=target_weight, ignore=None,
                     axis=axis, reduction=reduction)
    return _nll_loss_array(grad, target, target_weight, axis, reduction)


class NllLossBackwardBackward0(Formula):
    """nll_loss's derivative: linear in the gradient (its derivative by the gradient is nll_loss
    itself, the adjoint of a scatter being a gather) and flat in the input (zero)."""

    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, target, target_weight, ignore, axis, reduction):
        return _math.nll_loss_backward(grad_output._data, self._data.shape, target, target_weight, ignore,
                                       axis, reduction)

    tangent = LINEAR
    derivatives = {
        "grad_output": lambda grad, target, target_weight, axis, reduction: _nll_loss_of(
            grad, target, target_weight, axis, reduction),
        "self": lambda grad: _math.zeros_like(grad),
    }


def _class_targets(input: Tensor, target: Tensor, weight, ignore_index: int):
    """The class axis, the target as an index array along it, and each target's weight
    (0 where ignored); PyTorch's checks on shapes and ranges.

    It reads the arrays' shapes and reduces with the ufuncs themselves: it runs on every
    call of cross_entropy and nll_loss, so it spends no Python call the values do not need.
    """
    targets = target._data
    if targets.dtype.kind not in "iu":
        raise RuntimeError(
            f"expected scalar type Long but found {_dtype.scalar_type_name(target.dtype)}"
        )
    shape = input._data.shape
    axis = 1 if len(shape) >= 2 else 0
    if len(shape) >= 2 and targets.ndim >= 1 and shape[0] != targets.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({shape[0]}) to match target batch_size ({targets.shape[0]})."
        )
    if len(shape) > 2 and targets.shape != shape[:axis] + shape[axis + 1:]:
        raise RuntimeError(
            f"Expected target size [{', '.join(map(str, shape[:axis] + shape[axis + 1:]))}], got "
            f"[{', '.join(map(str, targets.shape))}]"
        )
    if len(shape) <= 2 and targets.ndim != len(shape) - 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    classes = shape[axis]
    kept = targets != ignore_index
    every_target_kept = np.logical_and.reduce(kept, axis=None)
    checked = targets if every_target_kept else targets[kept]
    if checked.size and (np.minimum.reduce(checked, axis=None) < 0
                         or np.maximum.reduce(checked, axis=None) >= classes):
        out_of_bounds = checked[(checked < 0) | (checked >= classes)]
        raise IndexError(f"Target {out_of_bounds.flat[0]} is out of bounds.")
    # (a copy either way: the node keeps it, whatever later happens to the target tensor)
    safe = targets.astype(np.int64) if every_target_kept else np.where(kept, targets, 0).astype(np.int64)
    if weight is None:
        coefficients = kept.astype(input._data.dtype)  # (a weight of 1 per kept target)
    else:
        coefficients = _weight_array(weight, input)[safe] * kept
    return axis, safe.reshape((*safe.shape[:axis], 1, *safe.shape[axis:])), coefficients, kept


@register(torch_name=_torch_name("nll_loss"), floating=True,
          same_dtype=("input", "weight"),
          not_differentiable=("weight",))
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """The negative log-likelihood of class-index targets, from log-probabilities `input`.

    Classes lie along dim 1 (dim 0 for one sample); 'mean' divides by the targets' total weight.
    """
    return _nll_loss(input, target, weight, ignore_index, _legacy_reduction(size_average, reduce, reduction))


def _nll_loss(input, target, weight, ignore_index: int, reduction: str):
    """nll_loss once its arguments are checked (cross_entropy's wrapper checks the same ones)."""
    axis, index, coefficients, kept = _class_targets(input, target, weight, ignore_index)
    class_weight = None if weight is None else weight._data
    node_class = NllLossBackward0
    spatial_shape = None
    if input.ndim >= 3:
        node_class = NllLoss2DBackward0
        if input.ndim != 4:  # (Note [nll_loss over more dims])
            spatial_shape = kept.shape
            input, index, coefficients, kept = _as_one_row(input, index, coefficients, kept)
    loss = apply(node_class, input, target=index, target_weight=coefficients, ignore=~kept, axis=axis,
                 reduction=reduction, ignore_index=ignore_index, weight=class_weight)
    return loss.view(spatial_shape) if spatial_shape is not None and reduction == "none" else loss


# Note [nll_loss over more dims]
#     PyTorch's nll_loss of an (N, C, d1, ...) input runs its 2-d kernel (NllLoss2DBackward0),
#     which takes (N, C, H, W): a 4-d input as it is, any other made contiguous and viewed as
#     (N, C, 1, d1 * d2 * ...) (the target as (N, 1, d1 * ...)), an unreduced loss viewed back
#     to the target's shape. Its node shows that view's input and target.


def _as_one_row(input, index, coefficients, kept):
    """The input viewed as (N, C, 1, rest) and the target arrays laid out to match."""
    batch, classes = input.shape[:2]
    rest = (1, input.numel() // (batch * classes)) if input.numel() else (0, 0)
    return (input.contiguous().view(batch, classes, *rest), index.reshape(batch, 1, *rest),
            coefficients.reshape(batch, *rest), kept.reshape(batch, *rest))


@register(torch_name=_torch_name("cross_entropy"), floating=True,
          same_dtype=("input", "weight"),
          not_differentiable=("weight",))
def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """nll_loss(log_softmax(input), target) along the class dim (1, or 0 for one sample).

    A float target shaped like input holds class probabilities instead:
    -sum(target * log_softmax(input)) over the class dim.

    label_smoothing eps mixes the target with the uniform distribution: (1 - eps) * target + eps / C.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    shape = input._data.shape
    axis = 1 if len(shape) >= 2 else 0
    log_probabilities = _log_softmax_along(input, axis)
    classes = shape[axis]
    class_weight = None
    if weight is not None:
        class_shape = [1] * len(shape)
        class_shape[axis] = classes
        class_weight = _constant_like(input, _weight_array(weight, input).reshape(class_shape))
    if target._data.dtype.kind == "f":
        if target.shape != input.shape:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if label_smoothing > 0:  # (by Scalars, as PyTorch's graph)
            target = apply(AddBackward1, apply(MulBackward1, target, other=1 - label_smoothing),
                           other=label_smoothing / classes)
        # log_probabilities * target * weight, negated after the sum, as PyTorch's graph
        products = log_probabilities * target
        if class_weight is not None:
            products = products * class_weight
        if reduction == "mean":
            return apply(DivBackward1, -products.sum(), other=input.numel() // max(classes, 1))
        if reduction == "sum":
            return -products.sum()
        return -products.sum(axis)
    loss = _nll_loss(log_probabilities, target, weight, ignore_index, reduction)
    if label_smoothing <= 0:
        return loss
    weighted = log_probabilities if class_weight is None else log_probabilities * class_weight
    # PyTorch's graph: the ignored targets' smoothing terms filled with 0 (selected: NaN stays
    # off them), divided by a tensor count, and both terms scaled by Scalars (MulBackward1)
    _, _, coefficients, kept = _class_targets(input, target, weight, ignore_index)
    smooth = masked_fill(-weighted.sum(axis), Tensor._make(~kept), 0.0)
    if reduction == "mean":
        denominator = coefficients.sum() if weight is not None else kept.sum()
        smooth = smooth.sum() / Tensor._make(np.asarray(denominator))
    else:
        smooth = _reduce(smooth, reduction)
    return (apply(MulBackward1, loss, other=1 - label_smoothing)
            + apply(MulBackward1, smooth, other=label_smoothing / classes))


_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


@register(torch_name=_torch_name("kl_div"))
def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """target * (log(target) - input) pointwise, input holding log-probabilities.

    'batchmean' divides the sum by the batch size, as the KL divergence's definition wants.
    """
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if reduction == "mean":
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    if reduction == "batchmean":
        batch = input.shape[0] if input.ndim else 1
        reduction = "sum"
    else:
        batch = None
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_target:
        pointwise = exp(target) * (target - input)
    else:
        pointwise = xlogy(target, target) - target * input
    loss = _reduce(pointwise, reduction)
    return loss / batch if batch is not None else loss


@register(torch_name=_torch_name("triplet_margin_loss"))
def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
    """max(d(anchor, positive) - d(anchor, negative) + margin, 0), d the p-norm distance."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = minimum(to_negative, pairwise_distance(positive, negative, p, eps))
    # (margin + d(anchor, positive) - d(anchor, negative), added and subtracted as PyTorch does)
    return _reduce(clamp_min(apply(AddBackward1, to_positive, other=margin) - to_negative, 0), reduction)


class MultiMarginLossBackward0(_ReductionAsNumber, Formula):
    """The multi-class hinge loss, PyTorch's node: per sample, the sum over classes j != y of
    (w[y] times) max(0, margin - x[y] + x[j]) ** p, over the class count; reduced.

    Sums run in PyTorch's order (class by class, then sample by sample: `_in_order`), so the
    values are its to the last bit. Its derivative is recorded (create_graph) as ops of the
    input, so it can be differentiated again (PyTorch's cannot)."""

    @staticmethod
    def forward(self, target, p, margin, weight, reduction):
        data = self._data
        rows = data.reshape(-1, data.shape[-1])
        hinge = _multi_margin_hinge(rows, target.reshape(-1), p, margin, weight)
        losses = _in_order(hinge, 1) / rows.shape[1]
        if reduction == "none":
            return losses.reshape(target.shape)
        total = _in_order(losses, 0)
        return total / rows.shape[0] if reduction == "mean" else total

    # (no tangent formula: forward mode raises, as PyTorch's)
    derivatives = {"self": lambda grad, self, target, p, margin, weight, reduction: _multi_margin_backward(
        grad, self, target, p, margin, weight, reduction)}


def _in_order(values: np.ndarray, axis: int) -> np.ndarray:
    """The sum along `axis` added one element after another (a running sum's last entry), as
    PyTorch's loss kernels add; NumPy's own sum adds pairwise."""
    if values.shape[axis] == 0:
        return values.sum(axis)
    return np.take(np.cumsum(values, axis=axis), -1, axis=axis)


def _multi_margin_hinge(rows: np.ndarray, labels: np.ndarray, p: int, margin: float, weight) -> np.ndarray:
    """Each (sample, class) term of multi_margin_loss: 0 at the sample's own class."""
    picked = rows[np.arange(rows.shape[0]), labels][:, None]
    excess = margin - picked + rows
    active = (excess > 0) & (np.arange(rows.shape[1]) != labels[:, None])
    hinge = np.where(active, excess if p == 1 else excess * excess, 0).astype(rows.dtype, copy=False)
    return hinge if weight is None else hinge * weight[labels][:, None]


def _multi_margin_backward(grad, self, target, p, margin, weight, reduction):
    """Each active class gets g (p = 1) or 2 g z (p = 2), times w[y], with g = 1 / classes
    (over samples too for 'mean'); the sample's own class gets minus their sum; all times the
    incoming gradient (per sample for 'none'). On Tensors (create_graph) the same as ops."""
    shape = tuple(self.shape)
    classes = shape[-1]
    count = max(_math.numel(self) // max(classes, 1), 1)
    scale = 1.0 / (count * classes) if reduction == "mean" else 1.0 / classes
    labels = target.reshape(-1)
    own = np.arange(classes) == labels[:, None]
    rows = _math.reshape(self, (-1, classes))
    row_data = rows._data if isinstance(rows, Tensor) else rows
    picked = row_data[np.arange(row_data.shape[0]), labels][:, None]
    active = ((margin - picked + row_data) > 0) & ~own
    if p == 1:
        factor = _math.constant(np.where(active, scale, 0.0).astype(row_data.dtype), rows)
    else:
        excess = (margin - _math.gather(rows, 1, labels[:, None])) + rows  # (PyTorch's order)
        factor = _math.where(active, (2 * scale) * excess, 0.0)
    if weight is not None:
        factor = factor * _math.constant(weight[labels][:, None], rows)
    own_share = -_math.sum_dims(factor, (1,), True) if isinstance(factor, Tensor) else -_in_order(
        factor, 1)[:, None]
    per_class = _math.where(own, own_share, factor)
    incoming = grad if reduction != "none" else _math.reshape(grad, (-1, 1))
    return _math.reshape(per_class * incoming, shape)


@register(torch_name=_torch_name("margin_ranking_loss"))
def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """max(0, -target * (input1 - input2) + margin), target in {1, -1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce(clamp_min(apply(AddBackward1, -target * (input1 - input2), other=margin), 0), reduction)


@register(torch_name=_torch_name("hinge_embedding_loss"))
def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    # PyTorch's graph: max(margin - input, 0) and input each selected by the labels (where)
    labels, zeros = target._data, _constant_like(input, 0)
    below_margin = clamp_min(_constant_like(input, margin) - input, 0)
    loss = (where(Tensor._make(labels != 1), below_margin, zeros)
            + where(Tensor._make(labels != -1), input, zeros))
    if not input.dtype.is_floating_point:
        loss = loss.to(input.dtype)  # PyTorch keeps an integer input's dtype (and its mean refuses it)
    return _reduce(loss, reduction)


@register(torch_name=_torch_name("soft_margin_loss"))
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """log(1 + exp(-target * input)), target in {1, -1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.requires_grad:
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. "
            "This input cannot have requires_grad True."
        )
    return apply(SoftMarginLossBackward0, input, target, reduction=reduction)


def _soft_margin(data, target):
    """log(1 + exp(-target * input)) as PyTorch computes it (inf once exp overflows)."""
    return np.log1p(np.exp(-target * data))


def _soft_margin_derivative(grad, self, target, reduction):
    """-target z / (1 + z), z = exp(-target * input), as PyTorch computes it (NaN once z is inf)."""
    exponential = _math.exp(-target * self)
    return _reduced(grad, reduction, self) * (-target * exponential / (1 + exponential))


class SoftMarginLossBackward0(_ReductionAsNumber, Formula):
    """log(1 + exp(-target * input)), reduced; the target has no gradient (as PyTorch)."""

    inputs = ("self", "target")

    @staticmethod
    def forward(self, target, reduction):
        return _loss_forward(_soft_margin, self, target, reduction)

    tangent = REDUCTION
    derivatives = {"self": _soft_margin_derivative}


def _in_input_dtype(target, input):
    """The target in input's floating dtype: losses whose result PyTorch writes into a tensor
    like input (huber, soft margin) give float32 for a float32 input and a float64 target."""
    if (isinstance(target, Tensor) and isinstance(input, Tensor) and target.dtype is not input.dtype
            and target.dtype.is_floating_point and input.dtype.is_floating_point):
        return target.to(input.dtype)
    return target


@register(torch_name=_torch_name("multilabel_soft_margin_loss"), floating=True)
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """Binary cross entropy of each class's logit, averaged over the classes (last dim)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1  # (as PyTorch's node shows it: counted from the front)
    return _reduce(loss.sum(class_dim) / input.shape[class_dim], reduction)


@register(torch_name=_torch_name("poisson_nll_loss"))
def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):
    """The Poisson negative log-likelihood: exp(input) - target * input for log-rates, or
    input - target * log(input + eps) for rates; `full` adds Stirling's term where target > 1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    # (composed as PyTorch's C++ composes it, Scalars and all: its graph, and its NaN gradients
    # where Stirling's term is masked out but its logarithm is not finite)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * apply(AddBackward1, input, other=eps).log()
    if full:
        stirling = (target * target.log() - target
                    + apply(MulBackward1, apply(MulBackward1, target, other=2 * math.pi).log(), other=0.5))
        loss = loss + stirling.masked_fill(Tensor._make(target._data <= 1), 0)
    return _reduce(loss, reduction)


@register(torch_name=_torch_name("gaussian_nll_loss"))
def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """0.5 * (log(var) + (input - target)^2 / var), var floored at eps (the floor passes no
    gradient change: var's gradient is taken as if unclamped, as PyTorch does)."""
    if isinstance(var, numbers.Number):
        var = Tensor._make(np.full(input.shape, float(var), dtype=input._data.dtype))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    if not var.dtype.is_floating_point:  # PyTorch clamps var in place: a float can't go into it
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_dtype.scalar_type_name(var.dtype)}")
    # (cloned and floored in place out of the graph, as PyTorch: the floor passes the gradient)
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = (var.log() + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@register(torch_name=_torch_name("cosine_embedding_loss"))
def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                          reduction: str = "mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where target is -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    # PyTorch's graph: the squared norms plus a Scalar 1e-12, the root of their product, and
    # 1 - cos and max(cos - margin, 0) each selected by the labels (where)
    dim = input1.ndim - 1  # (the last: PyTorch's 0 or 1; vmap runs it on more dims, the batch's first)
    dot = (input1 * input2).sum(dim)
    squares = [apply(AddBackward1, (each * each).sum(dim), other=1e-12) for each in (input1, input2)]
    cosine = dot / sqrt(squares[0] * squares[1])
    labels, zeros = target._data, _constant_like(cosine, 0)
    similar = where(Tensor._make(labels == 1), _constant_like(cosine, 1) - cosine, zeros)
    beyond_margin = clamp_min(apply(SubBackward1, cosine, other=margin), 0)
    dissimilar = where(Tensor._make(labels == -1), beyond_margin, zeros)
    loss = similar + dissimilar
    return _reduce(loss, reduction)
