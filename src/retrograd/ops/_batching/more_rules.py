"""Batching rules for the node classes of the index, scatter, product, whole-tensor
reduction and normalization ops (see Note [Batching rules] in __init__.py): each rewrites the
logical call as calls on the physical tensors, batch dims first, recorded as usual."""

from __future__ import annotations

import functools
import math

import numpy as np

from ..._tensor import Tensor
from .._math import index_array as _array  # an index or mask the node saves as a tensor
from .functions import batched_matmul
from .rules import _apply, _elementwise, _leading_dims_rule, _shift, _shifted
from .tensor import (
    BatchedTensor,
    _lazy_ops,
    _logical_rank,
    _result,
    _view,
    physical_at,
    wrap,
)

# ---------------------------------------------------------------------------
# Helpers


def _batch(physical: Tensor, levels: tuple) -> tuple:
    return tuple(physical._data.shape[:len(levels)])


def _is_batched(value) -> bool:
    return type(value) is BatchedTensor


def _expanded_to(value, levels: tuple, shape: tuple) -> Tensor:
    """`value` (batched or not) as a physical tensor of the batch sizes followed by the
    logical `shape` it broadcasts to."""
    physical = physical_at(value, levels, len(shape), expand=True)
    target = _batch(physical, levels) + tuple(shape)
    if tuple(physical._data.shape) == target:
        return physical
    return _lazy_ops().shape.expand(physical, target)


# ---------------------------------------------------------------------------
# Node rules: dims and keys shifted past the batch dims


def _rot90_rule(node_class, inputs, params, levels):
    return _shifted(node_class, inputs, params, levels, dims=_shift(params["dims"], len(levels)))


def _unfold_rule(node_class, inputs, params, levels):
    """Tensor.unfold along the example's `dimension` (as given: a negative one counts from the
    end, which the batch dims in front do not move); a 0-d example is one window of itself."""
    count, dimension = len(levels), params["dimension"]
    if _logical_rank(inputs[0]) == 0:
        physical = physical_at(inputs[0], levels, expand=True)
        batch = tuple(physical._data.shape)
        windows = _apply(node_class, _view(physical, (*batch, 1)), **dict(params, dimension=count))
        return wrap(_view(windows, (*batch, params["size"])), levels)
    return _shifted(node_class, inputs, params, levels,
                    dimension=dimension + count if dimension >= 0 else dimension)


def _trace_rule(node_class, inputs, params, levels):
    count = len(levels)
    ops = _lazy_ops()
    diagonal = ops.shape.diagonal(physical_at(inputs[0], levels), 0, count, count + 1)
    return wrap(ops.reduce.sum(diagonal, -1), levels)


def _index_dim_rule(node_class, inputs, params, levels):
    """index_add, index_copy, index_reduce, index_fill: whole slices along a dim, the index a plain
    array."""
    count = len(levels)
    if node_class.__name__ == "IndexFillBackward1":  # the value is a 0-d tensor
        target = physical_at(inputs[0], levels, expand=True)
        if not _is_batched(inputs[1]):
            return wrap(_apply(node_class, target, inputs[1],
                               **dict(params, dim=params["dim"] + count)), levels)
        # each example's value into its slices
        from .._math import index_fill
        from ..pointwise import where

        logical = tuple(target._data.shape[count:])
        mask = index_fill(np.zeros(logical, dtype=bool), params["dim"], _array(params["index"]), True)
        value = physical_at(inputs[1], levels, len(logical))
        return wrap(where(Tensor._make(mask), value, target), levels)
    return _shifted(node_class, inputs, params, levels, dim=params["dim"] + count)


def _scatter_rule(node_class, inputs, params, levels):
    """scatter, scatter_add, scatter_reduce: the index (a plain array) broadcast over the batch
    dims."""
    count = len(levels)
    physical = [physical_at(value, levels, expand=True) if isinstance(value, Tensor) else value
                for value in inputs]
    batch = _batch(physical[0], levels)
    index = _array(params["index"])
    index = np.broadcast_to(index, batch + tuple(index.shape))
    return _result(_apply(node_class, *physical, **dict(params, dim=params["dim"] + count,
                                                         index=index)), levels)


def _take_rule(node_class, inputs, params, levels):
    """take: each example's flat positions offset to its own row of the flattened batch."""
    physical = physical_at(inputs[0], levels, expand=True)
    batch = _batch(physical, levels)
    examples = math.prod(batch)
    size = math.prod(physical._data.shape[len(levels):])
    index = _array(params["index"])
    offsets = (np.arange(examples, dtype=np.int64) * size).reshape((examples,) + (1,) * index.ndim)
    out = _apply(node_class, physical, index=offsets + index)
    return wrap(_view(out, batch + tuple(index.shape)), levels)


def _masked_select_rule(node_class, inputs, params, levels):
    """masked_select by a plain mask: the same number of elements from every example."""
    mask = _array(params["mask"])
    shape = tuple(np.broadcast_shapes(tuple(inputs[0].shape), mask.shape))
    physical = _expanded_to(inputs[0], levels, shape)
    batch = _batch(physical, levels)
    full_mask = np.broadcast_to(mask, batch + shape)
    out = _apply(node_class, physical, mask=full_mask)
    selected = int(np.count_nonzero(np.broadcast_to(mask, shape)))
    return wrap(_view(out, (*batch, selected)), levels)


def _masked_scatter_rule(node_class, inputs, params, levels):
    """masked_scatter by a plain mask: every example takes the first k elements of its own
    source (k the mask's count), which in the flattened batch are in the order of the places."""
    target, source = inputs
    mask = _array(params["mask"])
    shape = tuple(np.broadcast_shapes(tuple(target.shape), mask.shape))
    physical = _expanded_to(target, levels, shape)
    batch = _batch(physical, levels)
    selected = int(np.count_nonzero(np.broadcast_to(mask, shape)))
    flat_source = physical_at(source, levels, expand=True)
    flat_source = _view(flat_source, (*batch, math.prod(tuple(source.shape))))
    used = _lazy_ops().shape.narrow(flat_source, len(levels), 0, selected)
    return wrap(_apply(node_class, physical, used, mask=np.broadcast_to(mask, batch + shape)), levels)


def _index_rule(node_class, inputs, params, levels):
    """x[advanced key]: the key gets a full slice per batch dim. When the key's arrays are
    not side by side NumPy puts their dims first, so the batch dims are moved back to the front."""
    count = len(levels)
    key = tuple(params["key"])
    arrays = [position for position, item in enumerate(key) if isinstance(item, np.ndarray)]
    out = _apply(node_class, physical_at(inputs[0], levels, expand=True),
                 key=(slice(None),) * count + key)
    if arrays and arrays != list(range(arrays[0], arrays[-1] + 1)):
        indexed = len(np.broadcast_shapes(*(key[position].shape for position in arrays)))
        out = _lazy_ops().shape.movedim(out, tuple(range(indexed, indexed + count)),
                                        tuple(range(count)))
    return wrap(out, levels)


# ---------------------------------------------------------------------------
# Node rules: products


def _plus_scaled(product, bias, beta, alpha):
    if alpha != 1:
        product = product * alpha
    if bias is None or beta == 0:
        return product
    return product + (bias if beta == 1 else bias * beta)


def _addbmm_rule(node_class, inputs, params, levels):
    """beta * input + alpha * (the sum over the batch of batch1 @ batch2), logically."""
    bias, first, second = inputs
    if _is_batched(first) or _is_batched(second):
        product = batched_matmul(first, second, levels)
    else:
        product = _lazy_ops().linalg.matmul(first, second)
    product = _lazy_ops().reduce.sum(product, 0)
    return _plus_scaled(product, bias, params.get("beta", 1), params.get("alpha", 1))


def _addr_rule(node_class, inputs, params, levels):
    """beta * input + alpha * outer(vec1, vec2), logically."""
    bias, first, second = inputs
    shape_ops = _lazy_ops().shape
    product = shape_ops.unsqueeze(first, -1) * second
    return _plus_scaled(product, bias, params.get("beta", 1), params.get("alpha", 1))


# ---------------------------------------------------------------------------
# Node rules: reductions over every element


def _median_all_rule(node_class, inputs, params, levels, op_name: str = "median"):
    """median() (and nanmedian()): the lower median of each example's flattened elements; the
    gradient is shared by the elements equal to it, as median()'s own (not given to one index
    only)."""
    count = len(levels)
    physical = physical_at(inputs[0], levels)
    batch = _batch(physical, levels)
    flat = _view(physical, (*batch, -1))
    ops = _lazy_ops()
    chosen = getattr(ops.reduce, op_name)(flat.detach(), count, keepdim=True).values
    data, picked = flat._data, chosen._data
    ties = (data == picked) | ((data != data) & (picked != picked))
    weights = Tensor._make((ties / ties.sum(-1, keepdims=True)).astype(data.dtype))
    # forward: the median itself (the chosen elements minus it are exact zeros, the others
    # are not used, so an infinity among them leaves no NaN)
    from ..pointwise import where

    difference = where(Tensor._make(ties), flat - chosen, 0.0)
    value = chosen + ops.reduce.sum(weights * difference, count, keepdim=True)
    return wrap(_view(value, batch), levels)


def _extreme_scalar(rule, name: str):
    """max() / min() of a 0-d example is the example (its amax / amin `name` over a dim of
    one, so that it has the same gradient); otherwise `rule`."""

    def extreme(node_class, inputs, params, levels):
        if _logical_rank(inputs[0]) == 0:
            physical = physical_at(inputs[0], levels)
            batch = _batch(physical, levels)
            reduced = getattr(_lazy_ops().reduce, name)(_view(physical, (*batch, 1)), len(levels))
            return wrap(reduced, levels)
        return rule(node_class, inputs, params, levels)

    return extreme


# ---------------------------------------------------------------------------
# Node rules: normalization


def _group_norm_rule(node_class, inputs, params, levels):
    """group_norm: the examples join the op's own batch dim; per-example weights (vmap of
    grad) are applied after, by the elementwise rules."""
    x, weight, bias = inputs
    physical = physical_at(x, levels, expand=True)
    batch = _batch(physical, levels)
    logical = tuple(physical._data.shape[len(levels):])
    flat = _view(physical, (-1, *logical[1:]))
    affine_batched = _is_batched(weight) or _is_batched(bias)
    out = _apply(node_class, flat, None if affine_batched else weight,
                 None if affine_batched else bias, **params)
    result = wrap(_view(out, batch + logical), levels)
    return _affine_after(result, weight, bias) if affine_batched else result


def _affine_after(result, weight, bias):
    """A normalization's per-channel (logical dim 1) weight and bias, applied to its result
    by the elementwise rules: the way per-example (batched) ones are applied."""
    channel_shape = (result.shape[1],) + (1,) * (result.ndim - 2)
    if weight is not None:
        result = result * weight.reshape(channel_shape)
    if bias is not None:
        result = result + bias.reshape(channel_shape)
    return result


def _cross_rule(node_class, inputs, params, levels):
    """linalg.cross: the dim counted from the end, so the batch dims just lead; both
    operands get them (the backward crosses each gradient with the other operand)."""
    rank = max(_logical_rank(value) for value in inputs)
    if params["dim"] >= 0:
        params = {**params, "dim": params["dim"] - rank}
    physical = [physical_at(value, levels, rank, expand=True) for value in inputs]
    return wrap(_apply(node_class, *physical, **params), levels)


def _value_fill_rule(node_class, inputs, params, levels):
    """fill_ and masked_fill by a 0-d tensor: a batched value (one per example) is selected
    into place, its gradient the sum over the places it went."""
    from ..pointwise import where

    target, value = inputs[0], inputs[1]
    if not _is_batched(value):
        return _elementwise(node_class, inputs, params, levels)
    rank = max(_logical_rank(target), _logical_rank(params.get("mask")))
    physical = physical_at(target, levels, rank, expand=True)
    value = physical_at(value, levels, rank).to(physical.dtype)
    mask = params.get("mask")
    if mask is None:
        mask = Tensor._make(np.ones((), dtype=bool))
    elif _is_batched(mask):
        mask = physical_at(mask, levels, rank)
    return wrap(where(mask, value, physical), levels)


def register_node_rules(rules: dict) -> None:
    """Add the rules of this module to `rules` (called once, with the op modules imported)."""
    from .. import fill, index, linalg, pointwise, reduce, shape
    from ..nn import _maps, conv, normalization, padding

    rules[shape.Rot90Backward0] = _rot90_rule
    rules[shape.rearrange.UnfoldBackward0] = _unfold_rule
    rules[linalg.TraceBackward0] = _trace_rule
    rules[linalg.LinalgCrossBackward0] = _cross_rule
    rules[fill.FillBackward3] = rules[pointwise.MaskedFillBackward1] = _value_fill_rule
    rules[linalg.AddbmmBackward0] = _addbmm_rule
    rules[linalg.AddrBackward0] = _addr_rule
    for node_class in (index.IndexAddBackward0, index.IndexCopyBackward0, index.IndexReduceBackward0,
                       index.IndexFillBackward0, index.IndexFillBackward1):
        rules[node_class] = _index_dim_rule
    for node_class in (index.ScatterBackward0, index.ScatterBackward1, index.ScatterAddBackward0,
                       index.ScatterReduceBackward0):
        rules[node_class] = _scatter_rule
    rules[index.TakeBackward0] = _take_rule
    rules[index.MaskedSelectBackward0] = _masked_select_rule
    rules[index.MaskedScatterBackward0] = _masked_scatter_rule
    rules[index.IndexBackward0] = _index_rule
    rules[reduce.MedianBackward0] = _median_all_rule
    rules[reduce.NanmedianBackward0] = functools.partial(_median_all_rule, op_name="nanmedian")
    rules[reduce.MaxBackward1] = _extreme_scalar(rules[reduce.MaxBackward1], "amax")
    rules[reduce.MinBackward1] = _extreme_scalar(rules[reduce.MinBackward1], "amin")
    rules[normalization.NativeGroupNormBackward0] = _group_norm_rule
    # windows and padding over the last dims: every leading dim is alike
    for node_class in (_maps._WindowColumnsBackward, _maps._WindowSumBackward, conv.Im2ColBackward0,
                       conv.Col2ImBackward0, padding._IndexPadBackward):
        rules[node_class] = _leading_dims_rule


