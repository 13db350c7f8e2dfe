"""Warnings shown at the user's line, however deep inside retrograd they are raised."""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """warnings.warn, attributed to the first frame outside retrograd: an op reached as a
    function, a method or an in-place method passes through a different number of our frames,
    so no fixed stacklevel names the user's line for all of them."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# The messages warn_once_at_caller has shown in this process.
_shown_once: set[str] = set()


def warn_once_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """warn_at_caller the first time only: PyTorch shows some deprecations once per process
    (TORCH_WARN_ONCE), whatever the warnings filters say, and so does retrograd."""
    if message in _shown_once:
        return
    _shown_once.add(message)
    warn_at_caller(message, category)
