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


def select(mask, values):
    """`values` where `mask` holds, else 0: a selection, so NaN or Inf elsewhere never leaks.

    On float arrays of the mask's shape it ANDs the bits with the mask (all ones or all
    zeros), which vectorises; np.where with a mixed mask is some 40 times slower.
    """
    if isinstance(values, Tensor) or isinstance(mask, Tensor):
        return where(mask, values, 0.0)
    if (type(values) is np.ndarray and type(mask) is np.ndarray and values.dtype.kind == "f"
            and values.shape == mask.shape):
        integer = _SAME_SIZE_INTEGERS[values.dtype.itemsize]
        kept = mask.view(np.int8).astype(integer)
        np.negative(kept, out=kept)
        kept &= values.view(integer)
        return kept.view(values.dtype)
    return np.where(mask, values, 0)


def mask_like(mask, like):
    """A bool mask as a constant of `like`'s kind and dtype, to multiply a finite local
    derivative by (never the incoming gradient: that is what `select` is for). Where PyTorch
    writes a second derivative as a product with a mask, this reproduces it (inf * 0 = NaN)."""
    if isinstance(like, Tensor):
        mask = mask._data if isinstance(mask, Tensor) else mask
        return Tensor._make(np.asarray(mask, dtype=like._data.dtype))
    return mask


def choose(mask, input, other):
    """`input` where `mask` holds, else `other` (both selected: NaN in the other branch
    stays out); on arrays the sum of two bit selections, see `select`."""
    if isinstance(input, Tensor) or isinstance(other, Tensor) or isinstance(mask, Tensor):
        return where(mask, input, other)
    return select(mask, input) + select(~mask, other)


def _nn_op(name: str):
    from .nn import _backward_ops

    return getattr(_backward_ops, name)


def threshold_backward(grad, self, threshold):
    """grad where self > threshold, else 0 (relu's derivative with threshold 0)."""
    if _nn_tensors(grad, self):
        return _nn_op("threshold_backward")(grad, self, threshold)
    return select(self > threshold, grad)


def hardtanh_backward(grad, self, min_val, max_val):
    """grad where min_val < self < max_val, else 0."""
    if _nn_tensors(grad, self):
        return _nn_op("hardtanh_backward")(grad, self, min_val, max_val)
    return select((self > min_val) & (self < max_val), grad)


def leaky_relu_backward(grad, self, negative_slope):
    """grad where self > 0, else grad * negative_slope."""
    if _nn_tensors(grad, self):
        return _nn_op("leaky_relu_backward")(grad, self, negative_slope)
    return choose(self > 0, grad, grad * negative_slope)


def softshrink_backward(grad, self, lambd):
    """grad where |self| > lambd, else 0."""
    if _nn_tensors(grad, self):
        return _nn_op("softshrink_backward")(grad, self, lambd)
    return select(np.abs(self) > lambd, grad)


def hardshrink_backward(grad, self, lambd):
    """grad where |self| > lambd, else 0."""
    if _nn_tensors(grad, self):
        return _nn_op("hardshrink_backward")(grad, self, lambd)
    return select(np.abs(self) > lambd, grad)


absolute = _either(np.abs, "abs")
tanh = _either(np.tanh, "tanh")
log1p = _either(np.log1p, "log1p")


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow on arrays."""
    if isinstance(x, Tensor):
        from ._table import table

        return table["sigmoid"].function(x)
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))


def softplus(x):
    """log(1 + exp(x)), without overflow."""
    if isinstance(x, Tensor):
        from ._table import table

        return table["softplus"].function(x)
    return np.logaddexp(0, x)


def erf(x):
    """The error function."""
    if isinstance(x, Tensor):
        from ._table import table

        return table["erf"].function(x)
    from .pointwise import _erf_and_erfc

    return _erf_and_erfc(x)[0].astype(x.dtype, copy=False)


def clamp_min(x, min):
    """max(x, min) elementwise (the gradient passes where x >= min)."""
    if isinstance(x, Tensor):
        from .pointwise import clamp_min as clamp_min_op

        return clamp_min_op(x, min)
    return np.maximum(x, min)


def sum_dims(x, dim, keepdim: bool = False):
    """The sum over `dim` (an int or a tuple of ints)."""
    if isinstance(x, Tensor):
        return x.sum(dim, keepdim=keepdim)
    return np.sum(x, axis=dim, keepdims=keepdim)


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
        total = target_weight.sum()
        target_weight = target_weight / total if total != 0 else np.zeros_like(target_weight)
    if isinstance(grad, Tensor):
        from .nn._maps import scatter_add_along

        values = where(ignore, 0.0, grad * constant(-target_weight, grad))
        if values.shape != target_weight.shape:
            values = values.expand(target_weight.shape)
        return scatter_add_along(values.reshape(target.shape), axis, target, self_shape[axis])
    values = np.where(ignore, 0, grad * -target_weight)
    result = np.zeros(self_shape, dtype=values.dtype)
    np.put_along_axis(result, target, np.expand_dims(values, axis), axis)
    return result
