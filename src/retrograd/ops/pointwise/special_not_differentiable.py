"""The functions of `torch.special` that PyTorch does not differentiate: the Bessel functions
(bessel_j0/j1/y0/y1, modified_bessel_i0/i1/k0/k1, scaled_modified_bessel_k0/k1,
spherical_bessel_j0), airy_ai, and the orthogonal polynomials (chebyshev_polynomial_t/u/v/w and
their shifted forms, hermite_polynomial_h/he, laguerre_polynomial_l, legendre_polynomial_p).

As in PyTorch their results have no grad_fn and never require grad, even for an input that
does (so `backward` through them says the tensor "does not require grad"). The values come from
the float64 kernels of `bessel_kernels.py`, `polynomial_kernels.py` and `special_kernels.py`,
rounded to the result's dtype: the input's floating dtype, or the default float dtype for
integer and bool input. Each takes PyTorch's `out=`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..._tensor import Tensor
from .. import _out
from . import bessel_kernels, special_kernels
from .polynomial_kernels import KERNELS as _POLYNOMIAL_KERNELS
from .promotion import _floating, operand_arrays

__all__ = [
    "airy_ai",
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "chebyshev_polynomial_t",
    "chebyshev_polynomial_u",
    "chebyshev_polynomial_v",
    "chebyshev_polynomial_w",
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "spherical_bessel_j0",
]


def _result(values: np.ndarray, dtype: np.dtype, out, name: str) -> Tensor:
    with np.errstate(all="ignore"):
        result = Tensor._make(np.asarray(values, dtype=dtype))
    return result if out is None else _out.write(out, result, name)


def _modified_i(order: int):
    """I0 or I1: the scaled kernel times e^|x| (NaN at +-inf, as PyTorch)."""
    scaled = special_kernels.i0e if order == 0 else special_kernels.i1e

    def kernel(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            values = np.where(np.isinf(x), np.nan, scaled(x) * np.exp(np.abs(x)))
        return values + 0.0  # I1(-0) is +0, as PyTorch's

    return kernel


_UNARY_KERNELS = {
    "airy_ai": bessel_kernels.airy_ai,
    "bessel_j0": bessel_kernels.bessel_j0,
    "bessel_j1": bessel_kernels.bessel_j1,
    "bessel_y0": bessel_kernels.bessel_y0,
    "bessel_y1": bessel_kernels.bessel_y1,
    "modified_bessel_i0": _modified_i(0),
    "modified_bessel_i1": _modified_i(1),
    "modified_bessel_k0": bessel_kernels.modified_bessel_k0,
    "modified_bessel_k1": bessel_kernels.modified_bessel_k1,
    "scaled_modified_bessel_k0": bessel_kernels.scaled_modified_bessel_k0,
    "scaled_modified_bessel_k1": bessel_kernels.scaled_modified_bessel_k1,
    "spherical_bessel_j0": bessel_kernels.spherical_bessel_j0,
}


def _unary(name: str, doc: str):
    kernel = _UNARY_KERNELS[name]

    def function(input: Tensor, *, out=None) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"special_{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        data = _floating(input._data)
        return _result(kernel(data.astype(np.float64)), data.dtype, out, f"special.{name}")

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return function


def _polynomial(name: str, doc: str):
    kernel = _POLYNOMIAL_KERNELS[name]

    def function(input, n, *, out=None) -> Tensor:
        _check_polynomial_arguments(name, input, n)
        x, degree = operand_arrays(input, n, f"special_{name}")
        dtype = _floating(np.asarray(x)).dtype
        values = kernel(np.asarray(x, dtype=np.float64), np.asarray(degree, dtype=np.float64))
        return _result(values, dtype, out, f"special.{name}")

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return function


def _check_polynomial_arguments(name: str, input, n) -> None:
    """PyTorch's signatures: (Tensor, Tensor), (Number, Tensor) or (Tensor, Number)."""
    tensors = [isinstance(value, Tensor) for value in (input, n)]
    numbers_given = [isinstance(value, numbers.Real) and not isinstance(value, Tensor)
                     for value in (input, n)]
    if not any(tensors) or not all(t or number for t, number in zip(tensors, numbers_given)):
        raise TypeError(
            f"special_{name}() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(n).__name__}), but expected one of: (Tensor x, "
            "Tensor n), (Number x, Tensor n), (Tensor x, Number n)")


airy_ai = _unary("airy_ai", "Ai, the Airy function of the first kind.")
bessel_j0 = _unary("bessel_j0", "J0, the Bessel function of the first kind of order 0.")
bessel_j1 = _unary("bessel_j1", "J1, the Bessel function of the first kind of order 1.")
bessel_y0 = _unary("bessel_y0", "Y0, the Bessel function of the second kind of order 0 (NaN below 0).")
bessel_y1 = _unary("bessel_y1", "Y1, the Bessel function of the second kind of order 1 (NaN below 0).")
modified_bessel_i0 = _unary(
    "modified_bessel_i0", "I0, the modified Bessel function of the first kind of order 0.")
modified_bessel_i1 = _unary(
    "modified_bessel_i1", "I1, the modified Bessel function of the first kind of order 1.")
modified_bessel_k0 = _unary(
    "modified_bessel_k0", "K0, the modified Bessel function of the second kind of order 0.")
modified_bessel_k1 = _unary(
    "modified_bessel_k1", "K1, the modified Bessel function of the second kind of order 1.")
scaled_modified_bessel_k0 = _unary("scaled_modified_bessel_k0", "K0(x) e^x, without its underflow.")
scaled_modified_bessel_k1 = _unary("scaled_modified_bessel_k1", "K1(x) e^x, without its underflow.")
spherical_bessel_j0 = _unary(
    "spherical_bessel_j0", "j0(x) = sin(x) / x, the spherical Bessel function of order 0.")

chebyshev_polynomial_t = _polynomial(
    "chebyshev_polynomial_t", "T_n(x), the Chebyshev polynomial of the first kind.")
chebyshev_polynomial_u = _polynomial(
    "chebyshev_polynomial_u", "U_n(x), the Chebyshev polynomial of the second kind.")
chebyshev_polynomial_v = _polynomial(
    "chebyshev_polynomial_v", "V_n(x), the Chebyshev polynomial of the third kind.")
chebyshev_polynomial_w = _polynomial(
    "chebyshev_polynomial_w", "W_n(x), the Chebyshev polynomial of the fourth kind.")
shifted_chebyshev_polynomial_t = _polynomial(
    "shifted_chebyshev_polynomial_t", "T_n(2x - 1), T shifted to [0, 1].")
shifted_chebyshev_polynomial_u = _polynomial(
    "shifted_chebyshev_polynomial_u", "U_n(2x - 1), U shifted to [0, 1].")
shifted_chebyshev_polynomial_v = _polynomial(
    "shifted_chebyshev_polynomial_v", "V_n(2x - 1), V shifted to [0, 1].")
shifted_chebyshev_polynomial_w = _polynomial(
    "shifted_chebyshev_polynomial_w", "W_n(2x - 1), W shifted to [0, 1].")
hermite_polynomial_h = _polynomial("hermite_polynomial_h", "H_n(x), the physicists' Hermite polynomial.")
hermite_polynomial_he = _polynomial("hermite_polynomial_he", "He_n(x), the probabilists' Hermite polynomial.")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", "L_n(x), the Laguerre polynomial.")
legendre_polynomial_p = _polynomial("legendre_polynomial_p", "P_n(x), the Legendre polynomial.")
