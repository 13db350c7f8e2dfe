"""The LU decomposition with partial pivoting and what uses it: `linalg.lu_factor(_ex)`,
`linalg.lu`, `linalg.lu_solve`, and the older `torch.lu`, `torch.lu_unpack`, `torch.lu_solve`.

A = P L U: L unit lower triangular (m x k), U upper triangular (k x n), k = min(m, n), P a
permutation. As LAPACK's getrf, the factorisation is returned packed (L's strict lower triangle
and U in one matrix) with `pivots`: 1-based int32 row swaps, row i swapped with row pivots[i]
in turn. The forward is Gaussian elimination vectorised over the batch (one step per column).

Note [LU gradients]
    With M = L^-1 P^T dA U^-1 (square A), dL = L tril(M, -1) and dU = triu(M) U, so a gradient
    (gL, gU) of the factors is gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T. A wide A
    (m < n) also has U's right block U2 = L^-1 P^T A2 - ...: its gradient adds P L^-T gU2 for the
    right columns and moves -L^-T gU2 U2^T onto gL. A tall A (m > n) has L's bottom block
    L2 = (P^T A)_2 U^-1: its rows get gL2 U^-T and gU gains -L2^T gL2 U^-T. lu_solve's X = A^-1 B
    (A = P L U) gives gB = A^-T gX and gA = -gB X^T, which reaches the packed factors as
    tril(P^T gA U^T, -1) + triu(L^T P^T gA). Every backward is written with recorded ops, so
    second derivatives come for free.
"""

from __future__ import annotations

import numpy as np

from ... import return_types
from ..._tensor import Tensor
from ...autograd.graph import Node
from .._table import OUTPUT, apply, output, register_method
from ..shape import cat, tril, triu
from .contraction import _check_floating, _constant, _require_tensor
from .products import matmul
from .solvers import _substituted, solve_triangular

__all__ = ["linalg_lu", "linalg_lu_factor", "linalg_lu_factor_ex", "linalg_lu_solve", "lu",
           "lu_solve", "lu_unpack"]

_HAND_WRITTEN = "a matrix function whose backward solves with or decomposes the saved matrices in one kernel"


# ---------------------------------------------------------------------------
# Arrays


def _factored(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(packed LU, 1-based int32 pivots, int32 info) of a batch of m x n matrices.

    info is the 1-based index of the first zero on U's diagonal (0 if none), as getrf's."""
    rows, columns = a.shape[-2:]
    steps = min(rows, columns)
    batch = a.shape[:-2]
    count = int(np.prod(batch, dtype=np.int64))
    packed = np.array(a, dtype=a.dtype, copy=True).reshape(count, rows, columns)
    pivots = np.empty((packed.shape[0], steps), dtype=np.int32)
    info = np.zeros(packed.shape[0], dtype=np.int32)
    every = np.arange(packed.shape[0])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for step in range(steps):
            chosen = step + np.argmax(np.abs(packed[:, step:, step]), axis=1)
            pivots[:, step] = chosen + 1
            current = packed[every, step].copy()
            packed[every, step] = packed[every, chosen]
            packed[every, chosen] = current
            pivot = packed[:, step, step]
            zero = pivot == 0
            info = np.where((info == 0) & zero, step + 1, info).astype(np.int32)
            below = packed[:, step + 1:, step]
            factors = np.where(zero[:, None], below, below / np.where(zero, 1, pivot)[:, None])
            packed[:, step + 1:, step] = factors
            packed[:, step + 1:, step + 1:] -= factors[:, :, None] * packed[:, step, None, step + 1:]
    return (packed.reshape(*batch, rows, columns), pivots.reshape(*batch, steps),
            info.reshape(batch))


def _permutation(pivots: np.ndarray, rows: int, dtype) -> np.ndarray:
    """P with A = P L U, from getrf's row swaps."""
    batch = pivots.shape[:-1]
    count = int(np.prod(batch, dtype=np.int64))
    order = np.broadcast_to(np.arange(rows), (count, rows)).copy()
    flat = pivots.reshape(count, pivots.shape[-1]).astype(np.int64) - 1
    every = np.arange(order.shape[0])
    for step in range(flat.shape[1]):
        target = flat[:, step]
        current = order[every, step].copy()
        order[every, step] = order[every, target]
        order[every, target] = current
    # row i of P^T A is row order[i] of A, so P[order[i], i] = 1
    matrices = np.zeros((order.shape[0], rows, rows), dtype=dtype)
    matrices[every[:, None], order, np.arange(rows)] = 1
    return matrices.reshape(*batch, rows, rows)


def _unit_lower(packed: np.ndarray, width: int) -> np.ndarray:
    lower = np.tril(packed[..., :width], -1)
    return lower + np.eye(packed.shape[-2], width, dtype=packed.dtype)


def _solved(packed: np.ndarray, permutation: np.ndarray, b: np.ndarray, adjoint: bool) -> np.ndarray:
    """X with A X = B (A^T X = B if adjoint), A = P L U given as its packed factors."""
    lower, upper = _unit_lower(packed, packed.shape[-1]), np.triu(packed)
    if adjoint:
        inner = _substituted(np.swapaxes(lower, -1, -2), _substituted(np.swapaxes(upper, -1, -2), b, False),
                             True)
        return np.matmul(permutation, inner)
    permuted = np.matmul(np.swapaxes(permutation, -1, -2), b)
    return _substituted(upper, _substituted(lower, permuted, False), True)


# ---------------------------------------------------------------------------
# Gradients (Note [LU gradients])


def _split(packed: Tensor) -> tuple[Tensor, Tensor]:
    """(L, U) of packed factors, as recorded ops of `packed`."""
    rows, columns = packed.shape[-2:]
    steps = min(rows, columns)
    eye = _constant(np.eye(rows, steps, dtype=packed._data.dtype))
    return tril(packed[..., :steps], -1) + eye, triu(packed[..., :steps, :])


def _square_gradient(permutation: Tensor, lower: Tensor, upper: Tensor, grad_lower: Tensor,
                     grad_upper: Tensor) -> Tensor:
    inner = tril(matmul(lower.mT, grad_lower), -1) + triu(matmul(grad_upper, upper.mT))
    left = solve_triangular(lower.mT, inner, upper=True, unitriangular=True)
    return matmul(permutation, solve_triangular(upper.mT, left, upper=False, left=False))


def _factors_gradient(permutation: Tensor, lower: Tensor, upper: Tensor, grad_lower: Tensor,
                      grad_upper: Tensor) -> Tensor:
    """gA from the gradients of L (m x k) and U (k x n)."""
    rows, columns = lower.shape[-2], upper.shape[-1]
    grad_lower, grad_upper = tril(grad_lower, -1), triu(grad_upper)
    if rows == columns:
        return _square_gradient(permutation, lower, upper, grad_lower, grad_upper)
    if rows < columns:
        square, rest = upper[..., :rows], upper[..., rows:]
        grad_rest = solve_triangular(lower.mT, grad_upper[..., rows:], upper=True, unitriangular=True)
        grad_lower = grad_lower - tril(matmul(grad_rest, rest.mT), -1)
        grad_square = _square_gradient(permutation, lower, square, grad_lower, grad_upper[..., :rows])
        return cat([grad_square, matmul(permutation, grad_rest)], -1)
    top, bottom = lower[..., :columns, :], lower[..., columns:, :]
    grad_bottom = solve_triangular(upper.mT, grad_lower[..., columns:, :], upper=False, left=False)
    grad_upper = grad_upper - triu(matmul(bottom.mT, grad_bottom))
    grad_top = _square_gradient(_constant(np.eye(columns, dtype=lower._data.dtype)), top, upper,
                                grad_lower[..., :columns, :], grad_upper)
    return matmul(permutation, cat([grad_top, grad_bottom], -2))


def _zero_if_none(grad, like: Tensor) -> Tensor:
    return like * 0 if grad is None else grad


class LinalgLuFactorExBackward0(Node):
    """(LU, pivots, info) = getrf(A); the gradient of the packed factors, Note [LU gradients]."""
    hand_written = _HAND_WRITTEN

    inputs, outputs = ("A",), ("LU", "pivots", "info")
    non_differentiable_outputs = (1, 2)
    __slots__ = ("pivots",)

    @staticmethod
    def forward(ctx, A):
        packed, pivots, info = _factored(A._data)
        ctx.save_for_backward(OUTPUT)
        ctx.pivots = pivots
        return packed, pivots, np.asarray(info)

    def backward(self, grad, *ignored):
        (packed,) = self._saved_tensors
        grad = _zero_if_none(grad, packed)
        lower, upper = _split(packed)
        steps = lower.shape[-1]
        permutation = _constant(_permutation(self.pivots, packed.shape[-2], packed._data.dtype))
        return _factors_gradient(permutation, lower, upper, grad[..., :steps], grad[..., :steps, :])


class LinalgLuBackward0(Node):
    """(P, L, U) = lu(A): the gradients of L and U, Note [LU gradients]; P has none."""
    hand_written = _HAND_WRITTEN

    inputs, outputs = ("A",), ("P", "L", "U")
    non_differentiable_outputs = (0,)
    __slots__ = ()

    @staticmethod
    def forward(ctx, A):
        packed, pivots, _ = _factored(A._data)
        steps = min(packed.shape[-2:])
        ctx.save_for_backward(output(0), output(1), output(2))
        return (_permutation(pivots, packed.shape[-2], packed.dtype), _unit_lower(packed, steps),
                np.triu(packed[..., :steps, :]))

    def backward(self, grad_permutation, grad_lower=None, grad_upper=None):
        permutation, lower, upper = self._saved_tensors
        return _factors_gradient(permutation, lower, upper, _zero_if_none(grad_lower, lower),
                                 _zero_if_none(grad_upper, upper))


class LuUnpackBackward0(Node):
    """(L, U) of packed factors: each gradient goes back to its triangle."""
    hand_written = "unpacking the packed factors: each gradient goes back to the triangle it came from"

    inputs, outputs = ("LU_data",), ("L", "U")
    __slots__ = ("shape",)

    @staticmethod
    def forward(ctx, LU_data):
        data = LU_data._data
        ctx.shape = data.shape
        steps = min(data.shape[-2:])
        return _unit_lower(data, steps), np.triu(data[..., :steps, :])

    def backward(self, grad_lower=None, grad_upper=None):
        pieces = []
        if grad_lower is not None:
            pieces.append(_placed(tril(grad_lower, -1), self.shape))
        if grad_upper is not None:
            pieces.append(_placed(triu(grad_upper), self.shape))
        if not pieces:
            return None
        return pieces[0] if len(pieces) == 1 else pieces[0] + pieces[1]


def _placed(block: Tensor, shape) -> Tensor:
    """`block` in the top-left corner of zeros of `shape` (the last two dims)."""
    from ..nn.padding import pad

    return pad(block, (0, shape[-1] - block.shape[-1], 0, shape[-2] - block.shape[-2]))


class LinalgLuSolveBackward0(Node):
    """X = A^-1 B (A^-T B if adjoint) for A = P L U given packed; Note [LU gradients]."""
    hand_written = _HAND_WRITTEN

    inputs = ("LU", "B")
    __slots__ = ("adjoint", "pivots")

    @staticmethod
    def forward(ctx, LU, B, pivots, adjoint):
        ctx.save_for_backward(LU, OUTPUT)
        ctx.pivots, ctx.adjoint = pivots, adjoint
        permutation = _permutation(pivots, LU.shape[-2], LU._data.dtype)
        return _solved(LU._data, permutation, B._data, adjoint)

    def backward(self, grad):
        packed, solution = self._saved_tensors
        needs_factors, needs_b = self.needs_input_grad
        pivots = _constant(self.pivots)
        grad_b = linalg_lu_solve(packed, pivots, grad, adjoint=not self.adjoint)
        grad_packed = None
        if needs_factors:
            grad_a = -matmul(solution, grad_b.mT) if self.adjoint else -matmul(grad_b, solution.mT)
            permutation = _constant(_permutation(self.pivots, packed.shape[-2], packed._data.dtype))
            lower, upper = _split(packed)
            turned = matmul(permutation.mT, grad_a)
            grad_packed = tril(matmul(turned, upper.mT), -1) + triu(matmul(lower.mT, turned))
        return grad_packed, grad_b if needs_b else None


# ---------------------------------------------------------------------------
# Public functions


def _check_factor_input(A, op_name: str, pivot: bool) -> None:
    _require_tensor(A, op_name.replace(".", "_"), 1, "A")
    if not A.dtype.is_floating_point:
        from ..._dtype import scalar_type_name

        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{scalar_type_name(A.dtype)}'")
    if A.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if not pivot:
        raise RuntimeError(f"{op_name}: LU without pivoting is not implemented on the CPU")


def linalg_lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """(LU, pivots, info): A's packed LU factors with 1-based int32 pivots; info > 0 marks a
    zero on U's diagonal (an error instead if check_errors)."""
    _check_factor_input(A, "linalg.lu_factor_ex", pivot)
    packed, pivots, info = apply(LinalgLuFactorExBackward0, A)
    if check_errors:
        _raise_if_singular(info, "torch.linalg.lu_factor_ex")
    return return_types.linalg_lu_factor_ex(packed, pivots, info)


def _raise_if_singular(info: Tensor, op_name: str) -> None:
    flat = info._data.reshape(-1)
    failed = np.flatnonzero(flat > 0)
    if failed.size:
        where = f"(Batch element {failed[0]}): " if info.ndim else ""
        column = int(flat[failed[0]])
        raise RuntimeError(
            f"{op_name}: {where}U[{column},{column}] is zero and using it on lu_solve would result "
            "in a division by zero. If you still want to perform the factorization, consider "
            "calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def linalg_lu_factor(A: Tensor, *, pivot: bool = True):
    """(LU, pivots): A's packed LU factors; a zero on U's diagonal is an error."""
    _check_factor_input(A, "linalg.lu_factor", pivot)
    packed, pivots, info = apply(LinalgLuFactorExBackward0, A)
    _raise_if_singular(info, "torch.linalg.lu_factor")
    return return_types.linalg_lu_factor(packed, pivots)


def linalg_lu(A: Tensor, *, pivot: bool = True):
    """(P, L, U) with A = P L U: P a permutation, L unit lower and U upper triangular."""
    _check_factor_input(A, "linalg.lu", pivot)
    permutation, lower, upper = apply(LinalgLuBackward0, A)
    return return_types.linalg_lu(permutation, lower, upper)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """torch.lu: (LU, pivots), and info if get_infos (linalg.lu_factor_ex)."""
    packed, pivots, info = linalg_lu_factor_ex(A, pivot=pivot)
    if get_infos:
        return return_types._lu_with_info(packed, pivots, info)
    return packed, pivots


def _check_pivots(pivots, op_name: str, message: str) -> None:
    if not isinstance(pivots, Tensor) or pivots.dtype.name != "int32":
        raise RuntimeError(message)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True):
    """(P, L, U) from packed factors and pivots (empty tensors for what is not unpacked)."""
    _require_tensor(LU_data, "lu_unpack", 1, "LU_data")
    _check_pivots(LU_pivots, "lu_unpack",
                  "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
                  "dtype.\nNote: this function is intended to be used with the output produced by "
                  "torch.linalg.lu_factor")
    rows = LU_data.shape[-2]
    pivots = LU_pivots._data
    if pivots.size and (pivots.min() < 1 or pivots.max() > rows):
        raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive."
                           "Did you properly pass the result of lu_factor?")
    empty = Tensor._make(np.zeros(0, dtype=LU_data._data.dtype))
    permutation = Tensor._make(_permutation(pivots, rows, LU_data._data.dtype)) if unpack_pivots else empty
    lower, upper = apply(LuUnpackBackward0, LU_data) if unpack_data else (empty, empty)
    return return_types.lu_unpack(permutation, lower, upper)


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False):
    """X with A X = B for A = P L U given by `linalg.lu_factor`'s (LU, pivots); `left=False`
    solves X A = B, `adjoint=True` uses A^T."""
    _require_tensor(LU, "linalg_lu_solve", 1, "LU")
    _require_tensor(B, "linalg_lu_solve", 3, "B")
    _check_pivots(pivots, "linalg.lu_solve", "linalg.lu_solve: pivots should be a Tensor of scalar "
                  "type torch.int32")
    _check_floating(LU, "linalg.lu_solve")
    if LU.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        shape = LU.shape
        raise RuntimeError(f"torch.linalg.lu_solve: A must be batches of square matrices, but they "
                           f"are {shape[-2]} by {shape[-1]} matrices")
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if B.dtype is not LU.dtype:
        from ..._dtype import scalar_type_name

        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU "
                           f"of type {scalar_type_name(LU.dtype)} and B of type "
                           f"{scalar_type_name(B.dtype)} instead")
    if not left:
        return linalg_lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    if B.shape[-2] != LU.shape[-1]:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({LU.shape[-2]}x{LU.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    batch = np.broadcast_shapes(LU.shape[:-2], B.shape[:-2], pivots.shape[:-1])
    pivot_array = np.broadcast_to(pivots._data, (*batch, pivots.shape[-1]))
    return apply(LinalgLuSolveBackward0, LU, B, pivots=pivot_array, adjoint=adjoint)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch.lu_solve: linalg.lu_solve with the right-hand side first."""
    return linalg_lu_solve(LU_data, LU_pivots, b)


def _lu_method(self, pivot: bool = True, get_infos: bool = False):
    """`torch.lu(self, pivot, get_infos)`."""
    return lu(self, pivot, get_infos)


def _lu_solve_method(self, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """`torch.lu_solve(self, LU_data, LU_pivots)`: X with A X = self."""
    return lu_solve(self, LU_data, LU_pivots)


register_method("lu", _lu_method)
register_method("lu_solve", _lu_solve_method)
