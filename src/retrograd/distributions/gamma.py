"""The gamma distribution, and the gamma draws Dirichlet and Beta sample through.

Draws are PyTorch's bit for bit (Note [PyTorch's gamma draws] in retrograd.random). Their
gradient with respect to the concentration is the implicit reparameterisation one, computed
exactly (`_special._standard_gamma_grad_array`); PyTorch's is an approximation of the same
quantity, within about 6e-4 relative of it.
"""

from __future__ import annotations

from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from ..autograd.function import Function, once_differentiable
from ..random import rejection as _random_draws
from . import _special, constraints
from ._special import digamma, lgamma
from .exp_family import ExponentialFamily
from .utils import _batch_shape_of, broadcast_all

__all__ = ["Gamma"]


class _StandardGamma(Function):
    """Gamma(alpha, 1) draws, differentiable in alpha (implicit reparameterisation)."""

    @staticmethod
    def forward(ctx, alpha):
        draws = Tensor._make(_random_draws._gamma(None, alpha._data))
        ctx.save_for_backward(alpha, draws)
        return draws

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        alpha, draws = ctx.saved_tensors
        slope = _special._standard_gamma_grad_array(draws._data, alpha._data)
        return grad * Tensor._make(slope.astype(alpha._data.dtype))


def _standard_gamma(alpha: Tensor) -> Tensor:
    """Gamma(alpha, 1) draws of alpha's shape, as `torch._standard_gamma`."""
    return _StandardGamma.apply(alpha)


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
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=retrograd.finfo(value.dtype).tiny)  # in place, outside the graph
        return value

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
