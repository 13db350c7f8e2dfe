"""Samples for the ops of `retrograd.ops.linalg.products` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _matmul_samples(rng):
    make = _samples.make
    pairs = [
        ((3,), (3,)),
        ((2, 3), (3, 4)),
        ((2, 3), (3,)),
        ((3,), (3, 4)),
        ((2, 2, 3), (2, 3, 4)),
        ((2, 2, 3), (3, 4)),
        ((3,), (2, 3, 4)),
        ((2, 3), (2, 3, 4)),
        ((2, 1, 2, 3), (3, 3, 2)),
        ((0, 3), (3, 2)),
    ]
    return [((make(rng, left), make(rng, right)), {}) for left, right in pairs]


def _pair_samples(*pairs):
    def samples(rng):
        return [((_samples.make(rng, left), _samples.make(rng, right)), {}) for left, right in pairs]

    return samples


def _addmm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 4)), make(rng, (2, 3)), make(rng, (3, 4))), {}),
        ((make(rng, (4,)), make(rng, (2, 3)), make(rng, (3, 4))), {"beta": 0.5, "alpha": 2.0}),
    ]


def _baddbmm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 2, 4)), make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {}),
        ((make(rng, (4,)), make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {"beta": 2.0, "alpha": 0.5}),
    ]


def _addmv_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2,)), make(rng, (2, 3)), make(rng, (3,))), {}),
        ((make(rng, ()), make(rng, (2, 3)), make(rng, (3,))), {"beta": 0.5, "alpha": 3.0}),
    ]


def _addbmm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 4)), make(rng, (3, 2, 3)), make(rng, (3, 3, 4))), {}),
        ((make(rng, (4,)), make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {"beta": 0.5, "alpha": 2.0}),
    ]


def _addr_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2,)), make(rng, (3,))), {}),
        ((make(rng, (3,)), make(rng, (2,)), make(rng, (3,))), {"beta": 2.0, "alpha": 0.5}),
    ]


def _trace_samples(rng):
    return [((_samples.make(rng, (3, 3)),), {}), ((_samples.make(rng, (2, 3)),), {})]


def _cross_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 3))), {}),
        ((make(rng, (1, 3)), make(rng, (4, 3))), {}),
        ((make(rng, (3, 2)), make(rng, (3, 2))), {"dim": 0}),
    ]


def _torch_cross_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 3))), {"dim": 1}),
        ((make(rng, (3, 2)), make(rng, (3, 2))), {"dim": 0}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "matmul": _matmul_samples,
    "mm": _pair_samples(((2, 3), (3, 4)), ((0, 3), (3, 2))),
    "bmm": _pair_samples(((2, 2, 3), (2, 3, 4))),
    "mv": _pair_samples(((2, 3), (3,))),
    "dot": _pair_samples(((3,), (3,)), ((0,), (0,))),
    "vdot": _pair_samples(((3,), (3,))),
    "inner": _pair_samples(((3,), (3,)), ((2, 3), (4, 3))),
    "outer": _pair_samples(((3,), (2,)), ((0,), (2,))),
    "addmm": _addmm_samples,
    "baddbmm": _baddbmm_samples,
    "addmv": _addmv_samples,
    "addbmm": _addbmm_samples,
    "addr": _addr_samples,
    "trace": _trace_samples,
    "kron": _pair_samples(((2, 3), (2, 2)), ((2,), (2, 3))),
    "linalg.cross": _cross_samples,
    "cross": _torch_cross_samples,
}
