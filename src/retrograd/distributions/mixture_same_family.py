"""`MixtureSameFamily`: a mixture of components of one family, picked by a Categorical."""

from __future__ import annotations

from typing import ClassVar

import retrograd

from .._tensor import Size, Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


def _check_batch_shapes(mixture_shape: Size, component_shape: Size) -> None:
    for mixture_size, component_size in zip(reversed(mixture_shape), reversed(component_shape)):
        if mixture_size != 1 and component_size != 1 and mixture_size != component_size:
            raise ValueError(f"`mixture_distribution.batch_shape` ({mixture_shape}) is not compatible with "
                             f"`component_distribution.batch_shape`({component_shape})")


class MixtureSameFamily(Distribution):
    """Draw a component index from `mixture_distribution` (a Categorical over the last batch
    dimension of `component_distribution`), then a value from that component. Its density is
    the probability-weighted sum of the components' (no rsample: the index is discrete)."""

    arg_constraints: ClassVar[dict] = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution,
                 validate_args: bool | None = None) -> None:
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "retrograd.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution needs to be an instance of "
                             "retrograd.distributions.Distribution")
        component_batch_shape = component_distribution.batch_shape[:-1]
        _check_batch_shapes(mixture_distribution.batch_shape, component_batch_shape)
        mixture_count = mixture_distribution.logits.shape[-1]
        component_count = component_distribution.batch_shape[-1]
        if mixture_count != component_count:
            raise ValueError(f"`mixture_distribution component` ({mixture_count}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({component_count})")
        self._num_component = mixture_count
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(component_batch_shape, component_distribution.event_shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> MixtureSameFamily:
        batch_shape = Size(batch_shape)
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        new._component_distribution = self._component_distribution.expand((*batch_shape, self._num_component))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component = self._num_component
        new._event_ndims = self._event_ndims
        Distribution.__init__(new, batch_shape, new._component_distribution.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self) -> Categorical:
        """The Categorical that picks the component."""
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        """The components, along the last batch dimension."""
        return self._component_distribution

    @property
    def _component_dim(self) -> int:
        return -1 - self._event_ndims

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return retrograd.sum(probs * self.component_distribution.mean, dim=self._component_dim)

    @property
    def variance(self) -> Tensor:
        """The law of total variance: mean of the variances plus variance of the means."""
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        mean_of_variances = retrograd.sum(probs * self.component_distribution.variance,
                                          dim=self._component_dim)
        spread = (self.component_distribution.mean - self._pad(self.mean)).pow(2.0)
        return mean_of_variances + retrograd.sum(probs * spread, dim=self._component_dim)

    def cdf(self, x):
        weighted = self.component_distribution.cdf(self._pad(x)) * self.mixture_distribution.probs
        return retrograd.sum(weighted, dim=-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self.component_distribution.log_prob(self._pad(x))
        log_mix_prob = retrograd.log_softmax(self.mixture_distribution.logits, dim=-1)
        return retrograd.logsumexp(log_prob_x + log_mix_prob, dim=-1)

    def sample(self, sample_shape=()) -> Tensor:
        """The mixture's draws first, then every component's; each draw keeps its picked one."""
        with retrograd.no_grad():
            gather_dim = len(sample_shape) + len(self.batch_shape)
            event_shape = tuple(self.event_shape)
            picks = self.mixture_distribution.sample(sample_shape)
            components = self.component_distribution.sample(sample_shape)
            index = picks.reshape(tuple(picks.shape) + (1,) * (len(event_shape) + 1))
            index = index.repeat((1,) * picks.dim() + (1,) + event_shape)
            return retrograd.gather(components, gather_dim, index).squeeze(gather_dim)

    def _pad(self, x: Tensor) -> Tensor:
        return x.unsqueeze(self._component_dim)

    def _pad_mixture_dimensions(self, x: Tensor) -> Tensor:
        """Mixture probabilities shaped to broadcast against the components' moments."""
        batch_ndims = len(self.batch_shape)
        mixture_batch_ndims = len(self.mixture_distribution.batch_shape)
        pad_ndims = 0 if mixture_batch_ndims == 1 else batch_ndims - mixture_batch_ndims
        shape = tuple(x.shape)
        return x.reshape(shape[:-1] + (1,) * pad_ndims + shape[-1:] + (1,) * self._event_ndims)

    def __repr__(self) -> str:
        return f"MixtureSameFamily(\n  {self.mixture_distribution},\n  {self.component_distribution})"
