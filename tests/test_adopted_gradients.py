"""A leaf's first gradient becomes `.grad` without a copy when nothing else holds it, and is
copied whenever something does (Note [Adopting a gradient], autograd/engine.py)."""

import numpy as np
import pytest

import retrograd


@pytest.fixture
def copies(monkeypatch):
    """The arrays np.array copied while the test ran."""
    made = []
    real = np.array

    def counting(value, *args, **kwargs):
        if kwargs.get("copy") is True and isinstance(value, np.ndarray):
            made.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(np, "array", counting)
    return made


def test_a_gradient_nothing_else_holds_is_adopted(copies):
    x = retrograd.tensor([[1.0, 2.0]], requires_grad=True)
    w = retrograd.tensor([[1.0], [3.0]], requires_grad=True)
    (x @ w * 3).sum().backward()
    assert copies == []
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 9.0]])
    np.testing.assert_array_equal(w.grad.numpy(), [[3.0], [6.0]])


def test_one_gradient_given_to_two_leaves_leaves_them_separate(copies):
    a = retrograd.tensor([1.0, 2.0], requires_grad=True)
    b = retrograd.tensor([3.0, 4.0], requires_grad=True)
    (a * 2 + b).sum().backward()  # add passes its incoming gradient to both sides
    assert len(copies) == 1
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    b.grad.add_(10.0)
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])


def test_a_gradient_a_hook_keeps_is_copied(copies):
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    kept = []
    x.register_hook(kept.append)
    (x * 3).sum().backward()
    assert len(copies) == 1 and not np.shares_memory(kept[0].numpy(), x.grad.numpy())


def test_a_gradient_given_by_the_caller_is_copied(copies):
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0
    seed = retrograd.tensor([5.0, 6.0])
    y.backward(seed)  # add passes the caller's gradient on, unchanged
    assert not np.shares_memory(seed.numpy(), x.grad.numpy())
    x.grad.zero_()
    np.testing.assert_array_equal(seed.numpy(), [5.0, 6.0])


def test_a_view_of_a_gradient_is_copied(copies):
    x = retrograd.tensor([[1.0, 2.0]], requires_grad=True)
    (x.reshape(2) * 3).sum().backward()  # reshape's gradient is a view of mul's
    assert x.grad.numpy().base is None
