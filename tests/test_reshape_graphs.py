"""reshape records PyTorch's nodes: ViewBackward0 for a contiguous tensor, ReshapeAliasBackward0
for another whose strides allow a view, a contiguous copy (CloneBackward0) given the shape
(UnsafeViewBackward0) for the rest; unflatten is always a view (ViewBackward0)."""

import numpy as np
import pytest

import retrograd
from crosscheck import torch

CASES = [
    ("x.reshape(16)", ["ViewBackward0"]),
    ("x.t().reshape(4, 4)", ["ReshapeAliasBackward0", "TBackward0"]),
    ("x[:, :2].reshape(4, 2, 1)", ["ReshapeAliasBackward0", "SliceBackward0"]),
    ("x.t().reshape(16)", ["UnsafeViewBackward0", "CloneBackward0", "TBackward0"]),
    ("x.t().flatten()", ["UnsafeViewBackward0", "CloneBackward0", "TBackward0"]),
    ("x[::2].reshape(8)", ["UnsafeViewBackward0", "CloneBackward0", "SliceBackward0"]),
    ("x.expand(2, 4, 4).reshape(8, 4)", ["UnsafeViewBackward0", "CloneBackward0", "ExpandBackward0"]),
    ("x.t().unflatten(1, (2, 2))", ["ViewBackward0", "TBackward0"]),
    ("x[::2].unflatten(1, (2, -1))", ["ViewBackward0", "SliceBackward0"]),
]


def _recorded(library, expression: str):
    leaf = library.arange(16.0, dtype=library.float64).reshape(4, 4).requires_grad_()
    x = leaf * 1
    result = eval(expression, {"x": x})
    names, node = [], result.grad_fn
    while node is not None and type(node).__name__ != "MulBackward0":
        names.append(type(node).__name__)
        node = node.next_functions[0][0]
    (result * library.arange(float(result.numel()), dtype=library.float64).reshape(result.shape)).sum().backward()
    return names, tuple(result.shape), result.detach().numpy().tolist(), result._is_view(), leaf.grad.numpy().tolist()


@pytest.mark.parametrize(("expression", "nodes"), CASES, ids=[expression for expression, _ in CASES])
def test_reshape_records_pytorchs_nodes(expression, nodes):
    ours = _recorded(retrograd, expression)
    assert ours[0] == nodes
    if torch is not None:
        assert ours == _recorded(torch, expression)


def test_a_reshaped_copy_is_made_once_and_owns_its_memory():
    x = retrograd.arange(16.0).reshape(4, 4).t()
    y = x.reshape(16)
    assert not np.shares_memory(y.numpy(), x.numpy()) and not y._is_view()
    y[0] = 100.0
    assert x[0, 0].item() == 0.0


def test_a_reshape_gives_right_first_and_second_derivatives():
    x = retrograd.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    for function in (lambda t: t.t().reshape(12) ** 2, lambda t: t.t().reshape(2, 2, 3) ** 3,
                     lambda t: t[:, ::2].reshape(6).sin()):
        assert retrograd.autograd.gradcheck(function, (x,))
        assert retrograd.autograd.gradgradcheck(function, (x,))
