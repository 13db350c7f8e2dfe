"""Gradient clipping, applied to `.grad` in place between backward and the optimiser step.

As in PyTorch 2.13, `clip_grad_norm_` is `get_total_norm` (the norm of all gradients as one
vector) followed by `clip_grads_with_norm_` (every gradient scaled by
`min(max_norm / (total_norm + 1e-6), 1)`); the two halves are public so that a program can
combine norms computed elsewhere. `foreach` chooses PyTorch's kernel family: on retrograd's
single CPU device both families compute the same numbers, so it is accepted and checked only.
"""

from __future__ import annotations

import math
import types

import numpy as np

from ..._dtype import scalar_type_name
from ..._tensor import Tensor
from ..._warnings import warn_at_caller

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters) -> list[Tensor]:
    return [parameter._grad for parameter in _as_list(parameters) if parameter._grad is not None]


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    """linalg.vector_norm of the whole array, in the array's dtype."""
    magnitudes = np.abs(array)
    if math.isinf(norm_type):
        if magnitudes.size == 0:
            return np.zeros((), array.dtype)
        return np.max(magnitudes) if norm_type > 0 else np.min(magnitudes)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(array), array.dtype)
    if norm_type == 1:
        return np.sum(magnitudes)
    if norm_type == 2:
        return np.sqrt(np.sum(magnitudes * magnitudes))
    power = array.dtype.type(norm_type)
    with np.errstate(divide="ignore"):
        return np.sum(magnitudes ** power) ** (1 / power)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The `norm_type`-norm of `tensors` taken together as one vector: the norm of their norms.

    Each tensor's norm is taken in its own dtype; the norms are then promoted together, as
    `stack` promotes them. No tensors give `tensor(0.)`.

    >>> import retrograd
    >>> retrograd.nn.utils.get_total_norm([retrograd.tensor([3.0]), retrograd.tensor([4.0])])
    tensor(5.)
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.array(0.0, np.float32))
    for tensor in tensors:
        if not tensor.dtype.is_floating_point:
            raise RuntimeError(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                f"Got {scalar_type_name(tensor.dtype)}"
            )
    norms = [_vector_norm(tensor._data, norm_type) for tensor in tensors]
    dtype = np.result_type(*[norm.dtype for norm in norms])
    total = _vector_norm(np.array(norms, dtype), norm_type).astype(dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(np.asarray(total))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale every gradient of `parameters` by `min(max_norm / (total_norm + 1e-6), 1)`, in place.

    `total_norm` is given (for example by `get_total_norm`), so gradients are only ever
    scaled down; a NaN norm makes every gradient NaN, as in PyTorch.
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    if not grads:
        return
    if not isinstance(total_norm, Tensor):
        raise TypeError(
            f"clip_grads_with_norm_(): argument 'total_norm' must be Tensor, not {type(total_norm).__name__}"
        )
    norm = total_norm._data
    dtype = norm.dtype if norm.dtype.kind == "f" else np.dtype(np.float32)
    coefficient = dtype.type(max_norm) / (norm.astype(dtype) + dtype.type(1e-6))
    coefficient = np.where(coefficient > 1, dtype.type(1), coefficient)
    for grad in grads:
        grad._data *= coefficient.astype(grad._data.dtype)
        grad._bump_version()


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most `max_norm`.

    `get_total_norm` of the gradients, then `clip_grads_with_norm_` with it; returns the norm
    (before clipping). An empty generator warns that nothing will be clipped.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warn_at_caller("`parameters` is an empty generator, no gradient clipping will occur.")
    total_norm = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated name of `clip_grad_norm_` (a FutureWarning says so, as in PyTorch)."""
    warn_at_caller(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        np.clip(grad._data, -clip_value, clip_value, out=grad._data)
        grad._bump_version()
