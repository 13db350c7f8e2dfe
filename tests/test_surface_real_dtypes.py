"""Names PyTorch programs call that mean something simple on real dtypes: conjugation (a real
tensor is its own conjugate), the Bessel function i0 and its in-place form, and
`embedding_renorm_`; each compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck, gradgradcheck

# ---------------------------------------------------------------------------
# Conjugation


@needs_torch
@pytest.mark.parametrize("name", ["conj", "conj_physical", "resolve_conj", "resolve_neg"])
def test_conjugation_of_a_real_tensor_is_the_tensor_itself(name):
    for lib in (torch, retrograd):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        assert getattr(lib, name)(x) is x
        assert getattr(x, name)() is x


@needs_torch
def test_a_real_tensor_is_no_lazy_conjugate_or_negation():
    for lib in (torch, retrograd):
        x = lib.ones(2)
        assert (x.is_conj(), x.is_neg(), lib.is_conj(x), lib.is_neg(x)) == (False,) * 4


@needs_torch
def test_conj_physical_in_place_moves_the_version_and_refuses_a_leaf():
    for lib in (torch, retrograd):
        leaf = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            leaf.conj_physical_()
        product = leaf * 3
        assert product.conj_physical_() is product and product._version == 1
        assert lib.conj_physical_(product) is product and product._version == 2
        product.sum().backward()
        assert leaf.grad.tolist() == [3.0, 3.0]
        out = lib.empty(0)
        assert lib.conj_physical(lib.tensor([1.0, 2.0]), out=out) is out and out.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------------------
# i0, the modified Bessel function of the first kind of order 0


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_i0_values_are_pytorchs(dtype):
    values = [-800.0, -30.5, -2.0, -1e-3, 0.0, 1e-8, 0.5, 3.0, 7.5, 15.0, 40.0, 700.0,
              float("inf"), -float("inf"), float("nan")]
    ours = retrograd.i0(retrograd.tensor(values, dtype=getattr(retrograd, dtype)))
    theirs = torch.i0(torch.tensor(values, dtype=getattr(torch, dtype)))
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6 if dtype == "float32" else 1e-13)


@needs_torch
def test_i0_of_integers_and_booleans_is_float_and_i0_in_place_refuses_them():
    for lib in (torch, retrograd):
        assert lib.i0(lib.tensor([1, 2])).dtype is lib.float32
        assert lib.i0(lib.tensor([True, False])).dtype is lib.float32
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                               "type Long"):
            lib.tensor([1, 2]).i0_()
    x = retrograd.tensor([0.5, 1.0])
    assert x.i0_() is x and retrograd.i0_(x) is x
    np.testing.assert_allclose(x.numpy(), torch.tensor([0.5, 1.0]).i0_().i0_().numpy(), rtol=1e-6)


@needs_torch
def test_i0_gradient_is_i1_as_pytorchs():
    values = [-800.0, -40.0, -2.5, -1e-3, 0.0, 1e-3, 0.7, 5.0, 33.0, 300.0, 700.0]

    def gradient(lib):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        lib.i0(x).sum().backward()
        return x.grad.numpy(), lib.i0(x).grad_fn.name()

    (ours, our_name), (theirs, their_name) = gradient(retrograd), gradient(torch)
    assert our_name == their_name == "I0Backward0"
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


@needs_torch
def test_i0_second_derivative_is_pytorchs():
    def second(lib):
        x = lib.tensor([-3.0, -0.2, 0.0, 0.4, 6.0, 60.0], dtype=lib.float64, requires_grad=True)
        (first,) = lib.autograd.grad(lib.i0(x).sum(), x, create_graph=True)
        (again,) = lib.autograd.grad(first.sum(), x)
        return again.numpy(), first.grad_fn.name()

    (ours, our_name), (theirs, their_name) = second(retrograd), second(torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert our_name == their_name


def test_i0_gradients_check_to_second_order():
    x = retrograd.tensor([-2.0, -0.3, 0.0, 0.8, 4.0], dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(retrograd.i0, (x,))
    assert gradgradcheck(retrograd.i0, (x,))


# ---------------------------------------------------------------------------
# embedding_renorm_


@needs_torch
@pytest.mark.parametrize(("indices", "max_norm", "norm_type"), [
    ([[3, 3], [1, 0]], 4.0, 1.0), ([3], 4, 1), ([3, 2], 4.0, float("inf")), ([3], 4.0, 0.0),
    ([0, 2, 2], 5.0, 2.0), ([], 1.0, 2.0)], ids=str)
def test_embedding_renorm_rescales_the_rows_as_pytorch(indices, max_norm, norm_type):
    def run(lib):
        weight = lib.arange(12.0).reshape(4, 3)
        returned = lib.embedding_renorm_(weight, lib.tensor(indices, dtype=lib.int64), max_norm, norm_type)
        return returned is weight, weight.numpy(), weight._version

    (our_same, ours, our_version), (their_same, theirs, their_version) = run(retrograd), run(torch)
    assert our_same and their_same and our_version == their_version
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("call", [
    lambda lib: lib.embedding_renorm_(lib.arange(12.0).reshape(4, 3), lib.tensor([0.0]), 4.0, 1.0),
    lambda lib: lib.embedding_renorm_(lib.arange(12.0), lib.tensor([0]), 4.0, 1.0),
    lambda lib: lib.embedding_renorm_(lib.arange(12.0).reshape(4, 3), lib.tensor([7]), 4.0, 1.0),
], ids=["float indices", "1-d weight", "index out of range"])
def test_embedding_renorm_refuses_as_pytorch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(retrograd)
    assert str(ours.value) == str(theirs.value).replace("torch.", "retrograd.")
