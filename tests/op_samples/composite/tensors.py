"""Samples for the ops of `retrograd.ops.composite.tensors` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples

# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "ravel": _samples.unary(),
    "hsplit": lambda rng: [((_samples.make(rng, (2, 4)), 2), {})],
    "vsplit": lambda rng: [((_samples.make(rng, (4, 2)), [1, 3]), {})],
    "dsplit": lambda rng: [((_samples.make(rng, (1, 2, 4)), 2), {})],
    "column_stack": lambda rng: [(([_samples.make(rng, (2,)), _samples.make(rng, (2, 2))],), {})],
    "block_diag": lambda rng: [
    ((_samples.make(rng, (1, 2)), _samples.make(rng, ()), _samples.make(rng, (2,))), {}),
],
    "cartesian_prod": lambda rng: [((_samples.make(rng, (2,)), _samples.make(rng, (3,))), {})],
    "combinations": _samples.plus(
    lambda rng: [((_samples.make(rng, (4,)),), {}), ((_samples.make(rng, (3,)),), {"r": 3})],
    {"with_replacement": True}),
}
