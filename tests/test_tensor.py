"""Tensors: creation and dtype inference, promotion, conversion, attributes, printing."""

from __future__ import annotations

import pickle
import weakref

import numpy as np
import pytest

import retrograd as rg


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.0, rg.float32),
        ([1.0, 2.0], rg.float32),
        (1, rg.int64),
        ([[1, 2], [3, 4]], rg.int64),
        (True, rg.bool),
        ([True, False], rg.bool),
        ([1, 2.5], rg.float32),
        (np.array([1.0, 2.0]), rg.float64),
        (np.array([1, 2], dtype=np.int32), rg.int32),
        (np.float64(2.0), rg.float64),
        ([], rg.float32),
    ],
)
def test_tensor_infers_dtype_like_pytorch(data, dtype):
    assert rg.tensor(data).dtype is dtype


def test_tensor_copies_its_data_and_from_numpy_shares_it():
    array = np.array([1.0, 2.0])
    copied, shared = rg.tensor(array), rg.from_numpy(array)
    array[0] = 9.0
    assert copied.tolist() == [1.0, 2.0]
    assert shared.tolist() == [9.0, 2.0]


def test_default_dtype_can_be_changed():
    rg.set_default_dtype(rg.float64)
    try:
        assert rg.tensor(1.5).dtype is rg.float64
        assert rg.zeros(2).dtype is rg.float64
    finally:
        rg.set_default_dtype(rg.float32)
    assert rg.get_default_dtype() is rg.float32
    with pytest.raises(TypeError):
        rg.set_default_dtype(rg.int64)


def test_dtype_repr_and_attributes():
    assert repr(rg.float32) == "retrograd.float32"
    assert rg.float64.is_floating_point and not rg.int64.is_floating_point
    assert rg.float16.itemsize == 2


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (rg.tensor([1, 2]), 2.5, rg.float32),
        (rg.tensor([1, 2]), 2, rg.int64),
        (rg.tensor([1.0], dtype=rg.float16), 2.5, rg.float16),
        (rg.tensor([1.0]), rg.tensor([1.0], dtype=rg.float64), rg.float64),
        (rg.tensor([1.0]), rg.tensor(1.0, dtype=rg.float64), rg.float32),
        (rg.tensor([1, 2], dtype=rg.int32), rg.tensor(1.5, dtype=rg.float64), rg.float64),
        (rg.tensor([True]), 1, rg.int64),
        (rg.tensor([1, 2], dtype=rg.int32), rg.tensor([1], dtype=rg.int64), rg.int64),
        (rg.tensor([1], dtype=rg.uint8), rg.tensor([1], dtype=rg.int8), rg.int16),
    ],
)
def test_result_type_follows_pytorch_promotion(left, right, expected):
    assert rg.result_type(left, right) is expected
    assert (left + right).dtype is expected


def test_promotion_matches_pytorch_across_dtypes():
    torch = pytest.importorskip("torch")
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    for a in names:
        for b in names:
            ours = rg.promote_types(getattr(rg, a), getattr(rg, b))
            assert ours.name == str(torch.promote_types(getattr(torch, a), getattr(torch, b)))[6:]


def test_creation_functions_shapes_and_dtypes():
    assert rg.zeros(2, 3).shape == (2, 3) and rg.zeros((2, 3)).dtype is rg.float32
    assert rg.ones([4]).tolist() == [1.0] * 4
    assert rg.full((2,), 7).dtype is rg.int64
    assert rg.full((2,), 7.0).dtype is rg.float32
    assert rg.arange(5).tolist() == [0, 1, 2, 3, 4] and rg.arange(5).dtype is rg.int64
    assert rg.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert rg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert rg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert rg.empty(3).shape == (3,)
    x = rg.tensor([[1.0, 2.0]], dtype=rg.float64)
    for like in (rg.zeros_like, rg.ones_like, rg.rand_like, rg.randn_like):
        assert like(x).shape == (1, 2) and like(x).dtype is rg.float64
    assert rg.full_like(x, 3).tolist() == [[3.0, 3.0]]
    values = rg.randint(0, 3, (100,))
    assert values.dtype is rg.int64 and set(values.numpy().tolist()) <= {0, 1, 2}


def test_manual_seed_makes_random_tensors_repeat():
    rg.manual_seed(0)
    first = rg.randn(3).tolist(), rg.rand(2).tolist()
    rg.manual_seed(0)
    assert (rg.randn(3).tolist(), rg.rand(2).tolist()) == first


def test_negative_sizes_are_refused():
    with pytest.raises(RuntimeError, match="negative dimension"):
        rg.zeros(-1)


def test_conversions():
    x = rg.tensor([[1.5, 2.0]])
    assert x.numpy().dtype == np.float32
    assert x.tolist() == [[1.5, 2.0]]
    assert rg.tensor(2.5).item() == 2.5
    assert x.double().dtype is rg.float64 and x.long().tolist() == [[1, 2]]
    assert x.int().dtype is rg.int32 and x.bool().dtype is rg.bool
    assert x.to(rg.float64).dtype is rg.float64 and x.float() is x
    assert float(rg.tensor([3.0])) == 3.0 and int(rg.tensor(4)) == 4 and bool(rg.tensor(1))


def test_numpy_refuses_a_tensor_that_requires_grad():
    x = rg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


def test_bool_of_several_elements_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(rg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        rg.tensor([1.0, 2.0]).item()


def test_attributes():
    x = rg.zeros(2, 3, 4)
    assert (x.ndim, x.dim(), x.numel(), len(x)) == (3, 3, 24, 2)
    assert x.size() == (2, 3, 4) and x.size(-1) == 4 and repr(x.shape) == "retrograd.Size([2, 3, 4])"
    assert str(x.device) == "cpu" and repr(x.device) == "device(type='cpu')"
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(rg.tensor(1.0))


def test_iteration_yields_rows():
    rows = [row.tolist() for row in rg.tensor([[1, 2], [3, 4]])]
    assert rows == [[1, 2], [3, 4]]


def test_tensors_support_weak_references_and_pickling():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    assert weakref.ref(x)() is x
    restored = pickle.loads(pickle.dumps(x))
    assert restored.tolist() == [1.0, 2.0] and restored.requires_grad


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        rg.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (lambda: rg.tensor(7.0), "tensor(7.)"),
        (lambda: rg.tensor([2.0, 4.0]), "tensor([2., 4.])"),
        (lambda: rg.tensor(2.5), "tensor(2.5000)"),
        (lambda: rg.tensor([1, 2]), "tensor([1, 2])"),
        (lambda: rg.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
        (lambda: rg.tensor(1.0, dtype=rg.float64), "tensor(1., dtype=retrograd.float64)"),
        (lambda: rg.tensor([1, 2], dtype=rg.int32), "tensor([1, 2], dtype=retrograd.int32)"),
        (lambda: rg.tensor(1.0, requires_grad=True), "tensor(1., requires_grad=True)"),
        (lambda: rg.tensor(2.0, requires_grad=True) * 3, "tensor(6., grad_fn=<MulBackward0>)"),
        (lambda: rg.tensor([True, False]), "tensor([ True, False])"),
        (lambda: rg.zeros(0, dtype=rg.int64), "tensor([], dtype=retrograd.int64)"),
    ],
)
def test_repr_is_pytorchs(make, text):
    assert repr(make()) == text


def test_print_options_change_precision():
    rg.set_printoptions(precision=2)
    try:
        assert repr(rg.tensor(2.125)) == "tensor(2.12)"
    finally:
        rg.set_printoptions(profile="default")


def test_a_pickled_non_leaf_comes_back_as_a_leaf_that_requires_grad():
    """As PyTorch: pickling keeps the values and requires_grad, not the history."""
    restored = pickle.loads(pickle.dumps(rg.tensor([1.0, 2.0], requires_grad=True) * 2))
    assert restored.tolist() == [2.0, 4.0] and restored.requires_grad and restored.is_leaf


def test_slices_sums_and_repeats_of_a_size_are_sizes():
    shape = rg.zeros(2, 3, 4).shape
    assert repr(shape[1:]) == "retrograd.Size([3, 4])" and shape[0] == 2
    # concatenation itself is under test here
    assert repr(shape[:1] + (5,)) == "retrograd.Size([2, 5])"  # noqa: RUF005
    assert repr((7,) + shape[2:]) == "retrograd.Size([7, 4])"  # noqa: RUF005
    assert repr(shape[2:] * 2) == "retrograd.Size([4, 4])"
    assert repr(2 * shape[2:]) == "retrograd.Size([4, 4])"
    assert repr(shape + shape[:1]) == "retrograd.Size([2, 3, 4, 2])"


def test_formatting_a_zero_dimensional_tensor_formats_its_number():
    assert f"{rg.tensor(0.5)}" == "0.5" and f"{rg.tensor(3)}" == "3"
    assert f"{rg.tensor(2.0):.3f}" == "2.000"
    assert f"{rg.tensor([0.5])}" == "tensor([0.5000])"

