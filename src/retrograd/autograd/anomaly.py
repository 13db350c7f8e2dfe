"""Anomaly detection: remember where each node was created, and catch NaN gradients."""

from __future__ import annotations

__all__ = ["detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_detect_anomaly"]


class _AnomalyMode:
    """Process-wide switch read by the op runner (records stacks) and the engine (NaN checks)."""

    enabled = False
    check_nan = True


anomaly_mode = _AnomalyMode()


def is_anomaly_enabled() -> bool:
    return anomaly_mode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return anomaly_mode.check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off: at once, and back when used as a context ends."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._previous = (anomaly_mode.enabled, anomaly_mode.check_nan)
        anomaly_mode.enabled = bool(mode)
        anomaly_mode.check_nan = bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        anomaly_mode.enabled, anomaly_mode.check_nan = self._previous


class detect_anomaly:
    """Context manager: record creation stacks and raise on NaN gradients inside the block."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = (anomaly_mode.enabled, anomaly_mode.check_nan)
        anomaly_mode.enabled = True
        anomaly_mode.check_nan = self.check_nan
        return self

    def __exit__(self, *exc_info):
        anomaly_mode.enabled, anomaly_mode.check_nan = self._previous
