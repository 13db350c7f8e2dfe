"""Samples for the ops of `retrograd.ops.composite.more` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples

# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "hardshrink": _samples.plus(_samples.unary(), {"lambd": 0.3}),
    "prelu": lambda rng: [((_samples.make(rng, (2, 3)), _samples.make(rng, (1,))), {})],
    "diagflat": lambda rng: [((_samples.make(rng, (3,)),), {}),
                                                   ((_samples.make(rng, (2, 2)),), {"offset": -1})],
    # integer exponents >= 0 (PyTorch 2.13's ldexp gradient is 0 for negative integer exponents: it
    # computes 2**other in int)
    "ldexp": lambda rng: [
    ((_samples.make(rng, (2, 3)), Tensor._make(np.array([1, 0, 3]))), {}),
],
    "renorm": lambda rng: [
    ((_samples.make(rng, (3, 4)), 2, 0, 1.0), {}), ((_samples.make(rng, (2, 3)), 1, 1, 1.5), {}),
],
    "select_scatter": lambda rng: [
    ((_samples.make(rng, (2, 3)), _samples.make(rng, (3,)), 0, 1), {}),
],
    "slice_scatter": _samples.plus(lambda rng: [
    ((_samples.make(rng, (4, 2)), _samples.make(rng, (2, 2))), {"dim": 0, "start": 1, "end": 3}),
], {"start": 0, "end": 4, "step": 2}),
    "diagonal_scatter": _samples.plus(lambda rng: [
    ((_samples.make(rng, (3, 3)), _samples.make(rng, (3,))), {}),
    ((_samples.make(rng, (2, 3)), _samples.make(rng, (2,))), {"offset": 1}),
], {"dim1": 1, "dim2": 0}),
    "split_with_sizes": lambda rng: [((_samples.make(rng, (2, 3)), [1, 2]), {"dim": 1})],
    "cholesky_solve": lambda rng: [
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 0.0], [0.5, 1.5]]))), {}),
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 0.5], [0.0, 1.5]]))), {"upper": True}),
],
    "triangular_solve": _samples.plus(lambda rng: [
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 1.0], [0.0, 3.0]]))), {}),
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 0.0], [1.0, 3.0]]))), {"upper": False}),
], {"transpose": True}, {"unitriangular": True}),
}
