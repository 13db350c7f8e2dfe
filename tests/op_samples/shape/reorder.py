"""Samples for the ops of `retrograd.ops.shape.reorder` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _transpose_samples(rng):
    return [((_samples.make(rng, (2, 3, 4)), 0, 2), {}), ((_samples.make(rng, (2, 3)), -1, 0), {}),
            ((_samples.make(rng, (0, 3)), 0, 1), {})]


def _permute_samples(rng):
    return [((_samples.make(rng, (2, 3, 4)), (2, 0, 1)), {}), ((_samples.make(rng, (2, 3)), (-1, 0)), {})]


def _movedim_samples(rng):
    x = _samples.make(rng, (2, 3, 4))
    return [((x, 0, 2), {}), ((x, (0, 1), (2, 0)), {})]


def _select_samples(rng):
    return [((_samples.make(rng, (2, 3)), 1, -1), {}), ((_samples.make(rng, (3,)), 0, 1), {})]


def _narrow_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [((x, 1, 1, 2), {}), ((x, 0, -2, 2), {}), ((x, 0, 0, 0), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "transpose": _transpose_samples,
    "t": lambda rng: [((_samples.make(rng, shape),), {}) for shape in [(2, 3), (3,)]],
    "permute": _permute_samples,
    "movedim": _movedim_samples,
    "select": _select_samples,
    "narrow": _narrow_samples,
}
