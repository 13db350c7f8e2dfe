"""optim.Adafactor: PyTorch 2.13's update (factored second moment for matrices, full for
vectors, relative step size, update clipping, decoupled weight decay), state layout and
errors; against a closed form and PyTorch."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn
from retrograd.optim import Adafactor


def _run(lib, shapes, kwargs, dtype, steps=6):
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    grads = [[rng.standard_normal(shape).astype(dtype) for shape in shapes] for _ in range(steps)]
    parameters = [lib.nn.Parameter(lib.tensor(array)) for array in init]
    optimizer = lib.optim.Adafactor(parameters, **kwargs)
    for step_grads in grads:
        for parameter, grad in zip(parameters, step_grads):
            parameter.grad = lib.tensor(grad)
        optimizer.step()
    return [parameter.detach().numpy() for parameter in parameters], optimizer


CASES = [
    {},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.8},
    {"maximize": True, "d": 2.0, "eps": (1e-30, 1e-2), "beta2_decay": -0.5},
]


@needs_torch
@pytest.mark.parametrize("kwargs", CASES)
@pytest.mark.parametrize("shapes", [[(3, 4), (5,), ()], [(2, 3, 4)]])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_adafactor_matches_pytorch(kwargs, shapes, dtype, rtol):
    ours, _ = _run(retrograd, shapes, kwargs, dtype)
    theirs, _ = _run(torch, shapes, kwargs, dtype)
    for mine, other in zip(ours, theirs):
        assert mine.dtype == other.dtype
        np.testing.assert_allclose(mine, other, rtol=rtol, atol=rtol * 1e-2)


def test_first_step_of_a_vector_moves_each_element_by_alpha_against_its_gradient():
    # step 1: variance = g², so the update is sign(g) (RMS 1, not clipped); alpha = RMS(p)·min(lr, 1).
    parameter = nn.Parameter(retrograd.tensor([3.0, -4.0, 0.0, 5.0], dtype=retrograd.float64))
    parameter.grad = retrograd.tensor([2.0, -0.5, 1.0, -3.0], dtype=retrograd.float64)
    Adafactor([parameter], lr=0.1).step()
    alpha = np.sqrt((9 + 16 + 25) / 4) * 0.1
    expected = np.array([3.0, -4.0, 0.0, 5.0]) - alpha * np.array([1, -1, 1, -1])
    np.testing.assert_allclose(parameter.detach().numpy(), expected, rtol=1e-12)


def test_matrix_state_is_factored_into_row_and_column_variances():
    parameter = nn.Parameter(retrograd.ones(2, 3, 4))
    vector = nn.Parameter(retrograd.ones(4))
    parameter.grad, vector.grad = retrograd.ones(2, 3, 4), retrograd.ones(4)
    optimizer = Adafactor([parameter, vector])
    optimizer.step()
    state = optimizer.state_dict()["state"]
    assert sorted(state[0]) == ["col_var", "row_var", "step"]
    assert state[0]["row_var"].shape == (2, 3, 1) and state[0]["col_var"].shape == (2, 1, 4)
    assert sorted(state[1]) == ["step", "variance"] and state[1]["variance"].shape == (4,)
    assert state[0]["step"].dtype == retrograd.float32 and state[0]["step"].item() == 1.0


def test_state_dict_round_trip_continues_identically():
    shapes = [(3, 4), (5,)]
    _, first = _run(retrograd, shapes, {"lr": 0.05}, np.float64, steps=3)
    copies = [nn.Parameter(p.detach().clone()) for group in first.param_groups for p in group["params"]]
    second = Adafactor(copies, lr=0.05)
    second.load_state_dict(first.state_dict())
    for parameter, copy in zip(first.param_groups[0]["params"], copies):
        parameter.grad = copy.grad = retrograd.ones(parameter.shape, dtype=retrograd.float64)
    first.step()
    second.step()
    for parameter, copy in zip(first.param_groups[0]["params"], copies):
        assert retrograd.equal(parameter.detach(), copy.detach())


def test_loading_a_state_of_another_shape_is_refused_before_any_update():
    _, first = _run(retrograd, [(3, 4)], {}, np.float64, steps=1)
    other = nn.Parameter(retrograd.ones(4, 3, dtype=retrograd.float64))
    second = Adafactor([other])
    second.load_state_dict(first.state_dict())
    other.grad = retrograd.ones(4, 3, dtype=retrograd.float64)
    with pytest.raises(RuntimeError, match="'row_var' has shape \\[3, 1\\]"):
        second.step()
    assert other.detach().sum().item() == 12.0


@needs_torch
def test_param_groups_and_state_dict_layout_match_pytorch():
    _, ours = _run(retrograd, [(3, 4)], {}, np.float32, steps=1)
    _, theirs = _run(torch, [(3, 4)], {}, np.float32, steps=1)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
    ({"beta2_decay": 0.5}, "beta2_decay should be <= 0"),
    ({"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0"),
    ({"eps": (None, -1.0)}, "epsilon2 should be >= 0"),
    ({"d": 0.5}, "Clipping threshold d should be >= 1"),
    ({"weight_decay": -0.1}, "weight_decay should be >= 0"),
    ({"lr": retrograd.tensor([0.1, 0.2])}, "Tensor lr must be 1-element"),
])
def test_adafactor_refuses_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Adafactor([nn.Parameter(retrograd.ones(2))], **kwargs)


def test_adafactor_closure_is_evaluated_and_its_loss_returned():
    parameter = nn.Parameter(retrograd.tensor([1.0, 2.0]))
    optimizer = Adafactor([parameter], lr=0.5)

    def closure():
        optimizer.zero_grad()
        loss = (parameter ** 2).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 5.0
    assert parameter.detach().tolist()[0] < 1.0
