"""Samples for the ops of `retrograd.ops.reduce.sums` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples

# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "sum": _samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}),
    "mean": _samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}),
}
