"""scaled_dot_product_attention records PyTorch's fused CPU node where PyTorch's dispatch picks
its fused kernel (Note [Which attention kernel]), with PyTorch's values and gradients, and
its gradients can be differentiated again."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from retrograd.autograd import gradcheck, gradgradcheck

FUSED = "ScaledDotProductFlashAttentionForCpuBackward0"
_ROWS_SEEING_SOME = np.array([[True] * 5, [False] * 5, [True, False, True, False, True]])


def _values(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


# name -> (query, key, value shapes, keywords as a function of the library)
CONFIGURATIONS = {
    "plain": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)), lambda lib: {}),
    "causal": (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)), lambda lib: {"is_causal": True}),
    "scale": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)), lambda lib: {"scale": 0.3}),
    "bool-mask": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
                  lambda lib: {"attn_mask": lib.tensor(_ROWS_SEEING_SOME)}),
    "float-mask-4d": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
                      lambda lib: {"attn_mask": lib.tensor(_values(7, 1, 2, 3, 5))}),
    "float-mask-row": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
                       lambda lib: {"attn_mask": lib.tensor(_values(7, 1, 5))}),
    "grouped-heads": (((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)), lambda lib: {"enable_gqa": True}),
    "grouped-one-head": (((1, 4, 3, 4), (1, 1, 5, 4), (1, 1, 5, 4)),
                         lambda lib: {"enable_gqa": True, "is_causal": True}),
    # the math kernel's ops
    "3d": (((2, 3, 4), (2, 5, 4), (2, 5, 4)), lambda lib: {}),
    "value-size": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 6)), lambda lib: {}),
    "batch-broadcast": (((2, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)), lambda lib: {}),
    "mask-3d": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
                lambda lib: {"attn_mask": lib.tensor(_values(7, 2, 3, 5))}),
    "mask-needs-grad": (((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
                        lambda lib: {"attn_mask": lib.tensor(_values(7, 3, 5), requires_grad=True)}),
    "grouped-unequal-key-value": (((1, 4, 3, 4), (1, 2, 5, 4), (1, 1, 5, 4)), lambda lib: {"enable_gqa": True}),
}


def _attention(lib, name):
    shapes, keywords = CONFIGURATIONS[name]
    leaves = [lib.tensor(_values(seed, *shape), requires_grad=True) for seed, shape in enumerate(shapes)]
    return lib.nn.functional.scaled_dot_product_attention(*leaves, **keywords(lib)), leaves


@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_attention_records_pytorchs_node_values_and_gradients(name):
    torch = pytest.importorskip("torch")
    mine, leaves = _attention(retrograd, name)
    theirs, their_leaves = _attention(torch, name)
    assert mine.grad_fn.name() == theirs.grad_fn.name()
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-13, atol=1e-15)
    grad = _values(9, *mine.shape)
    mine.backward(retrograd.tensor(grad))
    theirs.backward(torch.tensor(grad))
    for leaf, their_leaf in zip(leaves, their_leaves):
        np.testing.assert_allclose(leaf.grad.numpy(), their_leaf.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_a_transposed_last_dim_takes_the_math_kernel_as_pytorch():
    torch = pytest.importorskip("torch")
    names = []
    for lib in (retrograd, torch):
        query = lib.tensor(_values(0, 1, 2, 4, 3), requires_grad=True).transpose(-2, -1)
        names.append(lib.nn.functional.scaled_dot_product_attention(query, query, query).grad_fn.name())
    assert names[0] == names[1] != FUSED


def test_dropout_takes_the_math_kernel_as_pytorch():
    torch = pytest.importorskip("torch")
    names = [lib.nn.functional.scaled_dot_product_attention(
        *(lib.tensor(_values(0, 1, 2, 3, 4), requires_grad=True),) * 3, dropout_p=0.5).grad_fn.name()
        for lib in (retrograd, torch)]
    assert names[0] == names[1] != FUSED


def test_a_query_that_sees_nothing_gives_zeros_and_logsumexp_zero_as_pytorch():
    torch = pytest.importorskip("torch")
    mine, _ = _attention(retrograd, "bool-mask")
    theirs, _ = _attention(torch, "bool-mask")
    assert np.array_equal(mine.detach().numpy()[..., 1, :], np.zeros((1, 2, 4)))
    np.testing.assert_allclose(mine.grad_fn._saved_logsumexp.numpy(),
                               theirs.grad_fn._saved_logsumexp.detach().numpy(), rtol=1e-13)


@pytest.mark.parametrize("name", [name for name in CONFIGURATIONS if name in (
    "plain", "causal", "scale", "bool-mask", "float-mask-4d", "grouped-heads", "grouped-one-head")])
def test_fused_attention_passes_gradcheck_and_gradgradcheck(name):
    shapes, keywords = CONFIGURATIONS[name]
    leaves = tuple(retrograd.tensor(_values(seed, *shape), requires_grad=True) for seed, shape in enumerate(shapes))

    def attention(*inputs):
        return retrograd.nn.functional.scaled_dot_product_attention(*inputs, **keywords(retrograd))

    assert attention(*leaves).grad_fn.name() == FUSED
    assert gradcheck(attention, leaves)
    assert gradgradcheck(attention, leaves)


@pytest.mark.parametrize("name", ["plain", "bool-mask", "grouped-heads"])
def test_fused_attention_gradients_on_arrays_and_recorded_agree(name):
    mine, leaves = _attention(retrograd, name)
    grad = retrograd.tensor(_values(9, *mine.shape))
    on_arrays = retrograd.autograd.grad(mine, leaves, grad, retain_graph=True)
    recorded = retrograd.autograd.grad(mine, leaves, grad, create_graph=True)
    for plain, graphed in zip(on_arrays, recorded):
        assert graphed.grad_fn is not None
        np.testing.assert_allclose(plain.numpy(), graphed.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_fused_attention_in_half_precision_keeps_logsumexp_in_float32():
    torch = pytest.importorskip("torch")
    values = _values(0, 1, 2, 3, 4).astype(np.float16)
    mine = retrograd.nn.functional.scaled_dot_product_attention(*(retrograd.tensor(values, requires_grad=True),) * 3)
    theirs = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(values, requires_grad=True),) * 3)
    assert mine.dtype is retrograd.float16
    assert mine.grad_fn._saved_logsumexp.dtype is retrograd.float32
    assert str(theirs.grad_fn._saved_logsumexp.dtype) == "torch.float32"
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), atol=2e-3)
