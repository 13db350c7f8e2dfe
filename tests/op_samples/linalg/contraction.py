"""Samples for the ops of `retrograd.ops.linalg.contraction` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _einsum_samples(rng):
    make = _samples.make
    return [
        (("ij,jk->ik", make(rng, (2, 3)), make(rng, (3, 4))), {}),
        (("ii->", make(rng, (3, 3))), {}),
        (("ii->i", make(rng, (3, 3))), {}),
        (("...ij->...ji", make(rng, (2, 3, 4))), {}),
        (("bij,bjk->bik", make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {}),
        (("i,j", make(rng, (2,)), make(rng, (3,))), {}),
        (("ij->", make(rng, (2, 3))), {}),
        (("ij,ij->ij", make(rng, (2, 1)), make(rng, (2, 3))), {}),
        (("...ij,...jk", make(rng, (2, 1, 2, 3)), make(rng, (3, 3, 2))), {}),
        (("ij,jk,kl->il", make(rng, (2, 3)), make(rng, (3, 2)), make(rng, (2, 2))), {}),
    ]


def _tensordot_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3, 4)), make(rng, (3, 4, 2))), {"dims": 2}),
        ((make(rng, (2, 3)), make(rng, (4, 2))), {"dims": ([0], [1])}),
        ((make(rng, (2,)), make(rng, (3,))), {"dims": 0}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "einsum": _einsum_samples,
    "tensordot": _tensordot_samples,
}
