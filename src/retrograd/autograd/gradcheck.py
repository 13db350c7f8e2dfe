"""Check analytical gradients against central finite differences.

`gradcheck(fn, inputs)` compares, for every input that requires grad and every output,
the Jacobian computed by backward with one computed by perturbing each input element by
±eps (`fast_mode=True` compares only one random projection `v^T J u` of each, which
needs one backward and two forward calls per input instead of one per element). It also
checks that backward is deterministic (within `nondet_tol`), that a zero output gradient
gives zero input gradients, and that backward copes with outputs that got no gradient.
`gradgradcheck` does the same for the gradient function itself (second order). With
`check_forward_ad=True` the Jacobian from forward mode (dual tensors) is checked too.

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


_NONDET_MESSAGE = (
    "Backward is not reentrant, i.e., running backward with same input and grad_output multiple "
    "times gives different values, although analytical gradient matches numerical gradient.The "
    "tolerance for nondeterminism was {tolerance}.\n\nNOTE: If your op relies on non-deterministic "
    "operations, this failure might be expected: call gradcheck/gradgradcheck with "
    "`nondet_tol=<tol>` as a keyword argument."
)

_FAST_MODE_NOTE = (
    "\nThe above quantities relating the numerical and analytical jacobians are computed \n"
    "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \n"
    "about fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
)


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _differentiable_outputs(outputs: tuple) -> list[Tensor]:
    return [out for out in outputs if isinstance(out, Tensor) and out.dtype.is_floating_point]


def _flat_outputs(fn, inputs) -> list[np.ndarray]:
    outputs = _differentiable_outputs(_as_tuple(fn(*inputs)))
    return [out._data.astype(np.float64).reshape(-1) for out in outputs]


def _central_difference(fn, inputs: tuple, data: np.ndarray, direction: np.ndarray, eps: float):
    """(f(x + eps d) - f(x - eps d)) / 2 eps for each output, perturbing `data` in place."""
    original = data.copy()
    np.copyto(data, original + eps * direction, casting="unsafe")
    plus = _flat_outputs(fn, inputs)
    np.copyto(data, original - eps * direction, casting="unsafe")
    minus = _flat_outputs(fn, inputs)
    np.copyto(data, original)
    return [(high - low) / (2 * eps) for high, low in zip(plus, minus)]


def _numerical_jacobians(fn, inputs: tuple, targets: list[int], eps: float) -> list[list[np.ndarray]]:
    """jacobians[i][j]: d output_j / d input_i as an array of shape (numel_in, numel_out).

    `fn` runs in the caller's grad mode: gradgradcheck's function differentiates inside.
    """
    sizes = [out.size for out in _flat_outputs(fn, inputs)]
    jacobians = []
    for index in targets:
        data = inputs[index]._data
        columns = [np.zeros((data.size, size)) for size in sizes]
        for element in range(data.size):
            direction = np.zeros(data.size)
            direction[element] = 1
            derivative = _central_difference(fn, inputs, data, direction.reshape(data.shape), eps)
            for column, values in zip(columns, derivative):
                column[element] = values
        jacobians.append(columns)
    return jacobians


def _vjp(outputs: list[Tensor], chosen: list[Tensor], out_index: int, cotangent: np.ndarray):
    """The gradients of every chosen input for one output and cotangent (None where unused)."""
    from . import grad as autograd_grad

    out = outputs[out_index]
    if not out._requires_grad:
        return [None] * len(chosen)
    return autograd_grad(
        out,
        chosen,
        grad_outputs=Tensor._make(cotangent.astype(out._data.dtype).reshape(out._data.shape)),
        retain_graph=True,
        allow_unused=True,
    )


def _analytical_jacobians(outputs: list[Tensor], chosen: list[Tensor]) -> list[list[np.ndarray]]:
    jacobians = [[np.zeros((x.numel(), out.numel())) for out in outputs] for x in chosen]
    for out_index, out in enumerate(outputs):
        for element in range(out.numel()):
            unit = np.zeros(out.numel())
            unit[element] = 1
            for in_index, gradient in enumerate(_vjp(outputs, chosen, out_index, unit)):
                if gradient is not None:
                    jacobians[in_index][out_index][:, element] = gradient._data.reshape(-1)
    return jacobians


def _as_tensor_text(array: np.ndarray) -> str:
    return repr(Tensor._make(np.asarray(array, dtype=np.float64)))


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


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
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """True if backward's Jacobian of `func` at `inputs` matches finite differences.

    On a mismatch raises GradcheckError naming the output and input and showing both
    Jacobians (rows: input elements, columns: output elements), or returns False when
    `raise_exception=False`. `check_forward_ad=True` checks the Jacobian forward mode computes
    (one dual pass per input element, see autograd/forward_ad.py) the same way, and
    `check_batched_forward_grad=True` that Jacobian-vector products for a batch of tangents
    equal the products one at a time.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    inputs = _as_tuple(inputs)
    targets = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for index in targets:
        if inputs[index].dtype.name != "float64":
            warnings.warn(
                f"Input #{index} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point. ",
                UserWarning,
                stacklevel=2,
            )
    if not targets:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of the "
            "them have requires_grad=True."
        )
    backward = check_backward_ad
    outputs = chosen = None
    if backward:
        with grad_mode.enable_grad():
            outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
        chosen = [inputs[index] for index in targets]
    # PyTorch's order, except that undefined output grads come first: the Jacobian check itself
    # leaves them undefined.
    checks = (
        lambda: _check_undefined_grad(outputs, chosen) if backward and check_undefined_grad else None,
        lambda: _check_jacobians(func, inputs, targets, outputs, chosen, eps, atol, rtol, fast_mode)
        if backward else None,
        lambda: _check_reentrant(outputs, chosen, nondet_tol) if backward else None,
        lambda: _check_grad_dtypes(outputs, chosen) if backward and check_grad_dtypes else None,
        lambda: _check_forward_jacobians(func, inputs, targets, eps, atol, rtol, fast_mode)
        if check_forward_ad else None,
        lambda: _check_batched_forward(func, inputs, targets) if check_batched_forward_grad else None,
        lambda: _check_zero_grad_output(outputs, chosen) if backward else None,
        lambda: _check_batched(outputs, chosen) if check_batched_grad else None,
    )
    for check in checks:
        failure = check()
        if failure is not None:
            return _fail(failure, raise_exception)
    return True


def _check_jacobians(func, inputs, targets, outputs, chosen, eps, atol, rtol, fast_mode):
    if fast_mode:
        return _check_fast(func, inputs, targets, outputs, chosen, eps, atol, rtol)
    numerical = _numerical_jacobians(func, inputs, targets, eps)
    analytical = _analytical_jacobians(outputs, chosen)
    for in_pos, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for out_index, (num, ana) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                return (
                    f"Jacobian mismatch for output {out_index} with respect to input "
                    f"{targets[in_pos]},\nnumerical:{_as_tensor_text(num)}\n"
                    f"analytical:{_as_tensor_text(ana)}\n"
                )
    return None


def _check_fast(func, inputs, targets, outputs, chosen, eps, atol, rtol):
    """Compare v^T J u for random u (per input) and v (per output) with elements in [0, 1).

    |v^T E u| <= max|E| * |u|_1 * |v|_1, so the elementwise atol is scaled by both 1-norms. As in
    PyTorch the directions are non-negative: errors of one sign in many elements add up instead
    of cancelling.
    """
    rng = np.random.default_rng(0)
    directions = [rng.uniform(0, 1, inputs[index]._data.shape) for index in targets]
    cotangents = [rng.uniform(0, 1, out.numel()) for out in outputs]
    numerical = [
        _central_difference(func, inputs, inputs[index]._data, direction, eps)
        for index, direction in zip(targets, directions)
    ]
    for out_index, v in enumerate(cotangents):
        grads = _vjp(outputs, chosen, out_index, v)
        for in_pos, (gradient, u) in enumerate(zip(grads, directions)):
            ana = 0.0 if gradient is None else float(np.dot(gradient._data.reshape(-1), u.reshape(-1)))
            num = float(np.dot(v, numerical[in_pos][out_index]))
            tolerance = atol * np.abs(u).sum() * np.abs(v).sum()
            if not np.isclose(ana, num, rtol=rtol, atol=tolerance):
                return _fast_failure(func, inputs, targets, outputs, chosen, eps,
                                     out_index, in_pos, num, ana)
    return None


def _fast_failure(func, inputs, targets, outputs, chosen, eps, out_index, in_pos, num, ana):
    slow_numerical = _numerical_jacobians(func, inputs, targets, eps)[in_pos][out_index]
    slow_analytical = _analytical_jacobians(outputs, chosen)[in_pos][out_index]
    difference = float(np.abs(slow_numerical - slow_analytical).max(initial=0.0))
    return (
        f"Jacobian mismatch for output {out_index} with respect to input {targets[in_pos]},\n"
        f"numerical:{num}\nanalytical:{ana}\n{_FAST_MODE_NOTE}"
        f"Numerical:\n {_as_tensor_text(slow_numerical)}\n"
        f"Analytical:\n{_as_tensor_text(slow_analytical)}\n\n"
        f"The max per-element difference (slow mode) is: {difference}.\n"
    )


def _forward_products(func, inputs: tuple, targets: list[int], directions: list) -> list:
    """J·u for each output (flat float64 arrays): forward mode, one dual pass, with tangent
    `directions[k]` on input `targets[k]` (zeros elsewhere)."""
    from . import forward_ad

    with forward_ad.dual_level():
        duals = list(inputs)
        for index, direction in zip(targets, directions):
            value = inputs[index]
            tangent = Tensor._make(np.asarray(direction, dtype=value._data.dtype).reshape(value._data.shape))
            duals[index] = forward_ad.make_dual(value.detach(), tangent)
        outputs = _differentiable_outputs(_as_tuple(func(*duals)))
        products = []
        for out in outputs:
            tangent = forward_ad.unpack_dual(out).tangent
            products.append(np.zeros(out.numel()) if tangent is None
                            else tangent._data.astype(np.float64).reshape(-1))
    return products


def _forward_jacobians(func, inputs: tuple, targets: list[int]) -> list[list[np.ndarray]]:
    """Like _numerical_jacobians, from forward mode: one Jacobian-vector product per column."""
    jacobians = []
    for position, index in enumerate(targets):
        data = inputs[index]._data
        columns = None
        for element in range(data.size):
            directions = [np.zeros(inputs[other]._data.shape) for other in targets]
            directions[position].reshape(-1)[element] = 1
            products = _forward_products(func, inputs, targets, directions)
            if columns is None:
                columns = [np.zeros((data.size, product.size)) for product in products]
            for column, product in zip(columns, products):
                column[element] = product
        jacobians.append(columns or [])
    return jacobians


def _check_forward_jacobians(func, inputs, targets, eps, atol, rtol, fast_mode):
    """check_forward_ad: the Jacobian from forward mode (dual tensors) against finite differences."""
    if fast_mode:
        return _check_forward_fast(func, inputs, targets, eps, atol, rtol)
    numerical = _numerical_jacobians(func, inputs, targets, eps)
    analytical = _forward_jacobians(func, inputs, targets)
    for in_pos, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for out_index, (num, ana) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                return (
                    f"Jacobian computed with forward mode mismatch for output {out_index} with "
                    f"respect to input {targets[in_pos]},\nnumerical:{_as_tensor_text(num)}\n"
                    f"analytical:{_as_tensor_text(ana)}\n"
                )
    return None


def _check_forward_fast(func, inputs, targets, eps, atol, rtol):
    """Fast mode of check_forward_ad: for each input alone, J·u for a random u in [0, 1) (per input),
    from forward mode against finite differences along u, output by output.

    |E u| <= max|E| * |u|_1 elementwise, so the elementwise atol is scaled by the 1-norm of u.
    """
    rng = np.random.default_rng(0)
    directions = [rng.uniform(0, 1, inputs[index]._data.shape) for index in targets]
    for in_pos, (index, u) in enumerate(zip(targets, directions)):
        numerical = _central_difference(func, inputs, inputs[index]._data, u, eps)
        alone = [u if other == in_pos else np.zeros_like(direction)
                 for other, direction in enumerate(directions)]
        analytical = _forward_products(func, inputs, targets, alone)
        tolerance = atol * np.abs(u).sum()
        for out_index, (num, ana) in enumerate(zip(numerical, analytical)):
            if not np.allclose(ana, num, rtol=rtol, atol=tolerance):
                slow_numerical = _numerical_jacobians(func, inputs, [index], eps)[0][out_index]
                slow_analytical = _forward_jacobians(func, inputs, [index])[0][out_index]
                difference = float(np.abs(slow_numerical - slow_analytical).max(initial=0.0))
                return (
                    f"Jacobian computed with forward mode mismatch for output {out_index} with "
                    f"respect to input {index},\nnumerical:{_as_tensor_text(num)}\n"
                    f"analytical:{_as_tensor_text(ana)}\n{_FAST_MODE_NOTE}"
                    f"Numerical:\n {_as_tensor_text(slow_numerical)}\n"
                    f"Analytical:\n{_as_tensor_text(slow_analytical)}\n\n"
                    f"The max per-element difference (slow mode) is: {difference}.\n"
                )
    return None


def _check_batched_forward(func, inputs, targets):
    """check_batched_forward_grad: for each input alone, Jacobian-vector products for a batch of
    two tangents at once (autograd.functional's batched forward mode) must equal the products
    one at a time (within allclose's default tolerances, as PyTorch compares them)."""
    from ._batched import batched_jvp

    rng = np.random.default_rng(1)
    for position, index in enumerate(targets):
        value = inputs[index]
        batch = rng.standard_normal((2, *value._data.shape))

        def alone(changed, index=index):
            full = list(inputs)
            full[index] = changed
            return _differentiable_outputs(_as_tuple(func(*full)))

        batched = batched_jvp(alone, [value.detach()], [Tensor._make(batch.astype(value._data.dtype))])
        for row in range(2):
            directions = [batch[row] if other == position else np.zeros(inputs[target]._data.shape)
                          for other, target in enumerate(targets)]
            single = _forward_products(func, inputs, targets, directions)
            for out_index, (many, one) in enumerate(zip(batched, single)):
                if not np.allclose(many._data[row].reshape(-1), one):
                    return ("While computing batched gradients, got: Batched forward-mode gradient "
                            f"does not match the unbatched one for output {out_index} and input {index}")
    return None


def _check_reentrant(outputs, chosen, nondet_tol: float):
    first = _analytical_jacobians(outputs, chosen)
    second = _analytical_jacobians(outputs, chosen)
    for row_a, row_b in zip(first, second):
        for a, b in zip(row_a, row_b):
            if not np.allclose(a, b, rtol=0, atol=nondet_tol, equal_nan=True):
                return _NONDET_MESSAGE.format(tolerance=nondet_tol)
    return None


def _check_grad_dtypes(outputs, chosen):
    for out_index in range(len(outputs)):
        grads = _vjp(outputs, chosen, out_index, np.ones(outputs[out_index].numel()))
        for value, gradient in zip(chosen, grads):
            if gradient is not None and gradient.dtype is not value.dtype:
                return "Gradient has dtype mismatch"
    return None


def _check_zero_grad_output(outputs, chosen):
    for out_index, out in enumerate(outputs):
        for gradient in _vjp(outputs, chosen, out_index, np.zeros(out.numel())):
            if gradient is not None and np.any(gradient._data != 0):
                return "backward not multiplied by grad_output"
    return None


def _check_undefined_grad(outputs, chosen):
    """Backward of one output alone, the others getting no gradient, must work."""
    from . import grad as autograd_grad

    if len(outputs) < 2:
        return None
    for out in outputs:
        if not out._requires_grad:
            continue
        try:
            autograd_grad(out, chosen, grad_outputs=Tensor._make(np.zeros(out._data.shape, out._data.dtype)),
                          retain_graph=True, allow_unused=True)
        except (RuntimeError, TypeError, AttributeError) as error:
            return (
                "Expected backward function to handle undefined output grads (outputs that "
                f"received no gradient), but it raised: {error}"
            )
    return None


def _check_batched(outputs, chosen):
    """Batched vector-Jacobian products must equal the same products one at a time."""
    from . import grad as autograd_grad

    rng = np.random.default_rng(1)
    for out_index, out in enumerate(outputs):
        if not out._requires_grad:
            continue
        cotangents = rng.standard_normal((2, out.numel()))
        batched = autograd_grad(
            out, chosen,
            grad_outputs=Tensor._make(cotangents.reshape((2, *out._data.shape)).astype(out._data.dtype)),
            retain_graph=True, allow_unused=True, is_grads_batched=True,
        )
        for row in range(2):
            single = _vjp(outputs, chosen, out_index, cotangents[row])
            for many, one in zip(batched, single):
                if (many is None) != (one is None) or (
                    one is not None and not np.allclose(many._data[row], one._data)
                ):
                    return f"While computing batched gradients, got a wrong result for output {out_index}"
    return None


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
    """True if the gradient of `func` (computed with create_graph) passes gradcheck itself.

    Random `grad_outputs` (float64, requiring grad) are made when none are given, so the
    check covers the derivative with respect to the output gradient too.
    """
    from . import grad as autograd_grad

    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
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
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        fast_mode=fast_mode,
    )
