"""retrograd.explain: why a .grad is None (or what it is), and what an autograd error means."""

import warnings

import pytest

import retrograd


def seed_graph():
    x = retrograd.tensor(2.0, requires_grad=True)
    a = retrograd.add(x, 1)
    b = retrograd.add(x, 2)
    return x, a, b, retrograd.mul(a, b)


def error_of(action) -> BaseException:
    with pytest.raises(RuntimeError) as caught:
        action()
    return caught.value


def test_tensor_that_does_not_require_grad():
    explanation = retrograd.explain(retrograd.tensor([1.0, 2.0]))
    assert explanation.summary == (
        "Its .grad is None because this tensor of shape (2,), retrograd.float32 does not require grad.")
    assert "pass requires_grad=True or call .requires_grad_()" in explanation
    assert "no_grad()" in explanation and ".detach() or .data" in explanation


def test_likely_causes_come_in_order_with_create_graph_last():
    text = retrograd.explain(retrograd.tensor([1.0, 2.0])).text.replace("\n  ", " ")
    positions = [text.index(words) for words in
                 ["without requires_grad=True", "under no_grad()", ".detach()", "NumPy", "create_graph=True"]]
    assert positions == sorted(positions)


def test_integer_tensor_names_integer_and_boolean_ops():
    explanation = retrograd.explain(retrograd.tensor([1, 2]))
    assert "only floating point tensors can require grad" in explanation
    assert "comparisons such as x > 0, argmax" in explanation


def test_tensor_created_under_inference_mode():
    with retrograd.inference_mode():
        made = retrograd.tensor([1.0]) * 2
    assert "created under inference_mode()" in retrograd.explain(made)


# (a 0-d result takes the general path; the others the generated entries' own)
@pytest.mark.parametrize(("shape", "compute"), [((), lambda x: x * 2), ((2,), lambda x: x * 2),
                                                ((2,), lambda x: x + x), ((2,), lambda x: x.sin()),
                                                ((2,), lambda x: retrograd.add(x, 1))],
                         ids=["0-d", "1-d", "two tensors", "method", "function"])
def test_tensor_computed_under_no_grad_does_not_require_grad(shape, compute):
    x = retrograd.ones(shape, requires_grad=True)
    with retrograd.no_grad():
        y = compute(x)
    explanation = retrograd.explain(y)
    assert "computed while grad mode was off" in explanation and "no_grad()" in explanation
    assert "Fix: compute y outside the no_grad() block." in explanation


def test_non_leaf_without_retain_grad_gives_the_fix():
    _x, a, _b, y = seed_graph()
    y.backward()
    explanation = retrograd.explain(a)
    assert "non-leaf" in explanation.summary and "AddBackward0" in explanation.summary
    assert "Fix: call a.retain_grad() before backward" in explanation
    assert "retrograd.autograd.grad(output, a)" in explanation


def test_non_leaf_that_retains_grad_shows_it():
    _x, a, _b, y = seed_graph()
    a.retain_grad()
    y.backward()
    assert "retain_grad() is on: its .grad holds 4." in retrograd.explain(a)


def test_graph_already_freed():
    _x, _a, _b, y = seed_graph()
    y.backward()
    explanation = retrograd.explain(y)
    assert "Its graph was already freed (MulBackward0 lost its saved values)" in explanation
    assert "retain_graph=True" in explanation


def test_leaf_not_reachable_from_the_output():
    _x, _a, _b, y = seed_graph()
    other = retrograd.tensor(1.0, requires_grad=True)
    explanation = retrograd.explain(other, output=y)
    assert "It is not reachable from that output" in explanation


def test_leaf_cut_off_by_detach():
    x = retrograd.tensor(3.0, requires_grad=True)
    output = x.detach() * 2
    explanation = retrograd.explain(x, output=output)
    assert "The output does not require grad" in explanation
    assert ".detach()" in explanation


def test_reachable_leaf_says_what_backward_will_give_and_changes_nothing():
    x, _a, _b, y = seed_graph()
    explanation = retrograd.explain(x, output=y)
    assert "output.backward() would add 7 to its .grad" in explanation
    assert x.grad is None
    assert y.grad_fn._released is False


def test_a_hook_that_drops_the_gradient():
    x = retrograd.tensor(2.0, requires_grad=True)
    y = x * 3
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (None, None))
    assert "a hook on the way replaced its gradient with None" in retrograd.explain(x, output=y)


def test_leaf_hooks_are_described():
    x, _a, _b, _y = seed_graph()
    x.register_hook(lambda grad: None)
    assert "one that returns None leaves it unchanged" in retrograd.explain(x)


def test_accumulated_gradient_of_the_seed_12_plus_6():
    x = retrograd.tensor(2.0, requires_grad=True)
    y = retrograd.tensor(3.0, requires_grad=True)
    z = x * x * y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z.backward(create_graph=True)
    x.grad.backward()
    explanation = retrograd.explain(x)
    assert explanation.summary.endswith("its .grad is 18.")
    assert "added to 1 more time" in explanation
    assert "the previous gradient was not zeroed" in explanation
    assert "grad_fn=<CopyBackwards>" in explanation


def test_gradient_from_one_backward_is_not_called_accumulated():
    x, _a, _b, y = seed_graph()
    y.backward()
    explanation = retrograd.explain(x)
    assert explanation.summary.endswith("its .grad is 7.")
    assert "accumulated" not in explanation


def test_in_place_changed_tensor_mentions_its_version():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()
    e.add_(1)
    assert "changed in place 1 time (version counter 1)" in retrograd.explain(e)


def test_leaf_reached_only_through_boolean_ops():
    x = retrograd.tensor([1.0, -2.0], requires_grad=True)
    output = (x > 0).float().sum()
    explanation = retrograd.explain(x, output=output)
    assert "The output does not require grad" in explanation
    assert "only through integer or boolean ops" in explanation
    assert "retrograd.bool: only floating point tensors can require grad" in retrograd.explain(x > 0)


def test_saved_tensor_version_error():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()
    e.add_(1)
    error = error_of(lambda: e.sum().backward())
    explanation = retrograd.explain(error)
    assert explanation.summary == (
        "backward needed a saved value that was changed in place after it was saved.")
    assert "retrograd.FloatTensor of shape [2], the output of Exp" in explanation
    assert "went from 0 to 1" in explanation
    assert "clone()" in explanation


def test_second_backward_error():
    _x, _a, _b, y = seed_graph()
    y.backward()
    explanation = retrograd.explain(error_of(y.backward))
    assert "already freed" in explanation.summary
    assert "retain_graph=True" in explanation


def test_differentiating_a_first_derivative_made_without_create_graph():
    x = retrograd.tensor(2.0, requires_grad=True)
    (first,) = retrograd.autograd.grad(x * x, x)
    explanation = retrograd.explain(error_of(lambda: retrograd.autograd.grad(first, x)))
    assert "has no graph" in explanation.summary
    assert "create_graph=True" in explanation


def test_implicit_gradient_of_a_vector():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    explanation = retrograd.explain(error_of(lambda: (x + 1).backward()))
    assert "y.sum().backward()" in explanation


def test_unknown_error_is_quoted():
    explanation = retrograd.explain(ValueError("something else"))
    assert explanation.summary == "retrograd has no explanation for this error yet."
    assert "ValueError: something else" in explanation


def test_str_and_repr_are_the_text():
    explanation = retrograd.explain(retrograd.tensor(1.0))
    assert str(explanation) == repr(explanation) == explanation.text
    assert explanation.text.splitlines()[1].startswith("- ")


def test_explain_rejects_other_objects():
    with pytest.raises(TypeError, match="takes a Tensor, an exception, an nn.Module or an optimizer"):
        retrograd.explain(3.0)


# ---------------------------------------------------------------------------
# The tensor's origin is recorded, so explain names the actual cause


def test_detached_tensor_is_named_as_detached():
    x = retrograd.tensor(1.0, requires_grad=True)
    cut = x.detach()
    explanation = retrograd.explain(cut)
    assert "cut from its graph by .detach()" in explanation
    assert "use cut itself" in explanation
    assert "under no_grad" not in explanation


def test_data_alias_is_named_as_data():
    x = retrograd.tensor(1.0, requires_grad=True)
    assert "taken with .data" in retrograd.explain(x.data)


def test_numpy_round_trip_is_named():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    back = retrograd.tensor(x.detach().numpy() * 2)
    assert "made from a NumPy array" in retrograd.explain(back)
    assert "made from a NumPy array" in retrograd.explain(retrograd.from_numpy(x.detach().numpy()))


def test_a_tensor_the_user_creates_under_no_grad_is_not_blamed_on_no_grad():
    with retrograd.no_grad():
        made = retrograd.zeros(2)
    explanation = retrograd.explain(made)
    assert "grad mode was off" not in explanation
    assert "without requires_grad=True" in explanation


def test_origin_costs_nothing_on_the_recorded_path():
    x = retrograd.tensor(1.0, requires_grad=True)
    y = x * 2
    assert not hasattr(y, "_origin")


def test_derivative_without_create_graph_error_names_the_variable_and_the_cause():
    x = retrograd.tensor(2.0).requires_grad_()
    y = retrograd.tensor(3.0).requires_grad_()
    z = x * x * y
    grad_x = retrograd.autograd.grad(outputs=z, inputs=x, retain_graph=True)
    try:
        retrograd.autograd.grad(outputs=grad_x, inputs=x)
    except RuntimeError as caught:
        explanation = retrograd.explain(caught)
    assert "differentiate grad_x[0], which has no graph" in explanation.summary
    assert "computed by a backward pass" in explanation
    assert "create_graph=True to the backward or autograd.grad that made grad_x[0]" in explanation


def test_error_on_a_detached_output_names_detach():
    x = retrograd.tensor(2.0, requires_grad=True)
    cut = (x * 2).detach()
    try:
        cut.backward()
    except RuntimeError as caught:
        explanation = retrograd.explain(caught)
    assert "differentiate cut" in explanation.summary
    assert ".detach()" in explanation.reasons[0]


def test_error_on_a_tensor_made_under_no_grad_names_no_grad():
    x = retrograd.tensor(2.0, requires_grad=True)
    with retrograd.no_grad():
        loss = x * 3
    explanation = retrograd.explain(error_of(loss.backward))
    assert "grad mode was off" in explanation.reasons[0]


def test_error_without_a_known_origin_lists_likely_causes_in_order():
    plain = retrograd.tensor(1.0)
    explanation = retrograd.explain(error_of(plain.backward))
    reasons = explanation.reasons[0]
    assert reasons.index("requires_grad=True") < reasons.index("no_grad()") < reasons.index(".detach()")
    assert reasons.index(".detach()") < reasons.index("create_graph=True")


# ---------------------------------------------------------------------------
# Modules and optimizers


def _model():
    retrograd.manual_seed(0)
    return retrograd.nn.Sequential(retrograd.nn.Linear(3, 4), retrograd.nn.ReLU(), retrograd.nn.Linear(4, 2))


def test_explain_module_before_any_backward():
    model = _model()
    explanation = retrograd.explain(model)
    assert explanation.summary == "model (Sequential) with 4 parameters: 4 without a gradient."
    assert "No parameter has a gradient" in explanation


def test_explain_module_names_accumulated_gradients_by_their_python_path():
    model = _model()
    for _ in range(2):
        model(retrograd.ones(1, 3)).sum().backward()
    explanation = retrograd.explain(model)
    assert "4 with a gradient" in explanation.summary
    assert "model[0].weight (4, 3) 1x" in explanation and "call optimizer.zero_grad()" in explanation


def test_explain_module_after_one_backward_finds_nothing_wrong():
    model = _model()
    model(retrograd.ones(1, 3)).sum().backward()
    assert "nothing looks wrong" in retrograd.explain(model)


def test_explain_module_frozen_and_unreached_parameters():
    model = _model()
    head = retrograd.nn.Linear(2, 2)
    both = retrograd.nn.ModuleList([model, head])
    model[0].bias.requires_grad_(False)
    model(retrograd.ones(1, 3)).sum().backward()
    explanation = retrograd.explain(both)
    assert "both[0][0].bias (4,): frozen" in explanation
    assert "both[1].weight (2, 2), both[1].bias (2,): got no gradient although other parameters did" in explanation


def test_explain_optimizer_says_step_skips_parameters_without_gradient():
    model = _model()
    extra = retrograd.nn.Linear(2, 2)
    opt = retrograd.optim.SGD([*model.parameters(), *extra.parameters()], lr=0.1)
    model(retrograd.ones(1, 3)).sum().backward()
    explanation = retrograd.explain(opt)
    assert explanation.summary == "opt (SGD) with 6 parameters: 4 with a gradient, 2 without a gradient."
    assert "opt.param_groups[0]['params'][4] (2, 2)" in explanation
    assert "step() skips the parameters without a gradient" in explanation


def test_explain_module_flags_non_finite_gradients():
    model = _model()
    model(retrograd.ones(1, 3)).sum().backward()
    model[2].bias.grad.data.fill_(float("nan"))
    assert "have NaN or infinity in .grad" in retrograd.explain(model)


# ---------------------------------------------------------------------------
# More errors explained


def test_integer_requires_grad_error():
    explanation = retrograd.explain(error_of(lambda: retrograd.tensor([1, 2], requires_grad=True)))
    assert "dtype is not floating point" in explanation.summary
    assert "retrograd.tensor([1., 2.], requires_grad=True)" in explanation


def test_numpy_of_a_tensor_that_requires_grad_error():
    x = retrograd.tensor([1.0], requires_grad=True)
    explanation = retrograd.explain(error_of(x.numpy))
    assert ".numpy() was called on a tensor that requires grad" in explanation.summary
    assert "t.detach().numpy()" in explanation


def test_gpu_request_error():
    explanation = retrograd.explain(RuntimeError(
        "retrograd computes on the CPU with NumPy; device 'cuda' is not available"))
    assert "A device other than the CPU" in explanation.summary
    assert "torch.cuda.is_available()" in explanation


# ---------------------------------------------------------------------------
# Printing


def test_every_line_fits_100_columns():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    explanations = [retrograd.explain(retrograd.tensor(1.0)), retrograd.explain(x.detach()),
                    retrograd.explain(error_of(lambda: (x + 1).backward())), retrograd.explain(_model())]
    for explanation in explanations:
        assert max(len(line) for line in explanation.text.splitlines()) <= 100


def test_readme_first_look_prints_the_explanation_when_run_as_a_script(tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    first_look = readme.split("## A first look", 1)[1]
    code = re.search(r"```python\n(.*?)```", first_look, re.S)[1]
    script = tmp_path / "first_look.py"
    script.write_text(code)
    src = Path(__file__).resolve().parents[1] / "src"
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "tensor(7.)" in run.stdout
    assert "This is a non-leaf tensor" in run.stdout
