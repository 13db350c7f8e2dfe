"""optim.swap_in_optimizer_params_and_state: inside the block the optimiser steps other
parameters with another state; after it, it is itself again; bad state_dicts are refused."""

import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn, optim
from retrograd.optim import swap_in_optimizer_params_and_state


def _stepped_adam(lib):
    model = lib.nn.Linear(2, 1)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.5, -1.0]]))
        model.bias.copy_(lib.tensor([0.25]))
    optimizer = lib.optim.Adam(model.parameters(), lr=0.1)
    model(lib.tensor([[1.0, 2.0]])).sum().backward()
    optimizer.step()
    return model, optimizer


def _swap_in_step(lib):
    model, optimizer = _stepped_adam(lib)
    swapped = {name: lib.nn.Parameter(p.detach().clone()) for name, p in model.named_parameters()}
    saved = optimizer.state_dict()
    saved["param_groups"][0]["lr"] = 0.5
    for parameter in swapped.values():
        parameter.grad = lib.ones_like(parameter)
    live = [p.detach().clone() for p in model.parameters()]
    with lib.optim.swap_in_optimizer_params_and_state(optimizer, swapped, saved):
        assert optimizer.param_groups[0]["params"] == list(swapped.values())
        assert optimizer.param_groups[0]["lr"] == 0.5
        optimizer.step()
    assert [p.detach().tolist() for p in model.parameters()] == [p.tolist() for p in live]
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.param_groups[0]["params"] == list(model.parameters())
    moved = [value for p in swapped.values() for value in p.detach().reshape(-1).tolist()]
    started = [value for p in live for value in p.reshape(-1).tolist()]
    return moved, started, saved["state"][0]["step"].item()


def test_step_inside_the_block_moves_the_swapped_parameters_only():
    moved, started, step = _swap_in_step(retrograd)
    assert all(after != before for after, before in zip(moved, started))
    assert step == 2.0  # the supplied state was updated in place


@needs_torch
def test_swapped_step_matches_pytorch():
    ours, _, our_step = _swap_in_step(retrograd)
    theirs, _, their_step = _swap_in_step(torch)
    assert ours == pytest.approx(theirs, rel=1e-6) and our_step == their_step


def test_state_is_restored_even_when_the_block_raises():
    model, optimizer = _stepped_adam(retrograd)
    state = optimizer.state
    swapped = {name: nn.Parameter(p.detach().clone()) for name, p in model.named_parameters()}
    with pytest.raises(KeyError), swap_in_optimizer_params_and_state(optimizer, swapped, optimizer.state_dict()):
        raise KeyError("inside")
    assert optimizer.state is state and optimizer.param_groups[0]["params"] == list(model.parameters())


def test_bad_swap_ins_are_refused():
    model, optimizer = _stepped_adam(retrograd)
    swapped = {name: nn.Parameter(p.detach().clone()) for name, p in model.named_parameters()}
    fresh = optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    cases = [
        (fresh, swapped, fresh.state_dict(), "requires initialized optimizer state"),
        (optimizer, swapped, [], "requires a DCP-style optimizer state_dict"),
        (optimizer, swapped, {"state": [], "param_groups": []}, "to be a dict mapping packed parameter ids"),
        (optimizer, swapped, {"state": {}, "param_groups": []}, "different number of parameter groups"),
        (optimizer, {"weight": swapped["weight"]}, optimizer.state_dict(), "match optimizer.param_groups ordering"),
    ]
    extra = optimizer.state_dict()
    extra["state"][7] = {}
    cases.append((optimizer, swapped, extra, r"got extra keys \[7\]"))
    renamed = optimizer.state_dict()
    renamed["param_groups"][0]["learning_rate"] = renamed["param_groups"][0].pop("lr")
    cases.append((optimizer, swapped, renamed, r"Keys only in swap-in: \['learning_rate'\]. Keys only in live: "))
    for live, parameters, state_dict, words in cases:
        with pytest.raises(RuntimeError, match=words), \
                swap_in_optimizer_params_and_state(live, parameters, state_dict):
            pass
