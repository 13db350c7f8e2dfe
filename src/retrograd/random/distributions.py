"""PyTorch's CPU random numbers, the transforms from raw bits to each distribution: uniform,
normal, integers, permutations, Bernoulli, exponential and multinomial (the rejection
samplers, which draw a varying count per element, are in `rejection`)."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._stl_order import topk_order
from .generator import Generator, _fma32, _fma64, _generator

# ---------------------------------------------------------------------------
# Uniform


def _unit_float32(words: np.ndarray) -> np.ndarray:
    return (words & np.uint64(0xFF_FFFF)).astype(np.float32) * np.float32(2.0**-24)


def _unit_float64(words64: np.ndarray) -> np.ndarray:
    return (words64 & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0**-53


def _opmath(numpy_dtype: np.dtype) -> np.dtype:
    """The precision PyTorch computes a dtype's random values in (float16 in float32)."""
    return np.dtype(np.float64) if numpy_dtype == np.float64 else np.dtype(np.float32)


def _check_floating(numpy_dtype: np.dtype, kernel: str) -> None:
    if numpy_dtype.kind != "f":
        name = _dtype.scalar_type_name(_dtype.from_numpy_dtype(numpy_dtype))
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _uniform(generator: Generator | None, count: int, numpy_dtype, low: float = 0.0,
            high: float = 1.0) -> np.ndarray:
    """`count` values of `tensor.uniform_(low, high)`, in draw order."""
    numpy_dtype = np.dtype(numpy_dtype)
    _check_floating(numpy_dtype, "check_uniform_bounds")
    if not low <= high:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}"
        )
    generator = _generator(generator)
    opmath = _opmath(numpy_dtype)
    if opmath == np.float64:
        unit = _unit_float64(generator._words64(count))
    else:
        unit = _unit_float32(generator._words(count))
    low_op, high_op = opmath.type(low), opmath.type(high)
    if low_op == 0 and high_op == 1:
        values = unit
    else:
        fused = _fma64 if opmath == np.float64 else _fma32
        values = fused(unit, high_op - low_op, low_op)
    values = values.astype(numpy_dtype, copy=False)
    top, bottom = numpy_dtype.type(high), numpy_dtype.type(low)
    rounded_up = values == top
    if rounded_up.any():
        values[rounded_up] = bottom
    return values


def _double_uniform(generator: Generator, count: int) -> np.ndarray:
    return _unit_float64(generator._words64(count))


# ---------------------------------------------------------------------------
# Normal

_LOG_POLYNOMIAL = tuple(np.float32(value) for value in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
))
_F32 = np.float32


def _log_f32(x: np.ndarray) -> np.ndarray:
    """Natural log of positive floats, as the Cephes-derived AVX routine PyTorch's float
    Box-Muller uses computes it: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then a
    degree-9 polynomial in m - 1 and e * ln 2 added in two parts (the multiply-adds the
    compiler fuses are fused here too)."""
    x = np.maximum(x, np.array(0x0080_0000, np.int32).view(np.float32))
    bits = x.view(np.int32)
    exponent = ((bits >> 23) - 0x7F).astype(np.float32) + _F32(1)
    mantissa = ((bits & ~0x7F80_0000) | 0x3F00_0000).view(np.float32)  # in [0.5, 1)
    small = mantissa < _F32(0.707106781186547524)
    x = mantissa - _F32(1)
    exponent = exponent - small.astype(np.float32)
    x = x + np.where(small, mantissa, _F32(0))
    squared = x * x
    y = _fma32(_LOG_POLYNOMIAL[0], x, _LOG_POLYNOMIAL[1])
    for coefficient in _LOG_POLYNOMIAL[2:]:
        y = _fma32(y, x, coefficient)
    y = y * x
    y = _fma32(y, squared, exponent * _F32(-2.12194440e-4))
    y = _fma32(-squared, _F32(0.5), y)
    return _fma32(exponent, _F32(0.693359375), x + y)


def _sincos_f32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin x, cos x) of non-negative floats below 8192, as the Cephes-derived AVX sincos:
    reduce by multiples of pi/4 in three parts, then a cosine and a sine polynomial on
    [-pi/4, pi/4], picked and signed by the octant."""
    octant = (x * _F32(1.27323954473516)).astype(np.int32)
    octant = (octant + 1) & ~1
    multiple = octant.astype(np.float32)
    negate_sin = (octant & 4) != 0
    swap = (octant & 2) != 0
    negate_cos = ((octant - 2) & 4) == 0
    x = _fma32(multiple, _F32(-0.78515625), x)
    x = _fma32(multiple, _F32(-2.4187564849853515625e-4), x)
    x = _fma32(multiple, _F32(-3.77489497744594108e-8), x)
    squared = x * x
    cosine = _fma32(_F32(2.443315711809948e-5), squared, _F32(-1.388731625493765e-3))
    cosine = _fma32(cosine, squared, _F32(4.166664568298827e-2))
    cosine = cosine * squared
    cosine = _fma32(cosine, squared, -(squared * _F32(0.5)))
    cosine = cosine + _F32(1)
    sine = _fma32(_F32(-1.9515295891e-4), squared, _F32(8.3321608736e-3))
    sine = _fma32(sine, squared, _F32(-1.6666654611e-1))
    sine = sine * squared
    sine = _fma32(sine, x, x)
    sin = np.where(swap, cosine, sine)
    cos = np.where(swap, sine, cosine)
    return np.where(negate_sin, -sin, sin), np.where(negate_cos, -cos, cos)


_TWO_PI = 2.0 * math.pi


def _libm(function, values: np.ndarray) -> np.ndarray:
    """`function` (from `math`, i.e. the C library) applied to each value."""
    flat = values.reshape(-1).tolist()
    return np.fromiter(map(function, flat), np.float64, len(flat)).reshape(values.shape)


_numpy_trig_matches_libm: bool | None = None


def _cos_sin(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The C library's cos and sin of doubles (NumPy's where they agree, checked once)."""
    global _numpy_trig_matches_libm
    if _numpy_trig_matches_libm is None:
        sample = np.linspace(0.0, _TWO_PI, 4099)[1:] * 0.999999
        _numpy_trig_matches_libm = bool(
            np.array_equal(np.cos(sample), _libm(math.cos, sample))
            and np.array_equal(np.sin(sample), _libm(math.sin, sample))
        )
    if _numpy_trig_matches_libm:
        return np.cos(theta), np.sin(theta)
    return _libm(math.cos, theta), _libm(math.sin, theta)


def _box_muller_16(uniforms: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Blocks of 16 uniforms (rows) to 16 normals each, as PyTorch's `normal_fill_16`."""
    first, second = uniforms[:, :8], uniforms[:, 8:]
    if uniforms.dtype == np.float32:
        radius = np.sqrt(_F32(-2) * _log_f32(_F32(1) - first))
        sin, cos = _sincos_f32(_F32(_TWO_PI) * second)
        fused = _fma32
    else:
        radius = np.sqrt(-2.0 * _libm(math.log, 1.0 - first))
        cos, sin = _cos_sin(_TWO_PI * second)
        fused = _fma64
    values = np.concatenate([radius * cos, radius * sin], axis=1)
    if mean == 0 and std == 1:
        return values + values.dtype.type(0)  # fma(v, 1, 0): -0 becomes +0
    return fused(values, values.dtype.type(std), values.dtype.type(mean)).astype(values.dtype)


_ROWS_PER_CHUNK = 4096


def _normal_vectorised(generator: Generator, count: int, opmath: np.dtype, mean: float,
                       std: float, reduced: bool = False) -> np.ndarray:
    """PyTorch's `normal_fill`. float32/float64 draw a uniform for every element before the
    16 fresh ones of a ragged tail; float16 (`reduced`) draws only the whole blocks' ones."""

    def draw(n: int) -> np.ndarray:
        if opmath == np.float64:
            return _unit_float64(generator._words64(n))
        return _unit_float32(generator._words(n))

    whole = count - count % 16
    values = draw(whole if reduced else count)
    if values.size < count:
        values = np.concatenate([values, np.zeros(count - values.size, values.dtype)])
    blocks = values[:whole].reshape(-1, 16)
    if whole != count:  # the tail's 16 fresh uniforms, transformed with the whole blocks
        blocks = np.concatenate([blocks, draw(16).reshape(1, 16)])
    normals = np.empty_like(blocks)
    for start in range(0, blocks.shape[0], _ROWS_PER_CHUNK):  # cache-sized pieces: 3x faster
        rows = slice(start, start + _ROWS_PER_CHUNK)
        normals[rows] = _box_muller_16(blocks[rows], mean, std)
    values[:whole] = normals[: whole // 16].reshape(-1)
    if whole != count:
        values[count - 16:] = normals[-1]
    return values


def _normal_scalar(generator: Generator, count: int, mean: float, std: float) -> np.ndarray:
    """`count` draws of PyTorch's scalar normal (double Box-Muller with a cached second
    value): each pair of double uniforms (u1, u2) gives r cos(2 pi u1), then r sin(2 pi u1),
    with r = sqrt(-2 log1p(-u2))."""
    standard = []
    if generator._normal_cache is not None and count:
        standard.append(generator._normal_cache)
        generator._normal_cache = None
    pairs = (count - len(standard) + 1) // 2
    if pairs:
        uniforms = _double_uniform(generator, 2 * pairs)
        angle = _TWO_PI * uniforms[0::2]
        radius = np.sqrt(-2.0 * _libm(math.log1p, -uniforms[1::2]))
        cos, sin = _cos_sin(angle)
        both = np.empty(2 * pairs)
        both[0::2] = radius * cos
        both[1::2] = radius * sin
        if len(standard) + 2 * pairs > count:
            generator._normal_cache = float(both[-1])
            both = both[:-1]
        standard = np.concatenate([np.array(standard, np.float64), both])
    standard = np.asarray(standard, np.float64)
    return _fma64(standard, std, mean)


def _normal(generator: Generator | None, count: int, numpy_dtype, mean: float = 0.0,
           std: float = 1.0, contiguous: bool = True) -> np.ndarray:
    """`count` values of `tensor.normal_(mean, std)`, in draw order."""
    numpy_dtype = np.dtype(numpy_dtype)
    _check_floating(numpy_dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    generator = _generator(generator)
    if count >= 16 and contiguous:
        opmath = _opmath(numpy_dtype)
        values = _normal_vectorised(generator, count, opmath, mean, std, opmath != numpy_dtype)
    else:
        values = _normal_scalar(generator, count, mean, std)
    return values.astype(numpy_dtype, copy=False)


# ---------------------------------------------------------------------------
# Integers, permutations, Bernoulli, exponential, multinomial


def _integers(generator: Generator | None, count: int, low: int, high: int) -> np.ndarray:
    """`count` values of `tensor.random_(low, high)` (int64), in draw order."""
    generator = _generator(generator)
    span = high - low
    if span >= 1 << 28:
        words = generator._words64(count)
    else:
        words = generator._words(count)
    return ((words % np.uint64(span)).astype(np.int64) + low) if count else np.zeros(0, np.int64)


def _full_range(generator: Generator | None, count: int, numpy_dtype) -> np.ndarray:
    """`count` values of `tensor.random_()`: [0, 2^mantissa] for floats, [0, max] for ints."""
    generator = _generator(generator)
    numpy_dtype = np.dtype(numpy_dtype)
    wide = numpy_dtype in (np.float64, np.int64)
    words = generator._words64(count) if wide else generator._words(count)
    if numpy_dtype == np.bool_:
        return (words & np.uint64(1)).astype(np.bool_)
    if numpy_dtype.kind == "f":
        modulus = (1 << (np.finfo(numpy_dtype).nmant + 1)) + 1
    else:
        modulus = int(np.iinfo(numpy_dtype).max) + 1
    return (words % np.uint64(modulus)).astype(numpy_dtype)


def _permutation(generator: Generator | None, n: int) -> np.ndarray:
    """`randperm(n)`: PyTorch's Fisher-Yates, where step i swaps positions i and
    j_i = i + word_i % (n - i). See Note [Fisher-Yates without a loop]."""
    generator = _generator(generator)
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    steps = np.arange(n - 1, dtype=np.int64)
    targets = steps + (generator._words(n - 1) % (n - steps).astype(np.uint64)).astype(np.int64)
    if n <= 256:
        order = list(range(n))
        for step, target in zip(steps.tolist(), targets.tolist(), strict=True):
            order[step], order[target] = order[target], order[step]
        return np.array(order, np.int64)
    return _shuffle_result(steps, targets, n)


# Note [Fisher-Yates without a loop]
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# Step i swaps positions i and j_i >= i, and position i is final afterwards. So the final
# value at i is what position j_i held just before step i. A position p >= i was last
# written (before step i) by the last earlier step k with j_k = p, which put there what
# position k held before step k; if no earlier step chose p, it still holds p. Let
# before(k) be what position k held before step k: before(k) = before(m) for the last
# m < k with j_m = k, or k if there is none. Those links point to smaller indices, so
# before() is the root of a forest, found by pointer doubling in log2(n) vectorised
# rounds. Then final(i) = before(k) for the last k < i with j_k = j_i, or j_i, and the
# last position keeps before(n - 1).


def _shuffle_result(steps: np.ndarray, targets: np.ndarray, n: int) -> np.ndarray:
    chooser = np.full(n, -1, np.int64)
    moved = targets != steps
    np.maximum.at(chooser, targets[moved], steps[moved])
    root = np.where(chooser >= 0, chooser, np.arange(n))
    while True:
        jumped = root[root]
        if np.array_equal(jumped, root):
            break
        root = jumped
    sorted_steps = _stable_order(targets)  # steps grouped by target, in step order
    sorted_targets = targets[sorted_steps]
    same = sorted_targets[1:] == sorted_targets[:-1]
    previous = np.full(n - 1, -1, np.int64)
    previous[sorted_steps[1:][same]] = sorted_steps[:-1][same]
    result = np.empty(n, np.int64)
    result[: n - 1] = np.where(previous >= 0, root[np.maximum(previous, 0)], targets)
    result[n - 1] = root[n - 1]
    return result


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """A stable argsort of non-negative int64 keys below 2^48, as radix passes over 16-bit
    digits (NumPy sorts 16-bit keys by radix, many times faster than wide ones)."""
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while shift < 48 and (keys >> shift).any():
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


def _bernoulli_scalar(generator: Generator | None, count: int, p: float) -> np.ndarray:
    """`count` draws of `tensor.bernoulli_(p)` (booleans), in draw order."""
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _double_uniform(_generator(generator), count) < p


def _bernoulli_tensor(generator: Generator | None, probabilities: np.ndarray) -> np.ndarray:
    """One draw per probability (booleans, same shape), in C order: a uniform in the
    probabilities' precision below p."""
    generator = _generator(generator)
    count = probabilities.size
    if probabilities.dtype == np.float64:
        unit = _double_uniform(generator, count)
    else:
        unit = _unit_float32(generator._words(count))
        probabilities = probabilities.astype(np.float32)
    return (unit < probabilities.reshape(-1)).reshape(probabilities.shape)


def _exponential(generator: Generator | None, count: int, lambd: float = 1.0) -> np.ndarray:
    """`count` values of `tensor.exponential_(lambd)` (double), in draw order."""
    uniforms = _double_uniform(_generator(generator), count)
    return (-1.0 / lambd) * _libm(math.log1p, -uniforms)


def _multinomial(generator: Generator | None, weights: np.ndarray, num_samples: int,
                replacement: bool) -> np.ndarray:
    """Sample indices of `weights` (1-D or 2-D, rows are distributions) as PyTorch does."""
    generator = _generator(generator)
    rows = weights.reshape(-1, weights.shape[-1])
    if not replacement or num_samples == 1:
        keys = _exponential(generator, rows.size).astype(rows.dtype).reshape(rows.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = rows / keys
        if num_samples == 1:
            chosen = np.argmax(scores, axis=1)[:, None]
        else:
            chosen = np.stack([_top_k(row, num_samples) for row in scores])
        return chosen.reshape(*weights.shape[:-1], num_samples)
    result = np.empty((rows.shape[0], num_samples), np.int64)
    for index, row in enumerate(rows):
        cumulative = np.cumsum(row, dtype=row.dtype)
        cumulative = cumulative / cumulative[-1]
        cumulative[-1] = 1
        uniforms = _double_uniform(generator, num_samples)
        result[index] = np.searchsorted(cumulative.astype(np.float64), uniforms, side="left")
    return result.reshape(*weights.shape[:-1], num_samples)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, largest first, as PyTorch's CPU topk orders them:
    by partial sort when the values that matter are distinct; where equal values decide
    the order, by replaying PyTorch's standard-library sort (see `_stl_order`)."""
    if k < scores.size:
        chosen = np.argpartition(-scores, k - 1)[:k]
    else:
        chosen = np.arange(scores.size)
    chosen = chosen[np.argsort(-scores[chosen], kind="stable")]
    kth = scores[chosen[-1]]
    contenders = scores[scores >= kth] if not np.isnan(kth) else scores
    if np.unique(contenders).size < contenders.size or np.isnan(scores).any():
        return np.array(topk_order(scores.tolist(), k), np.int64)
    return chosen
