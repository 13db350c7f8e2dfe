"""retrograd.distributions against PyTorch's torch.distributions, closed forms and gradcheck.

One table of cases (CASES) builds the same distribution in either library; the tests compare
shapes, moments, entropies, densities, cdf/icdf, printouts and seeded samples with PyTorch
(marked `needs_torch`), and the closed-form and gradient tests need only retrograd.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.distributions import _special

# ---------------------------------------------------------------------------
# The cases: name -> (build(library) -> distribution, values to score as nested lists)


def _t(lib, values, dtype="float32"):
    return lib.tensor(values, dtype=getattr(lib, dtype))


CASES = {
    "normal_scalar": (lambda lib: lib.distributions.Normal(0.0, 1.0), [-1.5, 0.0, 2.25]),
    "normal_batch": (lambda lib: lib.distributions.Normal(_t(lib, [0.5, -1.0, 2.0]), 0.7),
                     [[0.1, -2.0, 3.0], [1.0, 0.0, 2.0]]),
    "normal_float64": (lambda lib: lib.distributions.Normal(_t(lib, [[0.0], [1.0]], "float64"),
                                                            _t(lib, [0.5, 2.0, 3.0], "float64")),
                       [[0.3, -0.4, 5.0], [1.0, 1.0, 1.0]]),
    "lognormal": (lambda lib: lib.distributions.LogNormal(_t(lib, [0.0, 0.5]), _t(lib, [1.0, 0.25])),
                  [[0.5, 2.0]]),
    "uniform": (lambda lib: lib.distributions.Uniform(_t(lib, [0.0, -1.0]), _t(lib, [1.0, 3.0])),
                [[0.25, 2.5], [0.0, -1.0]]),
    "exponential": (lambda lib: lib.distributions.Exponential(_t(lib, [0.5, 2.0, 4.0])), [0.0, 0.3, 2.0]),
    "exponential_scalar": (lambda lib: lib.distributions.Exponential(1.5), [0.5]),
    "gamma_scalar": (lambda lib: lib.distributions.Gamma(2.0, 0.5), [1.5]),
    "cauchy": (lambda lib: lib.distributions.Cauchy(_t(lib, [0.0, 2.0]), _t(lib, [1.0, 0.5])), [[-3.0, 2.5]]),
    "geometric": (lambda lib: lib.distributions.Geometric(probs=_t(lib, [0.2, 0.9, 1.0])), [[3.0, 0.0, 0.0]]),
    "geometric_logits": (lambda lib: lib.distributions.Geometric(logits=_t(lib, [-1.0, 2.0, 0.5])), [1.0, 4.0, 0.0]),
    "half_normal": (lambda lib: lib.distributions.HalfNormal(_t(lib, [1.0, 2.5])), [[0.5, 3.0]]),
    "multinomial": (lambda lib: lib.distributions.Multinomial(4, probs=_t(lib, [[0.2, 0.3, 0.5], [0.6, 0.0, 0.4]])),
                    [[1.0, 1.0, 2.0], [4.0, 0.0, 0.0]]),
    "laplace": (lambda lib: lib.distributions.Laplace(_t(lib, [0.0, 1.0]), 2.0), [[-1.0, 3.0]]),
    "bernoulli_probs": (lambda lib: lib.distributions.Bernoulli(probs=_t(lib, [0.1, 0.5, 0.9])),
                        [1.0, 0.0, 1.0]),
    "bernoulli_logits": (lambda lib: lib.distributions.Bernoulli(logits=_t(lib, [[-2.0], [0.3]])),
                         [[0.0], [1.0]]),
    "categorical_probs": (lambda lib: lib.distributions.Categorical(
        probs=_t(lib, [[0.1, 0.2, 0.3, 0.4], [2.0, 1.0, 1.0, 0.0]])), [[3, 1], [0, 0]]),
    "categorical_logits": (lambda lib: lib.distributions.Categorical(logits=_t(lib, [1.0, -0.5, 2.0])),
                           [2, 0, 1]),
    "categorical_zero": (lambda lib: lib.distributions.Categorical(
        probs=_t(lib, [[0.0, 0.5, 0.5], [0.2, 0.8, 0.0]])), [1, 0]),
    "onehot": (lambda lib: lib.distributions.OneHotCategorical(probs=_t(lib, [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])),
               [[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]),
    "binomial": (lambda lib: lib.distributions.Binomial(5, probs=_t(lib, [0.2, 0.7])), [[0.0, 4.0], [5.0, 2.0]]),
    "binomial_large": (lambda lib: lib.distributions.Binomial(_t(lib, [40.0, 300.0, 0.0], "float64"),
                                                              logits=_t(lib, [0.1, 2.5, 1.0], "float64")),
                       [[12.0, 290.0, 0.0]]),
    "poisson": (lambda lib: lib.distributions.Poisson(_t(lib, [0.5, 3.0, 12.0])), [0.0, 2.0, 15.0]),
    "gamma": (lambda lib: lib.distributions.Gamma(_t(lib, [0.5, 2.0, 7.5]), _t(lib, [1.0, 0.5, 3.0])),
              [0.2, 1.0, 4.0]),
    "dirichlet": (lambda lib: lib.distributions.Dirichlet(_t(lib, [[0.5, 1.0, 2.0], [3.0, 3.0, 0.7]])),
                  [[0.2, 0.3, 0.5]]),
    "dirichlet_sparse": (lambda lib: lib.distributions.Dirichlet(_t(lib, [0.001, 0.002, 50.0])), [[0.1, 0.1, 0.8]]),
    "beta": (lambda lib: lib.distributions.Beta(_t(lib, [0.5, 2.0]), _t(lib, [1.5, 3.0])), [0.25, 0.9]),
    "mvn_covariance": (lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, [1.0, -1.0]), covariance_matrix=_t(lib, [[2.0, 0.3], [0.3, 0.5]])),
        [[0.0, 0.0], [2.0, -1.5]]),
    "mvn_scale_tril": (lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], "float64"),
        scale_tril=_t(lib, [[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [-0.3, 0.1, 0.7]], "float64")),
        [[0.5, 0.5, 0.5]]),
    "mvn_precision": (lambda lib: lib.distributions.MultivariateNormal(
        _t(lib, [0.0, 1.0]), precision_matrix=_t(lib, [[[1.0, 0.2], [0.2, 2.0]], [[3.0, -1.0], [-1.0, 1.0]]])),
        [[0.3, 0.3]]),
    "independent": (lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(_t(lib, [[0.0, 1.0, 2.0]]), _t(lib, [1.0, 0.5, 2.0])), 1), [[1.0, 1.0, 1.0]]),
}

# Cases whose sampler retrograd lacks.
NOT_DRAWN = set()
# Draws PyTorch's, transformed by a float32 kernel (exp, log1p, a matrix product) whose last
# bit can differ from PyTorch's (docs/float32_bits.md): compared to rounding.
LAST_BITS_DIFFER = {"lognormal", "laplace", "mvn_covariance", "mvn_precision", "mvn_scale_tril"}
WITH_CDF = {"cauchy", "half_normal", "normal_scalar", "normal_batch", "normal_float64", "lognormal", "uniform", "exponential", "laplace"}


def _numpy(value):
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def _close(ours, theirs, rtol=2e-6, atol=1e-6):
    assert type(ours).__name__ == "Tensor" and tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=rtol, atol=atol)


def _both(name):
    build, values = CASES[name]
    return build(retrograd), build(torch), values


def _value(lib, distribution, values):
    """`values` as a tensor of the distribution's parameter dtype (long for Categorical)."""
    if type(distribution).__name__ == "Categorical":
        return lib.tensor(values)
    return lib.tensor(values, dtype=distribution.mean.dtype if type(distribution).__name__ != "Categorical"
                      else lib.long)


# ---------------------------------------------------------------------------
# Against PyTorch


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_moments_and_entropy_match_pytorch(name):
    ours, theirs, _ = _both(name)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert type(ours.batch_shape).__name__ == "Size"
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    computed = {"mean": lambda d: d.mean, "variance": lambda d: d.variance, "stddev": lambda d: d.stddev,
                "mode": lambda d: d.mode, "entropy": lambda d: d.entropy(), "perplexity": lambda d: d.perplexity()}
    for what, compute in computed.items():
        try:
            expected = compute(theirs)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                compute(ours)
            continue
        np.testing.assert_allclose(_numpy(compute(ours)), _numpy(expected), rtol=2e-5, atol=1e-6, err_msg=what)


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_matches_pytorch(name):
    ours, theirs, values = _both(name)
    _close(ours.log_prob(_value(retrograd, ours, values)), theirs.log_prob(_value(torch, theirs, values)),
           rtol=1e-5, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("name", sorted(WITH_CDF))
def test_cdf_and_icdf_match_pytorch(name):
    ours, theirs, values = _both(name)
    expected = theirs.cdf(_value(torch, theirs, values))
    _close(ours.cdf(_value(retrograd, ours, values)), expected)
    quantiles = (0.05 + 0.9 * expected).tolist()  # inside (0, 1)
    _close(ours.icdf(_value(retrograd, ours, quantiles)), theirs.icdf(_value(torch, theirs, quantiles)), rtol=1e-5)


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_and_support_print_as_pytorchs(name):
    ours, theirs, _ = _both(name)
    assert repr(ours) == repr(theirs).replace("torch.", "retrograd.")
    if name != "independent":
        assert repr(ours.support) == repr(theirs.support).replace("torch.", "retrograd.")
    for parameter, constraint in theirs.arg_constraints.items():
        assert repr(ours.arg_constraints[parameter]) == repr(constraint).replace("torch.", "retrograd.")


DRAWN = [(name, method) for name in sorted(set(CASES) - NOT_DRAWN) for method in ("sample", "rsample")
         if method == "sample" or CASES[name][0](retrograd).has_rsample]


@needs_torch
@pytest.mark.parametrize("name, method", DRAWN)
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_seeded_samples_are_pytorchs_bit_for_bit(name, sample_shape, method):
    ours, theirs, _ = _both(name)
    for seed in (0, 7):
        retrograd.manual_seed(seed)
        torch.manual_seed(seed)
        mine = getattr(ours, method)(sample_shape)
        reference = getattr(theirs, method)(sample_shape)
        assert mine.dtype.is_floating_point == reference.dtype.is_floating_point
        assert tuple(mine.shape) == tuple(reference.shape)
        if name in LAST_BITS_DIFFER:
            np.testing.assert_allclose(_numpy(mine), _numpy(reference), rtol=1e-6, atol=1e-6)
        else:
            assert np.array_equal(_numpy(mine), _numpy(reference)), (mine, reference)


@needs_torch
def test_a_large_seeded_sample_of_normal_and_categorical_is_pytorchs():
    for lib in (retrograd, torch):
        lib.manual_seed(3)
    shape = (64, 33)
    ours = retrograd.distributions.Normal(retrograd.zeros(3), 2.0).sample(shape)
    theirs = torch.distributions.Normal(torch.zeros(3), 2.0).sample(shape)
    assert np.array_equal(_numpy(ours), _numpy(theirs))
    probs = [[0.05, 0.15, 0.8], [0.3, 0.3, 0.4]]
    ours = retrograd.distributions.Categorical(retrograd.tensor(probs)).sample((500,))
    theirs = torch.distributions.Categorical(torch.tensor(probs)).sample((500,))
    assert ours.dtype == retrograd.int64 and np.array_equal(_numpy(ours), _numpy(theirs))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_many_binomial_and_gamma_draws_are_pytorchs(dtype):
    """Enough draws to take every branch of the rejection samplers many times."""
    counts, probs, alphas = [15.0, 40.0, 300.0, 1000.0, 6.0], [0.3, 0.5, 0.8, 0.01, 0.6], [0.2, 1.0, 4.5, 60.0]
    draws = {}
    for lib in (retrograd, torch):
        lib.manual_seed(9)
        binomial = lib.distributions.Binomial(_t(lib, counts, dtype), _t(lib, probs, dtype)).sample((400,))
        gamma = lib.distributions.Gamma(_t(lib, alphas, dtype), 1.0).sample((300,))
        draws[lib] = (binomial, gamma)
    for ours, theirs in zip(draws[retrograd], draws[torch]):
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert np.array_equal(_numpy(ours), _numpy(theirs))


@needs_torch
@pytest.mark.parametrize("name", ["normal_batch", "categorical_probs", "bernoulli_logits", "mvn_covariance",
                                  "independent", "uniform", "onehot"])
def test_expand_matches_pytorch(name):
    ours, theirs, values = _both(name)
    batch_shape = (4, *tuple(theirs.batch_shape))
    ours, theirs = ours.expand(batch_shape), theirs.expand(batch_shape)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert type(ours) is type(ours.expand(batch_shape))
    values = theirs.sample().tolist()
    _close(ours.log_prob(_value(retrograd, ours, values)), theirs.log_prob(_value(torch, theirs, values)),
           rtol=1e-5, atol=1e-5)
    assert repr(ours) == repr(theirs).replace("torch.", "retrograd.")


@needs_torch
@pytest.mark.parametrize("name", ["bernoulli_probs", "categorical_logits", "onehot", "binomial",
                                  "independent"])
def test_enumerate_support_matches_pytorch(name):
    ours, theirs, _ = _both(name)
    if not theirs.has_enumerate_support:
        with pytest.raises(NotImplementedError):
            ours.enumerate_support()
        return
    for expand in (True, False):
        _close(ours.enumerate_support(expand), theirs.enumerate_support(expand))


KL_PAIRS = [
    ("normal_batch", "normal_scalar"), ("normal_float64", "normal_float64"), ("lognormal", "lognormal"),
    ("uniform", "uniform"), ("exponential", "exponential"), ("laplace", "laplace"),
    ("bernoulli_probs", "bernoulli_probs"), ("bernoulli_logits", "bernoulli_logits"),
    ("categorical_zero", "categorical_logits"), ("categorical_logits", "categorical_zero"), ("onehot", "onehot"), ("binomial", "binomial"),
    ("poisson", "poisson"), ("gamma", "gamma"), ("dirichlet", "dirichlet"), ("beta", "beta"),
    ("mvn_covariance", "mvn_precision"), ("mvn_scale_tril", "mvn_scale_tril"), ("independent", "independent"),
    ("normal_scalar", "laplace"), ("laplace", "normal_scalar"), ("uniform", "normal_scalar"),
    ("exponential", "gamma"), ("gamma", "exponential"), ("beta", "uniform"), ("beta", "normal_scalar"),
    ("beta", "gamma_scalar"), ("beta", "exponential_scalar"), ("exponential", "normal_batch"), ("gamma", "normal_batch"),
    ("normal_scalar", "uniform"), ("uniform", "beta"), ("uniform", "gamma_scalar"), ("uniform", "exponential_scalar"),
    ("bernoulli_probs", "poisson"), ("poisson", "bernoulli_probs"), ("cauchy", "cauchy"),
    ("geometric", "geometric_logits"), ("half_normal", "half_normal"),
]


def _swap_pair(name_p, name_q, lib):
    return CASES[name_p][0](lib), CASES[name_q][0](lib)


@needs_torch
@pytest.mark.parametrize("pair", KL_PAIRS, ids=["-".join(pair) for pair in KL_PAIRS])
def test_kl_divergence_matches_pytorch(pair):
    ours_p, ours_q = _swap_pair(*pair, retrograd)
    theirs_p, theirs_q = _swap_pair(*pair, torch)
    if pair in (("normal_float64", "normal_float64"),):
        ours_q, theirs_q = ours_q.expand((2, 3)), theirs_q.expand((2, 3))
    expected = torch.distributions.kl_divergence(theirs_p, theirs_q)
    _close(retrograd.distributions.kl_divergence(ours_p, ours_q), expected, rtol=2e-5, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("build", [
    lambda lib: lib.distributions.Normal(0.0, -1.0),
    lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([0.5, 1.5])),
    lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.5, -0.5])),
    lambda lib: lib.distributions.Uniform(2.0, 1.0),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.tensor([[1.0, 1.0], [0.0, 1.0]])),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), covariance_matrix=lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda lib: lib.distributions.Exponential(lib.tensor([[1.0, 0.0]])),
    lambda lib: lib.distributions.Geometric(lib.tensor([0.5, 0.0, 0.0])),
    lambda lib: lib.distributions.Geometric(lib.tensor([0.5, 1.5])),
], ids=["normal", "bernoulli", "categorical", "uniform", "scale_tril", "covariance", "exponential", "geometric_zero",
        "geometric_above_one"])
def test_invalid_parameters_raise_pytorchs_value_error(build):
    with pytest.raises(ValueError) as theirs:
        build(torch)
    with pytest.raises(ValueError) as ours:
        build(retrograd)
    assert str(ours.value) == str(theirs.value).replace("torch.", "retrograd.")


@needs_torch
@pytest.mark.parametrize("name, value", [
    ("exponential", [-1.0, 1.0, 1.0]), ("bernoulli_probs", [0.5, 1.0, 0.0]), ("categorical_logits", [3]),
    ("normal_batch", [[1.0, 2.0]]), ("onehot", [[1.0, 1.0, 0.0]]), ("uniform", [[2.0, 0.0]]),
    ("poisson", [1.5, 0.0, 1.0]), ("mvn_covariance", [1.0, 2.0, 3.0]),
])
def test_values_outside_the_support_or_shape_raise_pytorchs_value_error(name, value):
    ours, theirs, _ = _both(name)
    with pytest.raises(ValueError) as expected:
        theirs.log_prob(_value(torch, theirs, value))
    with pytest.raises(ValueError) as raised:
        ours.log_prob(_value(retrograd, ours, value))
    assert str(raised.value) == str(expected.value).replace("torch.", "retrograd.")


# ---------------------------------------------------------------------------
# Without PyTorch: closed forms, the API's rules, gradients


D = retrograd.distributions


def test_normal_log_prob_entropy_and_cdf_are_the_closed_forms():
    loc, scale = 0.5, 2.0
    normal = D.Normal(retrograd.tensor(loc, dtype=retrograd.float64), scale)
    x = np.array([-1.0, 0.5, 3.0])
    expected = -((x - loc) ** 2) / (2 * scale**2) - math.log(scale) - 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(normal.log_prob(retrograd.tensor(x)).numpy(), expected, rtol=1e-12)
    assert normal.entropy().item() == pytest.approx(0.5 * math.log(2 * math.pi * math.e * scale**2))
    assert normal.cdf(retrograd.tensor(loc)).item() == pytest.approx(0.5)
    assert normal.icdf(retrograd.tensor(0.975)).item() == pytest.approx(loc + 1.959963984540054 * scale)


def test_categorical_normalises_probs_and_logits():
    categorical = D.Categorical(probs=retrograd.tensor([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(categorical.probs.numpy(), [0.25, 0.25, 0.5])
    np.testing.assert_allclose(categorical.logits.numpy(), np.log([0.25, 0.25, 0.5]), rtol=1e-6)
    uniform = D.Categorical(logits=retrograd.zeros(5))
    assert uniform.entropy().item() == pytest.approx(math.log(5), rel=1e-6)
    assert uniform.log_prob(retrograd.tensor(2)).item() == pytest.approx(-math.log(5), rel=1e-6)


def test_categorical_sample_shape_and_frequencies():
    retrograd.manual_seed(0)
    categorical = D.Categorical(retrograd.tensor([[0.1, 0.9], [0.7, 0.3]]))
    draws = categorical.sample((4000,))
    assert tuple(draws.shape) == (4000, 2) and draws.dtype == retrograd.int64
    np.testing.assert_allclose(draws.numpy().mean(0), [0.9, 0.3], atol=0.03)


def test_multivariate_normal_matches_numpy_linear_algebra():
    covariance = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
    loc = np.array([1.0, 0.0, -1.0])
    x = np.array([[0.5, 0.5, 0.5], [1.0, 0.0, -1.0]])
    mvn = D.MultivariateNormal(retrograd.tensor(loc), covariance_matrix=retrograd.tensor(covariance))
    diff = x - loc
    mahalanobis = np.einsum("bi,ij,bj->b", diff, np.linalg.inv(covariance), diff)
    expected = -0.5 * (3 * math.log(2 * math.pi) + np.log(np.linalg.det(covariance)) + mahalanobis)
    np.testing.assert_allclose(mvn.log_prob(retrograd.tensor(x)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(mvn.precision_matrix.numpy(), np.linalg.inv(covariance), rtol=1e-10)
    by_precision = D.MultivariateNormal(retrograd.tensor(loc), precision_matrix=retrograd.tensor(np.linalg.inv(covariance)))
    np.testing.assert_allclose(by_precision.covariance_matrix.numpy(), covariance, rtol=1e-10)
    np.testing.assert_allclose(by_precision.log_prob(retrograd.tensor(x)).numpy(), expected, rtol=1e-10)


def test_kl_divergence_closed_forms_and_errors():
    p, q = D.Normal(0.0, 1.0), D.Normal(1.0, 2.0)
    expected = math.log(2.0) + (1 + 1) / (2 * 4) - 0.5
    assert D.kl_divergence(p, q).item() == pytest.approx(expected, rel=1e-6)
    assert D.kl_divergence(p, p).item() == 0.0
    uniform = D.Uniform(0.0, 1.0)
    assert D.kl_divergence(uniform, D.Uniform(0.5, 1.0)).item() == math.inf
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Categorical"):
        D.kl_divergence(D.Categorical(logits=retrograd.zeros(2)), p)


def test_register_kl_chooses_the_most_specific_formula_and_warns_when_ambiguous():
    class MyNormal(D.Normal):
        pass

    my = MyNormal(0.0, 1.0)
    assert D.kl_divergence(my, D.Normal(0.0, 1.0)).item() == 0.0  # Normal's formula
    try:
        @D.register_kl(MyNormal, D.Normal)
        def _special_case(p, q):
            return retrograd.tensor(42.0)

        assert D.kl_divergence(my, D.Normal(0.0, 1.0)).item() == 42.0

        @D.register_kl(D.Normal, MyNormal)
        def _other_case(p, q):
            return retrograd.tensor(-1.0)

        with pytest.warns(RuntimeWarning, match="Ambiguous kl_divergence\\(MyNormal, MyNormal\\)"):
            D.kl_divergence(my, MyNormal(0.0, 1.0))
    finally:
        D.kl._KL_REGISTRY.pop((MyNormal, D.Normal), None)
        D.kl._KL_REGISTRY.pop((D.Normal, MyNormal), None)
        D.kl._KL_MEMOIZE.clear()
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        D.register_kl(int, D.Normal)


def test_exponential_family_entropy_and_kl_through_autograd_agree_with_closed_forms():
    normal = D.Normal(retrograd.tensor([0.0, 1.0], dtype=retrograd.float64), retrograd.tensor([1.0, 3.0], dtype=retrograd.float64))
    bregman_entropy = D.ExponentialFamily.entropy(normal)
    np.testing.assert_allclose(bregman_entropy.detach().numpy(), normal.entropy().numpy(), rtol=1e-12)
    other = D.Normal(retrograd.tensor(0.5, dtype=retrograd.float64), retrograd.tensor(2.0, dtype=retrograd.float64))
    bregman_kl = D.kl._kl_expfamily_expfamily(normal, other)
    np.testing.assert_allclose(bregman_kl.detach().numpy(), D.kl_divergence(normal, other).numpy(), rtol=1e-12)


def test_special_functions_hit_known_values():
    x = retrograd.tensor([1.0, 0.5, 5.0, -0.5, 0.0], dtype=retrograd.float64)
    expected_lgamma = [0.0, 0.5 * math.log(math.pi), math.log(24.0), math.log(2 * math.sqrt(math.pi)), math.inf]
    np.testing.assert_allclose(_special.lgamma(x).numpy(), expected_lgamma, rtol=1e-14)
    euler = 0.5772156649015329
    expected_digamma = [-euler, -euler - 2 * math.log(2), -euler + 1 + 1 / 2 + 1 / 3 + 1 / 4,
                        -euler - 2 * math.log(2) + 2, -math.inf]
    np.testing.assert_allclose(_special.digamma(x).numpy(), expected_digamma, rtol=1e-14)
    assert math.isnan(_special.digamma(retrograd.tensor(-2.0)).item())
    assert _special.polygamma(1, retrograd.tensor(1.0, dtype=retrograd.float64)).item() == pytest.approx(math.pi**2 / 6, rel=1e-14)
    assert _special.polygamma(2, retrograd.tensor(1.0, dtype=retrograd.float64)).item() == pytest.approx(-2 * 1.2020569031595942, rel=1e-14)


def test_special_functions_gradients_are_the_next_derivative():
    x = retrograd.tensor([0.3, 1.7, 12.5], dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(_special.lgamma, (x,))
    assert retrograd.autograd.gradcheck(_special.digamma, (x,))
    assert retrograd.autograd.gradgradcheck(_special.lgamma, (x,))
    assert retrograd.autograd.gradcheck(lambda value: _special.polygamma(2, value), (x,))


def _float64(*values, requires_grad=True):
    return retrograd.tensor(values, dtype=retrograd.float64, requires_grad=requires_grad)


def test_rsample_is_reparameterised():
    loc, scale = _float64(0.5, -1.0), _float64(2.0, 0.3)

    def normal_draws(loc, scale):
        retrograd.manual_seed(11)
        return D.Normal(loc, scale).rsample((3,))

    assert retrograd.autograd.gradcheck(normal_draws, (loc, scale))
    retrograd.manual_seed(11)
    eps = retrograd.empty((3, 2), dtype=retrograd.float64).normal_()
    draws = normal_draws(loc, scale)
    draws.sum().backward()
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy())
    assert not D.Normal(loc, scale).sample().requires_grad

    def uniform_draws(low, high):
        retrograd.manual_seed(5)
        return D.Uniform(low, high).rsample((4,))

    assert retrograd.autograd.gradcheck(uniform_draws, (_float64(0.0, 1.0), _float64(2.0, 1.5)))

    def laplace_and_exponential(loc, scale):
        retrograd.manual_seed(2)
        return D.Laplace(loc, scale).rsample((3,)) + D.Exponential(scale).rsample((3,))

    assert retrograd.autograd.gradcheck(laplace_and_exponential, (loc, scale))

    def mvn_draws(loc, factor):
        retrograd.manual_seed(3)
        return D.MultivariateNormal(loc, scale_tril=factor.tril()).rsample((2,))

    factor = retrograd.tensor([[1.0, 0.0], [0.4, 0.8]], dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(mvn_draws, (loc, factor))


def test_log_prob_entropy_and_kl_gradients():
    x = _float64(0.3, 1.7)
    loc, scale = _float64(0.5, -1.0), _float64(2.0, 0.3)
    assert retrograd.autograd.gradcheck(lambda *args: D.Normal(args[0], args[1]).log_prob(args[2]), (loc, scale, x))
    assert retrograd.autograd.gradgradcheck(lambda *args: D.Normal(args[0], args[1]).log_prob(args[2]), (loc, scale, x))
    a, b, value = _float64(0.7, 2.5), _float64(1.5, 3.0), _float64(0.2, 0.6)
    assert retrograd.autograd.gradcheck(lambda a, b, value: D.Beta(a, b).log_prob(value), (a, b, value))
    assert retrograd.autograd.gradcheck(lambda a, b: D.Beta(a, b).entropy(), (a, b))
    assert retrograd.autograd.gradcheck(lambda a, b: D.Gamma(a, b).entropy(), (a, b))
    assert retrograd.autograd.gradcheck(lambda rate: D.Poisson(rate).log_prob(retrograd.tensor([0.0, 3.0], dtype=retrograd.float64)), (b,))
    logits = _float64(0.2, -1.0, 2.0)
    assert retrograd.autograd.gradcheck(lambda logits: D.Categorical(logits=logits).log_prob(retrograd.tensor([2, 0])), (logits,))
    assert retrograd.autograd.gradcheck(lambda logits: D.Categorical(logits=logits).entropy(), (logits,))
    probs = _float64(0.2, 0.9)
    assert retrograd.autograd.gradcheck(lambda probs: D.Bernoulli(probs).log_prob(retrograd.tensor([1.0, 0.0], dtype=retrograd.float64)), (probs,))
    assert retrograd.autograd.gradcheck(lambda l1, s1: D.kl_divergence(D.Normal(l1, s1), D.Normal(0.0, 1.0)), (loc, scale))
    factor = retrograd.tensor([[1.0, 0.0], [0.4, 0.8]], dtype=retrograd.float64, requires_grad=True)
    assert retrograd.autograd.gradcheck(
        lambda loc, factor: D.MultivariateNormal(loc, scale_tril=factor.tril()).log_prob(x), (loc, factor))
    assert retrograd.autograd.gradcheck(
        lambda loc, factor: D.kl_divergence(D.MultivariateNormal(loc, scale_tril=factor.tril()),
                                            D.MultivariateNormal(x, scale_tril=retrograd.eye(2, dtype=retrograd.float64))),
        (loc, factor))


def test_reinforce_step_pushes_probability_toward_rewarded_actions():
    """The tutorials' policy gradient: log_prob(sample) * reward, backward, step."""
    retrograd.manual_seed(0)
    logits = retrograd.zeros(3, requires_grad=True)
    optimizer = retrograd.optim.SGD([logits], lr=0.5)
    for _ in range(50):
        policy = D.Categorical(logits=logits)
        action = policy.sample()
        reward = 1.0 if action.item() == 2 else 0.0
        loss = -policy.log_prob(action) * reward - 0.01 * policy.entropy()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert D.Categorical(logits=logits).probs[2].item() > 0.8


def test_parameters_must_be_given_one_way():
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical()
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Bernoulli(probs=0.5, logits=0.0)
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
        D.Categorical(probs=retrograd.tensor(1.0))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(retrograd.zeros(2))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
        D.MultivariateNormal(retrograd.tensor(0.0), scale_tril=retrograd.eye(1))
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
        D.Independent(D.Normal(0.0, 1.0), 1)


def test_validation_can_be_turned_off_per_distribution_and_globally():
    with pytest.raises(ValueError, match="Expected parameter scale .* GreaterThan\\(lower_bound=0.0\\)"):
        D.Normal(0.0, -1.0)
    assert math.isnan(D.Normal(0.0, -1.0, validate_args=False).log_prob(retrograd.tensor(0.0)).item())
    with pytest.raises(ValueError, match="Expected value argument .* within the support \\(GreaterThanEq"):
        D.Exponential(1.0).log_prob(retrograd.tensor(-1.0))
    assert D.Exponential(1.0, validate_args=False).log_prob(retrograd.tensor(-1.0)).item() == 1.0
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
        assert D.Exponential(1.0).log_prob(retrograd.tensor(-1.0)).item() == 1.0
        assert D.Normal(0.0, 1.0, validate_args=True)._validate_args
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)


def test_a_bad_parameter_leaves_the_tensors_unchanged():
    scale = retrograd.tensor([1.0, -2.0])
    before = scale.clone()
    with pytest.raises(ValueError):
        D.Normal(retrograd.zeros(2), scale)
    assert retrograd.equal(scale, before)


def test_sample_n_warns():
    with pytest.warns(FutureWarning, match="sample_n"):
        assert tuple(D.Normal(0.0, 1.0).sample_n(4).shape) == (4,)


def test_lazy_parameters_and_sizes():
    bernoulli = D.Bernoulli(logits=retrograd.tensor([0.0, 2.0]))
    assert "probs" not in bernoulli.__dict__
    assert repr(bernoulli) == "Bernoulli(logits: retrograd.Size([2]))"
    np.testing.assert_allclose(bernoulli.probs.numpy(), [0.5, 1 / (1 + math.exp(-2))], rtol=1e-6)
    assert "probs" in bernoulli.__dict__
    assert repr(bernoulli) == "Bernoulli(probs: retrograd.Size([2]), logits: retrograd.Size([2]))"
    assert D.Normal(0.0, 1.0).batch_shape == retrograd.Size([])
    shape = D.MultivariateNormal(retrograd.zeros(3, 2), scale_tril=retrograd.eye(2))._extended_shape((5,))
    assert repr(shape) == "retrograd.Size([5, 3, 2])"


def test_constraints_check_and_print():
    constraints = D.constraints
    value = retrograd.tensor([-1.0, 0.0, 0.5, 1.0, math.nan])
    assert constraints.real.check(value).tolist() == [True, True, True, True, False]
    assert constraints.positive.check(value).tolist() == [False, False, True, True, False]
    assert constraints.unit_interval.check(value).tolist() == [False, True, True, True, False]
    assert constraints.half_open_interval(0.0, 1.0).check(value).tolist() == [False, True, True, False, False]
    assert constraints.simplex.check(retrograd.tensor([[0.5, 0.5], [0.7, 0.4]])).tolist() == [True, False]
    assert constraints.one_hot.check(retrograd.tensor([[0.0, 1.0], [1.0, 1.0]])).tolist() == [True, False]
    assert constraints.lower_cholesky.check(retrograd.tensor([[1.0, 0.0], [2.0, 1.0]])).item()
    assert not constraints.lower_cholesky.check(retrograd.tensor([[1.0, 0.1], [2.0, 1.0]])).item()
    assert constraints.positive_definite.check(retrograd.tensor([[2.0, 1.0], [1.0, 2.0]])).item()
    assert not constraints.positive_definite.check(retrograd.tensor([[1.0, 2.0], [2.0, 1.0]])).item()
    assert repr(constraints.independent(constraints.real, 1)) == "IndependentConstraint(Real(), 1)"
    assert repr(constraints.integer_interval(0, 3)) == "IntegerInterval(lower_bound=0, upper_bound=3)"
    assert constraints.is_dependent(D.Uniform.support) and not constraints.is_dependent(constraints.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        constraints.dependent.check(value)
    assert constraints.corr_cholesky.check(retrograd.tensor([[1.0, 0.0], [0.6, 0.8]])).item()
    assert not constraints.corr_cholesky.check(retrograd.tensor([[1.0, 0.0], [0.6, 0.9]])).item()
    mixture = constraints.MixtureSameFamilyConstraint(constraints.positive)
    assert repr(mixture) == "MixtureSameFamilyConstraint(GreaterThan(lower_bound=0.0))"
    assert mixture.check(retrograd.tensor([[1.0, -1.0], [2.0, 3.0]])).tolist() == [[True, False], [True, True]]


@needs_torch
def test_constraint_reprs_and_flags_match_pytorch():
    for name in retrograd.distributions.constraints.__all__:
        theirs = getattr(torch.distributions.constraints, name)
        ours = getattr(retrograd.distributions.constraints, name)
        if isinstance(theirs, torch.distributions.constraints.Constraint) and name != "dependent":
            assert repr(ours) == repr(theirs), name
            assert (ours.is_discrete, ours.event_dim) == (theirs.is_discrete, theirs.event_dim), name


@needs_torch
def test_public_names_match_pytorchs():
    ours = set(retrograd.distributions.__all__)
    missing = {name for name in ours if not hasattr(torch.distributions, name)}
    assert not missing
    warnings.simplefilter("ignore")
    assert set(retrograd.distributions.constraints.__all__) <= set(torch.distributions.constraints.__all__)


def test_gamma_draws_move_with_the_concentration_as_the_moments_say():
    """E[x] = a and E[x^2] = a^2 + a for x ~ Gamma(a, 1), so the mean over draws of dx/da
    is 1 and of 2x dx/da is 2a + 1 (the implicit reparameterisation gradient is unbiased)."""
    retrograd.manual_seed(0)
    for a in (0.3, 2.5):
        alpha = retrograd.full((4000,), a, dtype=retrograd.float64, requires_grad=True)
        x = D.Gamma(alpha, 1.0).rsample()
        (slope,) = retrograd.autograd.grad(x.sum(), alpha, retain_graph=True)
        (second,) = retrograd.autograd.grad((x.detach() * x).sum() * 2, alpha)
        assert slope.mean().item() == pytest.approx(1.0, abs=0.06)
        assert second.mean().item() == pytest.approx(2 * a + 1, rel=0.08)
    rate = retrograd.tensor(2.0, dtype=retrograd.float64, requires_grad=True)
    retrograd.manual_seed(1)
    draws = D.Gamma(3.0, rate).rsample((5,))
    draws.sum().backward()
    np.testing.assert_allclose(rate.grad.item(), -(draws.detach() / rate.detach()).sum().item(), rtol=1e-12)


def test_dirichlet_draws_move_with_the_concentration_as_the_mean_says():
    """d E[x_j] / d a_k = (delta_jk a0 - a_j) / a0^2: the mean over draws of the gradient."""
    retrograd.manual_seed(0)
    concentration = retrograd.tensor([0.5, 2.0, 1.5], dtype=retrograd.float64, requires_grad=True)
    weights = retrograd.tensor([1.0, -2.0, 3.0], dtype=retrograd.float64)
    draws = D.Dirichlet(concentration).rsample((3000,))
    (draws * weights).sum().div(3000).backward()
    a, a0, w = np.array([0.5, 2.0, 1.5]), 4.0, np.array([1.0, -2.0, 3.0])
    expected = (w * a0 - (w * a).sum()) / a0**2
    np.testing.assert_allclose(concentration.grad.numpy(), expected, atol=0.03)
    np.testing.assert_allclose(draws.detach().numpy().sum(-1), 1.0, rtol=1e-12)


@needs_torch
def test_gamma_gradients_are_pytorchs_to_its_approximation():
    """PyTorch approximates the same implicit gradient (to about 6e-4 relative)."""
    for lib in (retrograd, torch):
        lib.manual_seed(4)
    alpha = [0.05, 0.7, 1.0, 3.0, 12.0, 150.0] * 20
    ours = retrograd.tensor(alpha, dtype=retrograd.float64, requires_grad=True)
    theirs = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    ours_draws, theirs_draws = D.Gamma(ours, 1.0).rsample(), torch.distributions.Gamma(theirs, 1.0).rsample()
    assert np.array_equal(_numpy(ours_draws), _numpy(theirs_draws))
    ours_draws.sum().backward()
    theirs_draws.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-3)

