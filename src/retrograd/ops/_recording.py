"""Generated recording: each declared op's `record`, and the direct entries of the ops whose
public function is nothing but the op runner.

Note [Generated recording]
    Recording one op is the forward half of the engine's common case, so each declared op
    whose forward gives one array (a view of its input or not) gets a `record(inputs,
    params)` of its own, generated on first use in the way Formula generates each plan's
    `save` (Note [Generated saving and backward], _formula.py): the loop over the inputs is
    unrolled to the op's arity, the class's forward and plans are bound once instead of looked
    up per call, and the node and its output are made without a call: `list.__new__` and
    `object.__new__` (a node is a list: Note [A light graph], autograd/graph.py), then the
    fields `Node.__init__` and `Tensor._setup` set, stored in place (`_fresh_fields`); an op
    of one or two inputs also saves in place, with its plans' own code (`saving_in_record`,
    _formula.py), and calls its forward without building arguments when it has no
    parameters. It does what `_table._record` does, in the same order, and hands anything
    unusual back to `_record` or `_finish_record`: another number of inputs, a forward that
    gives a tuple (several outputs, several views). `record.source` shows the code.

Note [Direct entries]
    `x + y` used to pass through five Python functions before NumPy added anything: the
    operator (NotImplemented for foreign operands), the op's function (`add`), the runner
    `apply` (which packs the inputs and asks about vmap, forward mode and grad mode), the
    generated record, and the forward. Each call costs about as much as the record's own
    work. Most ops' functions are nothing but the runner in the common case: `add(x, y)` is
    `apply(AddBackward0, x, y)` when `alpha` is left at 1. `register(direct=AddBackward0)`
    declares that, and `register` then gives `retrograd.add`, `Tensor.add` and `Tensor.__add__`
    a generated entry of the same signature whose body is the record itself: when every
    parameter that is not an input is at its default (the object, not an equal value), no
    vmap or dual level is open and no profiler is watching, the entry asks about grad mode
    and records (or only runs) the op in its own frame; otherwise it calls the function,
    method or operator it replaces, unchanged. A failure is explained as the checked
    function explains it (Note [Checked arguments], _table.py), so only ops without checks
    made before they run get an entry. `entry.source` shows the code. The entry reads one
    count, `entry_detours` (_thread_counts.py), which an open vmap level, an open dual level
    and `entries_off` (raised by the profiler while it watches) each raise with their own, and
    takes the long way while it is not 0.

    Parameters at their defaults are the common case of ops that take some: `x.sum()` is
    `apply(SumBackward0, x)`, whose forward's own defaults (every dim, no keepdim, no dtype)
    are sum's, so its entry calls the forward with no parameters, as the function does. An op
    that picks its node from its inputs declares, with `direct_if`, the test under which it is
    `apply(NodeClass, *inputs)` (INPUT_TESTS below: matmul records MmBackward0 for two float
    matrices of one dtype whose inner sizes agree, which pass every check it makes); the
    entry tests it with the other detours, so anything else (a vector, a batch, an integer or
    mixed dtype, sizes that do not fit) goes to the function, which picks, checks and explains.
    An op whose node takes a number as a parameter rather than an input names it with
    `direct_params`: `1 - x` is `apply(RsubBackward1, x, other=1, alpha=1)` where `other` is a
    Python number (its test, "a number second"), so the entry passes `{'other': other,
    'alpha': alpha}` as the op's parameters (the operator, which has no `alpha`, passes the
    function's default) and calls the forward with them. An operator the op's module makes
    itself (matmul's, which refuses numbers) gets its entry from `_table.with_direct_entry`.

    The forward is two calls more (the forward, its operand promotion). An op that declares
    its `array_kernel` (Formula) has it called on its inputs' arrays instead, by entries and
    records alike, when the op has no parameters and its inputs are float32 or float64
    tensors of one dtype (or such a tensor and a number its dtype keeps, whose NumPy scalar
    was made before: Note [Numbers as NumPy scalars], pointwise/promotion.py); anything
    else, a failure to broadcast included, goes to the forward, which promotes, checks and
    explains. The declaring op's forward calls the same kernel, so the two cannot disagree.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._tensor import Tensor
from .._thread_counts import ProcessWideCount, entry_detours
from ..autograd import grad_mode
from ..autograd.anomaly import anomaly_mode
from ..autograd.graph import (
    _COUNTER_ZERO,
    NUMBERS_OF_ONE,
    Node,
    meta_of,
    shared_meta,
    shared_meta_of_one,
    shared_meta_of_two,
    shared_metas,
    shared_metas_of_one,
    shared_metas_of_two,
    zero_output_numbers,
)
from . import _inplace, _table
from ._formula import (
    _FRESH_NODE,
    _FRESH_TENSOR,
    _NO_PARAMS,
    Formula,
    _compiled,
    _fresh_fields,
    saving_in_record,
)
from ._zero_gradient import ZeroGradient
from .pointwise.promotion import _SCALARS

__all__ = ["INPUT_TESTS", "Step", "direct_entry", "entries_off", "program_recorder", "recorder"]

# raised while every call must take the long way (the profiler)
entries_off = ProcessWideCount(part_of=entry_detours)


def recorder(node_class: type[Node]) -> Callable:
    """The generated `record(inputs, params)` of a declared op (Note [Generated recording]),
    or `_record` bound to the class for ops that keep the general path."""
    if not _generated(node_class):
        return functools.partial(_table._record, node_class)
    arity = len(node_class.inputs)
    values = [f"value_{index}" for index in range(arity)]
    lines = ["def record(inputs, params):",
             f"    if len(inputs) != {arity}:",
             "        return general(CLASS, inputs, params)",
             f"    {', '.join(values)}{',' if arity == 1 else ''} = inputs",
             *_recording_lines(node_class, values)]
    return _compiled(lines, "record", f"<record of {node_class.__name__}>",
                     {**_namespace(node_class), "general": _table._record})


def _generated(node_class: type[Node]) -> bool:
    """Whether the op gets generated code: a declared op whose outputs are all differentiable
    (one output or view, or several: Note [Generated recording of several outputs])."""
    return (node_class._declared and not node_class.non_differentiable_outputs
            and bool(node_class.inputs))


def _recording_lines(node_class: type[Node], values: list[str], params: bool = True) -> list[str]:
    """The body of a record, once `inputs`, `params` and one name per input (`values`) are
    bound: the edges, the node, the forward, the output and what the node saves. Without
    `params` the op is called without parameters (`params` is empty)."""
    arity = len(values)
    edges, metas, numbers = ([f"{kind}_{index}" for index in range(arity)]
                             for kind in ("edge", "meta", "number"))
    lines = ["    needs = 0"]
    for index, (value, edge, meta, number) in enumerate(zip(values, edges, metas, numbers)):
        lines += [f"    if isinstance({value}, Tensor) and {value}._requires_grad:",
                  *("    " + line for line in _edge_lines(value, edge, meta, number)),
                  f"        needs |= {1 << index}",
                  "    else:",
                  f"        {edge} = {meta} = None",
                  f"        {number} = 0"]
    output = _output_lines(node_class, "0", "result_meta", "INFERENCE.count != 0 and MODES.inference")
    if node_class.is_view:
        output = _view_lines(values[0], output)
    saving, _ = saving_in_record(node_class, arity, params)
    saved_later = _saves_on_every_path(node_class, arity)
    return [*lines,
            "    if not needs:",
            *_unrecorded_lines(node_class, values, params),
            "    node = new_node(CLASS)",
            *(f"    node.append({edge})" for edge in edges),
            _next_numbers_line(numbers),
            *_input_meta_lines(metas),
            *(f"    node.{name} = {value!r}" for name, value in _fresh_fields(_FRESH_NODE)
              if not (saved_later and name in _SAVING)),
            *_forward_lines(node_class, values, params, "    ", with_meta=True),
            "    if type(result) is not ndarray:",
            *("    " + line for line in _several_outputs_lines(node_class, values, saving)),
            "        if not isinstance(result, numpy_scalar) or IS_VIEW:  # (a 0-d result)",
            "            return finish(CLASS, node, needs, inputs, params, result)",
            "        result = asarray(result)",
            "    output = new(Tensor)",
            *output,
            *saving,
            "    if anomaly_mode.enabled:",
            "        note_anomaly(node, inputs, output)",
            "    return output"]


def _edge_lines(value: str, edge: str, meta: str, number: str) -> list[str]:
    """Lines that bind the edge to `value`, a tensor that requires grad: its node (`edge`:
    its grad_fn, or its leaf's AccumulateGrad), the output `number` of it and its (shape,
    dtype) `meta`."""
    return [f"    {edge} = {value}.grad_fn",
            f"    if {edge} is None:",
            f"        accumulator = {value}._grad_accumulator",
            f"        {edge} = accumulator() if accumulator is not None else None",
            f"        if {edge} is None:",
            f"            {edge} = {value}._get_grad_accumulator()",
            f"        {number} = 0",
            "    else:",
            f"        {number} = {value}._output_nr",
            f"    {meta} = {value}._meta",
            f"    if {meta} is None:",
            f"        {meta} = {value}._meta = meta_of({value}._data)"]


def _next_numbers_line(numbers: list[str], zeros: str = "ZEROS") -> str:
    """The line that sets the node's `_next_nrs` from its inputs' output numbers (`numbers`,
    expressions; "0" where known): a shared tuple where there is one (graph.NUMBERS_OF_ONE,
    the all-zero tuple named `zeros`)."""
    if len(numbers) == 1:
        shared, number = len(NUMBERS_OF_ONE), numbers[0]
        return f"    node._next_nrs = NUMBERS_OF_ONE[{number}] if {number} < {shared} else ({number},)"
    asked = [number for number in numbers if number != "0"]
    return f"    node._next_nrs = ({', '.join(numbers)}) if {' or '.join(asked)} else {zeros}"


def _view_lines(base: str, output: list[str]) -> list[str]:
    """The lines `output` that make a view's output, with what a view adds around them: it
    shares its input `base`'s memory and version counter and is registered with its base (as
    _finish_record makes a view)."""
    return [f"    counter = {base}._version_counter",  # (own_counter, inlined)
            "    if counter is COUNTER_ZERO:",
            f"        counter = {base}._version_counter = COUNTER_ZERO.copy()",
            *output,
            f"    output._base = {base}._base if {base}._base is not None else {base}",
            "    register_view(output, output._base)"]


def _output_lines(node_class: type[Node], output_nr: str, meta: str, inference: str,
                  recorded: bool = True) -> list[str]:
    """Lines that make `output` (`new(Tensor)`) the output number `output_nr` of `node`, with
    array `result`, metadata `meta` and inference flag `inference` (expressions): the fields
    Tensor._setup sets, stored in place (two calls less per op; _fresh_fields says why). A
    view's `counter` (its input's version counter) is bound before; its base is set after.
    Without `recorded`, a tensor without history (as Tensor._make makes it)."""
    view = node_class.is_view and recorded
    return ["    output._data = result",
            "    output.grad_fn = " + ("node" if recorded else "None"),
            f"    output._requires_grad = {recorded}",
            f"    output._output_nr = {output_nr}",
            f"    output._meta = {meta}",
            "    output._version_counter = " + ("counter" if view else "COUNTER_ZERO"),
            *(f"    output.{name} = {value!r}" for name, value in _fresh_fields(_FRESH_TENSOR)
              if not (view and name == "_base")),
            f"    output._is_inference = {inference}"]


# Note [Generated recording of several outputs]
#     split, chunk, unbind and unsafe_split give a tuple of arrays: an LSTM cell cuts its gates
#     so at every step. Their record makes the outputs in a loop of the single output's lines
#     (Note [Generated recording]), the output number counted, in place of `_finish_record`'s
#     call per output, its view marking per output and its call of the node's `_save`. Views
#     share their input's version counter and base, each registered with the base as
#     `_finish_record` registers them; what the node saves is saved by the same lines as for
#     one output, which read a saved output from the tuple. The node's `_output_count` is set
#     as `_finish_record` sets it. Ops with non-differentiable outputs (max's indices) keep the
#     general path. Each output keeps its (shape, dtype) (Tensor._meta), found once for the
#     pieces of one shape, which the ops that take them would otherwise look up one by one.


def _several_outputs_lines(node_class: type[Node], values: list[str], saving: list[str]) -> list[str]:
    """Lines (one level in) that finish the record of a forward that gave a tuple of arrays:
    Note [Generated recording of several outputs]. `saving` are the lines that save what the
    node keeps."""
    made = _output_lines(node_class, "output_nr", "meta", "inference")
    if node_class.is_view:
        made += ["    output._base = base", "    register_view(output, base)"]
    lines = ["    if type(result) is tuple:"]
    if node_class.is_view:
        base = values[0]
        lines += [f"        counter = {base}._version_counter",
                  "        if counter is COUNTER_ZERO:",
                  f"            counter = {base}._version_counter = COUNTER_ZERO.copy()",
                  f"        base = {base}._base if {base}._base is not None else {base}"]
    lines += ["        inference = INFERENCE.count != 0 and MODES.inference",
              "        outputs = []",
              "        output_nr = 0",
              "        meta = None",
              "        pieces = result",
              "        for result in pieces:",
              "            if type(result) is not ndarray and type(result) is not ZERO_GRADIENT:",
              "                result = asarray(result)",
              "            if meta is None or result.shape != meta[0] or result.dtype is not meta[1]:",
              "                meta = meta_of(result)",
              "            output = new(Tensor)",
              *("        " + line for line in made),
              "            outputs.append(output)",
              "            output_nr += 1",
              "        output = tuple(outputs)",
              "        node._output_count = output_nr",
              *("    " + line for line in saving),
              "        if anomaly_mode.enabled:",
              "            note_anomaly(node, inputs, output)",
              "        return output"]
    return lines


def _forward_lines(node_class: type[Node], values: list[str], params: bool, indent: str,
                   with_meta: bool) -> list[str]:
    """Lines that set `result`: the op's kernel on its inputs' arrays where it applies (Note
    [Direct entries]), else its forward; with `params`, the forward with them if any. With
    `with_meta` (a record's output) they also set `result_meta`: the (shape, dtype) the
    kernel's result shares with its input (graph.meta_of), where it is known, else None."""
    call = f"result = forward({', '.join(values)})"
    kernel = node_class.array_kernel
    if kernel is None or len(values) > 2:
        lines = [call, "result_meta = None"]
    elif len(values) == 1:
        value = values[0]
        lines = [f"if type({value}) is Tensor and ((dtype := (data_0 := {value}._data).dtype) is FLOAT32",
                 "                                or dtype is FLOAT64):",
                 "    result = KERNEL(data_0)",
                 f"    result_meta = {value}._meta",
                 "else:",
                 f"    {call}",
                 "    result_meta = None"]
    else:  # (two tensors of one dtype, or a tensor and a number it keeps as a NumPy scalar)
        first, second = values
        lines = ["result = None",
                 "result_meta = None",
                 f"if type({first}) is Tensor:",
                 f"    data_0 = {first}._data",
                 "    dtype = data_0.dtype",
                 "    if dtype is FLOAT32 or dtype is FLOAT64:",
                 f"        if type({second}) is Tensor:",
                 f"            data_1 = {second}._data",
                 "            if data_1.dtype is dtype:",
                 "                try:",
                 "                    result = KERNEL(data_0, data_1)",
                 f"                    result_meta = {first}._meta if {first}._meta is {second}._meta"
                 " else None",
                 "                except ValueError:  # (shapes that do not broadcast: the forward says so)",
                 "                    pass",
                 f"        elif type({second}) is float or type({second}) is int:",
                 "            known = SCALARS.get(dtype.type)",
                 f"            data_1 = None if known is None else known.get({second})",
                 "            if data_1 is not None:",
                 "                result = KERNEL(data_0, data_1)",
                 f"                result_meta = {first}._meta",
                 "if result is None:",
                 f"    {call}"]
    if params:
        lines = ["if params:", "    result = forward(*inputs, **params)", "    result_meta = None", "else:",
                 *("    " + line for line in lines)]
    if not with_meta:  # (each line that sets it is a statement of its own)
        lines = [line for line in lines if "result_meta" not in line]
    return [indent + line for line in lines]


_SAVING = ("_saved", "_saved_versions")  # (fields the saving sets again, where it saves)


def _saves_on_every_path(node_class: type[Node], arity: int) -> bool:
    """Whether the record's saving (saving_in_record) sets `_saved` and `_saved_versions` on
    every path, whichever inputs need a gradient, so the record need not set them first: the
    op saves in place and each of its plans keeps something (its plans' `_pack`, under
    saved-tensor hooks, sets them too)."""
    return (node_class._save is Formula._save and arity <= 3
            and all(node_class._plan(needs).triples for needs in range(1, 1 << arity)))


def _input_meta_lines(metas: list[str]) -> list[str]:
    """The node's shared tuple of its inputs' metadata (Note [Shared input metadata])."""
    if len(metas) == 1:
        return [f"    node._input_meta = METAS_OF_ONE.get({metas[0]}) or shared_meta_of_one({metas[0]})"]
    if len(metas) == 2:
        return [f"    node._input_meta = (METAS_OF_TWO.get({metas[0]}, NO_METAS).get({metas[1]})",
                f"                        or shared_meta_of_two({metas[0]}, {metas[1]}))"]
    return [f"    input_meta = ({', '.join(metas)})",
            "    node._input_meta = SHARED_METAS.get(input_meta) or shared_meta(input_meta)"]


def _unrecorded_lines(node_class: type[Node], values: list[str], params: bool) -> list[str]:
    """Lines that run the op without recording it (`_table._run_unrecorded`, inlined), one
    level in."""
    if node_class.is_view:
        return [*_forward_lines(node_class, values, params, "        ", with_meta=False),
                "        if type(result) is ndarray:",
                f"            return unrecorded_view(result, {values[0]})",
                "        return unrecorded_outputs(CLASS, inputs, result)"]
    # (an array result becomes a tensor without history: Tensor._make, inlined: two calls less
    # per op under no_grad, an optimizer's arithmetic or inference)
    made = _output_lines(node_class, "0", "None", "INFERENCE.count != 0 and MODES.inference", recorded=False)
    return [*_forward_lines(node_class, values, params, "        ", with_meta=False),
            "        if type(result) is ndarray:",
            "            output = new(Tensor)",
            *("        " + line for line in made),
            "            if NO_GRAD.count and not MODES.grad_enabled:",
            "                output._origin = MODES.origin_without_grad  # (see Note [Tensor origins])",
            "            return output",
            "        return unrecorded_outputs(CLASS, inputs, result)"]


def _namespace(node_class: type[Node]) -> dict:
    """The names the generated record and entries of `node_class` read."""
    _, saving_namespace = saving_in_record(node_class, len(node_class.inputs))
    return {**saving_namespace, **_shared_names(), **_class_names(node_class, "")}


def _class_names(node_class: type[Node], prefix: str) -> dict:
    """The names of the op's own objects that its generated code reads, each after `prefix`."""
    return {f"{prefix}CLASS": node_class, f"{prefix}ZEROS": zero_output_numbers(len(node_class.inputs)),
            f"{prefix}forward": node_class.forward, f"{prefix}IS_VIEW": node_class.is_view,
            f"{prefix}PLANS": node_class._plans, f"{prefix}KERNEL": node_class.array_kernel}


def _shared_names() -> dict:
    """The names every op's generated code reads."""
    return {"Tensor": Tensor,
            "unrecorded_outputs": _table._unrecorded_outputs, "unrecorded_view": _table.unrecorded_view,
            "INFERENCE": grad_mode.threads_in_inference, "NO_GRAD": grad_mode.threads_without_grad,
            "MODES": grad_mode._state, "new": object.__new__, "new_node": list.__new__,
            "NUMBERS_OF_ONE": NUMBERS_OF_ONE,
            "ndarray": np.ndarray, "finish": _table._finish_record, "numpy_scalar": np.generic,
            "asarray": np.asarray,
            "register_view": _inplace.register_view, "COUNTER_ZERO": _COUNTER_ZERO,
            "SHARED_METAS": shared_metas, "shared_meta": shared_meta, "meta_of": meta_of,
            "METAS_OF_ONE": shared_metas_of_one, "shared_meta_of_one": shared_meta_of_one,
            "METAS_OF_TWO": shared_metas_of_two, "shared_meta_of_two": shared_meta_of_two,
            "NO_METAS": {},
            "FLOAT32": np.dtype(np.float32),
            "FLOAT64": np.dtype(np.float64), "SCALARS": _SCALARS, "anomaly_mode": anomaly_mode,
            "note_anomaly": _table._note_anomaly, "ZERO_GRADIENT": ZeroGradient}


def _float_matrices_that_multiply(first: str, second: str) -> str:
    return (f"isinstance({first}, Tensor) and isinstance({second}, Tensor)"
            f" and (matrix_0 := {first}._data).ndim == 2 and (matrix_1 := {second}._data).ndim == 2"
            " and matrix_0.shape[1] == matrix_1.shape[0]"
            " and ((dtype := matrix_0.dtype) is FLOAT64 or dtype is FLOAT32) and matrix_1.dtype is dtype")


# The tests an op may put on its inputs before its direct entry records it (register's
# `direct_if`, Note [Direct entries]), by name: each makes the test's code from the inputs' names.
INPUT_TESTS = {
    # two float32 or float64 matrices of one dtype whose inner sizes agree
    "float matrices that multiply": _float_matrices_that_multiply,
    # a Python number (not a bool) as the second argument
    "a number second": lambda first, second: f"(type({second}) is float or type({second}) is int)",
}


def direct_entry(general: Callable, node_class: type[Node], explain_failure: Callable | None,
                 *, operator: bool = False, out: bool = False, inputs_test: str | None = None,
                 params: dict | None = None) -> Callable:
    """`general` (an op's function, method or operator) with a direct entry in front; see
    Note [Direct entries]. The first parameters of `general`'s signature are the op's inputs;
    `out` adds PyTorch's out= keyword (which `general` takes); `operator` says `general` gives
    NotImplemented for operands that are neither tensors nor numbers; `inputs_test` names the
    test (INPUT_TESTS) the arguments without defaults must pass; `params` names the arguments
    passed to the op as its parameters, with the value each takes where `general` has no such
    argument (an operator's `alpha`). `general` itself is returned when the op gets no
    generated code or its signature has no fixed parameters."""
    if explain_failure is None or not _generated(node_class):
        return general
    arity = len(node_class.inputs)
    parameters = list(inspect.signature(general).parameters.values())
    if out:
        parameters.append(inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None))
    fixed = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if (len(parameters) < arity or any(parameter.kind not in fixed for parameter in parameters)
            or any(parameter.default is not inspect.Parameter.empty for parameter in parameters[:arity])):
        return general
    values = [parameter.name for parameter in parameters[:arity]]
    header, call, defaults = [], [], {}
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in header:
            header.append("*")
        if parameter.default is inspect.Parameter.empty:
            header.append(parameter.name)
        else:
            defaults[f"DEFAULT_{parameter.name}"] = parameter.default
            header.append(f"{parameter.name}=DEFAULT_{parameter.name}")
        call.append(parameter.name if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
                    else f"{parameter.name}={parameter.name}")
    detour = ["DETOURS.count",
              *(f"{name} is not {default}" for default, name in
                ((default, default.removeprefix("DEFAULT_")) for default in defaults))]
    required = [parameter.name for parameter in parameters if parameter.default is inspect.Parameter.empty]
    if operator:  # (an operand of another type: the operator's own NotImplemented)
        detour.insert(0, f"type({required[1]}) not in OPERAND_TYPES")
    if inputs_test is not None:
        detour.append(f"not ({INPUT_TESTS[inputs_test](*required)})")
    params = params or {}
    names = {parameter.name for parameter in parameters}
    given = ", ".join(f"{name!r}: {name if name in names else 'PARAM_' + name}" for name in params)
    explained = f"({', '.join(required)}{',' if len(required) == 1 else ''})"
    name = general.__name__
    comma = "," if arity == 1 else ""
    lines = [f"def {name}({', '.join(header)}):",
             f"    if {' or '.join(detour)}:",
             f"        return GENERAL({', '.join(call)})",
             f"    inputs = ({', '.join(values)}{comma})",
             f"    params = {{{given}}}" if params else "    params = NO_PARAMS",
             "    try:",
             "        if NO_GRAD.count and not MODES.grad_enabled:",
             *("    " + line for line in _unrecorded_lines(node_class, values, bool(params))),
             *("    " + line for line in _recording_lines(node_class, values, bool(params))),
             "    except Exception as error:",
             f"        explain_failure({explained}, {{}}, error)",
             "        raise"]
    namespace = {**_namespace(node_class), **defaults, "GENERAL": general, "NO_PARAMS": _NO_PARAMS,
                 **{f"PARAM_{name}": value for name, value in params.items()},
                 "DETOURS": entry_detours,
                 "explain_failure": explain_failure,
                 "OPERAND_TYPES": _table._COMMON_OPERAND_TYPES}
    entry = _compiled(lines, name, f"<entry of {node_class.__name__}: {name}>", namespace)
    source = entry.source
    functools.update_wrapper(entry, general)
    entry.source = source
    return entry


# Note [Recorded programs]
#     A recurrent cell runs the same ops on the same kinds of tensors at every step: an LSTM
#     step is thirteen records, each of which asks again what the step already answers (which
#     inputs need grad, which node each comes from, its shape and dtype) before it records,
#     and these questions cost about as much as the step's arithmetic. A *program* declares
#     such a sequence once, as `Step`s that name their inputs and outputs, and
#     `program_recorder` generates one function that records all of it: the code of each op's
#     record (Note [Generated recording]) laid one after the other, the edges of the
#     program's inputs found once, those of its own steps' outputs known as it goes. It makes
#     the nodes, outputs and saved values the records make, each output computed by the op's
#     own kernel or forward, so the graph and the bits are the records'; saved-tensor hooks
#     and anomaly mode are served as a record serves them.
#
#     The caller promises what the code takes as known, and keeps to the records (or apply)
#     for anything else: every input is a tensor that requires grad (but those the program
#     names optional, whose edges are asked as a record asks them; each step needs one input
#     that is not), all of one float dtype (float32 or float64: an elementwise step calls its
#     kernel on their arrays, as a record does for such tensors), of shapes the steps accept,
#     and apply would record (`records_directly`, _table.py).


class Step(NamedTuple):
    """One op of a program: `node_class` on the named `inputs` (the program's inputs or
    earlier steps' outputs), its output named `outputs` (a tuple of names for an op of
    several outputs), its parameters the program argument named `params` (None: none)."""

    outputs: str | tuple[str, ...]
    node_class: type
    inputs: tuple[str, ...]
    params: str | None = None


def program_recorder(name: str, inputs: tuple[str, ...], steps: tuple[Step, ...],
                     results: tuple[str, ...], optional: tuple[str, ...] = ()) -> Callable:
    """The generated function `name(*inputs, *parameters)` that records `steps` and returns
    the tensors named `results`: Note [Recorded programs]. `parameters` are the steps' `params`
    names, in order of first use; the inputs named in `optional` may not require grad."""
    def local(name: str) -> str:  # (the program's names, kept apart from the code's own)
        return f"v_{name}"

    parameters = list(dict.fromkeys(step.params for step in steps if step.params is not None))
    lines = [f"def {name}({', '.join(map(local, [*inputs, *parameters]))}):",
             "    inference = INFERENCE.count != 0 and MODES.inference"]
    known = {}  # a tensor's name -> (its node, output number and meta, as expressions; optional)
    for given in inputs:
        value = local(given)
        edge, meta, number = f"edge_{value}", f"meta_{value}", f"number_{value}"
        if given in optional:  # (as a record asks of each input)
            lines += [f"    if {value}._requires_grad:",
                      *("    " + line for line in _edge_lines(value, edge, meta, number)),
                      "    else:",
                      f"        {edge} = {meta} = None",
                      f"        {number} = 0"]
        else:
            lines += _edge_lines(value, edge, meta, number)
        known[value] = (edge, number, meta, given in optional)
    namespace = {**_shared_names(), "NO_PARAMS": _NO_PARAMS}
    for index, step in enumerate(steps):
        prefix = f"s{index}_"
        outputs = tuple(map(local, step.outputs)) if type(step.outputs) is tuple else local(step.outputs)
        step = step._replace(outputs=outputs, inputs=tuple(map(local, step.inputs)),
                             params=None if step.params is None else local(step.params))
        step_lines, names = _program_step_lines(step, index, prefix, known)
        lines += step_lines
        namespace.update(names)
        namespace.update(_class_names(step.node_class, prefix))
    lines.append(f"    return ({', '.join(map(local, results))}{',' if len(results) == 1 else ''})")
    return _compiled(lines, name, f"<program {name}>", namespace)


def _program_step_lines(step: Step, index: int, prefix: str, known: dict) -> tuple[list[str], dict]:
    """The lines of one step of a program (Note [Recorded programs]) and the names they read;
    records the step's outputs in `known`."""
    node_class, values = step.node_class, list(step.inputs)
    arity = len(node_class.inputs)
    several = type(step.outputs) is tuple
    if (not _generated(node_class) or len(values) != arity or arity > 3
            or node_class._save is not Formula._save or (several and node_class.is_view)):
        raise TypeError(f"{node_class.__name__} cannot be a step of a recorded program")
    edges, numbers, metas, optional = zip(*(known[value] for value in values))
    if all(optional):
        raise TypeError(f"a step of a recorded program needs an input that requires grad: "
                        f"{node_class.__name__} has none")
    comma = "," if arity == 1 else ""
    lines = [f"    inputs = ({', '.join(values)}{comma})",
             f"    params = {step.params or 'NO_PARAMS'}",
             *(f"    meta_{position} = {meta}" for position, meta in enumerate(metas)),
             f"    node = new_node({prefix}CLASS)",
             *(f"    node.append({edge})" for edge in edges)]
    names = {}
    if all(type(number) is int for number in numbers):  # (outputs of the program's own steps)
        names[f"{prefix}NUMBERS"] = tuple(numbers) if any(numbers) else zero_output_numbers(arity)
        lines.append(f"    node._next_nrs = {prefix}NUMBERS")
    else:
        lines.append(_next_numbers_line(list(map(str, numbers)), f"{prefix}ZEROS"))
    saved_later = _saves_on_every_path(node_class, arity)
    lines += [*_input_meta_lines([f"meta_{position}" for position in range(arity)]),
              *(f"    node.{field} = {value!r}" for field, value in _fresh_fields(_FRESH_NODE)
                if not (saved_later and field in _SAVING))]
    elementwise = node_class.array_kernel is not None and step.params is None
    if elementwise:  # (float tensors of one dtype: the kernel, as the record calls it)
        lines.append(f"    result = {prefix}KERNEL({', '.join(value + '._data' for value in values)})")
    else:
        given = ", **params" if step.params else ""
        lines.append(f"    result = {prefix}forward({', '.join(values)}{given})")
    if several:
        lines += _program_pieces_lines(node_class, step.outputs, index, known)
    else:
        lines += _program_output_lines(node_class, values, elementwise)
        known[step.outputs] = (f"node_{index}", 0, f"meta_{step.outputs}", False)
    needs = sum(1 << position for position in range(arity) if not optional[position])
    lines.append(f"    needs = {needs}")
    for position in range(arity):
        if optional[position]:
            lines += [f"    if {edges[position]} is not None:", f"        needs |= {1 << position}"]
    saving, saving_names = saving_in_record(node_class, arity, step.params is not None, prefix,
                                            None if any(optional) else needs)
    names.update(saving_names)
    lines += [*saving,
              "    if anomaly_mode.enabled:",
              "        note_anomaly(node, inputs, output)",
              f"    node_{index} = node"]
    if not several:
        lines += [f"    {step.outputs} = output", f"    meta_{step.outputs} = result_meta"]
    return lines, names


def _program_output_lines(node_class: type[Node], values: list[str], elementwise: bool) -> list[str]:
    """The lines that make the one output of a step of a program, and its `result_meta`, as a
    record makes them."""
    if elementwise:  # (its input's shape and dtype, as the record takes them)
        meta = "meta_0" if len(values) == 1 else "meta_0 if meta_0 is meta_1 else meta_of(result)"
    else:
        meta = "meta_of(result)"
    output = ["    output = new(Tensor)", *_output_lines(node_class, "0", "result_meta", "inference")]
    return [f"    result_meta = {meta}", *(_view_lines(values[0], output) if node_class.is_view else output)]


def _program_pieces_lines(node_class: type[Node], outputs: tuple[str, ...], index: int,
                          known: dict) -> list[str]:
    """The lines that make the outputs of a step that gives several arrays (split), one per
    name of `outputs`, as a record makes them (Note [Generated recording of several outputs])."""
    lines = [f"    {', '.join(f'result_{position}' for position in range(len(outputs)))}, = result",
             "    meta = meta_of(result_0)"]
    for position, name in enumerate(outputs):
        if position:
            lines += [f"    if result_{position}.shape != meta[0]:",
                      f"        meta = meta_of(result_{position})"]
        lines += [f"    result = result_{position}",
                  "    output = new(Tensor)",
                  *_output_lines(node_class, str(position), "meta", "inference"),
                  f"    {name} = output",
                  f"    meta_{name} = meta"]
        known[name] = (f"node_{index}", position, f"meta_{name}", False)
    return [*lines, f"    output = ({', '.join(outputs)})", f"    node._output_count = {len(outputs)}"]
