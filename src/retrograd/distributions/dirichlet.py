"""The Dirichlet distribution over the probability simplex."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import retrograd

from .._tensor import Size, Tensor
from ..autograd.function import Function, once_differentiable
from ..random import rejection as _random_draws
from . import _special, constraints
from ._special import digamma, lgamma
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class _DirichletDraws(Function):
    """Dirichlet draws x = g / sum(g) of gamma draws g, with the gradient through g: each
    g_j moves with alpha_j by the implicit reparameterisation slope s_j, so
    d loss / d alpha_j = (grad_j - sum_i grad_i x_i) s_j / sum(g). PyTorch differentiates
    its draws another way (through each coordinate's Beta marginal): the same expectation,
    other per-draw values."""

    @staticmethod
    def forward(ctx, concentration):
        draws, gammas = _random_draws._dirichlet(None, concentration._data)
        draws = Tensor._make(draws)
        ctx.save_for_backward(concentration, draws)
        ctx.gammas = gammas
        return draws

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        concentration, draws = ctx.saved_tensors
        gammas = ctx.gammas
        slopes = _special._standard_gamma_grad_array(gammas, concentration._data.astype(np.float64))
        grad_values = grad._data.astype(np.float64)
        centred = grad_values - (grad_values * draws._data).sum(-1, keepdims=True)
        result = centred * slopes / gammas.sum(-1, keepdims=True)
        return Tensor._make(result.astype(concentration._data.dtype))


class Dirichlet(ExponentialFamily):
    """A distribution over the probability simplex: density prod x_i^(a_i - 1) / B(a), with
    a = `concentration` (its last dimension is the event)."""

    arg_constraints: ClassVar[dict] = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Dirichlet:
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        return self._validated_copy(new, batch_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """Draws on the simplex, PyTorch's bit for bit: normalised gamma draws, differentiable
        in the concentration through those gamma draws (see _DirichletDraws)."""
        return _DirichletDraws.apply(self.concentration.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        concentration = self.concentration
        return (retrograd.xlogy(concentration - 1.0, value).sum(-1)
                + lgamma(concentration.sum(-1)) - lgamma(concentration).sum(-1))

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self) -> Tensor:
        above_one = (self.concentration - 1).clamp(min=0.0)
        mode = above_one / above_one.sum(-1, True)
        all_below_one = (self.concentration < 1).all(dim=-1)
        corners = retrograd.nn.functional.one_hot(mode[all_below_one].argmax(dim=-1), above_one.shape[-1])
        mode[all_below_one] = corners.to(mode)
        return mode

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self):
        concentration = self.concentration
        k = concentration.size(-1)
        total = concentration.sum(-1)
        return (lgamma(concentration).sum(-1) - lgamma(total) - (k - total) * digamma(total)
                - ((concentration - 1.0) * digamma(concentration)).sum(-1))

    @property
    def _natural_params(self) -> tuple:
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
