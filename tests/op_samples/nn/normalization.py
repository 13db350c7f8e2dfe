"""Samples for the ops of `retrograd.ops.nn.normalization` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _layer_norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), (3,), make(rng, (3,)), make(rng, (3,))), {}),
        ((make(rng, (2, 2, 3)), (2, 3)), {"eps": 1e-3}),
    ]


def _group_norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 4, 3)), 2, make(rng, (4,)), make(rng, (4,))), {}),
        ((make(rng, (1, 2, 2, 2)), 1), {}),
    ]


def _batch_norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (3, 2)), None, None, make(rng, (2,)), make(rng, (2,))), {"training": True}),
        ((make(rng, (2, 2, 3)), None, None), {"training": True, "eps": 1e-3}),
        ((make(rng, (2, 2, 2)),), {"running_mean": make(rng, (2,)), "running_var": make(rng, (2,), 0.5, 2.0),
                                   "weight": make(rng, (2,))}),
    ]


def _instance_norm_samples(rng):
    make = _samples.make
    return [((make(rng, (2, 3, 4)),), {}),
            ((make(rng, (2, 2, 2, 3)),), {"weight": make(rng, (2,)), "bias": make(rng, (2,)), "eps": 1e-3}),
            # running statistics updated in place (tests/test_op_keywords.py checks their values)
            ((make(rng, (2, 3, 4)),), {"running_mean": make(rng, (3,)), "running_var": make(rng, (3,), 0.5, 2.0),
                                       "momentum": 0.3}),
            ((make(rng, (2, 2, 3)),), {"running_mean": make(rng, (2,)), "running_var": make(rng, (2,), 0.5, 2.0),
                                       "use_input_stats": False, "weight": make(rng, (2,))})]


def _rms_norm_samples(rng):
    make = _samples.make
    return [((make(rng, (2, 3)), (3,), make(rng, (3,))), {}), ((make(rng, (2, 2, 3)), (2, 3)), {"eps": 1e-3})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "layer_norm": _layer_norm_samples,
    "group_norm": _samples.plus(_group_norm_samples, {"eps": 1e-3}),
    "batch_norm": _samples.plus(_batch_norm_samples, {"training": True, "momentum": 0.5}, base=2),
    "instance_norm": _instance_norm_samples,
    "rms_norm": _rms_norm_samples,
}
