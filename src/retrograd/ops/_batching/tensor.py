"""Batching, the batched tensor and its dispatch: BatchedTensor, the physical helpers (each
makes one ordinary, recorded call), the dispatch to a rule, and the fallback that runs one
call per example and stacks the results."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from ..._tensor import Size, Tensor
from ..._vmap_state import vmap_state
from ...autograd.graph import own_counter

# ---------------------------------------------------------------------------
# BatchedTensor


class _Stand_in(np.ndarray):
    """The logical-shaped `_data` of a BatchedTensor: shape and dtype only, no values."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise RuntimeError(_NO_VALUES)

    def __array_function__(self, function, types, args, kwargs):
        if function is np.reshape:  # metadata only: a stand-in of the new shape
            shape = args[1] if len(args) > 1 else kwargs.get("shape", kwargs.get("newshape"))
            shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
            if -1 in shape:
                known = math.prod(size for size in shape if size != -1)
                shape = tuple(self.size // max(known, 1) if size == -1 else size for size in shape)
            return _stand_in(shape, self.dtype)
        if function in _METADATA_FUNCTIONS:
            return super().__array_function__(function, types, args, kwargs)
        raise RuntimeError(_NO_VALUES)

    def __getitem__(self, key):  # metadata only: a stand-in of the indexed shape
        indexed = np.broadcast_to(np.zeros((), dtype=self.dtype), self.shape)[key]
        return _stand_in(np.shape(indexed), self.dtype)


_METADATA_FUNCTIONS = {np.shape, np.ndim, np.size, np.result_type, np.broadcast_shapes,
                       np.can_cast, np.min_scalar_type}
_NO_VALUES = (
    "vmap: this operation reads the values of a batched tensor directly and has no batching "
    "rule yet. Rewrite the function with other operations, or call it outside vmap."
)


def _stand_in(shape: tuple, dtype: np.dtype) -> np.ndarray:
    array = np.ndarray.__new__(_Stand_in, shape, dtype=dtype, buffer=np.zeros(1, dtype=dtype),
                               strides=(0,) * len(shape))
    array.flags.writeable = False
    return array


class BatchedTensor(Tensor):
    """One example of a batch, as vmap's function sees it: see Note [Batched tensors]."""

    __slots__ = ("_levels", "_physical", "_stand_in")

    @property
    def _data(self):
        stand_in = self._stand_in
        if stand_in is None:
            physical = self._physical._data
            stand_in = self._stand_in = _stand_in(physical.shape[len(self._levels):], physical.dtype)
        return stand_in

    @_data.setter
    def _data(self, value) -> None:  # Tensor._setup's write: the values live in the physical tensor
        self._stand_in = None

    @property
    def shape(self) -> Size:
        return Size(self._physical._data.shape[len(self._levels):])

    def size(self, dim: int | None = None):
        shape = self._physical._data.shape[len(self._levels):]
        if dim is None:
            return Size(shape)
        return shape[self._wrap_dim(dim)]

    @property
    def ndim(self) -> int:
        return self._physical._data.ndim - len(self._levels)

    def dim(self) -> int:
        return self._physical._data.ndim - len(self._levels)

    def numel(self) -> int:
        return math.prod(self._physical._data.shape[len(self._levels):])

    def __repr__(self) -> str:
        text = repr(self._physical)
        for level in self._levels:
            body = "\n".join("    " + line for line in text.splitlines())
            text = f"BatchedTensor(lvl={_level_number(level)}, bdim=0, value=\n{body}\n)"
        return text

    def __bool__(self) -> bool:
        raise RuntimeError(_CONTROL_FLOW)

    def item(self):
        raise RuntimeError(_ITEM)

    def tolist(self):
        raise RuntimeError(_ITEM)

    def __float__(self) -> float:
        raise RuntimeError(_ITEM)

    def __int__(self) -> int:
        raise RuntimeError(_ITEM)

    def __index__(self) -> int:
        raise RuntimeError(_ITEM)

    def numpy(self, *, force: bool = False):
        raise RuntimeError("vmap: numpy() is not supported on a batched tensor inside vmap.")

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("vmap: a batched tensor cannot be converted to a NumPy array inside vmap.")

    def detach(self) -> Tensor:
        return wrap(self._physical.detach(), self._levels)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter([self[index] for index in range(self.shape[0])])

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __hash__(self) -> int:
        return id(self)

    def __reduce_ex__(self, protocol):
        raise RuntimeError("vmap: a batched tensor cannot be pickled or deep-copied inside vmap.")

    def __deepcopy__(self, memo):
        raise RuntimeError("vmap: a batched tensor cannot be pickled or deep-copied inside vmap.")


# Note [Where BatchedTensor methods come from]
#     BatchedTensor's class body (above) holds what makes it one example of a batch: its
#     logical metadata and the refusals to read values. Every other attribute it has of its
#     own (a method that takes a batching rule where Tensor's would compute on the stand-in)
#     is attached by `register_batched_method`, once, as Tensor's are by the op table (Note
#     [Where Tensor methods come from] in ops/_table.py): `register` attaches the methods of
#     the FUNCTION_RULES ops, and the indexing rules their `__getitem__` and `__setitem__`.
#     `batched_attached` says, for each, what was attached and by which module.
#     tests/test_tensor_methods.py checks that no other module assigns to BatchedTensor, and
#     that BatchedTensor has `BATCHED_CLASS_BODY` and `batched_attached` only.

BATCHED_CLASS_BODY = frozenset(vars(BatchedTensor))


@dataclasses.dataclass(frozen=True)
class AttachedToBatched:
    """One BatchedTensor attribute attached by `register_batched_method`, and who declared it."""

    value: object
    module: str
    op: str | None = None  # the op of the table it belongs to, for `register`'s methods


batched_attached: dict[str, AttachedToBatched] = {}


def register_batched_method(name: str, value, module: str, *, op: str | None = None) -> None:
    """Attach `value` to BatchedTensor as `name` (declared in `module`); see Note [Where
    BatchedTensor methods come from]. A name of the class body, or one attached, is refused."""
    if name in BATCHED_CLASS_BODY or name in batched_attached:
        where = batched_attached[name].module if name in batched_attached else "the class body"
        raise RuntimeError(f"BatchedTensor.{name} is already defined (by {where})")
    batched_attached[name] = AttachedToBatched(value, module, op)
    setattr(BatchedTensor, name, value)


_CONTROL_FLOW = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues ."
)
_ITEM = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
    ".item() on a Tensor, please try to rewrite what you're doing with other operations. If error "
    "is occurring somewhere inside PyTorch internals, please file a bug report."
)


def _level_number(level_id: int) -> int:
    """The nesting depth of a level (1 for the outermost active vmap), for printing."""
    for position, level in enumerate(vmap_state.levels):
        if level.id == level_id:
            return position + 1
    return level_id


def wrap(physical: Tensor, levels: tuple) -> Tensor:
    """The BatchedTensor over `physical`, whose leading dims are the batch dims of `levels`."""
    if not levels:
        return physical
    batched = BatchedTensor.__new__(BatchedTensor)
    batched._physical = physical
    batched._levels = levels
    batched._setup(None, physical.grad_fn, physical._output_nr, own_counter(physical))
    batched._requires_grad = physical._requires_grad
    batched._is_inference = physical._is_inference
    return batched


def levels_of(value) -> tuple:
    return value._levels if type(value) is BatchedTensor else ()


def _union(values) -> tuple:
    found: set[int] = set()
    for value in values:
        if type(value) is BatchedTensor:
            found.update(value._levels)
        elif type(value) in (list, tuple):
            for item in value:
                if type(item) is BatchedTensor:
                    found.update(item._levels)
    return tuple(sorted(found))


# ---------------------------------------------------------------------------
# Physical helpers: each makes one ordinary (recorded) call


_ops = None


def _lazy_ops():
    global _ops
    if _ops is None:
        from types import SimpleNamespace

        from .. import linalg, reduce, shape

        _ops = SimpleNamespace(shape=shape, reduce=reduce, linalg=linalg)
    return _ops


def _view(tensor: Tensor, shape: tuple) -> Tensor:
    if tuple(tensor._data.shape) == tuple(shape):
        return tensor
    return _lazy_ops().shape.reshape(tensor, shape)


def physical_at(value, levels: tuple, rank: int | None = None, expand: bool = False):
    """`value`'s physical tensor with a batch dim for each of `levels` (size 1 where it is not
    batched over a level, or the level's size with `expand`), and its logical rank padded
    to `rank` with leading size-1 dims. Plain tensors get the batch dims too."""
    if type(value) is BatchedTensor:
        physical, own = value._physical, value._levels
    elif isinstance(value, Tensor):
        physical, own = value, ()
    else:
        return value
    shape = physical._data.shape
    logical = shape[len(own):]
    pad = (1,) * (0 if rank is None else rank - len(logical))
    if own == levels and not pad and not expand:
        return physical
    sizes = vmap_state.sizes
    batch = []
    position = 0
    for level in levels:
        if position < len(own) and own[position] == level:
            batch.append(shape[position])
            position += 1
        else:
            batch.append(sizes.get(level, 1) if expand else 1)
    reshaped = _view(physical, tuple(1 if expand and own != levels and level not in own else size
                                      for level, size in zip(levels, batch)) + pad + logical)
    if expand and own != levels:
        reshaped = _lazy_ops().shape.expand(reshaped, tuple(batch) + pad + logical)
    return reshaped


def _result(value, levels: tuple):
    if isinstance(value, tuple):
        items = [_result(item, levels) for item in value]
        return type(value)(*items) if hasattr(type(value), "_fields") else tuple(items)
    if type(value) is list:
        return [_result(item, levels) for item in value]
    if isinstance(value, Tensor):
        return wrap(value, levels)
    return value


def _logical_rank(value) -> int:
    if type(value) is BatchedTensor:
        return value._physical._data.ndim - len(value._levels)
    if isinstance(value, Tensor):
        return value._data.ndim
    return 0


# ---------------------------------------------------------------------------
# The dispatch


_RULES: dict = {}
_RESOLVED: dict = {}


def rule(*node_classes):
    """Register the decorated function as the batching rule of `node_classes`."""

    def decorate(function):
        for node_class in node_classes:
            _RULES[node_class] = function
        _RESOLVED.clear()
        return function

    return decorate


def _find_rule(node_class):
    from .rules import _register_families  # defined later in the package
    found = _RESOLVED.get(node_class, _RULES)
    if found is _RULES:
        _register_families()
        found = None
        for cls in node_class.__mro__:
            if cls in _RULES:
                found = _RULES[cls]
                break
        _RESOLVED[node_class] = found
    return found


def apply_batched(node_class, inputs: tuple, params: dict):
    """The batched call of an op, or NotImplemented when no input is batched (see
    Note [Batching rules])."""
    levels = _union(inputs)
    if params:
        tensor_params = [value for value in params.values() if type(value) is BatchedTensor]
        if tensor_params:
            levels = tuple(sorted(set(levels).union(*(value._levels for value in tensor_params))))
    if not levels:
        return NotImplemented
    found = _find_rule(node_class)
    if found is None:
        return _fallback(node_class, inputs, params, levels)
    return found(node_class, inputs, params, levels)


# ---------------------------------------------------------------------------
# The fallback: one call per example, stacked


_warned: set = set()


def _op_name(node_class) -> str:
    name = node_class.__name__
    for suffix in ("Backward0", "Backward1", "Backward2", "Backward3", "Backward4", "Backward"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.lstrip("_")


def warn_fallback(op_name: str) -> None:
    warnings.warn(
        f"There is a performance drop because we have not yet implemented the batching rule for "
        f"{op_name}. Please file us an issue on GitHub so that we can prioritize its "
        "implementation.",
        UserWarning,
        stacklevel=4,
    )


def _fallback(node_class, inputs, params, levels):
    from .. import _table

    warn_fallback(f"retrograd::{_op_name(node_class)}")
    return loop_over_examples(lambda *args, **kwargs: _table.apply(node_class, *args, **kwargs),
                              inputs, params, levels)


def loop_over_examples(call, args: tuple, kwargs: dict, levels: tuple):
    """Run `call` once per example (every combination of the batch indices of `levels`) on
    plain tensors and stack the results: correct for any op, recorded as usual."""
    sizes = tuple(vmap_state.sizes[level] for level in levels)
    count = math.prod(sizes)

    def flat(value):
        if isinstance(value, Tensor):
            full = physical_at(value, levels, expand=True)
            return _view(full, (count, *tuple(full._data.shape[len(levels):])))
        if type(value) in (list, tuple):
            return type(value)(flat(item) for item in value)
        return value

    flat_args = [flat(value) for value in args]
    flat_kwargs = {key: flat(value) for key, value in kwargs.items()}
    batched = [type(value) is BatchedTensor or (type(value) in (list, tuple) and _union(value))
               for value in args]
    batched_kwargs = {key: type(value) is BatchedTensor or (type(value) in (list, tuple)
                                                           and bool(_union(value)))
                      for key, value in kwargs.items()}

    def pick(value, index):
        if isinstance(value, Tensor):
            return _lazy_ops().shape.select(value, 0, index)
        if type(value) in (list, tuple):
            return type(value)(pick(item, index) for item in value)
        return value

    results = []
    for index in range(count):
        example_args = [pick(value, index) if is_batched else original
                        for value, original, is_batched in zip(flat_args, args, batched)]
        example_kwargs = {key: pick(flat_kwargs[key], index) if batched_kwargs[key] else value
                          for key, value in kwargs.items()}
        results.append(call(*example_args, **example_kwargs))
    return _stack_results(results, sizes, levels)


def _stack_results(results: list, sizes: tuple, levels: tuple):
    first = results[0] if results else None
    if isinstance(first, tuple | list):
        stacked = [_stack_results([result[position] for result in results], sizes, levels)
                   for position in range(len(first))]
        if hasattr(first, "_fields"):
            return type(first)(*stacked)
        return type(first)(stacked)
    if not isinstance(first, Tensor):
        raise RuntimeError(
            f"vmap: an operation without a batching rule returned {type(first).__name__}, not a "
            "Tensor; it cannot be batched"
        )
    stacked = _lazy_ops().shape.stack(results, 0)
    return wrap(_view(stacked, sizes + tuple(first._data.shape)), levels)
