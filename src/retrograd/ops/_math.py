"""The functions a derivative formula may call, on arrays or on Tensors alike.

See Note [One formula, two modes] (ops/_formula.py): a formula gets NumPy arrays when
backward builds no graph and Tensors when it does (create_graph). Each function here runs
the NumPy kernel on arrays and the recorded op on Tensors, so one formula serves both.
Operators (`+ - * / ** < >` ...) need nothing from here: arrays and Tensors have them.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from . import _table  # (a partly run module while _table imports this one: used in calls only)
from ._zero_gradient import zero_gradient

__all__ = [
    "cos",
    "cosh",
    "efficient_zeros_like",
    "exp",
    "eye_mask",
    "isfinite",
    "isnan",
    "log",
    "matmul",
    "rounded_quotient",
    "rsqrt",
    "sgn",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "where",
    "zeros_like",
]


def _either(numpy_function, op_name: str):
    def function(x, *args, **kwargs):
        if isinstance(x, Tensor):
            return _table.table[op_name].function(x, *args, **kwargs)
        return numpy_function(x, *args, **kwargs)

    function.__name__ = op_name
    function.__doc__ = f"`{op_name}` of an array (NumPy) or of a Tensor (recorded)."
    return function


cos = _either(np.cos, "cos")
cosh = _either(np.cosh, "cosh")
exp = _either(np.exp, "exp")
log = _either(np.log, "log")
sin = _either(np.sin, "sin")
sinh = _either(np.sinh, "sinh")
sqrt = _either(np.sqrt, "sqrt")
isfinite = _either(np.isfinite, "isfinite")


def _matmul_arrays(a, b):
    """np.matmul; a stack of outer products (inner size 1: per-example weight gradients) as
    the broadcast product it equals, which NumPy computes several times faster."""
    if a.ndim > 2 and b.ndim > 2 and a.shape[-1] == 1:
        return np.multiply(a, b)
    return np.matmul(a, b)


matmul = _either(_matmul_arrays, "matmul")
isnan = _either(np.isnan, "isnan")


def rounded_quotient(a, b, rounding_mode: str):
    """a / b rounded toward zero ('trunc') or down ('floor'): its derivative is zero."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _table.table["div"].function(a, b, rounding_mode=rounding_mode)
    from .pointwise import _rounded_quotient

    return _rounded_quotient(a, b, rounding_mode)


def scalar_power(x, exponent):
    """x ** exponent for a number `exponent`, as the pow op computes it (sqrt for 0.5, 1 / sqrt
    for -0.5, ...: PyTorch's kernel, so (-inf) ** -0.5 is NaN, not NumPy's 0)."""
    if isinstance(x, Tensor):
        return _table.table["pow"].function(x, exponent)
    return power_kernel(x, exponent, exponent)


def power_kernel(base: np.ndarray, power, exponent) -> np.ndarray:
    """base ** exponent for a number, computed as PyTorch's CPU kernel computes it where that
    is a known formula, so float32 results are the same bits: multiplication for 2, 3 and -2,
    a division for -1, sqrt and 1 / sqrt for 0.5 and -0.5 (also much faster than np.power).
    Other exponents: in float64, rounded to float32, which agrees with PyTorch's own pow kernel
    far more often than NumPy's float32 pow (see docs/float32_bits.md)."""
    if base.dtype.kind != "f":
        return np.power(base, power)
    if exponent == 2:
        return base * base
    if exponent == 3:
        return base * base * base
    if exponent == -1:
        return 1 / base
    if exponent == -2:
        return 1 / (base * base)
    if exponent == 0.5:
        return np.sqrt(base)
    if exponent == -0.5:
        return 1 / np.sqrt(base)
    return float32_in_float64(np.power, base, power)


def float32_in_float64(kernel, base: np.ndarray, exponent) -> np.ndarray:
    """kernel(base, exponent), for float32 (and float16) computed in float64 and rounded."""
    if base.dtype.itemsize >= 8:
        return kernel(base, exponent)
    wide = kernel(base.astype(np.float64), np.asarray(exponent, np.float64))
    return wide.astype(base.dtype)


def rsqrt(x):
    """1 / sqrt(x)."""
    if isinstance(x, Tensor):
        return _table.table["rsqrt"].function(x)
    return 1 / np.sqrt(x)


def sign(x):
    """-1, 0 or 1 by the sign of each element (0 for NaN, as PyTorch)."""
    if isinstance(x, Tensor):
        return _table.table["sign"].function(x)
    return np.nan_to_num(np.sign(x), nan=0.0)


def sgn(x):
    """`sign` recorded as `sgn` (SgnBackward0, whose derivative is an efficient zero tensor)."""
    if isinstance(x, Tensor):
        return _table.table["sgn"].function(x)
    return np.nan_to_num(np.sign(x), nan=0.0)


def where(condition, input, other):
    """`input` where `condition` holds, else `other`: selects, so NaN elsewhere cannot leak.

    Recorded (on Tensors) as soon as any argument is a Tensor; bool arrays and numbers mix in.
    """
    if isinstance(condition, Tensor) or isinstance(input, Tensor) or isinstance(other, Tensor):
        if not isinstance(condition, Tensor):
            condition = Tensor._make(np.asarray(condition, dtype=bool))
        if isinstance(input, np.ndarray):
            input = Tensor._make(input)
        if isinstance(other, np.ndarray):
            other = Tensor._make(other)
        return _table.table["where"].function(condition, input, other)
    if type(condition) is np.ndarray and condition.dtype == bool:
        # Selecting against zero, the common case, goes through the bit selection of keep_where.
        if type(other) in (float, int) and other == 0:
            return keep_where(condition, input)
        if type(input) in (float, int) and input == 0:
            return zero_where(condition, other)
    return np.where(condition, input, other)


def eye_mask(shape: tuple) -> np.ndarray:
    """True on the main diagonal of a matrix of `shape` (a constant, never recorded)."""
    return np.eye(shape[0], shape[1], dtype=bool)


def zeros_like(x):
    """Zeros of x's shape and dtype, never recorded."""
    if isinstance(x, Tensor):
        return Tensor._make(np.zeros_like(x._data))
    return np.zeros_like(x)


def efficient_zeros_like(x):
    """PyTorch's efficient zero tensor of x's shape and dtype: zeros that stay zero when
    multiplied by NaN or Inf (see Note [Zero gradients that stay zero]), never recorded."""
    if isinstance(x, Tensor):
        return Tensor._make(zero_gradient(x._data.shape, x._data.dtype))
    return zero_gradient(np.shape(x), np.result_type(x))


# shapes and indexing
#
# Rearranging and picking elements, for the formulas of ops/shape/ and ops/index/. On
# arrays each is the NumPy kernel (a view where NumPy gives one: the engine never writes
# into a gradient it was handed); on Tensors it is the recorded op. The "_backward" ones put
# a gradient back where the forward took it from, into zeros of the input's shape: they
# write or add only at the positions the forward read, so nothing else is touched.


def _op(name: str):
    return _table.table[name].function


def reshape(x, shape):
    """x with a new shape (a view of an array when NumPy can make one)."""
    if isinstance(x, Tensor):
        return _op("reshape")(x, shape)
    return np.reshape(x, shape)


def expand(x, shape):
    """x broadcast to `shape` (for an array: see _spread)."""
    if isinstance(x, Tensor):
        return _op("expand")(x, shape)
    return _spread(x, shape)


_SMALL_SPREAD = 4096  # elements: below this a copy is cheaper than NumPy's broadcast view


def _spread(x, shape: tuple) -> np.ndarray:
    """An array x broadcast to `shape`, to be read only: for small results a new array (one
    allocation and a copy, under a microsecond), for large ones `np.broadcast_to`'s view
    (no memory, but about 3 µs of Python to build it)."""
    x = np.asarray(x)
    if x.shape == shape:
        return x
    if math.prod(shape) > _SMALL_SPREAD:
        return np.broadcast_to(x, shape)
    spread = np.empty(shape, x.dtype)
    np.copyto(spread, x)
    return spread


def sum_to_size(x, shape):
    """x summed over the dims it was broadcast along, down to `shape`."""
    if isinstance(x, Tensor):
        return _op("sum_to_size")(x, shape)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    leading = x.ndim - len(shape)
    dims = tuple(range(leading)) + tuple(
        leading + index for index, size in enumerate(shape) if size == 1 and x.shape[leading + index] != 1
    )
    summed = np.sum(x, axis=dims, keepdims=True) if dims else x
    return summed.reshape(shape)


def squeeze(x, dim):
    """x with the size-1 dim `dim` removed."""
    if isinstance(x, Tensor):
        return _op("squeeze")(x, dim)
    return x.squeeze(axis=dim)  # (methods, not NumPy's Python wrappers: the same views, faster)


def transpose(x, dim0: int, dim1: int):
    """x with dims `dim0` and `dim1` swapped."""
    if isinstance(x, Tensor):
        return _op("transpose")(x, dim0, dim1)
    return x.swapaxes(dim0, dim1) if x.ndim else x


def t(x):
    """The transpose of a tensor of at most 2 dims."""
    if isinstance(x, Tensor):
        return _op("t")(x)
    return x.transpose()


def permute(x, dims):
    """x with output dim i taken from dim dims[i]."""
    if isinstance(x, Tensor):
        return _op("permute")(x, dims)
    return np.transpose(x, dims)


def flip(x, dims):
    """x with the order of elements reversed along `dims`."""
    if isinstance(x, Tensor):
        return _op("flip")(x, dims)
    return np.flip(x, dims)


def roll(x, shifts, dims):
    """x shifted cyclically (dims None: over the flattened x)."""
    if isinstance(x, Tensor):
        return _op("roll")(x, shifts, dims)
    return np.roll(x, shifts, axis=dims)


def rot90(x, k: int, dims):
    """x turned a quarter `k` times in the plane of `dims`."""
    if isinstance(x, Tensor):
        return _op("rot90")(x, k, dims)
    return np.rot90(x, k, axes=dims)


def tril(x, diagonal: int):
    """The lower triangle of x's last two dims (selected: zeros elsewhere)."""
    if isinstance(x, Tensor):
        return _op("tril")(x, diagonal)
    return np.tril(x, diagonal)


def triu(x, diagonal: int):
    """The upper triangle of x's last two dims (selected: zeros elsewhere)."""
    if isinstance(x, Tensor):
        return _op("triu")(x, diagonal)
    return np.triu(x, diagonal)


def repeat_backward(grad, repeats: tuple, shape: tuple):
    """The gradient of `x.repeat(repeats)` for x of `shape`: the tiled copies summed."""
    padded = (1,) * (len(repeats) - len(shape)) + tuple(shape)
    interleaved = tuple(value for pair in zip(repeats, padded) for value in pair)
    copies = tuple(range(0, 2 * len(repeats), 2))
    if isinstance(grad, Tensor):
        return grad.reshape(interleaved).sum(copies).reshape(shape)
    return grad.reshape(interleaved).sum(axis=copies).reshape(shape)


def diagonal(x, offset: int, dim1: int, dim2: int):
    """The diagonal `offset` of x in the (dim1, dim2) planes, as the last dim."""
    if isinstance(x, Tensor):
        return _op("diagonal")(x, offset, dim1, dim2)
    from .shape import _diagonal_view

    return _diagonal_view(x, offset, dim1, dim2)


def i0(x):
    """I0, the modified Bessel function of the first kind of order 0 (NumPy's, or recorded)."""
    if isinstance(x, Tensor):
        return _table.table["i0"].function(x)
    with np.errstate(all="ignore"):  # NumPy's i0 warns from NumPy's own code
        return np.i0(x)


def bessel_i1(x):
    """I1, the derivative of I0, of an array or of a Tensor (recorded as PyTorch's
    SpecialI1Backward0)."""
    from .pointwise.unary import SpecialI1Backward0, _bessel_i1

    if isinstance(x, Tensor):
        return _table.apply(SpecialI1Backward0, x)
    with np.errstate(all="ignore"):
        return _bessel_i1(x)


def diagonal_backward(grad, shape: tuple, offset: int, dim1: int, dim2: int):
    """Zeros of `shape` with `grad` written on the diagonal `offset` of the (dim1, dim2) planes."""
    from .shape import DiagonalBackwardBackward0, _diagonal_view

    if isinstance(grad, Tensor):
        return _table.apply(DiagonalBackwardBackward0, grad, shape=shape, offset=offset, dim1=dim1, dim2=dim2)
    result = np.zeros(shape, dtype=grad.dtype)
    _diagonal_view(result, offset, dim1, dim2)[...] = grad
    return result


def basic_index(x, key: tuple):
    """x[key] for a key of ints, slices and None ending in Ellipsis (a view)."""
    if isinstance(x, Tensor):
        from .shape import basic_view

        return basic_view(x, key)
    return x[key]


def place_at_key(grad, shape: tuple, key: tuple):
    """Zeros of `shape` with `grad` written at the basic `key`."""
    if isinstance(grad, Tensor):
        from .shape import place_at_key as place

        return place(grad, shape, key)
    result = np.zeros(shape, dtype=grad.dtype)
    result[key] = grad
    return result


def narrow(x, dim: int, start: int, length: int):
    """`length` elements of x along `dim` from `start` (a view)."""
    return basic_index(x, (slice(None),) * dim + (slice(start, start + length), Ellipsis))


def select(x, dim: int, index: int):
    """The slice of x at `index` along `dim`, that dim removed (a view)."""
    if isinstance(x, Tensor):
        return _op("select")(x, dim, index)
    return x[(slice(None),) * dim + (index, Ellipsis)]


def cat(tensors, dim: int):
    """The arrays (or Tensors) joined along `dim`."""
    if any(isinstance(x, Tensor) for x in tensors):
        return _op("cat")([_as_tensor(x) for x in tensors], dim)
    return np.concatenate(tensors, axis=dim)


def zeros_of_shape(shape: tuple, like):
    """Zeros of `shape` with the dtype of `like` (a constant: never recorded)."""
    if isinstance(like, Tensor):
        return Tensor._make(np.zeros(shape, dtype=like._data.dtype))
    return np.zeros(shape, dtype=like.dtype)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x))


def index_at(x, key: tuple):
    """x[key] for an advanced key of slices and integer arrays (a copy)."""
    if isinstance(x, Tensor):
        from .index import IndexBackward0

        return _table.apply(IndexBackward0, x, key=key)
    return x[key]


def accumulate_at(values, shape: tuple, key: tuple):
    """Zeros of `shape` with `values` added at the advanced `key` (repeated indices add up)."""
    if isinstance(values, Tensor):
        from .index import accumulate_at as accumulate

        return accumulate(values, shape, key)
    result = np.zeros(shape, dtype=values.dtype)
    np.add.at(result, key, values)
    return result


def zero_at_key(x, basic: tuple, advanced: tuple | None):
    """A copy of x with zeros written at x[basic][advanced] (selected: the rest untouched)."""
    if isinstance(x, Tensor):
        from .index import ZeroAtKeyBackward

        return _table.apply(ZeroAtKeyBackward, x, basic=basic, advanced=advanced)
    result = x.copy()
    target = result[basic]
    if advanced is None:
        target[...] = 0
    else:
        target[advanced] = 0
    return result


def index_select(x, dim: int, index):
    """The slices of x along `dim` at the positions in the vector `index`."""
    if isinstance(x, Tensor):
        from .index import _index_select

        return _index_select(x, dim, index)
    return np.take(x, index, axis=dim)


def index_positions(index) -> np.ndarray:
    """An index vector (a Tensor as index_select saves it, or an array) as a 1-d array."""
    return (index._data if isinstance(index, Tensor) else np.asarray(index)).reshape(-1)


def index_select_backward(grad, shape: tuple, dim: int, index):
    """Zeros of `shape` with the slices of `grad` added along `dim` at `index`."""
    if not shape:  # a scalar's one selected element
        return grad
    dim, index = dim % len(shape), index_positions(index)
    if isinstance(grad, Tensor):
        from .index import IndexAddBackward0

        return _table.apply(IndexAddBackward0, zeros_of_shape(shape, grad), grad, dim=dim, index=index,
                            alpha=1)
    result = np.zeros(shape, dtype=grad.dtype)
    np.add.at(result, (slice(None),) * dim + (index,), grad)
    return result


def index_fill(x, dim: int, index, value):
    """A copy of x with the slices along `dim` at `index` set to `value`."""
    if isinstance(x, Tensor):
        from .index import IndexFillBackward0

        return _table.apply(IndexFillBackward0, x, dim=dim, index=index, value=value)
    result = x.copy()
    result[(slice(None),) * dim + (index,)] = value
    return result


def _element_key(index: np.ndarray, dim: int) -> tuple:
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def gather(x, dim: int, index):
    """x's elements picked along `dim` by `index`."""
    if isinstance(x, Tensor):
        from .index import _gather

        return _gather(x, dim, index)
    return x[_element_key(index, dim)]


def gather_backward(grad, shape: tuple, dim: int, index):
    """Zeros of `shape` with `grad` added at the places `gather` read (repeats add up)."""
    if isinstance(grad, Tensor):
        from .index import ScatterAddBackward0

        return _table.apply(ScatterAddBackward0, zeros_of_shape(shape, grad), grad, dim=dim, index=index)
    result = np.zeros(shape, dtype=grad.dtype)
    np.add.at(result, _element_key(index, dim), grad)
    return result


def scatter_fill(x, dim: int, index, value):
    """A copy of x with `value` written at the places `gather(x, dim, index)` reads."""
    if isinstance(x, Tensor):
        from .index import ScatterBackward1

        return _table.apply(ScatterBackward1, x, dim=dim, index=index, value=value)
    result = x.copy()
    result[_element_key(index, dim)] = value
    return result


def masked_select(x, mask):
    """x's elements where the bool array `mask` (broadcast with x) is True, as a vector."""
    if isinstance(x, Tensor):
        from .index import MaskedSelectBackward0

        return _table.apply(MaskedSelectBackward0, x, mask=mask)
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


def masked_select_backward(grad, mask, shape: tuple):
    """Zeros of the shape of `mask` broadcast with `shape`, with `grad`'s elements written, in
    order, where `mask` is True."""
    mask = index_array(mask)  # (the tensor masked_select saves, with create_graph)
    shape = np.broadcast_shapes(tuple(shape), mask.shape)
    mask = np.broadcast_to(mask, shape)
    if isinstance(grad, Tensor):
        from .index import MaskedScatterBackward0

        return _table.apply(MaskedScatterBackward0, zeros_of_shape(shape, grad), grad, mask=mask)
    result = np.zeros(grad.shape[:-1] + shape, dtype=grad.dtype)  # batched grads lead
    result[..., mask] = grad
    return result


def unsqueeze(x, dim: int):
    """x with a size-1 dim inserted at `dim`."""
    if isinstance(x, Tensor):
        return _op("unsqueeze")(x, dim)
    return np.expand_dims(x, dim)


def stack(tensors, dim: int):
    """The arrays (or Tensors) of one shape joined along a new dim `dim`."""
    if any(isinstance(x, Tensor) for x in tensors):
        return _op("stack")([_as_tensor(x) for x in tensors], dim)
    return np.stack(tensors, axis=dim)


# reductions
#
# Summing over dims, spreading a reduced gradient back over them, and sending a gradient
# to the positions an op picked along a dim. `dim` is always a tuple of non-negative dims
# here (or an int for the along-one-dim helpers), as the reduction ops normalise it.


def _table_function(name: str):
    return _table.table[name].function


def _reduce_ops():
    from . import reduce

    return reduce


def abs(x):
    """|x|."""
    if isinstance(x, Tensor):
        return _table_function("abs")(x)
    return np.abs(x)


def sum_dims(x, dim, keepdim: bool = False):
    """The sum of x over `dim` (an int or a tuple; x itself when the tuple is empty)."""
    if dim == ():
        return x
    if isinstance(x, Tensor):
        return _table_function("sum")(x, dim, keepdim)
    return np.add.reduce(x, axis=dim, keepdims=keepdim)  # (np.sum's own call, less Python)


def expand_reduced(grad, shape: tuple, dim: tuple, keepdim: bool):
    """The gradient of a reduction over `dim` of a tensor of `shape`, spread back over it."""
    if not keepdim and dim:
        grad = reshape(grad, tuple(1 if index in dim else size for index, size in enumerate(shape)))
    if isinstance(grad, Tensor):
        return grad.expand(shape) if grad.shape != shape else grad
    return _spread(grad, shape)


def unsqueeze_reduced(value, shape: tuple, dim: tuple, keepdim: bool):
    """A reduction's result with the reduced dims of `shape` back as size 1 (for broadcasting)."""
    if keepdim or not dim:
        return value
    return reshape(value, tuple(1 if index in dim else size for index, size in enumerate(shape)))


def count_along(mask, dim: tuple, like):
    """How many elements of the bool `mask` are true over `dim` (kept), in `like`'s dtype."""
    if isinstance(mask, Tensor):
        return _table_function("sum")(mask, dim, True).to(like.dtype)
    return np.sum(mask, axis=dim, keepdims=True, dtype=like.dtype)


def take_along(x, indices, dim: int):
    """The elements of x at `indices` (an int64 array, or the int64 Tensor of an op's indices
    output, as tangent formulas read it) along `dim`."""
    if isinstance(indices, Tensor):
        indices = indices._data
    if isinstance(x, Tensor):
        return _table.apply(_reduce_ops().GatherBackward0, x, dim=dim, indices=indices)
    return np.take_along_axis(x, indices, axis=dim)


def scatter_along(source, indices, dim: int, shape: tuple, unique: bool = False):
    """Zeros of `shape` with `source` added at `indices` (an int64 array) along `dim`.

    Only the picked positions receive anything, so a NaN in `source` stays there. With
    `unique` (no index repeats along the dim) the values are put rather than added.
    """
    if isinstance(source, Tensor):
        return _table.apply(_reduce_ops().ScatterAddBackward0, source, dim=dim, indices=indices, shape=shape)
    result = np.zeros(shape, dtype=source.dtype)
    if unique:
        np.put_along_axis(result, indices, source, axis=dim)
    else:
        np.add.at(result, _reduce_ops()._index_along(indices, dim), source)
    return result


def cumsum(x, dim: int):
    """The running sum along `dim`."""
    if isinstance(x, Tensor):
        return _table_function("cumsum")(x, dim)
    return np.cumsum(x, axis=dim)


def reversed_cumsum(x, dim: int):
    """The running sum from the end of `dim` (the backward of cumsum)."""
    if isinstance(x, Tensor):
        return _table.apply(_reduce_ops().ReversedCumsumBackward0, x, dim=dim)
    return np.flip(np.cumsum(np.flip(x, axis=dim), axis=dim), axis=dim)


def expand_to(x, shape: tuple):
    """x broadcast to `shape` (for an array: see _spread)."""
    if isinstance(x, Tensor):
        return x.expand(shape) if x.shape != shape else x
    return _spread(x, shape)


def index_array(indices) -> np.ndarray:
    """Saved indices (an array, or the indices output of a selecting op) as an int64 array."""
    return indices._data if isinstance(indices, Tensor) else indices


def records(x) -> bool:
    """Whether x is a Tensor (a formula running with create_graph), not an array."""
    return isinstance(x, Tensor)


def count_zeros(x) -> int:
    """How many elements of x are 0 (a number, read from the values)."""
    data = x._data if isinstance(x, Tensor) else x
    return data.size - int(np.count_nonzero(data))


def prod_of_others(x, dim: int):
    """For each element, the product of the other elements along `dim` (exact with zeros)."""
    if isinstance(x, Tensor):
        return _reduce_ops().prod_of_others(x, dim)
    return _reduce_ops()._prod_of_others_array(x, dim)
# nn
# ---------------------------------------------------------------------------
# What the formulas of ops/nn/ call (see Note [One formula, two modes]). The `*_backward`
# functions are the backward ops of the piecewise-linear activations, as PyTorch names them
# (threshold_backward, hardtanh_backward, ...): a NumPy select on arrays; on Tensors a
# recorded op (ops/nn/activation.py) whose own derivative by `self` is zero, so double
# backward through relu & co. gives zeros, as PyTorch's does.


def _nn_tensors(first, second) -> bool:
    return isinstance(first, Tensor) or isinstance(second, Tensor)


_SAME_SIZE_INTEGERS = {2: np.int16, 4: np.int32, 8: np.int64}


def keep_where(mask, values):
    """`values` where `mask` holds, else 0: a selection, so NaN or Inf elsewhere never leaks.

    On float arrays of the mask's shape it ANDs the bits with the mask (all ones or all
    zeros), which vectorises; np.where with a mixed mask is some 40 times slower.
    """
    if isinstance(values, Tensor) or isinstance(mask, Tensor):
        return where(mask, values, 0.0)
    if _selectable_by_bits(mask, values):
        return _select_bits(mask, values, keep_true=True)
    return np.where(mask, values, 0)


def zero_where(mask, values):
    """`values` where `mask` does not hold, else 0: `keep_where(~mask, values)` without the
    pass that inverts the mask (relu's backward selects by `result <= 0`)."""
    if isinstance(values, Tensor) or isinstance(mask, Tensor):
        return where(mask, 0.0, values)
    if _selectable_by_bits(mask, values):
        return _select_bits(mask, values, keep_true=False)
    return np.where(mask, 0, values)


def _selectable_by_bits(mask, values) -> bool:
    return (type(values) is np.ndarray and type(mask) is np.ndarray and values.dtype.kind == "f"
            and values.shape == mask.shape)


_INT8_ONE = np.int8(1)


def _select_bits(mask, values, keep_true: bool):
    """The float array `values` ANDed with all-ones where it is kept, all-zeros elsewhere; the
    bool mask, read as 0/1 bytes, becomes -1/0 (negated, keeping where true) or 0/-1 (less one,
    keeping where false), which the AND widens to the values' width as it goes (a byte array a
    quarter or an eighth of an integer copy of the mask)."""
    integer = _SAME_SIZE_INTEGERS[values.dtype.itemsize]
    flags = mask.view(np.int8)
    kept = np.negative(flags) if keep_true else np.subtract(flags, _INT8_ONE)
    return np.bitwise_and(values.view(integer), kept).view(values.dtype)


def mask_like(mask, like):
    """A bool mask as a constant of `like`'s kind and dtype, to multiply a finite local
    derivative by (never the incoming gradient: that is what `keep_where` is for). Where PyTorch
    writes a second derivative as a product with a mask, this reproduces it (inf * 0 = NaN)."""
    if isinstance(like, Tensor):
        mask = mask._data if isinstance(mask, Tensor) else mask
        return Tensor._make(np.asarray(mask, dtype=like._data.dtype))
    return mask


def choose(mask, input, other):
    """`input` where `mask` holds, else `other` (both selected: NaN in the other branch
    stays out); on arrays the sum of two bit selections, see `keep_where`."""
    if isinstance(input, Tensor) or isinstance(other, Tensor) or isinstance(mask, Tensor):
        return where(mask, input, other)
    return keep_where(mask, input) + zero_where(mask, other)


_NN_OPS: dict = {}  # name -> the nn backward op (a layer above, imported once)


def _nn_op(name: str):
    op = _NN_OPS.get(name)
    if op is None:
        from .nn import _backward_ops

        op = _NN_OPS[name] = getattr(_backward_ops, name)
    return op


def threshold_backward(grad, self, threshold):
    """0 where self <= threshold, else grad (relu's derivative with threshold 0): a NaN input
    passes the gradient, as in PyTorch (its forward kept the NaN)."""
    if _nn_tensors(grad, self):
        return _nn_op("threshold_backward")(grad, self, threshold)
    return zero_where(self <= threshold, grad)


def hardtanh_backward(grad, self, min_val, max_val):
    """grad where min_val < self < max_val, else 0."""
    if _nn_tensors(grad, self):
        return _nn_op("hardtanh_backward")(grad, self, min_val, max_val)
    return keep_where((self > min_val) & (self < max_val), grad)


def leaky_relu_backward(grad, self, negative_slope):
    """grad where self > 0, else grad * negative_slope."""
    if _nn_tensors(grad, self):
        return _nn_op("leaky_relu_backward")(grad, self, negative_slope)
    return choose(self > 0, grad, grad * negative_slope)


def softshrink_backward(grad, self, lambd):
    """grad where |self| > lambd, else 0."""
    if _nn_tensors(grad, self):
        return _nn_op("softshrink_backward")(grad, self, lambd)
    return keep_where(np.abs(self) > lambd, grad)


def hardshrink_backward(grad, self, lambd):
    """grad where |self| > lambd, else 0."""
    if _nn_tensors(grad, self):
        return _nn_op("hardshrink_backward")(grad, self, lambd)
    return keep_where(np.abs(self) > lambd, grad)


def hardswish_backward(grad, self):
    """0 where self <= -3, grad * (self / 3 + 0.5) where self < 3, else grad (NaN: grad)."""
    if _nn_tensors(grad, self):
        return _nn_op("hardswish_backward")(grad, self)
    return zero_where(self <= -3, choose(self < 3, grad * (self / 3 + 0.5), grad))


def elu_backward(grad, self, alpha, scale, input_scale):
    """elu's derivative by its input, PyTorch's elu_backward: grad * input_scale * alpha *
    scale * exp(self * input_scale) where self <= 0, else grad * scale (so at +inf and NaN,
    grad * scale: selected, the exponential of the other branch never meets it)."""
    if _nn_tensors(grad, self):
        return _nn_op("elu_backward")(grad, self, alpha, scale, input_scale)
    slope = np.exp(np.minimum(self, 0) * input_scale)
    return choose(self <= 0, grad * input_scale * (alpha * scale) * slope, grad * scale)


# Note [The number one of a float dtype]
#     `1 - array` hands NumPy a Python int, which it converts to the array's dtype at every call
#     (about a thousand instructions, as much as the subtraction of an LSTM gate's 400
#     values); the same one as a NumPy scalar of that dtype gives the same bits without the
#     conversion. sigmoid and the backward of sigmoid and tanh, which an LSTM runs at every
#     step, take theirs here (`ONES.get(array.dtype, 1)`: another dtype keeps the Python int).
ONES = {np.dtype(np.float32): np.float32(1), np.dtype(np.float64): np.float64(1)}


def sigmoid_backward(grad, result):
    """sigmoid's derivative from its result, PyTorch's sigmoid_backward: grad * (1 - result) * result."""
    if _nn_tensors(grad, result):
        return _nn_op("sigmoid_backward")(grad, result)
    return grad * (ONES.get(result.dtype, 1) - result) * result  # Note [The number one of a float dtype]


def tanh_backward(grad, result):
    """tanh's derivative from its result, PyTorch's tanh_backward: grad * (1 - result^2) (one
    node, TanhBackwardBackward0, when recorded)."""
    if _nn_tensors(grad, result):
        return _nn_op("tanh_backward")(grad, result)
    return grad * (ONES.get(result.dtype, 1) - result * result)  # Note [The number one of a float dtype]


absolute = _either(np.abs, "abs")
tanh = _either(np.tanh, "tanh")
log1p = _either(np.log1p, "log1p")


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow on arrays."""
    if isinstance(x, Tensor):
        return _table.table["sigmoid"].function(x)
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))


def softplus(x):
    """log(1 + exp(x)), without overflow."""
    if isinstance(x, Tensor):
        return _table.table["softplus"].function(x)
    return np.logaddexp(0, x)


def erf(x):
    """The error function."""
    if isinstance(x, Tensor):
        return _table.table["erf"].function(x)
    from .pointwise import _erf_and_erfc

    return _erf_and_erfc(x)[0].astype(x.dtype, copy=False)


def clamp_min(x, min):
    """max(x, min) elementwise (the gradient passes where x >= min)."""
    if isinstance(x, Tensor):
        from .pointwise import clamp_min as clamp_min_op

        return clamp_min_op(x, min)
    return np.maximum(x, min)


def numel(x) -> int:
    """The number of elements."""
    return x.numel() if isinstance(x, Tensor) else x.size


def constant(array, like):
    """A constant array in `like`'s dtype: an ndarray next to arrays, an untracked Tensor next
    to a Tensor (a mask or weight in a formula)."""
    if isinstance(like, Tensor):
        return Tensor._make(np.asarray(array, dtype=like._data.dtype))
    return np.asarray(array, dtype=like.dtype)


def nll_loss_backward(grad, self_shape, target, target_weight, ignore, axis, reduction):
    """The gradient of nll_loss: -grad * weight of each target (/ total weight for 'mean') put
    at the target's position along `axis`, zeros elsewhere; ignored targets get 0 (selected,
    so NaN upstream does not reach them), and 0 when all are ignored (as PyTorch)."""
    if reduction == "mean":
        total = np.add.reduce(target_weight, axis=None)
        target_weight = target_weight / total if total != 0 else np.zeros_like(target_weight)
    if isinstance(grad, Tensor):
        from .nn._maps import scatter_add_along

        values = where(ignore, 0.0, grad * constant(-target_weight, grad))
        if values.shape != target_weight.shape:
            values = values.expand(target_weight.shape)
        return scatter_add_along(values.reshape(target.shape), axis, target, self_shape[axis])
    values = grad * -target_weight
    if ignore is not None and np.logical_or.reduce(ignore, axis=None):
        values = np.where(ignore, 0, values)
    result = np.zeros(self_shape, dtype=values.dtype)
    result[_reduce_ops()._index_along(target, axis)] = values.reshape(target.shape)  # (with the class axis)
    return result
