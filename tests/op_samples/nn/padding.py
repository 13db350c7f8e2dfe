"""Samples for the ops of `retrograd.ops.nn.padding` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _pad_samples(rng):
    x = _samples.make(rng, (1, 2, 3, 4))
    return [
        ((x, (1, 2)), {}),
        ((x, (1, -1, 0, 2)), {"value": 0.5}),
        ((x, (2, 1, 1, 2)), {"mode": "reflect"}),
        ((x, (2, 3, 1, 0)), {"mode": "replicate"}),
        ((_samples.make(rng, (2, 3, 4)), (1, 2)), {"mode": "circular"}),
        ((_samples.make(rng, (2, 4)), (3, 1)), {"mode": "reflect"}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "pad": _pad_samples,
}
