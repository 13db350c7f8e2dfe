"""L-BFGS: a quasi-Newton method that re-evaluates the loss through a closure.

All parameters are treated as one flat vector. The inverse Hessian is approximated from
the last `history_size` steps and gradient changes (the two-loop recursion); the step
length is `lr` (the first step is shortened) or found by a strong-Wolfe line search.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..autograd import grad_mode
from .optimizer import Optimizer

__all__ = ["LBFGS"]


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """Where the cubic through two points with their slopes has its minimum, within bounds.

    When that cubic has no minimum (or its discriminant is NaN), the middle of the bounds. A
    cubic that degenerates to a line or a parabola opening down divides by zero: the position is
    then infinite, or NaN, as with PyTorch's tensor slopes, and an infinite one is clamped.
    """
    low, high = bounds if bounds is not None else sorted((x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if not d2_square >= 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        position = x2 - (x2 - x1) * _ieee_divide(g2 + d2 - d1, g2 - g1 + 2 * d2)
    else:
        position = x1 - (x1 - x2) * _ieee_divide(g1 + d2 - d1, g1 - g2 + 2 * d2)
    return min(max(position, low), high)


def _ieee_divide(numerator: float, denominator: float) -> float:
    """numerator / denominator, with ±inf or NaN for a zero denominator instead of an error."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(numerator) / np.float64(denominator))


def _strong_wolfe(evaluate: Callable, step: float, direction: np.ndarray, loss: float,
                  grad: np.ndarray, slope: float, max_ls: int, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9):
    """A step length with sufficient decrease and a small enough slope (strong Wolfe).

    First brackets an acceptable step by extrapolating with cubic interpolation, then
    shrinks the bracket ("zoom"); at most `max_ls` evaluations after the first, and none once
    the bracket is shorter than `tolerance_change` along the direction. Returns (loss, grad,
    step, evaluations).
    """
    direction_norm = float(np.abs(direction).max())
    new_loss, new_grad = evaluate(step)
    evaluations = 1
    new_slope = float(new_grad.dot(direction))
    previous = (0.0, loss, grad, slope)
    done = False
    iteration = 0
    bracket = None
    while iteration < max_ls:
        if new_loss > loss + c1 * step * slope or (iteration > 1 and new_loss >= previous[1]):
            bracket = [previous, (step, new_loss, new_grad.copy(), new_slope)]
            break
        if abs(new_slope) <= -c2 * slope:
            bracket = [(step, new_loss, new_grad, new_slope)]
            done = True
            break
        if new_slope >= 0:
            bracket = [previous, (step, new_loss, new_grad.copy(), new_slope)]
            break
        low, high = step + 0.01 * (step - previous[0]), step * 10
        next_step = _cubic_minimum(previous[0], previous[1], previous[3], step, new_loss, new_slope,
                                   bounds=(low, high))
        previous = (step, new_loss, new_grad.copy(), new_slope)
        step = next_step
        new_loss, new_grad = evaluate(step)
        evaluations += 1
        new_slope = float(new_grad.dot(direction))
        iteration += 1
    if iteration == max_ls:
        bracket = [(0.0, loss, grad, slope), (step, new_loss, new_grad, new_slope)]

    low_index, high_index = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and iteration < max_ls:
        (step_a, loss_a, _, slope_a), (step_b, loss_b, _, slope_b) = bracket
        if abs(step_b - step_a) * direction_norm < tolerance_change:
            break
        step = _cubic_minimum(step_a, loss_a, slope_a, step_b, loss_b, slope_b)
        top, bottom = max(step_a, step_b), min(step_a, step_b)
        margin = 0.1 * (top - bottom)
        if min(top - step, step - bottom) < margin:
            if insufficient_progress or step >= top or step <= bottom:
                step = top - margin if abs(step - top) < abs(step - bottom) else bottom + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        new_loss, new_grad = evaluate(step)
        evaluations += 1
        new_slope = float(new_grad.dot(direction))
        iteration += 1
        point = (step, new_loss, new_grad.copy(), new_slope)
        if new_loss > loss + c1 * step * slope or new_loss >= bracket[low_index][1]:
            bracket[high_index] = point
            low_index, high_index = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(new_slope) <= -c2 * slope:
                done = True
            elif new_slope * (bracket[high_index][0] - bracket[low_index][0]) >= 0:
                bracket[high_index] = bracket[low_index]
            bracket[low_index] = point
    step, new_loss, new_grad, _ = bracket[low_index]
    return new_loss, new_grad, step, evaluations


class LBFGS(Optimizer):
    """Limited-memory BFGS; `step(closure)` where closure clears grads, backprops, returns loss."""

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None):
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change, "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # -- the parameters as one vector --------------------------------------------

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([
            np.zeros(parameter.numel(), parameter._data.dtype) if parameter._grad is None
            else parameter._grad._data.reshape(-1)
            for parameter in self._params
        ])

    def _add_to_params(self, step: float, direction: np.ndarray) -> None:
        offset = 0
        for parameter in self._params:
            count = parameter.numel()
            parameter._data += step * direction[offset : offset + count].reshape(parameter.shape)
            parameter._bump_version()
            offset += count

    def _set_params(self, values: list[np.ndarray]) -> None:
        for parameter, value in zip(self._params, values):
            parameter._data[...] = value
            parameter._bump_version()

    def _evaluate(self, closure: Callable) -> float:
        with grad_mode.enable_grad():
            return float(closure())

    # -- the step ----------------------------------------------------------------

    def step(self, closure: Callable):
        """Run up to `max_iter` L-BFGS iterations; returns the loss from the first evaluation.

        An unknown `line_search_fn` is refused where PyTorch refuses it: at the first line search,
        after the closure's first evaluation (a step that finds the gradient small enough returns
        before that, without an error).
        """
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search = group["line_search_fn"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        self._step_calls = getattr(self, "_step_calls", 0) + 1  # lr_scheduler checks the order
        with grad_mode.enable_grad():
            original_loss = closure()
        loss = float(original_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return original_loss

        direction, step = state.get("d"), state.get("t")
        old_dirs, old_steps = state.get("old_dirs"), state.get("old_stps")
        inverse_curvatures, hessian_diagonal = state.get("ro"), state.get("H_diag")
        previous_grad, previous_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        with grad_mode.no_grad():
            iteration = 0
            while iteration < max_iter:
                iteration += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    direction = -flat_grad
                    old_dirs, old_steps, inverse_curvatures = [], [], []
                    hessian_diagonal = 1.0
                else:
                    grad_change = flat_grad - previous_grad
                    step_taken = direction * step
                    curvature = grad_change.dot(step_taken)
                    if curvature > 1e-10:
                        if len(old_dirs) == group["history_size"]:
                            old_dirs.pop(0)
                            old_steps.pop(0)
                            inverse_curvatures.pop(0)
                        old_dirs.append(grad_change)
                        old_steps.append(step_taken)
                        inverse_curvatures.append(1.0 / curvature)
                        hessian_diagonal = curvature / grad_change.dot(grad_change)
                    # The two-loop's coefficients, kept in the state as PyTorch keeps them.
                    alphas = state.setdefault("al", [None] * group["history_size"])
                    direction = _two_loop(flat_grad, old_dirs, old_steps, inverse_curvatures,
                                          hessian_diagonal, alphas)
                previous_grad = flat_grad.copy()
                previous_loss = loss
                if state["n_iter"] == 1:
                    step = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
                else:
                    step = lr
                slope = float(flat_grad.dot(direction))
                if slope > -tolerance_change:
                    break

                line_evaluations = 0
                if line_search is not None:
                    if line_search != "strong_wolfe":
                        raise RuntimeError("only 'strong_wolfe' is supported")
                    start = [parameter._data.copy() for parameter in self._params]

                    def evaluate(trial_step, start=start, direction=direction):
                        self._add_to_params(trial_step, direction)
                        trial_loss = self._evaluate(closure)
                        trial_grad = self._flat_grad()
                        self._set_params(start)
                        return trial_loss, trial_grad

                    # As PyTorch's: the search may spend what is left of max_eval, and keeps its
                    # own tolerance_change (the group's is not passed on).
                    loss, flat_grad, step, line_evaluations = _strong_wolfe(
                        evaluate, step, direction, loss, flat_grad, slope, max_ls=max_eval - evaluations,
                    )
                    self._add_to_params(step, direction)
                else:
                    self._add_to_params(step, direction)
                    if iteration != max_iter:
                        loss = self._evaluate(closure)
                        flat_grad = self._flat_grad()
                        line_evaluations = 1
                evaluations += line_evaluations
                state["func_evals"] += line_evaluations

                if iteration == max_iter or evaluations >= max_eval:
                    break
                if np.abs(flat_grad).max() <= tolerance_grad:
                    break
                if np.abs(direction * step).max() <= tolerance_change:
                    break
                if abs(loss - previous_loss) < tolerance_change:
                    break

        state.update({
            "d": direction, "t": step, "old_dirs": old_dirs, "old_stps": old_steps,
            "ro": inverse_curvatures, "H_diag": hessian_diagonal, "prev_flat_grad": previous_grad,
            "prev_loss": previous_loss,
        })
        return original_loss


def _two_loop(flat_grad, old_dirs, old_steps, inverse_curvatures, hessian_diagonal,
              alphas: list) -> np.ndarray:
    """−H·g for the L-BFGS inverse-Hessian approximation H (Nocedal & Wright, Alg. 7.4); the
    first loop's coefficients are written into `alphas` (the state's `al`)."""
    q = -flat_grad
    scaled = np.empty_like(q)  # one buffer for every scaled history vector (no array per update)
    for index in range(len(old_dirs) - 1, -1, -1):
        alphas[index] = old_steps[index].dot(q) * inverse_curvatures[index]
        q -= np.multiply(old_dirs[index], alphas[index], out=scaled)
    r = np.multiply(q, hessian_diagonal, out=q)
    for index in range(len(old_dirs)):
        beta = old_dirs[index].dot(r) * inverse_curvatures[index]
        r += np.multiply(old_steps[index], alphas[index] - beta, out=scaled)
    return r
