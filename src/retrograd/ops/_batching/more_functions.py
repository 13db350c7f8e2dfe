"""Batching rules of the ops that read values before `apply` (see FUNCTION_RULES in
functions.py): masked_select, batch_norm, instance_norm, prelu, take_along_dim, index_put, slice_scatter,
the element-wise losses, and the index ops given per-example (batched) indices."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from ..._tensor import Tensor
from .functions import FUNCTION_RULES, _function_fallback, _index_select_rule
from .more_rules import _affine_after, _batch, _expanded_to, _is_batched
from .rules import _apply
from .tensor import (
    _lazy_ops,
    _logical_rank,
    _view,
    physical_at,
    register_batched_method,
    vmap_state,
    wrap,
)


def _examples_flattened(value, levels: tuple):
    """`value`'s physical tensor with its batch dims (expanded to every level) merged into one
    leading dim of examples, and the batch dims' sizes."""
    physical = physical_at(value, levels, expand=True)
    batch = _batch(physical, levels)
    return _view(physical, (math.prod(batch), *physical._data.shape[len(levels):])), batch


def _arguments(function, args, kwargs) -> dict:
    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _masked_select_function(function, args, kwargs, levels):
    arguments = _arguments(function, args, kwargs)
    if _is_batched(arguments["mask"]):
        raise RuntimeError(
            "vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot "
            "support this because for each batch this would return a differently shaped Tensor. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues if you need this "
            "feature."
        )
    return function(*args, **kwargs)


_BATCH_NORM_RUNNING_STATS = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which will "
    "be updated in place, were not batched.\nIf you are using a module and do not need eval mode, "
    "please set `track_running_stats` to be False.If you are using a prebuilt module and do not "
    "need eval mode, please see the functorch website for resources on how to patch your module "
    "to work with vmap"
)


def _batch_norm_function(function, args, kwargs, levels):
    """batch_norm: each example's statistics. In training the examples become more channels
    (statistics per example and channel over the op's batch and spatial dims); in evaluation
    they join the op's batch dim."""
    arguments = _arguments(function, args, kwargs)
    input = arguments["input"]
    running = (arguments["running_mean"], arguments["running_var"])
    training = arguments["training"]
    if training and _is_batched(input) and any(value is not None and not _is_batched(value)
                                               for value in running):
        raise RuntimeError(_BATCH_NORM_RUNNING_STATS)
    if not _is_batched(input) or any(_is_batched(value) for value in running) \
            or _logical_rank(input) < 2:
        return _function_fallback(function, args, kwargs, levels)
    weight, bias = arguments["weight"], arguments["bias"]
    affine_batched = _is_batched(weight) or _is_batched(bias)
    options = {"momentum": arguments["momentum"], "eps": arguments["eps"]}
    shape_ops = _lazy_ops().shape
    count = len(levels)
    physical = physical_at(input, levels)
    batch = _batch(physical, levels)
    logical = tuple(physical._data.shape[count:])
    examples = math.prod(batch)
    rows, channels, spatial = logical[0], logical[1], logical[2:]
    if not training:
        flat = _view(physical, (-1, *logical[1:]))
        out = function(flat, running[0], running[1], None if affine_batched else weight,
                       None if affine_batched else bias, False, **options)
        result = wrap(_view(out, batch + logical), levels)
    else:
        grouped = shape_ops.movedim(_view(physical, (examples, *logical)), 0, 1)
        grouped = shape_ops.reshape(grouped, (rows, examples * channels, *spatial))

        def tiled(value):
            if value is None or affine_batched:
                return None
            return _view(shape_ops.expand(value, (examples, channels)), (examples * channels,))

        out = function(grouped, None, None, tiled(weight), tiled(bias), True, **options)
        out = shape_ops.movedim(_view(out, (rows, examples, channels, *spatial)), 1, 0)
        result = wrap(_view(out, batch + logical), levels)
    return _affine_after(result, weight, bias) if affine_batched else result


def _instance_norm_function(function, args, kwargs, levels):
    """instance_norm: running statistics it updates in place must be batched when the input is
    (PyTorch's batch_norm error); batched statistics loop over the examples."""
    arguments = _arguments(function, args, kwargs)
    running = (arguments["running_mean"], arguments["running_var"])
    if not arguments["use_input_stats"] or all(value is None for value in running):
        return function(*args, **kwargs)
    if _is_batched(arguments["input"]) and any(value is not None and not _is_batched(value)
                                               for value in running):
        raise RuntimeError(_BATCH_NORM_RUNNING_STATS)
    return _function_fallback(function, args, kwargs, levels)


def _prelu_function(function, args, kwargs, levels):
    """prelu: input where positive, weight * input elsewhere, the slopes along logical dim 1."""
    from .._table import apply
    from ..nn.activation import PreluKernelBackward0

    arguments = _arguments(function, args, kwargs)
    input, weight = arguments["input"], arguments["weight"]
    channels = weight.numel()
    rank = _logical_rank(input)
    if channels != 1 and (rank < 2 or input.shape[1] != channels):
        return function(*args, **kwargs)  # PyTorch's error, from the logical shapes
    shape = (channels,) + (1,) * (rank - 2) if channels != 1 else ()
    slopes = weight.reshape(shape)
    physical = physical_at(input, levels, rank)
    slopes = physical_at(slopes, levels, rank) if _is_batched(slopes) else slopes
    return wrap(apply(PreluKernelBackward0, physical, slopes), levels)


def _take_along_dim_function(function, args, kwargs, levels):
    """take_along_dim by batched indices (plain ones decompose into gather's rule)."""
    from .. import index
    from ..shape import wrap_dim

    arguments = _arguments(function, args, kwargs)
    input, indices, dim = arguments["input"], arguments["indices"], arguments["dim"]
    if not _is_batched(indices):
        return function(*args, **kwargs)
    if dim is None:
        input, indices, dim = input.reshape(-1), indices.reshape(-1), 0
    if _logical_rank(input) != _logical_rank(indices):
        return function(input, indices, dim)  # PyTorch's error
    dim = wrap_dim(dim, _logical_rank(input))
    size = input.shape[dim]
    physical = indices._physical
    indices = wrap(_non_negative(physical, size), indices._levels)
    input_shape, indices_shape = list(input.shape), list(indices.shape)
    input_shape[dim] = indices_shape[dim] = 1
    common = list(np.broadcast_shapes(tuple(input_shape), tuple(indices_shape)))
    input_shape, indices_shape = list(common), list(common)
    input_shape[dim], indices_shape[dim] = input.shape[dim], indices.shape[dim]
    return index.gather(input.expand(input_shape), dim, indices.expand(indices_shape))


def _index_put_function(function, args, kwargs, levels):
    """index_put: plain indices are batched by the rule of its node (see _copy_slices_rule).
    Per-example (batched) index tensors: one more index, the example's number, leads the key
    on the flattened batch, and the values are laid out as that key's region (NumPy puts the
    indexed dims first when the example numbers are apart from the index tensors)."""
    from .. import index as index_ops
    from ..index.subscript import _check_indices, _Key
    from ..shape import AliasBackward0

    arguments = _arguments(function, args, kwargs)
    input, indices, values = arguments["input"], arguments["indices"], arguments["values"]
    if not isinstance(indices, tuple | list) or not any(_is_batched(item) for item in indices):
        return function(*args, **kwargs)
    simple = all(item is None or (isinstance(item, Tensor) and item.dtype.name in ("int64", "int32"))
                 for item in indices)
    if not simple or not isinstance(values, Tensor) or values.dtype is not input.dtype \
            or len(indices) > _logical_rank(input):
        return _function_fallback(function, args, kwargs, levels)
    count = len(levels)
    flat, batch = _examples_flattened(input, levels)
    examples, logical = flat._data.shape[0], tuple(flat._data.shape[1:])
    arrays = [position for position, item in enumerate(indices) if item is not None]
    indexed = len(np.broadcast_shapes(*(tuple(indices[position].shape) for position in arrays)))
    key = [np.arange(examples, dtype=np.int64).reshape((examples,) + (1,) * indexed)]
    for dim, item in enumerate(indices):
        if item is None:
            key.append(slice(None))
            continue
        array = physical_at(item, levels, indexed, expand=True)._data if _is_batched(item) \
            else item._data
        if _is_batched(item):
            array = array.reshape((examples, *array.shape[count:]))
        key.append(_check_indices(array.astype(np.int64, copy=False), logical[dim], dim))
    region_rank = indexed + len(logical) - len(arrays)  # the indexed dims, then the others
    physical_values = physical_at(values, levels, region_rank, expand=_is_batched(values))
    physical_values = _view(physical_values, (-1, *tuple(physical_values._data.shape[count:])))
    side_by_side = arrays == list(range(arrays[0], arrays[-1] + 1))
    if side_by_side and arrays[0] > 0:
        physical_values = _lazy_ops().shape.movedim(
            physical_values, tuple(range(1 + arrays[0], 1 + arrays[0] + indexed)),
            tuple(range(1, 1 + indexed)))
    node_key = _Key((Ellipsis,), (*key, Ellipsis), AliasBackward0)
    out = _apply(index_ops.IndexPutBackward0, flat, physical_values, key=node_key,
                 accumulate=arguments["accumulate"])
    return wrap(_view(out, batch + logical), levels)


def _slice_scatter_function(function, args, kwargs, levels):
    """slice_scatter: the same slice of every example, written on the physical tensors."""
    from ..shape import wrap_dim

    arguments = _arguments(function, args, kwargs)
    input, src = arguments["input"], arguments["src"]
    count = len(levels)
    rank = _logical_rank(input)
    key = [slice(None)] * (count + rank)
    key[count + wrap_dim(arguments["dim"], rank)] = slice(arguments["start"], arguments["end"],
                                                         arguments["step"])
    result = physical_at(input, levels, expand=True).clone()
    result[tuple(key)] = physical_at(src, levels, _logical_rank(src)) if _is_batched(src) else src
    return wrap(result, levels)


# How many dims fewer than the inputs an argument of a loss has (cosine_embedding_loss's
# target has one per row of its inputs).
_LOSS_RANK_OFFSETS = {
    "cosine_embedding_loss": {"target": 1},
}


def _unreduced_loss_function(function, args, kwargs, levels):
    """A loss computed element by element (binary cross entropy, kl_div, the Poisson and
    Gaussian likelihoods, the embedding and margin losses): the op with reduction='none' on the
    physical tensors, then each example's mean or sum ('batchmean': over its first dim's size)."""
    arguments = _arguments(function, args, kwargs)
    name = function.__name__
    if arguments.get("size_average") is not None or arguments.get("reduce") is not None:
        return _function_fallback(function, args, kwargs, levels)
    reduction = arguments["reduction"]
    if reduction not in ("none", "mean", "sum") and not (name == "kl_div" and reduction == "batchmean"):
        return function(*args, **kwargs)  # the op's own error
    first = next(value for value in arguments.values() if isinstance(value, Tensor))
    if name == "kl_div" and reduction == "mean":
        from ..nn.loss import _KL_MEAN_WARNING

        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=3)
    if name == "gaussian_nll_loss":
        var = arguments["var"]
        if isinstance(var, Tensor) and tuple(var.shape) != tuple(arguments["input"].shape) \
                and tuple(arguments["input"].shape[:-1]) == tuple(var.shape):
            arguments["var"] = var.unsqueeze(-1)
    offsets = _LOSS_RANK_OFFSETS.get(name, {})
    tensors = {key: value for key, value in arguments.items() if isinstance(value, Tensor)}
    rank = max(_logical_rank(value) + offsets.get(key, 0) for key, value in tensors.items())
    for key, value in tensors.items():
        arguments[key] = physical_at(value, levels, rank - offsets.get(key, 0), expand=True)
    arguments["reduction"] = "none"
    losses = function(**arguments)
    if reduction == "none":
        return wrap(losses, levels)
    count = len(levels)
    dims = tuple(range(count, losses._data.ndim))
    reduce = _lazy_ops().reduce
    if reduction == "mean":
        reduced = reduce.mean(losses, dims) if dims else losses
    else:
        reduced = reduce.sum(losses, dims) if dims else losses
    if reduction == "batchmean" and _logical_rank(first) > 0:
        reduced = reduced / first.shape[0]
    return wrap(reduced, levels)


FUNCTION_RULES.update({
    "masked_select": _masked_select_function,
    "batch_norm": _batch_norm_function,
    "instance_norm": _instance_norm_function,
    "prelu": _prelu_function,
    "take_along_dim": _take_along_dim_function,
    "index_put": _index_put_function,
    "slice_scatter": _slice_scatter_function,
    **dict.fromkeys(("binary_cross_entropy", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
                     "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss"),
                    _unreduced_loss_function),
})


# Batched integer indices (per-example positions): the index ops read their values before
# `apply`, so these rules run on the physical index tensors, which are ordinary tensors.


def _index_batched(value) -> bool:
    return _is_batched(value) and not value.dtype.is_floating_point


def _scatter_function(function, args, kwargs, levels):
    """scatter, scatter_add and scatter_reduce by a batched index: the op on the physical tensors, the dim
    shifted (the index is as big as the examples' region, so every example has its own)."""
    from ..shape import wrap_dim

    arguments = _arguments(function, args, kwargs)
    if not _index_batched(arguments["index"]):
        return function(*args, **kwargs)
    input = arguments.pop("input")
    rank = _logical_rank(input)
    count = len(levels)
    dim = wrap_dim(arguments.pop("dim"), max(rank, 1)) + count
    index = physical_at(arguments.pop("index"), levels, expand=True)
    physical = physical_at(input, levels, expand=True)
    rest = {key: physical_at(value, levels, expand=True) if isinstance(value, Tensor) else value
            for key, value in arguments.items()}
    return wrap(function(physical, dim, index, **rest), levels)


def _along_dim_index(index: Tensor, dim: int, like: Tensor, levels: tuple) -> Tensor:
    """A batched vector index (one per example) spread over `like`'s other dims, as the
    element-wise index of scatter/gather along `dim` (physical)."""
    count = len(levels)
    physical = physical_at(index, levels, expand=True)
    batch = _batch(physical, levels)
    target = list(like._data.shape)
    shape = [1] * (len(target) - count)
    shape[dim - count] = physical._data.shape[count] if physical._data.ndim > count else 1
    spread = _view(physical, batch + tuple(shape))
    target[dim] = shape[dim - count]
    return _lazy_ops().shape.expand(spread, tuple(target))


def _non_negative(positions: Tensor, size: int) -> Tensor:
    """Integer positions with the negative ones counted from the end of `size`."""
    return positions + (positions < 0).to(positions.dtype) * size


def _along_dim_operands(arguments: dict, levels: tuple, negative_allowed: bool):
    """For an index_* op by a batched vector index: the physical input, the physical dim and
    the index's physical positions (non-negative); None when the loop must run, for the
    shapes, or for a negative position where the op refuses one (the loop raises its error)."""
    from ..shape import wrap_dim

    input, index = arguments["input"], arguments["index"]
    rank = _logical_rank(input)
    if rank == 0 or _logical_rank(index) > 1:
        return None
    dim = wrap_dim(arguments["dim"], rank) + len(levels)
    physical = physical_at(input, levels, expand=True)
    positions = physical_at(index, levels, expand=True)
    if not negative_allowed and (positions._data < 0).any():
        return None
    return physical, dim, _non_negative(positions, physical._data.shape[dim])


def _index_dim_function(function, args, kwargs, levels):
    """index_add, index_copy, index_fill by a batched index: the slices become elements of
    scatter_add / scatter along the same dim (the index repeated along the other dims)."""
    from .. import index as index_ops

    arguments = _arguments(function, args, kwargs)
    if not _index_batched(arguments["index"]):
        return function(*args, **kwargs)
    # index_fill is the one of them that takes negative positions (as PyTorch's)
    operands = _along_dim_operands(arguments, levels, function.__name__ == "index_fill")
    if operands is None:
        return _function_fallback(function, args, kwargs, levels)
    physical, dim, index_physical = operands
    rank = _logical_rank(arguments["input"])
    name = function.__name__
    if name == "index_fill":
        # the filled places as a mask (each once, however often the index names them)
        from ..pointwise import where

        positions = _along_dim_index(wrap(index_physical, levels), dim, physical, levels)
        mask = np.zeros(physical._data.shape, dtype=bool)
        np.put_along_axis(mask, positions._data, True, axis=dim)
        value = arguments["value"]
        if _is_batched(value):
            value = physical_at(value, levels, rank)
        if isinstance(value, Tensor):
            value = value.to(physical.dtype)
        return wrap(where(Tensor._make(mask), value, physical), levels)
    source = physical_at(arguments["source"], levels, rank, expand=True)
    source = _lazy_ops().shape.expand(source, _source_shape(source, physical, dim))
    positions = _along_dim_index(wrap(index_physical, levels), dim, source, levels)
    if name == "index_add":
        alpha = arguments["alpha"]
        if alpha != 1:
            source = source * alpha
        return wrap(index_ops.scatter_add(physical, dim, positions, source), levels)
    if name == "index_reduce":
        return wrap(index_ops.scatter_reduce(physical, dim, positions, source, arguments["reduce"],
                                             include_self=arguments["include_self"]), levels)
    return wrap(index_ops.scatter(physical, dim, positions, source), levels)


def _source_shape(source: Tensor, physical: Tensor, dim: int) -> tuple:
    """The shape of the source slices: `physical`'s, with `source`'s size along `dim`."""
    shape = list(physical._data.shape)
    shape[dim] = source._data.shape[dim]
    return tuple(shape)


def _take_function(function, args, kwargs, levels):
    """take by batched flat positions: each example's offset to its own row of the batch."""
    arguments = _arguments(function, args, kwargs)
    index = arguments["index"]
    if not _index_batched(index):
        return function(*args, **kwargs)
    input = arguments["input"]
    count = len(levels)
    physical = physical_at(input, levels, expand=True)
    batch = _batch(physical, levels)
    size = math.prod(tuple(input.shape))
    positions = physical_at(index, levels, expand=True)
    values = positions._data
    bad = (values < -size) | (values >= size)
    if bad.any():
        raise IndexError(
            f"out of range: tried to access index {values[bad].flat[0]} on a tensor of {size} elements."
        )
    positions = _non_negative(positions, size)
    offsets = Tensor._make((np.arange(math.prod(batch), dtype=np.int64) * size).reshape(
        batch + (1,) * (positions._data.ndim - count)))
    return wrap(function(physical, positions + offsets), levels)


def _put_function(function, args, kwargs, levels):
    """put: each example's flat positions offset to its own row of the flattened batch, and
    the sources one after the other, so one put on the physical tensor writes them all."""
    arguments = _arguments(function, args, kwargs)
    input, index, source = arguments["input"], arguments["index"], arguments["source"]
    if not any(_is_batched(value) for value in (input, index, source)):
        return function(*args, **kwargs)
    len(levels)
    physical = physical_at(input, levels, expand=True)
    batch = _batch(physical, levels)
    examples = math.prod(batch)
    size = math.prod(tuple(input.shape))
    if _is_batched(index):
        positions = physical_at(index, levels, expand=True)._data
    else:
        positions = np.broadcast_to(index._data, batch + tuple(index._data.shape))
    positions = positions.reshape(examples, -1)
    bad = (positions < -size) | (positions >= size)
    if bad.any():
        raise IndexError(
            f"out of range: tried to access index {positions[bad].flat[0]} on a tensor of {size} elements.")
    flat = np.where(positions < 0, positions + size, positions) + np.arange(examples)[:, None] * size
    if _is_batched(source):
        values = physical_at(source, levels, expand=True)
    else:
        values = _lazy_ops().shape.expand(source, batch + tuple(source.shape))
    values = values.reshape(-1)
    return wrap(function(physical, Tensor._make(flat.reshape(-1).astype(np.int64)), values,
                         accumulate=arguments["accumulate"]), levels)


def _index_select_function(function, args, kwargs, levels):
    """index_select by a batched vector index: gather along the dim with the index spread
    over the other dims."""
    from .. import index as index_ops

    arguments = _arguments(function, args, kwargs)
    if not _index_batched(arguments["index"]):
        return _index_select_rule(function, args, kwargs, levels)
    operands = _along_dim_operands(arguments, levels, negative_allowed=False)
    if operands is None:
        return _function_fallback(function, args, kwargs, levels)
    physical, dim, positions = operands
    spread = _along_dim_index(wrap(positions, levels), dim, physical, levels)
    return wrap(index_ops.gather(physical, dim, spread), levels)


def _repeats_fallback(function, args, kwargs, levels):
    """repeat_interleave by batched repeats: each example's result may have its own size; a
    loop, as PyTorch's."""
    arguments = _arguments(function, args, kwargs)
    if _is_batched(arguments.get("repeats")):
        return _function_fallback(function, args, kwargs, levels)
    return function(*args, **kwargs)


FUNCTION_RULES.update({
    "scatter": _scatter_function,
    "scatter_add": _scatter_function,
    "scatter_reduce": _scatter_function,
    "index_add": _index_dim_function,
    "index_copy": _index_dim_function,
    "index_reduce": _index_dim_function,
    "put": _put_function,
    "index_fill": _index_dim_function,
    "take": _take_function,
    "index_select": _index_select_function,
    "repeat_interleave": _repeats_fallback,
})


_BOOL_MASK = (
    "vmap: We do not support batching operators that can support dynamic shape. Attempting to "
    "batch over indexing with a boolean mask."
)


def _getitem_function(function, args, kwargs, levels):
    """x[key] with batched integer index tensors: one more index, the example's number, leads
    the key on the flattened batch; the indexed dims are then put where the logical call puts
    them. A batched bool mask is refused, as PyTorch refuses it (each example would select
    its own number of elements)."""
    input, key = args[0], args[1] if len(args) > 1 else kwargs["key"]
    items = key if type(key) is tuple else (key,)
    if not any(_is_batched(item) for item in items):
        return function(*args, **kwargs)
    if any(_is_batched(item) and item.dtype.name == "bool" for item in items):
        raise RuntimeError(_BOOL_MASK)
    simple = all(isinstance(item, slice) or (isinstance(item, Tensor) and item.dtype.name != "bool")
                 for item in items)
    if not simple:
        # ints, None and ... first, as the basic part of the key (see Note [Two-step
        # indexing]); then the index tensors, with a full slice for every dim left
        basic, rest = [], []
        for item in items:
            if isinstance(item, Tensor) and item.dtype.name != "bool":
                basic.append(slice(None))
                rest.append(item)
            elif item is None or isinstance(item, slice):
                basic.append(item)
                rest.append(slice(None))
            elif item is Ellipsis:
                basic.append(item)
                rest.append(item)
            elif isinstance(item, int | np.integer) and not isinstance(item, bool):
                basic.append(item)
            else:
                return _function_fallback(function, args, kwargs, levels)
        viewed = input[tuple(basic)]
        if Ellipsis in rest:
            position = rest.index(Ellipsis)
            rest[position:position + 1] = [slice(None)] * (viewed.dim() - len(rest) + 1)
        return _getitem_function(function, (viewed, tuple(rest)), {}, levels)
    if len(items) > _logical_rank(input):
        return _function_fallback(function, args, kwargs, levels)
    count = len(levels)
    flat, batch = _examples_flattened(input, levels)
    examples = flat._data.shape[0]
    arrays = [position for position, item in enumerate(items) if isinstance(item, Tensor)]
    indexed = len(np.broadcast_shapes(*(tuple(items[position].shape) for position in arrays)))
    rows = Tensor._make(np.arange(examples, dtype=np.int64).reshape((examples,) + (1,) * indexed))
    physical_key = [rows]
    for item in items:
        if _is_batched(item):
            item = physical_at(item, levels, indexed, expand=True)
            item = _view(item, (examples, *tuple(item._data.shape[count:])))
        physical_key.append(item)
    out = function(flat, tuple(physical_key))
    side_by_side = arrays == list(range(arrays[0], arrays[-1] + 1))
    if side_by_side and arrays[0] > 0:
        # NumPy put the indexed dims first (the example numbers are apart from the arrays)
        out = _lazy_ops().shape.movedim(out, tuple(range(1, 1 + indexed)),
                                        tuple(range(1 + arrays[0], 1 + arrays[0] + indexed)))
    return wrap(_view(out, batch + tuple(out._data.shape[1:])), levels)


def _masked_scatter_function(function, args, kwargs, levels):
    """masked_scatter by a batched mask: each example's places take its source's elements in
    order, the k-th place the k-th element (a gather by the running count of the mask)."""
    from .. import index as index_ops
    from ..pointwise import where

    arguments = _arguments(function, args, kwargs)
    input, mask, source = arguments["input"], arguments["mask"], arguments["source"]
    if not _is_batched(mask):
        return function(*args, **kwargs)
    if mask.dtype.name != "bool" or source.dtype is not input.dtype:
        return _function_fallback(function, args, kwargs, levels)
    shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    physical = _expanded_to(input, levels, shape)
    batch = _batch(physical, levels)
    examples = math.prod(batch)
    places = _expanded_to(mask, levels, shape)._data.reshape(examples, -1)
    available = math.prod(tuple(source.shape))
    if places.sum(-1).max(initial=0) > available:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    flat = _view(physical, (examples, -1))
    if available == 0:
        return wrap(physical, levels)
    order = np.maximum(np.cumsum(places, axis=-1) - 1, 0)
    elements = _view(physical_at(source, levels, expand=True), (examples, available))
    if elements._data.shape[0] != examples:
        elements = _lazy_ops().shape.expand(elements, (examples, available))
    taken = index_ops.gather(elements, 1, Tensor._make(order.astype(np.int64)))
    result = where(Tensor._make(places), taken, flat)
    return wrap(_view(result, batch + shape), levels)


FUNCTION_RULES.update({
    "__getitem__": _getitem_function,
    "masked_scatter": _masked_scatter_function,
})


def _setitem(self, key, value) -> None:
    """`x[key] = value` on a batched tensor by per-example index tensors (with full slices and
    `...`): index_put_, batched by its rule. A per-example bool mask is refused, as PyTorch
    refuses it; other keys take Tensor's own path."""
    from ..._tensor import Tensor as PlainTensor

    items = key if type(key) is tuple else (key,)
    if vmap_state.depth and any(_is_batched(item) for item in items):
        value_tensor = value if isinstance(value, Tensor) else \
            Tensor._make(np.asarray(value, dtype=self._data.dtype))
        if value_tensor.dtype is not self.dtype:
            value_tensor = value_tensor.to(self.dtype)
        if any(_is_batched(item) and item.dtype.name == "bool" for item in items):
            raise RuntimeError(_BOOL_MASK)
        indices = []
        for item in items:
            if item is Ellipsis:
                indices += [None] * (self.dim() - len(items) + 1)
            elif isinstance(item, slice) and item == slice(None):
                indices.append(None)
            elif isinstance(item, Tensor) and item.dtype.name in ("int64", "int32"):
                indices.append(item)
            else:
                break
        else:
            self.index_put_(tuple(indices), value_tensor)
            return
    PlainTensor.__setitem__(self, key, value)


register_batched_method("__setitem__", _setitem, __name__)
