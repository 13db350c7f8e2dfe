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
    # A weight decay of exactly 1 (a branch taken only when it is not 0).
    ("SGD", {"lr": 0.1, "weight_decay": 1.0}),
    ("Adam", {"lr": 0.05, "weight_decay": 1.0}),
    ("Adamax", {"lr": 0.05, "weight_decay": 1.0}),
    ("NAdam", {"lr": 0.05, "weight_decay": 1.0}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 1.0}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 1.0}),
    ("Adadelta", {"weight_decay": 1.0}),
    ("RAdam", {"lr": 0.01, "weight_decay": 1.0}),
    ("ASGD", {"lr": 0.1, "weight_decay": 1.0}),
    # eps large enough to change the step visibly.
    ("Adam", {"lr": 0.05, "eps": 0.5}),
    ("Adamax", {"lr": 0.05, "eps": 0.5}),
    ("NAdam", {"lr": 0.05, "eps": 0.5}),
    ("RMSprop", {"lr": 0.01, "eps": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 0.5}),
    ("RAdam", {"lr": 0.01, "eps": 0.5}),
]

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop", "Adagrad", "Adadelta", "RAdam", "Rprop",
              "ASGD"]


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
        (lambda p: optim.SGD(p, momentum=0.5, nesterov=True, dampening=0.1), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
        (lambda p: optim.Adagrad(p, lr_decay=-0.5), "Invalid lr_decay value: -0.5"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-0.5),
         "Invalid initial_accumulator_value value: -0.5"),
        (lambda p: optim.NAdam(p, momentum_decay=-0.5), "Invalid momentum_decay value: -0.5"),
    ],
)
def test_invalid_hyperparameters_raise_pytorchs_value_error(build, words):
    with pytest.raises(ValueError) as error:
        build([nn.Parameter(retrograd.ones(2))])
    assert str(error.value) == words


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


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_default_hyperparameters_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, name)([nn.Parameter(retrograd.ones(2))])
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))])
    assert ours.defaults == theirs.defaults
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


def _errors(torch):
    """Type and message of each refusal of a bad parameter list, group or state dict."""
    parameter = torch.nn.Parameter(torch.ones(2))
    other = torch.nn.Parameter(torch.ones(2))
    attempts = {
        "a tensor": lambda: torch.optim.SGD(parameter),
        "empty": lambda: torch.optim.SGD([]),
        "not a tensor": lambda: torch.optim.SGD([parameter, 1]),
        "non-leaf": lambda: torch.optim.SGD([parameter * 2]),
        "a set in a group": lambda: torch.optim.SGD([{"params": {parameter}}]),
        "twice": lambda: torch.optim.SGD([{"params": [parameter]}, {"params": [other, parameter]}]),
        "group count": lambda: torch.optim.SGD([parameter]).load_state_dict({"state": {}, "param_groups": []}),
        "group size": lambda: torch.optim.SGD([parameter]).load_state_dict(
            {"state": {}, "param_groups": [{"params": [0, 1]}]}
        ),
        "required": lambda: torch.optim.Optimizer([parameter], {"lr": _required(torch)}),
    }
    seen = {}
    for name, attempt in attempts.items():
        try:
            attempt()
        except (TypeError, ValueError) as error:
            seen[name] = (type(error).__name__, str(error).replace(torch.__name__ + ".", "LIB."))
    return seen


def _required(torch):
    if torch is retrograd:
        return optim.optimizer.required
    import importlib

    return importlib.import_module("torch.optim.optimizer").required


def test_bad_parameters_are_refused_with_pytorchs_messages():
    seen = _errors(retrograd)
    assert seen == {
        "a tensor": ("TypeError", "params argument given to the optimizer should be an iterable of Tensors or "
                     "dicts, but got LIB.FloatTensor"),
        "empty": ("ValueError", "optimizer got an empty parameter list"),
        "not a tensor": ("TypeError", "optimizer can only optimize Tensors, but one of the params is int"),
        "non-leaf": ("ValueError", "can't optimize a non-leaf Tensor"),
        "a set in a group": ("TypeError", "optimizer parameters need to be organized in ordered collections, but "
                             "the ordering of tensors in sets will change between runs. Please use a list instead."),
        "twice": ("ValueError", "some parameters appear in more than one parameter group"),
        "group count": ("ValueError", "loaded state dict has a different number of parameter groups"),
        "group size": ("ValueError", "loaded state dict contains a parameter group that doesn't match the size "
                       "of optimizer's group"),
        "required": ("ValueError", "parameter group didn't specify a value of required optimization parameter lr"),
    }
    assert repr(optim.optimizer.required) == "<required parameter>"


def test_bad_parameters_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _errors(retrograd) == _errors(torch)
    assert repr(optim.optimizer.required) == repr(_required(torch))


def test_add_param_group_refuses_a_non_dict_as_pytorch_does():
    optimizer = optim.SGD([nn.Parameter(retrograd.ones(2))])
    with pytest.raises(TypeError) as error:
        optimizer.add_param_group([nn.Parameter(retrograd.ones(2))])
    assert str(error.value) == "param_group must be a dict, but got <class 'list'>"


def test_duplicate_parameters_warn():
    parameter = nn.Parameter(retrograd.ones(2))
    with pytest.warns(UserWarning) as record:
        optim.SGD([parameter, parameter])
    assert str(record[0].message) == (
        "optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
        "error; see github.com/pytorch/pytorch/issues/40967 for more information"
    )


def test_distinct_parameters_do_not_warn(recwarn):
    optim.SGD([nn.Parameter(retrograd.ones(2)), nn.Parameter(retrograd.ones(2))])
    assert not [warning for warning in recwarn if "duplicate" in str(warning.message)]


def test_step_returns_the_closures_loss_or_none():
    parameter = nn.Parameter(retrograd.tensor([2.0]))
    optimizer = optim.SGD([parameter], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (parameter * parameter).sum()
        loss.backward()
        return loss

    with retrograd.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 4.0 and loss.requires_grad
    assert parameter.tolist() == [1.0]
    assert optimizer.step() is None


def test_state_dict_round_trip_keeps_dtypes_and_skips_unknown_entries():
    first = nn.Parameter(retrograd.ones(2, dtype=retrograd.float64))
    second = nn.Parameter(retrograd.ones(3, dtype=retrograd.float64))
    source = optim.Adam([first, second], lr=0.1)
    first.grad = retrograd.ones(2, dtype=retrograd.float64)
    source.step()
    state = source.state_dict()
    # A float32 copy of the moments (as from a float32 model) and an entry of no parameter.
    state["state"] = {7: {"step": retrograd.tensor(5.0)}, 0: {
        key: value.float() if key != "step" else value for key, value in state["state"][0].items()
    }}
    target = optim.Adam([nn.Parameter(first.detach().clone()), nn.Parameter(second.detach().clone())], lr=0.5)
    target.load_state_dict(state)
    loaded = target.state_dict()
    assert list(loaded["state"]) == [0]
    assert loaded["state"][0]["step"].dtype == retrograd.float32
    assert loaded["state"][0]["exp_avg"].dtype == retrograd.float64
    np.testing.assert_allclose(loaded["state"][0]["exp_avg"].numpy(),
                               source.state_dict()["state"][0]["exp_avg"].numpy(), rtol=1e-7)
    assert loaded["param_groups"][0]["lr"] == 0.1 and loaded["param_groups"][0]["params"] == [0, 1]
    # The second parameter had no state; stepping it now starts its state afresh.
    for parameter in target.param_groups[0]["params"]:
        parameter.grad = retrograd.ones_like(parameter)
    target.step()
    assert target.state_dict()["state"][1]["step"].item() == 1.0
    assert target.state_dict()["state"][0]["step"].item() == 2.0


def test_state_dict_keeps_integer_state_as_it_is():
    parameter = nn.Parameter(retrograd.ones(2))
    optimizer = optim.SGD([parameter], lr=0.1)
    optimizer.load_state_dict({"state": {0: {"count": retrograd.tensor([1, 2]), "note": "kept"}},
                               "param_groups": optimizer.state_dict()["param_groups"]})
    state = optimizer.state_dict()["state"][0]
    assert state["count"].dtype == retrograd.int64 and state["note"] == "kept"


def test_deep_copied_optimizer_steps_like_the_original():
    import copy

    parameter = nn.Parameter(retrograd.tensor([1.0, 2.0]))
    optimizer = optim.Adam([parameter], lr=0.1)
    parameter.grad = retrograd.tensor([1.0, -1.0])
    optimizer.step()
    twin = copy.deepcopy(optimizer)
    assert twin.defaults == optimizer.defaults
    twin_parameter = twin.param_groups[0]["params"][0]
    assert twin_parameter is not parameter
    twin_parameter.grad = retrograd.tensor([1.0, -1.0])
    twin.step()
    optimizer.step()
    assert twin_parameter.tolist() == parameter.tolist()
    twin.add_param_group({"params": [nn.Parameter(retrograd.ones(1))]})
    assert twin.param_groups[1]["lr"] == 0.1


NEGATIVE = {
    "SGD": ["lr", "momentum", "weight_decay"],
    "Adam": ["lr", "eps", "weight_decay"],
    "AdamW": ["lr", "eps", "weight_decay"],
    "Adamax": ["lr", "eps", "weight_decay"],
    "NAdam": ["lr", "eps", "weight_decay", "momentum_decay"],
    "RMSprop": ["lr", "eps", "momentum", "weight_decay", "alpha"],
    "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
    "Adadelta": ["lr", "eps", "weight_decay"],
    "RAdam": ["lr", "eps", "weight_decay"],
    "Rprop": ["lr"],
    "ASGD": ["lr", "weight_decay"],
}
NEGATIVE_CASES = [(name, key) for name, keys in NEGATIVE.items() for key in keys]
WORDS = {"lr": "Invalid learning rate: -0.5", "eps": "Invalid epsilon value: -0.5"}


def _refusal(library, name, kwargs):
    try:
        getattr(library.optim, name)([library.nn.Parameter(library.ones(2))], **kwargs)
    except ValueError as error:
        return str(error)
    return None


@pytest.mark.parametrize(("name", "key"), NEGATIVE_CASES, ids=[f"{n}-{k}" for n, k in NEGATIVE_CASES])
def test_each_optimizer_refuses_each_negative_hyperparameter(name, key):
    assert _refusal(retrograd, name, {key: -0.5}) == WORDS.get(key, f"Invalid {key} value: -0.5")


BETAS = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


@pytest.mark.parametrize("name", BETAS)
def test_each_adam_variant_checks_its_betas(name):
    assert _refusal(retrograd, name, {"betas": (0.9, 1.5)}) == "Invalid beta parameter at index 1: 1.5"
    assert _refusal(retrograd, name, {"betas": (-0.1, 0.9)}) == "Invalid beta parameter at index 0: -0.1"


def test_rprop_refuses_a_zero_eta_minus():
    assert _refusal(retrograd, "Rprop", {"etas": (0.0, 1.2)}) == "Invalid eta values: 0.0, 1.2"


def test_refusals_match_pytorch():
    torch = pytest.importorskip("torch")
    for name, key in NEGATIVE_CASES:
        assert _refusal(retrograd, name, {key: -0.5}) == _refusal(torch, name, {key: -0.5}), (name, key)
    for name in BETAS:
        for betas in ((0.9, 1.5), (-0.1, 0.9)):
            assert _refusal(retrograd, name, {"betas": betas}) == _refusal(torch, name, {"betas": betas})
    assert _refusal(retrograd, "Rprop", {"etas": (0.0, 1.2)}) == _refusal(torch, "Rprop", {"etas": (0.0, 1.2)})


def test_adamw_passes_its_switches_on():
    switches = {"foreach": True, "capturable": True, "differentiable": True, "fused": True}
    defaults = optim.AdamW([nn.Parameter(retrograd.ones(2))], **switches).defaults
    assert {key: defaults[key] for key in switches} == switches
    assert defaults["decoupled_weight_decay"] is True


@pytest.mark.parametrize(("name", "kwargs"), [
    ("ASGD", {"lr": 0.1, "t0": 0}),
    ("Rprop", {"lr": 0.01, "etas": (0.5, 3.0), "step_sizes": (1e-6, 0.02)}),
])
def test_state_after_every_step_matches_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    for steps in (1, 2, 3):
        ours, our_state = _trajectory(retrograd, name, kwargs, steps=steps)
        theirs, their_state = _trajectory(torch, name, kwargs, steps=steps)
        np.testing.assert_allclose(ours[-1], theirs[-1], rtol=1e-10, atol=1e-12)
        for key, value in their_state["state"][0].items():
            np.testing.assert_allclose(np.asarray(our_state["state"][0][key]), value.numpy(), rtol=1e-6,
                                       err_msg=f"{key} after {steps} steps")


def test_rprop_in_float32_matches_pytorch_exactly():
    torch = pytest.importorskip("torch")
    kwargs = {"lr": 0.01, "etas": (0.5, 1.2)}
    ours, _ = _trajectory(retrograd, "Rprop", kwargs, steps=6, dtype=np.float32)
    theirs, _ = _trajectory(torch, "Rprop", kwargs, steps=6, dtype=np.float32)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine, reference)


def _wrong_shape_after_loading(library):
    parameter = library.nn.Parameter(library.ones(3))
    optimizer = library.optim.Adam([parameter], lr=0.1)
    parameter.grad = library.ones(3)
    optimizer.step()
    state = optimizer.state_dict()
    state["state"][0]["exp_avg"] = library.zeros(2)
    optimizer.load_state_dict(state)
    try:
        optimizer.step()
    except RuntimeError as error:
        return str(error), parameter.tolist()
    return None, parameter.tolist()


def test_a_loaded_state_of_the_wrong_shape_fails_the_next_step():
    message, values = _wrong_shape_after_loading(retrograd)
    assert message == "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"
    assert values == pytest.approx([0.9, 0.9, 0.9])


def test_a_loaded_state_of_the_wrong_shape_fails_as_in_pytorch():
    torch = pytest.importorskip("torch")
    assert _wrong_shape_after_loading(retrograd)[0] == _wrong_shape_after_loading(torch)[0]
