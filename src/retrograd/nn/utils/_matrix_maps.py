"""The matrix functions the orthogonal parametrization needs, written for it alone.

`matrix_exp` (differentiable to any order), the product of Householder reflections, and the
sign-fixed QR factors PyTorch's `geqrf`/`householder_product` give. They are private: the
public `torch.matrix_exp`, `torch.geqrf` and `torch.linalg.householder_product` are not
part of retrograd's operator table.
"""

from __future__ import annotations

import numpy as np

from ..._creation import eye
from ..._tensor import Tensor
from ...autograd.function import Function
from ...ops.shape.split_join import cat

# Taylor degree and the 1-norm the scaled matrix is brought under: the remainder
# 0.5**19 / 19! is far below float64's rounding, so the result is exact to rounding.
_TAYLOR_DEGREE = 18
_SCALED_NORM = 0.5


def _expm_array(matrices: np.ndarray) -> np.ndarray:
    """exp of each square matrix in `matrices` by scaling, a Taylor series and squaring (in float64)."""
    work = matrices.astype(np.float64)
    size = work.shape[-1]
    norm = np.abs(work).sum(axis=-2).max() if work.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm / _SCALED_NORM)))) if norm > 0 else 0
    scaled = work / 2.0**squarings
    identity = np.broadcast_to(np.eye(size), work.shape)
    result = identity.copy()
    for degree in range(_TAYLOR_DEGREE, 0, -1):  # Horner: I + A/1 (I + A/2 (I + ...))
        result = identity + (scaled @ result) / degree
    for _ in range(squarings):
        result = result @ result
    return result.astype(matrices.dtype)


class _MatrixExp(Function):
    """exp(A) on the last two dimensions. The gradient of <G, exp(A)> is the upper-right block
    of exp([[A^T, G], [0, A^T]]) (the Frechet derivative at A^T in direction G), computed by
    this same Function so that it can be differentiated again."""

    @staticmethod
    def forward(ctx, matrices):
        ctx.save_for_backward(matrices)
        return Tensor._make(_expm_array(matrices._data))

    @staticmethod
    def backward(ctx, grad_output):
        (matrices,) = ctx.saved_tensors
        size = matrices.shape[-1]
        transposed = matrices.mT
        top = _cat_last(transposed, grad_output)
        bottom = _cat_last(transposed.new_zeros(transposed.shape), transposed)
        block = _MatrixExp.apply(_cat_rows(top, bottom))
        return block[..., :size, size:]


def _cat_last(left: Tensor, right: Tensor) -> Tensor:
    return cat([left, right], dim=-1)


def _cat_rows(top: Tensor, bottom: Tensor) -> Tensor:
    return cat([top, bottom], dim=-2)


def matrix_exp(matrices: Tensor) -> Tensor:
    """exp of a square matrix (or of each in a batch), differentiable to any order."""
    return _MatrixExp.apply(matrices)


def householder_product(reflectors: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, where v_i is column i
    of `reflectors` below the diagonal with a 1 on it (as LAPACK stores QR's reflections).

    Built from differentiable operations, so gradients reach `reflectors` and `tau`.
    """
    rows, columns = reflectors.shape[-2], reflectors.shape[-1]
    vectors = reflectors.tril(-1) + eye(rows, columns, dtype=reflectors.dtype)
    product = eye(rows, columns, dtype=reflectors.dtype).expand(*reflectors.shape)
    for index in range(columns - 1, -1, -1):  # H_i applied from the left, last reflection first
        vector = vectors[..., :, index:index + 1]
        scale = tau[..., index:index + 1].unsqueeze(-1)
        product = product - scale * (vector @ (vector.mT @ product))
    return product


def sign_fixed_q(matrices: np.ndarray) -> np.ndarray:
    """Q of the QR factorisation with each column multiplied by the sign of R's diagonal
    (the orthogonal factor PyTorch builds from `geqrf` and `householder_product`)."""
    q, r = np.linalg.qr(matrices)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def geqrf(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK's compact QR of each matrix: R on and above the diagonal, the reflections below,
    and their scales `tau` (PyTorch's `torch.geqrf`)."""
    batch = matrices.shape[:-2]
    flat = matrices.reshape(-1, *matrices.shape[-2:])
    packed = np.empty_like(flat)
    scales = np.empty((flat.shape[0], min(flat.shape[-2:])), dtype=matrices.dtype)
    for index, matrix in enumerate(flat):
        raw, tau = np.linalg.qr(matrix, mode="raw")
        packed[index] = raw.T  # NumPy returns LAPACK's column-major array transposed
        scales[index] = tau
    return packed.reshape(matrices.shape), scales.reshape(*batch, -1)
