"""The special functions (ops/pointwise/special.py, retrograd.special): values against the C
library and PyTorch, at poles, negative non-integers and large arguments, in float32 and
float64; the Tensor methods and in-place forms; the errors PyTorch raises."""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch
from retrograd.ops.pointwise import special_kernels

EDGES = [0.0, -0.0, -1.0, -2.0, -1.5, -2.5, 1.0, 2.0, 1e-8, 0.5, 3.0, 1e10, 1e300,
         math.inf, -math.inf, math.nan, -171.5, 1e-320, 7.25, -0.25]


def _many_points() -> np.ndarray:
    rng = np.random.default_rng(7)
    points = np.concatenate([
        rng.uniform(-40, 40, 4000), rng.uniform(0, 3, 4000), np.exp(rng.uniform(-30, 690, 2000)),
        1 + rng.uniform(-1e-3, 1e-3, 500), 2 + rng.uniform(-1e-3, 1e-3, 500),
    ])
    return points[points != np.floor(points)]


def test_lgamma_agrees_with_the_c_library_on_many_points():
    points = _many_points()
    expected = np.array([math.lgamma(value) for value in points])
    got = retrograd.lgamma(retrograd.tensor(points)).numpy()
    # (the C library's own error near the roots at 1 and 2 is about 1e-15 absolute)
    np.testing.assert_allclose(got, expected, rtol=2e-14, atol=3e-15)


def test_lgamma_is_exact_to_rounding_near_its_roots():
    near_one = 1 + np.array([1e-12, -3e-9, 2.5e-6, -1e-3])
    # log Gamma(1 + z) = -gamma z + zeta(2) z^2 / 2 - zeta(3) z^3 / 3 + ...
    z = near_one - 1
    series = -0.5772156649015329 * z + 1.6449340668482264 * z**2 / 2 - 1.2020569031595942 * z**3 / 3
    series += 1.0823232337111382 * z**4 / 4 - 1.0369277551433699 * z**5 / 5
    np.testing.assert_allclose(special_kernels.lgamma(near_one), series, rtol=1e-13)


def test_lgamma_of_the_poles_and_infinities_is_inf():
    values = special_kernels.lgamma(np.array([0.0, -0.0, -1.0, -7.0, math.inf, -math.inf]))
    assert np.all(values == math.inf)
    assert math.isnan(special_kernels.lgamma(np.array([math.nan]))[0])


def test_trigamma_is_exact_where_pytorchs_truncates():
    ones = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64)
    np.testing.assert_allclose(retrograd.polygamma(1, ones).numpy(),
                               [math.pi**2 / 6, math.pi**2 / 6 - 1], rtol=1e-15)
    np.testing.assert_allclose(retrograd.polygamma(2, ones[:1]).numpy(), [-2 * 1.2020569031595942],
                               rtol=1e-15)


def test_polygamma_at_a_far_negative_half_integer_is_the_tail_of_the_sum():
    # zeta(3, -m - 1/2): the terms on both sides of 0 cancel in pairs, leaving sum k > m of
    # (k + 1/2)^-3, about 1 / (2 m^2) (PyTorch's direct summation gives -2e-16 here)
    m = 1e10
    value = special_kernels.polygamma(2, np.array([-m - 0.5]))[0]
    assert value == pytest.approx(-2 * (1 / (2 * (m + 1) ** 2)), rel=1e-6)


def _compare(ours: np.ndarray, theirs: np.ndarray, rtol: float) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["lgamma", "digamma", "polygamma-1", "polygamma-2", "polygamma-3",
                                  "polygamma-6"])
def test_values_at_poles_and_far_arguments_are_pytorchs(name, dtype):
    import torch

    op, _, order = name.partition("-")
    points = np.array(EDGES, dtype=dtype)
    ours, theirs = retrograd.tensor(points), torch.tensor(points)
    if order:
        ours, theirs = retrograd.polygamma(int(order), ours), torch.polygamma(int(order), theirs)
    else:
        ours, theirs = getattr(retrograd, op)(ours), getattr(torch, op)(theirs)
    assert ours.dtype.name == dtype
    rtol = 1e-5 if dtype == "float32" else 1e-8 if op == "polygamma" else 1e-12
    if op == "polygamma" and order == "6":
        keep = points != -171.5  # PyTorch's direct sum loses digits there (-2.3e-12; exact -4.6e-12)
        _compare(ours.numpy()[keep], theirs.numpy()[keep], rtol)
        return
    _compare(ours.numpy(), theirs.numpy(), rtol)


@needs_torch
@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_incomplete_gamma_values_and_edges_are_pytorchs(name):
    import torch

    a = np.array([0, 0, 1, 0.5, 2, 10, 100, np.inf, np.inf, 1, 3, -1, 5, 0.1, 50, 1e-3, 7.0])
    x = np.array([0, 1, 0, 0.5, 3, 9, 110, 1, np.inf, np.inf, 0.01, 1, 0, 20, 60, 1e-3, -2.0])
    ours = getattr(retrograd, name)(retrograd.tensor(a), retrograd.tensor(x)).numpy()
    theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(x)).numpy()
    _compare(ours, theirs, 5e-9)  # PyTorch's own error is about 1e-9 at a = 50 (mpmath agrees with ours)
    ours32 = getattr(retrograd, name)(retrograd.tensor(a, dtype=retrograd.float32),
                                      retrograd.tensor(x, dtype=retrograd.float32))
    assert ours32.dtype == retrograd.float32


@needs_torch
@pytest.mark.parametrize("name", ["i0e", "i1", "i1e", "erfcx", "log_ndtr", "ndtri", "entr", "ndtr",
                                  "gammaln", "psi", "expit", "i0", "erfinv", "exp2", "sinc"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_namespace_values_are_pytorchs(name, dtype):
    import torch

    points = np.array([-800, -31, -5, -1.5, -0.3, 0, 1e-3, 0.2, 0.5, 0.95, 1, 2.4, 2.6, 5, 29, 31,
                       100, 720, 1e10, np.inf, -np.inf, np.nan], dtype=dtype)
    if name in ("ndtri", "erfinv"):
        points = np.array([0, 1e-300, 1e-20, 1e-3, 0.01, 0.3, 0.5, 0.7, 0.999, 1 - 1e-12, 1, -0.1,
                           1.1, np.nan], dtype=dtype)
    ours = getattr(retrograd.special, name)(retrograd.tensor(points)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(points)).numpy()
    _compare(ours, theirs, 1e-5 if dtype == "float32" else 1e-11)


@needs_torch
def test_zeta_and_xlog1py_values_are_pytorchs():
    import torch

    s = np.array([1, 2, 3, 0.5, 2.5, 4, 3, 3, 2, np.inf, 5, 3])
    q = np.array([1, 1, -1.5, 2, -1.5, 0, -2, 1e9, np.inf, 2, 1e-3, np.nan])
    _compare(retrograd.special.zeta(retrograd.tensor(s), retrograd.tensor(q)).numpy(),
             torch.special.zeta(torch.tensor(s), torch.tensor(q)).numpy(), 1e-12)
    x = np.array([0, 0, 1, 2, -1, 0])
    y = np.array([np.nan, 1, -1, 0.5, 3, -1])
    _compare(retrograd.special.xlog1py(retrograd.tensor(x), retrograd.tensor(y)).numpy(),
             torch.special.xlog1py(torch.tensor(x), torch.tensor(y)).numpy(), 1e-14)


@needs_torch
@pytest.mark.parametrize("name", ["gammaln", "digamma", "psi", "multigammaln", "polygamma", "expit",
                                  "logit", "i0e", "i1", "i1e", "ndtri", "log_ndtr", "entr",
                                  "erfcx", "round", "softmax", "log_softmax", "logsumexp", "exp2",
                                  "log1p", "expm1", "erf", "erfc", "erfinv", "i0"])
def test_special_namespace_records_pytorchs_grad_fn(name):
    """(ndtr is left out: PyTorch's C++ composite ends in MulBackward1, mul's Scalar overload,
    which Python code cannot call; retrograd's records MulBackward0.)"""
    import torch

    arguments = {"multigammaln": (2,), "softmax": (0,), "log_softmax": (0,), "logsumexp": (0,)}
    values = np.array([0.3, 0.6, 0.9])
    ours = retrograd.tensor(values + (1 if name == "multigammaln" else 0), requires_grad=True)
    theirs = torch.tensor(values + (1 if name == "multigammaln" else 0), requires_grad=True)
    if name == "polygamma":
        mine, reference = retrograd.special.polygamma(2, ours), torch.special.polygamma(2, theirs)
    else:
        extra = arguments.get(name, ())
        mine = getattr(retrograd.special, name)(ours, *extra)
        reference = getattr(torch.special, name)(theirs, *extra)
    np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-6)
    assert type(mine.grad_fn).__name__ == type(reference.grad_fn).__name__


def test_every_name_of_torch_special_that_is_listed_exists():
    for name in retrograd.special.__all__:
        assert callable(getattr(retrograd.special, name)), name


def test_methods_and_in_place_forms_record_pytorchs_nodes():
    x = retrograd.tensor([0.5, 1.5, 2.5], dtype=retrograd.float64, requires_grad=True)
    assert type(x.lgamma().grad_fn).__name__ == "LgammaBackward0"
    assert type(x.digamma().grad_fn).__name__ == "DigammaBackward0"
    assert type(x.polygamma(2).grad_fn).__name__ == "PolygammaBackward0"
    assert type((x + 2).mvlgamma(2).grad_fn).__name__ == "MvlgammaBackward0"
    y = x.clone()
    y.polygamma_(2)
    assert type(y.grad_fn).__name__ == "PolygammaBackward1"
    assert y.grad_fn._saved_n == 2
    np.testing.assert_allclose(y.detach().numpy(), retrograd.polygamma(2, x).detach().numpy())
    for method in ("lgamma_", "digamma_"):
        z = x.clone()
        getattr(z, method)()
        assert type(z.grad_fn).__name__ == method[:-1].capitalize() + "Backward0"
    z = x.clone() + 2
    z.mvlgamma_(3)
    assert type(z.grad_fn).__name__ == "MvlgammaBackward0" and z.grad_fn._saved_p == 3
    a = retrograd.tensor([1.0, 2.0, 3.0], dtype=retrograd.float64)
    a.igamma_(x)
    assert type(a.grad_fn).__name__ == "IgammaBackward0"


def test_the_gradient_flows_to_the_second_argument_of_igamma_only():
    a = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    x = retrograd.tensor([0.5, 3.0], dtype=retrograd.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not implemented"):
        retrograd.igamma(a, x).sum().backward()
    with pytest.raises(NotImplementedError, match="the derivative for 'igammac: input' is not implemented"):
        retrograd.igammac(a, x).sum().backward()
    with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented"):
        retrograd.special.zeta(a + 1, x).sum().backward()
    (gradient,) = retrograd.autograd.grad(retrograd.igamma(a.detach(), x).sum(), x)
    expected = np.exp((np.array([1.0, 2.0]) - 1) * np.log([0.5, 3.0]) - np.array([0.5, 3.0])
                      - np.array([0.0, 0.0]))
    np.testing.assert_allclose(gradient.numpy(), expected, rtol=1e-14)
    y = retrograd.igamma(a, x)
    assert {"_saved_self", "_saved_other"} <= set(dir(y.grad_fn))


def test_bad_arguments_raise_pytorchs_errors():
    x = retrograd.tensor([1.0, 2.0])
    before = x.clone()
    with pytest.raises(RuntimeError, match="does not support negative n"):
        retrograd.polygamma(-1, x)
    with pytest.raises(RuntimeError, match="does not support negative n"):
        x.polygamma_(-1)
    with pytest.raises(TypeError, match="argument 'n' \\(position 1\\) must be int, not float"):
        retrograd.polygamma(1.5, x)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        retrograd.mvlgamma(x, 0)
    with pytest.raises(NotImplementedError, match="\"igamma_cpu\" not implemented for 'Long'"):
        retrograd.igamma(retrograd.tensor([1]), retrograd.tensor([2]))
    with pytest.raises(TypeError, match="argument 'other' \\(position 2\\) must be Tensor, not float"):
        retrograd.igamma(x, 2.0)
    assert retrograd.equal(x, before)


def test_integer_inputs_compute_in_the_default_float_dtype():
    assert retrograd.lgamma(retrograd.tensor([3, 0])).dtype == retrograd.float32
    assert retrograd.lgamma(retrograd.tensor([3, 0])).tolist() == [pytest.approx(math.log(2)), math.inf]
    assert retrograd.polygamma(1, retrograd.tensor([1, 2])).dtype == retrograd.float32


def test_distributions_use_the_public_ops():
    from retrograd.distributions import _special

    assert _special.lgamma is retrograd.lgamma
    assert _special.digamma is retrograd.digamma
    assert _special.polygamma is retrograd.polygamma
