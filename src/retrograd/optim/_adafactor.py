"""Adafactor (PyTorch's torch.optim.Adafactor): Adam-like steps whose second moment of a matrix
is kept factored, as one mean per row and one per column, so its memory grows with rows +
columns rather than rows × columns.

Per parameter, at step t: the decay weight is t**beta2_decay; the relative step size is
rho = min(lr, 1/√t), scaled by the parameter's RMS (at least eps2). A matrix (the last two
dims) keeps `row_var` (mean of g² along the last dim) and `col_var` (along the dim before),
whose outer product divided by the mean row variance estimates g²; a vector keeps the full
`variance`. The update g/√(estimate) is shrunk so that its RMS is at most `d`. Weight decay
multiplies the parameter by 1 − lr·weight_decay first (decoupled, as AdamW).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from .adam import _lerp_
from .optimizer import Optimizer, scalar_state, temporary

__all__ = ["Adafactor"]


def _rms(array: np.ndarray) -> float:
    """‖array‖₂ / √numel, in the array's dtype then as a Python float (PyTorch's `.item()`)."""
    return float(np.sqrt(np.sum(array * array, dtype=array.dtype))) / (array.size ** 0.5)


def _mean_square(grad: np.ndarray, axis: int) -> np.ndarray:
    """‖grad‖₂² along `axis` (kept) / its length: PyTorch squares the norm, so it is rounded twice."""
    norm = np.sqrt(np.sum(grad * grad, axis=axis, keepdims=True, dtype=grad.dtype))
    return temporary(np.square(norm)) / grad.dtype.type(grad.shape[axis])


class Adafactor(Optimizer):
    """Adafactor with PyTorch's defaults: lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.

    `eps[0]` (None: the machine epsilon of the group's first stepped parameter) keeps the
    variance estimate away from zero; `eps[1]` is the smallest parameter RMS the step is
    scaled by. State per parameter: `step`, then `row_var` and `col_var` (dim > 1) or
    `variance`.
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None, maximize: bool = False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not beta2_decay <= 0.0:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not eps[0] >= 0.0:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not eps[1] >= 0.0:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not d >= 1.0:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
            "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        """One Adafactor step of every parameter that has a gradient; `closure` re-evaluates
        the loss first. A missing `eps[0]` is resolved per group, once per step, from the
        dtype of the first parameter that has a gradient (as PyTorch resolves it)."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        # (keyed by the group's list of parameters, which the group an update reads shares:
        # Optimizer.step reads a group with tensor hyperparameters through a copy)
        self._variance_floor = {id(group["params"]): self._resolve_eps1(group) for group in self.param_groups}
        super().step()
        return loss

    @staticmethod
    def _resolve_eps1(group: dict) -> float | None:
        if group["eps"][0] is not None:
            return group["eps"][0]
        stepped = [parameter for parameter in group["params"] if parameter._grad is not None]
        return float(np.finfo(stepped[0]._data.dtype).eps) if stepped else None

    def _check_state_shapes(self) -> None:
        """A loaded state must fit its parameter: `variance` has its shape, `row_var` and
        `col_var` its shape with the last / second-to-last dim 1 (the factored moments)."""
        for parameter, state in self.state.items():
            shape = tuple(parameter.shape)
            expected = {"variance": shape}
            if len(shape) > 1:
                expected["row_var"] = (*shape[:-1], 1)
                expected["col_var"] = (*shape[:-2], 1, shape[-1])
            for key, wanted in expected.items():
                value = state.get(key)
                if isinstance(value, Tensor) and tuple(value.shape) != wanted:
                    raise RuntimeError(
                        f"Adafactor: the loaded state '{key}' has shape {list(value.shape)}, but the "
                        f"parameter needs {list(wanted)}"
                    )

    def _init_state(self, parameter: Tensor, state: dict, group: dict) -> None:
        state["step"] = scalar_state(0.0)
        grad = parameter._grad._data
        if grad.ndim > 1:
            state["row_var"] = Tensor._make(np.zeros((*grad.shape[:-1], 1), grad.dtype))
            state["col_var"] = Tensor._make(np.zeros((*grad.shape[:-2], 1, grad.shape[-1]), grad.dtype))
        else:
            state["variance"] = Tensor._make(np.zeros_like(grad))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        eps1, eps2 = self._variance_floor[id(group["params"])], group["eps"][1]
        lr = float(group["lr"])
        state["step"]._data += 1
        step = float(state["step"]._data)
        decay_weight = step ** group["beta2_decay"]
        relative_step = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, _rms(param)) * relative_step
        if group["weight_decay"] != 0:
            param *= 1 - lr * group["weight_decay"]
        if grad.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            _lerp_(row_var, _mean_square(grad, -1), decay_weight)
            _lerp_(col_var, _mean_square(grad, -2), decay_weight)
            estimate = temporary(np.matmul(row_var, col_var))
            estimate /= np.maximum(np.mean(row_var, axis=-2, keepdims=True), grad.dtype.type(eps1))
        else:
            variance = state["variance"]._data
            _lerp_(variance, temporary(grad * grad), decay_weight)
            estimate = variance.copy()
        np.maximum(estimate, grad.dtype.type(eps1 * eps1), out=estimate)
        update = temporary(np.sqrt(estimate))
        np.divide(grad.dtype.type(1), update, out=update)
        update *= grad
        shrink = max(1.0, _rms(update) / group["d"])
        param += update * param.dtype.type(-alpha / shrink)
