"""Samples for the ops of `retrograd.ops.shape.rearrange` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _repeat_samples(rng):
    return [((_samples.make(rng, (2, 3)), 2, 1), {}), ((_samples.make(rng, (3,)), (2, 1, 2)), {})]


def _tile_samples(rng):
    return [((_samples.make(rng, (2, 3)), (2,)), {}), ((_samples.make(rng, (3,)), (2, 2)), {})]


def _repeat_interleave_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (2, 3))
    return [((x, 2), {}), ((x, 3), {"dim": 1}), ((x, tensor([1, 0, 2])), {"dim": 1})]


def _flip_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x, (0,)), {}), ((x, (0, 1)), {}), ((x, [-1]), {}), ((_samples.make(rng, ()), ()), {})]


def _roll_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x, 1), {}), ((x, (1, -1), (0, 1)), {}), ((x, 4, 1), {})]


def _rot90_samples(rng):
    x = _samples.make(rng, (2, 3, 2))
    return [((x,), {}), ((x, 2, (1, 2)), {}), ((x, -1, (2, 0)), {})]


def _diagonal_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [((x,), {}), ((x, 1), {}), ((x, -2), {}), ((_samples.make(rng, (2, 3, 2)), 0, 2, 0), {})]


def _diag_embed_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x,), {}), ((x, 1), {}), ((x, -1, 0, 2), {})]


def _diag_samples(rng):
    return [((_samples.make(rng, (3,)),), {}), ((_samples.make(rng, (3,)), -1), {}),
            ((_samples.make(rng, (3, 4)), 1), {})]


def _triangle_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [((x,), {}), ((x, 1), {}), ((_samples.make(rng, (2, 3, 3)), -1), {})]


def _meshgrid_samples(rng):
    make = _samples.make
    return [((make(rng, (2,)), make(rng, (3,))), {"indexing": "ij"}),
            ((make(rng, (2,)), make(rng, (3,)), make(rng, ())), {"indexing": "xy"})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "repeat": _repeat_samples,
    "tile": _tile_samples,
    "repeat_interleave": _samples.plus(_repeat_interleave_samples, {"output_size": 12}),
    "flip": _flip_samples,
    "fliplr": lambda rng: [((_samples.make(rng, (2, 3)),), {})],
    "flipud": lambda rng: [((_samples.make(rng, (2, 3)),), {})],
    "roll": _roll_samples,
    "rot90": _rot90_samples,
    "diagonal": _diagonal_samples,
    "diag_embed": _diag_embed_samples,
    "diag": _diag_samples,
    "tril": _triangle_samples,
    "triu": _triangle_samples,
    "meshgrid": _meshgrid_samples,
    "clone": _samples.unary(),
    "contiguous": lambda rng: [
    ((_samples.make(rng, (2, 3)),), {}), ((_samples.make(rng, (3, 2)).t(),), {})
],
}
