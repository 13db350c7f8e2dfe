"""Derivatives at NaN and infinite inputs, and fed NaN and infinite gradients, as PyTorch's.

Each op runs on inputs holding NaN, +-inf, 0 and the kinks of the piecewise ops, with incoming
gradients of ones, of mixed specials, and of +inf; the value, the first derivative (with and
without create_graph) and the second derivative through it must be PyTorch's, NaN for NaN and
the same infinities. Found by the random autograd programs of issue 12 (relu and threshold at
NaN, x ** 0.5 at -inf, sigmoid's second derivative under an infinite gradient, elu's
derivative at +inf), and by the bad-input sweep (threshold, hardshrink, softshrink, prelu).
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch

NAN, INF = float("nan"), float("inf")
VALUES = [NAN, INF, -INF, 0.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 1.0, -1.0, 6.0]
_MIXED = [1.0, -2.0, INF, -INF, NAN, 0.0, 1.0, 0.5, -INF, INF, 2.0, NAN, -1.0]
INCOMING = {"ones": [1.0] * len(VALUES), "mixed": _MIXED, "inf": [INF] * len(VALUES)}

OPS = {
    "relu": lambda F, x: F.relu(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.1),
    "threshold": lambda F, x: F.threshold(x, 0.5, -2.0),
    "hardtanh": lambda F, x: F.hardtanh(x),
    "relu6": lambda F, x: F.relu6(x),
    "hardshrink": lambda F, x: F.hardshrink(x),
    "softshrink": lambda F, x: F.softshrink(x),
    "elu": lambda F, x: F.elu(x),
    "elu_alpha": lambda F, x: F.elu(x, 0.7),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, 1.5),
    "hardswish": lambda F, x: F.hardswish(x),
    "clamp": lambda F, x: x.clamp(-0.5, 0.5),
    "pow_half": lambda F, x: x ** 0.5,
    "pow_minus_half": lambda F, x: x ** -0.5,
    "pow_3": lambda F, x: x ** 3,
    "pow_minus_1": lambda F, x: x ** -1,
    "pow_1_5": lambda F, x: x ** 1.5,
    "sigmoid": lambda F, x: x.sigmoid(),
    "tanh": lambda F, x: x.tanh(),
}
# PyTorch's second derivative of prelu is zeros; retrograd's prelu is composed of where and mul,
# whose first derivative does not depend on the input, so a second one is refused (left).
FIRST_ORDER_ONLY = {"prelu": lambda F, x: F.prelu(x, x.new_tensor([0.25]))}


def _observe(lib, function, incoming: str, second_order: bool) -> dict:
    x = lib.tensor(VALUES, dtype=lib.float64, requires_grad=True)
    result = function(lib.nn.functional, x)
    observed = {"value": result.detach().numpy().copy()}
    names = list(INCOMING)
    grad = lib.tensor(INCOMING[incoming], dtype=lib.float64)
    (plain,) = lib.autograd.grad(function(lib.nn.functional, x), x, grad)
    observed["first"] = plain.numpy().copy()
    (first,) = lib.autograd.grad(result, x, grad, create_graph=True)
    observed["first, recorded"] = first.detach().numpy().copy()
    if second_order:
        following = names[(names.index(incoming) + 1) % len(names)]
        try:
            (second,) = lib.autograd.grad(first, x, lib.tensor(INCOMING[following], dtype=lib.float64))
        except RuntimeError:  # (clamp's first derivative does not require grad, in both)
            observed["second"] = "RuntimeError"
        else:
            observed["second"] = (second + 0).numpy().copy()  # (+ 0: PyTorch's zero tensors have no storage)
    return observed


def _cases():
    for name in list(OPS) + list(FIRST_ORDER_ONLY):
        for incoming in INCOMING:
            yield pytest.param(name, incoming, id=f"{name}-{incoming}")


@needs_torch
@pytest.mark.parametrize(("name", "incoming"), list(_cases()))
def test_special_values_and_gradients_give_pytorchs_derivatives(name, incoming):
    function = OPS.get(name) or FIRST_ORDER_ONLY[name]
    second_order = name in OPS
    ours = _observe(retrograd, function, incoming, second_order)
    theirs = _observe(torch, function, incoming, second_order)
    for what in theirs:
        if isinstance(theirs[what], str) or isinstance(ours[what], str):
            assert ours[what] == theirs[what], what
            continue
        np.testing.assert_allclose(ours[what], theirs[what], rtol=1e-12, atol=0, equal_nan=True,
                                   err_msg=f"{what} at x = {VALUES}")


def test_elu_derivative_is_finite_at_plus_infinity():
    x = retrograd.tensor([INF, -INF, NAN], requires_grad=True)
    (gradient,) = retrograd.autograd.grad(retrograd.nn.functional.selu(x).sum(), x)
    scale = 1.0507009873554805
    assert gradient.tolist()[:2] == pytest.approx([scale, 0.0]) and gradient.tolist()[2] == pytest.approx(scale)


# ---------------------------------------------------------------------------
# Double backward through max pooling and nll_loss: the first derivative is recorded as a
# function of the incoming gradient (so its derivative by that gradient picks the maxima or
# targets again) and of the input (flat: zeros), as PyTorch's *BackwardBackward0 nodes.

POOLED = {
    "max_pool1d": lambda F, x, lib: F.max_pool1d(x.reshape(1, 1, 6), 2),
    "max_pool1d_overlapping": lambda F, x, lib: F.max_pool1d(x.reshape(1, 1, 6), 3, stride=1),
    "max_pool2d": lambda F, x, lib: F.max_pool2d(x.reshape(1, 2, 3), 2, stride=1),
    "adaptive_max_pool1d": lambda F, x, lib: F.adaptive_max_pool1d(x.reshape(1, 1, 6), 4),
    "adaptive_max_pool2d": lambda F, x, lib: F.adaptive_max_pool2d(x.reshape(1, 2, 3), (1, 2)),
    "nll_loss": lambda F, x, lib: F.nll_loss(x.reshape(3, 2), lib.tensor([0, 1, 1])),
    "nll_loss_weighted_sum": lambda F, x, lib: F.nll_loss(
        x.reshape(3, 2), lib.tensor([0, 1, -100]), weight=lib.tensor([2.0, 3.0], dtype=lib.float64),
        reduction="sum"),
    "nll_loss_none": lambda F, x, lib: F.nll_loss(x.reshape(3, 2), lib.tensor([1, 0, 1]), reduction="none"),
}


def _pooled(lib, function):
    x = lib.tensor([0.3, -1.0, 2.5, 0.7, 2.5, -0.2], dtype=lib.float64, requires_grad=True)
    result = function(lib.nn.functional, x, lib)
    incoming = lib.linspace(1.0, 2.0, result.numel(), dtype=lib.float64).reshape(result.shape).requires_grad_()
    (first,) = lib.autograd.grad(result, x, incoming, create_graph=True)
    weights = lib.tensor([1.0, -2.0, 3.0, 0.5, -1.5, 2.0], dtype=lib.float64)
    by_input, by_incoming = lib.autograd.grad((first * weights).sum(), (x, incoming))
    return [first.detach().numpy(), (by_input + 0).numpy(), by_incoming.numpy()]


@needs_torch
@pytest.mark.parametrize("name", list(POOLED))
def test_second_derivatives_through_max_pooling_and_nll_loss_are_pytorchs(name):
    for ours, theirs in zip(_pooled(retrograd, POOLED[name]), _pooled(torch, POOLED[name])):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def _a_zero_gradient_as_numpy(t):
    """sgn's gradient is a zero tensor without memory: numpy() refuses it unless forced, which
    gives fresh writable zeros, and tolist() refuses it unless it is empty, while item() reads
    it (as PyTorch; a `.grad` that stores it is plain zeros here)."""

    def outcome(action):
        try:
            array = action()
        except RuntimeError as error:
            return str(error).strip()
        return (array.tolist(), bool(array.flags.writeable))

    def listed(action):
        try:
            return action()
        except RuntimeError as error:
            return str(error).strip()

    x = t.tensor([1.0, -2.0], requires_grad=True)
    (grad,) = t.autograd.grad(x.sgn().sum(), x)
    empty = t.zeros(2, 0, requires_grad=True)
    (empty_grad,) = t.autograd.grad(empty.sgn().sum(), empty)
    one = t.tensor(0.0, requires_grad=True)
    (one_grad,) = t.autograd.grad(one.sgn(), one)
    return {
        "tolist": listed(grad.tolist), "tolist of 0-d": listed(one_grad.tolist),
        "tolist of empty": listed(empty_grad.tolist), "item": listed(one_grad.item),
        "numpy": outcome(grad.numpy), "np.asarray": outcome(lambda: np.asarray(grad)),
        "forced": outcome(lambda: grad.numpy(force=True)), "detached": outcome(lambda: grad.detach().numpy()),
        "cloned": outcome(lambda: grad.clone().numpy()),
        "is a zero tensor": (grad._is_zerotensor(), grad.clone()._is_zerotensor()),
        "compared": t.testing.assert_close(grad, t.zeros(2)),
    }


A_ZERO_GRADIENT_AS_NUMPY = {
    "tolist": "tolist() shouldn't be called on a tensor with unallocated storage",
    "tolist of 0-d": "tolist() shouldn't be called on a tensor with unallocated storage",
    "tolist of empty": [[], []],
    "item": 0.0,
    "numpy": "Cannot convert a ZeroTensor to numpy. Set force=True if you need the zero array.",
    "np.asarray": "Cannot convert a ZeroTensor to numpy. Set force=True if you need the zero array.",
    "forced": ([0.0, 0.0], True),
    "detached": "Cannot convert a ZeroTensor to numpy. Set force=True if you need the zero array.",
    "cloned": ([0.0, 0.0], True),
    "is a zero tensor": (True, False),
    "compared": None,  # assert_close reads a zero tensor's values
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_a_zero_gradient_as_numpy(library):
    assert _a_zero_gradient_as_numpy(library) == A_ZERO_GRADIENT_AS_NUMPY
