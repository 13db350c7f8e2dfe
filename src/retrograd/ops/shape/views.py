"""Shape operators, new shapes for the same elements: view, reshape, flatten, unflatten,
expand (and its inverse), squeeze and unsqueeze, with the size checks they share; and
as_strided, any window on the storage."""

from __future__ import annotations

import math
import numbers
from typing import ClassVar

import numpy as np

from ... import _dtype, _storage
from ..._tensor import Size, Tensor
from ...autograd.engine import _summed_axes
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, ShowsOneDimAsGiven, as_given, dims_as_given
from .._table import apply, register
from .._tangents import LINEAR
from ..reduce import normalize_dims
from ..reduce import sums as _sums


def _shape_argument(shape) -> tuple:
    """A shape given as `f(2, 3)` or `f((2, 3))`."""
    if len(shape) == 1 and isinstance(shape[0], list | tuple | Size):
        shape = tuple(shape[0])
    for size in shape:  # (the common case: Python ints already)
        if type(size) is not int:
            break
    else:
        return shape
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral | Tensor):
            raise TypeError(
                f"shape must be a sequence of ints, but got an element of type {type(size).__name__}"
            )
    return tuple(int(size) for size in shape)


def format_shape(shape) -> str:
    """A shape as PyTorch prints it in messages: `[2, 3]`."""
    return f"[{', '.join(map(str, shape))}]"


def wrap_dim(dim, ndim: int) -> int:
    """`dim` as a non-negative index into `ndim` dims (a 0-d tensor accepts 0 and -1)."""
    rank = ndim if ndim > 0 else 1
    if type(dim) is int and -rank <= dim < rank:  # the common case, without the checks' cost
        return dim % rank
    return normalize_dims(int(dim), rank)[0]


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in `shape`; RuntimeError if `shape` cannot hold `numel` elements."""
    if -1 not in shape:
        if (not shape or min(shape) >= 0) and math.prod(shape) == numel:
            return shape  # (the common case, without the checks' cost)
    elif min(shape) == -1 and shape.count(-1) == 1:  # (one -1 among sizes: `x.view(-1, 784)`)
        known = -math.prod(shape)
        if known > 0 and numel % known == 0:
            at = shape.index(-1)
            return (*shape[:at], numel // known, *shape[at + 1:])
    unknown = None
    known = 1
    for index, size in enumerate(shape):  # (PyTorch's checks, in its order)
        if size == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = index
        elif size >= 0:
            known *= size
        else:
            raise RuntimeError(f"invalid shape dimension {size} at index {index} of shape "
                               f"{format_shape(shape)}")
    if numel == known or (unknown is not None and known > 0 and numel % known == 0):
        if unknown is None:
            return shape
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {format_shape(shape)} "
                               "because the unspecified dimension size -1 can be any value and is ambiguous")
        return (*shape[:unknown], numel // known, *shape[unknown + 1:])
    raise RuntimeError(f"shape '{format_shape(shape)}' is invalid for input of size {numel}")


# ---------------------------------------------------------------------------
# New shapes for the same elements: view, reshape, flatten, unflatten


class ViewBackward0(Formula):
    """A view with a new shape: the gradient takes the input's shape back.

    Its tangent is the input's tangent reshaped, a copy where that tangent's strides allow no
    view: a tangent need not be laid out as its primal here (PyTorch copies one that is not
    into the primal's layout when it is attached, so its views never meet one).
    """

    is_view = True

    @staticmethod
    def forward(self, shape):
        try:
            return self._data.reshape(shape, copy=False)
        except ValueError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None

    tangent = staticmethod(lambda self_t, shape: _math.reshape(self_t, shape))
    derivatives = {"self": lambda grad, self_shape: _math.reshape(grad, self_shape)}


class ReshapeAliasBackward0(ViewBackward0):
    """reshape of a tensor that is not contiguous but whose strides allow a view."""


class UnsafeViewBackward0(Formula):
    """PyTorch's `_unsafe_view`: a new shape for the input's memory, recorded as no view. Its
    input is a tensor no one else reads (reshape's contiguous copy, a product just made), or,
    in kron as in PyTorch, a factor that the result does not alias (a product is made of it);
    NumPy copies where the strides allow no view (a batched rule's physical array)."""

    @staticmethod
    def forward(self, shape):
        return np.reshape(self._data, shape)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.reshape(grad, self_shape)}


def _can_view(data: np.ndarray, shape: tuple) -> bool:
    if data.flags.c_contiguous:
        return True
    try:
        data.reshape(shape, copy=False)
    except ValueError:
        return False
    return True


@register(methods="view")
def view(input, *shape):
    """The same data seen with a new shape (no copy; the strides must allow it)."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_argument(shape), input._data.size)
    return apply(ViewBackward0, input, shape=shape)


@register(methods="reshape")
def reshape(input, *shape):
    """The same elements in a new shape: a view when possible, else a copy.

    As PyTorch records it: ViewBackward0 for a contiguous tensor, ReshapeAliasBackward0 for
    another whose strides allow a view, else a contiguous copy (CloneBackward0) given the
    shape (UnsafeViewBackward0)."""
    shape = _infer_shape(_shape_argument(shape), input._data.size)
    data = input._data
    if data.flags.c_contiguous:
        return apply(ViewBackward0, input, shape=shape)
    if _can_view(data, shape):
        return apply(ReshapeAliasBackward0, input, shape=shape)
    from .rearrange import CloneBackward0  # (a later module of the package)

    return apply(UnsafeViewBackward0, apply(CloneBackward0, input), shape=shape)


@register(methods="view_as")
def view_as(input, other):
    """`input.view(other.shape)`."""
    return view(input, other.shape)


@register(methods="reshape_as")
def reshape_as(input, other):
    """`input.reshape(other.shape)`."""
    return reshape(input, other.shape)


@register(methods="flatten")
def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Dims `start_dim`..`end_dim` merged into one (a view when the strides allow)."""
    if input.ndim == 0:
        return reshape(input, (1,))
    start, end = wrap_dim(start_dim, input.ndim), wrap_dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input._data.shape
    merged = math.prod(shape[start:end + 1])
    return reshape(input, (*shape[:start], merged, *shape[end + 1:]))


@register(methods="unflatten")
def unflatten(input, dim: int, sizes):
    """Dim `dim` split into `sizes` (one may be -1)."""
    dim = wrap_dim(dim, input.ndim)
    sizes = _shape_argument((sizes,))
    size = input._data.shape[dim]
    try:
        resolved = _infer_shape(sizes, size)
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {format_shape(sizes)} don't multiply up to the size of dim "
            f"{dim} ({size}) in the input tensor"
        ) from None
    shape = input._data.shape
    # (splitting one dim always leaves a view, which PyTorch records as view's node)
    return apply(ViewBackward0, input, shape=shape[:dim] + resolved + shape[dim + 1:])


# ---------------------------------------------------------------------------
# Broadcasting: expand and its inverse


class ExpandBackward0(Formula):
    """A broadcast view: the gradient is summed back over the expanded dims."""

    is_view = True

    @staticmethod
    def forward(self, shape):
        return _broadcast_view(self._data, shape)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.sum_to_size(grad, self_shape)}


def _broadcast_view(data: np.ndarray, shape: tuple) -> np.ndarray:
    """`data` broadcast to `shape`: a read-only view whose expanded dims have stride 0. For a
    contiguous array it is made directly on `data`'s memory (with `data` as its base, as
    `np.broadcast_to`'s), in a few hundred nanoseconds where broadcast_to's Python takes about
    5 µs, the most of a no-grad expand (sum's backward, with create_graph); its other dims keep
    their strides, as PyTorch's expand keeps them (broadcast_to gives a dim of size 1 stride 0).
    `shape` has passed `_expanded_shape`."""
    if not data.flags.c_contiguous or not data.size:
        return np.broadcast_to(data, shape)
    lead = len(shape) - data.ndim
    strides = [0] * lead
    for size, stride, target in zip(data.shape, data.strides, shape[lead:]):
        strides.append(stride if size == target else 0)
    view = np.ndarray(shape, data.dtype, data, 0, strides)
    view.flags.writeable = False
    return view


def _expanded_shape(current: tuple, requested: tuple) -> tuple:
    if len(requested) < len(current):
        raise RuntimeError(
            f"expand(retrograd.FloatTensor{{{format_shape(current)}}}, size={format_shape(requested)}): "
            f"the number of sizes provided ({len(requested)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({len(current)})"
        )
    offset = len(requested) - len(current)
    result = list(requested)
    for index, size in enumerate(current):
        target = requested[offset + index]
        if target == -1:
            result[offset + index] = size
        elif size != target and size != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({target}) must match the existing size "
                f"({size}) at non-singleton dimension {offset + index}.  Target sizes: "
                f"{format_shape(requested)}.  Tensor sizes: {format_shape(current)}"
            )
    return tuple(result)


def check_expandable(current: tuple, requested: tuple) -> None:
    """PyTorch's RuntimeError when `current` cannot be broadcast to `requested`."""
    _expanded_shape(current, requested)


@register(methods="expand")
def expand(input, *sizes):
    """A view broadcasting size-1 dims (and new leading dims) to `sizes` (-1 keeps a dim)."""
    shape = _expanded_shape(input._data.shape, _shape_argument(sizes))
    return apply(ExpandBackward0, input, shape=shape)


@register(methods="expand_as")
def expand_as(input, other):
    """`input.expand(other.shape)`."""
    return expand(input, other.shape)


@register(methods="broadcast_to")
def broadcast_to(input, size):
    """`input.expand(size)`."""
    return expand(input, size)


@register()
def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (tensors already of it are returned)."""
    from ..pointwise import _check_broadcast

    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    shape: tuple = ()
    for tensor in tensors:
        _check_broadcast(shape, tensor._data.shape)
        shape = np.broadcast_shapes(shape, tensor._data.shape)
    return tuple(tensor if tensor._data.shape == shape else expand(tensor, shape) for tensor in tensors)


@register(methods="sum_to_size")
def sum_to_size(input, *size):
    """Sum `input` down to `size`, which it must be expandable from (undoes broadcasting).

    Recorded as PyTorch records it, with no node of its own: SumBackward0 for `size` (),
    else SumBackward1 over the reduced dims (kept), then ViewBackward0 when leading dims go;
    `input` itself when nothing is summed."""
    shape = _shape_argument(size)
    data_shape = input._data.shape
    if not shape:
        return _sums.sum(input)
    if shape == data_shape:
        return input
    dims = _summed_axes(data_shape, shape)  # (the engine's rule for a gradient summed back to its input)
    if dims is None:
        raise RuntimeError(
            f"size {{{format_shape(shape)}}} is not expandable to size {{{format_shape(data_shape)}}}."
        )
    summed = apply(_sums.SumBackward1, input, dim=dims, keepdim=True, dtype=None, dim_as_given=dims)
    return apply(ViewBackward0, summed, shape=shape) if len(shape) < len(data_shape) else summed


# ---------------------------------------------------------------------------
# Size-1 dims: squeeze and unsqueeze


def _squeezed(data: np.ndarray, dim) -> np.ndarray:
    dims = (dim,) if isinstance(dim, int) else dim
    return np.squeeze(data, axis=tuple(d for d in dims if d < data.ndim and data.shape[d] == 1))


def _unsqueeze_to(grad, dim, self_shape):
    """The gradient of squeeze(dim): the squeezed dims put back (a reshape to the input's shape)."""
    return _math.reshape(grad, self_shape)


class SqueezeBackward0(Formula):
    """Every size-1 dim removed (a view): the gradient takes the input's shape back."""

    is_view = True

    @staticmethod
    def forward(self):
        return np.squeeze(self._data)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.reshape(grad, self_shape)}


class SqueezeBackward1(ShowsOneDimAsGiven, Formula):
    """One size-1 dim removed (if it has size 1; a view). `_saved_dim` is the dim as the call
    gave it (Note [Saved values as PyTorch shows them])."""

    is_view = True

    @staticmethod
    def forward(self, dim, dim_as_given=None):
        return _squeezed(self._data, dim)

    tangent = LINEAR
    derivatives = {"self": lambda grad, dim, self_shape: _unsqueeze_to(grad, dim, self_shape)}


class SqueezeBackward2(SqueezeBackward1):
    """Those of several dims that have size 1 removed (a view); `_saved_dim` as given."""

    tangent = LINEAR
    shown: ClassVar[dict] = {"dim": as_given("dim", dims_as_given)}
    __slots__ = ()


# The in-place forms (`x.squeeze_()`; see _shape_inplace.py) are the same ops, under the names
# PyTorch gives their grad_fns.


class SqueezeBackward3(SqueezeBackward0):
    """`squeeze_()`: every size-1 dim removed, in place."""

    __slots__ = ()


class SqueezeBackward4(SqueezeBackward1):
    """`squeeze_(dim)`: one size-1 dim removed, in place."""

    __slots__ = ()


class SqueezeBackward5(SqueezeBackward2):
    """`squeeze_(dims)`: those of several dims that have size 1 removed, in place."""

    __slots__ = ()


_SQUEEZE_NODES = (SqueezeBackward0, SqueezeBackward1, SqueezeBackward2)  # all dims, one, several
_SQUEEZE_IN_PLACE_NODES = (SqueezeBackward3, SqueezeBackward4, SqueezeBackward5)


def _squeeze_with(nodes: tuple, input, dim=None):
    """`squeeze(input, dim)` recorded as one of `nodes` (all dims, one dim, several dims)."""
    ndim = input.ndim
    if dim is None:
        return apply(nodes[0], input)
    if isinstance(dim, list | tuple):
        return apply(nodes[2], input, dim=normalize_dims(dim, ndim), dim_as_given=dim)
    return apply(nodes[1], input, dim=wrap_dim(dim, ndim), dim_as_given=dim)


@register(methods="squeeze")
def squeeze(input, dim=None):
    """The size-1 dims (all, or those among `dim`) removed; a view."""
    return _squeeze_with(_SQUEEZE_NODES, input, dim)


def _is_whole(component) -> bool:
    return isinstance(component, slice) and component.start is None and component.stop is None \
        and component.step in (None, 1)


def _acting(key: tuple) -> tuple:
    """(dim, component) of the last component of a basic key that picks, slices or inserts:
    PyTorch records a key as one node per such component, and shows the last one's; its dim
    counts the dims before it that are kept or inserted (Note [Basic index keys])."""
    position = max((index for index, component in enumerate(key)
                    if component is not Ellipsis and not _is_whole(component)), default=None)
    if position is None:
        return 0, slice(None)
    dim = sum(1 for component in key[:position] if component is None or isinstance(component, slice))
    return dim, key[position]


def _unsqueeze_grad(grad, self_shape, dim, key):
    """The gradient of `unsqueeze(dim)`, or of a basic index `key` that inserts a dim."""
    if key is None:
        return _math.squeeze(grad, dim)
    return _math.place_at_key(grad, self_shape, key)


def _inserted_dim(node) -> int:
    """The dim PyTorch's node shows: as the call gave it (`dim_as_given`, kept where it was
    negative), else the one the formula reads, else the one the key inserts."""
    given = node._params.get("dim_as_given")
    if given is not None:
        return int(given)
    dim = node._parameter("dim")
    return _acting(node._parameter("key"))[0] if dim is None else dim


class UnsqueezeBackward0(ShownAsPyTorch, Formula):
    """A size-1 dim inserted (a view): the gradient has it squeezed out.

    A basic index whose last step inserts a dim (`x[0, None]`) is this node too (as PyTorch
    names it), with the whole `key` instead of `dim`: see Note [Basic index keys]. It shows
    PyTorch's `dim` only (Note [Saved values as PyTorch shows them]).
    """

    is_view = True
    shown: ClassVar[dict] = {"dim": _inserted_dim}
    hidden = ("key", "self_sym_sizes")

    @staticmethod
    def forward(self, dim=None, key=None, dim_as_given=None):
        if key is not None:
            return self._data[key]
        shape = self._data.shape
        return self._data.reshape((*shape[:dim], 1, *shape[dim:]))  # (np.expand_dims, less its checks)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape, dim, key: _unsqueeze_grad(grad, self_shape, dim, key)}


class UnsqueezeBackward1(UnsqueezeBackward0):
    """`unsqueeze_(dim)`: a size-1 dim inserted, in place."""

    __slots__ = ()


@register(methods="unsqueeze")
def unsqueeze(input, dim: int):
    """A view with a size-1 dim inserted at `dim` (which counts the new dim)."""
    wrapped = wrap_dim(dim, input.ndim + 1)
    if wrapped == dim:  # (the common case: nothing more for the node to keep)
        return apply(UnsqueezeBackward0, input, dim=wrapped)
    return apply(UnsqueezeBackward0, input, dim=wrapped, dim_as_given=dim)


# ---------------------------------------------------------------------------
# as_strided: a window on the input's storage


def _storage_maps(self_geometry: tuple, size: tuple, stride: tuple, storage_offset):
    """The storage positions of the input's and the output's elements, the storage length,
    and how many input elements lie on each storage element (None when at most one does)."""
    input_size, input_stride, input_offset = self_geometry
    offset = input_offset if storage_offset is None else storage_offset
    inputs = _storage.positions(input_size, input_stride, input_offset)
    outputs = _storage.positions(size, stride, offset)
    length = 1 + max(int(inputs.max(initial=0)), int(outputs.max(initial=0)))
    counts = np.bincount(inputs.reshape(-1), minlength=length)
    return inputs, outputs, length, (counts if counts.max(initial=0) > 1 else None)


def _scatter_divide_gather(values: np.ndarray, scatter_at, gather_at, length: int, counts):
    """Add `values` into zeros of `length` at `scatter_at`, divide by `counts` where they are
    not 0, and read the result at `gather_at`."""
    storage = np.zeros(length, dtype=values.dtype)
    flat = scatter_at.reshape(-1)
    if np.unique(flat).size == flat.size:
        storage[flat] = values.reshape(-1)
    else:
        np.add.at(storage, flat, values.reshape(-1))
    if counts is not None:
        np.divide(storage, counts, out=storage, where=counts > 0, casting="unsafe")
    return storage[gather_at]


class AsStridedBackwardBackward0(Formula):
    """The linear map as_strided's gradient is (a storage-sized scatter, a division by how
    often the input covers each storage element, a gather); its gradient is the same map with
    scatter and gather swapped."""

    inputs = ("values",)

    @staticmethod
    def forward(values, scatter_at, gather_at, length, counts):
        return _scatter_divide_gather(values._data, scatter_at, gather_at, length, counts)

    tangent = LINEAR
    derivatives = {"values": lambda grad, scatter_at, gather_at, length, counts: _storage_map(
        grad, gather_at, scatter_at, length, counts)}


def _storage_map(values, scatter_at, gather_at, length: int, counts):
    if isinstance(values, Tensor):
        return apply(AsStridedBackwardBackward0, values, scatter_at=scatter_at, gather_at=gather_at,
                     length=length, counts=counts)
    return _scatter_divide_gather(values, scatter_at, gather_at, length, counts)


def _as_strided_backward(grad, self_geometry, size, stride, storage_offset):
    """Each storage element gets the sum of the gradients of the output elements on it, shared
    out equally among the input elements on it (PyTorch's as_strided_backward)."""
    inputs, outputs, length, counts = _storage_maps(self_geometry, size, stride, storage_offset)
    return _storage_map(grad, outputs, inputs, length, counts)


def _as_strided_tangent(self_t, self_geometry, size, stride, storage_offset):
    """The input's tangent laid out in its storage (averaged where the input overlaps itself,
    where the values agree), read through the window."""
    inputs, outputs, length, counts = _storage_maps(self_geometry, size, stride, storage_offset)
    return _storage_map(self_t, inputs, outputs, length, counts)


class AsStridedBackward0(Formula):
    """A window (size, stride, storage offset) on the input's storage: a view."""

    is_view = True

    @staticmethod
    def forward(self, size, stride, storage_offset, self_geometry):
        offset = self_geometry[2] if storage_offset is None else storage_offset
        return _storage.strided_view(self._data, size, stride, offset)

    tangent = staticmethod(_as_strided_tangent)
    derivatives = {"self": _as_strided_backward}

    def _saved_names(self) -> list[str]:
        # the input's geometry is PyTorch's self_geometry, which has no `_saved_` name
        return [name for name in super()._saved_names() if name != "self_geometry"]


class AsStridedBackward1(AsStridedBackward0):
    """`as_strided_`: the tensor becomes a window on its own storage, in place."""

    __slots__ = ()


def _as_strided_with(node: type, input, size, stride, storage_offset=None):
    """`as_strided(input, ...)` recorded as `node` (AsStridedBackward0, or 1 in place)."""
    size, stride, offset = _storage.check_geometry(input._data, size, stride, storage_offset)
    geometry = (tuple(input._data.shape), input.stride(), _storage.storage_offset(input._data))
    return apply(node, input, size=size, stride=stride,
                 storage_offset=None if storage_offset is None else offset, self_geometry=geometry)


@register(methods="as_strided")
def as_strided(input, size, stride, storage_offset=None):
    """A view of any window on `input`'s storage, by sizes, strides and storage offset.

    All three are in elements; the offset defaults to `input`'s own. See Note [Storage of a
    NumPy-backed tensor] in _storage.py."""
    return _as_strided_with(AsStridedBackward0, input, size, stride, storage_offset)


# ---------------------------------------------------------------------------
# as_strided_scatter: a copy of the input with a window on its storage overwritten


def _scatter_maps(result_geometry: tuple, size: tuple, stride: tuple, storage_offset):
    """The storage positions of the result's elements and of the window's, and the storage
    length that holds both."""
    result_size, result_stride, result_offset = result_geometry
    offset = result_offset if storage_offset is None else storage_offset
    result_at = _storage.positions(result_size, result_stride, result_offset)
    window_at = _storage.positions(size, stride, offset)
    length = 1 + max(int(result_at.max(initial=0)), int(window_at.max(initial=0)))
    return result_at, window_at, length


def _last_writers(window_at: np.ndarray, length: int):
    """Which window elements (in order) are the last to write their storage element, as the
    window's shape; None when no two share one."""
    flat = window_at.reshape(-1)
    last = np.full(length, -1, dtype=np.int64)
    np.maximum.at(last, flat, np.arange(flat.size, dtype=np.int64))
    order = np.arange(flat.size, dtype=np.int64)
    if np.count_nonzero(last >= 0) == flat.size:
        return None
    return (last[flat] == order).reshape(window_at.shape)


def _scatter_into_copy(input_array, src_array, result_geometry, size, stride, storage_offset):
    """The input's array copied with its whole storage, the window on it set to `src`, each
    storage element to the last window element on it (in order) where several share one."""
    result = _storage.copy_with_storage(input_array)
    _, window_at, length = _scatter_maps(result_geometry, size, stride, storage_offset)
    winners = _last_writers(window_at, length)
    if winners is None:
        offset = result_geometry[2] if storage_offset is None else storage_offset
        _storage.strided_view(result, size, stride, offset)[...] = src_array
        return result
    storage = _storage.strided_view(result, (_storage.storage_bytes(result)[1] // result.itemsize,), (1,), 0)
    storage[window_at[winners]] = src_array[winners]
    return result


def _off_the_window(grad, result_geometry, size, stride, storage_offset):
    """The input's gradient: the incoming one where the result kept the input's value, 0 on
    the storage elements the window overwrote."""
    result_at, window_at, length = _scatter_maps(result_geometry, size, stride, storage_offset)
    overwritten = np.zeros(length, dtype=bool)
    overwritten[window_at.reshape(-1)] = True
    return _math.where(overwritten[result_at], 0.0, grad)


def _on_the_window(grad, result_geometry, size, stride, storage_offset):
    """src's gradient: for each window element that wrote its storage element last, the
    incoming gradients of the result elements on it (0 where the result does not show it)."""
    result_at, window_at, length = _scatter_maps(result_geometry, size, stride, storage_offset)
    gathered = _storage_map(grad, result_at, window_at, length, None)
    winners = _last_writers(window_at, length)
    return gathered if winners is None else _math.where(winners, gathered, 0.0)


class AsStridedScatterBackward0(Formula):
    """A copy of the input, its storage copied whole (same strides and offset), with the
    window (size, stride, storage offset) on that storage overwritten by `src`.

    Note [as_strided_scatter's gradient]
        The gradients are the true derivatives of the forward: the input's is the incoming
        gradient off the window, and where window elements share a storage element only
        the last one written (in order) gets a gradient. PyTorch 2.13 gives the input the
        incoming gradient on the window instead, and every window element the gradient of
        its storage element; its own gradcheck refuses both. Elsewhere (values, strides,
        errors, tangents, src's gradient for a window without repeats) retrograd is
        PyTorch. PyTorch also refuses, by an internal assert, an input that needs a
        gradient and is not contiguous; the storage positions here serve any layout.
    """

    inputs = ("self", "src")

    @staticmethod
    def forward(self, src, size, stride, storage_offset, result_geometry):
        return _scatter_into_copy(self._data, src._data, result_geometry, size, stride, storage_offset)

    tangent = LINEAR
    derivatives = {"self": _off_the_window, "src": _on_the_window}

    def _saved_names(self) -> list[str]:
        # the result's geometry has no `_saved_` name in PyTorch (its formula reads the grad's)
        return [name for name in super()._saved_names() if name != "result_geometry"]


_OVERLAPPING_WRITE = ("unsupported operation: more than one element of the written-to tensor refers to a "
                      "single memory location. Please clone() the tensor before performing the operation.")


@register(methods="as_strided_scatter")
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of `input` (its storage copied whole) with the window (size, stride, storage
    offset) on that storage overwritten by `src`; the inverse of `as_strided` for gradients.

    See Note [Storage of a NumPy-backed tensor] in _storage.py."""
    if not isinstance(src, Tensor):
        raise TypeError(f"as_strided_scatter(): argument 'src' (position 2) must be Tensor, not "
                        f"{type(src).__name__}")
    geometry = _storage.clone_geometry(input._data)
    stand_in = input._data  # whose storage the copy's is as long as
    if _storage.overlaps_by_a_zero_stride(input.shape, input.stride()):
        stand_in = np.empty(geometry[0], input._data.dtype)
    size, stride, offset = _storage.check_geometry(stand_in, size, stride, storage_offset,
                                                   "as_strided_scatter", first_position=3)
    if tuple(src.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{format_shape(src.shape)}, slice size = {format_shape(size)}")
    if _storage.overlaps_by_a_zero_stride(size, stride):
        raise RuntimeError(_OVERLAPPING_WRITE)
    return apply(AsStridedScatterBackward0, input, src, size=size, stride=stride,
                 storage_offset=None if storage_offset is None else offset, result_geometry=geometry)
