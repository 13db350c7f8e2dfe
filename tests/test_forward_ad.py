"""Forward-mode AD: dual levels, dual tensors, tangent propagation, and how it meets reverse mode.

The per-op tangents are checked for every sample of the op table in test_forward_ad_matrix.py;
this file specifies the API (PyTorch's `torch.autograd.forward_ad`) and the cross-cutting cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
import retrograd.autograd.forward_ad as fwAD

try:
    import torch as _torch
except ImportError:  # pragma: no cover - torch is an optional cross-check
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="PyTorch is not installed")


def _tangent(tensor):
    return fwAD.unpack_dual(tensor).tangent


# -- levels --------------------------------------------------------------------------


def test_dual_level_gives_level_zero_and_closes_it():
    with fwAD.dual_level() as level:
        assert level == 0
    assert fwAD._state.level == -1
    with fwAD.dual_level() as level:  # a level can be opened again after it is closed
        assert level == 0


def test_levels_do_not_nest_as_in_pytorch():
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported at the moment"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="Nested forward mode AD"), fwAD.dual_level():
            pass


def test_enter_and_exit_by_hand():
    level = fwAD.enter_dual_level()
    try:
        with pytest.raises(RuntimeError, match="not the last one that was created"):
            fwAD.exit_dual_level(level=7)
    finally:
        fwAD.exit_dual_level(level=level)
    with pytest.raises(RuntimeError, match="Dual level must be a positive number."):
        fwAD.exit_dual_level()


def test_dual_level_works_as_a_decorator():
    @fwAD.dual_level()
    def tangent_of_square(x, v):
        return _tangent(fwAD.make_dual(x, v) ** 2)

    assert tangent_of_square(retrograd.tensor(3.0), retrograd.tensor(1.0)).item() == 6.0
    assert fwAD._state.level == -1


# -- make_dual / unpack_dual ---------------------------------------------------------


def test_make_dual_outside_a_level_raises_pytorch_error():
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level\\(\\) first"):
        fwAD.make_dual(retrograd.ones(2), retrograd.ones(2))


def test_make_dual_refuses_a_tangent_of_another_size():
    with fwAD.dual_level(), pytest.raises(RuntimeError) as caught:
        fwAD.make_dual(retrograd.ones(2), retrograd.ones(3))
    assert str(caught.value) == (
        "Trying to set a forward gradient that has a different size than that of the original "
        "Tensor, this is not supported. Tensor is of size [2] while the given forward gradient is "
        "of size [3]."
    )


def test_make_dual_refuses_integer_primal_and_tangent():
    with fwAD.dual_level():
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex, but got"):
            fwAD.make_dual(retrograd.tensor([1, 2]), retrograd.ones(2))
        with pytest.raises(ValueError, match="Expected tangent to be floating point or complex, but got"):
            fwAD.make_dual(retrograd.ones(2), retrograd.tensor([1, 2]))


def test_make_dual_and_unpack_dual_at_a_wrong_level():
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Invalid level given to _make_dual"):
            fwAD.make_dual(retrograd.ones(2), retrograd.ones(2), level=5)
        dual = fwAD.make_dual(retrograd.ones(2), retrograd.ones(2))
        with pytest.raises(RuntimeError, match="Invalid level given to _fw_primal"):
            fwAD.unpack_dual(dual, level=5)


def test_make_dual_is_a_view_that_keeps_the_tangent_object():
    x, v = retrograd.tensor([1.0, 2.0]), retrograd.tensor([1.0, 0.0])
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, v)
        assert dual._base is x
        unpacked = fwAD.unpack_dual(dual)
        assert unpacked.tangent is v
        assert unpacked.primal._base is x
        assert _tangent(unpacked.primal) is None


def test_make_dual_of_a_tensor_requiring_grad_records_a_view():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, retrograd.ones(2))
        assert dual.grad_fn.name() == "ViewBackward0"


def test_unpack_dual_is_a_named_tuple():
    with fwAD.dual_level():
        unpacked = fwAD.unpack_dual(fwAD.make_dual(retrograd.tensor(2.0), retrograd.tensor(1.0)))
    assert type(unpacked).__name__ == "UnpackedDualTensor"
    assert unpacked._fields == ("primal", "tangent")
    primal, tangent = unpacked
    assert primal.item() == 2.0 and tangent.item() == 1.0


def test_a_plain_tensor_has_no_tangent():
    x = retrograd.ones(2)
    with fwAD.dual_level():
        assert fwAD.unpack_dual(x).tangent is None
        assert _tangent(x * 2) is None
    assert fwAD.unpack_dual(x) == (x, None)


def test_tangents_are_dropped_when_the_level_exits():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0]), retrograd.ones(2))
        result = dual * dual
        assert _tangent(result) is not None
    assert fwAD.unpack_dual(result).tangent is None
    assert fwAD.unpack_dual(dual).tangent is None
    assert repr(result) == "tensor([1., 4.])"


def test_repr_shows_the_tangent_as_pytorch():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0]), retrograd.tensor([1.0, 0.0]))
        assert repr(dual) == "tensor([1., 2.], tangent=tensor([1., 0.]))"
        assert repr(dual.sum()) == "tensor(3., tangent=1.0)"


# -- propagation ---------------------------------------------------------------------


def test_seed_article_example_carries_the_derivative():
    """y = (x+1)(x+2) at x = 2: the tangent of y is dy/dx = 2x + 3 = 7 (the article's x.grad)."""
    x = retrograd.tensor(2.0)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, retrograd.tensor(1.0))
        a = retrograd.add(dual, 1)
        b = retrograd.add(dual, 2)
        y = retrograd.mul(a, b)
        assert (_tangent(a).item(), _tangent(b).item(), _tangent(y).item()) == (1.0, 1.0, 7.0)
        assert fwAD.unpack_dual(y).primal.item() == 12.0


def test_tangent_flows_through_a_small_network():
    rng = np.random.default_rng(0)
    w = retrograd.tensor(rng.standard_normal((3, 4)))
    x = retrograd.tensor(rng.standard_normal((2, 4)))
    v = retrograd.tensor(rng.standard_normal((2, 4)))

    def network(inputs):
        hidden = retrograd.tanh(inputs @ w.T)
        return retrograd.nn.functional.log_softmax(hidden, dim=1).sum()

    with fwAD.dual_level():
        tangent = _tangent(network(fwAD.make_dual(x, v))).item()
    leaf = x.clone().requires_grad_()
    network(leaf).backward()
    assert tangent == pytest.approx(float((leaf.grad * v).sum()), rel=1e-12)


def test_tangent_works_under_no_grad():
    with fwAD.dual_level(), retrograd.no_grad():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0]), retrograd.ones(2))
        assert _tangent(dual * 2).tolist() == [2.0, 2.0]


def test_tangent_of_a_view_is_a_view_of_the_tangent():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0, 3.0]), retrograd.tensor([4.0, 5.0, 6.0]))
        assert _tangent(dual[1]).item() == 5.0
        assert _tangent(dual.reshape(3, 1)).shape == (3, 1)


def test_in_place_op_on_a_dual_updates_its_tangent():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0]), retrograd.tensor([1.0, 0.0]))
        element = dual[0]
        dual.mul_(2)
        assert dual.tolist() == [2.0, 4.0]
        assert _tangent(dual).tolist() == [2.0, 0.0]
        assert _tangent(element).item() == 2.0  # a view of the tangent sees the write


def test_in_place_op_with_a_dual_operand_gives_the_target_a_tangent():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0]), retrograd.tensor([1.0, 3.0]))
        target = retrograd.ones(2)
        target.mul_(dual)
        assert _tangent(target).tolist() == [1.0, 3.0]


def test_writing_a_dual_into_a_view_gives_the_base_a_tangent():
    """As PyTorch: the base of the written view gets a tangent, zeros where nothing was written."""
    with fwAD.dual_level():
        target = retrograd.zeros(2, 2)
        target.t()[0].copy_(fwAD.make_dual(retrograd.ones(2), retrograd.tensor([3.0, 4.0])))
        assert _tangent(target).tolist() == [[3.0, 0.0], [4.0, 0.0]]
        row = retrograd.zeros(3)
        row[1:] = fwAD.make_dual(retrograd.tensor([2.0, 3.0]), retrograd.tensor([5.0, 6.0]))
        assert _tangent(row).tolist() == [0.0, 5.0, 6.0]


def test_integer_outputs_get_no_tangent():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([3.0, 1.0, 2.0]), retrograd.ones(3))
        values, indices = retrograd.sort(dual)
        assert _tangent(values).tolist() == [1.0, 1.0, 1.0]
        assert _tangent(indices) is None
        assert _tangent(dual.argmax()) is None


def test_op_without_tangent_formula_raises_not_implemented():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 1.0]), retrograd.ones(2))
        with pytest.raises(NotImplementedError, match="Trying to use forward AD with unique2 that does not support it"):
            retrograd.unique(dual)


# -- forward and reverse together ----------------------------------------------------


def test_forward_over_reverse_gives_a_hessian_vector_product():
    """The tangent of a gradient is H·v (PyTorch's recipe: a dual input, then autograd.grad)."""
    x = retrograd.tensor([1.0, 2.0, 3.0], dtype=retrograd.float64, requires_grad=True)
    v = retrograd.tensor([1.0, -1.0, 0.5], dtype=retrograd.float64)

    def f(value):
        return (value.sin() * value ** 3).sum() + (value[0] * value[1]) ** 2

    with fwAD.dual_level():
        dual = fwAD.make_dual(x, v)
        (gradient,) = retrograd.autograd.grad(f(dual), x)
        hvp = _tangent(gradient)
    hessian = retrograd.autograd.functional.hessian(f, x.detach())
    np.testing.assert_allclose(hvp.numpy(), (hessian @ v).numpy(), rtol=1e-12)


def test_forward_over_reverse_with_create_graph_keeps_a_differentiable_gradient():
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, retrograd.tensor([1.0, 1.0], dtype=retrograd.float64))
        (gradient,) = retrograd.autograd.grad((dual ** 3).sum(), x, create_graph=True)
        assert gradient.grad_fn is not None
        assert _tangent(gradient).tolist() == [6.0, 12.0]


def test_reverse_over_forward_differentiates_a_tangent():
    """A tangent that depends on a leaf requiring grad can be differentiated (d/dx of f'(x)·v)."""
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    v = retrograd.tensor([1.0, 1.0], dtype=retrograd.float64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, v)
        tangent = _tangent((dual.exp() * dual).sum())
        (gradient,) = retrograd.autograd.grad(tangent, x)
    expected = (x.detach() + 2) * x.detach().exp()  # d/dx of (x + 1) e^x
    np.testing.assert_allclose(gradient.numpy(), expected.numpy(), rtol=1e-12)


def test_tangent_requiring_grad_is_differentiable():
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64)
    v = retrograd.tensor([3.0, 4.0], dtype=retrograd.float64, requires_grad=True)
    with fwAD.dual_level():
        tangent = _tangent((fwAD.make_dual(x, v) ** 2).sum())
        (gradient,) = retrograd.autograd.grad(tangent, v)
    assert gradient.tolist() == [2.0, 4.0]


# -- cost ---------------------------------------------------------------------------


def test_no_dual_level_leaves_no_trace_on_tensors():
    result = retrograd.ones(2) * 2
    assert getattr(result, "_fw_grad", None) is None
    assert fwAD._state.hooked is False


# -- against PyTorch ------------------------------------------------------------------


@needs_torch
def test_matches_pytorch_forward_ad_on_a_composite_function():
    torch = _torch
    rng = np.random.default_rng(4)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def f(module, value):
        return module.nn.functional.softmax(value.tanh() @ value.T, dim=-1).logsumexp(0).norm()

    with fwAD.dual_level():
        ours = _tangent(f(retrograd, fwAD.make_dual(retrograd.tensor(x), retrograd.tensor(v))))
    import torch.autograd.forward_ad as torch_fwAD

    with torch_fwAD.dual_level():
        theirs = torch_fwAD.unpack_dual(f(torch, torch_fwAD.make_dual(torch.tensor(x), torch.tensor(v)))).tangent
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


# -- custom Functions ------------------------------------------------------------------


class _Cube(retrograd.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad

    @staticmethod
    def jvp(ctx, tangent):
        (x,) = ctx.saved_tensors
        return 3 * x * x * tangent


def test_custom_function_tangent_comes_from_its_jvp():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        result = _Cube.apply(fwAD.make_dual(x, retrograd.tensor([1.0, 1.0])))
        assert _tangent(result).tolist() == [3.0, 12.0]
        result.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_custom_function_jvp_reads_what_forward_saved_for_it():
    class Scale(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.save_for_forward(factor)
            return x * factor

        @staticmethod
        def jvp(ctx, x_t, factor_t):
            (factor,) = ctx.saved_tensors
            return x_t * factor + factor_t * 0

    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0]), retrograd.tensor([1.0, 1.0]))
        assert _tangent(Scale.apply(dual, retrograd.tensor(3.0))).tolist() == [3.0, 3.0]


def test_custom_function_without_jvp_refuses_a_tangent():
    class NoJvp(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.ones(2), retrograd.ones(2))
        with pytest.raises(NotImplementedError, match="You must implement the jvp function for custom "
                                                      "autograd.Function to use it with forward mode AD."):
            NoJvp.apply(dual)
        assert NoJvp.apply(retrograd.ones(2)).tolist() == [2.0, 2.0]  # a plain input needs no jvp


# -- gradcheck and autograd.functional -------------------------------------------------


def _double(*values):
    return tuple(retrograd.tensor(value, dtype=retrograd.float64, requires_grad=True) for value in values)


def test_gradcheck_checks_forward_mode():
    (x,) = _double([0.3, -1.2, 2.0])
    assert retrograd.autograd.gradcheck(lambda a: (a.sin() * a).cumsum(0), (x,), check_forward_ad=True,
                                        check_batched_forward_grad=True)
    assert retrograd.autograd.gradcheck(lambda a: a.exp().sum(), (x,), check_forward_ad=True,
                                        check_backward_ad=False, fast_mode=True)


def test_gradcheck_reports_a_wrong_tangent():
    class WrongTangent(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

        @staticmethod
        def jvp(ctx, tangent):
            (x,) = ctx.saved_tensors
            return 3 * x * tangent  # should be 2 x t

    (x,) = _double([1.0, 2.0])
    assert retrograd.autograd.gradcheck(WrongTangent.apply, (x,))  # backward is right
    with pytest.raises(RuntimeError, match="Jacobian computed with forward mode mismatch for output 0 with respect to input 0"):
        retrograd.autograd.gradcheck(WrongTangent.apply, (x,), check_forward_ad=True)
    assert not retrograd.autograd.gradcheck(WrongTangent.apply, (x,), check_forward_ad=True,
                                            raise_exception=False)


def test_functional_jacobian_forward_mode_uses_dual_tensors(monkeypatch):
    """strategy="forward-mode" runs forward mode (it never calls autograd.grad)."""
    from retrograd.autograd import functional

    (x,) = _double([0.5, 1.5])
    (y,) = _double([2.0, -1.0, 0.25])

    def f(a, b):
        return (a.sin().unsqueeze(1) * b).reshape(-1), a.prod()

    expected = functional.jacobian(f, (x, y))

    def refuse(*args, **kwargs):
        raise AssertionError("forward mode called autograd.grad")

    monkeypatch.setattr(functional, "_autograd_grad", refuse)
    found = functional.jacobian(f, (x, y), vectorize=True, strategy="forward-mode")
    for row, expected_row in zip(found, expected):
        for block, expected_block in zip(row, expected_row):
            assert block.shape == expected_block.shape
            np.testing.assert_allclose(block.numpy(), expected_block.numpy(), rtol=1e-12)


def test_functional_jacobian_forward_mode_errors_as_pytorch():
    from retrograd.autograd import functional

    (x,) = _double([0.5, 1.5])
    with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"` are not supported'):
        functional.jacobian(lambda a: a, x, strict=True, vectorize=True, strategy="forward-mode")
    with pytest.raises(NotImplementedError, match="`create_graph=True` and"):
        functional.jacobian(lambda a: a, x, create_graph=True, vectorize=True, strategy="forward-mode")


def test_functional_hessian_forward_over_reverse_matches_reverse_over_reverse():
    from retrograd.autograd import functional

    inputs = _double([0.5, 1.5, -0.7], [2.0, 3.0])

    def f(a, b):
        return (a.exp() * a.sum()).sum() * b.prod() + (a[:2] * b).tanh().sum()

    forward = functional.hessian(f, inputs, vectorize=True, outer_jacobian_strategy="forward-mode")
    reverse = functional.hessian(f, inputs)
    for row, reverse_row in zip(forward, reverse):
        for block, reverse_block in zip(row, reverse_row):
            np.testing.assert_allclose(block.numpy(), reverse_block.numpy(), rtol=1e-12)


@needs_torch
def test_functional_forward_mode_matches_pytorch():
    torch = _torch
    rng = np.random.default_rng(5)
    x = rng.standard_normal(3)

    def f(module, value):
        return (value.unsqueeze(0) * value.unsqueeze(1)).tanh().logsumexp(1)

    ours = retrograd.autograd.functional.jacobian(lambda v: f(retrograd, v), retrograd.tensor(x),
                                                  vectorize=True, strategy="forward-mode")
    theirs = torch.autograd.functional.jacobian(lambda v: f(torch, v), torch.tensor(x),
                                                vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    hessian_ours = retrograd.autograd.functional.hessian(
        lambda v: f(retrograd, v).sum(), retrograd.tensor(x), vectorize=True,
        outer_jacobian_strategy="forward-mode")
    hessian_theirs = torch.autograd.functional.hessian(
        lambda v: f(torch, v).sum(), torch.tensor(x), vectorize=True, outer_jacobian_strategy="forward-mode")
    np.testing.assert_allclose(hessian_ours.numpy(), hessian_theirs.detach().numpy(), rtol=1e-12)


def test_forward_mode_benchmark_checks_both_ways_before_timing():
    """`python -m benchmarks.forward_mode --quick` computes every product both ways (and with
    PyTorch where installed), checks they agree, then times them."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import forward_mode

    options = forward_mode.parse(["--quick", "--repeats", "1", "--sample-seconds", "0.001"])
    medians, problems = forward_mode.run(options)
    table = forward_mode.table(medians, problems)
    assert "forward-over-reverse" in table and "reverse-mode" in table
    assert all(value > 0 for value in medians.values())


def test_forward_mode_jacobian_is_one_vmapped_dual_pass(monkeypatch):
    """As PyTorch: the tangents of the standard basis travel as one batch under vmap; the
    row-by-row loop is only the fallback."""
    from retrograd.autograd import _batched, functional

    def refuse(*args, **kwargs):
        raise AssertionError("fell back to one dual pass per column")

    monkeypatch.setattr(_batched, "_jvp_row_by_row", refuse)
    rng = np.random.default_rng(2)
    weight, x = retrograd.tensor(rng.standard_normal((3, 5))), retrograd.tensor(rng.standard_normal(5))
    found = functional.jacobian(lambda v: retrograd.tanh(weight @ v), x, vectorize=True, strategy="forward-mode")
    expected = functional.jacobian(lambda v: retrograd.tanh(weight @ v), x)
    np.testing.assert_allclose(found.numpy(), expected.numpy(), rtol=1e-12)


def test_forward_mode_jacobian_falls_back_to_one_pass_per_column(monkeypatch):
    import retrograd.func
    from retrograd.autograd import functional

    def broken_vmap(*args, **kwargs):
        raise RuntimeError("vmap cannot run this")

    monkeypatch.setattr(retrograd.func, "vmap", broken_vmap)
    (x,) = _double([0.5, -1.0, 2.0])
    found = functional.jacobian(lambda v: v.cumprod(0), x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(found.numpy(), functional.jacobian(lambda v: v.cumprod(0), x).numpy(), rtol=1e-12)


def test_a_long_dual_level_forgets_the_tensors_already_freed():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.ones(2), retrograd.ones(2))
        for _ in range(10_000):
            dual = dual * 1.0
        assert len(fwAD._state.duals) < 9_000
        assert _tangent(dual).tolist() == [1.0, 1.0]


IN_PLACE_SHAPE_METHODS = {
    "unsqueeze_": lambda t: t.unsqueeze_(0),
    "squeeze_": lambda t: t.squeeze_(-1),
    "transpose_": lambda t: t.transpose_(0, 1),
    "t_": lambda t: t.t_(),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE_SHAPE_METHODS))
def test_in_place_shape_methods_reshape_the_tangent_too(name):
    method = IN_PLACE_SHAPE_METHODS[name]
    primal = retrograd.tensor(np.arange(3.0).reshape(3, 1))
    tangent = retrograd.tensor(np.array([[1.0], [2.0], [3.0]]))
    with fwAD.dual_level():
        result = method(fwAD.make_dual(primal, tangent) * 2)
        expected = method(tangent.clone() * 2)
        unpacked = fwAD.unpack_dual(result)
        assert unpacked.tangent.shape == result.shape
        np.testing.assert_array_equal(unpacked.tangent.numpy(), expected.numpy())
