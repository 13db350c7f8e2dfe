"""The values a node shows as `_saved_<name>` are PyTorch's: names and numbers.

torchviz's `make_dot(..., show_attrs=True)` draws them, so a drawing equals PyTorch's only
when they do: the strides of mm's and addmm's matrices (`()` for a matrix that needs no
gradient), a loss's reduction as PyTorch's enum number (0 none, 1 mean, 2 sum), the
element count a mean divides by. Saved tensors are compared as "a tensor" (their values are
the graph's own and checked elsewhere).
"""

from __future__ import annotations

import warnings

import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.ops import _table
from retrograd.ops.linalg import MmBackward0


def _programs(lib):
    functional = lib.nn.functional
    lib.manual_seed(0)
    x = lib.randn(5, 3, requires_grad=True)
    weight = lib.randn(4, 3, requires_grad=True)
    bias = lib.randn(4, requires_grad=True)
    target = lib.randn(5, 4)
    probabilities = lib.rand(5, 4)

    def layer():
        return functional.linear(x, weight, bias)

    return {
        "linear": layer,
        "linear_without_bias": lambda: functional.linear(x, weight),
        "linear_of_frozen_input": lambda: functional.linear(x.detach(), weight, bias),
        "linear_of_frozen_weight": lambda: functional.linear(x, weight.detach(), bias),
        "linear_of_3d_input": lambda: functional.linear(x.reshape(5, 1, 3), weight, bias),
        "mm": lambda: lib.mm(x, weight.t()),
        "mm_of_transposed": lambda: lib.mm(weight.t().t().t().contiguous().t(), x.t()),
        "matmul": lambda: lib.matmul(x, weight.t()),
        "addmm": lambda: lib.addmm(bias, x, weight.t(), beta=2, alpha=0.5),
        "bmm": lambda: lib.bmm(x.reshape(5, 1, 3), weight.t().expand(5, 3, 4)),
        "mse_loss": lambda: functional.mse_loss(layer(), target),
        "mse_loss_sum": lambda: functional.mse_loss(layer(), target, reduction="sum"),
        "mse_loss_none": lambda: functional.mse_loss(layer(), target, reduction="none").sum(),
        "smooth_l1_loss": lambda: functional.smooth_l1_loss(layer(), target, beta=0.5),
        "huber_loss": lambda: functional.huber_loss(layer(), target, reduction="sum"),
        "binary_cross_entropy": lambda: functional.binary_cross_entropy(lib.sigmoid(layer()),
                                                                        probabilities),
        "binary_cross_entropy_with_logits": lambda: functional.binary_cross_entropy_with_logits(
            layer(), probabilities),
        "mean": lambda: x.mean(),
        "mean_of_dim": lambda: x.mean(1, keepdim=True),
    }


def _attributes(output) -> list:
    """(node name, its non-tensor `_saved_` values) of every node of the graph, sorted."""
    rows, seen, stack = [], set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        values = []
        for name in dir(node):
            if name.startswith("_saved_"):
                value = getattr(node, name)
                shown = "a tensor" if type(value).__name__ == "Tensor" else repr(value)
                values.append((name, shown))
        rows.append((node.name(), tuple(values)))
        stack.extend(next_node for next_node, _ in node.next_functions)
    return sorted(rows)


@needs_torch
@pytest.mark.parametrize("program", list(_programs(retrograd)))
def test_saved_attributes_are_pytorchs(program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _attributes(_programs(retrograd)[program]())
        theirs = _attributes(_programs(torch)[program]())
    assert ours == theirs


def test_strides_are_those_at_the_forward():
    x = retrograd.randn(3, 2, requires_grad=True)
    weight = retrograd.randn(2, 4, requires_grad=True)
    node = retrograd.mm(x, weight).grad_fn
    assert node._saved_self_sym_strides == (2, 1) and node._saved_mat2_sym_strides == (4, 1)
    frozen = retrograd.mm(x.detach(), weight).grad_fn
    assert frozen._saved_self_sym_strides == () and frozen._saved_mat2_sym_strides == (4, 1)
    general = _table._record(MmBackward0, (x, weight), {}).grad_fn  # (not the generated record)
    assert general._saved_self_sym_strides == (2, 1) and general._saved_mat2_sym_strides == (4, 1)


@pytest.mark.parametrize("hooked", [False, True])
def test_linear_keeps_the_strides_of_the_matrices_that_need_grad(hooked):
    """addmm's record saves its plan in place and keeps the strides after it (keep_more), as
    the general path under saved-tensor hooks does."""
    weight = retrograd.randn(4, 2, requires_grad=True)
    bias = retrograd.randn(4, requires_grad=True)
    x = retrograd.randn(3, 2)
    with retrograd.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t) if hooked else warnings.catch_warnings():
        frozen = retrograd.nn.functional.linear(x, weight, bias).grad_fn
        both = retrograd.nn.functional.linear(x.requires_grad_(), weight, bias).grad_fn
    assert type(both).__name__ == "AddmmBackward0"
    assert frozen._saved_mat1_sym_strides == () and frozen._saved_mat2_sym_strides == (1, 2)
    assert both._saved_mat1_sym_strides == (2, 1) and both._saved_mat2_sym_strides == (1, 2)


_MINUS = 2**64  # (a negative int64 is shown unsigned, as PyTorch's nodes show it)


@pytest.mark.parametrize(("dim", "shown"), [(-2, _MINUS - 2), (1, 1), ((-2, 0), (_MINUS - 2, 0)),
                                            ([1, -1], (1, _MINUS - 1))])
@pytest.mark.parametrize("in_place", [False, True])
def test_squeeze_shows_its_dim_as_given(dim, shown, in_place):
    x = retrograd.rand(2, 1, 3, 1, requires_grad=True)
    if in_place:
        y = x.clone()
        y.squeeze_(dim)
    else:
        y = x.squeeze(dim)
    assert y.grad_fn._saved_dim == shown
    y.sum().backward()
    assert x.grad.shape == x.shape
