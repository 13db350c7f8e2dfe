"""Linear algebra, inverses, determinants and solvers: inv, det, slogdet, solve, triangular
solves, pinv, matrix_power and friends."""

from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._saved_shown import ShownAsPyTorch, formula_value, saved_array
from .._table import OUTPUT, apply, output, register, register_method
from ..pointwise import where
from ..shape import cat, diag_embed, diagonal, tril, triu
from .contraction import (
    LinAlgError,
    _batch_prefix,
    _check_square_batches,
    _constant,
    _identity,
    _require_tensor,
    _shape_text,
    _SlogdetResult,
    _TorchSlogdetResult,
    _type_name,
    _without_float_warnings,
)
from .products import _broadcast_batch, matmul, vdot

# ---------------------------------------------------------------------------
# Inverse, determinants, solve


def _raise_singular(op_name: str, data: np.ndarray, detail) -> None:
    """LinAlgError naming the first singular matrix of a batch, as PyTorch does."""
    flat = data.reshape((-1, *data.shape[-2:]))
    for index, matrix in enumerate(flat):
        rank = np.linalg.matrix_rank(matrix) if matrix.size else matrix.shape[-1]
        if rank < matrix.shape[-1]:
            raise LinAlgError(f"{op_name}: {_batch_prefix(data.shape, index)}{detail(rank + 1)}")
    raise LinAlgError(f"{op_name}: {detail(1)}")


class LinalgInvExBackward0(Node):
    """Y = A^-1: dA = -Y^T grad Y^T."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs = ("a",)
    saved_names = ("inverse",)  # (PyTorch's name for the saved inverse: Note [Saved names])
    tangent = staticmethod(lambda a_t, result: -matmul(matmul(result, a_t), result))
    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(OUTPUT)
        try:
            return np.linalg.inv(a._data)
        except np.linalg.LinAlgError:
            _raise_singular(
                "linalg.inv",
                a._data,
                lambda element: f"The diagonal element {element} is zero, the inversion could not be "
                "completed because the input matrix is singular.",
            )

    def backward(self, grad):
        (inverse_,) = self._saved_tensors
        inverse_t = inverse_.mT
        return -matmul(matmul(inverse_t, grad), inverse_t)


@register(name="linalg.inv", torch_name="linalg.inv")
def inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch)."""
    _require_tensor(A, "linalg_inv", 1, "A")
    _check_square_batches(A, "linalg.inv")
    return apply(LinalgInvExBackward0, A)


def _transposed(matrices):
    return matrices.mT if isinstance(matrices, Tensor) else np.swapaxes(matrices, -1, -2)


def _cholesky_inverse_tangent(self_t, self, result, upper):
    product_t = matmul(_transposed(self_t), self) if upper else matmul(self_t, _transposed(self))
    return -matmul(matmul(result, product_t + _transposed(product_t)), result)


class CholeskyInverseBackward0(Node):
    """X = (L L^T)^-1 from the lower triangle of L (of U^T with `upper`), as LAPACK's potri.

    As PyTorch, the gradient counts every entry of the input (dL = -X (G + G^T) X L), though
    the forward reads one triangle; the tangent is that gradient's adjoint.
    """
    hand_written = "the inverse from a Cholesky factor, computed as LAPACK's potri"

    inputs = ("self",)
    tangent = staticmethod(_cholesky_inverse_tangent)
    __slots__ = ("upper",)

    @staticmethod
    def forward(ctx, input, upper):
        ctx.upper = upper
        ctx.save_for_backward(input, OUTPUT)
        factor = np.tril(np.swapaxes(input._data, -1, -2) if upper else input._data)
        _refuse_zero_diagonal(factor)
        with np.errstate(all="ignore"):
            if np.isfinite(factor).all():
                factor_inverse = np.linalg.inv(factor)
                return np.swapaxes(factor_inverse, -1, -2) @ factor_inverse
            return np.vectorize(_potri_by_triangles, signature="(n,n)->(n,n)")(factor)

    def backward(self, grad):
        input, result = self._saved_tensors
        common = matmul(matmul(result, grad + grad.mT), result)
        return -matmul(input, common) if self.upper else -matmul(common, input)


def _refuse_zero_diagonal(factor: np.ndarray) -> None:
    diagonals = np.diagonal(factor, axis1=-2, axis2=-1).reshape(-1, factor.shape[-1])
    for index, entries in enumerate(diagonals):
        zeros = np.flatnonzero(entries == 0)
        if zeros.size:
            raise LinAlgError(
                f"cholesky_inverse: {_batch_prefix(factor.shape, index)}The diagonal element "
                f"{zeros[0] + 1} is zero, the inversion could not be completed because the input "
                "matrix is singular."
            )


def _potri_by_triangles(factor: np.ndarray) -> np.ndarray:
    """(L L^T)^-1 touching only the triangles, as LAPACK does: with NaN or Inf in `factor`, no
    product with an entry outside them (a structural zero) is taken, so NaN stays where
    LAPACK's potri keeps it (a LU inverse spreads it to every entry)."""
    size = factor.shape[-1]
    below = np.tril(np.ones((size, size), dtype=bool))
    inverse = np.zeros_like(factor)
    for row in range(size):
        terms = factor[row, :row, None] * inverse[:row, :row]
        inverse[row, :row] = -np.where(below[:row, :row], terms, 0).sum(axis=0) / factor[row, row]
        inverse[row, row] = 1 / factor[row, row]
    result = np.zeros_like(factor)
    for row in range(size):
        result[: row + 1, : row + 1] += np.multiply.outer(inverse[row, : row + 1], inverse[row, : row + 1])
    return result


def _triangular_input(op):
    """Call `op` on the triangle it reads, for gradient tests: its gradient counts the other
    entries too (as PyTorch's, whose own gradient tests use the same wrapper)."""

    def call(input, upper=False):
        return op(input.triu() if upper else input.tril(), upper=upper)

    return call


@register(methods="cholesky_inverse", gradcheck_wrapper=_triangular_input)
def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """The inverse of A = L L^T (U^T U with `upper`) from its Cholesky factor `input`."""
    _require_tensor(input, "cholesky_inverse", 1, "input")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"cholesky_inverse_out_cpu\" not implemented for '{_type_name(input)}'")
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        rows, columns = (input.shape[-2], input.shape[-1]) if input.ndim >= 2 else (0, 0)
        raise RuntimeError(
            f"cholesky_inverse: A must be batches of square matrices, but they are {rows} by {columns} "
            "matrices"
        )
    return apply(CholeskyInverseBackward0, input, upper=upper)


# Taylor degree and the 1-norm the scaled matrix is brought under in matrix_exp: the
# remainder 0.5**19 / 19! lies far below float64's rounding.
_EXP_TAYLOR_DEGREE = 18
_EXP_SCALED_NORM = 0.5


def _exp_of_matrices(matrices: np.ndarray) -> np.ndarray:
    """exp of each square matrix by scaling, a Taylor polynomial and squaring, in float64.

    Each matrix is scaled by its own power of two, so its result does not depend on the
    other matrices of the batch (vmap gives what a loop gives)."""
    work = matrices.astype(np.float64)
    norms = np.abs(work).sum(axis=-2).max(axis=-1, initial=0.0)
    with np.errstate(divide="ignore"):
        squarings = np.maximum(0, np.ceil(np.log2(norms / _EXP_SCALED_NORM))).astype(np.int64)
    scaled = work / (2.0**squarings)[..., None, None]
    identity = np.broadcast_to(np.eye(work.shape[-1]), work.shape)
    result = identity.copy()
    for degree in range(_EXP_TAYLOR_DEGREE, 0, -1):  # Horner: I + A/1 (I + A/2 (I + ...))
        result = identity + (scaled @ result) / degree
    for step in range(int(squarings.max(initial=0))):
        result = np.where((squarings > step)[..., None, None], result @ result, result)
    return result.astype(matrices.dtype)


def _exp_derivative(point: Tensor, direction: Tensor) -> Tensor:
    """The derivative of exp at `point` in `direction`: the upper-right block of
    exp([[point, direction], [0, point]]). At point^T it is the adjoint (the gradient)."""
    size = point.shape[-1]
    top = cat([point, direction], dim=-1)
    bottom = cat([_constant(np.zeros(point.shape, dtype=point._data.dtype)), point], dim=-1)
    return matrix_exp(cat([top, bottom], dim=-2))[..., :size, size:]


class LinalgMatrixExpBackward0(Node):
    """Y = exp(A): dA = the derivative of exp at A^T applied to grad (a block exponential)."""
    hand_written = "a matrix function whose derivative is the exponential of a block matrix"

    inputs = ("self",)
    tangent = staticmethod(lambda self, self_t: _exp_derivative(self, self_t))
    __slots__ = ()

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return _exp_of_matrices(input._data)

    def backward(self, grad):
        (input,) = self._saved_tensors
        return _exp_derivative(input.mT, grad)


@register(name="linalg.matrix_exp", torch_name="linalg.matrix_exp", methods="matrix_exp")
def matrix_exp(A: Tensor) -> Tensor:
    """exp of a square matrix (or of each in a batch): the sum of A^k / k!."""
    _require_tensor(A, "linalg_matrix_exp", 1, "A")
    _check_square_batches(A, "linalg.matrix_exp")
    return apply(LinalgMatrixExpBackward0, A)


def inverse(input: Tensor) -> Tensor:
    """torch.inverse: the same as linalg.inv."""
    return inv(input)


register_method("inverse", inverse)


# Note [The LU factors shown, not kept]
#     PyTorch's det, slogdet and solve factor A once (getrf) and save the factors, `LU` and
#     `pivots`, for their backward. Ours keep A and solve again in backward, so a node keeps no
#     factors: it shows them computed from its saved A (`_lu_shown`), as the same partial-
#     pivoting LU that linalg.lu_factor gives, freed with the node as PyTorch's are. det and
#     slogdet factor A^T (the same determinant; PyTorch's factors are of A^T's layout there).
def _lu_shown(of_transpose: bool = False) -> dict:
    """`LU` and `pivots` as PyTorch's node shows them (Note [The LU factors shown, not kept])."""
    def factors(node) -> tuple:
        from .lu import _factored  # (lu.py builds on this module)

        a = formula_value(node, "A")._data
        return _factored(np.swapaxes(a, -1, -2) if of_transpose else a)

    return {"LU": lambda node: saved_array(node, factors(node)[0]),
            "pivots": lambda node: saved_array(node, factors(node)[1])}


class LinalgDetBackward0(ShownAsPyTorch, Node):
    """det(A): dA = grad * det(A) * A^-T (zero for exactly singular matrices, as PyTorch)."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs = ("a",)
    saved_names = ("A", "result")
    shown = _lu_shown(of_transpose=True)
    tangent = staticmethod(lambda a, a_t, result: _det_tangent(a, a_t, result))
    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a, OUTPUT)
        return np.linalg.det(a._data)

    def backward(self, grad):
        # PyTorch's linalg_det_backward: solve A^T X = diag(grad * det) (not grad * det times
        # A^-T: an Inf arriving mixes through the solve's LU as there, giving PyTorch's NaN).
        a, determinant = self._saved_tensors
        scaled = diag_embed((grad * determinant).unsqueeze(-1).expand(*a.shape[:-1]))
        return solve(_singular_replaced(a, determinant._data == 0).mT, scaled)


def _det_tangent(a, a_t, result):
    """d det A = det A tr(A^-1 dA) (zero for an exactly singular A, as the gradient)."""
    inverse = inv(_singular_replaced(a, result._data == 0))
    return result * (inverse.mT * a_t).sum((-2, -1))


def _singular_replaced(a: Tensor, singular: np.ndarray) -> Tensor:
    """`a` with the singular matrices of the batch replaced by identities, so that it can be
    inverted; the caller masks what those entries contribute."""
    if not singular.any():
        return a
    return where(_constant(singular[..., None, None]), _identity(a.shape[-1], a), a)


@register(name="linalg.det", torch_name="linalg.det")
def det(A: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch)."""
    _require_tensor(A, "linalg_det", 1, "A")
    _check_square_batches(A, "linalg.det")
    return apply(LinalgDetBackward0, A)


register_method("det", det)


class LinalgSlogdetBackward0(ShownAsPyTorch, Node):
    """(sign, log|det A|): only log|det| has a gradient, grad * A^-T (nan for a singular A,
    as in PyTorch)."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs, outputs = ("a",), ("sign", "logabsdet")
    saved_names = ("A", "logabsdet")
    hidden = ("logabsdet",)
    shown = {**_lu_shown(of_transpose=True),
             "sign": lambda node: saved_array(node, _slogdet_arrays(formula_value(node, "A")._data)[0])}
    tangent = staticmethod(lambda a, a_t, sign, logabsdet: (
        _math.zeros_like(sign), _slogdet_tangent(a, a_t, logabsdet)))
    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a, output(1))
        return _slogdet_arrays(a._data)

    @_without_float_warnings
    def backward(self, *grads):
        grad = grads[1] if len(grads) > 1 else None
        if grad is None:
            return None
        a, logabsdet = self._saved_tensors
        singular = np.isneginf(logabsdet._data)
        inverse_t = inv(_singular_replaced(a, singular)).mT
        if singular.any():
            inverse_t = where(_constant(singular[..., None, None]), math.nan, inverse_t)
        return grad.unsqueeze(-1).unsqueeze(-1) * inverse_t


def _slogdet_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sign, log|det|) of a batch of square matrices, the sign of a NaN determinant 0."""
    sign, logabsdet = np.linalg.slogdet(a)
    # PyTorch multiplies the signs of the LU factor's diagonal, and the sign of NaN is 0
    sign = np.where(np.isnan(logabsdet), 0, sign).astype(a.dtype)
    return np.asarray(sign), np.asarray(logabsdet)


def _slogdet_tangent(a, a_t, logabsdet):
    """d log|det A| = trace(A^-1 dA) (nan for a singular A, as the gradient)."""
    singular = np.isneginf(logabsdet._data)
    inverse_t = inv(_singular_replaced(a, singular)).mT
    if singular.any():
        inverse_t = where(_constant(singular[..., None, None]), math.nan, inverse_t)
    return (inverse_t * a_t).sum((-2, -1))


@register(name="linalg.slogdet", torch_name="linalg.slogdet")
def linalg_slogdet(A: Tensor):
    """(sign, log|det|) of a square matrix: the determinant without overflow."""
    _require_tensor(A, "linalg_slogdet", 1, "A")
    _check_square_batches(A, "linalg.slogdet")
    return _SlogdetResult(*apply(LinalgSlogdetBackward0, A))


def slogdet(input: Tensor, *, out=None):
    """torch.slogdet: linalg.slogdet with PyTorch's older result type."""
    if out is not None:  # see Note [out= arguments] (ops/_out.py)
        from .. import _out

        _out.check_no_grad("slogdet", out, (input,))
        return _out.write(out, slogdet(input), "slogdet")
    return _TorchSlogdetResult(*linalg_slogdet(input))


def logdet(input: Tensor) -> Tensor:
    """log(det(input)): nan for a negative determinant, -inf for a singular matrix."""
    sign, logabsdet = linalg_slogdet(input)
    return where(sign < 0, math.nan, logabsdet)


register_method("slogdet", slogdet)
register_method("logdet", logdet)


def _solved(a: np.ndarray, b: np.ndarray, op_name: str) -> np.ndarray:
    """X with A X = B for batches of matrices (batch dims broadcast); a singular A raises."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    try:
        return np.linalg.solve(np.broadcast_to(a, batch + a.shape[-2:]),
                               np.broadcast_to(b, batch + b.shape[-2:]))
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{op_name}: The solver failed because the input matrix is singular.") from None


class LinalgSolveExBackward0(ShownAsPyTorch, Node):
    """X = A^-1 B: dB = A^-T grad, dA = -dB X^T; with left=False, X = B A^-1: dB = grad A^-T,
    dA = -X^T dB."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs = ("a", "b")
    saved_names = ("A", "result")
    hidden = ("vector",)
    shown = _lu_shown()
    tangent = staticmethod(
        lambda a, a_t, b_t, result, vector, left: _solve_tangent(a, a_t, b_t, result, vector, left))
    __slots__ = ("left", "vector")

    @staticmethod
    def forward(ctx, a, b, vector, left=True):
        ctx.save_for_backward(a, OUTPUT)
        ctx.vector, ctx.left = vector, left
        if not left:  # (X A = B solved as A^T X^T = B^T)
            return np.swapaxes(_solved(np.swapaxes(a._data, -1, -2), np.swapaxes(b._data, -1, -2),
                                       "retrograd.linalg.solve"), -1, -2)
        right = b._data[..., None] if vector else b._data
        result = _solved(a._data, right, "retrograd.linalg.solve")
        return result[..., 0] if vector else result

    def backward(self, grad):
        a, solution = self._saved_tensors
        needs_a, needs_b = self.needs_input_grad
        if not self.left:
            grad_b = solve(a.mT, grad, left=False)
            return -matmul(solution.mT, grad_b) if needs_a else None, grad_b if needs_b else None
        grad_b = solve(a.mT, grad)
        grad_a = None
        if needs_a:
            if self.vector:
                grad_a = -matmul(grad_b.unsqueeze(-1), solution.unsqueeze(-2))
            else:
                grad_a = -matmul(grad_b, solution.mT)
        return grad_a, grad_b if needs_b else None


@register(name="linalg.solve", torch_name="linalg.solve")
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (or X A = B when left=False); B may be a vector or batch of vectors."""
    _require_tensor(A, "linalg_solve", 1, "A")
    _require_tensor(B, "linalg_solve", 2, "B")
    _check_square_batches(A, "linalg.solve")
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_type_name(A)} and B of type {_type_name(B)} instead"
        )
    if not left:
        if B.ndim < 2 or _is_vector_side(_transposed_shape(A.shape), _transposed_shape(B.shape)):
            return solve(A.mT, B.mT).mT
        if B.shape[-1] != A.shape[-2]:
            raise RuntimeError(_incompatible("linalg.solve", A.shape, B.shape))
        _broadcast_batch(A.shape[:-2], B.shape[:-2])
        return apply(LinalgSolveExBackward0, A, B, vector=False, left=False)
    vector = _is_vector_side(A.shape, B.shape)
    _check_solve_shapes(A.shape, B.shape, vector)
    return apply(LinalgSolveExBackward0, A, B, vector=vector)


def _incompatible(op_name: str, a_shape, b_shape) -> str:
    """PyTorch's error for shapes that do not fit X A = B."""
    return (f"{op_name}: Incompatible shapes of A and B for the equation XA = B "
            f"({_shape_text(a_shape[-2:])} and {_shape_text(b_shape[-2:])})")


def _transposed_shape(shape) -> tuple:
    return (*shape[:-2], shape[-1], shape[-2])


def _is_vector_side(a_shape, b_shape) -> bool:
    """Whether linalg.solve reads B as a vector (or a batch of vectors) rather than matrices."""
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and tuple(b_shape) == tuple(a_shape[:-1]))


def _check_solve_shapes(a_shape, b_shape, vector: bool) -> None:
    """linalg.solve's shape checks for A X = B (X A = B checks its transposes)."""
    rows = b_shape[-1] if vector else b_shape[-2] if len(b_shape) >= 2 else None
    if rows != a_shape[-1]:
        columns = 1 if vector else b_shape[-1]
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({_shape_text(a_shape[-2:])} and {rows}x{columns})"
        )
    if not vector:
        _broadcast_batch(a_shape[:-2], b_shape[:-2])


class LinalgSolveTriangularBackward0(ShownAsPyTorch, Node):
    """X = T^-1 B for the triangle T of A: dB = T^-T grad, dA = the same triangle of -dB X^T."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs = ("a", "b")
    tangent = staticmethod(lambda a, a_t, b_t, result, upper, unitriangular, left:
                           _solve_triangular_tangent(a, a_t, b_t, result, upper, unitriangular, left))
    __slots__ = ("left", "unitriangular", "upper")

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular, left=True):
        ctx.save_for_backward(a, OUTPUT)
        ctx.upper, ctx.unitriangular, ctx.left = upper, unitriangular, left
        triangle = _triangle(a._data, upper, unitriangular)
        if not left:  # (X T = B solved as T^T X^T = B^T)
            return np.swapaxes(_substituted(np.swapaxes(triangle, -1, -2), np.swapaxes(b._data, -1, -2),
                                            not upper), -1, -2)
        return _substituted(triangle, b._data, upper)

    def backward(self, grad):
        a, solution = self._saved_tensors
        needs_a, needs_b = self.needs_input_grad
        grad_b = solve_triangular(a.mT, grad, upper=not self.upper, left=self.left,
                                  unitriangular=self.unitriangular)
        grad_a = None
        if needs_a:
            product = -matmul(grad_b, solution.mT) if self.left else -matmul(solution.mT, grad_b)
            offset = 1 if self.unitriangular else 0
            grad_a = triu(product, offset) if self.upper else tril(product, -offset)
        return grad_a, grad_b if needs_b else None


def _solve_triangular_tangent(a, a_t, b_t, result, upper, unitriangular, left=True):
    """X = T^-1 B: dX = T^-1 (dB - dT X), dT the triangle of dA the op reads; X = B T^-1:
    dX = (dB - X dT) T^-1."""
    offset = 1 if unitriangular else 0
    triangle_t = triu(a_t, offset) if upper else tril(a_t, -offset)
    right = b_t - (matmul(triangle_t, result) if left else matmul(result, triangle_t))
    return solve_triangular(a, right, upper=upper, left=left, unitriangular=unitriangular)


def _substituted(triangle: np.ndarray, b: np.ndarray, upper: bool) -> np.ndarray:
    """X with T X = B for a triangular T, by substitution over the triangle (LAPACK's trsm).

    Row i of X reads only the rows of B from i on (upper) or up to i (lower) and never T's
    other triangle, so a NaN or Inf in B reaches only the rows that depend on it, as in
    PyTorch; an LU solve of the whole matrix would mix it in through the zeros. A zero on
    the diagonal gives Inf or NaN, as trsm does (no error).
    """
    batch = np.broadcast_shapes(triangle.shape[:-2], b.shape[:-2])
    triangle = np.broadcast_to(triangle, batch + triangle.shape[-2:])
    solution = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(triangle, b))
    size = triangle.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for row in range(size - 1, -1, -1) if upper else range(size):
            solved = slice(row + 1, size) if upper else slice(0, row)
            value = solution[..., row: row + 1, :]
            if solved.start != solved.stop:
                value = value - np.matmul(triangle[..., row: row + 1, solved], solution[..., solved, :])
            solution[..., row: row + 1, :] = value / triangle[..., row: row + 1, row: row + 1]
    return solution


def _triangle(data: np.ndarray, upper: bool, unitriangular: bool) -> np.ndarray:
    """The upper or lower triangle of `data`, with ones on the diagonal if unitriangular."""
    offset = 1 if unitriangular else 0
    triangle = np.triu(data, offset) if upper else np.tril(data, -offset)
    if unitriangular:
        triangle = triangle + np.eye(data.shape[-1], dtype=data.dtype)
    return triangle


@register(
    name="linalg.solve_triangular", torch_name="linalg.solve_triangular",
    floating=True,
)
def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False):
    """X with T X = B (or X T = B when left=False), T the upper or lower triangle of A."""
    _require_tensor(A, "linalg_solve_triangular", 1, "A")
    _require_tensor(B, "linalg_solve_triangular", 2, "B")
    _check_square_batches(A, "linalg.solve_triangular")
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if B.dtype is not A.dtype:
        B = B.to(A.dtype)  # PyTorch's solve_triangular computes in A's dtype
    if not left and B.shape[-1] != A.shape[-2]:
        raise RuntimeError(_incompatible("linalg.solve_triangular", A.shape, B.shape))
    if left and B.shape[-2] != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation AX = B "
            f"({_shape_text(A.shape[-2:])} and {_shape_text(B.shape[-2:])})"
        )
    _broadcast_batch(A.shape[:-2], B.shape[:-2])
    if not left:
        return apply(LinalgSolveTriangularBackward0, A, B, upper=upper, unitriangular=unitriangular,
                     left=False)
    return apply(LinalgSolveTriangularBackward0, A, B, upper=upper, unitriangular=unitriangular)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along `dim`, broadcasting the other dims."""
    _require_tensor(x, "linalg_vecdot", 1, "x")
    _require_tensor(y, "linalg_vecdot", 2, "y")
    if x.ndim == 1 and y.ndim == 1 and dim in (0, -1):
        return vdot(x, y)
    return (x * y).sum(dim)


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * largest) (an int64 tensor)."""
    from .decompositions import _check_matrix_input, _scalar_tolerance  # defined later in the package
    _require_tensor(A, "linalg_matrix_rank", 1, "A")
    _check_matrix_input(A, "linalg.matrix_rank")
    values = np.linalg.svd(A._data, compute_uv=False)
    if rtol is None:
        rtol = np.finfo(A._data.dtype).eps * max(A.shape[-2:]) if atol is None or atol == 0 else 0.0
    atol = 0.0 if atol is None else atol
    largest = values[..., :1] if values.shape[-1] else np.zeros((*values.shape[:-1], 1), values.dtype)
    cutoff = np.maximum(_scalar_tolerance(atol), _scalar_tolerance(rtol) * largest)
    return _constant(np.sum(values > cutoff, axis=-1).astype(np.int64))


def cond(A: Tensor, p=None) -> Tensor:
    """The condition number of A in the norm `p` (the 2-norm by default: largest over
    smallest singular value)."""
    from .decompositions import _check_matrix_input, svdvals  # defined later in the package
    from .norms import matrix_norm  # defined later in the package
    _require_tensor(A, "linalg_cond", 1, "A")
    _check_matrix_input(A, "linalg.cond")
    if p in (None, 2, -2):
        values = svdvals(A)
        largest, smallest = values[..., 0], values[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of (a batch of) matrices: torch.diagonal with the last two dims by default."""
    return diagonal(A, offset, dim1, dim2)


def _solve_tangent(a, a_t, b_t, result, vector, left=True):
    """X = A^-1 B: dX = A^-1 (dB - dA X); X = B A^-1: dX = (dB - X dA) A^-1."""
    if not left:
        return solve(a, b_t - matmul(result, a_t), left=False)
    solution = result.unsqueeze(-1) if vector else result
    right = (b_t.unsqueeze(-1) if vector else b_t) - matmul(a_t, solution)
    tangent = solve(a, right)
    return tangent.squeeze(-1) if vector else tangent
