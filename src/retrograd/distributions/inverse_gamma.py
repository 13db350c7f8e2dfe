"""The inverse-gamma distribution: 1 / X for X ~ Gamma(concentration, rate)."""

from __future__ import annotations

import math
from typing import ClassVar

import retrograd

from .._tensor import Tensor
from . import constraints
from ._special import digamma, lgamma
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """Density rate^c x^(-c-1) exp(-rate / x) / Gamma(c), c = `concentration`."""

    arg_constraints: ClassVar[dict] = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(base_dist, PowerTransform(-base_dist.rate.new_ones(())), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> InverseGamma:
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self) -> Tensor:
        """The shape parameter c."""
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        """The scale parameter (the rate of the gamma inverted)."""
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        return retrograd.where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        value = self.rate.square() / ((self.concentration - 1).square() * (self.concentration - 2))
        return retrograd.where(self.concentration > 2, value, math.inf)

    def entropy(self):
        c = self.concentration
        return c + self.rate.log() + lgamma(c) - (1 + c) * digamma(c)
