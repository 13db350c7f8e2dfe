"""The graph a derivative records (create_graph=True) has PyTorch's nodes.

A second derivative runs through the recorded graph of the first: every extra node there is
paid again at each step of a physics-informed network, so the nodes are compared with
PyTorch's, by name and count.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch


def _node_names(tensor) -> Counter:
    seen, stack, names = set(), [tensor.grad_fn], Counter()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names[node.name()] += 1
        stack.extend(next_node for next_node, _ in node.next_functions)
    return names


def _first_derivative(lib, activation: str):
    x = lib.linspace(-2.0, 2.0, 5, dtype=lib.float64).requires_grad_()
    (derivative,) = lib.autograd.grad(getattr(x, activation)().sum(), x, create_graph=True)
    return x, derivative


@needs_torch
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_derivative_of_an_activation_is_one_node_as_in_pytorch(activation):
    ours, theirs = (_first_derivative(lib, activation)[1] for lib in (retrograd, torch))
    assert ours.grad_fn.name() == theirs.grad_fn.name() == f"{activation.capitalize()}BackwardBackward0"
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-15)


@needs_torch
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_second_derivative_of_an_activation_is_pytorchs(activation):
    results = []
    for lib in (retrograd, torch):
        x, derivative = _first_derivative(lib, activation)
        weights = lib.tensor([1.0, float("inf"), -2.0, 0.5, 3.0], dtype=lib.float64)
        (second,) = lib.autograd.grad(derivative, x, weights, create_graph=True)
        (third,) = lib.autograd.grad(second.sum(), x)
        results.append((second.detach().numpy(), third.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def _heat_equation_loss(lib):
    """The loss of benchmarks/programs.py's physics-informed network, once."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    inside = lib.rand(16, 2, requires_grad=True)
    (du,) = lib.autograd.grad(model(inside).sum(), inside, create_graph=True)
    (du_x,) = lib.autograd.grad(du[:, 1:2].sum(), inside, create_graph=True)
    return ((du[:, 0:1] - du_x[:, 1:2]) ** 2).mean() + math.pi * model(inside).mean()


@needs_torch
def test_a_second_derivative_through_linear_layers_records_pytorchs_nodes():
    ours, theirs = _node_names(_heat_equation_loss(retrograd)), _node_names(_heat_equation_loss(torch))
    assert sum(ours.values()) == sum(theirs.values())
    # PyTorch names a product with a Python number MulBackward1; retrograd has one MulBackward0
    different = {name for name in ours.keys() ^ theirs.keys() if name not in ("MulBackward0", "MulBackward1")}
    assert different == set()


def _edges(tensor) -> list:
    """Every node behind `tensor`, depth first, with the names of its next functions in order."""
    rows, stack, seen = [], [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nexts = [edge[0] for edge in node.next_functions]
        rows.append((node.name(), [None if n is None else n.name() for n in nexts]))
        stack.extend(reversed(nexts))
    return rows


def _product_derivatives(lib, product: str):
    """d(sum(tanh(product(x, w))))/d(x, w) with create_graph, and the gradient of their sum."""
    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = lib.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    b = lib.tensor(rng.standard_normal(5), requires_grad=True)
    out = {"linear": lambda: lib.nn.functional.linear(x, w, b), "mm": lambda: x.mm(w.t()),
           "addmm": lambda: lib.addmm(b, x, w.t())}[product]()
    grads = lib.autograd.grad(out.tanh().sum(), (x, w), create_graph=True)
    second = lib.autograd.grad(sum(grad.sum() for grad in grads), (x, w, b), allow_unused=True)
    return grads, second


@needs_torch
@pytest.mark.parametrize("product", ["linear", "mm", "addmm"])
def test_a_products_derivative_records_pytorchs_graph_and_values(product):
    """The formulas of mm/addmm record (TBackward0, MmBackward0) as PyTorch, in its order.

    (For the transposed weight, PyTorch computes (grad^T @ x)^T, one TBackward0 more than
    x^T @ grad here, to keep the weight's column-major strides: only the values compare.)
    """
    (our_grads, our_second), (their_grads, their_second) = (
        _product_derivatives(lib, product) for lib in (retrograd, torch))
    assert _edges(our_grads[0]) == _edges(their_grads[0])
    for ours, theirs in zip(our_grads, their_grads):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    for ours, theirs in zip(our_second, their_second):
        if theirs is None:  # the bias, which mm does not use
            assert ours is None
            continue
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
