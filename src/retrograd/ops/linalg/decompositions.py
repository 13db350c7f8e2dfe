"""Linear algebra, decompositions: cholesky, qr, eigh, svd and the values-only forms."""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._saved_shown import ShownAsPyTorch, formula_value
from .._table import OUTPUT, apply, output, register, register_method
from ..shape import cat, diag_embed, diagonal, tril
from .contraction import (
    LinAlgError,
    _batch_prefix,
    _check_floating,
    _check_square_batches,
    _constant,
    _EighResult,
    _identity,
    _QrResult,
    _require_tensor,
    _SvdResult,
    _TorchQrResult,
    _TorchSvdResult,
    _type_name,
    _without_float_warnings,
)
from .products import matmul
from .solvers import inv, solve, solve_triangular

# ---------------------------------------------------------------------------
# Decompositions


def _symmetrized(op):
    """Call `op` on (A + A^T) / 2, for gradient tests of ops that read one triangle.

    See Note [Symmetric inputs]; works on retrograd and PyTorch tensors alike.
    """

    def call(A, *args, **kwargs):
        return op((A + A.mT) / 2, *args, **kwargs)

    return call


def _symmetrized_if_hermitian(op):
    """Call `op` on (A + A^T) / 2 when it is told `hermitian=True` (see Note [Symmetric inputs])."""

    def call(A, *args, **kwargs):
        return op((A + A.mT) / 2 if kwargs.get("hermitian") else A, *args, **kwargs)

    return call


def _sign_free(op, vector_outputs: tuple[int, ...]):
    """Square the listed outputs elementwise (see Note [Gauge freedom])."""

    def call(*args, **kwargs):
        outputs = tuple(op(*args, **kwargs))
        return tuple(out * out if index in vector_outputs else out for index, out in enumerate(outputs))

    return call


def _cholesky_tangent(a_t, result, upper):
    """A = L L^T: dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with half diagonal."""
    lower = result.mT if upper else result
    lower_inverse = inv(lower)
    middle = matmul(matmul(lower_inverse, a_t), lower_inverse.mT)
    lower_t = matmul(lower, tril(middle) - 0.5 * diag_embed(diagonal(middle, 0, -2, -1)))
    return lower_t.mT if upper else lower_t


class LinalgCholeskyExBackward0(Node):
    """A = L L^T: dA = sym(L^-T Phi(L^T grad) L^-1), Phi = lower triangle with half diagonal.

    Computed as PyTorch's cholesky_backward does, in the same order (the product L^T grad
    whole, then two triangular solves instead of L^-1), so that a NaN or Inf arriving in
    grad reaches the same elements of dA as there."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs = ("a",)
    saved_names = ("L",)  # (PyTorch's name for the saved factor: Note [Saved names])
    tangent = staticmethod(lambda a_t, result, upper: _cholesky_tangent(a_t, result, upper))
    __slots__ = ("upper",)

    @staticmethod
    def forward(ctx, a, upper):
        ctx.save_for_backward(OUTPUT)
        ctx.upper = upper
        try:
            lower = np.linalg.cholesky(a._data)
        except np.linalg.LinAlgError:
            _raise_not_positive_definite("linalg.cholesky", a._data)
        _refuse_nan_pivot("linalg.cholesky", lower)
        return np.swapaxes(lower, -1, -2).copy() if upper else lower

    def backward(self, grad):
        (factor,) = self._saved_tensors
        if self.upper:
            factor, grad = factor.mT, grad.mT
        grad_a = tril(matmul(factor.mT, grad))
        grad_a = 0.5 * (grad_a + tril(grad_a, -1).mT)  # Phi, made symmetric
        grad_a = solve_triangular(factor.mT, grad_a, upper=True)
        return solve_triangular(factor, grad_a, upper=False, left=False)


class CholeskyBackward0(LinalgCholeskyExBackward0):
    """The deprecated torch.cholesky."""

    __slots__ = ()


def _refuse_nan_pivot(op_name: str, lower: np.ndarray) -> None:
    """NumPy's Cholesky lets a NaN through; LAPACK's (PyTorch's) stops at the first NaN pivot."""
    diagonal = np.diagonal(lower, axis1=-2, axis2=-1)
    if not np.isnan(diagonal).any():
        return
    flat = diagonal.reshape((-1, diagonal.shape[-1]))
    index = int(np.argmax(np.isnan(flat).any(axis=-1)))
    order = int(np.argmax(np.isnan(flat[index]))) + 1
    raise LinAlgError(
        f"{op_name}: {_batch_prefix(lower.shape, index)}The factorization could not be completed "
        f"because the input is not positive-definite (the leading minor of order {order} is not "
        "positive-definite)."
    )


def _raise_not_positive_definite(op_name: str, data: np.ndarray) -> None:
    flat = data.reshape((-1, *data.shape[-2:]))
    for index, matrix in enumerate(flat):
        for order in range(1, matrix.shape[-1] + 1):
            try:
                np.linalg.cholesky(matrix[:order, :order])
            except np.linalg.LinAlgError:
                raise LinAlgError(
                    f"{op_name}: {_batch_prefix(data.shape, index)}The factorization could not be "
                    "completed because the input is not positive-definite (the leading minor of "
                    f"order {order} is not positive-definite)."
                ) from None


@register(
    name="linalg.cholesky",
    torch_name="linalg.cholesky",
    gradcheck_wrapper=_symmetrized,
)
def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L, lower triangular with positive diagonal, such that A = L L^T (A positive-definite)."""
    _require_tensor(A, "linalg_cholesky", 1, "A")
    _check_square_batches(A, "linalg.cholesky")
    return apply(LinalgCholeskyExBackward0, A, upper=upper)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (deprecated in PyTorch for linalg.cholesky)."""
    _require_tensor(input, "cholesky")
    _check_square_batches(input, "cholesky")
    return apply(CholeskyBackward0, input, upper=upper)


register_method("cholesky", cholesky)


class LinalgQrBackward0(Node):
    """A = Q R. The gradient for tall or square A (Q with orthonormal columns, R invertible):
    dA = [dQ + Q copyltu(M)] R^-T with M = R dR^T - dQ^T Q; wide A splits into a square
    block and the rest."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs, outputs = ("a",), ("Q", "R")
    saved_names = outputs  # (as PyTorch names them: Note [Saved names])
    tangent = staticmethod(lambda a_t, Q, R, mode: _qr_tangent(a_t, Q, R, mode))
    __slots__ = ("mode",)

    @staticmethod
    def forward(ctx, a, mode):
        ctx.save_for_backward(OUTPUT, output(1))
        ctx.mode = mode
        data = a._data
        if mode == "r":
            r = np.linalg.qr(data, mode="r")
            return np.zeros((0,), dtype=data.dtype), np.triu(r)
        q, r = np.linalg.qr(data, mode=mode)
        return q, r

    def backward(self, *grads):
        if self.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        q, r = self._saved_tensors
        rows, columns = q.shape[-2], r.shape[-1]
        if self.mode == "complete" and rows > columns:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        grad_q = grads[0] if grads and grads[0] is not None else q * 0
        grad_r = grads[1] if len(grads) > 1 and grads[1] is not None else r * 0
        if rows >= columns:
            return _qr_square_or_tall_grad(q, r, grad_q, grad_r)
        square, rest = r[..., :rows], r[..., rows:]
        grad_square, grad_rest = grad_r[..., :rows], grad_r[..., rows:]
        grad_q = grad_q + matmul(matmul(q, rest), grad_rest.mT)
        grad_left = _qr_square_or_tall_grad(q, square, grad_q, grad_square)
        grad_right = matmul(q, grad_rest)
        return cat([grad_left, grad_right], -1)


def _qr_tangent(a_t, q, r, mode):
    """(dQ, dR) of A = Q R; the cases (and errors) of the gradient."""
    if mode == "r":
        raise RuntimeError(
            "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
            "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
        )
    rows, columns = q.shape[-2], r.shape[-1]
    if mode == "complete" and rows > columns:
        raise RuntimeError(
            "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
        )
    if rows >= columns:
        return _qr_square_or_tall_tangent(a_t, q, r)
    # A = Q [R1 R2] with R1 square: (Q, R1) is the QR of the first block, R2 = Q^T A2
    square, rest = r[..., :rows], r[..., rows:]
    q_t, square_t = _qr_square_or_tall_tangent(a_t[..., :rows], q, square)
    rest_t = matmul(q.mT, a_t[..., rows:] - matmul(q_t, rest))
    return q_t, cat([square_t, rest_t], -1)


def _qr_square_or_tall_tangent(a_t, q, r):
    """A = Q R, R square and invertible: with C = Q^T dA R^-1 and Omega = Q^T dQ (skew),
    dR R^-1 = C - Omega is upper triangular, so Omega is the strict lower triangle of C
    minus its transpose; dR = (C - Omega) R and dQ = dA R^-1 - Q (C - Omega)."""
    right = solve_triangular(r, a_t, upper=True, left=False)  # dA R^-1
    c = matmul(q.mT, right)
    below = tril(c, -1)
    upper_part = c - below + below.mT  # C - Omega
    return right - matmul(q, upper_part), matmul(upper_part, r)


def _qr_square_or_tall_grad(q: Tensor, r: Tensor, grad_q: Tensor, grad_r: Tensor) -> Tensor:
    """The gradient of A = Q R with at least as many rows as columns (R square, invertible)."""
    m = matmul(r, grad_r.mT) - matmul(grad_q.mT, q)
    copied = tril(m) + tril(m, -1).mT
    b = grad_q + matmul(q, copied)
    return solve(r, b.mT).mT


_QR_MODES = ("reduced", "complete", "r")


@register(name="linalg.qr", torch_name="linalg.qr")
def linalg_qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q R, Q with orthonormal columns and R upper triangular."""
    _require_tensor(A, "linalg_qr", 1, "A")
    _check_floating(A, "linalg.qr")
    if A.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    if mode not in _QR_MODES:
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
            "'complete'"
        )
    return _QrResult(*apply(LinalgQrBackward0, A, mode=mode))


def qr(input: Tensor, some: bool = True, *, out=None):
    """torch.qr: (Q, R); `some=False` gives the complete Q."""
    if out is not None:  # see Note [out= arguments] (ops/_out.py)
        return _write_out(out, qr, "qr", input, some)
    return _TorchQrResult(*linalg_qr(input, "reduced" if some else "complete"))


def _write_out(out, function, name: str, *args):
    """`function(*args)` written into `out` (a tuple of tensors), as an op with out= does."""
    from .. import _out

    _out.check_no_grad(name, out, args)
    return _out.write(out, function(*args), name)


register_method("qr", qr)


class LinalgEighBackward0(Node):
    """A = V diag(L) V^T: dA = V (diag(dL) + F o skew(V^T dV)) V^T, F_ij = 1 / (L_j - L_i).

    Close eigenvalues make F large and the gradient of V ill-conditioned (inf or nan for
    repeated ones, as in PyTorch); the gradient of L alone is always fine.
    """
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs, outputs = ("a",), ("eigenvalues", "eigenvectors")
    saved_names = outputs  # (as PyTorch names them: Note [Saved names])
    tangent = staticmethod(lambda a_t, eigenvalues, eigenvectors:
                           _eigh_tangent(a_t, eigenvalues, eigenvectors))
    __slots__ = ()

    @staticmethod
    def forward(ctx, a, uplo):
        ctx.save_for_backward(OUTPUT, output(1))
        values, vectors = np.linalg.eigh(a._data, UPLO=uplo)
        return values, vectors

    @_without_float_warnings
    def backward(self, *grads):
        values, vectors = self._saved_tensors
        grad_values = grads[0] if grads else None
        grad_vectors = grads[1] if len(grads) > 1 else None
        inner = diag_embed(grad_values) if grad_values is not None else None
        if grad_vectors is not None:
            projected = matmul(vectors.mT, grad_vectors)
            skew = (projected - projected.mT) * 0.5
            identity = _identity(values.shape[-1], values)
            gaps = values.unsqueeze(-2) - values.unsqueeze(-1) + identity
            rotation = skew / gaps
            inner = rotation if inner is None else inner + rotation
        if inner is None:
            return None
        return matmul(matmul(vectors, inner), vectors.mT)


def _eigh_tangent(a_t, values, vectors):
    """A = V diag(L) V^T: with P = V^T dA V, dL = diag(P) and dV = V (F o P), where
    F_ij = 1 / (L_j - L_i) off the diagonal and 0 on it (inf or nan for repeated
    eigenvalues, as the gradient)."""
    projected = matmul(matmul(vectors.mT, a_t), vectors)
    values_t = diagonal(projected, 0, -2, -1)
    identity = _identity(values.shape[-1], values)
    gaps = values.unsqueeze(-2) - values.unsqueeze(-1) + identity
    with np.errstate(divide="ignore", invalid="ignore"):
        rotation = (projected - diag_embed(values_t)) / gaps
    return values_t, matmul(vectors, rotation)


def _check_uplo(UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


@register(
    name="linalg.eigh",
    torch_name="linalg.eigh",
    gradcheck_wrapper=lambda op: _sign_free(_symmetrized(op), (1,)),
    floating=True,
)
def eigh(A: Tensor, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix, read from the
    UPLO triangle."""
    _require_tensor(A, "linalg_eigh", 1, "A")
    _check_square_batches(A, "linalg.eigh")
    _check_uplo(UPLO)
    return _EighResult(*apply(LinalgEighBackward0, A, uplo=UPLO))


@register(
    name="linalg.eigvalsh",
    torch_name="linalg.eigvalsh",
    gradcheck_wrapper=_symmetrized,
    floating=True,
)
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix."""
    return eigh(A, UPLO).eigenvalues


class LinalgSvdBackward0(ShownAsPyTorch, Node):
    """A = U diag(S) V^T (Townsend's formula for real matrices).

    dA = U [(F o (U^T dU - dU^T U)) S + diag(dS) + S (F o (V^T dV - dV^T V))] V^T
         + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T),  F_ij = 1 / (S_j^2 - S_i^2).
    Repeated singular values make F infinite (nan gradients, as in PyTorch) unless only S
    is differentiated; zero singular values make the last two terms infinite.
    """
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs, outputs = ("a",), ("U", "S", "Vh")
    tangent = staticmethod(lambda a_t, U, S, Vh, full_matrices: _svd_tangent(a_t, U, S, Vh, full_matrices))
    __slots__ = ("full_matrices",)
    saved_names = outputs  # (as PyTorch names them: Note [Saved names])
    shown = {"S_sym_argsize_minus_1": lambda node: formula_value(node, "S").shape[-1]}

    @staticmethod
    def forward(ctx, a, full_matrices):
        ctx.save_for_backward(OUTPUT, output(1), output(2))
        ctx.full_matrices = full_matrices
        u, s, vh = np.linalg.svd(a._data, full_matrices=full_matrices)
        return u, s, vh

    @_without_float_warnings
    def backward(self, *grads):
        u, s, vh = self._saved_tensors
        grad_u, grad_s, grad_vh = (*grads, None, None, None)[:3]
        count = s.shape[-1]
        rows, columns = u.shape[-2], vh.shape[-1]
        if self.full_matrices:
            u, vh = u[..., :count], vh[..., :count, :]
            grad_u = None if grad_u is None else grad_u[..., :count]
            grad_vh = None if grad_vh is None else grad_vh[..., :count, :]
        result = None if grad_s is None else matmul(u * grad_s.unsqueeze(-2), vh)
        if grad_u is None and grad_vh is None:
            return result
        identity = _identity(count, s)
        squares = s * s
        coupling = 1 / (squares.unsqueeze(-2) - squares.unsqueeze(-1) + identity) - identity
        inner = None
        if grad_u is not None:
            projected = matmul(u.mT, grad_u)
            inner = coupling * (projected - projected.mT) * s.unsqueeze(-2)
        if grad_vh is not None:
            v, grad_v = vh.mT, grad_vh.mT
            projected = matmul(vh, grad_v)
            term = s.unsqueeze(-1) * (coupling * (projected - projected.mT))
            inner = term if inner is None else inner + term
        total = matmul(matmul(u, inner), vh)
        if grad_u is not None and rows > count:
            outside = grad_u - matmul(u, matmul(u.mT, grad_u))
            total = total + matmul(outside / s.unsqueeze(-2), vh)
        if grad_vh is not None and columns > count:
            outside = grad_vh - matmul(matmul(grad_vh, v), vh)
            total = total + matmul(u, outside / s.unsqueeze(-1))
        return total if result is None else result + total


def _check_matrix_input(A: Tensor, op_name: str) -> None:
    _check_floating(A, op_name)
    if A.ndim < 2:
        raise RuntimeError(f"{op_name}: The input tensor A must have at least 2 dimensions.")


@register(
    name="linalg.svd",
    torch_name="linalg.svd",
    gradcheck_wrapper=lambda op: _sign_free(op, (0, 2)),
)
def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, singular values descending."""
    _require_tensor(A, "linalg_svd", 1, "A")
    _check_matrix_input(A, "linalg.svd")
    return _SvdResult(*apply(LinalgSvdBackward0, A, full_matrices=full_matrices))


@register(name="linalg.svdvals", torch_name="linalg.svdvals")
def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of A, descending."""
    _require_tensor(A, "linalg_svdvals", 1, "A")
    _check_matrix_input(A, "linalg.svdvals")
    return apply(LinalgSvdBackward0, A, full_matrices=False)[1]


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None):
    """torch.svd: (U, S, V) with V (not V^T); zeros for U and V when compute_uv=False."""
    if out is not None:  # see Note [out= arguments] (ops/_out.py)
        return _write_out(out, svd, "svd", input, some, compute_uv)
    u, s, vh = linalg_svd(input, full_matrices=not some)
    if not compute_uv:
        return _TorchSvdResult(
            _constant(np.zeros(u.shape, u._data.dtype)), s, _constant(np.zeros(vh.shape, vh._data.dtype))
        )
    return _TorchSvdResult(u, s, vh.mT)


register_method("svd", svd)


def _svd_tangent(a_t, u, s, vh, full_matrices):
    """A = U S V^T, U m x k, V n x k. With P = U^T dA V, dS = diag(P), X = P - diag(dS) and
    E_ij = S_j^2 - S_i^2 (1 on the diagonal):
        dU  = U ((X S + S X^T) / E) + (dA V - U P) S^-1          (the last term if m > k)
        dVh = -((S X + X^T S) / E) V^T + S^-1 (U^T dA - P V^T)   (the last term if n > k)
    The columns of U (rows of Vh) beyond k in full_matrices mode get zero tangents, as in
    PyTorch (they are not unique)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _svd_tangent_quietly(a_t, u, s, vh, full_matrices)


def _svd_tangent_quietly(a_t, u, s, vh, full_matrices):
    count = s.shape[-1]
    rows, columns = a_t.shape[-2], a_t.shape[-1]
    if full_matrices:
        u, vh = u[..., :count], vh[..., :count, :]
    v = vh.mT
    projected = matmul(matmul(u.mT, a_t), v)
    s_t = diagonal(projected, 0, -2, -1)
    off = projected - diag_embed(s_t)
    squares = s * s
    gaps = squares.unsqueeze(-2) - squares.unsqueeze(-1) + _identity(count, s)
    row, column = s.unsqueeze(-1), s.unsqueeze(-2)  # S on the left, S on the right
    u_t = matmul(u, (off * column + row * off.mT) / gaps)
    vh_t = -matmul((row * off + off.mT * column) / gaps, vh)
    if rows > count:
        u_t = u_t + (matmul(a_t, v) - matmul(u, projected)) / column
    if columns > count:
        vh_t = vh_t + (matmul(u.mT, a_t) - matmul(projected, vh)) / row
    if full_matrices and rows > count:
        u_t = cat([u_t, _math.zeros_of_shape((*u_t.shape[:-1], rows - count), u_t)], -1)
    if full_matrices and columns > count:
        vh_t = cat([vh_t, _math.zeros_of_shape((*vh_t.shape[:-2], columns - count, columns), vh_t)], -2)
    return u_t, s_t, vh_t


class LinalgPinvBackward0(Node):
    """P = A^+ (for constant rank):
    dA = -P^T grad P^T + (I - A P) grad^T P P^T + P^T P grad^T (I - P A)."""
    hand_written = (
        "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"
    )

    inputs = ("a",)
    tangent = staticmethod(lambda a, a_t, result: _pinv_tangent(a, a_t, result))
    __slots__ = ()

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian=False):
        ctx.save_for_backward(a, OUTPUT)
        if hermitian:  # A = V diag(w) V^T from the lower triangle; |w| plays the singular values
            w, v = np.linalg.eigh(a._data)
            return _pseudo_inverted(v, w, np.abs(w), np.swapaxes(v, -1, -2), atol, rtol)
        u, s, vh = np.linalg.svd(a._data, full_matrices=False)
        return _pseudo_inverted(np.swapaxes(vh, -1, -2), s, s, np.swapaxes(u, -1, -2), atol, rtol)

    def backward(self, grad):
        a, pinv_ = self._saved_tensors
        pinv_t, grad_t = pinv_.mT, grad.mT
        rows, columns = a.shape[-2], a.shape[-1]
        left = _identity(rows, a) - matmul(a, pinv_)
        right = _identity(columns, a) - matmul(pinv_, a)
        result = -matmul(matmul(pinv_t, grad), pinv_t)
        result = result + matmul(matmul(left, grad_t), matmul(pinv_, pinv_t))
        return result + matmul(matmul(pinv_t, pinv_), matmul(grad_t, right))


def _pseudo_inverted(left, values, magnitudes, right, atol, rtol):
    """left diag(1 / values) right, keeping only the values whose magnitude exceeds
    max(atol, rtol * the largest magnitude) (the others count as zero)."""
    largest = (magnitudes.max(-1, keepdims=True) if magnitudes.shape[-1]
               else np.zeros((*magnitudes.shape[:-1], 1), magnitudes.dtype))
    kept = magnitudes > np.maximum(atol, rtol * largest)
    inverted = np.where(kept, 1 / np.where(kept, values, 1), 0)
    return np.matmul(left * inverted[..., None, :], right)


def _pinv_tangent(a, a_t, result):
    """P = A^+ (for constant rank): dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P."""
    rows, columns = a.shape[-2], a.shape[-1]
    a_t_t = a_t.mT
    left = _identity(rows, a) - matmul(a, result)  # I - A P, m x m
    right = _identity(columns, a) - matmul(result, a)  # I - P A, n x n
    tangent = -matmul(matmul(result, a_t), result)
    tangent = tangent + matmul(matmul(result, result.mT), matmul(a_t_t, left))
    return tangent + matmul(matmul(right, a_t_t), matmul(result.mT, result))


@register(name="linalg.pinv", torch_name="linalg.pinv", gradcheck_wrapper=_symmetrized_if_hermitian)
def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse; singular values at or below max(atol, rtol * largest)
    count as zero (default rtol: eps * max(rows, columns)). With `hermitian`, A is taken to be
    symmetric (its lower triangle is read) and inverted through its eigenvalues."""
    _require_tensor(A, "linalg_pinv", 1, "A")
    if A.ndim < 2 or not A.dtype.is_floating_point:
        raise RuntimeError(
            f"linalg.pinv({_type_name(A)}{{[{', '.join(map(str, A.shape))}]}}): expected a tensor with "
            "2 or more dimensions of float, double, cfloat or cdouble types"
        )
    if rtol is None:
        rtol = np.finfo(A._data.dtype).eps * max(A.shape[-2:]) if atol is None or atol == 0 else 0.0
    atol = 0.0 if atol is None else atol
    if hermitian and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.eigh: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return apply(LinalgPinvBackward0, A, atol=_scalar_tolerance(atol), rtol=_scalar_tolerance(rtol),
                 hermitian=hermitian)


def _scalar_tolerance(value):
    return value._data[..., None] if isinstance(value, Tensor) else value


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: pinv with a relative cutoff `rcond`."""
    return pinv(input, rtol=rcond)


register_method("pinverse", pinverse)
