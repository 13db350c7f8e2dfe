"""Forward-mode transforms: jvp, jacfwd, linearize.

A jvp runs `func` once on dual tensors (`autograd.forward_ad`): each input carries its
tangent, every op of the table carries it forward, and the outputs' tangents are J·v.
Inside vmap the primal and tangent are aligned on the same physical batch dims first (see
Note [Batched tensors]), so `jacfwd`, a vmap of jvp over the columns of the identity, is
one forward pass of batched tangents.

Each jvp opens a level of its own, so jvps nest (`jvp(jvp(f))`, `jacfwd(jacfwd(f))`,
forward over forward), as functorch's levels do, while a jvp inside a user's `dual_level()`
raises PyTorch's error (see Note [Dual tensors] in autograd/forward_ad.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ..ops._batching import levels_of, physical_at, wrap
from ._pytree import tree_flatten, tree_unflatten
from ._vmap import vmap

__all__ = ["jacfwd", "jvp", "linearize"]


def _check_jvp_arguments(primals, tangents):
    if not isinstance(primals, tuple):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid "
            "to call f(*primals)."
        )
    if not isinstance(tangents, tuple):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected tangents to be a tuple. E.g. it should be valid "
            "to call f(*primals)."
        )
    flat_primals, primals_spec = tree_flatten(primals)
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            "structure. For example, if primals is a tuple of 3 tensors, tangents also must be. "
            f"Got primals with structure {primals_spec} and tangents with structure {tangents_spec}"
        )
    for primal, tangent in zip(flat_primals, flat_tangents):
        if not isinstance(primal, Tensor) or not isinstance(tangent, Tensor):
            bad = primal if not isinstance(primal, Tensor) else tangent
            raise RuntimeError(
                "jvp(f, primals, tangents): Expected primals and tangents to only contain "
                f"Tensors, got unsupported type {type(bad)}"
            )
        if tuple(primal.shape) != tuple(tangent.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                "original Tensor, this is not supported. Tensor is of size "
                f"[{', '.join(map(str, primal.shape))}] while the given forward gradient is of size "
                f"[{', '.join(map(str, tangent.shape))}]."
            )
    return flat_primals, primals_spec, flat_tangents


def _forward_ad():
    from ..autograd import forward_ad

    return forward_ad


def jvp(func: Callable, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """`(func(*primals), J·tangents)` (`(output, jvp_out, aux)` with `has_aux`)."""
    flat_primals, primals_spec, flat_tangents = _check_jvp_arguments(primals, tangents)
    forward_ad = _forward_ad()
    from ._eager import _check_aux, _needs_graph, _Transform

    with _Transform():
        graph = _needs_graph(flat_primals) or any(t.requires_grad for t in flat_tangents)
        level = forward_ad._enter_transform_level()  # see Note [Dual tensors]: jvps nest
        try:
            duals = []
            for primal, tangent in zip(flat_primals, flat_tangents):
                levels = tuple(sorted(set(levels_of(primal)) | set(levels_of(tangent))))
                physical_primal = physical_at(primal, levels, expand=True)
                physical_tangent = physical_at(tangent, levels, expand=True)
                if physical_tangent.dtype != physical_primal.dtype:
                    physical_tangent = physical_tangent.to(physical_primal.dtype)
                duals.append(wrap(forward_ad._make_dual_at(physical_primal, physical_tangent, level),
                                  levels))
            output = func(*tree_unflatten(duals, primals_spec))
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError(
                        "jvp(f, primals, tangents): output of function f should be a tuple: "
                        "(output, aux) if has_aux is True"
                    )
                output, aux = output
                _check_aux(aux)
            flat_outputs, output_spec = tree_flatten(output)
            primal_outputs, tangent_outputs = [], []
            for value in flat_outputs:
                if not isinstance(value, Tensor):
                    raise RuntimeError(
                        "jvp(f, primals, tangents): Expected f(*primals) to return only tensors, "
                        f"got unsupported type {type(value)}"
                    )
                levels = levels_of(value)
                physical = value._physical if levels else value
                unpacked = forward_ad._unpack_at(physical, level)
                tangent = unpacked.tangent
                if tangent is None:
                    from .._creation import zeros_like

                    tangent = zeros_like(unpacked.primal)
                primal_outputs.append(wrap(unpacked.primal, levels))
                tangent_outputs.append(wrap(tangent, levels))
            if has_aux:
                aux = tree_unflatten([_primal_of(forward_ad, leaf, level)
                                      for leaf in tree_flatten(aux)[0]], tree_flatten(aux)[1])
        finally:
            forward_ad._exit_transform_level(level)
    result_primal = tree_unflatten(primal_outputs, output_spec)
    result_tangent = tree_unflatten(tangent_outputs, output_spec)
    if not graph:  # what still requires grad depends on a closure over such tensors: kept
        result_primal, result_tangent = _detach_plain(result_primal), _detach_plain(result_tangent)
        aux = _detach_plain(aux)
    if has_aux:
        return result_primal, result_tangent, aux
    return result_primal, result_tangent


def _detach_plain(tree):
    """`tree` with the tensors detached (dropping any tangent) unless they depend on a tensor
    that requires grad outside the transforms (a closure, see Note [Transforms on the
    physical graph])."""
    from ._eager import _keep_outside

    return _keep_outside(tree)


def _primal_of(forward_ad, value, level: int):
    levels = levels_of(value)
    physical = value._physical if levels else value
    return wrap(forward_ad._unpack_at(physical, level).primal, levels)


def jacfwd(func: Callable, argnums=0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """The Jacobian of `func` with respect to the inputs `argnums`, by forward mode."""
    from ._eager import _check_argnums

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        numbers = _check_argnums(argnums, len(args))
        chosen = tuple(args[number] for number in numbers)
        flat_inputs, inputs_spec = tree_flatten(chosen)
        for value in flat_inputs:
            if not isinstance(value, Tensor):
                raise ValueError(f"Thing passed to transform API must be Tensor, got {type(value)}")
        sizes = [value.numel() for value in flat_inputs]
        total = sum(sizes)

        def restricted(*flat):
            full = list(args)
            rebuilt = tree_unflatten(list(flat), inputs_spec)
            for number, value in zip(numbers, rebuilt):
                full[number] = value
            return func(*full, **kwargs)

        def push_forward(*basis_rows):
            result = jvp(restricted, tuple(flat_inputs), tuple(basis_rows), has_aux=has_aux)
            if has_aux:
                return result[1], result[2]
            return result[1]

        from .._creation import eye

        basis = eye(total, dtype=flat_inputs[0].dtype)
        rows = []
        offset = 0
        for value, size in zip(flat_inputs, sizes):
            rows.append(basis[:, offset:offset + size].reshape((total, *tuple(value.shape))))
            offset += size
        if has_aux:
            columns, aux = vmap(push_forward, randomness=randomness)(*rows)
            aux = tree_unflatten([leaf[0] for leaf in tree_flatten(aux)[0]], tree_flatten(aux)[1])
        else:
            columns = vmap(push_forward, randomness=randomness)(*rows)
        flat_columns, output_spec = tree_flatten(columns)
        blocks = []
        for column in flat_columns:
            out_shape = tuple(column.shape[1:])
            rank = len(out_shape)
            moved = column.movedim(0, -1) if rank else column
            per_input = []
            offset = 0
            for value, size in zip(flat_inputs, sizes):
                piece = moved[..., offset:offset + size] if len(flat_inputs) > 1 else moved
                per_input.append(piece.reshape(out_shape + tuple(value.shape)))
                offset += size
            grouped = tree_unflatten(per_input, inputs_spec)
            blocks.append(grouped[0] if isinstance(argnums, int) else grouped)
        jacobian = tree_unflatten(blocks, output_spec)
        if has_aux:
            return jacobian, aux
        return jacobian

    return wrapper


def linearize(func: Callable, *primals) -> tuple[Any, Callable]:
    """`(func(*primals), jvp_fn)`, where `jvp_fn(*tangents)` is J·tangents at `primals`."""
    output = func(*primals)
    output = tree_unflatten([value.detach() if isinstance(value, Tensor) else value
                             for value in tree_flatten(output)[0]], tree_flatten(output)[1])

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn
