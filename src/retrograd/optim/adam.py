"""The Adam family: Adam, AdamW, Adamax and NAdam (moment estimates with bias correction)."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, check_hyperparameters, plus_scaled, scalar_state, temporary

__all__ = ["Adam", "AdamW", "Adamax", "NAdam"]


def _zeros_like(param: Tensor) -> Tensor:
    return Tensor._make(np.zeros_like(param._data))


def _lerp_(average: np.ndarray, target: np.ndarray, weight: float) -> None:
    """average += weight·(target − average), PyTorch's `lerp_` (from the target's side for a
    large weight), with one temporary."""
    difference = np.subtract(target, average)
    if weight < 0.5:
        difference *= weight
        average += difference
    else:
        difference *= 1 - weight
        np.subtract(target, difference, out=average)


def _add_scaled_square_(average: np.ndarray, grad: np.ndarray, weight: float) -> np.ndarray:
    """average += weight·grad·grad (PyTorch's addcmul_, same order of products); returns the
    temporary it used, free for the caller to reuse."""
    scratch = temporary(np.multiply(grad, weight))
    scratch *= grad
    average += scratch
    return scratch


def _advance(state: dict) -> float:
    """Count one more step (kept as a float32 tensor, as PyTorch does) and return it."""
    state["step"]._data += 1
    return float(state["step"]._data)


class Adam(Optimizer):
    """Adaptive moments: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p −= lr·m̂/(√v̂ + eps).

    `amsgrad` uses the running maximum of v; `decoupled_weight_decay` gives AdamW.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "differentiable": differentiable, "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["exp_avg"] = _zeros_like(parameter)
        state["exp_avg_sq"] = _zeros_like(parameter)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(parameter)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        step = _advance(state)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = plus_scaled(grad, param, weight_decay)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        scratch = _add_scaled_square_(exp_avg_sq, grad, 1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = math.sqrt(1 - beta2**step)
        if group["amsgrad"]:
            max_exp_avg_sq = state["max_exp_avg_sq"]._data
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second_moment = max_exp_avg_sq
        else:
            second_moment = exp_avg_sq
        denominator = np.sqrt(second_moment)
        denominator /= bias_correction2_sqrt
        denominator += group["eps"]
        step_size = np.multiply(exp_avg, -lr / bias_correction1, out=scratch)
        step_size /= denominator
        param += step_size


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 − lr·wd) before the Adam step."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused,
            decoupled_weight_decay=True,
        )


class Adamax(Optimizer):
    """Adam with the infinity norm: u ← max(β₂u, |g| + eps), p −= lr/(1−β₁ᵗ)·m/u."""

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["exp_avg"] = _zeros_like(parameter)
        state["exp_inf"] = _zeros_like(parameter)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        step = _advance(state)
        if weight_decay != 0:
            grad = plus_scaled(grad, param, weight_decay)
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        bound = temporary(np.abs(grad))
        bound += group["eps"]
        np.maximum(exp_inf, bound, out=exp_inf)
        step_size = np.multiply(exp_avg, -lr / (1 - beta1**step), out=bound)
        step_size /= exp_inf
        param += step_size


class NAdam(Optimizer):
    """Adam with Nesterov momentum, whose momentum coefficient μₜ warms up with `momentum_decay`."""

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        check_hyperparameters(
            lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay
        )
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        state["mu_product"] = scalar_state(1.0)
        state["exp_avg"] = _zeros_like(parameter)
        state["exp_avg_sq"] = _zeros_like(parameter)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        step = _advance(state)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = plus_scaled(grad, param, weight_decay)
        decay = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        state["mu_product"]._data *= np.float32(mu)
        mu_product = float(state["mu_product"]._data)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        scratch = _add_scaled_square_(exp_avg_sq, grad, 1 - beta2)
        denominator = temporary(np.divide(exp_avg_sq, 1 - beta2**step))
        np.sqrt(denominator, out=denominator)
        denominator += group["eps"]
        for value, factor in ((grad, -lr * (1.0 - mu) / (1.0 - mu_product)),
                              (exp_avg, -lr * mu_next / (1.0 - mu_product * mu_next))):
            step_size = np.multiply(value, factor, out=scratch)
            step_size /= denominator
            param += step_size
