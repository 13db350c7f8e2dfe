"""Samples for the ops of `retrograd.ops.pointwise.ternary` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _lerp_samples(rng):
    start, end = _samples.make(rng, (2, 3)), _samples.make(rng, (3,))
    return [
        ((start, end, 0.3), {}),
        ((start, end, 0.8), {}),
        ((start, end, _samples.make(rng, (2, 3), 0.0, 1.0)), {}),
    ]


def _addc_samples(low=-2.0, high=2.0):
    def samples(rng):
        base = _samples.make(rng, (2, 3))
        first = _samples.make(rng, (3,))
        second = _samples.make(rng, (2, 1), low, high)
        return [((base, first, second), {}), ((base, first, second), {"value": 0.5})]

    return samples


def _where_samples(rng):
    condition = Tensor._make(rng.uniform(size=(2, 3)) > 0.5)
    return [
        ((condition, _samples.make(rng, (2, 3)), _samples.make(rng, (3,))), {}),
        ((condition, _samples.make(rng, (2, 1)), 0.5), {}),
        ((Tensor._make(np.array([True, False, True])), _samples.make(rng, ()), _samples.make(rng, (2, 3))),
         {}),
    ]


def _masked_fill_samples(rng):
    x = _samples.make(rng, (2, 3))
    mask = Tensor._make(rng.uniform(size=(2, 3)) > 0.5)
    return [((x, mask, 0.5), {}), ((x, mask, _samples.make(rng, ())), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "lerp": _lerp_samples,
    "addcmul": _addc_samples(),
    "addcdiv": _addc_samples(0.5, 2.0),
    "where": _where_samples,
    "masked_fill": _masked_fill_samples,
}
