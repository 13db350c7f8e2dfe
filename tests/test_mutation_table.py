"""The op table and the op runner (ops/_table.py): registering, checking arguments, recording.

Written from the survivors of mutation testing (`python3 -m tools.mutation table`, see
docs/mutation.md). `register` and its argument checks run when an op module is imported, so
the tests here register toy ops of their own (and take them away again), besides checking the
real ops against PyTorch.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import Tensor
from retrograd.ops._batching.tensor import BatchedTensor, batched_attached
from retrograd.ops._formula import Formula
from retrograd.ops._saved_shown import formula_value
from retrograd.ops._table import OUTPUT, NotATensorError, apply, attached, output, register, table


def _error(call):
    try:
        call()
    except Exception as error:
        kind = "TypeError" if isinstance(error, TypeError) else type(error).__name__
        return f"{kind}: {error}".replace("torch", "LIB").replace("retrograd", "LIB")
    return None


@contextlib.contextmanager
def _registered(function, name=None, **options):
    """Register `function` as a toy op for the block, then take it and its methods away."""
    op_name = name or function.__name__
    methods = options.get("methods", ())
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    added = [*methods, *([options["inplace"]] if options.get("inplace") else [])]
    assert op_name not in table and not any(hasattr(Tensor, method) for method in added)
    try:
        yield register(name, **options)(function)
    finally:
        table.pop(op_name, None)
        for method in added:
            attached.pop(method, None)
            if method in Tensor.__dict__:
                delattr(Tensor, method)
            batched_attached.pop(method, None)  # and BatchedTensor's (Note [Where BatchedTensor methods come from])
            if method in BatchedTensor.__dict__:
                delattr(BatchedTensor, method)


class _ToyDoubleBackward0(Formula):
    @staticmethod
    def forward(self):
        return self._data * 2

    derivatives = {"self": lambda grad: grad * 2}  # noqa: RUF012


def _toy_double(input, other=None):
    """Twice the input.

    (a second line, not in the table)
    """
    doubled = apply(_ToyDoubleBackward0, input)
    return doubled if other is None else doubled + other


def test_register_fills_the_table_and_attaches_the_methods():
    with _registered(_toy_double, "toy.toy_double", methods=("toy_double", "__toyop__", "__neg_toy__"),
                     inplace="toy_double_", differentiable=False, torch_name=None) as public:
        info = table["toy.toy_double"]
        assert info.name == "toy.toy_double" and info.function is public
        assert info.methods == ("toy_double", "__toyop__", "__neg_toy__")
        assert (info.inplace, info.mutates_input, info.differentiable) == ("toy_double_", False, False)
        assert info.second_order is False  # not differentiable: no second order either
        assert info.torch_name == "toy.toy_double"
        assert info.gradcheck_wrapper is None
        assert info.doc == "Twice the input."
        assert info.signature == "toy.toy_double(input, other=None)"
        x = retrograd.tensor([1.0, 2.0], requires_grad=True)
        assert x.toy_double().tolist() == [2.0, 4.0]
        assert Tensor.__toyop__(x, 3).tolist() == [5.0, 7.0]  # a number is an operand
        assert Tensor.__toyop__(x, "a") is NotImplemented
        assert Tensor.__toyop__(x, [1]) is NotImplemented
        assert Tensor.__toyop__(x, np.float64(1.0)).tolist() == [3.0, 5.0]  # a number, by its ABC
        assert Tensor.__toyop__(x, x).tolist() == [3.0, 6.0]
        assert Tensor.__toyop__.__name__ == "__toyop__" and "Twice" in Tensor.__toyop__.__doc__
        plain = x.detach().clone()
        assert plain.toy_double_() is plain and plain.tolist() == [2.0, 4.0] and plain._version == 1
        assert plain.toy_double_(1.0).tolist() == [5.0, 9.0]
        assert plain.toy_double_(other=-1.0).tolist() == [9.0, 17.0] and plain._version == 3
        assert Tensor.toy_double_.__name__ == "toy_double_"
        assert Tensor.toy_double_.__doc__ == "In-place `_toy_double`: writes the result into self."
    assert "toy.toy_double" not in table and not hasattr(Tensor, "toy_double")

    with _registered(_toy_double, methods="toy_twice", second_order=False, torch_name="special.twice"):
        info = table["_toy_double"]
        assert info.methods == ("toy_twice",) and info.torch_name == "special.twice"
        assert (info.differentiable, info.second_order, info.inplace) == (True, False, None)
        x = retrograd.tensor([1.0], requires_grad=True)
        (g,) = retrograd.autograd.grad(x.toy_twice().sum(), x)
        assert g.tolist() == [2.0]


def test_unary_operators_are_methods_not_binary_operators():
    def toy_unary(input):
        return apply(_ToyDoubleBackward0, input)

    saved, saved_entry = Tensor.__dict__["__pos__"], attached.pop("__pos__")
    try:
        register("toy_unary", methods="__pos__")(toy_unary)
        x = retrograd.tensor([1.0, 3.0])
        assert (+x).tolist() == [2.0, 6.0]
    finally:
        table.pop("toy_unary", None)
        attached["__pos__"] = saved_entry
        Tensor.__pos__ = saved
    assert (+retrograd.tensor([1.0])).tolist() == [1.0]


def test_a_registered_op_without_a_docstring_has_an_empty_doc():
    def toy_nodoc(input):
        return apply(_ToyDoubleBackward0, input)

    def wrapper(op):
        return op

    with _registered(toy_nodoc) as toy:
        info = table["toy_nodoc"]
        assert info.doc == ""
        assert (info.differentiable, info.second_order, info.mutates_input) == (True, True, False)
        assert toy(retrograd.tensor([1, 2])).tolist() == [2, 4]  # not floating unless asked
    with _registered(toy_nodoc, mutates_input=True, gradcheck_wrapper=wrapper):
        info = table["toy_nodoc"]
        assert info.mutates_input is True and info.gradcheck_wrapper is wrapper


def _toy_floating(input, other=None, *, dtype=None):
    """A floating-point op of its first argument."""
    if dtype is not None:
        input = input.to(dtype)
    return apply(_ToyDoubleBackward0, input)


def test_floating_ops_refuse_integers_before_running():
    with _registered(_toy_floating, floating=True) as toy:
        message = "NotImplementedError: \"_toy_floating\" not implemented for 'Long'"
        integers = retrograd.tensor([1, 2])
        assert _error(lambda: toy(integers)) == message
        assert integers.tolist() == [1, 2] and integers._version == 0
        assert toy(integers, dtype=retrograd.float32).tolist() == [2.0, 4.0]  # dtype= casts first
        assert _error(lambda: toy(integers, None, dtype=None)) == message
        assert toy(retrograd.tensor([1.0])).tolist() == [2.0]
        assert _error(lambda: toy(retrograd.tensor([True]))) == (
            "NotImplementedError: \"_toy_floating\" not implemented for 'Bool'")
        assert _error(lambda: toy(input=integers)) == message
    with _registered(_toy_floating, floating=("input", "other")) as toy:
        # an integer and a floating tensor promote to floating: accepted
        assert toy(retrograd.tensor([1, 2]), retrograd.tensor([1.0])).tolist() == [2, 4]
        assert toy(retrograd.tensor([1, 2]), other=retrograd.tensor([1.0])).tolist() == [2, 4]
        assert _error(lambda: toy(retrograd.tensor([1]), retrograd.tensor([2], dtype=retrograd.int32))) == (
            "NotImplementedError: \"_toy_floating\" not implemented for 'Long'")
        assert _error(lambda: toy(retrograd.tensor([1]), 2.5)) == (
            "NotImplementedError: \"_toy_floating\" not implemented for 'Long'")


def _toy_norm(input, weight=None, bias=None):
    """One dtype for all."""
    total = input * 1
    for extra in (weight, bias):
        if extra is not None:
            total = total + extra
    return total


def test_same_dtype_ops_refuse_mixed_dtypes():
    with _registered(_toy_norm, same_dtype=("input", "weight", "bias")) as toy:
        x = retrograd.ones(2)
        assert toy(x, retrograd.ones(2), bias=retrograd.ones(2)).tolist() == [3.0, 3.0]
        assert toy(x, None, 2.0).tolist() == [3.0, 3.0]
        mixed = ("RuntimeError: expected scalar type Float but found Double (mixed dtype: the tensors of "
                 "this op must have one dtype)")
        assert _error(lambda: toy(x, retrograd.ones(2, dtype=retrograd.float64))) == mixed
        assert _error(lambda: toy(x, retrograd.ones(2), bias=retrograd.ones(2, dtype=retrograd.float64))) \
            == mixed
        assert _error(lambda: toy(x, bias=retrograd.ones(2, dtype=retrograd.float64))) == mixed
    with _registered(lambda tensors: tensors[0] * 1, "toy_stack", same_dtype=("tensors",)) as toy:
        assert toy([retrograd.ones(1), retrograd.ones(1)]).tolist() == [1.0]
        assert _error(lambda: toy([retrograd.ones(1), retrograd.ones(1, dtype=retrograd.float64)])) == (
            "RuntimeError: expected scalar type Float but found Double (mixed dtype: the tensors of "
            "this op must have one dtype)")


def _toy_running(input, running=None, weight=None, training=True):
    """Updates `running` (a statistic) when training."""
    if training and running is not None:
        with retrograd.no_grad():
            running.add_(1)
    if running is not None and running.shape != input.shape:
        raise RuntimeError("running has the wrong shape")
    return input * 2


def test_not_differentiable_arguments_may_not_require_grad():
    with _registered(_toy_running, not_differentiable=("running", "weight")) as toy:
        x = retrograd.ones(2, requires_grad=True)
        running = retrograd.zeros(2, requires_grad=True)
        refused = ("RuntimeError: The function '_toy_running' is not differentiable with respect to "
                   "argument 'running'. This input cannot have requires_grad True.")
        assert _error(lambda: toy(x, running)) == refused
        assert running.tolist() == [0.0, 0.0]  # the trial run updated a copy
        assert _error(lambda: toy(x, running=running)) == refused
        assert _error(lambda: toy(x, retrograd.zeros(3, requires_grad=True))) == (
            "RuntimeError: running has the wrong shape")  # the op's own checks come first
        assert _error(lambda: toy(x, None, retrograd.ones(2, requires_grad=True))) == refused.replace(
            "'running'", "'weight'")
        assert _error(lambda: toy(x, None, weight=retrograd.ones(2, requires_grad=True))) == \
            refused.replace("'running'", "'weight'")
        plain = retrograd.zeros(2)
        assert toy(x, plain).tolist() == [2.0, 2.0] and plain.tolist() == [1.0, 1.0]
        with retrograd.no_grad():
            assert toy(x, running).tolist() == [2.0, 2.0]
        assert running.tolist() == [1.0, 1.0]


def _toy_index(input, dim=0, index=None):
    """Indexes a shape with `dim`."""
    size = input.shape[dim]
    return input * size


def _toy_sum(tensors, scale=1.0):
    """Sums a list of tensors."""
    total = tensors[0] * scale
    for tensor in tensors[1:]:
        total = total + tensor.exp()
    return total


def _toy_numbers(input, other):
    return retrograd.tensor(np.add(input._data, other._data.reshape(other._data.size, 1)[:, 0] * 0 + np.ones(3)))


def test_failures_are_explained_as_pytorch_does():
    with _registered(_toy_index) as toy:
        assert toy(retrograd.ones(2, 3), 1).tolist() == [[3.0] * 3] * 2
        assert _error(lambda: toy(retrograd.ones(2, 3), 2)) == (
            "IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 2)")
        assert _error(lambda: toy(retrograd.ones(2, 3), dim=-3)) == (
            "IndexError: Dimension out of range (expected to be in range of [-2, 1], but got -3)")
        assert _error(lambda: toy(retrograd.tensor(1.0), 1)).startswith("IndexError: Dimension out of range "
                                                                      "(expected to be in range of [-1, 0]")
        assert _error(lambda: toy("text", 0)) == (
            "TypeError: _toy_index(): argument 'input' (position 1) must be Tensor, not str")
        assert isinstance(_raised(lambda: toy("text", 0)), NotATensorError)
        assert isinstance(_raised(lambda: toy("text", 0)), AttributeError)
        assert _error(lambda: toy(retrograd.ones(2), 0, 1, 2)).startswith("TypeError: ")  # bind fails as is
        assert _error(lambda: toy([1.0, 2.0], 5)).startswith("TypeError: _toy_index(): argument 'input'")
    with _registered(_toy_sum) as toy:
        assert toy([retrograd.zeros(1), retrograd.zeros(1)]).tolist() == [1.0]
        assert _error(lambda: toy([retrograd.zeros(1), "a"])) == (
            "TypeError: expected Tensor as element 1 in argument 0, but got str")
        assert _error(lambda: toy((retrograd.zeros(1), 3))) == (
            "TypeError: expected Tensor as element 1 in argument 0, but got int")
        assert _error(lambda: toy([retrograd.zeros(1)], scale="x")).startswith("TypeError: ")
    with _registered(lambda input, other: input + other.exp(), "toy_pair") as toy:
        assert _error(lambda: toy(retrograd.ones(1), "s")) == (
            "TypeError: toy_pair(): argument 'other' (position 2) must be Tensor, not str")
        assert toy(retrograd.ones(1), retrograd.zeros(1)).tolist() == [2.0]
        assert toy(2.0, retrograd.zeros(1)).tolist() == [3.0]  # a number where a tensor may be
    with _registered(lambda input: np.ones(2) + np.ones(3), "toy_shapes") as toy:
        message = _error(lambda: toy(retrograd.ones(1)))
        assert message.startswith("RuntimeError: toy_shapes(): the sizes of the tensors do not fit: "
                                  "operands could not be broadcast")
        assert isinstance(_raised(lambda: toy(retrograd.ones(1))).__cause__, ValueError)
    with _registered(lambda input: np.linalg.inv(np.zeros((2, 2))), "toy_inverse") as toy:
        error = _raised(lambda: toy(retrograd.ones(1)))
        assert type(error).__name__ == "LinAlgError" and isinstance(error, RuntimeError)
        assert str(error).startswith("linalg.toy_inverse: The algorithm failed to converge (")
        assert str(error).endswith("); the input matrix may contain non-finite values.")
        assert isinstance(error.__cause__, np.linalg.LinAlgError)
    with _registered(lambda input: (_ for _ in ()).throw(ValueError("other")), "toy_value") as toy:
        assert _error(lambda: toy(retrograd.ones(1))) == "ValueError: other"


def _raised(call):
    try:
        call()
    except Exception as error:
        return error
    return None


# ---------------------------------------------------------------------------
# Real ops against PyTorch


def _checks(t):
    functional = t.nn.functional
    weight = t.ones(3, requires_grad=True)
    result = {
        "not a tensor": _error(lambda: functional.elu("a")),
        "integer input": _error(lambda: functional.elu(t.tensor([1, 2]))).replace("elu_cpu", "elu"),
        "integer input with dtype": functional.softmax(t.tensor([1.0, 1.0]).long(), 0,
                                                       dtype=t.float32).tolist(),
        "element of a list": _error(lambda: t.cat([t.ones(1), "a"])),
        "dim": _error(lambda: t.ones(2, 3).sum(dim=5)),
        "negative dim": _error(lambda: t.softmax(t.ones(2, 3), dim=-3)),
        "weight requiring grad": _error(lambda: functional.nll_loss(
            t.zeros(2, 3, requires_grad=True), t.tensor([0, 1]), weight=weight)).replace(
            "nll_loss_forward", "nll_loss"),
        "broadcast": _error(lambda: t.ones(2, 3) + t.ones(4)),
        "other operand": _error(lambda: [1] + t.ones(2)),  # noqa: RUF005
    }
    with t.no_grad():
        result["weight requiring grad under no_grad"] = functional.nll_loss(
            t.zeros(2, 3), t.tensor([0, 1]), weight=weight).item()
    return result


CHECKS = {
    "not a tensor": "TypeError: elu(): argument 'input' (position 1) must be Tensor, not str",
    "integer input": "NotImplementedError: \"elu\" not implemented for 'Long'",
    "integer input with dtype": [0.5, 0.5],
    "element of a list": "TypeError: expected Tensor as element 1 in argument 0, but got str",
    "dim": "IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 5)",
    "negative dim": "IndexError: Dimension out of range (expected to be in range of [-2, 1], but got -3)",
    "weight requiring grad": "RuntimeError: The function 'nll_loss' is not differentiable with respect "
    "to argument 'weight'. This input cannot have requires_grad True.",
    "broadcast": "RuntimeError: The size of tensor a (3) must match the size of tensor b (4) at "
    "non-singleton dimension 1",
    "other operand": "TypeError: can only concatenate list (not \"Tensor\") to list",
    "weight requiring grad under no_grad": -0.0,
}


def _recording(t):
    x = t.tensor([[1.0, 5.0], [4.0, 2.0]], requires_grad=True)
    values, indices = x.max(0)
    parts = x.unbind(0)
    view = x[0]
    with t.no_grad():
        plain_view = x[1]
        plain_values, plain_indices = x.max(0)
    frozen = t.tensor([[1.0, 2.0]])
    no_graph = frozen * 2
    with t.inference_mode():
        inference = t.ones(2, 2)
    return {
        "max": (values.requires_grad, indices.requires_grad, indices.grad_fn, values.output_nr,
                type(values.grad_fn).__name__),
        "unbind": ([part.output_nr for part in parts], [part._base is x for part in parts],
                   [part._version for part in parts]),
        "view": (view._base is x, view.requires_grad, type(view.grad_fn).__name__),
        "view under no_grad": (plain_view._base is x, plain_view.grad_fn),
        "max under no_grad": (plain_values.requires_grad, plain_indices.tolist()),
        "no input requires grad": (no_graph.requires_grad, no_graph.grad_fn, no_graph._base),
        "an inference tensor saved": _error(lambda: t.einsum("ij,jk->ik", x, inference)),
        "an inference tensor not saved": _error(lambda: t.cat([x, inference])),
    }


RECORDING = {
    "max": (True, False, None, 0, "MaxBackward0"),
    "unbind": ([0, 1], [True, True], [0, 0]),
    "view": (True, True, "SelectBackward0"),
    "view under no_grad": (True, None),
    "max under no_grad": (False, [1, 0]),
    "no input requires grad": (False, None, None),
    "an inference tensor saved": "RuntimeError: Inference tensors cannot be saved for backward. Please do "
    "not use Tensors created in inference mode in computation tracked by autograd. To work around this, "
    "you can make a clone to get a normal tensor and use it in autograd, or use `LIB.no_grad()` instead "
    "of `LIB.inference_mode()`.",
    "an inference tensor not saved": None,
}


SCENARIOS = {_checks: CHECKS, _recording: RECORDING}
_IDS = [scenario.__name__.strip("_") for scenario in SCENARIOS]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_IDS)
def test_scenario(scenario):
    assert scenario(retrograd) == SCENARIOS[scenario]


@needs_torch
@pytest.mark.parametrize("scenario", SCENARIOS, ids=_IDS)
def test_scenario_matches_pytorch(scenario):
    assert scenario(retrograd) == scenario(torch)


def test_output_markers():
    assert output(0) is OUTPUT
    assert repr(OUTPUT) == "OUTPUT" and repr(output(2)) == "output(2)"
    assert output(1).index == 1


def test_a_view_taken_under_no_grad_requires_grad_as_its_base():
    x = retrograd.ones(2, requires_grad=True)
    with retrograd.no_grad():
        view = x[1]
    assert view.requires_grad and view.grad_fn is None and view.is_leaf


@needs_torch
def test_a_view_taken_under_no_grad_requires_grad_as_its_base_in_pytorch():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        view = x[1]
    assert view.requires_grad and view.grad_fn is None and view.is_leaf


def test_argument_checks_of_toy_ops_in_every_corner():
    def toy_constant():
        """No parameter at all."""
        return retrograd.ones(1)

    with _registered(toy_constant) as toy:
        assert toy().tolist() == [1.0]
    with _registered(_toy_index, "toy.namespaced") as toy:
        assert _error(lambda: toy("text", 0)) == (
            "TypeError: namespaced(): argument 'input' (position 1) must be Tensor, not str")

    def toy_later(tensors, other):
        return tensors[0] + other.exp()

    with _registered(toy_later) as toy:
        assert _error(lambda: toy([retrograd.ones(1)], "s")) == (
            "TypeError: toy_later(): argument 'other' (position 2) must be Tensor, not str")

    def toy_add(input, other):
        return input + other.exp()

    with _registered(toy_add) as toy:
        assert _error(lambda: toy("a", retrograd.ones(1))) == (
            "TypeError: toy_add(): argument 'input' (position 1) must be Tensor, not str")
        assert _error(lambda: toy(2.0, "s")) == (
            "TypeError: toy_add(): argument 'other' (position 2) must be Tensor, not str")

    def toy_method(input):
        return input.exp()

    with _registered(toy_method) as toy:
        assert _error(lambda: toy(2.0)) == (
            "TypeError: toy_method(): argument 'input' (position 1) must be Tensor, not float")

    def toy_index_error(input, dim=0):
        raise IndexError("boom" if dim != 9 else "Dimension out of range (its own words)")

    with _registered(toy_index_error) as toy:
        x = retrograd.ones(2, 3)
        assert _error(lambda: toy(x, -1)) == "IndexError: boom"
        assert _error(lambda: toy(x, -2)) == "IndexError: boom"
        assert _error(lambda: toy(x, (0, 1))) == "IndexError: boom"
        assert _error(lambda: toy(x, 9)) == "IndexError: Dimension out of range (its own words)"
        assert _error(lambda: toy(x, 2)) == (
            "IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 2)")

    def toy_value_error(input, dim=0):
        raise ValueError("not an index")

    with _registered(toy_value_error) as toy:
        assert _error(lambda: toy(retrograd.ones(2), 5)) == "ValueError: not an index"

    def toy_cast(input, dtype=None):
        return (input.to(dtype) if dtype is not None else input.float()) * 2

    with _registered(toy_cast, floating=True) as toy:
        integers = retrograd.tensor([1, 2])
        assert toy(integers, retrograd.float32).tolist() == [2.0, 4.0]  # dtype given by position
        assert _error(lambda: toy("text")) == (
            "TypeError: toy_cast(): argument 'input' (position 1) must be Tensor, not str")


def test_not_differentiable_keyword_arguments_go_to_the_trial_as_copies():
    def toy_stat(input, *, running=None, scale=1.0):
        """Updates `running` in place."""
        with retrograd.no_grad():
            running.add_(scale)
        return input * 2

    with _registered(toy_stat, not_differentiable=("running",)) as toy:
        running = retrograd.zeros(2, requires_grad=True)
        x = retrograd.ones(2, requires_grad=True)
        assert _error(lambda: toy(x, running=running, scale=5.0)) == (
            "RuntimeError: The function 'toy_stat' is not differentiable with respect to argument "
            "'running'. This input cannot have requires_grad True.")
        assert running.tolist() == [0.0, 0.0]


def test_same_dtype_checks_every_tensor_of_a_list():
    with _registered(lambda input, others: input * 1, "toy_last", same_dtype=("input", "others")) as toy:
        assert _error(lambda: toy(retrograd.ones(1), [2.0, retrograd.ones(1, dtype=retrograd.float64)])) == (
            "RuntimeError: expected scalar type Float but found Double (mixed dtype: the tensors of "
            "this op must have one dtype)")


def test_hand_written_ops_save_their_outputs_through_hooks():
    packed = []
    x = retrograd.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    with retrograd.autograd.graph.saved_tensors_hooks(lambda value: packed.append(value.tolist()) or value,
                                                     lambda value: value):
        d = retrograd.linalg.det(x)
        sign, logabsdet = retrograd.linalg.slogdet(x)
    assert packed == [[[2.0, 1.0], [1.0, 3.0]], 5.0, [[2.0, 1.0], [1.0, 3.0]], 1.6094379425048828]
    assert d.grad_fn._saved_result.item() == 5.0
    (d + logabsdet).backward()
    # det·inv(x)ᵀ + inv(x)ᵀ, with det = 5 and inv(x)ᵀ = [[3, -1], [-1, 2]] / 5
    np.testing.assert_allclose(x.grad.numpy(), [[3.6, -1.2], [-1.2, 2.4]], rtol=1e-5)
    with retrograd.inference_mode():
        frozen = retrograd.ones(2, 2)
    with retrograd.autograd.graph.saved_tensors_hooks(lambda value: value, lambda value: value):
        assert _error(lambda: retrograd.einsum("ij,jk->ik", x, frozen)).startswith(
            "RuntimeError: Inference tensors cannot be saved for backward.")


def _overlaps(t):
    results = []
    for size, written, read in ((4, slice(0, 2), slice(None, None, 2)), (6, slice(0, 3), slice(None, None, 2)),
                                (6, slice(1, 4), slice(0, 3))):
        a = t.arange(float(size))
        results.append(_error(lambda a=a, written=written, read=read: a[written].add_(a[read])) or a.tolist())
    return results


OVERLAPS = [[0.0, 3.0, 2.0, 3.0], [0.0, 3.0, 6.0, 3.0, 4.0, 5.0],
            "RuntimeError: unsupported operation: some elements of the input tensor and the written-to "
            "tensor refer to a single memory location. Please clone() the tensor before performing the "
            "operation."]


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_a_strided_input_overlapping_the_target_is_too_hard_to_tell_and_runs(library):
    """As PyTorch: only dense tensors are compared for partial overlap."""
    assert _overlaps(library) == OVERLAPS


def _hand_written_saving(t):
    x = t.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    d = t.linalg.det(x)
    saved = d.grad_fn._saved_result
    h = x * 1
    changed = t.linalg.det(h)
    h.add_(1)
    y = x * 1
    y.exp_()
    kept = y.grad_fn._saved_result
    return {
        "det result": (saved.item(), saved.output_nr, saved.grad_fn is d.grad_fn),
        "changed input": _error(lambda: changed.backward()),
        "in place result": ([[round(v, 4) for v in row] for row in kept.tolist()], kept.output_nr,
                            kept._version, type(kept.grad_fn).__name__),
    }


HAND_WRITTEN_SAVING = {
    "det result": (5.0, 0, True),
    "changed input": "RuntimeError: one of the variables needed for gradient computation has been modified "
    "by an inplace operation: [LIB.FloatTensor [2, 2]], which is output 0 of Add, is at version 1; expected "
    "version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its "
    "gradient, with LIB.autograd.set_detect_anomaly(True, check_nan=False).",
    "in place result": ([[7.3891, 2.7183], [2.7183, 20.0855]], 0, 1, "ExpBackward0"),
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_what_hand_written_and_in_place_ops_save(library):
    assert _hand_written_saving(library) == HAND_WRITTEN_SAVING


def test_a_later_output_saved_by_a_hand_written_op():
    x = retrograd.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    sign, logabsdet = retrograd.linalg.slogdet(x)
    saved = formula_value(logabsdet.grad_fn, "logabsdet")  # (PyTorch shows `sign`, not this)
    assert saved.output_nr == 1 and abs(saved.item() - np.log(5.0)) < 1e-6
    logabsdet.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.6, -0.2], [-0.2, 0.4]], rtol=1e-5)


def test_hooks_open_in_another_thread_pack_nothing_here():
    import threading

    results = []

    def run():
        x = retrograd.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
        retrograd.linalg.det(x).backward()
        results.append(x.grad.tolist())

    with retrograd.autograd.graph.saved_tensors_hooks(lambda value: 1 / 0, lambda value: value):
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    assert results == [[[3.0, -1.0], [-1.0, 2.0]]]


def test_ops_with_a_batching_rule_or_out_get_them_from_register(monkeypatch):
    """An op listed in FUNCTION_RULES is batched by its rule inside vmap (its methods on batched
    tensors too); an op listed in ACCEPTS_OUT takes `out=`."""
    from retrograd.ops import _batching, _out

    seen = []

    def rule(function, args, kwargs, levels):
        seen.append(len(levels))
        return function(*args, **kwargs)

    def toy_batched(input, other=1.0):
        """Doubles, then adds."""
        return input * 2 + other

    monkeypatch.setitem(_batching.FUNCTION_RULES, "toy_batched", rule)
    monkeypatch.setattr(_out, "ACCEPTS_OUT", _out.ACCEPTS_OUT | {"toy_batched"})
    with _registered(toy_batched, methods=("toy_batched", "__toyb__")) as toy:
        x = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
        assert toy(x).tolist() == [[3.0, 5.0], [7.0, 9.0]] and seen == []
        assert retrograd.vmap(lambda row: toy(row, 0.0))(x).tolist() == [[2.0, 4.0], [6.0, 8.0]]
        assert retrograd.vmap(lambda row: row.toy_batched())(x).tolist() == [[3.0, 5.0], [7.0, 9.0]]
        assert retrograd.vmap(lambda row: row.__toyb__(row))(x).tolist() == [[3.0, 6.0], [9.0, 12.0]]
        assert _batching.BatchedTensor.__toyb__(x, "a") is NotImplemented
        assert len(seen) == 3
        assert x.toy_batched(1.0).tolist() == [[3.0, 5.0], [7.0, 9.0]] and len(seen) == 3
        buffer = retrograd.zeros(2, 2)
        assert toy(x, 0.0, out=buffer) is buffer and buffer.tolist() == [[2.0, 4.0], [6.0, 8.0]]
        assert _error(lambda: toy(retrograd.ones(1, requires_grad=True), out=retrograd.zeros(1))) == (
            "RuntimeError: toy_batched(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad.")
        assert table["toy_batched"].function is toy


def _in_place_refusals(t):
    x = t.ones(2, requires_grad=True)
    return [
        _error(lambda: t.ones(2, 3).add_(t.ones(3, 2, 3))),
        _error(lambda: x.add_(1)),
        _error(lambda: x[0].add_(1)),
    ]


IN_PLACE_REFUSALS = [
    "RuntimeError: output with shape [2, 3] doesn't match the broadcast shape [3, 2, 3]",
    "RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.",
    "RuntimeError: a view of a leaf Variable that requires grad is being used in an in-place operation.",
]


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_in_place_refusals(library):
    assert _in_place_refusals(library) == IN_PLACE_REFUSALS


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_anomaly_mode_records_where_each_node_was_made():
    x = retrograd.tensor([-1.0, 4.0], requires_grad=True)
    forward_nan = r"^Function 'SqrtBackward0' produced nan values in its 0th output during the forward pass"
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), \
            retrograd.autograd.detect_anomaly(check_forward=True), pytest.raises(RuntimeError, match=forward_nan):
        x.sqrt()
    with pytest.warns(UserWarning) as caught, retrograd.autograd.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(RuntimeError, match="returned nan values"):
            y.backward()
    origins = [str(w.message) for w in caught if str(w.message).startswith("Error detected in")]
    assert origins and "y = x.sqrt().sum()" in origins[0]


def _in_place_under_vmap(t):
    x = t.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = t.tensor([[10.0, 20.0], [30.0, 40.0]])
    return {
        "mul_": t.vmap(lambda row: row.clone().mul_(2))(x).tolist(),
        "add_ with a keyword": t.vmap(lambda row, other: row.clone().add_(other, alpha=3))(x, y).tolist(),
        "add_ of an unbatched tensor": t.vmap(lambda row: row.clone().add_(t.ones(2), alpha=2))(x).tolist(),
        "copy_ casts": t.vmap(lambda row, other: row.clone().copy_(other))(x, y.int()).tolist(),
        "zero_": t.vmap(lambda row: row.clone().zero_())(x).tolist(),
        "fill_": t.vmap(lambda row: row.clone().fill_(5))(x).tolist(),
        "an unbatched target": _error(lambda: t.vmap(lambda other: t.zeros(2).add_(other))(y)),
        # zero_ may write an expanded tensor (each of its elements gets the same value)
        "zero_ of an expanded tensor": t.vmap(lambda row: row.zero_())(t.ones(2, 1).expand(2, 3)).tolist(),
    }


IN_PLACE_UNDER_VMAP = {
    "mul_": [[2.0, 4.0], [6.0, 8.0]],
    "add_ with a keyword": [[31.0, 62.0], [93.0, 124.0]],
    "add_ of an unbatched tensor": [[3.0, 4.0], [5.0, 6.0]],
    "copy_ casts": [[10.0, 20.0], [30.0, 40.0]],
    "zero_": [[0.0, 0.0], [0.0, 0.0]],
    "fill_": [[5.0, 5.0], [5.0, 5.0]],
    "an unbatched target": "RuntimeError: output with shape [2] doesn't match the broadcast shape [2, 2]",
    "zero_ of an expanded tensor": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_in_place_ops_under_vmap(library):
    assert _in_place_under_vmap(library) == IN_PLACE_UNDER_VMAP


def _in_place_corners(t):
    seen = {}
    with t.inference_mode():
        frozen = t.ones(2)
        frozen.add_(1)  # allowed inside
    seen["an inference tensor outside inference mode"] = _error(lambda: frozen.add_(1))
    x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen["one of several views"] = _error(lambda: (x * 1).split(1)[0].mul_(2))
    seen["an expanded target"] = _error(lambda: t.ones(1, 2).expand(3, 2).add_(1))
    expanded = t.tensor([[1.0, 2.0]]).expand(3, 2)
    seen["an expanded tensor copied into itself"] = (_error(lambda: expanded.copy_(expanded)), expanded.tolist())
    y = x * 1
    y.add_(t.ones(3), alpha=3)
    y.mul_(t.tensor([1.0, 2.0, 3.0]))
    y.sum().backward()
    seen["a keyword while recording"] = (y.tolist(), x.grad.tolist())
    integers = t.zeros(2, dtype=t.int64)
    integers.copy_(t.tensor([1.5, -2.5]))
    seen["copy_ casts"] = integers.tolist()
    forward_ad = t.autograd.forward_ad
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(t.tensor([1.0, 2.0]), t.tensor([1.0, -1.0]))
        z = dual * 1
        z.mul_(3)
        z.add_(dual)
        seen["tangent of an in-place op"] = forward_ad.unpack_dual(z).tangent.tolist()
    return seen


IN_PLACE_CORNERS = {
    # PyTorch writes the tensor before it raises; retrograd leaves it unchanged (STYLE: bad input
    # leaves every tensor as it was), so only the error is compared
    "an inference tensor outside inference mode": "RuntimeError: Inplace update to inference tensor outside "
    "InferenceMode is not allowed.You can make a clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pyLIB/rfcs/pull/17 for more details.",
    "one of several views": "RuntimeError: Output 0 of Split is a view and is being modified inplace. This view "
    "is the output of a function that returns multiple views. Such functions do not allow the output views to "
    "be modified inplace. You should replace the inplace operation by an out-of-place one.",
    "an expanded target": "RuntimeError: unsupported operation: more than one element of the written-to tensor "
    "refers to a single memory location. Please clone() the tensor before performing the operation.",
    "an expanded tensor copied into itself": (None, [[1.0, 2.0]] * 3),
    "a keyword while recording": ([4.0, 10.0, 18.0], [1.0, 2.0, 3.0]),  # (x + 3)·[1, 2, 3]
    "copy_ casts": [1, -2],
    "tangent of an in-place op": [4.0, -4.0],  # 3t + t
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_corners_of_in_place_ops(library):
    assert _in_place_corners(library) == IN_PLACE_CORNERS


def test_register_notes_where_each_method_comes_from():
    """Note [Where Tensor methods come from]: each attached method records its op and module."""
    from retrograd.ops._table import _defined_in, register_method, register_methods

    with _registered(_toy_double, "toy.where_from", methods="toy_where", inplace="toy_where_"):
        for method in ("toy_where", "toy_where_"):
            entry = attached[method]
            assert (entry.op, entry.module) == ("toy.where_from", __name__)
            assert vars(Tensor)[method] is entry.value

    def first(self):
        return "first"

    def second(self):
        return "second"

    added = ("toy_plain", "toy_a", "toy_b")
    try:
        register_method("toy_plain", first, "toy.first")
        assert (attached["toy_plain"].value, attached["toy_plain"].module, attached["toy_plain"].op) == (
            first, "toy.first", None)
        with pytest.raises(RuntimeError, match=r"^Tensor\.toy_plain is already defined \(attached by toy\.first\)$"):
            register_method("toy_plain", second)
        with pytest.raises(RuntimeError, match=r"^Tensor\.detach is already defined \(in the class body\)$"):
            register_method("detach", second)
        assert retrograd.ones(1).toy_plain() == "first"
        register_method("toy_plain", second, "toy.module", op="toy.op", replace=True)
        assert retrograd.ones(1).toy_plain() == "second" and attached["toy_plain"].module == "toy.module"
        register_methods({"toy_a": first, "toy_b": second}, "toy.methods")
        assert [(attached[name].value, attached[name].module) for name in ("toy_a", "toy_b")] == [
            (first, "toy.methods"), (second, "toy.methods")]
        assert _defined_in("toy_a") == "attached by toy.methods"
        assert _defined_in("detach") == "in the class body"
        assert _defined_in("toy_nothing") == "nowhere"
    finally:
        for name in added:
            attached.pop(name, None)
            if name in Tensor.__dict__:
                delattr(Tensor, name)


def _overlap_checks(t):
    def written(call, a):
        return _error(call), a.tolist()

    seen = {}
    x = t.tensor([[3.0, 1.0], [2.0, 4.0]])
    values, indices = x.max(0)
    parts = x.split(1)
    seen["which results are views"] = (values._is_view(), indices._is_view(), [part._is_view() for part in parts],
                                       parts[0]._base is x)
    # every argument is checked, whatever comes before the one that overlaps
    a = t.arange(5.0)
    seen["after an unrelated tensor"] = written(lambda: a[1:].addcmul_(t.ones(4), a[:-1]), a)
    a = t.arange(5.0)
    seen["after a number"] = written(lambda: a[1:].index_add_(0, t.tensor([0, 1, 2, 3]), a[:-1]), a)
    a = t.arange(5.0)
    seen["after the same elements"] = written(lambda: a[1:].addcmul_(a[1:], a[:-1]), a)
    a = t.arange(10.0)
    seen["after a strided view"] = written(lambda: a[4:8].addcmul_(a[::3], a[3:7]), a)
    seen["a two-element expand"] = _error(lambda: t.ones(1).expand(2).add_(1))
    one_row = t.ones(3).expand(1, 3)  # a stride-0 dimension of size 1: no element repeats
    seen["a one-row expand"] = written(lambda: one_row.add_(1), one_row)
    return seen


_PARTIAL = ("RuntimeError: unsupported operation: some elements of the input tensor and the written-to tensor "
            "refer to a single memory location. Please clone() the tensor before performing the operation.")
OVERLAP_CHECKS = {
    "which results are views": (False, False, [True, True], True),
    "after an unrelated tensor": (_PARTIAL, [0.0, 1.0, 2.0, 3.0, 4.0]),
    "after a number": (_PARTIAL, [0.0, 1.0, 2.0, 3.0, 4.0]),
    "after the same elements": (_PARTIAL, [0.0, 1.0, 2.0, 3.0, 4.0]),
    "after a strided view": (_PARTIAL, [float(value) for value in range(10)]),
    "a two-element expand": "RuntimeError: unsupported operation: more than one element of the written-to "
    "tensor refers to a single memory location. Please clone() the tensor before performing the operation.",
    "a one-row expand": (None, [[2.0, 2.0, 2.0]]),
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_what_an_in_place_op_refuses_to_write(library):
    assert _overlap_checks(library) == OVERLAP_CHECKS


def test_an_op_takes_out_only_when_listed():
    with _registered(_toy_double, "toy_without_out") as toy:
        x = retrograd.tensor([1.0])
        assert toy(x).tolist() == [2.0]
        with pytest.raises(TypeError, match="out"):
            toy(x, out=retrograd.zeros(1))


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_a_view_made_under_no_grad_is_not_written_with_grad_mode_on(library):
    x = library.tensor([1.0, 2.0], requires_grad=True)
    base = x * 1
    with library.no_grad():
        view = base[:1]
    assert _error(lambda: view.mul_(2)).startswith(
        "RuntimeError: A view was created in no_grad mode and is being modified inplace with grad mode "
        "enabled. Given that this use case is ambiguous and error-prone, it is forbidden.")


# -- generated recording (Note [Generated recording]) -----------------------------------------
# A recorder is generated once per class and cached; these tests generate fresh ones, so that
# the generator itself runs under the test.


def _fresh_record(node_class, *inputs, **params):
    from retrograd.ops import _table

    return _table._recorder(node_class)(inputs, params)


def _general_record(node_class, *inputs, **params):
    from retrograd.ops import _table

    return _table._record(node_class, inputs, params)


def _shown(result):
    if isinstance(result, tuple):
        return tuple(_shown(each) for each in result)
    node = result.grad_fn
    shown = [type(result._data), result.shape, result.dtype, result._requires_grad, result._version,
             result._output_nr, result._base is not None, result.detach().numpy().tolist()]
    if node is None:
        return (*shown, None)
    edges = [(None if next_node is None else type(next_node).__name__, number)
             for next_node, number in node.next_functions]
    saved = {}
    for name in node._saved_names():
        value = getattr(node, "_saved_" + name)
        saved[name] = value.detach().numpy().tolist() if isinstance(value, Tensor) else value
    return (*shown, type(node), edges, node._input_meta, saved, node._released, node._hooks)


def _node_class(make):
    x = retrograd.tensor([[0.5, 1.5], [2.0, 3.0]], requires_grad=True)
    return type(make(x).grad_fn)


def _cases():
    leaf = retrograd.tensor([[0.5, 1.5], [2.0, 3.0]], requires_grad=True)
    inner = leaf * 1.0
    frozen = retrograd.tensor([[2.0, 3.0], [4.0, 5.0]])
    later = retrograd.var_mean(leaf, dim=1)[1]  # output 1 of its node
    sin, mul = _node_class(lambda x: x.sin()), _node_class(lambda x: x * x)
    add, t = _node_class(lambda x: x + x), _node_class(lambda x: x.t())
    total, mm = _node_class(lambda x: x.sum()), _node_class(lambda x: x @ x)
    split = _node_class(lambda x: retrograd.unsafe_split(x, 1)[0])
    return [
        ("a leaf's accumulator", sin, (leaf,), {}),
        ("a recorded input", sin, (inner,), {}),
        ("a number", mul, (inner, 0.5), {}),
        ("a tensor needing no grad", mul, (frozen, leaf), {}),
        ("a parameter", add, (leaf, inner), {"alpha": 2}),
        ("a later output", sin, (later,), {}),
        ("a view", t, (inner,), {}),
        ("a 0-d result (a NumPy scalar)", total, (inner,), {}),
        ("its own save (strides)", mm, (inner, frozen), {}),
        ("several outputs", split, (inner, 1), {}),
        ("no input needing grad", sin, (frozen,), {}),
        ("fewer inputs than declared", add, (inner,), {}),
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case[0])
def test_a_fresh_generated_record_records_what_the_general_path_does(case):
    _, node_class, inputs, params = case
    try:
        expected = _shown(_general_record(node_class, *inputs, **params))
    except Exception as error:  # (too few inputs: both must fail alike)
        with pytest.raises(type(error)):
            _fresh_record(node_class, *inputs, **params)
        return
    assert _shown(_fresh_record(node_class, *inputs, **params)) == expected


def test_a_fresh_generated_record_of_a_view_shares_memory_version_and_base():
    from retrograd.ops._inplace import _live_views

    base = retrograd.tensor([[0.5, 1.5], [2.0, 3.0]], requires_grad=True) * 1.0
    view = _fresh_record(_node_class(lambda x: x.t()), base)
    assert view._base is base and view._version_counter is base._version_counter
    assert np.shares_memory(view._data, base._data) and any(each is view for each in _live_views(base))


def test_a_fresh_generated_record_notes_its_creation_under_anomaly_mode():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    with retrograd.autograd.detect_anomaly(check_nan=False):
        node = _fresh_record(_node_class(lambda v: v.sin()), x).grad_fn
    assert node._anomaly_trace and "test_mutation_table.py" in "".join(node._anomaly_trace)
    assert _fresh_record(type(node), x).grad_fn._anomaly_trace is None


_UNSET = object()


def _slot_values(made) -> dict:
    """Every slot of `made`: unset, None, a bool or int as it is, else the value's type."""
    values = {}
    for cls in type(made).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            value = getattr(made, name, _UNSET)
            kept = value is None or value is _UNSET or type(value) in (bool, int)
            values[name] = value if kept else type(value)
    return values


@pytest.mark.parametrize("make", [lambda x: x.sin(), lambda x: x.t(), lambda x: x * x],
                         ids=["sin", "view", "mul"])
def test_a_generated_record_sets_every_slot_the_constructors_set(make):
    # (it stores Node.__init__'s and Tensor._setup's fields itself: Note [Generated recording])
    inner = retrograd.tensor([[0.5, 1.5], [2.0, 3.0]], requires_grad=True) * 1.0
    node_class = _node_class(make)
    inputs = (inner,) * len(node_class.inputs)
    general, fresh = _general_record(node_class, *inputs), _fresh_record(node_class, *inputs)
    # (an elementwise kernel's output also takes its input's (shape, dtype), which the general
    # record leaves to be asked for: Note [Shared input metadata])
    assert fresh._meta in (None, inner._meta) and general._meta is None
    assert _slot_values(fresh) | {"_meta": None} == _slot_values(general)
    assert _slot_values(fresh.grad_fn) == _slot_values(general.grad_fn)
