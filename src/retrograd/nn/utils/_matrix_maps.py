"""The Householder products and QR factors the orthogonal parametrization needs.

The product of Householder reflections (differentiable), LAPACK's compact QR, and the
sign-fixed orthogonal factor PyTorch builds from `geqrf` and `householder_product`. They
are private: the public `torch.geqrf` and `torch.linalg.householder_product` are not part
of retrograd's operator table.
"""

from __future__ import annotations

import numpy as np

from ..._creation import eye
from ..._tensor import Tensor


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
