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
`exponential_()`; Laplace `uniform_(eps - 1, 1)`; Cauchy `cauchy_()`; Geometric
`uniform_(tiny, 1)`; Multinomial `total_count` Categorical draws; Gamma `_standard_gamma`,
Dirichlet and Beta `_sample_dirichlet` (Note [PyTorch's gamma draws] in retrograd.random);
Binomial `binomial` (Note [PyTorch's binomial draws]); Poisson `poisson` (Note [PyTorch's
Poisson draws]), NegativeBinomial `poisson` of gamma draws. A TransformedDistribution draws
from its base and pushes the draws through its transforms (Gumbel, Pareto, Weibull,
Kumaraswamy, LogNormal, HalfNormal, HalfCauchy, InverseGamma, LogisticNormal, the relaxed
families); StudentT normals then chi-squared (gamma) draws; FisherSnedecor two gamma draws;
ContinuousBernoulli and GeneralizedPareto invert their cdf at `rand(shape)`; VonMises
rejects in rounds of `rand((3, *shape))` in double.

One module per family, named as PyTorch's (`from retrograd.distributions.categorical import
Categorical` works as with torch).
"""

from __future__ import annotations

from . import constraint_registry, constraints, kl, transforms, utils
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "CatTransform",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "ContinuousBernoulli",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "Dirichlet",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "ExponentialFamily",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "LowerCholeskyTransform",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
    "biject_to",
    "constraint_registry",
    "constraints",
    "identity_transform",
    "kl",
    "kl_divergence",
    "register_kl",
    "transform_to",
    "transforms",
    "utils",
]
