"""The negative binomial distribution: failures before `total_count` successes."""

from __future__ import annotations

from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from ._special import lgamma
from .distribution import Distribution
from .gamma import Gamma
from .utils import (
    BinaryProbabilities,
    _check_one_of,
    _expand_given,
    broadcast_all,
    lazy_property,
)

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryProbabilities, Distribution):
    """The number of successes, each of probability `probs`, before `total_count` failures.
    Drawn as PyTorch draws it: a Poisson draw whose rate is a gamma draw."""

    arg_constraints: ClassVar[dict] = {"total_count": constraints.greater_than_eq(0),
                                       "probs": constraints.half_open_interval(0.0, 1.0),
                                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args: bool | None = None) -> None:
        _check_one_of(probs, logits)
        name = "probs" if probs is not None else "logits"
        total_count, self._param = broadcast_all(total_count, probs if probs is not None else logits)
        self.total_count = total_count.type_as(self._param)
        setattr(self, name, self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> NegativeBinomial:
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        _expand_given(self, new, batch_shape)
        return self._validated_copy(new, batch_shape)

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    @property
    def mean(self) -> Tensor:
        return self.total_count * retrograd.exp(self.logits)

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / retrograd.sigmoid(-self.logits)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter given (probs or logits)."""
        return self._param.size()

    @lazy_property
    def _gamma(self) -> Gamma:
        return Gamma(concentration=self.total_count, rate=retrograd.exp(-self.logits), validate_args=False)

    def sample(self, sample_shape=()) -> Tensor:
        with retrograd.no_grad():
            return retrograd.poisson(self._gamma.sample(sample_shape=sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logsigmoid = retrograd.nn.functional.logsigmoid
        unnormalised = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normaliser = -lgamma(self.total_count + value) + lgamma(1.0 + value) + lgamma(self.total_count)
        normaliser = normaliser.masked_fill(self.total_count + value == 0.0, 0.0)
        return unnormalised - normaliser
