"""Samples for the ops of `retrograd.ops.reduce.ordering` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _median_samples(rng):
    return [((_samples.make(rng, (2, 5)),), {}), *_dim_samples(rng, [{}])]


def _with_nans(rng):
    """A (3, 4) tensor with a NaN or two in every row and column but no slice of NaNs only."""
    x = _samples.make(rng, (3, 4))
    x._data[[0, 1, 2, 2], [1, 3, 0, 2]] = np.nan
    return x


def _nanmedian_samples(rng):
    return [*_median_samples(rng), ((_with_nans(rng),), {}), ((_with_nans(rng), 1), {}),
            ((_with_nans(rng), 0), {"keepdim": True})]


def _dim_samples(rng, option_sets, dims=(1, -1, 0)):
    """Samples for an op along one dim: a (2, 3, 4) tensor, a vector and (k = 1) a 0-d tensor.

    Ops that take `k` get the dim as a keyword (their second positional argument is k).
    """
    cases = []
    for options in option_sets:
        shapes = [((2, 3, 4), dim) for dim in dims] + [((5,), 0)]
        if options.get("k", 1) == 1:
            shapes.append(((), 0))
        for shape, dim in shapes:
            x = _samples.make(rng, shape)
            if "k" in options:
                cases.append(((x,), {**options, "dim": dim}))
            else:
                cases.append(((x, dim), dict(options)))
    return cases


def _max_samples(rng):
    return [((_samples.make(rng, (2, 3)),), {}), ((_samples.make(rng, ()),), {}), *_dim_samples(rng, [{}])]


def _float64(values) -> Tensor:
    return Tensor._make(np.array(values, dtype=np.float64))


def _quantile_samples(rng):
    """Whole tensor, along a dim, q as a 0-d and a 1-d tensor, a 0-d input, and each
    interpolation; every rank q·(n - 1) is away from an integer (the gradient has kinks there)."""
    make = _samples.make
    row = make(rng, (2, 5))
    return [
        ((row, 0.3), {"dim": 1}),
        ((make(rng, (2, 5)), 0.3), {}),
        ((make(rng, (2, 3, 4)), 0.4), {"dim": 1}),
        ((make(rng, (2, 3, 4)), _float64([0.2, 0.7])), {"dim": -1, "keepdim": True}),
        ((make(rng, (5,)), _float64(0.35)), {}),
        ((make(rng, ()), 0.5), {"dim": 0}),
        *[((row, 0.3), {"dim": 1, "interpolation": mode}) for mode in ("lower", "higher", "midpoint", "nearest")],
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "sort": lambda rng: [
    *_dim_samples(rng, [{}, {"descending": True}]),
    ((_samples.make(rng, (2, 3, 4)),), {"dim": 1, "stable": True}),
],
    "topk": lambda rng: _dim_samples(rng, [{"k": 2}, {"k": 1, "largest": False}], dims=(-1,)),
    "kthvalue": _samples.plus(lambda rng: _dim_samples(rng, [{"k": 2}], dims=(-1,)), {"keepdim": True}),
    "median": _samples.plus(_median_samples, {"keepdim": True}, base=1),
    "nanmedian": _nanmedian_samples,
    "mode": _samples.plus(lambda rng: _dim_samples(rng, [{}]), {"keepdim": True}),
    "cummax": lambda rng: _dim_samples(rng, [{}]),
    "cummin": lambda rng: _dim_samples(rng, [{}]),
    "quantile": _quantile_samples,
    "nanquantile": _quantile_samples,
    "amax": _samples.reduction(),
    "amin": _samples.reduction(),
    "max": _samples.plus(_max_samples, {"keepdim": True}, base=2),
    "min": _samples.plus(_max_samples, {"keepdim": True}, base=2),
}
