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
