"""The log-gamma function and its derivatives (digamma, polygamma), differentiable, for the
distributions that need them (Beta, Poisson, Binomial and their KL divergences).

They are private here, custom Functions whose backward calls the next derivative, so a
gradient of any order exists. Values are computed in float64 and rounded to the input's
dtype: log-gamma by the C library (`math.lgamma`), digamma and polygamma by the recurrence
that moves the argument above `_ASYMPTOTIC_FROM` and their asymptotic series there (about
1e-15 relative, 1e-14 near digamma's root at 1.4616).
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function

_ASYMPTOTIC_FROM = 10.0
# B_2k / (2k) for k = 1..7: the coefficients of digamma's asymptotic series in 1/x^2k.
_BERNOULLI_OVER_INDEX = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
# B_2k for k = 1..7, for the polygamma series.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _lgamma_scalar(x: float) -> float:
    try:
        return math.lgamma(x)
    except ValueError:  # a pole: 0 or a negative integer
        return math.inf


_lgamma_elements = np.frompyfunc(_lgamma_scalar, 1, 1)


def _lgamma_array(x: np.ndarray) -> np.ndarray:
    return np.asarray(_lgamma_elements(x.astype(np.float64)), dtype=np.float64)


def _shift_up(x: np.ndarray, step_term) -> tuple[np.ndarray, np.ndarray]:
    """Move every element to >= _ASYMPTOTIC_FROM by steps of 1, summing step_term(x) of each
    step taken: returns the shifted arguments and the sums."""
    shifted, total = x.copy(), np.zeros_like(x)
    below = np.isfinite(shifted) & (shifted < _ASYMPTOTIC_FROM)
    while below.any():
        total[below] += step_term(shifted[below])
        shifted[below] += 1.0
        below &= shifted < _ASYMPTOTIC_FROM
    return shifted, total


def _digamma_array(x: np.ndarray) -> np.ndarray:
    """digamma(x); negative arguments through the reflection digamma(1 - x) - pi / tan(pi x).
    0 gives -inf (+inf for -0.0) and negative integers NaN, as PyTorch."""
    x = x.astype(np.float64)
    with np.errstate(all="ignore"):
        reflected = x < 0.5
        positive = np.where(reflected, 1.0 - x, x)
        shifted, steps = _shift_up(positive, lambda value: -1.0 / value)
        inverse_square = 1.0 / (shifted * shifted)
        series, power = np.zeros_like(shifted), np.ones_like(shifted)
        for coefficient in _BERNOULLI_OVER_INDEX:
            power = power * inverse_square
            series += coefficient * power
        result = np.log(shifted) - 0.5 / shifted - series + steps
        result = np.where(reflected, result - np.pi / np.tan(np.pi * x), result)
        result = np.where((x < 0) & (x == np.floor(x)), np.nan, result)
        return np.where(x == 0, np.copysign(np.inf, -x), result)


def _polygamma_array(order: int, x: np.ndarray) -> np.ndarray:
    """The order-th derivative of digamma (order >= 1): recurrence upward, then the series
    (-1)^(n+1) [(n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! x^(2k+n))]."""
    x = x.astype(np.float64)
    sign = -1.0 if order % 2 == 0 else 1.0
    factorial = math.factorial(order)
    with np.errstate(all="ignore"):
        shifted, steps = _shift_up(x, lambda value: sign * factorial / value ** (order + 1))
        series = math.factorial(order - 1) / shifted**order + factorial / (2 * shifted ** (order + 1))
        for k, bernoulli in enumerate(_BERNOULLI, start=1):
            weight = bernoulli * math.factorial(2 * k + order - 1) / math.factorial(2 * k)
            series = series + weight / shifted ** (2 * k + order)
        return np.where(x == -np.inf, np.nan, sign * series + steps)


def _like(values: np.ndarray, reference: Tensor) -> Tensor:
    dtype = reference._data.dtype if reference._data.dtype.kind == "f" else np.float32
    return Tensor._make(np.asarray(values, dtype=dtype))


class _Lgamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _like(_lgamma_array(x._data), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * digamma(x)


class _Digamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _like(_digamma_array(x._data), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * polygamma(1, x)


class _Polygamma(Function):
    @staticmethod
    def forward(ctx, order, x):
        ctx.save_for_backward(x)
        ctx.order = order
        return _like(_polygamma_array(order, x._data), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return None, grad * polygamma(ctx.order + 1, x)


def lgamma(x: Tensor) -> Tensor:
    """log |Gamma(x)| of each element."""
    return _Lgamma.apply(x)


def digamma(x: Tensor) -> Tensor:
    """The derivative of lgamma."""
    return _Digamma.apply(x)


def polygamma(order: int, x: Tensor) -> Tensor:
    """The order-th derivative of digamma (order >= 1); order 0 is digamma."""
    return digamma(x) if order == 0 else _Polygamma.apply(order, x)


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
