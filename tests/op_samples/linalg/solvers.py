"""Samples for the ops of `retrograd.ops.linalg.solvers` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _well_conditioned(rng, shape) -> Tensor:
    """A random matrix plus a multiple of the identity: far from singular."""
    size = shape[-1]
    data = rng.uniform(-1.0, 1.0, size=shape) + 3.0 * np.eye(size)
    return Tensor._make(data.astype(np.float64))


def _square_samples(rng):
    return [
        ((_well_conditioned(rng, (3, 3)),), {}),
        ((_well_conditioned(rng, (2, 2, 2)),), {}),
    ]


def _slogdet_samples(rng):
    flipped = _well_conditioned(rng, (3, 3))
    flipped._data[[0, 1]] = flipped._data[[1, 0]]
    return [*_square_samples(rng), ((flipped,), {})]


def _solve_samples(rng):
    make = _samples.make
    return [
        ((_well_conditioned(rng, (3, 3)), make(rng, (3,))), {}),
        ((_well_conditioned(rng, (3, 3)), make(rng, (3, 2))), {}),
        ((_well_conditioned(rng, (2, 3, 3)), make(rng, (3, 2))), {}),
        ((_well_conditioned(rng, (2, 3, 3)), make(rng, (2, 3))), {}),
        ((_well_conditioned(rng, (3, 3)), make(rng, (2, 3))), {"left": False}),
    ]


def _solve_triangular_samples(rng):
    make = _samples.make
    return [
        ((_well_conditioned(rng, (3, 3)), make(rng, (3, 2))), {"upper": True}),
        ((_well_conditioned(rng, (2, 3, 3)), make(rng, (3, 2))), {"upper": False}),
        ((make(rng, (3, 3)), make(rng, (2, 3))), {"upper": False, "left": False, "unitriangular": True}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "cholesky_inverse": lambda rng: [
        ((Tensor._make(np.array([[2.0, 0.0], [0.5, 1.5]])),), {}),
        ((Tensor._make(np.array([[2.0, 0.5], [0.0, 1.5]])),), {"upper": True}),
        ((Tensor._make(np.array([[2.0, 0.7], [0.5, 1.5]])),), {}),  # (the forward reads one triangle)
    ],
    "linalg.inv": _square_samples,
    "linalg.matrix_exp": lambda rng: [
        ((_samples.make(rng, (3, 3)),), {}),
        ((_samples.make(rng, (2, 2, 2)),), {}),
        ((Tensor._make(4.0 * rng.uniform(-1.0, 1.0, size=(3, 3))),), {}),  # scaled and squared
    ],
    "linalg.det": _square_samples,
    "linalg.slogdet": _slogdet_samples,
    "linalg.solve": _solve_samples,
    "linalg.solve_triangular": _solve_triangular_samples,
}
