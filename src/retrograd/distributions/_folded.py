"""What HalfNormal and HalfCauchy share: |X| for X symmetric about 0, so the density is
twice the base density on [0, inf)."""

from __future__ import annotations

import math

import retrograd

from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform


class _Folded(TransformedDistribution):
    """|X| for X ~ `base_dist`, symmetric about 0 (not a public class)."""

    has_rsample = True

    def __init__(self, base_dist, validate_args: bool | None = None) -> None:
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    @property
    def scale(self):
        """The scale of the distribution folded."""
        return self.base_dist.scale

    @property
    def mode(self):
        return retrograd.zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = retrograd.as_tensor(value, dtype=self.scale.dtype)
        doubled = self.base_dist.log_prob(value) + math.log(2)
        return retrograd.where(value >= 0, doubled, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
