"""Samples for the ops of `retrograd.ops.nn.pixelshuffle` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _pixel_shuffle_samples(rng):
    return [((_samples.make(rng, (1, 8, 2, 3)), 2), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "pixel_shuffle": _pixel_shuffle_samples,
    "pixel_unshuffle": lambda rng: [((_samples.make(rng, (1, 2, 4, 6)), 2), {})],
    "channel_shuffle": lambda rng: [((_samples.make(rng, (1, 6, 2, 2)), 3), {})],
}
