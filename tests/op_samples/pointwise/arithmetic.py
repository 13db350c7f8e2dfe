"""Samples for the ops of `retrograd.ops.pointwise.arithmetic` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _div_samples(rng):
    cases = _samples.binary(low=0.5, high=2.0)(rng)
    x, y = _samples.make(rng, (2, 3), 0.5, 2.0), _samples.make(rng, (2, 3), 0.5, 2.0)
    cases += [((x, y), {"rounding_mode": "trunc"}), ((x, y), {"rounding_mode": "floor"})]
    return cases


def _pow_samples(rng):
    x = _samples.make(rng, (2, 3), 0.5, 2.0)
    return [
        ((x, 2), {}),
        ((x, 0.5), {}),
        ((x, -1.5), {}),
        ((_samples.make(rng, (), 0.5, 2.0), 3), {}),
        ((x, _samples.make(rng, (2, 3), -1.0, 1.0)), {}),
        ((x, _samples.make(rng, (3,), -1.0, 1.0)), {}),
        ((2.0, x), {}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "add": _samples.binary(options=({"alpha": 2.5},)),
    "sub": _samples.binary(options=({"alpha": 2.5},)),
    "rsub": _samples.binary(options=({"alpha": 2.5},)),
    "mul": _samples.binary(),
    "div": _div_samples,
    "neg": _samples.unary(),
    "reciprocal": _samples.unary(0.5, 2.0),
    "pow": _pow_samples,
    "sqrt": _samples.unary(0.5, 2.0),
}
