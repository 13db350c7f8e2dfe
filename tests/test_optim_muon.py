"""optim.Muon: PyTorch 2.13's update (momentum, Nesterov, Newton–Schulz orthogonalisation in
bfloat16, learning-rate ratio, decoupled weight decay), state layout and errors; against
closed forms and PyTorch."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn
from retrograd.optim import Muon
from retrograd.optim._muon import _orthogonalise, _to_bfloat16

COEFFICIENTS = (3.4445, -4.775, 2.0315)


def _run(lib, shapes, kwargs, dtype=np.float32, steps=5):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    grads = [[rng.standard_normal(shape).astype(dtype) for shape in shapes] for _ in range(steps)]
    parameters = [lib.nn.Parameter(lib.tensor(array)) for array in init]
    optimizer = lib.optim.Muon(parameters, **kwargs)
    for step_grads in grads:
        for parameter, grad in zip(parameters, step_grads):
            parameter.grad = lib.tensor(grad)
        optimizer.step()
    return [parameter.detach().numpy() for parameter in parameters], init, optimizer


@needs_torch
@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.02, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"},
    {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.0, "ns_steps": 3},
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_muon_matches_pytorch(kwargs, dtype):
    ours, init, _ = _run(retrograd, [(4, 6), (7, 3)], kwargs, dtype)
    theirs, _, _ = _run(torch, [(4, 6), (7, 3)], kwargs, dtype)
    for mine, other, start in zip(ours, theirs, init):
        assert mine.dtype == other.dtype
        moved = np.abs(other - start).max()
        np.testing.assert_allclose(mine, other, rtol=0, atol=1e-5 * moved)


def test_bfloat16_rounding_keeps_eight_significant_bits_ties_to_even():
    values = np.array([1.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -9, -3.0, np.inf, np.nan], np.float32)
    rounded = _to_bfloat16(values)
    assert rounded[:6].tolist() == [1.0, 1.0, 1 + 4 * 2 ** -8, 1.0, -3.0, np.inf]
    assert np.isnan(rounded[6])


def test_orthogonalisation_brings_singular_values_near_one():
    update = np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32)
    wide = _orthogonalise(update, COEFFICIENTS, 5, 1e-7)
    singular = np.linalg.svd(wide, compute_uv=False)
    assert np.all((singular > 0.6) & (singular < 1.3))
    np.testing.assert_array_equal(_orthogonalise(update.T.copy(), COEFFICIENTS, 5, 1e-7), wide.T)


def test_first_step_without_momentum_is_lr_ratio_times_the_orthogonal_factor():
    grad = np.random.default_rng(2).standard_normal((3, 6)).astype(np.float32)
    parameter = nn.Parameter(retrograd.zeros(3, 6))
    parameter.grad = retrograd.tensor(grad)
    Muon([parameter], lr=0.1, weight_decay=0.0, nesterov=False, momentum=0.0).step()
    expected = -0.1 * _orthogonalise(grad, COEFFICIENTS, 5, 1e-7)  # ratio √max(1, 3/6) = 1
    np.testing.assert_allclose(parameter.detach().numpy(), expected, rtol=1e-6)


def test_state_is_the_momentum_buffer():
    _, _, optimizer = _run(retrograd, [(4, 6)], {"momentum": 0.9}, steps=1)
    state = optimizer.state_dict()["state"][0]
    assert list(state) == ["momentum_buffer"] and state["momentum_buffer"].shape == (4, 6)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "Learning rate should be >= 0"),
    ({"momentum": -0.1}, "momentum should be >= 0"),
    ({"weight_decay": -0.1}, "weight decay should be >= 0"),
    ({"adjust_lr_fn": "cosine"}, "Adjust learning rate function cosine is not supported"),
])
def test_muon_refuses_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Muon([nn.Parameter(retrograd.ones(2, 2))], **kwargs)


def test_muon_refuses_parameters_that_are_not_matrices_and_too_many_steps():
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters .* size: retrograd.Size\(\[3\]\)"):
        Muon([nn.Parameter(retrograd.ones(3))])
    parameter = nn.Parameter(retrograd.ones(2, 2))
    parameter.grad = retrograd.ones(2, 2)
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        Muon([parameter], ns_steps=100).step()
    assert parameter.detach().tolist() == [[1.0, 1.0], [1.0, 1.0]]
