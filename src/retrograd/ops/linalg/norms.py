"""Linear algebra, norms (vector, matrix, linalg.norm) and products of several matrices."""

from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor
from .._table import apply, register, register_method
from ..reduce import LinalgVectorNormBackward0, normalize_dims
from ..shape import movedim
from .contraction import _check_floating, _constant, _require_tensor
from .decompositions import svdvals
from .products import matmul
from .solvers import inv

# ---------------------------------------------------------------------------
# Norms


@register(name="linalg.vector_norm", torch_name="linalg.vector_norm")
def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector p-norm of x over `dim` (all elements by default); ord may be inf, -inf, 0."""
    _require_tensor(x, "linalg_vector_norm", 1, "x")
    if dtype is not None:
        x = x.to(dtype)
    _check_floating(x, "linalg.vector_norm")
    if isinstance(ord, Tensor):
        ord = ord.item()
    dims = normalize_dims(dim, x.ndim)
    reduces_empty = x._data.size == 0 and (not dims or any(x.shape[d] == 0 for d in dims))
    if math.isinf(ord) and reduces_empty:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
            "operation does not have an identity"
        )
    return apply(LinalgVectorNormBackward0, x, ord=float(ord), dims=dims, keepdim=keepdim, dim_as_given=dim,
                 ord_as_given=ord)


_MATRIX_ORDERS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def _with_kept_dims(result: Tensor, dims: tuple[int, int]) -> Tensor:
    """Put back the two reduced dims as size 1 (keepdim=True)."""
    for dim in sorted(dims):
        result = result.unsqueeze(dim)
    return result


@register(name="linalg.matrix_norm", torch_name="linalg.matrix_norm")
def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """A matrix norm over the two dims `dim`: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf."""
    _require_tensor(A, "linalg_matrix_norm", 1, "A")
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    _check_floating(A, "linalg.matrix_norm")
    if ord not in _MATRIX_ORDERS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    rows, columns = (A._wrap_dim(d) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, columns), keepdim)
    if ord in ("nuc", 2, -2):
        values = svdvals(movedim(A, (rows, columns), (-2, -1)))
        if ord == "nuc" or (ord == 2 and values.shape[-1] == 0):  # (the largest of none: 0, as PyTorch)
            result = values.sum(-1)
        else:
            result = values.amax(-1) if ord == 2 else values.amin(-1)
        return _with_kept_dims(result, (rows, columns)) if keepdim else result
    summed, extreme = (rows, columns) if abs(ord) == 1 else (columns, rows)
    sums = vector_norm(A, 1.0, (summed,), keepdim)  # (as PyTorch: a vector norm, then the extreme)
    if not keepdim and summed < extreme:
        extreme -= 1
    if ord > 0 and sums.shape[extreme] == 0:  # the largest of no sums: 0 (PyTorch)
        return sums.sum(extreme, keepdim)
    return sums.amax(extreme, keepdim) if ord > 0 else sums.amin(extreme, keepdim)


@register(name="linalg.norm", torch_name="linalg.norm")
def linalg_norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector norm or a matrix norm, chosen by `dim` (and A's dims when `dim` is None)."""
    _require_tensor(A, "linalg_norm", 1, "A")
    if isinstance(dim, int):
        dim = (dim,)
    # (a vector norm gets `ord` and `dim` as PyTorch's linalg.norm passes them on: 2.0 for no
    # ord, None for no dim; its node shows them)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2.0, None, keepdim, dtype=dtype)
        if A.ndim not in (1, 2):
            raise RuntimeError(
                "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                f"{A.ndim}D."
            )
        if A.ndim == 1 and not isinstance(ord, str):
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        dim = (-2, -1) if isinstance(ord, str) else tuple(range(A.ndim))
    if ord is None and len(dim) <= 2:  # (the 2-norm of the elements: Frobenius's for two dims)
        return vector_norm(A, 2.0, dim, keepdim, dtype=dtype)
    if len(dim) == 1:
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")


# ---------------------------------------------------------------------------
# Products of several matrices


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices; the first may be a row vector, the last a column."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for index, tensor in enumerate(tensors):
        _require_tensor(tensor, "multi_dot", 1, "tensors")
        allowed = (1, 2) if index in (0, len(tensors) - 1) else (2,)
        if tensor.ndim not in allowed:
            raise RuntimeError(
                f"multi_dot(): tensor {index} must be 2D but got {tensor.ndim}D"
                if allowed == (2,)
                else f"multi_dot(): the {'first' if index == 0 else 'last'} tensor must be 1D or 2D "
                f"but got {tensor.ndim}D"
            )
    result = tensors[0]
    for tensor in tensors[1:]:
        result = matmul(result, tensor)
    return result


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A multiplied by itself n times (the identity for n = 0, powers of the inverse for n < 0)."""
    _require_tensor(A, "linalg_matrix_power", 1, "A")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            "linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{A.shape[-2] if A.ndim > 1 else A.shape[-1]} by {A.shape[-1]} matrices"
        )
    if n == 0:
        return _constant(np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape).copy())
    base = inv(A) if n < 0 else A
    power, result = abs(n), None
    while power:
        if power & 1:
            result = base if result is None else matmul(result, base)
        power >>= 1
        if power:
            base = matmul(base, base)
    return result


register_method("matrix_power", matrix_power)
