"""The backward pass: correctness, scale without recursion, pruning, errors and accumulation."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import retrograd as rg


def test_a_100000_op_chain_backpropagates_without_recursion():
    x = rg.tensor(1.0, dtype=rg.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_dropping_a_deep_graph_without_backward_is_safe():
    x = rg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y + 1.0
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None


def test_a_graph_frees_itself_by_reference_counting_alone():
    gc.disable()
    try:
        x = rg.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
    finally:
        gc.enable()


def test_a_10000_way_fan_out_sums_every_contribution():
    x = rg.tensor(1.0, dtype=rg.float64, requires_grad=True)
    total = x * 0
    for index in range(10_000):
        total = total + x * index
    total.backward()
    assert x.grad.item() == sum(range(10_000))


def test_each_node_runs_once_per_pass_with_gradients_summed():
    x = rg.tensor(3.0, requires_grad=True)
    shared = x * x
    shared.register_hook(lambda grad: calls.append(grad.item()))
    calls: list[float] = []
    (shared + shared * 2 + shared.sin() * 0).backward()
    assert calls == [3.0]
    assert x.grad.item() == pytest.approx(18.0)


def test_autograd_grad_runs_only_what_its_inputs_need():
    x = rg.tensor(2.0, requires_grad=True)
    w = rg.tensor(3.0, requires_grad=True)
    branch_for_w = w.exp()
    z = x * x + branch_for_w
    (gx,) = rg.autograd.grad(z, x)
    assert gx.item() == 4.0
    assert branch_for_w.grad_fn._released is False
    assert w.grad is None and x.grad is None


def test_backward_with_inputs_fills_only_those():
    x = rg.tensor(2.0, requires_grad=True)
    w = rg.tensor(3.0, requires_grad=True)
    (x * w).backward(inputs=[w])
    assert w.grad.item() == 2.0 and x.grad is None


def test_backward_inputs_may_be_non_leaves():
    x = rg.tensor(2.0, requires_grad=True)
    hidden = x * 3
    (hidden * hidden).backward(inputs=[hidden])
    assert hidden.grad.item() == 12.0 and x.grad is None


def test_gradient_argument_weighs_a_vector_output():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2).backward(rg.tensor([1.0, 0.0, 2.0]))
    assert x.grad.tolist() == [2.0, 0.0, 4.0]


def test_gradient_argument_of_the_wrong_shape_is_refused():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of"):
        (x * 2).backward(rg.tensor([1.0, 2.0, 3.0]))
    assert x.grad is None


def test_gradient_count_must_match_outputs():
    x = rg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="got 1 tensors and 2 gradients"):
        rg.autograd.backward([x * 2], [rg.ones(1), rg.ones(1)])


def test_unused_input_needs_allow_unused():
    x = rg.tensor(1.0, requires_grad=True)
    unused = rg.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph. Set allow_unused=True"):
        rg.autograd.grad(x * 2, [x, unused])
    gx, gu = rg.autograd.grad(x * 2, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None
    gx, gu = rg.autograd.grad(x * 2, [x, unused], materialize_grads=True)
    assert gu.item() == 0.0


def test_gradients_accumulate_across_passes():
    x = rg.tensor(1.0, requires_grad=True)
    for _ in range(3):
        (x * 2).backward()
    assert x.grad.item() == 6.0


def test_accumulation_without_create_graph_is_in_place():
    x = rg.tensor(1.0, requires_grad=True)
    (x * 2).backward()
    first = x.grad
    (x * 3).backward()
    assert x.grad is first and first.item() == 5.0 and first._version == 1


def test_leaves_fed_by_one_gradient_keep_separate_grads():
    # AddBackward0 hands the same incoming gradient to both leaves: the first gradient each
    # leaf stores must be its own copy, or the second pass adds into a shared array (3, not 2).
    x = rg.tensor(1.0, requires_grad=True)
    y = rg.tensor(1.0, requires_grad=True)
    z = x + y
    z.backward(retain_graph=True)
    z.backward()
    assert (x.grad.item(), y.grad.item()) == (2.0, 2.0)


def test_the_gradient_given_to_backward_is_not_written_to():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    given = rg.tensor([1.0, 1.0])
    x.backward(given)
    x.backward(given)
    assert given.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]


def test_retain_graph_allows_a_second_pass_of_a_saving_node():
    x = rg.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_a_graph_with_nothing_saved_may_be_walked_twice():
    x = rg.tensor(2.0, requires_grad=True)
    y = x + 1
    y.backward()
    y.backward()
    assert x.grad.item() == 2.0


def test_broadcast_gradients_are_summed_to_the_input_shape():
    a = rg.tensor([[1.0], [2.0]], requires_grad=True)
    b = rg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.tolist() == [[60.0], [60.0]]
    assert b.grad.tolist() == [3.0, 3.0, 3.0]


def test_gradient_takes_the_dtype_of_its_input():
    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is rg.float32 and b.grad.dtype is rg.float64


def test_third_derivative_through_create_graph():
    x = rg.tensor(1.5, dtype=rg.float64, requires_grad=True)
    y = x**4
    (d1,) = rg.autograd.grad(y, x, create_graph=True)
    (d2,) = rg.autograd.grad(d1, x, create_graph=True)
    (d3,) = rg.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == pytest.approx((4 * 1.5**3, 12 * 1.5**2, 24 * 1.5))


def test_hooks_see_and_replace_gradients():
    x = rg.tensor(1.0, requires_grad=True)
    seen = []
    handle = x.register_hook(lambda grad: seen.append(grad.item()) or grad * 10)
    (x * 3).backward()
    assert seen == [3.0] and x.grad.item() == 30.0
    handle.remove()
    (x * 3).backward()
    assert x.grad.item() == 33.0


def test_hook_on_a_tensor_that_does_not_require_grad_is_refused():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        rg.tensor(1.0).register_hook(lambda grad: grad)


def test_in_place_on_a_leaf_that_requires_grad_is_refused_and_changes_nothing():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."):
        x.add_(1)
    assert x.tolist() == [1.0, 2.0] and x._version == 0
    with rg.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0] and x._version == 1


def test_in_place_on_a_saved_tensor_is_caught_at_backward():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"\[retrograd.FloatTensor \[3\]\], which is output 0 of Exp, is at version 1; expected version 0 instead"):
        y.sum().backward()


def test_in_place_ops_record_history_and_bump_the_version():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.mul_(x)
    assert y.grad_fn.name() == "MulBackward0" and y._version == 1
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_in_place_with_an_incompatible_result_is_refused():
    ints = rg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ints.mul_(1.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        rg.zeros(2).add_(rg.ones(3, 2))
    assert ints.tolist() == [1, 2]


def test_data_and_detach_share_storage_but_not_history():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    detached, data = x.detach(), x.data
    assert not detached.requires_grad and not data.requires_grad
    data.zero_()
    assert x.tolist() == [0.0, 0.0]
    assert detached._version_counter is x._version_counter
    assert data._version_counter is not x._version_counter


def test_requires_grad_of_a_non_leaf_cannot_be_switched_off():
    y = rg.tensor(1.0, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = False


def test_no_grad_records_nothing_and_enable_grad_inside_records_again():
    x = rg.tensor(1.0, requires_grad=True)
    with rg.no_grad():
        y = x * 2
        with rg.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None


def test_grad_mode_decorators_and_set_grad_enabled():
    @rg.no_grad()
    def double(t):
        return t * 2

    x = rg.tensor(1.0, requires_grad=True)
    assert not double(x).requires_grad
    rg.set_grad_enabled(False)
    assert not rg.is_grad_enabled()
    rg.set_grad_enabled(True)
    with rg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert rg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []

    def worker():
        seen.append(rg.is_grad_enabled())

    with rg.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen == [True]


def test_outputs_and_grads_match_pytorch_on_a_mixed_graph():
    torch = pytest.importorskip("torch")
    values = np.array([0.3, 1.2, 2.0])

    def program(lib, x):
        a = (x * x + 1).sqrt()
        b = a.exp() / (x + 2) - x.sin() ** 2
        return (b * a.log() + x.cos().tan()).sum()

    ours = rg.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    program(rg, ours).backward()
    program(torch, theirs).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_no_recursion_limit_is_touched():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        x = rg.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(5_000):
            y = y * 1.0
        y.backward()
        assert x.grad.item() == 1.0
    finally:
        sys.setrecursionlimit(limit)


# ---------------------------------------------------------------------------
# Regressions found by adversarial testing against PyTorch (issue "Exact gradients")


def test_a_root_reached_from_another_root_receives_both_gradients():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * 3
    (gradient,) = rg.autograd.grad([a, b], x, [rg.ones(2), rg.ones(2)])
    assert gradient.tolist() == [8.0, 8.0]


def test_backward_of_a_loss_and_a_function_of_it():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    rg.autograd.backward([loss, loss + 1.0])
    assert x.grad.tolist() == [4.0, 8.0]


def test_vjp_of_a_function_returning_a_value_and_its_multiple():
    x = rg.tensor([1.0, 2.0])
    _, (vjp,) = rg.autograd.functional.vjp(lambda t: (t * t, t * t * 3), (x,),
                                              (rg.ones(2), rg.ones(2)))
    assert vjp.tolist() == [8.0, 16.0]


@pytest.mark.parametrize(("first", "then"), [
    ("exp_", lambda b: b.detach().zero_()),
    ("tanh_", lambda b: b.add_(1)),
    ("sigmoid_", lambda b: b.pow_(2)),
    ("exp_", lambda b: b.mul_(2)),
    ("relu_", lambda b: b.clamp_(0, 1)),
    ("tanh_", lambda b: b.detach().add_(1)),
])
def test_changing_a_saved_in_place_result_is_caught(first, then):
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    b = x * 1
    getattr(b, first)()
    then(b)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_integer_grad_outputs_for_a_float_output_are_accepted():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    (gradient,) = rg.autograd.grad(x * 2, x, rg.tensor([1, 1]))
    assert gradient.dtype == rg.float32 and gradient.tolist() == [2.0, 2.0]


def test_a_pack_hook_that_computes_is_not_recorded():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    with rg.autograd.graph.saved_tensors_hooks(lambda t: t * 10, lambda t: t / 10):
        y = x * x
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize(("make_views", "name"), [
    (lambda t: t.split(2), "Split"),
    (lambda t: t.split([1, 3]), "SplitWithSizes"),
    (lambda t: t.unbind(0), "Unbind"),
    (lambda t: t.chunk(2), "Split"),
])
def test_views_returned_together_may_not_be_written_in_place(make_views, name):
    x = rg.randn(4, requires_grad=True)
    first = make_views(x * 1)[0]
    with pytest.raises(RuntimeError, match=f"Output 0 of {name} is a view and is being modified inplace"):
        first.add_(1)
    with rg.no_grad():
        make_views(x * 1)[0].add_(1)  # allowed where nothing is recorded, as in PyTorch


@pytest.mark.parametrize("function", [
    pytest.param(lambda F, x: F.max_pool1d(x.reshape(1, 1, 4), 2), id="max_pool1d"),
    pytest.param(lambda F, x: F.max_pool2d(x.reshape(1, 1, 2, 2), 2), id="max_pool2d"),
    pytest.param(lambda F, x: F.adaptive_max_pool2d(x.reshape(1, 1, 2, 2), 1), id="adaptive_max_pool2d"),
    pytest.param(lambda F, x: F.nll_loss(x.reshape(2, 2), rg.tensor([0, 1])), id="nll_loss"),
    pytest.param(lambda F, x: F.adaptive_max_pool1d(x.reshape(1, 1, 4), 2), id="adaptive_max_pool1d"),
    pytest.param(lambda F, x: F.relu(x), id="relu"),
    pytest.param(lambda F, x: F.leaky_relu(x, 0.2), id="leaky_relu"),
    pytest.param(lambda F, x: F.hardtanh(x), id="hardtanh"),
    pytest.param(lambda F, x: F.relu6(x), id="relu6"),
    pytest.param(lambda F, x: F.threshold(x, 0.7, -2.0), id="threshold"),
    pytest.param(lambda F, x: F.hardshrink(x), id="hardshrink"),
    pytest.param(lambda F, x: F.softshrink(x), id="softshrink"),
])
def test_second_derivative_through_a_piecewise_linear_op_is_zero(function):
    x = rg.tensor([-1.0, 0.5, 2.0, 3.0], dtype=rg.float64, requires_grad=True)
    (first,) = rg.autograd.grad(function(rg.nn.functional, x).sum(), x, create_graph=True)
    (second,) = rg.autograd.grad(first.sum(), x)
    assert second.tolist() == [0.0] * 4


def test_an_integer_gradient_for_a_root_that_is_also_an_input_is_cast():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    first, second = rg.autograd.grad([x, y], [x, y], [rg.tensor([1, 2]), rg.tensor([3, 4])])
    assert first.dtype == rg.float32 and second.dtype == rg.float32
    assert first.tolist() == [7.0, 10.0] and second.tolist() == [3.0, 4.0]
    rg.autograd.backward([x], [rg.tensor([1, 1])])
    assert x.grad.dtype == rg.float32


def test_retained_grads_are_a_clone_then_out_of_place_sums_as_pytorch():
    x = rg.tensor([1.0, 1.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    z = y * y
    rg.autograd.grad(z.sum(), x, create_graph=True)
    assert type(y.grad.grad_fn).__name__ == "CloneBackward0" and y.grad.tolist() == [4.0, 4.0]
    first = y.grad
    z.sum().backward(retain_graph=True)
    assert y.grad is not first and y.grad.grad_fn is None and y.grad.tolist() == [8.0, 8.0]
    assert first.tolist() == [4.0, 4.0]


@pytest.mark.parametrize("create_graph", [False, True])
def test_autograd_grad_runs_no_formula_whose_edge_it_does_not_need(create_graph):
    """As PyTorch's should_compute_output: asking for `a` computes nothing for `b`."""
    from retrograd.ops._formula import Formula
    from retrograd.ops._table import apply

    calls = {"self": 0, "other": 0}

    def counted(name, factor):
        def formula(grad, self, other):
            calls[name] += 1
            return grad * factor(self, other)
        return formula

    class CountedMulBackward0(Formula):
        inputs = ("self", "other")

        @staticmethod
        def forward(self, other):
            return self._data * other._data

        derivatives = {"self": counted("self", lambda self, other: other),  # noqa: RUF012
                       "other": counted("other", lambda self, other: self)}

    a = rg.tensor([1.0, 2.0], requires_grad=True)
    b = rg.tensor([3.0, 4.0], requires_grad=True)
    y = apply(CountedMulBackward0, a * 1.0, b).sum()
    (grad_a,) = rg.autograd.grad(y, a, retain_graph=True, create_graph=create_graph)
    np.testing.assert_array_equal(grad_a.detach().numpy(), [3.0, 4.0])
    assert calls == {"self": 1, "other": 0}
    rg.autograd.grad(y, (a, b), create_graph=create_graph)
    assert calls == {"self": 2, "other": 1}


def test_a_leafs_gradient_is_laid_out_as_the_leaf():
    # Note [The layout of a gradient]: x @ w.t() computes w's gradient transposed; PyTorch
    # copies it into w's layout, so .grad is contiguous and views as a flat vector
    linear = rg.nn.Linear(3, 4)
    linear(rg.randn(5, 3)).sum().backward()
    grad = linear.weight.grad
    assert grad.is_contiguous() and grad.stride() == (3, 1)
    assert grad.view(-1).shape == (12,)
    transposed = rg.randn(3, 4).t().detach().requires_grad_()  # a leaf laid out transposed
    (rg.randn(5, 3) @ transposed.t()).sum().backward()
    assert transposed.grad.stride() == (1, 4)
    strided = rg.randn(4, 6)[:, ::2].detach().requires_grad_()  # not dense: contiguous
    (strided * 3).sum().backward()
    assert strided.grad.stride() == (3, 1)
