"""gradcheck and gradgradcheck fail for each kind of wrong derivative, and pass for right ones
(found by mutation testing). Each verdict is PyTorch's; the cross-check runs the same cases on it.

The functions under test are custom Functions whose backward is right, or wrong in one chosen
way: for one input position, for one output, by a small factor, not multiplied by the output
gradient, nondeterministic, or right to first order but wrong to second.
"""

from __future__ import annotations

import warnings

import pytest

import retrograd


def _functions(torch):
    """name -> a function of (x, y) built from a custom Function whose backward is wrong as named."""

    def make(name, first_x=1.0, first_y=1.0, second=True, scale_by_grad=True, noise=0.0, two_outputs=False):
        class Op(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, y):
                ctx.save_for_backward(x, y)
                ctx.k = k
                if two_outputs:
                    return x * y * k, x + y
                return x * x * y * k

            @staticmethod
            def backward(ctx, grad, *rest):
                x, y = ctx.saved_tensors
                k = ctx.k
                noise_term = grad * (noise * Op.calls) if noise else 0
                Op.calls += 1
                if not scale_by_grad and not bool((grad != 0).any()):
                    grad = torch.ones_like(grad)
                if two_outputs:
                    extra = rest[0]
                    return (grad * y * k * first_x + extra * first_y, None, grad * x * k + extra)
                x_term = x if second else x.detach()
                grad_x = grad * 2 * x_term * y * k * first_x + noise_term
                grad_y = grad * x_term * x_term * k * first_y
                return grad_x, None, grad_y

        Op.calls = 0
        Op.__name__ = name
        return lambda x, y: Op.apply(x, 1.5, y)

    return {
        "right": make("right"),
        "wrong for input 0": make("wrong0", first_x=1.01),
        "wrong for input 2": make("wrong2", first_y=0.99),
        "slightly off": make("slightly", first_x=1.0 + 5e-3),
        "wrong second output": make("two", first_y=0.5, two_outputs=True),
        "right two outputs": make("two_right", two_outputs=True),
        "ignores grad_output": make("unscaled", scale_by_grad=False),
        "nondeterministic": make("noisy", noise=1e-9),
        "wrong second derivative": make("detached", second=False),
    }


def _inputs(torch):
    x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.5, 0.75, -0.5], dtype=torch.float64, requires_grad=True)
    return x, y


def _verdict(check, function, inputs, *args, **kwargs):
    """True, or the first line of the failure, with the library's name taken out."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return check(function, inputs, *args, **kwargs)
    except RuntimeError as error:
        return str(error).split("\n")[0].replace("torch.", "").replace("retrograd.", "")


def _verdicts(torch):
    functions = _functions(torch)
    x, y = _inputs(torch)
    gradcheck, gradgradcheck = torch.autograd.gradcheck, torch.autograd.gradgradcheck
    seen = {}
    for name, function in functions.items():
        seen[name] = _verdict(gradcheck, function, (x, y))
        seen[name, "fast"] = _verdict(gradcheck, function, (x, y), fast_mode=True)
    seen["slightly off", "rtol"] = _verdict(gradcheck, functions["slightly off"], (x, y), rtol=1e-2)
    seen["slightly off", "atol"] = _verdict(gradcheck, functions["slightly off"], (x, y), atol=0.05)
    seen["nondeterministic", "tolerated"] = _verdict(
        gradcheck, _functions(torch)["nondeterministic"], (x, y), nondet_tol=1e-6
    )
    seen["slightly off", "no raise"] = gradcheck(functions["slightly off"], (x, y), raise_exception=False)
    seen["coarse eps"] = _verdict(gradcheck, lambda a, b: a * a * a * b, (x, y), eps=0.1)
    seen["coarse eps, loose"] = _verdict(gradcheck, lambda a, b: a * a * a * b, (x, y), eps=0.1, atol=0.2)
    for name in ("right", "wrong second derivative", "wrong for input 2"):
        seen[name, "gradgrad"] = _verdict(gradgradcheck, _functions(torch)[name], (x, y))
    seen["wrong second derivative", "gradgrad fast"] = _verdict(
        gradgradcheck, _functions(torch)["wrong second derivative"], (x, y), fast_mode=True
    )
    weight = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    seen["gradgrad, given grad_outputs"] = _verdict(
        gradgradcheck, _functions(torch)["wrong second derivative"], (x, y), (weight,)
    )
    seen["gradgrad, no raise"] = gradgradcheck(
        _functions(torch)["wrong second derivative"], (x, y), raise_exception=False
    )
    return seen


EXPECTED = {
    "right": True,
    ("right", "fast"): True,
    "wrong for input 0": "Jacobian mismatch for output 0 with respect to input 0,",
    ("wrong for input 0", "fast"): "Jacobian mismatch for output 0 with respect to input 0,",
    "wrong for input 2": "Jacobian mismatch for output 0 with respect to input 1,",
    ("wrong for input 2", "fast"): "Jacobian mismatch for output 0 with respect to input 1,",
    "slightly off": "Jacobian mismatch for output 0 with respect to input 0,",
    ("slightly off", "fast"): "Jacobian mismatch for output 0 with respect to input 0,",
    "wrong second output": "Jacobian mismatch for output 1 with respect to input 0,",
    ("wrong second output", "fast"): "Jacobian mismatch for output 1 with respect to input 0,",
    "right two outputs": True,
    ("right two outputs", "fast"): True,
    "ignores grad_output": "backward not multiplied by grad_output",
    ("ignores grad_output", "fast"): "backward not multiplied by grad_output",
    "nondeterministic": "Backward is not reentrant, i.e., running backward with same input and grad_output "
    "multiple times gives different values, although analytical gradient matches numerical gradient.The "
    "tolerance for nondeterminism was 0.0.",
    ("nondeterministic", "fast"): "Backward is not reentrant, i.e., running backward with same input and "
    "grad_output multiple times gives different values, although analytical gradient matches numerical "
    "gradient.The tolerance for nondeterminism was 0.0.",
    "wrong second derivative": True,
    ("wrong second derivative", "fast"): True,
    ("slightly off", "rtol"): True,
    ("slightly off", "atol"): True,
    ("nondeterministic", "tolerated"): True,
    ("slightly off", "no raise"): False,
    "coarse eps": "Jacobian mismatch for output 0 with respect to input 0,",
    "coarse eps, loose": True,
    ("right", "gradgrad"): True,
    ("wrong second derivative", "gradgrad"): "Jacobian mismatch for output 0 with respect to input 0,",
    ("wrong for input 2", "gradgrad"): True,
    ("wrong second derivative", "gradgrad fast"): "Jacobian mismatch for output 0 with respect to input 0,",
    "gradgrad, given grad_outputs": "Jacobian mismatch for output 0 with respect to input 0,",
    "gradgrad, no raise": False,
}


def test_verdicts():
    assert _verdicts(retrograd) == EXPECTED


def test_verdicts_match_pytorch():
    real = pytest.importorskip("torch")
    assert _verdicts(real) == EXPECTED


def test_failure_shows_both_jacobians():
    x, y = _inputs(retrograd)
    with pytest.raises(RuntimeError) as error:
        retrograd.autograd.gradcheck(_functions(retrograd)["wrong for input 2"], (x, y))
    message = str(error.value)
    assert "\nnumerical:tensor([[" in message and "\nanalytical:tensor([[" in message
    assert "dtype=retrograd.float64" in message


def test_fast_mode_failure_recomputes_in_slow_mode():
    x, y = _inputs(retrograd)
    with pytest.raises(RuntimeError) as error:
        retrograd.autograd.gradcheck(_functions(retrograd)["wrong for input 0"], (x, y), fast_mode=True)
    message = str(error.value)
    assert "computed \nin fast mode. See: https://github.com/pytorch/pytorch/issues/53876" in message
    assert "Below, we recompute numerical and analytical jacobians in slow mode:" in message
    assert "The max per-element difference (slow mode) is: " in message


def test_single_precision_inputs_warn_and_no_grad_inputs_are_refused():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision floating "
                      "point. This check will likely fail if all the inputs are not of double precision "
                      "floating point."):
        retrograd.autograd.gradcheck(lambda a: a * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient, "
                       "but none of the them have requires_grad=True."):
        retrograd.autograd.gradcheck(lambda a: a * 2, (retrograd.ones(2, dtype=retrograd.float64),))


def test_a_single_tensor_input_need_not_be_a_tuple():
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(lambda a: (a * a, a.sum()), x)
    assert retrograd.autograd.gradgradcheck(lambda a: a * a * a, x)


def test_outputs_that_do_not_depend_on_an_input_pass():
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    y = retrograd.tensor([3.0], dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(lambda a, b: (a * 2, retrograd.ones(1, dtype=retrograd.float64)), (x, y))
    assert retrograd.autograd.gradcheck(lambda a, b: a * 2, (x, y), fast_mode=True)


def test_grad_dtypes_are_checked_when_asked():
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(lambda a: a * a, (x,), check_grad_dtypes=True)


def test_batched_gradients_are_checked_when_asked():
    x, y = _inputs(retrograd)
    assert retrograd.autograd.gradcheck(lambda a, b: (a * b).sum() * a, (x, y), check_batched_grad=True)
