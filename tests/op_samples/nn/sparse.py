"""Samples for the ops of `retrograd.ops.nn.sparse` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _embedding_samples(rng):
    indices = Tensor._make(np.array([[0, 2], [2, 3]], dtype=np.int64))
    weight = _samples.make(rng, (4, 3))
    return [((indices, weight), {}), ((indices, weight), {"padding_idx": 1})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "embedding": _embedding_samples,
}
