"""What user code sees while a backward pass runs (Note [The modes of a pass], autograd/engine.py).

A pass of plain turns enters no modes; any turn that runs user code (a tensor hook, a custom
Function, a saved value's unpack hook) must still see grad mode as create_graph says and the
running pass, however many plain turns came before it, and the pass's tensors are marked as
derivatives either way. Each check holds in PyTorch (cross-checked where it is installed).
"""

from __future__ import annotations

import warnings

import pytest

import retrograd
from retrograd.autograd.engine import current_graph_task

try:
    import torch
except ImportError:  # (the cross-checks are skipped)
    torch = None


def _seen_by_hook_after_plain_turns(lib, create_graph: bool) -> list:
    """Grad mode as a hook on an intermediate sees it, after two plain turns (exp, sum)."""
    x = lib.tensor([0.5, 1.5], requires_grad=True)
    y = x.sin()
    seen = []
    y.register_hook(lambda grad: seen.append(lib.is_grad_enabled()))
    y.exp().sum().backward(create_graph=create_graph)
    return seen


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_hook_after_plain_turns_sees_the_pass_modes(create_graph):
    seen_tasks = []
    x = retrograd.tensor([0.5, 1.5], requires_grad=True)
    y = x.sin()
    y.register_hook(lambda grad: seen_tasks.append(current_graph_task()))
    y.exp().sum().backward()
    assert seen_tasks and seen_tasks[0] is not None
    with warnings.catch_warnings():  # (backward(create_graph=True) warns of a cycle)
        warnings.simplefilter("ignore", UserWarning)
        assert _seen_by_hook_after_plain_turns(retrograd, create_graph) == [create_graph]
        assert retrograd.is_grad_enabled()
        if torch is not None:
            assert _seen_by_hook_after_plain_turns(torch, create_graph) == [create_graph]


def test_a_custom_backward_after_plain_turns_records_nothing():
    class Square(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, value):
            ctx.save_for_backward(value)
            return value * value

        @staticmethod
        def backward(ctx, grad):
            (value,) = ctx.saved_tensors
            seen.append((retrograd.is_grad_enabled(), current_graph_task() is not None))
            return 2 * value * grad

    seen = []
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    Square.apply(x).exp().sum().backward()
    assert seen == [(False, True)]
    assert retrograd.is_grad_enabled()


def test_an_unpack_hook_runs_without_grad_mode_in_a_plain_pass():
    def run(lib):
        seen = []

        def unpack(value):
            seen.append(lib.is_grad_enabled())
            return value

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda value: value, unpack):
            y = (x * x).sum()
        y.backward()
        return seen, x.grad.tolist()

    assert run(retrograd) == ([False, False], [2.0, 4.0])
    if torch is not None:
        assert run(torch) == ([False, False], [2.0, 4.0])


def test_the_pass_restores_the_modes_when_a_hook_raises():
    x = retrograd.tensor([1.0], requires_grad=True)
    y = x.sin()

    def failing(grad):
        raise ValueError("hook failed")

    y.register_hook(failing)
    with pytest.raises(ValueError, match="hook failed"):
        y.exp().sum().backward()
    assert retrograd.is_grad_enabled()
    assert current_graph_task() is None


def test_gradients_of_a_plain_pass_are_marked_as_derivatives():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (captured,) = retrograd.autograd.grad((x * 3).sum(), x)
    for gradient in (x.grad, captured):
        try:
            gradient.backward(retrograd.ones(2))
        except RuntimeError as caught:
            explanation = retrograd.explain(caught)
        assert "computed by a backward pass" in explanation


def _pieces_backward(lib, used: tuple, hooked: int | None = None):
    """x's gradient through chunk's pieces (those in `used`, each scaled by its position + 1),
    and what a hook on piece `hooked` saw."""
    x = lib.arange(8.0, dtype=lib.float64).reshape(2, 4).requires_grad_()
    pieces = x.chunk(4, dim=1)
    seen = []
    if hooked is not None:
        pieces[hooked].register_hook(lambda grad: seen.append(None if grad is None else grad.tolist()))
    total = sum(((pieces[index] * (index + 1)).exp()).sum() for index in used)
    total.backward()
    return x.grad.tolist(), seen


def _passes_entering_modes(monkeypatch, run) -> int:
    """How many times `run()` made a pass enter its modes (Note [The modes of a pass])."""
    from retrograd.autograd import engine

    entered = []
    original = engine._enter_pass

    def counting(*arguments):
        entered.append(True)
        return original(*arguments)

    monkeypatch.setattr(engine, "_enter_pass", counting)
    run()
    return len(entered)


@pytest.mark.parametrize("used", [(0, 1, 2, 3), (1, 3), (2,)])
def test_the_pieces_of_a_split_take_the_plain_turn(monkeypatch, used):
    """chunk's node gets its pieces' gradients in a plain turn, however many (Note [The plain
    turn of several outputs], ops/_formula.py): the pass enters no modes, and the pieces that
    got none still get zeros."""
    results = []
    assert _passes_entering_modes(monkeypatch, lambda: results.append(_pieces_backward(retrograd, used))) == 0
    if torch is not None:
        assert results[0] == _pieces_backward(torch, used)


def test_a_hook_on_a_piece_sends_the_split_to_the_general_turn(monkeypatch):
    results = []
    assert _passes_entering_modes(
        monkeypatch, lambda: results.append(_pieces_backward(retrograd, (0, 2), hooked=1))) == 1
    gradient, seen = results[0]
    assert seen == [None]  # (as PyTorch: the hook of a piece that got no gradient sees None)
    if torch is not None:
        assert results[0] == _pieces_backward(torch, (0, 2), hooked=1)
