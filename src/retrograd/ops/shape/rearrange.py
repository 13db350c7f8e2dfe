"""Shape operators that repeat or move elements (repeat, tile, repeat_interleave, flip, roll,
rot90), diagonals and triangles, grids, and copies and conversions."""

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, as_given, dims_as_given, given_where_different
from .._table import _is_dense, apply, register, register_method
from .._tangents import LINEAR
from ..reduce import normalize_dims
from .views import _shape_argument, expand, flatten, format_shape, reshape, unsqueeze, view, wrap_dim

# ---------------------------------------------------------------------------
# Repeating: repeat, tile, repeat_interleave


class RepeatBackward0(Formula):
    """Copies of the tensor tiled along each dim: the gradient sums the copies."""

    @staticmethod
    def forward(self, repeats):
        return np.tile(self._data, repeats)

    tangent = LINEAR
    derivatives = {"self": lambda grad, repeats, self_shape: _math.repeat_backward(grad, repeats, self_shape)}


@register(methods="repeat")
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


@register(methods="tile")
def tile(input, dims):
    """`repeat`, with missing leading repeats taken as 1."""
    dims = _shape_argument((dims,))
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@register(methods="repeat_interleave")
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated `repeats` times (a number, or one count per element) along `dim`
    (the flattened tensor when dim is None). With only a tensor of counts, the indices repeated."""
    from ..._creation import tensor

    if repeats is None:
        counts = input._data
        return tensor(np.repeat(np.arange(counts.size), counts))
    if dim is None:
        input, dim = flatten(input), 0
    given, dim = dim, wrap_dim(dim, input.ndim)
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
        return input.index_select(given, tensor(np.repeat(np.arange(size), counts)))  # (its node shows it)
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


class FlipBackward0(ShownAsPyTorch, Formula):
    """The order reversed along dims: the gradient is flipped back. The dims show as the
    call gave them (Note [Saved values as PyTorch shows them])."""

    @staticmethod
    def forward(self, dims, dims_as_given=None):
        return np.flip(self._data, dims).copy()

    tangent = LINEAR
    derivatives = {"self": lambda grad, dims: _math.flip(grad, dims)}
    shown: ClassVar[dict] = {"dims": as_given("dims", dims_as_given)}


@register(methods="flip")
def flip(input, *dims):
    """A copy with the order of elements reversed along `dims`."""
    if len(dims) == 1 and isinstance(dims[0], list | tuple):
        dims = dims[0]
    wrapped = normalize_dims(tuple(dims), input.ndim)
    if wrapped == tuple(dims):
        return apply(FlipBackward0, input, dims=wrapped)
    return apply(FlipBackward0, input, dims=wrapped, dims_as_given=tuple(dims))


@register(methods="fliplr")
def fliplr(input):
    """Columns in reverse order (dim 1 flipped)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


@register(methods="flipud")
def flipud(input):
    """Rows in reverse order (dim 0 flipped)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def _negated(shifts: tuple) -> tuple:
    return tuple(-shift for shift in shifts)


class RollBackward0(ShownAsPyTorch, Formula):
    """Elements shifted cyclically: the gradient is shifted back. The dims show as the call
    gave them, `()` for none (Note [Saved values as PyTorch shows them])."""

    @staticmethod
    def forward(self, shifts, dims, dims_as_given=None):
        return np.roll(self._data, shifts, axis=dims)

    tangent = LINEAR
    derivatives = {"self": lambda grad, shifts, dims: _math.roll(grad, _negated(shifts), dims)}
    shown: ClassVar[dict] = {"dims": as_given("dims", dims_as_given, otherwise=lambda node: tuple(
        node._parameter("dims") or ()))}


@register(methods="roll")
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
    wrapped = tuple(wrap_dim(d, input.ndim) for d in dims)
    if wrapped == dims:
        return apply(RollBackward0, input, shifts=shifts, dims=wrapped)
    return apply(RollBackward0, input, shifts=shifts, dims=wrapped, dims_as_given=dims)


class Rot90Backward0(ShownAsPyTorch, Formula):
    """A quarter turn `k` times in the plane of two dims: the gradient turns back. The node
    shows the dims as the call gave them (Note [Saved values as PyTorch shows them])."""

    shown: ClassVar[dict] = {"dims": as_given("dims")}

    @staticmethod
    def forward(self, k, dims, dims_as_given=None):
        return np.rot90(self._data, k, axes=dims).copy()

    tangent = LINEAR
    derivatives = {"self": lambda grad, k, dims: _math.rot90(grad, -k, dims)}


@register(methods="rot90")
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
    given = tuple(int(each) for each in dims)
    return apply(Rot90Backward0, input, k=int(k), dims=(first, second),
                 **given_where_different(dims=(given, (first, second))))


# ---------------------------------------------------------------------------
# Sliding windows: Tensor.unfold


def _window_starts(length: int, size: int, step: int) -> np.ndarray:
    """Where each window of `size` begins along a dim of `length`, `step` apart."""
    return np.arange(0, length - size + 1, step)


def _windows(data: np.ndarray, dimension: int, size: int, step: int) -> np.ndarray:
    """Every window of `size` elements along `dimension`, `step` apart, as a new last dim (a
    copy; a 0-d array is one window of its one element)."""
    if data.ndim == 0:
        return data.reshape(1).copy()
    windows = np.lib.stride_tricks.sliding_window_view(data, size, axis=dimension)
    every_step = (slice(None),) * (dimension % data.ndim) + (slice(None, None, step),)
    return np.ascontiguousarray(windows[every_step])


def _unfold_backward(grad, self_shape, dimension, size, step):
    """Each window's gradient added back at the positions it covers (PyTorch's unfold_backward)."""
    if not self_shape:
        return _math.reshape(grad, ())
    dim = dimension % len(self_shape)
    count = grad.shape[dim]
    order = [*range(dim + 1), grad.ndim - 1, *range(dim + 1, grad.ndim - 1)]
    covered = (*self_shape[:dim], count * size, *self_shape[dim + 1:])
    along = _math.reshape(_math.permute(grad, order), covered)
    positions = (_window_starts(self_shape[dim], size, step)[:, None] + np.arange(size)).reshape(-1)
    return _math.index_select_backward(along, self_shape, dim, positions)


class UnfoldBackward0(Formula):
    """Every window of `size` elements along `dimension`, `step` apart, as a new last dim: the
    gradient adds each window's back where it came from. PyTorch returns a view; this is a
    copy (the gradients are the same; a write to it does not reach the input). The node shows
    `dimension` as the call gave it, as PyTorch's."""

    @staticmethod
    def forward(self, dimension, size, step):
        return _windows(self._data, dimension, size, step)

    tangent = LINEAR
    derivatives = {"self": _unfold_backward}


def tensor_unfold(self, dimension: int, size: int, step: int) -> Tensor:
    """Every window of `size` elements along `dimension`, `step` apart, as a new last dim
    (Tensor.unfold; `nn.functional.unfold` is the convolution's)."""
    dim = wrap_dim(dimension, self.ndim) if self.ndim else 0
    length = self.shape[dim] if self.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return apply(UnfoldBackward0, self, dimension=int(dimension), size=int(size), step=int(step))


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


class DiagonalBackward0(ShownAsPyTorch, Formula):
    """A diagonal (a view, as the last dim): the gradient is written back on that diagonal.
    The node shows the dims as the call gave them (Note [Saved values as PyTorch shows them])."""

    is_view = True
    shown: ClassVar[dict] = {"dim1": as_given("dim1"), "dim2": as_given("dim2")}

    @staticmethod
    def forward(self, offset, dim1, dim2, dim1_as_given=None, dim2_as_given=None):
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


@register(methods="diagonal")
def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A view of the diagonal `offset` (above the main one when positive) in the (dim1, dim2)
    planes, appended as the last dim."""
    first, second = _diagonal_dims(dim1, dim2, input.ndim)
    return apply(DiagonalBackward0, input, offset=int(offset), dim1=first, dim2=second,
                 **given_where_different(dim1=(dim1, first), dim2=(dim2, second)))


class DiagEmbedBackward0(ShownAsPyTorch, Formula):
    """The last dim laid on a diagonal of new (dim1, dim2) planes of zeros: the gradient is
    that diagonal. The dims show as the call gave them (by default -2 and -1)."""

    @staticmethod
    def forward(self, offset, dim1, dim2, dim1_as_given=None, dim2_as_given=None):
        data = self._data
        side = data.shape[-1] + abs(offset)
        batch = iter(data.shape[:-1])
        shape = tuple(side if d in (dim1, dim2) else next(batch) for d in range(data.ndim + 1))
        result = np.zeros(shape, dtype=data.dtype)
        _diagonal_view(result, offset, dim1, dim2)[...] = data
        return result

    tangent = LINEAR
    derivatives = {"self": lambda grad, offset, dim1, dim2: _math.diagonal(grad, offset, dim1, dim2)}
    shown: ClassVar[dict] = {"dim1": as_given("dim1", int), "dim2": as_given("dim2", int)}


@register(methods="diag_embed")
def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """Each vector along the last dim laid on diagonal `offset` of new matrices in dims (dim1, dim2)."""
    first, second = _diagonal_dims(dim1, dim2, input.ndim + 1)
    return apply(DiagEmbedBackward0, input, offset=int(offset), dim1=first, dim2=second,
                 dim1_as_given=dim1, dim2_as_given=dim2)


@register(methods="diag")
def diag(input, diagonal: int = 0):
    """A vector made the `diagonal`-th diagonal of a square matrix, or a matrix's diagonal copied out."""
    if input.ndim == 1:  # (PyTorch's diag_embed, its dims at their defaults)
        return diag_embed(input, diagonal)
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
tril = register(methods="tril", inplace="tril_")(
    _triangle("tril", TrilBackward0, _TRIL_DOC)
)
triu = register(methods="triu", inplace="triu_")(
    _triangle("triu", TriuBackward0, _TRIU_DOC)
)


# ---------------------------------------------------------------------------
# Grids


@register()
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


@register(methods="clone")
def clone(input, *, memory_format=None):
    """A copy of `input` with its own memory; gradients flow through it."""
    return apply(CloneBackward0, input)


class ToCopyBackward0(Formula):
    """A dtype conversion: the gradient is converted back to the input's dtype (the engine
    casts every gradient to its input's dtype)."""

    @staticmethod
    def forward(self, dtype):
        data = self._data
        # PyTorch's preserve_format: the strides stay where the elements fill their memory
        # without gaps or repeats; otherwise (an expanded tensor) the copy is row-major
        return data.astype(dtype.numpy, order="K" if _is_dense(data) else "C")

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
        from ..._creation import _check_device

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


register_method("to", _to)
register_method("type_as", lambda self, other: _to(self, other.dtype))
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
    register_method(_method, _caster(_target))


@register(methods="contiguous")
def contiguous(input, memory_format=None):
    """Self when already laid out row-major, else a row-major copy."""
    return input if input._data.flags.c_contiguous else clone(input)
