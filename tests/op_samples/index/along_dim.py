"""Samples for the ops of `retrograd.ops.index.along_dim` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _gather_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 1, tensor([[0, 0], [3, 1], [2, 2]])), {}),
        ((x, 0, tensor([[2, 0, 1, 1], [0, 0, 0, 2]])), {}),
        ((x, -1, tensor([[1], [0]])), {}),
    ]


def _permutation_index(rng, shape: tuple, dim: int):
    """Indices without repeats along `dim` (scatter with repeated indices keeps an arbitrary one)."""
    size = shape[dim]
    orders = np.argsort(rng.random((*shape[:dim], size, *shape[dim + 1:])), axis=dim)
    return Tensor._make(orders.astype(np.int64))


def _scatter_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 1, _permutation_index(rng, (3, 4), 1), _samples.make(rng, (3, 4))), {}),
        ((x, 0, tensor([[2, 0, 1]]), _samples.make(rng, (1, 3))), {}),
        ((x, 0, tensor([[1, 2], [0, 1]])), {"value": 1.5}),
    ]


def _scatter_add_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 1, tensor([[0, 0, 3], [1, 1, 1], [2, 0, 2]]), _samples.make(rng, (3, 3))), {}),
        ((x, 0, tensor([[2, 2, 1, 0]]), _samples.make(rng, (1, 4))), {}),
    ]


def _take_along_dim_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, tensor([[0, 3], [1, 1], [2, 0]]), 1), {}),
        ((x, tensor([[2, 0, 0, 1]])), {"dim": 0}),
        ((x, tensor([11, 0, 5, 5])), {}),
    ]


def _index_select_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    empty_index = Tensor._make(np.zeros(0, dtype=np.int64))
    return [((x, 0, tensor([2, 0, 2])), {}), ((x, 1, tensor([3])), {}), ((x, -1, tensor(1)), {}),
            ((x, 0, empty_index), {})]


def _index_add_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [
        ((x, 0, tensor([2, 0, 2]), _samples.make(rng, (3, 4))), {}),
        ((x, 1, tensor([1, 3]), _samples.make(rng, (3, 2))), {"alpha": -2.0}),
    ]


def _index_copy_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [((x, 0, tensor([2, 0]), _samples.make(rng, (2, 4))), {}),
            ((x, 1, tensor([3]), _samples.make(rng, (3, 1))), {})]


def _index_fill_samples(rng):
    from retrograd._creation import tensor

    x = _samples.make(rng, (3, 4))
    return [((x, 1, tensor([0, 2]), -1.5), {}), ((x, 0, tensor([1, 1]), _samples.make(rng, ())), {})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "gather": _gather_samples,
    "scatter": _scatter_samples,
    "scatter_add": _scatter_add_samples,
    "take_along_dim": _take_along_dim_samples,
    "index_select": _index_select_samples,
    "index_add": _index_add_samples,
    "index_copy": _index_copy_samples,
    "index_fill": _index_fill_samples,
}
