"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from .._scaled_update import combine_scaled_into
from .._tensor import Tensor
from .optimizer import Optimizer, check_hyperparameters, plus_scaled, temporary

__all__ = ["SGD"]


class SGD(Optimizer):
    """p -= lr * g, where g is the gradient (plus weight decay), or a momentum average of it.

    With momentum μ: buf = μ·buf + (1 − dampening)·g (buf = g on the first step), and the
    step uses buf, or g + μ·buf with `nesterov=True`.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
            "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
            "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        owned = weight_decay != 0  # (grad is then a temporary of this step, free to overwrite)
        if owned:
            grad = plus_scaled(grad, param, weight_decay)
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                state["momentum_buffer"] = Tensor._make(grad if owned else grad.copy())
                buffer = state["momentum_buffer"]._data
                owned = False
            else:
                buffer = buffer._data
                buffer *= momentum
                dampening = group["dampening"]
                buffer += grad if dampening == 0 else (1 - dampening) * grad
            if group["nesterov"]:
                ahead = temporary(np.multiply(buffer, momentum))
                ahead += grad
                grad, owned = ahead, True
            else:
                grad, owned = buffer, False
        if owned:
            param -= np.multiply(grad, group["lr"], out=grad)
        else:  # (Note [Scaled updates by blocks])
            combine_scaled_into(np.subtract, param, grad, group["lr"])
