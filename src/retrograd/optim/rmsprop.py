"""RMSprop and Adagrad: steps scaled by a running measure of the squared gradient."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, check_hyperparameters, scalar_state

__all__ = ["Adagrad", "RMSprop"]


class RMSprop(Optimizer):
    """v ← αv + (1−α)g², p −= lr·g/(√v + eps); optionally centred and with momentum."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["square_avg"] = Tensor._make(np.zeros_like(parameter._data))
        if group["momentum"] > 0:
            state["momentum_buffer"] = Tensor._make(np.zeros_like(parameter._data))
        if group["centered"]:
            state["grad_avg"] = Tensor._make(np.zeros_like(parameter._data))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        alpha, weight_decay = group["alpha"], group["weight_decay"]
        state["step"]._data += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg = state["square_avg"]._data
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            grad_avg += (1 - alpha) * (grad - grad_avg)
            average = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            average = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]._data
            buffer *= group["momentum"]
            buffer += grad / average
            param -= group["lr"] * buffer
        else:
            param += -group["lr"] * grad / average


class Adagrad(Optimizer):
    """s ← s + g², p −= lr/(1 + (t−1)·lr_decay) · g/(√s + eps)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        check_hyperparameters(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for parameter in group["params"]:
                self._init_state(parameter, self.state[parameter], group)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["sum"] = Tensor._make(
            np.full_like(parameter._data, group["initial_accumulator_value"])
        )

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        state["step"]._data += 1
        step = float(state["step"]._data)
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        learning_rate = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        accumulated = state["sum"]._data
        accumulated += grad * grad
        param += -learning_rate * grad / (np.sqrt(accumulated) + group["eps"])
