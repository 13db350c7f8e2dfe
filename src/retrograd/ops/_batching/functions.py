"""Batching rules for matrix products and in-place ops, and the function-level rules of ops that
compute on arrays before (or without) `apply`."""

from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor
from ..._vmap_state import vmap_state
from .tensor import (
    _RULES,
    BatchedTensor,
    _lazy_ops,
    _logical_rank,
    _result,
    _union,
    _view,
    levels_of,
    loop_over_examples,
    physical_at,
    register_batched_method,
    warn_fallback,
    wrap,
)

# ---------------------------------------------------------------------------
# Rules: matrix products


def _register_linalg() -> None:
    from .. import linalg

    for name in ("DotBackward0", "VdotBackward0", "MvBackward0", "MmBackward0", "BmmBackward0",
                 "_MatrixProduct"):
        node_class = getattr(linalg, name, None)
        if node_class is not None:
            _RULES[node_class] = _matmul_rule
    for name in ("AddmmBackward0", "AddmvBackward0", "BaddbmmBackward0"):
        node_class = getattr(linalg, name, None)
        if node_class is not None:
            _RULES[node_class] = _addmm_rule


def batched_matmul(a, b, levels):
    """The logical a @ b (NumPy's matmul rules) as physical calls, for batched a and/or b."""
    matmul = _lazy_ops().linalg.matmul
    shape_ops = _lazy_ops().shape
    rank_a, rank_b = _logical_rank(a), _logical_rank(b)
    a_batched, b_batched = type(a) is BatchedTensor, type(b) is BatchedTensor
    if rank_a == 1 and rank_b == 1:
        if not b_batched:
            return wrap(matmul(physical_at(a, levels), b), levels)
        if not a_batched:
            return wrap(matmul(physical_at(b, levels), a), levels)
        product = physical_at(a, levels) * physical_at(b, levels)
        return wrap(_lazy_ops().reduce.sum(product, -1), levels)
    if rank_b == 1:
        if not b_batched:
            return wrap(matmul(physical_at(a, levels), b), levels)
        column = shape_ops.unsqueeze(physical_at(b, levels, rank_a - 1), -1)
        a_physical = physical_at(a, levels) if a_batched else a
        return wrap(shape_ops.squeeze(matmul(a_physical, column), -1), levels)
    if rank_a == 1:
        row = shape_ops.unsqueeze(physical_at(a, levels, rank_b - 1) if a_batched else a, -2)
        b_physical = physical_at(b, levels) if b_batched else b
        return wrap(shape_ops.squeeze(matmul(row, b_physical), -2), levels)
    rank = max(rank_a, rank_b)
    a_physical = physical_at(a, levels, rank) if a_batched else a
    b_physical = physical_at(b, levels, rank) if b_batched else b
    if not a_batched and rank_a < rank:
        a_physical = _view(a, (1,) * (rank - rank_a) + tuple(a.shape))
    if not b_batched and rank_b < rank:
        b_physical = _view(b, (1,) * (rank - rank_b) + tuple(b.shape))
    return wrap(matmul(a_physical, b_physical), levels)


def _matmul_rule(node_class, inputs, params, levels):
    return batched_matmul(inputs[0], inputs[1], levels)


def _addmm_rule(node_class, inputs, params, levels):
    bias, first, second = inputs
    beta, alpha = params.get("beta", 1), params.get("alpha", 1)
    if type(first) is BatchedTensor or type(second) is BatchedTensor:
        product = batched_matmul(first, second, levels)
    else:
        product = _lazy_ops().linalg.matmul(first, second)
    if alpha != 1:
        product = product * alpha
    if bias is None or (beta == 0):
        return product
    return product + (bias if beta == 1 else bias * beta)


# ---------------------------------------------------------------------------
# In-place ops


def any_batched(target, args) -> bool:
    if type(target) is BatchedTensor:
        return True
    return any(type(value) is BatchedTensor for value in args)


def in_place(run_in_place, target, function, args, kwargs, cast, fills=False):
    """An in-place op where the target or an argument is batched: the op runs batched and
    its physical result is written into the target's physical tensor (a target that is not
    batched cannot take a batched result: PyTorch's shape error)."""
    levels = _union((target, *args))
    target_levels = levels_of(target)
    physical_target = target._physical if type(target) is BatchedTensor else target

    def physical_function(snapshot, *physical_args, **physical_kwargs):
        logical = function(wrap(snapshot, target_levels), *args, **kwargs)
        if type(logical) is not BatchedTensor:
            return logical
        if set(logical._levels) <= set(target_levels):
            return physical_at(logical, target_levels, expand=True)
        return physical_at(logical, levels, expand=True)

    run_in_place(physical_target, physical_function, cast=cast, fills=fills)
    if type(target) is BatchedTensor:
        target.grad_fn = physical_target.grad_fn
        target._requires_grad = physical_target._requires_grad
        target._output_nr = physical_target._output_nr
    return target


# ---------------------------------------------------------------------------
# Function-level rules: ops that compute on arrays before (or without) `apply`


def batched_function(op_name: str, function):
    """`function` with its batching rule consulted inside vmap (ops in FUNCTION_RULES only:
    every other op is batched at `apply`)."""
    found = FUNCTION_RULES[op_name]

    def dispatch(*args, **kwargs):
        if vmap_state.depth:
            levels = _union(args)
            if kwargs:
                levels = tuple(sorted(set(levels).union(_union(kwargs.values()))))
            if levels:
                return found(function, args, kwargs, levels)
        return function(*args, **kwargs)

    dispatch.__name__ = dispatch.__qualname__ = function.__name__
    dispatch.__doc__ = function.__doc__
    dispatch.__module__ = function.__module__
    dispatch.__wrapped__ = function
    return dispatch


def _function_elementwise(function, args, kwargs, levels):
    values = list(args) + list(kwargs.values())
    rank = max(_logical_rank(value) for value in values)
    physical_args = [physical_at(value, levels, rank) if type(value) is BatchedTensor else value
                     for value in args]
    physical_kwargs = {key: physical_at(value, levels, rank) if type(value) is BatchedTensor
                       else value for key, value in kwargs.items()}
    return _result(function(*physical_args, **physical_kwargs), levels)


def _argument(args, kwargs, position: int, name: str, default):
    if len(args) > position:
        return args[position]
    return kwargs.get(name, default)


def _with_argument(args, kwargs, position: int, name: str, value):
    if len(args) > position:
        args = (*args[:position], value, *args[position + 1:])
    else:
        kwargs = dict(kwargs, **{name: value})
    return args, kwargs


def _function_dim(position: int, default, flatten_none: bool):
    """A rule for a one-input op whose `dim` argument (at `position`) names a logical dim;
    None means every dim (flattened first, when `flatten_none`)."""

    def rule(function, args, kwargs, levels):
        from ..shape import wrap_dim

        value = args[0]
        if type(value) is not BatchedTensor or any(type(item) is BatchedTensor for item in args[1:]):
            return _function_fallback(function, args, kwargs, levels)
        count = len(levels)
        physical = physical_at(value, levels)
        rank = _logical_rank(value)
        dim = _argument(args, kwargs, position, "dim", default)
        if dim is None:
            if not flatten_none:
                return _function_fallback(function, args, kwargs, levels)
            keepdim = bool(kwargs.get("keepdim", args[2] if len(args) > 2 else False))
            batch = physical._data.shape[:count]
            flat = _view(physical, (*batch, -1))
            args, kwargs = _with_argument((flat, *tuple(args[1:])), kwargs, position, "dim", count)
            if "keepdim" in kwargs or len(args) > 2:
                args, kwargs = _with_argument(args, kwargs, 2, "keepdim", False)
            result = function(*args, **kwargs)
            if keepdim:
                result = _view(result, batch + (1,) * rank)
            return _result(result, levels)
        if isinstance(dim, tuple | list):
            shifted = tuple(wrap_dim(d, max(rank, 1)) + count for d in dim)
        else:
            shifted = wrap_dim(dim, max(rank, 1)) + count
        if rank == 0:
            return _function_fallback(function, args, kwargs, levels)
        args, kwargs = _with_argument((physical, *tuple(args[1:])), kwargs, position, "dim", shifted)
        return _result(function(*args, **kwargs), levels)

    return rule


def _function_fallback(function, args, kwargs, levels):
    warn_fallback(f"retrograd::{function.__name__}")
    return loop_over_examples(function, args, kwargs, levels)


def _own_storage(function, args, kwargs, levels):
    """An op that reads the storage (as_strided, as_strided_scatter): each example runs on a
    copy of its own, so a window's storage offset counts from the example's first element, as
    in PyTorch's vmap
    (where `vmap(lambda v: v.as_strided(size, stride, 1))(x)` starts every window at v[1])."""

    def on_its_own_storage(input, *rest, **options):
        return function(input.clone(), *rest, **options)

    on_its_own_storage.__name__ = function.__name__
    return loop_over_examples(on_its_own_storage, args, kwargs, levels)


def _dynamic_shape(function, args, kwargs, levels):
    raise RuntimeError(
        "vmap: We do not support batching operators that can output dynamic shape. Attempted to "
        f"vmap over retrograd::{function.__name__}. Please voice your support in "
        "https://github.com/pytorch/functorch/issues/256"
    )


def _gather_rule(function, args, kwargs, levels):
    from ..shape import wrap_dim

    value = args[0]
    dim = _argument(args, kwargs, 1, "dim", None)
    index = _argument(args, kwargs, 2, "index", None)
    if kwargs.get("sparse_grad") or dim is None or index is None:
        return _function_fallback(function, args, kwargs, levels)
    rank = _logical_rank(value)
    if rank == 0:
        return _function_fallback(function, args, kwargs, levels)
    physical = physical_at(value, levels, expand=True)
    physical_index = physical_at(index, levels, expand=True)
    return _result(function(physical, wrap_dim(dim, rank) + len(levels), physical_index), levels)


def _index_select_rule(function, args, kwargs, levels):
    from ..shape import wrap_dim

    value = args[0]
    dim = _argument(args, kwargs, 1, "dim", None)
    index = _argument(args, kwargs, 2, "index", None)
    if type(index) is BatchedTensor or type(value) is not BatchedTensor or _logical_rank(value) == 0:
        return _function_fallback(function, args, kwargs, levels)
    physical = physical_at(value, levels)
    return _result(function(physical, wrap_dim(dim, _logical_rank(value)) + len(levels), index),
                   levels)


def _one_hot_rule(function, args, kwargs, levels):
    num_classes = _argument(args, kwargs, 1, "num_classes", -1)
    if num_classes == -1:
        return _function_fallback(function, args, kwargs, levels)
    return _result(function(physical_at(args[0], levels), num_classes), levels)


def _class_loss_rule(function, args, kwargs, levels):
    """nll_loss and cross_entropy (class indices or class probabilities as targets, label
    smoothing): the examples' rows are flattened into the loss's own batch dim, the loss taken
    unreduced, and reduced per example."""
    import inspect

    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = bound.arguments
    input, target = arguments["input"], arguments["target"]
    weight, reduction = arguments.get("weight"), arguments.get("reduction", "mean")
    smoothing = arguments.get("label_smoothing", 0.0)
    if (arguments.get("size_average") is not None or arguments.get("reduce") is not None
            or type(weight) is BatchedTensor or not isinstance(target, Tensor)
            or _logical_rank(input) == 0):
        return _function_fallback(function, args, kwargs, levels)
    probabilities = target.dtype.is_floating_point
    count = len(levels)
    physical_input = physical_at(input, levels, expand=True)
    physical_target = physical_at(target, levels, expand=True)
    batch = tuple(physical_input._data.shape[:count])
    rank = _logical_rank(input)
    flat_input = _view(physical_input, (-1, *physical_input._data.shape[count + (rank > 1):]))
    target_rows = physical_target._data.shape[count + (rank > 1):]
    flat_target = _view(physical_target, (-1, *target_rows))
    options = {"weight": weight, "ignore_index": arguments.get("ignore_index", -100),
               "reduction": "none"}
    if "label_smoothing" in arguments:
        options["label_smoothing"] = smoothing
    losses = function(flat_input, flat_target, **options)
    loss_shape = physical_input._data.shape[count:count + 1] if rank > 1 else ()
    losses = _view(losses, batch + tuple(loss_shape) + tuple(losses._data.shape[1:]))
    if reduction == "none":
        return wrap(losses, levels)
    dims = tuple(range(count, losses._data.ndim))
    reduce = _lazy_ops().reduce

    def summed(value):
        return reduce.sum(value, dims) if dims else value

    if reduction == "sum":
        return wrap(summed(losses), levels)
    if probabilities:
        return wrap(reduce.mean(losses, dims) if dims else losses, levels)
    # the mean over the targets that count, each weighing its class's weight
    kept = physical_target != options["ignore_index"]
    if weight is not None:
        from ..pointwise import where

        counts = where(kept, weight[where(kept, physical_target, 0)], 0.0)
    else:
        counts = kept.to(losses.dtype)
    return wrap(summed(losses) / summed(counts), levels)


def _getitem(self, key):
    """`x[key]` on a batched tensor: basic keys and plain index tensors (one group of advanced
    indices) are one physical indexing; batched index tensors go to their rule (more_functions);
    other keys take the logical call, batched by the rules of its nodes."""
    from ..index import getitem

    if not vmap_state.depth:
        return getitem(self, key)
    items = key if type(key) is tuple else (key,)
    advanced = [position for position, item in enumerate(items)
                if isinstance(item, Tensor | list | np.ndarray)]
    batched_key = any(type(item) is BatchedTensor for item in items)
    if batched_key:
        from .more_functions import _getitem_function

        return _getitem_function(getitem, (self, key), {}, _union((self, *items)))
    if any(isinstance(item, bool) for item in items):
        return getitem(self, key)
    if advanced:
        integers = [position for position, item in enumerate(items)
                    if isinstance(item, int | np.integer)]
        group = sorted(advanced + integers)
        if group != list(range(group[0], group[-1] + 1)):
            return getitem(self, key)
    levels = self._levels
    physical = self._physical
    return wrap(getitem(physical, (slice(None),) * len(levels) + tuple(items)), levels)


register_batched_method("__getitem__", _getitem, __name__)


_ELEMENTWISE_FUNCTIONS = (
    "eq", "ne", "lt", "le", "gt", "ge", "isclose", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "bitwise_not",
    "floor_divide", "signbit", "heaviside", "copysign", "gcd", "lcm", "ldexp", "nextafter",
    "frexp", "isreal",
)

FUNCTION_RULES: dict = dict.fromkeys(_ELEMENTWISE_FUNCTIONS, _function_elementwise)
FUNCTION_RULES.update({
    "argmax": _function_dim(1, None, True),
    "argmin": _function_dim(1, None, True),
    "all": _function_dim(1, None, True),
    "any": _function_dim(1, None, True),
    "count_nonzero": _function_dim(1, None, True),
    "argsort": _function_dim(1, -1, False),
    "logcumsumexp": _function_dim(1, None, False),
    "gather": _gather_rule,
    "index_select": _index_select_rule,
    "one_hot": _one_hot_rule,
    "nll_loss": _class_loss_rule,
    "cross_entropy": _class_loss_rule,
    "nonzero": _dynamic_shape,
    "argwhere": _dynamic_shape,
    "bincount": _dynamic_shape,
    "histc": _function_fallback,
    # quantile reads its sorted values (NaNs, ranks) before gathering; PyTorch's vmap has no
    # rule for it either and loops, with the same warning.
    "quantile": _function_fallback,
    "nanquantile": _function_fallback,
    "as_strided": _own_storage,
    "as_strided_scatter": _own_storage,
})


def _einsum_rule(function, args, kwargs, levels):
    """einsum: each batch level becomes one more subscript, on the batched operands and the
    output (one contraction of the physical tensors, composed as the logical one)."""
    from .. import linalg

    if kwargs or not args or not isinstance(args[0], str):
        return _function_fallback(function, args, kwargs, levels)
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    terms, output = linalg._parse_equation(equation, operands)
    used = [label for labels in [*terms, output] for label in labels if label is not None]
    first_new = 1 + max(used, default=51)  # (past the letters: 52 labels)
    batch_labels = list(range(first_new, first_new + len(levels)))
    physical = []
    labels = []
    for operand, operand_labels in zip(operands, terms):
        if type(operand) is BatchedTensor:
            physical.append(physical_at(operand, levels, expand=True))
            labels.append(batch_labels + list(operand_labels))
        else:
            physical.append(operand)
            labels.append(list(operand_labels))
    result = linalg._contracted(physical, labels, batch_labels + list(output))
    return wrap(result, levels)


FUNCTION_RULES["einsum"] = _einsum_rule


def _embedding_rule(function, args, kwargs, levels):
    """embedding: batched indices look up the same table; batched tables (vmap of grad, model
    ensembles) are stacked into one, each example's indices offset to its own rows."""
    import inspect

    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    indices, weight = arguments.pop("input"), arguments.pop("weight")
    if type(weight) is not BatchedTensor:
        return wrap(function(physical_at(indices, levels, expand=True), weight, **arguments), levels)
    if arguments["max_norm"] is not None:
        return _function_fallback(function, args, kwargs, levels)
    count = len(levels)
    table = physical_at(weight, levels, expand=True)
    padding_idx = arguments.pop("padding_idx")
    if padding_idx is not None:
        # the padding row of every example's table gets no gradient: read through detach()
        from ..pointwise import where

        rows = table._data.shape[count]
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding = np.zeros((rows, 1), dtype=bool)
        padding[padding_idx % rows] = True
        table = where(Tensor._make(padding), table.detach(), table)
    batch = tuple(table._data.shape[:count])
    rows = table._data.shape[count]
    physical_indices = physical_at(indices, levels, expand=True)
    from ..._creation import arange

    offsets = _view(arange(math.prod(batch)) * rows,
                    batch + (1,) * (physical_indices._data.ndim - count))
    flat_table = _view(table, (-1, *table._data.shape[count + 1:]))
    return wrap(function(physical_indices + offsets, flat_table, **arguments), levels)


FUNCTION_RULES["embedding"] = _embedding_rule
