"""`profile`: which operations ran, how often, and how long each took, forward and backward.

    with retrograd.autograd.profiler.profile() as prof:
        with retrograd.autograd.profiler.record_function("model"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

Note [How the profiler sees operations]
    Nothing in the op runner or the engine knows about the profiler, so it costs nothing
    while it is off. While a `profile` is active, it wraps four entry points from outside
    and puts the originals back when it ends (and turns the ops' direct entries off, so
    every op passes through the runner: Note [Direct entries], ops/_recording.py):

      - the op runner `ops._table.apply`, wherever a retrograd module bound that function to
        a global name: each forward operation is an event named as PyTorch names it,
        `aten::` and the op's name (taken from its node class: `MulBackward0` -> `aten::mul`);
      - the in-place runner `ops._table.run_in_place`, likewise: the op it runs is named as
        PyTorch names the in-place form (`aten::mul_`);
      - the engine's `_run_node`: each node that runs in backward is an event
        `autograd::engine::evaluate_function: MulBackward0` holding an event `MulBackward0`,
        which holds the operations its derivative formula ran;
      - the engine's `_accumulate_grad`, shown as PyTorch shows AccumulateGrad;
      - and it pauses direct in-place writes (Note [Direct in-place writes], ops/_direct_write.py),
        so an in-place op outside the graph runs through the runner and is seen.

    Operations that do not go through the runner (a few that make plain integer results)
    are not seen. Events nest by time on each thread: an event's self time is its time less
    the time of the events directly inside it, which is how `Self CPU` and `CPU total` in
    the table differ.
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]


class FunctionEvent:
    """One timed range: an operation, a backward node or a `record_function` block."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, input_shapes=None):
        self.id = id
        self.name = name
        self.thread = thread
        self.start_us = start_us
        self.end_us = start_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.count = 1
        self.is_user_annotation = False

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        """Microseconds from start to end, the events inside included."""
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        """Microseconds spent in this event itself, not in the events directly inside it."""
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time)} "
            f"start_us={self.start_us:.3f} end_us={self.end_us:.3f} "
            f"cpu_children={[child.id for child in self.cpu_children]} thread={self.thread} "
            f"input_shapes={self.input_shapes}>"
        )


class FunctionEventAvg:
    """The events of one name (and, if asked, one list of input shapes), added up."""

    def __init__(self, key: str, input_shapes=None):
        self.key = key
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.is_user_annotation = False

    def add(self, other) -> FunctionEventAvg:
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.is_user_annotation = other.is_user_annotation
        return self

    @property
    def cpu_time(self) -> float:
        """Average microseconds per call."""
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
            f"cpu_time={_format_time(self.cpu_time)} input_shapes={self.input_shapes}>"
        )


class EventList(list):
    """A list of events (or of averages) that prints as PyTorch's profiler table."""

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80,
              header: str | None = None, top_level_events_only: bool = False) -> str:
        """The events as a table; `sort_by` names a column's attribute (`"cpu_time_total"`,
        `"self_cpu_time_total"`, `"cpu_time"`, `"count"`), largest first."""
        return _build_table(self, sort_by, row_limit, max_name_column_width,
                            max_shapes_column_width, header, top_level_events_only)

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One row per event name (and input shapes, if asked), in order of first appearance."""
        averages: dict = {}
        for event in self:
            key = (event.key, str(event.input_shapes)) if group_by_input_shape else event.key
            if key not in averages:
                averages[key] = FunctionEventAvg(
                    event.key, event.input_shapes if group_by_input_shape else None
                )
            averages[key].add(event)
        result = EventList(averages.values())
        result._with_shapes = group_by_input_shape
        return result

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(event.self_cpu_time_total for event in self)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events in the Chrome trace format (open it in chrome://tracing or Perfetto)."""
        import json

        trace = [
            {"name": event.name, "ph": "X", "ts": event.start_us, "dur": event.cpu_time_total,
             "tid": event.thread, "pid": 0, "cat": "cpu_op", "args": {}}
            for event in self
            if isinstance(event, FunctionEvent)
        ]
        with open(path, "w") as file:
            json.dump({"traceEvents": trace}, file)


def _format_time(time_us: float) -> str:
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_share(time_us: float, total_us: float) -> str:
    return "NaN" if total_us == 0 else f"{time_us * 100.0 / total_us:.2f}%"


def _build_table(events: EventList, sort_by, row_limit, max_name_width, max_shapes_width, header,
                 top_level_only) -> str:
    """PyTorch's table: right-aligned columns of fixed widths, two spaces after each."""
    with_shapes = getattr(events, "_with_shapes", False)
    rows = list(events)
    if top_level_only:
        rows = [event for event in rows if getattr(event, "cpu_parent", None) is None]
    if sort_by is not None:
        rows.sort(key=lambda event: getattr(event, sort_by), reverse=True)
    total = sum(event.self_cpu_time_total for event in rows)
    name_width = max((len(event.key) for event in rows), default=0) + 4
    name_width = min(name_width, max_name_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
               "# of Calls"]
    widths = [name_width] + [12] * 6
    if with_shapes:
        shapes_width = min(max((len(str(event.input_shapes)) for event in rows), default=0) + 4,
                           max_shapes_width)
        headers.append("Input Shapes")
        widths.append(shapes_width)

    def line(fields) -> str:
        return "".join(f"{field:>{width}}  " for field, width in zip(fields, widths))

    separator = "".join("-" * width + "  " for width in widths)
    output = []
    if header is not None:
        output += ["=" * len(separator), header]
    if top_level_only:
        output += ["=" * len(separator), "This report only display top-level ops statistics"]
    output += [separator, line(headers), separator]
    for event in rows[:row_limit] if row_limit and row_limit > 0 else rows:
        name = event.key
        if len(name) >= max_name_width - 3:
            name = name[: max_name_width - 3] + "..."
        fields = [
            name,
            _format_share(event.self_cpu_time_total, total),
            _format_time(event.self_cpu_time_total),
            _format_share(event.cpu_time_total, total),
            _format_time(event.cpu_time_total),
            _format_time(event.cpu_time),
            str(event.count),
        ]
        if with_shapes:
            shapes = str(event.input_shapes)
            if len(shapes) >= max_shapes_width - 3:
                shapes = shapes[: max_shapes_width - 3] + "..."
            fields.append(shapes)
        output.append(line(fields))
    output += [separator, f"Self CPU time total: {_format_time(total)}"]
    return "\n".join(output) + "\n"


# ---------------------------------------------------------------------------
# Recording


class _Recorder:
    """The events of one profile: a list, and a stack of open events per thread."""

    def __init__(self, record_shapes: bool):
        self.record_shapes = record_shapes
        self.events: list[FunctionEvent] = []
        self.ids = itertools.count(1)
        self.origin_ns = time.perf_counter_ns()
        self.local = threading.local()

    def begin(self, name: str, inputs=()) -> FunctionEvent:
        shapes = [_shape_of(value) for value in inputs] if self.record_shapes else None
        now_us = (time.perf_counter_ns() - self.origin_ns) / 1000.0
        event = FunctionEvent(next(self.ids), name, threading.get_ident(), now_us, shapes)
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        self.events.append(event)
        return event

    def end(self, event: FunctionEvent) -> None:
        event.end_us = (time.perf_counter_ns() - self.origin_ns) / 1000.0
        stack = self.local.stack
        while stack and stack.pop() is not event:
            pass


def _shape_of(value) -> list:
    shape = getattr(value, "shape", None)
    return list(shape) if shape is not None and not callable(shape) else []


_active: _Recorder | None = None
_active_lock = threading.Lock()

_NODE_NAME = re.compile(r"Backward\d*$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


# Nodes whose op is not named by their class: `copy_`'s node is CopyBackwards.
_OP_NAMES = {"CopyBackwards": "aten::copy_"}


def _op_name(node_class: type, in_place: bool = False) -> str:
    """`MulBackward0` -> `aten::mul`, `LogSoftmaxBackward0` -> `aten::log_softmax`; with
    `in_place`, PyTorch's name of the in-place form (`aten::mul_`)."""
    name = _OP_NAMES.get(node_class.__name__)
    if name is None:
        base = _NODE_NAME.sub("", node_class.__name__) or node_class.__name__
        name = "aten::" + _CAMEL.sub("_", base).lower()
    return name + "_" if in_place and not name.endswith("_") else name


def _timed_apply(original: Callable) -> Callable:
    def apply(node_class, *inputs, **params):
        recorder = _active
        if recorder is None:
            return original(node_class, *inputs, **params)
        local = recorder.local
        in_place = getattr(local, "in_place", False)
        local.in_place = False  # the in-place op is the first one its write runs
        event = recorder.begin(_op_name(node_class, in_place), inputs)
        try:
            return original(node_class, *inputs, **params)
        finally:
            recorder.end(event)

    apply._profiled_original = original
    return apply


def _timed_run_in_place(original: Callable) -> Callable:
    """run_in_place that marks the op it runs as in place, for `_timed_apply` to name."""

    def run_in_place(target, function, *args, **kwargs):
        recorder = _active
        if recorder is None:
            return original(target, function, *args, **kwargs)
        recorder.local.in_place = True
        try:
            return original(target, function, *args, **kwargs)
        finally:
            recorder.local.in_place = False

    return run_in_place


def _timed_run_node(original: Callable) -> Callable:
    def run_node(node, grad_outputs, *args, **kwargs):
        recorder = _active
        if recorder is None:
            return original(node, grad_outputs, *args, **kwargs)
        name = node.name()
        outer = recorder.begin(f"autograd::engine::evaluate_function: {name}")
        inner = recorder.begin(name, grad_outputs)
        try:
            return original(node, grad_outputs, *args, **kwargs)
        finally:
            recorder.end(inner)
            recorder.end(outer)

    run_node._profiled_original = original
    return run_node


def _timed_accumulate(original: Callable) -> Callable:
    def accumulate_grad(variable, grad, *args, **kwargs):
        recorder = _active
        if recorder is None:
            return original(variable, grad, *args, **kwargs)
        outer = recorder.begin("autograd::engine::evaluate_function: torch::autograd::AccumulateGrad")
        inner = recorder.begin("torch::autograd::AccumulateGrad", (grad,))
        try:
            return original(variable, grad, *args, **kwargs)
        finally:
            recorder.end(inner)
            recorder.end(outer)

    accumulate_grad._profiled_original = original
    return accumulate_grad


def _install() -> list[tuple[object, str, object]]:
    """Wrap the entry points (see Note [How the profiler sees operations]); returns what to undo."""
    from ..ops import _direct_write, _recording, _table
    from . import engine

    _recording.entries_off.add(1)  # ops' direct entries would pass `apply` by
    replaced = [(_direct_write, "write", _direct_write.write)]
    _direct_write.write = _no_direct_write
    original_apply = _table.apply
    timed = _timed_apply(original_apply)
    original_in_place = _table.run_in_place
    timed_in_place = _timed_run_in_place(original_in_place)
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if not (name == "retrograd" or name.startswith("retrograd.")):
            continue
        if getattr(module, "apply", None) is original_apply:
            replaced.append((module, "apply", original_apply))
            module.apply = timed
        if getattr(module, "run_in_place", None) is original_in_place:
            replaced.append((module, "run_in_place", original_in_place))
            module.run_in_place = timed_in_place
    for attribute, wrap in (("_run_node", _timed_run_node), ("_accumulate_grad", _timed_accumulate)):
        original = getattr(engine, attribute, None)
        if original is not None:
            replaced.append((engine, attribute, original))
            setattr(engine, attribute, wrap(original))
    return replaced


def _no_direct_write(target, method_name: str, arguments: tuple, keywords: dict) -> bool:
    return False


def _uninstall(replaced: list) -> None:
    from ..ops import _recording

    for module, attribute, original in reversed(replaced):
        setattr(module, attribute, original)
    _recording.entries_off.add(-1)


class profile:
    """Record the operations run inside `with profile() as prof:`; `prof.key_averages()`
    adds them up per name, and its `table()` prints PyTorch's profiler table.

    Only the CPU is profiled; the CUDA, memory, FLOP and stack options are accepted and
    ignored (retrograd computes on the CPU with NumPy).
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config=None, acc_events: bool = False,
                 custom_trace_id_callback=None):
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.entered = False
        self.function_events: EventList | None = None
        self._recorder: _Recorder | None = None
        self._replaced: list = []

    def __enter__(self) -> profile:
        global _active
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        with _active_lock:
            if _active is not None:
                raise RuntimeError("Profiler is already enabled on this thread")
            self._recorder = _Recorder(self.record_shapes)
            self._replaced = _install()
            _active = self._recorder
        self.entered = True
        return self

    def __exit__(self, *exc_info) -> None:
        global _active
        if not self.enabled:
            return
        with _active_lock:
            _active = None
            _uninstall(self._replaced)
            self._replaced = []
        events = sorted(self._recorder.events, key=lambda event: (event.start_us, event.id))
        self.function_events = EventList(events)

    def _events(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._events().key_averages(group_by_input_shape)

    def total_average(self) -> FunctionEventAvg:
        return self._events().total_average()

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs) -> str:
        return self._events().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def export_chrome_trace(self, path: str) -> None:
        self._events().export_chrome_trace(path)

    @property
    def self_cpu_time_total(self) -> float:
        return self._events().self_cpu_time_total

    def __str__(self) -> str:
        return self.table()

    __repr__ = object.__repr__


class record_function:
    """Name a block of code in the profile (`with record_function("step"):`, or as a decorator);
    the block is one event that holds the operations run inside it. Free when not profiling."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._event: FunctionEvent | None = None
        self._recorder: _Recorder | None = None

    def __enter__(self) -> record_function:
        recorder = _active
        if recorder is not None:
            self._recorder = recorder
            self._event = recorder.begin(self.name)
            self._event.is_user_annotation = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self._event is not None:
            self._recorder.end(self._event)
            self._event = None
            self._recorder = None

    def __call__(self, function: Callable) -> Callable:
        import functools

        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return function(*args, **kwargs)

        return wrapped
