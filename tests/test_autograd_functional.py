"""retrograd.autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import _batched
from retrograd.autograd import functional as F


def _vector():
    return torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)


def _matrix():
    return torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)


def _two_outputs(a, b):
    return (a.exp() * a).sum() * b, a * 2


def _cubic(a):
    return (a**3).sum() + a.sin().sum()


def _coupled(a, b):
    return (a * a).sum() * (b * b).sum()


def test_jacobian_of_an_elementwise_function_is_diagonal():
    x = _vector()
    jacobian = F.jacobian(lambda a: a.exp(), x)
    np.testing.assert_allclose(jacobian.numpy(), np.diag(np.exp([1.0, 2.0, 3.0])))


def test_jacobian_shapes_for_tuples():
    x, y = _vector(), _matrix()
    blocks = F.jacobian(_two_outputs, (x, y))
    assert [[tuple(block.shape) for block in row] for row in blocks] == [
        [(2, 2, 3), (2, 2, 2, 2)],
        [(3, 3), (3, 2, 2)],
    ]
    np.testing.assert_allclose(blocks[1][0].numpy(), 2 * np.eye(3))
    assert not blocks[1][1].numpy().any()


@pytest.mark.parametrize("vectorize", [False, True])
def test_hessian_matches_closed_form(vectorize):
    x = _vector()
    hessian = F.hessian(_cubic, x, vectorize=vectorize)
    expected = np.diag(6 * x.numpy() - np.sin(x.numpy()))
    np.testing.assert_allclose(hessian.numpy(), expected, rtol=1e-12)


def test_vectorized_jacobian_uses_one_batched_backward_for_broadcasting_ops(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fell back to one backward per row")

    monkeypatch.setattr(_batched, "_row_by_row", refuse)
    x = _vector()
    jacobian = F.jacobian(lambda a: (a.exp() * a + a * 2).sin(), x, vectorize=True)
    np.testing.assert_allclose(jacobian.numpy(), F.jacobian(lambda a: (a.exp() * a + a * 2).sin(), x).numpy())


def test_vectorized_jacobian_falls_back_when_a_backward_is_not_batchable():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)

    def function(a):
        return a.view(4) * a.select(0, 1).view(2, 1).expand(2, 2).reshape(4)

    np.testing.assert_allclose(
        F.jacobian(function, x, vectorize=True).numpy(), F.jacobian(function, x).numpy()
    )


def test_vjp_jvp_hvp_vhp_against_jacobians():
    x = _vector()
    v = torch.tensor([0.3, -0.2, 1.0], dtype=torch.float64)
    jacobian = F.jacobian(lambda a: a.exp() * a, x).numpy()
    _, vjp = F.vjp(lambda a: a.exp() * a, x, v)
    _, jvp = F.jvp(lambda a: a.exp() * a, x, v)
    np.testing.assert_allclose(vjp.numpy(), v.numpy() @ jacobian)
    np.testing.assert_allclose(jvp.numpy(), jacobian @ v.numpy())
    hessian = F.hessian(_cubic, x).numpy()
    value, hvp = F.hvp(_cubic, x, v)
    _, vhp = F.vhp(_cubic, x, v)
    np.testing.assert_allclose(hvp.numpy(), hessian @ v.numpy())
    np.testing.assert_allclose(vhp.numpy(), v.numpy() @ hessian)
    assert value.item() == pytest.approx(_cubic(x).item())


def test_forward_mode_strategy_matches_reverse_mode():
    x = _vector()
    function = lambda a: (a.exp() * a).sum() * a  # noqa: E731
    np.testing.assert_allclose(
        F.jacobian(function, x, vectorize=True, strategy="forward-mode").numpy(),
        F.jacobian(function, x).numpy(),
    )


def test_create_graph_keeps_results_differentiable():
    x = _vector().requires_grad_()
    jacobian = F.jacobian(lambda a: a**3, x, create_graph=True)
    assert jacobian.requires_grad
    (grad,) = torch.autograd.grad(jacobian.sum(), x)
    np.testing.assert_allclose(grad.numpy(), 6 * x.detach().numpy())
    assert not F.jacobian(lambda a: a**3, x).requires_grad


def test_strict_mode_rejects_independent_outputs():
    x = _vector()
    expected = "Output 0 of the user-provided function does not require gradients"
    with pytest.raises(RuntimeError, match=expected):
        F.jacobian(lambda a: torch.ones(3, dtype=torch.float64), x, strict=True)
    with pytest.raises(RuntimeError, match="is independent of input 1"):
        F.jacobian(lambda a, b: a * 2, (x, _matrix()), strict=True)
    assert not F.jacobian(lambda a, b: a * 2, (x, _matrix()))[1].numpy().any()


def test_argument_errors():
    x = _vector()
    with pytest.raises(RuntimeError, match="The vector v can only be None"):
        F.vjp(lambda a: a * 2, x)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda a: a, [x])
    with pytest.raises(RuntimeError, match="should contain a single element"):
        F.hessian(lambda a: a, x)
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        F.jacobian(lambda a: a, x, strategy="forward-mode")
    with pytest.raises(RuntimeError, match="has invalid size"):
        F.vjp(lambda a: a * 2, x, torch.ones(2, dtype=torch.float64))


def test_is_grads_batched_gives_one_row_per_cotangent():
    x = _vector().requires_grad_()
    y = x.exp()
    cotangents = torch.tensor([[1.0, 0, 0], [0, 2.0, 0]], dtype=torch.float64)
    (rows,) = torch.autograd.grad(y, x, cotangents, is_grads_batched=True)
    np.testing.assert_allclose(rows.numpy(), cotangents.numpy() * np.exp(x.detach().numpy()))


def test_everything_matches_pytorch():
    real = pytest.importorskip("torch")

    def run(m):
        functional = m.autograd.functional
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
        y = m.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=m.float64)
        v = m.tensor([0.3, -0.2, 1.0], dtype=m.float64)
        results = [
            functional.jacobian(_two_outputs, (x, y)),
            functional.jacobian(_two_outputs, (x, y), vectorize=True),
            functional.hessian(_coupled, (x, y)),
            functional.hvp(_cubic, x, v),
            functional.vhp(_coupled, (x, y), (v, y)),
            functional.jvp(lambda a: a.exp() * a, x, v),
            functional.vjp(lambda a: a.exp() * a, x, v),
        ]
        flat = []
        stack = [results]
        while stack:
            item = stack.pop()
            if isinstance(item, tuple | list):
                stack.extend(reversed(item))
            else:
                flat.append(item.detach().numpy())
        return flat

    for ours, theirs in zip(run(torch), run(real), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_create_graph_fallback_stacks_differentiably():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)

    def function(a):
        return a.view(4).exp()

    jacobian = F.jacobian(function, x, vectorize=True, create_graph=True)
    assert jacobian.requires_grad and tuple(jacobian.shape) == (4, 2, 2)
    (grad,) = torch.autograd.grad(jacobian.sum(), x)
    np.testing.assert_allclose(grad.numpy(), np.exp(x.detach().numpy()))


def test_docstring_examples_run():
    import doctest

    from retrograd.autograd import function, graph

    for module in (F, function, graph):
        assert doctest.testmod(module).failed == 0


def test_linearity_check_catches_a_backward_that_mixes_up_the_batch_dimension(monkeypatch):
    class Reverse(torch.autograd.Function):
        """x reversed; its backward reverses dim 0, which is the batch dim in a batched pass."""

        @staticmethod
        def forward(ctx, x):
            return x.flip(0)

        @staticmethod
        def backward(ctx, grad):
            return grad.flip(0)

    fallbacks = []
    original = _batched._row_by_row

    def counting(*args, **kwargs):
        fallbacks.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(_batched, "_row_by_row", counting)
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    jacobian = F.jacobian(lambda a: Reverse.apply(a) * a, x, vectorize=True)
    np.testing.assert_allclose(jacobian.numpy(), F.jacobian(lambda a: Reverse.apply(a) * a, x).numpy())
    assert fallbacks == [True]
