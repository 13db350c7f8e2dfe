"""RMSprop and Adagrad: steps scaled by a running measure of the squared gradient."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, check_hyperparameters, plus_scaled, scalar_state, temporary

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
            grad = plus_scaled(grad, param, weight_decay)
        square_avg = state["square_avg"]._data
        square_avg *= alpha
        scratch = temporary(np.multiply(grad, 1 - alpha))
        scratch *= grad
        square_avg += scratch
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            difference = np.subtract(grad, grad_avg, out=scratch)
            difference *= 1 - alpha
            grad_avg += difference
            average = temporary(np.multiply(grad_avg, grad_avg))
            np.subtract(square_avg, average, out=average)
            np.sqrt(average, out=average)
        else:
            average = temporary(np.sqrt(square_avg))
        average += group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]._data
            buffer *= group["momentum"]
            buffer += np.divide(grad, average, out=scratch)
            param -= np.multiply(buffer, group["lr"], out=scratch)
        else:
            step_size = np.multiply(grad, -group["lr"], out=scratch)
            step_size /= average
            param += step_size


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
            grad = plus_scaled(grad, param, group["weight_decay"])
        learning_rate = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        accumulated = state["sum"]._data
        scratch = temporary(np.multiply(grad, grad))
        accumulated += scratch
        denominator = temporary(np.sqrt(accumulated))
        denominator += group["eps"]
        step_size = np.multiply(grad, -learning_rate, out=scratch)
        step_size /= denominator
        param += step_size
