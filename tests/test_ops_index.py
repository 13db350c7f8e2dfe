"""Indexing: x[key] and x[key] = value, gather/scatter, index_*, masked_*, take, one_hot.

Gradients of the registered ops are checked by the op-table matrix (test_op_table.py);
these tests cover views, in-place writes, accumulation on repeated indices and errors.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.ops.index import one_hot


def _double(shape, requires_grad=True):
    values = np.random.default_rng(0).standard_normal(shape)
    return retrograd.tensor(values, dtype=retrograd.float64, requires_grad=requires_grad)


def _arange(*shape):
    """0, 1, 2, ... in float32 (the default dtype, so it meets `zeros` without promotion)."""
    return retrograd.tensor(np.arange(float(np.prod(shape)), dtype=np.float32).reshape(shape))


# ---------------------------------------------------------------------------
# Reading


BASIC_KEYS = [
    1,
    -1,
    (0, 2),
    (slice(1, None), slice(None, None, 2)),
    (Ellipsis, 1),
    (None, 0),
    (0, None),
    (slice(None), None, slice(1, 3)),
    Ellipsis,
    (slice(None, None, 3), Ellipsis, slice(-2, None)),
]

ADVANCED_KEYS = [
    [0, 2, 0],
    ([1, 1], [0, 3]),
    (slice(None), 0, [1, 2]),
    (0, slice(None), [1, 2]),
    ([[0], [2]], slice(None), [1, 0]),
    (slice(1, None), [0, 0, 3]),
    ([0, 1], Ellipsis, None),
    False,
    True,  # (a copy in PyTorch: the inserted dim is indexed by a bool index, as for False)
    (True, True),
    ([0, 2], True),
]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_index_is_a_view_matching_pytorch(key):
    torch = pytest.importorskip("torch")
    x = _arange(3, 4, 5)
    result = x[key]
    expected = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5)[key]
    assert result.shape == tuple(expected.shape)
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    assert result._is_view() and np.shares_memory(result.numpy(), x.numpy())


@pytest.mark.parametrize("key", ADVANCED_KEYS, ids=repr)
def test_advanced_index_is_a_copy_matching_pytorch(key):
    torch = pytest.importorskip("torch")
    x = _arange(3, 4, 5)
    result = x[key]
    expected = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5)[key]
    assert result.shape == tuple(expected.shape)
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    assert not result._is_view()


def test_index_shapes_follow_pytorch_not_numpy_for_ints_between_slices():
    x = retrograd.zeros(2, 3, 4, 5)
    assert x[:, 0, :, [1, 2]].shape == (2, 4, 2)


def test_tensor_indices_and_masks():
    x = _arange(3, 4)
    assert x[retrograd.tensor(1)].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert x[retrograd.tensor(1)]._is_view()
    assert x[retrograd.tensor([2, -3])][:, 0].tolist() == [8.0, 0.0]
    mask = retrograd.tensor([True, False, True])
    assert x[mask].shape == (2, 4)
    assert x[x.numpy() > 9].tolist() == [10.0, 11.0]
    assert x[retrograd.tensor(np.arange(12).reshape(3, 4) % 5 == 0)].tolist() == [0.0, 5.0, 10.0]


def test_byte_tensor_index_is_a_mask_with_a_deprecation_warning():
    x = _arange(3)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        assert x[retrograd.tensor([1, 0, 1], dtype=retrograd.uint8)].tolist() == [0.0, 2.0]


@pytest.mark.parametrize(
    ("key", "name"),
    [(0, "SelectBackward0"), ((slice(None), 1), "SelectBackward0"), ((0, slice(1, None)), "SliceBackward0"),
     ((slice(None), None), "UnsqueezeBackward0"), ((None, 0), "SelectBackward0"),
     ((slice(None), slice(None)), "AliasBackward0"), ([0, 0], "IndexBackward0")],
)
def test_getitem_grad_fn_names(key, name):
    assert _double((2, 3))[key].grad_fn.name() == name


def test_repeated_indices_accumulate_gradients():
    x = _double((3,))
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_advanced_index_second_derivative():
    index = retrograd.tensor([[0, 1], [1, 1]])
    x = _double((2, 3))
    assert gradcheck(lambda t: t[index, 1:] ** 2, (x,))
    assert gradgradcheck(lambda t: t[index, 1:] ** 2, (x,))


def test_getitem_works_without_grad_and_on_integers():
    x = retrograd.tensor([[1, 2], [3, 4]])
    assert x[1, 0].item() == 3
    assert x[:, [1]].tolist() == [[2], [4]]


# ---------------------------------------------------------------------------
# Writing


def test_setitem_on_a_plain_tensor_writes_in_place_and_bumps_the_version():
    x = retrograd.zeros(2, 3)
    view = x[1]
    x[1, 1:] = 5.0
    x[[0, 0], [0, 2]] = retrograd.tensor([1.0, 2.0])
    assert x.tolist() == [[1.0, 0.0, 2.0], [0.0, 5.0, 5.0]]
    assert view.tolist() == [0.0, 5.0, 5.0]
    assert x._version == 2 and x.grad_fn is None


def test_setitem_casts_to_the_tensor_dtype():
    x = retrograd.zeros(3, dtype=retrograd.int64)
    x[0] = 1.7
    assert x.tolist() == [1, 0, 0] and x.dtype == retrograd.int64


def test_setitem_gradient_flows_to_the_tensor_and_to_the_value():
    x = _double((3, 4))
    value = _double((4,))
    weights = retrograd.tensor(np.arange(12.0).reshape(3, 4))
    y = x * 1
    y[1] = value
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    (y * weights).sum().backward()
    expected_x = np.arange(12.0).reshape(3, 4)
    expected_x[1] = 0
    np.testing.assert_array_equal(x.grad.numpy(), expected_x)
    np.testing.assert_array_equal(value.grad.numpy(), [4.0, 5.0, 6.0, 7.0])


def test_setitem_value_gradient_is_summed_over_broadcasting():
    x = _double((3, 4))
    value = _double((1, 1))
    y = x * 1
    y[[0, 2], 1:] = value
    assert y.grad_fn.name() == "torch::autograd::CopySlices"  # (the slice makes a view, as in PyTorch)
    y.sum().backward()
    assert value.grad.tolist() == [[6.0]]
    assert x.grad.numpy().sum() == 6.0


def test_setitem_with_a_value_that_requires_grad_makes_a_plain_tensor_a_graph_node():
    source = _double((3,))
    target = retrograd.zeros(3, dtype=retrograd.float64)
    target[0] = source[2]
    assert target.requires_grad and not target.is_leaf
    target.sum().backward()
    assert source.grad.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "key",
    [1, (slice(None), 0), (slice(None, None, 2), slice(1, 3)), [2, 0], (Ellipsis, [3, 1]), "mask"],
    ids=repr,
)
def test_setitem_gradients_first_and_second_order(key):
    x = _double((3, 4))
    if key == "mask":
        key = retrograd.tensor(x.detach().numpy() > 0)

    def written(base, value):
        result = base * 1
        result[key] = value
        return result * result

    value = _double(tuple(x.detach()[key].shape[-1:]))
    assert gradcheck(written, (x, value))
    assert gradgradcheck(written, (x, value))


def test_setitem_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((3, 4))
    value_data = np.random.default_rng(2).standard_normal((2, 1))
    results = []
    for library in (retrograd, torch):
        x = library.tensor(data, requires_grad=True)
        value = library.tensor(value_data, requires_grad=True)
        y = x * 2
        y[[0, 2], :2] = value
        (y**2).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), value.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs)


def test_setitem_on_a_leaf_that_requires_grad_is_refused_and_changes_nothing():
    x = _double((3,))
    before = x.detach().numpy().copy()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x[0] = 1.0
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x._version == 0


def test_setitem_under_no_grad_initialises_a_leaf():
    x = _double((3,))
    with retrograd.no_grad():
        x[0] = 0.0
    assert x.is_leaf and x.tolist()[0] == 0.0


@pytest.mark.parametrize(
    ("key", "value", "error", "message"),
    [
        (0, retrograd.zeros(3), RuntimeError,
         "The expanded size of the tensor \\(2\\) must match the existing size \\(3\\)"),
        ([0, 1], retrograd.zeros(3), RuntimeError,
         r"shape mismatch: value tensor of shape \[3\] cannot be broadcast to indexing result of "
         r"shape \[2, 2\]"),
        (5, 1.0, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ],
)
def test_failed_setitem_changes_nothing(key, value, error, message):
    x = retrograd.tensor(np.arange(6.0).reshape(3, 2))
    with pytest.raises(error, match=message):
        x[key] = value
    assert x._version == 0 and x.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


@pytest.mark.parametrize(("value", "name"), [([1.0, 2.0], "list"), (np.zeros(2), "numpy.ndarray"), (None, "NoneType")])
def test_setitem_refuses_values_that_are_not_tensors_or_numbers(value, name):
    x = retrograd.zeros(2)
    with pytest.raises(TypeError, match=f"can't assign a {name} to a retrograd.FloatTensor"):
        x[0] = value


def test_index_put_accumulates_repeated_indices():
    x = retrograd.zeros(3)
    index = (retrograd.tensor([0, 0, 2]),)
    assert x.index_put(index, retrograd.tensor(1.0), accumulate=True).tolist() == [2.0, 0.0, 1.0]
    x.index_put_(index, retrograd.tensor([1.0, 2.0, 3.0]))
    assert x.tolist()[2] == 3.0 and x._version == 1


# ---------------------------------------------------------------------------
# gather / scatter / index_* / masked_* / take


def test_gather_and_scatter_values():
    x = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
    index = retrograd.tensor([[0, 0], [1, 0]])
    assert x.gather(1, index).tolist() == [[1.0, 1.0], [4.0, 3.0]]
    assert retrograd.zeros(2, 2).scatter(1, index, x).tolist() == [[2.0, 0.0], [4.0, 3.0]]
    assert retrograd.zeros(2, 2).scatter_add(1, index, x).tolist() == [[3.0, 0.0], [4.0, 3.0]]
    assert retrograd.zeros(2, 2).scatter(0, index, 7.0).tolist() == [[7.0, 7.0], [7.0, 0.0]]
    assert retrograd.take_along_dim(x, retrograd.tensor([[1], [0]]), 1).tolist() == [[2.0], [3.0]]
    assert retrograd.take_along_dim(x, retrograd.tensor([[-1]]), 1).tolist() == [[2.0], [4.0]]
    assert retrograd.take_along_dim(x, retrograd.tensor([3, 0])).tolist() == [4.0, 1.0]
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 4"):
        retrograd.take_along_dim(x, retrograd.tensor([-1, 0]))  # (no dim: a gather of the flat input, as PyTorch)


def test_scatter_source_larger_than_index_gets_zero_gradient_outside_it():
    x, source = _double((3, 4)), _double((2, 4))
    index = retrograd.tensor([[2, 0, 1]])
    assert gradcheck(lambda a, b: a.scatter(0, index, b), (x, source))
    assert gradgradcheck(lambda a, b: a.scatter_add(0, index, b), (x, source))


def test_index_select_add_copy_fill_values():
    x = retrograd.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    index = retrograd.tensor([2, 0, 2])
    assert x.index_select(0, index).tolist() == [[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]]
    added = retrograd.zeros(3, 2).index_add(0, index, x, alpha=2)
    assert added.tolist() == [[6.0, 8.0], [0.0, 0.0], [12.0, 16.0]]
    copied = retrograd.zeros(3, 2).index_copy(0, retrograd.tensor([1, 0]), x[:2])
    assert copied.tolist() == [[3.0, 4.0], [1.0, 2.0], [0.0, 0.0]]
    assert x.index_fill(1, retrograd.tensor([0]), -1.0)[:, 0].tolist() == [-1.0, -1.0, -1.0]


def test_masked_select_and_masked_scatter_values():
    x = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
    mask = retrograd.tensor([True, False])
    assert x.masked_select(mask).tolist() == [1.0, 3.0]
    scattered = x.masked_scatter(mask, retrograd.tensor([9.0, 8.0, 7.0]))
    assert scattered.tolist() == [[9.0, 2.0], [8.0, 4.0]]


def test_take_reads_the_flattened_tensor():
    x = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.take(retrograd.tensor([[3, 0], [-1, 1]])).tolist() == [[4.0, 1.0], [4.0, 2.0]]


def test_in_place_variants_bump_the_version():
    x = retrograd.zeros(3)
    x.index_fill_(0, retrograd.tensor([1]), 2.0)
    x.scatter_(0, retrograd.tensor([0]), 1.0)
    x.masked_scatter_(retrograd.tensor([False, False, True]), retrograd.tensor([5.0]))
    assert x.tolist() == [1.0, 2.0, 5.0] and x._version == 3


def test_nonzero_and_one_hot():
    x = retrograd.tensor([[0, 3], [2, 0]])
    assert retrograd.nonzero(x).tolist() == [[0, 1], [1, 0]]
    assert [t.tolist() for t in x.nonzero(as_tuple=True)] == [[0, 1], [1, 0]]
    encoded = one_hot(retrograd.tensor([2, 0]))
    assert encoded.dtype == retrograd.int64 and encoded.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert one_hot(retrograd.tensor([1]), 4).tolist() == [[0, 1, 0, 0]]


# ---------------------------------------------------------------------------
# Errors: PyTorch's types and messages


ERRORS = [
    (lambda: _arange(3, 2)[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda: _arange(3, 2)[-4], IndexError, "index -4 is out of bounds for dimension 0 with size 3"),
    (lambda: _arange(3, 2)[0, 2], IndexError, "index 2 is out of bounds for dimension 1 with size 2"),
    (lambda: _arange(3, 2)[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda: retrograd.tensor(1.0)[0], IndexError, "invalid index of a 0-dim tensor. Use `tensor.item\\(\\)`"),
    (lambda: retrograd.tensor(1.0)[:], IndexError, "slice\\(\\) cannot be applied to a 0-dim tensor."),
    (lambda: _arange(3, 2)[[0, 5]], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda: _arange(3, 2)[:, [2]], IndexError, "index 2 is out of bounds for dimension 0 with size 2"),
    (lambda: _arange(3, 2)[retrograd.tensor([True, False])], IndexError,
     r"The shape of the mask \[2\] at index 0 does not match the shape of the indexed tensor "
     r"\[3, 2\] at index 0"),
    (lambda: _arange(3, 2)[1.5], IndexError, "only integers, slices"),
    (lambda: _arange(3, 2)[retrograd.tensor([1.0])], IndexError, "tensors used as indices must be long"),
    (lambda: _arange(3, 2)[::-1], ValueError, "step must be greater than zero"),
    (lambda: _arange(3, 2).gather(0, retrograd.tensor([0])), RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda: _arange(3, 2).gather(0, retrograd.tensor([[5]])), RuntimeError,
     "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda: _arange(3, 2).gather(0, retrograd.tensor([[0.0]])), RuntimeError,
     "Expected dtype int32/int64 for index"),
    (lambda: _arange(3, 2).gather(0, retrograd.zeros(1, 3, dtype=retrograd.int64)), RuntimeError,
     "Size does not match at dimension 1"),
    (lambda: _arange(3, 2).scatter(0, retrograd.zeros(2, 2, dtype=retrograd.int64), retrograd.zeros(1, 1)),
     RuntimeError, "to be no larger size than src"),
    (lambda: _arange(3, 2).index_select(0, retrograd.tensor([3])), IndexError, "index out of range in self"),
    (lambda: _arange(3, 2).index_select(0, retrograd.tensor([[0]])), IndexError,
     "Index is supposed to be a vector"),
    (lambda: retrograd.tensor(5.0).index_select(0, retrograd.tensor([0, 0])), RuntimeError,
     "Index to scalar can have only 1 value, got 2 value\\(s\\)"),
    (lambda: retrograd.tensor(5.0).index_select(1, retrograd.tensor([0])), IndexError,
     "Dimension out of range"),
    (lambda: _arange(3, 2).index_add(0, retrograd.tensor([0]), retrograd.zeros(2, 2)), RuntimeError,
     "^index_add_\\(\\): Number of indices \\(1\\) should be equal to source.size\\(dim\\): \\(2\\), for dim: 0$"),
    (lambda: retrograd.zeros(3).index_add(0, retrograd.tensor([5]), retrograd.ones(1)), IndexError,
     "^index out of range in self$"),
    (lambda: retrograd.zeros(3, 2).index_add(1, retrograd.tensor([5]), retrograd.ones(3, 1)), RuntimeError,
     "^index 5 is out of bounds for dimension 1 with size 2$"),
    (lambda: retrograd.zeros(3).index_copy(0, retrograd.tensor([-1]), retrograd.ones(1)), IndexError,
     "^index_copy_\\(\\): index -1 is out of bounds for dimension 0 with size 3$"),
    (lambda: retrograd.zeros(3).index_copy(0, retrograd.tensor([0, 1]), retrograd.ones(1)), IndexError,
     "^index_copy_\\(\\): Number of indices \\(2\\) should be equal to source.size\\(dim\\) \\(1\\)$"),
    (lambda: _arange(3, 2).index_fill(0, retrograd.tensor([0]), retrograd.zeros(2)), RuntimeError,
     "index_fill_ only supports a 0-dimensional value tensor"),
    (lambda: _arange(3, 2).masked_select(retrograd.zeros(3, 2)), RuntimeError,
     "masked_select: expected BoolTensor for mask"),
    (lambda: _arange(3, 2).masked_scatter(retrograd.ones(3, 2, dtype=retrograd.bool), retrograd.zeros(2)),
     RuntimeError, "Number of elements of source < number of ones in mask"),
    (lambda: _arange(3, 2).take(retrograd.tensor([6])), IndexError,
     "out of range: tried to access index 6 on a tensor of 6 elements"),
    (lambda: _one_hot(retrograd.tensor([1.0])), RuntimeError, "one_hot is only applicable to index tensor"),
    (lambda: _one_hot(retrograd.tensor([-1])), RuntimeError, "Class values must be non-negative."),
    (lambda: _one_hot(retrograd.tensor([3]), 3), RuntimeError,
     "Class values must be smaller than num_classes."),
]


def _one_hot(*args):
    if retrograd.__name__ == "torch":
        return retrograd.nn.functional.one_hot(*args)
    return one_hot(*args)


@pytest.mark.parametrize(("call", "error", "message"), ERRORS)
def test_bad_input_raises_pytorchs_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(("call", "error", "message"), ERRORS)
def test_pytorch_raises_the_same_error(call, error, message, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(sys.modules[__name__], "retrograd", torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=message):
            call()


def test_index_add_refuses_a_0d_source_for_a_vector_as_pytorch():
    x = retrograd.zeros(3)
    with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
        x.index_add(0, retrograd.tensor([1]), retrograd.tensor(5.0))
    assert x.index_copy(0, retrograd.tensor([1]), retrograd.tensor(5.0)).tolist() == [0.0, 5.0, 0.0]


def _index_select_of_a_scalar_and_a_changed_index(torch):
    scalar = torch.tensor(5.0, requires_grad=True)
    picked = scalar.index_select(-1, torch.tensor([0]))
    picked.backward()
    seen = {"scalar": (tuple(picked.shape), type(picked.grad_fn.next_functions[0][0]).__name__,
                       scalar.grad.tolist())}
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    index = torch.tensor([1, 1], dtype=torch.int32)
    y = x.index_select(-1, index)
    seen["saved"] = (y.grad_fn._saved_index is index, y.grad_fn._saved_dim % 2 ** 64)
    y.backward(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), retain_graph=True)
    seen["grad"] = x.grad.tolist()
    index.add_(0)
    try:
        y.sum().backward()
    except RuntimeError as error:
        seen["changed index"] = str(error).split("operation: ")[1].split(" is at")[0]
    return seen


INDEX_SELECT_OF_A_SCALAR_AND_A_CHANGED_INDEX = {
    "scalar": ((), "AccumulateGrad", 1.0),
    "saved": (True, 2 ** 64 - 1),  # dim as given (-1; PyTorch shows its unsigned 64-bit pattern)
    "grad": [[0.0, 3.0], [0.0, 7.0]],
    "changed index": "[LIB.IntTensor [2]]",
}


def test_index_select_of_a_scalar_and_its_saved_index():
    seen = _index_select_of_a_scalar_and_a_changed_index(retrograd)
    seen["changed index"] = seen["changed index"].replace("retrograd", "LIB")
    assert seen == INDEX_SELECT_OF_A_SCALAR_AND_A_CHANGED_INDEX


def test_index_select_of_a_scalar_and_its_saved_index_in_pytorch():
    torch = pytest.importorskip("torch")
    seen = _index_select_of_a_scalar_and_a_changed_index(torch)
    seen["changed index"] = seen["changed index"].replace("torch", "LIB")
    assert seen == INDEX_SELECT_OF_A_SCALAR_AND_A_CHANGED_INDEX


@pytest.mark.parametrize("op", ["index_add", "index_copy"])
@pytest.mark.parametrize("index", [[0], 0])
def test_index_add_and_index_copy_take_a_0d_self_with_one_index(op, index):
    x = retrograd.tensor(1.0, requires_grad=True)
    source = retrograd.tensor(5.0, requires_grad=True)
    result = getattr(x, op)(0, retrograd.tensor(index), source)
    assert result.shape == ()
    assert result.item() == (6.0 if op == "index_add" else 5.0)
    assert type(result.grad_fn).__name__ == ("IndexAddBackward0" if op == "index_add" else "IndexCopyBackward0")
    result.backward()
    assert x.grad.shape == () and x.grad.item() == (1.0 if op == "index_add" else 0.0)
    assert source.grad.shape == () and source.grad.item() == 1.0


def test_a_0d_index_add_refuses_a_source_of_another_shape_and_two_indices():
    x = retrograd.tensor(1.0)
    with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
        x.index_add(0, retrograd.tensor([0]), retrograd.tensor([5.0]))
    with pytest.raises(RuntimeError, match="Number of indices"):
        x.index_add(0, retrograd.tensor([0, 0]), retrograd.tensor(5.0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.index_add(1, retrograd.tensor([0]), retrograd.tensor(5.0))
    assert x.index_add(-1, retrograd.tensor([0]), retrograd.tensor(5.0), alpha=2).item() == 11.0
    assert x.index_copy(0, retrograd.tensor([0]), retrograd.tensor([5.0])).shape == ()


def _scatter_reduce_run(library, reduce, include_self, in_place):
    x = library.tensor([[1.0, 0.0, 3.0], [2.0, 5.0, -1.0]], dtype=library.float64, requires_grad=True)
    src = library.tensor([[4.0, 0.0, 6.0, 0.5], [7.0, 5.0, 0.0, 2.0]], dtype=library.float64,
                         requires_grad=True)
    index = library.tensor([[0, 1, 0, 2], [2, 1, 1, 2]])
    if in_place:
        result = x.clone()
        result.scatter_reduce_(1, index, src, reduce, include_self=include_self)
    else:
        result = library.scatter_reduce(x, 1, index, src, reduce, include_self=include_self)
    name = type(result.grad_fn).__name__
    (result * library.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=library.float64)).sum().backward()
    return result.tolist(), x.grad.tolist(), src.grad.tolist(), name


@needs_torch
@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_values_and_gradients_are_pytorchs(reduce, include_self, in_place):
    import torch

    ours = _scatter_reduce_run(retrograd, reduce, include_self, in_place)
    theirs = _scatter_reduce_run(torch, reduce, include_self, in_place)
    assert ours[3] == theirs[3] == "ScatterReduceBackward0"
    for mine, reference in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(mine, reference, rtol=1e-14)


def test_scatter_reduce_refuses_what_pytorch_refuses_and_averages_integers_downwards():
    x = retrograd.tensor([1, 2, 3])
    index = retrograd.tensor([0, 0])
    assert retrograd.scatter_reduce(x, 0, index, retrograd.tensor([4, 5]), "mean").tolist() == [3, 2, 3]
    assert x.scatter_reduce(0, index, retrograd.tensor([4, 6]), "mean", include_self=False).tolist() == [5, 2, 3]
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin, got avg"):
        x.scatter_reduce(0, index, retrograd.tensor([4, 5]), "avg")
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter_reduce(0, index, retrograd.tensor([4.0, 5.0]), "sum")
    assert x.tolist() == [1, 2, 3]


def _index_reduce_run(library, reduce, include_self):
    import warnings

    x = library.tensor([[1.0, 0.0, 3.0], [2.0, 5.0, -1.0], [0.5, 1.5, 2.5]], dtype=library.float64,
                       requires_grad=True)
    source = library.tensor([[4.0, 0.0, 6.0], [7.0, 5.0, 0.0], [1.0, 2.0, 3.0], [-1.0, 9.0, 2.0]],
                            dtype=library.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = x.index_reduce(0, library.tensor([0, 2, 0, 1]), source, reduce, include_self=include_self)
    (result * library.arange(9.0, dtype=library.float64).reshape(3, 3)).sum().backward()
    return result.tolist(), x.grad.tolist(), source.grad.tolist(), type(result.grad_fn).__name__


@needs_torch
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce_values_and_gradients_are_pytorchs(reduce, include_self):
    import torch

    ours, theirs = _index_reduce_run(retrograd, reduce, include_self), _index_reduce_run(torch, reduce, include_self)
    assert ours[3] == theirs[3] == "IndexReduceBackward0"
    for mine, reference in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(mine, reference, rtol=1e-14)


def test_index_reduce_refuses_sum_and_a_wrong_count_of_indices():
    import warnings

    x = retrograd.ones(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(RuntimeError, match="Expected reduce to be one of prod, mean, amax or amin but got sum"):
            x.index_reduce(0, retrograd.tensor([0, 1]), retrograd.ones(2, 2), "sum")
        with pytest.raises(RuntimeError, match="Number of indices \\(2\\) should be equal to source.size"):
            x.index_reduce(0, retrograd.tensor([0, 1]), retrograd.ones(4, 2), "mean")
        with pytest.raises(IndexError, match="index out of range in self"):
            x.index_reduce(0, retrograd.tensor([0, 5]), retrograd.ones(2, 2), "mean")
        y = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
        y.index_reduce_(1, retrograd.tensor([1, 1]), retrograd.tensor([[2.0, 3.0], [4.0, 5.0]]), "mean",
                        include_self=False)
    assert y.tolist() == [[1.0, 2.5], [3.0, 4.5]]
    assert x.tolist() == [[1.0, 1.0]] * 3


def _put_run(library, accumulate, in_place):
    x = library.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=library.float64, requires_grad=True)
    source = library.tensor([[7.0, 8.0], [9.0, 10.0]], dtype=library.float64, requires_grad=True)
    index = library.tensor([[0, -1], [5, 2]]) if accumulate else library.tensor([[0, -2], [5, 2]])
    if in_place:
        result = x.clone()
        result.put_(index, source, accumulate=accumulate)
    else:
        result = library.put(x, index, source, accumulate=accumulate)
    (result * library.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=library.float64)).sum().backward()
    return result.tolist(), x.grad.tolist(), source.grad.tolist(), type(result.grad_fn).__name__


@needs_torch
@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("accumulate", [False, True])
def test_put_records_pytorchs_node_and_gradients(accumulate, in_place):
    import torch

    ours, theirs = _put_run(retrograd, accumulate, in_place), _put_run(torch, accumulate, in_place)
    assert ours == theirs
    assert ours[3] == "PutBackward0"


def test_fill_is_fill_out_of_place():
    x = retrograd.rand(3, requires_grad=True)
    value = retrograd.tensor(2.0, requires_grad=True)
    assert type(retrograd.fill(x, 1.5).grad_fn).__name__ == "FillBackward0"
    result = retrograd.fill(x, value)
    assert type(result.grad_fn).__name__ == "FillBackward1" and result.tolist() == [2.0] * 3
    result.sum().backward()
    assert value.grad.item() == 3.0 and x.grad.tolist() == [0.0] * 3
    assert retrograd.fill(retrograd.tensor([1, 2]), 2.5).tolist() == [2, 2]
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor"):
        retrograd.fill(x, retrograd.ones(2))


def test_plain_keys_take_a_fast_path_that_parses_them_as_the_general_parser_does(monkeypatch):
    import itertools

    from retrograd.ops.index import subscript

    parts = [0, 2, -1, 5, -4, slice(None), slice(0, 1), slice(1, None), slice(None, -1),
             slice(None, None, 2), slice(0, 3, 1), slice(-5, 10)]
    keys = [key for count in range(4) for key in itertools.product(parts, repeat=count)] + [0, -1, slice(1, 2)]

    def parsed(parse, key, writing):
        try:
            found = parse(key, (3, 4, 2), writing)
        except IndexError:
            return IndexError
        return found if found is None else (found.basic, found.advanced, found.view_class)

    fast = [(key, writing, parsed(subscript._plain_key, key, writing)) for key in keys for writing in (False, True)]
    monkeypatch.setattr(subscript, "_plain_key", lambda key, shape, writing=False: None)
    assert all(parsed(subscript._parse_key, key, writing) == found for key, writing, found in fast)
    assert all(found is not None for _, _, found in fast)  # (every one of them took the fast path)
