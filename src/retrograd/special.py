"""`retrograd.special`: PyTorch's `torch.special` namespace.

Most names are the ops of the table under the names SciPy uses (gammaln is lgamma, expit is
sigmoid, gammainc is igamma, ...) and record the same grad_fn as PyTorch's; the special
functions with a node of their own are declared in ops/pointwise/special.py.
"""

from __future__ import annotations

import math

from ._tensor import Tensor
from .ops import table as _table
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

__all__ = [
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
    "i0",
    "i0e",
    "i1",
    "i1e",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
    "zeta",
]

psi = digamma
erf = _table["erf"].function
erfc = _table["erfc"].function
erfinv = _table["erfinv"].function
exp2 = _table["exp2"].function
expit = _table["sigmoid"].function
expm1 = _table["expm1"].function
i0 = _table["i0"].function
log1p = _table["log1p"].function
logit = _table["logit"].function
sinc = _table["sinc"].function
xlogy = _table["xlogy"].function

_SQRT_HALF = math.sqrt(0.5)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2 (recorded as those ops, as PyTorch)."""
    return (1 + erf(input * _SQRT_HALF)) * 0.5


def round(input: Tensor) -> Tensor:
    """Each element rounded to the nearest integer, halves to even (RoundBackward1, as
    torch.special.round records)."""
    return _table["round"].function(input, decimals=0)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim` (which torch.special requires)."""
    return _table["softmax"].function(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed without overflow."""
    return _table["log_softmax"].function(input, dim, dtype=dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) along `dim`, computed without overflow."""
    return _table["logsumexp"].function(input, dim, keepdim)
