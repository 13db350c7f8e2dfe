"""The special functions the distributions need (Beta, Poisson, Binomial, Dirichlet, Gamma and
their KL divergences): the public ops `lgamma`, `digamma` and `polygamma` (declared in
ops/pointwise/special.py, differentiable to any order), and the implicit reparameterisation
gradient of a Gamma draw, on arrays.
"""

from __future__ import annotations

import numpy as np

from ..ops.pointwise.special import digamma, lgamma, polygamma
from ..ops.pointwise.special_kernels import digamma as _digamma_array

__all__ = ["digamma", "lgamma", "polygamma"]

_SERIES_TOLERANCE = 1e-17
_SERIES_MAX_TERMS = 100_000


def _standard_gamma_grad_array(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """dx/d alpha of a Gamma(alpha, 1) draw x with its CDF P(alpha, x) held fixed (the implicit
    reparameterisation gradient): -(dP/d alpha) / (dP/dx). With P = x^a e^-x sum_n x^n /
    Gamma(a + n + 1), the ratio is -sum_n w_n (log x - digamma(a + n + 1)) where w_0 = x / a
    and w_n = w_(n-1) x / (a + n). The terms share a sign while n < x - a; the cancellation
    after that is about exp((x - a)^2 / 2a), small for any draw that is not far in the tail.
    """
    x = np.asarray(x, np.float64)
    alpha = np.asarray(alpha, np.float64)
    x, alpha = np.broadcast_arrays(x, alpha)
    log_x = np.log(x)
    weight = x / alpha
    psi = _digamma_array(alpha) + 1.0 / alpha  # digamma(a + 1)
    total = weight * (log_x - psi)
    for n in range(1, _SERIES_MAX_TERMS):
        weight = weight * x / (alpha + n)
        psi = psi + 1.0 / (alpha + n)
        term = weight * (log_x - psi)
        total = total + term
        if n > x.max() - alpha.min() and not np.any(np.abs(term) > _SERIES_TOLERANCE * np.abs(total)):
            break
    return -total
