"""`retrograd.special`: PyTorch's `torch.special` namespace.

The Bessel and Airy functions and the orthogonal polynomials, which PyTorch does not
differentiate, are in ops/pointwise/special_not_differentiable.py. Most other names are the ops
of the table under the names SciPy uses (gammaln is lgamma, expit is sigmoid, gammainc is
igamma, ...) and record the same grad_fn as PyTorch's; the special functions with a node of
their own are declared in ops/pointwise/special.py.
"""

from __future__ import annotations

import math

from ._tensor import Tensor
from .ops.nn.activation import log_softmax as _log_softmax
from .ops.nn.activation import softmax as _softmax
from .ops.pointwise import erf, erfc, erfinv, exp2, expm1, log1p, logit, sinc, xlogy
from .ops.pointwise import round as _round
from .ops.pointwise import sigmoid as expit
from .ops.pointwise.special import (
    digamma,
    entr,
    erfcx,
    i0e,
    i1,
    i1e,
    log_ndtr,
    ndtri,
    polygamma,
    xlog1py,
    zeta,
)
from .ops.pointwise.special import igamma as gammainc
from .ops.pointwise.special import igammac as gammaincc
from .ops.pointwise.special import lgamma as gammaln
from .ops.pointwise.special import mvlgamma as multigammaln
from .ops.pointwise.special_not_differentiable import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
)
from .ops.pointwise.unary import i0
from .ops.reduce.statistics import logsumexp as _logsumexp

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
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "sinc",
    "softmax",
    "spherical_bessel_j0",
    "xlog1py",
    "xlogy",
    "zeta",
]

psi = digamma

_SQRT_HALF = math.sqrt(0.5)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2 (recorded as those ops, as PyTorch)."""
    return (1 + erf(input * _SQRT_HALF)) * 0.5


def round(input: Tensor) -> Tensor:
    """Each element rounded to the nearest integer, halves to even (RoundBackward1, as
    torch.special.round records)."""
    return _round(input, decimals=0)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim` (which torch.special requires)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed without overflow."""
    return _log_softmax(input, dim, dtype=dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) along `dim`, computed without overflow."""
    return _logsumexp(input, dim, keepdim)
