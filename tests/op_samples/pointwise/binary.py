"""Samples for the ops of `retrograd.ops.pointwise.binary` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _modulo_samples(rng):
    """Dividends and divisors kept away from the jumps at exact multiples."""
    x = Tensor._make(rng.uniform(0.1, 0.9, size=(2, 3)) + rng.integers(-3, 3, size=(2, 3)))
    y = _samples.make(rng, (3,), 1.5, 2.5)
    quotient = x._data / y._data
    x._data[np.abs(quotient - np.round(quotient)) < 0.05] += 0.3
    return [((x, y), {}), ((x, 1.0), {}), ((x, -1.0), {})]


def _float_power_samples(rng):
    x = _samples.make(rng, (2, 3), 0.5, 2.0)
    return [((x, 2), {}), ((x, -0.5), {}), ((x, _samples.make(rng, (3,), -1.0, 1.0)), {})]


def _tensor_pair_samples(low=-2.0, high=2.0):
    """Broadcasting pairs of tensors (the ops that take no Python number)."""

    def samples(rng):
        return [
            ((_samples.make(rng, left, low, high), _samples.make(rng, right, low, high)), {})
            for left, right in _samples.BROADCAST_PAIRS
        ]

    return samples


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "maximum": _tensor_pair_samples(),
    "logaddexp": _samples.binary(scalar=None),
    "logaddexp2": _samples.binary(scalar=None),
    "copysign": _samples.binary(0.2, 2.0, other_low=-2.0, other_high=2.0),
    "minimum": _tensor_pair_samples(),
    "fmax": _tensor_pair_samples(),
    "fmin": _tensor_pair_samples(),
    "atan2": _tensor_pair_samples(),
    "hypot": _tensor_pair_samples(),
    "remainder": _modulo_samples,
    "fmod": _modulo_samples,
    "float_power": _float_power_samples,
}
