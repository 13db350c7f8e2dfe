"""The differentiating transforms: grad, grad_and_value, vjp, jacrev, jvp, jacfwd, linearize,
hessian.

Note [Transforms on the physical graph]
    A transform differentiates through the ordinary autograd graph. It gives `func` fresh
    differentiable aliases of the inputs (`x.view_as(x)` when x already requires grad, so
    an outer transform or plain autograd still sees through; a detached copy that requires
    grad otherwise) and asks `autograd.grad` for the gradients of exactly those aliases, so
    nothing is accumulated into `.grad` and nested transforms never confuse their inputs.

    Inside vmap the graph is built on physical tensors (Note [Batched tensors]). The
    gradient of a batched output's physical tensor, with ones as its cotangent, is every
    example's gradient at once, because examples do not interact. An input that is not
    batched (a model's parameters under `vmap(grad(loss), in_dims=(None, 0))`) would have
    its gradient summed over the batch by the engine; so it is expanded first to every
    active level, and the gradient is taken with respect to the expanded tensor: one
    gradient per example.

    A transform nested inside another (grad of grad, jacrev of jacrev) or applied to inputs
    that require grad runs its backward with create_graph=True, so the outer one can
    differentiate the result; at the top level it does not (faster, and results are plain
    tensors, as PyTorch's are).

    At the top level, `func` may still close over tensors that require grad (a model's
    weight `w` in `grad(lambda x: (x * w).sin().sum())(x)`). PyTorch's levels keep the
    result's dependence on such a tensor: `g.sum().backward()` fills `w.grad`. So after
    `func` runs, its output's graph is walked (`_reaches_outside`): if it reaches a tensor
    that requires grad and is none of the transform's own leaves, the backward runs with
    create_graph=True, and each result (gradient, value, aux) keeps its graph when it
    depends on such a tensor and is detached otherwise. The graph it keeps also leads to the
    transform's private leaves, where an outer backward accumulates into nothing anyone
    reads.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.graph import AccumulateGrad
from ..ops import _batching
from ..ops._batching import BatchedTensor, levels_of, physical_at, vmap_state, wrap
from ._pytree import tree_flatten, tree_unflatten
from ._vmap import vmap

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize", "vjp"]


class _Depth(threading.local):
    """Per thread, as PyTorch's functorch interpreter stack is thread-local."""

    def __init__(self):
        self.value = 0


_transforms = _Depth()  # how many differentiating transforms this thread is running


class _Transform:
    """Counts the running transforms and turns grad mode on inside (a transform differentiates
    even under an outer no_grad, as PyTorch's do)."""

    def __enter__(self):
        self.outer = _transforms.value > 0
        _transforms.value += 1
        self.mode = grad_mode.enable_grad()
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)
        _transforms.value -= 1
        return False


# ---------------------------------------------------------------------------
# Inputs and outputs


class _Input:
    """One differentiated input: what `func` sees, and the physical tensor differentiated."""

    __slots__ = ("leaf", "levels", "logical", "target")

    def __init__(self, value: Tensor, api: str = "transform"):
        if not isinstance(value, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(value)}")
        if not value.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        levels = levels_of(value)
        physical = value._physical if levels else value
        self.leaf = None
        if physical.requires_grad:
            alias = physical.view_as(physical)  # a view: keeps the graph and any tangent
        else:
            alias = self.leaf = physical.detach().requires_grad_()
            _mark_private(alias)
            # forward over reverse: the tangents (of every level) ride along
            alias = _forward_ad().carry_tangents(physical, alias)
        active = tuple(level.id for level in vmap_state.levels)
        if active and levels != active:
            # see Note [Transforms on the physical graph]: one gradient per example
            alias = physical_at(wrap(alias, levels) if levels else alias, active, expand=True)
            levels = active
        self.target = alias
        self.levels = levels
        self.logical = wrap(alias, levels)


_private_leaves: dict = {}  # id -> weak reference, for every transform's own leaves


def _mark_private(leaf: Tensor) -> None:
    key = id(leaf)

    def forget(_reference, key=key):
        if _private_leaves.get(key) is _reference:
            del _private_leaves[key]

    _private_leaves[key] = weakref.ref(leaf, forget)


def _is_private(leaf: Tensor) -> bool:
    reference = _private_leaves.get(id(leaf))
    return reference is not None and reference() is leaf


def _reaches_outside(value, inputs=None) -> bool:
    """Whether `value`'s graph leads to a tensor that requires grad and is no transform's own
    leaf: a closure over such a tensor (see the Note above). Asked at the top level only, where
    the private leaves met are this transform's or those of transforms run inside it."""
    if not isinstance(value, Tensor):
        return False
    physical = value._physical if type(value) is BatchedTensor else value
    if not physical.requires_grad:
        return False
    root = physical.grad_fn
    if root is None:
        return not _is_private(physical)
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        if type(node) is AccumulateGrad:
            if not _is_private(node.variable):
                return True
            continue
        for next_node in node:
            if next_node is not None and next_node not in seen:
                seen.add(next_node)
                stack.append(next_node)
    return False


def _keep_outside(tree, inputs=None):
    """`tree` with each tensor detached unless it depends on a tensor outside the transform."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([leaf.detach() if isinstance(leaf, Tensor) and not _reaches_outside(leaf, inputs)
                           else leaf for leaf in leaves], spec)


def _physical(value: Tensor) -> tuple[Tensor, tuple]:
    if type(value) is BatchedTensor:
        return value._physical, value._levels
    return value, ()


def _needs_graph(flat_inputs) -> bool:
    if _transforms.value > 1:
        return True
    return any(isinstance(value, Tensor) and (value.requires_grad or _has_tangent(value))
               for value in flat_inputs)


def _has_tangent(value: Tensor) -> bool:
    physical = value._physical if type(value) is BatchedTensor else value
    return _forward_ad().has_tangent((physical,))


_FORWARD_AD: list = []


def _forward_ad():
    """autograd.forward_ad (looked up once)."""
    if not _FORWARD_AD:
        from ..autograd import forward_ad

        _FORWARD_AD.append(forward_ad)
    return _FORWARD_AD[0]


def _detach_tree(tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([leaf.detach() if isinstance(leaf, Tensor) else leaf for leaf in leaves], spec)


def _check_argnums(argnums, count: int) -> tuple[int, ...]:
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        numbers = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(n, int) and not isinstance(n, bool)
                                            for n in argnums):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        numbers = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    wrapped = []
    for number in numbers:
        if not -count <= number < count:
            raise RuntimeError(f"Got argnum={number}, but only {count} positional inputs")
        wrapped.append(number % count)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(wrapped)


def _zeros_like(tensor: Tensor) -> Tensor:
    from .._creation import zeros_like

    return zeros_like(tensor)


def _gradients(outputs, cotangents, inputs: list[_Input], create_graph: bool,
               retain_graph: bool) -> list[Tensor]:
    """The gradients (logical, batched where the inputs are) of `outputs` with `cotangents`
    for each of `inputs`: one backward pass on the physical graph. Cotangents batched over
    levels the outputs are not (vmap over a vjp_fn, jacrev's basis) become a batched
    backward (`is_grads_batched`)."""
    output_levels = set()
    for output in outputs:
        output_levels.update(levels_of(output))
    extra = set()
    for cotangent in cotangents:
        extra.update(set(levels_of(cotangent)) - output_levels)
    extra = tuple(sorted(extra))
    physical_outputs = []
    grad_outputs = []
    for output, cotangent in zip(outputs, cotangents):
        physical, levels = _physical(output)
        if not physical.requires_grad:
            continue
        physical_outputs.append(physical)
        if not extra:
            grad_outputs.append(physical_at(cotangent, levels, expand=True))
        else:
            grad_outputs.append(_extra_first(cotangent, extra, levels))
    targets = [item.target for item in inputs]
    if not physical_outputs:
        found = [None] * len(targets)
    else:
        found = autograd.grad(physical_outputs, targets, grad_outputs, retain_graph=retain_graph,
                              create_graph=create_graph, allow_unused=True,
                              is_grads_batched=bool(extra))
    results = []
    for item, gradient in zip(inputs, found):
        if not extra:
            if gradient is None:
                gradient = _zeros_like(item.target)
            results.append(wrap(gradient, item.levels))
            continue
        sizes = tuple(vmap_state.sizes[level] for level in extra)
        if gradient is None:
            from .._creation import zeros

            gradient = zeros(sizes + tuple(item.target.shape), dtype=item.target.dtype)
        else:
            gradient = gradient.reshape(sizes + tuple(item.target.shape))
        results.append(_sorted_levels(gradient, extra + item.levels))
    return results


def _extra_first(cotangent: Tensor, extra: tuple, levels: tuple) -> Tensor:
    """The cotangent's physical tensor laid out as (extra levels..., levels..., logical),
    expanded, with the extra levels flattened into one leading dim."""
    union = tuple(sorted(set(extra) | set(levels)))
    physical = physical_at(cotangent, union, expand=True)
    order = [union.index(level) for level in extra] + [union.index(level) for level in levels]
    if order != list(range(len(union))):
        order += list(range(len(union), physical.dim()))
        physical = physical.permute(*order)
    count = int(np.prod([vmap_state.sizes[level] for level in extra]))
    return physical.reshape((count, *tuple(physical.shape[len(extra):])))


def _sorted_levels(physical: Tensor, levels: tuple) -> Tensor:
    """A BatchedTensor from a physical tensor whose leading dims follow `levels` in any order."""
    ordered = tuple(sorted(levels))
    if ordered != levels:
        order = [levels.index(level) for level in ordered]
        order += list(range(len(levels), physical.dim()))
        physical = physical.permute(*order)
    return wrap(physical, ordered)


# ---------------------------------------------------------------------------
# grad and grad_and_value


def grad_and_value(func: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """`func`'s gradient with respect to the inputs `argnums`, and its value: a function
    returning `(gradient, value)` (`((gradient, (value, aux))` with `has_aux`)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs, "grad_and_value")

    return wrapper


def grad(func: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """`func`'s gradient with respect to the inputs `argnums` (`func` returns a 0-d tensor).

    >>> import retrograd
    >>> from retrograd.func import grad
    >>> grad(lambda x: (x ** 3).sum())(retrograd.tensor([1., 2.]))
    tensor([ 3., 12.])
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradients, value = _grad_and_value(func, argnums, has_aux, args, kwargs, "grad_and_value")
        if has_aux:
            return gradients, value[1]
        return gradients

    return wrapper


def _grad_and_value(func, argnums, has_aux, args, kwargs, name):
    numbers = _check_argnums(argnums, len(args))
    with _Transform():
        args = list(args)
        create_graph = _needs_graph([leaf for number in numbers for leaf in tree_flatten(args[number])[0]])
        specs = []
        inputs: list[_Input] = []
        for number in numbers:
            leaves, spec = tree_flatten(args[number])
            prepared = [_Input(leaf) for leaf in leaves]
            specs.append(spec)
            inputs.extend(prepared)
            args[number] = tree_unflatten([item.logical for item in prepared], spec)
        output = func(*args, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError(
                    f"{name}(f)(*args): output of function f should be a tuple: (output, aux) "
                    "if has_aux is True"
                )
            output, aux = output
            _check_aux(aux)
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{name}(f)(*args): Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(
                f"{name}(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with "
                f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
            )
        from .._creation import ones_like

        ones = wrap(ones_like(_physical(output)[0]), levels_of(output))
        outside = not create_graph and _reaches_outside(output, inputs)
        graph = create_graph or outside
        gradients = _gradients([output], [ones], inputs, graph, retain_graph=graph)
    if outside:  # a closure over tensors that require grad: see the Note
        gradients = _keep_outside(gradients, inputs)
        output = _keep_outside(output, inputs)
        aux = _keep_outside(aux, inputs)
    elif not create_graph:
        gradients = [gradient.detach() for gradient in gradients]
        output = output.detach()
        aux = _detach_tree(aux)
    grouped = []
    position = 0
    for spec in specs:
        count = spec.num_leaves
        grouped.append(tree_unflatten(gradients[position:position + count], spec))
        position += count
    result = grouped[0] if isinstance(argnums, int) else tuple(grouped)
    return result, ((output, aux) if has_aux else output)


def _check_aux(aux) -> None:
    for leaf in tree_flatten(aux)[0]:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")


# ---------------------------------------------------------------------------
# vjp


def vjp(func: Callable, *primals, has_aux: bool = False):
    """`func(*primals)` and a function `vjp_fn(cotangents)` returning the vector-Jacobian
    products (one per primal); `(output, vjp_fn, aux)` with `has_aux`."""
    with _Transform():
        flat_primals, primals_spec = tree_flatten(primals)
        create_graph = _needs_graph(flat_primals)
        inputs = [_Input(leaf) for leaf in flat_primals]
        output = func(*tree_unflatten([item.logical for item in inputs], primals_spec))
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError(
                    "vjp(f, *primals): output of function f should be a tuple: (output, aux) if "
                    "has_aux is True"
                )
            output, aux = output
            _check_aux(aux)
        flat_outputs, output_spec = tree_flatten(output)
        for leaf in flat_outputs:
            if not isinstance(leaf, Tensor):
                raise RuntimeError(
                    "vjp(f, *primals): expected f(*primals) to return only tensors, got "
                    f"unsupported type {type(leaf)}"
                )

    def vjp_fn(cotangents, *, retain_graph: bool = True, create_graph: bool | None = None):
        flat_cotangents, cotangent_spec = tree_flatten(cotangents)
        if cotangent_spec != output_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {_spec_text(cotangent_spec)}, primal "
                f"output: {_spec_text(output_spec)}"
            )
        for index, (cotangent, out) in enumerate(zip(flat_cotangents, flat_outputs)):
            if tuple(cotangent.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{index}] has a shape of "
                    f"{_torch_size(cotangent.shape)} and output[{index}] has a shape of "
                    f"{_torch_size(out.shape)}."
                )
        with _Transform():
            nested = (create_graph_at_vjp or _transforms.value > 1
                      or any(c.requires_grad for c in flat_cotangents))
            graph = create_graph if create_graph is not None else (nested or outside)
            gradients = _gradients(flat_outputs, flat_cotangents, inputs, graph, retain_graph)
        if graph and create_graph is None and not nested:  # a closure: see the Note
            gradients = _keep_outside(gradients, inputs)
        elif not graph:
            gradients = [gradient.detach() for gradient in gradients]
        return tree_unflatten(gradients, primals_spec)

    create_graph_at_vjp = create_graph
    outside = not create_graph and any(_reaches_outside(leaf, inputs) for leaf in flat_outputs)
    if create_graph:
        shown = output
    elif outside:
        shown = _keep_outside(output, inputs)
    else:
        shown = _detach_tree(output)
    if has_aux:
        if create_graph:
            return shown, vjp_fn, aux
        return shown, vjp_fn, _keep_outside(aux, inputs)
    return shown, vjp_fn


def _spec_text(spec) -> str:
    if spec.is_leaf:
        return "*"
    inner = ", ".join(_spec_text(child) for child in spec.children)
    if spec.kind is tuple:
        return f"({inner}{',' if len(spec.children) == 1 else ''})"
    if spec.kind is list:
        return f"[{inner}]"
    return repr(spec)


def _torch_size(shape) -> str:
    return f"retrograd.Size([{', '.join(str(size) for size in shape)}])"


# ---------------------------------------------------------------------------
# jacrev


def jacrev(func: Callable, argnums=0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable:
    """The Jacobian of `func` with respect to the inputs `argnums`, by reverse mode: one
    batched backward pass over the rows of the identity (in chunks of `chunk_size` rows)."""
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        numbers = _check_argnums(argnums, len(args))

        def restricted(*chosen):
            full = list(args)
            for number, value in zip(numbers, chosen):
                full[number] = value
            return func(*full, **kwargs)

        chosen = tuple(args[number] for number in numbers)
        result = vjp(restricted, *chosen, has_aux=has_aux)
        if has_aux:
            output, vjp_fn, aux = result
        else:
            output, vjp_fn = result
        flat_outputs, output_spec = tree_flatten(output)
        flat_inputs, inputs_spec = tree_flatten(chosen)
        total = sum(out.numel() for out in flat_outputs)
        jacobians = _jacobian_rows(vjp_fn, flat_outputs, output_spec, total, chunk_size)
        # jacobians[j]: (total, *input_j shape); split the rows by output
        blocks = []
        offset = 0
        for out in flat_outputs:
            count = out.numel()
            row = []
            for column, value in zip(jacobians, flat_inputs):
                piece = column[offset:offset + count] if len(flat_outputs) > 1 else column
                row.append(piece.reshape(tuple(out.shape) + tuple(value.shape)))
            offset += count
            per_input = tree_unflatten(row, inputs_spec)
            blocks.append(per_input[0] if isinstance(argnums, int) else per_input)
        jacobian = tree_unflatten(blocks, output_spec)
        if has_aux:
            return jacobian, aux
        return jacobian

    return wrapper


def _jacobian_rows(vjp_fn, flat_outputs, output_spec, total: int, chunk_size):
    """vjp_fn applied to every row of the identity (a vmap over the rows)."""
    from .._creation import eye, zeros

    dtype = flat_outputs[0].dtype if flat_outputs else None
    if total == 0:
        flat = vjp_fn(tree_unflatten([zeros(tuple(out.shape), dtype=out.dtype) for out in flat_outputs],
                                     output_spec))
        return [zeros((0, *tuple(g.shape)), dtype=g.dtype) for g in tree_flatten(flat)[0]]
    basis = eye(total, dtype=dtype)
    pieces = []
    offset = 0
    for out in flat_outputs:
        count = out.numel()
        pieces.append(basis[:, offset:offset + count].reshape((total, *tuple(out.shape))))
        offset += count

    def rows(*cotangents):
        return tuple(tree_flatten(vjp_fn(tree_unflatten(list(cotangents), output_spec)))[0])

    return list(vmap(rows, chunk_size=chunk_size)(*pieces))


# ---------------------------------------------------------------------------
# hessian


def hessian(func: Callable, argnums=0) -> Callable:
    """The Hessian of `func` (which returns a 0-d tensor... or any tensor: the Jacobian of
    its Jacobian) with respect to the inputs `argnums`: `jacfwd(jacrev(func))`."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------------------
# Forward mode: jvp, jacfwd, linearize (built on autograd.forward_ad where available)


def jvp(func: Callable, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """`(func(*primals), J·tangents)`: the Jacobian-vector product, by forward mode."""
    from ._forward import jvp as forward_jvp

    return forward_jvp(func, primals, tangents, strict=strict, has_aux=has_aux)


def jacfwd(func: Callable, argnums=0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """The Jacobian of `func` with respect to the inputs `argnums`, by forward mode: a jvp
    for every column of the identity, batched with vmap."""
    from ._forward import jacfwd as forward_jacfwd

    return forward_jacfwd(func, argnums, has_aux, randomness=randomness)


def linearize(func: Callable, *primals) -> tuple[Any, Callable]:
    """`(func(*primals), jvp_fn)`, where `jvp_fn(*tangents)` is J·tangents at `primals`."""
    from ._forward import linearize as forward_linearize

    return forward_linearize(func, *primals)


_ = _batching  # the rules live there
