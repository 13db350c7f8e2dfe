"""The geometric distribution: the number of failures before the first success."""

from __future__ import annotations

from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    BinaryProbabilities,
    _batch_shape_of,
    _check_one_of,
    _expand_given,
    broadcast_all,
)

__all__ = ["Geometric"]


class Geometric(BinaryProbabilities, Distribution):
    """P(k) = (1 - p)^k p for k = 0, 1, ..., with p = `probs` (or sigmoid of `logits`), p > 0.
    sample: u = `uniform_(tiny, 1)`, then floor(log(u) / log1p(-p))."""

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        _check_one_of(probs, logits)
        given = probs if probs is not None else logits
        (self._param,) = broadcast_all(given)
        setattr(self, "probs" if probs is not None else "logits", self._param)
        if probs is not None and (self._validate_args if validate_args is None else validate_args):
            self._check_positive(self._param)
        super().__init__(_batch_shape_of(given, broadcast=self._param), validate_args=validate_args)

    def _check_positive(self, probs: Tensor) -> None:
        """p = 0 never succeeds: PyTorch refuses it before the unit-interval check."""
        positive = probs > 0
        if not positive.all():
            raise ValueError(
                f"Expected parameter probs ({type(probs).__name__} of shape {tuple(probs.shape)}) "
                f"of distribution {self!r} to be positive but found invalid values:\n"
                f"{probs.detach()[~positive]}"
            )

    def expand(self, batch_shape, _instance=None) -> Geometric:
        new = self._get_checked_instance(Geometric, _instance)
        batch_shape = Size(batch_shape)
        _expand_given(self, new, batch_shape)
        return self._validated_copy(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return retrograd.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()) -> Tensor:
        tiny = retrograd.finfo(self.probs.dtype).tiny
        with retrograd.no_grad():
            unit = self.probs.new_empty(self._extended_shape(sample_shape)).uniform_(tiny, 1)
            return (unit.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.clone()
        probs[(probs == 1) & (value == 0)] = 0  # 0 * log(0) is 0 here
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        cross_entropy = retrograd.nn.functional.binary_cross_entropy_with_logits(
            self.logits, self.probs, reduction="none")
        return cross_entropy / self.probs
