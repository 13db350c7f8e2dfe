"""gradcheck and gradgradcheck: what they accept, what they catch, what they report."""

from __future__ import annotations

import random

import pytest

import retrograd as torch
from retrograd.autograd import Function, gradcheck, gradgradcheck
from retrograd.autograd.gradcheck import GradcheckError


class WrongFirstDerivative(Function):
    """x**2 with backward 1: wrong first derivative."""

    @staticmethod
    def forward(ctx, x):
        return x**2

    @staticmethod
    def backward(ctx, grad):
        return grad


class WrongSecondDerivative(Function):
    """x**2 whose backward is right but treats x as a constant: wrong second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x.detach()


class Jittery(Function):
    """2x with a backward that changes a little from call to call."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * (2 + random.random() * 1e-7)


class AddsAConstant(Function):
    """2x whose backward adds a tiny constant: right Jacobian, not linear in grad_output."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2 + 1e-9


def _input():
    return torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True)


def test_correct_gradients_pass_in_slow_and_fast_mode():
    function = lambda a, b: (a * b).exp() + a / b  # noqa: E731
    b = torch.tensor([0.7, 1.3], dtype=torch.float64, requires_grad=True)
    assert gradcheck(function, (_input(), b))
    assert gradcheck(function, (_input(), b), fast_mode=True)
    assert gradgradcheck(function, (_input(), b))
    assert gradgradcheck(function, (_input(), b), fast_mode=True)


def test_wrong_jacobian_reports_both_matrices_and_the_pair():
    with pytest.raises(GradcheckError) as error:
        gradcheck(WrongFirstDerivative.apply, (_input(),))
    message = str(error.value)
    assert message.startswith(
        "Jacobian mismatch for output 0 with respect to input 0,\nnumerical:tensor([[ 3."
    )
    assert "analytical:tensor([[1., 0.],\n        [0., 1.]], dtype=retrograd.float64)" in message


def test_fast_mode_failure_recomputes_in_slow_mode():
    with pytest.raises(GradcheckError) as error:
        gradcheck(WrongFirstDerivative.apply, (_input(),), fast_mode=True)
    message = str(error.value)
    assert "computed \nin fast mode" in message
    assert "Numerical:\n tensor([[ 3." in message
    assert "The max per-element difference (slow mode) is: 1.99999" in message


def test_raise_exception_false_returns_false():
    assert gradcheck(WrongFirstDerivative.apply, (_input(),), raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative():
    assert gradcheck(WrongSecondDerivative.apply, (_input(),))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(WrongSecondDerivative.apply, (_input(),))


def test_nondeterministic_backward_needs_nondet_tol():
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Jittery.apply, (_input(),))
    assert gradcheck(Jittery.apply, (_input(),), nondet_tol=1e-5)


def test_backward_must_scale_with_grad_output():
    with pytest.raises(GradcheckError, match="backward not multiplied by grad_output"):
        gradcheck(AddsAConstant.apply, (_input(),))


def test_undefined_output_gradients_are_checked():
    class Fragile(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, first, second):
            return first * 2 + second * 3

    with pytest.raises(GradcheckError, match="handle undefined output grads"):
        gradcheck(Fragile.apply, (_input(),))
    with pytest.raises(TypeError):
        gradcheck(Fragile.apply, (_input(),), check_undefined_grad=False)


def test_check_batched_grad():
    assert gradcheck(lambda a: a.exp() * a, (_input(),), check_batched_grad=True)


def test_float32_inputs_warn():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="is not a double precision floating point"):
        gradcheck(lambda a: a * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (torch.ones(2, dtype=torch.float64),))


def test_non_contiguous_inputs_are_perturbed_correctly():
    base = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    column = base.select(1, 0).detach().requires_grad_()
    assert not column.is_contiguous()
    assert gradcheck(lambda a: a.exp() * a, (column,))


# ---------------------------------------------------------------------------
# The tester tested: a wrong derivative of any input position must be caught.


def _weighted_squares(count: int, wrong_first: int | None = None, wrong_second: int | None = None):
    """A Function of `count` tensors: sum_i (i + 1) * x_i**2, elementwise.

    Its backward is right except, for input `wrong_first`, an added 0.5 * grad (a wrong first
    derivative), and, for input `wrong_second`, x treated as a constant (right value, wrong
    second derivative).
    """

    class WeightedSquares(Function):
        @staticmethod
        def forward(ctx, *inputs):
            ctx.save_for_backward(*inputs)
            return sum((i + 1) * x**2 for i, x in enumerate(inputs))

        @staticmethod
        def backward(ctx, grad):
            grads = []
            for i, x in enumerate(ctx.saved_tensors):
                value = x.detach() if i == wrong_second else x
                gradient = grad * 2 * (i + 1) * value
                if i == wrong_first:
                    gradient = gradient + 0.5 * grad
                grads.append(gradient)
            return tuple(grads)

    return WeightedSquares.apply


def _inputs(count: int):
    values = [[1.5, -0.5], [0.7, 1.3], [-1.1, 0.4], [0.2, -0.9]]
    return tuple(torch.tensor(values[i], dtype=torch.float64, requires_grad=True) for i in range(count))


WRONG_POSITIONS = [(count, wrong) for count in (1, 2, 3, 4) for wrong in range(count)]


@pytest.mark.parametrize("fast_mode", [False, True], ids=["slow", "fast"])
@pytest.mark.parametrize(("count", "wrong"), WRONG_POSITIONS)
def test_gradcheck_catches_a_wrong_derivative_of_any_input(count, wrong, fast_mode):
    assert gradcheck(_weighted_squares(count), _inputs(count), fast_mode=fast_mode)
    with pytest.raises(GradcheckError, match=f"Jacobian mismatch for output 0 with respect to input {wrong},"):
        gradcheck(_weighted_squares(count, wrong_first=wrong), _inputs(count), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True], ids=["slow", "fast"])
@pytest.mark.parametrize(("count", "wrong"), WRONG_POSITIONS)
def test_gradgradcheck_catches_a_wrong_second_derivative_of_any_input(count, wrong, fast_mode):
    function = _weighted_squares(count, wrong_second=wrong)
    assert gradcheck(function, _inputs(count), fast_mode=fast_mode)
    assert gradgradcheck(_weighted_squares(count), _inputs(count), fast_mode=fast_mode)
    # gradgradcheck differentiates (inputs..., grad_outputs...) -> (grad of each input);
    # the detached x_wrong makes d(grad of input wrong) / d(input wrong) wrong.
    with pytest.raises(GradcheckError, match=f"Jacobian mismatch for output {wrong} with respect to input {wrong},"):
        gradgradcheck(function, _inputs(count), fast_mode=fast_mode)


@pytest.mark.parametrize("wrong", [0, 2])
def test_inputs_that_need_no_grad_keep_their_position_in_the_report(wrong):
    a, _, c = _inputs(3)
    inputs = (a, torch.tensor([2.0, 3.0], dtype=torch.float64), c)
    function = _weighted_squares(3, wrong_first=wrong)
    with pytest.raises(GradcheckError, match=f"with respect to input {wrong},"):
        gradcheck(function, inputs)


def _rows_reversed(batched_backward):
    """A batched backward that gives every batch row the vector-Jacobian product of another row."""

    def wrong(*args, **kwargs):
        return tuple(None if g is None else g.flip(0) for g in batched_backward(*args, **kwargs))

    return wrong


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_check_batched_grad_catches_wrong_batched_gradients(check, monkeypatch):
    from retrograd.autograd import _batched

    function = lambda a, b: (a * b).exp() + a / b  # noqa: E731
    inputs = _inputs(2)
    assert check(function, inputs, check_batched_grad=True)
    monkeypatch.setattr(_batched, "batched_backward", _rows_reversed(_batched.batched_backward))
    assert check(function, inputs)  # the batched path is used only when asked for
    with pytest.raises(GradcheckError, match="While computing batched gradients"):
        check(function, inputs, check_batched_grad=True)


def test_verdicts_match_pytorch():
    real = pytest.importorskip("torch")

    def verdicts(m):
        class Wrong(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x**2

            @staticmethod
            def backward(ctx, grad):
                return grad

        x = m.tensor([1.5, -0.5], dtype=m.float64, requires_grad=True)
        check = m.autograd.gradcheck
        return (
            check(lambda a: a.exp() * a, (x,)),
            check(Wrong.apply, (x,), raise_exception=False),
            check(Wrong.apply, (x,), raise_exception=False, fast_mode=True),
            m.autograd.gradgradcheck(lambda a: a.sin() * a, (x,)),
        )

    assert verdicts(torch) == verdicts(real)
