"""The generalized Pareto distribution: the law of exceedances over a high threshold."""

from __future__ import annotations

import math
from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _batch_shape_of, broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Survival (1 + c z)^(-1/c) with z = (x - loc) / scale and c = `concentration` (exp(-z)
    at c = 0): an exponential tail for c = 0, a Pareto tail for c > 0, bounded above by
    loc - scale / c for c < 0. Drawn by inverting the cdf of a uniform draw, as PyTorch."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive,
                                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        batch_shape = _batch_shape_of(loc, scale, concentration, broadcast=self.loc)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> GeneralizedPareto:
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        return self._validated_copy(new, batch_shape)

    def _safe_concentration(self) -> tuple[Tensor, Tensor]:
        """(where c is 0, c with those entries replaced by 1): the c = 0 limit is taken apart."""
        at_zero = retrograd.isclose(self.concentration, retrograd.zeros_like(self.concentration))
        return at_zero, retrograd.where(at_zero, retrograd.ones_like(self.concentration), self.concentration)

    def _z(self, value: Tensor) -> Tensor:
        return (value - self.loc) / self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        return self.icdf(retrograd.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        at_zero, safe = self._safe_concentration()
        y = 1 / safe + retrograd.ones_like(z)
        nonzero = retrograd.where(y == 0, y, y * retrograd.log1p(safe * z))
        return -self.scale.log() - retrograd.where(at_zero, z, nonzero)

    def log_survival_function(self, value):
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        at_zero, safe = self._safe_concentration()
        return retrograd.where(at_zero, -z, -retrograd.log1p(safe * z) / safe)

    def log_cdf(self, value):
        """log P(X <= value)."""
        return retrograd.log1p(-retrograd.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return retrograd.exp(self.log_cdf(value))

    def icdf(self, value):
        at_zero, safe = self._safe_concentration()
        log_survival = retrograd.log1p(-value)
        nonzero = self.loc + self.scale / safe * retrograd.expm1(-safe * log_survival)
        return retrograd.where(at_zero, self.loc - self.scale * log_survival, nonzero)

    @property
    def mean(self):
        valid = self.concentration < 1
        safe = retrograd.where(valid, self.concentration, 0.5)
        return retrograd.where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe = retrograd.where(valid, self.concentration, 0.25)
        return retrograd.where(valid, self.scale**2 / ((1 - safe) ** 2 * (1 - 2 * safe)), math.nan)

    def entropy(self):
        return retrograd.broadcast_to(retrograd.log(self.scale) + self.concentration + 1, self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = retrograd.where(self.concentration < 0, self.loc - self.scale / self.concentration, math.inf)
        return constraints.interval(self.loc, upper)
