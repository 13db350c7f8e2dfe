"""A tiny model trained in retrograd and in PyTorch from the same weights gives the same losses."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn, optim
from retrograd.utils.data import DataLoader, TensorDataset


def _models():
    retrograd.manual_seed(0)
    ours = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    if torch is None:
        return ours, None
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    theirs.load_state_dict({key: torch.tensor(value.numpy().copy()) for key, value in ours.state_dict().items()})
    return ours, theirs


def _data():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((32, 4)).astype(np.float32)
    labels = rng.integers(0, 3, 32)
    return features, labels


@needs_torch
@pytest.mark.parametrize(
    ("optimizer_name", "kwargs"),
    [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})],
)
def test_twenty_steps_give_the_same_losses(optimizer_name, kwargs):
    ours, theirs = _models()
    our_optimizer = getattr(optim, optimizer_name)(ours.parameters(), **kwargs)
    their_optimizer = getattr(torch.optim, optimizer_name)(theirs.parameters(), **kwargs)
    features, labels = _data()
    our_x, our_y = retrograd.tensor(features), retrograd.tensor(labels)
    their_x, their_y = torch.tensor(features), torch.tensor(labels)
    our_losses, their_losses = [], []
    for _ in range(20):
        our_optimizer.zero_grad()
        loss = nn.functional.cross_entropy(ours(our_x), our_y)
        loss.backward()
        our_optimizer.step()
        our_losses.append(loss.item())
        their_optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(theirs(their_x), their_y)
        loss.backward()
        their_optimizer.step()
        their_losses.append(loss.item())
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5, atol=1e-5)
    assert our_losses[-1] < our_losses[0]


def test_training_loop_with_loader_scheduler_and_checkpoint(tmp_path):
    """The usual loop: DataLoader, optimiser, scheduler, save and resume from a checkpoint."""
    features, labels = _data()
    loader = DataLoader(TensorDataset(retrograd.tensor(features), retrograd.tensor(labels)), batch_size=8,
                        shuffle=True, generator=retrograd.Generator().manual_seed(0))
    model, _ = _models()
    optimizer = optim.AdamW(model.parameters(), lr=0.05)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    loss_function = nn.CrossEntropyLoss()

    def epoch():
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_function(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        scheduler.step()
        return total / len(loader)

    losses = [epoch() for _ in range(3)]
    assert losses[-1] < losses[0]
    retrograd.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict()}, tmp_path / "checkpoint.npz")
    checkpoint = retrograd.load(tmp_path / "checkpoint.npz")
    resumed, _ = _models()
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer = optim.AdamW(resumed.parameters(), lr=0.05)
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    assert resumed_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    x = retrograd.tensor(features)
    assert resumed(x).tolist() == model(x).tolist()
