"""torch.special's Bessel and Airy functions and orthogonal polynomials: values against closed
forms, known values and mpmath (to about 1e-13), PyTorch's values, special values and dtypes,
no gradient (as PyTorch), and PyTorch's errors.

PyTorch's float64 J0, J1, Y0, Y1 and Ai come from single-precision-grade approximations in
places (J0(5) is -0.17759678121 in PyTorch 2.13, -0.17759677131 exactly), so our values are held
to mpmath and compared with PyTorch only to the accuracy PyTorch has.
"""

import math

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import special

UNARY = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]
POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p", "shifted_chebyshev_polynomial_t",
               "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w"]
# PyTorch's error on each, relative to the function's local scale (measured against mpmath)
PYTORCH_ACCURACY = {"bessel_j0": 1e-4, "bessel_j1": 1e-4, "bessel_y0": 1e-4, "bessel_y1": 1e-4,
                    "airy_ai": 1e-3}


def _values(name, x):
    return getattr(special, name)(retrograd.tensor(np.asarray(x, dtype=np.float64))).numpy()


def test_known_values():
    assert _values("bessel_j0", [0.0, 2.404825557695773])[0] == 1.0
    assert abs(_values("bessel_j0", [2.404825557695773])[0]) < 1e-15  # the first zero of J0
    np.testing.assert_allclose(_values("bessel_j0", [5.0]), [-0.17759677131433830435], rtol=1e-14)
    np.testing.assert_allclose(_values("bessel_y1", [1.0]), [-0.78121282130028871655], rtol=1e-14)
    np.testing.assert_allclose(_values("modified_bessel_k0", [1.0]), [0.42102443824070833334], rtol=1e-14)
    np.testing.assert_allclose(_values("airy_ai", [0.0, -2.5]), [0.35502805388781723926,
                                                                 -0.11232506769296600], rtol=1e-13)
    np.testing.assert_allclose(_values("spherical_bessel_j0", [0.0, math.pi, 1.0]),
                               [1.0, 0.0, math.sin(1.0)], atol=1e-16)


def test_identities_between_the_functions():
    x = np.linspace(0.1, 40, 300)
    j0, j1, y0, y1 = (_values(name, x) for name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"))
    np.testing.assert_allclose(j1 * y0 - j0 * y1, 2 / (math.pi * x), rtol=1e-12)  # the Wronskian
    k0, k1 = _values("modified_bessel_k0", x), _values("modified_bessel_k1", x)
    i0, i1 = _values("modified_bessel_i0", x), _values("modified_bessel_i1", x)
    np.testing.assert_allclose(i0 * k1 + i1 * k0, 1 / x, rtol=1e-12)
    np.testing.assert_allclose(_values("scaled_modified_bessel_k1", x), k1 * np.exp(x), rtol=1e-12)
    np.testing.assert_allclose(_values("modified_bessel_i0", x[:50]), np.i0(x[:50]), rtol=1e-14)


@pytest.mark.parametrize("name", UNARY)
def test_values_agree_with_mpmath(name):
    mpmath = pytest.importorskip("mpmath")
    exact_functions = {
        "airy_ai": mpmath.airyai, "bessel_j0": lambda v: mpmath.besselj(0, v),
        "bessel_j1": lambda v: mpmath.besselj(1, v), "bessel_y0": lambda v: mpmath.bessely(0, v),
        "bessel_y1": lambda v: mpmath.bessely(1, v), "modified_bessel_i0": lambda v: mpmath.besseli(0, v),
        "modified_bessel_i1": lambda v: mpmath.besseli(1, v),
        "modified_bessel_k0": lambda v: mpmath.besselk(0, v),
        "modified_bessel_k1": lambda v: mpmath.besselk(1, v),
        "scaled_modified_bessel_k0": lambda v: mpmath.besselk(0, v) * mpmath.exp(v),
        "scaled_modified_bessel_k1": lambda v: mpmath.besselk(1, v) * mpmath.exp(v),
        "spherical_bessel_j0": lambda v: mpmath.sin(v) / v,
    }
    positive_only = name.startswith(("bessel_y", "modified_bessel_k", "scaled"))
    rng = np.random.default_rng(1)
    x = np.concatenate([np.linspace(0.05, 30, 120), rng.uniform(0, 60, 40), [1e-6, 0.999, 1.001, 2.0,
                                                                            2.001, 24.999, 25.001]])
    if not positive_only:
        x = np.concatenate([x, -x[::3]])
    if name == "airy_ai":
        x = x[x < 60]
    ours = _values(name, x)
    exact = np.array([float(exact_functions[name](mpmath.mpf(float(v)))) for v in x])
    oscillating = name.startswith(("bessel", "airy", "spherical"))
    scale = np.maximum(np.abs(exact), 0.01 / np.sqrt(np.maximum(np.abs(x), 1))) if oscillating else np.abs(exact)
    assert np.max(np.abs(ours - exact) / scale) < 5e-13


def test_polynomials_match_closed_forms():
    x = np.linspace(-1.5, 1.5, 31)
    t = retrograd.tensor(x)
    closed = {
        "chebyshev_polynomial_t": (3, 4 * x ** 3 - 3 * x),
        "chebyshev_polynomial_u": (2, 4 * x ** 2 - 1),
        "chebyshev_polynomial_v": (2, 4 * x ** 2 - 2 * x - 1),
        "chebyshev_polynomial_w": (2, 4 * x ** 2 + 2 * x - 1),
        "hermite_polynomial_h": (3, 8 * x ** 3 - 12 * x),
        "hermite_polynomial_he": (3, x ** 3 - 3 * x),
        "laguerre_polynomial_l": (2, (x ** 2 - 4 * x + 2) / 2),
        "legendre_polynomial_p": (3, (5 * x ** 3 - 3 * x) / 2),
        "shifted_chebyshev_polynomial_t": (2, 2 * (2 * x - 1) ** 2 - 1),
        "shifted_chebyshev_polynomial_u": (1, 2 * (2 * x - 1)),
    }
    for name, (degree, expected) in closed.items():
        np.testing.assert_allclose(getattr(special, name)(t, degree).numpy(), expected, atol=1e-13,
                                   err_msg=name)


def test_chebyshev_polynomials_of_high_degree_are_cosines():
    angles = np.linspace(0.01, 3.1, 50)
    x = retrograd.tensor(np.cos(angles))
    for degree in (7, 30, 1000):
        np.testing.assert_allclose(special.chebyshev_polynomial_t(x, degree).numpy(),
                                   np.cos(degree * angles), atol=1e-11)


def test_the_degree_is_truncated_and_a_negative_one_gives_zero():
    x = retrograd.tensor([0.3], dtype=retrograd.float64)
    degrees = retrograd.tensor([-2.0, -0.5, 1.9, 2.7], dtype=retrograd.float64)
    assert special.chebyshev_polynomial_t(x, degrees).tolist() == [0.0, 1.0, 0.3, 2 * 0.09 - 1]


def test_results_have_no_gradient_as_in_pytorch():
    x = retrograd.tensor([0.5, 1.5], requires_grad=True)
    for result in (special.bessel_j0(x), special.hermite_polynomial_h(x, 3)):
        assert result.grad_fn is None and not result.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        special.airy_ai(x).sum().backward()


def test_dtypes_follow_pytorchs_promotion():
    assert special.bessel_j0(retrograd.tensor([1, 2])).dtype == retrograd.float32
    assert special.bessel_j0(retrograd.tensor([1.0], dtype=retrograd.float64)).dtype == retrograd.float64
    ints = retrograd.tensor([1, 2])
    assert special.chebyshev_polynomial_t(ints, ints).dtype == retrograd.float32
    float32 = retrograd.tensor([0.5, 2.0])
    assert special.chebyshev_polynomial_t(float32, retrograd.tensor(3.0, dtype=retrograd.float64)).dtype \
        == retrograd.float32
    assert special.chebyshev_polynomial_t(2.0, retrograd.tensor([2, 3])).tolist() == [7.0, 26.0]


def test_out_receives_the_result():
    out = retrograd.zeros(2)
    returned = special.bessel_j0(retrograd.tensor([0.0, 1.0]), out=out)
    assert returned is out and out[0].item() == 1.0
    special.legendre_polynomial_p(retrograd.tensor([1.0, -1.0]), 3, out=out)
    assert out.tolist() == [1.0, -1.0]


def test_arguments_that_are_not_tensors_are_type_errors():
    with pytest.raises(TypeError, match="argument 'input' \\(position 1\\) must be Tensor, not float"):
        special.bessel_j0(1.0)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        special.chebyshev_polynomial_t(1.0, 2)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        special.hermite_polynomial_h(retrograd.tensor([1.0]), "2")


_SPECIAL_POINTS = [0.0, -0.0, -1.0, 1e-300, math.inf, -math.inf, math.nan, -2.5, 1e-10, 110.0, 104.0,
                   103.8, 700.0]


@needs_torch
@pytest.mark.parametrize("name", UNARY)
def test_special_values_are_pytorchs(name):
    x = np.array(_SPECIAL_POINTS)
    ours = _values(name, x)
    theirs = getattr(torch.special, name)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=PYTORCH_ACCURACY.get(name, 1e-12))
    assert np.array_equal(np.signbit(ours) | np.isnan(ours), np.signbit(theirs) | np.isnan(theirs))


@needs_torch
@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_pytorch_to_its_accuracy(name, dtype):
    x = np.concatenate([np.linspace(-40, 40, 801), np.logspace(-6, 2.5, 60)]).astype(dtype)
    ours = getattr(special, name)(retrograd.tensor(x)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(x)).numpy()
    assert ours.dtype == theirs.dtype
    finite = np.isfinite(theirs)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    scale = np.maximum(np.abs(theirs[finite]), 0.01 if name.startswith(("bessel", "airy", "spherical")) else 0)
    error = np.abs(ours[finite] - theirs[finite]) / np.where(scale > 0, scale, 1.0)
    tolerance = max(PYTORCH_ACCURACY.get(name, 1e-12), 1e-5 if dtype == "float32" else 0.0)
    assert error.max(initial=0.0) < tolerance


@needs_torch
@pytest.mark.parametrize("name", POLYNOMIALS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_polynomials_match_pytorch(name, dtype):
    x = np.concatenate([np.linspace(-1.5, 1.5, 61), [1.0, -1.0, 0.0, 0.5, math.inf, -math.inf]])
    degrees = np.array([-3, -1, 0, 1, 2, 3, 5, 7, 8, 9, 12, 25, -0.5, 2.7])
    grid_x, grid_n = np.meshgrid(x.astype(dtype), degrees.astype(dtype))
    ours = getattr(special, name)(retrograd.tensor(grid_x), retrograd.tensor(grid_n)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(grid_x), torch.tensor(grid_n)).numpy()
    assert ours.dtype == theirs.dtype
    # PyTorch computes float32 in float32, its error growing with the degree; ours is rounded from float64
    tolerance = 2e-5 * np.maximum(1, np.abs(grid_n)) if dtype == "float32" else 1e-11
    both_nan = np.isnan(ours) & np.isnan(theirs)
    close = np.abs(ours - theirs) <= tolerance * np.maximum(1, np.abs(theirs))
    assert np.all(close | both_nan | (ours == theirs))
    number = getattr(special, name)(retrograd.tensor(x), 4).numpy()
    np.testing.assert_allclose(number, getattr(torch.special, name)(torch.tensor(x), 4).numpy(), rtol=1e-12)
