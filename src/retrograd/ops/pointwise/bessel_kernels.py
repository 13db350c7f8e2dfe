"""Float64 kernels of the Bessel and Airy functions of `torch.special` (bessel_j0/j1/y0/y1,
modified_bessel_k0/k1 and their scaled forms, airy_ai, spherical_bessel_j0), vectorised over
arrays, each from a classical method chosen by the size of the argument:

- J and Y of orders 0 and 1 below x = 25: Miller's backward recurrence, started far above the
  orders wanted and normalised by 1 = J0 + 2 (J2 + J4 + ...); Y0 and Y1 follow from the same
  values through Neumann's series. From 25 on: Hankel's asymptotic expansion (its smallest term
  is about e^-2x there, below rounding).
- K of orders 0 and 1 up to x = 2: the ascending series (with I0 and I1); above: Temme's
  continued fraction (Steed's algorithm), which gives K_mu and K_mu+1 for any |mu| <= 1/2.
- Ai: the Maclaurin series near 0; K_1/3 above (Ai(x) = sqrt(x/3) K_1/3(zeta) / pi,
  zeta = 2/3 x^3/2); on the negative side, J_1/3 and J_-1/3 by Miller's recurrence
  (Ai(-z) = sqrt(z)/3 (J_1/3 + J_-1/3)), then the asymptotic expansion far out.

Special values follow PyTorch's: NaN at +-inf where its kernels give NaN, K and Y NaN below 0,
-inf/+inf at 0.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "spherical_bessel_j0"]

_EULER_GAMMA = 0.57721566490153286061
_MILLER_START = 80  # an even order far above x: J_80(25) / J_0(25) is about 1e-22
_HANKEL_FROM = 25.0
_HANKEL_TERMS = 30
_SERIES_TERMS = 30
_TEMME_ITERATIONS = 500
_RESCALE_ABOVE = 1e200

# Ai(0) and -Ai'(0)
_AIRY_AT_ZERO = 0.355028053887817239260
_AIRY_SLOPE_AT_ZERO = 0.258819403792806798405
_AIRY_ZERO_BEYOND = 103.892  # Ai underflows to 0 there (PyTorch returns exactly 0)


def _masked(kernel, x: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
    """out[mask] = kernel(x[mask]), skipping the call when no element is selected."""
    if mask.any():
        out[mask] = kernel(x[mask])


# ---------------------------------------------------------------------------
# J and Y of orders 0 and 1


def _miller_orders_0_1(x: np.ndarray):
    """(J0, J1, Y0, Y1) for 0 < x < 25 by backward recurrence (Miller) and Neumann's series.

    Y0 = 2/pi ((ln(x/2) + gamma) J0 - 2 sum_k (-1)^k J_2k / k) and Y1 = -Y0', whose series
    reads the odd orders: 2/pi ((ln(x/2) + gamma) J1 - J0 / x + sum_k (-1)^k (J_2k-1 - J_2k+1) / k).
    """
    above = np.zeros_like(x)
    here = np.ones_like(x)
    norm = np.zeros_like(x)
    even_sum = np.zeros_like(x)  # sum over k >= 1 of (-1)^k J_2k / k
    odd_sum = np.zeros_like(x)  # sum over k >= 1 of (-1)^k (J_2k-1 - J_2k+1) / k
    order_one = None
    for order in range(_MILLER_START, 0, -1):
        if order % 2 == 0:
            half = order // 2
            norm += 2 * here
            even_sum += (-1) ** half * here / half
        else:
            odd_sum += _odd_weight(order) * here
        if order == 1:
            order_one = here.copy()
        below = (2 * order / x) * here - above
        above, here = here, below
        large = np.abs(here) > _RESCALE_ABOVE
        if large.any():
            for values in (above, here, norm, even_sum, odd_sum):
                values[large] /= _RESCALE_ABOVE
            if order_one is not None:
                order_one[large] /= _RESCALE_ABOVE
    norm += here
    j0, j1 = here / norm, order_one / norm
    logarithm = np.log(x / 2) + _EULER_GAMMA
    y0 = (2 / math.pi) * (logarithm * j0 - 2 * even_sum / norm)
    y1 = (2 / math.pi) * (logarithm * j1 - j0 / x + odd_sum / norm)
    return j0, j1, y0, y1


def _ascending_orders_0_1(x: np.ndarray):
    """(J0, J1, Y0, Y1) for 0 < x <= 1 by their ascending series (DLMF 10.2.2, 10.8.1)."""
    minus_quarter_square = -x * x / 4
    logarithm = np.log(x / 2)
    j0_series, j1_series = np.zeros_like(x), np.zeros_like(x)
    y0_series, y1_series = np.zeros_like(x), np.zeros_like(x)
    power = np.ones_like(x)  # (-x^2/4)^k / (k! k!)
    digamma_k = -_EULER_GAMMA  # psi(k + 1)
    for k in range(_SERIES_TERMS):
        digamma_next = digamma_k + 1.0 / (k + 1)
        shifted = power / (k + 1)
        j0_series += power
        j1_series += shifted
        y0_series += digamma_k * power
        y1_series += (digamma_k + digamma_next) * shifted
        power = power * minus_quarter_square / ((k + 1) * (k + 1))
        digamma_k = digamma_next
    j0, j1 = j0_series, x / 2 * j1_series
    y0 = (2 / math.pi) * (logarithm * j0 - y0_series)
    y1 = -2 / (math.pi * x) + (2 / math.pi) * logarithm * j1 - x / (2 * math.pi) * y1_series
    return j0, j1, y0, y1


def _odd_weight(order: int) -> float:
    """The weight of J_order (odd) in sum_k (-1)^k (J_2k-1 - J_2k+1) / k."""
    rising = (order + 1) // 2  # the k whose J_2k-1 is this order
    weight = (-1) ** rising / rising
    falling = (order - 1) // 2  # the k whose J_2k+1 is this order
    if falling >= 1:
        weight -= (-1) ** falling / falling
    return weight


def _hankel(order: int, x: np.ndarray):
    """(P, Q) of Hankel's expansion of J_order and Y_order (order 0 or 1), for large x."""
    four_nu_squared = 4.0 * order * order
    p = np.ones_like(x)
    q = np.zeros_like(x)
    coefficient = 1.0
    power = np.ones_like(x)
    for k in range(1, 2 * _HANKEL_TERMS):
        coefficient *= (four_nu_squared - (2 * k - 1) ** 2) / (k * 8.0)
        power = power / x
        term = coefficient * power
        if k % 2 == 0:
            p += (-1) ** (k // 2) * term
        else:
            q += (-1) ** (k // 2) * term
    return p, q


def _hankel_orders_0_1(x: np.ndarray):
    """(J0, J1, Y0, Y1) for x >= 25, the phases x - pi/4 and x - 3pi/4 taken exactly."""
    amplitude = np.sqrt(2 / (math.pi * x))
    cosine, sine = np.cos(x) * math.sqrt(0.5), np.sin(x) * math.sqrt(0.5)
    p0, q0 = _hankel(0, x)
    p1, q1 = _hankel(1, x)
    cos0, sin0 = cosine + sine, sine - cosine  # cos and sin of x - pi/4
    cos1, sin1 = sine - cosine, -(sine + cosine)  # of x - 3pi/4
    j0 = amplitude * (p0 * cos0 - q0 * sin0)
    y0 = amplitude * (p0 * sin0 + q0 * cos0)
    j1 = amplitude * (p1 * cos1 - q1 * sin1)
    y1 = amplitude * (p1 * sin1 + q1 * cos1)
    return j0, j1, y0, y1


def _orders_0_1(x: np.ndarray):
    """(J0, J1, Y0, Y1) of |x| (x finite, not 0), choosing the method by size."""
    size = np.abs(x)
    results = [np.empty_like(size) for _ in range(4)]
    for method, mask in ((_ascending_orders_0_1, size <= 1),
                         (_miller_orders_0_1, (size > 1) & (size < _HANKEL_FROM)),
                         (_hankel_orders_0_1, size >= _HANKEL_FROM)):
        if mask.any():
            for result, values in zip(results, method(size[mask])):
                result[mask] = values
    return results


def _bessel(x: np.ndarray, which: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    regular = np.isfinite(x) & (x != 0)
    if regular.any():
        out[regular] = _orders_0_1(x[regular])[which]
    zero = x == 0
    out[zero] = (1.0, 0.0, -np.inf, -np.inf)[which]
    if which == 1:
        out = np.where(x < 0, -out, out)  # J1 is odd
        out[zero] = x[zero] * 0.0  # keeps the sign of zero
    if which >= 2:
        out[x < 0] = np.nan
    return out


def bessel_j0(x):
    """J0, the Bessel function of the first kind of order 0."""
    return _bessel(x, 0)


def bessel_j1(x):
    """J1, the Bessel function of the first kind of order 1."""
    return _bessel(x, 1)


def bessel_y0(x):
    """Y0, the Bessel function of the second kind of order 0."""
    return _bessel(x, 2)


def bessel_y1(x):
    """Y1, the Bessel function of the second kind of order 1."""
    return _bessel(x, 3)


# ---------------------------------------------------------------------------
# K of orders 0 and 1


def _ascending_k(x: np.ndarray):
    """(K0, K1) for 0 < x <= 2 by their ascending series (DLMF 10.31.1)."""
    quarter_square = x * x / 4
    logarithm = np.log(x / 2)
    i0 = np.zeros_like(x)
    i1_series = np.zeros_like(x)
    k0_series = np.zeros_like(x)
    k1_series = np.zeros_like(x)
    power = np.ones_like(x)  # (x^2/4)^k / (k! k!)
    digamma_k = -_EULER_GAMMA  # psi(k + 1)
    for k in range(_SERIES_TERMS):
        digamma_next = digamma_k + 1.0 / (k + 1)  # psi(k + 2)
        shifted = power / (k + 1)  # (x^2/4)^k / (k! (k+1)!)
        i0 += power
        i1_series += shifted
        k0_series += digamma_k * power
        k1_series += (digamma_k + digamma_next) * shifted
        power = power * quarter_square / ((k + 1) * (k + 1))
        digamma_k = digamma_next
    i1 = x / 2 * i1_series
    k0 = -logarithm * i0 + k0_series
    k1 = 1 / x + logarithm * i1 - x / 4 * k1_series
    return k0, k1


def temme_k(mu: float, x: np.ndarray):
    """(K_mu, K_mu+1) times e^x for x >= 2 and |mu| <= 1/2, by Temme's continued fraction
    summed with Steed's algorithm (the terms stop mattering after a few dozen steps)."""
    b = 2.0 * (1.0 + x)
    d = 1.0 / b
    h = d.copy()
    delta_h = d.copy()
    q1 = np.zeros_like(x)
    q2 = np.ones_like(x)
    a1 = 0.25 - mu * mu
    q = np.full_like(x, a1)
    c = a1
    a = -a1
    s = 1.0 + q * delta_h
    for i in range(2, _TEMME_ITERATIONS):
        a -= 2 * (i - 1)
        c = -a * c / i
        q_next = (q1 - b * q2) / a
        q1, q2 = q2, q_next
        q = q + c * q_next
        b = b + 2.0
        d = 1.0 / (b + a * d)
        delta_h = (b * d - 1.0) * delta_h
        h = h + delta_h
        delta_s = q * delta_h
        s = s + delta_s
        if np.all(np.abs(delta_s) <= 1e-17 * np.abs(s)):
            break
    h = a1 * h
    k_mu = np.sqrt(math.pi / (2.0 * x)) / s
    k_next = k_mu * (mu + x + 0.5 - h) / x
    return k_mu, k_next


def _modified_k(x: np.ndarray, order: int, scaled: bool) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    small = (x > 0) & (x <= 2)
    if small.any():
        values = _ascending_k(x[small])[order]
        out[small] = values * np.exp(x[small]) if scaled else values
    large = (x > 2) & np.isfinite(x)
    if large.any():
        values = temme_k(0.0, x[large])[order]
        out[large] = values if scaled else values * np.exp(-x[large])
    out[x == 0] = np.inf
    out[x == np.inf] = 0.0
    return out


def modified_bessel_k0(x):
    """K0, the modified Bessel function of the second kind of order 0."""
    return _modified_k(x, 0, scaled=False)


def modified_bessel_k1(x):
    """K1, the modified Bessel function of the second kind of order 1."""
    return _modified_k(x, 1, scaled=False)


def scaled_modified_bessel_k0(x):
    """K0(x) e^x."""
    return _modified_k(x, 0, scaled=True)


def scaled_modified_bessel_k1(x):
    """K1(x) e^x."""
    return _modified_k(x, 1, scaled=True)


# ---------------------------------------------------------------------------
# Airy Ai


def _airy_maclaurin(x: np.ndarray) -> np.ndarray:
    """Ai(x) = Ai(0) f(x) + Ai'(0) g(x), f and g the two Maclaurin series of Airy's equation."""
    cube = x * x * x
    f_term, g_term = np.ones_like(x), x.copy()
    f, g = f_term.copy(), g_term.copy()
    for k in range(1, _SERIES_TERMS):
        f_term = f_term * cube / ((3 * k - 1) * (3 * k))
        g_term = g_term * cube / ((3 * k) * (3 * k + 1))
        f += f_term
        g += g_term
    return _AIRY_AT_ZERO * f - _AIRY_SLOPE_AT_ZERO * g


def _airy_positive(x: np.ndarray) -> np.ndarray:
    zeta = 2.0 / 3.0 * x * np.sqrt(x)
    scaled_k, _ = temme_k(1.0 / 3.0, zeta)
    return np.sqrt(x / 3.0) / math.pi * scaled_k * np.exp(-zeta)


def _miller_fractional(nu: float, x: np.ndarray) -> np.ndarray:
    """J_nu(x) for a fractional nu by backward recurrence, normalised by
    (x/2)^nu = sum_k (nu + 2k) Gamma(nu + k) / k! J_nu+2k(x)."""
    weights = [math.gamma(nu + 1)]
    ratio = math.gamma(nu)
    for k in range(1, _MILLER_START // 2 + 1):
        ratio *= (nu + k - 1) / k
        weights.append((nu + 2 * k) * ratio)
    above = np.zeros_like(x)
    here = np.ones_like(x)
    norm = np.zeros_like(x)
    for step in range(_MILLER_START, 0, -1):
        if step % 2 == 0:
            norm += weights[step // 2] * here
        below = (2 * (nu + step) / x) * here - above
        above, here = here, below
        large = np.abs(here) > _RESCALE_ABOVE
        if large.any():
            for values in (above, here, norm):
                values[large] /= _RESCALE_ABOVE
    norm += weights[0] * here
    return here * (x / 2) ** nu / norm


def _airy_negative(z: np.ndarray) -> np.ndarray:
    """Ai(-z) = sqrt(z)/3 (J_1/3(zeta) + J_-1/3(zeta)) for moderate z > 0."""
    zeta = 2.0 / 3.0 * z * np.sqrt(z)
    return np.sqrt(z) / 3.0 * (_miller_fractional(1.0 / 3.0, zeta) + _miller_fractional(-1.0 / 3.0, zeta))


def _airy_negative_far(z: np.ndarray) -> np.ndarray:
    """Ai(-z) for large z > 0 by its asymptotic expansion (DLMF 9.7.9)."""
    zeta = 2.0 / 3.0 * z * np.sqrt(z)
    even, odd = np.ones_like(z), np.zeros_like(z)
    term = np.ones_like(z)  # u_k / zeta^k
    for k in range(1, 2 * _HANKEL_TERMS):
        term = term * ((6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216.0 * k)) / zeta
        if k % 2 == 0:
            even += (-1) ** (k // 2) * term
        else:
            odd += (-1) ** (k // 2) * term
    phase = zeta - math.pi / 4
    return (np.cos(phase) * even + np.sin(phase) * odd) / (math.sqrt(math.pi) * np.sqrt(np.sqrt(z)))


def airy_ai(x):
    """Ai, the Airy function of the first kind."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    _masked(_airy_maclaurin, x, (x > -2.5) & (x < 2.1), out)
    _masked(_airy_positive, x, (x >= 2.1) & (x <= _AIRY_ZERO_BEYOND), out)
    out[(x > _AIRY_ZERO_BEYOND) & np.isfinite(x)] = 0.0
    _masked(lambda v: _airy_negative(-v), x, (x <= -2.5) & (x > -9.5), out)
    _masked(lambda v: _airy_negative_far(-v), x, (x <= -9.5) & np.isfinite(x), out)
    return out


# ---------------------------------------------------------------------------
# The spherical Bessel function j0


def spherical_bessel_j0(x):
    """j0(x) = sin(x) / x (1 at 0, 0 at +-inf)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.sin(x) / x
    values = np.where(x == 0, 1.0, values)
    return np.where(np.isinf(x), 0.0, values)
