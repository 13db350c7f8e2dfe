"""`Module.state_dict` / `load_state_dict` at every depth, against PyTorch (found by mutation testing).

Each scenario runs on retrograd and, when it is installed, on PyTorch, and returns plain data
(keys, values, messages with the library's name taken out) that must agree; the expected
values written here are PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd


def _model(torch):
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 2, bias=False), nn.BatchNorm1d(2)))
    model[1].register_buffer("scratch", torch.zeros(1), persistent=False)
    model[1].register_buffer("count", torch.ones(2))
    return model


KEYS = [
    "0.weight", "0.bias", "1.count", "1.0.weight", "1.1.weight", "1.1.bias",
    "1.1.running_mean", "1.1.running_var", "1.1.num_batches_tracked",
]


def _shares(first, second) -> bool:
    return bool(np.shares_memory(first.detach().numpy(), second.detach().numpy()))


def _message(error: Exception, torch) -> str:
    return str(error).replace(torch.__name__ + ".", "LIB.")


def _keys_and_values(torch):
    model = _model(torch)
    state = model.state_dict()
    kept = model.state_dict(keep_vars=True)
    prefixed = model.state_dict(prefix="net.")
    return {
        "keys": list(state),
        "prefixed": list(prefixed),
        "detached": [value.requires_grad for value in state.values()],
        "kept": [value is getattr(model.get_submodule(key.rpartition(".")[0]), key.rpartition(".")[2])
                 for key, value in kept.items()],
        "shares_memory": _shares(state["0.weight"], model[0].weight),
        "types": [type(value).__name__ for value in kept.values()],
    }


def _load_errors(torch):
    model = _model(torch)
    good = model.state_dict()
    results = {}

    def attempt(name, state, **kwargs):
        try:
            outcome = model.load_state_dict(state, **kwargs)
        except RuntimeError as error:
            results[name] = ("RuntimeError", _message(error, torch))
        else:
            results[name] = (list(outcome.missing_keys), list(outcome.unexpected_keys), str(outcome))

    attempt("all", dict(good))
    attempt("nested unexpected", {**good, "1.extra": torch.zeros(1), "1.0.extra": torch.zeros(1)})
    attempt("root unexpected", {**good, "extra": torch.zeros(1)})
    missing = {key: value for key, value in good.items() if key not in {"1.count", "1.1.bias"}}
    attempt("missing", missing)
    attempt("both", {**missing, "1.1.extra": torch.zeros(1)})
    attempt("both, not strict", {**missing, "1.1.extra": torch.zeros(1)}, strict=False)
    attempt("shape", {**good, "1.0.weight": torch.zeros(3, 2)})
    attempt("shape, not strict", {**good, "1.0.weight": torch.zeros(3, 2)}, strict=False)
    attempt("not a tensor", {**good, "0.bias": [1.0, 2.0, 3.0]}, strict=False)
    attempt("unknown child", {**good, "2.weight": torch.zeros(1)})
    attempt("two errors in one module", {**good, "0.weight": [1.0], "0.bias": torch.zeros(5)}, strict=False)
    return results


def _load_copies(torch):
    model = _model(torch)
    source = _model(torch)
    with torch.no_grad():
        for value in source.state_dict().values():
            value.fill_(7)
    weight = model[0].weight
    model.load_state_dict(source.state_dict())
    copied = [value.flatten()[0].item() for value in model.state_dict().values()]
    kept_object = model[0].weight is weight and weight.requires_grad
    independent = not _shares(model[0].weight, source[0].weight)
    assigned = _model(torch)
    fresh = source.state_dict()
    assigned.load_state_dict(fresh, assign=True)
    return {
        "copied": copied,
        "kept": kept_object,
        "independent": independent,
        "assigned parameter": _shares(assigned[0].weight, fresh["0.weight"]),
        "assigned is Parameter": type(assigned[0].weight).__name__,
        "assigned requires grad": assigned[0].weight.requires_grad,
        "assigned buffer": _shares(assigned[1].count, fresh["1.count"]),
    }


def _hooks(torch):
    model = _model(torch)
    calls = []

    def pre(module, prefix, keep_vars):
        calls.append(("pre", type(module).__name__, prefix, keep_vars))

    def post(module, state, prefix, metadata):
        calls.append(("post", type(module).__name__, prefix, len(state)))

    def load_pre(module, state, prefix, metadata, strict, missing, unexpected, errors):
        calls.append(("load pre", type(module).__name__, prefix, strict))

    def load_post(module, incompatible):
        calls.append(("load post", type(module).__name__, list(incompatible.unexpected_keys)))
        incompatible.unexpected_keys.clear()

    for module in (model, model[1], model[1][1]):
        module.register_state_dict_pre_hook(pre)
        module.register_state_dict_post_hook(post)
        module.register_load_state_dict_pre_hook(load_pre)
        module.register_load_state_dict_post_hook(load_post)
    state = model.state_dict(keep_vars=True)
    result = model.load_state_dict({**state, "1.1.extra": torch.zeros(1)}, strict=False)
    # The post hook emptied the unexpected keys, so even strict loading passes.
    model.load_state_dict({**state, "1.1.extra": torch.zeros(1)})
    return calls, list(result.unexpected_keys)


def _returning_hook_is_refused(torch):
    model = _model(torch)
    model[1].register_state_dict_post_hook(lambda module, state, prefix, metadata: state)
    try:
        model.state_dict()
    except RuntimeError as error:
        return str(error)
    return None


def _returning_load_hook_is_refused(torch):
    model = _model(torch)
    model[1].register_load_state_dict_post_hook(lambda module, incompatible: incompatible)
    try:
        model.load_state_dict(model.state_dict())
    except Exception as error:  # PyTorch: AssertionError
        return type(error).__name__, str(error)
    return None


def test_state_dict_keys_order_and_detaching():
    seen = _keys_and_values(retrograd)
    assert seen["keys"] == KEYS
    assert seen["prefixed"] == ["net." + key for key in KEYS]
    assert seen["detached"] == [False] * len(KEYS)
    assert seen["kept"] == [True] * len(KEYS)
    assert seen["shares_memory"]
    assert seen["types"][:2] == ["Parameter", "Parameter"] and seen["types"][2] == "Tensor"


def test_tied_module_appears_under_each_name():
    nn = retrograd.nn
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_load_state_dict_reports_keys_at_every_depth():
    results = _load_errors(retrograd)
    assert results["all"] == ([], [], "<All keys matched successfully>")
    kind, message = results["nested unexpected"]
    assert kind == "RuntimeError"
    assert message == (
        "Error(s) in loading state_dict for Sequential:\n\t"
        'Unexpected key(s) in state_dict: "1.extra", "1.0.extra". '
    )
    assert results["root unexpected"][1].endswith('Unexpected key(s) in state_dict: "extra". ')
    assert results["missing"][1] == (
        "Error(s) in loading state_dict for Sequential:\n\t"
        'Missing key(s) in state_dict: "1.count", "1.1.bias". '
    )
    assert results["both"][1] == (
        "Error(s) in loading state_dict for Sequential:\n\t"
        'Missing key(s) in state_dict: "1.count", "1.1.bias". \n\t'
        'Unexpected key(s) in state_dict: "1.1.extra". '
    )
    missing_keys, unexpected_keys, text = results["both, not strict"]
    assert (missing_keys, unexpected_keys) == (["1.count", "1.1.bias"], ["1.1.extra"])
    assert text == "_IncompatibleKeys(missing_keys=['1.count', '1.1.bias'], unexpected_keys=['1.1.extra'])"
    shape = (
        "Error(s) in loading state_dict for Sequential:\n\tsize mismatch for 1.0.weight: copying a "
        "param with shape LIB.Size([3, 2]) from checkpoint, the shape in current model is "
        "LIB.Size([2, 3])."
    )
    assert results["shape"] == ("RuntimeError", shape)
    assert results["shape, not strict"] == ("RuntimeError", shape)
    kind, message = results["not a tensor"]
    assert 'While copying the parameter named "0.bias", expected LIB.Tensor or Tensor-like object' in message
    assert message.endswith("from checkpoint but received <class 'list'>")
    assert results["unknown child"][1].endswith('Unexpected key(s) in state_dict: "2.weight". ')
    kind, message = results["two errors in one module"]
    assert 'While copying the parameter named "0.weight"' in message
    assert "size mismatch for 0.bias: copying a param with shape LIB.Size([5]) from checkpoint" in message


def test_load_state_dict_copies_in_place_or_assigns():
    seen = _load_copies(retrograd)
    assert seen == {
        "copied": [7.0] * len(KEYS),
        "kept": True,
        "independent": True,
        "assigned parameter": True,
        "assigned is Parameter": "Parameter",
        "assigned requires grad": True,
        "assigned buffer": True,
    }


def test_load_state_dict_refuses_a_non_mapping():
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class 'list'>"):
        _model(retrograd).load_state_dict([])


def test_state_dict_and_load_hooks_run_in_order_and_can_clear_keys():
    calls, unexpected = _hooks(retrograd)
    assert unexpected == []
    assert calls[:6] == [
        ("pre", "Sequential", "", True),
        ("pre", "Sequential", "1.", True),
        ("pre", "BatchNorm1d", "1.1.", True),
        ("post", "BatchNorm1d", "1.1.", 9),
        ("post", "Sequential", "1.", 9),
        ("post", "Sequential", "", 9),
    ]
    assert calls[6:12] == [
        ("load pre", "Sequential", "", True),
        ("load pre", "Sequential", "1.", True),
        ("load pre", "BatchNorm1d", "1.1.", True),
        ("load post", "BatchNorm1d", ["1.1.extra"]),
        ("load post", "Sequential", []),
        ("load post", "Sequential", []),
    ]


def test_state_dict_post_hook_that_returns_a_value_is_refused():
    assert _returning_hook_is_refused(retrograd) == "state_dict post-hook must return None"


def test_load_state_dict_post_hook_that_returns_a_value_is_refused_as_pytorch_does():
    assert _returning_load_hook_is_refused(retrograd) == (
        "AssertionError",
        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return new "
        "values, if incompatible_keys need to be modified, it should be done inplace.",
    )


def test_load_state_dict_values_reach_the_module():
    model = _model(retrograd)
    state = {key: retrograd.full(value.shape, float(index)) for index, (key, value) in
             enumerate(model.state_dict().items())}
    model.load_state_dict(state)
    for index, value in enumerate(model.state_dict().values()):
        np.testing.assert_array_equal(value.numpy(), np.full(value.shape, float(index)))


def test_scenarios_match_pytorch():
    real = pytest.importorskip("torch")
    assert _keys_and_values(real) == _keys_and_values(retrograd)
    assert _load_errors(real) == _load_errors(retrograd)
    assert _load_copies(real) == _load_copies(retrograd)
    assert _hooks(real) == _hooks(retrograd)
    assert _returning_hook_is_refused(real) == _returning_hook_is_refused(retrograd)
    assert _returning_load_hook_is_refused(real)[0] == "AssertionError"


def _more(torch):
    nn = torch.nn
    seen = {}
    model = _model(torch)
    state = model.state_dict()
    seen["buffer is a new object"] = state["1.count"] is not model[1].count
    seen["odd prefix"] = list(model.state_dict(prefix="netX."))[:2]
    # A frozen parameter stays frozen when a state dict is assigned to it.
    frozen = _model(torch)
    frozen[0].weight.requires_grad_(False)
    frozen.load_state_dict(_model(torch).state_dict(), assign=True)
    seen["assigned keeps requires_grad"] = (frozen[0].weight.requires_grad, frozen[0].bias.requires_grad)
    # Missing keys do not stop the rest of the module from loading.
    target = _model(torch)
    source = {key: torch.full_like(value, 5.0) for key, value in _model(torch).state_dict().items()
              if key != "1.1.weight"}
    result = target.load_state_dict(source, strict=False)
    seen["after a missing key"] = [target[1][1].bias.tolist(), target[1][1].running_mean.tolist()]
    seen["only missing"] = str(result)
    only_unexpected = target.load_state_dict({**target.state_dict(), "zzz": torch.zeros(1)}, strict=False)
    seen["only unexpected"] = str(only_unexpected)
    # A model with a module used twice loads its own state dict.
    shared = nn.Linear(2, 2)
    tied = nn.Sequential(shared, nn.ReLU(), shared)
    seen["tied"] = str(tied.load_state_dict(tied.state_dict()))
    # Each name of a module used twice is loaded in turn: the later name's values stay.
    tied_state = {key: torch.full_like(value, 1.0 if key.startswith("0.") else 2.0)
                  for key, value in tied.state_dict().items()}
    tied.load_state_dict(tied_state)
    seen["tied, later name wins"] = shared.weight.flatten().tolist()
    # Load pre-hooks see the state dict and the lists, and may add to them.
    hooked = _model(torch)
    calls = []
    sizes = []

    def pre(module, state_dict, prefix, metadata, strict, missing, unexpected, errors):
        calls.append((prefix, "1.count" in state_dict, isinstance(metadata, dict), type(missing).__name__))
        sizes.append(len(state_dict))
        if prefix == "1.":
            missing.append("from hook")
            unexpected.append("also from hook")

    def post(module, incompatible):
        calls.append((list(incompatible.missing_keys), list(incompatible.unexpected_keys)))

    def error_hook(module, state_dict, prefix, metadata, strict, missing, unexpected, errors):
        errors.append("a hook refused")

    hooked[1].register_load_state_dict_pre_hook(pre)
    hooked.register_load_state_dict_post_hook(post)
    result = hooked.load_state_dict(hooked.state_dict(), strict=False)
    seen["pre hook"] = (list(calls), list(result.missing_keys), list(result.unexpected_keys))
    seen["pre hook sizes"] = list(sizes)
    hooked[1][0].register_load_state_dict_pre_hook(error_hook)
    try:
        hooked.load_state_dict(hooked.state_dict(), strict=False)
    except RuntimeError as error:
        seen["error hook"] = str(error)
    metadata = []
    hooked.register_state_dict_post_hook(lambda module, state, prefix, meta: metadata.append(isinstance(meta, dict)))
    hooked.state_dict()
    seen["post hook metadata"] = metadata
    return seen


def test_more_state_dict_behaviour():
    seen = _more(retrograd)
    assert seen["buffer is a new object"]
    assert seen["odd prefix"] == ["netX.0.weight", "netX.0.bias"]
    assert seen["assigned keeps requires_grad"] == (False, True)
    assert seen["after a missing key"] == [[5.0, 5.0], [5.0, 5.0]]
    assert seen["only missing"] == "_IncompatibleKeys(missing_keys=['1.1.weight'], unexpected_keys=[])"
    assert seen["only unexpected"] == "_IncompatibleKeys(missing_keys=[], unexpected_keys=['zzz'])"
    assert seen["tied"] == "<All keys matched successfully>"
    assert seen["tied, later name wins"] == [2.0] * 4
    assert seen["pre hook"] == (
        [("1.", True, True, "list"), (["from hook"], ["also from hook"])], ["from hook"], ["also from hook"]
    )
    assert seen["error hook"] == "Error(s) in loading state_dict for Sequential:\n\ta hook refused"
    assert seen["post hook metadata"] == [True]


def test_a_returning_load_post_hook_is_refused_with_pytorchs_words():
    kind, message = _returning_load_hook_is_refused(retrograd)
    assert message.split("register_load_state_dict_post_hook`` are not")[1].lstrip().startswith(
        "expected to return new values, if incompatible_keys need to be modified,"
    )
    assert message.endswith("it should be done inplace.")


def test_a_childs_load_pre_hook_sees_only_its_entries():
    assert _more(retrograd)["pre hook sizes"] == [7]


def test_more_state_dict_behaviour_matches_pytorch():
    real = pytest.importorskip("torch")
    theirs, ours = _more(real), _more(retrograd)
    assert theirs == ours


def _post_hook_order(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.Linear(1, 1))
    order = []
    for name, module in model.named_modules():
        module.register_load_state_dict_post_hook(lambda module, keys, name=name: order.append(name))
    model.load_state_dict(model.state_dict())
    return order


def test_load_post_hooks_run_after_those_of_the_modules_below():
    assert _post_hook_order(retrograd) == ["0.0", "0", "1", ""]


def test_load_post_hook_order_matches_pytorch():
    real = pytest.importorskip("torch")
    assert _post_hook_order(real) == _post_hook_order(retrograd)


def test_a_load_pre_hook_changes_a_copy_of_the_state_dict():
    model = retrograd.nn.Linear(1, 1)
    model.register_load_state_dict_pre_hook(lambda module, state, *rest: state.pop("bias"))
    state = model.state_dict()
    result = model.load_state_dict(state, strict=False)
    assert list(result.missing_keys) == ["bias"] and "bias" in state
