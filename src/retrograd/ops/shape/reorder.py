"""Shape operators that reorder dims (transpose, t, permute, movedim) and the views chosen by
a basic index (select, narrow, x[...])."""

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import numpy as np

from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, as_given, dims_as_given
from .._table import apply, register, register_method
from .._tangents import LINEAR
from .views import _acting, _shape_argument, format_shape, wrap_dim

# ---------------------------------------------------------------------------
# Reordering dims: transpose, t, permute, movedim


class TransposeBackward0(ShownAsPyTorch, Formula):
    """Two dims swapped (a view): the gradient has them swapped back. The dims show as the
    call gave them (kept as `dim0_as_given`, `dim1_as_given` where a negative one was
    wrapped: Note [Saved values as PyTorch shows them])."""

    is_view = True

    @staticmethod
    def forward(self, dim0, dim1, dim0_as_given=None, dim1_as_given=None):
        data = self._data
        return np.swapaxes(data, dim0, dim1) if data.ndim else data.view()

    tangent = LINEAR
    derivatives = {"self": lambda grad, dim0, dim1: _math.transpose(grad, dim0, dim1)}
    shown: ClassVar[dict] = {"dim0": as_given("dim0", int), "dim1": as_given("dim1", int)}


class TransposeBackward1(TransposeBackward0):
    """`transpose_` (and `swapdims_`, `swapaxes_`): two dims swapped, in place."""

    __slots__ = ()


@register(methods=("transpose", "swapaxes", "swapdims"))
def transpose(input, dim0: int, dim1: int):
    """A view with dims `dim0` and `dim1` swapped."""
    ndim = input._data.ndim if type(input) is Tensor else input.ndim
    first, second = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    if first == dim0 and second == dim1:  # (the common case: nothing more for the node to keep)
        return apply(TransposeBackward0, input, dim0=first, dim1=second)
    return apply(TransposeBackward0, input, dim0=first, dim1=second, dim0_as_given=dim0, dim1_as_given=dim1)


swapaxes = swapdims = transpose


class TBackward0(Formula):
    """The transpose of a matrix (vectors and scalars are returned as they are); a view."""

    is_view = True

    @staticmethod
    def forward(self):
        return self._data.T

    tangent = LINEAR
    derivatives = {"self": lambda grad: _math.t(grad)}


class TBackward1(TBackward0):
    """`t_`: the transpose of a matrix, in place."""

    __slots__ = ()


@register(methods="t")
def t(input):
    """The transpose of a tensor of at most 2 dims."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(TBackward0, input)


def _inverse_order(dims: tuple) -> tuple:
    """The permutation that undoes `dims`."""
    return tuple(sorted(range(len(dims)), key=dims.__getitem__))


class PermuteBackward0(ShownAsPyTorch, Formula):
    """Dims reordered (a view): the gradient goes through the inverse order. The dims show
    as the call gave them (kept as `dims_as_given` where a negative one was wrapped)."""

    is_view = True

    @staticmethod
    def forward(self, dims, dims_as_given=None):
        return np.transpose(self._data, dims)

    tangent = LINEAR
    derivatives = {"self": lambda grad, dims: _math.permute(grad, _inverse_order(dims))}
    shown: ClassVar[dict] = {"dims": as_given("dims", dims_as_given)}


@register(methods="permute")
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
    if wrapped == tuple(dims):
        return apply(PermuteBackward0, input, dims=wrapped)
    return apply(PermuteBackward0, input, dims=wrapped, dims_as_given=dims)


def _dim_list(dims, ndim: int, name: str) -> list[int]:
    dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
    wrapped = [wrap_dim(dim, ndim) for dim in dims]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"movedim: repeated dim in `{name}` ({format_shape(dims)})")
    return wrapped


@register(methods=("movedim", "moveaxis"))
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


register_method("T", property(_T))
register_method("mT", property(_mT))


# ---------------------------------------------------------------------------
# Views chosen by a basic index (ints, slices, None, ...): select, narrow, x[...]
#
# Note [Basic index keys]
#     A key here is a tuple of ints, slices and None that ends with Ellipsis, so NumPy
#     always answers with a view (never a scalar). The gradient of such a view is the
#     incoming one written at the same key into zeros of the input's shape.


_INT64_MAX = 2 ** 63 - 1


def _key_part(part: str):
    """A function of a key node giving what PyTorch's select/slice node saves as `part`."""

    def show(node):
        dim, component = _acting(node._parameter("key"))
        if part == "dim":
            return dim
        if part == "index":
            return component
        start, stop, step = component.start, component.stop, component.step
        return {"start": 0 if start is None else start, "end": _INT64_MAX if stop is None else stop,
                "step": 1 if step is None else step}[part]

    return show


class SelectBackward0(ShownAsPyTorch, Formula):
    """One index along one dim (that dim removed): see Note [Basic index keys]. It shows
    PyTorch's `dim` and `index` (see Note [Saved values as PyTorch shows them])."""

    is_view = True

    @staticmethod
    def forward(self, key, dim_as_given=None, index_as_given=None):
        return self._data[key]

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape, key: _math.place_at_key(grad, self_shape, key)}
    shown: ClassVar[dict] = {"dim": as_given("dim", otherwise=_key_part("dim")),
                             "index": as_given("index", otherwise=_key_part("index"))}
    hidden = ("key",)


class SliceBackward0(SelectBackward0):
    """A range (with a step) along a dim: see Note [Basic index keys]. The dim and the end
    show as given where a composite gave them (`slice_along`)."""

    @staticmethod
    def forward(self, key, dim_as_given=None, index_as_given=None, end_as_given=None):
        return self._data[key]

    tangent = LINEAR
    shown: ClassVar[dict] = {"dim": as_given("dim", otherwise=_key_part("dim")),
                             "end": as_given("end", otherwise=_key_part("end")),
                             **{part: _key_part(part) for part in ("start", "step")}}
    __slots__ = ()


class AliasBackward0(SelectBackward0):
    """The whole tensor, as a new view (`x[...]`, `x[:]`)."""

    tangent = LINEAR
    shown: ClassVar[dict] = {}
    hidden = ("key", "self_sym_sizes")
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


def slice_along(input: Tensor, dim: int, start: int, end: int | None = None) -> Tensor:
    """input[start:end] along dim, as PyTorch's composites slice (`at::slice`): its node shows
    the dim and the end as given (None where omitted)."""
    key = _along(wrap_dim(dim, input.ndim), slice(start, end))
    return apply(SliceBackward0, input, key=key, dim_as_given=dim, end_as_given=end)


def _along(dim: int, index) -> tuple:
    """The basic key that picks `index` (an int or slice) along `dim`."""
    return (slice(None),) * dim + (index, Ellipsis)


@register(methods="select")
def select(input, dim: int, index: int):
    """The slice at `index` along `dim` (a view with that dim removed)."""
    if input._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    given_dim = int(dim)
    dim = wrap_dim(dim, input.ndim)
    index = int(index)
    size = input._data.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size "
            f"{format_shape(input._data.shape)} at dimension {dim}"
        )
    return apply(SelectBackward0, input, key=_along(dim, index % size), dim_as_given=given_dim,
                 index_as_given=index)


@register(methods="narrow")
def narrow(input, dim: int, start, length: int):
    """A view of `length` elements along `dim` from `start`."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    given, dim = dim, wrap_dim(dim, input.ndim)
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
    if given != dim:  # (the node shows the dim as given: Note [Saved values as PyTorch shows them])
        return apply(SliceBackward0, input, key=_along(dim, slice(start, start + length)), dim_as_given=given)
    return basic_view(input, _along(dim, slice(start, start + length)))
