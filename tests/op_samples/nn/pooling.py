"""Samples for the ops of `retrograd.ops.nn.pooling` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _max_pool_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 4, 4)), 2), {}),
        ((make(rng, (2, 5, 5)), 3), {"stride": 2, "padding": 1}),
        ((make(rng, (1, 1, 5, 4)), 2), {"dilation": 2, "ceil_mode": True, "stride": 2}),
        ((make(rng, (1, 2, 5, 5)), 2), {"stride": 2, "padding": 1, "return_indices": True}),
    ]


def _adaptive_max_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 5, 4)), 2), {}), ((make(rng, (2, 7, 3)), (3, None)), {})]


def _avg_pool_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 4, 4)), 2), {}),
        ((make(rng, (2, 5, 5)), 3), {"stride": 2, "padding": 1}),
        ((make(rng, (1, 1, 5, 4)), 2), {"stride": 2, "padding": 1, "ceil_mode": True,
                                         "count_include_pad": False}),
        ((make(rng, (1, 1, 4, 4)), (2, 3)), {"stride": 1, "divisor_override": 3}),
    ]


def _adaptive_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 4, 4)), 2), {}), ((make(rng, (2, 5, 3)), (3, None)), {})]


def _pool1d_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 6)), 2), {}), ((make(rng, (2, 7)), 3), {"stride": 2, "padding": 1})]


def _adaptive1d_samples(rng):
    return [((_samples.make(rng, (1, 2, 7)), 3), {}), ((_samples.make(rng, (2, 4)), 4), {})]


def _lp_pool_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 4, 4), 0.5, 2.0), 2.0, 2), {}),
            ((make(rng, (1, 1, 5, 4), 0.5, 2.0), 3.0, (2, 3)), {"stride": 1})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "max_pool2d": _max_pool_samples,
    "adaptive_max_pool2d": _samples.plus(_adaptive_max_samples, {"return_indices": True}),
    "adaptive_max_pool1d": _samples.plus(lambda rng: [((_samples.make(rng, (1, 2, 7)), 3), {})],
                                {"return_indices": True}),
    "avg_pool2d": _avg_pool_samples,
    "adaptive_avg_pool2d": _adaptive_samples,
    "max_pool1d": _samples.plus(_pool1d_samples, {"dilation": 2, "ceil_mode": True, "return_indices": True}),
    "avg_pool1d": _samples.plus(_pool1d_samples, {"ceil_mode": True, "count_include_pad": False}),
    "adaptive_avg_pool1d": _adaptive1d_samples,
    "lp_pool2d": _samples.plus(_lp_pool_samples, {"ceil_mode": True}),
    "lp_pool1d": _samples.plus(
    lambda rng: [((_samples.make(rng, (1, 2, 6), 0.5, 2.0), 2.0, 3), {"stride": 2})], {"ceil_mode": True}),
}
