"""KL divergence KL(p || q) between two distributions: `kl_divergence(p, q)`, with the closed
forms registered per pair of types by `@register_kl(type_p, type_q)`.

Note [Choosing a KL formula]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~
Every registered pair whose types are superclasses of (type(p), type(q)) matches. The most
specific wins: the one closest to type(p) in its method resolution order, ties broken by
closeness to type(q). When preferring q first would choose another formula, the choice is
ambiguous: a RuntimeWarning names the pair to register. Choices are remembered per pair of
types until `register_kl` is called again.
"""

from __future__ import annotations

import math
import warnings

import retrograd

from .._tensor import Tensor
from ._special import digamma, lgamma
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .laplace import Laplace
from .log_normal import LogNormal
from .lowrank_multivariate_normal import (
    LowRankMultivariateNormal,
    _batch_lowrank_logdet,
    _batch_lowrank_mahalanobis,
)
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .pareto import Pareto
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .utils import _sum_rightmost, euler_constant

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}  # (type_p, type_q) -> function, as registered
_KL_MEMOIZE: dict = {}  # (type(p), type(q)) -> the function chosen for them


def register_kl(type_p, type_q):
    """Decorator: `@register_kl(MyNormal, Normal)` over a function `f(p, q)` makes
    `kl_divergence` use it for p of type_p (or a subclass) and q of type_q (or a subclass)."""
    for name, given in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(given, type) and issubclass(given, Distribution)):
            raise TypeError(f"Expected {name} to be a Distribution subclass but got {given}")

    def decorator(function):
        _KL_REGISTRY[type_p, type_q] = function
        _KL_MEMOIZE.clear()
        return function

    return decorator


def _dispatch_kl(type_p, type_q):
    """The registered function for the pair, by Note [Choosing a KL formula]."""
    matches = [(super_p, super_q) for super_p, super_q in _KL_REGISTRY
               if issubclass(type_p, super_p) and issubclass(type_q, super_q)]
    if not matches:
        return NotImplemented

    def distance(match):
        return type_p.__mro__.index(match[0]), type_q.__mro__.index(match[1])

    left = min(matches, key=distance)
    right = min(matches, key=lambda match: distance(match)[::-1])
    if _KL_REGISTRY[left] is not _KL_REGISTRY[right]:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                      f"Please register_kl({left[0].__name__}, {right[1].__name__})",
                      RuntimeWarning, stacklevel=3)
    return _KL_REGISTRY[left]


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) = E_p[log p(x) - log q(x)], batched over the distributions' batch shape.

    Raises NotImplementedError when no formula is registered for the two types.
    """
    key = (type(p), type(q))
    if key not in _KL_MEMOIZE:
        _KL_MEMOIZE[key] = _dispatch_kl(*key)
    function = _KL_MEMOIZE[key]
    if function is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} "
                                  f"and q type {type(q).__name__}")
    return function(p, q)


def _infinite_like(tensor: Tensor) -> Tensor:
    return retrograd.full_like(tensor, math.inf)


def _x_log_x(tensor: Tensor) -> Tensor:
    return retrograd.xlogy(tensor, tensor)  # 0 at 0


def _set_where(values: Tensor, mask: Tensor, fill: float) -> Tensor:
    values[mask.expand_as(values)] = fill
    return values


def _batch_trace_XXT(matrices: Tensor) -> Tensor:
    """trace(X X^T) of each matrix: the sum of its squared entries."""
    rows, columns = matrices.size(-2), matrices.size(-1)
    return matrices.reshape(-1, rows * columns).pow(2).sum(-1).reshape(matrices.shape[:-2])


# ---------------------------------------------------------------------------
# Same family


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    softplus = retrograd.nn.functional.softplus
    ones = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    ones = _set_where(_set_where(ones, q.probs == 0, math.inf), p.probs == 0, 0)
    zeros = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    zeros = _set_where(_set_where(zeros, q.probs == 1, math.inf), p.probs == 1, 0)
    return ones + zeros


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    total_p = p.concentration1 + p.concentration0
    total_q = q.concentration1 + q.concentration0
    log_beta_q = lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(total_p)
    log_beta_p = lgamma(p.concentration1) + lgamma(p.concentration0) + lgamma(total_q)
    return (log_beta_q - log_beta_p
            + (p.concentration1 - q.concentration1) * digamma(p.concentration1)
            + (p.concentration0 - q.concentration0) * digamma(p.concentration0)
            + (total_q - total_p) * digamma(total_p))


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if (p.total_count < q.total_count).any():
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _set_where(kl, p.total_count > q.total_count, math.inf)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    terms = p.probs * (p.logits - q.logits)
    terms = _set_where(_set_where(terms, q.probs == 0, math.inf), p.probs == 0, 0)
    return terms.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    total_p = p.concentration.sum(-1)
    total_q = q.concentration.sum(-1)
    log_normalizers = lgamma(total_p) - lgamma(total_q)
    log_gammas = (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1)
    expected_logs = digamma(p.concentration) - digamma(total_p).unsqueeze(-1)
    return log_normalizers - log_gammas + ((p.concentration - q.concentration) * expected_logs).sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return -rate_ratio.log() + rate_ratio - 1


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    """The Bregman divergence of the log normaliser, for two members of one family."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families "
                                  "cannot be computed using Bregman divergences")
    p_params = [param.detach().requires_grad_() for param in p._natural_params]
    q_params = q._natural_params
    with retrograd.enable_grad():
        p_log_normalizer = p._log_normalizer(*p_params)
        gradients = retrograd.autograd.grad(p_log_normalizer.sum(), p_params, create_graph=True)
    result = q._log_normalizer(*q_params) - p_log_normalizer
    for p_param, q_param, gradient in zip(p_params, q_params, gradients):
        result = result - _sum_rightmost((q_param - p_param) * gradient, len(q.event_shape))
    return result


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    return (q.concentration * (p.rate / q.rate).log()
            + lgamma(q.concentration) - lgamma(p.concentration)
            + (p.concentration - q.concentration) * digamma(p.concentration)
            + (q.rate - p.rate) * (p.concentration / p.rate))


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    spread = ((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)).log()
    return spread - (4 * p.scale * q.scale).log()


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - retrograd.log1p(-q.probs) / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            "KL between Independent distributions needs equal reinterpreted_batch_ndims")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_distance = (p.loc - q.loc).abs()
    overlap = scale_ratio * retrograd.exp(-loc_distance / p.scale)
    return -scale_ratio.log() + loc_distance / q.scale + overlap - 1


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes "
                         "cannot be computed")
    p_factor, q_factor = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_log_det_ratio = (q_factor.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                          - p_factor.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    n = p.event_shape[0]
    batch_shape = retrograd.broadcast_shapes(q_factor.shape[:-2], p_factor.shape[:-2])
    whitened = retrograd.linalg.solve_triangular(q_factor.expand((*batch_shape, n, n)),
                                                 p_factor.expand((*batch_shape, n, n)), upper=False)
    trace = _batch_trace_XXT(whitened)
    mahalanobis = _batch_mahalanobis(q_factor, q.loc - p.loc)
    return half_log_det_ratio + 0.5 * (trace + mahalanobis - n)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    variance_ratio = (p.scale / q.scale).pow(2)
    distance = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (variance_ratio + distance - 1 - variance_ratio.log())


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _set_where(result, (q.low > p.low) | (q.high < p.high), math.inf)


# ---------------------------------------------------------------------------
# Across families


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * (p.concentration1 / (p.concentration1 + p.concentration0))


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    total = p.concentration1 + p.concentration0
    expected_log = digamma(p.concentration1) - digamma(total)
    return (-p.entropy() + lgamma(q.concentration) - q.concentration * q.rate.log()
            - (q.concentration - 1) * expected_log + q.rate * p.concentration1 / total)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    mean = p.concentration1 / (p.concentration1 + p.concentration0)
    variance = q.scale.pow(2)
    second_moment = (mean * (1 - mean) / (p.concentration1 + p.concentration0 + 1) + mean.pow(2)) * 0.5
    log_normalizer = 0.5 * (variance * 2 * math.pi).log()
    return -p.entropy() + log_normalizer + (second_moment - q.loc * mean + q.loc.pow(2) * 0.5) / variance


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    outside = (q.low > p.support.lower_bound) | (q.high < p.support.upper_bound)
    return _set_where(result, outside, math.inf)


@register_kl(Exponential, Beta)
@register_kl(Exponential, Uniform)
def _kl_exponential_infinity(p, q):
    return _infinite_like(p.rate)


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    return (-q.concentration * retrograd.log(ratio) + ratio + lgamma(q.concentration)
            + q.concentration * euler_constant - (1 + euler_constant))


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    variance = q.scale.pow(2)
    rate_squared = p.rate.pow(2)
    log_term = 0.5 * retrograd.log(rate_squared * variance * 2 * math.pi)
    return log_term - 1 + (rate_squared.reciprocal() - q.loc / p.rate + q.loc.pow(2) * 0.5) / variance


@register_kl(Gamma, Beta)
@register_kl(Gamma, Uniform)
def _kl_gamma_infinity(p, q):
    return _infinite_like(p.concentration)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    variance = q.scale.pow(2)
    rate_squared = p.rate.pow(2)
    concentration = p.concentration
    first = 0.5 * retrograd.log(rate_squared * variance * 2 * math.pi) - concentration - lgamma(concentration)
    second_moment = 0.5 * (concentration.pow(2) + concentration) / rate_squared
    cross = q.loc * concentration / p.rate
    return (first + (concentration - 1) * digamma(concentration)
            + (second_moment - cross + 0.5 * q.loc.pow(2)) / variance)


@register_kl(Laplace, Beta)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Uniform)
def _kl_laplace_infinity(p, q):
    return _infinite_like(p.loc)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    variance = q.scale.pow(2)
    scale_ratio = p.scale.pow(2) / variance
    log_term = 0.5 * retrograd.log(2 * scale_ratio / math.pi)
    return -log_term + scale_ratio + (0.5 * p.loc.pow(2) - p.loc * q.loc + 0.5 * q.loc.pow(2)) / variance - 1


@register_kl(Normal, Beta)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Uniform)
def _kl_normal_infinity(p, q):
    return _infinite_like(p.loc)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    loc_difference = p.loc - q.loc
    standardised = loc_difference / p.scale
    spread = math.sqrt(2 / math.pi) * p.scale * retrograd.exp(-0.5 * standardised.pow(2))
    shift = loc_difference * retrograd.erf(math.sqrt(0.5) * standardised)
    constant = 0.5 * (1 + math.log(0.5 * math.pi))
    return -retrograd.log(p.scale / q.scale) + (spread + shift) / q.scale - constant


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_infinity(p, q):
    return _infinite_like(p.rate)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    log_width = retrograd.log(width)
    ones_term = (q.concentration1 - 1) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    zeros_term = (q.concentration0 - 1) * (_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    log_beta = (lgamma(q.concentration1) + lgamma(q.concentration0)
                - lgamma(q.concentration1 + q.concentration0))
    result = zeros_term + log_beta - log_width - ones_term
    outside = (p.high > q.support.upper_bound) | (p.low < q.support.lower_bound)
    return _set_where(result, outside, math.inf)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return _set_where(result, p.low < q.support.lower_bound, math.inf)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    width = p.high - p.low
    log_normalizer = lgamma(q.concentration) - q.concentration * q.rate.log()
    expected_log = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    expected_value = (p.high + p.low) / 2
    result = -width.log() + log_normalizer + (1 - q.concentration) * expected_log + q.rate * expected_value
    return _set_where(result, p.low < q.support.lower_bound, math.inf)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    width = p.high - p.low
    log_term = (math.sqrt(math.pi * 2) * q.scale / width).log()
    centre_distance = ((p.high + p.low - 2 * q.loc) / 2).pow(2)
    return log_term + 0.5 * (width.pow(2) / 12 + centre_distance) / q.scale.pow(2)


# ---------------------------------------------------------------------------
# The families built on transforms, ContinuousBernoulli and LowRankMultivariateNormal


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    """The base distributions' KL, when both push them through equal transforms."""
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    return (p.mean * (p.logits - q.logits) + p._cont_bern_log_norm() + retrograd.log1p(-p.probs)
            - q._cont_bern_log_norm() - retrograd.log1p(-q.probs))


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    scale_ratio = p.scale / q.scale
    q_loc_ratio, p_loc_ratio = q.loc / q.scale, p.loc / q.scale
    return (-scale_ratio.log() - q_loc_ratio + p_loc_ratio + scale_ratio * euler_constant
            + retrograd.exp(q_loc_ratio + lgamma(1 + scale_ratio) - p_loc_ratio) - (1 + euler_constant))


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    return retrograd.where(p.support.lower_bound < q.support.lower_bound, math.inf, result)


def _lowrank_trace_terms(q) -> Tensor:
    """A = chol(capacitance of q)^-1 W_q^T D_q^-1, whose products give q's precision's traces."""
    Wt_Dinv = q._unbroadcasted_cov_factor.mT / q._unbroadcasted_cov_diag.unsqueeze(-2)
    return retrograd.linalg.solve_triangular(q._capacitance_tril, Wt_Dinv, upper=False)


def _lowrank_log_det(distribution) -> Tensor:
    return _batch_lowrank_logdet(distribution._unbroadcasted_cov_factor, distribution._unbroadcasted_cov_diag,
                                 distribution._capacitance_tril)


def _check_same_event(p, q, what: str) -> None:
    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two {what} with different event shapes cannot be computed")


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrankmultivariatenormal_lowrankmultivariatenormal(p, q):
    _check_same_event(p, q, "Low Rank Multivariate Normals")
    mahalanobis = _batch_lowrank_mahalanobis(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag,
                                             q.loc - p.loc, q._capacitance_tril)
    A = _lowrank_trace_terms(q)
    trace = ((p._unbroadcasted_cov_diag / q._unbroadcasted_cov_diag).sum(-1)
             + _batch_trace_XXT(p._unbroadcasted_cov_factor * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1))
             - _batch_trace_XXT(A * p._unbroadcasted_cov_diag.sqrt().unsqueeze(-2))
             - _batch_trace_XXT(A.matmul(p._unbroadcasted_cov_factor)))
    return 0.5 * (_lowrank_log_det(q) - _lowrank_log_det(p) + trace + mahalanobis - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_multivariatenormal_lowrankmultivariatenormal(p, q):
    _check_same_event(p, q, "(Low Rank) Multivariate Normals")
    p_log_det = 2 * p._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    mahalanobis = _batch_lowrank_mahalanobis(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag,
                                             q.loc - p.loc, q._capacitance_tril)
    A = _lowrank_trace_terms(q)
    trace = (_batch_trace_XXT(p._unbroadcasted_scale_tril * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1))
             - _batch_trace_XXT(A.matmul(p._unbroadcasted_scale_tril)))
    return 0.5 * (_lowrank_log_det(q) - p_log_det + trace + mahalanobis - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrankmultivariatenormal_multivariatenormal(p, q):
    _check_same_event(p, q, "(Low Rank) Multivariate Normals")
    q_log_det = 2 * q._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    mahalanobis = _batch_mahalanobis(q._unbroadcasted_scale_tril, q.loc - p.loc)
    batch = retrograd.broadcast_shapes(q._unbroadcasted_scale_tril.shape[:-2],
                                       p._unbroadcasted_cov_factor.shape[:-2])
    n = p.event_shape[0]
    q_scale_tril = q._unbroadcasted_scale_tril.expand((*batch, n, n))
    p_cov_factor = p._unbroadcasted_cov_factor.expand((*batch, n, p.cov_factor.size(-1)))
    p_cov_diag = retrograd.diag_embed(p._unbroadcasted_cov_diag.sqrt()).expand((*batch, n, n))
    solve = retrograd.linalg.solve_triangular
    trace = (_batch_trace_XXT(solve(q_scale_tril, p_cov_factor, upper=False))
             + _batch_trace_XXT(solve(q_scale_tril, p_cov_diag, upper=False)))
    return 0.5 * (q_log_det - _lowrank_log_det(p) + trace + mahalanobis - p.event_shape[0])


# Different families: a support outside the other's gives an infinite divergence.

for _p_type, _q_types, _parameter in [
    (Beta, (Pareto,), "concentration1"), (ContinuousBernoulli, (Pareto,), "probs"),
    (Exponential, (ContinuousBernoulli, Pareto), "rate"),
    (Gamma, (ContinuousBernoulli, Pareto), "concentration"),
    (Gumbel, (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform), "loc"),
    (Laplace, (ContinuousBernoulli, Pareto), "loc"), (Normal, (ContinuousBernoulli, Pareto), "loc"),
    (Pareto, (Beta, ContinuousBernoulli, Uniform), "scale"),
]:
    for _q_type in _q_types:
        register_kl(_p_type, _q_type)(
            lambda p, q, _parameter=_parameter: _infinite_like(getattr(p, _parameter)))


def _outside(values: Tensor, inside: Tensor) -> Tensor:
    return retrograd.where(inside, values, math.inf)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() - p.mean * q.logits - retrograd.log1p(-q.probs) - q._cont_bern_log_norm()


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - retrograd.log(q.rate) + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    cross = 0.5 * (math.log(2.0 * math.pi) + retrograd.square(q.loc / q.scale)) + retrograd.log(q.scale)
    spread = ((p.variance + retrograd.square(p.mean) - 2.0 * q.loc * p.mean)
              / (2.0 * retrograd.square(q.scale)))
    return -p.entropy() + cross + spread


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    covered = ~((q.low >= p.support.lower_bound) | (q.high <= p.support.upper_bound))
    return _outside(result, covered)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    product = p.rate * q.scale
    loc_ratio = q.loc / q.scale
    return (product.log() - 1 - loc_ratio + retrograd.exp(loc_ratio) * product / (product + 1)
            + product.reciprocal())


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    product = p.rate * q.scale
    loc_ratio = q.loc / q.scale
    c = p.concentration
    return ((c - 1) * digamma(c) - lgamma(c) - c + product.log() + c / product
            + retrograd.exp(loc_ratio) * (1 + product.reciprocal()).pow(-c) - loc_ratio)


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    ratio = p.scale / q.scale
    shifted = ((p.loc + p.scale * euler_constant - q.loc) / q.scale).pow(2) * 0.5
    return (-(ratio / math.sqrt(2 * math.pi)).log() + (math.pi * ratio * 0.5).pow(2) / 3 + shifted
            - (euler_constant + 1))


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    mean_ratio = p.loc / q.scale
    variance_ratio = (p.scale / q.scale).pow(2)
    loc_ratio = q.loc / q.scale
    return (-variance_ratio.log() * 0.5 + mean_ratio - loc_ratio
            + retrograd.exp(-mean_ratio + 0.5 * variance_ratio + loc_ratio)
            - 0.5 * (1 + math.log(2 * math.pi)))


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    product = p.scale * q.rate
    result = (p.alpha / product).log() - p.alpha.reciprocal() + p.alpha * product / (p.alpha - 1) - 1
    return _outside(result, p.alpha > 1)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    common = p.scale.log() + p.alpha.reciprocal()
    result = (p.alpha.log() - common + lgamma(q.concentration) - q.concentration * q.rate.log()
              + (1 - q.concentration) * common + q.rate * p.alpha * p.scale / (p.alpha - 1) - 1)
    return _outside(result, p.alpha > 1)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    twice_variance = 2 * q.scale.pow(2)
    common = p.scale / (p.alpha - 1)
    result = ((math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log() - p.alpha.reciprocal()
              + (p.alpha * common.pow(2) / (p.alpha - 2) + (p.alpha * common - q.loc).pow(2)) / twice_variance
              - 1)
    return _outside(result, p.alpha > 2)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    result = -p.entropy() - p.mean * q.logits - retrograd.log1p(-q.probs) - q._cont_bern_log_norm()
    inside = ~((p.high >= q.support.upper_bound) | (p.low <= q.support.lower_bound))
    return _outside(result, inside)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    common = q.scale / (p.high - p.low)
    high_shift, low_shift = (p.high - q.loc) / q.scale, (p.low - q.loc) / q.scale
    return (common.log() + 0.5 * (high_shift + low_shift)
            - common * (retrograd.exp(-high_shift) - retrograd.exp(-low_shift)))


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    width = p.high - p.low
    log_term = (q.alpha * q.scale.pow(q.alpha) * width).log()
    entropy_term = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    return _outside(entropy_term * (q.alpha + 1) - log_term, p.low >= q.support.lower_bound)
