"""Probability distributions with PyTorch's API (`retrograd.distributions`, as
`torch.distributions`): sampling, log-densities, moments, entropies and KL divergences,
written with retrograd's differentiable operations so gradients reach the parameters.

    >>> import retrograd as torch
    >>> from retrograd.distributions import Categorical, Normal
    >>> Normal(0.0, 1.0)
    Normal(loc: 0.0, scale: 1.0)
    >>> _ = torch.manual_seed(0)
    >>> policy = Categorical(probs=torch.tensor([0.25, 0.75]))
    >>> action = policy.sample()
    >>> policy.log_prob(action)
    tensor(-0.2877)

Note [Drawing as PyTorch draws]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
A seeded program samples here the numbers PyTorch samples, because each sampler calls the
random operation PyTorch's calls, on a tensor of the same shape (retrograd.random draws those
bit for bit): Normal.sample `normal(loc.expand(shape), scale.expand(shape))`; every rsample of
the normal families `empty(shape).normal_()` then loc + eps * scale (MultivariateNormal: loc +
L eps); Bernoulli `bernoulli(probs.expand(shape))`; Categorical `multinomial(probs_2d, n, True)`
transposed (OneHotCategorical one-hot encodes it); Uniform `rand(shape)`; Exponential
`exponential_()`; Laplace `uniform_(eps - 1, 1)`. The gamma family, Binomial and Poisson need
samplers retrograd lacks, and say so.
"""

from __future__ import annotations

from . import constraints, kl, utils
from .continuous import Exponential, Laplace, Uniform
from .discrete import (
    Bernoulli,
    Binomial,
    Categorical,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
    Poisson,
)
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Beta, Dirichlet, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import LogNormal, Normal

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Dirichlet",
    "Distribution",
    "Exponential",
    "ExponentialFamily",
    "Gamma",
    "Independent",
    "Laplace",
    "LogNormal",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Poisson",
    "Uniform",
    "constraints",
    "kl",
    "kl_divergence",
    "register_kl",
    "utils",
]
