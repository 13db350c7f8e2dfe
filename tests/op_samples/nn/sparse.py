"""Samples for the ops of `retrograd.ops.nn.sparse` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _embedding_samples(rng):
    indices = Tensor._make(np.array([[0, 2], [2, 3]], dtype=np.int64))
    weight = _samples.make(rng, (4, 3))
    distinct = Tensor._make(np.array([[0, 2], [1, 3]], dtype=np.int64))
    # max_norm above every row's norm, and scale_grad_by_freq with each index once: a gradient
    # that is the derivative (tests/test_op_keywords.py compares the rest with PyTorch)
    return [((indices, weight), {}), ((indices, weight), {"padding_idx": 1}),
            ((indices, weight), {"max_norm": 4.0}),
            ((indices, weight), {"max_norm": 6.5, "norm_type": 1.0}),
            ((distinct, weight), {"scale_grad_by_freq": True})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "embedding": _embedding_samples,
}
