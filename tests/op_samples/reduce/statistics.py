"""Samples for the ops of `retrograd.ops.reduce.statistics` (the op table's gradient tests)."""

from __future__ import annotations

import math

import numpy as np

from .. import _samples


def _spread_samples(rng):
    # A 0-d or empty input has no spread (the result is NaN, as in PyTorch): not a gradient case.
    cases = [case for case in _samples.reduction()(rng) if case[0][0].numel() > 1]
    x = _samples.make(rng, (3, 4))
    cases += [((x,), {"correction": 0}), ((x, 1), {"unbiased": False}), ((x, 0, True, True), {})]
    return cases


def _norm_samples(rng):
    x = _samples.make(rng, (2, 3))
    x._data[np.abs(x._data) < 0.1] = 0.3
    return [
        ((x,), {}),
        ((x, 2, 1), {}),
        ((x, 1), {}),
        ((x, 3.0, 0, True), {}),
        ((x, 0.5), {}),
        ((x, math.inf, 1), {}),
        ((x, -math.inf), {}),
        ((x, "fro", (0, 1)), {}),
        ((_samples.make(rng, ()),), {}),
    ]


def _logsumexp_samples(rng):
    cases = _samples.reduction()(rng)[2:]
    big = _samples.make(rng, (2, 3), 1000.0, 1001.0)
    return [*cases, ((big, 1), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "var": _spread_samples,
    "std": _spread_samples,
    "var_mean": _spread_samples,
    "std_mean": _spread_samples,
    "norm": _samples.plus(_norm_samples, {"dtype": _samples.FLOAT64}),
    "logsumexp": _logsumexp_samples,
}
