"""Samples for the ops of `retrograd.ops.fill` (the op table's gradient tests)."""

from __future__ import annotations

from . import _samples


def _fill_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x, 1.5), {}), ((x, _samples.make(rng, ())), {})]


def _copy_samples(rng):
    return [
        ((_samples.make(rng, (2, 3)), _samples.make(rng, (2, 3))), {}),
        ((_samples.make(rng, (2, 3)), _samples.make(rng, (3,))), {}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "zero_": _samples.unary(),
    "fill_": _fill_samples,
    "fill": _fill_samples,
    "copy_": _copy_samples,
}
