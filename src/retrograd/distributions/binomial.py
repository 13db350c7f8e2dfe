"""The binomial distribution: successes among `total_count` trials."""

from __future__ import annotations

from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from ..random import rejection as _random_draws
from . import _special, constraints
from .distribution import Distribution
from .utils import (
    BinaryProbabilities,
    _check_one_of,
    _enumerated,
    _expand_given,
    broadcast_all,
)

__all__ = ["Binomial"]


def _clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with the gradient 1/2 at 0."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2



class Binomial(BinaryProbabilities, Distribution):
    """The number of successes in `total_count` trials of probability `probs` (or sigmoid of
    `logits`)."""

    arg_constraints: ClassVar[dict] = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args: bool | None = None) -> None:
        _check_one_of(probs, logits)
        given = probs if probs is not None else logits
        total_count, self._param = broadcast_all(total_count, given)
        self.total_count = total_count.type_as(self._param)
        setattr(self, "probs" if probs is not None else "logits", self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Binomial:
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        _expand_given(self, new, batch_shape)
        return self._validated_copy(new, batch_shape)

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter given (probs or logits)."""
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        """PyTorch's draws bit for bit (Note [PyTorch's binomial draws] in retrograd.random)."""
        shape = self._extended_shape(sample_shape)
        counts = self.total_count.expand(shape).detach().numpy()
        return Tensor._make(_random_draws._binomial(None, counts, self.probs.expand(shape).detach().numpy()))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_factorial_n = _special.lgamma(n + 1)
        log_factorial_k = _special.lgamma(value + 1)
        log_factorial_n_minus_k = _special.lgamma(n - value + 1)
        # n log(1 + e^logits), written so that no exp overflows
        normalizer = n * _clamp_by_zero(logits) + n * retrograd.log1p(retrograd.exp(-retrograd.abs(logits)))
        normalizer = normalizer - log_factorial_n
        return value * logits - log_factorial_k - log_factorial_n_minus_k - normalizer

    def _homogeneous_count(self, method: str) -> int:
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{method}`.")
        return total_count

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(retrograd.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total_count = self._homogeneous_count("enumerate_support")
        values = retrograd.arange(1 + total_count, dtype=self._param.dtype)
        return _enumerated(values, self._batch_shape, expand)
