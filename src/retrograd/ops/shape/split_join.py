"""Shape operators that cut a tensor into pieces (split, chunk, unbind, tensor_split) or join
pieces (cat, stack and the h/v/d variants)."""

from __future__ import annotations

import functools
import itertools
import numbers

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, ShowsOneDimAsGiven, given_where_different
from .._table import apply, register
from .._tangents import LINEAR
from .reorder import _along, basic_view
from .views import format_shape, reshape, unsqueeze, wrap_dim

# ---------------------------------------------------------------------------
# Cutting into pieces: split, chunk, unbind, tensor_split


def _split_sizes(size: int, split_size: int) -> tuple:
    """The sizes of `split`'s pieces of `split_size` along a dim of `size` (the last may be smaller)."""
    if size == 0:
        return (0,)
    return (split_size,) * (size // split_size) + ((size % split_size,) if size % split_size else ())


def _pieces(data: np.ndarray, dim: int, sizes: tuple) -> tuple:
    """Consecutive slices of `sizes` along `dim` (views; an LSTM cell cuts its gates so at
    every step, hence a plain loop, no NumPy call nor generator, for the bounds). Along the
    first two dims (a batch's rows, a matrix's columns: an LSTM's gates, a series cut into
    its time steps) the slice is written out, which costs a quarter less than building each
    piece's index tuple."""
    pieces = []
    start = 0
    if dim == 0:
        for size in sizes:
            stop = start + size
            pieces.append(data[start:stop])
            start = stop
    elif dim == 1:
        for size in sizes:
            stop = start + size
            pieces.append(data[:, start:stop])
            start = stop
    else:
        leading = (slice(None),) * dim
        for size in sizes:
            stop = start + size
            pieces.append(data[(*leading, slice(start, stop))])
            start = stop
    return tuple(pieces)


def _split_backward(grads, self_shape, dim, sizes):
    """The pieces' gradients joined along `dim`, zeros for the pieces that got none."""
    if len(grads) == len(sizes):  # every piece used (an LSTM's gates): one join, when all are arrays
        for grad in grads:
            if type(grad) is not np.ndarray:
                break
        else:
            return np.concatenate(grads, axis=dim)
    present = next(grad for grad in grads if grad is not None)
    pieces = []
    for index, size in enumerate(sizes):
        grad = grads[index] if index < len(grads) else None
        if grad is None:
            grad = _math.zeros_of_shape((*self_shape[:dim], size, *self_shape[dim + 1:]), present)
        pieces.append(grad)
    return _math.cat(pieces, dim)


class SplitBackward0(ShowsOneDimAsGiven, Formula):
    """Consecutive pieces of `split_size` along a dim (views; the last may be smaller): the
    gradient is the pieces' gradients joined (zeros for pieces that got none).
    """

    is_view = True
    several_views = True

    @staticmethod
    def forward(self, split_size, dim, dim_as_given=None):
        data = self._data
        return _pieces(data, dim, _split_sizes(data.shape[dim], split_size))

    tangent = LINEAR
    derivatives = {"self": lambda grads, self_shape, split_size, dim: _split_backward(
        grads, self_shape, dim, _split_sizes(self_shape[dim], split_size))}


class SplitWithSizesBackward0(ShowsOneDimAsGiven, Formula):
    """Pieces of the given sizes along a dim (views)."""

    is_view = True
    several_views = True

    @staticmethod
    def forward(self, split_sizes, dim, dim_as_given=None):
        return _pieces(self._data, dim, split_sizes)

    tangent = LINEAR
    derivatives = {
        "self": lambda grads, self_shape, split_sizes, dim: _split_backward(grads, self_shape, dim, split_sizes),  # noqa: E501
    }


@register(methods="split")
def split(tensor, split_size_or_sections, dim: int = 0):
    """Views of consecutive pieces along `dim`: of `split_size` each (the last may be
    smaller), or of the listed sizes."""
    _at_least_1d(tensor, "split")
    given, dim = dim, wrap_dim(dim, tensor.ndim)
    size = tensor._data.shape[dim]
    if type(split_size_or_sections) is int or (
            isinstance(split_size_or_sections, numbers.Integral | Tensor)
            and not isinstance(split_size_or_sections, list | tuple)):
        piece = int(split_size_or_sections)
        if piece < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={piece}")
        if piece == 0 and size != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
            )
        if given != dim:  # (shown as given: Note [Saved values as PyTorch shows them])
            return apply(SplitBackward0, tensor, split_size=piece, dim=dim, dim_as_given=given)
        return apply(SplitBackward0, tensor, split_size=piece, dim=dim)
    sizes = tuple(int(s) for s in split_size_or_sections)
    if sum(sizes) != size or any(s < 0 for s in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
            f"dimension {dim}), but got split_sizes={format_shape(sizes)}"
        )
    return apply(SplitWithSizesBackward0, tensor, split_sizes=sizes, dim=dim,
                 **given_where_different(dim=(given, dim)))


def _at_least_1d(tensor, op_name: str) -> None:
    if isinstance(tensor, Tensor) and tensor._data.ndim == 0:
        raise RuntimeError(f"{op_name} expects at least a 1-dimensional tensor")


@register(methods="chunk")
def chunk(input, chunks: int, dim: int = 0):
    """At most `chunks` views of equal size along `dim` (the last may be smaller)."""
    _at_least_1d(input, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    wrapped = wrap_dim(dim, input.ndim)
    size = input._data.shape[wrapped]
    if size == 0:
        return apply(SplitWithSizesBackward0, input, split_sizes=(0,) * chunks, dim=wrapped,
                     **given_where_different(dim=(dim, wrapped)))
    if wrapped != dim:  # (shown as given: Note [Saved values as PyTorch shows them])
        return apply(SplitBackward0, input, split_size=-(-size // chunks), dim=wrapped, dim_as_given=dim)
    # split's pieces of ceil(size / chunks) >= 1 elements, which pass all split's checks
    return apply(SplitBackward0, input, split_size=-(-size // chunks), dim=dim)


class UnsafeSplitBackward0(SplitBackward0):
    """split without view tracking: the pieces share the input's memory but are not marked as
    its views, so they may be written in place (PyTorch's unsafe_split; its recurrent cells
    split their gates so)."""

    is_view = False
    several_views = False


@register(methods="unsafe_split")
def unsafe_split(tensor, split_size: int, dim: int = 0):
    """`split` into pieces of `split_size` that are not tracked as views."""
    _at_least_1d(tensor, "split")
    given, dim = dim, wrap_dim(dim, tensor.ndim)
    return apply(UnsafeSplitBackward0, tensor, split_size=int(split_size), dim=dim,
                 **given_where_different(dim=(given, dim)))


@register(methods="unsafe_chunk")
def unsafe_chunk(input, chunks: int, dim: int = 0):
    """`chunk` into pieces that are not tracked as views."""
    _at_least_1d(input, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    given, dim = dim, wrap_dim(dim, input.ndim)
    split_size = max(-(-input._data.shape[dim] // chunks), 1)
    return apply(UnsafeSplitBackward0, input, split_size=split_size, dim=dim,
                 **given_where_different(dim=(given, dim)))


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


class UnbindBackward0(ShowsOneDimAsGiven, Formula):
    """Every index along a dim, one view each: the gradient is their gradients stacked."""

    hidden = ("self_sym_sizes",)  # Note [Saved values as PyTorch shows them]

    is_view = True
    several_views = True

    @staticmethod
    def forward(self, dim, dim_as_given=None):
        data = self._data
        return tuple(data[_along(dim, index)] for index in range(data.shape[dim]))

    tangent = LINEAR
    derivatives = {"self": lambda grads, self_shape, dim: _unbind_backward(grads, self_shape, dim)}


@register(methods="unbind")
def unbind(input, dim: int = 0):
    """The slices along `dim`, each a view with that dim removed."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    wrapped = wrap_dim(dim, input.ndim)
    if wrapped != dim:  # (shown as given: Note [Saved values as PyTorch shows them])
        return apply(UnbindBackward0, input, dim=wrapped, dim_as_given=dim)
    return apply(UnbindBackward0, input, dim=dim)


@register(methods="tensor_split")
def tensor_split(input, indices_or_sections, dim: int = 0):
    """Views along `dim`: `sections` nearly equal pieces, or pieces cut at `indices`."""
    if input.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
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
    """The dtype the tensors promote to (without the promotion's steps when all share one)."""
    first = tensors[0]._data.dtype
    for tensor in tensors:
        if tensor._data.dtype != first:
            return functools.reduce(_dtype.promote_types, (tensor.dtype for tensor in tensors)).numpy
    return _dtype._BY_NUMPY[first].numpy


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


class CatBackward0(ShownAsPyTorch, Node):
    """Tensors joined along a dim: each gets its own range of the gradient back.

    Hand-written (a Formula declares a fixed list of inputs; cat takes any number), but
    its backward is written with `_math` like a formula, so it runs on arrays when no
    graph is built (see Note [One formula, two modes]). It keeps `dim` as the call gave it,
    as StackBackward0 does.
    """
    hand_written = "takes any number of tensors (a declaration lists a fixed set of inputs)"
    hidden = ("sizes",)  # Note [Saved values as PyTorch shows them]

    tangent = LINEAR
    __slots__ = ("dim", "sizes")
    _runs_on_arrays = True

    @staticmethod
    def forward(ctx, *tensors, dim, sizes, dim_as_given=None):
        ctx.dim, ctx.sizes = dim if dim_as_given is None else int(dim_as_given), sizes
        joined = [tensor._data for tensor, size in zip(tensors, sizes) if size is not None]
        dtype = _common_dtype(tensors)
        if not joined:
            return np.zeros((0,), dtype=dtype)
        return np.concatenate(joined, axis=dim, dtype=dtype, casting="unsafe")

    def backward(self, grad):
        grads = []
        offset = 0
        dim = self.dim if self.dim >= 0 else self.dim + grad.ndim
        for size, needed in zip(self.sizes, self.next_functions):
            if needed[0] is None:
                grads.append(None)
            elif size is None:
                grads.append(_math.zeros_of_shape((0,), grad))
            else:
                grads.append(_math.narrow(grad, dim, offset, size))
            offset += size or 0
        return tuple(grads)


def _matching_sizes(tensors: tuple, dim) -> tuple | None:
    """(dim wrapped, the tensors' sizes along it) when the call is the common one (tensors of
    one rank, at least 1, sizes matching off `dim`, none a 1-d empty one, `dim` a valid int);
    else None, and `cat` takes its checks one by one, for their errors in PyTorch's order."""
    if not tensors or type(dim) is not int:
        return None
    first = tensors[0]._data.shape
    rank = len(first)
    if not -rank <= dim < rank:
        return None
    wrapped = dim % rank
    before, after = first[:wrapped], first[wrapped + 1:]
    sizes = []
    for tensor in tensors:
        shape = tensor._data.shape
        if (len(shape) != rank or shape[:wrapped] != before or shape[wrapped + 1:] != after
                or shape == (0,)):
            return None
        sizes.append(shape[wrapped])
    return wrapped, tuple(sizes)


def _is_legacy_empty(tensor: Tensor) -> bool:
    """A 1-d empty tensor, which cat skips whatever the other shapes (as PyTorch does)."""
    return tensor._data.shape == (0,)


@register()
def cat(tensors, dim: int = 0):
    """The tensors joined along `dim`; all other sizes must match (1-d empty tensors are skipped)."""
    tensors = _tensor_list(tensors, "cat")
    common = _matching_sizes(tensors, dim)
    wrapped, sizes = common if common is not None else _checked_sizes(tensors, dim)
    if sizes is None:  # (every tensor a 1-d empty one)
        return apply(CatBackward0, *tensors, dim=0, sizes=(None,) * len(tensors))
    if wrapped == dim:
        return apply(CatBackward0, *tensors, dim=wrapped, sizes=sizes)
    return apply(CatBackward0, *tensors, dim=wrapped, sizes=sizes, dim_as_given=dim)


def _checked_sizes(tensors: tuple, dim) -> tuple:
    """(dim wrapped, each tensor's size along it, None for a 1-d empty one) after PyTorch's
    checks in its order; (None, None) when every tensor is a 1-d empty one."""
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for position, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {position}) cannot be concatenated")
    kept = [(position, tensor) for position, tensor in enumerate(tensors) if not _is_legacy_empty(tensor)]
    if not kept:
        return None, None
    first = kept[0][1]._data.shape
    wrapped = wrap_dim(dim, len(first))
    for position, tensor in kept:
        shape = tensor._data.shape
        if len(shape) != len(first):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}"
            )
        for index, (expected, got) in enumerate(zip(first, shape)):
            if index != wrapped and expected != got:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {wrapped}. Expected size {expected} "
                    f"but got size {got} for tensor number {position} in the list."
                )
    return wrapped, tuple(None if _is_legacy_empty(t) else t._data.shape[wrapped] for t in tensors)


def concat(tensors, dim: int = 0):
    """`cat` under NumPy's name."""
    return cat(tensors, dim)


def concatenate(tensors, axis: int = 0):
    """`cat` with NumPy's argument name."""
    return cat(tensors, axis)


class StackBackward0(Node):
    """Equal-shaped tensors stacked along a new dim: each gets its slice of the gradient.

    Hand-written for the reason CatBackward0 is, and like it runs on arrays. It keeps `dim`
    as the call gave it (`dim_as_given` where a negative one was wrapped), which PyTorch's
    node shows; counted from the end, it names the same dim of a batched gradient too.
    """
    hand_written = "takes any number of tensors (a declaration lists a fixed set of inputs)"

    tangent = LINEAR
    __slots__ = ("dim",)
    _runs_on_arrays = True

    @staticmethod
    def forward(ctx, *tensors, dim, dim_as_given=None):
        ctx.dim = dim if dim_as_given is None else int(dim_as_given)
        return np.stack([t._data for t in tensors], axis=dim, dtype=_common_dtype(tensors), casting="unsafe")

    def backward(self, grad):
        dim = self.dim if self.dim >= 0 else self.dim + grad.ndim
        return tuple(None if node is None else _math.select(grad, dim, index)
                     for index, (node, _) in enumerate(self.next_functions))


@register()
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
    wrapped = wrap_dim(dim, len(first) + 1)
    if wrapped == dim:
        return apply(StackBackward0, *tensors, dim=wrapped)
    return apply(StackBackward0, *tensors, dim=wrapped, dim_as_given=dim)


def _at_least(tensors, promote):
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return tuple(promote(tensor) for tensor in tensors[0])
    results = tuple(promote(tensor) for tensor in tensors)
    return results[0] if len(results) == 1 else results


def _atleast_1d(tensor: Tensor) -> Tensor:
    return reshape(tensor, (1,)) if tensor.ndim == 0 else tensor


def _atleast_2d(tensor: Tensor) -> Tensor:
    """As PyTorch records it: a 0-d tensor reshaped, a 1-d one unsqueezed at 0."""
    if tensor.ndim >= 2:
        return tensor
    return unsqueeze(tensor, 0) if tensor.ndim else reshape(tensor, (1, 1))


def _atleast_3d(tensor: Tensor) -> Tensor:
    """As PyTorch records it: a 0-d tensor reshaped, a 1-d one unsqueezed at 0 then at -1, a
    2-d one at -1."""
    if tensor.ndim >= 3:
        return tensor
    if tensor.ndim == 2:
        return unsqueeze(tensor, -1)
    return unsqueeze(unsqueeze(tensor, 0), -1) if tensor.ndim else reshape(tensor, (1, 1, 1))


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d tensor becomes shape [1])."""
    return _at_least(tensors, _atleast_1d)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (new leading size-1 dims)."""
    return _at_least(tensors, _atleast_2d)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims ([N] -> [1, N, 1], [M, N] -> [M, N, 1])."""
    return _at_least(tensors, _atleast_3d)


@register()
def hstack(tensors):
    """Tensors joined column-wise (along dim 0 for vectors, dim 1 otherwise)."""
    tensors = [_atleast_1d(t) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


@register()
def vstack(tensors):
    """Tensors joined row-wise (vectors become rows)."""
    return cat([_atleast_2d(t) for t in _tensor_list(tensors, "vstack")], 0)


row_stack = vstack


@register()
def dstack(tensors):
    """Tensors joined depth-wise, along dim 2 (after making each at least 3-d)."""
    return cat([_atleast_3d(t) for t in _tensor_list(tensors, "dstack")], 2)
