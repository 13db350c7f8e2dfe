"""as_strided_scatter: a copy of a tensor, its whole storage copied, with a window on that
storage overwritten, as PyTorch's.

Values, strides, storage offsets, errors, the grad_fn and its saved values, src's gradient and
the tangents are compared with PyTorch's. The input's gradient is checked against finite
differences instead: PyTorch 2.13's is wrong (see Note [as_strided_scatter's gradient]).
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck, gradgradcheck

# Inputs whose storage differs from their elements: slices, transposes, expansions.
INPUTS = {
    "contiguous": lambda lib: lib.arange(12.0, dtype=lib.float64),
    "matrix": lambda lib: lib.arange(12.0, dtype=lib.float64).reshape(3, 4),
    "transposed": lambda lib: lib.arange(12.0, dtype=lib.float64).reshape(3, 4).t(),
    "sliced": lambda lib: lib.arange(12.0, dtype=lib.float64)[3:9],
    "stepped": lambda lib: lib.arange(12.0, dtype=lib.float64).reshape(3, 4)[:, 1::2],
    "expanded": lambda lib: lib.arange(4.0, dtype=lib.float64).expand(3, 4),
}

# (size, stride, storage_offset): windows within every input's storage.
WINDOWS = [
    ((2, 2), (1, 2), 0),
    ((2,), (1,), None),
    ((3, 2), (1, 1), None),  # overlapping: the last element written wins
    ((), (), 3),
    ((0, 5), (1, 1), 100),  # no elements: any offset
    ((4,), (1,), 5),
]


def _src(lib, size):
    return -lib.arange(1.0, 1.0 + int(np.prod(size)), dtype=lib.float64).reshape(size)


@needs_torch
@pytest.mark.parametrize("window", WINDOWS, ids=str)
@pytest.mark.parametrize("make", INPUTS.values(), ids=INPUTS.keys())
def test_values_strides_and_storage_are_pytorchs(make, window):
    size, stride, offset = window
    results = [make(lib).as_strided_scatter(_src(lib, size), size, stride, offset) for lib in (retrograd, torch)]
    ours, theirs = results
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    # the whole storage was copied: read all of it back through a window
    length = theirs.untyped_storage().nbytes() // theirs.element_size()
    np.testing.assert_array_equal(ours.as_strided((length,), (1,), 0).numpy(),
                                  theirs.as_strided((length,), (1,), 0).numpy())


def test_the_input_and_its_storage_are_left_unchanged():
    base = retrograd.arange(6.0)
    result = retrograd.as_strided_scatter(base[2:], retrograd.zeros(2), (2,), (1,), 0)
    assert base.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert result.tolist() == [2.0, 3.0, 4.0, 5.0]
    assert result.as_strided((2,), (1,), 0).tolist() == [0.0, 0.0]
    assert result._base is None


@needs_torch
def test_function_keyword_and_dtype_forms():
    for lib in (retrograd, torch):
        x = lib.zeros(3, 4, dtype=lib.int64)
        result = lib.as_strided_scatter(x, lib.full((2, 2), 1.7), size=(2, 2), stride=(1, 1), storage_offset=1)
        assert result.dtype is lib.int64
        assert result.tolist() == [[0, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
        assert lib.as_strided_scatter(lib.tensor(5.0), lib.tensor(2.0), (), ()).item() == 2.0


BAD_CALLS = {
    "beyond_the_storage": lambda lib: (lib.zeros(3), lib.ones(2), (2,), (1,), 2),
    "negative_offset": lambda lib: (lib.zeros(3), lib.ones(2), (2,), (1,), -1),
    "negative_stride": lambda lib: (lib.zeros(3), lib.ones(2), (2,), (-1,), 2),
    "lengths_differ": lambda lib: (lib.zeros(3), lib.ones(2), (2,), (1, 1)),
    "float_stride": lambda lib: (lib.zeros(3), lib.ones(2), (2,), (1.0,), 0),
    "float_offset": lambda lib: (lib.zeros(3), lib.ones(2), (2,), (1,), 0.5),
    "src_not_a_tensor": lambda lib: (lib.zeros(3), 3.0, (2,), (1,), 0),
    "input_not_a_tensor": lambda lib: (3, lib.ones(2), (2,), (1,), 0),
    "src_of_another_size": lambda lib: (lib.zeros(6), lib.ones(3), (2, 2), (1, 1), 1),
    "window_repeats_an_element": lambda lib: (lib.zeros(6), lib.ones(2, 2), (2, 2), (0, 1), 1),
    "expanded_input_bounds": lambda lib: (lib.zeros(2).expand(3, 2), lib.ones(7), (7,), (1,), 0),
}


@needs_torch
@pytest.mark.parametrize("arguments", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_refuses_as_pytorch(arguments):
    with pytest.raises(Exception) as theirs:
        torch.as_strided_scatter(*arguments(torch))
    ours_arguments = arguments(retrograd)
    with pytest.raises(type(theirs.value)) as ours:
        retrograd.as_strided_scatter(*ours_arguments)
    assert str(ours.value) == str(theirs.value)
    if isinstance(ours_arguments[0], retrograd.Tensor):
        assert not ours_arguments[0].any()


# ---------------------------------------------------------------------------
# The grad_fn and the gradients


def _recorded(lib, window=((2, 2), (3, 1), 1)):
    size, stride, offset = window
    leaf = lib.linspace(-1.0, 1.0, 12, dtype=lib.float64).requires_grad_()
    src = lib.linspace(2.0, 3.0, int(np.prod(size)), dtype=lib.float64).reshape(size).requires_grad_()
    return leaf, src, lib.as_strided_scatter(leaf * 1, src * 1, size, stride, offset)


@needs_torch
@pytest.mark.parametrize("offset", [1, None])
def test_grad_fn_and_saved_values_are_pytorchs(offset):
    (*_, ours), (*_, theirs) = (_recorded(lib, ((2, 2), (3, 1), offset)) for lib in (retrograd, torch))
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "AsStridedScatterBackward0"
    names = sorted(name for name in dir(theirs.grad_fn) if name.startswith("_saved_"))
    assert sorted(name for name in dir(ours.grad_fn) if name.startswith("_saved_")) == names
    for name in names:
        assert getattr(ours.grad_fn, name) == getattr(theirs.grad_fn, name)
    assert [node.name() for node, _ in ours.grad_fn.next_functions] == ["MulBackward0", "MulBackward0"]


def test_input_gradient_is_the_incoming_one_off_the_window():
    leaf, src, result = _recorded(retrograd)
    result.backward(retrograd.arange(12.0, dtype=retrograd.float64))
    assert leaf.grad.tolist() == [0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    assert src.grad.tolist() == [[1.0, 2.0], [4.0, 5.0]]


@needs_torch
def test_src_gradient_is_pytorchs():
    grads = []
    for lib in (retrograd, torch):
        _, src, result = _recorded(lib)
        result.backward(lib.arange(12.0, dtype=lib.float64))
        grads.append(src.grad.numpy())
    np.testing.assert_array_equal(*grads)


GRAD_CASES = {
    # name: (input from the leaf, window)
    "plain": (lambda leaf: leaf, ((2, 2), (3, 1), 1)),
    "overlapping_window": (lambda leaf: leaf, ((3, 2), (1, 1), 2)),
    "transposed_input": (lambda leaf: leaf.reshape(3, 4).t(), ((3, 2), (2, 1), 1)),
    "sliced_input": (lambda leaf: leaf[3:], ((2, 3), (3, 1), None)),
    "window_partly_before_the_input": (lambda leaf: leaf[6:], ((4,), (2,), 1)),
    "expanded_input": (lambda leaf: leaf[:4].expand(3, 4), ((2, 2), (1, 1), 3)),
    "zero_dims": (lambda leaf: leaf[5], ((), (), 0)),
    "no_elements": (lambda leaf: leaf, ((0, 3), (1, 1), 0)),
}


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradients_check_to_second_order(case):
    through, (size, stride, offset) = GRAD_CASES[case]

    def function(leaf, src):
        return retrograd.as_strided_scatter(through(leaf), src, size, stride, offset) * 1.5

    leaf = retrograd.linspace(-1.0, 1.0, 12, dtype=retrograd.float64).requires_grad_()
    src = retrograd.linspace(2.0, 3.0, int(np.prod(size)), dtype=retrograd.float64).reshape(size)
    assert gradcheck(function, (leaf, src.requires_grad_()))
    assert gradgradcheck(function, (leaf, src))


@needs_torch
def test_tangent_is_pytorchs():
    def tangent(lib):
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            primal = forward_ad.make_dual(lib.zeros(6, dtype=lib.float64), lib.arange(6.0, dtype=lib.float64))
            src = forward_ad.make_dual(lib.ones(2, dtype=lib.float64), lib.tensor([10.0, 20.0], dtype=lib.float64))
            return forward_ad.unpack_dual(lib.as_strided_scatter(primal, src, (2,), (2,), 1)).tangent

    np.testing.assert_array_equal(tangent(retrograd).numpy(), tangent(torch).numpy())


def test_under_vmap_each_example_has_its_own_storage():
    """PyTorch has no batching rule for it; retrograd runs each example on a storage of its
    own, as its vmap of as_strided does (the offset counts from the example's first element)."""
    batch = retrograd.stack([retrograd.arange(6.0), retrograd.arange(10.0, 16.0)])
    result = retrograd.vmap(lambda example: example.as_strided_scatter(-retrograd.ones(2), (2,), (2,), 1))(batch)
    assert result.tolist() == [[0.0, -1.0, 2.0, -1.0, 4.0, 5.0], [10.0, -1.0, 12.0, -1.0, 14.0, 15.0]]
