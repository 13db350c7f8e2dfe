"""Shape operators: views share memory, names and errors are PyTorch's, gradients flow back.

Gradients of every op are also checked (first and second order, and against PyTorch) by
the op-table matrix in test_op_table.py; these tests cover what that matrix cannot see.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import retrograd
from retrograd.autograd import gradcheck, gradgradcheck


def _double(shape, requires_grad=True):
    values = np.random.default_rng(0).standard_normal(shape)
    return retrograd.tensor(values, dtype=retrograd.float64, requires_grad=requires_grad)


def _grad_fn_name(tensor):
    return tensor.grad_fn.name() if tensor.grad_fn is not None else None


# ---------------------------------------------------------------------------
# Views share memory and the version counter with their base


VIEWS = {
    "view": lambda x: x.view(6, 4),
    "reshape": lambda x: x.reshape(-1),
    "flatten": lambda x: x.flatten(1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "movedim": lambda x: x.movedim(0, -1),
    "mT": lambda x: x.mT,
    "expand": lambda x: x[:, :1].expand(2, 3, 4),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "select": lambda x: x.select(0, 1),
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "getitem": lambda x: x[1, ::2, None],
    "split": lambda x: x.split(1, 2)[1],
    "chunk": lambda x: x.chunk(2, 1)[0],
    "unbind": lambda x: x.unbind(1)[2],
    "tensor_split": lambda x: x.tensor_split(2, 2)[1],
}


@pytest.mark.parametrize("make_view", VIEWS.values(), ids=VIEWS.keys())
def test_view_shares_memory_and_version_with_its_base(make_view):
    base = retrograd.tensor(np.arange(24.0).reshape(2, 3, 4))
    view = make_view(base)
    assert view._is_view() and view._base is base
    assert np.shares_memory(view.numpy(), base.numpy())
    base.add_(1)
    assert view._version == base._version == 1


def test_view_of_a_view_has_the_first_base():
    base = retrograd.zeros(2, 3)
    assert base[0].unsqueeze(0)._base is base


def test_writing_through_a_view_changes_the_base():
    base = retrograd.zeros(2, 3)
    base.t()[2].fill_(7.0)
    assert base.tolist() == [[0.0, 0.0, 7.0], [0.0, 0.0, 7.0]]


def test_diagonal_view_is_writable():
    base = retrograd.zeros(3, 4)
    base.diagonal(1).fill_(1.0)
    np.testing.assert_array_equal(base.numpy(), np.eye(3, 4, 1))


COPIES = {
    "clone": lambda x: x.clone(),
    "flip": lambda x: x.flip(0),
    "roll": lambda x: x.roll(1),
    "rot90": lambda x: x.rot90(),
    "repeat": lambda x: x.repeat(1, 1, 1),
    "tril": lambda x: x.tril(),
    "cat": lambda x: retrograd.cat([x]),
    "stack": lambda x: retrograd.stack([x]),
    "diag_embed": lambda x: x.diag_embed(),
}


@pytest.mark.parametrize("make_copy", COPIES.values(), ids=COPIES.keys())
def test_copying_ops_own_their_memory(make_copy):
    base = retrograd.tensor(np.arange(24.0).reshape(2, 3, 4))
    result = make_copy(base)
    assert not result._is_view()
    assert not np.shares_memory(result.numpy(), base.numpy())


def test_reshape_copies_when_no_view_is_possible():
    x = _double((2, 3))
    y = x.t().reshape(6)
    assert _grad_fn_name(y) == "UnsafeViewBackward0" and not y._is_view()
    assert _grad_fn_name(x.reshape(3, 2)) == "ViewBackward0"


def test_view_refuses_incompatible_strides():
    x = retrograd.zeros(2, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        x.view(6)


def test_contiguous_returns_self_or_a_copy():
    x = retrograd.zeros(2, 3)
    assert x.contiguous() is x
    transposed = x.t()
    copy = transposed.contiguous()
    assert copy is not transposed and copy.is_contiguous()
    assert copy.tolist() == transposed.tolist()


# ---------------------------------------------------------------------------
# grad_fn names are PyTorch's


GRAD_FN_NAMES = [
    (lambda x: x.flatten(), "ViewBackward0"),
    (lambda x: x.squeeze(), "SqueezeBackward0"),
    (lambda x: x.squeeze(0), "SqueezeBackward1"),
    (lambda x: x.squeeze((0,)), "SqueezeBackward2"),
    (lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
    (lambda x: x.transpose(0, 1), "TransposeBackward0"),
    (lambda x: x.t(), "TBackward0"),
    (lambda x: x.T, "PermuteBackward0"),
    (lambda x: x.mT, "TransposeBackward0"),
    (lambda x: x.movedim(0, 1), "PermuteBackward0"),
    (lambda x: x.expand(2, 2, 3), "ExpandBackward0"),
    (lambda x: x.repeat(2, 1), "RepeatBackward0"),
    (lambda x: x.tile(2), "RepeatBackward0"),
    (lambda x: x.repeat_interleave(2), "ViewBackward0"),
    (lambda x: x.flip(0), "FlipBackward0"),
    (lambda x: x.fliplr(), "FlipBackward0"),
    (lambda x: x.roll(1), "RollBackward0"),
    (lambda x: x.rot90(), "Rot90Backward0"),
    (lambda x: x.narrow(1, 0, 2), "SliceBackward0"),
    (lambda x: x.split(1)[0], "SplitBackward0"),
    (lambda x: x.split([1, 1])[0], "SplitWithSizesBackward0"),
    (lambda x: x.chunk(2, 1)[0], "SplitBackward0"),
    (lambda x: x.unbind()[1], "UnbindBackward0"),
    (lambda x: x.tensor_split(2, 1)[0], "SliceBackward0"),
    (lambda x: retrograd.cat([x, x]), "CatBackward0"),
    (lambda x: retrograd.stack([x, x]), "StackBackward0"),
    (lambda x: retrograd.hstack([x, x]), "CatBackward0"),
    (lambda x: retrograd.diag(x), "DiagonalBackward0_copy"),
    (lambda x: retrograd.diag(x[0]), "DiagEmbedBackward0"),
    (lambda x: x.diagonal(), "DiagonalBackward0"),
    (lambda x: x.diag_embed(), "DiagEmbedBackward0"),
    (lambda x: x.tril(), "TrilBackward0"),
    (lambda x: x.triu(), "TriuBackward0"),
    (lambda x: x.t().contiguous(), "CloneBackward0"),
    (lambda x: retrograd.meshgrid(x[0], x[1], indexing="ij")[0], "ExpandBackward0"),
]


@pytest.mark.parametrize(("op", "name"), GRAD_FN_NAMES, ids=[name for _, name in GRAD_FN_NAMES])
def test_grad_fn_is_named_as_pytorch_names_it(op, name):
    assert _grad_fn_name(op(_double((2, 3)))) == name


# ---------------------------------------------------------------------------
# Values


def test_flatten_and_unflatten_round_trip():
    x = retrograd.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.flatten().shape == (24,)
    assert x.flatten(0, 1).shape == (6, 4)
    assert x.flatten(1, 1) is x
    assert retrograd.tensor(3.0).flatten().shape == (1,)
    np.testing.assert_array_equal(x.flatten(1).unflatten(1, (3, -1)).numpy(), x.numpy())


def test_squeeze_keeps_dims_that_are_not_size_one():
    x = retrograd.zeros(1, 3, 1)
    assert x.squeeze().shape == (3,)
    assert x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze((0, 1)).shape == (3, 1)
    assert retrograd.tensor(1.0).squeeze(0).shape == ()


def test_movedim_places_each_source_at_its_destination():
    x = retrograd.zeros(2, 3, 4, 5)
    assert x.movedim((0, 1), (3, 0)).shape == (3, 4, 5, 2)
    assert retrograd.moveaxis(x, -1, 0).shape == (5, 2, 3, 4)


def test_T_reverses_dims_and_warns_outside_matrices():
    x = retrograd.zeros(2, 3, 4)
    with pytest.warns(UserWarning, match="The use of `x.T` on tensors of dimension other than 2"):
        assert x.T.shape == (4, 3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert retrograd.zeros(2, 3).T.shape == (3, 2)


def test_split_chunk_and_tensor_split_sizes():
    x = retrograd.zeros(5, 2)
    assert [p.shape[0] for p in x.split(2)] == [2, 2, 1]
    assert [p.shape[0] for p in x.split([3, 0, 2])] == [3, 0, 2]
    assert [p.shape[0] for p in x.chunk(3)] == [2, 2, 1]
    assert [p.shape[0] for p in x.chunk(4)] == [2, 2, 1]
    assert [p.shape[0] for p in x.tensor_split(3)] == [2, 2, 1]
    assert [p.shape[0] for p in x.tensor_split([1, 4])] == [1, 3, 1]
    assert [p.shape[0] for p in x.tensor_split(retrograd.tensor([2]))] == [2, 3]
    assert [p.shape[0] for p in retrograd.zeros(0).chunk(2)] == [0, 0]


def test_iterating_a_tensor_unbinds_dim_zero():
    x = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert [row.tolist() for row in rows] == [[1.0, 2.0], [3.0, 4.0]]
    assert all(row._base is x for row in rows)


def test_cat_promotes_dtypes_and_skips_legacy_empty_tensors():
    joined = retrograd.cat([retrograd.tensor([1, 2]), retrograd.tensor([0.5]), retrograd.zeros(0)])
    assert joined.dtype == retrograd.float32
    assert joined.tolist() == [1.0, 2.0, 0.5]
    assert retrograd.cat([retrograd.zeros(2, 2), retrograd.zeros(0)]).shape == (2, 2)
    assert retrograd.concat((retrograd.zeros(1, 2), retrograd.ones(1, 2)), dim=0).shape == (2, 2)


def test_hstack_vstack_dstack_shapes():
    a, b = retrograd.zeros(3), retrograd.ones(3)
    assert retrograd.hstack([a, b]).shape == (6,)
    assert retrograd.vstack([a, b]).shape == (2, 3)
    assert retrograd.dstack([a, b]).shape == (1, 3, 2)
    m = retrograd.zeros(2, 3)
    assert retrograd.hstack([m, m]).shape == (2, 6)
    assert retrograd.dstack([m, m]).shape == (2, 3, 2)
    assert retrograd.atleast_3d(retrograd.tensor(1.0)).shape == (1, 1, 1)


def test_repeat_interleave_forms():
    x = retrograd.tensor([[1, 2], [3, 4]])
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert x.repeat_interleave(retrograd.tensor([1, 2]), dim=0).tolist() == [[1, 2], [3, 4], [3, 4]]
    assert retrograd.repeat_interleave(retrograd.tensor([2, 0, 1])).tolist() == [0, 0, 2]


def test_roll_rot90_and_flips_match_numpy():
    data = np.arange(12.0).reshape(3, 4)
    x = retrograd.tensor(data)
    np.testing.assert_array_equal(x.roll(5).numpy(), np.roll(data, 5))
    np.testing.assert_array_equal(x.roll((1, -1), (0, 1)).numpy(), np.roll(data, (1, -1), (0, 1)))
    np.testing.assert_array_equal(x.rot90(3, (1, 0)).numpy(), np.rot90(data, 3, (1, 0)))
    np.testing.assert_array_equal(x.fliplr().numpy(), np.fliplr(data))
    np.testing.assert_array_equal(x.flipud().numpy(), np.flipud(data))


def test_diagonals_and_triangles_match_numpy():
    data = np.arange(12.0).reshape(3, 4)
    x = retrograd.tensor(data)
    np.testing.assert_array_equal(x.diagonal(-1).numpy(), np.diagonal(data, -1))
    np.testing.assert_array_equal(retrograd.diag(x, 2).numpy(), np.diag(data, 2))
    vector = retrograd.tensor([1.0, 2.0])
    np.testing.assert_array_equal(retrograd.diag(vector, -1).numpy(), np.diag([1.0, 2.0], -1))
    np.testing.assert_array_equal(x.triu(1).numpy(), np.triu(data, 1))
    batch = retrograd.tensor(np.arange(6.0).reshape(2, 3))
    embedded = batch.diag_embed()
    assert embedded.shape == (2, 3, 3)
    np.testing.assert_array_equal(embedded.numpy()[1], np.diag([3.0, 4.0, 5.0]))


def test_tril_in_place_bumps_the_version():
    x = retrograd.ones(3, 3)
    x.tril_()
    assert x._version == 1 and x.sum().item() == 6


def test_meshgrid_indexing():
    a, b = retrograd.tensor([1, 2]), retrograd.tensor([3, 4, 5])
    rows, columns = retrograd.meshgrid(a, b, indexing="ij")
    assert rows.shape == columns.shape == (2, 3)
    assert columns.tolist() == [[3, 4, 5], [3, 4, 5]]
    x_grid, _ = retrograd.meshgrid([a, b], indexing="xy")
    assert x_grid.shape == (3, 2) and x_grid.tolist() == [[1, 2], [1, 2], [1, 2]]
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        retrograd.meshgrid(a, b)


def test_broadcast_tensors_and_broadcast_to():
    a, b = retrograd.zeros(2, 1), retrograd.zeros(3)
    left, right = retrograd.broadcast_tensors(a, b)
    assert left.shape == right.shape == (2, 3)
    same = retrograd.zeros(2, 3)
    assert retrograd.broadcast_tensors(same, b)[0] is same
    assert retrograd.broadcast_to(b, (4, 3)).shape == (4, 3)


def test_integer_tensors_go_through_shape_ops_without_grad():
    x = retrograd.tensor([[1, 2, 3], [4, 5, 6]])
    assert retrograd.cat([x, x], 1).dtype == retrograd.int64
    assert x.flip(1).tolist() == [[3, 2, 1], [6, 5, 4]]
    assert not x.t().requires_grad


# ---------------------------------------------------------------------------
# Gradients beyond the op-table samples


def test_unbind_gradient_fills_missing_outputs_with_zeros():
    x = _double((3, 2))
    first, _, last = x.unbind()
    (first * 2 + last).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2], [0, 0], [1, 1]])


def test_split_gradients_second_order():
    def pieces(x):
        first, second = x.split([1, 2], 1)
        return (first**2).sum() + (second**3).sum()

    x = _double((2, 3))
    assert gradcheck(pieces, (x,))
    assert gradgradcheck(pieces, (x,))


def test_cat_gradient_reaches_each_input():
    a, b = _double((2, 1)), _double((2, 3))
    assert gradcheck(lambda p, q: retrograd.cat([p, q], 1), (a, b))
    assert gradgradcheck(lambda p, q: retrograd.cat([p, q], 1) ** 2, (a, b))


def test_repeat_interleave_gradient_sums_the_copies():
    x = _double((2,))
    x.repeat_interleave(3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_no_grad_views_still_share_memory():
    x = _double((2, 3))
    with retrograd.no_grad():
        view = x.t()
    assert view.grad_fn is None and view._base is x


# ---------------------------------------------------------------------------
# Errors: PyTorch's types and messages


ERRORS = [
    (lambda: retrograd.zeros(2, 3).view(4), RuntimeError, r"shape '\[4\]' is invalid for input of size 6"),
    (lambda: retrograd.zeros(2, 3).view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda: retrograd.zeros(16).view(-1, -1, -2), RuntimeError, "only one dimension can be inferred"),
    (lambda: retrograd.zeros(16).reshape(-2, -1), RuntimeError,
     r"^invalid shape dimension -2 at index 0 of shape \[-2, -1\]$"),
    (lambda: retrograd.zeros(4).view(2, -3), RuntimeError, r"^invalid shape dimension -3 at index 1 of shape \[2, -3\]$"),
    (lambda: retrograd.zeros(0, 3).view(0, -1), RuntimeError,
     r"^cannot reshape tensor of 0 elements into shape \[0, -1\] because the unspecified dimension size -1 "
     "can be any value and is ambiguous$"),
    (lambda: retrograd.zeros(4).reshape(0, -1), RuntimeError, r"^shape '\[0, -1\]' is invalid for input of size 4$"),
    (lambda: retrograd.zeros(6).view(4, -1), RuntimeError, r"^shape '\[4, -1\]' is invalid for input of size 6$"),
    (lambda: retrograd.zeros(2, 3).squeeze(2), IndexError, "Dimension out of range"),
    (lambda: retrograd.zeros(1, 2, 3).t(), RuntimeError,
     "t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda: retrograd.zeros(3).mT, RuntimeError, "tensor.mT is only supported on matrices"),
    (lambda: retrograd.zeros(2, 3).permute(0), RuntimeError,
     "does not match the length of the desired ordering"),
    (lambda: retrograd.zeros(2, 3).permute(0, 0), RuntimeError, "duplicate dims are not allowed"),
    (lambda: retrograd.zeros(2, 3).movedim((0, 0), (0, 1)), RuntimeError, "repeated dim in `source`"),
    (lambda: retrograd.zeros(2, 3).expand(3, 3), RuntimeError,
     "The expanded size of the tensor \\(3\\) must match"),
    (lambda: retrograd.zeros(2, 3).repeat(2), RuntimeError, "Number of dimensions of repeat dims"),
    (lambda: retrograd.zeros(2, 3).flip(0, 0), RuntimeError, "dim 0 appears multiple times"),
    (lambda: retrograd.zeros(3).fliplr(), RuntimeError, "Input must be >= 2-d."),
    (lambda: retrograd.zeros(2, 3).roll((1, 2)), RuntimeError, "shifts and dimensions must align"),
    (lambda: retrograd.zeros(2, 3).rot90(1, (0, 0)), RuntimeError, "expected rotation dims to be different"),
    (lambda: retrograd.zeros(3).rot90(), RuntimeError, "expected total dims >= 2"),
    (lambda: retrograd.zeros(3, 2).narrow(0, 4, 1), IndexError, "start out of range"),
    (lambda: retrograd.zeros(3, 2).narrow(0, 1, 3), RuntimeError, "exceeds dimension size"),
    (lambda: retrograd.zeros(3, 2).split([1, 1]), RuntimeError,
     "split_with_sizes expects split_sizes to sum exactly to 3"),
    (lambda: retrograd.zeros(3, 2).split(0), RuntimeError, "split_size can only be 0"),
    (lambda: retrograd.zeros(3, 2).chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (lambda: retrograd.zeros(3, 2).tensor_split(0), RuntimeError, "number of sections must be larger than 0"),
    (lambda: retrograd.tensor(1.0).unbind(), IndexError,
     "Dimension specified as 0 but tensor has no dimensions"),
    (lambda: retrograd.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda: retrograd.cat([retrograd.zeros(3, 2), retrograd.zeros(3, 3)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 2 but got size 3 for tensor number 1"),
    (lambda: retrograd.cat([retrograd.zeros(3, 2), retrograd.zeros(3)]), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 1"),
    (lambda: retrograd.cat([retrograd.tensor(1.0)]), RuntimeError,
     "zero-dimensional tensor \\(at position 0\\)"),
    (lambda: retrograd.cat(retrograd.zeros(2)), TypeError, "must be tuple of Tensors"),
    (lambda: retrograd.stack([retrograd.zeros(3, 2), retrograd.zeros(3)]), RuntimeError,
     r"stack expects each tensor to be equal size, but got \[3, 2\] at entry 0 and \[3\] at entry 1"),
    (lambda: retrograd.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda: retrograd.diag(retrograd.zeros(1, 2, 3)), RuntimeError, "Supports 1D or 2D tensors. Got 3D"),
    (lambda: retrograd.zeros(3).tril(), RuntimeError, "tril: input tensor must have at least 2 dimensions"),
    (lambda: retrograd.zeros(2, 2).diagonal(0, 0, 0), RuntimeError,
     "diagonal dimensions cannot be identical 0, 0"),
    (lambda: retrograd.zeros(6).unflatten(0, (4, -1)), RuntimeError,
     "don't multiply up to the size of dim 0 \\(6\\)"),
    (lambda: retrograd.zeros(3, 2).repeat_interleave(-1), RuntimeError, "Repeats must be non-negative"),
    (lambda: retrograd.broadcast_tensors(retrograd.zeros(3, 2), retrograd.zeros(3)), RuntimeError,
     "The size of tensor a \\(2\\) must match the size of tensor b \\(3\\)"),
    (lambda: retrograd.meshgrid(retrograd.zeros(2, 2), indexing="ij"), RuntimeError,
     "Expected 0D or 1D tensor"),
]


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


def test_failed_in_place_op_leaves_tensor_unchanged():
    x = retrograd.ones(3)
    with pytest.raises(RuntimeError):
        x.tril_()
    assert x._version == 0 and x.tolist() == [1.0, 1.0, 1.0]


NON_CONTIGUOUS_OPS = {
    "reshape": lambda x, lib: x.reshape(-1),
    "flatten": lambda x, lib: x.flatten(),
    "diagonal": lambda x, lib: x.diagonal(1),
    "split": lambda x, lib: x.split(2, 1)[1],
    "unbind": lambda x, lib: x.unbind(1)[0],
    "flip": lambda x, lib: x.flip(0),
    "roll": lambda x, lib: x.roll(2),
    "repeat": lambda x, lib: x.repeat(2, 1),
    "tril": lambda x, lib: x.tril(-1),
    "cat": lambda x, lib: lib.cat([x, x], 1),
    "stack": lambda x, lib: lib.stack([x, x], 2),
    "diag_embed": lambda x, lib: x.diag_embed(1),
    "getitem": lambda x, lib: x[1:, ::2],
    "squeeze": lambda x, lib: x.unsqueeze(1).squeeze(),
}


@pytest.mark.parametrize("op", NON_CONTIGUOUS_OPS.values(), ids=NON_CONTIGUOUS_OPS.keys())
def test_non_contiguous_inputs_match_pytorch(op):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(3).standard_normal((4, 3))
    weights = None
    results = []
    for library in (retrograd, torch):
        leaf = library.tensor(data, requires_grad=True)
        out = op(leaf.t(), library)
        if weights is None:
            weights = np.random.default_rng(4).standard_normal(tuple(out.shape))
        (out * library.tensor(weights)).sum().backward()
        results.append((out.detach().numpy(), leaf.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs)


# ---------------------------------------------------------------------------
# Pieces along each dim (split_join._pieces writes dims 0 and 1 out, others by index tuple)

@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("how", ["split", "chunk", "unsafe_chunk", "unsafe_split"])
def test_pieces_along_each_dim_are_pytorchs(dim, how):
    torch = pytest.importorskip("torch")
    values = np.arange(5 * 7 * 6, dtype=np.float64).reshape(5, 7, 6)
    our_leaf, their_leaf = retrograd.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours, theirs = our_leaf * 1, their_leaf * 1
    argument = 3 if how.endswith("chunk") else 2
    our_pieces = getattr(ours, how)(argument, dim)
    their_pieces = getattr(theirs, how)(argument, dim)
    assert len(our_pieces) == len(their_pieces)
    for number, (mine, expected) in enumerate(zip(our_pieces, their_pieces)):
        np.testing.assert_array_equal(mine.detach().numpy(), expected.detach().numpy())
        assert np.shares_memory(mine._data, ours._data)
        assert mine.grad_fn is our_pieces[0].grad_fn
        assert mine.grad_fn.name() == expected.grad_fn.name()
        assert mine.output_nr == expected.output_nr == number
        assert (mine._base is ours) == (expected._base is theirs)
        assert mine._version == ours._version
    weights = [np.full(piece.shape, float(number + 1)) for number, piece in enumerate(our_pieces)]
    sum((piece * retrograd.tensor(weight)).sum() for piece, weight in zip(our_pieces, weights)).backward()
    sum((piece * torch.tensor(weight)).sum() for piece, weight in zip(their_pieces, weights)).backward()
    np.testing.assert_array_equal(our_leaf.grad.numpy(), their_leaf.grad.numpy())


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_pieces_gradient_lands_where_each_piece_was_cut(dim):
    x = _double((4, 5, 6))
    pieces = x.split(2, dim)
    sum(piece.sum() * (number + 1) for number, piece in enumerate(pieces)).backward()
    expected = np.zeros((4, 5, 6))
    for number in range(len(pieces)):
        index = [slice(None)] * 3
        index[dim] = slice(2 * number, 2 * number + 2)
        expected[tuple(index)] = number + 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert gradgradcheck(lambda t: t.split(2, dim)[1] * t.split(2, dim)[1], (x,))


def test_chunk_pieces_are_views_that_see_writes_and_versions():
    x = _double((3, 8), requires_grad=False)
    first, second = x.chunk(2, 1)
    x.add_(1)
    assert first._version == second._version == x._version == 1
    np.testing.assert_array_equal(second.numpy(), x.numpy()[:, 4:])
    unsafe = x.unsafe_chunk(2, 1)
    assert all(piece._base is None for piece in unsafe)
    np.testing.assert_array_equal(unsafe[1].numpy(), x.numpy()[:, 4:])


@pytest.mark.parametrize("shape, sizes", [
    ((3, 1), (2, 3, 4)),  # a new leading dim and a stretched one
    ((), (5,)),  # a 0-d tensor (sum's backward expands its gradient so)
    ((4, 1, 2), (4, -1, 2)),  # -1 keeps a dim (of size 1: its stride stays, as PyTorch's)
    ((1,), (0,)),  # to nothing
    ((2, 3), (2, 3)),  # to its own shape
])
@pytest.mark.parametrize("contiguous", [True, False])
def test_expand_is_a_read_only_view_of_the_same_memory(shape, sizes, contiguous):
    values = np.arange(2 * max(int(np.prod(shape)), 1), dtype=np.float64)
    array = values[: int(np.prod(shape))].reshape(shape) if contiguous else values[::2].reshape(shape)
    x = retrograd.from_numpy(array)
    expanded = x.expand(*sizes)
    target = tuple(size if size != -1 else shape[index - len(sizes) + len(shape)]
                   for index, size in enumerate(sizes))
    np.testing.assert_array_equal(expanded.numpy(), np.broadcast_to(array, target))
    assert not expanded._data.flags.writeable and expanded._base is x
    if contiguous:  # PyTorch's strides: 0 where expanded, the input's own elsewhere
        lead = len(target) - len(shape)
        expected = (0,) * lead + tuple(0 if size != wanted else stride for size, wanted, stride
                                       in zip(shape, target[lead:], x.stride()))
        assert expanded.stride() == expected
    if expanded.numel():
        array.flat[0] = -1.0  # the same memory: the view sees the write
        assert expanded.numpy().flat[0] == -1.0
