"""Sample inputs for the op table's gradient tests, keyed by op name.

One module per op module of `retrograd.ops` (same path), each with a `SAMPLES` dict: op name ->
`samples(rng)`, which returns `[(args, kwargs), ...]` with tensors in float64. The tests run
gradcheck and gradgradcheck on every sample, and compare with PyTorch where it is installed;
`retrograd._operators_page` reads them for docs/operators.md. The helpers that build them are
in `_samples`.
"""

from __future__ import annotations

import importlib

_MODULES = (
    "composite.more",
    "composite.numeric",
    "composite.tensors",
    "fill",
    "index.along_dim",
    "index.masks",
    "index.subscript",
    "index.scatter_reduction",
    "linalg.contraction",
    "linalg.decompositions",
    "linalg.norms",
    "linalg.products",
    "linalg.solvers",
    "nn.activation",
    "nn.attention",
    "nn.conv",
    "nn.distance",
    "nn.linear",
    "nn.loss",
    "nn.normalization",
    "nn.padding",
    "nn.pixelshuffle",
    "nn.pooling",
    "nn.sparse",
    "nn.upsampling",
    "pointwise.arithmetic",
    "pointwise.binary",
    "pointwise.clamping",
    "pointwise.special",
    "pointwise.ternary",
    "pointwise.unary",
    "reduce.ordering",
    "reduce.products",
    "reduce.statistics",
    "reduce.sums",
    "shape.rearrange",
    "shape.reorder",
    "shape.split_join",
    "shape.views",
)

SAMPLES: dict = {}
for _name in _MODULES:
    for _op, _samples_of_op in importlib.import_module(f"{__name__}.{_name}").SAMPLES.items():
        if _op in SAMPLES:
            raise RuntimeError(f"op_samples: two modules give samples for {_op!r}")
        SAMPLES[_op] = _samples_of_op


def samples_for(op):
    """The `samples(rng)` function of `op` (an OpInfo or an op name), or None if it has none."""
    return SAMPLES.get(op if isinstance(op, str) else op.name)
