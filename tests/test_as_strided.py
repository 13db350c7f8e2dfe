"""as_strided: a window (size, stride, storage offset) on a tensor's storage, as PyTorch's.

The storage is the memory the tensor shares with its views (see Note [Storage of a
NumPy-backed tensor] in _storage.py): `x[2:].as_strided((2,), (1,), 0)` reads x[0] and x[1].
Values, errors, gradients (AsStridedBackward0: summed where the window overlaps itself,
shared out where the input overlaps itself), the in-place form and the scatter form are
compared with PyTorch's.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck, gradgradcheck


def _pair(make):
    """The same tensor made by `make(library)` in both libraries."""
    return make(retrograd), make(torch)


# Inputs whose storage differs from their elements: slices, transposes, expansions.
INPUTS = {
    "contiguous": lambda lib: lib.arange(12.0, dtype=lib.float64),
    "matrix": lambda lib: lib.arange(12.0, dtype=lib.float64).reshape(3, 4),
    "transposed": lambda lib: lib.arange(12.0, dtype=lib.float64).reshape(3, 4).t(),
    "sliced": lambda lib: lib.arange(12.0, dtype=lib.float64)[3:9],
    "stepped": lambda lib: lib.arange(12.0, dtype=lib.float64).reshape(3, 4)[:, 1::2],
    "expanded": lambda lib: lib.arange(4.0, dtype=lib.float64).expand(3, 4),
    "detached_slice": lambda lib: lib.arange(12.0, dtype=lib.float64)[5:].detach(),
}

# (size, stride, storage_offset): windows within every input's storage (4 elements at least).
WINDOWS = [
    ((2, 2), (1, 2), 0),
    ((2,), (1,), None),
    ((3, 2), (1, 1), None),  # overlapping: sliding windows
    ((2, 3), (0, 1), 1),  # a repeated row
    ((), (), 3),
    ((0, 5), (1, 1), 100),  # no elements: any offset
    ((4,), (1,), 0),
]


@needs_torch
@pytest.mark.parametrize("window", WINDOWS, ids=str)
@pytest.mark.parametrize("make", INPUTS.values(), ids=INPUTS.keys())
def test_as_strided_reads_the_storage_as_pytorch(make, window):
    ours, theirs = _pair(make)
    size, stride, offset = window
    expected = theirs.as_strided(size, stride, offset)
    result = ours.as_strided(size, stride, offset)
    assert result.shape == tuple(expected.shape)
    assert result.stride() == expected.stride()
    assert result.storage_offset() == expected.storage_offset()
    np.testing.assert_array_equal(result.numpy(), expected.numpy())


@needs_torch
@pytest.mark.parametrize("make", INPUTS.values(), ids=INPUTS.keys())
def test_storage_offset_is_pytorchs(make):
    ours, theirs = _pair(make)
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.data.storage_offset() == theirs.data.storage_offset()


def test_as_strided_is_a_view_that_writes_through():
    base = retrograd.arange(6.0)
    window = base[1:].as_strided((2, 2), (1, 2))
    assert window._base is base
    assert window._version == base._version
    window[1, 1] = 100.0
    assert base.tolist() == [0.0, 1.0, 2.0, 3.0, 100.0, 5.0]
    assert window.data_ptr() == base.data_ptr() + base.element_size()


def test_function_and_keyword_forms():
    x = retrograd.arange(6.0)
    assert retrograd.as_strided(x, (2,), (2,), storage_offset=1).tolist() == [1.0, 3.0]
    assert x.as_strided(size=[2], stride=[3]).tolist() == [0.0, 3.0]
    assert x.as_strided(retrograd.Size([2]), (1,), 4).tolist() == [4.0, 5.0]
    assert retrograd.arange(6).as_strided((2,), (2,)).dtype is retrograd.int64


BAD_CALLS = [
    ((10,), (1,)),  # beyond the storage
    ((2,), (1,), 5),
    ((2, 3), (3, 1), 1),
    ((2,), (-1,), 3),  # negative stride
    ((2,), (1, 2)),  # lengths differ
    ((2,), (1,), -1),  # negative offset
    ((-1,), (1,)),
    ([2.5], (1,)),
    ((2,), (1.0,)),
    ((2,), (1,), 1.5),
]


@needs_torch
@pytest.mark.parametrize("arguments", BAD_CALLS, ids=str)
def test_as_strided_refuses_as_pytorch(arguments):
    with pytest.raises(Exception) as theirs:
        torch.arange(6.0).as_strided(*arguments)
    with pytest.raises(type(theirs.value)) as ours:
        retrograd.arange(6.0).as_strided(*arguments)
    assert str(ours.value) == str(theirs.value)


@needs_torch
def test_the_bounds_are_those_of_the_storage_not_of_the_tensor():
    for lib in (torch, retrograd):
        x = lib.arange(6.0)[4:]
        assert x.as_strided((6,), (1,), 0).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
            x.as_strided((3,), (1,))


# ---------------------------------------------------------------------------
# Gradients


GRAD_CASES = {
    # name: (input from the leaf, window)
    "plain": (lambda leaf: leaf, ((2, 2), (1, 2), 1)),
    "sliding_windows": (lambda leaf: leaf, ((4, 3), (1, 1), 0)),
    "repeated_row": (lambda leaf: leaf, ((3, 4), (0, 1), 2)),
    "transposed_input": (lambda leaf: leaf.reshape(3, 4).t(), ((3, 2), (2, 1), 1)),
    "sliced_input": (lambda leaf: leaf[3:], ((2, 3), (3, 1), None)),
    "sliced_input_reaching_back": (lambda leaf: leaf[6:], ((4,), (2,), 0)),
    "expanded_input": (lambda leaf: leaf[:4].expand(3, 4), ((2, 2), (1, 1), 0)),
    "expanded_input_window_off_it": (lambda leaf: leaf[:4].expand(3, 4), ((2,), (1,), 2)),
    "no_elements": (lambda leaf: leaf, ((0, 3), (1, 1), 0)),
}


def _gradient(lib, case):
    through, (size, stride, offset) = GRAD_CASES[case]
    leaf = lib.linspace(-1.0, 1.0, 12, dtype=lib.float64).requires_grad_()
    output = through(leaf).as_strided(size, stride, offset)
    weights = lib.arange(1.0, output.numel() + 1.0, dtype=lib.float64).reshape(output.shape)
    (output * weights).sum().backward()
    return leaf.grad, output.grad_fn


@needs_torch
@pytest.mark.parametrize("case", GRAD_CASES)
def test_as_strided_gradient_is_pytorchs(case):
    ours, our_node = _gradient(retrograd, case)
    theirs, their_node = _gradient(torch, case)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    assert our_node.name() == their_node.name() == "AsStridedBackward0"
    for name in ("size", "stride", "storage_offset"):
        assert getattr(our_node, f"_saved_{name}") == getattr(their_node, f"_saved_{name}")


@needs_torch
def test_as_strided_saved_names_are_pytorchs():
    def saved(lib):
        node = lib.arange(6.0, requires_grad=True).as_strided((2,), (2,), 1).grad_fn
        return [name for name in dir(node) if name.startswith("_saved_")]

    assert saved(retrograd) == saved(torch)


# A window reaching storage outside its input reads values that are no input's: the numerical
# Jacobian sees them change, the gradient (PyTorch's too) does not flow there.
@pytest.mark.parametrize("case", [case for case in GRAD_CASES if case != "sliced_input_reaching_back"])
def test_as_strided_gradients_check_to_second_order(case):
    through, (size, stride, offset) = GRAD_CASES[case]

    def function(leaf):
        return through(leaf).as_strided(size, stride, offset) * 1.5

    leaf = retrograd.linspace(-1.0, 1.0, 12, dtype=retrograd.float64).requires_grad_()
    assert gradcheck(function, (leaf,))
    assert gradgradcheck(function, (leaf,))


@needs_torch
def test_as_strided_tangent_is_pytorchs():
    def tangent(lib):
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            primal = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).t()
            direction = lib.arange(10.0, 16.0, dtype=lib.float64).reshape(2, 3).t()
            dual = forward_ad.make_dual(primal, direction)
            return forward_ad.unpack_dual(dual.as_strided((2, 2), (1, 2), 1)).tangent

    np.testing.assert_array_equal(tangent(retrograd).numpy(), tangent(torch).numpy())


@needs_torch
def test_writing_through_an_as_strided_view_of_a_graph_tensor():
    def run(lib):
        leaf = lib.arange(6.0, dtype=lib.float64, requires_grad=True)
        doubled = leaf * 2
        window = doubled.as_strided((2,), (2,), 1)
        window.mul_(leaf[:2])
        (doubled * lib.arange(6.0, dtype=lib.float64)).sum().backward()
        return doubled.detach(), leaf.grad

    (our_value, our_grad), (their_value, their_grad) = run(retrograd), run(torch)
    np.testing.assert_array_equal(our_value.numpy(), their_value.numpy())
    np.testing.assert_array_equal(our_grad.numpy(), their_grad.numpy())


@needs_torch
@pytest.mark.parametrize("window", [((2, 2), (1, 2), 1), ((3,), (2,), None), ((2, 3), (1, 1), 0)], ids=str)
def test_under_vmap_each_example_has_its_own_storage_as_in_pytorch(window):
    def run(lib):
        batch = lib.stack([lib.arange(12.0, dtype=lib.float64), lib.arange(100.0, 112.0, dtype=lib.float64)])
        return lib.vmap(lambda example: example.as_strided(*window))(batch)

    np.testing.assert_array_equal(run(retrograd).numpy(), run(torch).numpy())


# ---------------------------------------------------------------------------
# The in-place form


@needs_torch
def test_as_strided_in_place_changes_the_geometry_as_pytorch():
    for lib in (torch, retrograd):
        x = lib.arange(6.0)
        assert x.as_strided_((2, 2), (1, 2), 1) is x
        assert x.tolist() == [[1.0, 3.0], [2.0, 4.0]]
        assert (x.stride(), x.storage_offset(), x._version) == ((1, 2), 1, 1)
        y = lib.arange(6.0)
        assert lib.as_strided_(y, (3,), (2,)) is y and y.tolist() == [0.0, 2.0, 4.0]


@needs_torch
def test_as_strided_in_place_records_as_pytorch():
    def run(lib):
        leaf = lib.arange(6.0, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
            leaf.as_strided_((2,), (1,))
        product = leaf * 1
        product.as_strided_((2, 2), (1, 2), 1)
        name = product.grad_fn.name()
        (product * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
        return name, leaf.grad.tolist()

    assert run(retrograd) == run(torch)


# ---------------------------------------------------------------------------
# Tensors laid out with given strides


@needs_torch
@pytest.mark.parametrize("layout", [((2, 3), (1, 2)), ((2, 3), (0, 1)), ((3,), (2,)), ((0, 2), (5, 1)),
                                    ((), ())], ids=str)
def test_empty_strided_keeps_the_strides_as_pytorch(layout):
    size, stride = layout
    ours, theirs = retrograd.empty_strided(size, stride), torch.empty_strided(size, stride)
    assert (ours.shape, ours.stride(), ours.storage_offset()) == (
        tuple(theirs.shape), theirs.stride(), theirs.storage_offset())
    made = retrograd.ones(2, dtype=retrograd.float64).new_empty_strided(size, stride)
    assert made.stride() == theirs.stride() and made.dtype is retrograd.float64


@needs_torch
@pytest.mark.parametrize("layout", [((2,), (1, 2)), ((2,), (-1,))], ids=str)
def test_empty_strided_refuses_as_pytorch(layout):
    with pytest.raises(RuntimeError) as theirs:
        torch.empty_strided(*layout)
    with pytest.raises(RuntimeError, match=re.escape(str(theirs.value))):
        retrograd.empty_strided(*layout)
