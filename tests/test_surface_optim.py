"""Adadelta, RAdam, Rprop and ASGD follow PyTorch's updates (compared over 12 steps)."""

import numpy as np
import pytest

import retrograd

try:
    import torch
except ImportError:  # the comparison skips
    torch = None

CASES = [
    ("Adadelta", {}), ("Adadelta", {"lr": 0.5, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.1}), ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Rprop", {}), ("Rprop", {"lr": 0.1, "maximize": True}),
    ("ASGD", {"lr": 0.1}), ("ASGD", {"lr": 0.1, "t0": 3, "weight_decay": 0.01}),
]


def _train(lib, name, kwargs, dtype_name="float64"):
    dtype = getattr(lib, dtype_name)
    w = lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=dtype, requires_grad=True)
    target = lib.tensor([[0.3, 0.1], [-0.2, 0.7]], dtype=dtype)
    scale = lib.tensor([[1.0, 3.0], [0.5, 2.0]], dtype=dtype)
    optimizer = getattr(lib.optim, name)([w], **kwargs)
    for _ in range(12):
        optimizer.zero_grad()
        loss = ((w - target) ** 2 * scale).sum() + (w[0, 0] * w[1, 1]).sin()
        loss.backward()
        optimizer.step()
    return w.detach().numpy(), sorted(optimizer.state_dict()["state"][0])


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_matches_pytorch(name, kwargs):
    ours, our_keys = _train(retrograd, name, kwargs)
    theirs, their_keys = _train(torch, name, kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    assert our_keys == their_keys


@pytest.mark.parametrize("name", ["Adadelta", "RAdam", "Rprop", "ASGD"])
def test_optimizer_decreases_the_loss(name):
    w = retrograd.tensor([2.0, -1.5], requires_grad=True)
    optimizer = getattr(retrograd.optim, name)([w], lr=0.05 if name != "Adadelta" else 1.0)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
