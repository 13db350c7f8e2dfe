"""Data types, the default dtype, and PyTorch's type-promotion rules.

A retrograd dtype wraps a NumPy dtype and adds what PyTorch exposes:
`is_floating_point`, `itemsize`, and a repr such as `retrograd.float32`.
"""

from __future__ import annotations

import builtins

import numpy as np

__all__ = [
    "bool",
    "dtype",
    "float16",
    "float32",
    "float64",
    "get_default_dtype",
    "int8",
    "int16",
    "int32",
    "int64",
    "promote_types",
    "result_type",
    "set_default_dtype",
    "uint8",
]

class dtype:
    """A tensor element type, as `retrograd.float32`."""

    __slots__ = ("_category", "is_floating_point", "is_signed", "itemsize", "name", "numpy")

    # Categories order the kinds of numbers for promotion: bool < integer < floating.
    BOOL, INTEGER, FLOATING = 0, 1, 2

    def __init__(self, name: str, numpy_dtype: np.dtype, category: int, is_signed: bool):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.itemsize = self.numpy.itemsize
        self._category = category
        self.is_floating_point = category == dtype.FLOATING
        self.is_signed = is_signed

    @property
    def is_complex(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"retrograd.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


float16 = dtype("float16", np.float16, dtype.FLOATING, True)
float32 = dtype("float32", np.float32, dtype.FLOATING, True)
float64 = dtype("float64", np.float64, dtype.FLOATING, True)
uint8 = dtype("uint8", np.uint8, dtype.INTEGER, False)
int8 = dtype("int8", np.int8, dtype.INTEGER, True)
int16 = dtype("int16", np.int16, dtype.INTEGER, True)
int32 = dtype("int32", np.int32, dtype.INTEGER, True)
int64 = dtype("int64", np.int64, dtype.INTEGER, True)
bool = dtype("bool", np.bool_, dtype.BOOL, False)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

_ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_BY_NUMPY = {d.numpy: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}


_SCALAR_TYPE_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "uint8": "Byte",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "bool": "Bool",
}


def scalar_type_name(d: dtype) -> str:
    """PyTorch's ScalarType name of a dtype ("Float", "Long"), as its messages print it."""
    return _SCALAR_TYPE_NAMES[d.name]


def tensor_type_name(d: dtype) -> str:
    """PyTorch's legacy tensor type name ("retrograd.FloatTensor"), as its messages print it."""
    return f"retrograd.{_SCALAR_TYPE_NAMES[d.name]}Tensor"


def tensor_type_string(d: dtype) -> str:
    """How PyTorch's autograd messages (a changed saved tensor, a hook that changed a
    gradient's type) name a tensor type: the legacy name, except "CPUBoolType" for bool."""
    return "CPUBoolType" if d.name == "bool" else tensor_type_name(d)


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(numpy_dtype) -> dtype:
    """The retrograd dtype of a NumPy dtype; TypeError for types retrograd does not hold."""
    try:
        return _BY_NUMPY[np.dtype(numpy_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(numpy_dtype)}. The only supported types "
            "are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


# ---------------------------------------------------------------------------
# The default dtype (PyTorch's is process-wide, so ours is too)

_default_dtype: dtype | None = None  # None means float32; process-wide, as PyTorch's


def get_default_dtype() -> dtype:
    """The dtype that Python floats become (float32 unless changed).

    >>> import retrograd
    >>> retrograd.get_default_dtype()
    retrograd.float32
    """
    return _default_dtype or float32


def set_default_dtype(d: dtype) -> None:
    """Make `d` (float16, float32 or float64) the dtype of new floating tensors.

    As in PyTorch the setting is process-wide (every thread sees it), and only floating
    dtypes are accepted (TypeError otherwise).
    """
    global _default_dtype
    if not isinstance(d, dtype):
        raise TypeError(
            "invalid dtype object: only floating-point types are supported as the default type"
        )
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_dtype = d


# ---------------------------------------------------------------------------
# Promotion


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both `a` and `b` convert to without leaving their category."""
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    if a._category == dtype.INTEGER and a.is_signed != b.is_signed:
        unsigned, signed = (a, b) if not a.is_signed else (b, a)
        if signed.itemsize > unsigned.itemsize:
            return signed
        return int16 if unsigned.itemsize == 1 else int64
    return a if a.itemsize >= b.itemsize else b


def _scalar_category(value) -> int:
    if isinstance(value, builtins.bool | np.bool_):
        return dtype.BOOL
    if isinstance(value, builtins.float | np.floating):
        return dtype.FLOATING
    return dtype.INTEGER


def _scalar_dtype(value) -> dtype:
    category = _scalar_category(value)
    if category == dtype.FLOATING:
        return get_default_dtype()
    return int64 if category == dtype.INTEGER else bool


def result_type(*operands) -> dtype:
    """The dtype of an operation on `operands` (tensors and Python numbers), as PyTorch rules.

    Dimensioned tensors decide; a 0-dim tensor or a Python number only raises the result
    when it belongs to a higher category (bool < integer < floating), e.g.
    int64 tensor * 2.5 -> float32 and float32 tensor + float64 0-dim tensor -> float32.
    """
    dims = zero_dims = scalars = None
    for operand in operands:
        operand_dtype = getattr(operand, "dtype", None)
        if isinstance(operand_dtype, dtype):
            if operand.ndim:
                dims = operand_dtype if dims is None else promote_types(dims, operand_dtype)
            else:
                zero_dims = (
                    operand_dtype if zero_dims is None else promote_types(zero_dims, operand_dtype)
                )
        else:
            scalar = _scalar_dtype(operand)
            scalars = scalar if scalars is None else promote_types(scalars, scalar)
    result = dims
    for weaker in (zero_dims, scalars):
        if weaker is None:
            continue
        if result is None or weaker._category > result._category:
            result = weaker
    if result is None:
        raise TypeError("result_type needs at least one tensor or number")
    return result
