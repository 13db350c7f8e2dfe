"""Hooks: on tensors, on nodes, on several tensors, on saved tensors; grad_fn._saved_*."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd.graph import (
    disable_saved_tensors_hooks,
    register_multi_grad_hook,
    saved_tensors_hooks,
)


def _hook_order(m):
    """The firing order of every kind of hook on one small graph, in module `m`."""
    log = []
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * 3
    y.register_hook(lambda g: log.append(("tensor hook 1", g.tolist())) or g * 10)
    y.retain_grad()
    y.register_hook(lambda g: log.append(("tensor hook 2", g.tolist())))
    y.grad_fn.register_prehook(lambda grads: log.append(("node prehook", grads[0].tolist())))
    y.grad_fn.register_hook(
        lambda grad_inputs, grad_outputs: log.append(
            ("node hook", grad_inputs[0].tolist(), grad_outputs[0].tolist())
        )
    )
    x.register_hook(lambda g: log.append(("leaf hook", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post accumulate", t.grad.tolist())))
    z.sum().backward()
    log.append(("retained", y.grad.tolist()))
    return log


def test_hooks_fire_in_pytorchs_order():
    assert _hook_order(torch) == [
        ("tensor hook 1", [3.0, 3.0]),
        ("tensor hook 2", [30.0, 30.0]),
        ("node prehook", [30.0, 30.0]),
        ("node hook", [60.0, 60.0], [30.0, 30.0]),
        ("leaf hook", [60.0, 60.0]),
        ("post accumulate", [60.0, 60.0]),
        ("retained", [30.0, 30.0]),
    ]


def test_hook_order_matches_pytorch():
    real = pytest.importorskip("torch")
    assert _hook_order(torch) == _hook_order(real)


def test_tensor_hook_can_replace_the_gradient_and_be_removed():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 100)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [200.0, 200.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_hooks_apply_to_autograd_grad_results_too():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    (grad_y,) = torch.autograd.grad((y * 3).sum(), y, retain_graph=True)
    assert grad_y.tolist() == [30.0, 30.0]
    x.register_hook(lambda g: g + 1)
    (grad_x,) = torch.autograd.grad((y * 3).sum(), x)
    assert grad_x.tolist() == [61.0, 61.0]


def test_register_hook_on_a_tensor_without_grad_raises():
    expected = "cannot register a hook on a tensor that doesn't require gradient"
    with pytest.raises(RuntimeError, match=expected):
        torch.ones(2).register_hook(lambda g: g)


def test_post_accumulate_hook_only_on_leaves():
    y = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf"):
        y.register_post_accumulate_grad_hook(lambda t: None)


def test_post_accumulate_hook_sees_the_accumulated_grad_and_can_step():
    weight = torch.tensor([1.0, 2.0], requires_grad=True)

    def sgd_step(tensor):
        with torch.no_grad():
            tensor.sub_(tensor.grad * 0.5)
        tensor.grad = None

    weight.register_post_accumulate_grad_hook(sgd_step)
    (weight * weight).sum().backward()
    assert weight.grad is None
    assert weight.tolist() == [0.0, 0.0]


def test_node_hook_may_replace_grad_inputs_and_must_return_the_right_count():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    y = a * b
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, grad_inputs[1]))
    y.sum().backward(retain_graph=True)
    assert a.grad.tolist() == [10.0, 10.0] and b.grad.tolist() == [1.0, 1.0]
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0],))
    expected = r"has returned an incorrect number of values \(got 1, but expected 2\)"
    with pytest.raises(RuntimeError, match=expected):
        y.sum().backward()


def test_node_prehook_may_replace_grad_outputs():
    x = torch.ones(2, requires_grad=True)
    y = x.exp()
    y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 0,))
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


# -- several tensors ----------------------------------------------------------


def test_multi_grad_hook_all_waits_for_every_gradient_of_the_pass():
    a = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    calls = []
    handle = register_multi_grad_hook((a, b), lambda grads: calls.append(grads))
    (a * 3).backward()
    (a * b).backward()
    assert [[None if g is None else g.item() for g in grads] for grads in calls] == [
        [3.0, None],
        [2.0, 1.0],
    ]
    handle.remove()
    (a * b).backward()
    assert len(calls) == 2


def test_multi_grad_hook_any_fires_once_with_the_first_gradient():
    a = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    calls = []
    register_multi_grad_hook((a, b), lambda grad: calls.append(grad.item()), mode="any")
    (a * b).backward()
    assert calls == [2.0]


def test_multi_grad_hook_rejects_unknown_modes():
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        register_multi_grad_hook((torch.ones(1, requires_grad=True),), print, mode="some")


# -- saved tensors --------------------------------------------------------------


def test_saved_tensor_hooks_pack_on_save_and_unpack_in_backward():
    events = []

    def pack(tensor):
        events.append(("pack", tensor.shape))
        return tensor.detach().numpy().copy()

    def unpack(array):
        events.append(("unpack",))
        return torch.from_numpy(array)

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(pack, unpack):
        y = x.exp()
        z = x * x
    assert [kind for kind, *_ in events] == ["pack", "pack", "pack"]
    (y.sum() + z.sum()).backward()
    assert [kind for kind, *_ in events].count("unpack") == 3
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) + np.array([2.0, 4.0]), rtol=1e-6)


def test_packed_tensors_are_not_version_checked():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = x * x
    with torch.no_grad():
        x.add_(1)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_disable_saved_tensors_hooks_refuses_new_hooks():
    refused = pytest.raises(RuntimeError, match="no hooks here")
    with disable_saved_tensors_hooks("no hooks here"), refused, saved_tensors_hooks(print, print):
        pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        pass


def test_saved_attributes_have_pytorchs_names():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor([3.0, 4.0])
    product = (x * c).grad_fn
    assert product._saved_self is None  # only x needs a gradient, and its formula reads c
    assert product._saved_other is c
    assert {"_saved_self", "_saved_other"} <= set(dir(product))
    both = (x * x.detach().requires_grad_()).grad_fn
    assert both._saved_self is x
    exp = x.exp()
    assert exp.grad_fn._saved_result.tolist() == exp.tolist()
    assert (x + c).grad_fn._saved_alpha == 1
    with pytest.raises(AttributeError):
        product._saved_nothing


def test_saved_attributes_match_pytorch_values():
    real = pytest.importorskip("torch")

    def saved(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        return (
            (x * 3.0 * x).grad_fn._saved_other.tolist(),
            x.exp().grad_fn._saved_result.tolist(),
            (x + x).grad_fn._saved_alpha,
        )

    for ours, theirs in zip(saved(torch), saved(real), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_saved_attributes_are_freed_with_the_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.grad_fn._saved_self


def test_save_on_cpu_keeps_copies_that_in_place_changes_cannot_reach():
    from retrograd.autograd.graph import save_on_cpu

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor([3.0, 4.0])
    with save_on_cpu():
        y = x * c
    c.add_(10)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_node_metadata_persists():
    y = torch.ones(1, requires_grad=True) * 2
    y.grad_fn.metadata["note"] = "kept"
    assert y.grad_fn.metadata == {"note": "kept"}
    assert isinstance(y.grad_fn, torch.autograd.graph.Node)


def test_a_tensor_hook_may_not_change_shape_or_dtype():
    def double_precision(grad):
        return grad.double()

    leaf = torch.ones(2, requires_grad=True)
    leaf.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        (leaf * 2).sum().backward()
    other = torch.ones(2, requires_grad=True)
    middle = other * 2
    middle.register_hook(double_precision)
    expected = (
        r"hook 'double_precision' has changed the type of value \(was retrograd.FloatTensor got "
        r"retrograd.DoubleTensor\)"
    )
    with pytest.raises(RuntimeError, match=expected):
        (middle * 2).sum().backward()
