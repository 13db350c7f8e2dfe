"""`retrograd.cuda`: the GPU namespace, present so that the first lines of PyTorch scripts run.

This build of retrograd computes on the CPU with NumPy, so `is_available()` is False and
`device_count()` is 0. Seeding and synchronising are harmless no-ops (there is no GPU work to
seed or wait for); asking for a GPU's properties, or putting a tensor on one, raises the error
that says this build computes on the CPU.

>>> import retrograd
>>> device = "cuda" if retrograd.cuda.is_available() else "cpu"
>>> retrograd.ones(2, device=device).device
device(type='cpu')
"""

from __future__ import annotations

from ._device import NoDeviceError, _no_device_message

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "initial_seed",
    "is_available",
    "is_bf16_supported",
    "is_initialized",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "set_device",
    "synchronize",
]


def is_available() -> bool:
    """Whether a GPU can be used: always False (this build computes on the CPU)."""
    return False


def device_count() -> int:
    """The number of GPUs: 0."""
    return 0


def is_initialized() -> bool:
    """Whether the GPU runtime has started: never."""
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether the GPU computes in bfloat16: False, there is no GPU."""
    return False


def manual_seed(seed: int) -> None:
    """Seed the GPU generators: nothing to seed, so this does nothing (as PyTorch without GPUs)."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator: nothing to seed."""
    int(seed)


def seed() -> None:
    """Seed the GPU generator from entropy: nothing to seed."""


def seed_all() -> None:
    """Seed every GPU's generator from entropy: nothing to seed."""


def synchronize(device=None) -> None:
    """Wait for the GPU's queued work: there is none, so this returns at once."""


def empty_cache() -> None:
    """Release cached GPU memory: there is none."""


def _refuse(what: str):
    raise NoDeviceError(_no_device_message("cuda") + f" ({what} needs a GPU)")


def current_device() -> int:
    """The index of the selected GPU: refused, there is none."""
    _refuse("retrograd.cuda.current_device()")


def set_device(device) -> None:
    """Select a GPU: refused, there is none."""
    _refuse("retrograd.cuda.set_device()")


def get_device_name(device=None) -> str:
    """A GPU's name: refused, there is none."""
    _refuse("retrograd.cuda.get_device_name()")


def initial_seed() -> int:
    """The GPU generator's seed: refused, there is none (as PyTorch without GPUs)."""
    _refuse("retrograd.cuda.initial_seed()")
