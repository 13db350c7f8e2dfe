"""Differences with PyTorch that the random autograd programs found.

Each function asserts PyTorch's behaviour with the module `m` (retrograd or torch);
test_random_programs.py runs each on PyTorch (it must pass). FIXED_CASES are regression tests
now (they pass on retrograd).
"""

import pytest


def pow_half_at_minus_inf(m):
    x = m.tensor([-float("inf"), 4.0], requires_grad=True)
    (g,) = m.autograd.grad(x ** 0.5, x, m.tensor([1.0, 1.0]))
    assert g.isnan()[0].item() and g[1].item() == 0.25


def softmax_of_a_0d_tensor(m):
    assert m.tensor(float("nan")).softmax(-1).isnan().item()
    x = m.tensor(0.5, requires_grad=True)
    (g,) = m.autograd.grad(x.softmax(-1), x, create_graph=True)
    assert g.requires_grad


def sigmoid_second_derivative_with_an_infinite_gradient(m):
    x = m.tensor([0.5], requires_grad=True)
    (g,) = m.autograd.grad(x.sigmoid(), x, m.tensor([float("inf")]), create_graph=True)
    (second,) = m.autograd.grad(g.sum(), x)
    assert second.item() == -float("inf")


def relu_gradient_at_nan(m):
    x = m.tensor([float("nan"), 1.0], requires_grad=True)
    (g,) = m.autograd.grad(x.relu(), x, m.tensor([1.0, 1.0]))
    assert g.tolist() == [1.0, 1.0]


def double_of_an_expanded_tensor_is_dense(m):
    assert m.tensor([[3, 0, -3]]).expand(2, 1, 3).double().view(-1).tolist() == [3.0, 0.0, -3.0] * 2


def arithmetic_on_an_expanded_integer_tensor_is_dense(m):
    """Found by the slow run (program 32303 of the bool-drawing generator)."""
    for values in ([0, 1, 1], [False, True, True]):
        assert (m.tensor(values).expand(2, 3) * 2.5).view(-1).tolist() == [0.0, 2.5, 2.5] * 2


def split_of_a_0d_tensor_raises_runtime_error(m):
    with pytest.raises(RuntimeError):
        m.tensor(1.0).split(1)


def copy_of_a_python_number(m):
    t = m.zeros(2)
    t.copy_(3)
    assert t.tolist() == [3.0, 3.0]


def a_fill_into_an_expanded_view_is_refused_by_backward(m):
    x = m.ones(3, requires_grad=True) * 1
    view = x.expand(2, 3)
    view.fill_(2.0)  # (fill_ and zero_ may write an expanded view, in both)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single"):
        view.sum().backward()


def a_product_of_bool_tensors_is_refused_after_its_shapes_are_checked(m):
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        m.ones(2, 1, dtype=m.bool) @ m.ones(2, 1, dtype=m.bool)
    with pytest.raises(NotImplementedError):
        m.ones(2, 2, dtype=m.bool) @ m.ones(2, 2, dtype=m.bool)


def a_bool_tensor_on_either_side_of_a_subtraction_is_refused(m):
    with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
        1 - m.tensor([True])
    with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
        m.tensor([1]) - m.tensor([True])


# -- PyTorch's efficient zero tensors (Note [Zero gradients that stay zero])


def the_zero_derivative_of_sgn_absorbs_nan(m):
    """abs's derivative is grad * sgn(x), and sgn's derivative is PyTorch's efficient zero
    tensor: multiplied by NaN it stays zero (a tensor of zeros would give NaN)."""
    x = m.tensor([2.0], dtype=m.float64, requires_grad=True)
    (first,) = m.autograd.grad((m.tensor([float("nan")], dtype=m.float64) * x).abs().sum(), x, create_graph=True)
    (second,) = m.autograd.grad(first.sum(), x)
    assert (second + 0).tolist() == [0.0]  # (+ 0: PyTorch's zero tensor has no storage to list)


def the_zero_derivative_of_sgn_stays_zero_through_products_only(m):
    """Products (mul, exp, pow) keep the zero gradient zero; a sum materialises it into plain
    zeros, which the next infinite factor turns into NaN, in both libraries."""
    inf = float("inf")
    x = m.tensor([2.0, 3.0], requires_grad=True)
    assert (m.autograd.grad((x * inf).exp().sgn().sum(), x)[0] + 0).tolist() == [0.0, 0.0]
    assert (m.autograd.grad(((x * inf) ** 2).sgn().sum(), x)[0] + 0).tolist() == [0.0, 0.0]
    assert m.autograd.grad(((x * inf).sum() * inf).sgn(), x)[0].isnan().all().item()
    assert m.autograd.grad((x * inf).sgn().sum() + x.sum(), x)[0].tolist() == [1.0, 1.0]


def a_zero_gradient_of_sgn_accumulates_as_zeros(m):
    x = m.tensor([2.0, -1.0], requires_grad=True)
    (x * float("nan")).sgn().sum().backward()
    assert (x.grad + 0).tolist() == [0.0, 0.0]  # (a later backward: see test_random_programs.py)


def a_zero_gradient_of_sgn_is_immutable_in_a_hook(m):
    x = m.tensor([2.0, -1.0], requires_grad=True)
    y = x * 3
    seen = []

    def hook(grad):
        with pytest.raises(RuntimeError, match="ZeroTensors are immutable"):
            grad.add_(1)
        seen.append((grad + 0).tolist())

    y.register_hook(hook)
    y.sgn().sum().backward()
    assert seen == [[0.0, 0.0]] and (x.grad + 0).tolist() == [0.0, 0.0]


def a_zero_gradient_stays_zero_through_recorded_products(m):
    """With create_graph the zero gradient is a tensor of the graph, and products keep it zero."""
    inf, nan = float("inf"), float("nan")
    x = m.tensor([2.0, -1.0], dtype=m.float64, requires_grad=True)
    (g,) = m.autograd.grad((x * inf).sgn().sum(), x, create_graph=True)
    assert ((g * inf) * nan + 0).tolist() == [0.0, 0.0]
    y = m.tensor([nan, inf], dtype=m.float64) * x
    (first,) = m.autograd.grad(y.abs().sum(), x, create_graph=True)
    (second,) = m.autograd.grad((first * first).sum(), x, create_graph=True)
    assert (second + 0).tolist() == [0.0, 0.0]


def a_zero_gradient_passes_through_chunk_and_cat(m):
    """Found by the slow run (programs 21621, 22246): chunk's backward concatenates the zero
    gradient of abs's second derivative with other gradients."""
    x = m.tensor([[float("inf")], [-0.58]], requires_grad=True)
    (first,) = m.autograd.grad(x.chunk(2)[0].abs().sum(), x, create_graph=True)
    (second,) = m.autograd.grad(first.sum(), x)
    assert (second + 0).tolist() == [[0.0], [0.0]]


def sign_and_rounding_have_ordinary_zero_derivatives(m):
    """Only sgn's zero is PyTorch's zero tensor: sign's, floor's... are zeros that NaN spreads to."""
    for name in ("sign", "floor", "ceil", "round", "trunc"):
        x = m.tensor([2.0], requires_grad=True)
        (g,) = m.autograd.grad(getattr(x * float("nan"), name)().sum(), x)
        assert g.isnan().item(), name


# -- views PyTorch will not rebuild, and views that require grad through their base


def views_of_several_views_raise_once_their_base_changed(m):
    y = m.ones(2, 2, requires_grad=True) * 1
    first, _ = y.unbind(0)
    y.add_(1)
    with pytest.raises(RuntimeError, match="Output 0 of Unbind is a view and its base or another view"):
        first.grad_fn  # (PyTorch raises when it reads it)


def a_view_made_under_no_grad_requires_grad(m):
    x = m.ones(2, 3, requires_grad=True)
    with m.no_grad():
        view = x[0]
    assert view.requires_grad and view.is_leaf
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace"):
        view.mul_(2)


def views_require_grad_once_their_base_does(m):
    base = m.zeros(2, 3)
    row = base[0]
    base.requires_grad_()
    assert row.requires_grad


def a_write_through_a_detach_alias_rebuilds_the_views(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    view = x.reshape(-1)
    old = view.grad_fn
    x.detach().add_(1)
    assert view.grad_fn is not old


def a_grad_write_into_a_plain_split_output_raises(m):
    parts = m.zeros(4).chunk(2)
    with pytest.raises(RuntimeError, match="This view is the output of a function that returns multiple views"):
        parts[0].add_(m.ones(2, requires_grad=True))


def a_view_made_under_no_grad_is_spoiled_by_a_write_into_its_base(m):
    y = m.ones(2, 2, requires_grad=True) * 1
    with m.no_grad():
        view = y[0]
    y.add_(1)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and its base or another view"):
        view.grad_fn
    assert view.requires_grad


def a_write_under_no_grad_or_through_a_detach_alias_spoils_several_views_too(m):
    y = m.ones(2, 2, requires_grad=True) * 1
    first, second = y.unbind(0)
    with m.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="Output 0 of Unbind is a view and its base"):
        first * 2
    with m.no_grad():
        assert (first * 2).tolist() == [4.0, 4.0]  # (nothing recorded: no grad_fn read)
    z = m.ones(2, 2, requires_grad=True) * 1
    parts = z.split(1)
    parts[0].detach().add_(1)
    with pytest.raises(RuntimeError, match="Output 1 of Split is a view and its base"):
        parts[1].grad_fn
    z.sum().backward()  # (the base itself is fine)


def ops_on_a_view_that_requires_grad_through_its_base_are_recorded_and_give_no_grad(m):
    base = m.zeros(2, 3)
    row = base[0]
    base.requires_grad_()
    y = row * 2
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert base.grad is None and row.grad is None
    base.requires_grad_(False)
    assert not row.requires_grad


def a_view_under_no_grad_of_a_base_without_grad_refuses_a_recorded_write(m):
    base = m.zeros(2, 3)
    with m.no_grad():
        row = base[0]
    assert not row.requires_grad
    row.add_(1)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified"):
        row.add_(m.ones(3, requires_grad=True))
    assert row.tolist() == [1.0, 1.0, 1.0] and row._version == 1


def a_view_written_before_its_base_requires_grad_takes_the_base_history(m):
    """Found by the generator (program 21): PyTorch rebuilds a view whose memory changed."""
    base = m.tensor([1.0, 2.0, 3.0])
    view = base[2]
    view.div_(3)
    untouched_base = m.tensor([1.0, 2.0])
    untouched = untouched_base[0]
    base.requires_grad_()
    untouched_base.requires_grad_()
    assert view.requires_grad and not view.is_leaf
    assert untouched.requires_grad and untouched.is_leaf
    view.backward()
    assert base.grad.tolist() == [0.0, 0.0, 1.0]


def a_view_that_requires_grad_through_its_base_is_no_root_and_no_input(m):
    """Found by the generator (programs 884, 1113, 1999): it has no gradient accumulator."""
    base = m.zeros(3)
    view = base[0]
    base.requires_grad_()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        view.backward()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        m.autograd.grad(view * 2, view)
    assert m.autograd.grad((base * 2).sum(), [base, view], allow_unused=True)[1] is None


FIXED_CASES = [pow_half_at_minus_inf, softmax_of_a_0d_tensor, sigmoid_second_derivative_with_an_infinite_gradient,
               relu_gradient_at_nan, double_of_an_expanded_tensor_is_dense,
               arithmetic_on_an_expanded_integer_tensor_is_dense, split_of_a_0d_tensor_raises_runtime_error,
               copy_of_a_python_number, a_write_through_a_detach_alias_rebuilds_the_views,
               a_fill_into_an_expanded_view_is_refused_by_backward,
               a_product_of_bool_tensors_is_refused_after_its_shapes_are_checked,
               a_bool_tensor_on_either_side_of_a_subtraction_is_refused,
               the_zero_derivative_of_sgn_absorbs_nan, the_zero_derivative_of_sgn_stays_zero_through_products_only,
               a_zero_gradient_of_sgn_accumulates_as_zeros, a_zero_gradient_of_sgn_is_immutable_in_a_hook,
               a_zero_gradient_stays_zero_through_recorded_products, a_zero_gradient_passes_through_chunk_and_cat,
               sign_and_rounding_have_ordinary_zero_derivatives,
               views_of_several_views_raise_once_their_base_changed, a_view_made_under_no_grad_requires_grad,
               views_require_grad_once_their_base_does, a_grad_write_into_a_plain_split_output_raises,
               a_view_made_under_no_grad_is_spoiled_by_a_write_into_its_base,
               a_write_under_no_grad_or_through_a_detach_alias_spoils_several_views_too,
               ops_on_a_view_that_requires_grad_through_its_base_are_recorded_and_give_no_grad,
               a_view_under_no_grad_of_a_base_without_grad_refuses_a_recorded_write,
               a_view_written_before_its_base_requires_grad_takes_the_base_history,
               a_view_that_requires_grad_through_its_base_is_no_root_and_no_input]
