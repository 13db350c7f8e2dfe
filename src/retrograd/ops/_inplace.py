"""In-place operations on views: how writing through a view rewrites its base's history.

Note [In-place on a view]
    A view (`b[0:2]`, `b.view(6)`, `b.select(0, 1)`) shares memory and version counter with
    its base. When an in-place op writes through a view of a tensor that is part of a graph,
    the base's values change too, so the base's history must change with them:

      - the base's grad_fn becomes a `CopySlices` node. Its backward takes the gradient of
        the whole base, runs the in-place op's own backward on the part the view covers,
        puts the result back in that part (the rest passes through unchanged) and sends it
        to the base's previous history; the op's other inputs get their gradients as usual;
      - the view's grad_fn becomes `AsStridedBackward0`: the view re-read from the base's
        new history (its backward scatters the gradient into the view's positions);
      - every other live view of that base is re-read from the new history the same way,
        so gradients through views made before the write are right too; so are the views of
        a base written through a `detach()` alias of it (the alias shares the version
        counter, by which the bases with views are listed: `refresh_aliased_views`), as PyTorch
        regenerates a view's grad_fn once its version has changed.

    Where a view sits inside its base is found from memory addresses (`view_positions`):
    the flat index, in the base, of each element of the view. This works for any view
    NumPy can make, with no per-op bookkeeping.

Note [Views that cannot be rebuilt]
    Two kinds of view have a history PyTorch will not rebuild after an in-place write: the
    outputs of a function that returns several views (split, unbind, chunk; MULTI_OUTPUT),
    and views made under no_grad of a base that requires grad (NO_GRAD), and the views of
    either. Writing into one while recording raises; once its base or another view of the
    base was written, the view is spoiled: reading its `grad_fn` (so using it in a recorded
    op) raises, as PyTorch does when it would rebuild it. A recorded several-views output is
    known by its grad_fn (`of_several_views`); the others keep their kind in `_MADE`.
"""

from __future__ import annotations

import weakref

import numpy as np

from .._tensor import (
    Tensor,
    grad_through_base,
    history_of,
    is_spoiled,
    new_version_counter,
    spoil_view,
    spoiled_lookup,
)
from ..autograd.graph import Node, own_counter
from ._table import apply, attached, register_method
from ._tangents import LINEAR

__all__ = ["AsStridedBackward0", "CopySlices", "register_view", "write_through_view"]

MULTI_OUTPUT, NO_GRAD = "multi_output", "no_grad"

# Each view made without a recorded node: id(view) -> (weak reference to the view, its kind
# (MULTI_OUTPUT, NO_GRAD or None: Note [Views that cannot be rebuilt]), the version of its memory
# when it was made). Entries of dead views are swept out whenever the table has doubled (an
# entry whose id a new tensor took is told apart by its reference).
_MADE: dict[int, tuple] = {}
_MADE_SWEEP_AT = [1024]


def _sweep_made() -> None:
    for key in [key for key, entry in _MADE.items() if entry[0]() is None]:
        del _MADE[key]
    _MADE_SWEEP_AT[0] = max(1024, 2 * len(_MADE))


def _made(view: Tensor) -> tuple | None:
    entry = _MADE.get(id(view))
    return entry if entry is not None and entry[0]() is view else None


def view_kind(view: Tensor) -> str | None:
    """MULTI_OUTPUT, NO_GRAD or None (an ordinary view, or no view) for a view without history."""
    entry = _made(view)
    return None if entry is None else entry[1]


def of_several_views(node: Node) -> bool:
    """Whether a tensor made by `node` is one of several views (split, unbind) or a view of one."""
    while not node.several_views:
        if not node.is_view:
            return False
        node = node.next_functions[0][0]
        if node is None:
            return False
    return True


def rebase_error(tensor: Tensor, kind: str, indirect: bool) -> RuntimeError:
    """PyTorch's error for a view of `kind` written in place (`indirect`: through its base or
    another view of it), with the history it had (read without raising: `history_of`)."""
    modified = "its base or another view of its base has been" if indirect else "is being"
    grad_fn = history_of(tensor)
    if grad_fn is not None:
        name = grad_fn.name().removesuffix("Backward0")
        message = f"Output {tensor._output_nr} of {name} is a view and {modified} modified inplace."
    else:
        message = (f"A view was created in no_grad mode and {modified} modified inplace with grad "
                   "mode enabled.")
    if kind == MULTI_OUTPUT:
        message += (" This view is the output of a function that returns multiple views. Such functions "
                    "do not allow the output views to be modified inplace. You should replace the "
                    "inplace operation by an out-of-place one.")
    else:
        message += (" Given that this use case is ambiguous and error-prone, it is forbidden. You can "
                    "clarify your code by moving both the view and the inplace either both inside the "
                    "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
                    "want the inplace to be tracked).")
    return RuntimeError(message)


def kind_of(view: Tensor) -> str | None:
    """The kind of `view` that PyTorch will not rebuild, or None."""
    grad_fn = history_of(view)
    if grad_fn is not None and of_several_views(grad_fn):
        return MULTI_OUTPUT
    return view_kind(view)


def note_view_made(view: Tensor, input: Tensor, several: bool, grad_enabled: bool) -> None:
    """A view made without a recorded node: its kind, and whether it requires grad through its
    base (Note [Views that require grad through their base], _tensor.py)."""
    base = view._base
    if not grad_enabled:
        kind = NO_GRAD
        if base._requires_grad:
            _require_grad_through_base(view)
    elif several:
        kind = MULTI_OUTPUT
    else:  # the input's kind (view_kind, inlined: the common case of views made in a backward)
        entry = _MADE.get(id(input))
        kind = entry[1] if entry is not None and entry[0]() is input else None
    _MADE[id(view)] = (weakref.ref(view), kind, view._version_counter.item())
    if len(_MADE) >= _MADE_SWEEP_AT[0]:
        _sweep_made()
    register_view(view, base)  # (a later in-place write or requires_grad_() reaches it)


def _require_grad_through_base(view: Tensor) -> None:
    view._requires_grad = True
    view._grad_accumulator = grad_through_base


def views_follow_requires_grad(base: Tensor) -> None:
    """After `base.requires_grad_(flag)`, its views without history follow, as PyTorch's do
    when their grad_fn is next read: a view whose memory was written since it was made takes
    its history from the base (or is spoiled, if of a kind that cannot be rebuilt); the others
    require grad through their base (Note [Views that require grad through their base])."""
    for view in _live_views(base):
        if is_spoiled(view) or Tensor.grad_fn.__get__(view) is not None:
            continue
        if not base._requires_grad:
            if view._grad_accumulator is grad_through_base:
                view._requires_grad = False
                view._grad_accumulator = None
            continue
        made = _made(view)
        if made is None or made[2] == view._version_counter[0]:
            if not view._requires_grad:
                _require_grad_through_base(view)
        elif made[1] is not None:
            _spoil(view, made[1])
        else:
            _reread_from_base(view, base, view_positions(base._data, view._data))


def _spoil(view: Tensor, kind: str) -> None:
    """Reading the view's grad_fn raises from now on (Note [Spoiled views], _tensor.py)."""
    spoil_view(view, str(rebase_error(view, kind, indirect=True)))
    if "__getattr__" not in attached:
        register_method("__getattr__", spoiled_lookup, __name__)


def register_view(view: Tensor, base: Tensor) -> None:
    """Remember `view` so that a later in-place write to `base`'s memory updates its history.

    The base keeps weak references in a plain list (`Tensor._views`): tensors compare
    elementwise, so they cannot be keys of weak dictionaries or members of weak sets. Dead
    references are dropped whenever the list reaches a power of two (from 64), so a base
    viewed millions of times (a data set read row by row) keeps a short list.
    """
    views = base._views
    if views is None:
        views = base._views = []
        _remember_root(base)
    views.append(weakref.ref(view))
    count = len(views)
    if count >= 64 and count & (count - 1) == 0:  # at 64, 128, 256...: amortised constant cost
        _live_views(base)


# The bases with views, per storage: id(version counter) -> (weak reference to the counter, weak
# references to the bases). A counter is a bare one-element array (Note [A light graph]), so the
# list lives here; an entry leaves with its counter.
_VIEW_ROOTS: dict[int, tuple] = {}


def _forget_counter(key: int):
    return lambda _: _VIEW_ROOTS.pop(key, None)


def _remember_root(base: Tensor) -> None:
    """List `base` as a tensor of its storage whose views may need a new history (see
    `refresh_aliased_views`)."""
    counter = own_counter(base)
    key = id(counter)
    entry = _VIEW_ROOTS.get(key)
    if entry is None or entry[0]() is not counter:  # (a storage's first base: nothing to look through)
        _VIEW_ROOTS[key] = (weakref.ref(counter, _forget_counter(key)), [weakref.ref(base)])
        return
    roots = entry[1]
    if not any(ref() is base for ref in roots):
        roots[:] = [ref for ref in roots if ref() is not None]
        roots.append(weakref.ref(base))


def refresh_aliased_views(written: Tensor) -> None:
    """After a write into `written`'s memory: the views of every other base on that storage
    (reached through a `detach()` alias, which shares the version counter but is no view) read
    their histories anew, as PyTorch regenerates a view's grad_fn once its version changed."""
    counter = written._version_counter
    entry = _VIEW_ROOTS.get(id(counter))
    if entry is None or entry[0]() is not counter:
        return
    own = written._base if written._base is not None else written
    for ref in tuple(entry[1]):
        root = ref()
        if root is not None and root is not own and root._requires_grad and root._views is not None:
            refresh_views(root)


def has_views(base: Tensor) -> bool:
    return base._views is not None


def _live_views(base: Tensor) -> list[Tensor]:
    """The views of `base` still alive (dead references are dropped on the way)."""
    alive = [view for view in (ref() for ref in base._views or ()) if view is not None]
    base._views = [weakref.ref(view) for view in alive] or None
    return alive


def view_positions(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """The flat (C-order) index in `base` of each element of `view`, shaped like `view`."""
    if view.size == 0:
        return np.zeros(view.shape, dtype=np.int64)
    base_addresses = _element_addresses(base).reshape(-1)
    view_addresses = _element_addresses(view).reshape(-1)
    order = np.argsort(base_addresses, kind="stable")
    sorted_addresses = base_addresses[order]
    found = np.searchsorted(sorted_addresses, view_addresses)
    found = np.minimum(found, max(sorted_addresses.size - 1, 0))
    if sorted_addresses.size == 0 or not np.array_equal(sorted_addresses[found], view_addresses):
        raise RuntimeError("a view no longer shares memory with its base")
    return order[found].reshape(view.shape)


def _element_addresses(array: np.ndarray) -> np.ndarray:
    addresses = np.full(array.shape, array.__array_interface__["data"][0], dtype=np.int64)
    for dim, (size, stride) in enumerate(zip(array.shape, array.strides)):
        step = np.arange(size, dtype=np.int64) * stride
        addresses += step.reshape((size,) + (1,) * (array.ndim - dim - 1))
    return addresses


# ---------------------------------------------------------------------------
# Differentiable gather and scatter by flat positions (the pieces CopySlices is made of)


class AsStridedBackward0(Node):
    """Read a view's elements out of its base: `base.flatten()[positions]`.

    As a regenerated view's grad_fn its backward scatters the view's gradient into zeros
    of the base's shape (adding where elements repeat, as in an expanded view).
    """
    hand_written = "in-place writes through views: the base's history is rebuilt around the write"

    tangent = LINEAR
    __slots__ = ("base_shape", "positions")

    @staticmethod
    def forward(ctx, base, positions):
        ctx.positions = positions
        ctx.base_shape = base._data.shape
        return base._data.reshape(-1)[positions]

    def backward(self, grad):
        return apply(AsStridedScatterAddBackward0, grad, positions=self.positions,
                     base_shape=self.base_shape)


class AsStridedScatterAddBackward0(Node):
    """Add a view's values into zeros of the base's shape at their positions."""
    hand_written = "in-place writes through views: the base's history is rebuilt around the write"

    tangent = LINEAR
    __slots__ = ("positions",)

    @staticmethod
    def forward(ctx, values, positions, base_shape):
        ctx.positions = positions
        result = np.zeros(int(np.prod(base_shape, dtype=np.int64)), dtype=values._data.dtype)
        np.add.at(result, positions.reshape(-1), values._data.reshape(-1))
        return result.reshape(base_shape)

    def backward(self, grad):
        return apply(AsStridedBackward0, grad, positions=self.positions)


class AsStridedScatterBackward0(Node):
    """`base` with the elements at `positions` replaced by `values`."""
    hand_written = "in-place writes through views: the base's history is rebuilt around the write"

    tangent = LINEAR
    __slots__ = ("positions",)

    @staticmethod
    def forward(ctx, base, values, positions):
        ctx.positions = positions
        result = base._data.copy()
        result.reshape(-1)[positions.reshape(-1)] = values._data.reshape(-1)
        return result

    def backward(self, grad):
        kept = apply(AsStridedScatterBackward0, grad, _zeros_like_view(grad, self.positions),
                     positions=self.positions)
        return kept, apply(AsStridedBackward0, grad, positions=self.positions)


def _zeros_like_view(grad: Tensor, positions: np.ndarray) -> Tensor:
    return Tensor._make(np.zeros(positions.shape, dtype=grad._data.dtype))


class CopySlices(Node):
    """The base's history after an in-place op wrote through one of its views.

    Edge 0 is the base's previous history; edges 1... are the op's other inputs.
    """
    hand_written = "in-place writes through views: the base's history is rebuilt around the write"

    tangent = LINEAR
    __slots__ = ("op_node", "overlapping", "positions")

    def _saved_names(self) -> list[str]:
        """None listed, as PyTorch's CopySlices (graph walkers list `_saved_` names); the slots
        stay readable as `_saved_<slot>`."""
        return []

    def backward(self, grad):
        from ..autograd.engine import _fit_to_inputs

        if self.overlapping:  # (fill_ and zero_ may write an expanded view; PyTorch's backward refuses)
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a "
                "single memory location. Please clone() the tensor before performing the operation."
            )
        view_grad = apply(AsStridedBackward0, grad, positions=self.positions)
        op_grads = self.op_node.backward(view_grad)
        if type(op_grads) is not tuple:
            op_grads = (op_grads,)
        op_grads = _fit_to_inputs(self.op_node, op_grads)
        base_grad = None
        if self.next_functions[0][0] is not None:
            written = op_grads[0] if op_grads[0] is not None else _zeros_like_view(grad, self.positions)
            base_grad = apply(AsStridedScatterBackward0, grad, written, positions=self.positions)
        return (base_grad, *op_grads[1:])

    def _release(self) -> None:
        self.op_node._release()
        self._released = True


# ---------------------------------------------------------------------------
# Rewriting history


def _edge_of(tensor: Tensor):
    if not tensor._requires_grad:
        return (None, 0)
    if tensor.grad_fn is not None:
        return (tensor.grad_fn, tensor._output_nr)
    return (tensor._get_grad_accumulator(), 0)


def write_through_view(target: Tensor, result: Tensor) -> None:
    """After `result` (computed from the view `target`) was written into it: rewrite the
    histories of its base and of the base's views; see Note [In-place on a view]."""
    base = target._base
    op_node = result.grad_fn
    positions = view_positions(base._data, target._data)
    copy_slices = CopySlices()
    copy_slices.op_node = op_node
    copy_slices.positions = positions
    copy_slices.overlapping = any(stride == 0 and size > 1 for size, stride in zip(target._data.shape,
                                                                                  target._data.strides))
    copy_slices.next_functions = (_edge_of(base), *op_node.next_functions[1:])
    copy_slices._input_meta = ((base._data.shape, base._data.dtype), *op_node._input_meta[1:])
    set_history(base, copy_slices, 0)
    _reread_from_base(target, base, positions)
    refresh_views(base, skip=target)


def refresh_views(base: Tensor, skip: Tensor | None = None) -> None:
    """Re-read every live view of `base` from its (new) history."""
    if base._views is None or not base._requires_grad:
        return
    for view in _live_views(base):
        if view is skip or is_spoiled(view):
            continue
        kind = kind_of(view)
        if kind is not None:
            _spoil(view, kind)
        else:
            _reread_from_base(view, base, view_positions(base._data, view._data))


def reread_view(view: Tensor) -> None:
    """Give a view made outside the graph the history of its base (before writing to it)."""
    _reread_from_base(view, view._base, view_positions(view._base._data, view._data))


def _reread_from_base(view: Tensor, base: Tensor, positions: np.ndarray) -> None:
    node = AsStridedBackward0()
    node.positions = positions
    node.base_shape = base._data.shape
    node.next_functions = (_edge_of(base),)
    node._input_meta = ((base._data.shape, base._data.dtype),)
    set_history(view, node, 0)


def set_history(tensor: Tensor, node: Node, output_nr: int) -> None:
    """Make `tensor` output `output_nr` of `node`; a retained grad follows it to the new node."""
    retains = tensor._extras is not None and tensor._retains_grad  # (Note [A node's rare fields])
    if retains and tensor.grad_fn is not None:
        retained = tensor.grad_fn._retain_grad_hooks
        if retained is not None:
            retained.pop(tensor._output_nr, None)
    tensor.grad_fn = node
    tensor._output_nr = output_nr
    tensor._requires_grad = True
    if retains:
        if node._retain_grad_hooks is None:
            node._retain_grad_hooks = {}
        node._retain_grad_hooks[output_nr] = weakref.ref(tensor)


def snapshot(target: Tensor) -> Tensor:
    """Target's current value and history, before an in-place op overwrites them."""
    copy = Tensor._from_node(target._data.copy(), target.grad_fn, target._output_nr, new_version_counter())
    copy._requires_grad = target._requires_grad
    if getattr(target, "_fw_grad", None) is not None or getattr(target, "_fw_grads", None):
        from ..autograd.forward_ad import copy_tangents

        copy_tangents(target, copy)  # its tangents, read by the op (forward mode)
    return copy
