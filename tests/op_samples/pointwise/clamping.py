"""Samples for the ops of `retrograd.ops.pointwise.clamping` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from .. import _samples


def _clamp_samples(rng):
    x = _samples.make(rng, (2, 3))
    low, high = _samples.make(rng, (3,), -1.0, -0.2), _samples.make(rng, (2, 3), 0.2, 1.0)
    x_data = x._data
    x_data[np.abs(x_data - 0.5) < 0.05] += 0.2
    x_data[np.abs(x_data + 0.5) < 0.05] -= 0.2
    return [
        ((x, -0.5, 0.5), {}),
        ((x,), {"min": -0.5}),
        ((x,), {"max": 0.5}),
        ((x, low, high), {}),
        ((x, None, high), {}),
        ((_samples.make(rng, ()), -0.5, 0.5), {}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "square": _samples.unary(),
    "round": _samples.unary(decimals=1),
    "logit": _samples.plus(_samples.unary(0.1, 0.9), {"eps": 0.2}),
    "nan_to_num": _samples.plus(_samples.unary(), {"nan": 0.5, "posinf": 9.0, "neginf": -9.0}),
    "clamp": _clamp_samples,
}
