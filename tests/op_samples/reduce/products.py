"""Samples for the ops of `retrograd.ops.reduce.products` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples
from ..reduce.ordering import _dim_samples


def _prod_samples(rng):
    x = _samples.make(rng, (2, 3, 4))
    with_zeros = _samples.make(rng, (3, 4))
    with_zeros._data[0, 1] = 0.0
    with_zeros._data[1, :2] = 0.0
    return [
        ((x,), {}),
        ((x, 1), {}),
        ((x, -1, True), {}),
        ((_samples.make(rng, ()),), {}),
        ((with_zeros,), {}),
        ((with_zeros, 1), {}),
        ((with_zeros, 0), {}),
        ((_samples.make(rng, (0, 3)), 1), {}),
    ]


def _cumprod_samples(rng):
    with_zeros = _samples.make(rng, (2, 4))
    with_zeros._data[0, 1] = 0.0
    with_zeros._data[1, 0] = with_zeros._data[1, 2] = 0.0
    return [*_dim_samples(rng, [{}]), ((with_zeros, 1), {}), ((with_zeros, 0), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "prod": _samples.plus(_prod_samples, {"dtype": _samples.FLOAT64}),
    "cumsum": _samples.plus(lambda rng: _dim_samples(rng, [{}]), {"dtype": _samples.FLOAT64}),
    "cumprod": _samples.plus(_cumprod_samples, {"dtype": _samples.FLOAT64}),
    "logcumsumexp": lambda rng: [
        ((_samples.make(rng, (2, 3)),), {"dim": 1}), ((_samples.make(rng, (4,)),), {"dim": 0}),
    ],
}
