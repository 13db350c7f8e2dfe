"""The backward ops of the piecewise-linear activations, recorded when a graph of the
backward is built (create_graph): PyTorch's threshold_backward, hardtanh_backward,
leaky_relu_backward, softshrink_backward and hardshrink_backward.

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
