"""`backward` and `grad`: the two calls that start a backward pass from user code.

They work on tensors, so they sit above `_tensor` (Note [Two layers in one package] in
`autograd/__init__.py`): `retrograd.autograd` binds them from here, and this module imports
what they need once, not on every call.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .._creation import tensor as new_tensor
from .._creation import zeros_like
from .._tensor import Tensor
from .engine import _store_grad, execute

_CREATE_GRAPH_CYCLE_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak."
)


def _as_tuple(values, what: str) -> tuple:

    if values is None:
        return ()
    if isinstance(values, Tensor):
        return (values,)
    if type(values) is tuple:
        return values
    if type(values) is list or isinstance(values, Sequence):  # (the abstract class's test is slow)
        return tuple(values)
    raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got {type(values).__name__}")


def _root_gradients(outputs: tuple, grad_outputs: tuple) -> list:
    """Check or create the gradient that starts backward at each output: a Tensor given, or
    an array of ones made for a scalar output (the pass wraps it only if it needs a Tensor)."""
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    gradients = []
    for index, output in enumerate(outputs):
        given = grad_outputs[index] if grad_outputs else None
        if given is None:
            data = output._data
            if data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not output.dtype.is_floating_point:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{output.dtype!r}"
                )
            # (ones_like(output), less its checks: a loss of shape () is the common case)
            gradients.append(np.array(1, data.dtype) if not data.shape else np.ones(data.shape, data.dtype))
            continue
        if not isinstance(given, Tensor):
            given = new_tensor(given, dtype=output.dtype)
        if given.shape != output.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{index}] has a shape of {given.shape} and "
                f"output[{index}] has a shape of {output.shape}."
            )
        if given.dtype is not output.dtype:  # as PyTorch's engine: the output's dtype (int64 ones...)
            given = given.to(output.dtype)
        gradients.append(given)
    return gradients


def _output_edges(outputs: tuple) -> list:
    edges = []
    for index, output in enumerate(outputs):
        # (a view that requires grad through its base has no accumulator: no edge either)
        node = output.grad_fn if output.grad_fn is not None or not output._requires_grad else (
            output._get_grad_accumulator())
        if node is None:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )
        edges.append((node, output._output_nr if output.grad_fn is not None else 0))
    return edges


def _input_edges(inputs: tuple, what: str) -> list:

    edges = []
    for index, value in enumerate(inputs):
        if not isinstance(value, Tensor):
            raise TypeError(f"{what}[{index}] must be a Tensor, got {type(value).__name__}")
        if not value._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        if value.grad_fn is not None:
            edges.append((value.grad_fn, value._output_nr))
        else:
            edges.append((value._get_grad_accumulator(), 0))
    return edges


def backward(
    tensors,
    grad_tensors=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables=None,
    inputs=None,
) -> None:
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves of their graph.

    `grad_tensors` weighs each output (needed for non-scalar outputs); with `inputs`, only
    those tensors receive gradients. The graph is freed unless `retain_graph`.
    """
    outputs = _as_tuple(tensors, "tensors")
    grads = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables, "grad_tensors")
    if inputs is not None:
        chosen = _as_tuple(inputs, "inputs")
        if not chosen:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    else:
        chosen = None
    root_grads = _root_gradients(outputs, grads)
    edges = _output_edges(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        warnings.warn(_CREATE_GRAPH_CYCLE_WARNING, UserWarning, stacklevel=3)
    targets = _input_edges(chosen, "inputs") if chosen is not None else None
    captured = execute(
        edges,
        root_grads,
        keep_graph=retain_graph,
        create_graph=create_graph,
        targets=targets,
        accumulate=True,
    )
    if chosen is not None:
        _accumulate_non_leaf_inputs(chosen, captured, create_graph)


def _accumulate_non_leaf_inputs(chosen: tuple, captured: list, create_graph: bool) -> None:
    """`backward(inputs=...)` also fills `.grad` of the non-leaf tensors it was given."""
    for tensor, gradient in zip(chosen, captured):
        if tensor.grad_fn is not None and gradient is not None:
            _store_grad(tensor, gradient, create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """Return the gradients of `outputs` with respect to `inputs` (a tuple); fill no `.grad`.

    With `is_grads_batched`, each grad_output has an extra leading batch dimension and
    the gradients have it too: one vector-Jacobian product per batch entry, computed in
    one backward pass where possible (see Note [Batched backward] in _batched.py).
    """
    output_tuple = _as_tuple(outputs, "outputs")
    input_tuple = _as_tuple(inputs, "inputs")
    if not output_tuple:
        raise RuntimeError("grad requires non-empty outputs")
    if not input_tuple:
        raise RuntimeError("grad requires non-empty inputs.")
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    edges = _output_edges(output_tuple)
    targets = _input_edges(input_tuple, "inputs")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        from ._batched import batched_backward

        captured = batched_backward(
            edges, output_tuple, _as_tuple(grad_outputs, "grad_outputs"), targets,
            retain_graph=retain_graph, create_graph=create_graph,
        )
    else:
        captured = execute(
            edges,
            _root_gradients(output_tuple, _as_tuple(grad_outputs, "grad_outputs")),
            keep_graph=retain_graph,
            create_graph=create_graph,
            targets=targets,
            accumulate=False,
        )
    results = []
    for index, (value, gradient) in enumerate(zip(input_tuple, captured)):
        if gradient is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                gradient = zeros_like(value)
                if is_grads_batched:
                    batch = len(_as_tuple(grad_outputs, "grad_outputs")[0])
                    gradient = gradient.expand(batch, *value.shape).clone()
        results.append(gradient)
    return tuple(results)
