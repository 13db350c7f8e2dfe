"""`_saved_<name>` values as PyTorch shows them, where the formulas read other ones.

Note [Saved values as PyTorch shows them]
    A formula reads what is convenient to compute with: a dim wrapped to be non-negative,
    a basic index key, the target of a loss reshaped to index along the class dim. PyTorch's
    node shows the values its own formulas read: the dim as the call gave it, the `dim` and
    `index` of a select, the target as given and the loss's total weight. A node class that
    derives from `ShownAsPyTorch` (before `Formula`) lists PyTorch's names in `shown`, each
    with a function of the node that gives its value, and the formula reads PyTorch does
    not show in `hidden`; `dir(node)` and `node._saved_<name>` then follow PyTorch. A value
    the call gave is kept as the parameter `<name>_as_given`, which no formula reads.
"""

from __future__ import annotations

from typing import ClassVar

from .._tensor import Tensor
from ..autograd.graph import _MISSING, _SECOND_BACKWARD_MESSAGE, own_counter

__all__ = [
    "ShownAsPyTorch",
    "ShowsDimAsGiven",
    "ShowsOneDimAsGiven",
    "argument_saved",
    "as_given",
    "check_saved",
    "dims_as_given",
    "formula_value",
    "given_where_different",
    "kept_arguments",
    "saved_array",
    "saved_unchecked",
    "tensor_as_given",
]


class ShownAsPyTorch:
    """Mixin for a declared node whose saved values PyTorch shows otherwise; see Note [Saved
    values as PyTorch shows them]."""

    __slots__ = ()

    shown: ClassVar[dict] = {}  # PyTorch's name -> function(node) of the value it shows
    hidden: ClassVar[tuple] = ()  # what the formulas read that PyTorch does not show

    @classmethod
    def _static_saved_names(cls) -> list[str] | None:
        """The names a declared node shows, known from its class alone (so each gets a
        property, and the class no `__getattr__`, which would slow every attribute read of
        its nodes: Note [Saved values as attributes], autograd/graph.py); None for a class
        that lists its names otherwise."""
        if not getattr(cls, "_declared", False) or cls._saved_names is not ShownAsPyTorch._saved_names:
            return None
        from ._formula import _public_name

        names = [_public_name(cls, name) for name in cls._all_reads]
        return [name for name in names if name not in cls.hidden and name not in cls.shown] + list(cls.shown)

    def _saved_names(self) -> list[str]:
        kept = [name for name in super()._saved_names() if name not in self.hidden and name not in self.shown]
        return kept + list(self.shown)

    def _find_saved(self, name: str):
        show = self.shown.get(name)
        if show is not None:
            return show(self)
        if name in self.hidden:
            return _MISSING
        return super()._find_saved(name)


def formula_value(node, name: str):
    """The saved value the formulas read under `name` (checked as any saved value)."""
    return super(ShownAsPyTorch, node)._find_saved(name)


def as_given(name: str, normalise=None, otherwise=None):
    """The value the call gave for `name` (kept as `<name>_as_given`; `normalise`d), else
    `otherwise(node)`, by default the one the formulas read."""
    key = f"{name}_as_given"

    def show(node):
        params = node._params
        if key not in params:
            return formula_value(node, name) if otherwise is None else otherwise(node)
        value = params[key]
        return value if normalise is None else normalise(value)

    return show


def given_where_different(**pairs) -> dict:
    """The parameters `<name>_as_given=given` for each `name=(given, wrapped)` pair whose two
    differ: what a call passes so that its node shows the value as given."""
    return {f"{name}_as_given": given for name, (given, wrapped) in pairs.items() if given != wrapped}


def dims_as_given(dim):
    """A dim argument as PyTorch's node shows it: None, or a tuple (of the dims as given)."""
    if dim is None:
        return None
    return (int(dim),) if isinstance(dim, int) else tuple(int(each) for each in dim)


class ShowsDimAsGiven(ShownAsPyTorch):
    """A reduction along dims that shows `dim` as the call gave it (a tuple; `()` when none
    was given): `x.sum(-1)` shows `(-1,)`, where its formulas read `(1,)`."""

    __slots__ = ()

    shown: ClassVar[dict] = {"dim": as_given("dim", lambda dim: () if dim is None else dims_as_given(dim))}


class ShowsOneDimAsGiven(ShownAsPyTorch):
    """An op along one dim that shows `dim` as the call gave it (`x.cumsum(-1)` shows -1)."""

    __slots__ = ()

    shown: ClassVar[dict] = {"dim": as_given("dim", int)}


def kept_arguments(*names: str) -> dict:
    """`shown` entries of a hand-written node for the arguments PyTorch's node saves: the
    forward keeps their values as PyTorch shows them, in this order, in the tuple slot
    `_arguments` (one object whatever their number, which no formula reads)."""
    return {name: (lambda node, position=position: node._arguments[position])
            for position, name in enumerate(names)}


def check_saved(node) -> None:
    """Refuse, as reading its saved tensors would, a backward through a node released by an
    earlier one or whose saved tensors changed in place since; without rebuilding them, for
    a backward on arrays that reads none (a pooling's, which PyTorch's checks all the same)."""
    if node._released:
        raise RuntimeError(_SECOND_BACKWARD_MESSAGE)
    for value, version in zip(node._saved, node._saved_versions):
        if version is None:  # (a value packed by saved-tensor hooks: they own it)
            continue
        # (a tuple is a record: Note [Saved records], autograd/graph.py)
        counter = value[1] if type(value) is tuple else value._version_counter
        if counter[0] != version:
            node._unpack(value, version)  # (raises PyTorch's error)


def saved_unchecked(node, value):
    """A value PyTorch saved that the node keeps outside its saved tensors (no version to
    check): freed, as any saved tensor, once backward released the node."""
    if node._released:
        raise RuntimeError(_SECOND_BACKWARD_MESSAGE)
    return value


def saved_array(node, array) -> Tensor:
    """A tensor PyTorch saved that the formulas keep as an array (see saved_unchecked)."""
    return Tensor._make(saved_unchecked(node, array))


def tensor_as_given(name: str):
    """A tensor argument PyTorch's node saves and the formulas read as an array (an index, a
    mask): the array of the tensor the call gave (kept as `<name>_as_given`), else the one
    the formulas read (a saved tensor as it is: see argument_saved), shown as a tensor and
    freed with the node, as PyTorch's."""
    key = f"{name}_as_given"

    def show(node):
        params = node._params
        value = params[key] if key in params else formula_value(node, name)
        return value if isinstance(value, Tensor) else saved_array(node, value)

    return show


def argument_saved(given: Tensor, array) -> Tensor:
    """The tensor a node saves for a tensor argument the call gave (an index, a mask) whose
    formulas read `array` (the argument checked, perhaps made int64 or wrapped): the given
    tensor itself when `array` is its own, else a tensor of `array` on the given one's
    version counter. Either way the node saves it as PyTorch's saves the argument: a
    backward after it changed in place is refused, and so is a second one."""
    if array is given._data:
        return given
    stand_in = Tensor._make(array)
    stand_in._version_counter = own_counter(given)
    return stand_in
