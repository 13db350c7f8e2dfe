"""Derivatives of whole functions: vjp, jvp, jacobian, hessian, vhp, hvp.

Each takes a function of one tensor or a tuple of tensors, returning one tensor or a
tuple, and gives results shaped as PyTorch gives them: a Jacobian block for output `i`
and input `j` has shape `output_i.shape + input_j.shape`; tuples come back where tuples
went in.

    >>> import retrograd as torch
    >>> from retrograd.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, torch.tensor([1., 2.]))
    tensor([[2., 0.],
            [0., 4.]])

As in PyTorch, `jvp` and `hvp` use the double-vjp identity (for g(u) = vjp(f, x, u), the jvp
is vjp(g, u, v), since g is linear in u), while `jacobian(strategy="forward-mode")` and
`hessian(outer_jacobian_strategy="forward-mode")` use forward mode (dual tensors, see
autograd/forward_ad.py): the Jacobian-vector products of every input element's unit
tangent, batched by `retrograd.func.vmap` into one dual pass, the Hessian as the
forward-mode Jacobian of the reverse-mode gradient (forward-over-reverse).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor
from . import grad as _autograd_grad
from . import grad_mode

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# ---------------------------------------------------------------------------
# Argument handling


def _as_tuple(value, argument: str, function: str) -> tuple[bool, tuple]:
    """(was it a tuple, the values as a tuple), checking that they are tensors."""
    is_tuple = isinstance(value, tuple)
    values = tuple(value) if is_tuple else (value,)
    for index, item in enumerate(values):
        if not isinstance(item, Tensor):
            where = f"The {argument} given to {function} must be either a Tensor or a tuple of Tensors"
            raise TypeError(
                f"{where} but the value at index {index} has type {type(item)}."
                if is_tuple else f"{where} but the given {argument} has type {type(item)}."
            )
    return is_tuple, values


def _prepare_inputs(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that require grad, cut from the caller's graph unless create_graph."""
    prepared = []
    for value in inputs:
        if create_graph and value.requires_grad:
            prepared.append(value.view_as(value))
        else:
            prepared.append(value.detach().requires_grad_(value.dtype.is_floating_point))
    return tuple(prepared)


def _finish(values, create_graph: bool):
    """Detach results unless a graph was asked for; recurse through nested tuples."""
    if isinstance(values, tuple):
        return tuple(_finish(value, create_graph) for value in values)
    if values is None or create_graph:
        return values
    return values.detach()


def _unwrap(is_tuple: bool, values: tuple):
    return values if is_tuple else values[0]


def _check_vector(vectors: tuple, references: tuple, argument: str, function: str) -> None:
    if len(vectors) != len(references):
        raise RuntimeError(
            f"{function}: Expected {argument} to have length {len(references)} but got "
            f"{len(vectors)}."
        )
    for index, (vector, reference) in enumerate(zip(vectors, references)):
        if vector.shape != reference.shape:
            raise RuntimeError(
                f"Entry {index} in {argument} has invalid size: should be {reference.shape} "
                f"but got {vector.shape}."
            )


def _grad(outputs, inputs, grad_outputs, create_graph: bool, retain_graph: bool | None = None):
    """autograd.grad that tolerates outputs that do not require grad (their gradient is None)."""
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs) if out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _autograd_grad(
        [out for out, _ in pairs],
        inputs,
        [g for _, g in pairs],
        create_graph=create_graph,
        retain_graph=create_graph if retain_graph is None else retain_graph,
        allow_unused=True,
    )


def _fill_missing(grads: tuple, references: tuple, strict: bool, function: str, what: str) -> tuple:
    """Zeros for gradients that are None; in strict mode, an error naming the input."""
    filled = []
    for index, (gradient, reference) in enumerate(zip(grads, references)):
        if gradient is None:
            if strict:
                raise RuntimeError(
                    f"The {what} for the user-provided function is independent of input {index}. "
                    "This is not allowed in strict mode."
                )
            gradient = _zeros_like(reference)
        filled.append(gradient)
    return tuple(filled)


def _zeros_like(reference: Tensor) -> Tensor:
    return Tensor._make(np.zeros(reference._data.shape, dtype=reference._data.dtype))


def _check_outputs_require_grad(outputs: tuple, strict: bool, function: str) -> None:
    if not strict:
        return
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(
                f"Output {index} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when running "
                f"in strict mode."
            )


def _call(func: Callable, inputs: tuple, function: str) -> tuple[bool, tuple]:
    with grad_mode.enable_grad():
        outputs = func(*inputs)
    return _as_tuple(outputs, "outputs of the user-provided function", function)


# ---------------------------------------------------------------------------
# Products


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepare_inputs(inputs, create_graph)
    outputs_are_tuple, outputs = _call(func, inputs, "vjp")
    _check_outputs_require_grad(outputs, strict, "vjp")
    vectors = _cotangents(v, outputs, "vjp")
    grads = _grad(outputs, inputs, vectors, create_graph)
    grads = _fill_missing(grads, inputs, strict, "vjp", "output")
    return (
        _finish(_unwrap(outputs_are_tuple, outputs), create_graph),
        _finish(_unwrap(inputs_are_tuple, grads), create_graph),
    )


def _cotangents(v, outputs: tuple, function: str) -> tuple:
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )
        return (Tensor._make(np.ones(outputs[0]._data.shape, dtype=outputs[0]._data.dtype)),)
    _, vectors = _as_tuple(v, "v", function)
    _check_vector(vectors, outputs, "v", function)
    return vectors


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product at `inputs` (by the double-vjp trick)."""
    _, inputs = _as_tuple(inputs, "inputs", "jvp")
    inputs = _prepare_inputs(inputs, create_graph)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a "
                "single Tensor with a single element."
            )
        vectors = (Tensor._make(np.ones(inputs[0]._data.shape, dtype=inputs[0]._data.dtype)),)
    else:
        _, vectors = _as_tuple(v, "v", "jvp")
        _check_vector(vectors, inputs, "v", "jvp")
    outputs_are_tuple, outputs = _call(func, inputs, "jvp")
    _check_outputs_require_grad(outputs, strict, "jvp")
    products = _jvp_of_outputs(outputs, inputs, vectors, create_graph, strict)
    return (
        _finish(_unwrap(outputs_are_tuple, outputs), create_graph),
        _finish(_unwrap(outputs_are_tuple, products), create_graph),
    )


def _jvp_of_outputs(outputs: tuple, inputs: tuple, vectors: tuple, create_graph: bool,
                    strict: bool) -> tuple:
    """J v for each output: differentiate u -> J^T u (linear in u) along v."""
    with grad_mode.enable_grad():
        dummies = tuple(
            Tensor._make(np.zeros(out._data.shape, dtype=out._data.dtype)).requires_grad_(True)
            for out in outputs
        )
        transposed = _grad(outputs, inputs, dummies, create_graph=True, retain_graph=True)
        pairs = [(g, v) for g, v in zip(transposed, vectors) if g is not None and g.requires_grad]
        if not pairs:
            products = (None,) * len(outputs)
        else:
            products = _autograd_grad(
                [g for g, _ in pairs], dummies, [v for _, v in pairs],
                create_graph=create_graph, retain_graph=True, allow_unused=True,
            )
    return _fill_missing(products, outputs, strict, "jvp", "output")


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) for a scalar function: the vector-Hessian product."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) for a scalar function: the Hessian-vector product."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph: bool, strict: bool, function: str):
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", function)
    inputs = _prepare_inputs(inputs, create_graph)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a "
                "single Tensor with a single element."
            )
        vectors = (Tensor._make(np.ones(inputs[0]._data.shape, dtype=inputs[0]._data.dtype)),)
    else:
        _, vectors = _as_tuple(v, "v", function)
        _check_vector(vectors, inputs, "v", function)
    _, outputs = _call(func, inputs, function)
    _check_scalar_output(outputs, function)
    _check_outputs_require_grad(outputs, strict, function)
    with grad_mode.enable_grad():
        first = _grad(outputs, inputs, (_ones_like(outputs[0]),), create_graph=True, retain_graph=True)
        first = _fill_missing(first, inputs, strict, function, "jacobian")
        # The Hessian is symmetric: v^T H and H v are the same vector.
        second = _grad(first, inputs, vectors, create_graph=create_graph, retain_graph=True)
    second = _fill_missing(second, inputs, strict, function, "hessian")
    return (
        _finish(outputs[0], create_graph),
        _finish(_unwrap(inputs_are_tuple, second), create_graph),
    )


def _check_scalar_output(outputs: tuple, function: str) -> None:
    if len(outputs) != 1:
        raise RuntimeError(
            f"The function given to {function} should return a single Tensor"
        )
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {function} should contain a single "
            "element"
        )


def _ones_like(reference: Tensor) -> Tensor:
    return Tensor._make(np.ones(reference._data.shape, dtype=reference._data.dtype))


# ---------------------------------------------------------------------------
# Full matrices


_STRATEGIES = ("forward-mode", "reverse-mode")


def jacobian(
    func: Callable,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
):
    """The Jacobian of `func` at `inputs`: block [i][j] has shape outputs[i].shape + inputs[j].shape.

    reverse-mode computes one row per output element (vectorize=True: all rows in one
    batched backward, see Note [Batched backward] in _batched.py); forward-mode one
    column per input element (it requires vectorize=True, as in PyTorch).
    """
    if strategy not in _STRATEGIES:
        raise ValueError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            "function has more outputs than inputs, \"forward-mode\" tends to be more performant. "
            "Otherwise, prefer to use \"reverse-mode\"."
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` "
                "are not supported together (yet). Please either set `strict=False` or "
                "`strategy=\"reverse-mode\"`."
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                "only implemented for `vectorize=True`."
            )
    if strict and vectorize:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorize=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`."
        )
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if strategy == "forward-mode":
        outputs_are_tuple, blocks = _jacobian_forward(func, inputs)
        if outputs_are_tuple:
            return tuple(_unwrap(inputs_are_tuple, row) for row in blocks)
        return _unwrap(inputs_are_tuple, blocks[0])
    inputs = _prepare_inputs(inputs, create_graph)
    outputs_are_tuple, outputs = _call(func, inputs, "jacobian")
    _check_outputs_require_grad(outputs, strict, "jacobian")
    if vectorize:
        blocks = _jacobian_batched(outputs, inputs, create_graph)
    else:
        blocks = _jacobian_by_rows(outputs, inputs, create_graph, strict)
    blocks = _finish(tuple(tuple(row) for row in blocks), create_graph)
    if outputs_are_tuple:
        return tuple(_unwrap(inputs_are_tuple, row) for row in blocks)
    return _unwrap(inputs_are_tuple, blocks[0])


def _jacobian_by_rows(outputs: tuple, inputs: tuple, create_graph: bool, strict: bool) -> list:
    blocks = []
    for out_index, output in enumerate(outputs):
        rows = [[] for _ in inputs]
        for element in range(output.numel()):
            unit = np.zeros(output.numel(), dtype=output._data.dtype)
            unit[element] = 1
            cotangent = Tensor._make(unit.reshape(output._data.shape))
            grads = _grad((output,), inputs, (cotangent,), create_graph, retain_graph=True)
            for in_index, gradient in enumerate(grads):
                if gradient is None:
                    if strict:
                        raise RuntimeError(
                            f"Output {out_index} of the user-provided function is independent of "
                            f"input {in_index}. This is not allowed in strict mode."
                        )
                    gradient = _zeros_like(inputs[in_index])
                rows[in_index].append(gradient)
        blocks.append([
            _assemble(row, output.shape, value.shape, create_graph) for row, value in zip(rows, inputs)
        ])
    return blocks


def _assemble(rows: list[Tensor], output_shape, input_shape, create_graph: bool) -> Tensor:
    """Stack per-element gradients into a block of shape output_shape + input_shape."""
    shape = (*output_shape, *input_shape)
    if not rows:
        return Tensor._make(np.zeros(shape, dtype=np.float32))
    if create_graph:
        from ._batched import _stack

        return _stack(rows).reshape(shape)
    return Tensor._make(np.stack([row._data for row in rows]).reshape(shape))


def _jacobian_batched(outputs: tuple, inputs: tuple, create_graph: bool) -> list:
    blocks = []
    for output in outputs:
        if not output.requires_grad or output.numel() == 0:
            blocks.append([_zeros_block(output, value) for value in inputs])
            continue
        identity = np.eye(output.numel(), dtype=output._data.dtype)
        cotangents = Tensor._make(identity.reshape((output.numel(), *output._data.shape)))
        grads = _autograd_grad(output, inputs, cotangents, retain_graph=True,
                               create_graph=create_graph, allow_unused=True, is_grads_batched=True)
        blocks.append([
            _zeros_block(output, value) if gradient is None
            else gradient.reshape((*output.shape, *value.shape))
            for gradient, value in zip(grads, inputs)
        ])
    return blocks


def _zeros_block(output: Tensor, value: Tensor) -> Tensor:
    return Tensor._make(np.zeros((*output.shape, *value.shape), dtype=value._data.dtype))


def _jacobian_forward(func: Callable, inputs: tuple) -> tuple[bool, list]:
    """Forward mode: the Jacobian-vector products of the standard basis of all the inputs
    (one column of the Jacobian each), as PyTorch's jacobian(strategy="forward-mode")."""
    from ._batched import batched_jvp

    sizes = [value.numel() for value in inputs]
    total = sum(sizes)
    primals = inputs
    tangents = []
    start = 0
    for value, size in zip(primals, sizes):
        basis = np.zeros((total, size), dtype=value._data.dtype)
        basis[start:start + size] = np.eye(size, dtype=value._data.dtype)
        tangents.append(Tensor._make(basis.reshape((total, *value._data.shape))))
        start += size
    shape = {}

    def traced(*duals):
        is_tuple, outputs = _as_tuple(func(*duals), "outputs of the user-provided function", "jacobian")
        shape["tuple"] = is_tuple
        shape["outputs"] = [tuple(output.shape) for output in outputs]
        return outputs

    if total == 0:
        with grad_mode.enable_grad():
            traced(*primals)
        products = [Tensor._make(np.zeros((0, *output_shape))) for output_shape in shape["outputs"]]
    else:
        products = batched_jvp(traced, list(primals), tangents)
    blocks = []
    for product, output_shape in zip(products, shape["outputs"]):
        # product: (total, *output_shape) -> output_shape + (total,) -> one block per input
        columns = np.moveaxis(product._data, 0, -1).reshape((*output_shape, total))
        row = []
        start = 0
        for value, size in zip(primals, sizes):
            block = columns[..., start:start + size].reshape((*output_shape, *value.shape))
            row.append(Tensor._make(np.ascontiguousarray(block).astype(value._data.dtype, copy=False)))
            start += size
        blocks.append(tuple(row))
    return shape["tuple"], blocks


def hessian(
    func: Callable,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
):
    """The Hessian of a scalar function: block [i][j] has shape inputs[i].shape + inputs[j].shape."""
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient_of(*values):
        if outer_jacobian_strategy == "forward-mode":
            # As PyTorch: the dual inputs require grad, so the inner (reverse-mode) gradient is
            # taken through them and carries their tangents (forward-over-reverse).
            values = tuple(value.requires_grad_(True) if value.grad_fn is None else value
                           for value in values)
        _, outputs = _call(func, values, "hessian")
        _check_scalar_output(outputs, "hessian")
        _check_outputs_require_grad(outputs, strict, "hessian")
        grads = _grad(outputs, values, (_ones_like(outputs[0]),), create_graph=True)
        grads = _fill_missing(grads, values, strict, "hessian", "jacobian")
        return grads if inputs_are_tuple else grads[0]

    return jacobian(gradient_of, inputs if inputs_are_tuple else inputs[0],
                    create_graph=create_graph, strict=strict, vectorize=vectorize,
                    strategy=outer_jacobian_strategy)
