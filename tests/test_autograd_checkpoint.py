"""retrograd.utils.checkpoint: same gradients, less memory, PyTorch's warnings."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

import retrograd as torch
from retrograd.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential


def _weights():
    return (
        torch.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=torch.float64, requires_grad=True),
        torch.tensor([[1.5, 0.2], [-0.7, 0.9]], dtype=torch.float64, requires_grad=True),
    )


def _block(w1, w2):
    def run(t):
        return ((t * w1).sin() * w2).exp()

    return run


def _input():
    return torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64, requires_grad=True)


def _grads(make_output, x, w1, w2):
    for tensor in (x, w1, w2):
        tensor.grad = None
    make_output().sum().backward()
    return [tensor.grad.numpy().copy() for tensor in (x, w1, w2)]


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpoint_gives_the_same_gradients(use_reentrant):
    x, (w1, w2) = _input(), _weights()
    block = _block(w1, w2)
    expected = _grads(lambda: block(x), x, w1, w2)
    got = _grads(lambda: checkpoint(block, x, use_reentrant=use_reentrant), x, w1, w2)
    for mine, reference in zip(got, expected, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_non_reentrant_checkpoint_recomputes_in_backward():
    calls = []
    x, (w1, w2) = _input(), _weights()
    block = _block(w1, w2)

    def counted(t):
        calls.append(torch.is_grad_enabled())
        return block(t)

    y = checkpoint(counted, x, use_reentrant=False)
    assert len(calls) == 1
    y.sum().backward()
    assert calls == [True, True]


def test_non_reentrant_supports_autograd_grad_and_double_backward():
    x, (w1, w2) = _input(), _weights()
    block = _block(w1, w2)
    (plain,) = torch.autograd.grad(block(x).sum(), x, create_graph=True)
    (checked,) = torch.autograd.grad(checkpoint(block, x, use_reentrant=False).sum(), x, create_graph=True)
    np.testing.assert_allclose(checked.detach().numpy(), plain.detach().numpy())
    (second_plain,) = torch.autograd.grad(plain.sum(), x)
    (second_checked,) = torch.autograd.grad(checked.sum(), x)
    np.testing.assert_allclose(second_checked.numpy(), second_plain.numpy())


def test_non_reentrant_supports_retain_graph():
    x, (w1, w2) = _input(), _weights()
    y = checkpoint(_block(w1, w2), x, use_reentrant=False).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_reentrant_checkpoint_refuses_autograd_grad():
    x, (w1, w2) = _input(), _weights()
    y = checkpoint(_block(w1, w2), x, use_reentrant=True).sum()
    expected = r"When use_reentrant=True, torch.utils.checkpoint is incompatible with \.grad\(\)"
    with pytest.raises(RuntimeError, match=expected):
        torch.autograd.grad(y, x)


def test_random_numbers_are_replayed_in_the_recomputation():
    x = _input()

    def noisy(t):
        return t * torch.rand(2, 2, dtype=torch.float64)

    torch.manual_seed(0)
    y = checkpoint(noisy, x, use_reentrant=False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y / x).detach().numpy())


def test_changed_recomputation_is_detected():
    x = _input()
    calls = []

    def unstable(t):
        calls.append(None)
        return t.exp() if len(calls) == 1 else t.view(4).exp()

    y = checkpoint(unstable, x, use_reentrant=False)
    expected = "Recomputed values for the following tensors have different metadata"
    with pytest.raises(CheckpointError, match=expected):
        y.sum().backward()


def test_missing_use_reentrant_warns_like_pytorch():
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        checkpoint(lambda t: t * 2, _input())


def test_reentrant_warns_when_no_input_requires_grad():
    expected = r"None of the inputs have requires_grad=True\. Gradients will be None"
    with pytest.warns(UserWarning, match=expected):
        checkpoint(lambda t: t * 2, torch.ones(2), use_reentrant=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lambda t: t * 2, torch.ones(2), use_reentrant=False)


def test_checkpoint_sequential_matches_running_the_layers():
    x, (w1, _) = _input(), _weights()
    layers = [lambda t: t * 2, lambda t: t.exp(), lambda t: t * w1, lambda t: t.sin(), lambda t: t * t]

    def run_all():
        value = x
        for layer in layers:
            value = layer(value)
        return value

    expected = _grads(run_all, x, w1, w1)
    got = _grads(lambda: checkpoint_sequential(layers, 2, x, use_reentrant=False), x, w1, w1)
    for mine, reference in zip(got, expected, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_gradients_match_pytorch():
    real = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as real_checkpoint

    def run(m, check):
        x = m.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=m.float64, requires_grad=True)
        w = m.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=m.float64, requires_grad=True)
        check(lambda t: ((t * w).sin() * w).exp(), x, use_reentrant=False).sum().backward()
        return x.grad.numpy(), w.grad.numpy()

    for mine, theirs in zip(run(torch, checkpoint), run(real, real_checkpoint), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def _peak_memory(make_loss) -> int:
    tracemalloc.start()
    make_loss().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_checkpointing_a_deep_network_lowers_peak_memory():
    rng = np.random.default_rng(0)
    width, depth, batch = 16, 64, 256
    weights = [torch.tensor(rng.standard_normal((width, width)) / 4).requires_grad_() for _ in range(depth)]
    x = torch.tensor(rng.standard_normal((batch, width)))

    def layer(weight):
        return lambda h: (h.view(batch, width, 1) * weight.view(1, width, width)).sum(1).sin()

    layers = [layer(weight) for weight in weights]

    def plain():
        h = x
        for one in layers:
            h = one(h)
        return h.sum()

    plain_peak = _peak_memory(plain)
    plain_grads = [weight.grad.numpy().copy() for weight in weights]
    for weight in weights:
        weight.grad = None
    checked_peak = _peak_memory(lambda: checkpoint_sequential(layers, 8, x, use_reentrant=False).sum())
    for weight, expected in zip(weights, plain_grads):
        np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-12)
    assert checked_peak < 0.6 * plain_peak
