"""The optimisers' updates on arrays: written in place with few temporaries, 0-d parameters
included (see the module docstring of retrograd/optim/optimizer.py)."""

import tracemalloc

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn, optim

# Every optimiser but LBFGS, with the options that take the most steps of arithmetic, and how
# many parameter-sized temporaries one step holds at once, at most (NumPy's allocations, seen
# by tracemalloc): each product is computed into a temporary that later products reuse.
CASES = [
    ("SGD", {"lr": 0.1}, 1),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1, "momentum": 0.9, "nesterov": True}, 2),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1, "momentum": 0.9, "dampening": 0.2, "maximize": True}, 3),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, 3),
    ("AdamW", {"lr": 0.01}, 2),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}, 2),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}, 3),
    ("RMSprop", {"centered": True, "momentum": 0.9, "weight_decay": 0.1}, 3),
    ("RMSprop", {}, 2),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "lr_decay": 0.01}, 3),
    ("Adadelta", {"weight_decay": 0.1}, 3),
    ("RAdam", {"weight_decay": 0.1}, 2),
    ("Rprop", {}, 3.5),  # (and two bool masks of a quarter each)
    ("ASGD", {"weight_decay": 0.1, "t0": 2}, 2),
]
IDS = [f"{name}-{index}" for index, (name, _, _) in enumerate(CASES)]


def _gradient(param: np.ndarray, step: int) -> np.ndarray:
    return (1.5 * param - np.cos(np.arange(param.size) + step).reshape(param.shape)).astype(param.dtype)


@needs_torch
@pytest.mark.parametrize(("name", "kwargs", "temporaries"), CASES, ids=IDS)
def test_a_zero_dim_parameter_moves_as_in_pytorch(name, kwargs, temporaries):
    ours = nn.Parameter(retrograd.tensor(0.7))
    theirs = torch.nn.Parameter(torch.tensor(0.7))
    our_optimizer = getattr(optim, name)([ours], **kwargs)
    their_optimizer = getattr(torch.optim, name)([theirs], **kwargs)
    for step in range(6):
        ours.grad = retrograd.tensor(_gradient(ours.detach().numpy(), step))
        theirs.grad = torch.tensor(_gradient(theirs.detach().numpy(), step))
        our_optimizer.step()
        their_optimizer.step()
        assert ours.shape == ()
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def _arrays(param, optimizer) -> list:
    state = optimizer.state[param].values()
    return [param._data] + [value._data for value in state if isinstance(value, retrograd.Tensor)]


@pytest.mark.parametrize(("name", "kwargs", "temporaries"), CASES, ids=IDS)
def test_a_step_writes_into_the_parameter_and_its_state(name, kwargs, temporaries):
    param = nn.Parameter(retrograd.ones(4, 3))
    optimizer = getattr(optim, name)([param], **kwargs)
    param.grad = retrograd.full((4, 3), 0.5)
    optimizer.step()
    arrays = _arrays(param, optimizer)
    for step in range(3):
        param.grad = retrograd.tensor(_gradient(param.detach().numpy(), step))
        optimizer.step()
    assert all(now is before for now, before in zip(_arrays(param, optimizer), arrays, strict=True))


@pytest.mark.parametrize(("name", "kwargs", "temporaries"), CASES, ids=IDS)
def test_a_step_holds_few_temporaries(name, kwargs, temporaries):
    param = nn.Parameter(retrograd.ones(500, 100))
    optimizer = getattr(optim, name)([param], **kwargs)
    param.grad = retrograd.full((500, 100), 0.5)
    optimizer.step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        optimizer.step()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak <= temporaries * param._data.nbytes + 4096
