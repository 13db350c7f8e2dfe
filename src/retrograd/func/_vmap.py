"""vmap: a function of one example, run on a whole batch at once.

Each call enters a vmap level; the mapped inputs become BatchedTensors over it, and every
op they meet runs its batching rule (see Note [Batched tensors] and Note [Batching rules]
in ops/_batching/): one call on the whole batch, not a loop.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ..ops import _batching
from ..ops._batching import BatchedTensor, pop_level, push_level, wrap
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")


def vmap(
    func: Callable,
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """`func` mapped over a dim of its inputs: `vmap(f)(x)[i] == f(x[i])`, computed at once.

    `in_dims` says which dim of each input is mapped (None: not mapped), as an int for all
    or a tree matching the inputs; `out_dims` where the mapped dim goes in each output.
    `randomness` says what random operations do inside: 'error' (they raise), 'different'
    (each example draws its own) or 'same' (one draw shared by the batch). `chunk_size`
    runs the batch in chunks of that many examples (less memory).

    >>> import retrograd
    >>> from retrograd.func import vmap
    >>> x = retrograd.tensor([[1., 2.], [3., 4.]])
    >>> vmap(retrograd.dot)(x, x)
    tensor([ 5., 25.])
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}"
        )
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return _vmap_call(func, in_dims, out_dims, randomness, chunk_size, args, kwargs)

    return wrapped


def _name(func) -> str:
    name = getattr(func, "__name__", None)
    return repr(func) if name is None else name


def _vmap_call(func, in_dims, out_dims, randomness, chunk_size, args, kwargs):
    name = _name(func)
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
            "trying to vmap over a function with no inputs. The latter is unsupported."
        )
    if not isinstance(in_dims, int | tuple) or isinstance(in_dims, bool):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
            f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = broadcast_prefix(in_dims, args) if isinstance(in_dims, tuple) else \
        [in_dims] * len(flat_args)
    if flat_in_dims is None:
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
            f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs "
            f"has structure {args_spec}."
        )
    batch_size = _batch_size(name, in_dims, flat_args, flat_in_dims)
    if chunk_size is not None and chunk_size < batch_size:
        return _chunked(func, flat_args, args_spec, flat_in_dims, out_dims, randomness,
                        chunk_size, batch_size, kwargs)
    return _run(func, flat_args, args_spec, flat_in_dims, out_dims, randomness, batch_size, kwargs)


def _batch_size(name, in_dims, flat_args, flat_in_dims) -> int:
    sizes = []
    for value, dim in zip(flat_args, flat_in_dims):
        if dim is None:
            continue
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input "
                "but in_dim must be either an integer dimension or None."
            )
        if not isinstance(value, Tensor):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input "
                f"but the input is of type {type(value)}. We cannot vmap over non-Tensor "
                "arguments, please use None as the respective in_dim"
            )
        rank = value.dim()
        if not -rank <= dim < rank:
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for some "
                f"input, but that input is a Tensor of dimensionality {rank} so expected in_dim "
                f"to satisfy -{rank} <= in_dim < {rank}."
            )
        sizes.append(value.shape[dim])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) != 1:
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{sizes} for the mapped dimension"
        )
    return sizes[0]


def _run(func, flat_args, args_spec, flat_in_dims, out_dims, randomness, batch_size, kwargs):
    level = push_level(batch_size, randomness)
    try:
        batched = [value if dim is None else _enter(value, dim, level.id)
                   for value, dim in zip(flat_args, flat_in_dims)]
        output = func(*tree_unflatten(batched, args_spec), **kwargs)
        return _leave_all(func, output, out_dims, level.id, batch_size)
    finally:
        pop_level(level)


def _enter(value: Tensor, dim: int, level_id: int) -> Tensor:
    """`value` batched over a new level along its logical `dim`."""
    movedim = _batching._lazy_ops().shape.movedim
    if type(value) is BatchedTensor:
        count = len(value._levels)
        dim = dim % value.dim() + count
        physical = value._physical if dim == count else movedim(value._physical, dim, count)
        return wrap(physical, (*value._levels, level_id))
    dim %= value.dim()
    return wrap(value if dim == 0 else movedim(value, dim, 0), (level_id,))


def _leave_all(func, output, out_dims, level_id: int, batch_size: int):
    name = _name(func)
    flat_outputs, spec = tree_flatten(output)
    if out_dims is None or (isinstance(out_dims, int) and not isinstance(out_dims, bool)):
        flat_out_dims = [out_dims] * len(flat_outputs)
    elif isinstance(out_dims, tuple | list):
        flat_out_dims = broadcast_prefix(tuple(out_dims) if isinstance(output, tuple) else out_dims,
                                          output)
        if flat_out_dims is None and isinstance(out_dims, tuple) and len(out_dims) == 1 \
                and not isinstance(output, tuple | list):
            flat_out_dims = [out_dims[0]] * len(flat_outputs)
        if flat_out_dims is None:
            raise ValueError(
                f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
                f"the structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} "
                f"but outputs has structure {spec}."
            )
    else:
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
            "collection of ints representing where in the outputs the vmapped dimension should "
            "appear."
        )
    results = []
    for value, dim in zip(flat_outputs, flat_out_dims):
        results.append(_leave(name, value, dim, level_id, batch_size))
    return tree_unflatten(results, spec)


def _leave(name: str, value, dim, level_id: int, batch_size: int):
    """The output `value` of the function with the batch of `level_id` placed at `dim`."""
    if dim is None:
        if type(value) is BatchedTensor and level_id in value._levels:
            raise ValueError(
                f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None"
            )
        return value
    if not isinstance(value, Tensor):
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(value)}. Did you "
            "mean to set out_dims= to None for output?"
        )
    from ..ops.shape import wrap_dim

    ops = _batching._lazy_ops().shape
    if not isinstance(dim, numbers.Integral):
        raise ValueError(
            f"vmap({name}, ..., out_dims={dim}): `out_dims` must be an int, None or a python "
            "collection of ints representing where in the outputs the vmapped dimension should "
            "appear."
        )
    dim = wrap_dim(dim, value.dim() + 1)
    if type(value) is BatchedTensor and level_id in value._levels:
        levels = value._levels
        position = levels.index(level_id)
        rest = levels[:position] + levels[position + 1:]
        target = len(rest) + dim
        physical = value._physical
        if position != target:
            physical = ops.movedim(physical, position, target)
        return wrap(physical, rest)
    expanded = ops.unsqueeze(value, dim)
    shape = list(expanded.shape)
    shape[dim] = batch_size
    return ops.expand(expanded, tuple(shape))


def _chunked(func, flat_args, args_spec, flat_in_dims, out_dims, randomness, chunk_size,
             batch_size, kwargs):
    ops = _batching._lazy_ops().shape
    starts = range(0, batch_size, chunk_size)
    outputs = []
    for start in starts:
        length = min(chunk_size, batch_size - start)
        chunk = [value if dim is None else ops.narrow(value, dim, start, length)
                 for value, dim in zip(flat_args, flat_in_dims)]
        outputs.append(_run(func, chunk, args_spec, flat_in_dims, out_dims, randomness, length,
                            kwargs))
    flat_first, spec = tree_flatten(outputs[0])
    flat_chunks = [tree_flatten(output)[0] for output in outputs]
    if out_dims is None or isinstance(out_dims, int):
        flat_out_dims = [out_dims] * len(flat_first)
    else:
        flat_out_dims = broadcast_prefix(tuple(out_dims) if isinstance(outputs[0], tuple)
                                         else out_dims, outputs[0])
    joined = []
    for position, dim in enumerate(flat_out_dims):
        pieces = [chunk[position] for chunk in flat_chunks]
        joined.append(pieces[0] if dim is None else ops.cat(pieces, dim))
    return tree_unflatten(joined, spec)
