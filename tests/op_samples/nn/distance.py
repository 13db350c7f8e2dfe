"""Samples for the ops of `retrograd.ops.nn.distance` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _normalize_samples(rng):
    x = _samples.make(rng, (2, 3), 0.5, 2.0)
    return [((x,), {}), ((x,), {"p": 1.0, "dim": 0}), ((x,), {"dim": -1, "eps": 10.0})]


def _cosine_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 3))), {}),
        ((make(rng, (2, 3)), make(rng, (3,))), {"dim": -1}),
    ]


def _pairwise_samples(rng):
    make = _samples.make
    return [((make(rng, (3, 4)), make(rng, (3, 4))), {}), ((make(rng, (3, 4)), make(rng, (4,))),
                                                           {"p": 1.5, "keepdim": True})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "normalize": _normalize_samples,
    "cosine_similarity": _samples.plus(_cosine_samples, {"eps": 1e-4}),
    "pairwise_distance": _samples.plus(_pairwise_samples,
                                {"eps": 1e-4}),
}
