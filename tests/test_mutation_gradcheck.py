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
from crosscheck import needs_torch, torch


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
    except (RuntimeError, AssertionError) as error:
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


# ---------------------------------------------------------------------------
# Forward mode (check_forward_ad), fast mode's projections, batched checks, argument checks and
# gradgradcheck's options (found by the second mutation run). Verdicts are PyTorch's.


def _forward_functions(torch):
    """name -> a function of (x, y) from a custom Function whose backward is right and whose jvp is
    right or wrong as named."""

    def make(name, first_x=1.0, first_y=1.0, two_outputs=False):
        class Op(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, y):
                ctx.save_for_backward(x, y)
                ctx.save_for_forward(x, y)
                ctx.k = k
                if two_outputs:
                    return x * y * k, x + y
                return x * x * y * k

            @staticmethod
            def backward(ctx, grad, *rest):
                x, y = ctx.saved_tensors
                k = ctx.k
                if two_outputs:
                    return grad * y * k + rest[0], None, grad * x * k + rest[0]
                return grad * 2 * x * y * k, None, grad * x * x * k

            @staticmethod
            def jvp(ctx, tangent_x, tangent_k, tangent_y):
                x, y = ctx.saved_tensors
                k = ctx.k
                if two_outputs:
                    return tangent_x * y * k + x * k * tangent_y, tangent_x + tangent_y * first_y
                return tangent_x * 2 * x * y * k * first_x + tangent_y * x * x * k * first_y

        Op.__name__ = name
        return lambda x, y: Op.apply(x, 1.5, y)

    return {
        "right": make("right"),
        "wrong for input 0": make("wrong0", first_x=1.01),
        "wrong for input 2": make("wrong2", first_y=0.99),
        "slightly off": make("slightly", first_x=1.0 + 5e-3),
        "right two outputs": make("two_right", two_outputs=True),
        "wrong second output": make("two", first_y=0.5, two_outputs=True),
    }


def _transposed(function):
    def transposed(*inputs):
        outputs = function(*inputs)
        return tuple(out.t() for out in outputs) if isinstance(outputs, tuple) else outputs.t()

    return transposed


def _forward_verdicts(torch):
    x, y = _inputs(torch)
    matrix = torch.tensor([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], dtype=torch.float64, requires_grad=True)
    seen = {}
    for name, function in _forward_functions(torch).items():
        for mode in ("slow", "fast"):
            seen[name, mode] = _verdict(torch.autograd.gradcheck, function, (x, y), check_forward_ad=True,
                                        check_backward_ad=False, fast_mode=mode == "fast")
            seen[name, mode, "matrices"] = _verdict(
                torch.autograd.gradcheck, _transposed(function), (matrix, matrix * 1),
                check_forward_ad=True, check_backward_ad=False, fast_mode=mode == "fast")
    off = _forward_functions(torch)["slightly off"]
    for mode in ("slow", "fast"):
        fast = mode == "fast"
        seen["slightly off", mode, "rtol"] = _verdict(torch.autograd.gradcheck, off, (x, y), rtol=1e-2,
                                                      check_forward_ad=True, check_backward_ad=False,
                                                      fast_mode=fast)
        seen["slightly off", mode, "atol"] = _verdict(torch.autograd.gradcheck, off, (x, y), atol=0.1,
                                                      check_forward_ad=True, check_backward_ad=False,
                                                      fast_mode=fast)
        seen["coarse eps", mode] = _verdict(torch.autograd.gradcheck, lambda a, b: a * a * a * b, (x, y), eps=0.1,
                                            check_forward_ad=True, check_backward_ad=False, fast_mode=fast)
        # checked both ways: the backward check runs too unless check_backward_ad=False
        seen["wrong for input 0", mode, "both"] = _verdict(
            torch.autograd.gradcheck, _functions(torch)["wrong for input 0"], (x, y), check_forward_ad=True,
            fast_mode=fast)
    seen["forward off, backward off"] = _verdict(torch.autograd.gradcheck, lambda a: a * 2, (x,),
                                                 check_backward_ad=False)
    seen["batched forward without forward"] = _verdict(torch.autograd.gradcheck, lambda a: a * 2, (x,),
                                                       check_batched_forward_grad=True)
    seen["batched without backward"] = _verdict(torch.autograd.gradcheck, lambda a: a * 2, (x,),
                                                check_batched_grad=True, check_forward_ad=True,
                                                check_backward_ad=False)
    seen["grad dtypes without backward"] = _verdict(torch.autograd.gradcheck, lambda a: a * 2, (x,),
                                                    check_forward_ad=True, check_backward_ad=False,
                                                    check_grad_dtypes=True)
    seen["batched forward"] = _verdict(torch.autograd.gradcheck, lambda a, b: (a.sin() * b).cumsum(0), (x, y),
                                       check_forward_ad=True, check_batched_forward_grad=True)
    return seen


_FORWARD_MISMATCH = "Jacobian computed with forward mode mismatch for output {} with respect to input {},"
FORWARD_EXPECTED = {
    **{(name, mode, *shape): True for name in ("right", "right two outputs") for mode in ("slow", "fast")
       for shape in ((), ("matrices",))},
    **{(name, mode, *shape): _FORWARD_MISMATCH.format(output, input_)
       for name, output, input_ in (("wrong for input 0", 0, 0), ("wrong for input 2", 0, 1),
                                    ("slightly off", 0, 0), ("wrong second output", 1, 1))
       for mode in ("slow", "fast") for shape in ((), ("matrices",))},
    **{("slightly off", mode, tolerance): True for mode in ("slow", "fast") for tolerance in ("rtol", "atol")},
    ("coarse eps", "slow"): _FORWARD_MISMATCH.format(0, 0),
    ("coarse eps", "fast"): _FORWARD_MISMATCH.format(0, 0),
    ("wrong for input 0", "slow", "both"): "Jacobian mismatch for output 0 with respect to input 0,",
    ("wrong for input 0", "fast", "both"): "Jacobian mismatch for output 0 with respect to input 0,",
    "forward off, backward off": "Expected at least one of check_forward_ad or check_backward_ad to be True",
    "batched forward without forward": "Setting check_batched_forward_grad=True requires check_forward_ad to be "
    "True",
    "batched without backward": "Setting check_batched_grad=True requires check_backward_ad to be True",
    "grad dtypes without backward": True,
    "batched forward": True,
}


def test_forward_mode_verdicts():
    assert _forward_verdicts(retrograd) == FORWARD_EXPECTED


@needs_torch
def test_forward_mode_verdicts_match_pytorch():
    assert _forward_verdicts(torch) == FORWARD_EXPECTED


def _message(check, function, inputs, **kwargs):
    with pytest.raises(RuntimeError) as error, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(function, inputs, **kwargs)
    return str(error.value)


@pytest.mark.parametrize("forward", [False, True], ids=["backward", "forward"])
def test_fast_mode_failure_shows_projections_and_slow_jacobians(forward):
    """The projected values (fast mode), then both Jacobians and their largest difference."""
    x, y = _inputs(retrograd)
    functions = _forward_functions(retrograd) if forward else _functions(retrograd)
    message = _message(retrograd.autograd.gradcheck, functions["wrong for input 2"], (x, y), fast_mode=True,
                       check_forward_ad=forward, check_backward_ad=not forward)
    head = message.split("\n")
    assert head[0].endswith("mismatch for output 0 with respect to input 1,")
    numerical = head[1].removeprefix("numerical:")
    analytical = head[2].removeprefix("analytical:")
    if forward:  # J u: one value per output element
        assert numerical.startswith("tensor([") and analytical.startswith("tensor([")
    else:  # v^T J u: one number
        assert float(numerical) != float(analytical)
    assert "\nNumerical:\n tensor([[0.3750, 0.0000, 0.0000],\n" in message
    assert "\nAnalytical:\ntensor([[0.3712, 0.0000, 0.0000],\n" in message
    # y's Jacobian is diag(1.5 x**2), 1% off: the largest difference is at x = 2
    difference = float(message.split("The max per-element difference (slow mode) is: ")[1].rstrip(".\n"))
    assert difference == pytest.approx(0.06, rel=1e-6)


def test_forward_mode_failure_shows_both_jacobians():
    x, y = _inputs(retrograd)
    message = _message(retrograd.autograd.gradcheck, _forward_functions(retrograd)["wrong for input 2"], (x, y),
                       check_forward_ad=True, check_backward_ad=False)
    assert message.startswith("Jacobian computed with forward mode mismatch for output 0 with respect to input 1,\n"
                              "numerical:tensor([[0.3750, 0.0000, 0.0000],\n")
    assert "\nanalytical:tensor([[0.3712, 0.0000, 0.0000],\n" in message


@pytest.mark.parametrize(("library", "check"), [
    ("retrograd", "gradcheck"),
    ("retrograd", "gradcheck forward"),
    ("retrograd", "gradgradcheck"),
    pytest.param("torch", "gradcheck", marks=needs_torch),  # its gradgradcheck draws grad_outputs from the global RNG
    pytest.param("torch", "gradcheck forward", marks=needs_torch),
])
def test_fast_mode_is_reproducible(check, library):
    """Fast mode draws its directions from its own fixed generator: the same failure twice reads the same
    (retrograd's gradgradcheck draws its grad_outputs from a fixed generator too)."""
    module = retrograd if library == "retrograd" else torch
    x, y = _inputs(module)
    options = {"fast_mode": True}
    if check == "gradgradcheck":
        function = _functions(module)["wrong second derivative"]
    elif check == "gradcheck forward":
        function = _forward_functions(module)["wrong for input 0"]
        options.update(check_forward_ad=True, check_backward_ad=False)
    else:
        function = _functions(module)["wrong for input 0"]
    check = getattr(module.autograd, check.split()[0])
    assert _message(check, function, (x, y), **options) == _message(check, function, (x, y), **options)


def _fast_mode_verdicts(torch):
    """Wrong Jacobians that one random direction of the wrong kind would miss."""

    class Swapped(torch.autograd.Function):
        """The identity, whose backward hands every element the gradient of its mirror image: the error
        P - I has zero row and column sums, invisible to all-ones directions."""

        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            return grad.flip(0)

    class OffByAtol(torch.autograd.Function):
        """2x whose backward and jvp are off by 9e-6 in every diagonal element: within atol=1e-5
        elementwise, so within fast mode's tolerance too (scaled by the directions' sizes)."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * (2 + 9e-6)

        @staticmethod
        def jvp(ctx, tangent):
            return tangent * (2 + 9e-6)

    class SwappedTangent(torch.autograd.Function):
        """The identity, whose jvp mirrors the tangent: J u is wrong unless u is symmetric."""

        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            return grad

        @staticmethod
        def jvp(ctx, tangent):
            return tangent.flip(0)

    x = torch.tensor([0.5, -1.25, 2.0, 0.25, 1.0, -0.75, 3.0, 0.1], dtype=torch.float64, requires_grad=True)
    matrix = torch.tensor([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], dtype=torch.float64, requires_grad=True)
    one = torch.tensor([-1.0], dtype=torch.float64, requires_grad=True)
    seen = {}
    for mode in ("slow", "fast"):
        fast = mode == "fast"
        seen["swapped", mode] = _verdict(torch.autograd.gradcheck, Swapped.apply, (x,), fast_mode=fast)
        seen["within atol", mode] = _verdict(torch.autograd.gradcheck, OffByAtol.apply, (x,), rtol=0,
                                             fast_mode=fast)
        seen["beyond atol", mode] = _verdict(torch.autograd.gradcheck, OffByAtol.apply, (x,), rtol=0, atol=1e-7,
                                             fast_mode=fast)
        # 30 times atol in every diagonal element: directions of both signs would let the errors cancel
        seen["30 times atol", mode] = _verdict(torch.autograd.gradcheck, OffByAtol.apply, (x,), rtol=0, atol=3e-7,
                                               fast_mode=fast)
        for name, function in (("swapped", SwappedTangent.apply), ("within atol", OffByAtol.apply)):
            seen[name, mode, "forward"] = _verdict(torch.autograd.gradcheck, function, (x,), rtol=0,
                                                   fast_mode=fast, check_forward_ad=True, check_backward_ad=False)
        seen["beyond atol", mode, "forward"] = _verdict(torch.autograd.gradcheck, OffByAtol.apply, (x,), rtol=0,
                                                        atol=1e-7, fast_mode=fast, check_forward_ad=True,
                                                        check_backward_ad=False)
        seen["constant output", mode, "forward"] = _verdict(
            torch.autograd.gradcheck, lambda a: (a * 2, torch.ones(2, dtype=torch.float64)), (x,), fast_mode=fast,
            check_forward_ad=True)
        seen["matrices", mode] = _verdict(torch.autograd.gradcheck, lambda a: (a * a).t() @ a, (matrix,),
                                          fast_mode=fast)
        seen["NaN Jacobian", mode] = _verdict(torch.autograd.gradcheck, lambda a: a.sqrt(), (one,),
                                              fast_mode=fast)
        seen["NaN Jacobian", mode, "forward"] = _verdict(torch.autograd.gradcheck, lambda a: a.sqrt(), (one,),
                                                         fast_mode=fast, check_forward_ad=True,
                                                         check_backward_ad=False)
        for name in ("slightly off", "wrong second output"):
            seen[name, mode, "rtol"] = _verdict(torch.autograd.gradcheck, _functions(torch)[name], _inputs(torch),
                                                rtol=0.6, fast_mode=fast)
            seen[name, mode, "atol"] = _verdict(torch.autograd.gradcheck, _functions(torch)[name], _inputs(torch),
                                                atol=0.6, fast_mode=fast)
    seen["number and integer outputs"] = _verdict(torch.autograd.gradcheck, lambda a: (a * 2, a.argmax()), (x,))
    return seen


FAST_MODE_EXPECTED = {
    **{("swapped", mode): "Jacobian mismatch for output 0 with respect to input 0," for mode in ("slow", "fast")},
    **{("within atol", mode): True for mode in ("slow", "fast")},
    **{("within atol", mode, "forward"): True for mode in ("slow", "fast")},
    **{("constant output", mode, "forward"): True for mode in ("slow", "fast")},
    **{(name, mode, "forward"): _FORWARD_MISMATCH.format(0, 0) for mode in ("slow", "fast")
       for name in ("swapped", "beyond atol")},
    **{(name, mode): "Jacobian mismatch for output 0 with respect to input 0," for mode in ("slow", "fast")
       for name in ("beyond atol", "30 times atol")},
    **{("matrices", mode): True for mode in ("slow", "fast")},
    **{("NaN Jacobian", mode): "Jacobian mismatch for output 0 with respect to input 0," for mode in ("slow", "fast")},
    **{("NaN Jacobian", mode, "forward"): _FORWARD_MISMATCH.format(0, 0) for mode in ("slow", "fast")},
    **{("slightly off", mode, tolerance): True for mode in ("slow", "fast") for tolerance in ("rtol", "atol")},
    **{("wrong second output", mode, tolerance): True for mode in ("slow", "fast") for tolerance in ("rtol", "atol")},
    "number and integer outputs": True,
}


def test_fast_mode_verdicts():
    assert _fast_mode_verdicts(retrograd) == FAST_MODE_EXPECTED


@needs_torch
def test_fast_mode_verdicts_match_pytorch():
    assert _fast_mode_verdicts(torch) == FAST_MODE_EXPECTED


def _gradgrad_verdicts(torch):
    import random

    class Jittery(torch.autograd.Function):
        """2g whose backward changes a little from call to call."""

        @staticmethod
        def forward(ctx, grad):
            return grad * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * (2 + random.random() * 1e-7)

    class JitterySecond(torch.autograd.Function):
        """2x: right first derivative, whose own derivative (by the output gradient) is nondeterministic."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return Jittery.apply(grad)

    class SlightlyOffSecond(torch.autograd.Function):
        """x**3 with the right first derivative whose derivative is 0.5% off."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            fixed = x.detach()
            return grad * 3 * (x * x * 1.005 - fixed * fixed * 0.005)

    class DetachesGrad(torch.autograd.Function):
        """x**2 whose backward treats the output gradient as a constant."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad.detach() * 2 * x

    class TwiceXTimesGrad(torch.autograd.Function):
        """(grad, x) -> 2 x grad, with a right jvp and a backward wrong for x."""

        @staticmethod
        def forward(ctx, grad, x):
            ctx.save_for_backward(grad, x)
            ctx.save_for_forward(grad, x)
            return 2 * x * grad

        @staticmethod
        def backward(ctx, out_grad):
            grad, x = ctx.saved_tensors
            return 2 * x * out_grad, 3 * grad * out_grad  # should be 2 grad out_grad

        @staticmethod
        def jvp(ctx, grad_tangent, x_tangent):
            grad, x = ctx.saved_tensors
            return 2 * x * grad_tangent + 2 * grad * x_tangent

    class WrongReverseSecond(torch.autograd.Function):
        """x**2: right first derivative, whose derivative is right in forward mode only."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return TwiceXTimesGrad.apply(grad, x)

        @staticmethod
        def jvp(ctx, tangent):
            (x,) = ctx.saved_tensors
            return 2 * x * tangent

    x, y = _inputs(torch)
    check = torch.autograd.gradgradcheck
    seen = {
        "nondeterministic": _verdict(check, JitterySecond.apply, (x,)),
        "nondeterministic, tolerated": _verdict(check, JitterySecond.apply, (x,), nondet_tol=1e-5),
        "slightly off": _verdict(check, SlightlyOffSecond.apply, (x,)),
        "slightly off, rtol": _verdict(check, SlightlyOffSecond.apply, (x,), rtol=0.02),
        "slightly off, atol": _verdict(check, SlightlyOffSecond.apply, (x,), atol=0.2),
        "coarse eps": _verdict(check, lambda a: a**4, (x,), eps=0.1),
        "fine eps": _verdict(check, lambda a: a**4, (x,)),
        "detached grad_output": _verdict(check, DetachesGrad.apply, (x,)),
        "unused input": _verdict(check, lambda a, b: a * a, (x, y)),
        "number input": _verdict(check, lambda a, k: a * a * k, (x, 3.0)),
        "forward over reverse": _verdict(check, lambda a, b: (a * b).sin(), (x, y), check_fwd_over_rev=True),
        "forward over reverse only": _verdict(check, lambda a, b: (a * b).sin(), (x, y), check_fwd_over_rev=True,
                                              check_rev_over_rev=False, check_undefined_grad=False),
        "neither": _verdict(check, lambda a: a * a, (x,), check_rev_over_rev=False),
        "undefined without reverse": _verdict(check, lambda a: a * a, (x,), check_fwd_over_rev=True,
                                              check_rev_over_rev=False),
        "batched without reverse": _verdict(check, lambda a: a * a, (x,), check_fwd_over_rev=True,
                                            check_rev_over_rev=False, check_undefined_grad=False,
                                            check_batched_grad=True),
    }
    for fast in (None, False, True):  # None: the default
        options = {} if fast is None else {"fast_mode": fast}
        message = _message(check, _functions(torch)["wrong second derivative"], (x, y), **options)
        seen["fast-mode note", fast] = "computed \nin fast mode" in message
    seen["reverse-mode second derivative wrong"] = _verdict(check, WrongReverseSecond.apply, (x,))
    seen["reverse-mode second derivative wrong, forward over reverse only"] = _verdict(
        check, WrongReverseSecond.apply, (x,), check_fwd_over_rev=True, check_rev_over_rev=False,
        check_undefined_grad=False)
    return seen


GRADGRAD_EXPECTED = {
    "nondeterministic": "Backward is not reentrant, i.e., running backward with same input and grad_output multiple "
    "times gives different values, although analytical gradient matches numerical gradient.The tolerance for "
    "nondeterminism was 0.0.",
    "nondeterministic, tolerated": True,
    "slightly off": "Jacobian mismatch for output 0 with respect to input 0,",
    "slightly off, rtol": True,
    "slightly off, atol": True,
    "coarse eps": "Jacobian mismatch for output 0 with respect to input 0,",
    "fine eps": True,
    "detached grad_output": "Jacobian mismatch for output 0 with respect to input 1,",
    "unused input": True,
    "number input": True,
    "forward over reverse": True,
    "forward over reverse only": True,
    "neither": "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True",
    "undefined without reverse": "Setting check_undefined_grad=True requires check_rev_over_rev to be True",
    "batched without reverse": "Setting check_batched_grad=True requires check_rev_over_rev to be True",
    ("fast-mode note", None): False,
    ("fast-mode note", False): False,
    ("fast-mode note", True): True,
    "reverse-mode second derivative wrong": "Jacobian mismatch for output 0 with respect to input 0,",
    "reverse-mode second derivative wrong, forward over reverse only": True,
}


def test_gradgradcheck_options():
    assert _gradgrad_verdicts(retrograd) == GRADGRAD_EXPECTED


@needs_torch
def test_gradgradcheck_options_match_pytorch():
    assert _gradgrad_verdicts(torch) == GRADGRAD_EXPECTED


def _pair_with_fragile_double_backward():
    """x * y whose backward is a Function of two outputs (the two gradients) whose own backward
    cannot take an undefined gradient for one of them."""

    class Gradients(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, grad, x, y):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(grad, x, y)
            return grad * y, grad * x

        @staticmethod
        def backward(ctx, grad_gx, grad_gy):
            grad, x, y = ctx.saved_tensors
            return grad_gx * y + grad_gy * x, grad_gy * grad, grad_gx * grad  # TypeError on None

    class Product(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return Gradients.apply(grad, x, y)

    return Product.apply


def test_gradgradcheck_checks_undefined_output_grads_of_the_backward():
    x, y = _inputs(retrograd)
    function = _pair_with_fragile_double_backward()
    assert retrograd.autograd.gradcheck(function, (x, y))
    with pytest.raises(RuntimeError, match="^Expected backward function to handle undefined output grads"):
        retrograd.autograd.gradgradcheck(function, (x, y))
    with pytest.raises(TypeError):  # not checked: the Jacobian check meets the undefined gradient
        retrograd.autograd.gradgradcheck(function, (x, y), check_undefined_grad=False)


def test_undefined_output_grads_are_checked_after_an_output_that_needs_no_gradient():
    class Fragile(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, first, second):
            return first * 2 + second * 3

    x, _ = _inputs(retrograd)
    constant = retrograd.ones(2, dtype=retrograd.float64)
    with pytest.raises(RuntimeError, match="^Expected backward function to handle undefined output grads"):
        retrograd.autograd.gradcheck(lambda a: (constant, *Fragile.apply(a)), (x,))


def _dtype_strict(seen):
    """x * 2, x * 3 in the input's dtype, whose backward and jvp record the dtype of what they receive."""

    class Strict(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, first, second):
            seen.update(str(g.dtype) for g in (first, second))
            return first * 2 + second * 3

        @staticmethod
        def jvp(ctx, tangent):
            seen.add(str(tangent.dtype))
            return tangent * 2, tangent * 3

    return Strict.apply


def test_output_gradients_and_tangents_have_the_outputs_dtype():
    """gradcheck hands backward float32 output gradients and jvp float32 tangents for float32 tensors."""
    seen = set()
    x = retrograd.tensor([0.5, -1.25, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert retrograd.autograd.gradcheck(_dtype_strict(seen), (x,), eps=1e-2, atol=1e-2, rtol=1e-2,
                                            check_forward_ad=True, check_batched_grad=True,
                                            check_batched_forward_grad=True)
    assert seen == {"retrograd.float32"}


def test_only_inputs_not_in_double_precision_warn_where_gradcheck_is_called():
    x64, _ = _inputs(retrograd)
    x32 = retrograd.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        retrograd.autograd.gradcheck(lambda a, b: a.sum() * b.sum(), (x64, x32), atol=1e-2, rtol=1e-2, eps=1e-3)
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1 and messages[0].startswith("Input #1 requires gradient")


def test_grad_dtypes_checked_with_an_unused_input():
    x, y = _inputs(retrograd)
    assert retrograd.autograd.gradcheck(lambda a, b: a * 2, (x, y), check_grad_dtypes=True)


@pytest.mark.parametrize("first", ["needs grad", "constant"])
def test_batched_gradients_with_unused_inputs_matrices_and_constant_outputs(first):
    x, y = _inputs(retrograd)
    matrix = retrograd.tensor([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], dtype=retrograd.float64, requires_grad=True)
    constant = retrograd.ones(2, dtype=retrograd.float64)

    def function(a, b):
        out = (a * a).t() @ a
        return (out * 2 if first == "needs grad" else constant), out

    assert retrograd.autograd.gradcheck(function, (matrix, y), check_batched_grad=True)


def _wrong_rows(batched, factor=-1.0):
    """A batched function whose results are those of `batched` times `factor`."""

    def wrong(*args, **kwargs):
        return tuple(None if g is None else g * factor for g in batched(*args, **kwargs))

    return wrong


@pytest.mark.parametrize("first", ["needs grad", "constant"])
def test_check_batched_grad_checks_every_output(first, monkeypatch):
    from retrograd.autograd import _batched

    x, _ = _inputs(retrograd)
    constant = retrograd.ones(2, dtype=retrograd.float64)

    def function(a):
        return (a.exp() if first == "needs grad" else constant), a * a

    assert retrograd.autograd.gradcheck(function, (x,), check_batched_grad=True)
    original = _batched.batched_backward
    calls = []

    def wrong_after_first(*args, **kwargs):
        calls.append(1)
        grads = original(*args, **kwargs)
        return grads if first == "needs grad" and len(calls) == 1 else _wrong_rows(lambda: grads)()

    monkeypatch.setattr(_batched, "batched_backward", wrong_after_first)
    with pytest.raises(RuntimeError, match="While computing batched gradients, got a wrong result for output 1"):
        retrograd.autograd.gradcheck(function, (x,), check_batched_grad=True)


@pytest.mark.parametrize(("factor", "caught"), [(-1.0, True), (1 + 1e-3, True), (1 + 1e-7, False)])
@pytest.mark.parametrize("wrong_input", [0, 1])
def test_check_batched_forward_grad_catches_wrong_batched_tangents(factor, caught, wrong_input, monkeypatch):
    """Compared as torch.allclose compares them (rtol 1e-5, atol 1e-8), one input at a time."""
    from retrograd.autograd import _batched

    x, y = _inputs(retrograd)
    matrix = retrograd.tensor([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]], dtype=retrograd.float64, requires_grad=True)

    def function(a, k, b):
        return (a.sin() * b).t() * k, a.sum() * b

    inputs = (matrix, 3.0, y * 1)
    assert retrograd.autograd.gradcheck(function, inputs, check_forward_ad=True, check_batched_forward_grad=True)
    original = _batched.batched_jvp
    calls = []

    def wrong_for_one_input(*args, **kwargs):
        calls.append(1)
        products = original(*args, **kwargs)
        return _wrong_rows(lambda: products, factor)() if len(calls) == wrong_input + 1 else products

    monkeypatch.setattr(_batched, "batched_jvp", wrong_for_one_input)
    assert retrograd.autograd.gradcheck(function, inputs, check_forward_ad=True)  # not asked for
    calls.clear()
    if not caught:
        assert retrograd.autograd.gradcheck(function, inputs, check_forward_ad=True, check_batched_forward_grad=True)
        return
    with pytest.raises(RuntimeError, match="While computing batched gradients, got: Batched forward-mode gradient "
                       f"does not match the unbatched one for output 0 and input {2 * wrong_input}$"):
        retrograd.autograd.gradcheck(function, inputs, check_forward_ad=True, check_batched_forward_grad=True)


def test_outputs_that_are_not_tensors_are_left_out():
    """retrograd's gradcheck skips a function's outputs that are not tensors (PyTorch's raises
    AttributeError reading their requires_grad)."""
    x, _ = _inputs(retrograd)
    assert retrograd.autograd.gradcheck(lambda a: (a * 2, 3, None), (x,), fast_mode=True)
    assert retrograd.autograd.gradgradcheck(lambda a: (a * a, "label"), (x,))
