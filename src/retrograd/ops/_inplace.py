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
        so gradients through views made before the write are right too.

    Where a view sits inside its base is found from memory addresses (`view_positions`):
    the flat index, in the base, of each element of the view. This works for any view
    NumPy can make, with no per-op bookkeeping.
"""

from __future__ import annotations

import weakref

import numpy as np

from .._tensor import Tensor, new_version_counter
from ..autograd.graph import Node
from ._table import apply
from ._tangents import LINEAR

__all__ = ["AsStridedBackward0", "CopySlices", "register_view", "write_through_view"]

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
    views.append(weakref.ref(view))
    count = len(views)
    if count >= 64 and count & (count - 1) == 0:  # at 64, 128, 256...: amortised constant cost
        _live_views(base)


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

    tangent = LINEAR
    __slots__ = ("op_node", "positions")

    def backward(self, grad):
        from ..autograd.engine import _fit_to_inputs

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
        if view is not skip:
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
    if tensor._retains_grad and tensor.grad_fn is not None:
        retained = tensor.grad_fn._retain_grad_hooks
        if retained is not None:
            retained.pop(tensor._output_nr, None)
    tensor.grad_fn = node
    tensor._output_nr = output_nr
    tensor._requires_grad = True
    if tensor._retains_grad:
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
