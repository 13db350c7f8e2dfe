"""Shape operators: views and copies that rearrange elements without changing them.

A view (`is_view = True` on its node) shares memory and the version counter with its
input; its gradient is the incoming one put back in the input's layout. Copies (flip,
repeat, cat, ...) own their memory. Each grad_fn is a declaration (see Note [Declared
derivatives] in _formula.py) whose formulas call the shape functions of `_math`: NumPy on
arrays, these very ops on Tensors, so every derivative is differentiable again. cat and
stack take any number of inputs, which a declaration cannot list, so their nodes are
written out, in the same two-mode style.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor
from ..autograd.graph import Node
from . import _math, _samples
from ._formula import Formula
from ._table import apply, register
from ._tangents import LINEAR
from .reduce import normalize_dims

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_tensors",
    "broadcast_to",
    "cat",
    "chunk",
    "clone",
    "concat",
    "concatenate",
    "diag",
    "diag_embed",
    "diagonal",
    "dstack",
    "expand",
    "flatten",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "meshgrid",
    "moveaxis",
    "movedim",
    "narrow",
    "permute",
    "repeat_interleave",
    "reshape",
    "roll",
    "rot90",
    "row_stack",
    "select",
    "split",
    "squeeze",
    "stack",
    "sum_to_size",
    "swapaxes",
    "swapdims",
    "t",
    "tensor_split",
    "tile",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "unflatten",
    "unsafe_chunk",
    "unsafe_split",
    "unsqueeze",
    "view",
    "vstack",
]


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


def _reshape_samples(rng):
    x = _samples.make(rng, (2, 3))
    empty = _samples.make(rng, (0, 3))
    scalar = _samples.make(rng, ())
    return [((x, (3, 2)), {}), ((x, (-1,)), {}), ((scalar, (1, 1)), {}), ((empty, (3, 0)), {})]


@register(methods="view", samples=_reshape_samples)
def view(input, *shape):
    """The same data seen with a new shape (no copy; the strides must allow it)."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_argument(shape), input._data.size)
    return apply(ViewBackward0, input, shape=shape)


@register(methods="reshape", samples=_reshape_samples)
def reshape(input, *shape):
    """The same elements in a new shape: a view when possible, else a copy."""
    shape = _infer_shape(_shape_argument(shape), input._data.size)
    if _can_view(input._data, shape):
        return apply(ViewBackward0, input, shape=shape)
    return apply(UnsafeViewBackward0, input, shape=shape)


def _like_samples(rng):
    return [((_samples.make(rng, (2, 3)), _samples.make(rng, (3, 2))), {})]


@register(methods="view_as", samples=_like_samples)
def view_as(input, other):
    """`input.view(other.shape)`."""
    return view(input, other.shape)


@register(methods="reshape_as", samples=_like_samples)
def reshape_as(input, other):
    """`input.reshape(other.shape)`."""
    return reshape(input, other.shape)


def _flatten_samples(rng):
    x = _samples.make(rng, (2, 3, 2))
    return [
        ((x,), {}),
        ((x, 1), {}),
        ((x.transpose(0, 2), 0, 1), {}),
        ((_samples.make(rng, ()),), {}),
    ]


@register(methods="flatten", samples=_flatten_samples)
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


def _unflatten_samples(rng):
    return [((_samples.make(rng, (2, 6)), 1, (3, -1)), {}), ((_samples.make(rng, (4,)), 0, (2, 2)), {})]


@register(methods="unflatten", samples=_unflatten_samples)
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


def _expand_samples(rng):
    return [((_samples.make(rng, (3, 1)), (2, 3, 4)), {}), ((_samples.make(rng, ()), (2,)), {})]


@register(methods="expand", samples=_expand_samples)
def expand(input, *sizes):
    """A view broadcasting size-1 dims (and new leading dims) to `sizes` (-1 keeps a dim)."""
    shape = _expanded_shape(input._data.shape, _shape_argument(sizes))
    return apply(ExpandBackward0, input, shape=shape)


@register(methods="expand_as", samples=lambda rng: [
    ((_samples.make(rng, (3, 1)), _samples.make(rng, (2, 3, 4))), {})
])
def expand_as(input, other):
    """`input.expand(other.shape)`."""
    return expand(input, other.shape)


@register(methods="broadcast_to", samples=_expand_samples)
def broadcast_to(input, size):
    """`input.expand(size)`."""
    return expand(input, size)


def _broadcast_tensors_samples(rng):
    return [
        ((_samples.make(rng, (2, 1)), _samples.make(rng, (3,))), {}),
        ((_samples.make(rng, (2, 3)), _samples.make(rng, ()), _samples.make(rng, (1, 3))), {}),
    ]


@register(samples=_broadcast_tensors_samples)
def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (tensors already of it are returned)."""
    from .pointwise import _check_broadcast

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


def _sum_to_size_samples(rng):
    return [((_samples.make(rng, (2, 3, 4)), (3, 1)), {}), ((_samples.make(rng, (2, 3)), ()), {})]


@register(methods="sum_to_size", samples=_sum_to_size_samples)
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


def _squeeze_samples(rng):
    x = _samples.make(rng, (2, 1, 3, 1))
    return [((x,), {}), ((x, 1), {}), ((x, 0), {}), ((x, (1, -1)), {}), ((_samples.make(rng, ()), 0), {})]


@register(methods="squeeze", samples=_squeeze_samples)
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


def _unsqueeze_samples(rng):
    return [((_samples.make(rng, (2, 3)), 1), {}), ((_samples.make(rng, (2, 3)), -1), {}),
            ((_samples.make(rng, ()), 0), {})]


@register(methods="unsqueeze", samples=_unsqueeze_samples)
def unsqueeze(input, dim: int):
    """A view with a size-1 dim inserted at `dim` (which counts the new dim)."""
    return apply(UnsqueezeBackward0, input, dim=wrap_dim(dim, input.ndim + 1))


# ---------------------------------------------------------------------------
# Reordering dims: transpose, t, permute, movedim


class TransposeBackward0(Formula):
    """Two dims swapped (a view): the gradient has them swapped back."""

    is_view = True

    @staticmethod
    def forward(self, dim0, dim1):
        data = self._data
        return np.swapaxes(data, dim0, dim1) if data.ndim else data.view()

    tangent = LINEAR
    derivatives = {"self": lambda grad, dim0, dim1: _math.transpose(grad, dim0, dim1)}


def _transpose_samples(rng):
    return [((_samples.make(rng, (2, 3, 4)), 0, 2), {}), ((_samples.make(rng, (2, 3)), -1, 0), {}),
            ((_samples.make(rng, (0, 3)), 0, 1), {})]


@register(methods=("transpose", "swapaxes", "swapdims"), samples=_transpose_samples)
def transpose(input, dim0: int, dim1: int):
    """A view with dims `dim0` and `dim1` swapped."""
    return apply(TransposeBackward0, input, dim0=wrap_dim(dim0, input.ndim), dim1=wrap_dim(dim1, input.ndim))


swapaxes = swapdims = transpose


class TBackward0(Formula):
    """The transpose of a matrix (vectors and scalars are returned as they are); a view."""

    is_view = True

    @staticmethod
    def forward(self):
        return self._data.T

    tangent = LINEAR
    derivatives = {"self": lambda grad: _math.t(grad)}


@register(methods="t", samples=lambda rng: [((_samples.make(rng, shape),), {}) for shape in [(2, 3), (3,)]])
def t(input):
    """The transpose of a tensor of at most 2 dims."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(TBackward0, input)


def _inverse_order(dims: tuple) -> tuple:
    """The permutation that undoes `dims`."""
    return tuple(sorted(range(len(dims)), key=dims.__getitem__))


class PermuteBackward0(Formula):
    """Dims reordered (a view): the gradient goes through the inverse order."""

    is_view = True

    @staticmethod
    def forward(self, dims):
        return np.transpose(self._data, dims)

    tangent = LINEAR
    derivatives = {"self": lambda grad, dims: _math.permute(grad, _inverse_order(dims))}


def _permute_samples(rng):
    return [((_samples.make(rng, (2, 3, 4)), (2, 0, 1)), {}), ((_samples.make(rng, (2, 3)), (-1, 0)), {})]


@register(methods="permute", samples=_permute_samples)
def permute(input, *dims):
    """A view with the dims in the order `dims` (output dim i is input dim dims[i])."""
    dims = _shape_argument(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. input.dim() = "
            f"{input.ndim} is not equal to len(dims) = {len(dims)}"
        )
    wrapped = tuple(wrap_dim(dim, input.ndim) for dim in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(PermuteBackward0, input, dims=wrapped)


def _dim_list(dims, ndim: int, name: str) -> list[int]:
    dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
    wrapped = [wrap_dim(dim, ndim) for dim in dims]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"movedim: repeated dim in `{name}` ({format_shape(dims)})")
    return wrapped


def _movedim_samples(rng):
    x = _samples.make(rng, (2, 3, 4))
    return [((x, 0, 2), {}), ((x, (0, 1), (2, 0)), {})]


@register(methods=("movedim", "moveaxis"), samples=_movedim_samples)
def movedim(input, source, destination):
    """A view with the dims `source` moved to positions `destination`, the others keeping their order."""
    ndim = input.ndim
    sources = _dim_list(source, ndim, "source")
    destinations = _dim_list(destination, ndim, "destination")
    if len(sources) != len(destinations):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({format_shape(sources)} dims) "
            f"should contain the same number of dims as destination ({format_shape(destinations)} dims)"
        )
    order = [None] * ndim
    for src, dst in zip(sources, destinations):
        order[dst] = src
    rest = iter(d for d in range(ndim) if d not in sources)
    dims = tuple(next(rest) if d is None else d for d in order)
    return apply(PermuteBackward0, input, dims=dims)


moveaxis = movedim


def _T(self):
    """The dims reversed (for a matrix, its transpose)."""
    if self.ndim == 0:
        warnings.warn(
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
            UserWarning,
            stacklevel=2,
        )
    elif self.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=2,
        )
    return apply(PermuteBackward0, self, dims=tuple(range(self.ndim - 1, -1, -1)))


def _mT(self):
    """The last two dims swapped (a batch of matrices transposed)."""
    if self.ndim < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor."
        )
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)


# ---------------------------------------------------------------------------
# Views chosen by a basic index (ints, slices, None, ...): select, narrow, x[...]
#
# Note [Basic index keys]
#     A key here is a tuple of ints, slices and None that ends with Ellipsis, so NumPy
#     always answers with a view (never a scalar). The gradient of such a view is the
#     incoming one written at the same key into zeros of the input's shape.


def _basic_view_forward(self, key):
    return self._data[key]


class SelectBackward0(Formula):
    """One index along one dim (that dim removed): see Note [Basic index keys]."""

    is_view = True
    forward = staticmethod(_basic_view_forward)
    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape, key: _math.place_at_key(grad, self_shape, key)}


class SliceBackward0(SelectBackward0):
    """A range (with a step) along a dim: see Note [Basic index keys]."""

    tangent = LINEAR
    __slots__ = ()


class AliasBackward0(SelectBackward0):
    """The whole tensor, as a new view (`x[...]`, `x[:]`)."""

    tangent = LINEAR
    __slots__ = ()


class SliceBackwardBackward0(Formula):
    """A view's gradient written at its key into zeros of the base's shape."""

    inputs = ("grad_output",)

    @staticmethod
    def forward(grad_output, shape, key):
        return _math.place_at_key(grad_output._data, shape, key)

    tangent = LINEAR
    derivatives = {"grad_output": lambda grad, key: _math.basic_index(grad, key)}


def basic_view(input: Tensor, key: tuple, node_class: type[Formula] = SliceBackward0) -> Tensor:
    """`input[key]` as a view, for a key of ints, slices and None ending in Ellipsis
    (`UnsqueezeBackward0` takes it as `key=`)."""
    return apply(node_class, input, key=key)


def place_at_key(grad: Tensor, shape: tuple, key: tuple) -> Tensor:
    """Zeros of `shape` with `grad` written at the basic `key` (differentiable in `grad`)."""
    return apply(SliceBackwardBackward0, grad, shape=shape, key=key)


def _along(dim: int, index) -> tuple:
    """The basic key that picks `index` (an int or slice) along `dim`."""
    return (slice(None),) * dim + (index, Ellipsis)


def _select_samples(rng):
    return [((_samples.make(rng, (2, 3)), 1, -1), {}), ((_samples.make(rng, (3,)), 0, 1), {})]


@register(methods="select", samples=_select_samples)
def select(input, dim: int, index: int):
    """The slice at `index` along `dim` (a view with that dim removed)."""
    if input._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.ndim)
    index = int(index)
    size = input._data.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size "
            f"{format_shape(input._data.shape)} at dimension {dim}"
        )
    return basic_view(input, _along(dim, index % size), SelectBackward0)


def _narrow_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [((x, 1, 1, 2), {}), ((x, 0, -2, 2), {}), ((x, 0, 0, 0), {})]


@register(methods="narrow", samples=_narrow_samples)
def narrow(input, dim: int, start, length: int):
    """A view of `length` elements along `dim` from `start`."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.ndim)
    start, length = int(start), int(length)
    size = input._data.shape[dim]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return basic_view(input, _along(dim, slice(start, start + length)))


# ---------------------------------------------------------------------------
# Cutting into pieces: split, chunk, unbind, tensor_split


def _split_sizes(size: int, split_size: int) -> tuple:
    """The sizes of `split`'s pieces of `split_size` along a dim of `size` (the last may be smaller)."""
    if size == 0:
        return (0,)
    return (split_size,) * (size // split_size) + ((size % split_size,) if size % split_size else ())


def _pieces(data: np.ndarray, dim: int, sizes: tuple) -> tuple:
    bounds = np.cumsum((0, *sizes)).tolist()
    return tuple(data[_along(dim, slice(start, stop))] for start, stop in itertools.pairwise(bounds))


def _split_backward(grads, self_shape, dim, sizes):
    """The pieces' gradients joined along `dim`, zeros for the pieces that got none."""
    present = next(grad for grad in grads if grad is not None)
    pieces = []
    for index, size in enumerate(sizes):
        grad = grads[index] if index < len(grads) else None
        if grad is None:
            grad = _math.zeros_of_shape((*self_shape[:dim], size, *self_shape[dim + 1:]), present)
        pieces.append(grad)
    return _math.cat(pieces, dim)


class SplitBackward0(Formula):
    """Consecutive pieces of `split_size` along a dim (views; the last may be smaller): the
    gradient is the pieces' gradients joined (zeros for pieces that got none).
    """

    is_view = True
    several_views = True

    @staticmethod
    def forward(self, split_size, dim):
        data = self._data
        return _pieces(data, dim, _split_sizes(data.shape[dim], split_size))

    tangent = LINEAR
    derivatives = {"self": lambda grads, self_shape, split_size, dim: _split_backward(
        grads, self_shape, dim, _split_sizes(self_shape[dim], split_size))}


class SplitWithSizesBackward0(Formula):
    """Pieces of the given sizes along a dim (views)."""

    is_view = True
    several_views = True

    @staticmethod
    def forward(self, split_sizes, dim):
        return _pieces(self._data, dim, split_sizes)

    tangent = LINEAR
    derivatives = {
        "self": lambda grads, self_shape, split_sizes, dim: _split_backward(grads, self_shape, dim, split_sizes),  # noqa: E501
    }


def _split_samples(rng):
    x = _samples.make(rng, (5, 2))
    return [((x, 2), {}), ((x, [1, 4]), {}), ((x, 1), {"dim": 1})]


@register(methods="split", samples=_split_samples)
def split(tensor, split_size_or_sections, dim: int = 0):
    """Views of consecutive pieces along `dim`: of `split_size` each (the last may be
    smaller), or of the listed sizes."""
    dim = wrap_dim(dim, tensor.ndim)
    size = tensor._data.shape[dim]
    if isinstance(split_size_or_sections, numbers.Integral | Tensor) and not isinstance(
        split_size_or_sections, list | tuple
    ):
        piece = int(split_size_or_sections)
        if piece < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={piece}")
        if piece == 0 and size != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
            )
        return apply(SplitBackward0, tensor, split_size=piece, dim=dim)
    sizes = tuple(int(s) for s in split_size_or_sections)
    if sum(sizes) != size or any(s < 0 for s in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
            f"dimension {dim}), but got split_sizes={format_shape(sizes)}"
        )
    return apply(SplitWithSizesBackward0, tensor, split_sizes=sizes, dim=dim)


def _chunk_samples(rng):
    x = _samples.make(rng, (5, 2))
    return [((x, 2), {}), ((x, 3), {}), ((x, 2, 1), {})]


@register(methods="chunk", samples=_chunk_samples)
def chunk(input, chunks: int, dim: int = 0):
    """At most `chunks` views of equal size along `dim` (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = wrap_dim(dim, input.ndim)
    size = input._data.shape[dim]
    if size == 0:
        return apply(SplitWithSizesBackward0, input, split_sizes=(0,) * chunks, dim=dim)
    return split(input, -(-size // chunks), dim)


class UnsafeSplitBackward0(SplitBackward0):
    """split without view tracking: the pieces share the input's memory but are not marked as
    its views, so they may be written in place (PyTorch's unsafe_split; its recurrent cells
    split their gates so)."""

    is_view = False
    several_views = False


@register(methods="unsafe_split", samples=lambda rng: _split_samples(rng)[::2])
def unsafe_split(tensor, split_size: int, dim: int = 0):
    """`split` into pieces of `split_size` that are not tracked as views."""
    dim = wrap_dim(dim, tensor.ndim)
    return apply(UnsafeSplitBackward0, tensor, split_size=int(split_size), dim=dim)


@register(methods="unsafe_chunk", samples=lambda rng: [((_samples.make(rng, (5, 2)), 2), {}),
                                                      ((_samples.make(rng, (3, 4)), 2), {"dim": 1})])
def unsafe_chunk(input, chunks: int, dim: int = 0):
    """`chunk` into pieces that are not tracked as views."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = wrap_dim(dim, input.ndim)
    return unsafe_split(input, max(-(-input._data.shape[dim] // chunks), 1), dim)


def _unbind_backward(grads, self_shape, dim):
    """The slices' gradients stacked along `dim`, zeros for the slices that got none."""
    present = next(grad for grad in grads if grad is not None)
    pieces = []
    for index in range(self_shape[dim]):
        grad = grads[index] if index < len(grads) else None
        if grad is None:
            grad = _math.zeros_of_shape((*self_shape[:dim], *self_shape[dim + 1:]), present)
        pieces.append(grad)
    return _math.stack(pieces, dim)


class UnbindBackward0(Formula):
    """Every index along a dim, one view each: the gradient is their gradients stacked."""

    is_view = True
    several_views = True

    @staticmethod
    def forward(self, dim):
        data = self._data
        return tuple(data[_along(dim, index)] for index in range(data.shape[dim]))

    tangent = LINEAR
    derivatives = {"self": lambda grads, self_shape, dim: _unbind_backward(grads, self_shape, dim)}


def _unbind_samples(rng):
    return [((_samples.make(rng, (3, 2)),), {}), ((_samples.make(rng, (3, 2)), 1), {})]


@register(methods="unbind", samples=_unbind_samples)
def unbind(input, dim: int = 0):
    """The slices along `dim`, each a view with that dim removed."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return apply(UnbindBackward0, input, dim=wrap_dim(dim, input.ndim))


def _tensor_split_samples(rng):
    x = _samples.make(rng, (5, 2))
    return [((x, 3), {}), ((x, [1, 4]), {}), ((x, (1,)), {"dim": 1})]


@register(methods="tensor_split", samples=_tensor_split_samples)
def tensor_split(input, indices_or_sections, dim: int = 0):
    """Views along `dim`: `sections` nearly equal pieces, or pieces cut at `indices`."""
    dim = wrap_dim(dim, input.ndim)
    size = input._data.shape[dim]
    cuts = indices_or_sections
    if isinstance(cuts, Tensor):
        cuts = cuts._data.tolist()
    if isinstance(cuts, numbers.Integral):
        sections = int(cuts)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        longer = size % sections
        lengths = [size // sections + 1] * longer + [size // sections] * (sections - longer)
        bounds = np.cumsum([0, *lengths]).tolist()
    else:
        bounds = [0, *(int(cut) for cut in cuts), size]
    return tuple(
        basic_view(input, _along(dim, slice(start, max(start, stop))))
        for start, stop in itertools.pairwise(bounds)
    )


# ---------------------------------------------------------------------------
# Joining: cat, stack and the h/v/d variants


def _common_dtype(tensors) -> np.dtype:
    return functools.reduce(_dtype.promote_types, (tensor.dtype for tensor in tensors)).numpy


def _tensor_list(tensors, op_name: str) -> tuple:
    if isinstance(tensors, Tensor) or not isinstance(tensors, list | tuple):
        raise TypeError(
            f"{op_name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for tensor in tensors:
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"{op_name}(): argument 'tensors' (position 1) must be tuple of Tensors, but found "
                f"element of type {type(tensor).__name__}"
            )
    return tuple(tensors)


class CatBackward0(Node):
    """Tensors joined along a dim: each gets its own range of the gradient back.

    Hand-written (a Formula declares a fixed list of inputs; cat takes any number), but
    its backward is written with `_math` like a formula, so it runs on arrays when no
    graph is built (see Note [One formula, two modes]).
    """

    tangent = LINEAR
    __slots__ = ("dim", "sizes")
    _runs_on_arrays = True

    @staticmethod
    def forward(ctx, *tensors, dim, sizes):
        ctx.dim, ctx.sizes = dim, sizes
        joined = [tensor._data for tensor, size in zip(tensors, sizes) if size is not None]
        dtype = _common_dtype(tensors)
        if not joined:
            return np.zeros((0,), dtype=dtype)
        return np.concatenate(joined, axis=dim, dtype=dtype, casting="unsafe")

    def backward(self, grad):
        grads = []
        offset = 0
        for size, needed in zip(self.sizes, self.next_functions):
            if needed[0] is None:
                grads.append(None)
            elif size is None:
                grads.append(_math.zeros_of_shape((0,), grad))
            else:
                grads.append(_math.narrow(grad, self.dim, offset, size))
            offset += size or 0
        return tuple(grads)


def _is_legacy_empty(tensor: Tensor) -> bool:
    """A 1-d empty tensor, which cat skips whatever the other shapes (as PyTorch does)."""
    return tensor._data.shape == (0,)


def _cat_samples(rng):
    make = _samples.make
    return [
        (([make(rng, (2, 3)), make(rng, (1, 3))],), {}),
        (([make(rng, (2, 3)), make(rng, (2, 1)), make(rng, (2, 0))],), {"dim": 1}),
        (([make(rng, (2,)), make(rng, (0,))],), {}),
    ]


@register(samples=_cat_samples)
def cat(tensors, dim: int = 0):
    """The tensors joined along `dim`; all other sizes must match (1-d empty tensors are skipped)."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for position, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {position}) cannot be concatenated")
    kept = [(position, tensor) for position, tensor in enumerate(tensors) if not _is_legacy_empty(tensor)]
    if not kept:
        return apply(CatBackward0, *tensors, dim=0, sizes=(None,) * len(tensors))
    first = kept[0][1]._data.shape
    dim = wrap_dim(dim, len(first))
    for position, tensor in kept:
        shape = tensor._data.shape
        if len(shape) != len(first):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}"
            )
        for index, (expected, got) in enumerate(zip(first, shape)):
            if index != dim and expected != got:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {expected} "
                    f"but got size {got} for tensor number {position} in the list."
                )
    sizes = tuple(None if _is_legacy_empty(t) else t._data.shape[dim] for t in tensors)
    return apply(CatBackward0, *tensors, dim=dim, sizes=sizes)


def concat(tensors, dim: int = 0):
    """`cat` under NumPy's name."""
    return cat(tensors, dim)


def concatenate(tensors, axis: int = 0):
    """`cat` with NumPy's argument name."""
    return cat(tensors, axis)


class StackBackward0(Node):
    """Equal-shaped tensors stacked along a new dim: each gets its slice of the gradient.

    Hand-written for the reason CatBackward0 is, and like it runs on arrays.
    """

    tangent = LINEAR
    __slots__ = ("dim",)
    _runs_on_arrays = True

    @staticmethod
    def forward(ctx, *tensors, dim):
        ctx.dim = dim
        return np.stack([t._data for t in tensors], axis=dim, dtype=_common_dtype(tensors), casting="unsafe")

    def backward(self, grad):
        return tuple(None if node is None else _math.select(grad, self.dim, index)
                     for index, (node, _) in enumerate(self.next_functions))


def _stack_samples(rng):
    make = _samples.make
    return [
        (([make(rng, (2, 3)), make(rng, (2, 3))],), {}),
        (([make(rng, (2,)), make(rng, (2,)), make(rng, (2,))],), {"dim": -1}),
        (([make(rng, ())],), {}),
    ]


@register(samples=_stack_samples)
def stack(tensors, dim: int = 0):
    """Tensors of one shape joined along a new dim `dim`."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for position, tensor in enumerate(tensors):
        if tensor._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {format_shape(first)} at entry 0 "
                f"and {format_shape(tensor._data.shape)} at entry {position}"
            )
    return apply(StackBackward0, *tensors, dim=wrap_dim(dim, len(first) + 1))


def _at_least(tensors, promote):
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return tuple(promote(tensor) for tensor in tensors[0])
    results = tuple(promote(tensor) for tensor in tensors)
    return results[0] if len(results) == 1 else results


def _atleast_1d(tensor: Tensor) -> Tensor:
    return reshape(tensor, (1,)) if tensor.ndim == 0 else tensor


def _atleast_2d(tensor: Tensor) -> Tensor:
    if tensor.ndim >= 2:
        return tensor
    return reshape(tensor, (1, -1) if tensor.ndim else (1, 1))


def _atleast_3d(tensor: Tensor) -> Tensor:
    if tensor.ndim >= 3:
        return tensor
    if tensor.ndim == 2:
        return unsqueeze(tensor, -1)
    return reshape(tensor, (1, -1, 1) if tensor.ndim else (1, 1, 1))


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d tensor becomes shape [1])."""
    return _at_least(tensors, _atleast_1d)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (new leading size-1 dims)."""
    return _at_least(tensors, _atleast_2d)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims ([N] -> [1, N, 1], [M, N] -> [M, N, 1])."""
    return _at_least(tensors, _atleast_3d)


def _hvd_samples(rng):
    make = _samples.make
    return [
        (([make(rng, (2,)), make(rng, (2,))],), {}),
        (([make(rng, (2, 3)), make(rng, (2, 3))],), {}),
        (([make(rng, ()), make(rng, ())],), {}),
    ]


def _hstack_samples(rng):
    return [*_hvd_samples(rng), (([_samples.make(rng, (3,)), _samples.make(rng, (1,))],), {})]


@register(samples=_hstack_samples)
def hstack(tensors):
    """Tensors joined column-wise (along dim 0 for vectors, dim 1 otherwise)."""
    tensors = [_atleast_1d(t) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


@register(samples=_hvd_samples)
def vstack(tensors):
    """Tensors joined row-wise (vectors become rows)."""
    return cat([_atleast_2d(t) for t in _tensor_list(tensors, "vstack")], 0)


row_stack = vstack


@register(samples=_hvd_samples)
def dstack(tensors):
    """Tensors joined depth-wise, along dim 2 (after making each at least 3-d)."""
    return cat([_atleast_3d(t) for t in _tensor_list(tensors, "dstack")], 2)


# ---------------------------------------------------------------------------
# Repeating: repeat, tile, repeat_interleave


class RepeatBackward0(Formula):
    """Copies of the tensor tiled along each dim: the gradient sums the copies."""

    @staticmethod
    def forward(self, repeats):
        return np.tile(self._data, repeats)

    tangent = LINEAR
    derivatives = {"self": lambda grad, repeats, self_shape: _math.repeat_backward(grad, repeats, self_shape)}


def _repeat_samples(rng):
    return [((_samples.make(rng, (2, 3)), 2, 1), {}), ((_samples.make(rng, (3,)), (2, 1, 2)), {})]


@register(methods="repeat", samples=_repeat_samples)
def repeat(input, *sizes):
    """The tensor tiled `sizes[d]` times along each dim (extra leading sizes add dims)."""
    repeats = _shape_argument(sizes)
    if len(repeats) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    if any(r < 0 for r in repeats):
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(repeats)}: {format_shape(repeats)}"
        )
    return apply(RepeatBackward0, input, repeats=repeats)


def _tile_samples(rng):
    return [((_samples.make(rng, (2, 3)), (2,)), {}), ((_samples.make(rng, (3,)), (2, 2)), {})]


@register(methods="tile", samples=_tile_samples)
def tile(input, dims):
    """`repeat`, with missing leading repeats taken as 1."""
    dims = _shape_argument((dims,))
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _repeat_interleave_samples(rng):
    from .._creation import tensor

    x = _samples.make(rng, (2, 3))
    return [((x, 2), {}), ((x, 3), {"dim": 1}), ((x, tensor([1, 0, 2])), {"dim": 1})]


@register(methods="repeat_interleave", samples=_samples.plus(_repeat_interleave_samples, {"output_size": 12}))
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated `repeats` times (a number, or one count per element) along `dim`
    (the flattened tensor when dim is None). With only a tensor of counts, the indices repeated."""
    from .._creation import tensor

    if repeats is None:
        counts = input._data
        return tensor(np.repeat(np.arange(counts.size), counts))
    if dim is None:
        input, dim = flatten(input), 0
    dim = wrap_dim(dim, input.ndim)
    size = input._data.shape[dim] if input.ndim else 1
    if isinstance(repeats, Tensor) and repeats.numel() != 1:
        counts = repeats._data.reshape(-1)
        if counts.size != size:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {counts.size} and input.size({dim}) = {size}"
            )
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        return input.index_select(dim, tensor(np.repeat(np.arange(size), counts)))
    count = int(repeats)
    if count < 0:
        raise RuntimeError("Repeats must be non-negative")
    if input.ndim == 0:
        input = reshape(input, (1,))
    shape = input._data.shape
    spread = (*shape[:dim + 1], count, *shape[dim + 1:])
    merged = (*shape[:dim], shape[dim] * count, *shape[dim + 1:])
    return view(clone(expand(unsqueeze(input, dim + 1), spread)), merged)


# ---------------------------------------------------------------------------
# Moving elements: flip, roll, rot90


class FlipBackward0(Formula):
    """The order reversed along dims: the gradient is flipped back."""

    @staticmethod
    def forward(self, dims):
        return np.flip(self._data, dims).copy()

    tangent = LINEAR
    derivatives = {"self": lambda grad, dims: _math.flip(grad, dims)}


def _flip_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x, (0,)), {}), ((x, (0, 1)), {}), ((x, [-1]), {}), ((_samples.make(rng, ()), ()), {})]


@register(methods="flip", samples=_flip_samples)
def flip(input, *dims):
    """A copy with the order of elements reversed along `dims`."""
    if len(dims) == 1 and isinstance(dims[0], list | tuple):
        dims = dims[0]
    return apply(FlipBackward0, input, dims=normalize_dims(tuple(dims), input.ndim))


@register(methods="fliplr", samples=lambda rng: [((_samples.make(rng, (2, 3)),), {})])
def fliplr(input):
    """Columns in reverse order (dim 1 flipped)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


@register(methods="flipud", samples=lambda rng: [((_samples.make(rng, (2, 3)),), {})])
def flipud(input):
    """Rows in reverse order (dim 0 flipped)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def _negated(shifts: tuple) -> tuple:
    return tuple(-shift for shift in shifts)


class RollBackward0(Formula):
    """Elements shifted cyclically: the gradient is shifted back."""

    @staticmethod
    def forward(self, shifts, dims):
        return np.roll(self._data, shifts, axis=dims)

    tangent = LINEAR
    derivatives = {"self": lambda grad, shifts, dims: _math.roll(grad, _negated(shifts), dims)}


def _roll_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x, 1), {}), ((x, (1, -1), (0, 1)), {}), ((x, 4, 1), {})]


@register(methods="roll", samples=_roll_samples)
def roll(input, shifts, dims=None):
    """Elements shifted cyclically by `shifts` along `dims` (over the flattened tensor when None)."""
    shifts = (int(shifts),) if isinstance(shifts, numbers.Integral) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(RollBackward0, input, shifts=shifts, dims=None)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return apply(RollBackward0, input, shifts=shifts, dims=tuple(wrap_dim(d, input.ndim) for d in dims))


class Rot90Backward0(Formula):
    """A quarter turn `k` times in the plane of two dims: the gradient turns back."""

    @staticmethod
    def forward(self, k, dims):
        return np.rot90(self._data, k, axes=dims).copy()

    tangent = LINEAR
    derivatives = {"self": lambda grad, k, dims: _math.rot90(grad, -k, dims)}


def _rot90_samples(rng):
    x = _samples.make(rng, (2, 3, 2))
    return [((x,), {}), ((x, 2, (1, 2)), {}), ((x, -1, (2, 0)), {})]


@register(methods="rot90", samples=_rot90_samples)
def rot90(input, k: int = 1, dims=(0, 1)):
    """A copy rotated by 90 degrees `k` times, from the first toward the second of `dims`."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    first, second = (wrap_dim(d, input.ndim) for d in dims)
    if first == second:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {first} and dim1 = {second}"
        )
    return apply(Rot90Backward0, input, k=int(k), dims=(first, second))


# ---------------------------------------------------------------------------
# Diagonals and triangles


def _diagonal_view(array: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    """A writable view of the diagonal of `array` in the (dim1, dim2) planes, as its last dim."""
    moved = np.moveaxis(array, (dim1, dim2), (-2, -1))
    rows, columns = moved.shape[-2:]
    corner = moved[..., :, min(offset, columns):] if offset >= 0 else moved[..., min(-offset, rows):, :]
    length = min(corner.shape[-2:])
    return np.lib.stride_tricks.as_strided(
        corner,
        shape=(*corner.shape[:-2], length),
        strides=(*corner.strides[:-2], corner.strides[-2] + corner.strides[-1]),
    )


class DiagonalBackward0(Formula):
    """A diagonal (a view, as the last dim): the gradient is written back on that diagonal."""

    is_view = True

    @staticmethod
    def forward(self, offset, dim1, dim2):
        return _diagonal_view(self._data, offset, dim1, dim2)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, offset, dim1, dim2: _math.diagonal_backward(grad, self_shape, offset, dim1, dim2),  # noqa: E501
    }


class DiagonalBackward0_copy(Formula):
    """A copy of a matrix's diagonal (what diag() of a matrix gives; PyTorch's name)."""

    @staticmethod
    def forward(self, offset, dim1, dim2):
        return _diagonal_view(self._data, offset, dim1, dim2).copy()

    tangent = LINEAR
    derivatives = DiagonalBackward0.derivatives


class DiagonalBackwardBackward0(Formula):
    """A diagonal's gradient written on the diagonal of zeros of the input's shape."""

    inputs = ("grad_output",)

    @staticmethod
    def forward(grad_output, shape, offset, dim1, dim2):
        return _math.diagonal_backward(grad_output._data, shape, offset, dim1, dim2)

    tangent = LINEAR
    derivatives = {"grad_output": lambda grad, offset, dim1, dim2: _math.diagonal(grad, offset, dim1, dim2)}


def _diagonal_dims(dim1: int, dim2: int, ndim: int) -> tuple[int, int]:
    first, second = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return first, second


def _diagonal_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [((x,), {}), ((x, 1), {}), ((x, -2), {}), ((_samples.make(rng, (2, 3, 2)), 0, 2, 0), {})]


@register(methods="diagonal", samples=_diagonal_samples)
def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A view of the diagonal `offset` (above the main one when positive) in the (dim1, dim2)
    planes, appended as the last dim."""
    first, second = _diagonal_dims(dim1, dim2, input.ndim)
    return apply(DiagonalBackward0, input, offset=int(offset), dim1=first, dim2=second)


class DiagEmbedBackward0(Formula):
    """The last dim laid on a diagonal of new (dim1, dim2) planes of zeros: the gradient is
    that diagonal."""

    @staticmethod
    def forward(self, offset, dim1, dim2):
        data = self._data
        side = data.shape[-1] + abs(offset)
        batch = iter(data.shape[:-1])
        shape = tuple(side if d in (dim1, dim2) else next(batch) for d in range(data.ndim + 1))
        result = np.zeros(shape, dtype=data.dtype)
        _diagonal_view(result, offset, dim1, dim2)[...] = data
        return result

    tangent = LINEAR
    derivatives = {"self": lambda grad, offset, dim1, dim2: _math.diagonal(grad, offset, dim1, dim2)}


def _diag_embed_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x,), {}), ((x, 1), {}), ((x, -1, 0, 2), {})]


@register(methods="diag_embed", samples=_diag_embed_samples)
def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """Each vector along the last dim laid on diagonal `offset` of new matrices in dims (dim1, dim2)."""
    first, second = _diagonal_dims(dim1, dim2, input.ndim + 1)
    return apply(DiagEmbedBackward0, input, offset=int(offset), dim1=first, dim2=second)


def _diag_samples(rng):
    return [((_samples.make(rng, (3,)),), {}), ((_samples.make(rng, (3,)), -1), {}),
            ((_samples.make(rng, (3, 4)), 1), {})]


@register(methods="diag", samples=_diag_samples)
def diag(input, diagonal: int = 0):
    """A vector made the `diagonal`-th diagonal of a square matrix, or a matrix's diagonal copied out."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return apply(DiagonalBackward0_copy, input, offset=int(diagonal), dim1=0, dim2=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


class TrilBackward0(Formula):
    """The lower triangle kept (on and below `diagonal`): so is the gradient's (selected)."""

    @staticmethod
    def forward(self, diagonal):
        return np.tril(self._data, diagonal)

    tangent = LINEAR
    derivatives = {"self": lambda grad, diagonal: _math.tril(grad, diagonal)}


class TriuBackward0(Formula):
    """The upper triangle kept (on and above `diagonal`): so is the gradient's (selected)."""

    @staticmethod
    def forward(self, diagonal):
        return np.triu(self._data, diagonal)

    tangent = LINEAR
    derivatives = {"self": lambda grad, diagonal: _math.triu(grad, diagonal)}


def _triangle_samples(rng):
    x = _samples.make(rng, (3, 4))
    return [((x,), {}), ((x, 1), {}), ((_samples.make(rng, (2, 3, 3)), -1), {})]


def _triangle(name: str, node_class: type[Node], doc: str):
    def triangle(input, diagonal: int = 0):
        if input.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return apply(node_class, input, diagonal=int(diagonal))

    triangle.__name__ = triangle.__qualname__ = name
    triangle.__doc__ = doc
    return triangle


_TRIL_DOC = "The lower triangle of the last two dims (on and below `diagonal`); zeros elsewhere."
_TRIU_DOC = "The upper triangle of the last two dims (on and above `diagonal`); zeros elsewhere."
tril = register(methods="tril", inplace="tril_", samples=_triangle_samples)(
    _triangle("tril", TrilBackward0, _TRIL_DOC)
)
triu = register(methods="triu", inplace="triu_", samples=_triangle_samples)(
    _triangle("triu", TriuBackward0, _TRIU_DOC)
)


# ---------------------------------------------------------------------------
# Grids


def _meshgrid_samples(rng):
    make = _samples.make
    return [((make(rng, (2,)), make(rng, (3,))), {"indexing": "ij"}),
            ((make(rng, (2,)), make(rng, (3,)), make(rng, ())), {"indexing": "xy"})]


@register(samples=_meshgrid_samples)
def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids: output i holds tensor i's values spread along its own dim
    ('ij'; 'xy' swaps the first two dims). Each output is a broadcast view."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if any(isinstance(tensor, Tensor) and tensor.dtype is not tensors[0].dtype for tensor in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    for tensor in tensors:
        if tensor.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"{format_shape(tensor._data.shape)}"
            )
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(tensors)
    for tensor, position in zip(tensors, positions):
        shape[position] = tensor.numel()
    grids = []
    for tensor, position in zip(tensors, positions):
        line = [1] * len(tensors)
        line[position] = -1
        grids.append(expand(reshape(tensor, line), shape))
    return tuple(grids)


# ---------------------------------------------------------------------------
# Copies and conversions


class CloneBackward0(Formula):
    @staticmethod
    def forward(self):
        return self._data.copy()

    tangent = LINEAR
    derivatives = {"self": lambda grad: grad}


@register(methods="clone", samples=_samples.unary())
def clone(input, *, memory_format=None):
    """A copy of `input` with its own memory; gradients flow through it."""
    return apply(CloneBackward0, input)


class ToCopyBackward0(Formula):
    """A dtype conversion: the gradient is converted back to the input's dtype (the engine
    casts every gradient to its input's dtype)."""

    @staticmethod
    def forward(self, dtype):
        return self._data.astype(dtype.numpy)

    tangent = LINEAR
    derivatives = {"self": lambda grad: grad}


def _to(self, *args, **kwargs):
    """A tensor with the requested dtype (and device, which must be the CPU); self if unchanged."""
    target = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for arg in args:
        if isinstance(arg, _dtype.dtype):
            target = arg
        elif isinstance(arg, Tensor):
            target = arg.dtype
        elif isinstance(arg, str) or hasattr(arg, "type"):
            device = arg
        elif arg is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {arg!r}")
    if device is not None:
        from .._creation import _check_device

        _check_device(device)
    if target is None or target is self.dtype:
        return clone(self) if copy else self
    if self._requires_grad and not target.is_floating_point:
        with_grad = apply(ToCopyBackward0, self, dtype=target)
        return with_grad.detach()
    return apply(ToCopyBackward0, self, dtype=target)


def _caster(target: _dtype.dtype):
    def cast(self, memory_format=None):
        return _to(self, target)

    cast.__name__ = target.name
    cast.__doc__ = f"self.to(retrograd.{target.name})"
    return cast


Tensor.to = _to
Tensor.type_as = lambda self, other: _to(self, other.dtype)
for _method, _target in {
    "float": _dtype.float32,
    "double": _dtype.float64,
    "half": _dtype.float16,
    "long": _dtype.int64,
    "int": _dtype.int32,
    "short": _dtype.int16,
    "char": _dtype.int8,
    "byte": _dtype.uint8,
    "bool": _dtype.bool,
}.items():
    setattr(Tensor, _method, _caster(_target))
Tensor.cpu = lambda self, memory_format=None: self


@register(methods="contiguous", samples=lambda rng: [
    ((_samples.make(rng, (2, 3)),), {}), ((_samples.make(rng, (3, 2)).t(),), {})
])
def contiguous(input, memory_format=None):
    """Self when already laid out row-major, else a row-major copy."""
    return input if input._data.flags.c_contiguous else clone(input)
