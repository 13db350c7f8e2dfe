"""Samples for the ops of `retrograd.ops.nn.attention` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _attention_samples(rng):
    make = _samples.make
    query, key, value = make(rng, (2, 3, 4)), make(rng, (2, 5, 4)), make(rng, (2, 5, 2))
    mask = Tensor._make(np.array([[True, True, False, True, True]] * 3))
    return [((query, key, value), {}),
            ((query, key, value), {"attn_mask": mask, "scale": 0.3}),
            ((query, make(rng, (2, 3, 4)), make(rng, (2, 3, 2))), {"is_causal": True}),
            ((query, key, value), {"attn_mask": make(rng, (3, 5))}),
            # grouped heads: 4 query heads share 2 key heads and 1 value head
            ((make(rng, (1, 4, 3, 4)), make(rng, (1, 2, 5, 4)), make(rng, (1, 1, 5, 2))),
             {"enable_gqa": True, "attn_mask": make(rng, (3, 5))}),
            ((make(rng, (4, 3, 4)), make(rng, (2, 3, 4)), make(rng, (2, 3, 2))), {"enable_gqa": True,
                                                                                 "is_causal": True})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "scaled_dot_product_attention": _attention_samples,
}
