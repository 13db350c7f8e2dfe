"""Muon (PyTorch's torch.optim.Muon): SGD momentum whose update matrix is orthogonalised, for
2-d weights (K. Jordan et al., 2024).

Each step: the momentum buffer moves toward the gradient (`lerp`, weight 1 − momentum); the
update (Nesterov: the gradient moved toward the buffer) is replaced by the nearest
semi-orthogonal matrix, approximated by `ns_steps` Newton–Schulz iterations
X ← aX + (bG + cG²)X with G = XXᵀ, starting from the update scaled to Frobenius norm 1; the
parameter decays by 1 − lr·weight_decay and moves by −lr·ratio times that matrix (ratio
√max(1, rows/cols) by default, 0.2·√max(rows, cols) for "match_rms_adamw").

PyTorch runs the iterations in bfloat16, which NumPy lacks: here each iteration's results
are computed in float32 and rounded to bfloat16 (round to nearest even), so the update
agrees with PyTorch's to bfloat16 precision, not bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from .adam import _lerp_
from .optimizer import Optimizer

__all__ = ["Muon"]


def _to_bfloat16(array: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), kept as float32."""
    array = np.ascontiguousarray(array, np.float32)
    bits = array.view(np.uint32)
    rounded = (bits + (np.uint32(0x7FFF) + ((bits >> 16) & 1))) & np.uint32(0xFFFF0000)
    return np.where(np.isnan(array), array, rounded.view(np.float32))


def _orthogonalise(update: np.ndarray, coefficients, steps: int, eps: float) -> np.ndarray:
    """Newton–Schulz iterations toward the semi-orthogonal factor of `update`, in (emulated)
    bfloat16 as PyTorch runs them."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if update.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = update.shape[0] > update.shape[1]
    matrix = _to_bfloat16(update.T if tall else update)
    norm = _to_bfloat16(np.sqrt(np.sum(matrix * matrix, dtype=np.float32)))
    matrix = _to_bfloat16(matrix / np.maximum(norm, _to_bfloat16(np.float32(eps))))
    for _ in range(steps):
        gram = _to_bfloat16(matrix @ matrix.T)
        polynomial = _to_bfloat16(np.float32(b) * gram + np.float32(c) * (gram @ gram))
        matrix = _to_bfloat16(np.float32(a) * matrix + polynomial @ matrix)
    return matrix.T if tall else matrix


def _adjusted_lr(lr: float, adjust_lr_fn: str | None, shape) -> float:
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """Muon with PyTorch's defaults: lr=1e-3, weight_decay=0.1, momentum=0.95, Nesterov, five
    Newton–Schulz steps with coefficients (3.4445, -4.775, 2.0315). Every parameter must be
    2-d; state per parameter: `momentum_buffer`."""

    def __init__(self, params, lr: float | Tensor = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not momentum >= 0.0:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr, "weight_decay": weight_decay, "momentum": momentum, "nesterov": nesterov,
            "ns_coefficients": ns_coefficients, "eps": eps, "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for parameter in group["params"]:
                if parameter.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with size: "
                        f"{parameter.size()}"
                    )

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["momentum_buffer"] = Tensor._make(np.zeros_like(parameter._grad._data))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, momentum = float(group["lr"]), group["momentum"]
        buffer = state["momentum_buffer"]._data
        _lerp_(buffer, grad, 1 - momentum)
        if group["nesterov"]:
            update = grad.copy()
            _lerp_(update, buffer, momentum)
        else:
            update = buffer
        orthogonal = _orthogonalise(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        step = _adjusted_lr(lr, group["adjust_lr_fn"], param.shape)
        param *= 1 - lr * group["weight_decay"]
        param -= (orthogonal * np.float32(step)).astype(param.dtype)
