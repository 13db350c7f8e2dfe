"""Linear algebra: the behaviours the op-table matrix does not cover.

Values against closed forms and NumPy, grad_fn names and error messages against PyTorch,
and the ill-conditioned gradient cases PyTorch documents. (Gradients, second derivatives and
the PyTorch cross-check on well-conditioned samples come from tests/test_op_table.py.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retrograd
from retrograd import linalg
from retrograd.autograd import grad as autograd_grad


def tensor(values, requires_grad=False, dtype=retrograd.float64):
    return retrograd.tensor(np.asarray(values, dtype=float), dtype=dtype, requires_grad=requires_grad)


def random(*shape, seed=0, requires_grad=False):
    data = np.random.default_rng(seed).standard_normal(shape)
    return retrograd.tensor(data, requires_grad=requires_grad)


# ---------------------------------------------------------------------------
# matmul and the products


MATMUL_CASES = [
    ((3,), (3,), "DotBackward0"),
    ((2, 3), (3, 4), "MmBackward0"),
    ((2, 3), (3,), "MvBackward0"),
    ((3,), (3, 4), "SqueezeBackward4"),
    ((5, 2, 3), (5, 3, 4), "UnsafeViewBackward0"),
    ((5, 2, 3), (3, 4), "UnsafeViewBackward0"),
    ((5, 2, 3), (3,), "UnsafeViewBackward0"),
    ((3,), (5, 3, 4), "UnsafeViewBackward0"),
    ((2, 3), (5, 3, 4), "CloneBackward0"),
    ((1, 2, 3), (5, 3, 4), "CloneBackward0"),
    ((2, 1, 2, 3), (1, 5, 3, 4), "UnsafeViewBackward0"),
]


@pytest.mark.parametrize(("left", "right", "name"), MATMUL_CASES)
def test_matmul_records_the_grad_fn_pytorch_shows_on_top(left, right, name):
    a, b = random(*left, requires_grad=True), random(*right, seed=1)
    out = a @ b
    assert out.grad_fn.name() == name
    np.testing.assert_allclose(out.detach().numpy(), np.matmul(a.detach().numpy(), b.numpy()))


@pytest.mark.parametrize(("left", "right", "name"), MATMUL_CASES)
def test_matmul_grad_fn_names_match_pytorch(left, right, name):
    torch = pytest.importorskip("torch")
    a = torch.randn(*left, dtype=torch.float64, requires_grad=True)
    b = torch.randn(*right, dtype=torch.float64)
    assert (a @ b).grad_fn.name() == name


def test_matmul_broadcast_batch_gradient_is_summed_back_to_each_input():
    a = random(2, 1, 2, 3, requires_grad=True)
    b = random(5, 3, 4, seed=1, requires_grad=True)
    (a @ b).sum().backward()
    ones = np.ones((2, 5, 2, 4))
    expected_a = (ones @ np.swapaxes(b.detach().numpy(), -1, -2)).sum(axis=1, keepdims=True)
    expected_b = (np.swapaxes(a.detach().numpy(), -1, -2) @ ones).sum(axis=0)
    np.testing.assert_allclose(a.grad.numpy(), expected_a)
    np.testing.assert_allclose(b.grad.numpy(), expected_b)


def test_dot_gradient_is_the_other_vector():
    x, y = tensor([1.0, 2.0, 3.0], True), tensor([4.0, 5.0, 6.0], True)
    out = x @ y
    out.backward()
    assert out.item() == 32.0
    assert x.grad.tolist() == [4.0, 5.0, 6.0]
    assert y.grad.tolist() == [1.0, 2.0, 3.0]


def test_second_derivative_of_a_quadratic_form_is_the_symmetrized_matrix():
    A = tensor([[1.0, 2.0], [3.0, 4.0]])
    x = tensor([0.5, -1.0], True)
    (gradient,) = autograd_grad(x @ A @ x, x, create_graph=True)
    rows = [autograd_grad(gradient @ tensor(unit), x, retain_graph=True)[0] for unit in np.eye(2)]
    np.testing.assert_allclose(np.stack([r.numpy() for r in rows]), [[2.0, 5.0], [5.0, 8.0]])


def test_rmatmul_is_used_when_the_left_operand_is_not_a_tensor():
    class Left:
        def __matmul__(self, other):
            return NotImplemented

    b = tensor([[1.0]])
    assert b.__rmatmul__(Left()) is NotImplemented
    assert (b.__rmatmul__(tensor([[2.0]]))).tolist() == [[2.0]]


def test_matmul_operator_with_a_number_is_pythons_type_error():
    with pytest.raises(TypeError, match="unsupported operand type"):
        tensor([[1.0]]) @ 2


def test_integer_matmul_stays_integer_and_bool_is_refused():
    out = retrograd.tensor([[1, 2], [3, 4]]) @ retrograd.tensor([1, 1])
    assert out.dtype is retrograd.int64
    assert out.tolist() == [3, 7]
    flags = retrograd.tensor([[True]])
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        flags @ flags


@pytest.mark.parametrize(
    ("left", "right", "message"),
    [
        ((2, 3), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
        ((3,), (4,), r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"),
        ((2, 3), (4,), r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
        ((3,), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x5\)"),
        ((2, 2, 3), (2, 4, 5), r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\]"),
        ((2, 2, 3), (3, 3, 5), r"size of tensor a \(2\) must match the size of tensor b \(3\)"),
        ((), (2, 2), "both arguments to matmul need to be at least 1D, but they are 0D and 2D"),
    ],
)
def test_matmul_shape_errors_read_as_pytorchs(left, right, message):
    with pytest.raises(RuntimeError, match=message):
        random(*left) @ random(*right)


def test_matmul_refuses_mixed_dtypes():
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: double != "):
        random(2, 3) @ random(3, 2).float()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: retrograd.mm(random(2, 2, 3), random(3, 3)), "self must be a matrix"),
        (lambda: retrograd.mm(random(2, 3), random(2, 3)), r"cannot be multiplied \(2x3 and 2x3\)"),
        (lambda: retrograd.bmm(random(2, 3), random(3, 3)), "batch1 must be a 3D tensor"),
        (lambda: retrograd.bmm(random(2, 2, 3), random(3, 3, 3)), r"to be: \[2, 3\] but got: \[3, 3\]"),
        (lambda: retrograd.mv(random(3), random(3)), "vector \\+ matrix @ vector expected, got 1, 1, 1"),
        (lambda: retrograd.dot(random(2, 3), random(3)), "1D tensors expected, but got 2D and 1D tensors"),
        (lambda: retrograd.outer(random(3), random(2, 3)), "outer: Expected 1-D argument vec2, but got 2-D"),
        (lambda: retrograd.trace(random(2, 2, 2)), "trace: expected a matrix, but got tensor with dim 3"),
        (
            lambda: retrograd.addmm(random(3, 5), random(2, 3), random(3, 5)),
            r"expanded size of the tensor \(2\) must match the existing size \(3\)",
        ),
    ],
)
def test_product_argument_errors_read_as_pytorchs(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: retrograd.einsum("i,i", random(3).float(), random(3)), "scalar type Float but found Double"),
        (lambda: retrograd.tensordot(random(3).float(), random(3), 1), "both inputs should have same dtype"),
        (lambda: linalg.cross(random(1, 3).float(), random(1, 3)), "scalar type Float but found Double"),
        (
            lambda: retrograd.addmm(random(1).float(), random(1, 3), random(3, 1)),
            "self and mat2 must have the same dtype, but got Float and Double",
        ),
    ],
)
def test_products_refuse_mixed_dtypes_as_pytorch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


def test_products_refuse_non_tensors():
    with pytest.raises(TypeError, match=r"mm\(\): argument 'mat2' \(position 2\) must be Tensor, not list"):
        retrograd.mm(random(2, 2), [[1.0]])


def test_outer_is_a_broadcast_multiplication():
    out = retrograd.outer(tensor([1.0, 2.0], True), tensor([3.0, 4.0, 5.0]))
    assert out.grad_fn.name() == "MulBackward0"
    assert out.tolist() == [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]
    assert retrograd.ger is retrograd.outer


def test_addmm_with_beta_zero_ignores_nan_in_input():
    out = retrograd.addmm(tensor(np.full((2, 2), np.nan)), tensor(np.eye(2)), tensor(np.ones((2, 2))), beta=0)
    assert out.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_addmm_scales_both_terms():
    matrix = tensor([[1.0, 2.0], [3.0, 4.0]])
    out = retrograd.addmm(tensor([1.0, 2.0]), tensor(np.eye(2)), matrix, beta=2, alpha=3)
    assert out.grad_fn is None
    assert out.tolist() == [[5.0, 10.0], [11.0, 16.0]]


def test_addmm_in_place_writes_into_input_and_bumps_its_version():
    target = tensor(np.zeros((2, 2)))
    target.addmm_(tensor(np.eye(2)), tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert target.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert target._version == 1


def test_a_failed_addmm_in_place_changes_nothing():
    target = tensor(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        target.addmm_(tensor(np.eye(2)), tensor(np.ones((3, 2))))
    assert target.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert target._version == 0


def test_trace_sums_the_diagonal_and_its_gradient_is_the_identity():
    x = tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], True)
    out = retrograd.trace(x)
    out.backward()
    assert out.item() == 6.0
    assert out.grad_fn.name() == "TraceBackward0"
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert retrograd.tensor([[1, 2], [3, 4]]).trace().dtype is retrograd.int64


def test_kron_matches_numpy_for_operands_of_different_ranks():
    a, b = random(2, requires_grad=True), random(2, 3, seed=1)
    out = retrograd.kron(a, b)
    assert out.grad_fn.name() == "UnsafeViewBackward0"
    np.testing.assert_allclose(out.detach().numpy(), np.kron(a.detach().numpy(), b.numpy()))


def test_baddbmm_and_addmv_match_their_definitions():
    batch1, batch2, bias = random(2, 2, 3), random(2, 3, 4, seed=1), random(4, seed=2)
    out = retrograd.baddbmm(bias, batch1, batch2, beta=0.5, alpha=2.0)
    expected = 0.5 * bias.numpy() + 2.0 * (batch1.numpy() @ batch2.numpy())
    np.testing.assert_allclose(out.numpy(), expected)
    mat, vec = random(2, 3), random(3, seed=1)
    expected = 1 + mat.numpy() @ vec.numpy()
    np.testing.assert_allclose(retrograd.addmv(tensor([1.0, 1.0]), mat, vec).numpy(), expected)


def test_multi_dot_and_chain_matmul_multiply_left_to_right():
    a, b, c = random(3), random(3, 2, seed=1), random(2, seed=2)
    expected = a.numpy() @ b.numpy() @ c.numpy()
    np.testing.assert_allclose(linalg.multi_dot([a, b, c]).numpy(), expected)
    with pytest.raises(RuntimeError, match="expected at least 2 tensors but got 1"):
        linalg.multi_dot([a])


def test_matrix_power_covers_zero_and_negative_exponents():
    A = tensor([[1.0, 2.0], [3.0, 5.0]], True)
    for n in (0, 1, 2, 5, -1, -3):
        expected = np.linalg.matrix_power(A.detach().numpy(), n)
        np.testing.assert_allclose(linalg.matrix_power(A, n).detach().numpy(), expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# einsum and tensordot


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ba", [(2, 3)]),
    ("ii->", [(3, 3)]),
    ("iii->i", [(3, 3, 3)]),
    ("iij->ji", [(3, 3, 2)]),
    ("i...j->ji...", [(2, 3, 4, 5)]),
    ("...j->j", [(2, 3, 4)], "abj->j"),
    ("...ij,...jk", [(2, 1, 2, 3), (5, 3, 2)]),
    ("i j , j k -> i k", [(2, 3), (3, 4)]),
    ("iJ,Jk->ik", [(2, 3), (3, 4)]),
    (",i->i", [(), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]


@pytest.mark.parametrize("case", EINSUM_CASES, ids=[case[0] for case in EINSUM_CASES])
def test_einsum_matches_numpy(case):
    equation, shapes = case[:2]
    numpy_equation = case[2] if len(case) > 2 else equation.replace(" ", "")
    operands = [random(*shape, seed=index) for index, shape in enumerate(shapes)]
    expected = np.einsum(numpy_equation, *[x.numpy() for x in operands])
    np.testing.assert_allclose(retrograd.einsum(equation, *operands).numpy(), expected, atol=1e-12)


def test_einsum_broadcasts_size_one_dims_and_sums_their_gradient():
    a = random(2, 1, requires_grad=True)
    b = random(2, 3, seed=1)
    out = retrograd.einsum("ij,ij->ij", a, b)
    assert out.shape == (2, 3)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.numpy().sum(axis=1, keepdims=True))


def test_einsum_gradient_of_a_repeated_subscript_lands_on_the_diagonal():
    x = random(3, 3, requires_grad=True)
    retrograd.einsum("ii->", x).backward()
    assert x.grad.tolist() == np.eye(3).tolist()


def test_einsum_gradient_of_a_summed_subscript_broadcasts_back():
    x = random(2, 3, requires_grad=True)
    retrograd.einsum("ij->i", x).sum().backward()
    assert x.grad.tolist() == np.ones((2, 3)).tolist()


def test_einsum_accepts_a_list_of_operands_and_the_sublist_form():
    a, b = random(5, 2, 3), random(3, 4, seed=1)
    expected = np.einsum("...ij,jk->...ik", a.numpy(), b.numpy())
    np.testing.assert_allclose(retrograd.einsum("...ij,jk->...ik", [a, b]).numpy(), expected)
    sublist = retrograd.einsum(a, [..., 0, 1], b, [1, 2], [..., 0, 2])
    np.testing.assert_allclose(sublist.numpy(), expected)


def test_einsum_that_only_reorders_returns_a_view_as_pytorchs():
    """One operand, nothing summed: PyTorch's einsum is a permute, a view of its operand."""
    x = random(2, 3)
    out = retrograd.einsum("ij->ji", x)
    assert out._base is x
    out[0, 1] = 100.0
    assert x[1, 0].item() == 100.0


@pytest.mark.parametrize(
    ("equation", "shapes", "message"),
    [
        ("ij,jk->ik", [(2, 3), (4, 5)], "subscript j has size 4 for operand 1 which does not broadcast with "
         "previously seen size 3"),
        ("ij,jk->ik", [(2, 3)], "fewer operands were provided than specified in the equation"),
        ("ij->ij", [(2, 3), (2, 3)], "more operands were provided than specified in the equation"),
        ("ijk->i", [(2, 3)], r"number of subscripts in the equation \(3\) does not match the number of "
         r"dimensions \(2\) for operand 0 and no ellipsis was given"),
        ("ij->k", [(2, 3)], "output subscript k does not appear in the equation for any input operand"),
        ("ij->ii", [(2, 3)], "output subscript i appears more than once in the output"),
        ("i1->i", [(2, 3)], "invalid subscript given at index 1"),
    ],
)
def test_einsum_errors_read_as_pytorchs(equation, shapes, message):
    operands = [random(*shape) for shape in shapes]
    with pytest.raises(RuntimeError, match=message):
        retrograd.einsum(equation, *operands)


def test_tensordot_contracts_listed_dims_in_order():
    a, b = random(2, 3, 4), random(4, 3, seed=1)
    out = retrograd.tensordot(a, b, dims=([1, 2], [1, 0]))
    np.testing.assert_allclose(out.numpy(), np.tensordot(a.numpy(), b.numpy(), axes=([1, 2], [1, 0])))
    with pytest.raises(RuntimeError, match="tensordot expects dims >= 0, but got dims=-1"):
        retrograd.tensordot(a, b, dims=-1)
    with pytest.raises(RuntimeError, match="first has size 4 in dim -1 and second has size 3 in dim 0"):
        retrograd.tensordot(a, random(3, 4), dims=1)


# ---------------------------------------------------------------------------
# The linalg namespace


def test_linalg_namespace_and_top_level_aliases():
    assert retrograd.linalg is linalg
    assert retrograd.det is linalg.det
    assert retrograd.inverse(tensor([[2.0]])).tolist() == [[0.5]]
    assert tensor([[2.0]]).det().item() == 2.0
    assert issubclass(linalg.LinAlgError, RuntimeError)
    x = tensor([[4.0, 2.0], [2.0, 3.0]])
    assert x.cholesky().tolist() == linalg.cholesky(x).tolist()


def test_inverse_of_a_two_by_two_matches_the_closed_form():
    A = tensor([[4.0, 7.0], [2.0, 6.0]], True)
    out = linalg.inv(A)
    assert out.grad_fn.name() == "LinalgInvExBackward0"
    np.testing.assert_allclose(out.detach().numpy(), np.array([[6.0, -7.0], [-2.0, 4.0]]) / 10)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.zeros((2, 2)), "linalg.inv: The diagonal element 1 is zero, the inversion could not be "
         "completed because the input matrix is singular."),
        (np.stack([np.eye(2), np.zeros((2, 2))]), r"linalg.inv: \(Batch element 1\): The diagonal element 1"),
    ],
)
def test_inverse_of_a_singular_matrix_raises_linalg_error(values, message):
    with pytest.raises(linalg.LinAlgError, match=message):
        linalg.inv(tensor(values))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: linalg.inv(random(2, 3)), "A must be batches of square matrices, but they are 2 by 3"),
        (lambda: linalg.det(random(3)), "linalg.det: The input tensor A must have at least 2 dimensions"),
        (lambda: linalg.inv(retrograd.eye(2, dtype=retrograd.int64)), "Expected a floating point or complex "
         "tensor as input. Got Long"),
        (lambda: linalg.solve(retrograd.eye(2, dtype=retrograd.float64), random(3)),
         r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"),
        (lambda: linalg.qr(random(2, 3), mode="x"), "qr received unrecognized mode 'x'"),
        (lambda: linalg.eigh(random(2, 2), UPLO="X"), "Expected UPLO argument to be 'L' or 'U', but got X"),
        (lambda: linalg.svd(random(3)), "linalg.svd: The input tensor A must have at least 2 dimensions."),
        (lambda: linalg.pinv(random(3)), "expected a tensor with 2 or more dimensions"),
        (lambda: linalg.cross(random(2, 4), random(2, 4)), "dimension -1 must have length 3. Got 4 and 4"),
        (lambda: linalg.matrix_norm(random(3, 3), ord=3), "linalg.matrix_norm: Order 3 not supported."),
        (lambda: linalg.norm(random(2, 2, 2), "fro"), "If dim is not specified but ord is, the input must be "
         "1D or 2D. Got 3D."),
        (lambda: linalg.vector_norm(retrograd.ones(3, dtype=retrograd.int64)), "Got Long"),
        (lambda: linalg.vector_norm(random(0), math.inf), "cannot compute the inf norm on an empty tensor"),
    ],
)
def test_linalg_argument_errors_read_as_pytorchs(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


def test_determinant_gradient_is_the_cofactor_matrix():
    A = tensor([[1.0, 2.0], [3.0, 4.0]], True)
    out = linalg.det(A)
    out.backward()
    assert out.item() == pytest.approx(-2.0)
    np.testing.assert_allclose(A.grad.numpy(), [[4.0, -3.0], [-2.0, 1.0]])


def test_determinant_gradient_of_a_singular_matrix_is_zero_as_in_pytorch():
    A = tensor([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 2.0]]], True)
    linalg.det(A).sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), [[[0.0, 0.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 2.0]]])


def test_slogdet_returns_named_sign_and_log_abs_determinant():
    result = linalg.slogdet(tensor([[0.0, 2.0], [3.0, 0.0]]))
    assert result.sign.item() == -1.0
    assert result.logabsdet.item() == pytest.approx(math.log(6.0))
    assert repr(result).startswith("retrograd.return_types.linalg_slogdet(\nsign=tensor(-1.")
    sign, logabsdet = retrograd.slogdet(tensor([[2.0]]))
    assert (sign.item(), logabsdet.item()) == (1.0, pytest.approx(math.log(2.0)))


def test_slogdet_gradient_of_a_singular_matrix_is_nan_as_in_pytorch():
    A = tensor([[1.0, 2.0], [2.0, 4.0]], True)
    linalg.slogdet(A).logabsdet.backward()
    assert np.isnan(A.grad.numpy()).all()


def test_logdet_is_nan_for_a_negative_determinant():
    assert math.isnan(retrograd.logdet(tensor([[0.0, 1.0], [1.0, 0.0]])).item())
    assert retrograd.logdet(tensor([[2.0, 0.0], [0.0, 3.0]])).item() == pytest.approx(math.log(6.0))


def test_solve_takes_vectors_matrices_and_right_hand_sides():
    A = tensor([[3.0, 1.0], [1.0, 2.0]])
    b = tensor([9.0, 8.0])
    assert linalg.solve(A, b).numpy() == pytest.approx([2.0, 3.0])
    B = random(2, 3)
    np.testing.assert_allclose((A @ linalg.solve(A, B)).numpy(), B.numpy())
    X = linalg.solve(A, random(3, 2), left=False)
    np.testing.assert_allclose((X @ A).numpy(), random(3, 2).numpy())
    batch = linalg.solve(tensor([np.eye(2) * 2, np.eye(2) * 4]), tensor([[2.0, 4.0], [4.0, 8.0]]))
    assert batch.tolist() == [[1.0, 2.0], [1.0, 2.0]]


def test_solve_with_a_singular_matrix_raises_linalg_error():
    with pytest.raises(linalg.LinAlgError, match="The solver failed because the input matrix is singular"):
        linalg.solve(tensor(np.zeros((2, 2))), tensor([1.0, 2.0]))


def _positive_definite():
    return tensor([[4.0, 2.0, 0.4], [2.0, 5.0, 1.0], [0.4, 1.0, 3.0]], True)


def test_cholesky_reconstructs_its_input_and_has_a_symmetric_gradient():
    A = _positive_definite()
    L = linalg.cholesky(A)
    assert L.grad_fn.name() == "LinalgCholeskyExBackward0"
    rebuilt = retrograd.einsum("ij,kj->ik", L, L)
    np.testing.assert_allclose(rebuilt.detach().numpy(), A.detach().numpy())
    assert np.allclose(np.triu(L.detach().numpy(), 1), 0)
    L.sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), A.grad.numpy().T)
    upper = linalg.cholesky(A, upper=True)
    np.testing.assert_allclose(upper.detach().numpy(), L.detach().numpy().T)


def test_cholesky_of_an_indefinite_matrix_names_the_failing_minor():
    batch = tensor([np.eye(2), np.diag([1.0, -1.0])])
    message = r"\(Batch element 1\): .* not positive-definite \(the leading minor of order 2"
    with pytest.raises(linalg.LinAlgError, match=message):
        linalg.cholesky(batch)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4)])
def test_qr_reconstructs_with_orthonormal_q_and_triangular_r(shape):
    A = random(*shape)
    Q, R = linalg.qr(A)
    np.testing.assert_allclose((Q @ R).numpy(), A.numpy(), atol=1e-12)
    np.testing.assert_allclose((retrograd.einsum("ij,ik->jk", Q, Q)).numpy(), np.eye(Q.shape[1]), atol=1e-12)
    assert np.allclose(np.tril(R.numpy(), -1), 0)


def test_qr_backward_refuses_the_modes_pytorch_refuses():
    A = random(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
        linalg.qr(A, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        linalg.qr(A, mode="complete").Q.sum().backward()


def test_eigh_reconstructs_a_symmetric_matrix():
    A = _positive_definite()
    values, vectors = linalg.eigh(A)
    rebuilt = retrograd.einsum("ij,j,kj->ik", vectors, values, vectors)
    np.testing.assert_allclose(rebuilt.detach().numpy(), A.detach().numpy(), atol=1e-12)
    assert values.detach().numpy().tolist() == sorted(values.detach().numpy().tolist())
    np.testing.assert_allclose(linalg.eigvalsh(A).detach().numpy(), values.detach().numpy())


def test_eigh_with_repeated_eigenvalues_has_finite_eigenvalue_gradients_only():
    A = tensor(np.eye(3), True)
    linalg.eigh(A).eigenvalues.sum().backward()
    assert A.grad.tolist() == np.eye(3).tolist()
    A = tensor(np.eye(3), True)
    linalg.eigh(A).eigenvectors.sum().backward()
    assert np.isnan(A.grad.numpy()).all()


def test_svd_reconstructs_and_its_singular_value_gradient_is_u_v_transpose():
    A = random(3, 2, requires_grad=True)
    U, S, Vh = linalg.svd(A, full_matrices=False)
    rebuilt = retrograd.einsum("ij,j,jk->ik", U, S, Vh)
    np.testing.assert_allclose(rebuilt.detach().numpy(), A.detach().numpy(), atol=1e-12)
    S.sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), (U @ Vh).detach().numpy(), atol=1e-12)
    full = linalg.svd(A)
    assert full.U.shape == (3, 3) and full.Vh.shape == (2, 2)


def test_svd_with_repeated_singular_values_gives_nan_vector_gradients():
    A = tensor(np.eye(3), True)
    U, _, Vh = linalg.svd(A, full_matrices=False)
    (U @ Vh).sum().backward()
    assert np.isnan(A.grad.numpy()).all()


def test_torch_svd_returns_v_not_its_transpose():
    A = random(3, 2)
    U, S, V = retrograd.svd(A)
    assert U.shape == (3, 2)
    np.testing.assert_allclose(retrograd.einsum("ij,j,kj->ik", U, S, V).numpy(), A.numpy(), atol=1e-12)
    np.testing.assert_allclose(linalg.svdvals(A).numpy(), S.numpy())


def test_pinv_matches_numpy_and_is_a_left_inverse_of_a_tall_matrix():
    A = random(4, 2)
    P = linalg.pinv(A)
    np.testing.assert_allclose(P.numpy(), np.linalg.pinv(A.numpy()), atol=1e-12)
    np.testing.assert_allclose((P @ A).numpy(), np.eye(2), atol=1e-12)
    deficient = tensor([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(retrograd.pinverse(deficient).numpy(), np.linalg.pinv(deficient.numpy()))
    assert linalg.pinv(tensor([[2.0, 0.0], [0.0, 1e-3]]), atol=1e-2).tolist() == [[0.5, 0.0], [0.0, 0.0]]


# ---------------------------------------------------------------------------
# Norms and cross


def test_vector_norm_closed_forms():
    x = tensor([3.0, -4.0, 0.0])
    assert linalg.vector_norm(x).item() == 5.0
    assert linalg.vector_norm(x, 1).item() == 7.0
    assert linalg.vector_norm(x, math.inf).item() == 4.0
    assert linalg.vector_norm(x, -math.inf).item() == 0.0
    assert linalg.vector_norm(x, 0).item() == 2.0
    assert linalg.vector_norm(x, 3).item() == pytest.approx((27 + 64) ** (1 / 3))
    assert linalg.vector_norm(tensor(np.ones((2, 3))), dim=1, keepdim=True).shape == (2, 1)


def test_vector_norm_gradient_at_zero_is_zero():
    x = tensor([0.0, 0.0], True)
    linalg.vector_norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_infinity_norm_splits_its_gradient_among_ties():
    x = tensor([1.0, -3.0, 3.0], True)
    linalg.vector_norm(x, math.inf).backward()
    assert x.grad.tolist() == [0.0, -0.5, 0.5]


def test_zero_norm_passes_no_gradient():
    x = tensor([1.0, 0.0, 3.0], True)
    linalg.vector_norm(x, 0).backward()
    assert x.grad is None or not x.grad.numpy().any()


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_matrix_norm_matches_numpy(ord):
    A = random(3, 4)
    expected = np.linalg.norm(A.numpy(), ord)
    assert linalg.matrix_norm(A, ord).item() == pytest.approx(expected)
    assert linalg.norm(A, ord).item() == pytest.approx(expected)


def test_matrix_norm_over_other_dims_with_keepdim():
    A = random(2, 3, 4)
    out = linalg.matrix_norm(A, "nuc", dim=(2, 0), keepdim=True)
    assert out.shape == (1, 3, 1)
    expected = np.linalg.norm(np.transpose(A.numpy(), (1, 2, 0)), "nuc", axis=(1, 2))
    np.testing.assert_allclose(out.numpy().ravel(), expected)


def test_norm_picks_vector_or_matrix_norm_from_dim():
    A = random(2, 3, 4)
    assert linalg.norm(A).item() == pytest.approx(np.linalg.norm(A.numpy().ravel()))
    np.testing.assert_allclose(linalg.norm(A, dim=1).numpy(), np.linalg.norm(A.numpy(), axis=1))
    spectral = np.linalg.norm(A.numpy(), 2, axis=(1, 2))
    np.testing.assert_allclose(linalg.norm(A, 2, dim=(1, 2)).numpy(), spectral)


def test_cross_of_unit_vectors_and_its_gradients():
    a, b = tensor([1.0, 0.0, 0.0], True), tensor([0.0, 1.0, 0.0], True)
    out = linalg.cross(a, b)
    assert out.tolist() == [0.0, 0.0, 1.0]
    assert out.grad_fn.name() == "LinalgCrossBackward0"
    out.backward(tensor([0.0, 0.0, 1.0]))
    assert a.grad.tolist() == [1.0, 0.0, 0.0]
    assert b.grad.tolist() == [0.0, 1.0, 0.0]


def test_cross_saves_only_the_operand_the_needed_gradient_reads():
    """With a frozen `other`, only `other` is saved: changing `input` in place afterwards is no
    error (as in PyTorch), and the gradient is other x grad."""
    a, b = tensor([1.0, 2.0, 3.0], True), tensor([0.0, 1.0, 0.0])
    out = linalg.cross(a, b)
    with retrograd.no_grad():
        a.mul_(2.0)
    out.backward(tensor([0.0, 0.0, 1.0]))
    assert a.grad.tolist() == np.cross([0.0, 1.0, 0.0], [0.0, 0.0, 1.0]).tolist()


def test_torch_cross_defaults_to_the_first_dim_of_size_three():
    a, b = random(3, 2), random(3, 2, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = retrograd.cross(a, b)
    np.testing.assert_allclose(out.numpy(), np.cross(a.numpy(), b.numpy(), axis=0))
    with pytest.raises(RuntimeError, match="no dimension of size 3 in input"):
        retrograd.cross(random(2, 4), random(2, 4))


def _square(library):
    return library.tensor([[4.0, 2.0], [2.0, 3.0]], dtype=library.float64, requires_grad=True)


def _triple(library):
    return library.tensor([1.0, 2.0, 4.0], dtype=library.float64, requires_grad=True)


GRAD_FN_CASES = [
    ("inv", lambda m: m.linalg.inv(_square(m)), "LinalgInvExBackward0"),
    ("det", lambda m: m.linalg.det(_square(m)), "LinalgDetBackward0"),
    ("slogdet", lambda m: m.linalg.slogdet(_square(m)).logabsdet, "LinalgSlogdetBackward0"),
    ("logdet", lambda m: m.logdet(_square(m)), "WhereBackward0"),
    ("solve", lambda m: m.linalg.solve(_square(m), _square(m)), "LinalgSolveExBackward0"),
    ("cholesky", lambda m: m.linalg.cholesky(_square(m)), "LinalgCholeskyExBackward0"),
    ("qr", lambda m: m.linalg.qr(_square(m)).R, "LinalgQrBackward0"),
    ("eigh", lambda m: m.linalg.eigh(_square(m)).eigenvectors, "LinalgEighBackward0"),
    ("svd", lambda m: m.linalg.svd(_square(m)).S, "LinalgSvdBackward0"),
    ("pinv", lambda m: m.linalg.pinv(_square(m)), "LinalgPinvBackward0"),
    ("vector_norm", lambda m: m.linalg.vector_norm(_square(m)), "LinalgVectorNormBackward0"),
    ("fro", lambda m: m.linalg.matrix_norm(_square(m)), "LinalgVectorNormBackward0"),
    ("nuc", lambda m: m.linalg.matrix_norm(_square(m), "nuc"), "SumBackward1"),
    ("spectral", lambda m: m.linalg.matrix_norm(_square(m), 2), "AmaxBackward0"),
    ("smallest", lambda m: m.linalg.matrix_norm(_square(m), -2), "AminBackward0"),
    ("one", lambda m: m.linalg.matrix_norm(_square(m), 1), "AmaxBackward0"),
    ("cross", lambda m: m.linalg.cross(_triple(m), _triple(m).flip(0)), "LinalgCrossBackward0"),
    ("trace", lambda m: m.trace(_square(m)), "TraceBackward0"),
    ("addmm", lambda m: m.addmm(_square(m), _square(m), _square(m)), "AddmmBackward0"),
    ("addmv", lambda m: m.addmv(_square(m)[0], _square(m), _square(m)[1]), "AddmvBackward0"),
    ("baddbmm", lambda m: m.baddbmm(_square(m), _square(m)[None], _square(m)[None]), "BaddbmmBackward0"),
    ("vdot", lambda m: m.vdot(_square(m)[0], _square(m)[1]), "VdotBackward0"),
    ("outer", lambda m: m.outer(_square(m)[0], _square(m)[1]), "MulBackward0"),
    ("kron", lambda m: m.kron(_square(m), _square(m)), "UnsafeViewBackward0"),
    ("addr", lambda m: m.addr(_square(m), _square(m)[0], _square(m)[1]), "AddrBackward0"),
    ("addbmm", lambda m: m.addbmm(_square(m), _square(m)[None], _square(m)[None]), "AddbmmBackward0"),
    ("solve_triangular", lambda m: m.linalg.solve_triangular(_square(m), _square(m), upper=True),
     "LinalgSolveTriangularBackward0"),
    ("vecdot", lambda m: m.linalg.vecdot(_square(m), _square(m)), "SumBackward1"),
]


@pytest.mark.parametrize(("build", "name"), [case[1:] for case in GRAD_FN_CASES], ids=[c[0] for c in GRAD_FN_CASES])
def test_linalg_grad_fn_names(build, name):
    assert build(retrograd).grad_fn.name() == name


@pytest.mark.parametrize(("build", "name"), [case[1:] for case in GRAD_FN_CASES], ids=[c[0] for c in GRAD_FN_CASES])
def test_linalg_grad_fn_names_match_pytorch(build, name):
    torch = pytest.importorskip("torch")
    assert build(torch).grad_fn.name() == name


def test_solve_triangular_reads_only_its_triangle():
    A = tensor([[2.0, 1.0], [100.0, 4.0]])
    B = tensor([[4.0], [8.0]])
    X = linalg.solve_triangular(A, B, upper=True)
    assert X.tolist() == [[1.0], [2.0]]
    unit = linalg.solve_triangular(tensor([[5.0, 0.0], [3.0, 5.0]]), B, upper=False, unitriangular=True)
    np.testing.assert_allclose(unit.numpy(), [[4.0], [-4.0]])
    with pytest.raises(RuntimeError, match="The input tensor B must have at least 2 dimensions"):
        linalg.solve_triangular(A, tensor([1.0, 2.0]), upper=True)


def test_solve_triangular_gradient_stays_in_the_triangle():
    A = tensor([[2.0, 1.0], [3.0, 4.0]], True)
    linalg.solve_triangular(A, tensor([[1.0], [1.0]]), upper=True).sum().backward()
    assert A.grad.numpy()[1, 0] == 0.0


def test_matrix_rank_cond_vecdot_and_diagonal():
    assert linalg.matrix_rank(tensor([[1.0, 2.0], [2.0, 4.0]])).item() == 1
    assert linalg.matrix_rank(tensor(np.ones((2, 3, 3)))).tolist() == [1, 1]
    assert linalg.cond(tensor([[2.0, 0.0], [0.0, 0.5]])).item() == pytest.approx(4.0)
    assert linalg.cond(tensor([[2.0, 0.0], [0.0, 0.5]]), "fro").item() == pytest.approx(4.25)
    x = random(2, 3)
    np.testing.assert_allclose(linalg.vecdot(x, x).numpy(), (x.numpy() ** 2).sum(-1))
    assert linalg.diagonal(tensor([[1.0, 2.0], [3.0, 4.0]])).tolist() == [1.0, 4.0]


def test_addr_and_addbmm_match_their_definitions():
    out = retrograd.addr(tensor(np.ones((2, 3))), tensor([1.0, 2.0]), tensor([1.0, 0.0, -1.0]), alpha=2)
    assert out.tolist() == [[3.0, 1.0, -1.0], [5.0, 1.0, -3.0]]
    batch1, batch2 = random(3, 2, 4), random(3, 4, 2, seed=1)
    summed = retrograd.addbmm(tensor(np.zeros((2, 2))), batch1, batch2)
    np.testing.assert_allclose(summed.numpy(), (batch1.numpy() @ batch2.numpy()).sum(0))


# ---------------------------------------------------------------------------
# cholesky_inverse reads one triangle, as LAPACK's potri


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_reads_only_the_factor_triangle(upper):
    lower = np.array([[2.0, 0.0], [1.0, 3.0]])
    factor = lower.T if upper else lower
    noisy = factor + (np.triu(np.full((2, 2), 5.0), 1) if not upper else np.tril(np.full((2, 2), 5.0), -1))
    expected = np.linalg.inv(lower @ lower.T)
    result = retrograd.cholesky_inverse(retrograd.tensor(noisy), upper=upper)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)


def test_cholesky_inverse_gradient_counts_every_entry_of_the_factor():
    """PyTorch's formula: dL = -X (G + G^T) X L, with the whole L (its upper part too)."""
    factor = np.array([[2.0, 0.7], [1.0, 3.0]])
    x = retrograd.tensor(factor, requires_grad=True)
    result = retrograd.cholesky_inverse(x)
    weights = np.array([[1.0, -2.0], [0.5, 3.0]])
    (result * retrograd.tensor(weights)).sum().backward()
    inverse = result.detach().numpy()
    expected = -inverse @ (weights + weights.T) @ inverse @ factor
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_cholesky_inverse_keeps_finite_what_lapack_keeps_next_to_nan():
    """With NaN in the factor, only the entries LAPACK's potri reaches from it are NaN."""
    nan = float("nan")
    factor = retrograd.tensor([[2.0, 0.0, 0.0], [nan, 1.0, 0.0], [1.0, 2.0, 3.0]], dtype=retrograd.float64)
    result = retrograd.cholesky_inverse(factor).numpy()
    assert np.isnan(result[0]).all() and np.isnan(result[:, 0]).all()
    np.testing.assert_allclose(result[1:, 1:], [[13 / 9, -2 / 9], [-2 / 9, 1 / 9]], rtol=1e-12)


def test_cholesky_inverse_of_a_zero_diagonal_names_the_element():
    with pytest.raises(retrograd.linalg.LinAlgError, match=r"\(Batch element 1\): The diagonal element 2 is zero"):
        retrograd.cholesky_inverse(retrograd.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]]]))


def test_cross_saves_dim_as_given_and_batches_by_it():
    a = retrograd.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], requires_grad=True)
    b = retrograd.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert [retrograd.linalg.cross(a, b, dim=dim).grad_fn._saved_dim for dim in (1, -1)] == [1, 2**64 - 1]  # (shown unsigned, as PyTorch)
    assert retrograd.cross(a, b).grad_fn._saved_dim == 1  # the first dim of size 3, as PyTorch
    stacked = retrograd.stack([a, a * 2])
    batched = retrograd.func.vmap(lambda x: retrograd.linalg.cross(x, b, dim=1))(stacked)
    looped = retrograd.stack([retrograd.linalg.cross(x, b, dim=1) for x in stacked])
    assert batched.tolist() == looped.tolist() == [[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
                                                   [[0.0, 0.0, 2.0], [2.0, 0.0, 0.0]]]


# -- matrix_exp ----------------------------------------------------------------


def test_matrix_exp_of_a_skew_matrix_is_a_rotation():
    angle = 0.7
    result = retrograd.matrix_exp(retrograd.tensor([[0.0, -angle], [angle, 0.0]], dtype=retrograd.float64))
    expected = [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    np.testing.assert_allclose(result.numpy(), expected, atol=1e-15)


def test_matrix_exp_of_a_large_matrix_scales_and_squares():
    diagonal = retrograd.diag(retrograd.tensor([5.0, -3.0, 0.5], dtype=retrograd.float64))
    expected = np.diag(np.exp([5.0, -3.0, 0.5]))
    np.testing.assert_allclose(linalg.matrix_exp(diagonal).numpy(), expected, rtol=1e-14)
    nilpotent = retrograd.tensor([[0.0, 30.0], [0.0, 0.0]])
    assert nilpotent.matrix_exp().tolist() == [[1.0, 30.0], [0.0, 1.0]]


def test_matrix_exp_gradient_of_a_diagonal_matrix_is_the_exponentials():
    A = retrograd.tensor([[1.0, 0.0], [0.0, -2.0]], dtype=retrograd.float64, requires_grad=True)
    retrograd.matrix_exp(A).trace().backward()
    np.testing.assert_allclose(A.grad.numpy(), np.diag(np.exp([1.0, -2.0])), rtol=1e-14)
    assert retrograd.matrix_exp(A).grad_fn.name() == "LinalgMatrixExpBackward0"


def test_matrix_exp_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 2 by 3 matrices"):
        retrograd.matrix_exp(retrograd.ones(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        retrograd.matrix_exp(retrograd.eye(2, dtype=retrograd.int64))
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        linalg.matrix_exp(retrograd.ones(3))


def _layouts(matrix: np.ndarray):
    """The same matrix stored in C and F order, as a strided slice, as a column slice and transposed."""
    yield matrix
    yield np.asfortranarray(matrix)
    rows, columns = matrix.shape
    spaced = np.zeros((2 * rows + 1, 3 * columns + 2), matrix.dtype)
    spaced[1::2, 2::3] = matrix
    yield spaced[1::2, 2::3]
    wide = np.zeros((rows, columns + 5), matrix.dtype)
    wide[:, 3:3 + columns] = matrix
    yield wide[:, 3:3 + columns]
    yield np.ascontiguousarray(matrix.T).T


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_addmm_multiplies_as_matmul_bit_for_bit(dtype):
    """Note [Matrix products by np.dot]: whichever NumPy function computes a product of two
    matrices, its bits are np.matmul's, for every layout of either matrix."""
    from retrograd.ops.linalg.products import _matrices_product

    rng = np.random.default_rng(3)
    for rows, inner, columns in [(1, 3, 4), (1, 51, 204), (8, 1, 204), (8, 51, 1), (8, 51, 204), (33, 3, 1)]:
        first = rng.standard_normal((rows, inner)).astype(dtype)
        second = rng.standard_normal((inner, columns)).astype(dtype)
        for a in _layouts(first):
            for b in _layouts(second):
                assert np.matmul(a, b).tobytes() == _matrices_product(a, b).tobytes(), (a.strides, b.strides)
