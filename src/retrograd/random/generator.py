"""PyTorch's CPU random numbers, the generator: mt19937 state, seeding and the default
generator, and the exact arithmetic helpers (fused multiply-adds) the transforms use."""

from __future__ import annotations

import contextlib
import os

import numpy as np

from .. import _device, _dtype
from .._tensor import Tensor
from .._vmap_state import check_random_operation
from .._vmap_state import vmap_state as _vmap_state

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
