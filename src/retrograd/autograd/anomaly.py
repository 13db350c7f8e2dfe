"""Anomaly detection: remember where each node was created, and catch NaN gradients.

With anomaly detection on, every recorded node keeps the stack of the user code that
created it; a backward that fails (or returns NaN, with `check_nan`) raises with that
stack attached to the exception (`error.__notes__`) and shown in a warning.

Beyond PyTorch, `check_forward=True` also checks each recorded op's outputs while the
forward runs, and names the first op that produced a NaN or an infinity.
"""

from __future__ import annotations

import os
import traceback
import warnings

__all__ = ["detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_detect_anomaly"]

_ENABLED_WARNING = (
    "Anomaly Detection has been enabled. This mode will increase the runtime and should only "
    "be enabled for debugging."
)


class _AnomalyMode:
    """Process-wide switch read by the op runner (records stacks) and the engine (NaN checks)."""

    enabled = False
    check_nan = True
    check_forward = False


anomaly_mode = _AnomalyMode()


_PACKAGE_DIRECTORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def creation_stack() -> list[str]:
    """The caller's stack, formatted, without the frames inside retrograd itself."""
    frames = traceback.extract_stack()
    while frames and frames[-1].filename.startswith(_PACKAGE_DIRECTORY):
        frames.pop()
    return traceback.format_list(frames)


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly()` or after `set_detect_anomaly(True)`."""
    return anomaly_mode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return anomaly_mode.check_nan


def _switch(enabled: bool, check_nan: bool, check_forward: bool) -> tuple:
    previous = (anomaly_mode.enabled, anomaly_mode.check_nan, anomaly_mode.check_forward)
    anomaly_mode.enabled = bool(enabled)
    anomaly_mode.check_nan = bool(check_nan)
    anomaly_mode.check_forward = bool(enabled and check_forward)
    return previous


class set_detect_anomaly:
    """Turn anomaly detection on or off: at once, and back when used as a context ends."""

    def __init__(self, mode: bool, check_nan: bool = True, check_forward: bool = False):
        self._previous = _switch(mode, check_nan, check_forward)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _switch(*self._previous)


class detect_anomaly:
    """Context manager (or decorator): record creation stacks and raise on NaN gradients.

    `check_forward=True` (not in PyTorch) also raises at the first recorded op whose
    forward output contains NaN or infinity, naming it.
    """

    def __init__(self, check_nan: bool = True, check_forward: bool = False):
        self.check_nan = check_nan
        self.check_forward = check_forward
        warnings.warn(_ENABLED_WARNING, UserWarning, stacklevel=2)

    def __enter__(self):
        self._previous = _switch(True, self.check_nan, self.check_forward)
        return self

    def __exit__(self, *exc_info):
        _switch(*self._previous)

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan, self.check_forward):
                return function(*args, **kwargs)

        return wrapper


def check_forward_outputs(node, inputs: tuple, outputs) -> None:
    """Raise at the op whose forward produced NaN or infinity (see `check_forward`)."""
    import numpy as np

    from .._tensor import Tensor

    for index, output in enumerate(outputs if type(outputs) is tuple else (outputs,)):
        data = output._data
        if data.dtype.kind != "f" or np.isfinite(data).all():
            continue
        kind = "nan" if np.isnan(data).any() else "inf"
        inputs_finite = all(
            np.isfinite(value._data).all()
            for value in inputs
            if isinstance(value, Tensor) and value._data.dtype.kind == "f"
        )
        origin = (
            "its inputs were all finite, so this op is where the anomaly started"
            if inputs_finite
            else "some of its inputs were already not finite"
        )
        error = RuntimeError(
            f"Function '{node.name()}' produced {kind} values in its {index}th output during the "
            f"forward pass ({origin})."
        )
        if node._anomaly_trace:
            error.add_note("The forward call that created it:\n" + "".join(node._anomaly_trace))
        raise error
