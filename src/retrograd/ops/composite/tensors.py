"""Composite operators that shape and build tensors, search and count (no gradients), and
answer questions about tensors and dtypes."""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from ... import _dtype
from ..._tensor import Size, Tensor
from ...autograd.graph import Node
from .. import _math, _out
from .._saved_shown import ShownAsPyTorch
from .._table import apply
from .._tangents import LINEAR
from .numeric import _retrograd, _same_dtype, register

# ---------------------------------------------------------------------------
# Shapes and building tensors


@register(methods="ravel")
def ravel(input):
    """The elements as a 1-d tensor (a view where possible): as PyTorch, made contiguous (a
    copy, CloneBackward0, where it is not) and viewed (ViewBackward0)."""
    return input.contiguous().view(-1)


def _split_sections(input, indices_or_sections, dim: int, name: str, minimum: int):
    if input.ndim < minimum:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {minimum} dimension, but got a tensor "
            f"with {input.ndim} dimensions!"
        )
    if isinstance(indices_or_sections, numbers.Integral) and input.shape[dim] % indices_or_sections:
        raise RuntimeError(
            f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
            f"{input.shape[dim]} is not divisible by the split_size {indices_or_sections}!"
        )
    return input.tensor_split(indices_or_sections, dim)


@register(methods="hsplit")
def hsplit(input, indices_or_sections):
    """Split into columns: along dim 1 (dim 0 for a 1-d tensor)."""
    return _split_sections(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


@register(methods="vsplit")
def vsplit(input, indices_or_sections):
    """Split into rows: along dim 0 of a tensor of at least 2 dims."""
    return _split_sections(input, indices_or_sections, 0, "vsplit", 2)


@register(methods="dsplit")
def dsplit(input, indices_or_sections):
    """Split along dim 2 of a tensor of at least 3 dims."""
    return _split_sections(input, indices_or_sections, 2, "dsplit", 3)


@register()
def column_stack(tensors):
    """Stack 0-d and 1-d tensors as columns (and 2-d ones as they are) side by side."""
    columns = [t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors]
    return _retrograd().cat(columns, 1)


def _block_dtype(tensors) -> _dtype.dtype:
    """PyTorch's promotion: 0-d tensors count only when of a higher category (int < float)."""
    import functools

    dimensioned = [t.dtype for t in tensors if t.ndim > 0]
    zero_dim = [t.dtype for t in tensors if t.ndim == 0]
    result = functools.reduce(_dtype.promote_types, dimensioned) if dimensioned else None
    zero_result = functools.reduce(_dtype.promote_types, zero_dim) if zero_dim else None
    if result is None or (zero_result is not None and zero_result._category > result._category):
        return zero_result
    return result


class BlockDiagBackward0(ShownAsPyTorch, Node):
    """The tensors (as 2-d blocks) on the diagonal of a zero matrix: each gets its own block
    of the gradient back. Hand-written, as cat (it takes any number of tensors), with its
    backward written with `_math`, so it runs on arrays when no graph is built."""
    hand_written = "takes any number of tensors (a declaration lists a fixed set of inputs)"
    hidden = ("corners",)  # (PyTorch's node shows nothing: Note [Saved values as PyTorch shows them])

    tangent = LINEAR
    __slots__ = ("corners",)
    _runs_on_arrays = True

    @staticmethod
    def forward(ctx, *tensors, dtype):
        blocks = [_as_block(tensor._data) for tensor in tensors]
        corners = tuple(itertools.accumulate(((block.shape[0], block.shape[1]) for block in blocks),
                                             lambda corner, size: (corner[0] + size[0], corner[1] + size[1]),
                                             initial=(0, 0)))
        ctx.corners = corners
        result = np.zeros(corners[-1], dtype=dtype.numpy)
        for block, (row, column) in zip(blocks, corners):
            result[row:row + block.shape[0], column:column + block.shape[1]] = block
        return result

    def backward(self, grad):
        grads = []
        for (row, column), (end_row, end_column), (edge, _), meta in zip(
                self.corners, self.corners[1:], self.next_functions, self._input_meta):
            if edge is None:
                grads.append(None)
                continue
            block = _math.basic_index(grad, (slice(row, end_row), slice(column, end_column), Ellipsis))
            grads.append(_math.reshape(block, meta[0]))
        return tuple(grads)


def _as_block(data: np.ndarray) -> np.ndarray:
    """A 0-d or 1-d array as one row (a 2-d one as it is)."""
    return data.reshape(1, -1) if data.ndim < 2 else data


@register()
def block_diag(*tensors):
    """The tensors (0-d, 1-d or 2-d) placed along the diagonal of a zero matrix."""
    for t in tensors:
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input has "
                f"{t.ndim} dimensions"
            )
    if not tensors:
        return _retrograd().zeros(1, 0)
    return apply(BlockDiagBackward0, *tensors, dtype=_block_dtype(tensors))


@register()
def cartesian_prod(*tensors):
    """Every combination of one element from each 1-d tensor, one per row."""
    rg = _retrograd()
    _same_dtype(tensors, "meshgrid expects all tensors to have the same dtype")
    if len(tensors) == 1:
        return tensors[0]
    grids = rg.meshgrid(*tensors, indexing="ij")
    return rg.stack([grid.reshape(-1) for grid in grids], 1)


@register()
def combinations(input, r: int = 2, with_replacement: bool = False):
    """Every combination of `r` elements of a 1-d tensor, one per row (in order).

    Recorded as PyTorch records it: the input on an r-dim grid (a view, expanded: meshgrid),
    each grid's elements where the indices increase (masked_select by the triangular mask;
    non-decreasing with replacement), stacked as columns (StackBackward0)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty(0)
    count = input.shape[0]
    mask = Tensor._make(_increasing_mask(count, r, with_replacement))
    grids = [input.view([-1 if dim == position else 1 for dim in range(r)]).expand([count] * r)
             for position in range(r)]
    return _retrograd().stack([grid.masked_select(mask) for grid in grids], 1)


def _increasing_mask(count: int, r: int, with_replacement: bool) -> np.ndarray:
    """The (count,) * r bool mask of the index tuples that increase (or never decrease)."""
    indices = np.indices((count,) * r, sparse=True)
    mask = np.ones((count,) * r, dtype=bool)
    for first, second in itertools.pairwise(indices):
        mask &= (first <= second) if with_replacement else (first < second)
    return mask


def vander(x, N: int | None = None, increasing: bool = False):
    """The Vandermonde matrix: column j is x ** (N - 1 - j) (or x ** j when increasing).

    Not in the op table's gradient matrix: PyTorch 2.13's own vander backward fails
    ("modified by an inplace operation"), so there is nothing to compare with.
    """
    rg = _retrograd()
    count = x.shape[0] if N is None else N
    powers = rg.arange(count) if increasing else rg.arange(count - 1, -1, -1)
    base = x if x.dtype.is_floating_point else x.to(_dtype.int64)
    return base.unsqueeze(-1) ** powers.to(base.dtype)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False, out=None) -> Tensor:
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    from ..._creation import _float_dtype, _new

    if out is not None:  # see Note [out= arguments]
        values = logspace(start, end, steps, base, dtype=dtype if dtype is not None else out.dtype)
        return _out.write(out, values, "logspace", warn=False)

    exponents = np.linspace(float(start), float(end), steps)
    values = np.power(float(base), exponents).astype(_float_dtype(dtype).numpy)
    return _new(values, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number `s` (the default float dtype unless told)."""
    from ..._creation import _float_dtype, _new

    value = s.item() if isinstance(s, Tensor) else s
    return _new(np.asarray(value, dtype=_float_dtype(dtype).numpy), requires_grad)


def _index_pairs(rows: np.ndarray, columns: np.ndarray) -> Tensor:
    return Tensor._make(np.stack([rows, columns]).astype(np.int64).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (row, column) indices of the lower triangle of a row x col matrix, as a 2 x N tensor."""
    rows, columns = np.tril_indices(row, offset, col)
    result = _index_pairs(rows, columns)
    return result if dtype is None else result.to(dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (row, column) indices of the upper triangle of a row x col matrix, as a 2 x N tensor."""
    rows, columns = np.triu_indices(row, offset, col)
    result = _index_pairs(rows, columns)
    return result if dtype is None else result.to(dtype)


# ---------------------------------------------------------------------------
# Searching and counting (no gradients)


@register(methods="argwhere", differentiable=False)
def argwhere(input):
    """The indices of the nonzero elements, one row per element."""
    return Tensor._make(np.argwhere(input._data).astype(np.int64))


@register(methods="bincount", differentiable=False)
def bincount(input, weights=None, minlength: int = 0):
    """How often each value 0, 1, ... occurs in a 1-d tensor of non-negative integers
    (summing `weights` instead of counting ones when given)."""
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if input.dtype.is_floating_point or input.dtype is _dtype.bool:
        raise RuntimeError(
            f"\"bincount_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'"
        )
    if input.numel() and input._data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._make(np.bincount(input._data, minlength=minlength).astype(np.int64))
    counts = np.bincount(input._data, weights=weights._data, minlength=minlength)
    result_dtype = weights.dtype if weights.dtype.is_floating_point else _dtype.float64
    return Tensor._make(counts.astype(result_dtype.numpy))


@register(methods="histc", differentiable=False)
def histc(input, bins: int = 100, min: float = 0, max: float = 0):
    """A histogram of `bins` equal-width bins between min and max (the data's range when both
    are 0); elements outside are ignored."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    data = input._data.reshape(-1)
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = np.histogram(data, bins=bins, range=(low, high))
    return Tensor._make(counts.astype(input._data.dtype))


def _search(boundaries: np.ndarray, values: np.ndarray, right: bool) -> np.ndarray:
    return np.searchsorted(boundaries, values, side="right" if right else "left")


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False, side=None,
                 sorter=None, out=None):
    """For each value, the index where it would go in `sorted_sequence` to keep it sorted
    (searched along the last dim; row by row for a batched sequence)."""
    if out is not None:  # see Note [out= arguments]
        found = searchsorted(sorted_sequence, input, out_int32=out_int32, right=right, side=side,
                             sorter=sorter)
        return _out.write(out, found, "searchsorted", exact_dtype=True)
    right = right or side == "right"
    sequence = sorted_sequence._data
    if sorter is not None:
        sequence = np.take_along_axis(sequence, sorter._data, axis=-1)
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    if sequence.ndim == 1:
        result = _search(sequence, values, right)
    else:
        if sequence.shape[:-1] != values.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match"
            )
        flat_sequence = sequence.reshape(-1, sequence.shape[-1])
        flat_values = values.reshape(-1, values.shape[-1])
        result = np.stack([_search(row, row_values, right)
                           for row, row_values in zip(flat_sequence, flat_values)]).reshape(values.shape)
    return Tensor._make(np.asarray(result, dtype=np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False, out=None):
    """For each element, the index of the bucket of 1-d `boundaries` it falls in."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """Whether each element of `elements` is among `test_elements`."""
    left = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    right = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._make(np.asarray(np.isin(left, right, invert=invert)))


# ---------------------------------------------------------------------------
# Questions about tensors and dtypes


@register(methods="is_nonzero", differentiable=False)
def is_nonzero(input) -> bool:
    """The truth of a one-element tensor."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()).item())


@register(methods="is_same_size", differentiable=False)
def is_same_size(input, other) -> bool:
    """Whether both tensors have the same shape."""
    return input.shape == other.shape


@register(methods="is_signed", differentiable=False)
def is_signed(input) -> bool:
    """Whether the dtype holds negative numbers."""
    return input.dtype.is_signed


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of these shapes broadcast to."""
    normalised = [(shape,) if isinstance(shape, numbers.Integral) else tuple(shape) for shape in shapes]
    result: list[int] = []
    for index, shape in enumerate(normalised):
        padded = [1] * (len(shape) - len(result)) + result
        merged = []
        sizes = [1] * (len(padded) - len(shape)) + list(shape)
        for position, (current, size) in enumerate(zip(padded, sizes)):
            if current == size or size == 1:
                merged.append(current)
            elif current == 1:
                merged.append(size)
            else:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at "
                    f"{position - len(padded)}! Mismatching argument at index {index} had "
                    f"{tuple(shape)}; but expected shape should be broadcastable to {result}"
                )
        result = merged
    return Size(result)


def can_cast(from_, to) -> bool:
    """Whether PyTorch's casting rules allow from_ -> to in an in-place op (never to a lower
    category: float -> integer or integer -> bool)."""
    return from_._category <= to._category


class finfo:
    """The limits of a floating dtype: eps, max, min, tiny, resolution, bits."""

    def __init__(self, type=None):
        type = _dtype.get_default_dtype() if type is None else type
        if not type.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo "
                            f"to handle '{type!r}'")
        info = np.finfo(type.numpy)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)
        self.dtype = type.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype: min, max, bits."""

    def __init__(self, type):
        if type.is_floating_point or type is _dtype.bool:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to "
                            f"handle '{type!r}'")
        info = np.iinfo(type.numpy)
        self.bits = info.bits
        self.min = int(info.min)
        self.max = int(info.max)
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
