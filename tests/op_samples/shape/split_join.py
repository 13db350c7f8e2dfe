"""Samples for the ops of `retrograd.ops.shape.split_join` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _split_samples(rng):
    x = _samples.make(rng, (5, 2))
    return [((x, 2), {}), ((x, [1, 4]), {}), ((x, 1), {"dim": 1})]


def _chunk_samples(rng):
    x = _samples.make(rng, (5, 2))
    return [((x, 2), {}), ((x, 3), {}), ((x, 2, 1), {})]


def _unbind_samples(rng):
    return [((_samples.make(rng, (3, 2)),), {}), ((_samples.make(rng, (3, 2)), 1), {})]


def _tensor_split_samples(rng):
    x = _samples.make(rng, (5, 2))
    return [((x, 3), {}), ((x, [1, 4]), {}), ((x, (1,)), {"dim": 1})]


def _cat_samples(rng):
    make = _samples.make
    return [
        (([make(rng, (2, 3)), make(rng, (1, 3))],), {}),
        (([make(rng, (2, 3)), make(rng, (2, 1)), make(rng, (2, 0))],), {"dim": 1}),
        (([make(rng, (2,)), make(rng, (0,))],), {}),
    ]


def _stack_samples(rng):
    make = _samples.make
    return [
        (([make(rng, (2, 3)), make(rng, (2, 3))],), {}),
        (([make(rng, (2,)), make(rng, (2,)), make(rng, (2,))],), {"dim": -1}),
        (([make(rng, ())],), {}),
    ]


def _hvd_samples(rng):
    make = _samples.make
    return [
        (([make(rng, (2,)), make(rng, (2,))],), {}),
        (([make(rng, (2, 3)), make(rng, (2, 3))],), {}),
        (([make(rng, ()), make(rng, ())],), {}),
    ]


def _hstack_samples(rng):
    return [*_hvd_samples(rng), (([_samples.make(rng, (3,)), _samples.make(rng, (1,))],), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "split": _split_samples,
    "chunk": _chunk_samples,
    "unsafe_split": lambda rng: _split_samples(rng)[::2],
    "unsafe_chunk": lambda rng: [((_samples.make(rng, (5, 2)), 2), {}),
                                                      ((_samples.make(rng, (3, 4)), 2), {"dim": 1})],
    "unbind": _unbind_samples,
    "tensor_split": _tensor_split_samples,
    "cat": _cat_samples,
    "stack": _stack_samples,
    "hstack": _hstack_samples,
    "vstack": _hvd_samples,
    "dstack": _hvd_samples,
}
