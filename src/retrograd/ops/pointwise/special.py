"""The special functions as declared ops: log-gamma and its derivatives (lgamma, digamma,
polygamma, mvlgamma), the regularised incomplete gamma functions (igamma, igammac), and the
ops of `torch.special` that have a node of their own (i0e, i1, i1e, ndtri, log_ndtr, entr,
erfcx, xlog1py, zeta).

The forwards run the float64 kernels of `special_kernels.py` and round to the input's dtype;
each derivative calls the next function of the family through `_on_either`, so it runs on
arrays without create_graph and records with it (Note [One formula, two modes]).
"""

from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._table import apply, register, register_method, run_in_place
from .._tangents import ELEMENT_WISE
from . import special_kernels as kernels
from .promotion import _floating, floating_input, operand_arrays
from .unary import SpecialI1Backward0

_SQRT_TWO_PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _rounded(values: np.ndarray, dtype) -> np.ndarray:
    """A float64 kernel's values in the input's dtype (an array even for 0-d input)."""
    return np.asarray(values, dtype=dtype)


def _on_either(op_name: str, kernel):
    """`op_name` of an array (the kernel, rounded to the array's dtype) or of a Tensor (the
    recorded op): what a derivative formula calls."""

    def function(x, *args):
        if isinstance(x, Tensor):
            from .._table import table

            return table[op_name].function(x, *args)
        return _rounded(kernel(x, *args), x.dtype)

    function.__name__ = op_name
    return function


_lgamma = _on_either("lgamma", kernels.lgamma)
_digamma = _on_either("digamma", kernels.digamma)
_i0e = _on_either("special.i0e", kernels.i0e)
_i1e = _on_either("special.i1e", kernels.i1e)


def _polygamma(n: int, x):
    """polygamma(n, x) of an array or of a Tensor (recorded)."""
    if isinstance(x, Tensor):
        return polygamma(n, x)
    return _rounded(kernels.polygamma(n, x, x.dtype), x.dtype)


def _zeta(x, q):
    if isinstance(x, Tensor) or isinstance(q, Tensor):
        return zeta(x, q)
    return _rounded(kernels.zeta(x, q), np.result_type(x, q))


def _not_implemented(what: str):
    raise NotImplementedError(f"the derivative for '{what}' is not implemented.")


def _floating_kernel(kernel, x: Tensor, op_name: str, *args) -> np.ndarray:
    data = floating_input(x, op_name)
    return _rounded(kernel(data, *args), data.dtype)


# ---------------------------------------------------------------------------
# log Gamma and its derivatives


class LgammaBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(kernels.lgamma, self, "lgamma")

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _digamma(self)}


class DigammaBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(kernels.digamma, self, "digamma")

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _polygamma(1, self)}


class PolygammaBackward0(Formula):
    @staticmethod
    def forward(self, n):
        data = floating_input(self, "polygamma")
        return _rounded(kernels.polygamma(n, data, data.dtype), data.dtype)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, n: grad * _polygamma(n + 1, self)}


class PolygammaBackward1(PolygammaBackward0):
    """polygamma_, the in-place form, under PyTorch's name for it."""

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, n: grad * _polygamma(n + 1, self)}


def _digamma_sum(x, p: int):
    """sum over j < p of digamma(x - j / 2): the derivative of mvlgamma."""
    total = _digamma(x)
    for j in range(1, p):
        total = total + _digamma(x - j / 2)
    return total


class MvlgammaBackward0(Formula):
    @staticmethod
    def forward(self, p):
        data = floating_input(self, "mvlgamma")
        total = kernels.lgamma(data)
        for j in range(1, p):
            total = total + kernels.lgamma(data - j / 2)
        return _rounded(total + p * (p - 1) / 4 * math.log(math.pi), data.dtype)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, p: grad * _digamma_sum(self, p)}


@register(methods="lgamma", inplace="lgamma_")
def lgamma(input):
    """The log of the absolute value of Gamma(x), elementwise (inf at the poles)."""
    return apply(LgammaBackward0, input)


@register(methods="digamma", inplace="digamma_")
def digamma(input):
    """The derivative of lgamma (psi); -inf at 0, NaN at the negative integers."""
    return apply(DigammaBackward0, input)


def _check_order(n) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")


@register()
def polygamma(n, input):
    """The n-th derivative of digamma (n = 0 is digamma itself)."""
    _check_order(n)
    return apply(PolygammaBackward0, input, n=int(n))


def _polygamma_method(self, n):
    """`polygamma(n, self)`."""
    return polygamma(n, self)


def _polygamma_(self, n):
    """In-place polygamma: writes polygamma(n, self) into self (PolygammaBackward1)."""
    _check_order(n)
    return run_in_place(self, lambda tensor: apply(PolygammaBackward1, tensor, n=int(n)))


register_method("polygamma", _polygamma_method)
register_method("polygamma_", _polygamma_)


@register(methods="mvlgamma", inplace="mvlgamma_")
def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension p.

    The sum over j < p of lgamma(x - j/2), plus p (p - 1) / 4 log(pi)."""
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return apply(MvlgammaBackward0, input, p=int(p))


# ---------------------------------------------------------------------------
# The regularised incomplete gamma functions


def _incomplete_gamma_operands(a, x, op_name: str):
    left, right = operand_arrays(a, x, op_name)
    if left.dtype.kind not in "fc":
        found = _dtype.scalar_type_name(_dtype.from_numpy_dtype(np.asarray(left).dtype))
        raise NotImplementedError(f'"{op_name}_cpu" not implemented for \'{found}\'')
    return left, right


def _igamma_density(grad, self, other):
    """grad * x^(a-1) e^-x / Gamma(a): the derivative of igamma in x."""
    return grad * _math.exp((self - 1) * _math.log(other) - other - _lgamma(self))


class IgammaBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        a, x = _incomplete_gamma_operands(self, other, "igamma")
        return _rounded(kernels.igamma(a, x), a.dtype)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _not_implemented("igamma: input"),
        "other": lambda grad, self, other: _igamma_density(grad, self, other),
    }


class IgammacBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        a, x = _incomplete_gamma_operands(self, other, "igammac")
        return _rounded(kernels.igammac(a, x), a.dtype)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _not_implemented("igammac: input"),
        "other": lambda grad, self, other: -_igamma_density(grad, self, other),
    }


def _fixed_first_argument(op):
    """The op as the gradient tests call it: the first argument (an int64 tensor in the samples,
    so that it does not require grad) as floats in (0.5, 4.5), the second as it is."""

    def call(first, second, **kwargs):
        return op(first.to(second.dtype) / 2 + 0.5, second, **kwargs)

    return call


def _tensor_other(op_name: str, other) -> None:
    if not isinstance(other, Tensor):
        raise TypeError(f"{op_name}(): argument 'other' (position 2) must be Tensor, "
                        f"not {type(other).__name__}")


@register(methods="igamma", inplace="igamma_", gradcheck_wrapper=_fixed_first_argument)
def igamma(input, other):
    """The regularised lower incomplete gamma function P(input, other).

    Differentiable in `other` only, as in PyTorch."""
    _tensor_other("igamma", other)
    return apply(IgammaBackward0, input, other)


@register(methods="igammac", inplace="igammac_", gradcheck_wrapper=_fixed_first_argument)
def igammac(input, other):
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P.

    Differentiable in `other` only, as in PyTorch."""
    _tensor_other("igammac", other)
    return apply(IgammacBackward0, input, other)


# ---------------------------------------------------------------------------
# The ops of torch.special with a node of their own


class SpecialI0EBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(kernels.i0e, self, "special_i0e")

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, result: grad * (_i1e(self) - _math.sgn(self) * result)}


def _i1e_derivative(grad, self, result):
    """d/dx i1e = i0e(x) - i1e(x) (sgn(x) + 1/x), and 1/2 at 0 (its limit)."""
    at_zero = self == 0
    safe = _math.where(at_zero, 1.0, self)
    slope = _i0e(safe) - result * (_math.sgn(safe) + 1 / safe)
    return grad * _math.where(at_zero, 0.5, slope)


class SpecialI1EBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(kernels.i1e, self, "special_i1e")

    tangent = ELEMENT_WISE
    derivatives = {"self": _i1e_derivative}


class SpecialNdtriBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(kernels.ndtri, self, "special_ndtri")

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: grad * _SQRT_TWO_PI * _math.exp(result * result / 2)}


class SpecialLogNdtrBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(kernels.log_ndtr, self, "special_log_ndtr")

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, result: grad / _SQRT_TWO_PI * _math.exp(
        -(result + self * self / 2))}


def _entropy(data: np.ndarray) -> np.ndarray:
    """-x log x, 0 at 0, -inf below 0 (NaN stays NaN)."""
    with np.errstate(all="ignore"):
        values = -data * np.log(np.where(data > 0, data, 1.0))
        return np.where(data < 0, -np.inf, np.where(data == 0, 0.0, values))


class SpecialEntrBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(_entropy, self, "entr")

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * -(1 + _math.log(self))}


class SpecialErfcxBackward0(Formula):
    @staticmethod
    def forward(self):
        return _floating_kernel(kernels.erfcx, self, "erfcx")

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, result: (2 * self * result - _TWO_OVER_SQRT_PI) * grad}


def _xlog1py_arrays(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x log1p(y), and 0 where x is 0 unless y is NaN."""
    with np.errstate(all="ignore"):
        values = x * np.log1p(y)
        return np.where((x == 0) & ~np.isnan(y), 0.0, values).astype(values.dtype, copy=False)


def _xlog1py_either(x, y):
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        return xlog1py(x, y)
    return _xlog1py_arrays(x, y)


def _nonzero(x):
    """1.0 where x is not 0, else 0.0, in x's kind (array or Tensor)."""
    if isinstance(x, Tensor):
        return (x != 0).to(x.dtype)
    return (x != 0).astype(x.dtype)


class SpecialXlog1PyBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "special_xlog1py")
        return _xlog1py_arrays(_floating(left), _floating(right))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: grad * _xlog1py_either(_nonzero(self), other),
        "other": lambda grad, self, other: grad * self / (other + 1),
    }


class SpecialXlog1PyBackward1(Formula):
    """A number times log1p(other): PyTorch's node for a number as the first argument (the
    number saved as `self`)."""

    inputs = ("other",)

    @staticmethod
    def forward(other, self):
        return SpecialXlog1PyBackward0.forward(_number_as_tensor(self, other), other)

    tangent = ELEMENT_WISE
    derivatives = {"other": lambda grad, self, other: grad * self / (other + 1)}


class SpecialXlog1PyBackward2(Formula):
    """self times log1p of a number: PyTorch's node for a number as the second argument (the
    number saved as `other`)."""

    @staticmethod
    def forward(self, other):
        return SpecialXlog1PyBackward0.forward(self, _number_as_tensor(other, self))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, other: grad * _xlog1py_either(_nonzero(self), other)}


class SpecialZetaBackward0(Formula):
    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "special_zeta")
        left, right = _floating(left), _floating(right)
        return _rounded(kernels.zeta(left, right), np.result_type(left, right))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, other: _not_implemented("zeta"),
        "other": lambda grad, self, other: grad * -self * _zeta(self + 1.0, other),
    }


def _zeta_argument_fixed(op):
    """As _fixed_first_argument, with the exponent in (1.5, 5.5): zeta needs it above 1."""

    def call(first, second, **kwargs):
        return op(first.to(second.dtype) / 2 + 1.5, second, **kwargs)

    return call


@register("special.i0e")
def i0e(input):
    """I0(x) exp(-abs(x)), the exponentially scaled modified Bessel function of order 0."""
    return apply(SpecialI0EBackward0, input)


@register("special.i1")
def i1(input):
    """I1, the modified Bessel function of the first kind of order 1."""
    return apply(SpecialI1Backward0, input)


@register("special.i1e")
def i1e(input):
    """I1(x) exp(-abs(x)), the exponentially scaled modified Bessel function of order 1."""
    return apply(SpecialI1EBackward0, input)


@register("special.ndtri")
def ndtri(input):
    """The inverse of the standard normal CDF (the quantile function)."""
    return apply(SpecialNdtriBackward0, input)


@register("special.log_ndtr")
def log_ndtr(input):
    """log of the standard normal CDF, accurate far into both tails."""
    return apply(SpecialLogNdtrBackward0, input)


@register("special.entr")
def entr(input):
    """-x log x elementwise (0 at 0, -inf for x < 0)."""
    return apply(SpecialEntrBackward0, input)


@register("special.erfcx")
def erfcx(input):
    """The scaled complementary error function exp(x^2) erfc(x), without overflow."""
    return apply(SpecialErfcxBackward0, input)


def _number_as_tensor(value, like):
    if isinstance(value, Tensor):
        return value
    dtype = like._data.dtype if isinstance(like, Tensor) and like._data.dtype.kind == "f" else None
    if dtype is None:
        dtype = _dtype.get_default_dtype().numpy
    return Tensor._make(np.asarray(value, dtype=dtype))


@register("special.xlog1py")
def xlog1py(input, other):
    """input * log1p(other), and 0 where input is 0 (unless other is NaN)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special_xlog1py(): expected a Tensor for 'input' or 'other'")
    if not isinstance(input, Tensor):
        return apply(SpecialXlog1PyBackward1, other, self=input)
    if not isinstance(other, Tensor):
        return apply(SpecialXlog1PyBackward2, input, other=other)
    return apply(SpecialXlog1PyBackward0, input, other)


@register("special.zeta", gradcheck_wrapper=_zeta_argument_fixed)
def zeta(input, other):
    """The Hurwitz zeta function: the sum over k >= 0 of (other + k)^-input.

    Differentiable in `other` only, as in PyTorch."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special_zeta(): expected a Tensor for 'input' or 'other'")
    return apply(SpecialZetaBackward0, _number_as_tensor(input, other), _number_as_tensor(other, input))
