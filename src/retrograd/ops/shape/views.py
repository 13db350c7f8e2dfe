"""Shape operators, new shapes for the same elements: view, reshape, flatten, unflatten,
expand (and its inverse), squeeze and unsqueeze, with the size checks they share."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ... import _dtype
from ..._tensor import Size, Tensor
from .. import _math
from .._formula import Formula
from .._table import apply, register
from .._tangents import LINEAR
from ..reduce import normalize_dims


def _shape_argument(shape) -> tuple:
    """A shape given as `f(2, 3)` or `f((2, 3))`."""
    if len(shape) == 1 and isinstance(shape[0], list | tuple | Size):
        shape = tuple(shape[0])
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
    return normalize_dims(int(dim), max(ndim, 1))[0]


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in `shape`; RuntimeError if `shape` cannot hold `numel` elements."""
    unknown = [index for index, size in enumerate(shape) if size == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for size in shape:
        if size < -1:
            raise RuntimeError(f"invalid shape dimension {size}")
    known = int(np.prod([size for size in shape if size != -1], dtype=np.int64))
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{format_shape(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if size == -1 else size for size in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{format_shape(shape)}' is invalid for input of size {numel}")
    return shape


# ---------------------------------------------------------------------------
# New shapes for the same elements: view, reshape, flatten, unflatten


class ViewBackward0(Formula):
    """A view with a new shape: the gradient takes the input's shape back."""

    is_view = True

    @staticmethod
    def forward(self, shape):
        try:
            return np.reshape(self._data, shape, copy=False)
        except ValueError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.reshape(grad, self_shape)}


class UnsafeViewBackward0(Formula):
    """reshape that had to copy (the input's strides allow no view): same gradient as a view."""

    @staticmethod
    def forward(self, shape):
        return np.reshape(self._data, shape).copy()

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.reshape(grad, self_shape)}


def _can_view(data: np.ndarray, shape: tuple) -> bool:
    if data.flags.c_contiguous:
        return True
    try:
        np.reshape(data, shape, copy=False)
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
    """The same elements in a new shape: a view when possible, else a copy."""
    shape = _infer_shape(_shape_argument(shape), input._data.size)
    if _can_view(input._data, shape):
        return apply(ViewBackward0, input, shape=shape)
    return apply(UnsafeViewBackward0, input, shape=shape)


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
    return reshape(input, shape[:dim] + resolved + shape[dim + 1:])


# ---------------------------------------------------------------------------
# Broadcasting: expand and its inverse


class ExpandBackward0(Formula):
    """A broadcast view: the gradient is summed back over the expanded dims."""

    is_view = True

    @staticmethod
    def forward(self, shape):
        return np.broadcast_to(self._data, shape)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.sum_to_size(grad, self_shape)}


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


class SumToSizeBackward0(Formula):
    """Sum over broadcast dims (the inverse of expand): the gradient is expanded back."""

    @staticmethod
    def forward(self, shape):
        return _math.sum_to_size(self._data, shape)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.expand(grad, self_shape)}


@register(methods="sum_to_size")
def sum_to_size(input, *size):
    """Sum `input` down to `size`, which it must be expandable from (undoes broadcasting)."""
    shape = _shape_argument(size)
    if shape == input._data.shape:
        return input
    data_shape = input._data.shape
    if len(shape) > len(data_shape) or any(
        s != 1 and s != d for s, d in zip(shape, data_shape[len(data_shape) - len(shape):])
    ):
        raise RuntimeError(
            f"size {{{format_shape(shape)}}} is not expandable to size {{{format_shape(data_shape)}}}."
        )
    return apply(SumToSizeBackward0, input, shape=shape)


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


class SqueezeBackward1(Formula):
    """One size-1 dim removed (if it has size 1; a view)."""

    is_view = True

    @staticmethod
    def forward(self, dim):
        return _squeezed(self._data, dim)

    tangent = LINEAR
    derivatives = {"self": lambda grad, dim, self_shape: _unsqueeze_to(grad, dim, self_shape)}


class SqueezeBackward2(SqueezeBackward1):
    """Those of several dims that have size 1 removed (a view)."""

    tangent = LINEAR
    __slots__ = ()


@register(methods="squeeze")
def squeeze(input, dim=None):
    """The size-1 dims (all, or those among `dim`) removed; a view."""
    ndim = input.ndim
    if dim is None:
        return apply(SqueezeBackward0, input)
    if isinstance(dim, list | tuple):
        return apply(SqueezeBackward2, input, dim=normalize_dims(dim, ndim))
    return apply(SqueezeBackward1, input, dim=wrap_dim(dim, ndim))


def _unsqueeze_grad(grad, self_shape, dim, key):
    """The gradient of `unsqueeze(dim)`, or of a basic index `key` that inserts a dim."""
    if key is None:
        return _math.squeeze(grad, dim)
    return _math.place_at_key(grad, self_shape, key)


class UnsqueezeBackward0(Formula):
    """A size-1 dim inserted (a view): the gradient has it squeezed out.

    A basic index whose last step inserts a dim (`x[0, None]`) is this node too (as PyTorch
    names it), with the whole `key` instead of `dim`: see Note [Basic index keys].
    """

    is_view = True

    @staticmethod
    def forward(self, dim=None, key=None):
        return np.expand_dims(self._data, dim) if key is None else self._data[key]

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape, dim, key: _unsqueeze_grad(grad, self_shape, dim, key)}


@register(methods="unsqueeze")
def unsqueeze(input, dim: int):
    """A view with a size-1 dim inserted at `dim` (which counts the new dim)."""
    return apply(UnsqueezeBackward0, input, dim=wrap_dim(dim, input.ndim + 1))
