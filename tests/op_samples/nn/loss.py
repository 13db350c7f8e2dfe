"""Samples for the ops of `retrograd.ops.nn.loss` (the op table's gradient tests)."""

from __future__ import annotations

import numpy as np

from retrograd._tensor import Tensor

from .. import _samples


def _pair_loss_samples(low=-2.0, high=2.0, target_low=None, target_high=None, **kwargs):
    target_low = low if target_low is None else target_low
    target_high = high if target_high is None else target_high

    def samples(rng):
        make = _samples.make
        cases = [
            ((make(rng, (2, 3), low, high), make(rng, (2, 3), target_low, target_high)), {}),
            ((make(rng, (2, 3), low, high), make(rng, (2, 3), target_low, target_high)),
             {"reduction": "sum"}),
            ((make(rng, (3,), low, high), make(rng, (3,), target_low, target_high)), {"reduction": "none"}),
        ]
        for case in cases:
            case[1].update(kwargs)
        return cases

    return samples


def _weighted_pair_loss_samples(**kwargs):
    def samples(rng):
        weighted = ((_samples.make(rng, (2, 3)), _samples.make(rng, (2, 3))),
                    {"weight": _samples.make(rng, (2, 3), 0.5, 2.0), **kwargs})
        return [*_pair_loss_samples(**kwargs)(rng), weighted]

    return samples


def _bce_samples(rng):
    weighted = ((_samples.make(rng, (2, 3), 0.1, 0.9), _samples.make(rng, (2, 3), 0.0, 1.0)),
                {"weight": _samples.make(rng, (3,), 0.5, 2.0)})
    return [*_pair_loss_samples(0.1, 0.9, 0.0, 1.0)(rng), weighted]


def _bce_logits_samples(rng):
    make = _samples.make
    weighted = ((make(rng, (2, 3)), make(rng, (2, 3), 0.0, 1.0)),
                {"weight": make(rng, (3,), 0.5, 2.0), "pos_weight": make(rng, (3,), 0.5, 3.0)})
    return [*_pair_loss_samples(-3.0, 3.0, 0.0, 1.0)(rng), weighted]


def _nll_samples(rng):
    make = _samples.make
    target = Tensor._make(np.array([0, 2, 1], dtype=np.int64))
    spatial_target = Tensor._make(np.array([[1, 0], [2, -100]], dtype=np.int64))
    return [
        ((make(rng, (3, 3)), target), {}),
        ((make(rng, (3, 3)), target), {"reduction": "sum", "weight": make(rng, (3,), 0.5, 2.0)}),
        ((make(rng, (3, 3)), target), {"reduction": "none", "ignore_index": 2}),
        ((make(rng, (2, 3, 2)), spatial_target), {"weight": make(rng, (3,), 0.5, 2.0)}),
        ((make(rng, (3,)), Tensor._make(np.array(1, dtype=np.int64))), {}),
    ]


def _cross_entropy_samples(rng):
    make = _samples.make
    target = Tensor._make(np.array([0, 2, 1], dtype=np.int64))
    return [
        ((make(rng, (3, 3)), target), {}),
        ((make(rng, (3, 3)), target), {"label_smoothing": 0.2, "weight": make(rng, (3,), 0.5, 2.0)}),
        ((make(rng, (3, 3)), target), {"label_smoothing": 0.1, "ignore_index": 1, "reduction": "sum"}),
        ((make(rng, (3, 3)), target), {"label_smoothing": 0.1, "reduction": "none"}),
        ((make(rng, (2, 3, 2)), make(rng, (2, 3, 2), 0.0, 1.0)), {"label_smoothing": 0.3}),
        ((make(rng, (2, 3)), make(rng, (2, 3), 0.0, 1.0)), {"reduction": "sum", "weight": make(rng, (3,))}),
    ]


def _kl_samples(rng):
    make = _samples.make
    log_input = make(rng, (2, 3), -2.0, -0.1)
    return [
        ((log_input, make(rng, (2, 3), 0.1, 1.0)), {"reduction": "batchmean"}),
        ((log_input, make(rng, (2, 3), 0.1, 1.0)), {"reduction": "sum"}),
        ((log_input, make(rng, (2, 3), -2.0, 0.0)), {"reduction": "none", "log_target": True}),
    ]


def _triplet_samples(rng):
    make = _samples.make
    anchor, positive, negative = make(rng, (3, 4)), make(rng, (3, 4)), make(rng, (3, 4))
    return [((anchor, positive, negative), {"margin": 5.0}),
            ((anchor, positive, negative), {"margin": 5.0, "swap": True, "p": 1.0, "reduction": "sum"})]


def _sign_target(rng, shape):
    return Tensor._make(rng.choice([-1.0, 1.0], size=shape))


def _ranking_samples(rng):
    make = _samples.make
    return [((make(rng, (4,)), make(rng, (4,)), _sign_target(rng, (4,))), {"margin": 0.3})]


def _hinge_samples(rng):
    return [((_samples.make(rng, (2, 3)), _sign_target(rng, (2, 3))), {"margin": 1.5})]


def _soft_margin_samples(rng):
    return [((_samples.make(rng, (2, 3)),), {"target": _sign_target(rng, (2, 3))})]


def _multilabel_samples(rng):
    make = _samples.make
    labels = Tensor._make(rng.integers(0, 2, size=(2, 3)).astype(np.float64))
    return [((make(rng, (2, 3)), labels), {}), ((make(rng, (2, 3)), labels),
                                                {"weight": make(rng, (3,), 0.5, 2.0), "reduction": "sum"})]


def _poisson_samples(rng):
    make = _samples.make
    counts = make(rng, (2, 3), 0.0, 4.0)
    return [((make(rng, (2, 3)), counts), {}),
            ((make(rng, (2, 3), 0.5, 2.0), counts), {"log_input": False, "full": True, "reduction": "sum"})]


def _gaussian_samples(rng):
    make = _samples.make
    return [((make(rng, (2, 3)), make(rng, (2, 3)), make(rng, (2, 3), 0.5, 2.0)), {}),
            ((make(rng, (2, 3)), make(rng, (2, 3)), make(rng, (2,), 0.5, 2.0)), {"full": True})]


def _cosine_embedding_samples(rng):
    make = _samples.make
    return [((make(rng, (3, 4)), make(rng, (3, 4)), _sign_target(rng, (3,))), {"margin": -0.5})]


# op name -> `samples(rng)`: `[(args, kwargs), ...]`, tensors in float64
SAMPLES = {
    "mse_loss": _weighted_pair_loss_samples(),
    "l1_loss": _weighted_pair_loss_samples(),
    "smooth_l1_loss": _pair_loss_samples(beta=0.8),
    "huber_loss": _weighted_pair_loss_samples(delta=1.3),
    "binary_cross_entropy": _bce_samples,
    "binary_cross_entropy_with_logits": _bce_logits_samples,
    "nll_loss": _nll_samples,
    "cross_entropy": _cross_entropy_samples,
    "kl_div": _kl_samples,
    "triplet_margin_loss": _samples.plus(_triplet_samples,
                                {"eps": 1e-4}),
    "margin_ranking_loss": _samples.plus(_ranking_samples,
                                {"reduction": "sum"}),
    "hinge_embedding_loss": _samples.plus(_hinge_samples,
                                {"reduction": "sum"}),
    "soft_margin_loss": _samples.plus(_soft_margin_samples,
                                {"reduction": "sum"}),
    "multilabel_soft_margin_loss": _multilabel_samples,
    "poisson_nll_loss": _samples.plus(_poisson_samples, {"eps": 1e-4}),
    "gaussian_nll_loss": _samples.plus(_gaussian_samples, {"eps": 1e-4, "reduction": "sum"}),
    "cosine_embedding_loss": _samples.plus(_cosine_embedding_samples,
                                {"reduction": "sum"}),
}
