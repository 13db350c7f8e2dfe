"""The recorded graph: nodes (what `grad_fn` is), their edges and their saved values.

A `Node` is one recorded operation. It points down to the nodes of its inputs through
`next_functions`, a tuple of `(node, output_nr)` pairs (None where an input needs no
gradient). Leaves that require grad are reached through an `AccumulateGrad` node.

Note [No reference cycles]
    Outputs point to their node (`tensor.grad_fn`), a node points to its inputs' nodes,
    and nothing points back up: a node never holds its own outputs. A node that must save
    its output (exp, tanh, sigmoid: their derivative is cheapest from the result) keeps only
    the output's array and version counter, and rebuilds a tensor on demand. A tensor holds
    its AccumulateGrad node through a weak reference. So a dropped graph is freed by
    reference counting alone, at once, and Python's cycle collector has nothing to chase.

Note [A light graph]
    The collector still visits every object it tracks, and a deep graph holds many: at 10^5
    recorded ops its full collections cost as much as the ops themselves. So a node *is* the
    list of its next nodes (`Node` derives from `list`: its items are held inside the one
    object the collector tracks, where a tuple of them would be a second one), and their
    output numbers are a flat tuple beside it (`_next_nrs`, ints: the collector stops
    tracking such a tuple, and the common all-zero ones are shared); `next_functions` builds
    the `(node, output_nr)` pairs only when someone asks for them. The list is the engine's
    business: a node compares, hashes and tests true as any object does, and `dir()` does not
    show the list methods.

    The same goes for what a node saves. A version counter is an int64 array of one element, and a
    node keeps a saved tensor as a tuple of its array, its counter and where it came from (Note
    [Saved records]), not as a Tensor: the collector stops tracking such tuples, so a
    recorded op leaves it one object to visit, the node.

    That is as far as it goes: the node and its edges must stay visible to the collector,
    since hooks and saved-tensor hooks can close cycles through them. Measured on a
    100,000-op chain (2026-12-02, one pass, 16 float32 elements): eight full collections
    ran during its forward and took 1.0 s of the pass's 2.3 s. retrograd does not change
    the collector's thresholds, nor switch it off while recording: they are settings of the
    whole process, which a library should leave to the program.
"""

from __future__ import annotations

import functools
import gc
import operator
import re
import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

# The Tensor class, bound by _tensor.py once it exists (it imports this module first);
# a function-level import here would run on every unpacked output, on the hot path.
_tensor_class: Any = None

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = [
    "Node",
    "RemovableHandle",
    "disable_saved_tensors_hooks",
    "register_multi_grad_hook",
    "save_on_cpu",
    "saved_tensors_hooks",
]


class RemovableHandle:
    """Returned by `register_*hook`: `handle.remove()` takes the hook away again."""

    __slots__ = ("_hooks", "_key")
    _next_key = 0

    def __init__(self, hooks: dict):
        self._hooks = weakref.ref(hooks) if hasattr(hooks, "__weakref__") else (lambda: hooks)
        # Numbered from 0 in creation order, as PyTorch numbers its handles (the keys of
        # `module._forward_pre_hooks` that a printout shows).
        self._key = RemovableHandle._next_key
        RemovableHandle._next_key += 1

    @property
    def id(self) -> int:
        """The hook's key in the dict it was added to (a process-wide counter, as PyTorch's)."""
        return self._key

    def remove(self) -> None:
        """Take the hook away (a second call does nothing)."""
        hooks = self._hooks()
        if hooks is not None:
            hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def _add_hook(hooks: dict, hook) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle._key] = hook
    return handle


# Nodes PyTorch implements in its engine rather than from derivatives.yaml: their name()
# carries the C++ namespace (their class name, in reprs, does not).
_ENGINE_NODES = frozenset({"AccumulateGrad", "CopyBackwards", "CopySlices"})
_ENGINE_NODE_PREFIX = "torch::autograd::"

_ALL_ZERO: dict[int, tuple] = {}  # the shared (0, 0, ...) of each length


def output_numbers(output_nrs: list) -> tuple:
    """A node's `_next_nrs`: the shared all-zero tuple in the common case (see Note [A light graph])."""
    return tuple(output_nrs) if any(output_nrs) else zero_output_numbers(len(output_nrs))


def zero_output_numbers(count: int) -> tuple:
    """The shared `(0,) * count`."""
    shared = _ALL_ZERO.get(count)
    if shared is None:
        shared = _ALL_ZERO[count] = (0,) * count
    return shared


# The shared `_next_nrs` of a node of one input, by its input's output number, for the first
# few: a node that reads one piece of a split (an LSTM's gates: three of them at every step)
# would otherwise make a tuple that the collector tracks (Note [A light graph]).
NUMBERS_OF_ONE = (zero_output_numbers(1), *((number,) for number in range(1, 16)))


# Note [Shared input metadata]
#     A node keeps the (shape, dtype) of each input that needs a gradient (`_input_meta`), to
#     fit the gradients backward computes. A program records the same few shapes over and
#     over, so equal metadata is one shared tuple: each recorded op otherwise leaves two
#     more tuples for the cyclic collector to track until its next collection, which makes
#     collections come twice as often in a recurrent network's forward (the LSTM program of
#     benchmarks/programs.py: 150 tracked objects per cell step instead of 86, about half of
#     its collector time). The table starts again empty when it grows past _MOST_METAS.
#     Each input's (shape, dtype) in it is itself one object per distinct pair (`meta_of`),
#     which a tensor keeps in `_meta` and an elementwise op's output takes from its input:
#     reading a shape makes a new tuple, and hashing one, or a dtype, costs more than the
#     rest of the lookup; these hash by identity.
shared_metas: dict[tuple, tuple] = {}
_MOST_METAS = 4096


class _Meta(tuple):
    """The (shape, dtype) of one input, one object per distinct pair (`meta_of`): it hashes and
    compares by identity, so a node's tuple of them is found in shared_metas without hashing a
    shape or a dtype (Note [Shared input metadata])."""

    __slots__ = ()
    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__


_METAS: dict[tuple, _Meta] = {}


def meta_of(data: np.ndarray) -> _Meta:
    """The one (shape, dtype) of `data`; a tensor keeps it (`Tensor._meta`) until its array
    changes, and the output of an elementwise op takes its input's (ops/_recording.py)."""
    key = (data.shape, data.dtype)
    meta = _METAS.get(key)
    if meta is None:
        if len(_METAS) >= _MOST_METAS:
            _METAS.clear()
        meta = _METAS[key] = _Meta(key)
    return meta


def shared_meta(input_meta: tuple) -> tuple:
    """The shared tuple equal to `input_meta` (Note [Shared input metadata])."""
    found = shared_metas.get(input_meta)
    if found is None:
        if len(shared_metas) >= _MOST_METAS:
            shared_metas.clear()
            shared_metas_of_one.clear()
            shared_metas_of_two.clear()
        found = shared_metas[input_meta] = input_meta
    return found


# The same shared tuples found from the metas themselves, for ops of one or two inputs (the
# generated records): looking up `meta` or `meta_0` then `meta_1` costs half of making the
# tuple and hashing it.
shared_metas_of_one: dict = {}  # meta -> (meta,)
shared_metas_of_two: dict = {}  # meta_0 -> {meta_1: (meta_0, meta_1)}


def shared_meta_of_one(meta) -> tuple:
    """`shared_meta((meta,))`, remembered under `meta`."""
    found = shared_metas_of_one[meta] = shared_meta((meta,))
    return found


def shared_meta_of_two(meta_0, meta_1) -> tuple:
    """`shared_meta((meta_0, meta_1))`, remembered under `meta_0` and `meta_1`."""
    found = shared_meta((meta_0, meta_1))
    shared_metas_of_two.setdefault(meta_0, {})[meta_1] = found
    return found


# Note [The shared zero version]
#     A version counter says how many in-place changes a storage has seen (`counter[0]`); all
#     tensors on that storage share it (views, detach() aliases). It is an int64 array of one
#     element, because the collector does not track arrays, nor the tuples that hold only such
#     things (Note [A light graph]). Copying one costs about as much as a third of recording
#     an op, and most results are never changed in place, never shared and never saved. So a
#     new tensor starts with `_COUNTER_ZERO`, one read-only zero shared by all, and gets a
#     counter of its own (`own_counter`) only when something needs one: an in-place change
#     (`Tensor._bump_version`), another tensor that shares its storage's count (a view, an alias, a
#     Parameter wrapping it), or a node that saves it and keeps the counter to check later.
#     Reading `counter[0]` needs nothing. A write that forgot to ask fails at once: NumPy
#     refuses to change a read-only array.


def new_version_counter() -> np.ndarray:
    """A version counter of a storage that starts at zero: see Note [The shared zero version]."""
    return _COUNTER_ZERO


def own_counter(tensor: Tensor) -> np.ndarray:
    """`tensor`'s version counter, made its own first if it still has the shared zero, so that
    it can be changed, shared or kept (Note [The shared zero version])."""
    counter = tensor._version_counter
    if counter is _COUNTER_ZERO:
        counter = tensor._version_counter = _COUNTER_ZERO.copy()
    return counter


_COUNTER_ZERO = np.zeros(1, np.int64)
_COUNTER_ZERO.flags.writeable = False


# Note [Saved records]
#     A node keeps a saved tensor that is its own output as the tuple
#     (array, version counter, output_nr, history), an *output record*, and a declared op
#     keeps one of its inputs that requires grad as (array, version counter, input position),
#     an *input record*: the tensor's history is this node's, or the input's edge, so a Tensor
#     is rebuilt from them only when a formula runs on Tensors (create_graph), a custom
#     backward reads `saved_tensors`, or a user reads `_saved_<name>` (Node._rebuild). A saved
#     value is a record when it has a version (shapes and numbers have none). `history`: for an
#     in-place op that wrote through a view, a weak reference to the view's new grad_fn; while
#     it lives, the output is rebuilt as the view (as PyTorch does), so a graph of the backward
#     reaches the base's history, not the op's node directly. Tensors that need no gradient
#     (a frozen weight) are kept as they are. See Note [A light graph].


def output_record(tensor: Tensor, output_nr: int, history=None) -> tuple:
    """How a node saves its own output `tensor` (see Note [Saved records])."""
    return (tensor._data, own_counter(tensor), output_nr, history)


def is_output_record(value, version) -> bool:
    """Whether a saved value (with its saved version) is an output record, not a shape or number."""
    return version is not None and type(value) is tuple and len(value) == 4


# Note [A node's rare fields]
#     Hooks on a node and the forward's stack that anomaly mode keeps are set on few nodes,
#     but each field a node has must be set when it is made, by every op's record, and read
#     by every turn of the backward. So the five live together in one object that most nodes
#     never get: `_extras` is None until one of them is set. Each keeps its name as a
#     property of Node (`node._hooks`, ...), which reads None while `_extras` is None and
#     makes it on the first write; code run on every node (the generated backward, the
#     engine's loop) tests `node._extras is None` once instead. A tensor keeps its rare
#     fields (hooks, retain_grad) the same way.


class _NodeExtras:
    """The rarely set fields of a node (Note [A node's rare fields])."""

    __slots__ = ("anomaly_trace", "hooks", "pre_hooks", "retain_grad_hooks", "tensor_pre_hooks")

    def __init__(self):
        self.hooks = self.pre_hooks = self.tensor_pre_hooks = None
        self.retain_grad_hooks = self.anomaly_trace = None


def rare_field(name: str, extras_class: type, default=None) -> property:
    """The field `name` of an object's `_extras` (an `extras_class`, made on the first write of
    another value than `default`) as an attribute of the object itself (Note [A node's rare
    fields])."""
    read = operator.attrgetter(name)

    def get(owner):
        extras = owner._extras
        return default if extras is None else read(extras)

    def put(owner, value) -> None:
        extras = owner._extras
        if extras is None:
            if value is default:
                return
            extras = owner._extras = extras_class()
        setattr(extras, name, value)

    return property(get, put)


class Node(list):
    """One recorded operation; `backward` maps output gradients to input gradients.

    Its items are the nodes of its inputs (None where an input needs no gradient): see
    Note [A light graph].

    Subclasses are the `grad_fn` classes users see (`MulBackward0`, ...). They save what
    their backward needs with `save_for_backward` and read it back with `_saved_tensors`
    (users see `_saved_<name>`; `saved_tensors` is public on custom Function nodes only, as in
    PyTorch, which is what graph walkers such as torchviz test for).
    """

    __slots__ = (
        "__weakref__",
        "_extras",
        "_input_meta",
        "_next_nrs",
        "_output_count",
        "_released",
        "_saved",
        "_saved_versions",
    )

    # Subclasses set these class attributes.
    _declared = False  # a Formula: forward on arrays without ctx (ops/_formula.py)
    _runs_on_arrays = False  # backward takes and returns arrays when no graph is built
    is_view = False  # the forward returns a view of input 0 (shares memory and version)
    several_views = False  # returns several views (split, unbind): none may be written in place
    non_differentiable_outputs: tuple[int, ...] = ()  # e.g. the indices of max(dim)
    hand_written = ""  # an op's node class not declared as a Formula says why (docs/derivatives.md)
    _plan_used = None  # a declared op's node has its own (a slot of Formula): see ops/_formula.py

    # A node is an object, not a value: it equals and hashes as itself and is always true.
    __hash__ = object.__hash__
    __eq__, __ne__ = object.__eq__, object.__ne__
    __lt__, __le__, __gt__, __ge__ = object.__lt__, object.__le__, object.__gt__, object.__ge__

    def __bool__(self) -> bool:
        return True

    def __init__(self, next_nodes: tuple = (), next_nrs: tuple = (), input_meta: tuple = ()):
        self[:] = next_nodes
        self._next_nrs = next_nrs
        self._input_meta = input_meta  # (shape, dtype) of each input needing grad, else None
        self._saved = None
        self._saved_versions = None
        self._released = False
        self._extras = None  # a _NodeExtras once a hook or a creation trace is set

    _hooks = rare_field("hooks", _NodeExtras)  # {key: hook(grad_inputs, grad_outputs)}, run after it
    _pre_hooks = rare_field("pre_hooks", _NodeExtras)  # {key: hook(grad_outputs)}, run before it
    _tensor_pre_hooks = rare_field("tensor_pre_hooks", _NodeExtras)  # {output_nr: {key: hook(grad)}}
    _retain_grad_hooks = rare_field("retain_grad_hooks", _NodeExtras)  # {output_nr: weakref to the tensor}
    _anomaly_trace = rare_field("anomaly_trace", _NodeExtras)  # the forward's stack, in anomaly mode

    # -- what users see -----------------------------------------------------

    @property
    def next_functions(self) -> tuple:
        """`(node, output_nr)` for each input of the operation; node None where none is needed."""
        return tuple(zip(self, self._next_nrs))

    @next_functions.setter
    def next_functions(self, edges) -> None:
        self._set_edges([edge[0] for edge in edges], [edge[1] for edge in edges])

    def _set_edges(self, nodes: list, output_nrs: list) -> None:
        self[:] = nodes
        self._next_nrs = output_numbers(output_nrs)

    def _number_of_outputs(self) -> int:
        """How many differentiable outputs the operation has (one unless the record set
        `_output_count`, less trailing non-differentiable ones such as max's indices): the
        length of the gradient list a node's hooks see, as PyTorch's."""
        count = getattr(self, "_output_count", 1)
        while count > 1 and count - 1 in self.non_differentiable_outputs:
            count -= 1
        return count

    def name(self) -> str:
        """The node's name as PyTorch gives it: its class name (`MulBackward0`), qualified for
        the engine's own nodes (`torch::autograd::AccumulateGrad`)."""
        name = type(self).__name__
        return _ENGINE_NODE_PREFIX + name if name in _ENGINE_NODES else name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        """A dict that stays with this node, for users' own annotations."""
        found = _node_metadata.get(self)
        if found is None:
            found = _node_metadata[self] = {}
        return found

    def register_hook(self, hook) -> RemovableHandle:
        """`hook(grad_inputs, grad_outputs)` runs after this node; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = {}
        return _add_hook(self._hooks, hook)

    def register_prehook(self, hook) -> RemovableHandle:
        """`hook(grad_outputs)` runs before this node; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return _add_hook(self._pre_hooks, hook)

    # -- saving for backward -------------------------------------------------

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input of the operation, whether its gradient is wanted (it requires grad)."""
        return tuple(node is not None for node in self)

    def save_for_backward(self, *values) -> None:
        """Keep tensors (inputs, or OUTPUT for the result) or arrays for backward.

        Tensors are stamped with their version so that backward can tell if they were
        changed in place since; OUTPUT is resolved by the op runner once the result exists.
        """
        self._saved = values

    @property
    def _saved_tensors(self) -> tuple[Any, ...]:
        """What `save_for_backward` kept, checked against later in-place changes."""
        if self._released:
            raise RuntimeError(_SECOND_BACKWARD_MESSAGE)
        saved = self._saved
        if saved is None:
            return ()
        unpacked = []
        for value, version in zip(saved, self._saved_versions):
            # Fast path: an input tensor unchanged since it was saved is used as it is.
            if version is None or type(value) is tuple or value._version_counter[0] != version:
                value = self._unpack(value, version)
            unpacked.append(value)
        return tuple(unpacked)

    def _unpack(self, value, version):
        """One saved value as backward sees it: version-checked, or through its unpack hook."""
        if version is not None:
            if type(value) is tuple:  # a record: Note [Saved records]
                if value[1][0] != version:
                    self._check_record(value, version)
                return self._rebuild(value)
            # a saved input is named "output 0 of" its node whatever its output number: PyTorch's
            # message does so (it keeps no output number for the inputs it saves)
            _check_version(value._version_counter[0], version, value._data, value.grad_fn)
            return value
        if type(value) is PackedSaved:
            return value.unpack()
        return value

    def _rebuild(self, record: tuple) -> Tensor:
        """The Tensor a saved record stands for (see Note [Saved records])."""
        if len(record) == 4:
            array, counter, output_nr, history = record
            if history is not None:
                view_node = history()
                if view_node is not None:
                    return _tensor_class._from_node(array, view_node, 0, counter)
            if output_nr in self.non_differentiable_outputs:
                # An output that carries no gradient (max's indices) has no history: as PyTorch,
                # it comes back as a plain tensor (output 0 of nothing), on the output's version.
                return _tensor_class._from_node(array, None, 0, counter)
            return _tensor_class._from_node(array, self, output_nr, counter)
        array, counter, position = record
        edge = self[position]
        if type(edge) is AccumulateGrad:
            return edge.variable  # the leaf itself
        return _tensor_class._from_node(array, edge, self._next_nrs[position], counter)

    def _check_record(self, record: tuple, version: int) -> None:
        """PyTorch's error for a saved record whose tensor was changed in place since."""
        if len(record) == 4:
            _check_version(record[1][0], version, record[0], self, record[2])
            return
        edge = self[record[2]]
        origin = _current_history(record[0], record[1], None if type(edge) is AccumulateGrad else edge)
        _check_version(record[1][0], version, record[0], origin)  # "output 0", as PyTorch

    def _resave_output(self, counter: np.ndarray, target: Tensor, history) -> None:
        """An in-place op that saved its own result (exp_) now saves `target`, which holds it."""
        saved = self._saved
        if saved is None or not any(type(value) is tuple and len(value) == 4 and value[1] is counter
                                    for value in saved):
            return
        values, versions = list(saved), list(self._saved_versions)
        for index, value in enumerate(values):
            if is_output_record(value, versions[index]) and value[1] is counter:
                values[index] = output_record(target, value[2], history)
                versions[index] = own_counter(target)[0]
        self._saved, self._saved_versions = tuple(values), tuple(versions)

    def _release(self) -> None:
        """Free the saved values after a backward that did not ask to retain the graph."""
        if self._saved is not None:
            self._saved = None
            self._saved_versions = None
            self._released = True

    # -- introspection: grad_fn._saved_<name> ---------------------------------

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls._declared:  # a declared op installs its own once its declaration is read
            cls._install_saved_attributes()

    @classmethod
    def _static_saved_names(cls) -> list[str] | None:
        """Every name of `_saved_<name>` this class can show, where the class alone tells
        them; None where they depend on the node (hand-written nodes, custom Functions)."""
        return None

    @classmethod
    def _install_saved_attributes(cls) -> None:
        """Make `node._saved_<name>` readable (see Note [Saved values as attributes])."""
        names = cls._static_saved_names()
        if names is None:
            cls.__getattr__ = _saved_by_name
            return
        for name in names:
            attribute = "_saved_" + name
            if attribute not in cls.__dict__:
                setattr(cls, attribute, property(functools.partial(_saved_value, name=name)))

    def __dir__(self):
        # Only saved values go by `_saved_<name>` here (the engine's own `_saved_*` are left
        # out): graph walkers list them by that prefix (torchviz's show_saved).
        own = {name for name in super().__dir__() if not name.startswith("_saved_")} - _LIST_ONLY
        return sorted(own | {f"_saved_{name}" for name in self._saved_names()})

    def _saved_names(self) -> list[str]:
        names = [name for name, _ in self._named_saved_values()]
        return names + [slot for slot in _own_slots(type(self)) if hasattr(self, slot)]

    def _named_saved_values(self) -> list[tuple[str, tuple]]:
        """Pairs (name, (value, version)) for what save_for_backward kept.

        Note [Saved names]
            The op's own result is `result`; other saved values take the name of their
            position among the saved inputs: `self`, `other`, then `input2`, `input3`...
            A node class may name them itself with a `saved_names` tuple. Attributes the
            forward stored on ctx (`alpha`, `dim`...) are `_saved_<attribute>`.
        """
        if self._saved is None:
            return []
        explicit = getattr(type(self), "saved_names", None)
        named = []
        position = 0
        for index, entry in enumerate(zip(self._saved, self._saved_versions)):
            value = entry[0]
            is_result = is_output_record(value, entry[1]) or (
                type(value) is PackedSaved and value.is_output
            )
            if explicit is not None and index < len(explicit):
                name = explicit[index]
            elif is_result:
                name = "result"
            else:
                name = _POSITION_NAMES[position] if position < 2 else f"input{position}"
                position += 1
            named.append((name, entry))
        return named

    def _find_saved(self, name: str):
        if name in _own_slots(type(self)):
            return getattr(self, name, _MISSING)
        if self._released:
            raise RuntimeError(_SECOND_BACKWARD_MESSAGE)
        for saved_name, (value, version) in self._named_saved_values():
            if saved_name == name:
                return self._unpack(value, version)
        return _MISSING

    # -- running -------------------------------------------------------------

    def backward(self, *grad_outputs):
        """Map the gradients of this node's outputs to the gradients of its inputs."""
        raise NotImplementedError(f"{self.name()} has no backward")


# Note [Saved values as attributes]
#     PyTorch's nodes show what they saved as `_saved_<name>`. A class whose names its
#     declaration tells (every declared op, and the engine's AccumulateGrad, which has none)
#     gets one property per name. Only the others get a `__getattr__` that looks the name up
#     on the node: CPython cannot specialise attribute reads on a class with `__getattr__`,
#     and the engine reads a node's slots many times per pass (about 4x slower each).


# Note [Saved integers as PyTorch shows them]
#     PyTorch's nodes show a saved argument that its declarations type as an integer (int64 or
#     SymInt, one or a list: a dim, a select's index, a slice's bounds, roll's shifts, a
#     loss's ignore_index) through an unsigned conversion, so a negative one reads as itself
#     plus 2**64: `x.sum(-1).grad_fn._saved_dim` is (18446744073709551615,). Its Scalars
#     (alpha, min, exponent, correction...) read as given. _INTEGER_ARGUMENTS names the
#     integer arguments our nodes save; `_shown_as_pytorch` turns their negative values so,
#     for every node, where a `_saved_<name>` is read.
_INTEGER_ARGUMENTS = frozenset({
    "blank", "chunks", "diagonal", "dim", "dim0", "dim1", "dim2", "dimension", "dims",
    "downscale_factor", "end", "groups", "ignore_index", "index", "k", "length", "n", "offset",
    "pad", "padding_idx", "repeats", "sections", "shifts", "source_dim", "split_size",
    "split_sizes", "start", "step", "upscale_factor",
})
_UNSIGNED_WRAP = 1 << 64


def _shown_as_pytorch(name: str, value):
    """A saved value as PyTorch's node shows it (Note [Saved integers as PyTorch shows them])."""
    if name not in _INTEGER_ARGUMENTS:
        return value
    if type(value) is int:
        return value + _UNSIGNED_WRAP if value < 0 else value
    if type(value) is tuple and any(type(part) is int and part < 0 for part in value):
        return tuple(part + _UNSIGNED_WRAP if type(part) is int and part < 0 else part for part in value)
    return value


def _saved_value(node: Node, name: str):
    found = node._find_saved(name)
    if found is _MISSING:
        raise AttributeError(f"'{type(node).__name__}' object has no attribute '_saved_{name}'")
    return _shown_as_pytorch(name, found)


def _saved_by_name(node: Node, name: str):
    """`__getattr__` of nodes whose saved names depend on the node (Note [Saved values as
    attributes]): `_saved_<name>` is what the node saved, under PyTorch's names (see Note
    [Saved names])."""
    if name.startswith("_saved_"):
        saved_name = name[len("_saved_"):]
        found = node._find_saved(saved_name)
        if found is not _MISSING:
            return _shown_as_pytorch(saved_name, found)
    raise AttributeError(f"'{type(node).__name__}' object has no attribute '{name}'")


def _current_history(array, counter, recorded):
    """The grad_fn PyTorch's message names for a saved input changed in place: the tensor's
    history now (`AddBackward0` after `y.add_(1)`), not the one it had when saved. A record
    keeps no Tensor, so on this error path the live tensors holding its array are asked."""
    for holder in gc.get_referrers(array):
        if (isinstance(holder, _tensor_class) and holder._version_counter is counter
                and holder.grad_fn is not None):
            return holder.grad_fn
    return recorded


_MISSING = object()
_LIST_ONLY = frozenset(dir(list)) - frozenset(dir(object))  # hidden from dir(node): Note [A light graph]
_POSITION_NAMES = ("self", "other")
_node_metadata: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@functools.cache
def _own_slots(node_class: type) -> frozenset[str]:
    """The attributes an op's forward may store on its ctx (its slots, not Node's)."""
    slots = set()
    for klass in node_class.__mro__:
        if klass is Node:
            break
        declared = klass.__dict__.get("__slots__", ())
        slots.update((declared,) if isinstance(declared, str) else declared)
    return frozenset(slot for slot in slots if not slot.startswith("_"))


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds the incoming gradient into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor):
        # Node.__init__'s fields, set here without its call: a leaf holds its node weakly (as
        # PyTorch's does), so an op on leaves whose last graph died makes each leaf's node anew,
        # and this is a third of such an op's Python work
        self._next_nrs = self._input_meta = ()
        self._saved = self._saved_versions = self._extras = None
        self._released = False
        self.variable = variable

    def _find_saved(self, name: str):
        return _MISSING  # `variable` is no saved value (PyTorch has no `_saved_variable`)

    @classmethod
    def _static_saved_names(cls) -> list[str]:
        return []

    def _saved_names(self) -> list[str]:
        return []


class CopyBackwards(Node):
    """Passes its gradient straight through; the grad_fn of a `.grad` built with create_graph."""

    __slots__ = ()

    def backward(self, grad):
        return (grad,)


def _check_version(current: int, saved: int, array, origin: Node | None, output_nr: int = 0) -> None:
    """Raise PyTorch's error when a saved value was changed in place after it was saved."""
    if current == saved:
        return
    from .._dtype import from_numpy_dtype, tensor_type_string

    shape = ", ".join(str(size) for size in array.shape)
    described = f"[{tensor_type_string(from_numpy_dtype(array.dtype))} [{shape}]]"
    if origin is not None:
        described += f", which is output {output_nr} of {_op_name(origin)},"
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {described} is at version {current}; expected version {saved} instead. "
        "Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with retrograd.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def _op_name(node: Node) -> str:
    """A node's name as the in-place error names it: PyTorch drops one trailing `Backward`
    and its number (`ExpBackward0` is `Exp`, a custom Function's `TwoBackward` is `Two`)."""
    return _BACKWARD_SUFFIX.sub("", node.name(), count=1)


_BACKWARD_SUFFIX = re.compile(r"Backward[0-9]*$")

_SECOND_BACKWARD_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


# ---------------------------------------------------------------------------
# Saved-tensor hooks


class PackedSaved:
    """A saved value that went through a pack hook; `unpack()` gives it back to backward.

    Packed values are not version-checked: the hooks own what they store (a copy, a
    file, a recipe for recomputation), as in PyTorch.
    """

    __slots__ = ("is_output", "packed", "unpack_hook")

    def __init__(self, packed, unpack_hook, is_output: bool):
        self.packed = packed
        self.unpack_hook = unpack_hook
        self.is_output = is_output

    def unpack(self):
        return self.unpack_hook(self.packed)


class _SavedHooksState(threading.local):
    """The active (pack, unpack) pairs of this thread, innermost last; a refusal message."""

    def __init__(self):
        self.stack: list[tuple] = []
        self.disabled_message: str | None = None
        self.deferred: list | None = None  # outputs of an in-place op, packed once it wrote


class _SavedHooksInUse:
    """How many saved_tensors_hooks blocks are open in any thread: the op runner reads
    this plain counter (cheaper than thread-local state) before looking closer."""

    count = 0


saved_hooks_state = _SavedHooksState()
saved_hooks_in_use = _SavedHooksInUse()


class saved_tensors_hooks:
    """Inside this block, every tensor an op saves for backward goes through `pack_hook`,
    and backward gets it back through `unpack_hook` (the basis of offloading and
    checkpointing).

    >>> import retrograd as torch
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> with torch.autograd.graph.saved_tensors_hooks(lambda t: t.tolist(), torch.tensor):
    ...     y = x * x
    >>> y.grad_fn._saved_self
    tensor([1., 2.])
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if saved_hooks_state.disabled_message is not None:
            raise RuntimeError(saved_hooks_state.disabled_message)
        saved_hooks_state.stack.append((self.pack_hook, self.unpack_hook))
        saved_hooks_in_use.count += 1
        return self

    def __exit__(self, *exc_info):
        saved_hooks_state.stack.pop()
        saved_hooks_in_use.count -= 1


class save_on_cpu(saved_tensors_hooks):
    """Keep a copy of each saved tensor "on the CPU" (where retrograd's tensors already live:
    the hooks copy, so later in-place changes cannot reach what backward uses)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        super().__init__(lambda tensor: tensor.detach().clone(), _identity)


def _identity(value):
    return value


class disable_saved_tensors_hooks:
    """Inside this block, entering `saved_tensors_hooks` raises RuntimeError(error_message)."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        if saved_hooks_state.stack:
            raise RuntimeError(self.error_message)
        self._previous = saved_hooks_state.disabled_message
        saved_hooks_state.disabled_message = self.error_message
        return self

    def __exit__(self, *exc_info):
        saved_hooks_state.disabled_message = self._previous


def pack_saved(value, is_output: bool) -> PackedSaved:
    """Pass a tensor about to be saved through the innermost active pack hook."""
    from . import grad_mode

    pack_hook, unpack_hook = saved_hooks_state.stack[-1]
    deferred = saved_hooks_state.deferred
    if is_output and deferred is not None:
        saved = PackedSaved(None, unpack_hook, True)
        deferred.append((saved, value, pack_hook))
        return saved
    with grad_mode.no_grad():  # as PyTorch: what a pack hook computes is never recorded
        packed = pack_hook(value)
    return PackedSaved(packed, unpack_hook, is_output)


class packing_after_the_write:
    """Around an in-place op's record under saved_tensors_hooks: the outputs its nodes save
    are packed only after the write (`pack(result, target)`), and the op's own result is
    packed as the tensor it wrote, which PyTorch's pack hook receives (so what an identity
    hook keeps follows the tensor's later changes, as PyTorch's does)."""

    __slots__ = ("_previous",)

    def __enter__(self):
        self._previous = saved_hooks_state.deferred
        saved_hooks_state.deferred = []
        return self

    def pack(self, result, target) -> None:
        """Pack the deferred outputs: `result` as `target`, any other as itself."""
        from . import grad_mode

        deferred, saved_hooks_state.deferred = saved_hooks_state.deferred, None
        with grad_mode.no_grad():
            for saved, value, pack_hook in deferred:
                saved.packed = pack_hook(target if value is result else value)

    def __exit__(self, *exc_info):
        saved_hooks_state.deferred = self._previous


# ---------------------------------------------------------------------------
# Hooks on several tensors at once


class _MultiHandle:
    """The handle of a multi-grad hook: `.remove()` takes away the hook of every tensor."""

    __slots__ = ("handles",)

    def __init__(self, handles: list):
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode: str = "all") -> _MultiHandle:
    """Call `fn` once per backward pass when the gradients of `tensors` are computed.

    mode="all": `fn(grads)` after every tensor of the group that this pass reaches has its
    gradient (None for the ones it does not reach). mode="any": `fn(grad)` with the first
    gradient of the group computed in the pass.
    """
    from .engine import current_graph_task

    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    key = object()

    def state_of_pass(task):
        state = task.hook_state.get(key)
        if state is None:
            state = task.hook_state[key] = {"grads": [None] * len(tensors), "done": False}
            state["expected"] = sum(task.will_execute(_node_of(tensor)) for tensor in tensors)
        return state

    def make_hook(index: int):
        def hook(grad):
            state = state_of_pass(current_graph_task())
            if state["done"]:
                return
            if mode == "any":
                state["done"] = True
                fn(grad)
                return
            state["grads"][index] = grad
            if sum(g is not None for g in state["grads"]) >= state["expected"]:
                state["done"] = True
                fn(list(state["grads"]))

        return hook

    return _MultiHandle(
        [tensor.register_hook(make_hook(index)) for index, tensor in enumerate(tensors)]
    )


def _node_of(tensor: Tensor) -> Node:
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    accumulator = tensor._grad_accumulator
    return accumulator() if accumulator is not None else None
