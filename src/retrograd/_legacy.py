"""PyTorch's legacy tensor constructors: `retrograd.Tensor(...)`, `FloatTensor`, `LongTensor`, ...

Old programs (and many tutorials) still make tensors this way:

    torch.Tensor([1, 2])        a float tensor of the default dtype (never int64)
    torch.Tensor(2, 3)          a 2x3 float tensor (uninitialised in PyTorch; zeros here)
    torch.Tensor(other)         `other` itself under a new name (shares memory, keeps dtype)
    torch.LongTensor([1.7, 2])  a tensor of that fixed dtype: tensor([1, 2])
    torch.FloatTensor(3)        a 3-element float32 tensor

and test the dtype with `isinstance(t, torch.FloatTensor)`, which holds exactly when t is a
tensor of that dtype. `t.type()` names that type (`'retrograd.FloatTensor'`), and
`t.type(torch.LongTensor)` / `t.type('torch.LongTensor')` converts.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _dtype
from ._creation import _as_array, _check_device, _float_dtype, _new
from ._tensor import Size, Tensor, new_version_counter
from .autograd.graph import own_counter

__all__ = [
    "BoolTensor",
    "ByteTensor",
    "CharTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "range",
    "set_default_tensor_type",
    "typename",
]


def _is_size(args: tuple) -> bool:
    """`Tensor(2, 3)` or `Tensor(Size([2, 3]))`: the arguments give a shape, not data."""
    if len(args) == 1 and isinstance(args[0], Size):
        return True
    return bool(args) and all(
        isinstance(arg, numbers.Integral) and not isinstance(arg, bool | np.bool_) for arg in args
    )


def fill_legacy(target: Tensor, args: tuple, dtype: _dtype.dtype, fixed: bool) -> None:
    """Set up `target` (a bare Tensor) from a legacy constructor's positional arguments.

    `dtype` is the constructor's dtype (the default dtype for `Tensor`); `fixed` says whether
    a tensor argument must already have it (`FloatTensor(t)`) or keeps its own (`Tensor(t)`).
    """
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if fixed and other.dtype is not dtype:
            raise TypeError(
                f"expected {_dtype.tensor_type_name(dtype)} (got {_dtype.tensor_type_name(other.dtype)})"
            )
        target._setup(other._data, None, 0, own_counter(other))
        return
    if not args:
        array = np.zeros((0,), dtype.numpy)
    elif _is_size(args):
        shape = tuple(args[0]) if isinstance(args[0], Size) else tuple(int(arg) for arg in args)
        for size in shape:
            if size < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {list(shape)}")
        array = np.zeros(shape, dtype.numpy)
    elif len(args) == 1:
        data = args[0]
        if isinstance(data, str | bytes):
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        array = _as_array(data, dtype)
    else:
        raise TypeError(
            "new() received an invalid combination of arguments: expected (), (tuple of ints "
            "size), (Tensor other) or (object data)"
        )
    target._setup(array, None, 0, new_version_counter())


class _LegacyTensorType(type):
    """The metaclass of `FloatTensor` & co.: calling one makes a tensor of its dtype, and
    `isinstance(t, FloatTensor)` asks whether `t` is a float32 tensor."""

    _dtype: _dtype.dtype

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.dtype is cls._dtype

    def __subclasscheck__(cls, subclass) -> bool:
        return subclass is cls

    def __call__(cls, *args, device=None):
        _check_device(device)
        result = Tensor.__new__(Tensor)
        fill_legacy(result, args, cls._dtype, fixed=True)
        return result

    def __repr__(cls) -> str:
        return f"<class 'retrograd.{cls.__name__}'>"

    @property
    def dtype(cls) -> _dtype.dtype:
        return cls._dtype

    @property
    def is_cuda(cls) -> bool:
        return False


def _legacy_type(name: str, dtype: _dtype.dtype) -> type:
    return _LegacyTensorType(
        name, (), {"_dtype": dtype, "__module__": "retrograd", "__doc__": f"Tensors of {dtype!r}."}
    )


FloatTensor = _legacy_type("FloatTensor", _dtype.float32)
DoubleTensor = _legacy_type("DoubleTensor", _dtype.float64)
HalfTensor = _legacy_type("HalfTensor", _dtype.float16)
ByteTensor = _legacy_type("ByteTensor", _dtype.uint8)
CharTensor = _legacy_type("CharTensor", _dtype.int8)
ShortTensor = _legacy_type("ShortTensor", _dtype.int16)
IntTensor = _legacy_type("IntTensor", _dtype.int32)
LongTensor = _legacy_type("LongTensor", _dtype.int64)
BoolTensor = _legacy_type("BoolTensor", _dtype.bool)

_BY_NAME = {cls.__name__: cls for cls in (
    FloatTensor, DoubleTensor, HalfTensor, ByteTensor, CharTensor, ShortTensor, IntTensor,
    LongTensor, BoolTensor,
)}


def _resolve_type(target) -> _dtype.dtype:
    if isinstance(target, _dtype.dtype):
        return target
    if isinstance(target, _LegacyTensorType):
        return target._dtype
    if isinstance(target, str):
        module, _, name = target.rpartition(".")
        if module in ("torch", "retrograd") and name in _BY_NAME:
            return _BY_NAME[name]._dtype
        raise ValueError(f"invalid type: '{target}'")
    raise TypeError(f"type() expected a dtype, a tensor type or its name, got {type(target).__name__}")


def tensor_type(self: Tensor, dtype=None, non_blocking: bool = False, **kwargs):
    """The name of this tensor's type (`'retrograd.FloatTensor'`) or, given a dtype, a
    tensor type or its name, the tensor converted to it."""
    if dtype is None:
        return _dtype.tensor_type_name(self.dtype)
    return self.to(_resolve_type(dtype))


# Attached by the op table (ops/__init__.py): see Note [Where Tensor methods come from].
TENSOR_METHODS = {"type": tensor_type}


def typename(obj) -> str:
    """The type of `obj` as a string: `'retrograd.FloatTensor'` for a tensor, else the
    qualified class name (`'retrograd.nn.modules.linear.Linear'`, `'int'`)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return name if module in ("builtins", "__builtin__", None) else f"{module}.{name}"


def set_default_tensor_type(t) -> None:
    """Deprecated: set the default dtype from a tensor type (`retrograd.DoubleTensor`) or its name."""
    import warnings

    warnings.warn(
        "retrograd.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "retrograd.set_default_dtype() and retrograd.set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    dtype = _resolve_type(t)
    _dtype.set_default_dtype(dtype)



def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False):
    """Deprecated: values from start to end *inclusive*, spaced by step (use arange)."""
    import warnings

    warnings.warn(
        "retrograd.range is deprecated and will be removed in a future release because its behavior "
        "is inconsistent with Python's range builtin. Instead, use retrograd.arange, which produces "
        "values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    count = int(np.floor((float(end) - float(start)) / float(step))) + 1
    values = float(start) + np.arange(max(count, 0)) * float(step)
    return _new(values.astype(_float_dtype(dtype).numpy), requires_grad)
