"""Samples for the ops of `retrograd.ops.nn.upsampling` (the op table's gradient tests)."""

from __future__ import annotations

from .. import _samples


def _interpolate_samples(rng):
    make = _samples.make
    image = make(rng, (1, 2, 3, 4))
    return [
        ((make(rng, (1, 2, 3)),), {"scale_factor": 2}),
        ((image,), {"size": (5, 3), "mode": "nearest-exact"}),
        ((make(rng, (1, 1, 4)),), {"size": 7, "mode": "linear"}),
        ((image,), {"scale_factor": 1.5, "mode": "bilinear"}),
        ((image,), {"size": (4, 7), "mode": "bilinear", "align_corners": True}),
        ((image,), {"size": (2, 3), "mode": "area"}),
        ((make(rng, (1, 2, 6, 7)),), {"size": (3, 4), "mode": "bilinear", "antialias": True}),
        ((image,), {"scale_factor": (0.5, 1.7), "mode": "bilinear", "antialias": True, "align_corners": True}),
        ((image,), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
        ((make(rng, (1, 2, 5)),), {"scale_factor": 0.7, "mode": "linear", "recompute_scale_factor": False}),
    ]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "interpolate": _interpolate_samples,
}
