"""The half-normal distribution: |X| for X ~ Normal(0, scale)."""

from __future__ import annotations

import math
from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .normal import Normal

__all__ = ["HalfNormal"]


class HalfNormal(Distribution):
    """|X| for X ~ Normal(0, scale): samples are the absolute values of the normal draws.

    PyTorch builds it as a TransformedDistribution of Normal(0, scale) by abs; this one keeps
    the same parameter, draws, values and printout (`HalfNormal()`).
    """

    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args: bool | None = None) -> None:
        self.base_dist = Normal(0, scale, validate_args=False)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> HalfNormal:
        new = self._get_checked_instance(HalfNormal, _instance)
        batch_shape = Size(batch_shape)
        new.base_dist = self.base_dist.expand(batch_shape)
        return self._validated_copy(new, batch_shape)

    @property
    def scale(self) -> Tensor:
        """The scale of the underlying normal distribution."""
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> Tensor:
        return retrograd.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def sample(self, sample_shape=()) -> Tensor:
        with retrograd.no_grad():
            return self.base_dist.sample(sample_shape).abs()

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return retrograd.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
