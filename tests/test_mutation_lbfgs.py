"""LBFGS step by step against PyTorch's, in float64: every point the closure is called at, every
loss, iterate and state entry, with and without the strong-Wolfe line search; and the pieces
(the cubic step, the line search, the two-loop recursion) against closed forms, without PyTorch
(the mutation run of optim/lbfgs.py, docs/mutation.md)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn, optim
from retrograd.optim.lbfgs import _cubic_minimum, _strong_wolfe, _two_loop

# -- the problems: a loss of two parameters of shape (1,), in retrograd or in torch -------------


def _rosenbrock(first, second):
    """Rosenbrock in two parameters, plus a small coupling term."""
    return (1 - first) ** 2 * 1.0 + 100 * (second - first ** 2) ** 2 + 0.1 * (first * second).sin()


def _overshooting_quadratic(first, second):
    """Minimum at (1, -0.5) with curvatures 1 and 4: from 0, a step of 1.95 along -g passes the
    minimum of the first coordinate with the loss still lower (a positive slope brackets)."""
    return 0.5 * (first - 1) ** 2 + 2.0 * (second + 0.5) ** 2


def _concave(first, second):
    """Unbounded below and steeper and steeper: the search extrapolates until max_ls runs out."""
    return -(first + second) - 0.5 * (first + second) ** 2 - 0.1 * second ** 2


def _kink(first, second):
    """A V at first = 0.3: no step satisfies the curvature condition, the bracket closes in on
    the kink until it is shorter than the search's tolerance."""
    return (first - 0.3).abs() + 0.01 * (second - 0.2) ** 2


def _wavy(first, second):
    """A slope down with ripples: the extrapolation meets a loss higher than the one before
    while still below the sufficient-decrease line."""
    return -0.2 * first + 0.5 * (3 * first).sin() + 0.5 * second ** 2


def _flat(first, second):
    """A gradient of zero at the start: the step returns at once."""
    return (first - 2.0) ** 2 + (second + 1.0) ** 2


PROBLEMS = {"rosenbrock": _rosenbrock, "overshooting_quadratic": _overshooting_quadratic,
            "concave": _concave, "kink": _kink, "wavy": _wavy, "flat": _flat}

STARTS = {"far": ([-1.5], [2.0]), "near": ([0.8], [0.7]), "steep": ([-0.2], [1.6]),
          "origin": ([0.0], [0.0]), "at_minimum": ([2.0], [-1.0]), "close_to_minimum": ([2.005], [-1.003])}

CONFIGS = {
    "plain": {"lr": 0.1, "max_iter": 7, "history_size": 3},
    "plain_long_history": {"lr": 1.0, "max_iter": 12, "history_size": 100},
    "plain_max_eval": {"lr": 0.5, "max_iter": 20, "max_eval": 6, "history_size": 2},
    "plain_tolerances": {"lr": 1.0, "max_iter": 30, "tolerance_grad": 1e-3, "tolerance_change": 1e-4},
    "plain_one_iteration": {"lr": 0.2, "max_iter": 1},
    "plain_short_history": {"lr": 0.5, "max_iter": 15, "history_size": 1},
    "plain_no_iteration": {"max_iter": 0},
    "plain_loss_change": {"max_iter": 10, "tolerance_grad": 1e-12, "tolerance_change": 1e-4},
    "wolfe": {"line_search_fn": "strong_wolfe", "max_iter": 10, "history_size": 4},
    "wolfe_lr": {"line_search_fn": "strong_wolfe", "lr": 0.3, "max_iter": 8, "history_size": 2},
    "wolfe_max_eval": {"line_search_fn": "strong_wolfe", "max_iter": 25, "max_eval": 9},
    "wolfe_tiny_max_eval": {"line_search_fn": "strong_wolfe", "max_iter": 25, "max_eval": 3},
    "wolfe_one_evaluation": {"line_search_fn": "strong_wolfe", "lr": 3.0, "max_eval": 1},
    "wolfe_tolerances": {"line_search_fn": "strong_wolfe", "max_iter": 50, "tolerance_grad": 1e-4,
                         "tolerance_change": 1e-6},
    "wolfe_short_first_step": {"line_search_fn": "strong_wolfe", "lr": 0.01, "max_iter": 6},
    "wolfe_long_first_step": {"line_search_fn": "strong_wolfe", "lr": 25.0, "max_iter": 6},
    "wolfe_loose_change": {"line_search_fn": "strong_wolfe", "lr": 5.0, "max_iter": 6,
                           "tolerance_change": 1e-2},
    "wolfe_overshoot": {"line_search_fn": "strong_wolfe", "lr": 1.95, "max_iter": 3},
    "wolfe_defaults": {"line_search_fn": "strong_wolfe"},
    "wolfe_short_history": {"line_search_fn": "strong_wolfe", "max_iter": 12, "history_size": 1},
    "wolfe_loss_change": {"line_search_fn": "strong_wolfe", "max_iter": 10, "tolerance_grad": 1e-12,
                          "tolerance_change": 1e-4},
}

# (problem, start, config): the Rosenbrock starts under every configuration, and the other
# problems under the configurations that drive them through the branch they were made for.
CASES = [("rosenbrock", start, config) for config in CONFIGS for start in ("far", "near", "steep")] + [
    ("overshooting_quadratic", "origin", "wolfe_overshoot"),
    ("overshooting_quadratic", "origin", "plain_one_iteration"),
    ("concave", "origin", "wolfe_max_eval"),
    ("concave", "origin", "wolfe_tiny_max_eval"),
    ("concave", "origin", "wolfe_one_evaluation"),
    ("kink", "origin", "wolfe_defaults"),
    ("kink", "far", "wolfe_defaults"),
    ("wavy", "origin", "wolfe_short_first_step"),
    ("wavy", "far", "wolfe_short_first_step"),
    ("flat", "at_minimum", "wolfe"),
    ("flat", "at_minimum", "plain"),
    ("flat", "close_to_minimum", "plain_loss_change"),
    ("flat", "close_to_minimum", "wolfe_loss_change"),
]

SCALAR_STATE = ("func_evals", "n_iter", "t", "prev_loss", "H_diag")
VECTOR_STATE = ("d", "prev_flat_grad")
HISTORY_STATE = ("old_dirs", "old_stps", "ro")


def _parameters(lib, start):
    return [lib.nn.Parameter(lib.tensor(values, dtype=lib.float64)) for values in start]


def _recording_closure(optimizer, parameters, loss_of, calls):
    """The closure, noting the point and the loss of each call."""

    def closure():
        optimizer.zero_grad()
        value = loss_of(*parameters).sum()
        value.backward()
        calls.append([float(parameter.detach().numpy()[0]) for parameter in parameters] + [value.item()])
        return value

    return closure


def _plain(value):
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value, dtype=float)


def _close(mine, theirs, where, rtol=1e-6, atol=1e-9):
    np.testing.assert_allclose(_plain(mine), _plain(theirs), rtol=rtol, atol=atol, err_msg=where)


def _close_state(mine, theirs, where):
    """State entries near a minimum are differences of nearly equal gradients: rounding (the last
    bit of PyTorch's sin against NumPy's) grows there to about 1e-5, relatively."""
    _close(mine, theirs, where, rtol=1e-4, atol=1e-6)


def _assert_same_state(ours, theirs, where):
    assert set(ours) == set(theirs), where
    for key in SCALAR_STATE + VECTOR_STATE:
        if key in theirs:
            assert (ours[key] is None) == (theirs[key] is None), f"{where} state {key}"
            _close_state(ours[key], theirs[key], f"{where} state {key}")
    for key in HISTORY_STATE:
        if key in theirs and theirs[key] is None:  # no iteration ran (max_iter=0)
            assert ours[key] is None, f"{where} state {key}"
        elif key in theirs:
            assert len(ours[key]) == len(theirs[key]), f"{where} state {key}"
            for mine, expected in zip(ours[key], theirs[key]):
                _close_state(mine, expected, f"{where} state {key}")
    if "al" in theirs:
        assert [alpha is None for alpha in ours["al"]] == [alpha is None for alpha in theirs["al"]], where
        for mine, expected in zip(ours["al"], theirs["al"]):
            if expected is not None:
                _close_state(mine, expected, f"{where} state al")


def _assert_same_steps(problem, start, options, steps=2):
    loss_of = PROBLEMS[problem]
    ours, theirs = _parameters(retrograd, STARTS[start]), _parameters(torch, STARTS[start])
    our_optimizer, their_optimizer = optim.LBFGS(ours, **options), torch.optim.LBFGS(theirs, **options)
    our_calls, their_calls = [], []
    for step in range(steps):
        where = f"{problem} {start} {options} step {step}"
        mine = our_optimizer.step(_recording_closure(our_optimizer, ours, loss_of, our_calls))
        expected = their_optimizer.step(_recording_closure(their_optimizer, theirs, loss_of, their_calls))
        _close(mine.item(), expected.item(), where)
        assert len(our_calls) == len(their_calls), where
        _close(our_calls, their_calls, f"{where}: the points and losses of the closure's calls")
        for mine, expected in zip(ours, theirs):
            _close(mine, expected, where)
        _assert_same_state(our_optimizer.state[ours[0]], their_optimizer.state[theirs[0]], where)


@needs_torch
@pytest.mark.parametrize(("problem", "start", "config"), CASES,
                         ids=[f"{problem}-{start}-{config}" for problem, start, config in CASES])
def test_lbfgs_takes_pytorchs_steps(problem, start, config):
    _assert_same_steps(problem, start, CONFIGS[config])


@needs_torch
def test_lbfgs_default_max_eval_is_a_quarter_more_than_max_iter():
    parameter = nn.Parameter(retrograd.ones(1))
    for max_iter in (1, 4, 7, 20):
        assert optim.LBFGS([parameter], max_iter=max_iter).defaults["max_eval"] == \
            torch.optim.LBFGS([torch.nn.Parameter(torch.ones(1))], max_iter=max_iter).defaults["max_eval"]


def test_lbfgs_defaults_are_pytorchs():
    defaults = optim.LBFGS([nn.Parameter(retrograd.ones(1))]).defaults
    assert defaults == {"lr": 1, "max_iter": 20, "max_eval": 25, "tolerance_grad": 1e-7,
                        "tolerance_change": 1e-9, "history_size": 100, "line_search_fn": None}


def test_lbfgs_refuses_what_pytorch_refuses():
    parameter = nn.Parameter(retrograd.ones(2, dtype=retrograd.float64))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([parameter], lr=-1.0)
    with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options \(parameter groups\)$"):
        optim.LBFGS([{"params": [parameter]}, {"params": [nn.Parameter(retrograd.ones(1))]}])
    optim.LBFGS([parameter], lr=0.0)


def test_an_unknown_line_search_is_refused_at_the_first_search_as_pytorch_refuses_it():
    parameter = nn.Parameter(retrograd.tensor([1.0, -2.0], dtype=retrograd.float64))
    optimizer = optim.LBFGS([parameter], line_search_fn="backtracking")

    def closure():
        optimizer.zero_grad()
        loss = (parameter * parameter).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
        optimizer.step(closure)
    assert parameter.tolist() == [1.0, -2.0]
    assert optimizer.state[parameter]["func_evals"] == 1 and optimizer.state[parameter]["n_iter"] == 1
    # At a minimum the step returns before it reaches the search (PyTorch's order).
    flat = nn.Parameter(retrograd.zeros(2, dtype=retrograd.float64))
    at_minimum = optim.LBFGS([flat], line_search_fn="backtracking")

    def zero_gradient():
        at_minimum.zero_grad()
        loss = (flat * flat).sum()
        loss.backward()
        return loss

    assert at_minimum.step(zero_gradient).item() == 0.0
    assert at_minimum.state[flat] == {"func_evals": 1, "n_iter": 0}


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


def test_the_closure_runs_with_grad_enabled_and_the_update_is_not_recorded():
    parameter = nn.Parameter(retrograd.tensor([1.0, 2.0], dtype=retrograd.float64))
    optimizer = optim.LBFGS([parameter], line_search_fn="strong_wolfe", max_iter=3)
    modes = []

    def closure():
        modes.append(retrograd.is_grad_enabled())
        optimizer.zero_grad()
        loss = ((parameter - 3) ** 2).sum()
        loss.backward()
        return loss

    with retrograd.no_grad():
        optimizer.step(closure)
    assert modes and all(modes)
    assert parameter.grad_fn is None and parameter.is_leaf


def test_the_first_step_is_shortened_to_one_over_the_gradients_l1_norm():
    """max_iter=1 without a line search: one move by lr · min(1, 1 / |g|_1) along -g."""
    parameter = nn.Parameter(retrograd.tensor([0.5, -0.25], dtype=retrograd.float64))
    optimizer = optim.LBFGS([parameter], lr=0.8, max_iter=1)

    def closure():
        optimizer.zero_grad()
        loss = (parameter * parameter).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    gradient = np.array([1.0, -0.5])
    expected = np.array([0.5, -0.25]) - 0.8 * min(1.0, 1.0 / np.abs(gradient).sum()) * gradient
    np.testing.assert_allclose(parameter.detach().numpy(), expected, rtol=1e-12)
    state = optimizer.state[parameter]
    assert state["func_evals"] == 1 and state["n_iter"] == 1 and "al" not in state
    assert state["t"] == pytest.approx(0.8 / 1.5)


def _shaped(lib):
    """Parameters of shapes (2, 2), (3,) and () in one loss that couples them."""
    matrix = lib.nn.Parameter(lib.tensor([[0.5, -1.0], [1.5, 0.2]], dtype=lib.float64))
    vector = lib.nn.Parameter(lib.tensor([0.3, -0.7, 1.1], dtype=lib.float64))
    scalar = lib.nn.Parameter(lib.tensor(0.4, dtype=lib.float64))
    weights = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)

    def loss():
        return (((matrix - 1) ** 2 * weights).sum() + (vector ** 4).sum() + 3 * (scalar - 2) ** 2
                + (matrix.sum() * vector.sum() + scalar).sin())

    return [matrix, vector, scalar], loss


@needs_torch
@pytest.mark.parametrize("config", ["plain", "wolfe"])
def test_parameters_of_several_shapes_take_pytorchs_steps(config):
    ours, our_loss = _shaped(retrograd)
    theirs, their_loss = _shaped(torch)
    our_optimizer = optim.LBFGS(ours, **CONFIGS[config])
    their_optimizer = torch.optim.LBFGS(theirs, **CONFIGS[config])
    for step in range(2):
        for optimizer, loss in ((our_optimizer, our_loss), (their_optimizer, their_loss)):
            def closure(optimizer=optimizer, loss=loss):
                optimizer.zero_grad()
                value = loss()
                value.backward()
                return value
            optimizer.step(closure)
        for mine, expected in zip(ours, theirs):
            assert mine.shape == tuple(expected.shape)
            _close(mine, expected, f"{config} step {step}")
        _assert_same_state(our_optimizer.state[ours[0]], their_optimizer.state[theirs[0]], config)


def test_float32_parameters_keep_a_float32_state_even_with_a_missing_gradient():
    """As PyTorch's: the flat gradient (zeros for a parameter without one) has the parameters'
    dtype, and so have the direction and the history."""
    used = nn.Parameter(retrograd.tensor([1.0, -2.0]))
    unused = nn.Parameter(retrograd.tensor([3.0]))
    optimizer = optim.LBFGS([used, unused], max_iter=3)

    def closure():
        optimizer.zero_grad()
        loss = ((used - 0.5) ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    state = optimizer.state[used]
    assert state["d"].dtype == np.float32 and state["prev_flat_grad"].dtype == np.float32
    assert all(pair.dtype == np.float32 for pair in state["old_dirs"] + state["old_stps"])
    assert unused.item() == 3.0


def _a_step_then_none(lib):
    """A step of three iterations, then one with max_iter set to 0 in the group."""
    parameter = lib.nn.Parameter(lib.tensor([1.0, -2.0], dtype=lib.float64))
    optimizer = (optim if lib is retrograd else torch.optim).LBFGS([parameter], max_iter=3)

    def closure():
        optimizer.zero_grad()
        loss = ((parameter - 0.5) ** 4).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    before = dict(optimizer.state[parameter])
    optimizer.param_groups[0]["max_iter"] = 0
    optimizer.step(closure)
    return before, optimizer.state[parameter]


def test_a_step_without_iterations_keeps_the_state_it_found():
    before, after = _a_step_then_none(retrograd)
    assert after["prev_loss"] == before["prev_loss"] and after["t"] == before["t"]
    assert after["n_iter"] == before["n_iter"] and after["func_evals"] == before["func_evals"] + 1
    np.testing.assert_array_equal(after["d"], before["d"])


@needs_torch
def test_a_step_without_iterations_keeps_the_state_as_pytorchs():
    ours, theirs = _a_step_then_none(retrograd)[1], _a_step_then_none(torch)[1]
    _assert_same_state(ours, theirs, "max_iter=0 after a step")


def test_a_scheduler_stepped_after_an_lbfgs_step_does_not_warn():
    parameter = nn.Parameter(retrograd.tensor([1.0, -2.0], dtype=retrograd.float64))
    optimizer = optim.LBFGS([parameter], max_iter=2)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    def closure():
        optimizer.zero_grad()
        loss = (parameter * parameter).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == 0.5


# -- the pieces, against closed forms ----------------------------------------------------------


def test_the_cubic_step_is_the_minimum_of_the_interpolating_cubic():
    """x³ - 3x through 0 and 2 (either order) has its local minimum at 1."""
    assert _cubic_minimum(0.0, 0.0, -3.0, 2.0, 2.0, 9.0) == pytest.approx(1.0, abs=1e-12)
    assert _cubic_minimum(2.0, 2.0, 9.0, 0.0, 0.0, -3.0) == pytest.approx(1.0, abs=1e-12)
    # (x - 1)³ + 3(x - 1)² on [-0.5, 2]: minimum at 1 from either side.
    assert _cubic_minimum(-0.5, -3.375 + 6.75, 6.75 - 9.0, 2.0, 4.0, 9.0) == pytest.approx(1.0, abs=1e-12)
    # A quadratic, (x - 0.7)², is its own cubic.
    assert _cubic_minimum(0.0, 0.49, -1.4, 3.0, 5.29, 4.6) == pytest.approx(0.7, abs=1e-12)
    assert _cubic_minimum(3.0, 5.29, 4.6, 0.0, 0.49, -1.4) == pytest.approx(0.7, abs=1e-12)


def test_the_cubic_step_is_clamped_to_its_bounds():
    assert _cubic_minimum(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, bounds=(1.5, 4.0)) == 1.5
    assert _cubic_minimum(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, bounds=(-1.0, 0.25)) == 0.25
    assert _cubic_minimum(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, bounds=(0.5, 1.5)) == pytest.approx(1.0)


def test_a_cubic_without_minimum_gives_the_middle_of_the_bounds():
    """-x³ - x has no critical point (d1² < g1·g2); a NaN discriminant is treated alike."""
    assert _cubic_minimum(0.0, 0.0, -1.0, 1.0, -2.0, -4.0) == 0.5
    assert _cubic_minimum(0.0, 0.0, -1.0, 1.0, -2.0, -4.0, bounds=(2.0, 7.0)) == 4.5
    assert _cubic_minimum(1.0, -2.0, -4.0, 3.0, -30.0, -28.0) == 2.0
    assert _cubic_minimum(0.0, 0.0, math.nan, 1.0, 1.0, 1.0, bounds=(2.0, 3.0)) == 2.5


def test_a_cubic_that_divides_by_zero_is_clamped_or_nan_without_a_warning():
    """Through (0, 0, -1) and (1, -1, -1), a line: the minimum is at +inf (from either end),
    clamped to the upper bound. With f(1) = -1/3 the position is 0/0: NaN, as with PyTorch's tensor slopes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _cubic_minimum(0.0, 0.0, -1.0, 1.0, -1.0, -1.0, bounds=(1.01, 10.0)) == 10.0
        assert _cubic_minimum(1.0, -1.0, -1.0, 0.0, 0.0, -1.0, bounds=(1.01, 10.0)) == 10.0
        assert math.isnan(_cubic_minimum(0.0, 0.0, -1.0, 1.0, -1.0 / 3.0, -1.0))


@needs_torch
def test_the_cubic_divides_by_zero_as_pytorchs():
    from torch.optim.lbfgs import _cubic_interpolate

    def slope(value):
        return torch.tensor(value, dtype=torch.float64)

    assert float(_cubic_interpolate(0.0, 0.0, slope(-1.0), 1.0, -1.0, slope(-1.0), bounds=(1.01, 10.0))) == 10.0
    assert float(_cubic_interpolate(1.0, -1.0, slope(-1.0), 0.0, 0.0, slope(-1.0), bounds=(1.01, 10.0))) == 10.0
    assert math.isnan(float(_cubic_interpolate(0.0, 0.0, slope(-1.0), 1.0, -1.0 / 3.0, slope(-1.0))))


def _quadratic_line(curvature, slope_at_zero, counter=None):
    """f(t) = slope·t + curvature·t²/2 along the direction [1]: evaluate(t) -> (loss, grad)."""

    def evaluate(step):
        if counter is not None:
            counter.append(step)
        return slope_at_zero * step + 0.5 * curvature * step * step, np.array([slope_at_zero + curvature * step])

    return evaluate


def test_a_first_step_that_satisfies_both_conditions_is_taken_as_it_is():
    calls = []
    loss, grad, step, evaluations = _strong_wolfe(_quadratic_line(1.0, -1.0, calls), 1.0, np.array([1.0]),
                                                  0.0, np.array([-1.0]), -1.0, max_ls=25)
    assert (step, loss, evaluations, calls) == (1.0, -0.5, 1, [1.0])
    np.testing.assert_array_equal(grad, [0.0])


def test_the_search_extrapolates_a_short_step_and_returns_a_strong_wolfe_point():
    calls = []
    evaluate = _quadratic_line(1.0, -1.0, calls)
    loss, grad, step, evaluations = _strong_wolfe(evaluate, 0.01, np.array([1.0]), 0.0, np.array([-1.0]),
                                                  -1.0, max_ls=25)
    assert evaluations == len(calls) > 1
    assert calls[1] >= 0.01 + 0.01 * 0.01 and calls[1] <= 0.1  # the extrapolation's bounds
    assert step in calls
    assert loss <= 0.0 + 1e-4 * step * -1.0  # sufficient decrease
    assert abs(float(grad[0])) <= 0.9 * 1.0  # the curvature condition
    assert loss == step * (0.5 * step - 1.0) and float(grad[0]) == step - 1.0


def test_an_overlong_step_is_zoomed_into_a_strong_wolfe_point():
    calls = []
    evaluate = _quadratic_line(1.0, -1.0, calls)
    loss, grad, step, evaluations = _strong_wolfe(evaluate, 10.0, np.array([1.0]), 0.0, np.array([-1.0]),
                                                  -1.0, max_ls=25)
    # The cubic through 0 and 10 of a quadratic is the quadratic: its minimum, 1, comes next.
    assert calls == [10.0, pytest.approx(1.0)]
    assert evaluations == 2 and step == pytest.approx(1.0) and loss == pytest.approx(-0.5)
    np.testing.assert_allclose(grad, [0.0], atol=1e-12)


def test_the_search_stops_after_max_ls_evaluations_past_the_first():
    """Down a line that grows steeper, no step satisfies the curvature condition."""
    calls = []

    def evaluate(step):
        calls.append(step)
        return -step - step * step, np.array([-1.0 - 2.0 * step])

    for max_ls in (0, 1, 3):
        calls.clear()
        loss, grad, step, evaluations = _strong_wolfe(evaluate, 0.5, np.array([1.0]), 0.0,
                                                      np.array([-1.0]), -1.0, max_ls=max_ls)
        assert evaluations == len(calls) == max_ls + 1
        assert step == calls[-1] and loss == -step - step * step
        assert all(later > earlier for earlier, later in itertools.pairwise(calls))


def test_the_zoom_stops_when_the_bracket_is_shorter_than_the_tolerance():
    """|t - 0.3| along the direction [2]: the bracket closes in on the kink, no curvature holds."""
    calls = []

    def evaluate(step):
        calls.append(step)
        return abs(step - 0.3), np.array([math.copysign(0.5, step - 0.3)])

    for tolerance, most in ((1e-9, 25), (1e-2, 8)):
        calls.clear()
        loss, grad, step, evaluations = _strong_wolfe(evaluate, 1.0, np.array([2.0]), 0.3,
                                                      np.array([-0.5]), -1.0, max_ls=25,
                                                      tolerance_change=tolerance)
        assert evaluations == len(calls) <= most
        assert step == pytest.approx(0.3, abs=max(tolerance, 1e-6))
        assert loss == abs(step - 0.3) and loss == min(abs(call - 0.3) for call in calls)
    assert len(calls) < 25


def _line(family, slope, curvature, size, frequency):
    """A line function t -> (loss, slope) with f(0) = 0 or `size`, bounded below, falling at 0."""
    if family == "ripple":
        return lambda t: (slope * t + curvature * t * t + size * math.sin(frequency * t),
                          slope + 2 * curvature * t + size * frequency * math.cos(frequency * t))
    if family == "quartic":
        return lambda t: (slope * t + curvature * t ** 2 + abs(size) * t ** 4,
                          slope + 2 * curvature * t + 4 * abs(size) * t ** 3)
    return lambda t: (slope * t + 0.01 * abs(size) * math.exp(frequency * t),
                      slope + 0.01 * abs(size) * frequency * math.exp(frequency * t))


def _drawn_lines(family, count=80):
    """Seeded draws: a first step from 0.01 to 30, max_ls mostly 25, sometimes 3."""
    generator = np.random.default_rng(17)
    for index in range(count):
        slope, curvature = -abs(generator.normal()) - 0.01, abs(generator.normal())
        size, frequency = generator.normal(), 5 * abs(generator.normal())
        first_step = float(10 ** generator.uniform(-2, 1.5))
        yield _line(family, slope, curvature, size, frequency), first_step, 3 if index % 5 == 4 else 25


@needs_torch
@pytest.mark.parametrize("family", ["ripple", "quartic", "exponential"])
def test_the_line_search_tries_pytorchs_steps_on_drawn_lines(family):
    """Our strong-Wolfe search against PyTorch's (its private `_strong_wolfe`) on lines bounded
    below: the same trial steps in the same order, and the same answer. (On lines unbounded below
    the search extrapolates to steps of 10^9 and more, where PyTorch's tensor arithmetic, which
    divides by a tensor as a multiplication by its reciprocal, rounds differently.)"""
    from torch.optim.lbfgs import _strong_wolfe as pytorch_strong_wolfe

    one = torch.ones(1, dtype=torch.float64)
    for number, (line, first_step, max_ls) in enumerate(_drawn_lines(family)):
        loss, slope = line(0.0)
        our_calls, their_calls = [], []

        def ours(step, line=line, calls=our_calls):
            calls.append(step)
            value, derivative = line(step)
            return value, np.array([derivative])

        def theirs(start, step, direction, line=line, calls=their_calls):
            calls.append(float(step))
            value, derivative = line(float(step))
            return value, torch.tensor([derivative], dtype=torch.float64)

        mine = _strong_wolfe(ours, first_step, np.ones(1), loss, np.array([slope]), slope, max_ls=max_ls)
        expected = pytorch_strong_wolfe(theirs, None, first_step, one, loss,
                                        torch.tensor([slope], dtype=torch.float64),
                                        torch.tensor(slope, dtype=torch.float64), max_ls=max_ls)
        where = f"{family} line {number}"
        _close(our_calls, their_calls, where, rtol=1e-9, atol=0)
        assert mine[3] == expected[3], where
        _close([mine[0], float(mine[1][0]), float(mine[2])],
               [expected[0], float(expected[1][0]), float(expected[2])], where, rtol=1e-9, atol=0)


# Scripted lines: the n-th evaluation answers the n-th (loss, slope) (or calls it with the step),
# whatever the step, from f(0) = 0 with slope -2 along the direction [1]. Each puts one answer
# exactly on, or just beside, one of the search's tests. The expected calls, step, evaluations and
# loss are PyTorch's (checked against its `_strong_wolfe` below, where PyTorch is installed).
_WOLFE_POINT = (-1.0, -0.1)
SCRIPTED_LINES = {
    "first_on_the_armijo_line": (1.0, [lambda step: (0.0 + 1e-4 * step * -2.0, -1.9)], {},
                                 [1.0, 1.01], 1.01, 2, -1.0),
    "first_between_the_armijo_lines": (1.0, [(-1e-4, -1.9)], {}, [1.0, 0.21558175853765826],
                                       0.21558175853765826, 2, -1.0),
    "extrapolation_rises_then_levels": (0.1, [(-0.1, -1.95), (-0.05, -1.95), (-0.05, -1.95)], {},
                                        [0.1, 0.5505, 0.555005, 0.5514520185186503],
                                        0.5514520185186503, 4, -1.0),
    "first_on_the_curvature_line": (1.0, [(-0.5, -1.8)], {}, [1.0], 1.0, 1, -0.5),
    "bracket_as_long_as_the_tolerance": (1.0, [(1.0, 1.0)], {"tolerance_change": 1.0},
                                         [1.0, 0.19526214587563506], 0.19526214587563506, 2, -1.0),
    "zoom_on_the_armijo_line": (1.0, [(1.0, 1.0), lambda step: (0.0 + 1e-4 * step * -2.0, -0.5)], {},
                                [1.0, 0.19526214587563506], 0.19526214587563506, 2,
                                -3.9052429175127015e-05),
    "zoom_between_the_armijo_lines": (1.0, [(1.0, 1.0), lambda step: (-1e-4 * step, -0.5)], {},
                                      [1.0, 0.19526214587563506, 0.05750902887565962],
                                      0.05750902887565962, 3, -1.0),
    "zoom_on_the_curvature_line": (1.0, [(1.0, 1.0), (-0.5, 1.8)], {}, [1.0, 0.19526214587563506],
                                   0.19526214587563506, 2, -0.5),
    # The cubic through (0, 0, -2) and (10, 80, 18) is t² - 2t: its minimum, 1, lies exactly one
    # margin (a tenth of the bracket) from 0; the next cubic falls inside the margin.
    "zoom_a_margin_from_the_end": (10.0, [(80.0, 18.0), (5.0, 3.0)], {},
                                   [10.0, 1.0, 0.06619739246104095], 0.06619739246104095, 3, -1.0),
}


def _scripted_search(search, first_step, answers, options, wrap):
    """Run `search` (ours, or PyTorch's through `wrap`) on a scripted line; returns the steps it
    evaluated at and its (loss, step, evaluations)."""
    answers = answers + [_WOLFE_POINT] * 5
    calls = []

    def answer(step):
        response = answers[len(calls)]
        calls.append(float(step))
        return response(float(step)) if callable(response) else response

    loss, _, step, evaluations = wrap(search, answer, first_step, options)
    return calls, (float(loss), float(step), evaluations)


def _ours(search, answer, first_step, options):
    def evaluate(step):
        loss, slope = answer(step)
        return loss, np.array([slope])

    return search(evaluate, first_step, np.ones(1), 0.0, np.array([-2.0]), -2.0, max_ls=25, **options)


def _pytorchs(search, answer, first_step, options):
    def evaluate(start, step, direction):
        loss, slope = answer(step)
        return loss, torch.tensor([slope], dtype=torch.float64)

    return search(evaluate, None, first_step, torch.ones(1, dtype=torch.float64), 0.0,
                  torch.tensor([-2.0], dtype=torch.float64), torch.tensor(-2.0, dtype=torch.float64),
                  max_ls=25, **options)


@pytest.mark.parametrize("name", sorted(SCRIPTED_LINES))
def test_the_line_search_decides_each_boundary_case_as_pytorch(name):
    first_step, answers, options, calls, step, evaluations, loss = SCRIPTED_LINES[name]
    our_calls, (our_loss, our_step, our_evaluations) = _scripted_search(_strong_wolfe, first_step, answers,
                                                                         options, _ours)
    assert our_calls == pytest.approx(calls, rel=1e-12)
    assert (our_step, our_evaluations) == (pytest.approx(step, rel=1e-12), evaluations)
    assert our_loss == pytest.approx(loss, rel=1e-12)


@needs_torch
@pytest.mark.parametrize("name", sorted(SCRIPTED_LINES))
def test_the_scripted_lines_expectations_are_pytorchs(name):
    from torch.optim.lbfgs import _strong_wolfe as pytorch_strong_wolfe

    first_step, answers, options, calls, step, evaluations, loss = SCRIPTED_LINES[name]
    their_calls, (their_loss, their_step, their_evaluations) = _scripted_search(
        pytorch_strong_wolfe, first_step, answers, options, _pytorchs)
    assert their_calls == pytest.approx(calls, rel=1e-12)
    assert (their_step, their_evaluations) == (pytest.approx(step, rel=1e-12), evaluations)
    assert their_loss == pytest.approx(loss, rel=1e-12)


# Quadratics scale·x² from x0 whose numbers are exact in binary, each putting one of step's exits
# exactly on its tolerance: (scale, x0, options, x after one step, n_iter, func_evals), PyTorch's.
EXACT_EXITS = {
    "gradient_at_tolerance_at_the_start": (0.5, 0.25, {"tolerance_grad": 0.25}, 0.25, 0, 1),
    "gradient_at_tolerance_after_a_move": (0.5, 1.0, {"lr": 0.75, "max_iter": 5, "tolerance_grad": 0.25},
                                           0.25, 1, 2),
    "move_at_tolerance": (2.0, 1.0, {"lr": 0.5, "max_iter": 5, "tolerance_change": 0.5}, 0.5, 1, 2),
    "loss_change_at_tolerance": (0.5, 1.0, {"lr": 0.5, "max_iter": 5, "tolerance_change": 0.375},
                                 0.5, 2, 2),
    "slope_at_tolerance": (0.5, 1.0, {"lr": 0.5, "max_iter": 5, "tolerance_change": 1.0}, 0.5, 1, 2),
}


def _exact_exit(lib, scale, start, options):
    parameter = lib.nn.Parameter(lib.tensor([start], dtype=lib.float64))
    optimizer = (optim if lib is retrograd else torch.optim).LBFGS([parameter], **options)

    def closure():
        optimizer.zero_grad()
        loss = scale * (parameter * parameter).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    state = optimizer.state[parameter]
    return parameter.item(), state["n_iter"], state["func_evals"]


@pytest.mark.parametrize("name", sorted(EXACT_EXITS))
def test_each_exit_of_a_step_includes_its_tolerance_as_pytorchs(name):
    scale, start, options, *expected = EXACT_EXITS[name]
    assert list(_exact_exit(retrograd, scale, start, options)) == expected


@needs_torch
@pytest.mark.parametrize("name", sorted(EXACT_EXITS))
def test_the_exact_exits_expectations_are_pytorchs(name):
    scale, start, options, *expected = EXACT_EXITS[name]
    assert list(_exact_exit(torch, scale, start, options)) == expected


def _scripted_step(lib, gradients, **options):
    """One step on a parameter whose closure sets the n-th gradient and returns loss -n."""
    parameter = lib.nn.Parameter(lib.zeros(1, dtype=lib.float64))
    optimizer = (optim if lib is retrograd else torch.optim).LBFGS([parameter], **options)
    calls = []

    def closure():
        parameter.grad = lib.tensor([gradients[len(calls)]], dtype=lib.float64)
        calls.append(len(calls))
        return lib.tensor(-float(len(calls)), dtype=lib.float64)

    optimizer.step(closure)
    return parameter.item(), optimizer.state[parameter]


def _curvature_of_exactly_1e_10(lib):
    """A first move s = 2^-34 · 2^34 = 1 and a gradient change y = (1e-10 - 2^-34) + 2^-34, which is
    1e-10 exactly: a pair with y·s = 1e-10 is not kept (the test is y·s > 1e-10)."""
    assert (1e-10 - 2.0 ** -34) + 2.0 ** -34 == 1e-10
    return _scripted_step(lib, [-(2.0 ** -34), 1e-10 - 2.0 ** -34], lr=2.0 ** 34, max_iter=2, max_eval=10,
                          tolerance_grad=0.0, tolerance_change=0.0)


def test_a_pair_of_curvature_exactly_1e_10_is_not_kept():
    value, state = _curvature_of_exactly_1e_10(retrograd)
    assert state["old_dirs"] == [] and state["n_iter"] == 2 and state["func_evals"] == 2
    assert value == pytest.approx(0.28201308159999994, rel=1e-12)


@needs_torch
def test_a_pair_of_curvature_exactly_1e_10_is_not_kept_by_pytorch_either():
    value, state = _curvature_of_exactly_1e_10(torch)
    assert state["old_dirs"] == [] and state["n_iter"] == 2 and state["func_evals"] == 2
    assert value == pytest.approx(0.28201308159999994, rel=1e-12)


def _bfgs_inverse_hessian(old_dirs, old_steps, hessian_diagonal):
    """H from the BFGS update H ← (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ, oldest pair first."""
    size = len(old_dirs[0])
    inverse = hessian_diagonal * np.eye(size)
    for y, s in zip(old_dirs, old_steps):
        rho = 1.0 / y.dot(s)
        left = np.eye(size) - rho * np.outer(s, y)
        inverse = left @ inverse @ left.T + rho * np.outer(s, s)
    return inverse


def test_the_two_loop_recursion_is_minus_the_bfgs_inverse_hessian_times_the_gradient():
    generator = np.random.default_rng(3)
    curvature = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    old_steps = [generator.normal(size=3) for _ in range(3)]
    old_dirs = [curvature @ step for step in old_steps]
    gradient = generator.normal(size=3)
    hessian_diagonal = old_dirs[-1].dot(old_steps[-1]) / old_dirs[-1].dot(old_dirs[-1])
    alphas = [None] * 5
    direction = _two_loop(gradient, old_dirs, old_steps, [1.0 / y.dot(s) for y, s in zip(old_dirs, old_steps)],
                          hessian_diagonal, alphas)
    expected = -_bfgs_inverse_hessian(old_dirs, old_steps, hessian_diagonal) @ gradient
    np.testing.assert_allclose(direction, expected, rtol=1e-10)
    # With as many pairs as dimensions of a quadratic, H is its inverse Hessian's BFGS estimate;
    # the first loop's coefficients are kept, the slots beyond the history untouched.
    assert all(alpha is not None for alpha in alphas[:3]) and alphas[3:] == [None, None]
    q = -gradient
    for index in (2, 1, 0):
        assert alphas[index] == pytest.approx(old_steps[index].dot(q) / old_dirs[index].dot(old_steps[index]))
        q = q - alphas[index] * old_dirs[index]


def test_the_history_keeps_the_last_history_size_pairs():
    """On a quadratic every pair has positive curvature: the history fills, then drops the oldest."""
    parameter = nn.Parameter(retrograd.tensor([1.0, -2.0, 0.5], dtype=retrograd.float64))
    scales = retrograd.tensor([1.0, 3.0, 10.0], dtype=retrograd.float64)
    optimizer = optim.LBFGS([parameter], lr=0.05, max_iter=1, history_size=2)
    seen = []

    def closure():
        optimizer.zero_grad()
        loss = (scales * parameter * parameter).sum()
        loss.backward()
        return loss

    for _ in range(5):
        optimizer.step(closure)
        state = optimizer.state[parameter]
        seen.append([pair.copy() for pair in state["old_stps"]])
        assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) <= 2
        assert len(state.get("al", [])) in (0, 2)
    assert [len(pairs) for pairs in seen] == [0, 1, 2, 2, 2]
    np.testing.assert_array_equal(seen[3][0], seen[2][1])  # the oldest dropped, the newer kept
    np.testing.assert_array_equal(seen[4][0], seen[3][1])
