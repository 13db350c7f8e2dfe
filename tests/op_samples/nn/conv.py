"""Samples for the ops of `retrograd.ops.nn.conv` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _conv2d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 4, 4)), make(rng, (2, 2, 2, 2)), make(rng, (2,))), {}),
        ((make(rng, (2, 2, 5, 4)), make(rng, (2, 1, 2, 3))), {"stride": 2, "padding": 1, "groups": 2}),
        ((make(rng, (1, 1, 5, 5)), make(rng, (1, 1, 2, 2))), {"dilation": 2, "padding": "same"}),
        ((make(rng, (1, 3, 3)), make(rng, (2, 1, 2, 2)), make(rng, (2,))), {"padding": (1, 0)}),
    ]


def _conv1d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 2, 5)), make(rng, (3, 2, 2)), make(rng, (3,))), {}),
        ((make(rng, (1, 2, 6)), make(rng, (2, 1, 3))),
         {"stride": 2, "padding": 2, "groups": 2, "dilation": 2}),
        ((make(rng, (2, 5)), make(rng, (1, 2, 2))), {"padding": "same"}),
    ]


def _conv_transpose2d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 3, 3)), make(rng, (2, 1, 2, 2)), make(rng, (1,))), {}),
        ((make(rng, (1, 2, 2, 3)), make(rng, (2, 2, 3, 2))),
         {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
        ((make(rng, (1, 1, 2, 2)), make(rng, (1, 1, 2, 2))), {"dilation": 2, "stride": (1, 2)}),
    ]


def _conv_transpose1d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 2, 4)), make(rng, (2, 3, 2)), make(rng, (3,))), {}),
        ((make(rng, (1, 2, 3)), make(rng, (2, 1, 3))),
         {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 1}),
    ]


def _unfold_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 3, 4)), 2), {}), ((make(rng, (2, 1, 4, 4)), (2, 3)),
                                                 {"stride": 2, "padding": 1, "dilation": (1, 2)})]


def _fold_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 4, 6)), (3, 4), 2), {}), ((make(rng, (2, 6, 6)), (4, 5), (2, 3)),
                                                      {"stride": 2, "padding": 1, "dilation": (1, 2)})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "conv2d": _conv2d_samples,
    "conv1d": _conv1d_samples,
    "conv_transpose2d": _conv_transpose2d_samples,
    "conv_transpose1d": _conv_transpose1d_samples,
    "unfold": _unfold_samples,
    "fold": _fold_samples,
}
