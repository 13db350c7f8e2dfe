"""PyTorch's CPU rejection samplers, bit for bit: gamma (and Dirichlet through it), binomial
and Poisson. Each draws a varying number of random values per element, one element after
another in memory order, so the stream they leave behind is PyTorch's only if every element
consumes exactly what PyTorch's loop consumes, in the same order.

Note [Reading ahead]
~~~~~~~~~~~~~~~~~~~~
A draw of one double uniform costs a NumPy call (microseconds); the samplers need a few per
element. So `_DrawStream` draws them in blocks from the generator, hands them out one by one
as Python floats, and when the sampler is done puts the generator back where it was and
draws exactly the count consumed (the Mersenne Twister's words are the same either way). The
scalar normal of the gamma sampler (PyTorch's double Box-Muller with its cached second value)
is computed from the same stream, and the cache is written back to the generator. The
per-element arithmetic that PyTorch does in the element's dtype (float32 products, square
roots, log1p) is done beforehand on whole arrays in that dtype, which rounds as the scalar
operations would.

Note [One parameter for all]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~
When every element has the same parameter (`Poisson(3.0).sample((n,))`), whether an attempt
is accepted no longer depends on which element makes it, so the attempts can be computed for
a whole block at once: element i gets the i-th accepted attempt, and the generator moves past
the attempts up to that one, exactly as the element-by-element loop would. A Poisson
rejection attempt always takes two uniforms. A Poisson count below rate 10 multiplies
uniforms until the product drops to exp(-rate): the products from every possible starting
point are built in lockstep, one factor per step, in the loop's order of multiplication, and
the elements then follow the chain start -> stop + 1. A gamma attempt takes a normal and a
uniform, so with the normals' Box-Muller pairs it reads four uniforms per two attempts; that
layout holds until a normal gives y = 1 + c x <= 0 (a retry of the normal alone, rare for
alpha >= 1): the block stops there, the element-by-element loop takes that element, and the
blocks resume after it. Boosted gamma draws (alpha < 1) and mixed parameters use the loop.
"""

from __future__ import annotations

import math

import numpy as np

from .distributions import _TWO_PI, _check_floating, _cos_sin, _libm, _unit_float64
from .generator import Generator, _generator

# ---------------------------------------------------------------------------
# The stream


class _DrawStream:
    """The generator's double uniforms and scalar normals, read ahead (Note [Reading ahead]).
    Use as a context manager: leaving it moves the generator past exactly what was used."""

    def __init__(self, generator: Generator, expected: int) -> None:
        self._generator = generator
        self._saved_state = generator._bits.state
        self._saved_next = generator._next_when_full
        self._normal_cache = generator._normal_cache
        self._block = max(64, expected)
        self._array = np.zeros(0)
        self._uniforms: list[float] | None = []  # the array as floats, made on first scalar read
        self._position = 0
        self._drawn = 0

    def __enter__(self) -> _DrawStream:
        return self

    def __exit__(self, *exc_info) -> None:
        consumed = self._drawn - (self._array.size - self._position)
        generator = self._generator
        generator._bits.state = self._saved_state
        generator._next_when_full = self._saved_next
        if consumed:
            generator._words64(consumed)
        generator._normal_cache = self._normal_cache

    def _ensure(self, count: int) -> None:
        """At least `count` uniforms read ahead of the position."""
        available = self._array.size - self._position
        if available >= count:
            return
        extra = max(self._block, count - available)
        fresh = _unit_float64(self._generator._words64(extra))
        self._array = np.concatenate([self._array[self._position:], fresh])
        self._uniforms = None
        self._drawn += extra
        self._position = 0
        self._block *= 2

    def uniform(self) -> float:
        """The next double uniform in [0, 1) (PyTorch's `uniform_real_distribution<double>`)."""
        if self._position == self._array.size:
            self._ensure(1)
        if self._uniforms is None:
            self._uniforms = self._array.tolist()
        value = self._uniforms[self._position]
        self._position += 1
        return value

    def peek(self, count: int) -> np.ndarray:
        """The next `count` uniforms as an array, still unread (`skip` reads them)."""
        self._ensure(count)
        return self._array[self._position:self._position + count]

    def skip(self, count: int) -> None:
        """Read `count` uniforms (after a `peek` that covered them)."""
        self._position += count

    def normal(self) -> float:
        """The next scalar standard normal: the cached sine value if there is one, else from
        two uniforms (u1, u2) r cos(2 pi u1) with r = sqrt(-2 log1p(-u2)), caching r sin."""
        if self._normal_cache is not None:
            value, self._normal_cache = self._normal_cache, None
            return value
        angle = _TWO_PI * self.uniform()
        radius = math.sqrt(-2.0 * math.log1p(-self.uniform()))
        self._normal_cache = radius * math.sin(angle)
        return radius * math.cos(angle)


def _as_floats(values: np.ndarray) -> list[float]:
    return values.astype(np.float64).tolist()


# ---------------------------------------------------------------------------
# Gamma
#
# Note [PyTorch's gamma draws]
# PyTorch's CPU `_standard_gamma` draws one element at a time, in memory order, by Marsaglia
# and Tsang's rejection method: alpha < 1 is boosted to alpha + 1 with a scale
# (1 - u)^(1 / alpha); then d = alpha - 1/3 and c = 1 / sqrt(9 d); draw a scalar normal x
# (the cached double Box-Muller) until y = 1 + c x > 0, v = y^3, u = 1 - (double uniform);
# accept d v if u < 1 - 0.0331 x^4 or log(u) < x^2 / 2 + d (1 - v + log v). The arithmetic on
# alpha (the boost, 1 / alpha, alpha - 1/3) is in the element's dtype with the single-precision
# constants 1/3 and 0.0331; the rest in double. Results below the dtype's smallest normal
# number become it; alpha = 0 gives that too.

_ONE_THIRD_F32 = np.float32(1) / np.float32(3)
_SQUEEZE_F32 = float(np.float32(0.0331))


def _gamma_draws(stream: _DrawStream, alphas: np.ndarray) -> list[float]:
    """One Gamma(alpha, 1) draw per element of the 1-D `alphas` (any float dtype), in double."""
    kind = alphas.dtype.type
    boosted = alphas < 1
    with np.errstate(divide="ignore"):
        exponents = _as_floats(kind(1) / alphas)
    shifted = np.where(boosted, alphas + kind(1), alphas)
    d_values = _as_floats(shifted - kind(_ONE_THIRD_F32))
    draws = []
    for alpha, is_boosted, exponent, d in zip(alphas.tolist(), boosted.tolist(), exponents, d_values):
        if alpha == 0:
            draws.append(0.0)
            continue
        scale = math.pow(1.0 - stream.uniform(), exponent) if is_boosted else 1.0
        draws.append(_marsaglia_tsang(stream, d, scale))
    return draws


def _marsaglia_tsang(stream: _DrawStream, d: float, scale: float) -> float:
    """scale d v for the first accepted (x, u) of Note [PyTorch's gamma draws] (multiplied
    left to right, as PyTorch rounds it)."""
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        y = 0.0
        while y <= 0:
            x = stream.normal()
            y = 1.0 + c * x
        v = y * y * y
        u = 1.0 - stream.uniform()
        xx = x * x
        if u < 1.0 - _SQUEEZE_F32 * xx * xx or math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _attempt_normals(stream: _DrawStream, attempts: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The normal and the uniform of each gamma attempt of a block (at least `attempts`; a
    whole number of Box-Muller pairs), if every normal is kept (Note [One parameter for all]),
    and whether the first normal came from the generator's cache."""
    cached = stream._normal_cache is not None
    pairs = (attempts - cached + 1) // 2
    block = stream.peek(cached + 4 * pairs)
    normals, uniforms = np.empty(cached + 2 * pairs), np.empty(cached + 2 * pairs)
    if cached:
        normals[0], uniforms[0] = stream._normal_cache, block[0]
    groups = block[cached:].reshape(-1, 4)
    radius = np.sqrt(-2.0 * _libm(math.log1p, -groups[:, 1]))
    cos, sin = _cos_sin(_TWO_PI * groups[:, 0])
    normals[cached::2], normals[cached + 1::2] = radius * cos, radius * sin
    uniforms[cached::2], uniforms[cached + 1::2] = groups[:, 2], groups[:, 3]
    return normals, uniforms, cached


def _read_attempts(stream: _DrawStream, done: int, cached: int, normals: np.ndarray) -> None:
    """Move the stream past the first `done` attempts of `_attempt_normals`' layout."""
    if cached and done:
        stream._normal_cache = None
        stream.skip(1)
        done -= 1
    stream.skip(4 * (done // 2) + (3 if done % 2 else 0))
    if done % 2:
        stream._normal_cache = float(normals[cached + done])


def _gamma_same_alpha(stream: _DrawStream, d: float, count: int) -> np.ndarray:
    """`count` Gamma draws of one alpha >= 1 (d = alpha - 1/3), in blocks of attempts."""
    c = 1.0 / math.sqrt(9.0 * d)
    draws: list[np.ndarray] = []
    needed = count
    while needed:
        attempts = needed + needed // 8 + 16
        normals, uniforms, cached = _attempt_normals(stream, attempts)
        attempts = normals.size
        y = 1.0 + c * normals
        bad = np.flatnonzero(y <= 0)
        usable = attempts if bad.size == 0 else int(bad[0])
        x, y, u = normals[:usable], y[:usable], 1.0 - uniforms[:usable]
        v = y * y * y
        xx = x * x
        accepted = u < 1.0 - _SQUEEZE_F32 * xx * xx
        slow = np.flatnonzero(~accepted)
        if slow.size:
            log_u, log_v = _libm(math.log, u[slow]), _libm(math.log, v[slow])
            accepted[slow] = log_u < 0.5 * xx[slow] + d * (1.0 - v[slow] + log_v)
        taken = np.flatnonzero(accepted)[:needed]
        draws.append(d * v[taken])
        needed -= taken.size
        if needed == 0:
            _read_attempts(stream, int(taken[-1]) + 1, cached, normals)
        elif usable < attempts:  # a normal to draw again: the loop takes this element
            _read_attempts(stream, usable, cached, normals)
            draws.append(np.array([_marsaglia_tsang(stream, d, 1.0)]))
            needed -= 1
        else:
            _read_attempts(stream, usable, cached, normals)
    return np.concatenate(draws)


def _gamma(generator: Generator | None, alphas: np.ndarray) -> np.ndarray:
    """`_standard_gamma(alphas)`: Gamma(alpha, 1) draws of alphas' shape and float dtype, by
    Note [PyTorch's gamma draws]."""
    generator = _generator(generator)
    _check_floating(alphas.dtype, "gamma_cpu")
    flat = np.ascontiguousarray(alphas).reshape(-1)
    with _DrawStream(generator, 3 * flat.size) as stream:
        if flat.size > 1 and flat[0] >= 1 and bool(np.all(flat == flat[0])):
            d = float(flat[0] - flat.dtype.type(_ONE_THIRD_F32))
            draws = _gamma_same_alpha(stream, d, flat.size)
        else:
            draws = np.array(_gamma_draws(stream, flat), np.float64)
    draws = draws.astype(flat.dtype)
    return np.maximum(draws, np.finfo(flat.dtype).tiny).reshape(alphas.shape)


def _dirichlet(generator: Generator | None, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_sample_dirichlet(alphas)`, as PyTorch's CPU kernel: a gamma draw per element with
    alpha in double (Note [PyTorch's gamma draws]), each divided by the double sum of its
    row (the last dimension), rounded to alphas' dtype and kept in [tiny, largest value < 1].
    Returns the draws and the double gamma draws they came from (for the gradient)."""
    generator = _generator(generator)
    _check_floating(alphas.dtype, "dirichlet")
    flat = np.ascontiguousarray(alphas).astype(np.float64).reshape(-1)
    with _DrawStream(generator, 3 * flat.size) as stream:
        gammas = np.array(_gamma_draws(stream, flat), np.float64)
    gammas = np.maximum(gammas, np.finfo(np.float64).tiny).reshape(alphas.shape)
    fractions = (gammas / gammas.sum(-1, keepdims=True)).astype(alphas.dtype)
    below_one = np.nextafter(alphas.dtype.type(1), alphas.dtype.type(0))
    return np.clip(fractions, np.finfo(alphas.dtype).tiny, below_one), gammas


# ---------------------------------------------------------------------------
# Binomial
#
# Note [PyTorch's binomial draws]
# PyTorch's CPU `binomial(count, prob)` draws one element at a time, in memory order, from
# double uniforms: for count * p < 10 (p the smaller of prob and 1 - prob, the draw mirrored
# as count - k for prob > 1/2) it inverts by summing geometric jumps ceil(log u / log1p(-p))
# until they pass count; otherwise it uses Hormann's transformed rejection (BTRS) with the
# Stirling-series tail of log k! in its bound. Products and quotients of count and p, and
# sqrt(count p (1 - p)) and log1p(-p), are in the element's dtype; the rest in double.

_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
_FLOAT32_EXACT_INTEGERS = float(1 << 24)


def _stirling_tail(k: float) -> float:
    """log k! minus Stirling's approximation (k + 1/2) log(k + 1) - (k + 1) + log(2 pi) / 2."""
    if k < 10:
        return math.lgamma(k + 1) - ((k + 0.5) * math.log(k + 1) - (k + 1) + _HALF_LOG_TWO_PI)
    square = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / square) / square) / (k + 1)


def _binomial_inversion(stream: _DrawStream, count: float, log_failure: float) -> int:
    jumps, successes = 0.0, 0
    while True:
        jumps += math.ceil(math.log(stream.uniform()) / log_failure)
        if jumps > count:
            return successes
        successes += 1


class _BtrsConstants:
    """The per-element constants of Hormann's BTRS, rounded as PyTorch rounds them."""

    def __init__(self, counts: np.ndarray, probs: np.ndarray) -> None:
        one = counts.dtype.type(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = np.sqrt(counts * probs * (one - probs)).astype(np.float64)
            self.odds = _as_floats(probs / (one - probs))
            self.m = _as_floats(np.floor((counts + one) * probs))
        b = 1.15 + 2.53 * spread
        self.b = b.tolist()
        self.a = (-0.0873 + 0.0248 * b + 0.01 * probs.astype(np.float64)).tolist()
        self.c = ((counts * probs).astype(np.float64) + 0.5).tolist()
        self.v_r = (0.92 - 4.2 / b).tolist()
        self.alpha = ((2.83 + 5.1 / b) * spread).tolist()


def _binomial_rejection(stream: _DrawStream, n: float, index: int, constants: _BtrsConstants,
                        round_to_float32: bool) -> float:
    """Hormann's BTRS for element `index`, with PyTorch's bound (Note [PyTorch's binomial draws])."""
    a, b, c = constants.a[index], constants.b[index], constants.c[index]
    v_r, odds = constants.v_r[index], constants.odds[index]
    alpha, m = constants.alpha[index], constants.m[index]
    while True:
        u = stream.uniform() - 0.5
        v = stream.uniform()
        us = 0.5 - abs(u)
        k = float(math.floor((2 * a / us + b) * u + c))
        if round_to_float32 and abs(k) >= _FLOAT32_EXACT_INTEGERS:
            k = float(np.float32(k))
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        bound = ((m + 0.5) * math.log((m + 1) / (odds * (n - m + 1)))
                 + (n + 1) * math.log((n - m + 1) / (n - k + 1))
                 + (k + 0.5) * math.log(odds * (n - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(n - m) - _stirling_tail(k) - _stirling_tail(n - k))
        if v <= bound:
            return k


def _stirling_tails(k: np.ndarray) -> np.ndarray:
    """`_stirling_tail` of each value, rounded as the scalar function rounds it."""
    square = (k + 1) * (k + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tails = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / square) / square) / (k + 1)
    small = np.flatnonzero(k < 10)
    if small.size:
        near = k[small]
        tails[small] = _libm(math.lgamma, near + 1) - (
            (near + 0.5) * _libm(math.log, near + 1) - (near + 1) + _HALF_LOG_TWO_PI)
    return tails


def _btrs_same_parameters(stream: _DrawStream, n: float, constants: _BtrsConstants, round_to_float32: bool,
                          count: int) -> np.ndarray:
    """`count` BTRS draws of one (count, p), two uniforms per attempt (Note [One parameter for all])."""
    a, b, c, v_r = constants.a[0], constants.b[0], constants.c[0], constants.v_r[0]
    odds, alpha, m = constants.odds[0], constants.alpha[0], constants.m[0]
    fixed = ((m + 0.5) * math.log((m + 1) / (odds * (n - m + 1))), _stirling_tail(m), _stirling_tail(n - m))
    draws: list[np.ndarray] = []
    needed = count
    while needed:
        attempts = needed + needed // 2 + 16
        block = stream.peek(2 * attempts)
        u, v = block[0::2] - 0.5, block[1::2]
        us = 0.5 - np.abs(u)
        k = np.floor((2 * a / us + b) * u + c)
        if round_to_float32:
            k = np.where(np.abs(k) >= _FLOAT32_EXACT_INTEGERS, k.astype(np.float32).astype(np.float64), k)
        inside = (k >= 0) & (k <= n)
        accepted = inside & (us >= 0.07) & (v <= v_r)
        slow = np.flatnonzero(inside & ~accepted)
        if slow.size:
            ks, uss = k[slow], us[slow]
            log_v = _libm(math.log, v[slow] * alpha / (a / (uss * uss) + b))
            bound = (fixed[0] + (n + 1) * _libm(math.log, (n - m + 1) / (n - ks + 1))
                     + (ks + 0.5) * _libm(math.log, odds * (n - ks + 1) / (ks + 1))
                     + fixed[1] + fixed[2] - _stirling_tails(ks) - _stirling_tails(n - ks))
            accepted[slow] = log_v <= bound
        taken = np.flatnonzero(accepted)[:needed]
        draws.append(k[taken])
        needed -= taken.size
        stream.skip(2 * (int(taken[-1]) + 1) if needed == 0 else 2 * attempts)
    return np.concatenate(draws)


def _log_over(uniforms: np.ndarray, log_failure: float) -> np.ndarray:
    """log(u) / log_failure with the C library's log where it decides the ceiling: NumPy's
    log is faster but can differ from it in the last bit, which moves the ceiling only for a
    quotient within rounding of a whole number; those are computed again with `math.log`."""
    with np.errstate(divide="ignore"):
        quotients = np.log(uniforms) / log_failure
    close = np.flatnonzero(np.abs(quotients - np.rint(quotients)) <= 1e-9 * np.abs(quotients))
    if close.size:
        quotients[close] = _libm(math.log, uniforms[close]) / log_failure
    return quotients


def _inversion_same_parameters(stream: _DrawStream, n: float, log_failure: float, count: int) -> np.ndarray:
    """`count` inversion draws of one (count, p): the geometric jumps are whole numbers, so
    their running sums from any start are exact differences of one cumulative sum, and each
    draw ends at the first jump that passes `n` (Note [One parameter for all])."""
    draws: list[float] = []
    while len(draws) < count:
        size = int((count - len(draws)) * (n * -log_failure + 2) * 1.3) + 64
        jumps = np.ceil(_log_over(stream.peek(size), log_failure))
        totals = np.concatenate([[0.0], np.cumsum(jumps)])
        ends = np.searchsorted(totals, totals[:-1] + n, side="right") - 1  # the jump that passes n
        ends = np.where(ends < size, ends, -1)
        starts, following = _chain(ends, count - len(draws))
        draws.extend((ends[starts] - starts).tolist())
        stream.skip(following)
    return np.array(draws, np.float64)


def _binomial(generator: Generator | None, counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """`binomial(counts, probs)` (same shape and float dtype) by Note [PyTorch's binomial draws]."""
    generator = _generator(generator)
    _check_floating(counts.dtype, "binomial_cpu")
    counts, probs = np.broadcast_arrays(counts, probs.astype(counts.dtype))
    shape = counts.shape
    counts, probs = counts.reshape(-1), probs.reshape(-1)
    kind = counts.dtype.type
    mirrored = probs > kind(0.5)
    small_p = np.where(mirrored, (1.0 - probs.astype(np.float64)).astype(counts.dtype), probs)
    with np.errstate(invalid="ignore"):
        by_rejection = (counts * small_p >= 10).tolist()
        log_failures = _as_floats(np.log1p(-small_p))
    constants = _BtrsConstants(counts, small_p)
    round_to_float32 = counts.dtype == np.float32
    count, prob = float(counts[0]), float(probs[0]) if counts.size else 0.0
    if (counts.size > 1 and count > 0 and 0 < prob < 1 and bool(np.all(counts == counts[0]))
            and bool(np.all(probs == probs[0]))):
        with _DrawStream(generator, 2 * counts.size) as stream:
            if by_rejection[0]:
                k = _btrs_same_parameters(stream, count, constants, round_to_float32, counts.size)
            else:
                k = _inversion_same_parameters(stream, count, log_failures[0], counts.size)
        return (count - k if mirrored[0] else k).astype(counts.dtype).reshape(shape)
    draws = []
    with _DrawStream(generator, 2 * counts.size) as stream:
        for index, (count, prob) in enumerate(zip(counts.tolist(), probs.tolist())):
            if math.isnan(prob):
                draws.append(math.nan)  # PyTorch's answer, without a draw
                continue
            if count <= 0 or prob <= 0:
                draws.append(0.0)
                continue
            if prob >= 1:
                draws.append(count)
                continue
            if by_rejection[index]:
                k = _binomial_rejection(stream, count, index, constants, round_to_float32)
            else:
                k = _binomial_inversion(stream, count, log_failures[index])
            draws.append(count - k if mirrored[index] else k)
    return np.array(draws, np.float64).astype(counts.dtype).reshape(shape)


# ---------------------------------------------------------------------------
# Poisson
#
# Note [PyTorch's Poisson draws]
# PyTorch's CPU `poisson(rates)` draws one element at a time, in memory order, from double
# uniforms, with the rate in double. A rate of 0 gives 0 without a draw. Below 10 it
# multiplies uniforms until the product falls to exp(-rate) or below: the count of factors
# before that. From 10 up it uses Hormann's transformed rejection (PTRS): with
# b = 0.931 + 2.53 sqrt(rate), a = -0.059 + 0.02483 b, u = U - 1/2, v = V and
# us = 1/2 - |u|, the candidate k = floor((2a / us + b) u + rate + 0.43) is taken at once when
# us >= 0.07 and v <= 0.9277 - 3.6224 / (b - 2); rejected when k < 0 or (us < 0.013 and
# v > us); else taken when log v + log(1.1239 + 1.1328 / (b - 3.4)) - log(a / us^2 + b) <=
# -rate + k log(rate) - lgamma(k + 1). The count is an int64 rounded to the rate's dtype.

_INT64_MIN = float(-(1 << 63))


def _poisson_by_product(stream: _DrawStream, rate: float) -> float:
    threshold = math.exp(-rate)
    count, product = 0, 1.0
    while True:
        product *= stream.uniform()
        if product > threshold:
            count += 1
        else:
            return float(count)


def _poisson_by_rejection(stream: _DrawStream, rate: float) -> float:
    if math.isinf(rate):
        return _INT64_MIN  # PyTorch's floor(inf) converted to int64
    root, log_rate = math.sqrt(rate), math.log(rate)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inverse_alpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = stream.uniform() - 0.5
        v = stream.uniform()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + rate + 0.43)
        if us >= 0.07 and v <= v_r:
            return float(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        log_mass = -rate + k * log_rate - math.lgamma(k + 1.0)
        if math.log(v) + log_inverse_alpha - math.log(a / (us * us) + b) <= log_mass:
            return float(k)


def _ptrs_same_rate(stream: _DrawStream, rate: float, count: int) -> np.ndarray:
    """`count` PTRS draws of one rate >= 10, two uniforms per attempt (Note [One parameter for all])."""
    root, log_rate = math.sqrt(rate), math.log(rate)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inverse_alpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2)
    draws: list[np.ndarray] = []
    needed = count
    while needed:
        attempts = needed + needed // 4 + 16
        block = stream.peek(2 * attempts)
        u, v = block[0::2] - 0.5, block[1::2]
        us = 0.5 - np.abs(u)
        k = np.floor((2 * a / us + b) * u + rate + 0.43)
        accepted = (us >= 0.07) & (v <= v_r)
        slow = np.flatnonzero(~accepted & ~((k < 0) | ((us < 0.013) & (v > us))))
        if slow.size:
            log_mass = -rate + k[slow] * log_rate - _libm(math.lgamma, k[slow] + 1.0)
            spread = _libm(math.log, a / (us[slow] * us[slow]) + b)
            bound = _libm(math.log, v[slow]) + log_inverse_alpha - spread
            accepted[slow] = bound <= log_mass
        taken = np.flatnonzero(accepted)[:needed]
        draws.append(k[taken])
        needed -= taken.size
        stream.skip(2 * (int(taken[-1]) + 1) if needed == 0 else 2 * attempts)
    return np.concatenate(draws)


def _chain(stops: np.ndarray, count: int) -> tuple[np.ndarray, int]:
    """The first (up to) `count` elements of a block whose element starting at position s
    ends at `stops[s]` (-1: past the block), the first starting at 0 and each next one just
    after the last one's stop: their start positions, and where the next element starts.
    Found by doubling the jump s -> stops[s] + 1, so with log2(count) array steps."""
    size = stops.size
    past = size + 1  # a start that cannot be followed within the block
    jump = np.append(np.where(stops >= 0, stops + 1, past), [past, past])
    steps = np.arange(count)
    starts = np.zeros(count, np.int64)
    bit = 0
    while (1 << bit) < count:
        chosen = ((steps >> bit) & 1).astype(bool)
        starts[chosen] = jump[starts[chosen]]
        jump = jump[jump]
        bit += 1
    complete = (starts < size) & (np.append(stops, [-1, -1])[starts] >= 0)
    kept = count if complete.all() else int(np.argmin(complete))
    starts = starts[:kept]
    return starts, (int(stops[starts[-1]]) + 1 if kept else 0)


def _product_same_rate(stream: _DrawStream, rate: float, count: int) -> np.ndarray:
    """`count` draws of one rate below 10 by the product of uniforms: from every starting
    point of a block, where its product first drops to exp(-rate) (Note [One parameter for all])."""
    threshold = math.exp(-rate)
    draws: list[float] = []
    while len(draws) < count:
        size = int((count - len(draws)) * (rate + 1) * 1.2) + 64
        block = stream.peek(size)
        stops = np.full(size, -1)
        products = block.copy()
        starts = np.arange(size)
        for step in range(size):
            ended = products <= threshold
            stops[starts[ended]] = starts[ended] + step
            keep = ~ended & (starts + step + 1 < size)
            starts, products = starts[keep], products[keep]
            if starts.size == 0:
                break
            products = products * block[starts + step + 1]
        starts, following = _chain(stops, count - len(draws))
        draws.extend((stops[starts] - starts).tolist())
        stream.skip(following)
    return np.array(draws, np.float64)


def _poisson_same_rate(stream: _DrawStream, rate: float, count: int) -> np.ndarray:
    if rate >= 10 and not math.isinf(rate):
        return _ptrs_same_rate(stream, rate, count)
    if rate == 0 or math.isinf(rate):
        return np.full(count, 0.0 if rate == 0 else _INT64_MIN)
    return _product_same_rate(stream, rate, count)


def _poisson(generator: Generator | None, rates: np.ndarray) -> np.ndarray:
    """`poisson(rates)`: one Poisson draw per element (same shape and float dtype) by
    Note [PyTorch's Poisson draws]."""
    generator = _generator(generator)
    _check_floating(rates.dtype, "poisson_cpu")
    flat = np.ascontiguousarray(rates).reshape(-1)
    if not bool(np.all(flat >= 0)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    if flat.size > 1 and bool(np.all(flat == flat[0])):
        with _DrawStream(generator, 2 * flat.size) as stream:
            draws = _poisson_same_rate(stream, float(flat[0]), flat.size)
        return draws.astype(flat.dtype).reshape(rates.shape)
    draws = []
    with _DrawStream(generator, 2 * flat.size) as stream:
        for rate in _as_floats(flat):
            if rate >= 10:
                draws.append(_poisson_by_rejection(stream, rate))
            elif rate == 0:
                draws.append(0.0)
            else:
                draws.append(_poisson_by_product(stream, rate))
    return np.array(draws, np.float64).astype(flat.dtype).reshape(rates.shape)
