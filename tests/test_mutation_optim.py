"""Each optimiser's update and state, option by option, against PyTorch (found by mutation testing).

tests/test_optim.py checks the common settings; these cases add each option that changes the
update on its own (so a wrong sign or constant in that branch shows), the optimisers of
`optim/more.py`, and the state each keeps, after enough steps for warm-ups and decays to matter.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from retrograd import nn, optim

CASES = [
    ("SGD", {"lr": 0.1, "weight_decay": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.25}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "nesterov": True, "weight_decay": 0.2}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.3}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.3, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.05, "betas": (0.3, 0.4), "eps": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.6, 0.7), "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "betas": (0.3, 0.4), "weight_decay": 0.5, "maximize": True}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "betas": (0.3, 0.4), "eps": 0.5, "maximize": True}),
    ("NAdam", {"lr": 0.05, "betas": (0.3, 0.4), "eps": 0.1, "momentum_decay": 0.3}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.3}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.3, "decoupled_weight_decay": True, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.5, "eps": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.5, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.5, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.5, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.5, "eps": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 0.1, "weight_decay": 0.3}),
    ("Adadelta", {"lr": 0.5, "maximize": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "betas": (0.5, 0.6), "eps": 0.1}),
    ("RAdam", {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.3}),
    ("RAdam", {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.3, "decoupled_weight_decay": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (0.01, 0.08)}),
    ("Rprop", {"lr": 0.05, "maximize": True}),
    ("ASGD", {"lr": 0.1}),
    ("ASGD", {"lr": 0.1, "lambd": 0.1, "alpha": 0.5, "t0": 3, "weight_decay": 0.3}),
    ("ASGD", {"lr": 0.1, "t0": 2, "maximize": True}),
]


def _gradient(param: np.ndarray, step: int) -> np.ndarray:
    """A gradient that depends on the parameter and changes sign from step to step."""
    wave = np.cos(np.arange(param.size) * 1.7 + step * 2.1).reshape(param.shape)
    return (1.5 * param - 2.0 * wave).astype(param.dtype)


def _trajectory(library, name, kwargs, steps, dtype=np.float64):
    start = np.random.default_rng(1).standard_normal((2, 3)).astype(dtype)
    parameter = library.nn.Parameter(library.tensor(start))
    optimizer = getattr(library.optim, name)([parameter], **kwargs)
    values = []
    for step in range(steps):
        parameter.grad = library.tensor(_gradient(parameter.detach().numpy(), step))
        optimizer.step()
        values.append(parameter.detach().numpy().copy())
    return values, optimizer.state_dict()


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_update_and_state_match_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours, our_state = _trajectory(retrograd, name, kwargs, steps=8)
    theirs, their_state = _trajectory(torch, name, kwargs, steps=8)
    for step, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12, err_msg=f"step {step + 1}")
    assert our_state["param_groups"] == their_state["param_groups"]
    for index, values in their_state["state"].items():
        assert our_state["state"][index].keys() == values.keys()
        for key, value in values.items():
            mine = our_state["state"][index][key]
            assert mine.dtype == getattr(retrograd, str(value.dtype).removeprefix("torch."))
            np.testing.assert_allclose(np.asarray(mine), value.numpy(), rtol=1e-6, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", ["Adadelta", "RAdam", "Rprop", "ASGD", "Adamax", "NAdam", "Adagrad"])
def test_float32_parameters_stay_float32(name):
    values, state = _trajectory(retrograd, name, {}, steps=2, dtype=np.float32)
    assert values[-1].dtype == np.float32
    assert state["state"][0]["step"].dtype == retrograd.float32


def test_sgd_step_by_hand():
    parameter = nn.Parameter(retrograd.tensor([1.0, -2.0]))
    optimizer = optim.SGD([parameter], lr=0.5, momentum=0.5, dampening=0.5, weight_decay=0.25)
    parameter.grad = retrograd.tensor([2.0, 4.0])
    optimizer.step()  # g = grad + 0.25·p = [2.25, 3.5]; buffer = g; p -= 0.5·g
    assert parameter.tolist() == [-0.125, -3.75]
    optimizer.step()  # g = [1.96875, 3.0625]; buffer = 0.5·buffer + 0.5·g
    buffer = [0.5 * 2.25 + 0.5 * 1.96875, 0.5 * 3.5 + 0.5 * 3.0625]
    assert parameter.tolist() == [-0.125 - 0.5 * buffer[0], -3.75 - 0.5 * buffer[1]]


def test_adam_first_step_moves_each_element_by_lr():
    parameter = nn.Parameter(retrograd.tensor([1.0, -2.0], dtype=retrograd.float64))
    optimizer = optim.Adam([parameter], lr=0.1)
    parameter.grad = retrograd.tensor([3.0, -0.5], dtype=retrograd.float64)
    optimizer.step()  # m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps)
    np.testing.assert_allclose(parameter.tolist(), [0.9, -1.9], rtol=1e-7)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
        (lambda p: optim.Adadelta(p, rho=-0.1), "Invalid rho value: -0.1"),
        (lambda p: optim.RAdam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.RAdam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda p: optim.Rprop(p, etas=(1.0, 1.2)), "Invalid eta values: 1.0, 1.2"),
        (lambda p: optim.Rprop(p, etas=(0.5, 1.0)), "Invalid eta values: 0.5, 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        (lambda p: optim.Adam(p, eps=-1e-3), "Invalid epsilon value: -0.001"),
        (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: optim.SGD(p, weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
        (lambda p: optim.SGD(p, lr=-0.5), "Invalid learning rate: -0.5"),
        (lambda p: optim.SGD(p, momentum=0.5, nesterov=True, dampening=0.1), "Nesterov momentum requires"),
        (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
        (lambda p: optim.Adagrad(p, lr_decay=-0.5), "Invalid lr_decay value: -0.5"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-0.5),
         "Invalid initial_accumulator_value value: -0.5"),
        (lambda p: optim.NAdam(p, momentum_decay=-0.5), "Invalid momentum_decay value: -0.5"),
    ],
)
def test_invalid_hyperparameters_raise_pytorchs_value_error(build, words):
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        build([nn.Parameter(retrograd.ones(2))])


@pytest.mark.parametrize(
    "build",
    [
        lambda p: optim.Adadelta(p, rho=1.0),
        lambda p: optim.Adadelta(p, rho=0.0),
        lambda p: optim.RAdam(p, betas=(0.0, 0.0)),
        lambda p: optim.Adam(p, betas=(0.0, 0.0), eps=0.0, lr=0.0, weight_decay=0.0),
        lambda p: optim.SGD(p, lr=0.0, momentum=0.0),
    ],
)
def test_boundary_hyperparameters_are_accepted(build):
    build([nn.Parameter(retrograd.ones(2))])


def test_zero_grad_defaults_to_none_and_can_zero():
    parameter = nn.Parameter(retrograd.ones(2))
    optimizer = optim.SGD([parameter], lr=0.1)
    parameter.grad = retrograd.ones(2)
    optimizer.zero_grad(set_to_none=False)
    assert parameter.grad is not None and parameter.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert parameter.grad is None
