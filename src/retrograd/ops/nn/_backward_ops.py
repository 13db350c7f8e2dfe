"""The backward ops of the piecewise-linear activations, recorded when a graph of the
backward is built (create_graph): PyTorch's threshold_backward, hardtanh_backward,
leaky_relu_backward, softshrink_backward and hardshrink_backward; those of smooth ops whose
second derivative PyTorch writes by hand (elu_backward, hardswish_backward, sigmoid_backward,
tanh_backward), so that NaN and Inf travel through it as in PyTorch and the graph of a
derivative has PyTorch's nodes; and the first derivative of the linear nn ops as a function
of their input (see `joined_to_input`).

Each selects the incoming gradient by the saved input; its own derivative is the same
selection for `grad_output` and zero for `self` (the mask is flat almost everywhere), so a
second derivative through relu & co. is zeros, as PyTorch's, instead of "does not require
grad". The array kernels are the ones in `ops/_math.py`.
"""

from __future__ import annotations

from .. import _math
from .._formula import Formula
from .._table import apply
from .._tangents import ELEMENT_WISE


class ThresholdBackwardBackward0(Formula):
    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, threshold):
        return _math.threshold_backward(grad_output._data, self._data, threshold)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, self, threshold: _math.threshold_backward(grad, self, threshold),
        "self": lambda grad: _math.zeros_like(grad),
    }


class HardtanhBackwardBackward0(Formula):
    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, min_val, max_val):
        return _math.hardtanh_backward(grad_output._data, self._data, min_val, max_val)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, self, min_val, max_val: _math.hardtanh_backward(
            grad, self, min_val, max_val),
        "self": lambda grad: _math.zeros_like(grad),
    }


class LeakyReluBackwardBackward0(Formula):
    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, negative_slope):
        return _math.leaky_relu_backward(grad_output._data, self._data, negative_slope)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, self, negative_slope: _math.leaky_relu_backward(
            grad, self, negative_slope),
        "self": lambda grad: _math.zeros_like(grad),
    }


class SoftshrinkBackwardBackward0(Formula):
    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, lambd):
        return _math.softshrink_backward(grad_output._data, self._data, lambd)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, self, lambd: _math.softshrink_backward(grad, self, lambd),
        "self": lambda grad: _math.zeros_like(grad),
    }


class HardshrinkBackwardBackward0(Formula):
    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, lambd):
        return _math.hardshrink_backward(grad_output._data, self._data, lambd)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, self, lambd: _math.hardshrink_backward(grad, self, lambd),
        "self": lambda grad: _math.zeros_like(grad),
    }


class HardswishBackwardBackward0(Formula):
    """hardswish's derivative; its own derivative by `self` is grad * grad_output / 3 inside
    (-3, 3), selected (0 elsewhere), as PyTorch's."""

    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self):
        return _math.hardswish_backward(grad_output._data, self._data)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, self: _math.hardswish_backward(grad, self),
        "self": lambda grad, grad_output, self: _math.keep_where(
            (self > -3) & (self < 3), grad * grad_output / 3),
    }


class EluBackwardBackward0(Formula):
    """elu's (selu's, celu's) derivative by its input. Its own derivative by `self` is PyTorch's
    elu_double_backward: the same selection fed grad * grad_output * input_scale, multiplied by
    the mask self < 0 (a product, not a selection: Inf there gives NaN where self >= 0, as in
    PyTorch)."""

    inputs = ("grad_output", "self")

    @staticmethod
    def forward(grad_output, self, alpha, scale, input_scale):
        return _math.elu_backward(grad_output._data, self._data, alpha, scale, input_scale)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, self, alpha, scale, input_scale: _math.elu_backward(
            grad, self, alpha, scale, input_scale),
        "self": lambda grad, grad_output, self, alpha, scale, input_scale: _math.elu_backward(
            grad * grad_output * input_scale, self, alpha, scale, input_scale)
        * _math.mask_like(self < 0, self),
    }


class SigmoidBackwardBackward0(Formula):
    """sigmoid's derivative from its result; by `output` its derivative is
    grad * grad_output * (1 - 2 output), PyTorch's (an infinite grad_output stays infinite)."""

    inputs = ("grad_output", "output")

    @staticmethod
    def forward(grad_output, output):
        return _math.sigmoid_backward(grad_output._data, output._data)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, output: _math.sigmoid_backward(grad, output),
        "output": lambda grad, grad_output, output: grad * grad_output * (-2 * output + 1),
    }


class TanhBackwardBackward0(Formula):
    """tanh's derivative from its result; by `output` its derivative is
    -2 grad * grad_output * output, PyTorch's."""

    inputs = ("grad_output", "output")

    @staticmethod
    def forward(grad_output, output):
        return _math.tanh_backward(grad_output._data, output._data)

    tangent = ELEMENT_WISE
    derivatives = {
        "grad_output": lambda grad, output: _math.tanh_backward(grad, output),
        "output": lambda grad, grad_output, output: grad * (-2 * output * grad_output),
    }


def tanh_backward(grad, output):
    return apply(TanhBackwardBackward0, grad, output)


def hardswish_backward(grad, self):
    return apply(HardswishBackwardBackward0, grad, self)


def elu_backward(grad, self, alpha, scale, input_scale):
    return apply(EluBackwardBackward0, grad, self, alpha=alpha, scale=scale, input_scale=input_scale)


def sigmoid_backward(grad, output):
    return apply(SigmoidBackwardBackward0, grad, output)


def threshold_backward(grad, self, threshold):
    return apply(ThresholdBackwardBackward0, grad, self, threshold=threshold)


def hardtanh_backward(grad, self, min_val, max_val):
    return apply(HardtanhBackwardBackward0, grad, self, min_val=min_val, max_val=max_val)


def leaky_relu_backward(grad, self, negative_slope):
    return apply(LeakyReluBackwardBackward0, grad, self, negative_slope=negative_slope)


def softshrink_backward(grad, self, lambd):
    return apply(SoftshrinkBackwardBackward0, grad, self, lambd=lambd)


def hardshrink_backward(grad, self, lambd):
    return apply(HardshrinkBackwardBackward0, grad, self, lambd=lambd)


# ---------------------------------------------------------------------------
# The first derivative of a linear nn op, as a function of the op's input
#
# PyTorch computes the gradient of avg_pool2d, adaptive_avg_pool2d, reflection and replication
# padding and batch_norm by a backward op that also takes the forward's input
# (avg_pool2d_backward(grad_output, self, ...)): with create_graph that gradient requires grad
# through the input, and its derivative for it is zeros (none at all for batch_norm in eval,
# whose double backward gives the input no gradient). Ours is computed from grad alone (the op
# is linear); `joined_to_input` records the same dependence on the computed gradient, so a
# second derivative is zeros (or None) as in PyTorch, not "does not require grad".


class _JoinedToInput(Formula):
    """`value` (a first derivative, computed) recorded as a function of `self` as well."""

    inputs = ("value", "self")

    @staticmethod
    def forward(value, self):
        return value._data.copy()

    tangent = staticmethod(lambda value_t: value_t)
    derivatives = {
        "value": lambda grad: grad,
        "self": lambda grad, self_shape: _math.zeros_of_shape(self_shape, grad),
    }


# Named as PyTorch names the grad_fn of each op's first derivative.


class AvgPool2DBackwardBackward0(_JoinedToInput):
    """avg_pool2d's first derivative, recorded as a function of the input too."""


class AdaptiveAvgPool2DBackwardBackward0(_JoinedToInput):
    """adaptive_avg_pool2d's first derivative, recorded as a function of the input too."""


class ReflectionPad1DBackwardBackward0(_JoinedToInput):
    """Reflection padding's first derivative (1-d), recorded as a function of the input too."""


class ReflectionPad2DBackwardBackward0(_JoinedToInput):
    """Reflection padding's first derivative (2-d), recorded as a function of the input too."""


class ReflectionPad3DBackwardBackward0(_JoinedToInput):
    """Reflection padding's first derivative (3-d), recorded as a function of the input too."""


class ReplicationPad1DBackwardBackward0(_JoinedToInput):
    """Replication padding's first derivative (1-d), recorded as a function of the input too."""


class ReplicationPad2DBackwardBackward0(_JoinedToInput):
    """Replication padding's first derivative (2-d), recorded as a function of the input too."""


class ReplicationPad3DBackwardBackward0(_JoinedToInput):
    """Replication padding's first derivative (3-d), recorded as a function of the input too."""


class NativeBatchNormBackwardBackward0(_JoinedToInput):
    """batch_norm's first derivative, recorded as a function of the input, which gets no
    gradient through it."""

    derivatives = {"value": lambda grad: grad, "self": lambda grad: None}


JOINED = {node.__name__: node for node in (
    AvgPool2DBackwardBackward0, AdaptiveAvgPool2DBackwardBackward0,
    ReflectionPad1DBackwardBackward0, ReflectionPad2DBackwardBackward0, ReflectionPad3DBackwardBackward0,
    ReplicationPad1DBackwardBackward0, ReplicationPad2DBackwardBackward0,
    ReplicationPad3DBackwardBackward0, NativeBatchNormBackwardBackward0,
)}


def joined_to_input(name: str, value, self):
    """`value`, the first derivative of an op given `self`, recorded as PyTorch's grad_fn `name`."""
    return apply(JOINED[name], value, self)
