"""Float64 kernels of the orthogonal polynomials of `torch.special`: Chebyshev T, U, V, W (and
their shifted forms on [0, 1]), Hermite H and He, Laguerre L and Legendre P, of degree n.

Each is its three-term recurrence, run for all elements at once up to the largest degree asked
for, with PyTorch's rules around it: the degree is truncated to an integer and a negative one
gives 0; at the ends of [-1, 1] (of [0, 1] when shifted) the closed values are returned; for
|x| < 1 and a degree above a few, Chebyshev polynomials use their trigonometric forms
(T_n(cos t) = cos(n t), ...), which do not lose accuracy as the degree grows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KERNELS"]


def _degrees(n: np.ndarray) -> np.ndarray:
    """The degree as PyTorch reads it: truncated toward zero; NaN becomes a negative degree."""
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(n), -1, np.trunc(np.clip(n, -1, 2.0 ** 62))).astype(np.int64)


def _recurrence(x: np.ndarray, n: np.ndarray, first, step) -> np.ndarray:
    """p_n(x) from p_0 = 1, p_1 = first(x) and p_k+1 = step(k, x, p_k, p_k-1), for n >= 0."""
    values = np.where(n == 0, 1.0, first(x))
    highest = int(n.max(initial=0))
    previous, current = np.ones_like(x), first(x)
    for k in range(1, highest):
        working = n > k
        if not working.any():
            break
        previous, current = current, step(k, x, current, previous)
        values = np.where(n == k + 1, current, values)
        if not np.isfinite(current[working]).any():
            values = np.where(n > k + 1, current, values)  # stays non-finite from here on
            break
    return values


def _odd(n: np.ndarray) -> np.ndarray:
    return n % 2 == 1


def _trigonometric(x: np.ndarray, n: np.ndarray, closed, threshold: int, recurrence_values):
    """The recurrence's values, replaced by the trigonometric form where |x| < 1 and n > threshold."""
    inside = (np.abs(x) < 1) & (n > threshold)
    if not inside.any():
        return recurrence_values
    with np.errstate(all="ignore"):
        angle = np.arccos(np.where(inside, x, 0.0))
        return np.where(inside, closed(angle, n.astype(np.float64), x), recurrence_values)


def _chebyshev_family(x, n, first, closed, threshold: int, at_one, at_minus_one):
    """A Chebyshev polynomial: 0 for n < 0, the closed values at x = +-1, the trigonometric form
    inside (-1, 1) past `threshold`, the recurrence p_k+1 = 2x p_k - p_k-1 elsewhere."""
    x, n = np.broadcast_arrays(np.asarray(x, dtype=np.float64), _degrees(n))
    recurred = np.where((np.abs(x) < 1) & (n > threshold), 0, np.maximum(n, 0))
    values = _recurrence(x, recurred, first, lambda k, x, current, previous: (x + x) * current - previous)
    values = _trigonometric(x, n, closed, threshold, values)
    values = np.where(x == 1, at_one(n), values)
    values = np.where(x == -1, at_minus_one(n), values)
    return np.where(n < 0, 0.0, values)


def _signed(n: np.ndarray, magnitude) -> np.ndarray:
    return np.where(_odd(n), -magnitude, magnitude).astype(np.float64)


def chebyshev_polynomial_t(x, n):
    return _chebyshev_family(
        x, n, lambda x: x, lambda angle, n, x: np.cos(n * angle), 6,
        lambda n: np.ones(n.shape), lambda n: _signed(n, 1.0))


def _u_closed(angle, n, x):
    sine = np.sin(angle)
    return np.where(sine != 0, np.sin((n + 1) * angle) / np.where(sine != 0, sine, 1.0),
                    (n + 1) * np.cos((n + 1) * angle) / x)


def chebyshev_polynomial_u(x, n):
    return _chebyshev_family(
        x, n, lambda x: x + x, _u_closed, 8,
        lambda n: (n + 1).astype(np.float64), lambda n: _signed(n, n + 1.0))


def _v_closed(angle, n, x):
    half = np.cos(angle / 2)
    return np.cos((n + 0.5) * angle) / half


def chebyshev_polynomial_v(x, n):
    return _chebyshev_family(
        x, n, lambda x: x + x - 1, _v_closed, 8,
        lambda n: np.ones(n.shape), lambda n: _signed(n, n + n + 1.0))


def _w_closed(angle, n, x):
    half = np.sin(angle / 2)
    return np.sin((n + 0.5) * angle) / half


def chebyshev_polynomial_w(x, n):
    return _chebyshev_family(
        x, n, lambda x: x + x + 1, _w_closed, 8,
        lambda n: (n + n + 1).astype(np.float64), lambda n: _signed(n, 1.0))


def _shifted(kernel):
    """The polynomial on [0, 1]: the kernel at 2x - 1 (written x + x - 1, as PyTorch)."""

    def shifted(x, n):
        x = np.asarray(x, dtype=np.float64)
        return kernel(x + x - 1, n)

    return shifted


def _plain_recurrence(x, n, first, step, at_zero_x=None):
    x, n = np.broadcast_arrays(np.asarray(x, dtype=np.float64), _degrees(n))
    values = _recurrence(x, np.maximum(n, 0), first, step)
    if at_zero_x is not None:
        values = np.where(x == 0, at_zero_x, values)
    return np.where(n < 0, 0.0, values)


def hermite_polynomial_h(x, n):
    """The physicists' Hermite polynomial: H_k+1 = 2x H_k - 2k H_k-1."""
    return _plain_recurrence(x, n, lambda x: x + x,
                             lambda k, x, current, previous: (x + x) * current - (k + k) * previous)


def hermite_polynomial_he(x, n):
    """The probabilists' Hermite polynomial: He_k+1 = x He_k - k He_k-1."""
    return _plain_recurrence(x, n, lambda x: x,
                             lambda k, x, current, previous: x * current - k * previous)


def laguerre_polynomial_l(x, n):
    """The Laguerre polynomial: (k+1) L_k+1 = (2k + 1 - x) L_k - k L_k-1 (1 at x = 0)."""
    return _plain_recurrence(
        x, n, lambda x: 1 - x,
        lambda k, x, current, previous: (((k + k) + (1 - x)) * current - k * previous) / (k + 1),
        at_zero_x=1.0)


def legendre_polynomial_p(x, n):
    """The Legendre polynomial: (k+1) P_k+1 = (2k+1) x P_k - k P_k-1 (+-1 at x = +-1)."""
    x, n = np.broadcast_arrays(np.asarray(x, dtype=np.float64), _degrees(n))
    values = _plain_recurrence(
        x, n, lambda x: x,
        lambda k, x, current, previous: ((k + k + 1) * x * current - k * previous) / (k + 1))
    values = np.where(x == 1, 1.0, values)
    values = np.where(x == -1, _signed(n, 1.0), values)
    return np.where(n < 0, 0.0, values)


KERNELS = {
    "chebyshev_polynomial_t": chebyshev_polynomial_t,
    "chebyshev_polynomial_u": chebyshev_polynomial_u,
    "chebyshev_polynomial_v": chebyshev_polynomial_v,
    "chebyshev_polynomial_w": chebyshev_polynomial_w,
    "shifted_chebyshev_polynomial_t": _shifted(chebyshev_polynomial_t),
    "shifted_chebyshev_polynomial_u": _shifted(chebyshev_polynomial_u),
    "shifted_chebyshev_polynomial_v": _shifted(chebyshev_polynomial_v),
    "shifted_chebyshev_polynomial_w": _shifted(chebyshev_polynomial_w),
    "hermite_polynomial_h": hermite_polynomial_h,
    "hermite_polynomial_he": hermite_polynomial_he,
    "laguerre_polynomial_l": laguerre_polynomial_l,
    "legendre_polynomial_p": legendre_polynomial_p,
}
