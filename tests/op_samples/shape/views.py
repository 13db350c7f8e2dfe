"""Samples for the ops of `retrograd.ops.shape.views` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _reshape_samples(rng):
    x = _samples.make(rng, (2, 3))
    empty = _samples.make(rng, (0, 3))
    scalar = _samples.make(rng, ())
    return [((x, (3, 2)), {}), ((x, (-1,)), {}), ((scalar, (1, 1)), {}), ((empty, (3, 0)), {})]


def _like_samples(rng):
    return [((_samples.make(rng, (2, 3)), _samples.make(rng, (3, 2))), {})]


def _flatten_samples(rng):
    x = _samples.make(rng, (2, 3, 2))
    return [
        ((x,), {}),
        ((x, 1), {}),
        ((x.transpose(0, 2), 0, 1), {}),
        ((_samples.make(rng, ()),), {}),
    ]


def _unflatten_samples(rng):
    return [((_samples.make(rng, (2, 6)), 1, (3, -1)), {}), ((_samples.make(rng, (4,)), 0, (2, 2)), {})]


def _expand_samples(rng):
    return [((_samples.make(rng, (3, 1)), (2, 3, 4)), {}), ((_samples.make(rng, ()), (2,)), {})]


def _broadcast_tensors_samples(rng):
    return [
        ((_samples.make(rng, (2, 1)), _samples.make(rng, (3,))), {}),
        ((_samples.make(rng, (2, 3)), _samples.make(rng, ()), _samples.make(rng, (1, 3))), {}),
    ]


def _sum_to_size_samples(rng):
    return [((_samples.make(rng, (2, 3, 4)), (3, 1)), {}), ((_samples.make(rng, (2, 3)), ()), {})]


def _squeeze_samples(rng):
    x = _samples.make(rng, (2, 1, 3, 1))
    return [((x,), {}), ((x, 1), {}), ((x, 0), {}), ((x, (1, -1)), {}), ((_samples.make(rng, ()), 0), {})]


def _unsqueeze_samples(rng):
    return [((_samples.make(rng, (2, 3)), 1), {}), ((_samples.make(rng, (2, 3)), -1), {}),
            ((_samples.make(rng, ()), 0), {})]


def _as_strided_samples(rng):
    x = _samples.make(rng, (12,))
    return [((x, (2, 2), (1, 2), 1), {}), ((x, (4, 3), (1, 1)), {}), ((x, (3, 4), (0, 1), 2), {}),
            ((_samples.make(rng, (3, 4)), (2, 3), (3, 1)), {"storage_offset": 4})]


def _as_strided_scatter_samples(rng):
    vector, matrix = _samples.make(rng, (12,)), _samples.make(rng, (3, 4))
    return [((vector, _samples.make(rng, (2, 2)), (2, 2), (3, 1), 1), {}),
            ((matrix, _samples.make(rng, (2, 3)), (2, 3), (4, 1)), {"storage_offset": 5}),
            ((matrix, _samples.make(rng, (3, 2)), (3, 2), (2, 1)), {}),
            ((_samples.make(rng, ()), _samples.make(rng, ()), (), ()), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "view": _reshape_samples,
    "reshape": _reshape_samples,
    "view_as": _like_samples,
    "reshape_as": _like_samples,
    "flatten": _flatten_samples,
    "unflatten": _unflatten_samples,
    "expand": _expand_samples,
    "expand_as": lambda rng: [
    ((_samples.make(rng, (3, 1)), _samples.make(rng, (2, 3, 4))), {})
],
    "broadcast_to": _expand_samples,
    "broadcast_tensors": _broadcast_tensors_samples,
    "sum_to_size": _sum_to_size_samples,
    "squeeze": _squeeze_samples,
    "unsqueeze": _unsqueeze_samples,
    "as_strided": _as_strided_samples,
    "as_strided_scatter": _as_strided_scatter_samples,
}
