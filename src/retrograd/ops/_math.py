"""The functions a derivative formula may call, on arrays or on Tensors alike.

See Note [One formula, two modes] (ops/_formula.py): a formula gets NumPy arrays when
backward builds no graph and Tensors when it does (create_graph). Each function here runs
the NumPy kernel on arrays and the recorded op on Tensors, so one formula serves both.
Operators (`+ - * / ** < >` ...) need nothing from here: arrays and Tensors have them.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor

__all__ = [
    "cos", "cosh", "exp", "isfinite", "isnan", "log", "matmul", "rounded_quotient", "rsqrt", "sign", "sin",
    "sinh", "sqrt", "where", "zeros_like",
]


def _either(numpy_function, op_name: str):
    def function(x, *args, **kwargs):
        if isinstance(x, Tensor):
            from ._table import table

            return table[op_name].function(x, *args, **kwargs)
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
matmul = _either(np.matmul, "matmul")
isnan = _either(np.isnan, "isnan")


def rounded_quotient(a, b, rounding_mode: str):
    """a / b rounded toward zero ('trunc') or down ('floor'): its derivative is zero."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from ._table import table

        return table["div"].function(a, b, rounding_mode=rounding_mode)
    from .pointwise import _rounded_quotient

    return _rounded_quotient(a, b, rounding_mode)


def rsqrt(x):
    """1 / sqrt(x)."""
    if isinstance(x, Tensor):
        from ._table import table

        return table["rsqrt"].function(x)
    return 1 / np.sqrt(x)


def sign(x):
    """-1, 0 or 1 by the sign of each element (0 for NaN, as PyTorch)."""
    if isinstance(x, Tensor):
        from ._table import table

        return table["sign"].function(x)
    return np.nan_to_num(np.sign(x), nan=0.0)


def where(condition, input, other):
    """`input` where `condition` holds, else `other`: selects, so NaN elsewhere cannot leak.

    Recorded (on Tensors) as soon as any argument is a Tensor; bool arrays and numbers mix in.
    """
    if isinstance(condition, Tensor) or isinstance(input, Tensor) or isinstance(other, Tensor):
        from ._table import table

        if not isinstance(condition, Tensor):
            condition = Tensor._make(np.asarray(condition, dtype=bool))
        if isinstance(input, np.ndarray):
            input = Tensor._make(input)
        if isinstance(other, np.ndarray):
            other = Tensor._make(other)
        return table["where"].function(condition, input, other)
    return np.where(condition, input, other)


def zeros_like(x):
    """Zeros of x's shape and dtype, never recorded."""
    if isinstance(x, Tensor):
        return Tensor._make(np.zeros_like(x._data))
    return np.zeros_like(x)


# reductions
#
# Summing over dims, spreading a reduced gradient back over them, and sending a gradient
# to the positions an op picked along a dim. `dim` is always a tuple of non-negative dims
# here (or an int for the along-one-dim helpers), as the reduction ops normalise it.


def _table_function(name: str):
    from ._table import table

    return table[name].function


def _reduce_ops():
    from . import reduce

    return reduce


def abs(x):
    """|x|."""
    if isinstance(x, Tensor):
        return _table_function("abs")(x)
    return np.abs(x)


def reshape(x, shape: tuple):
    """x with a new shape (a view where possible)."""
    if isinstance(x, Tensor):
        return _table_function("reshape")(x, shape)
    return np.reshape(x, shape)


def sum_dims(x, dim: tuple, keepdim: bool = False):
    """The sum of x over the dims `dim` (a tuple; x itself when it is empty)."""
    if not dim:
        return x
    if isinstance(x, Tensor):
        return _table_function("sum")(x, dim, keepdim)
    return np.sum(x, axis=dim, keepdims=keepdim)


def expand_reduced(grad, shape: tuple, dim: tuple, keepdim: bool):
    """The gradient of a reduction over `dim` of a tensor of `shape`, spread back over it."""
    if not keepdim and dim:
        grad = reshape(grad, tuple(1 if index in dim else size for index, size in enumerate(shape)))
    if isinstance(grad, Tensor):
        return grad.expand(shape) if grad.shape != shape else grad
    return np.broadcast_to(grad, shape)


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
    """The elements of x at `indices` (an int64 array) along `dim`."""
    if isinstance(x, Tensor):
        from ._table import apply

        return apply(_reduce_ops().GatherBackward0, x, dim=dim, indices=indices)
    return np.take_along_axis(x, indices, axis=dim)


def scatter_along(source, indices, dim: int, shape: tuple, unique: bool = False):
    """Zeros of `shape` with `source` added at `indices` (an int64 array) along `dim`.

    Only the picked positions receive anything, so a NaN in `source` stays there. With
    `unique` (no index repeats along the dim) the values are put rather than added.
    """
    if isinstance(source, Tensor):
        from ._table import apply

        return apply(_reduce_ops().ScatterAddBackward0, source, dim=dim, indices=indices, shape=shape)
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
        from ._table import apply

        return apply(_reduce_ops().ReversedCumsumBackward0, x, dim=dim)
    return np.flip(np.cumsum(np.flip(x, axis=dim), axis=dim), axis=dim)


def expand_to(x, shape: tuple):
    """x broadcast to `shape` (a view)."""
    if isinstance(x, Tensor):
        return x.expand(shape) if x.shape != shape else x
    return np.broadcast_to(x, shape)


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
