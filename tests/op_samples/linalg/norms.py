"""Samples for the ops of `retrograd.ops.linalg.norms` (the op table's gradient tests)."""

from __future__ import annotations

import math

from .. import _samples


def _vector_norm_samples(rng):
    make = _samples.make
    x = make(rng, (2, 3))
    return [
        ((x,), {}),
        ((x,), {"ord": 1, "dim": 1}),
        ((x,), {"ord": math.inf, "dim": (0, 1), "keepdim": True}),
        ((x,), {"ord": 3.0, "dim": 0}),
        ((x,), {"ord": -math.inf}),
        ((make(rng, ()),), {}),
        ((make(rng, (0, 3)),), {"dim": 0}),
    ]


def _matrix_norm_samples(rng):
    make = _samples.make
    A = make(rng, (3, 2))
    return [
        ((A,), {}),
        ((A,), {"ord": "nuc"}),
        ((A,), {"ord": 2}),
        ((A,), {"ord": -2}),
        ((A,), {"ord": 1}),
        ((A,), {"ord": -math.inf, "keepdim": True}),
        ((make(rng, (2, 3, 2)),), {"ord": "nuc", "dim": (0, 2)}),
    ]


def _norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)),), {}),
        ((make(rng, (3,)),), {"ord": 1}),
        ((make(rng, (3, 2)),), {"ord": "nuc"}),
        ((make(rng, (2, 3, 2)),), {"dim": (1, 2)}),
        ((make(rng, (2, 3)),), {"ord": math.inf, "dim": 1}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "linalg.vector_norm": _samples.plus(_vector_norm_samples, {"dtype": _samples.FLOAT64}),
    "linalg.matrix_norm": _samples.plus(_matrix_norm_samples, {"dtype": _samples.FLOAT64}),
    "linalg.norm": _samples.plus(_norm_samples, {"keepdim": True, "dtype": _samples.FLOAT64}),
}
