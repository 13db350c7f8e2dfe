"""Helpers that build sample inputs for the op table's gradient tests (float64, several shapes
per op).

Each op's entry names a function `samples(rng) -> [(args, kwargs), ...]`; the tests run
gradcheck and gradgradcheck on every sample, and compare with PyTorch where it is installed.
Shapes cover the plain case, broadcasting, 0-d and empty tensors.
"""

from __future__ import annotations

import numpy as np

from retrograd._dtype import float64
from retrograd._tensor import Tensor

SHAPES = [(3,), (2, 3), (), (0,)]
BROADCAST_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 2)), ((0, 2), (2,))]


def make(rng: np.random.Generator, shape, low: float = -2.0, high: float = 2.0) -> Tensor:
    """A float64 tensor of `shape` with values drawn uniformly from [low, high)."""
    return Tensor._make(rng.uniform(low, high, size=shape).astype(np.float64))


def integers(rng: np.random.Generator, shape, low: int, high: int) -> Tensor:
    """An int64 tensor of `shape` with values drawn uniformly from [low, high)."""
    return Tensor._make(rng.integers(low, high, size=shape).astype(np.int64))


def unary(low: float = -2.0, high: float = 2.0, **kwargs):
    """Samples for a one-input op whose safe domain is [low, high)."""

    def samples(rng):
        return [((make(rng, shape, low, high),), dict(kwargs)) for shape in SHAPES]

    return samples


def binary(low: float = -2.0, high: float = 2.0, scalar: float | None = 1.5, other_low=None,
           other_high=None, options: tuple[dict, ...] = ()):
    """Samples for a two-input op: broadcasting pairs, plus a Python number on the right.

    Each dict of `options` (keyword parameters such as `{"alpha": 2.5}`) adds one broadcasting
    pair and, with `scalar`, one number on the right, called with those keywords.
    """
    other_low = low if other_low is None else other_low
    other_high = high if other_high is None else other_high

    def samples(rng):
        cases = [
            ((make(rng, left, low, high), make(rng, right, other_low, other_high)), {})
            for left, right in BROADCAST_PAIRS
        ]
        if scalar is not None:
            cases.append(((make(rng, (2, 3), low, high), scalar), {}))
        for option in options:
            pair = (make(rng, (2, 3), low, high), make(rng, (3,), other_low, other_high))
            cases.append((pair, dict(option)))
            if scalar is not None:
                cases.append(((make(rng, (2, 3), low, high), scalar), dict(option)))
        return cases

    return samples


def reduction(**kwargs_options):
    """Samples for a reduction: whole tensor, one dim, several dims, keepdim."""

    def samples(rng):
        x = make(rng, (2, 3, 4))
        cases = [((x,), {}), ((make(rng, ()),), {})]
        cases += [((x,), {"dim": 1}), ((x,), {"dim": (0, 2)}), ((x,), {"dim": -1, "keepdim": True})]
        cases += [((make(rng, (0, 3)),), {"dim": 1})]
        for case in cases:
            case[1].update(kwargs_options)
        return cases

    return samples


def plus(samples, *variants: dict, base: int = 0):
    """`samples`, then sample number `base` again with each dict of `variants` added to its
    keywords: a parameter the other samples leave at its default gets a sample of its own.
    A value that is a function is called with the generator (to make a tensor per call)."""

    def extended(rng):
        cases = samples(rng)
        args, kwargs = cases[base]
        for variant in variants:
            made = {key: value(rng) if callable(value) else value for key, value in variant.items()}
            cases.append((args, {**kwargs, **made}))
        return cases

    return extended


FLOAT64 = float64  # for `dtype=` variants (the samples are float64 already)
