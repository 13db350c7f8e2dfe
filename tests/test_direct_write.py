"""Direct in-place writes (Note [Direct in-place writes], retrograd/ops/_direct_write.py): an
in-place op that records nothing writes its kernel's result into the target's array, with the
values, errors, versions and histories of the general path (run_in_place)."""

import re

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import profiler
from retrograd.ops import _direct_write


@pytest.fixture
def direct_writes(monkeypatch):
    """Count the in-place calls that were written directly."""
    taken = []
    write = _direct_write.write

    def counted(target, method_name, arguments, keywords):
        written = write(target, method_name, arguments, keywords)
        taken.append(written)
        return written

    monkeypatch.setattr(_direct_write, "write", counted)
    return taken


def _general_path(monkeypatch) -> None:
    monkeypatch.setattr(_direct_write, "write", lambda target, method_name, arguments, keywords: False)


def _array(shape, dtype, seed):
    values = np.random.default_rng(seed).uniform(0.5, 2.0, shape)
    return values.astype(dtype) if np.dtype(dtype).kind == "f" else (values * 3).astype(dtype)


F32, F64, F16, I64, I32 = np.float32, np.float64, np.float16, np.int64, np.int32

# (method, target dtype and shape, arguments: ("t", shape, dtype) is a tensor, else a value; keywords)
CASES = [
    ("zero_", F32, (4, 3), (), {}),
    ("zero_", I64, (4,), (), {}),
    ("fill_", F32, (4, 3), (2.5,), {}),
    ("fill_", F64, (4, 3), (7,), {}),
    ("fill_", I32, (5,), (-12,), {}),
    ("copy_", F32, (4, 3), (("t", (4, 3), F64),), {}),
    ("copy_", F32, (4, 3), (("t", (3,), F32),), {}),
    ("copy_", I64, (4,), (("t", (4,), F64),), {}),
    ("add_", F32, (4, 3), (("t", (4, 3), F32),), {}),
    ("add_", F32, (4, 3), (("t", (4, 3), F32),), {"alpha": -0.1}),
    ("add_", F32, (4, 3), (("t", (3,), F32),), {"alpha": 3}),
    ("add_", F64, (4, 3), (0.3,), {}),
    ("add_", F16, (4, 3), (("t", (4, 3), F16),), {"alpha": 0.7}),
    ("add_", I64, (5,), (("t", (5,), I64),), {}),
    ("add_", I64, (5,), (4,), {"alpha": 1}),
    ("sub_", F32, (4, 3), (("t", (4, 3), F32),), {"alpha": 0.25}),
    ("sub_", I32, (5,), (2,), {}),
    ("mul_", F32, (4, 3), (0.9,), {}),
    ("mul_", F32, (4, 3), (("t", (), F32),), {}),
    ("mul_", F64, (4, 3), (("t", (4, 1), F64),), {}),
    ("mul_", I64, (5,), (3,), {}),
    ("div_", F32, (4, 3), (("t", (4, 3), F32),), {}),
    ("div_", F64, (4, 3), (3,), {}),
    ("sqrt_", F32, (4, 3), (), {}),
    ("addcmul_", F32, (4, 3), (("t", (4, 3), F32), ("t", (4, 3), F32)), {"value": 0.5}),
    ("addcmul_", F32, (4, 3), (("t", (3,), F32), ("t", (4, 3), F32)), {}),
    ("addcdiv_", F32, (4, 3), (("t", (4, 3), F32), ("t", (4, 3), F32)), {"value": -0.01}),
    ("addcdiv_", F64, (4, 3), (("t", (4, 1), F64), ("t", (3,), F64)), {"value": 2}),
    ("lerp_", F32, (4, 3), (("t", (4, 3), F32), 0.1), {}),
    ("lerp_", F32, (4, 3), (("t", (4, 3), F32), 0.9), {}),
    ("lerp_", F64, (4, 3), (("t", (3,), F64), 1), {}),
]
IDS = [f"{case[0]}-{index}" for index, case in enumerate(CASES)]


def _arguments(arguments, library, seed=1):
    made = []
    for index, argument in enumerate(arguments):
        if isinstance(argument, tuple) and argument[0] == "t":
            made.append(library.tensor(_array(argument[1], argument[2], seed + index)))
        else:
            made.append(argument)
    return made


def _run(method, dtype, shape, arguments, keywords, library=retrograd):
    target = library.tensor(_array(shape, dtype, 0))
    getattr(target, method)(*_arguments(arguments, library), **keywords)
    return target


@pytest.mark.parametrize(("method", "dtype", "shape", "arguments", "keywords"), CASES, ids=IDS)
def test_a_direct_write_gives_the_bits_of_the_general_path(method, dtype, shape, arguments, keywords,
                                                           direct_writes, monkeypatch):
    direct = _run(method, dtype, shape, arguments, keywords)
    assert direct_writes == [True]
    _general_path(monkeypatch)
    general = _run(method, dtype, shape, arguments, keywords)
    assert direct.dtype is general.dtype
    assert direct._data.tobytes() == general._data.tobytes()
    assert direct._version == general._version == 1


@needs_torch
@pytest.mark.parametrize(("method", "dtype", "shape", "arguments", "keywords"), CASES, ids=IDS)
def test_a_direct_write_gives_pytorchs_values(method, dtype, shape, arguments, keywords, direct_writes):
    ours = _run(method, dtype, shape, arguments, keywords)
    theirs = _run(method, dtype, shape, arguments, keywords, library=torch)
    assert direct_writes == [True]
    tolerance = 1e-3 if dtype is F16 else 1e-6
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tolerance, atol=tolerance)
    assert ours._version == theirs._version


def test_a_write_through_a_strided_view_changes_only_its_elements(direct_writes):
    base = retrograd.arange(12.0).reshape(3, 4)
    view = base.t()[::2]
    view.mul_(10.0)
    view.add_(retrograd.ones(2, 3), alpha=0.5)
    expected = np.arange(12.0).reshape(3, 4)
    expected[:, ::2] = expected[:, ::2] * 10.0 + 0.5
    np.testing.assert_array_equal(base.numpy(), expected)
    assert direct_writes == [True, True]
    assert base._version == view._version == 2


def test_writing_a_tensor_into_itself_is_direct(direct_writes):
    x = retrograd.tensor([1.0, 2.0, 3.0])
    x.mul_(x)
    x.addcmul_(x, x, value=0.5)
    x.lerp_(x, 0.3)
    np.testing.assert_array_equal(x.numpy(), np.float32([1.5, 12.0, 49.5]))
    assert direct_writes == [True, True, True]


def test_an_optimizer_style_update_is_direct_and_bumps_the_version(direct_writes):
    param = retrograd.ones(5, requires_grad=True)
    param.grad = retrograd.full((5,), 2.0)
    with retrograd.no_grad():
        param.add_(param.grad, alpha=-0.1)
    param.grad.zero_()
    assert direct_writes == [True, True]
    np.testing.assert_array_equal(param.detach().numpy(), np.full(5, 0.8, np.float32))
    assert param._version == 1 and param.grad._version == 1
    assert param.grad_fn is None and param.requires_grad and param.is_leaf


def test_a_recorded_in_place_op_is_never_direct(direct_writes):
    leaf = retrograd.ones(3, requires_grad=True)
    x = leaf * 1
    x.add_(retrograd.ones(3), alpha=2)
    frozen = retrograd.ones(3)
    frozen.mul_(leaf)  # (an argument requires grad: recorded)
    assert direct_writes == [False, False]
    assert type(x.grad_fn).__name__ == "AddBackward0"
    assert type(frozen.grad_fn).__name__ == "MulBackward0"


@needs_torch
def test_a_saved_tensor_written_directly_refuses_backward():
    for library in (retrograd, torch):
        leaf = library.ones(3, requires_grad=True)
        result = leaf.exp()
        with library.no_grad():
            result.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            result.sum().backward()


@needs_torch
def test_a_view_of_a_graph_written_under_no_grad_keeps_pytorchs_history(direct_writes):
    gradients = []
    for library in (retrograd, torch):
        leaf = library.tensor([1.0, 2.0, 3.0], requires_grad=True)
        base = leaf * 2
        view = base[:2]
        with library.no_grad():
            view.add_(1.0)
        assert type(view.grad_fn).__name__ == "AsStridedBackward0"
        assert view._version == base._version == 1
        (view * 3).sum().backward()
        gradients.append(leaf.grad.numpy())
    np.testing.assert_array_equal(*gradients)
    assert direct_writes == [True]


def test_the_profiler_sees_in_place_ops():
    param = retrograd.ones(3, requires_grad=True)
    param.grad = retrograd.ones(3)
    with profiler.profile() as recorded:
        with retrograd.no_grad():
            param.add_(param.grad, alpha=-0.1)
        param.grad.zero_()
    names = {event.key for event in recorded.key_averages()}
    assert {"aten::add_", "aten::zero_"} <= names  # (PyTorch's names of the in-place ops)
    assert _direct_write.write.__name__ == "write"


def _inference_tensor(library):
    with library.inference_mode():
        return library.ones(3)


def _overlapping(library):
    x = library.arange(5.0)
    return x[1:], (x[:-1],)


# (target and arguments maker, method, keywords, key words of PyTorch's message): each raises
# PyTorch's error and leaves the target as it was.
REFUSED = [
    (lambda T: (T.ones(3, dtype=T.long), (0.5,)), "add_", {}, "can't be cast to the desired output type"),
    (lambda T: (T.ones(3, dtype=T.long), (T.ones(3, dtype=T.long),)), "add_", {"alpha": 0.5},
     "argument alpha must not be a floating point number"),
    (lambda T: (T.ones(3), (T.ones(2, 3),)), "add_", {}, "doesn't match the broadcast shape [2, 3]"),
    (lambda T: (T.ones(3), (T.ones(4),)), "mul_", {}, "must match the size of tensor b (4)"),
    (_overlapping, "add_", {}, "some elements of the input tensor and the written-to tensor refer"),
    (lambda T: (T.ones(1).expand(3), (1.0,)), "add_", {}, "more than one element of the written-to tensor"),
    (lambda T: (_inference_tensor(T), (1.0,)), "add_", {}, "Inplace update to inference tensor outside"),
    (lambda T: (T.ones(3, dtype=T.long), (2,)), "div_", {}, "can't be cast to the desired output type"),
    (lambda T: (T.ones(3), (2,)), "div_", {"rounding_mode": "bad"}, "div expected rounding_mode"),
    (lambda T: (T.ones(3, dtype=T.bool), (True,)), "sub_", {}, "with two bool tensors is not supported"),
    (lambda T: (T.ones(3), (True,)), "sub_", {}, "with a bool tensor is not supported"),
    (lambda T: (T.ones(3, dtype=T.long), ()), "sqrt_", {}, "can't be cast to the desired output type"),
    (lambda T: (T.ones(3), (T.ones(3, dtype=T.float64), 0.5)), "lerp_", {}, "for `end` but got dtype"),
    (lambda T: (T.ones(3, dtype=T.int32), (2**40,)), "fill_", {}, "without overflow"),
    (lambda T: (T.ones(3), (T.ones(4),)), "copy_", {}, "must match the size of tensor b (4)"),
    (lambda T: (T.ones(2, 1), (T.ones(2, 3),)), "copy_", {}, "doesn't match the broadcast shape [2, 3]"),
    (lambda T: (T.ones(3), ("a",)), "add_", {}, "argument 'other'"),
    (lambda T: (T.ones(3), (T.ones(3), 0.5)), "add_", {}, "positional argument"),
    (lambda T: (T.ones(3), (T.ones(3), T.ones(4))), "addcmul_", {}, "must match the size of tensor b (4)"),
    (lambda T: (T.ones(3), (T.ones(3, dtype=T.long), T.ones(3, dtype=T.long))), "addcdiv_", {},
     "Integer division with addcdiv is no longer supported"),
]


@needs_torch
@pytest.mark.parametrize(("make", "method", "keywords", "words"), REFUSED,
                         ids=[f"{case[1]}-{index}" for index, case in enumerate(REFUSED)])
def test_refused_arguments_raise_pytorchs_error_and_change_nothing(make, method, keywords, words):
    target, arguments = make(torch)
    with pytest.raises(Exception, match=re.escape(words)) as theirs, torch.no_grad():
        getattr(target, method)(*arguments, **keywords)
    target, arguments = make(retrograd)
    before, version = target.numpy().copy(), target._version
    with pytest.raises(type(theirs.value), match=re.escape(words)), retrograd.no_grad():
        getattr(target, method)(*arguments, **keywords)
    np.testing.assert_array_equal(target.numpy(), before)
    assert target._version == version
