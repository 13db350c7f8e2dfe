"""Samples for the ops of `retrograd.ops.pointwise.unary` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples

# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "abs": _samples.unary(),
    "sign": _samples.unary(),
    "rsqrt": _samples.unary(0.5, 2.0),
    "exp2": _samples.unary(),
    "expm1": _samples.unary(),
    "log2": _samples.unary(0.5, 2.0),
    "log10": _samples.unary(0.5, 2.0),
    "log1p": _samples.unary(-0.5, 2.0),
    "asin": _samples.unary(-0.9, 0.9),
    "acos": _samples.unary(-0.9, 0.9),
    "atan": _samples.unary(),
    "sinh": _samples.unary(),
    "cosh": _samples.unary(),
    "tanh": _samples.unary(),
    "asinh": _samples.unary(),
    "acosh": _samples.unary(1.2, 3.0),
    "atanh": _samples.unary(-0.8, 0.8),
    "sigmoid": _samples.unary(-4.0, 4.0),
    "erf": _samples.unary(),
    "erfc": _samples.unary(),
    "erfinv": _samples.unary(-0.9, 0.9),
    "floor": _samples.unary(),
    "ceil": _samples.unary(),
    "trunc": _samples.unary(),
    "frac": _samples.unary(),
    "exp": _samples.unary(),
    "log": _samples.unary(0.5, 2.0),
    "sin": _samples.unary(),
    "cos": _samples.unary(),
    "tan": _samples.unary(-1.2, 1.2),
}
