"""The continuous Bernoulli distribution: a density on [0, 1] proportional to
p^x (1 - p)^(1 - x), the proper likelihood for [0, 1]-valued data (e.g. pixel intensities)."""

from __future__ import annotations

import math
from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import (
    _batch_shape_of,
    _check_one_of,
    _expand_given,
    broadcast_all,
    clamp_probs,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """Density C(p) p^x (1 - p)^(1 - x) on [0, 1]. Near p = 1/2 (inside `lims`) the closed
    forms divide 0 by 0, so there the normaliser and moments use their Taylor series and
    cdf/icdf the uniform's; sampling inverts the cdf of a uniform draw, as PyTorch."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        _check_one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(param).all()):
                raise ValueError("The parameter probs has invalid values")
            param = clamp_probs(param)
        self._param = param
        setattr(self, "probs" if probs is not None else "logits", param)
        self._lims = lims
        super().__init__(_batch_shape_of(given, broadcast=param), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> ContinuousBernoulli:
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = Size(batch_shape)
        _expand_given(self, new, batch_shape)
        return self._validated_copy(new, batch_shape)

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """probs, with those inside the unstable region moved to its lower edge."""
        return retrograd.where(self._outside_unstable_region(), self.probs,
                               self._lims[0] * retrograd.ones_like(self.probs))

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(p): log(|log(1 - p) - log p| / |1 - 2p|), or its Taylor series about 1/2."""
        cut = self._cut_probs()
        below_half = retrograd.where(cut <= 0.5, cut, retrograd.zeros_like(cut))
        above_half = retrograd.where(cut >= 0.5, cut, retrograd.ones_like(cut))
        log_norm = (retrograd.log(retrograd.abs(retrograd.log1p(-cut) - retrograd.log(cut)))
                    - retrograd.where(cut <= 0.5, retrograd.log1p(-2.0 * below_half),
                                      retrograd.log(2.0 * above_half - 1.0)))
        x = retrograd.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return retrograd.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        means = cut / (2.0 * cut - 1.0) + 1.0 / (retrograd.log1p(-cut) - retrograd.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * retrograd.pow(x, 2)) * x
        return retrograd.where(self._outside_unstable_region(), means, taylor)

    @property
    def stddev(self) -> Tensor:
        return retrograd.sqrt(self.variance)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        variances = (cut * (cut - 1.0) / retrograd.pow(1.0 - 2.0 * cut, 2)
                     + 1.0 / retrograd.pow(retrograd.log1p(-cut) - retrograd.log(cut), 2))
        x = retrograd.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return retrograd.where(self._outside_unstable_region(), variances, taylor)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter given (probs or logits)."""
        return self._param.size()

    def sample(self, sample_shape=()) -> Tensor:
        uniforms = retrograd.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype)
        with retrograd.no_grad():
            return self.icdf(uniforms)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.icdf(retrograd.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        bce = retrograd.nn.functional.binary_cross_entropy_with_logits(logits, value, reduction="none")
        return -bce + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = ((retrograd.pow(cut, value) * retrograd.pow(1.0 - cut, 1.0 - value) + cut - 1.0)
                / (2.0 * cut - 1.0))
        unbounded = retrograd.where(self._outside_unstable_region(), cdfs, value)
        return retrograd.where(value <= 0.0, retrograd.zeros_like(value),
                               retrograd.where(value >= 1.0, retrograd.ones_like(value), unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inverted = ((retrograd.log1p(-cut + value * (2.0 * cut - 1.0)) - retrograd.log1p(-cut))
                    / (retrograd.log(cut) - retrograd.log1p(-cut)))
        return retrograd.where(self._outside_unstable_region(), inverted, value)

    def entropy(self):
        log_probs0 = retrograd.log1p(-self.probs)
        log_probs1 = retrograd.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self) -> tuple:
        return (self.logits,)

    def _log_normalizer(self, x):
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = retrograd.where(outside, x, (self._lims[0] - 0.5) * retrograd.ones_like(x))
        log_norm = retrograd.log(retrograd.abs(retrograd.expm1(cut))) - retrograd.log(retrograd.abs(cut))
        taylor = 0.5 * x + retrograd.pow(x, 2) / 24.0 - retrograd.pow(x, 4) / 2880.0
        return retrograd.where(outside, log_norm, taylor)
