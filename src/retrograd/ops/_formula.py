"""Declared derivatives: an op's grad_fn written as one formula per differentiable input.

Note [Declared derivatives]
    A `Formula` node class is an op's declaration, in the spirit of PyTorch's
    derivatives.yaml with the NumPy forward beside it:

        class MulBackward0(Formula):
            inputs = ("self", "other")
            forward = staticmethod(_multiply)            # on arrays (after promotion)
            derivatives = {
                "self": lambda grad, other: grad * other,
                "other": lambda grad, self: grad * self,
            }

    The parameter names of a formula say what it reads: `grad` (the incoming gradient;
    `grads` for all of a multi-output op's), an input by its name, `result` (the output;
    other names with `outputs`), a keyword parameter of the forward, or `<input>_shape`.
    A node saves exactly what the formulas of the inputs that need a gradient read, and
    nothing else: `x * w` with a frozen `w` saves `w` only, so changing `x` in place
    afterwards is no error (PyTorch's rule, and half the memory).

Note [One formula, two modes]
    Without create_graph, the engine hands a formula NumPy arrays: the incoming gradient,
    and the saved values unpacked to their arrays. No Tensor is made and nothing is
    recorded. With create_graph it hands it Tensors, and the same formula records a graph,
    so every derivative is differentiable again. Formulas therefore use only operators
    (`*`, `-`, `<`...) and the functions of `ops/_math.py`, which accept either kind.
    Selecting derivatives select (`_math.where(mask, grad, 0.0)`), never multiply by a
    mask, so a NaN or Inf in the incoming gradient stays where the forward put it.
"""

from __future__ import annotations

import ast
import inspect
import operator
import os
from typing import ClassVar

import numpy as np

from .._tensor import Tensor
from ..autograd.engine import _SKIP, _fit_to_inputs, _task_state, edges_not_needed
from ..autograd.forward_ad import _active as _dual_active
from ..autograd.forward_ad import _state as _dual
from ..autograd.graph import (
    _COUNTER_ZERO,
    _MISSING,
    _SECOND_BACKWARD_MESSAGE,
    Node,
    PackedSaved,
    _check_version,
    pack_saved,
    saved_hooks_in_use,
    saved_hooks_state,
)

__all__ = ["Formula"]

_FREED = object()  # what a released node keeps in place of a saved tensor

# Note [Numbers for tensor inputs]
#     `x * 0.5` passes a number where the op takes a tensor. PyTorch wraps it in a 0-d tensor
#     (float64, int64, bool or complex128, by the number's type), so a node that saves it
#     shows `_saved_other` as that tensor and frees it after a backward that does not retain
#     the graph: a second backward through the node, or reading the value, then raises. A
#     node here keeps the number itself (it costs nothing to keep), shows it wrapped
#     (`_find_saved`) and counts it as freed when it releases its saved values.
_WRAPPED_NUMBER_DTYPES = {float: np.float64, int: np.int64, bool: np.bool_, complex: np.complex128}


def _wrapped_number_dtype(node, name: str, value):
    """The dtype of PyTorch's tensor for `value`, saved under `name`, where it is a number
    given for a tensor input; else None (Note [Numbers for tensor inputs])."""
    return _WRAPPED_NUMBER_DTYPES.get(type(value)) if name in node.inputs else None


_NO_PARAMS: dict = {}  # the parameters of every node whose op was called without any; never written

# Where a saved value comes from (see Formula._plan).
_FROM_INPUT, _FROM_OUTPUT, _FROM_PARAM, _FROM_SHAPE = range(4)
_TENSOR_PARAMETERS = 1 << 30  # a plan key bit: see Formula._plan


class _Plan:
    """What a node of one op saves for one set of inputs needing grad, and how it calls the
    formulas: shared by every node recorded with that set (nothing per node)."""

    __slots__ = ("backward_on_arrays", "backward_on_tensors", "calls", "names", "parameters", "save",
                 "triples")

    def __init__(self, triples: tuple, parameters: tuple, calls: tuple, backward_on_arrays,
                 backward_on_tensors):
        self.triples = triples  # (name, source, key) for each saved tensor, number or shape
        self.names = tuple(name for name, _, _ in triples)
        self.parameters = parameters  # keyword parameters the formulas read (kept as passed)
        self.calls = calls  # per input: see _formula_call
        self.backward_on_arrays = backward_on_arrays  # see Note [Generated saving and backward]
        self.backward_on_tensors = backward_on_tensors  # (the same note)
        self.save = None  # save(node, inputs, params, outputs), generated once the plan exists


class Formula(Node):
    """The base of declared grad_fn classes; see Note [Declared derivatives]."""

    __slots__ = ("_params", "_plan_used")

    # What a declaration sets.
    inputs: tuple[str, ...] = ("self",)
    outputs: tuple[str, ...] = ("result",)
    derivatives: ClassVar[dict] = {}
    tangent: ClassVar = None  # forward mode: see Note [Tangent formulas] (ops/_tangents.py)
    # The forward on arrays, for the op called without parameters on float32 or float64
    # tensors of one dtype (or one such tensor and a number, as a NumPy scalar of its dtype);
    # it gives that dtype. See Note [Direct entries] (ops/_recording.py).
    array_kernel: ClassVar = None
    # What a node keeps beyond its plan's values, `keep_more(node, needs, inputs)`, run after
    # the plan's saving by `_save` and by the generated record alike (MmBackward0's strides).
    keep_more: ClassVar = None

    # Filled in by __init_subclass__ from the declaration.
    _derivative_table: tuple = ()
    _all_reads: tuple = ()
    _parameter_names: tuple = ()
    _parameter_defaults: ClassVar[dict] = {}
    _plans: ClassVar[dict] = {}
    _declared = True
    _runs_on_arrays = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: a Formula declares its derivatives; the engine calls "
                            "the plan's generated backward, never an override of `backward`")
        if "derivatives" not in cls.__dict__ and "inputs" not in cls.__dict__:
            cls._install_saved_attributes()
            return
        parameters = _forward_parameters(cls)
        table = []
        for name in cls.inputs:
            formula = cls.derivatives.get(name)
            if formula is None:
                table.append(None)
                continue
            reads = tuple(inspect.signature(formula).parameters)
            for read in reads:
                if read not in ("grad", "grads") and _source_of(cls, read, parameters) is None:
                    raise TypeError(f"{cls.__name__}: the derivative of '{name}' reads '{read}', "
                                    "which is no input, output, parameter or shape of the op")
            table.append((formula, reads))
        unknown = set(cls.derivatives) - set(cls.inputs)
        if unknown:
            raise TypeError(f"{cls.__name__}: derivatives for unknown inputs {sorted(unknown)}")
        cls._derivative_table = tuple(table)
        cls._all_reads = tuple(dict.fromkeys(
            read for entry in table if entry is not None for read in entry[1]
            if read not in ("grad", "grads")))
        cls._parameter_names = parameters
        cls._parameter_defaults = _forward_defaults(cls)
        cls._plans = {}
        cls._install_saved_attributes()

    @classmethod
    def _static_saved_names(cls) -> list[str] | None:
        if cls._saved_names is not Formula._saved_names or cls._find_saved is not Formula._find_saved:
            return None  # a class that shows its values otherwise (ShownAsPyTorch...)
        return [_public_name(cls, name) for name in cls._all_reads]

    @classmethod
    def formulas_text(cls) -> dict[str, str]:
        """Each input's derivative as source text (for docs/derivatives.md)."""
        texts = {}
        for name, entry in zip(cls.inputs, cls._derivative_table):
            if entry is not None:
                texts[name] = _lambda_text(entry[0])
        return texts

    # -- recording ------------------------------------------------------------

    @classmethod
    def _plan(cls, needs: int) -> _Plan:
        """What is saved when the inputs in bit mask `needs` need grad.

        Tensors (inputs, outputs) are saved only for the formulas that will run; parameters
        and shapes always, as PyTorch does (they cost nothing and `_saved_<name>` shows them).
        Parameters are kept as the call passed them, unless `needs` has _TENSOR_PARAMETERS
        (a parameter is a tensor: a mask, a condition), when they are saved and version-checked
        like inputs.
        """
        plan = cls._plans.get(needs)
        if plan is None:
            wanted: dict[str, None] = {}
            for position, entry in enumerate(cls._derivative_table):
                if entry is not None and needs >> position & 1:
                    wanted.update((read, None) for read in entry[1])
            triples = []
            parameters = []
            for name in cls._all_reads:
                source, key = _source_of(cls, name, cls._parameter_names)
                if source == _FROM_PARAM and not needs & _TENSOR_PARAMETERS:
                    parameters.append(name)
                elif source in (_FROM_PARAM, _FROM_SHAPE) or name in wanted:
                    triples.append((name, source, key))
            names = ["grad", "grads"] + [name for name, _, _ in triples] + parameters
            calls = tuple(
                None if entry is None or not needs >> position & 1
                else _formula_call(entry[0], [names.index(read) for read in entry[1]])
                for position, entry in enumerate(cls._derivative_table)
            )
            formulas = tuple(None if call is None else entry
                             for call, entry in zip(calls, cls._derivative_table))
            backward_on_arrays = _generate_backward_on_arrays(cls, triples, parameters, formulas)
            backward_on_tensors = _generate_backward_on_tensors(cls, triples, parameters, formulas)
            plan = _Plan(tuple(triples), tuple(parameters), calls, backward_on_arrays, backward_on_tensors)
            plan.save = _generate_save(cls, plan, needs)
            cls._plans[needs] = plan
        return plan

    def _save(self, needs: int, inputs: tuple, params: dict, outputs) -> None:
        """Keep what the plan of `needs` names, each tensor stamped with its version (or packed
        by hooks): the plan's generated `save` (Note [Generated saving and backward]).

        The keyword parameters are kept as the call passed them (a dict of numbers, which
        the cyclic collector does not track); see _parameter for their defaults.
        """
        (self._plans.get(needs) or self._plan(needs)).save(self, inputs, params, outputs)
        if self.keep_more is not None:
            self.keep_more(self, needs, inputs)

    def _pack(self, plan: _Plan, inputs: tuple, params: dict, outputs) -> None:
        """`_save` under saved_tensors_hooks: each saved tensor goes through the pack hook."""
        values = []
        for _name, source, key in plan.triples:
            if source == _FROM_SHAPE:
                value = inputs[key]
                values.append(value._data.shape if isinstance(value, Tensor) else ())
                continue
            if source == _FROM_INPUT:
                value = inputs[key]
            elif source == _FROM_OUTPUT:
                value = outputs if type(outputs) is not tuple else outputs[key]
            else:
                value = params[key] if key in params else self._parameter_defaults[key]
            if isinstance(value, Tensor):
                if value._is_inference:
                    _refuse_inference_tensor()
                value = pack_saved(value, source == _FROM_OUTPUT)
            values.append(value)
        self._saved = tuple(values)
        self._saved_versions = (None,) * len(values)

    # -- running --------------------------------------------------------------

    def backward(self, *grads):
        """Each input's gradient from its formula (None where no gradient is needed).

        Arrays in, arrays out; Tensors in, Tensors out (see Note [One formula, two modes]).
        An edge that the running pass does not need (`autograd.grad` asked for other inputs)
        gets None without its formula running.
        The engine runs a pass without create_graph through the plan's generated
        `backward_on_arrays` instead, and Tensors (create_graph) go to the plan's generated
        `backward_on_tensors` (Note [Generated saving and backward]).
        """
        grad = grads[0]
        if grad is not None:
            if isinstance(grad, Tensor):
                return self._plan_used.backward_on_tensors(self, grads)
            on_arrays = True
        else:
            on_arrays = not any(isinstance(each, Tensor) for each in grads)
        plan = self._plan_used
        values = [grad, grads]
        if self._saved is not None:
            values.extend(self._unpacked(value, version, on_arrays)
                          for value, version in zip(self._saved, self._saved_versions))
        if plan.parameters:
            params, defaults = self._params, self._parameter_defaults
            for name in plan.parameters:
                values.append(params[name] if name in params else defaults[name])
        calls = plan.calls
        unneeded = edges_not_needed(self)
        if len(calls) == 1:  # the common case, without the loop
            call = calls[0]
            if call is None or self[0] is None or (unneeded is not None and unneeded[0]):
                return (None,)
            formula, arguments, spread = call
            return (formula(*arguments(values)) if spread else formula(arguments(values)),)
        results = []
        for position, (next_node, call) in enumerate(zip(self, calls)):
            if next_node is None or call is None or (unneeded is not None and unneeded[position]):
                results.append(None)
            else:
                formula, arguments, spread = call
                results.append(formula(*arguments(values)) if spread else formula(arguments(values)))
        return tuple(results)

    def _unpacked(self, value, version, on_arrays: bool):
        """One saved value, version-checked: its array, or its Tensor for create_graph."""
        if value is _FREED:
            raise RuntimeError(_SECOND_BACKWARD_MESSAGE)
        if version is None:
            if type(value) is PackedSaved:
                value = value.unpack()
                if on_arrays and isinstance(value, Tensor):
                    value = value._data
            return value
        if type(value) is tuple:
            if value[1][0] != version:
                self._check_record(value, version)
            return value[0] if on_arrays else self._rebuild(value)
        if value._version_counter.item() != version:  # named "output 0", as PyTorch
            _check_version(value._version_counter[0], version, value._data, value.grad_fn)
        return value._data if on_arrays else value

    def _release(self) -> None:
        """Free the saved tensors, numbers given for tensor inputs included (Note [Numbers
        for tensor inputs]); other numbers and shapes stay (they hold no memory), as PyTorch."""
        saved = self._saved
        if saved is None or self._released:
            return
        if None not in self._saved_versions:  # tensors only, none packed by hooks: free them all
            self._saved = (_FREED,) * len(saved)
            self._released = True
            return
        kept = []
        freed = False
        plan = self._plan_used
        names = plan.names if plan is not None else (None,) * len(saved)
        for value, version, name in zip(saved, self._saved_versions, names):
            if (version is not None or type(value) is PackedSaved
                    or _wrapped_number_dtype(self, name, value) is not None):
                kept.append(_FREED)
                freed = True
            else:
                kept.append(value)
        if freed:
            self._saved = tuple(kept)
            self._released = True

    def _parameter(self, name: str):
        params = self._params
        return params[name] if name in params else self._parameter_defaults[name]

    def _named_saved_values(self) -> list[tuple[str, tuple]]:
        if self._saved is None:
            return []
        return [(name, (value, version)) for name, value, version
                in zip(self._plan_used.names, self._saved, self._saved_versions)]

    def _find_saved(self, name: str):
        """A value the formulas read; None for a tensor that no needed formula read (PyTorch).

        A shape read as `<input>_shape` shows under PyTorch's name, `<input>_sym_sizes`.
        """
        if name.endswith("_sym_sizes") and name.removesuffix("_sym_sizes") in self.inputs:
            name = name.removesuffix("_sym_sizes") + "_shape"
        elif name.endswith("_shape") and name.removesuffix("_shape") in self.inputs:
            return _MISSING  # the formulas' own name for it: PyTorch knows only `_sym_sizes`
        if name not in self._all_reads:
            return super()._find_saved(name)
        if name in self._plan_used.parameters:
            return self._parameter(name)
        if self._saved is not None:
            for saved_name, value, version in zip(self._plan_used.names, self._saved,
                                                  self._saved_versions):
                if saved_name == name:
                    if value is _FREED:
                        raise RuntimeError(_SECOND_BACKWARD_MESSAGE)
                    value = self._unpack(value, version)
                    wrapped = _wrapped_number_dtype(self, name, value)
                    return value if wrapped is None else Tensor._make(np.asarray(value, wrapped))
        return None

    def _saved_names(self) -> list[str]:
        return [_public_name(type(self), name) for name in self._all_reads]


# Note [Generated saving and backward]
#     Recording a node and running its backward without create_graph are the common case of
#     the whole engine, so each plan (an op and the set of its inputs that need a gradient)
#     gets two functions of its own, generated once from the declaration, as `dataclasses`
#     generates `__init__`: straight-line code with no loop over the plan and no argument
#     lists built at run time. `save` stamps each saved tensor with its version and keeps it
#     as a record (Note [Saved records]) or as it is; saved-tensor hooks, inference tensors and
#     tensor parameters leave it for the general ways. `backward_on_arrays` reads each saved
#     value in one step (a record whose version is unchanged gives its array; anything else
#     goes through `_unpacked`, which checks versions, unpacks hooks and refuses a released
#     node), reads the parameters and calls the formulas of the inputs that need a gradient.
#     With create_graph the same formulas run on Tensors through a third function of the plan,
#     `backward_on_tensors` (called by `Formula.backward`): it reads the saved values alike, a
#     record whose version is unchanged giving its Tensor (`_rebuild`) and anything else going
#     through `_unpacked`, and calls the formulas of the needed edges; it leaves the fitting
#     and the release to the engine, as the general path did. Each function's source is its
#     `source` attribute.


def _generate_save(cls, plan: _Plan, needs: int):
    """The plan's `save(node, inputs, params, outputs)` as one generated function (see
    Note [Generated saving and backward])."""
    _, body, namespace = save_code(cls, plan, needs)
    lines = ["def save(node, inputs, params, outputs):"]
    if plan.parameters:
        with_tensors = needs | _TENSOR_PARAMETERS
        lines += [f"    if {_tensor_parameter_test(plan)}:",
                  f"        return node._plan({with_tensors}).save(node, inputs, params, outputs)"]
    lines += ["    " + line for line in body[:2]]  # (the plan and parameters: what _pack needs too)
    if plan.triples:
        lines += [f"    if {_HOOKS_TEST}:",
                  "        return node._pack(PLAN, inputs, params, outputs)"]
    lines += ["    " + line for line in body[2:]]
    return _compiled(lines, "save", f"<save of {cls.__name__}>", namespace)


_HOOKS_TEST = "hooks_in_use.count and hooks_state.stack"  # saved-tensor hooks are in force


def _tensor_parameter_test(plan: _Plan) -> str:
    """The condition, on `params`, under which a plan's parameters are saved as tensors."""
    return "params and (" + " or ".join(f"isinstance(params.get({name!r}), Tensor)"
                                        for name in plan.parameters) + ")"


def save_code(cls, plan: _Plan, needs: int, prefix: str = "", outputs: str = "outputs",
              params: bool = True, metas: bool = False):
    """The plan's saving as straight-line code, for `save` and for an op's generated record
    (Note [Generated recording], ops/_table.py), which runs it in place of a call:
    `(guard, body, namespace)`. `body` saves in the common case: no tensor parameters, no
    saved-tensor hooks; `guard` is the condition under which the plan's own `save` must run
    instead (None when neither can happen to the plan). Names the code binds
    start with `prefix`; it reads `node`, `inputs`, `params` and the output(s) as `outputs`.
    Without `params` the code is for a call that has none (a direct entry's): every
    parameter is at its default. With `metas` it runs in a record, where `meta_<k>` is input
    k's (shape, dtype) or None (Note [Saved shapes of a record])."""
    plan_name = prefix + "PLAN"
    namespace = {"Tensor": Tensor, plan_name: plan, "hooks_in_use": saved_hooks_in_use,
                 "hooks_state": saved_hooks_state, "dual": _dual, "dual_active": _dual_active,
                 "refuse": _refuse_inference_tensor, "NO_PARAMS": _NO_PARAMS,
                 "COUNTER_ZERO": _COUNTER_ZERO}
    conditions = []
    if plan.parameters and params:
        conditions.append(f"({_tensor_parameter_test(plan)})")
    if plan.triples:
        conditions.append(f"({_HOOKS_TEST})")
    # an op called without parameters keeps the shared empty dict: one object less per node
    # for the collector to visit (Note [A light graph])
    lines = [f"node._plan_used = {plan_name}",
             "node._params = params if params else NO_PARAMS" if params else "node._params = NO_PARAMS"]
    for index, (_name, source, key) in enumerate(plan.triples):
        value, version = f"{prefix}kept_{index}", f"{prefix}version_{index}"
        if source == _FROM_SHAPE:
            shape = f"inputs[{key}]._data.shape if isinstance(inputs[{key}], Tensor) else ()"
            if metas:
                shape = f"meta_{key}[0] if meta_{key} is not None else ({shape})"
            lines += [f"{value} = {shape}", f"{version} = None"]
            continue
        if source == _FROM_INPUT:
            lines.append(f"{value} = inputs[{key}]")
        elif source == _FROM_OUTPUT:
            lines.append(f"{value} = {outputs} if type({outputs}) is not tuple else {outputs}[{key}]")
        else:
            default = f"{prefix}default_{index}"
            namespace[default] = cls._parameter_defaults[key]
            lines.append(f"{value} = params[{key!r}] if {key!r} in params else {default}" if params
                         else f"{value} = {default}")
        lines += [f"if isinstance({value}, Tensor):",
                  f"    if {value}._is_inference:",
                  "        refuse()",
                  f"    counter = {value}._version_counter",
                  f"    {version} = counter.item()"]
        # (a record keeps the counter: own_counter, inlined; Note [The shared zero version])
        own = ["if counter is COUNTER_ZERO:", f"    counter = {value}._version_counter = COUNTER_ZERO.copy()"]
        if source == _FROM_OUTPUT:
            lines += [*("    " + line for line in own),
                      f"    {value} = ({value}._data, counter, {value}._output_nr, None)"]
        elif source == _FROM_INPUT:
            lines += [f"    if {value}._requires_grad and (not dual_active.count or dual.level < 0):",
                      *("        " + line for line in own),
                      f"        {value} = ({value}._data, counter, {key})"]
        lines += ["else:", f"    {version} = None"]
    if plan.triples:
        count = range(len(plan.triples))
        comma = "," if len(count) == 1 else ""
        kept = ", ".join(f"{prefix}kept_{index}" for index in count)
        versions = f"({', '.join(f'{prefix}version_{index}' for index in count)}{comma})"
        # (all at zero, the common case of a fresh result: one shared tuple, Note [Shared saved versions])
        zeros = " and ".join(f"{prefix}version_{index} == 0"
                             for index, (_, source, _) in enumerate(plan.triples) if source != _FROM_SHAPE)
        namespace[prefix + "ZERO_VERSIONS"] = tuple(None if source == _FROM_SHAPE else 0
                                                    for _, source, _ in plan.triples)
        versions = f"{prefix}ZERO_VERSIONS if {zeros} else {versions}" if zeros else f"{prefix}ZERO_VERSIONS"
        lines += [f"node._saved = ({kept}{comma})", f"node._saved_versions = {versions}"]
    return (" or ".join(conditions) if conditions else None), lines, namespace


# Note [Shared saved versions]
#     A node keeps the version of each tensor it saves beside it (`_saved_versions`, None for a
#     shape or a number). Most saved tensors are fresh results, at version 0, so most such
#     tuples are equal: (0,) for sigmoid's and tanh's result, (0, 0) for a product of two.
#     Saving shares one tuple per plan for that case (None where the plan keeps a shape), as
#     the all-zero output numbers are shared (Note [A light graph]): each tuple made is one
#     more object for the cyclic collector to visit. The tuple is read, never changed.


# Note [Saved shapes of a record]
#     A node that keeps an input's shape (`self_shape`, addmm's three, split's) would keep a
#     new tuple: reading `ndarray.shape` makes one at every read, and each is one more object
#     for the cyclic collector to visit until its next collection (Note [A light graph]). A
#     record has already read each input that needs a gradient as its shared (shape, dtype)
#     (`meta_<k>`, Note [Shared input metadata]), whose shape is that same tuple, made once
#     per distinct shape: it keeps that one. An input that needs none is read as before.


def saving_in_record(node_class: type, arity: int, params: bool = True, prefix: str = "",
                     needs_known: int | None = None) -> tuple[list[str], dict]:
    """The lines of a generated record that save what the node keeps, and the names they
    read (Note [Generated recording], ops/_table.py). An op of up to three inputs saves in
    place: the code of the plan of each set of inputs that may need grad, one branch each
    (save_code), a call less per op (linear's addmm has three); others call their plan's
    `save` (and a class with its own `_save`, that). The class's `keep_more` runs after.
    Without `params`, for a call that has none (save_code). The names the lines read from
    their namespace start with `prefix` (several ops' savings in one function: Note
    [Recorded programs], ops/_recording.py), but for those of the last two cases, which read
    `CLASS` and `PLANS`. With `needs_known`, the code of that one set of inputs needing grad,
    which the caller knows."""
    if node_class._save is not Formula._save:
        return ["    node._save(needs, inputs, params, output)"], {}
    more = [f"    {prefix}KEEP_MORE(node, needs, inputs)"] if node_class.keep_more is not None else []
    namespace = {f"{prefix}KEEP_MORE": node_class.keep_more}
    if arity > 3:
        return ["    (PLANS.get(needs) or CLASS._plan(needs)).save(node, inputs, params, output)",
                *more], namespace

    lines = []
    last = (1 << arity) - 1
    branched = needs_known is None  # (one branch per set of inputs needing grad)
    for needs in range(1, last + 1) if branched else (needs_known,):
        plan_prefix = f"{prefix}plan{needs}_"
        guard, body, names = save_code(node_class, node_class._plan(needs), needs, plan_prefix, "output",
                                       params, metas=True)
        namespace.update(names)
        indent = "    "
        if branched and needs != last:  # (the last set is what is left: no test)
            lines.append(f"    {'if' if needs == 1 else 'elif'} needs == {needs}:")
            indent += "    "
        elif branched and last != 1:
            lines.append("    else:")
            indent += "    "
        if guard is not None:
            lines += [f"{indent}if {guard}:",
                      f"{indent}    {plan_prefix}PLAN.save(node, inputs, params, output)",
                      f"{indent}else:"]
            indent += "    "
        lines += [indent + line for line in body]
    return lines + more, namespace


def _fresh_tensor() -> Tensor:
    tensor = object.__new__(Tensor)
    tensor._setup(np.empty(0), None, 0, None)
    return tensor


_FRESH_NODE = (lambda: Node((), (), ()), {"_next_nrs", "_input_meta"})
_FRESH_TENSOR = (_fresh_tensor, {"_data", "grad_fn", "_requires_grad", "_output_nr", "_version_counter",
                                 "_meta", "_is_inference"})


def _fresh_fields(maker) -> list[tuple[str, object]]:
    """The slots a new object starts with, set to a constant (None, False) by its class's own
    constructor (`Node.__init__`, `Tensor._setup`), less those the generated record sets from
    the op: read from an object so made, so the record stores what the constructor stores and
    the constructor stays the one place that says it. CPython specialises each attribute store
    in place for the one class it meets, so stores in each op's record stay fast, where the
    shared constructor sees every op's class and falls back to the slow generic path (and
    costs a call)."""
    make, set_by_record = maker
    made = make()
    fields = []
    for cls in type(made).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            if name in set_by_record or name == "__weakref__" or not hasattr(made, name):
                continue
            value = getattr(made, name)
            if value is not None and type(value) is not bool:
                raise TypeError(f"{name} starts as {value!r}: the generated record stores constants only")
            fields.append((name, value))
    return fields


def _compiled(lines: list, name: str, filename: str, namespace: dict):
    """The function `name` defined by source `lines`, with its source as `.source`. Its frames
    are retrograd's own: its file is named inside this folder, and its module is this one, so
    warnings and their filters look past it to the user's line (Note [No NumPy warnings])."""
    source = "\n".join(lines) + "\n"
    namespace.setdefault("__name__", __name__)
    exec(compile(source, os.path.join(os.path.dirname(__file__), filename), "exec"), namespace)
    function = namespace[name]
    function.source = source
    return function


def _generate_backward_on_arrays(cls, triples: list, parameters: list, formulas: tuple):
    """The plan's backward on arrays, `backward_on_arrays(node, grads, batch, release,
    needed=None, plain=False) -> tuple`, as one generated function (see Note [Generated saving
    and backward]); `needed` is the pass's map of the nodes it runs, whose skipped ones get no
    formula run for them (PyTorch's should_compute_output); its gradients are fitted to their
    inputs' shapes and dtypes, after the leading `batch` dimensions of a batched pass (by the
    engine's `_fit_to_inputs`, where they are not). With `release` it frees the saved tensors
    as `_release` does, once it has read them (the caller passes it only when no post hook of
    the node may still read them: PyTorch releases after those). With `plain` it is the
    engine's whole turn for the node (Note [The plain turn of a node], autograd/engine.py): it
    answers None, doing nothing, where a hook or a missing gradient asks for more."""
    namespace = {"_unpacked": Formula._unpacked, "SKIP": _SKIP, "FREED": _FREED, "PackedSaved": PackedSaved,
                 "Tensor": Tensor}
    local = {"grad": "grad", "grads": "grads"}
    lines = ["def backward_on_arrays(node, grads, batch, release, needed=None, plain=False):",
             "    grad = grads[0]",
             _plain_guard(formulas),
             "        return None"]
    tensors = [index for index, (_, source, _) in enumerate(triples) if source in (_FROM_INPUT, _FROM_OUTPUT)]
    general = any(source == _FROM_PARAM for _, source, _ in triples)  # a tensor parameter (a mask)
    if triples:
        lines.append("    saved = node._saved")
    if tensors or general:
        lines.append("    versions = node._saved_versions")
    for index, (name, _source, _key) in enumerate(triples):
        local[name] = f"saved_{index}"
        lines.append(f"    saved_{index} = saved[{index}]")
        if index in tensors or general:
            lines.append(f"    version_{index} = versions[{index}]")
    unpack_all = [f"        saved_{index} = _unpacked(node, saved_{index}, version_{index}, True)"
                  for index, (_, source, _) in enumerate(triples)
                  if index in tensors or source == _FROM_PARAM]
    packed = " or ".join(f"type(saved_{index}) is PackedSaved" for index, (_, source, _) in enumerate(triples)
                         if index in tensors or source == _FROM_PARAM)
    # (a packed value's unpack hook is user code: the general turn runs it, in the pass's modes,
    # Note [The modes of a pass] in autograd/engine.py)
    if general:
        lines += [f"    if plain and ({packed}):", "        return None",
                  *(line[4:] for line in unpack_all), "    if release:", "        node._release()"]
    elif tensors:
        # Each saved tensor is a record, or a Tensor kept as it is (an input that does not require
        # grad, as a gradient given to autograd.grad), whose version is unchanged (then all are
        # freed, shapes kept, as _release does), or each is a number given for a tensor input
        # (freed alike, Note [Numbers for tensor inputs]; None, an optional input not given,
        # stays), or else each goes the general way (versions checked in order, hooks unpacked,
        # a released node refused) and _release decides what to free.
        unchanged = " and ".join(
            f"version_{index} is not None and (type(saved_{index}) is tuple and version_{index} == "
            f"saved_{index}[1].item() or type(saved_{index}) is Tensor and version_{index} == "
            f"saved_{index}._version_counter.item())" for index in tensors)
        numbers = " and ".join(f"version_{index} is None and type(saved_{index}) is not PackedSaved "
                               f"and saved_{index} is not FREED" for index in tensors)
        if len(tensors) == len(triples):
            kept = "RELEASED"
            namespace["RELEASED"] = (_FREED,) * len(triples)
        else:  # (shapes stay, as _release keeps them)
            kept = ", ".join("FREED" if index in tensors else f"saved_{index}"
                             for index in range(len(triples)))
            kept = f"({kept}{',' if len(triples) == 1 else ''})"
        lines += [f"    if {unchanged}:",
                  *(f"        saved_{index} = saved_{index}[0] if type(saved_{index}) is tuple "
                    f"else saved_{index}._data" for index in tensors),
                  "        if release:",
                  f"            node._saved = {kept}",
                  "            node._released = True",
                  f"    elif not ({numbers}):",
                  f"        if plain and ({packed}):",
                  "            return None",
                  *unpack_all,
                  "        if release:",
                  "            node._release()",
                  f"    elif release and {' and '.join(f'saved_{index} is not None' for index in tensors)}:",
                  f"        node._saved = {kept}",
                  "        node._released = True",
                  "    elif release:  # (an optional input not given: _release keeps its None)",
                  "        node._release()"]
    lines += _parameter_lines(cls, parameters, local, namespace)
    if any(entry is not None and "grads" in entry[1] for entry in formulas):
        lines.append("    grads = tuple(grads)")
    if any(entry is not None for entry in formulas):
        lines.append("    metas = node._input_meta")
    unfitted, quick_unfitted = [], []
    for position, entry in enumerate(formulas):
        if entry is None:
            continue
        result = f"result_{position}"
        lines += _formula_call_lines(position, entry, local, namespace)
        unfitted.append(f"({result} is not None and (type({result}) is not ndarray or "
                        f"{result}.shape != metas[{position}][0] or {result}.dtype != metas[{position}][1]))")
        # (the usual dtype object is the very one the input had: compared by identity first)
        quick_unfitted.append(f"({result} is not None and (type({result}) is not ndarray or "
                              f"{result}.dtype is not metas[{position}][1] or "
                              f"{result}.shape != metas[{position}][0]))")
    results = ", ".join("None" if entry is None else f"result_{position}"
                        for position, entry in enumerate(formulas))
    results = f"({results}{',' if len(formulas) == 1 else ''})"
    if unfitted:
        # (a 0-d result of NumPy is a scalar: made an array here, it fits without the general path)
        namespace.update(ndarray=np.ndarray, fit_to_inputs=_fit_to_inputs, numpy_scalar=np.generic,
                         asarray=np.asarray)
        scalars = [f"        if isinstance(result_{position}, numpy_scalar):\n"
                   f"            result_{position} = asarray(result_{position})"
                   for position, entry in enumerate(formulas) if entry is not None]
        lines += [f"    if {' or '.join(quick_unfitted)}:", *scalars,
                  f"        if {' or '.join(unfitted)}:",
                  f"            return fit_to_inputs(node, {results}, batch, True)"]
    lines.append(f"    return {results}")
    return _compiled(lines, "backward_on_arrays", f"<backward of {cls.__name__}>", namespace)


def _plain_guard(formulas: tuple) -> str:
    """The line of a generated backward on arrays that sends a node to the engine's general turn
    (Note [The plain turn of a node], autograd/engine.py): a hook of any kind, or no gradient.

    Note [The plain turn of several outputs]
        A node whose formulas read `grads` (split's, chunk's, unbind's: the pieces of an
        LSTM's gates at every step) takes its gradients as the engine's buffer holds them,
        one per output up to the last that got one, None for those that got none: what the
        general turn hands it too, when no hook asks for one per output. So its plain turn
        needs only one gradient that is not None (with none, the general turn gives each
        input None without running a formula). A node whose formulas read `grad` alone
        takes the plain turn with exactly one gradient, which is all a node of one output
        gets: the formula reads nothing else.
    """
    if any(entry is not None and "grads" in entry[1] for entry in formulas):
        return ("    if plain and (node._extras is not None or (grad is None and "
                "all(each is None for each in grads))):")
    return "    if plain and (grad is None or len(grads) != 1 or node._extras is not None):"


def _parameter_lines(cls, parameters: list, local: dict, namespace: dict) -> list:
    """The lines of a generated backward that read the op's parameters (a default where the call
    left one out) into locals, each named in `local`."""
    lines = ["    params = node._params"] if parameters else []
    for index, name in enumerate(parameters):
        value = local[name] = f"parameter_{index}"
        namespace[f"default_{index}"] = cls._parameter_defaults[name]
        lines.append(f"    {value} = params[{name!r}] if {name!r} in params else default_{index}")
    return lines


def _formula_call_lines(position: int, entry: tuple, local: dict, namespace: dict) -> list:
    """The lines of a generated backward that run input `position`'s formula (entry: the
    formula and the names it reads, each a local of `local`) into `result_<position>`, or set
    None where the edge has no node or the pass skips it (`needed`)."""
    formula, reads = entry
    namespace[f"formula_{position}"] = formula
    return [f"    edge = node[{position}]",
            "    if edge is not None and (needed is None or needed.get(edge) != SKIP):",
            f"        result_{position} = formula_{position}({', '.join(local[read] for read in reads)})",
            "    else:",
            f"        result_{position} = None"]


def _generate_backward_on_tensors(cls, triples: list, parameters: list, formulas: tuple):
    """The plan's backward on Tensors (create_graph), `backward_on_tensors(node, grads) ->
    tuple`, as one generated function (see Note [Generated saving and backward]): what
    `Formula.backward`'s general path does for Tensors, in straight-line code. An edge that the
    running pass skips (edges_not_needed) gets None without its formula running."""
    namespace = {"_unpacked": Formula._unpacked, "SKIP": _SKIP, "TASK": _task_state, "Tensor": Tensor}
    local = {"grad": "grad", "grads": "grads"}
    lines = ["def backward_on_tensors(node, grads):",
             "    grad = grads[0]"]
    if triples:
        lines += ["    saved = node._saved", "    versions = node._saved_versions"]
    for index, (name, source, _key) in enumerate(triples):
        value, version = f"saved_{index}", f"version_{index}"
        local[name] = value
        lines += [f"    {value} = saved[{index}]", f"    {version} = versions[{index}]"]
        if source == _FROM_SHAPE:  # (kept as it is, released or not: _release keeps shapes)
            continue
        # a record whose version is unchanged gives its Tensor, a saved Tensor whose version is
        # unchanged is itself; anything else (a number, hooks, a change, a release) is _unpacked's
        lines += [f"    if (type({value}) is tuple and {version} is not None",
                  f"            and {version} == {value}[1].item()):",
                  f"        {value} = node._rebuild({value})",
                  f"    elif not (type({value}) is Tensor and {version} is not None",
                  f"              and {version} == {value}._version_counter.item()):",
                  f"        {value} = _unpacked(node, {value}, {version}, False)"]
    lines += _parameter_lines(cls, parameters, local, namespace)
    if any(entry is not None for entry in formulas):
        lines += ["    task = TASK.current", "    needed = None if task is None else task.needed"]
    for position, entry in enumerate(formulas):
        if entry is None:
            continue
        lines += _formula_call_lines(position, entry, local, namespace)
    results = ", ".join("None" if entry is None else f"result_{position}"
                        for position, entry in enumerate(formulas))
    lines.append(f"    return ({results}{',' if len(formulas) == 1 else ''})")
    return _compiled(lines, "backward_on_tensors", f"<backward on tensors of {cls.__name__}>", namespace)


def _formula_call(formula, positions: list[int]) -> tuple:
    """How backward calls one formula: (formula, a getter of its arguments from the list
    [grad, grads, *saved, *params], whether the getter gives a tuple to spread). The getter is
    an `itemgetter`, so gathering the arguments runs no Python code."""
    return (formula, operator.itemgetter(*positions), len(positions) > 1)


def _public_name(cls: type[Formula], name: str) -> str:
    """The `_saved_` name PyTorch gives a value a formula reads (shapes are `_sym_sizes`)."""
    if _source_of(cls, name, cls._parameter_names)[0] == _FROM_SHAPE:
        return name.removesuffix("_shape") + "_sym_sizes"
    return name


def _forward_parameters(cls) -> tuple[str, ...]:
    """The keyword parameters of the op's forward (what is not an input)."""
    forward = getattr(cls, "forward", None)
    if forward is None:
        return ()
    names = []
    for parameter in inspect.signature(forward).parameters.values():
        if parameter.name not in cls.inputs and parameter.kind is not parameter.VAR_POSITIONAL:
            names.append(parameter.name)
    return tuple(names)


def _forward_defaults(cls) -> dict:
    """The default of each keyword parameter of the op's forward (None where it has none)."""
    signature = inspect.signature(cls.forward)
    return {
        name: None if signature.parameters[name].default is inspect.Parameter.empty
        else signature.parameters[name].default
        for name in cls._parameter_names
    }


def _source_of(cls, name: str, parameters: tuple):
    """(source, key) of a name a formula reads, or None if the op has no such value."""
    if name in cls.inputs:
        return (_FROM_INPUT, cls.inputs.index(name))
    if name in cls.outputs:
        return (_FROM_OUTPUT, cls.outputs.index(name))
    if name in parameters:
        return (_FROM_PARAM, name)
    if name.endswith("_shape") and name[: -len("_shape")] in cls.inputs:
        return (_FROM_SHAPE, cls.inputs.index(name[: -len("_shape")]))
    return None


def _lambda_text(function) -> str:
    """The body of a lambda as written in its module, or the call of a named function."""
    parameters = list(inspect.signature(function).parameters)
    if function.__name__ != "<lambda>":
        return f"{function.__name__}({', '.join(parameters)})"
    source = inspect.getsource(inspect.getmodule(function))
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Lambda) and node.lineno == function.__code__.co_firstlineno
                and [argument.arg for argument in node.args.args] == parameters):
            return " ".join(ast.get_source_segment(source, node.body).split())
    return "<lambda>"


def _refuse_inference_tensor():
    from ._table import _INFERENCE_SAVED_MESSAGE

    raise RuntimeError(_INFERENCE_SAVED_MESSAGE)
