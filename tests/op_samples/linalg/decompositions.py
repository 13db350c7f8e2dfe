"""Samples for the ops of `retrograd.ops.linalg.decompositions` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples
from ..linalg.solvers import _well_conditioned


def _positive_definite(rng, shape) -> Tensor:
    data = rng.uniform(-1.0, 1.0, size=shape)
    data = data @ np.swapaxes(data, -1, -2) + shape[-1] * np.eye(shape[-1])
    return Tensor._make(data.astype(np.float64))


def _cholesky_samples(rng):
    return [
        ((_positive_definite(rng, (3, 3)),), {}),
        ((_positive_definite(rng, (2, 2, 2)),), {"upper": True}),
    ]


def _qr_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (4, 3)),), {}),
        ((_well_conditioned(rng, (3, 3)),), {}),
        ((make(rng, (2, 3)),), {}),
        ((make(rng, (2, 3)),), {"mode": "complete"}),
        ((make(rng, (2, 3, 2)),), {}),
    ]


def _symmetric_samples(rng):
    return [
        ((_positive_definite(rng, (3, 3)),), {}),
        ((_positive_definite(rng, (2, 2, 2)),), {"UPLO": "U"}),
    ]


def _svd_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (3, 2)),), {"full_matrices": False}),
        ((make(rng, (2, 3)),), {"full_matrices": False}),
        ((make(rng, (3, 3)),), {}),
        ((make(rng, (2, 3, 2)),), {"full_matrices": False}),
    ]


def _svdvals_samples(rng):
    return [((args[0],), {}) for args, _ in _svd_samples(rng)]


def _symmetric_indefinite(rng, shape, eigenvalues) -> Tensor:
    """Symmetric matrices with the given eigenvalues (distinct, some negative) in random bases."""
    bases, _ = np.linalg.qr(rng.standard_normal(shape))
    return Tensor._make((bases * np.asarray(eigenvalues)[..., None, :]) @ np.swapaxes(bases, -1, -2))


def _pinv_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (3, 2)),), {}),
        ((make(rng, (2, 3)),), {}),
        ((_well_conditioned(rng, (2, 3, 3)),), {}),
        # hermitian reads one triangle: the gradient tests symmetrise (gradcheck_wrapper)
        ((_symmetric_indefinite(rng, (3, 3), [2.0, -1.5, 0.75]),), {"hermitian": True}),
        ((_symmetric_indefinite(rng, (2, 3, 3), [2.0, -1.0, 1e-6]),), {"hermitian": True, "rtol": 1e-3}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "linalg.cholesky": _cholesky_samples,
    "linalg.qr": _qr_samples,
    "linalg.eigh": _symmetric_samples,
    "linalg.eigvalsh": _symmetric_samples,
    "linalg.svd": _svd_samples,
    "linalg.svdvals": _svdvals_samples,
    "linalg.pinv": _samples.plus(_pinv_samples, {"rtol": 1e-3}, {"atol": 1e-3}),
}
