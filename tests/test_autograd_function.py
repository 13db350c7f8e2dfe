"""Custom autograd.Function: forward/backward, ctx features, errors, double backward."""

from __future__ import annotations

import pytest

import retrograd as torch
from retrograd.autograd import Function, gradcheck, gradgradcheck
from retrograd.autograd.function import once_differentiable


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class ScaledProduct(Function):
    """a * b * scale, with a Python number among the arguments."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
        grad_b = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


def _double(shape=(3,)):
    return torch.tensor([0.5, -1.2, 2.0][: shape[0]], dtype=torch.float64, requires_grad=True)


def test_apply_records_a_node_named_after_the_class():
    x = torch.tensor(2.0, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    assert repr(y) == "tensor(8., grad_fn=<CubeBackward>)"
    y.backward()
    assert x.grad.item() == 12.0


def test_gradients_match_finite_differences():
    a, b = _double(), _double() * 1
    b = b.detach().requires_grad_()
    assert gradcheck(lambda a, b: ScaledProduct.apply(a, b, 1.5), (a, b))


def test_double_backward_through_a_differentiable_backward():
    x = torch.tensor(2.0, requires_grad=True)
    (first,) = torch.autograd.grad(Cube.apply(x), x, create_graph=True)
    (second,) = torch.autograd.grad(first, x)
    assert (first.item(), second.item()) == (12.0, 12.0)
    assert gradgradcheck(Cube.apply, (_double(),))


def test_needs_input_grad_and_arbitrary_ctx_attributes():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.note = "kept"
            return a * b

        @staticmethod
        def backward(ctx, grad):
            seen["needs"] = ctx.needs_input_grad
            seen["note"] = ctx.note
            return grad, None

    Probe.apply(torch.ones(2, requires_grad=True), torch.ones(2)).sum().backward()
    assert seen == {"needs": (True, False), "note": "kept"}


def test_no_graph_when_no_input_requires_grad():
    y = Cube.apply(torch.ones(2))
    assert not y.requires_grad and y.grad_fn is None


def test_forward_runs_without_recording():
    inside = []

    class Look(Function):
        @staticmethod
        def forward(ctx, x):
            inside.append(torch.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    Look.apply(torch.ones(1, requires_grad=True))
    assert inside == [False]


def test_saved_tensors_are_version_checked():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2)
    y = ScaledProduct.apply(a, b, 1.0)
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_saved_tensors_are_freed_after_backward():
    x = torch.tensor(2.0, requires_grad=True)
    y = Cube.apply(x)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_saving_the_output_creates_no_reference_cycle():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

    assert gradcheck(Exp.apply, (_double(),))
    assert gradgradcheck(Exp.apply, (_double(),))


def test_setup_context_style():
    class Scale(Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, None

    x = torch.ones(2, requires_grad=True)
    y = Scale.apply(x, 3.0)
    assert y.grad_fn.name() == "ScaleBackward"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_mark_dirty_gives_the_input_the_history():
    class DoubleInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    leaf = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        DoubleInPlace.apply(leaf)
    copy = leaf.clone()
    result = DoubleInPlace.apply(copy)
    assert result is copy and copy.grad_fn.name() == "DoubleInPlaceBackward"
    assert copy._version == 2
    copy.sum().backward()
    assert leaf.grad.tolist() == [2.0, 2.0]


def test_mark_non_differentiable_outputs_get_zero_gradients():
    received = []

    class WithMask(Function):
        @staticmethod
        def forward(ctx, x):
            mask = (x * 0).sum()
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        @staticmethod
        def backward(ctx, grad, grad_mask):
            received.append(grad_mask.item())
            return grad * 2

    values, mask = WithMask.apply(torch.ones(2, requires_grad=True))
    assert not mask.requires_grad and values.requires_grad
    values.sum().backward()
    assert received == [0.0]


def test_set_materialize_grads_false_passes_none():
    received = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, first, second):
            received.append(second)
            return first * 2

    first, _ = Two.apply(torch.ones(2, requires_grad=True))
    first.sum().backward()
    assert received == [None]


def test_wrong_number_of_gradients_raises():
    class Short(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = torch.ones(3, requires_grad=True)
    expected = r"function ShortBackward returned an incorrect number of gradients \(expected 2, got 1\)"
    with pytest.raises(RuntimeError, match=expected):
        Short.apply(a, a).sum().backward()


def test_extra_none_gradients_are_accepted():
    class Extra(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None

    a = torch.ones(2, requires_grad=True)
    Extra.apply(a).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_wrong_gradient_shape_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.view(6, 1)

    expected = (
        r"Function BadBackward returned an invalid gradient at index 0 - got \[6, 1\] but "
        r"expected shape compatible with \[2, 3\]"
    )
    with pytest.raises(RuntimeError, match=expected):
        Bad.apply(torch.ones(2, 3, requires_grad=True)).sum().backward()


def test_once_differentiable_refuses_a_second_derivative():
    class Square(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a**2

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 2 * a * grad

    x = torch.tensor(3.0, requires_grad=True)
    (first,) = torch.autograd.grad(
        Square.apply(x), x, grad_outputs=torch.tensor(1.0, requires_grad=True), create_graph=True
    )
    assert first.item() == 6.0
    expected = "trying to differentiate twice a function that was marked with @once_differentiable"
    with pytest.raises(RuntimeError, match=expected):
        first.backward()


def test_returning_an_input_gives_a_new_tensor_with_history():
    class Identity(Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = torch.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn.name() == "IdentityBackward"
    assert x.is_leaf and x.grad_fn is None


def test_hooks_and_anomaly_work_on_custom_nodes():
    x = torch.tensor(2.0, requires_grad=True)
    y = Cube.apply(x)
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 0,))
    y.backward()
    assert x.grad.item() == 0.0


def test_matches_pytorch_for_a_custom_function():
    real = pytest.importorskip("torch")

    def run(m):
        class Softplus(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return (x.exp() + 1).log()

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * (1 - 1 / (x.exp() + 1))

        x = m.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        y = Softplus.apply(x)
        (first,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (second,) = m.autograd.grad(first.sum(), x)
        return y.tolist(), first.tolist(), second.tolist()

    for ours, theirs in zip(run(torch), run(real), strict=True):
        assert ours == pytest.approx(theirs, rel=1e-6)


# -- checks PyTorch makes on a custom Function (issue 12) ------------------------


def test_needs_input_grad_is_known_inside_forward():
    seen = []

    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, factor):
            seen.append(ctx.needs_input_grad)
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return grad, None, None

    x = torch.ones(2, requires_grad=True)
    Scale.apply(x, torch.ones(2), 3.0)
    with torch.no_grad():
        Scale.apply(x, torch.ones(2), 3.0)
    assert seen == [(True, False, False), (True, False, False)]


class _DirtyNotReturned(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        return grad


@pytest.mark.parametrize("requires_grad", [True, False])
def test_marking_dirty_a_tensor_that_is_not_returned_raises(requires_grad):
    x = torch.ones(2, requires_grad=requires_grad)
    with pytest.raises(RuntimeError, match="marked as dirty during the forward method were not returned"):
        _DirtyNotReturned.apply(x * 1)


def test_returning_a_modified_view_of_an_input_raises():
    class ModifiedView(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            view = x[0:1]
            view.mul_(2)
            ctx.mark_dirty(view)
            return view

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        ModifiedView.apply(x * 1)


def test_marking_dirty_a_new_tensor_warns():
    class New(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x * 2
            ctx.mark_dirty(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = torch.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="received a tensor that was not an input"):
        New.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


class _SavesANumber(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x, 3)
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_saving_a_number_for_backward_raises_type_error():
    with pytest.raises(TypeError, match="save_for_backward can only save variables, but argument 1 is of type int"):
        _SavesANumber.apply(torch.ones(2, requires_grad=True))
    _SavesANumber.apply(torch.ones(2))  # nothing is recorded, nothing is checked (as PyTorch)


@pytest.mark.parametrize(("returned", "message"), [
    (lambda grad: (1, None), "expected Variable or None \\(got int\\)"),
    (lambda grad: (1.5, None), "expected Variable or None \\(got float\\)"),
    (lambda grad: (grad, 5), "returned a gradient different than None at position 2, but the "
                             "corresponding forward input was not a Variable"),
])
def test_backward_returning_what_is_not_a_gradient_raises(returned, message):
    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor=2):
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return returned(grad)

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        Bad.apply(x, 2).sum().backward()
