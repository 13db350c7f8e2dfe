"""Gradient clipping, applied to `.grad` in place between backward and the optimiser step."""

from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [parameter._grad for parameter in parameters if parameter._grad is not None]


def _norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    if math.isinf(norm_type):
        return np.max(np.abs(array)) if norm_type > 0 else np.min(np.abs(array))
    if norm_type == 2:
        return np.sqrt(np.sum(array * array))
    return np.sum(np.abs(array) ** norm_type) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most `max_norm`.

    The norm is taken over every gradient as if they were one vector; returns it (before
    clipping) as a tensor.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(np.array(0.0, np.float32))
    dtype = grads[0]._data.dtype
    norms = np.array([_norm(grad._data, norm_type) for grad in grads], dtype)
    total = _norm(norms, norm_type).astype(dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = min(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
    for grad in grads:
        grad._data *= coefficient
        grad._bump_version()
    return Tensor._make(np.asarray(total))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        np.clip(grad._data, -clip_value, clip_value, out=grad._data)
        grad._bump_version()
