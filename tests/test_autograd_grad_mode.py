"""Grad-mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import threading

import pytest

import retrograd as torch


@pytest.fixture
def x():
    return torch.tensor([1.0, 2.0], requires_grad=True)


def test_no_grad_block_records_nothing(x):
    with torch.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert torch.is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses(x):
    @torch.no_grad()
    def with_parentheses(a):
        return a * 2

    @torch.no_grad
    def bare(a):
        return a * 2

    assert not with_parentheses(x).requires_grad
    assert not bare(x).requires_grad
    assert bare.__name__ == "bare"


def test_enable_grad_inside_no_grad(x):
    with torch.no_grad(), torch.enable_grad():
        assert (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_set_grad_enabled_as_plain_call_sets_the_mode():
    try:
        torch.set_grad_enabled(False)
        assert not torch.is_grad_enabled()
    finally:
        torch.set_grad_enabled(True)
    assert torch.is_grad_enabled()


def test_set_grad_enabled_as_context_restores_the_mode(x):
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_set_grad_enabled_as_decorator_leaves_the_caller_mode_alone(x):
    @torch.set_grad_enabled(False)
    def double(a):
        return a * 2

    assert torch.is_grad_enabled()
    assert not double(x).requires_grad
    assert torch.is_grad_enabled()


def test_modes_nest_and_unwind_on_exceptions():
    with pytest.raises(ValueError), torch.no_grad():
        with torch.enable_grad():
            assert torch.is_grad_enabled()
        raise ValueError
    assert torch.is_grad_enabled()


def test_nested_no_grad_restores_the_outer_mode_on_exit(x):
    with torch.no_grad():
        with torch.no_grad():
            assert not torch.is_grad_enabled()
        assert not torch.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_no_grad_decorated_function_called_inside_no_grad_leaves_it_off(x):
    @torch.no_grad()
    def double(a):
        return a * 2

    with torch.no_grad():
        double(x)
        assert not (x * 3).requires_grad


def test_decorated_generator_runs_its_body_in_the_mode_and_yields_back_the_callers(x):
    @torch.no_grad()
    def steps():
        yield torch.is_grad_enabled()
        yield (x * 2).requires_grad

    generator = steps()
    assert next(generator) is False
    assert torch.is_grad_enabled()
    assert next(generator) is False
    assert torch.is_grad_enabled()


def test_generator_receives_sent_values_and_returns():
    @torch.no_grad()
    def echo():
        received = yield torch.is_grad_enabled()
        yield received
        return "done"

    generator = echo()
    assert next(generator) is False
    assert generator.send(5) == 5
    with pytest.raises(StopIteration) as stop:
        next(generator)
    assert stop.value.value == "done"


def test_grad_mode_is_thread_local():
    seen = []

    def worker():
        seen.append(torch.is_grad_enabled())
        with torch.no_grad():
            seen.append(torch.is_grad_enabled())

    with torch.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not torch.is_grad_enabled()
    assert seen == [True, False]
    assert torch.is_grad_enabled()


def test_inference_mode_tensors_are_marked(x):
    with torch.inference_mode():
        assert torch.is_inference_mode_enabled()
        assert not torch.is_grad_enabled()
        made = x * 2
    assert made.is_inference() and not made.requires_grad
    assert not x.is_inference()
    assert not torch.is_inference_mode_enabled()


def test_inference_mode_false_inside_inference_mode_records_again(x):
    with torch.inference_mode(), torch.inference_mode(False):
        made = x * 2
    assert made.requires_grad and not made.is_inference()


def test_inference_tensor_cannot_be_saved_for_backward(x):
    with torch.inference_mode():
        frozen = torch.ones(2)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        x * frozen
    assert (x + frozen).requires_grad  # add saves nothing, as in PyTorch


def test_inference_tensor_refuses_in_place_update_and_requires_grad():
    with torch.inference_mode():
        frozen = torch.ones(2)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        frozen.add_(1)
    assert frozen._version == 0
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
        frozen.requires_grad_()
    assert frozen.clone().add_(1).tolist() == [2.0, 2.0]


def test_inference_mode_decorator(x):
    @torch.inference_mode()
    def double(a):
        return a * 2

    assert double(x).is_inference()


def test_messages_match_pytorch():
    real = pytest.importorskip("torch")
    with real.inference_mode():
        frozen_real = real.ones(2)
    with torch.inference_mode():
        frozen = torch.ones(2)
    for make in (lambda m, f: m.ones(2, requires_grad=True) * f, lambda m, f: f.add_(1)):
        with pytest.raises(RuntimeError) as ours:
            make(torch, frozen)
        with pytest.raises(RuntimeError) as theirs:
            make(real, frozen_real)
        assert str(ours.value).replace("retrograd", "torch") == str(theirs.value)


def test_mode_counts_follow_every_switch_and_threads_keep_their_own_modes():
    """Note [Reading the modes quickly]: the counts in front of the thread-local modes."""
    from retrograd.autograd import grad_mode

    x = torch.ones(2, requires_grad=True)
    assert grad_mode.threads_without_grad.count == 0 and grad_mode.threads_in_inference.count == 0
    with torch.no_grad():
        assert grad_mode.threads_without_grad.count == 1
        with torch.enable_grad():
            assert grad_mode.threads_without_grad.count == 0 and (x * 2).requires_grad
        with torch.inference_mode():
            assert grad_mode.threads_in_inference.count == 1 and torch.is_inference_mode_enabled()
            assert (x * 2).is_inference()
        seen = {}

        def other_thread():  # starts with grad mode on, whatever this thread does
            seen["grad"] = torch.is_grad_enabled() and (x * 2).requires_grad
            torch.set_grad_enabled(False)  # and ends with it off: its count stays
            torch.inference_mode().__enter__()  # and in inference mode

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert seen["grad"] is True
        assert not torch.is_grad_enabled() and not (x * 2).requires_grad
    assert grad_mode.threads_without_grad.count == 1  # the ended thread's: reads only slower
    assert grad_mode.threads_in_inference.count == 1
    assert torch.is_grad_enabled() and (x * 2).requires_grad
    assert not torch.is_inference_mode_enabled() and not (x * 2).is_inference()
    grad_mode.threads_without_grad.add(-1)
    grad_mode.threads_in_inference.add(-1)
    (x * x).sum().backward()  # the engine switches grad mode off and back for the pass
    assert grad_mode.threads_without_grad.count == 0
