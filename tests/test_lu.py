"""The LU decomposition: linalg.lu_factor(_ex), linalg.lu, linalg.lu_solve and torch.lu,
torch.lu_unpack, torch.lu_solve: P L U = A, PyTorch's pivots and values, gradients of every
order (Note [LU gradients]), and PyTorch's errors."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck, gradgradcheck

SHAPES = [(3, 3), (2, 4, 4), (3, 5), (5, 3), (1, 1)]


def _random(shape, seed=0):
    return retrograd.tensor(np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("shape", SHAPES)
def test_the_factors_multiply_back_to_the_input(shape):
    a = _random(shape)
    permutation, lower, upper = retrograd.linalg.lu(a)
    np.testing.assert_allclose((permutation @ lower @ upper).numpy(), a.numpy(), atol=1e-13)
    assert np.array_equal(np.tril(upper.numpy(), -1), np.zeros_like(upper.numpy()))
    assert np.all(np.abs(np.tril(lower.numpy(), -1)) <= 1)  # partial pivoting: |L| <= 1


def test_pivots_are_one_based_int32_row_swaps():
    a = retrograd.tensor([[1.0, 2.0], [3.0, 4.0]])
    packed, pivots = retrograd.linalg.lu_factor(a)
    assert pivots.dtype == retrograd.int32
    assert pivots.tolist() == [2, 2]
    np.testing.assert_allclose(packed.numpy(), [[3.0, 4.0], [1 / 3, 2 - 4 / 3]], rtol=1e-6)


def test_unpack_leaves_out_what_it_is_not_asked_for():
    packed, pivots = retrograd.linalg.lu_factor(_random((3, 3)))
    permutation, lower, upper = retrograd.lu_unpack(packed, pivots, unpack_data=False)
    assert permutation.shape == (3, 3) and lower.numel() == 0 and upper.numel() == 0
    permutation, lower, upper = retrograd.lu_unpack(packed, pivots, unpack_pivots=False)
    assert permutation.numel() == 0 and lower.shape == (3, 3)


def test_torch_lu_reports_infos_instead_of_raising():
    packed, pivots, info = retrograd.lu(retrograd.zeros(2, 2), get_infos=True)
    assert info.item() == 1 and info.dtype == retrograd.int32
    assert len(retrograd.lu(_random((2, 2)))) == 2


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_solves_each_equation(left, adjoint):
    a, b = _random((2, 3, 3)), _random((2, 3, 4), seed=1)
    packed, pivots = retrograd.linalg.lu_factor(a)
    matrix = a.mT if adjoint else a
    if left:
        x = retrograd.linalg.lu_solve(packed, pivots, b, adjoint=adjoint)
        np.testing.assert_allclose((matrix @ x).numpy(), b.numpy(), atol=1e-12)
    else:
        x = retrograd.linalg.lu_solve(packed, pivots, b.mT, left=False, adjoint=adjoint)
        np.testing.assert_allclose((x @ matrix).numpy(), b.mT.numpy(), atol=1e-12)


def test_tensor_methods_are_torch_lu_and_lu_solve():
    a, b = _random((3, 3)), _random((3, 2), seed=1)
    packed, pivots = a.lu()
    assert pivots.tolist() == retrograd.lu(a)[1].tolist()
    np.testing.assert_allclose(b.lu_solve(packed, pivots).numpy(), np.linalg.solve(a.numpy(), b.numpy()),
                               rtol=1e-12)
    assert len(a.lu(get_infos=True)) == 3


def test_torch_lu_solve_takes_the_right_hand_side_first():
    a, b = _random((3, 3)), _random((3, 2), seed=1)
    packed, pivots = retrograd.lu(a)
    np.testing.assert_allclose(retrograd.lu_solve(b, packed, pivots).numpy(),
                               np.linalg.solve(a.numpy(), b.numpy()), rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_of_the_factors(shape):
    a = _random(shape).requires_grad_()
    assert gradcheck(lambda a: retrograd.linalg.lu_factor(a).LU, (a,))
    assert gradgradcheck(lambda a: retrograd.linalg.lu_factor(a).LU, (a,))
    assert gradcheck(lambda a: tuple(retrograd.linalg.lu(a))[1:], (a,))
    assert gradcheck(lambda a: tuple(retrograd.lu_unpack(*retrograd.linalg.lu_factor(a)))[1:], (a,))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_gradients_of_lu_solve(left, adjoint):
    a = _random((2, 3, 3)).requires_grad_()
    b = _random((3, 2), seed=1).requires_grad_()

    def solve(a, b):
        packed, pivots = retrograd.linalg.lu_factor(a)
        return retrograd.linalg.lu_solve(packed, pivots, b if left else b.mT, left=left, adjoint=adjoint)

    assert gradcheck(solve, (a, b))
    assert gradgradcheck(solve, (a, b))


def test_grad_fn_names_are_pytorchs():
    a = _random((3, 3)).requires_grad_()
    packed, pivots = retrograd.linalg.lu_factor(a)
    assert type(packed.grad_fn).__name__ == "LinalgLuFactorExBackward0"
    assert pivots.grad_fn is None
    permutation, lower, _ = retrograd.linalg.lu(a)
    assert permutation.grad_fn is None and type(lower.grad_fn).__name__ == "LinalgLuBackward0"
    assert type(retrograd.lu_unpack(packed, pivots).L.grad_fn).__name__ == "LuUnpackBackward0"
    solution = retrograd.lu_solve(_random((3, 1)), packed, pivots)
    assert type(solution.grad_fn).__name__ == "LinalgLuSolveBackward0"


@needs_torch
@pytest.mark.parametrize("shape", [*SHAPES, (0, 0), (2, 0, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_factors_and_their_gradients_match_pytorch(shape, dtype):
    data = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    ours = retrograd.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    packed, pivots = retrograd.linalg.lu_factor(ours)
    expected, expected_pivots = torch.linalg.lu_factor(theirs)
    assert pivots.tolist() == expected_pivots.tolist()
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(packed.detach().numpy(), expected.detach().numpy(), atol=tolerance)
    weights = np.random.default_rng(6).standard_normal(packed.shape).astype(dtype)
    (packed * retrograd.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4 if dtype == "float32"
                               else 1e-10, atol=tolerance)


@needs_torch
def test_lu_solve_and_its_gradients_match_pytorch():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 4, 4)), rng.standard_normal((4, 3))
    ours_a, ours_b = retrograd.tensor(a, requires_grad=True), retrograd.tensor(b, requires_grad=True)
    theirs_a, theirs_b = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours = retrograd.linalg.lu_solve(*retrograd.linalg.lu_factor(ours_a), ours_b, adjoint=True)
    theirs = torch.linalg.lu_solve(*torch.linalg.lu_factor(theirs_a), theirs_b, adjoint=True)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    (ours ** 2).sum().backward()
    (theirs ** 2).sum().backward()
    np.testing.assert_allclose(ours_a.grad.numpy(), theirs_a.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours_b.grad.numpy(), theirs_b.grad.numpy(), rtol=1e-10)


def _factors():
    return retrograd.linalg.lu_factor(retrograd.tensor([[1.0, 2.0], [3.0, 4.0]]))


_ERRORS = [
    (lambda: retrograd.linalg.lu_factor(retrograd.tensor([[1, 2], [3, 4]])), NotImplementedError,
     "\"lu_cpu\" not implemented for 'Long'"),
    (lambda: retrograd.linalg.lu_factor(retrograd.ones(3)), RuntimeError, "2 or more dimensions"),
    (lambda: retrograd.linalg.lu_factor(retrograd.ones(2, 2), pivot=False), RuntimeError,
     "LU without pivoting is not implemented on the CPU"),
    (lambda: retrograd.linalg.lu_factor(retrograd.zeros(2, 2)), RuntimeError,
     "U\\[1,1\\] is zero and using it on lu_solve would result in a division by zero"),
    (lambda: retrograd.lu_unpack(_factors()[0], _factors()[1].long()), RuntimeError,
     "LU_pivots is expected to be a contiguous tensor of torch.int32 dtype"),
    (lambda: retrograd.lu_unpack(_factors()[0], retrograd.tensor([3, 1], dtype=retrograd.int32)),
     RuntimeError, "pivots passed to lu_unpack must be between 1 and LU.size\\(-2\\)"),
    (lambda: retrograd.linalg.lu_solve(_factors()[0], _factors()[1].long(), retrograd.ones(2, 1)),
     RuntimeError, "pivots should be a Tensor of scalar type torch.int32"),
    (lambda: retrograd.linalg.lu_solve(*_factors(), retrograd.ones(3, 1)), RuntimeError,
     "Incompatible shapes of A and B for the equation AX = B \\(2x2 and 3x1\\)"),
    (lambda: retrograd.linalg.lu_solve(*_factors(), retrograd.ones(2)), RuntimeError,
     "B must have at least 2 dimensions"),
    (lambda: retrograd.linalg.lu_solve(*_factors(), retrograd.ones(2, 1, dtype=retrograd.float64)),
     RuntimeError, "Expected LU and B to have the same dtype"),
    (lambda: retrograd.linalg.lu_solve(retrograd.ones(2, 3), _factors()[1], retrograd.ones(2, 1)),
     RuntimeError, "must be batches of square matrices"),
]


@pytest.mark.parametrize("call, error, words", _ERRORS)
def test_bad_input_raises_pytorchs_error(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_a_refused_solve_leaves_its_tensors_unchanged():
    packed, pivots = _factors()
    b = retrograd.ones(3, 1)
    before = (packed.numpy().copy(), pivots.numpy().copy(), b.numpy().copy())
    with pytest.raises(RuntimeError):
        retrograd.linalg.lu_solve(packed, pivots, b)
    for now, then in zip((packed, pivots, b), before):
        np.testing.assert_array_equal(now.numpy(), then)
