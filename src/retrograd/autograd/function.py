"""Custom differentiable operations: subclass `Function`, write `forward` and `backward`.

    >>> import retrograd as torch
    >>> class Cube(torch.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * grad
    >>> x = torch.tensor(2., requires_grad=True)
    >>> y = Cube.apply(x)
    >>> y
    tensor(8., grad_fn=<CubeBackward>)
    >>> y.backward(); x.grad
    tensor(12.)

A Function is recorded as an ordinary graph node (`<Name>Backward`, a `Node` subclass
made once per Function class), so the same engine runs it: hooks, retain_graph, anomaly
mode and double backward (when `backward` is written with differentiable operations)
work as for built-in operators. The ctx passed to forward and backward is that node.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .._tensor import Tensor, history_of, new_version_counter
from . import forward_ad, grad_mode
from .anomaly import anomaly_mode, creation_stack
from .graph import _MISSING, Node, output_record, own_counter, pack_saved, saved_hooks_state

__all__ = [
    "BackwardCFunction",
    "DelayedError",
    "Function",
    "FunctionCtx",
    "InplaceFunction",
    "once_differentiable",
]


class FunctionCtx:
    """What `forward` may call on its ctx (the node that backward will run as)."""

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; they come back, version-checked, as `ctx.saved_tensors`.

        Only tensors (or None) may be saved; as in PyTorch, that is checked when the call
        is recorded (see `_stamp`).
        """
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for `jvp` (forward mode); there they are `ctx.saved_tensors`."""
        self._to_save_forward = tensors

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that forward modified in place (and returns)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that have no gradient (indices, masks): they do not require grad."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)


class BackwardCFunction(FunctionCtx, Node):
    """The node of one call of a custom Function; also the ctx its forward and backward see.

    It has a `__dict__`, so forward may store any attribute on ctx.
    """

    _forward_cls: type[Function]
    needs_input_grad: tuple[bool, ...] = ()
    _tensor_inputs: tuple[bool, ...] = ()  # which inputs of forward were tensors

    def __init__(self):
        Node.__init__(self)
        self._to_save = ()
        self._dirty = ()
        self._non_differentiable = ()
        self._materialize_grads = True
        self._output_meta = ()

    def backward(self, *grad_outputs):
        missing = len(self._output_meta) - len(grad_outputs)
        if missing > 0:
            grad_outputs += (None,) * missing
        if self._materialize_grads:
            grad_outputs = tuple(
                _zeros(meta) if grad is None and meta is not None else grad
                for grad, meta in zip(grad_outputs, self._output_meta)
            )
        grads = _user_backward(self._forward_cls)(self, *grad_outputs)
        if type(grads) is not tuple:
            grads = (grads,)
        expected = len(self.next_functions)
        if len(grads) > expected and all(grad is None for grad in grads[expected:]):
            grads = grads[:expected]
        _check_gradients(self, grads)
        return grads

    def apply(self, *grad_outputs):
        """Call the Function's backward (or vjp) directly and return what it returns, as
        PyTorch's `grad_fn.apply` does: no gradient is filled in, counted or checked."""
        return _user_backward(self._forward_cls)(self, *grad_outputs)

    def _number_of_outputs(self) -> int:
        return len(self._output_meta)

    saved_tensors = property(
        Node._saved_tensors.fget,
        doc="What forward saved with `save_for_backward`, checked against later in-place changes.",
    )

    def __repr__(self) -> str:
        """As PyTorch prints a custom Function's node: with its module path."""
        return f"<{type(self).__module__}.{type(self).__qualname__} object at {id(self):#x}>"

    def _find_saved(self, name: str):
        return _MISSING  # a custom node shows what it saved as `saved_tensors` only, as PyTorch's

    def _saved_names(self) -> list[str]:
        return []


def _user_backward(forward_cls):
    """The Function's `vjp` where it defines one instead of `backward` (PyTorch's synonym);
    defining both is refused."""
    backward, vjp = forward_cls.backward, forward_cls.vjp
    if vjp is Function.vjp:
        return backward
    if backward is not Function.backward:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. "
                           "You should only implement one of them.")
    return vjp


def _check_gradients(node: BackwardCFunction, grads: tuple) -> None:
    """What a custom backward returns: a Tensor or None per input, None for non-tensor inputs."""
    tensor_inputs = node._tensor_inputs
    for index, grad in enumerate(grads):
        if grad is None:
            continue
        if index < len(tensor_inputs) and not tensor_inputs[index]:
            raise RuntimeError(
                f"function {node.name()} returned a gradient different than None at position "
                f"{index + 1}, but the corresponding forward input was not a Variable"
            )
        if not isinstance(grad, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(grad).__name__})")


def _zeros(meta) -> Tensor:
    shape, dtype = meta
    return Tensor._make(np.zeros(shape, dtype=dtype))


class _FunctionMeta(type):
    """Give each Function subclass its own node class, named `<ClassName>Backward`."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._backward_cls = type(f"{name}Backward", (BackwardCFunction,), {"_forward_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations; use `YourFunction.apply(*args)`.

    Write `forward(ctx, *args)` (or `forward(*args)` plus `setup_context(ctx, inputs,
    output)`) and `backward(ctx, *grad_outputs)`, both static. backward returns one
    gradient per forward argument (None for arguments that need none).
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of retrograd.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Override: compute the outputs from the inputs (runs without recording a graph).

        Save what backward needs with `ctx.save_for_backward(...)`, or do that in
        `setup_context` and leave `ctx` out of forward's arguments.
        """
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs: tuple, output) -> None:
        """Optional override: save on `ctx` what backward needs, given forward's inputs and output."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Override: one gradient per input of forward (None for inputs that need none), given
        one gradient per output."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Override for forward mode: the tangent of each output, given one tangent per input of
        forward (zeros for tensors without one, None for other arguments)."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward (without recording its inside) and record one node for the whole call."""
        node = cls._backward_cls()
        node._tensor_inputs = tuple(isinstance(arg, Tensor) for arg in args)
        # Known before forward runs, as in PyTorch (forward may skip work for inputs that
        # need no gradient).
        node.needs_input_grad = tuple(
            isinstance(arg, Tensor) and arg._requires_grad for arg in args
        )
        recording = grad_mode._state.grad_enabled and any(node.needs_input_grad)
        if forward_ad._state.hooked and forward_ad.has_tangent(args):  # forward mode: `jvp`
            return forward_ad.apply_custom_function(cls, node, args, kwargs, recording)
        outputs = _run_forward(cls, node, args, kwargs)
        if node._dirty:
            _check_dirty_returned(node, outputs)
        if not recording:
            for tensor in node._dirty:  # modified in place: a new version, recorded or not
                tensor._bump_version()
            return outputs
        return _record(node, args, outputs)


def _check_dirty_returned(node: BackwardCFunction, outputs) -> None:
    returned = {id(value) for value in (outputs if isinstance(outputs, tuple) else (outputs,))}
    if any(id(tensor) not in returned for tensor in node._dirty):
        raise RuntimeError(
            "Some elements marked as dirty during the forward method were not returned as output. "
            "The inputs that are modified inplace must all be outputs of the Function."
        )


def _run_forward(cls, node, args: tuple, kwargs: dict):
    with grad_mode.no_grad():
        if _uses_setup_context(cls):
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(node, args, outputs)
        else:
            outputs = cls.forward(node, *args, **kwargs)
    return outputs


def _uses_setup_context(cls) -> bool:
    """New style: forward(*args) without ctx, and a separate setup_context."""
    return cls.setup_context is not Function.setup_context


class InplaceFunction(Function):
    """A Function that may work in place when constructed with `inplace=True` (legacy)."""

    def __init__(self, inplace: bool = False):
        self.inplace = inplace


def _record(node: BackwardCFunction, args: tuple, outputs):
    """Wire `node` into the graph: edges to the inputs, history to the outputs, saved tensors."""
    edges = []
    meta = []
    needs = []
    for value in args:
        if isinstance(value, Tensor) and value._requires_grad:
            edges.append(_edge(value))
            meta.append((value._data.shape, value._data.dtype))
            needs.append(True)
        else:
            edges.append((None, 0))
            meta.append(None)
            needs.append(False)
    node.next_functions = tuple(edges)
    node._input_meta = tuple(meta)
    node.needs_input_grad = tuple(needs)
    _check_saved(node._to_save)
    is_tuple = isinstance(outputs, tuple)
    results = list(outputs) if is_tuple else [outputs]
    dirty = {id(tensor) for tensor in node._dirty}
    non_differentiable = {id(tensor) for tensor in node._non_differentiable}
    inputs = {id(value) for value in args if isinstance(value, Tensor)}
    output_meta = []
    originals = list(results)
    for index, value in enumerate(results):
        if not isinstance(value, Tensor):
            output_meta.append(None)
            continue
        output_meta.append((value._data.shape, value._data.dtype))
        if id(value) in non_differentiable or not value.dtype.is_floating_point:
            if id(value) in dirty:
                value._bump_version()
            elif id(value) in inputs:
                results[index] = value.detach()
            continue
        if id(value) in dirty:
            _take_dirty(value)
            if id(value) not in inputs:
                warnings.warn(
                    "ctx.mark_dirty() received a tensor that was not an input. Only input Tensors "
                    "that have been mutated should be passed to ctx.mark_dirty().",
                    UserWarning,
                    stacklevel=3,
                )
        elif id(value) in inputs:
            results[index] = value = Tensor._from_node(value._data, None, 0, own_counter(value))
        value.grad_fn = node
        value._output_nr = index
        value._requires_grad = True
    node._output_meta = tuple(output_meta)
    _stamp(node, originals, results)
    if anomaly_mode.enabled:
        node._anomaly_trace = creation_stack()
    return tuple(results) if is_tuple else results[0]


def _edge(value: Tensor) -> tuple:
    if value.grad_fn is not None:
        return (value.grad_fn, value._output_nr)
    return (value._get_grad_accumulator(), 0)


def _check_saved(to_save: tuple) -> None:
    for index, value in enumerate(to_save):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(
                f"save_for_backward can only save variables, but argument {index} is of type "
                f"{type(value).__name__}"
            )


def _take_dirty(value: Tensor) -> None:
    # A view that forward made of an input requiring grad counts as a leaf that requires
    # grad (in PyTorch such a view inherits requires_grad from its base, and has no grad_fn).
    # (Read without raising: a view that forward wrote under no_grad raises on reading .grad_fn.)
    base = value._base
    grad_fn = history_of(value)
    if grad_fn is None and (value._requires_grad or (base is not None and base._requires_grad)):
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
    value._bump_version()


def _stamp(node: BackwardCFunction, originals: list, results: list) -> None:
    """Store what forward saved: outputs by array and version (see Note [No reference
    cycles] in graph.py), inputs with their version, or everything through the active
    saved-tensor hooks."""
    to_save = node._to_save
    if not to_save:
        return
    output_index = {id(value): index for index, value in enumerate(originals)}
    packing = bool(saved_hooks_state.stack)
    saved = []
    versions = []
    for value in to_save:
        index = output_index.get(id(value)) if value is not None else None
        if index is not None:
            value = results[index]
        if value is None:
            saved.append(None)
            versions.append(None)
        elif packing:
            saved.append(pack_saved(value, index is not None))
            versions.append(None)
        elif index is not None and value.grad_fn is node:
            saved.append(output_record(value, index))
            versions.append(value._version_counter[0])
        else:
            saved.append(value)
            versions.append(value._version_counter[0])
    node._saved = tuple(saved)
    node._saved_versions = tuple(versions)
    node._to_save = ()


# ---------------------------------------------------------------------------
# once_differentiable


class DelayedError(Node):
    """Stands for a backward that cannot be differentiated: raises if backward reaches it."""

    __slots__ = ("message",)

    def backward(self, *grad_outputs):
        raise RuntimeError(self.message)


def once_differentiable(backward):
    """Decorate a Function's backward that is not itself differentiable.

    It runs without recording; if a graph was asked for (create_graph), its results carry
    a node that raises when differentiated, instead of silently giving wrong answers.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with grad_mode.no_grad():
            grads = backward(ctx, *grad_outputs)
        if not grad_mode._state.grad_enabled:
            return grads
        sources = [grad for grad in grad_outputs if isinstance(grad, Tensor) and grad._requires_grad]
        if not sources:
            return grads
        return _delay_error(grads, sources)

    return wrapper


def _delay_error(grads, sources: list[Tensor]):
    node = DelayedError()
    node.message = "trying to differentiate twice a function that was marked with @once_differentiable"
    node.next_functions = tuple(_edge(source) for source in sources)
    node._input_meta = (None,) * len(sources)
    single = not isinstance(grads, tuple)
    wrapped = tuple(
        Tensor._from_node(grad._data, node, index, new_version_counter())
        if isinstance(grad, Tensor) else grad
        for index, grad in enumerate((grads,) if single else grads)
    )
    return wrapped[0] if single else wrapped

