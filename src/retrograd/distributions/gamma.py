"""The gamma distribution, with its density, moments and entropy through log-gamma and
digamma (`_special`).

Its sampler, and those of Dirichlet and Beta, draw gamma variates (PyTorch's `_standard_gamma`,
a rejection sampler with a reparameterised gradient), which retrograd does not have yet:
`sample`/`rsample` raise NotImplementedError saying so.
"""

from __future__ import annotations

from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from ._special import digamma, lgamma
from .exp_family import ExponentialFamily
from .utils import _batch_shape_of, _not_drawn, broadcast_all

__all__ = ["Gamma"]

_GAMMA_DRAWS = "gamma draws (PyTorch's _standard_gamma)"


class Gamma(ExponentialFamily):
    """Density rate^c x^(c-1) exp(-rate x) / Gamma(c), with c = `concentration`."""

    arg_constraints: ClassVar[dict] = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch_shape = _batch_shape_of(concentration, rate, broadcast=self.concentration)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Gamma:
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        return self._validated_copy(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        _not_drawn("Gamma", _GAMMA_DRAWS)

    def log_prob(self, value):
        value = retrograd.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (retrograd.xlogy(self.concentration, self.rate)
                + retrograd.xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        concentration = self.concentration
        return (concentration - retrograd.log(self.rate) + lgamma(concentration)
                + (1.0 - concentration) * digamma(concentration))

    @property
    def _natural_params(self) -> tuple:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * retrograd.log(-y.reciprocal())
