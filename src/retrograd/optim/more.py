"""Adadelta, RAdam, Rprop and ASGD, following PyTorch's documented update rules step by step."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, check_hyperparameters, plus_scaled, scalar_state, temporary

__all__ = ["ASGD", "Adadelta", "RAdam", "Rprop"]


def _zeros(parameter: Tensor) -> Tensor:
    return Tensor._make(np.zeros_like(parameter._data))


class Adadelta(Optimizer):
    """v ← ρv + (1−ρ)g², Δ = √(u+ε)/√(v+ε)·g, u ← ρu + (1−ρ)Δ², p −= lr·Δ."""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach=None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):
        check_hyperparameters(lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "capturable": capturable, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["square_avg"] = _zeros(parameter)
        state["acc_delta"] = _zeros(parameter)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        rho, eps = group["rho"], group["eps"]
        state["step"]._data += 1
        if group["weight_decay"] != 0:
            grad = plus_scaled(grad, param, group["weight_decay"])
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        square_avg *= rho
        scratch = temporary(np.multiply(grad, 1 - rho))
        scratch *= grad
        square_avg += scratch
        std = temporary(np.add(square_avg, eps))
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps, out=scratch)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        squared = np.multiply(delta, 1 - rho, out=std)
        squared *= delta
        acc_delta += squared
        param += np.multiply(delta, -group["lr"], out=delta)


class RAdam(Optimizer):
    """Adam whose adaptive step is switched on (and rectified) once the variance estimate is
    reliable; plain momentum SGD before that."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        check_hyperparameters(lr=lr, eps=eps, weight_decay=weight_decay)
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "foreach": foreach,
                    "maximize": maximize, "capturable": capturable, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["exp_avg"] = _zeros(parameter)
        state["exp_avg_sq"] = _zeros(parameter)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        state["step"]._data += 1
        step = float(state["step"]._data)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = plus_scaled(grad, param, weight_decay)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        scratch = temporary(np.subtract(grad, exp_avg))
        scratch *= 1 - beta1
        exp_avg += scratch
        exp_avg_sq *= beta2
        squared = np.multiply(grad, 1 - beta2, out=scratch)
        squared *= grad
        exp_avg_sq += squared
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = np.divide(exp_avg, bias_correction1, out=scratch)  # (the corrected average)
        step_size *= lr
        rho_infinity = 2 / (1 - beta2) - 1
        rho = rho_infinity - 2 * step * (beta2 ** step) / bias_correction2
        if rho > 5.0:
            rect = math.sqrt((rho - 4) * (rho - 2) * rho_infinity
                             / ((rho_infinity - 4) * (rho_infinity - 2) * rho))
            adaptive = temporary(np.sqrt(exp_avg_sq))
            adaptive += eps
            np.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
            step_size *= adaptive
            step_size *= rect
        param -= step_size


class Rprop(Optimizer):
    """Per-element step sizes that grow (×eta+) while the gradient keeps its sign and shrink
    (×eta−) when it flips; the parameter moves by the step size against the gradient's sign."""

    def __init__(self, params, lr: float = 1e-2, etas: tuple = (0.5, 1.2), step_sizes: tuple = (1e-6, 50), *,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        check_hyperparameters(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["prev"] = _zeros(parameter)
        state["step_size"] = Tensor._make(np.full_like(parameter._data, group["lr"]))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        eta_minus, eta_plus = group["etas"]
        smallest, largest = group["step_sizes"]
        state["step"]._data += 1
        prev, step_size = state["prev"]._data, state["step_size"]._data
        sign = temporary(np.multiply(grad, prev))
        np.sign(sign, out=sign)
        plus, minus, one = (param.dtype.type(value) for value in (eta_plus, eta_minus, 1.0))
        factor = np.where(sign > 0, plus, np.where(sign < 0, minus, one))
        step_size *= factor
        np.clip(step_size, smallest, largest, out=step_size)
        np.copyto(prev, np.where(factor == eta_minus, 0, grad), casting="unsafe")
        direction = np.sign(prev, out=sign)
        direction *= step_size
        param -= direction


class ASGD(Optimizer):
    """SGD with decaying step size and a running average of the iterates (`state['ax']`)."""

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach=None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check_hyperparameters(lr=lr, weight_decay=weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["eta"] = scalar_state(group["lr"])  # float32, as PyTorch keeps them
        state["mu"] = scalar_state(1.0)
        state["ax"] = _zeros(parameter)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
        state["step"]._data += 1
        step = float(state["step"]._data)
        if group["weight_decay"] != 0:
            grad = plus_scaled(grad, param, group["weight_decay"])
        eta = float(state["eta"]._data)
        mu = float(state["mu"]._data)
        param *= 1 - lambd * eta
        scratch = temporary(np.multiply(grad, -eta))
        param += scratch
        ax = state["ax"]._data
        if mu != 1:
            difference = np.subtract(param, ax, out=scratch)
            difference *= mu
            ax += difference
        else:
            np.copyto(ax, param)
        state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
        state["mu"]._data[...] = 1 / max(1, step - t0)
