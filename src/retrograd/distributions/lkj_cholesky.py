"""The LKJ distribution over Cholesky factors of correlation matrices."""

from __future__ import annotations

import math
from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from ._special import lgamma
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


def _mvlgamma(x: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma: p(p-1)/4 log(pi) + sum_j lgamma(x - j/2), j = 0..p-1."""
    shifts = retrograd.arange(p, dtype=x.dtype) / 2
    return p * (p - 1) / 4 * math.log(math.pi) + lgamma(x.unsqueeze(-1) - shifts).sum(-1)


class LKJCholesky(Distribution):
    """Lower Cholesky factors L of dim x dim correlation matrices, with density proportional
    to det(L L^T)^(concentration - 1). Sampled by the onion method, as PyTorch: row i takes a
    Beta draw y_i as its squared length below the diagonal and a uniform direction from
    normalised normal draws; the diagonal fills the row to unit length."""

    arg_constraints: ClassVar[dict] = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal = self.concentration + 0.5 * (self.dim - 2)
        offset = retrograd.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = retrograd.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None) -> LKJCholesky:
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand((*batch_shape, self.dim))
        return self._validated_copy(new, batch_shape)

    def sample(self, sample_shape=()) -> Tensor:
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        normals = retrograd.randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
        directions = normals / normals.norm(dim=-1, keepdim=True)
        directions[..., 0, :].fill_(0.0)  # the first row's 0/0
        w = retrograd.sqrt(y) * directions
        diagonal = retrograd.clamp(1 - retrograd.sum(w**2, dim=-1), min=retrograd.finfo(w.dtype).tiny).sqrt()
        return w + retrograd.diag_embed(diagonal)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = retrograd.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalised = retrograd.sum(order * diagonal.log(), dim=-1)
        rank = self.dim - 1
        alpha = self.concentration + 0.5 * rank
        normaliser = 0.5 * rank * math.log(math.pi) + _mvlgamma(alpha - 0.5, rank) - lgamma(alpha) * rank
        return unnormalised - normaliser
