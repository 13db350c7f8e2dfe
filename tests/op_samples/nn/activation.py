"""Samples for the ops of `retrograd.ops.nn.activation` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _activation_samples(low=-3.0, high=3.0, **kwargs):
    """Samples avoiding the kinks at 0 (and at the edges of the linear pieces)."""

    def samples(rng):
        cases = []
        for shape in [(3,), (2, 3), (), (0,)]:
            data = rng.uniform(low, high, size=shape)
            data = np.where(np.abs(data) < 0.1, 0.37, data)
            cases.append(((Tensor._make(data.astype(np.float64)),), dict(kwargs)))
        return cases

    return samples


def _gelu_samples(rng):
    x = _samples.make(rng, (2, 3), -3.0, 3.0)
    return [((x,), {}), ((x,), {"approximate": "tanh"}), ((_samples.make(rng, ()),), {})]


def _softplus_samples(rng):
    x = _samples.make(rng, (2, 3), -3.0, 3.0)
    return [((x,), {}), ((x,), {"beta": 2.0, "threshold": 3.0}), ((_samples.make(rng, (0,)),), {})]


def _softmax_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [
        ((x,), {"dim": 1}),
        ((x,), {"dim": 0}),
        ((_samples.make(rng, (2, 2, 3)),), {"dim": -1}),
        ((_samples.make(rng, ()),), {"dim": 0}),
        ((_samples.make(rng, (2, 0)),), {"dim": 1}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
# hardshrink and prelu are registered again by ops/composite/more.py (the Tensor methods), and
# that entry of the op table is the one the tests see: their samples are in composite/more.py.
SAMPLES = {
    "relu": _activation_samples(),
    "relu6": _activation_samples(-8.0, 8.0),
    "hardtanh": _activation_samples(min_val=-1.5, max_val=2.0),
    "leaky_relu": _activation_samples(negative_slope=0.2),
    "elu": _activation_samples(alpha=0.7),
    "selu": _activation_samples(),
    "celu": _activation_samples(alpha=1.5),
    "gelu": _gelu_samples,
    "silu": _activation_samples(),
    "mish": _activation_samples(),
    "softplus": _softplus_samples,
    "softsign": _activation_samples(),
    "hardsigmoid": _activation_samples(-5.0, 5.0),
    "hardswish": _activation_samples(-5.0, 5.0),
    "logsigmoid": _activation_samples(),
    "softmax": _samples.plus(_softmax_samples, {"dtype": _samples.FLOAT64}),
    "log_softmax": _samples.plus(_softmax_samples, {"dtype": _samples.FLOAT64}),
    "softmin": _samples.plus(_softmax_samples,
                                {"dtype": _samples.FLOAT64}),
    "threshold": _activation_samples(threshold=0.5, value=-2.0),
    "softshrink": _activation_samples(lambd=0.7),
    "tanhshrink": _activation_samples(),
}
