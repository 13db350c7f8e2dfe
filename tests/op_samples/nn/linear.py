"""Samples for the ops of `retrograd.ops.nn.linear` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _linear_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (4, 3)), make(rng, (4,))), {}),
        ((make(rng, (2, 3)), make(rng, (4, 3))), {}),
        ((make(rng, (2, 2, 3)), make(rng, (2, 3)), make(rng, (2,))), {}),
        ((make(rng, (3,)), make(rng, (2, 3)), make(rng, (2,))), {}),
    ]


def _bilinear_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 2)), make(rng, (4, 3, 2)), make(rng, (4,))), {}),
        ((make(rng, (2, 3)), make(rng, (2, 2)), make(rng, (4, 3, 2))), {}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "linear": _linear_samples,
    "bilinear": _bilinear_samples,
}
