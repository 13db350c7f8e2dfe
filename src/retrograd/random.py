"""PyTorch's CPU random numbers, bit for bit (`retrograd.random`, as `torch.random`).

A seeded program draws here the numbers PyTorch draws on the CPU: the same generator, the
same seeding, the same state bytes, and the same transform from raw bits to each
distribution, including the rounding of every floating-point step.

Note [PyTorch's CPU generator]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
PyTorch's CPU generator is the 32-bit Mersenne Twister (mt19937), seeded with the classic
`init_genrand` recurrence from the low 32 bits of the 64-bit seed. Its raw stream is the
standard mt19937 stream, so NumPy's `MT19937` bit generator produces it: we give it the
seeded key (NumPy's legacy `RandomState(seed)` seeding is that same recurrence) and read
words with `random_raw`, in blocks. A 64-bit draw takes two words, the first one high.
A fresh `Generator()` is seeded with 67280421310721; the default generator of a process
starts from a seed drawn from the operating system (so `initial_seed()` differs between
runs until `manual_seed` is called). The generator also caches the second value of the
scalar Box-Muller pair (see `_normal_scalar`), and that cache is part of its state.

Note [PyTorch's transforms]
~~~~~~~~~~~~~~~~~~~~~~~~~~~
From raw words to values, as PyTorch's CPU kernels do it (one draw per element, in the
order of the elements in memory):

- uniform on [from, to): float32 takes the low 24 bits of one word, float64 the low 53
  bits of a 64-bit draw, times 2^-24 (2^-53); then x * (to - from) + from, computed with
  a fused multiply-add in the element's precision (PyTorch's kernels are compiled for
  AVX2/AVX-512, where the compiler fuses it). A value that rounds up to `to` becomes
  `from`.
- normal: tensors of 16 or more contiguous elements use a vectorised Box-Muller on blocks
  of 16 uniforms u (the first 8 give the radius sqrt(-2 log(1 - u)), the last 8 the angle
  2 pi u; outputs are radius * cos in the first half and radius * sin in the second); a
  size that is not a multiple of 16 draws 16 fresh uniforms for the last 16 elements and
  overwrites them. float32 runs this with the Cephes-style single-precision log and
  sincos PyTorch's AVX2 kernel uses (`_log_f32`, `_sincos_f32`); float64 with the C
  library's log, cos and sin. Smaller or non-contiguous tensors draw one double-precision
  Box-Muller pair per two elements (radius from log1p(-u2), angle from u1), returning the
  cosine value and caching the sine value for the next draw.
- random integers in [low, high): (word % range) + low, with a 64-bit draw when
  range >= 2^28. randperm: a Fisher-Yates shuffle where step i swaps i with
  i + word % (n - i).
- bernoulli(p): a double uniform < p for a number p; for a tensor of probabilities, a
  uniform in the probabilities' precision. exponential: -log1p(-u) / lambda in double.
- multinomial with replacement: per row, the float cumulative sum of the weights divided
  by its total (the last set to 1), then for each sample a double uniform and the first
  bucket whose cumulative value is >= it. Without replacement: the indices of the
  largest weights / Exp(1) draws (argmax for one sample, top-k otherwise).

- float16 values are computed in float32 and rounded; its vectorised normal draws only
  the uniforms of whole 16-blocks before the tail's 16.
- Ties among top-k scores come out in the order of PyTorch's C++ sort (`_stl_order`).

The reference is PyTorch on x86-64 with its AVX2 or AVX-512 kernels (any x86 CPU of the
last decade; machines without AVX2 run kernels that fuse nothing and use the C library's
float log/sin/cos, so their float32 normals and scaled uniforms differ in the last bit).
The C library's double log and log1p are called through `math` (NumPy's own SIMD log
differs from it in the last bit for about 0.3% of inputs); NumPy's cos and sin are used
when they agree with `math`'s on a fixed sample (checked once).
"""

from __future__ import annotations

import contextlib
import math
import os

import numpy as np

from . import _device, _dtype
from ._stl_order import topk_order
from ._tensor import Tensor
from ._vmap_state import check_random_operation, draws_per_example_reading_inputs
from ._vmap_state import vmap_state as _vmap_state
from .autograd import grad_mode

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]

DEFAULT_SEED = 67280421310721
_STATE_SIZE = 5056
_WORDS = 624
_U64 = 0xFFFF_FFFF_FFFF_FFFF


# ---------------------------------------------------------------------------
# The generator


def _seeded_key(seed: int) -> np.ndarray:
    """The 624-word mt19937 state `init_genrand(seed & 0xffffffff)` makes."""
    return np.random.RandomState(seed & 0xFFFF_FFFF).get_state(legacy=True)[1]


def _as_seed(seed) -> int:
    """A seed as PyTorch takes it: any integer in [-2^63, 2^64), negative ones wrapped."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    seed = int(seed)
    if not -(1 << 63) <= seed <= _U64:
        raise ValueError("Overflow when unpacking long long")
    return seed & _U64


class Generator:
    """A source of random numbers with PyTorch's CPU stream: `Generator().manual_seed(0)`
    draws what `torch.Generator().manual_seed(0)` draws."""

    __slots__ = ("_bits", "_float_cache", "_initial_seed", "_next_when_full", "_normal_cache")

    def __init__(self, device="cpu"):
        _device.check_device(device)
        self._bits = np.random.MT19937()
        self._reseed(DEFAULT_SEED)

    def _reseed(self, seed: int) -> None:
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": _seeded_key(seed), "pos": _WORDS}}
        self._initial_seed = seed
        self._next_when_full = 0  # PyTorch's `next` index of a fresh state (see get_state)
        self._normal_cache = None
        self._float_cache = None

    @property
    def device(self):
        return _device.CPU

    def manual_seed(self, seed) -> Generator:
        """Restart the stream from `seed`; returns the generator."""
        self._reseed(_as_seed(seed))
        return self

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._initial_seed

    def seed(self) -> int:
        """Reseed from the operating system's randomness; returns the new seed."""
        new_seed = int.from_bytes(os.urandom(8), "little")
        self._reseed(new_seed)
        return new_seed

    def get_state(self) -> Tensor:
        """The state as PyTorch lays it out: 5056 bytes (uint8), interchangeable with
        `torch.Generator.get_state()`."""
        state = self._bits.state["state"]
        position = int(state["pos"])
        buffer = np.zeros(_STATE_SIZE, np.uint8)
        header = np.array(
            [self._initial_seed, 0, self._next_when_full if position == _WORDS else position],
            np.uint64,
        )
        buffer[0:8] = header[0:1].view(np.uint8)
        buffer[8:16] = np.array([_WORDS + 1 - position, 1], np.int32).view(np.uint8)
        buffer[16:24] = header[2:3].view(np.uint8)
        buffer[24:5016] = state["key"].astype(np.uint64).view(np.uint8)
        if self._normal_cache is not None:
            buffer[5024:5032] = np.array([self._normal_cache], np.float64).view(np.uint8)
            buffer[5040] = 1
        if self._float_cache is not None:
            buffer[5048:5052] = np.array([self._float_cache], np.float32).view(np.uint8)
            buffer[5052] = 1
        return Tensor._make(buffer)

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state from `get_state` (ours or PyTorch's)."""
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        buffer = np.ascontiguousarray(new_state._data).reshape(-1)
        if buffer.size != _STATE_SIZE:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but found the input RNG "
                f"state size to be {buffer.size}"
            )
        seed = int(buffer[0:8].view(np.uint64)[0])
        left, seeded = (int(value) for value in buffer[8:16].view(np.int32))
        next_index = int(buffer[16:24].view(np.uint64)[0])
        if not seeded or not 0 < left <= _WORDS or next_index > _WORDS:
            raise RuntimeError("Invalid mt19937 state")
        key = buffer[24:5016].view(np.uint64).astype(np.uint32)
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": _WORDS + 1 - left}}
        self._initial_seed = seed
        self._next_when_full = next_index
        self._normal_cache = float(buffer[5024:5032].view(np.float64)[0]) if buffer[5040] else None
        self._float_cache = float(buffer[5048:5052].view(np.float32)[0]) if buffer[5052] else None
        return self

    def __repr__(self) -> str:
        return f"<retrograd.Generator object at {id(self):#x}>"

    # -- raw draws ----------------------------------------------------------

    def _words(self, count: int) -> np.ndarray:
        """`count` 32-bit draws (in a uint64 array)."""
        if count <= 0:
            return np.zeros(0, np.uint64)
        self._next_when_full = _WORDS
        return self._bits.random_raw(count)

    def _words64(self, count: int) -> np.ndarray:
        """`count` 64-bit draws, each made of two words, the first one high."""
        words = self._words(2 * count)
        return (words[0::2] << np.uint64(32)) | words[1::2]


default_generator = Generator()
default_generator.seed()


def _generator(generator: Generator | None) -> Generator:
    if _vmap_state.depth:  # inside vmap: randomness='error' refuses to draw
        check_random_operation()
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a retrograd.Generator, not {type(generator).__name__}")
    return generator


def manual_seed(seed) -> Generator:
    """Seed the default generator, so random tensors repeat from run to run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system's randomness; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed of the default generator (a different one in every process until seeded)."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state (5056 bytes, PyTorch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state from `get_rng_state`."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda"):
    """Run a block with the default generator's state restored afterwards."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


# ---------------------------------------------------------------------------
# Exact arithmetic helpers: PyTorch's kernels fuse multiply-adds; NumPy has no fma.


def _odd_nudge(value: np.ndarray, error: np.ndarray) -> np.ndarray:
    """Round-to-odd: where `value` is inexact (error != 0) and its last bit is even, step
    one unit towards the true value, so a later rounding to fewer bits is correct."""
    fix = (error != 0) & ((value.view(np.int64) & 1) == 0)
    if fix.any():
        value = value.copy()
        value[fix] = np.nextafter(value[fix], np.where(error[fix] > 0, np.inf, -np.inf))
    return value


_LOW_29_BITS, _HALFWAY_BITS = np.int64(0x1FFF_FFFF), np.int64(0x1000_0000)


def _fma32(a, b, c) -> np.ndarray:
    """float32 a * b + c with one rounding. The product of two floats is exact in double;
    the double sum can only round wrongly to float where it lands exactly halfway between
    two floats (29 low bits equal to 1 then 28 zeros) while the exact sum was not there:
    such values are moved one unit towards the exact sum (rounding to odd)."""
    product = np.multiply(a, b, dtype=np.float64)
    c = np.float64(c) if np.ndim(c) == 0 else np.asarray(c, np.float64)
    total = product + c
    halfway = (total.view(np.int64) & _LOW_29_BITS) == _HALFWAY_BITS
    if np.count_nonzero(halfway):
        back = total - product
        error = (product - (total - back)) + (c - back)
        wrong = halfway & (error != 0)
        if wrong.any():
            total = np.array(total, np.float64)
            total[wrong] = np.nextafter(total[wrong], np.where(error[wrong] > 0, np.inf, -np.inf))
    return total.astype(np.float32)


def _split(value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaled = value * 134217729.0  # 2^27 + 1 (Veltkamp)
    high = scaled - (scaled - value)
    return high, value - high


def _fma64(a, b, c) -> np.ndarray:
    """float64 a * b + c with one rounding (Boldo and Melquiond's emulation: an exact
    product, an exact sum, the small parts added with rounding to odd)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    c = np.asarray(c, np.float64)
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = c + product
    back = total - c
    total_error = (c - (total - back)) + (product - back)
    small = total_error + product_error
    back = small - total_error
    small_error = (total_error - (small - back)) + (product_error - back)
    return total + _odd_nudge(small, small_error)


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


# ---------------------------------------------------------------------------
# Masks and noise for nn.functional


def _dropout_mask(shape, p: float, numpy_dtype, generator: Generator | None = None) -> np.ndarray:
    """PyTorch's dropout noise: bernoulli(1 - p) values divided by (1 - p) in the input's
    dtype (all zeros, with no draw, when p == 1)."""
    numpy_dtype = np.dtype(numpy_dtype)
    if p == 1:
        return np.zeros(shape, numpy_dtype)
    count = math.prod(shape)
    keep = _bernoulli_scalar(generator, count, 1 - p).reshape(shape)
    return keep.astype(numpy_dtype) / numpy_dtype.type(1 - p)


def _rrelu_noise(input_array: np.ndarray, lower: float, upper: float,
                generator: Generator | None = None) -> np.ndarray:
    """Training rrelu's slopes: a double uniform in [lower, upper) for each element <= 0
    (in C order), 1 elsewhere. (PyTorch's rrelu kernel is compiled without fused
    multiply-adds, so the uniform's scaling rounds twice here.)"""
    negative = input_array <= 0
    opmath = _opmath(input_array.dtype)
    lower, upper = float(opmath.type(lower)), float(opmath.type(upper))  # bounds in opmath
    slopes = np.ones(input_array.shape, opmath)
    count = int(negative.sum())
    if count:
        unit = _double_uniform(_generator(generator), count)
        slopes[negative] = unit * (upper - lower) + lower
    return slopes.astype(input_array.dtype)


# ---------------------------------------------------------------------------
# Tensor methods and functions


def _memory_order(array: np.ndarray) -> np.ndarray | None:
    """Flat C-order indices of `array` in the order of its memory (None when that is C
    order): PyTorch's kernels visit a strided tensor's elements as they lie in memory."""
    if array.flags.c_contiguous or array.size <= 1:
        return None
    offsets = np.zeros(array.shape, np.int64)
    for axis, stride in enumerate(array.strides):
        shape = [1] * array.ndim
        shape[axis] = array.shape[axis]
        offsets = offsets + np.arange(array.shape[axis], dtype=np.int64).reshape(shape) * stride
    return np.argsort(offsets.reshape(-1), kind="stable")


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write draws (in memory order) into `tensor` in place."""
    if grad_mode._state.grad_enabled and tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if tensor._is_inference and not grad_mode._state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
            "a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details."
        )
    data = tensor._data
    order = _memory_order(data)
    if order is None:
        data[...] = values.reshape(data.shape)
    else:
        flat = np.empty(data.size, data.dtype)
        flat[order] = values
        data[...] = flat.reshape(data.shape)
    tensor._bump_version()
    return tensor


def _number(value) -> float:
    return value.item() if isinstance(value, Tensor) else value


def _pop_from(kwargs: dict, default, method: str):
    """PyTorch's keyword `from` (a Python keyword, so it arrives in **kwargs)."""
    value = kwargs.pop("from", default)
    if kwargs:
        raise TypeError(f"{method}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return value


def uniform_(self: Tensor, from_: float = 0, to: float = 1, *, generator=None, **kwargs) -> Tensor:
    """Fill with uniform values in [from, to)."""
    from_ = _pop_from(kwargs, from_, "uniform_")
    values = _uniform(generator, self._data.size, self._data.dtype, _number(from_), _number(to))
    return _fill(self, values)


def normal_(self: Tensor, mean: float = 0, std: float = 1, *, generator=None) -> Tensor:
    """Fill with normal values of the given mean and standard deviation."""
    values = _normal(generator, self._data.size, self._data.dtype, _number(mean), _number(std),
                    contiguous=self._data.flags.c_contiguous)
    return _fill(self, values)


def random_(self: Tensor, from_=None, to=None, *, generator=None, **kwargs) -> Tensor:
    """Fill with integers: `random_()` over the dtype's range, `random_(to)` in [0, to),
    `random_(from, to)` in [from, to)."""
    from_ = _pop_from(kwargs, from_, "random_")
    count = self._data.size
    if from_ is None and to is None:
        values = _full_range(generator, count, self._data.dtype)
    else:
        low, high = (0, from_) if to is None else (from_, to)
        if low >= high:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
            )
        values = _integers(generator, count, int(low), int(high))
    return _fill(self, values.astype(self._data.dtype))


def exponential_(self: Tensor, lambd: float = 1, *, generator=None) -> Tensor:
    """Fill with exponential values of rate `lambd`."""
    if self._data.dtype.kind != "f":
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_dtype.scalar_type_name(self.dtype)}"
        )
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, _exponential(generator, self._data.size, lambd).astype(self._data.dtype))


def log_normal_(self: Tensor, mean: float = 1, std: float = 2, *, generator=None) -> Tensor:
    """Fill with exp of normal values (PyTorch draws these one scalar Box-Muller value at a time)."""
    _check_floating(self._data.dtype, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    standard = _normal_scalar(_generator(generator), self._data.size, mean, std)
    return _fill(self, _libm(math.exp, standard).astype(self._data.dtype))


def cauchy_(self: Tensor, median: float = 0, sigma: float = 1, *, generator=None) -> Tensor:
    """Fill with Cauchy values: median + sigma * tan(pi * (u - 1/2)) for double uniforms u."""
    _check_floating(self._data.dtype, "cauchy_cpu")
    uniforms = _double_uniform(_generator(generator), self._data.size)
    values = median + sigma * _libm(math.tan, math.pi * (uniforms - 0.5))
    return _fill(self, values.astype(self._data.dtype))


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    uniforms = _double_uniform(_generator(generator), self._data.size)
    values = np.ceil(_libm(math.log, uniforms) / math.log1p(-p))
    return _fill(self, values.astype(self._data.dtype))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 0/1 draws: 1 with probability p (a number, or a tensor broadcast to self)."""
    if isinstance(p, Tensor):
        probabilities = np.broadcast_to(p._data, self._data.shape)
        order = _memory_order(self._data)
        flat = probabilities.reshape(-1) if order is None else probabilities.reshape(-1)[order]
        values = _bernoulli_tensor(generator, np.ascontiguousarray(flat))
    else:
        values = _bernoulli_scalar(generator, self._data.size, p)
    return _fill(self, values.astype(self._data.dtype))


@draws_per_example_reading_inputs
def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 draws: 1 with probability `input` (elementwise), or with probability `p`."""
    if out is not None:
        return _write_out(out, bernoulli(input, p, generator=generator), "bernoulli")
    result = Tensor._make(np.empty(input._data.shape, input._data.dtype))
    if p is None:
        if input.dtype.is_floating_point and (
            np.any(input._data < 0) or np.any(input._data > 1)
        ):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        bernoulli_(result, input, generator=generator)
    else:
        bernoulli_(result, p, generator=generator)
    return result


@draws_per_example_reading_inputs
def multinomial_function(input: Tensor, num_samples: int, replacement: bool = False, *,
                         generator=None, out=None) -> Tensor:
    """Indices sampled from the rows of `input` (non-negative weights, 1-D or 2-D)."""
    if out is not None:
        drawn = multinomial_function(input, num_samples, replacement, generator=generator)
        return _write_out(out, drawn, "multinomial")
    weights = input._data
    if not 0 < weights.ndim <= 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if weights.dtype.kind != "f":
        raise RuntimeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{_dtype.scalar_type_name(input.dtype)}"
        )
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = weights.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if categories > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = weights.reshape(-1, categories)
    if rows.shape[0] == 0:
        return Tensor._make(np.zeros((*weights.shape[:-1], num_samples), np.int64))
    if not replacement or num_samples == 1:  # PyTorch samples these through Exp(1) keys
        if not (np.all(rows < np.inf) and np.all(rows >= 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    else:
        if np.any(rows < 0):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not np.all(np.isfinite(rows)):
            raise RuntimeError(
                "invalid multinomial distribution (encountering probability entry = infinity or NaN)"
            )
    if np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return Tensor._make(_multinomial(generator, weights, num_samples, replacement))


@draws_per_example_reading_inputs
def normal_function(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """Normal draws with numbers (`normal(mean, std, size)`) or tensors of means and stds.

    Tensors are broadcast together; as PyTorch, a tensor std scales standard draws."""
    if out is not None:
        if dtype is None and isinstance(out, Tensor):
            dtype = out.dtype
        drawn = normal_function(mean, std, size, generator=generator, dtype=dtype)
        return _write_out(out, drawn, "normal")
    mean_is_tensor, std_is_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_is_tensor and not std_is_tensor:
        if size is None:
            raise TypeError("normal() missing required argument 'size'")
        from ._creation import _float_dtype, _size

        shape = _size((size,))
        numpy_dtype = _float_dtype(dtype).numpy
        result = Tensor._make(np.empty(shape, numpy_dtype))
        normal_(result, mean, std, generator=generator)
    else:
        like = mean if mean_is_tensor else std
        shape = np.broadcast_shapes(
            mean._data.shape if mean_is_tensor else (), std._data.shape if std_is_tensor else ()
        )
        result = Tensor._make(np.empty(shape, like._data.dtype))
        if std_is_tensor and np.any(std._data < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        if std_is_tensor:
            normal_(result, 0.0, 1.0, generator=generator)
            values = result._data * std._data.astype(result._data.dtype)
        else:
            normal_(result, 0.0, std, generator=generator)
            values = result._data
        mean_values = mean._data if mean_is_tensor else mean
        result._data[...] = values + np.asarray(mean_values, result._data.dtype)
    if requires_grad:
        result.requires_grad_(True)
    return result


def _write_out(out, result: Tensor, name: str) -> Tensor:
    """`out=` of a sampling function: see Note [out= arguments] (ops/_out.py)."""
    from .ops import _out

    return _out.write(out, result, name, warn=False)


def _install_tensor_methods() -> None:
    """The in-place fillers are Tensor methods only (as in PyTorch)."""
    for name, function in (
        ("uniform_", uniform_),
        ("normal_", normal_),
        ("random_", random_),
        ("exponential_", exponential_),
        ("bernoulli_", bernoulli_),
        ("log_normal_", log_normal_),
        ("cauchy_", cauchy_),
        ("geometric_", geometric_),
    ):
        setattr(Tensor, name, function)


_install_tensor_methods()


def _register_ops() -> None:
    """Enter the public sampling functions in the op table (not differentiable), which makes
    `Tensor.bernoulli` and `Tensor.multinomial` and lists them on the operators page. Called by
    the package once the op table exists (the table's modules import this one)."""
    from .ops._table import register

    register("bernoulli", methods="bernoulli", differentiable=False)(bernoulli)
    register("multinomial", methods="multinomial", differentiable=False)(multinomial_function)
    register("normal", differentiable=False)(normal_function)
