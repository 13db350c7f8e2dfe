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
