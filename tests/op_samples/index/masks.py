"""Samples for the ops of `retrograd.ops.index.masks` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _masked_select_samples(rng):
    x = _samples.make(rng, (3, 4))
    row_mask = Tensor._make(np.array([True, False, False, True]))
    return [((x, Tensor._make(x._data > 0)), {}), ((x, row_mask), {})]


def _masked_scatter_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [
        ((x, Tensor._make(x._data > 0), _samples.make(rng, (3, 4))), {}),
        ((x, Tensor._make(np.array([True, False, False, True])), _samples.make(rng, (7,))), {}),
    ]


def _take_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [((x, tensor([[0, 11], [5, 5]])), {}), ((x, tensor([-1, 3])), {})]


def _put_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (2, 3))
    return [((x, tensor([0, -2, 1]), _samples.make(rng, (3,))), {}),
            ((x, tensor([[1, 1], [5, 0]]), _samples.make(rng, (2, 2))), {"accumulate": True}),
            ((_samples.make(rng, ()), tensor([0]), _samples.make(rng, (1,))), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "put": _put_samples,
    "masked_select": _masked_select_samples,
    "masked_scatter": _masked_scatter_samples,
    "take": _take_samples,
}
