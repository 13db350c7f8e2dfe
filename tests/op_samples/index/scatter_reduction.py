"""Samples for the ops of `retrograd.ops.index.scatter_reduction` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _scatter_reduce_samples(rng):
    from retrograd._creation import tensor

    cases = []
    for reduce, include_self in (("sum", True), ("prod", False), ("mean", True), ("amax", True),
                                 ("amin", False), ("mean", False), ("prod", True), ("amax", False)):
        x = _samples.make(rng, (3, 4), 0.5, 2.0)
        index = tensor([[0, 0, 3], [1, 1, 1], [2, 0, 2]])
        cases.append(((x, 1, index, _samples.make(rng, (3, 3), 0.5, 2.0), reduce),
                      {"include_self": include_self}))
    x = _samples.make(rng, (3, 4), 0.5, 2.0)
    cases.append(((x, 0, tensor([[2, 2, 1, 0]]), _samples.make(rng, (2, 4), 0.5, 2.0), "amin"), {}))
    return cases


def _index_reduce_samples(rng):
    from retrograd._creation import tensor

    cases = []
    for reduce, include_self in (("prod", True), ("mean", False), ("amax", True), ("amin", False),
                                 ("mean", True), ("prod", False)):
        x = _samples.make(rng, (3, 4), 0.5, 2.0)
        cases.append(((x, 0, tensor([0, 2, 0, 1, 2]), _samples.make(rng, (5, 4), 0.5, 2.0), reduce),
                      {"include_self": include_self}))
    x = _samples.make(rng, (2, 3), 0.5, 2.0)
    cases.append(((x, -1, tensor([2, 2]), _samples.make(rng, (2, 2), 0.5, 2.0), "amax"), {}))
    return cases


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "scatter_reduce": _scatter_reduce_samples,
    "index_reduce": _index_reduce_samples,
}
