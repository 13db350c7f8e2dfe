"""Samples for the ops of `retrograd.ops.index.subscript` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _getitem_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    mask = Tensor._make(np.array([True, False, True]))
    return [
        ((x, 1), {}),
        ((x, (slice(None), -1)), {}),
        ((x, (slice(1, None), slice(None, None, 2))), {}),
        ((x, (None, Ellipsis, 0)), {}),
        ((x, Ellipsis), {}),
        ((x, tensor([0, 2, 0, 0])), {}),
        ((x, (slice(None), [3, 1, 3])), {}),
        ((x, (tensor([[0], [2]]), tensor([1, 1, 3]))), {}),
        ((x, mask), {}),
        ((x, Tensor._make(x._data > 0)), {}),
        ((_samples.make(rng, (2, 3, 4)), (slice(None), 0, [1, 2])), {}),
        ((x, []), {}),
        ((_samples.make(rng, ()), None), {}),
    ]


def _index_put_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, (tensor([0, 2]),), _samples.make(rng, (4,))), {}),
        ((x, (tensor([0, 2, 0]), tensor([1, 1, 3])), _samples.make(rng, (3,))), {"accumulate": True}),
        ((x, (Tensor._make(x._data > 0),), _samples.make(rng, ())), {}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "__getitem__": _getitem_samples,
    "index_put": _index_put_samples,
}
