"""Tangent (forward-mode) formulas: how each op maps input tangents to output tangents.

Note [Tangent formulas]
    An op's declaration says, beside its derivative formulas, how it propagates tangents
    (forward mode, see Note [Dual tensors] in autograd/forward_ad.py), in its `tangent`
    attribute. Most ops need no formula of their own, as in PyTorch's derivatives.yaml:

    ELEMENT_WISE   J is diagonal (after broadcasting), so J·v is the derivative formula of
                   each input run with the incoming gradient replaced by that input's
                   tangent (broadcast to the output's shape), summed over the inputs.
    LINEAR         the op is linear in all its tensor inputs together (views, reshapes,
                   indexing, sums, cat...): the tangent is the op applied to the tangents
                   (zeros for inputs without one).
    MULTILINEAR    linear in each input when the others are fixed (mul, matmul, einsum...):
                   the product rule, one call of the op per input that has a tangent, with
                   that input replaced by its tangent.
    REDUCTION      every input element reaches one output element (a sum, a norm, max over
                   a dim, a loss with its reduction) and the derivative formula is the
                   incoming gradient, expanded, times a factor that does not depend on it:
                   J·v is that formula at a gradient of ones, times v, summed back to the
                   output's shape over the reduced dims (`dim`, `keepdim` of the op).
    TRANSPOSED     J·v as the transpose of the op's backward (a backward of the backward at a
                   zero cotangent): correct for any op whose backward can be differentiated,
                   at the cost of one extra forward and two backward steps, but its tangent
                   is not differentiable again (reverse over forward stops there) and it
                   refuses the tangents of an outer level (forward over forward). A stopgap
                   for a new op: no op of the table uses it (the ops that may are listed in
                   tests/test_forward_ad_closed_form.py); cumprod, det, eigh, svd, qr, pinv
                   and solve_triangular have closed-form formulas.

    Anything else is a function, read like a derivative formula: its parameter names are the
    op's inputs (primal values), `<input>_t` (the tangent of an input, zeros where it has
    none), `result` or the other output names, keyword parameters and `<input>_shape`; it
    returns the output's tangent (a tuple for several outputs, None for outputs that have
    none). Like derivative formulas, tangent formulas run on arrays when nothing needs to be
    recorded and on Tensors when something does (see Note [One formula, two modes]).

    An op without a `tangent` raises PyTorch's NotImplementedError when a tangent reaches
    it, never drops the tangent silently.
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.forward_ad import _state, has_tangent, set_tangent, tangent_at, tangent_levels, top_level
from . import _math

__all__ = ["ELEMENT_WISE", "LINEAR", "MULTILINEAR", "REDUCTION", "TRANSPOSED", "LinearWith",
           "MultilinearPlus", "apply_dual", "rule_name"]

ELEMENT_WISE = "element_wise"
LINEAR = "linear"
MULTILINEAR = "multilinear"
REDUCTION = "reduction"
TRANSPOSED = "transposed"

_AUTOMATIC = (ELEMENT_WISE, LINEAR, MULTILINEAR, REDUCTION, TRANSPOSED)


def rule_name(node_class) -> str | None:
    """How an op's tangent is computed, in words for the docs ("hand-written" for a formula)."""
    rule = getattr(node_class, "tangent", None)
    if rule is None:
        return None
    if isinstance(rule, LinearWith | MultilinearPlus):
        return repr(rule)
    return rule if isinstance(rule, str) else "hand-written"


def _op_name(node_class) -> str:
    name = re.sub(r"Backward\d*$", "", node_class.__name__).lstrip("_")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def not_supported(node_class) -> NotImplementedError:
    return NotImplementedError(
        f"Trying to use forward AD with {_op_name(node_class)} that does not support it because "
        "it has not been implemented yet.\nPlease file an issue to retrograd so that we can "
        "prioritize its implementation or submit a PR adding the tangent formula beside the "
        "op's derivative formulas."
    )


def apply_dual(apply, node_class, inputs: tuple, params: dict):
    """Run the op, then its tangent formula when an input has a tangent; see the Notes.

    With nested levels (Note [Dual tensors]) this handles the deepest level k at which an
    input has a tangent: the op and the formula run with the cap lowered to k - 1, so they
    carry the tangents of the levels below by this same path."""
    cap = _state.cap
    tangents = None
    level = -1
    if cap == 0:  # one level open: its tangents are in `_fw_grad`
        for position, value in enumerate(inputs):
            if isinstance(value, Tensor):
                tangent = getattr(value, "_fw_grad", None)
                if tangent is not None:
                    if tangents is None:
                        tangents = [None] * len(inputs)
                    tangents[position] = tangent
        if tangents is not None:
            level = 0
    else:
        level = top_level(inputs, cap)
        if level >= 0:
            tangents = [tangent_at(value, level) if isinstance(value, Tensor) else None
                        for value in inputs]
    below = level - 1 if level > 0 else -1
    _state.cap = below
    _state.hooked = below >= 0
    try:
        outputs = apply(node_class, *inputs, **params)
        if tangents is not None:
            _attach(outputs, _compute(apply, node_class, inputs, tangents, params, outputs), level)
    finally:
        _state.cap = cap
        _state.hooked = True
    return outputs


def _compute(apply, node_class, inputs, tangents, params, outputs):
    rule = getattr(node_class, "tangent", None)
    if rule is None:
        raise not_supported(node_class)
    if rule == TRANSPOSED:
        return _transposed(apply, node_class, inputs, tangents, params, outputs)
    if type(rule) is LinearWith:
        rule, params = LINEAR, {**params, **rule.params}
    if type(rule) is MultilinearPlus:
        return _multilinear_plus(apply, node_class, inputs, tangents, params, rule.added)
    if rule == LINEAR:
        replaced = [
            tangent if tangent is not None
            else _math.zeros_like(value) if _is_floating_tensor(value) else value
            for value, tangent in zip(inputs, tangents)
        ]
        return apply(node_class, *replaced, **params)
    if rule == MULTILINEAR:
        total = None
        for position, tangent in enumerate(tangents):
            if tangent is None:
                continue
            replaced = list(inputs)
            replaced[position] = tangent
            term = apply(node_class, *replaced, **params)
            total = term if total is None else total + term
        return total
    # Hand-written nodes (not Formula declarations) write their formulas with Tensor operations;
    # vmap's batched tensors (retrograd.func) must stay Tensors so its batching rules see them.
    on_arrays = (node_class._declared and not _state.hooked and not _recording(inputs, tangents)
                 and not any(map(_is_batched, inputs)) and not any(map(_is_batched, tangents)))
    context = _Context(node_class, inputs, tangents, params, outputs, on_arrays)
    if rule == ELEMENT_WISE:
        return _element_wise(context)
    if rule == REDUCTION:
        return _reduction(context)
    return rule(*[context.value(name) for name in _reads(rule)])


def _multilinear_plus(apply, node_class, inputs, tangents, params, added: int):
    total = None
    for position, tangent in enumerate(tangents):
        if tangent is None:
            continue
        replaced = list(inputs)
        replaced[position] = tangent
        for other, value in enumerate(inputs):
            if other != position and (position == added or other == added):
                replaced[other] = _math.zeros_like(value) if _is_floating_tensor(value) else value
        term = apply(node_class, *replaced, **params)
        total = term if total is None else total + term
    return total


def _recording(inputs, tangents) -> bool:
    if not grad_mode._state.grad_enabled:
        return False
    return any(isinstance(value, Tensor) and value._requires_grad for value in inputs) or any(
        tangent is not None and tangent._requires_grad for tangent in tangents)


def _is_batched(value) -> bool:
    """A batched tensor of vmap (its values live in a physical tensor with batch dims)."""
    return value is not None and type(value) is not Tensor and hasattr(type(value), "_physical")


def _is_floating_tensor(value) -> bool:
    return isinstance(value, Tensor) and value._data.dtype.kind in "fc"


_READS: dict = {}


def _reads(function) -> tuple:
    reads = _READS.get(function)
    if reads is None:
        reads = _READS[function] = tuple(inspect.signature(function).parameters)
    return reads


class _Context:
    """The values a tangent formula may read, as arrays or as Tensors."""

    __slots__ = ("inputs", "node_class", "on_arrays", "outputs", "params", "tangents")

    def __init__(self, node_class, inputs, tangents, params, outputs, on_arrays):
        self.node_class = node_class
        self.inputs = inputs
        self.tangents = tangents
        self.params = params
        self.outputs = outputs
        self.on_arrays = on_arrays

    def _side(self, value):
        if self.on_arrays and isinstance(value, Tensor):
            return value._data
        return value

    def output(self, index: int):
        outputs = self.outputs
        return self._side(outputs if type(outputs) is not tuple else outputs[index])

    def tangent(self, position: int):
        """The tangent of input `position`, zeros of its shape where it has none."""
        tangent = self.tangents[position]
        if tangent is None:
            value = self.inputs[position]
            if value is None:  # an optional input left out (a layer's bias)
                return None
            data = value._data if isinstance(value, Tensor) else np.asarray(value)
            zeros = np.zeros(data.shape, data.dtype if data.dtype.kind in "fc" else np.float64)
            return zeros if self.on_arrays else Tensor._make(zeros)
        return self._side(tangent)

    def value(self, name: str):
        node_class = self.node_class
        inputs = getattr(node_class, "inputs", ())
        outputs = getattr(node_class, "outputs", ("result",))
        if name in inputs:
            return self._side(self.inputs[inputs.index(name)])
        if name in outputs:
            return self.output(outputs.index(name))
        if name.endswith("_t") and name[:-2] in inputs:
            return self.tangent(inputs.index(name[:-2]))
        if name in self.params:
            return self._side(self.params[name])
        if name.endswith("_shape") and name[: -len("_shape")] in inputs:
            value = self.inputs[inputs.index(name[: -len("_shape")])]
            return value._data.shape if isinstance(value, Tensor) else ()
        defaults = getattr(node_class, "_parameter_defaults", None)
        if defaults is not None and name in defaults:
            return defaults[name]
        return _forward_default(node_class, name)


def _forward_default(node_class, name: str):
    parameter = inspect.signature(node_class.forward).parameters.get(name)
    if parameter is None or parameter.default is inspect.Parameter.empty:
        raise TypeError(f"{node_class.__name__}: the tangent formula reads '{name}', which is no "
                        "input, output, parameter or shape of the op")
    return parameter.default


def _ones(context: _Context, index: int):
    data = context.output(index)
    data = data._data if isinstance(data, Tensor) else data
    ones = np.ones(np.shape(data), np.asarray(data).dtype)
    return ones if context.on_arrays else Tensor._make(ones)


def _formula_values(context: _Context, reads: tuple, grad, grads) -> list:
    values = []
    for read in reads:
        if read == "grad":
            values.append(grad)
        elif read == "grads":
            values.append(grads)
        else:
            values.append(context.value(read))
    return values


def _element_wise(context: _Context):
    """Σ_i derivative_i(grad = t_i broadcast to the output): J is diagonal."""
    shape = np.shape(context.output(0))
    total = None
    for position, tangent in enumerate(context.tangents):
        entry = context.node_class._derivative_table[position]
        if tangent is None or entry is None:
            continue
        formula, reads = entry
        grad = context.tangent(position)
        if np.shape(grad) != shape:
            grad = np.broadcast_to(grad, shape) if context.on_arrays else _math.expand(grad, shape)
        term = formula(*_formula_values(context, reads, grad, (grad,)))
        total = term if total is None else total + term
    return total


def _reduction(context: _Context):
    """Σ_i reduce(derivative_i(grad = ones) · t_i) over the op's reduced dims, per output."""
    node_class = context.node_class
    outputs = getattr(node_class, "outputs", ("result",))
    skipped = set(getattr(node_class, "non_differentiable_outputs", ()))
    results = []
    for index in range(len(outputs)):
        if index in skipped:
            results.append(None)
            continue
        ones = _ones(context, index)
        grads = tuple(ones if other == index else _math.zeros_like(_ones(context, other))
                      for other in range(len(outputs)))
        total = None
        for position, tangent in enumerate(context.tangents):
            entry = node_class._derivative_table[position]
            if tangent is None or entry is None:
                continue
            formula, reads = entry
            term = formula(*_formula_values(context, reads, ones, grads)) * context.tangent(position)
            term = _reduce_to(term, np.shape(ones), context.params)
            total = term if total is None else total + term
        results.append(total)
    return results[0] if len(results) == 1 else tuple(results)


def _reduce_to(value, shape: tuple, params: dict):
    """`value` (the input's shape) summed over the dims the op reduced, to `shape`."""
    value_shape = np.shape(value)
    if value_shape == shape:
        return value
    if len(shape) == len(value_shape) or not shape:
        return _math.sum_to_size(value, shape)
    dims = params.get("dims")
    if dims is None:
        dims = params.get("dim")
    if dims is None:
        return _math.reshape(_math.sum_to_size(value, ()), shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    kept = list(value_shape)
    for dim in dims:
        kept[dim % len(value_shape)] = 1
    return _math.reshape(_math.sum_to_size(value, tuple(kept)), shape)


def _transposed(apply, node_class, inputs, tangents, params, outputs):
    """J·v as the vector-Jacobian product of the backward: d/du <J^T u, v> at u = 0."""
    from .._creation import zeros_like
    from ..autograd import grad as autograd_grad

    if _state.hooked and (has_tangent(inputs) or has_tangent([t for t in tangents if t is not None])):
        raise NotImplementedError(
            f"Trying to use forward AD over forward AD with {_op_name(node_class)}, whose tangent "
            "is the transpose of its backward, which cannot carry the tangents of an outer level."
        )
    with grad_mode.enable_grad():
        primals = [
            value.detach().requires_grad_() if _is_floating_tensor(value) else value
            for value in inputs
        ]
        produced = apply(node_class, *primals, **params)
        produced = produced if type(produced) is tuple else (produced,)
        positions = [index for index, each in enumerate(produced) if each._requires_grad]
        cotangents = [zeros_like(produced[index]).requires_grad_() for index in positions]
        wanted = [position for position, tangent in enumerate(tangents) if tangent is not None]
        vjps = autograd_grad([produced[index] for index in positions],
                             [primals[position] for position in wanted], cotangents,
                             create_graph=True, allow_unused=True)
        total = None
        for vjp, position in zip(vjps, wanted):
            if vjp is not None:
                term = (vjp * tangents[position].detach()).sum()
                total = term if total is None else total + term
        if total is None:
            jvps = [None] * len(cotangents)
        else:
            jvps = autograd_grad(total, cotangents, allow_unused=True)
    results = [None] * len(produced)
    for index, jvp in zip(positions, jvps):
        results[index] = jvp.detach() if jvp is not None else zeros_like(produced[index]).detach()
    return results[0] if len(results) == 1 else tuple(results)


def _attach(outputs, computed, level: int = 0) -> None:
    """Give each differentiable output its tangent (of its shape and dtype) at `level`."""
    if type(outputs) is not tuple:
        outputs, computed = (outputs,), (computed,)
    elif type(computed) is not tuple and not isinstance(computed, list):
        computed = (computed,) + (None,) * (len(outputs) - 1)
    for output, tangent in zip(outputs, computed):
        if tangent is None or not isinstance(output, Tensor) or output._data.dtype.kind not in "fc":
            continue
        if not isinstance(tangent, Tensor):
            tangent = Tensor._make(np.asarray(tangent))
        data = tangent._data
        as_tensor = (tangent._requires_grad or _is_batched(tangent) or _is_batched(output)
                     or _state.hooked)  # a nested level: the tangent carries the lower ones
        if data.shape != output._data.shape:
            tangent = _math.expand(tangent, output._data.shape) if as_tensor else \
                Tensor._make(np.broadcast_to(data, output._data.shape).copy())
        if tangent._data.dtype != output._data.dtype:
            tangent = tangent.to(output.dtype) if as_tensor else \
                Tensor._make(tangent._data.astype(output._data.dtype))
        set_tangent(output, tangent, level)
        _keep_saved_output_tangent(output)


def _keep_saved_output_tangent(output: Tensor) -> None:
    """A node that saved this output keeps the Tensor itself (with its tangent), so a backward
    through it computes the tangent of the gradient (forward-over-reverse)."""
    node = output.grad_fn
    saved = getattr(node, "_saved", None) if node is not None else None
    if not saved:
        return
    counter = output._version_counter
    node._saved = tuple(output if _is_saved_output_of(value, counter) else value for value in saved)


def _is_saved_output_of(value, counter) -> bool:
    """Whether `value` is a saved output record (Note [Saved records] in autograd/graph.py) on the
    version counter `counter` (a saved shape or number never holds a counter)."""
    return type(value) is tuple and len(value) == 4 and value[1] is counter


def take_tangent(target: Tensor, result: Tensor) -> None:
    """An in-place op wrote `result` into `target`: target's tangent becomes result's, written
    into target's own tangent where it has one (so views of it see the change), and into its
    base's tangent when target is a view (a base without one gets zeros first), as PyTorch.
    The tangents of nested levels (Note [Dual tensors]) are taken over as they are."""
    for level in tangent_levels(result):
        if 0 < level <= _state.cap:
            set_tangent(target, tangent_at(result, level), level)
    tangent = getattr(result, "_fw_grad", None)
    if tangent is None:
        return
    if has_tangent((tangent,)):  # a tangent with tangents of its own: no copy into place
        set_tangent(target, tangent)
        return
    existing = getattr(target, "_fw_grad", None)
    if (existing is not None and existing._data.flags.writeable and not existing._requires_grad
            and not tangent._requires_grad):
        np.copyto(existing._data, tangent._data, casting="unsafe")
        existing._bump_version()
    else:
        set_tangent(target, tangent)
        existing = tangent
    base = target._base
    if base is None or tangent._requires_grad:
        return
    base_tangent = getattr(base, "_fw_grad", None)
    if base_tangent is None:
        base_tangent = Tensor._make(np.zeros(base._data.shape, base._data.dtype))
        set_tangent(base, base_tangent)
    if base_tangent._data.flags.writeable and not np.shares_memory(base_tangent._data, existing._data):
        from ._inplace import view_positions

        positions = view_positions(base._data, target._data)
        np.put(base_tangent._data, positions, existing._data.astype(base_tangent._data.dtype))
        base_tangent._bump_version()


class LinearWith:
    """LINEAR for an affine op: the constant it writes (a keyword parameter) is 0 in the
    tangent (`masked_fill(x, mask, 2.0)` has tangent `masked_fill(t, mask, 0)`)."""

    __slots__ = ("params",)

    def __init__(self, **params):
        self.params = params

    def __repr__(self) -> str:
        return LINEAR


class MultilinearPlus:
    """MULTILINEAR, plus one input that is only added (addmm's `self`, a convolution's bias):
    its term is the op with its tangent and zero factors, the others have it zero."""

    __slots__ = ("added",)

    def __init__(self, added: int):
        self.added = added

    def __repr__(self) -> str:
        return MULTILINEAR
