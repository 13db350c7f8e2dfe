"""The Cauchy (Lorentz) distribution."""

from __future__ import annotations

import math
from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _batch_shape_of, broadcast_all

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """Density 1 / (pi scale (1 + ((x - loc) / scale)^2)). rsample: loc + `cauchy_()` * scale."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch_shape_of(loc, scale, broadcast=self.loc), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Cauchy:
        new = self._get_checked_instance(Cauchy, _instance)
        batch_shape = Size(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        return self._validated_copy(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return retrograd.full(self._extended_shape(), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return retrograd.full(self._extended_shape(), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=()) -> Tensor:
        eps = self.loc.new_empty(self._extended_shape(sample_shape)).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        standardised = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (standardised**2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return retrograd.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return retrograd.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
