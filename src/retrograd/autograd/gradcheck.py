"""Check analytical gradients against central finite differences.

`gradcheck(fn, inputs)` compares, for every input that requires grad and every output,
the Jacobian computed by backward with one computed by perturbing each input element by
±eps. `gradgradcheck` does the same for the gradient function itself (second order).
Use float64 inputs: float32 finite differences are too coarse for the default tolerances.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from .._tensor import Tensor
from . import grad_mode

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians differ."""


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _differentiable_outputs(outputs: tuple) -> list[Tensor]:
    return [out for out in outputs if isinstance(out, Tensor) and out.dtype.is_floating_point]


def _numerical_jacobians(fn, inputs: tuple, targets: list[int], eps: float) -> list[list[np.ndarray]]:
    """jacobians[i][j]: d output_j / d input_i as an array of shape (numel_in, numel_out)."""
    with grad_mode.no_grad():
        outputs = _differentiable_outputs(_as_tuple(fn(*inputs)))
        sizes = [out.numel() for out in outputs]
        jacobians = []
        for index in targets:
            data = inputs[index]._data
            flat = data.reshape(-1) if data.flags.c_contiguous else None
            if flat is None:
                raise ValueError("gradcheck needs contiguous inputs")
            columns = [np.zeros((data.size, size)) for size in sizes]
            for element in range(data.size):
                original = flat[element]
                flat[element] = original + eps
                plus = [out._data.astype(np.float64).reshape(-1)
                        for out in _differentiable_outputs(_as_tuple(fn(*inputs)))]
                flat[element] = original - eps
                minus = [out._data.astype(np.float64).reshape(-1)
                         for out in _differentiable_outputs(_as_tuple(fn(*inputs)))]
                flat[element] = original
                for column, high, low in zip(columns, plus, minus):
                    column[element] = (high - low) / (2 * eps)
            jacobians.append(columns)
    return jacobians


def _analytical_jacobians(fn, inputs: tuple, targets: list[int]) -> list[list[np.ndarray]]:
    from . import grad as autograd_grad

    with grad_mode.enable_grad():
        outputs = _differentiable_outputs(_as_tuple(fn(*inputs)))
    chosen = [inputs[index] for index in targets]
    jacobians = [[np.zeros((x.numel(), out.numel())) for out in outputs] for x in chosen]
    for out_index, out in enumerate(outputs):
        if not out._requires_grad:
            continue
        for element in range(out.numel()):
            unit = np.zeros(out.numel(), dtype=out._data.dtype)
            unit[element] = 1
            grads = autograd_grad(
                out,
                chosen,
                grad_outputs=Tensor._make(unit.reshape(out._data.shape)),
                retain_graph=True,
                allow_unused=True,
            )
            for in_index, gradient in enumerate(grads):
                if gradient is not None:
                    jacobians[in_index][out_index][:, element] = gradient._data.reshape(-1)
    return jacobians


def gradcheck(
    func: Callable,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """True if backward's Jacobian of `func` at `inputs` matches finite differences."""
    inputs = _as_tuple(inputs)
    targets = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for index in targets:
        if inputs[index].dtype.name != "float64":
            warnings.warn(
                f"Input #{index} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point.",
                UserWarning,
                stacklevel=2,
            )
    if not targets:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of the "
            "them have requires_grad=True."
        )
    numerical = _numerical_jacobians(func, inputs, targets, eps)
    analytical = _analytical_jacobians(func, inputs, targets)
    for in_pos, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for out_index, (num, ana) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(ana, num, rtol=rtol, atol=atol, equal_nan=True):
                message = (
                    f"Jacobian mismatch for output {out_index} with respect to input "
                    f"{targets[in_pos]},\nnumerical:{num}\nanalytical:{ana}\n"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(
    func: Callable,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """True if the gradient of `func` (with create_graph) passes gradcheck itself."""
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    targets = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with grad_mode.enable_grad():
        outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._make(rng.standard_normal(out._data.shape)).requires_grad_(True)
            for out in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def first_derivative(*values):
        primal = values[:count]
        cotangents = values[count:]
        results = _differentiable_outputs(_as_tuple(func(*primal)))
        pairs = [(out, g) for out, g in zip(results, cotangents) if out.requires_grad]
        if not pairs:
            return ()
        grads = autograd_grad(
            [out for out, _ in pairs],
            [primal[i] for i in targets],
            grad_outputs=[g for _, g in pairs],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_derivative,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
