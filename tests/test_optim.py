"""Every optimiser's update equals PyTorch's, step by step, from the same start and gradients."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn, optim

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True, "betas": (0.8, 0.9)}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}),
]


def _gradient(param: np.ndarray, step: int) -> np.ndarray:
    """A gradient that depends on the parameter (a quadratic bowl) and on the step."""
    return (1.5 * param - np.cos(np.arange(param.size) + step).reshape(param.shape)).astype(np.float32)


def _run_both(name, kwargs, steps=10, dtype=np.float32):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4)).astype(dtype)
    ours = nn.Parameter(retrograd.tensor(start))
    theirs = torch.nn.Parameter(torch.tensor(start))
    our_optimizer = getattr(optim, name)([ours], **kwargs)
    their_optimizer = getattr(torch.optim, name)([theirs], **kwargs)
    for step in range(steps):
        ours.grad = retrograd.tensor(_gradient(ours.detach().numpy(), step))
        theirs.grad = torch.tensor(_gradient(theirs.detach().numpy(), step))
        our_optimizer.step()
        their_optimizer.step()
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    return our_optimizer, their_optimizer


@needs_torch
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_step_matches_pytorch(name, kwargs):
    our_optimizer, their_optimizer = _run_both(name, kwargs)
    ours, theirs = our_optimizer.state_dict(), their_optimizer.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for index, values in theirs["state"].items():
        assert ours["state"][index].keys() == values.keys()
        for key, value in values.items():
            ours_value = np.asarray(ours["state"][index][key])
            np.testing.assert_allclose(ours_value, value.numpy(), rtol=1e-5, atol=1e-6)


def test_parameters_without_grad_are_left_alone():
    frozen = nn.Parameter(retrograd.ones(2))
    moving = nn.Parameter(retrograd.ones(2))
    optimizer = optim.Adam([frozen, moving])
    moving.grad = retrograd.ones(2)
    optimizer.step()
    assert frozen.tolist() == [1.0, 1.0]
    assert frozen not in optimizer.state
    assert moving.tolist() != [1.0, 1.0]


def test_step_bumps_the_parameter_version():
    parameter = nn.Parameter(retrograd.ones(2))
    optimizer = optim.SGD([parameter], lr=0.1)
    parameter.grad = retrograd.ones(2)
    before = parameter._version
    optimizer.step()
    assert parameter._version == before + 1


def test_param_groups_have_their_own_hyperparameters():
    first, second = nn.Parameter(retrograd.ones(1)), nn.Parameter(retrograd.ones(1))
    optimizer = optim.SGD([{"params": [first]}, {"params": second, "lr": 1.0}], lr=0.1, momentum=0.5)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 1.0]
    assert optimizer.param_groups[1]["momentum"] == 0.5
    first.grad, second.grad = retrograd.ones(1), retrograd.ones(1)
    optimizer.step()
    assert first.item() == pytest.approx(0.9)
    assert second.item() == pytest.approx(0.0)


def test_add_param_group_fills_defaults_and_refuses_duplicates():
    first, second = nn.Parameter(retrograd.ones(1)), nn.Parameter(retrograd.ones(1))
    optimizer = optim.Adam([first], lr=0.5)
    optimizer.add_param_group({"params": [second], "betas": (0.5, 0.5)})
    assert optimizer.param_groups[1]["lr"] == 0.5
    assert optimizer.param_groups[1]["betas"] == (0.5, 0.5)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [first]})


@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (lambda p: optim.SGD(p[0], lr=1), TypeError, "iterable of Tensors or dicts"),
        (lambda p: optim.SGD([], lr=1), ValueError, "empty parameter list"),
        (lambda p: optim.SGD(p, lr=-1), ValueError, "Invalid learning rate: -1"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0"),
        (lambda p: optim.Adam(p, eps=-1), ValueError, "Invalid epsilon value"),
        (lambda p: optim.SGD([p[0] * 2], lr=1), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda p: optim.SGD([1], lr=1), TypeError, "can only optimize Tensors"),
        (lambda p: optim.SGD(p, lr=1, nesterov=True), ValueError, "Nesterov momentum requires"),
        (lambda p: optim.RMSprop(p, alpha=-1), ValueError, "Invalid alpha value"),
        (lambda p: optim.LBFGS([{"params": p}, {"params": [nn.Parameter(retrograd.ones(1))]}]),
         ValueError, "doesn't support per-parameter options"),
    ],
)
def test_invalid_arguments_raise_like_pytorch(build, error, words):
    with pytest.raises(error, match=words):
        build([nn.Parameter(retrograd.ones(2))])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    parameter = nn.Parameter(retrograd.ones(2))
    parameter.grad = retrograd.ones(2)
    optim.SGD([parameter], lr=0.1).zero_grad(set_to_none=set_to_none)
    assert (parameter.grad is None) if set_to_none else parameter.grad.tolist() == [0.0, 0.0]


def test_zero_grad_drops_gradients_by_default():
    # PyTorch's default is set_to_none=True: the gradient is dropped, not zeroed.
    parameter = nn.Parameter(retrograd.ones(2))
    parameter.grad = retrograd.ones(2)
    optim.SGD([parameter], lr=0.1).zero_grad()
    assert parameter.grad is None


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    start = rng.standard_normal(5).astype(np.float32)
    first = nn.Parameter(retrograd.tensor(start))
    optimizer = optim.Adam([first], lr=0.1, amsgrad=True)
    for step in range(3):
        first.grad = retrograd.tensor(_gradient(first.detach().numpy(), step))
        optimizer.step()
    second = nn.Parameter(first.detach().clone())
    restored = optim.Adam([second], lr=0.5)
    restored.load_state_dict(optimizer.state_dict())
    assert restored.param_groups[0]["lr"] == 0.1 and restored.param_groups[0]["amsgrad"]
    for step in range(3, 6):
        first.grad = retrograd.tensor(_gradient(first.detach().numpy(), step))
        second.grad = retrograd.tensor(_gradient(second.detach().numpy(), step))
        optimizer.step()
        restored.step()
    assert first.tolist() == second.tolist()


def test_load_state_dict_refuses_a_different_layout():
    optimizer = optim.SGD([nn.Parameter(retrograd.ones(1))], lr=1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optimizer.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        optimizer.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})


def test_load_state_dict_copies_the_state():
    parameter = nn.Parameter(retrograd.ones(2))
    optimizer = optim.SGD([parameter], lr=0.1, momentum=0.9)
    parameter.grad = retrograd.ones(2)
    optimizer.step()
    saved = optimizer.state_dict()
    other = optim.SGD([parameter], lr=0.1, momentum=0.9)
    other.load_state_dict(saved)
    other.step()
    assert saved["state"][0]["momentum_buffer"].tolist() == [1.0, 1.0]


@needs_torch
def test_repr_lists_group_settings():
    optimizer = optim.Adagrad([nn.Parameter(retrograd.ones(1))])
    theirs = torch.optim.Adagrad([torch.nn.Parameter(torch.ones(1))])
    assert repr(optimizer) == repr(theirs)


def _rosenbrock_pair():
    """Two one-element parameters (x, y) for retrograd and for PyTorch, at (-1.5, 2)."""
    ours = [nn.Parameter(retrograd.tensor([value])) for value in (-1.5, 2.0)]
    theirs = [torch.nn.Parameter(torch.tensor([value])) for value in (-1.5, 2.0)]
    return ours, theirs


def _rosenbrock(x, y):
    return ((1 - x) ** 2 + 100 * (y - x**2) ** 2).sum()


def _closure(optimizer, parameters):
    def closure():
        optimizer.zero_grad()
        loss = _rosenbrock(*parameters)
        loss.backward()
        return loss

    return closure


def _values(parameters):
    return np.array([parameter.item() for parameter in parameters])


@needs_torch
def test_lbfgs_matches_pytorch_without_line_search():
    ours, theirs = _rosenbrock_pair()
    our_optimizer = optim.LBFGS(ours, lr=0.05, max_iter=5, history_size=3)
    their_optimizer = torch.optim.LBFGS(theirs, lr=0.05, max_iter=5, history_size=3)
    for _ in range(4):
        our_loss = our_optimizer.step(_closure(our_optimizer, ours))
        their_loss = their_optimizer.step(_closure(their_optimizer, theirs))
        assert our_loss.item() == pytest.approx(their_loss.item(), rel=1e-4)
        np.testing.assert_allclose(_values(ours), _values(theirs), rtol=1e-4)


@needs_torch
def test_lbfgs_strong_wolfe_finds_the_rosenbrock_minimum():
    ours, theirs = _rosenbrock_pair()
    our_optimizer = optim.LBFGS(ours, line_search_fn="strong_wolfe", max_iter=100)
    their_optimizer = torch.optim.LBFGS(theirs, line_search_fn="strong_wolfe", max_iter=100)
    for _ in range(3):
        our_optimizer.step(_closure(our_optimizer, ours))
        their_optimizer.step(_closure(their_optimizer, theirs))
    np.testing.assert_allclose(_values(ours), [1.0, 1.0], atol=1e-3)
    np.testing.assert_allclose(_values(ours), _values(theirs), atol=1e-3)


def test_lbfgs_needs_a_closure():
    optimizer = optim.LBFGS([nn.Parameter(retrograd.ones(1))])
    with pytest.raises(TypeError, match="closure"):
        optimizer.step()


TENSOR_LR_CASES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop",
                   "Adadelta"]


@pytest.mark.parametrize("name", TENSOR_LR_CASES)
@pytest.mark.parametrize("size", [(3, 4), (300, 257)])
def test_a_tensor_learning_rate_steps_as_its_number(name, size):
    """PyTorch takes `lr` as a tensor; its step on CPU reads the tensor's number (0.125, which
    float32 keeps exactly: NAdam's step, where PyTorch computes with the tensor in float32,
    then agrees with the float's to rounding only)."""
    start = np.random.default_rng(1).standard_normal(size).astype(np.float32)
    results = []
    for lr in (0.125, retrograd.tensor(0.125)):
        weight = nn.Parameter(retrograd.tensor(start))
        optimizer = getattr(optim, name)([weight], lr=lr)
        for step in range(3):
            weight.grad = retrograd.tensor(_gradient(weight.detach().numpy(), step))
            optimizer.step()
        results.append(weight.detach().numpy())
        assert isinstance(optimizer.param_groups[0]["lr"], type(lr))
    np.testing.assert_array_equal(results[1], results[0])
    if torch is not None:
        theirs = torch.nn.Parameter(torch.tensor(start))
        their_optimizer = getattr(torch.optim, name)([theirs], lr=torch.tensor(0.125))
        for step in range(3):
            theirs.grad = torch.tensor(_gradient(theirs.detach().numpy(), step))
            their_optimizer.step()
        np.testing.assert_allclose(results[1], theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_tensor_betas_step_as_their_numbers():
    start = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    results = []
    for betas in ((0.8, 0.9), (retrograd.tensor(0.8), retrograd.tensor(0.9))):
        weight = nn.Parameter(retrograd.tensor(start))
        optimizer = optim.Adam([weight], lr=0.01, betas=betas)
        for step in range(3):
            weight.grad = retrograd.tensor(_gradient(weight.detach().numpy(), step))
            optimizer.step()
        results.append(weight.detach().numpy())
    np.testing.assert_array_equal(results[1], results[0])


@needs_torch
def test_a_scheduler_writes_into_a_tensor_learning_rate_as_pytorch():
    """The group's tensor is filled in place (whoever holds it sees the schedule); the initial
    and last learning rates are copies of it."""
    seen = []
    for library in (retrograd, torch):
        weight = library.nn.Parameter(library.ones(3))
        lr = library.tensor(0.1)
        optimizer = library.optim.SGD([weight], lr=lr)
        scheduler = library.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
        for _ in range(2):
            weight.grad = library.full((3,), 0.5)
            optimizer.step()
            scheduler.step()
        group = optimizer.param_groups[0]
        last = scheduler.get_last_lr()[0]
        assert group["lr"] is lr
        assert group["initial_lr"] is not lr and last is not lr
        seen.append((lr.item(), group["initial_lr"].item(), last.item(), weight.detach().numpy().tolist()))
    assert seen[0] == seen[1]
