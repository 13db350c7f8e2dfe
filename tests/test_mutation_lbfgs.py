"""LBFGS step by step against PyTorch's, in float64: every iterate, loss, closure call and state
entry, with and without the strong-Wolfe line search (the mutation run of optim/lbfgs.py)."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn, optim

CONFIGS = {
    "plain": {"lr": 0.1, "max_iter": 7, "history_size": 3},
    "plain_long_history": {"lr": 1.0, "max_iter": 12, "history_size": 100},
    "plain_max_eval": {"lr": 0.5, "max_iter": 20, "max_eval": 6, "history_size": 2},
    "plain_tolerances": {"lr": 1.0, "max_iter": 30, "tolerance_grad": 1e-3, "tolerance_change": 1e-4},
    "wolfe": {"line_search_fn": "strong_wolfe", "max_iter": 10, "history_size": 4},
    "wolfe_lr": {"line_search_fn": "strong_wolfe", "lr": 0.3, "max_iter": 8, "history_size": 2},
    "wolfe_max_eval": {"line_search_fn": "strong_wolfe", "max_iter": 25, "max_eval": 9},
    "wolfe_tolerances": {"line_search_fn": "strong_wolfe", "max_iter": 50, "tolerance_grad": 1e-4,
                         "tolerance_change": 1e-6},
    "wolfe_short_first_step": {"line_search_fn": "strong_wolfe", "lr": 0.01, "max_iter": 6},
    "wolfe_long_first_step": {"line_search_fn": "strong_wolfe", "lr": 25.0, "max_iter": 6},
    "wolfe_loose_change": {"line_search_fn": "strong_wolfe", "lr": 5.0, "max_iter": 6,
                           "tolerance_change": 1e-2},
    # the line search keeps its own tolerance: a coarse tolerance_change stops only the steps
    "wolfe_coarse_change": {"line_search_fn": "strong_wolfe", "lr": 5.0, "max_iter": 8,
                            "tolerance_change": 0.3},
}

STARTS = {"rosenbrock_far": ([-1.5], [2.0]), "rosenbrock_near": ([0.8], [0.7]),
          "rosenbrock_steep": ([-0.2], [1.6])}

STATE_KEYS = ("func_evals", "n_iter", "t", "prev_loss", "H_diag")


def _problem(lib, start):
    """Rosenbrock in two parameters of shape (1,), plus a small coupling term."""
    first, second = (lib.nn.Parameter(lib.tensor(values, dtype=lib.float64)) for values in start)

    def loss():
        return (1 - first) ** 2 * 1.0 + 100 * (second - first ** 2) ** 2 + 0.1 * (first * second).sin()

    return [first, second], loss


def _closure(optimizer, loss, calls):
    def closure():
        calls.append(1)
        optimizer.zero_grad()
        value = loss().sum()
        value.backward()
        return value
    return closure


def _plain(value):
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value, dtype=float)


def _cases():
    for config in sorted(CONFIGS):
        for start in sorted(STARTS):
            yield pytest.param(config, start, id=f"{config}-{start}")


@needs_torch
@pytest.mark.parametrize(("config", "start"), _cases())
def test_lbfgs_takes_pytorchs_steps(config, start):
    options = CONFIGS[config]
    ours, our_loss = _problem(retrograd, STARTS[start])
    theirs, their_loss = _problem(torch, STARTS[start])
    our_optimizer, their_optimizer = optim.LBFGS(ours, **options), torch.optim.LBFGS(theirs, **options)
    our_calls, their_calls = [], []
    for step in range(2):
        mine = our_optimizer.step(_closure(our_optimizer, our_loss, our_calls))
        expected = their_optimizer.step(_closure(their_optimizer, their_loss, their_calls))
        where = f"{config} {start} step {step}"
        assert mine.item() == pytest.approx(expected.item(), rel=1e-6, abs=1e-9), where
        assert len(our_calls) == len(their_calls), where
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=where)
        our_state = our_optimizer.state[ours[0]]
        their_state = their_optimizer.state[theirs[0]]
        for key in STATE_KEYS:
            if key in their_state:
                np.testing.assert_allclose(_plain(our_state[key]), _plain(their_state[key]), rtol=1e-4,
                                           atol=1e-6, err_msg=f"{where} state {key}")
        for key in ("d", "prev_flat_grad"):
            if key in their_state:
                np.testing.assert_allclose(_plain(our_state[key]), _plain(their_state[key]), rtol=1e-4,
                                           atol=1e-6, err_msg=f"{where} state {key}")
        for key in ("old_dirs", "old_stps", "ro"):
            if key in their_state:
                assert len(our_state[key]) == len(their_state[key]), f"{where} state {key}"
                for a, b in zip(our_state[key], their_state[key]):
                    np.testing.assert_allclose(_plain(a), _plain(b), rtol=1e-4, atol=1e-6,
                                               err_msg=f"{where} state {key}")


def test_lbfgs_refuses_what_pytorch_refuses():
    parameter = nn.Parameter(retrograd.ones(2, dtype=retrograd.float64))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([parameter], lr=-1.0)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [parameter]}, {"params": [nn.Parameter(retrograd.ones(1))]}])
    optimizer = optim.LBFGS([parameter], line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optimizer.step(lambda: (parameter * parameter).sum())


def test_a_parameter_without_gradient_counts_as_zero():
    used = nn.Parameter(retrograd.tensor([3.0], dtype=retrograd.float64))
    unused = nn.Parameter(retrograd.tensor([5.0], dtype=retrograd.float64))
    optimizer = optim.LBFGS([used, unused], lr=0.5, max_iter=1)

    def closure():
        optimizer.zero_grad()
        loss = (used * used).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    assert unused.item() == 5.0  # its gradient is None: a zero direction
    assert used.item() == pytest.approx(3.0 - 0.5 * min(1.0, 1.0 / 6.0) * 6.0)
