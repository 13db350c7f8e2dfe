"""The op table and the op runner.

Every operator is one `register`ed function. The table entry says which Tensor methods,
Python operators and in-place variant it provides and whether it is differentiable;
`docs/operators.md` and the gradient test matrix are generated from it, with each op's
sample inputs, which live beside the tests (tests/op_samples/, keyed by op name).

The runner `apply(NodeClass, *inputs, **params)` runs an op's forward on arrays and, when
grad mode is on and an input requires grad, records a `NodeClass` node whose `backward`
maps output gradients to input gradients with ordinary (differentiable) tensor operations.
Positional arguments are the op's inputs (one `next_functions` edge each, None for numbers
and tensors that need no grad); keyword arguments are its parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import numbers
import re
import sys
import weakref
from collections.abc import Callable

import numpy as np

from .._dtype import scalar_type_name
from .._tensor import CLASS_BODY, Tensor
from .._thread_counts import entry_detours
from ..autograd import grad_mode
from ..autograd.anomaly import anomaly_mode, check_forward_outputs, creation_stack
from ..autograd.forward_ad import _active as _dual_active
from ..autograd.forward_ad import _state as _dual
from ..autograd.graph import (
    _ALL_ZERO,
    _COUNTER_ZERO,
    Node,
    meta_of,
    output_record,
    own_counter,
    pack_saved,
    packing_after_the_write,
    saved_hooks_in_use,
    saved_hooks_state,
    shared_meta,
    zero_output_numbers,
)
from ._zero_gradient import ZeroGradient

__all__ = ["OUTPUT", "OpInfo", "apply", "attached", "output", "register", "register_method",
           "table"]


class _Output:
    """Marker passed to `save_for_backward` to save one of the op's own results."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __repr__(self) -> str:
        return "OUTPUT" if self.index == 0 else f"output({self.index})"


OUTPUT = _Output(0)


def output(index: int) -> _Output:
    """Marker for `save_for_backward`: result number `index` of a multi-output op."""
    return OUTPUT if index == 0 else _Output(index)


class _NoContext:
    """Stands in for the node when nothing is recorded: saving and attributes are dropped.

    So a forward must only write to its ctx, never read back what it stored there.
    """

    __slots__ = ()

    def save_for_backward(self, *values) -> None:
        pass

    def __setattr__(self, name, value) -> None:
        pass


_NO_CONTEXT = _NoContext()


def _wrap(array, is_view_of: Tensor | None, several: bool = False) -> Tensor:
    if type(array) is not np.ndarray and type(array) is not ZeroGradient:  # (Note [Zero gradients...])
        array = np.asarray(array)
    result = Tensor._make(array)
    if is_view_of is not None:
        _mark_view(result, is_view_of)
        # its kind, and its base's views (a later in-place write may give the base a history)
        _inplace.note_view_made(result, is_view_of, several, grad_mode._state.grad_enabled)
    return result


def unrecorded_view(array: np.ndarray, input: Tensor) -> Tensor:
    """`_wrap(array, input)` for the one array of a view op that records no node (a view of a
    tensor that does not require grad, as sum's backward expands its gradient): one call where
    _wrap makes five."""
    result = _new_tensor(Tensor)
    counter = input._version_counter  # (_mark_view, with own_counter, inlined)
    if counter is _COUNTER_ZERO:
        counter = input._version_counter = _COUNTER_ZERO.copy()
    result._setup(array, None, 0, counter)
    base = input._base
    result._base = base = input if base is None else base
    # (grad mode as is_grad_enabled reads it: the thread-local state only when the count says so)
    grad_enabled = not grad_mode.threads_without_grad.count or grad_mode._state.grad_enabled
    if not grad_enabled:  # (as Tensor._make)
        result._origin = grad_mode._state.origin_without_grad
    _inplace.note_view_made(result, input, False, grad_enabled)
    return result


def _mark_view(result: Tensor, base: Tensor) -> None:
    result._version_counter = own_counter(base)
    result._base = base._base if base._base is not None else base


def apply(node_class: type[Node], *inputs, **params):
    """Run `node_class.forward` on `inputs`; record a node when a gradient may be needed."""
    if _vmap_active.count and _vmap_state.depth:  # inside vmap: see Note [Batching rules] (ops/_batching/)
        batched = _batching.apply_batched(node_class, inputs, params)
        if batched is not NotImplemented:
            return batched
    if _dual_active.count and _dual.hooked:  # a dual level is open: Note [Dual tensors] (forward_ad.py)
        return _tangents.apply_dual(apply, node_class, inputs, params)
    # grad mode, read as Note [Reading the modes quickly] says (autograd/grad_mode.py);
    # records_directly asks these three questions once for many ops: a change here is a change there
    if not grad_mode.threads_without_grad.count or grad_mode._state.grad_enabled:
        recorder = _recorders.get(node_class)
        if recorder is None:
            recorder = _recorders[node_class] = _recorder(node_class)
        return recorder(inputs, params)
    return _run_unrecorded(node_class, inputs, params)


def records_directly() -> bool:
    """Whether code that runs many ops in a row under one mode may call their records itself
    (runs_of, Note [Recorded programs] in ops/_recording.py): grad mode is on, and no vmap or
    dual level is open and no profiler watches in any thread (each raises `entry_detours`;
    the profiler must see each op pass through apply)."""
    return not entry_detours.count and (not grad_mode.threads_without_grad.count
                                        or grad_mode._state.grad_enabled)


def runs_of(node_classes: tuple) -> tuple:
    """What `apply` runs for each of `node_classes` in the present modes, each called as
    `run(inputs, params)`: the op's record where apply would go straight to it (records_directly),
    else apply itself. For code that runs many ops in a row under one mode (Note [A recurrent
    step runs its records], nn/modules/rnn.py)."""
    if not records_directly():
        return tuple(functools.partial(_apply_to, node_class) for node_class in node_classes)
    runs = tuple(map(_recorders.get, node_classes))
    if None in runs:  # (a record not made yet: made as apply makes it)
        for node_class in node_classes:
            if node_class not in _recorders:
                _recorders[node_class] = _recorder(node_class)
        runs = tuple(map(_recorders.get, node_classes))
    return runs


def _apply_to(node_class: type[Node], inputs: tuple, params: dict):
    return apply(node_class, *inputs, **params)


def _run_unrecorded(node_class: type[Node], inputs: tuple, params: dict):
    if node_class._declared:
        result = node_class.forward(*inputs, **params)
    else:
        result = node_class.forward(_NO_CONTEXT, *inputs, **params)
    if type(result) is np.ndarray and not node_class.is_view:
        return Tensor._make(result)
    return _unrecorded_outputs(node_class, inputs, result)


def _unrecorded_outputs(node_class: type[Node], inputs: tuple, result):
    """The outputs of an op that records nothing, from its forward's `result`: the cases
    other than one array that is not a view."""
    if not node_class.is_view and isinstance(result, np.generic):  # (a 0-d result)
        return Tensor._make(np.asarray(result))
    view_base = inputs[0] if node_class.is_view else None
    if type(result) is tuple:
        return tuple(_wrap(array, view_base, node_class.several_views) for array in result)
    return _wrap(result, view_base)


def _record(node_class: type[Node], inputs: tuple, params: dict):
    """Run the op and record its node, if an input requires grad (else only run it)."""
    next_nodes = []
    meta = []
    output_nrs = None  # the edges' output numbers, made only when one is not 0
    needs = 0
    bit = 1
    for value in inputs:
        if isinstance(value, Tensor) and value._requires_grad:
            grad_fn = value.grad_fn
            if grad_fn is None:
                accumulator = value._grad_accumulator  # a weak reference once made
                grad_fn = accumulator() if accumulator is not None else None
                if grad_fn is None:
                    grad_fn = value._get_grad_accumulator()
            elif value._output_nr:
                if output_nrs is None:
                    output_nrs = [0] * len(inputs)
                output_nrs[len(next_nodes)] = value._output_nr
            next_nodes.append(grad_fn)
            value_meta = value._meta
            if value_meta is None:
                value_meta = value._meta = meta_of(value._data)
            meta.append(value_meta)
            needs |= bit
        else:
            next_nodes.append(None)
            meta.append(None)
        bit <<= 1
    if not needs:
        return _run_unrecorded(node_class, inputs, params)
    node = node_class(tuple(next_nodes),
                      _ALL_ZERO.get(len(inputs)) or zero_output_numbers(len(inputs)) if output_nrs is None
                      else tuple(output_nrs),
                      shared_meta(tuple(meta)))
    if node_class._declared:
        result = node_class.forward(*inputs, **params)
    else:
        result = node_class.forward(node, *inputs, **params)
    return _finish_record(node_class, node, needs, inputs, params, result)


def _finish_record(node_class: type[Node], node: Node, needs: int, inputs: tuple, params: dict, result):
    """The recorded op's outputs made from its forward's `result`, with what the node saves."""
    if type(result) is np.ndarray:  # one output: the common case of _output, inlined
        outputs = _new_tensor(Tensor)
        outputs._setup(result, node, 0, _COUNTER_ZERO)  # (new_version_counter, inlined)
    elif type(result) is tuple:  # several outputs (split, max with indices)
        outputs = tuple([_output(array, node, index) for index, array in enumerate(result)])
        node._output_count = len(result)
        for index in node_class.non_differentiable_outputs:
            outputs[index].grad_fn = None
            outputs[index]._requires_grad = False
    else:
        outputs = _output(result, node, 0)
    if node_class.is_view:
        for output in outputs if type(outputs) is tuple else (outputs,):
            _mark_view(output, inputs[0])
            _inplace.register_view(output, output._base)
    if node_class._declared:
        node._save(needs, inputs, params, outputs)
    elif node._saved is not None:
        _stamp_saved(node, outputs)
    if anomaly_mode.enabled:
        _note_anomaly(node, inputs, outputs)
    return outputs


def _note_anomaly(node: Node, inputs: tuple, outputs) -> None:
    """Under anomaly detection: where the node was made, and a check of its outputs."""
    node._anomaly_trace = creation_stack()
    if anomaly_mode.check_forward:
        check_forward_outputs(node, inputs, outputs)


_recorders: dict[type, Callable] = {}  # node class -> its generated record (or the general one)


def _recorder(node_class: type[Node]) -> Callable:
    """The record of `node_class`: Note [Generated recording] (ops/_recording.py)."""
    from ._recording import recorder  # (a layer above: it generates code from declarations)

    return recorder(node_class)


def _output(array, node: Node, output_nr: int) -> Tensor:
    if type(array) is not np.ndarray and type(array) is not ZeroGradient:  # (Note [Zero gradients...])
        array = np.asarray(array)
    tensor = _new_tensor(Tensor)
    tensor._setup(array, node, output_nr, _COUNTER_ZERO)  # (new_version_counter, inlined)
    return tensor


_new_tensor = object.__new__


def _stamp_saved(node: Node, outputs) -> None:
    """Resolve OUTPUT to the result and remember each saved tensor's version.

    Inference tensors cannot be saved. Under `saved_tensors_hooks`, tensors are packed
    instead (and not version-checked, as the hooks own what they keep).
    """
    if saved_hooks_in_use.count and saved_hooks_state.stack:
        _pack_saved(node, outputs)
        return
    saved = []
    versions = []
    for value in node._saved:
        if type(value) is _Output:
            result = outputs if isinstance(outputs, Tensor) else outputs[value.index]
            value = output_record(result, result._output_nr)
            versions.append(result._version_counter[0])
        elif isinstance(value, Tensor):
            if value._is_inference:
                raise RuntimeError(_INFERENCE_SAVED_MESSAGE)
            versions.append(value._version_counter[0])
        else:
            versions.append(None)
        saved.append(value)
    node._saved = tuple(saved)
    node._saved_versions = tuple(versions)


def _pack_saved(node: Node, outputs) -> None:
    saved = []
    for value in node._saved:
        if type(value) is _Output:  # OUTPUT, or output(k) of a multi-output op
            value = pack_saved(outputs if isinstance(outputs, Tensor) else outputs[value.index], True)
        elif isinstance(value, Tensor):
            if value._is_inference:
                raise RuntimeError(_INFERENCE_SAVED_MESSAGE)
            value = pack_saved(value, False)
        saved.append(value)
    node._saved = tuple(saved)
    node._saved_versions = (None,) * len(saved)


_INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `retrograd.no_grad()` instead "
    "of `retrograd.inference_mode()`."
)


# ---------------------------------------------------------------------------
# The table


@dataclasses.dataclass
class OpInfo:
    """One operator: its function, how Tensor exposes it, and how to test it (its samples live
    beside the tests, in tests/op_samples/, keyed by `name`)."""

    name: str
    function: Callable
    methods: tuple[str, ...] = ()
    inplace: str | None = None
    mutates_input: bool = False
    differentiable: bool = True
    second_order: bool = True
    torch_name: str | None = None
    gradcheck_wrapper: Callable | None = None
    doc: str = ""

    @property
    def signature(self) -> str:
        import inspect

        return f"{self.name}{inspect.signature(self.function)}"


table: dict[str, OpInfo] = {}

# Note [Where Tensor methods come from]
#     Tensor's class body (_tensor.py) holds the core: construction, the autograd state, the
#     array attributes, conversions and the Python protocol. Every other Tensor attribute is
#     attached here, once: the methods and operators of an op by `register` (methods=,
#     inplace=), the rest (aliases of ops, constructors such as `new_zeros`, the in-place random
#     fillers, properties such as `T`) by `register_method`. `attached` says, for each, what was
#     attached and by which module; a name is attached once. Modules below this layer, which
#     this module imports (_creation, _legacy, random), declare theirs in a `TENSOR_METHODS`
#     dict that ops/__init__.py registers. tests/test_tensor_methods.py checks that no module
#     assigns to Tensor itself, and that Tensor has `_tensor.CLASS_BODY` and `attached` only.
#     vmap's BatchedTensor has a registry of its own: Note [Where BatchedTensor methods come from]
#     (ops/_batching/tensor.py).


@dataclasses.dataclass(frozen=True)
class Attached:
    """One Tensor attribute attached by the table: its value and the module that declared it."""

    value: object
    module: str
    op: str | None = None  # the op of the table it belongs to, for `register`'s methods


attached: dict[str, Attached] = {}


def register_method(name: str, value, module: str | None = None, *, op: str | None = None,
                    replace: bool = False) -> None:
    """Attach `value` (a function or a property) to Tensor as `name`; see Note [Where Tensor
    methods come from]. `module` is where it is declared (by default, the caller's module).
    A name of the class body, or one already attached, is refused unless `replace`."""
    if not replace and (name in CLASS_BODY or name in attached):
        raise RuntimeError(f"Tensor.{name} is already defined ({_defined_in(name)})")
    if module is None:
        module = sys._getframe(1).f_globals["__name__"]
    attached[name] = Attached(value, module, op)
    setattr(Tensor, name, value)


def register_methods(methods: dict, module: str) -> None:
    """`register_method` for each of `methods` (name: value), declared in `module`."""
    for name, value in methods.items():
        register_method(name, value, module)


def _defined_in(name: str) -> str:
    if name in attached:
        return f"attached by {attached[name].module}"
    return "in the class body" if name in CLASS_BODY else "nowhere"


def register(
    name: str | None = None,
    *,
    methods: tuple[str, ...] | str = (),
    inplace: str | None = None,
    mutates_input: bool = False,
    differentiable: bool = True,
    second_order: bool = True,
    torch_name: str | None = None,
    gradcheck_wrapper: Callable | None = None,
    floating: bool | tuple[str, ...] = False,
    same_dtype: tuple[str, ...] = (),
    not_differentiable: tuple[str, ...] = (),
    direct: type[Node] | None = None,
    direct_if: str | None = None,
    direct_params: tuple[str, ...] = (),
):
    """Add the decorated function to the op table and attach its methods to Tensor.

    `methods` become Tensor methods called as `function(self, ...)`; binary Python
    operators among them (`__add__`, `__radd__`) give NotImplemented for operands that are
    neither tensors nor numbers. `inplace` names the `_` method that writes the result into
    self; `mutates_input` marks ops that exist only in place (zero_, copy_), which the tests
    call on a clone (the gradient tests' samples of each op are in tests/op_samples/, by op name).
    `gradcheck_wrapper(op)` turns the op (ours or PyTorch's) into the function the
    tests differentiate, for ops whose raw outputs are not comparable (eigenvector signs) or
    whose gradient is defined on a subspace (symmetric inputs). `floating` marks ops that
    compute on floating-point tensors only (True: the first argument; or the names of the
    arguments whose promoted dtype must be floating); `same_dtype` names the tensor arguments
    that must all have one dtype (no promotion: norms and their parameters, a class weight);
    `not_differentiable` names tensor arguments that may not require grad when grad mode is on
    (a class weight, running statistics): see Note [Checked arguments]. An op whose
    PyTorch function takes `out=` (ops/_out.py's ACCEPTS_OUT) gets that keyword here: the
    decorator returns the function with it (see Note [out= arguments]); Tensor methods never
    take it. `direct=NodeClass` declares that the function, given its inputs and nothing
    else, is `apply(NodeClass, *inputs)`: the function, its methods and operators then get a
    direct entry (Note [Direct entries], ops/_recording.py). `direct_if` narrows that to the
    inputs one of the entries' tests accepts (`_recording.INPUT_TESTS`, by name), for an op
    that picks its node from its inputs (matmul); `direct_params` names the arguments that
    the entry passes to the op as its parameters (a number that is no input: rsub's `other`).
    An operator the op's module makes itself gets the same entry from `with_direct_entry`.
    """
    methods = (methods,) if isinstance(methods, str) else tuple(methods)

    def decorate(function: Callable) -> Callable:
        op_name = name or function.__name__
        function = _checked(function, op_name.rpartition(".")[2], floating, same_dtype,
                            not_differentiable)
        plain = function
        if op_name in _batching.FUNCTION_RULES:  # an op that computes on arrays before `apply`
            function = _batching.batched_function(op_name, function)
        public = _out.accepting_out(function, op_name) if op_name in _out.ACCEPTS_OUT else function
        entry = _direct_entries(direct if function is plain else None, plain, direct_if, direct_params)
        _entries[op_name] = entry
        public = entry(public, out=public is not function)
        table[op_name] = OpInfo(
            name=op_name,
            function=public,
            methods=methods,
            inplace=inplace,
            mutates_input=mutates_input,
            differentiable=differentiable,
            second_order=second_order and differentiable,
            torch_name=torch_name or op_name,
            gradcheck_wrapper=gradcheck_wrapper,
            doc=(function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else "",
        )
        declared_in = function.__module__
        for method in methods:
            is_operator = method.startswith("__") and method not in _UNARY_OPERATORS
            register_method(method, entry(_operator(plain, method), operator=True) if is_operator
                            else entry(plain), declared_in, op=op_name)
            if function is not plain:  # batched tensors take the batching rule
                _batching.register_batched_method(
                    method, _operator(function, method) if is_operator else function, declared_in,
                    op=op_name)
        if inplace is not None:
            register_method(inplace, _in_place(function, inplace), declared_in, op=op_name)
        return public

    return decorate


def _direct_entries(node_class: type[Node] | None, checked: Callable, inputs_test: str | None,
                    params: tuple[str, ...]) -> Callable:
    """What puts a direct entry of `node_class` in front of each callable of an op whose
    function is `checked` (Note [Direct entries], ops/_recording.py): nothing without one."""
    if node_class is None:
        return lambda general, **kinds: general
    from ._recording import direct_entry  # (a layer above: it generates code from declarations)

    explain_failure = getattr(checked, "explain_failure", None)
    signature = inspect.signature(checked).parameters
    defaults = {name: signature[name].default for name in params}  # (for callables without them)
    return lambda general, **kinds: direct_entry(general, node_class, explain_failure,
                                                 inputs_test=inputs_test, params=defaults, **kinds)


_entries: dict[str, Callable] = {}  # op name -> what puts its direct entry in front of a callable


def with_direct_entry(op_name: str, general: Callable) -> Callable:
    """`general`, an operator that the module of the registered op `op_name` makes itself (one
    that takes tensors only), with the direct entry `register` gives the op's own callables."""
    return _entries[op_name](general)


# ---------------------------------------------------------------------------
# Argument checks

# Note [Checked arguments]
#     PyTorch checks every argument against the op's schema before anything runs, so a string
#     where a tensor belongs is a TypeError ("relu(): argument 'input' (position 1) must be
#     Tensor, not str") and an integer tensor given to a floating-point kernel is a
#     NotImplementedError ('"softmax" not implemented for 'Long''). Our ops are plain Python
#     functions, so `register` wraps each one once, here, instead of each op checking:
#
#     - Tensor arguments are checked only after the op has failed (a successful call pays one
#       function call and a `try`): if the first argument should be a tensor (or a sequence
#       of tensors, for `tensors`) and is not, or the op failed on an attribute lookup of an
#       argument that is not a tensor, the failure becomes a `NotATensorError`. It is a
#       TypeError, as PyTorch's argument parser raises, and also an AttributeError, as
#       PyTorch's Python-level functionals raise (F.softsign("a") calls "a".abs()), so an
#       `except` clause written for either catches it.
#     - `floating` ops check their inputs' promoted dtype before they run, so an integer or
#       bool input leaves every tensor as it was. A `dtype=` argument casts first (PyTorch's
#       softmax(x, dim, dtype=float32) accepts an integer x), so it skips the check.
#     - `same_dtype` ops refuse tensors of different dtypes among the named arguments
#       (layer_norm's float32 input with a float64 weight), as PyTorch's kernels do.
#     - `not_differentiable` arguments (nll_loss's class weight, batch_norm's running
#       statistics) may not require grad while grad mode is on, as PyTorch's autograd refuses.


class NotATensorError(TypeError, AttributeError):
    """A tensor argument that is not a tensor; see Note [Checked arguments]."""


# The first parameter is a tensor, except for these (einsum's equation, normal's mean, which
# may be a number) and `tensors` (a sequence of tensors).
_FIRST_NOT_A_TENSOR = frozenset({"arguments", "mean", "equation"})


def _checked(function: Callable, op_name: str, floating, same_dtype: tuple = (),
             not_differentiable: tuple = ()) -> Callable:
    """`function` with its arguments checked as Note [Checked arguments] says."""
    import inspect

    signature = inspect.signature(function)
    parameter_names = list(signature.parameters)
    first = parameter_names[0] if parameter_names else None
    if floating is True:
        floating = (first,)
    floating_positions = tuple(parameter_names.index(name) for name in floating or ())
    same_positions = tuple(parameter_names.index(name) for name in same_dtype)
    constant_positions = tuple(parameter_names.index(name) for name in not_differentiable)
    dtype_position = parameter_names.index("dtype") if "dtype" in parameter_names else None

    def explain_failure(args, kwargs, error) -> None:
        if isinstance(error, np.linalg.LinAlgError):
            _raise_linalg_error(op_name, error)
        if type(error) is ValueError and _NUMPY_SHAPE_ERRORS.search(str(error)):
            # NumPy's shape complaint (a ValueError) is PyTorch's RuntimeError about sizes
            raise RuntimeError(f"{op_name}(): the sizes of the tensors do not fit: {error}") from error
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return
        culprit = getattr(error, "obj", None) if isinstance(error, AttributeError) else None
        for position, (parameter, value) in enumerate(bound.arguments.items()):
            if parameter == first and parameter not in _FIRST_NOT_A_TENSOR:
                if parameter == "tensors" and isinstance(value, list | tuple):
                    for index, item in enumerate(value):
                        if not isinstance(item, Tensor):
                            raise NotATensorError(
                                f"expected Tensor as element {index} in argument 0, but got "
                                f"{type(item).__name__}"
                            ) from None
                    continue
                if not isinstance(value, Tensor) and (
                    not isinstance(value, numbers.Number) or value is culprit
                ):
                    raise NotATensorError(_not_a_tensor(op_name, parameter, position, value)) from None
            elif culprit is not None and value is culprit and not isinstance(value, Tensor):
                raise NotATensorError(_not_a_tensor(op_name, parameter, position, value)) from None
        if isinstance(error, IndexError) and "Dimension out of range" not in str(error):
            _explain_dim(bound.arguments, first)

    if floating_positions or same_positions or constant_positions:

        def checked(*args, **kwargs):
            try:  # a check that fails on a non-tensor argument is explained as its TypeError
                if floating_positions and (dtype_position is None or (
                    args[dtype_position] if len(args) > dtype_position else kwargs.get("dtype")
                ) is None):
                    _check_floating(op_name, args, kwargs, floating_positions, floating)
                if same_positions:
                    _check_same_dtype(args, kwargs, same_positions, same_dtype)
                if constant_positions and grad_mode._state.grad_enabled:
                    _check_not_requiring_grad(op_name, args, kwargs, constant_positions, not_differentiable,
                                              function)
                return function(*args, **kwargs)
            except Exception as error:
                explain_failure(args, kwargs, error)
                raise

    else:

        def checked(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except Exception as error:
                explain_failure(args, kwargs, error)
                raise

        checked.explain_failure = explain_failure  # (for `_operator`, which calls `function` itself)

    return functools.wraps(function)(checked)


_NUMPY_SHAPE_ERRORS = re.compile(
    r"could not be broadcast|cannot reshape array|not broadcastable|shape mismatch|"
    r"operands could not|size \d+ is different from"
)


def _raise_linalg_error(op_name: str, error: Exception) -> None:
    """NumPy's LinAlgError (a ValueError) as PyTorch's `linalg.LinAlgError` (a RuntimeError):
    one conversion for every op, where NumPy's LAPACK call fails (on NaN or inf input)."""
    from .linalg import LinAlgError

    raise LinAlgError(
        f"linalg.{op_name}: The algorithm failed to converge ({error}); the input matrix may "
        "contain non-finite values."
    ) from error


def _explain_dim(arguments: dict, first: str) -> None:
    """An op that indexed a shape with a `dim` out of range: PyTorch's IndexError for it."""
    dim, tensor = arguments.get("dim"), arguments.get(first)
    if type(dim) is not int or not isinstance(tensor, Tensor):
        return
    ndim = max(tensor.ndim, 1)
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})"
        ) from None


def _not_a_tensor(op_name: str, parameter: str, position: int, value) -> str:
    return (f"{op_name}(): argument '{parameter}' (position {position + 1}) must be Tensor, not "
            f"{type(value).__name__}")


def _check_floating(op_name: str, args: tuple, kwargs: dict, positions: tuple, names: tuple) -> None:
    """NotImplementedError, as PyTorch's kernels raise, when no floating tensor is among the
    checked arguments (an integer and a float32 tensor promote to float32 and are accepted)."""
    integral = None
    for position, name in zip(positions, names):
        value = args[position] if position < len(args) else kwargs.get(name)
        if isinstance(value, Tensor):
            if value._data.dtype.kind in "fc":
                return
            if integral is None:
                integral = value
    if integral is not None:
        raise NotImplementedError(
            f'"{op_name}" not implemented for \'{scalar_type_name(integral.dtype)}\''
        )


def _check_not_requiring_grad(op_name: str, args: tuple, kwargs: dict, positions: tuple,
                              names: tuple, function: Callable) -> None:
    """PyTorch refuses these arguments when its autograd would record the op, after the op's
    own checks of shapes: so those run first, in a trial call without recording on copies of
    these arguments (running statistics updated in training go to the copies)."""
    if not any(_requires_grad_at(args, kwargs, position, name) for position, name in zip(positions, names)):
        return
    trial_args, trial_kwargs = list(args), dict(kwargs)
    for position, name in zip(positions, names):
        if position < len(args):
            trial_args[position] = _detached_copy(args[position])
        elif name in kwargs:
            trial_kwargs[name] = _detached_copy(kwargs[name])
    with grad_mode.no_grad():
        function(*trial_args, **trial_kwargs)
    for position, name in zip(positions, names):
        value = args[position] if position < len(args) else kwargs.get(name)
        if isinstance(value, Tensor) and value._requires_grad:
            raise RuntimeError(
                f"The function '{op_name}' is not differentiable with respect to argument "
                f"'{name}'. This input cannot have requires_grad True."
            )


def _detached_copy(value):
    return value.detach().clone() if isinstance(value, Tensor) else value


def _requires_grad_at(args: tuple, kwargs: dict, position: int, name: str) -> bool:
    value = args[position] if position < len(args) else kwargs.get(name)
    return isinstance(value, Tensor) and value._requires_grad


def _check_same_dtype(args: tuple, kwargs: dict, positions: tuple, names: tuple) -> None:
    """RuntimeError, as PyTorch's, when the named tensor arguments differ in dtype."""
    first = None
    for position, name in zip(positions, names):
        value = args[position] if position < len(args) else kwargs.get(name)
        for tensor in value if isinstance(value, list | tuple) else (value,):
            if not isinstance(tensor, Tensor):
                continue
            if first is None:
                first = tensor.dtype
            elif tensor.dtype is not first:
                raise RuntimeError(
                    f"expected scalar type {scalar_type_name(first)} but found "
                    f"{scalar_type_name(tensor.dtype)} (mixed dtype: the tensors of this op must "
                    "have one dtype)"
                )


_UNARY_OPERATORS = {"__neg__", "__pos__", "__abs__", "__invert__"}
_OPERAND_TYPES = (Tensor, numbers.Number)
_COMMON_OPERAND_TYPES = frozenset({Tensor, float, int, bool})  # checked first: isinstance on an ABC is slow


def _operator(function: Callable, method_name: str) -> Callable:
    """A binary Python operator: NotImplemented (so Python tries the other side) for
    operands that are neither tensors nor numbers. An op without argument checks is called
    unwrapped, its failure explained here (one call less on the path of every `a + b`)."""
    explain_failure = getattr(function, "explain_failure", None)
    if explain_failure is not None:
        unchecked = function.__wrapped__

        def operator(self, other):
            if type(other) not in _COMMON_OPERAND_TYPES and not isinstance(other, _OPERAND_TYPES):
                return NotImplemented
            try:
                return unchecked(self, other)
            except Exception as error:
                explain_failure((self, other), {}, error)
                raise

    else:

        def operator(self, other):
            if type(other) not in _COMMON_OPERAND_TYPES and not isinstance(other, _OPERAND_TYPES):
                return NotImplemented
            return function(self, other)

    operator.__name__ = method_name
    operator.__doc__ = function.__doc__
    return operator


def _in_place(function: Callable, method_name: str) -> Callable:
    def in_place(self, *args, **kwargs):
        if _direct_write.write(self, method_name, args, kwargs):  # Note [Direct in-place writes]
            return self
        return run_in_place(self, function, *args, **kwargs)

    in_place.__name__ = method_name
    in_place.__doc__ = f"In-place `{function.__name__}`: writes the result into self."
    return in_place


def run_in_place(target: Tensor, function: Callable, *args, cast: bool = False, fills: bool = False,
                 **kwargs) -> Tensor:
    """Compute `function(target, *args)` and write it into `target`, which takes its history.

    Checks come first, so a refused in-place op leaves `target` and its version unchanged.
    When a graph is recorded, the op sees a snapshot of target's old value and history
    (the new node must differentiate through the value before the write). With `cast`
    the result may be of any dtype (copy_ converts); otherwise it may not be of a higher
    category than target's (an int tensor cannot take a float result in place). Writing
    through a view rewrites its base's history: see Note [In-place on a view] (_inplace.py).
    As PyTorch, a target whose elements share memory (an expanded tensor) is refused unless
    the op `fills` it with one value (fill_, zero_), and so is an input whose memory partly
    overlaps the target's; a target of a dtype without gradients (copy_ into an int tensor)
    takes no history.
    """
    if _vmap_active.count and _vmap_state.depth and _batching.any_batched(target, args):
        return _batching.in_place(run_in_place, target, function, args, kwargs, cast, fills)
    if not (saved_hooks_in_use.count and saved_hooks_state.stack):
        _write_in_place(target, function, args, kwargs, cast, fills)
        return target
    with packing_after_the_write() as packing:
        packing.pack(_write_in_place(target, function, args, kwargs, cast, fills), target)
    return target


def _write_in_place(target: Tensor, function: Callable, args: tuple, kwargs: dict, cast: bool,
                    fills: bool) -> Tensor:
    """run_in_place's work; returns the out-of-place result that was written into `target`."""
    base = target._base
    operands = (*args, *kwargs.values()) if kwargs else args  # (a tensor may come by keyword)
    recording = grad_mode._state.grad_enabled and (
        target._requires_grad
        or (base is not None and base._requires_grad)
        or any(isinstance(arg, Tensor) and arg._requires_grad for arg in operands)
    )
    if target._is_inference and not grad_mode._state.inference:
        raise RuntimeError(_INFERENCE_INPLACE_MESSAGE)
    if base is not None and grad_mode._state.grad_enabled:
        # (a view made by split or unbind, or under no_grad: Note [Views that cannot be rebuilt])
        kind = _inplace.kind_of(target)
        if kind is not None and (recording or target.grad_fn is not None):
            raise _inplace.rebase_error(target, kind, indirect=False)
    if recording:
        _check_not_leaf(target, base)
    if operands:
        _check_no_partial_overlap(target, operands)
    if isinstance(target._data, ZeroGradient):  # (see Note [Zero gradients that stay zero])
        raise RuntimeError(
            "ZeroTensors are immutable. Please use the materialized zero tensor obtained using "
            ".clone() if you want a mutable tensor."
        )
    copies_itself = cast and args and args[0] is target  # x.copy_(x): nothing to write (PyTorch)
    if not fills and not copies_itself and _overlaps_itself(target._data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
    if recording:
        if base is not None and base._requires_grad and target.grad_fn is None:
            _inplace.reread_view(target)
        result = function(_inplace.snapshot(target), *args, **kwargs)
    else:
        result = function(target, *args, **kwargs)
    _check_writable(target, result, cast)
    if copies_itself:
        pass
    elif not target._data.flags.writeable:
        # A view of an expanded tensor (NumPy makes those read-only): its elements are written
        # through the array that owns the memory.
        owner = target._data if base is None else base._data
        while not owner.flags.writeable and isinstance(owner.base, np.ndarray):
            owner = owner.base
        positions = _inplace.view_positions(owner, target._data)
        np.put(owner, positions, result._data.astype(owner.dtype))
    else:
        np.copyto(target._data, result._data, casting="unsafe")
    target._bump_version()
    if _dual_active.count and _dual.hooked:
        _tangents.take_tangent(target, result)
    if result.grad_fn is not None and target._data.dtype.kind == "f":
        _take_history(target, base, result)
        _save_as_target(result.grad_fn, result, target, base is not None)
    elif not recording:
        _direct_write.views_after_unrecorded_write(target)
    _inplace.refresh_aliased_views(target)
    return result


def _check_no_partial_overlap(target: Tensor, args: tuple) -> None:
    """An input whose memory range meets the target's without being the very same elements
    (a shifted or transposed view of it) would be read while it is written: refused.

    As PyTorch, only inputs and targets that are dense (their elements fill one block of
    memory, in some order) are compared; for the others overlap is "too hard" to tell and the
    op runs (here on a snapshot of the input, where PyTorch reads it while writing).
    """
    written = target._data
    for arg in args:
        if type(arg) is not Tensor and not isinstance(arg, Tensor):
            continue
        read = arg._data
        if read is written or not np.may_share_memory(read, written) or not read.size:
            continue
        if not (_is_dense(read) and _is_dense(written)):
            continue
        if (read.__array_interface__["data"][0] == written.__array_interface__["data"][0]
                and read.strides == written.strides and read.shape == written.shape):
            continue  # the same elements in the same layout (x.add_(x.detach())): allowed
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to tensor "
            "refer to a single memory location. Please clone() the tensor before performing the "
            "operation."
        )


def _overlaps_itself(array: np.ndarray) -> bool:
    """Whether two elements of `array` are one memory location (a dimension of size > 1 with
    stride 0, as after expand); an empty array has no two elements."""
    return array.size > 1 and 0 in array.strides and any(
        stride == 0 and size > 1 for size, stride in zip(array.shape, array.strides))


def _is_dense(array: np.ndarray) -> bool:
    """Whether the elements fill one block of memory without gaps or repeats, in any order."""
    expected = array.itemsize
    for stride, size in sorted((abs(stride), size) for size, stride in zip(array.shape, array.strides)
                               if size != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _save_as_target(node: Node, result: Tensor, target: Tensor, through_view: bool) -> None:
    """An op that saved its own result (exp_, tanh_...) now saves `target`, which holds it:
    later in-place changes of target (or of its aliases) must be caught, as in PyTorch.
    Written through a view, the result is read back as that view (see Note [Saved records] in
    autograd/graph.py)."""
    if not node._saved:
        return
    history = weakref.ref(target.grad_fn) if through_view else None
    node._resave_output(result._version_counter, target, history)


_INFERENCE_INPLACE_MESSAGE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details."
)


def _check_not_leaf(target: Tensor, base: Tensor | None) -> None:
    if target.grad_fn is None and target._requires_grad and base is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if base is not None and base.grad_fn is None and (base._requires_grad or target._requires_grad):
        # (a view that requires grad, of a base that is a leaf: PyTorch refuses it even when the
        # base does not require grad, as for a view given requires_grad_() itself)
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )


def _take_history(target: Tensor, base: Tensor | None, result: Tensor) -> None:
    """`target` now holds `result`: it (and its base and views, if any) take result's history."""
    if base is not None:
        _inplace.write_through_view(target, result)
        return
    _inplace.set_history(target, result.grad_fn, result._output_nr)
    if _inplace.has_views(target):
        _inplace.refresh_views(target)


def _check_writable(target: Tensor, result: Tensor, cast: bool) -> None:
    if result._data.shape != target._data.shape:
        target_shape = ", ".join(map(str, target._data.shape))
        result_shape = ", ".join(map(str, result._data.shape))
        raise RuntimeError(
            f"output with shape [{target_shape}] doesn't match the broadcast shape "
            f"[{result_shape}]"
        )
    source, destination = result.dtype, target.dtype
    if not cast and source._category > destination._category:
        raise RuntimeError(
            f"result type {scalar_type_name(source)} can't be cast to the desired output type "
            f"{scalar_type_name(destination)}"
        )


from .._vmap_state import vmap_active as _vmap_active  # noqa: E402
from . import _batching, _direct_write, _inplace, _out, _tangents  # noqa: E402  (they build on `apply`, defined above)
from ._batching import vmap_state as _vmap_state  # noqa: E402
