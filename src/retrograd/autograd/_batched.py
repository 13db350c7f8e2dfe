"""Many vector-Jacobian products in one backward pass (`grad(..., is_grads_batched=True)`).

Note [Batched backward]
    Every node's backward is linear in its incoming gradient and is written with
    broadcasting tensor operations, so most nodes compute the right thing when the
    gradient carries an extra leading batch dimension: `grad * other` with grad of shape
    (B, *shape) is B products at once. The engine runs one pass with such gradients,
    fitting each input gradient to (B, *input_shape).

    Not every backward is batch-polymorphic (one that reshapes to a fixed shape or names
    a dimension by a non-negative index is not), so the batched result is checked, using
    that same linearity: for random weights r, the single backward of the cotangent
    sum_b r_b v_b must equal sum_b r_b (row b of the batched result). A node that failed,
    or a check that fails, sends the computation to one backward per row instead. So the
    answer is always right, and fast whenever the graph allows it.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .engine import execute
from .graph import AccumulateGrad, Node

__all__ = ["batched_backward"]


def batched_backward(edges, outputs, grad_outputs, targets, *, retain_graph, create_graph):
    """The gradients of `targets` for each batch entry of `grad_outputs`, stacked."""
    batch_size = _check_batched(outputs, grad_outputs)
    try:
        captured = execute(edges, list(grad_outputs), keep_graph=True, create_graph=create_graph,
                           targets=targets, accumulate=False, batch_size=batch_size)
    except (RuntimeError, ValueError, IndexError):
        captured = None
    if captured is not None and _passes_linearity_check(edges, grad_outputs, targets, captured):
        if not retain_graph:
            _release_graph(edges)
        return captured
    return _row_by_row(edges, grad_outputs, targets, batch_size, retain_graph, create_graph)


def _check_batched(outputs: tuple, grad_outputs: tuple) -> int:
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    sizes = set()
    for index, (output, given) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(given, Tensor) or given.shape[1:] != output.shape:
            shape = getattr(given, "shape", None)
            raise RuntimeError(
                f"If `is_grads_batched=True`, we interpret the first dimension of each grad_output "
                f"as the batch dimension. The sizes of the remaining dimensions are expected to "
                f"match the shape of corresponding output, but a mismatch was detected: "
                f"grad_output[{index}] has a shape of {shape} and output[{index}] has a shape of "
                f"{output.shape}."
            )
        sizes.add(given.shape[0])
    if len(sizes) != 1:
        raise RuntimeError("every grad_output must have the same batch size")
    return sizes.pop()


def _passes_linearity_check(edges, grad_outputs, targets, captured) -> bool:
    batch_size = grad_outputs[0].shape[0]
    if any(gradient is not None and gradient.shape[:1] != (batch_size,) for gradient in captured):
        return False
    weights = np.random.default_rng(0).standard_normal(batch_size)
    mixed = [Tensor._make(np.tensordot(weights, g._data, axes=1).astype(g._data.dtype))
             for g in grad_outputs]
    single = execute(edges, mixed, keep_graph=True, create_graph=False, targets=targets,
                     accumulate=False)
    for batched, expected in zip(captured, single):
        if (batched is None) != (expected is None):
            return False
        if batched is None:
            continue
        combined = np.tensordot(weights, batched._data, axes=1)
        tolerance = 1e-9 if expected._data.dtype == np.float64 else 1e-4
        scale = max(np.abs(expected._data).max(initial=0.0), 1.0)
        if combined.shape != expected._data.shape or not np.allclose(
            combined, expected._data, rtol=tolerance, atol=tolerance * scale
        ):
            return False
    return True


def _row_by_row(edges, grad_outputs, targets, batch_size, retain_graph, create_graph):
    from .._creation import zeros

    rows = []
    for row in range(batch_size):
        keep = retain_graph or row < batch_size - 1
        rows.append(execute(edges, [g.select(0, row) for g in grad_outputs], keep_graph=keep,
                            create_graph=create_graph, targets=targets, accumulate=False))
    stacked = []
    for index in range(len(targets)):
        column = [row[index] for row in rows]
        if all(gradient is None for gradient in column):
            stacked.append(None)
            continue
        template = next(g for g in column if g is not None)
        column = [g if g is not None else zeros(template.shape, dtype=template.dtype) for g in column]
        stacked.append(_stack(column) if create_graph else Tensor._make(
            np.stack([g._data for g in column])))
    return stacked


def _stack(tensors: list[Tensor]) -> Tensor:
    """Stack differentiably with the ops every engineer can rely on (unsqueeze-free)."""
    total = None
    for index, tensor in enumerate(tensors):
        one_hot = np.zeros((len(tensors),) + (1,) * tensor.ndim, dtype=tensor._data.dtype)
        one_hot[index] = 1
        term = Tensor._make(one_hot) * tensor.reshape((1, *tensor.shape))
        total = term if total is None else total + term
    return total


def _release_graph(edges) -> None:
    """Free the saved values of every node below `edges` (what a pass without retain does)."""
    stack = [node for node, _ in edges if node is not None]
    seen: set[Node] = set()
    while stack:
        node = stack.pop()
        if node in seen or type(node) is AccumulateGrad:
            continue
        seen.add(node)
        node._release()
        stack.extend(child for child, _ in node.next_functions if child is not None)


def batched_jvp(func, primals: list, tangents: list, *, create_graph: bool = False) -> list:
    """Forward mode for a batch of tangents: `tangents[k]` has shape (B, *primals[k].shape);
    returns, for each output of `func(*primals)` (a Tensor, or a list or tuple of them), its
    Jacobian-vector products stacked as (B, *output.shape). Zeros for an output that does not
    depend on the primals.

    As PyTorch's `jacobian(strategy="forward-mode")`: one dual pass under `retrograd.func.vmap`
    (the tangent carries the batch). Where vmap cannot run the function, one dual pass per
    batch entry (the function's own errors surface from there).
    """
    if not create_graph:
        try:
            from ..func import vmap
        except ImportError:  # pragma: no cover - retrograd.func is part of the package
            vmap = None
        if vmap is not None:
            try:
                return list(vmap(_jvp_of(func, primals))(*tangents))
            except (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError):
                pass
    return _jvp_row_by_row(func, primals, tangents, create_graph)


def _jvp_of(func, primals: list):
    """tangents -> the output tangents of func at primals, in one dual level."""
    from . import forward_ad

    def jvp(*tangents):
        with forward_ad.dual_level():
            duals = [forward_ad.make_dual(primal, tangent) for primal, tangent in zip(primals, tangents)]
            outputs = func(*duals)
            outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
            found = []
            for output in outputs:
                tangent = forward_ad.unpack_dual(output).tangent
                found.append(tangent if tangent is not None else _zero_tangent(output, tangents[0]))
        return tuple(found)

    return jvp


def _zero_tangent(output: Tensor, like: Tensor) -> Tensor:
    """Zeros of output's shape, batched as `like` is under vmap (an output that ignored the inputs)."""
    zeros = Tensor._make(np.zeros(output._data.shape, output._data.dtype))
    return zeros + (like.reshape(-1)[:1].sum() * 0).to(output.dtype)


def _jvp_row_by_row(func, primals: list, tangents: list, create_graph: bool) -> list:
    from . import forward_ad

    batch_size = tangents[0].shape[0] if tangents else 0
    rows = []
    for row in range(batch_size):
        with forward_ad.dual_level():
            duals = [forward_ad.make_dual(primal, tangent[row]) for primal, tangent in zip(primals, tangents)]
            outputs = func(*duals)
            outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
            found = []
            for output in outputs:
                tangent = forward_ad.unpack_dual(output).tangent
                if tangent is None:
                    tangent = Tensor._make(np.zeros(output._data.shape, output._data.dtype))
                found.append(tangent if create_graph else tangent.detach())
        rows.append(found)
    if not rows:
        return []
    return [_stack([row[index] for row in rows]) if create_graph
            else Tensor._make(np.stack([row[index]._data for row in rows]))
            for index in range(len(rows[0]))]
