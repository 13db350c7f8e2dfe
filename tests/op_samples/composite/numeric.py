"""Samples for the ops of `retrograd.ops.composite.numeric` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples

# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "deg2rad": _samples.unary(),
    "rad2deg": _samples.unary(),
    "sinc": _samples.unary(0.1, 2.0),
    "xlogy": _samples.binary(0.5, 2.0, scalar=1.5),
    "sgn": _samples.unary(0.2, 2.0),
    "nansum": _samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}),
    "nanmean": _samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}),
    "aminmax": _samples.plus(lambda rng: [((_samples.make(rng, (2, 3)),), {"dim": 1})], {"keepdim": True}),
    "diff": _samples.plus(lambda rng: [
    ((_samples.make(rng, (5,)),), {}), ((_samples.make(rng, (3, 4)),), {"dim": 0, "n": 2}),
], {"prepend": lambda rng: _samples.make(rng, (2,)), "append": lambda rng: _samples.make(rng, (1,))}),
    "msort": lambda rng: [((_samples.make(rng, (4, 3)),), {})],
    "trapezoid": _samples.plus(lambda rng: [((_samples.make(rng, (5,)),), {}),
                                            ((_samples.make(rng, (2, 4)),), {"dx": 0.5})],
                                {"dim": 0}, {"x": lambda rng: _samples.make(rng, (5,))}),
    "trapz": _samples.plus(lambda rng: [((_samples.make(rng, (5,)),), {})],
                                {"dx": 0.5, "dim": 0}, {"x": lambda rng: _samples.make(rng, (5,))}),
    "cumulative_trapezoid": _samples.plus(lambda rng: [((_samples.make(rng, (5,)),), {})],
                                {"dx": 0.5, "dim": 0}, {"x": lambda rng: _samples.make(rng, (5,))}),
    "cov": lambda rng: [((_samples.make(rng, (3, 5)),), {}),
                        ((_samples.make(rng, (2, 4)),), {"correction": 0}),
                        ((_samples.make(rng, (3, 5)),), {"fweights": _samples.integers(rng, (5,), 1, 4)}),
                        ((_samples.make(rng, (2, 4)),), {"aweights": _samples.make(rng, (4,), 0.2, 2.0)}),
                        ((_samples.make(rng, (3, 5)),), {"fweights": _samples.integers(rng, (5,), 1, 4),
                                                         "aweights": _samples.make(rng, (5,), 0.2, 2.0),
                                                         "correction": 2})],
    "corrcoef": lambda rng: [((_samples.make(rng, (3, 5)),), {})],
    "cdist": _samples.plus(lambda rng: [((_samples.make(rng, (3, 2)), _samples.make(rng, (4, 2))), {}),
                               ((_samples.make(rng, (2, 3, 2)), _samples.make(rng, (2, 2, 2))), {"p": 1.0})],
                                {"compute_mode": "donot_use_mm_for_euclid_dist"}),
    "dist": _samples.plus(lambda rng: [((_samples.make(rng, (2, 3)), _samples.make(rng, (3,))), {})],
                                {"p": 3.0}),
}
