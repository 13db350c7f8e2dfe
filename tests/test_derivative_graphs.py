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


# The formulas of mv (Note [The formulas of mv]): PyTorch's nodes, one matrix-vector product
# each, no copy of the matrix.

def _mv_derivatives(lib, product: str):
    """The gradients of sum(tanh(product)) in the matrix, the vector and the added term, with
    create_graph."""
    rng = np.random.default_rng(5)
    matrix = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    vector = lib.tensor(rng.standard_normal(4), requires_grad=True)
    added = lib.tensor(rng.standard_normal(3), requires_grad=True)
    out = {"mv": lambda: lib.mv(matrix, vector), "matmul": lambda: matrix @ vector,
           "addmv": lambda: lib.addmv(added, matrix, vector, alpha=0.3),
           "transposed": lambda: matrix.t() @ lib.tanh(added)}[product]()
    return lib.autograd.grad(out.tanh().sum(), (matrix, vector, added), create_graph=True, allow_unused=True)


def _same_names(rows: list) -> list:
    """MulBackward1 (PyTorch's product with a number, which has no edge for it) read as
    retrograd's MulBackward0 (whose edge for the number is None)."""
    def name(node_name):
        return "MulBackward0" if node_name == "MulBackward1" else node_name
    return [(name(node), [name(each) for each in nexts if each is not None or not node.startswith("Mul")])
            for node, nexts in rows]


@needs_torch
@pytest.mark.parametrize("product", ["mv", "matmul", "addmv", "transposed"])
def test_the_derivatives_of_a_matrix_vector_product_record_pytorchs_graph(product):
    ours, theirs = (_mv_derivatives(lib, product) for lib in (retrograd, torch))
    for our_grad, their_grad in zip(ours, theirs):
        if their_grad is None:
            assert our_grad is None
            continue
        assert _same_names(_edges(our_grad)) == _same_names(_edges(their_grad))
        np.testing.assert_allclose(our_grad.detach().numpy(), their_grad.detach().numpy(), rtol=1e-12)


def _hessian_vector_problem(size: int = 6):
    """benchmarks' w5: W, x and v for H v of sum(tanh(W x)^2)."""
    rng = np.random.default_rng(3)
    return (retrograd.tensor(rng.normal(0.0, 1.0 / np.sqrt(size), (size, size))),
            retrograd.tensor(rng.normal(0.0, 1.0, size), requires_grad=True),
            retrograd.tensor(rng.normal(0.0, 1.0, size)))


def _hessian_vector_product(matrix, x, v):
    """The gradient (with create_graph) and H v by double backward, as w5 computes them."""
    (gradient,) = retrograd.autograd.grad((retrograd.tanh(matrix @ x) ** 2).sum(), x, create_graph=True)
    (product,) = retrograd.autograd.grad(gradient, x, grad_outputs=v)
    return gradient, product


def test_a_hessian_vector_product_records_one_node_per_product():
    """PyTorch's nodes (its MulBackward1, the product by the exponent, is a MulBackward0 here)."""
    gradient, _ = _hessian_vector_product(*_hessian_vector_problem())
    assert _node_names(gradient) == Counter({
        "MvBackward0": 2, "TanhBackwardBackward0": 1, "MulBackward0": 2, "PowBackward0": 1,
        "TanhBackward0": 1, "torch::autograd::AccumulateGrad": 1})


@needs_torch
def test_a_hessian_vector_product_records_pytorchs_graph():
    graphs = []
    for lib in (retrograd, torch):
        rng = np.random.default_rng(3)
        matrix = lib.tensor(rng.normal(0.0, 0.4, (6, 6)))
        x = lib.tensor(rng.normal(0.0, 1.0, 6), requires_grad=True)
        (gradient,) = lib.autograd.grad((lib.tanh(matrix @ x) ** 2).sum(), x, create_graph=True)
        graphs.append(_same_names(_edges(gradient)))
    assert graphs[0] == graphs[1]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", [2, 3, 4, -1, 2.0])
def test_the_gradient_of_a_power_is_pytorchs_bits(dtype, exponent):
    """grad * (c * x ** (c - 1)), in PyTorch's order: `(grad * c) * x ** (c - 1)` rounds
    otherwise for c = 3 (exponents whose power is computed as PyTorch's kernel computes it)."""
    rng = np.random.default_rng(4)
    data, grad_output = (rng.standard_normal(2000).astype(dtype) for _ in range(2))
    results = []
    for lib in (retrograd, torch):
        x = lib.tensor(data, requires_grad=True)
        (gradient,) = lib.autograd.grad(x ** exponent, x, lib.tensor(grad_output))
        results.append(gradient.numpy())
    np.testing.assert_array_equal(*results)


def test_a_hessian_vector_product_multiplies_the_matrix_four_times_without_copying_it(monkeypatch):
    """The forward, the gradient and the two products of the second backward (W v, then W^T
    of it): each a product of W's own memory (or its transposed view) with a vector."""
    size = 6
    matrix, x, v = _hessian_vector_problem(size)
    _, expected = _hessian_vector_product(matrix, x, v)
    products = []
    for name in ("matmul", "dot"):
        original = getattr(np, name)

        def counted(a, b, *args, original=original, **kwargs):
            products.append((np.shape(a), np.shape(b), np.shares_memory(a, matrix._data)))
            return original(a, b, *args, **kwargs)

        monkeypatch.setattr(np, name, counted)
    _, product = _hessian_vector_product(matrix, x, v)
    monkeypatch.undo()
    assert products == [((size, size), (size,), True)] * 4
    np.testing.assert_array_equal(product.numpy(), expected.numpy())
    t = np.tanh(matrix._data @ x._data)
    curvature = (2 - 6 * t * t) * (1 - t * t)
    np.testing.assert_allclose(product.numpy(), matrix._data.T @ (curvature * (matrix._data @ v._data)),
                               rtol=1e-13)


def _layouts(rng, dtype):
    """A 5 x 4 matrix stored in C order, in F order (a transposed view) and strided (a slice)."""
    data = rng.standard_normal((5, 4)).astype(dtype)
    wide = rng.standard_normal((5, 8)).astype(dtype)
    return {"C": data, "F": np.asfortranarray(data), "strided": wide[:, ::2]}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_the_vector_gradient_of_mv_is_the_same_bits_with_and_without_create_graph(dtype, layout):
    """matrix^T @ grad, one gemv of the transposed matrix as matmul computes it, in both modes."""
    rng = np.random.default_rng(7)
    data = _layouts(rng, dtype)[layout]
    grad_output = rng.standard_normal(5).astype(dtype)
    expected = np.matmul(data.T, grad_output[:, None])[:, 0]  # (the general formula's bits)
    results = []
    for create_graph in (False, True):
        matrix = retrograd.tensor(data, requires_grad=True) if layout == "C" else \
            retrograd.from_numpy(data).requires_grad_()
        vector = retrograd.tensor(rng.standard_normal(4).astype(dtype), requires_grad=True)
        grads = retrograd.autograd.grad(matrix @ vector, (matrix, vector), retrograd.from_numpy(grad_output),
                                        create_graph=create_graph)
        results.append(grads)
        np.testing.assert_array_equal(grads[1].detach().numpy(), expected)
        np.testing.assert_array_equal(grads[0].detach().numpy(), np.multiply.outer(grad_output, vector._data))
    assert results[1][1].grad_fn.name() == "MvBackward0"
    assert results[1][0].grad_fn.name() == "MulBackward0"


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("product", ["mv", "addmv"])
def test_the_derivatives_of_mv_pass_gradcheck_and_gradgradcheck(layout, product):
    rng = np.random.default_rng(8)
    matrix = retrograd.from_numpy(_layouts(rng, np.float64)[layout]).requires_grad_()
    vector = retrograd.tensor(rng.standard_normal(4), requires_grad=True)
    added = retrograd.tensor(rng.standard_normal(5), requires_grad=True)
    if product == "mv":
        function, inputs = (lambda m, v: retrograd.mv(m, v).tanh()), (matrix, vector)
    else:
        function, inputs = (lambda a, m, v: retrograd.addmv(a, m, v, beta=0.5, alpha=1.5).tanh()), \
            (added, matrix, vector)
    assert retrograd.autograd.gradcheck(function, inputs)
    assert retrograd.autograd.gradgradcheck(function, inputs)
