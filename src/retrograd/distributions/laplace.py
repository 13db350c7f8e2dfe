"""The Laplace (double exponential) distribution."""

from __future__ import annotations

from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _batch_shape_of, broadcast_all

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Density exp(-|x - loc| / scale) / (2 scale). rsample: u uniform on (eps - 1, 1), then
    loc - scale * sign(u) * log1p(-|u|)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(_batch_shape_of(loc, scale, broadcast=self.loc), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Laplace:
        new = self._get_checked_instance(Laplace, _instance)
        batch_shape = Size(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        return self._validated_copy(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return (2**0.5) * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        eps = retrograd.finfo(self.loc.dtype).eps
        unit = self.loc.new_empty(self._extended_shape(sample_shape)).uniform_(eps - 1, 1)
        return self.loc - self.scale * unit.sign() * retrograd.log1p(-unit.abs())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -retrograd.log(2 * self.scale) - retrograd.abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        centred = value - self.loc
        return 0.5 - 0.5 * centred.sign() * retrograd.expm1(-centred.abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * retrograd.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + retrograd.log(2 * self.scale)
