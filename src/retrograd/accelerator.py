"""`retrograd.accelerator`: PyTorch's device-neutral accelerator API; none in this CPU build.

>>> import retrograd
>>> retrograd.accelerator.is_available(), retrograd.accelerator.current_accelerator()
(False, None)
"""

from __future__ import annotations

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """Whether any accelerator (GPU or other) can be used: False."""
    return False


def device_count() -> int:
    """The number of accelerators: 0."""
    return 0


def current_accelerator(check_available: bool = False):
    """The accelerator's device type: None, as PyTorch reports on a machine without one."""
    return None
