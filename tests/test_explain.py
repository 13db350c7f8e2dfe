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


def test_integer_tensor_names_integer_and_boolean_ops():
    explanation = retrograd.explain(retrograd.tensor([1, 2]))
    assert "only floating point tensors can require grad" in explanation
    assert "comparisons such as x > 0, argmax" in explanation


def test_tensor_created_under_inference_mode():
    with retrograd.inference_mode():
        made = retrograd.tensor([1.0]) * 2
    assert "created under inference_mode()" in retrograd.explain(made)


def test_tensor_computed_under_no_grad_does_not_require_grad():
    x = retrograd.tensor(1.0, requires_grad=True)
    with retrograd.no_grad():
        y = x * 2
    assert "computed under no_grad()" in retrograd.explain(y)


def test_non_leaf_without_retain_grad_gives_the_fix():
    _x, a, _b, y = seed_graph()
    y.backward()
    explanation = retrograd.explain(a)
    assert "non-leaf" in explanation.summary and "AddBackward0" in explanation.summary
    assert "call .retain_grad() on it before backward" in explanation


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
    with pytest.raises(TypeError, match="takes a Tensor or an exception"):
        retrograd.explain(3.0)
