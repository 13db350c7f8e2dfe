"""Custom `autograd.Function` edge by edge, against PyTorch (found by mutation testing).

Each scenario runs on retrograd and, when installed, on PyTorch, and returns plain data
(gradients as lists, flags, messages) that must agree; the expected values are PyTorch's.
"""

from __future__ import annotations

import gc
import sys
import warnings
import weakref

import pytest

import retrograd
from crosscheck import needs_torch, torch


def _scale_two(torch):
    class ScaleTwo(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor, y):
            ctx.save_for_backward(x, None, y)
            ctx.factor = factor
            return x * factor, y * 2

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            x, nothing, y = ctx.saved_tensors
            seen.append((list(ctx.needs_input_grad), nothing is None,
                         grad_first is None, grad_second is None))
            first = grad_first * ctx.factor if ctx.needs_input_grad[0] else None
            second = grad_second * 2 if ctx.needs_input_grad[2] else None
            return first, None, second

    seen = []
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([3.0], requires_grad=True)
    plain = torch.tensor([3.0])
    first, second = ScaleTwo.apply(x, 3.0, y)
    first.sum().backward()  # the second output gets no gradient: zeros are passed
    first, second = ScaleTwo.apply(x, 3.0, plain)
    (first.sum() * 2).backward()
    out, untouched = ScaleTwo.apply(plain, 3.0, plain)
    return {
        "seen": seen,
        "x grad": x.grad.tolist(),
        "y grad": y.grad.tolist(),
        "second requires grad": second.requires_grad,
        "no graph": (out.requires_grad, out.grad_fn is None, untouched.grad_fn is None),
        "name": type(first.grad_fn).__name__,
    }


def _materialize(torch):
    class Pair(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            seen.append((grad_first is None, grad_second is None))
            return grad_first if grad_second is None else grad_first + grad_second

    seen = []
    x = torch.tensor([1.0], requires_grad=True)
    first, _ = Pair.apply(x)
    first.backward()
    return seen, x.grad.tolist()


def _non_differentiable(torch):
    class SortWithIndices(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            mask = x > 1
            ctx.mark_non_differentiable(indices, mask)
            ctx.save_for_backward(indices)
            return values, indices, mask, x

        @staticmethod
        def backward(ctx, grad_values, grad_indices, grad_mask, grad_x):
            (indices,) = ctx.saved_tensors
            grad = torch.zeros_like(grad_values)
            grad[indices] = grad_values
            seen.append((grad_indices is None, grad_mask is None, grad_x is None))
            return grad + grad_x

    seen = []
    x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices, mask, same = SortWithIndices.apply(x)
    (values * torch.tensor([1.0, 10.0, 100.0])).sum().backward(retain_graph=True)
    return {
        "flags": [(t.requires_grad, t.grad_fn is None) for t in (values, indices, mask, same)],
        "same is x": same is x,
        "same is leaf": same.is_leaf,
        "grad": x.grad.tolist(),
        "seen": seen,
    }


def _returns_input(torch):
    class Identity(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x, y

        @staticmethod
        def backward(ctx, grad_x, grad_y):
            return grad_x * 2, grad_y * 3

    x = torch.tensor([1.0], requires_grad=True)
    y = torch.tensor([1.0])
    out_x, out_y = Identity.apply(x, y)
    out_x.backward()
    return {
        "x is new": out_x is not x,
        "x flags": (out_x.requires_grad, out_x.grad_fn is not None, out_x.is_leaf),
        "y": (out_y is y, out_y.requires_grad, out_y.grad_fn is not None),
        "grad": x.grad.tolist(),
        "shares version": out_x._version == x._version,
    }


def _dirty(torch):
    class AddOneInPlace(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    leaf = torch.tensor([1.0], requires_grad=True)
    base = leaf * 1
    version = base._version
    out = AddOneInPlace.apply(base)
    out.backward()
    messages = []
    try:
        AddOneInPlace.apply(torch.tensor([1.0], requires_grad=True))
    except RuntimeError as error:
        messages.append(str(error))
    return {
        "same": out is base,
        "version bumped": base._version > version,
        "value": out.tolist(),
        "grad": leaf.grad.tolist(),
        "messages": messages,
        "name": type(out.grad_fn).__name__,
    }


def _errors(torch):
    class Good(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    class SavesANumber(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 2

    class NoForward(torch.autograd.Function):
        pass

    class NoBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    messages = {}
    x = torch.tensor([1.0], requires_grad=True)
    attempts = {
        "number saved": lambda: SavesANumber.apply(x),
        "no forward": lambda: NoForward.apply(x),
        "no backward": lambda: NoBackward.apply(x).sum().backward(),
        "instance call": lambda: Good()(x),
    }
    for name, attempt in attempts.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                attempt()
            except (RuntimeError, TypeError, NotImplementedError) as error:
                messages[name] = (type(error).__name__, str(error))
        messages[name + " warnings"] = [
            (warning.category.__name__, str(warning.message).split(" should not")[1].split("itself.")[0])
            for warning in caught
            if "should not be instantiated" in str(warning.message)
        ]
    return messages


def _once(torch):
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            seen.append(torch.is_grad_enabled())
            return 2 * x * grad

    seen = []
    x = torch.tensor([3.0], requires_grad=True)
    weight = torch.ones(1, requires_grad=True)  # a gradient that itself requires grad
    (grad,) = torch.autograd.grad(Square.apply(x), x, grad_outputs=weight, create_graph=True)
    flags = (grad.requires_grad, grad.tolist())
    try:
        grad.backward()
        message = None
    except RuntimeError as error:
        message = str(error)
    (plain,) = torch.autograd.grad(Square.apply(x), x)
    return {"seen": seen, "flags": flags, "message": message, "plain": (plain.requires_grad, plain.tolist()),
            "name": Square.backward.__name__}


def _setup_context(torch):
    class Mul(torch.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y = inputs
            ctx.save_for_backward(x, y, output)

        @staticmethod
        def backward(ctx, grad):
            x, y, output = ctx.saved_tensors
            return grad * y, grad * x

    x = torch.tensor([2.0], requires_grad=True)
    y = torch.tensor([5.0], requires_grad=True)
    out = Mul.apply(x, y)
    out.backward()
    return x.grad.tolist(), y.grad.tolist(), out.tolist()


def _integer_output(torch):
    class Count(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x > 0).sum(), x * 1

        @staticmethod
        def backward(ctx, grad_count, grad):
            return grad

    x = torch.tensor([1.0, -1.0], requires_grad=True)
    count, copy = Count.apply(x)
    return count.requires_grad, count.grad_fn is None, copy.requires_grad


SCENARIOS = [_scale_two, _materialize, _non_differentiable, _returns_input, _dirty, _errors, _once,
             _setup_context, _integer_output]


def test_gradients_needs_input_grad_and_saved_none():
    seen = _scale_two(retrograd)
    assert seen == {
        "seen": [([True, False, True], True, False, False), ([True, False, False], True, False, False)],
        "x grad": [9.0, 9.0],
        "y grad": [0.0],
        "second requires grad": True,
        "no graph": (False, True, True),
        "name": "ScaleTwoBackward",
    }


def test_set_materialize_grads_false_passes_none():
    assert _materialize(retrograd) == ([(False, True)], [1.0])


def test_non_differentiable_outputs():
    seen = _non_differentiable(retrograd)
    assert seen["flags"] == [(True, False), (False, True), (False, True), (True, False)]
    assert seen["grad"] == [100.0, 1.0, 10.0]
    assert seen["seen"] == [(False, False, False)]
    assert not seen["same is x"] and not seen["same is leaf"]


def test_an_input_returned_as_is_gets_a_new_tensor_with_history():
    assert _returns_input(retrograd) == {
        "x is new": True,
        "x flags": (True, True, False),
        "y": (False, True, True),
        "grad": [2.0],
        "shares version": True,
    }


def test_mark_dirty():
    seen = _dirty(retrograd)
    assert seen["same"] and seen["version bumped"] and seen["value"] == [2.0] and seen["grad"] == [5.0]
    assert seen["messages"] == ["a leaf Variable that requires grad has been used in an in-place operation."]


def test_errors():
    seen = _errors(retrograd)
    assert seen["number saved"] == (
        "TypeError", "save_for_backward can only save variables, but argument 1 is of type int"
    )
    assert seen["no forward"] == (
        "NotImplementedError", "You must implement the forward function for custom autograd.Function."
    )
    assert seen["no backward"] == (
        "NotImplementedError",
        "You must implement either the backward or vjp method for your custom autograd.Function to use it "
        "with backward mode AD.",
    )
    assert seen["instance call"][0] == "RuntimeError"
    assert seen["instance call"][1].startswith(
        "Legacy autograd function with non-static forward method is deprecated. Please use new-style "
        "autograd function with static forward method. (Example: https://pytorch.org/docs/stable/"
        "autograd.html#torch.autograd.Function)"
    )
    assert seen["instance call warnings"] == [
        ("DeprecationWarning", " be instantiated. Methods on autograd functions are all static, so you should "
         "invoke them on the class ")
    ]


def _instantiation_warning(torch) -> str:
    class Good(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

    with pytest.warns(DeprecationWarning) as record:
        Good()
    return str(record[0].message).split(" should not be instantiated.")[1]


def test_instantiating_a_function_warns_as_pytorch_does():
    assert _instantiation_warning(retrograd) == (
        " Methods on autograd functions are all static, so you should invoke them on the class itself. "
        "Instantiating an autograd function will raise an error in a future version of retrograd."
    )


@needs_torch
def test_instantiating_a_function_warns_with_pytorchs_words():
    assert _instantiation_warning(torch).replace("PyTorch", "retrograd") == _instantiation_warning(retrograd)


def test_once_differentiable():
    assert _once(retrograd) == {
        "seen": [False, False],
        "flags": (True, [6.0]),
        "message": "trying to differentiate twice a function that was marked with @once_differentiable",
        "plain": (False, [6.0]),
        "name": "backward",
    }


def test_setup_context_style():
    assert _setup_context(retrograd) == ([5.0], [2.0], [10.0])


def test_integer_outputs_never_require_grad():
    assert _integer_output(retrograd) == (False, True, True)


def _node_apply_results(torch):
    """What grad_fn.apply returns: backward's own return value, unchecked and unfilled."""

    def function(returned, name="Op", method="backward"):
        def backward(ctx, grad):
            return returned(grad)

        return type(name, (torch.autograd.Function,), {
            "forward": staticmethod(lambda ctx, x: x * 3), method: staticmethod(backward)})

    x = torch.tensor([1.0], requires_grad=True)
    cases = {
        "single": lambda grad: grad * 3,
        "one-tuple": lambda grad: (grad * 3,),
        "extra Nones": lambda grad: (grad * 3, None, None),
        "list": lambda grad: [grad * 3],
        "None": lambda grad: None,
        "not a tensor": lambda grad: 5,
    }
    seen = {}
    for name, returned in cases.items():
        result = function(returned).apply(x).grad_fn.apply(torch.tensor([2.0]))
        seen[name] = _described(result)
    seen["vjp"] = _described(function(lambda grad: grad * 3, method="vjp").apply(x).grad_fn.apply(
        torch.tensor([2.0])))
    return seen


def _described(value):
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_described(item) for item in value])
    return value.tolist() if hasattr(value, "tolist") and not isinstance(value, int) else value


NODE_APPLY_RESULTS = {
    "single": [6.0],
    "one-tuple": ("tuple", [[6.0]]),
    "extra Nones": ("tuple", [[6.0], None, None]),
    "list": ("list", [[6.0]]),
    "None": None,
    "not a tensor": 5,
    "vjp": [6.0],
}


def test_node_apply_returns_what_backward_returns():
    assert _node_apply_results(retrograd) == NODE_APPLY_RESULTS


@needs_torch
def test_node_apply_returns_what_backward_returns_in_pytorch():
    assert _node_apply_results(torch) == NODE_APPLY_RESULTS


def _vjp_functions(torch):
    """A Function may define `vjp` instead of `backward`; defining both is refused."""

    class OnlyVjp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def vjp(ctx, grad):
            return grad * 3

    class Both(OnlyVjp):
        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = torch.tensor([1.0], requires_grad=True)
    OnlyVjp.apply(x).backward()
    try:
        Both.apply(x).backward()
    except RuntimeError as error:
        return x.grad.tolist(), str(error)
    return x.grad.tolist(), None


VJP_FUNCTIONS = ([3.0], "Implementing both 'backward' and 'vjp' for a custom Function is not allowed. "
                 "You should only implement one of them.")


def test_a_function_may_define_vjp_instead_of_backward():
    assert _vjp_functions(retrograd) == VJP_FUNCTIONS


@needs_torch
def test_a_function_may_define_vjp_instead_of_backward_in_pytorch():
    assert _vjp_functions(torch) == VJP_FUNCTIONS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.__name__.strip("_") for scenario in SCENARIOS])
def test_scenario_matches_pytorch(scenario):
    real = pytest.importorskip("torch")
    assert scenario(retrograd) == scenario(real)


def _checks(torch):
    """The refusals of what forward and backward return, and of a few defaults."""

    def make(forward, backward, **extra):
        return type("Op", (torch.autograd.Function,), {
            "forward": staticmethod(forward), "backward": staticmethod(backward), **extra})

    def dirty_not_returned(ctx, x, y):
        x.add_(1)
        ctx.mark_dirty(x)
        return y * 2, y * 3

    def plain_forward(ctx, x, k):
        return x * k

    x = torch.tensor([1.0], requires_grad=True)
    seen = {}
    attempts = {
        "dirty not returned": lambda: make(dirty_not_returned, lambda ctx, a, b: (a, b)).apply(
            x.clone(), torch.ones(1)),
        "grad for a number": lambda: make(plain_forward, lambda ctx, g: (None, g)).apply(x, 2.0).sum().backward(),
        "not a tensor": lambda: make(plain_forward, lambda ctx, g: (2.0, None)).apply(x, 2.0).sum().backward(),
        "too many": lambda: make(plain_forward, lambda ctx, g: (g, None, g)).apply(x, 2.0).sum().backward(),
        "setup_context": lambda: torch.autograd.Function.setup_context(None, (), None),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
            seen[name] = None
        except (RuntimeError, NotImplementedError) as error:
            seen[name] = (type(error).__name__, str(error))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch warns here too
        seen["inplace default"] = torch.autograd.function.InplaceFunction().inplace

    class TwoOutputs(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.set_materialize_grads(False)
            ctx.set_materialize_grads(True)
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, first, second):
            seen["materialized"] = (second is not None and second.dtype == a.dtype and second.tolist() == [0.0])
            return first * 2

    a = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    TwoOutputs.apply(a)[0].sum().backward()

    class Pair(torch.autograd.Function):
        @staticmethod
        def forward(ctx, p, q):
            return p * q

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad):
            return grad * 2, None

    p = torch.tensor([1.0], requires_grad=True)
    q = torch.tensor([2.0], requires_grad=True)
    weight = torch.ones(1, requires_grad=True)
    grads = torch.autograd.grad(Pair.apply(p, q), (p, q), grad_outputs=weight, create_graph=True,
                                allow_unused=True)
    seen["once, two inputs"] = [(g.requires_grad, g.tolist()) if g is not None else None for g in grads]
    try:
        grads[0].sum().backward()
    except RuntimeError as error:
        seen["once, two inputs, twice"] = str(error)
    return seen


def test_checks_of_what_forward_and_backward_return():
    seen = _checks(retrograd)
    assert seen["dirty not returned"] == (
        "RuntimeError", "Some elements marked as dirty during the forward method were not returned as output. "
        "The inputs that are modified inplace must all be outputs of the Function.")
    assert seen["grad for a number"] == (
        "RuntimeError", "function OpBackward returned a gradient different than None at position 2, but the "
        "corresponding forward input was not a Variable")
    assert seen["setup_context"] == ("NotImplementedError", "setup_context is not implemented.")
    assert seen["inplace default"] is False
    assert seen["materialized"] is True
    assert seen["once, two inputs"] == [(True, [2.0]), None]
    assert seen["once, two inputs, twice"] == (
        "trying to differentiate twice a function that was marked with @once_differentiable"
    )


def test_checks_match_pytorch():
    real = pytest.importorskip("torch")
    assert _checks(retrograd) == _checks(real)


def test_the_instantiation_warning_names_the_class():
    class Named(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

    with pytest.warns(DeprecationWarning) as record:
        Named()
    assert str(record[0].message).startswith("<class '")
    assert "Named'> should not be instantiated." in str(record[0].message)


def _saving(torch):
    """Outputs and inputs saved for backward, plain and through saved-tensor hooks."""
    seen = {}

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, unused):
            result = x.exp()
            ctx.save_for_backward(result, None, x)
            return result

        @staticmethod
        def backward(ctx, grad):
            result, nothing, x = ctx.saved_tensors
            seen.setdefault("saved", []).append((nothing is None, result.tolist() == x.exp().tolist()))
            return grad * result, None

    class ExpContext(torch.autograd.Function):
        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

    x = torch.tensor([0.0, 1.0], requires_grad=True)
    plain = torch.tensor([1.0])
    out = Exp.apply(x, plain)
    seen["next"] = [(None if fn is None else type(fn).__name__, number) for fn, number in out.grad_fn.next_functions]
    out.sum().backward()
    seen["grad"] = [round(value, 5) for value in x.grad.tolist()]
    y = torch.tensor([0.0, 1.0], requires_grad=True)
    ExpContext.apply(y).sum().backward()
    seen["setup_context grad"] = [round(value, 5) for value in y.grad.tolist()]
    modified = Exp.apply(x, plain)
    modified.add_(1)
    try:
        modified.sum().backward()
    except RuntimeError as error:
        seen["modified output"] = "modified by an inplace operation" in str(error)
    packed = []

    def pack(tensor):
        packed.append([round(value, 5) for value in tensor.tolist()])
        return ("box", tensor.clone())

    def unpack(box):
        packed.append("unpack")
        return box[1]

    z = torch.tensor([0.0, 2.0], requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        hooked = Exp.apply(z, plain)
    hooked.sum().backward()
    seen["packed"] = packed
    seen["hooked grad"] = [round(value, 4) for value in z.grad.tolist()]
    return seen


def _returned_inputs(torch):
    seen = {}

    class Passes(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, mask):
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        @staticmethod
        def backward(ctx, grad, grad_mask):
            return grad * 2, None

    x = torch.tensor([1.0], requires_grad=True)
    mask = torch.tensor([0.5], requires_grad=True)
    out, same_mask = Passes.apply(x, mask)
    seen["mask"] = (same_mask is mask, same_mask.requires_grad, same_mask.grad_fn is None,
                    same_mask.tolist())

    class DirtyOutsider(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            other = x * 2
            ctx.mark_dirty(other)
            return other

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            DirtyOutsider.apply(x)
        except RuntimeError as error:
            seen["outsider error"] = str(error)
    seen["outsider warnings"] = [str(warning.message).split(" (Triggered internally")[0] for warning in caught
                                 if "mark_dirty" in str(warning.message)]
    return seen


def test_saved_outputs_inputs_and_hooks():
    seen = _saving(retrograd)
    assert seen["next"] == [("AccumulateGrad", 0), (None, 0)]
    assert seen["saved"] == [(True, True), (True, True)]
    assert seen["grad"] == [1.0, 2.71828]
    assert seen["setup_context grad"] == [1.0, 2.71828]
    assert seen["modified output"] is True
    assert seen["packed"][:2] == [[1.0, 7.38906], [0.0, 2.0]]
    assert seen["packed"][2:] == ["unpack", "unpack"]
    assert seen["hooked grad"] == [1.0, 7.3891]


def test_returned_inputs_and_dirty_outsiders():
    seen = _returned_inputs(retrograd)
    assert seen["mask"] == (False, False, True, [0.5])
    assert seen["outsider warnings"] == [
        "ctx.mark_dirty() received a tensor that was not an input. Only input Tensors that have been mutated "
        "should be passed to ctx.mark_dirty()."
    ]


def test_saving_and_returned_inputs_match_pytorch():
    real = pytest.importorskip("torch")
    assert _saving(retrograd) == _saving(real)
    assert _returned_inputs(retrograd) == _returned_inputs(real)


# ---------------------------------------------------------------------------
# Corners found by the second mutation run: keyword arguments, dirty tensors of every kind,
# outputs that are not tensors or are inputs, materialized gradients' dtype, the node's repr,
# saved outputs and reference cycles, and what once_differentiable and anomaly mode attach.


def _corners(torch):
    seen = {}

    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale=1.0):
            return x * scale

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    class ScaleSetup(torch.autograd.Function):
        @staticmethod
        def forward(x, scale=1.0):
            return x * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    seen["keywords"] = (Scale.apply(x, scale=3.0).tolist(), ScaleSetup.apply(x, scale=3.0).tolist())

    class DirtyFirst(torch.autograd.Function):
        """Modifies its first input in place and returns it in a tuple."""

        @staticmethod
        def forward(ctx, a, b):
            a.mul_(2)
            ctx.mark_dirty(a)
            return a, b * 2

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a * 2, grad_b * 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = DirtyFirst.apply(x.detach().clone().requires_grad_() * 1, x)
    seen["dirty in a tuple"] = (first.tolist(), second.tolist(), type(first.grad_fn).__name__)
    seen["dirty input warns"] = [str(warning.message)[:40] for warning in caught]

    class AddOne(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            a.add_(1)
            ctx.mark_dirty(a)
            return a

        @staticmethod
        def backward(ctx, grad):
            return grad

    class AddOneNonDifferentiable(AddOne):
        @staticmethod
        def forward(ctx, a):
            a.add_(1)
            ctx.mark_dirty(a)
            ctx.mark_non_differentiable(a)
            return a

    class MarkOnly(AddOne):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a

    leaf = torch.tensor([1.0], requires_grad=True)
    recorded, non_differentiable, marked = leaf * 1, leaf * 1, leaf * 1
    plain, integer = torch.tensor([1.0]), torch.tensor([1, 2])
    AddOne.apply(recorded)
    AddOneNonDifferentiable.apply(non_differentiable)
    MarkOnly.apply(marked)
    AddOne.apply(plain)  # nothing requires grad: no graph is recorded, the version still counts
    same_integer = MarkOnly.apply(integer)
    seen["dirty versions"] = [t._version for t in (recorded, non_differentiable, marked, plain, integer)]
    seen["dirty integer returned as is"] = same_integer is integer

    class NumberFirst(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return 3, a * 2

        @staticmethod
        def backward(ctx, grad_number, grad):
            return grad * 2

    number, doubled = NumberFirst.apply(x)
    seen["number output"] = (number, doubled.requires_grad, type(doubled.grad_fn).__name__)

    class Identity(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, grad):
            return grad

    base = x * 1
    same = Identity.apply(base)
    with torch.no_grad():
        base.add_(1)  # the returned tensor shares the input's data and version counter
    seen["returned input after an in-place change"] = (same._version, base._version, same.tolist())

    class TwoOutputs(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            seen["materialized"] = (str(grad_second.dtype).split(".")[-1], grad_second.tolist())
            return grad_first * 2 + grad_second * 3

    TwoOutputs.apply(x)[0].sum().backward()
    node = TwoOutputs.apply(x)[0].grad_fn
    seen["repr"] = repr(node) == f"<{torch.__name__}.autograd.function.TwoOutputsBackward object at {id(node):#x}>"

    class SavesItsOutput(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            first, second = a * 2, a * 3
            ctx.save_for_backward(second)
            return first, second

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            (second,) = ctx.saved_tensors
            return grad_first * 2 + grad_second * second

    gc.disable()
    try:
        first, second = SavesItsOutput.apply(x)
        alive = weakref.ref(second)
        del first, second
        seen["a saved output makes no reference cycle"] = alive() is None
    finally:
        gc.enable()
    first, second = SavesItsOutput.apply(x)
    second.add_(1)
    try:
        (first.sum() + second.sum()).backward()
    except RuntimeError as error:
        seen["modified saved output"] = "which is output 1 of" in str(error)

    class OnceSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 2 * a * grad

    weight = torch.ones(2, requires_grad=True)
    (grad,) = torch.autograd.grad(OnceSquare.apply(x), x, grad_outputs=weight, create_graph=True)
    seen["once_differentiable result"] = (grad._version, grad.tolist())
    return seen


CORNERS = {
    "keywords": ([3.0, 6.0], [3.0, 6.0]),
    "dirty in a tuple": ([2.0, 4.0], [2.0, 4.0], "DirtyFirstBackward"),
    "dirty input warns": [],
    "dirty versions": [2, 2, 1, 2, 1],
    "dirty integer returned as is": True,
    "number output": (3, True, "NumberFirstBackward"),
    "returned input after an in-place change": (1, 1, [2.0, 3.0]),
    "materialized": ("float32", [0.0, 0.0]),
    "repr": True,
    "a saved output makes no reference cycle": True,
    "modified saved output": True,
    "once_differentiable result": (0, [2.0, 4.0]),
}


def test_corners():
    assert _corners(retrograd) == CORNERS


@needs_torch
def test_corners_match_pytorch():
    assert _corners(torch) == CORNERS


def test_a_modified_saved_output_is_named_as_pytorch_names_it():
    class Two(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            first, second = a * 2, a * 3
            ctx.save_for_backward(second)
            return first, second

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            (second,) = ctx.saved_tensors
            return grad_first * 2 + grad_second * second

    first, second = Two.apply(retrograd.tensor([1.0, 2.0], requires_grad=True))
    second.add_(1)
    with pytest.raises(RuntimeError, match=r"which is output 1 of Two, is at version 1"):
        (first.sum() + second.sum()).backward()


def _modified_output_names(torch) -> list[str]:
    """The in-place error drops one trailing `Backward<n>` from a custom node's name."""
    names = []
    for class_name in ("Doubled", "StepBackward7"):
        function = type(class_name, (torch.autograd.Function,), {
            "forward": staticmethod(lambda ctx, x: x * 2),
            "backward": staticmethod(lambda ctx, grad: grad * 2)})
        out = function.apply(torch.tensor([1.0], requires_grad=True))
        product = out * out
        with torch.no_grad():
            out.add_(1)
        message = _message(product.sum().backward)
        names.append(message.split("which is output 0 of ")[1].split(",")[0])
    return names


def test_a_custom_nodes_name_in_the_in_place_error():
    assert _modified_output_names(retrograd) == ["Doubled", "StepBackward7"]


@needs_torch
def test_a_custom_nodes_name_in_the_in_place_error_in_pytorch():
    assert _modified_output_names(torch) == ["Doubled", "StepBackward7"]


def _message(action) -> str:
    try:
        action()
    except RuntimeError as error:
        return str(error)
    return ""


def test_anomaly_mode_reports_where_a_custom_function_was_called():
    class Fails(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("backward failed")

    x = retrograd.tensor([1.0], requires_grad=True)
    with retrograd.autograd.detect_anomaly():
        out = Fails.apply(x)  # the line the report must name
        line = sys._getframe().f_lineno - 1
        with pytest.warns(UserWarning, match="Error detected in FailsBackward. Traceback of forward call") as record, \
                pytest.raises(ValueError, match="backward failed"):
            out.sum().backward()
    report = next(str(w.message) for w in record if "Traceback of forward call" in str(w.message))
    assert f'File "{__file__}", line {line}' in report
