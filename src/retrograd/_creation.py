"""Making tensors: from data, filled, ranges and random numbers, with PyTorch's dtype rules."""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from . import _device, _dtype, _storage
from . import random as _random
from ._dtype import dtype as _DType
from ._tensor import ORIGIN_NUMPY, Size, Tensor
from ._vmap_state import draws_per_example
from .random import (  # noqa: F401  (re-exported: the generator API lives in random/)
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = [
    "Generator",
    "arange",
    "as_tensor",
    "default_generator",
    "empty",
    "empty_like",
    "eye",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "initial_seed",
    "linspace",
    "manual_seed",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "seed",
    "tensor",
    "zeros",
    "zeros_like",
]


def _resolve_dtype(dtype) -> _DType | None:
    if dtype is None or isinstance(dtype, _DType):
        return dtype
    if dtype is float:
        return _dtype.float64
    if dtype is int:
        return _dtype.int64
    if dtype is bool:
        return _dtype.bool
    if isinstance(dtype, str):  # PyTorch takes dtype objects only ("float32" is refused)
        raise TypeError(f"argument 'dtype' must be retrograd.dtype, not {type(dtype).__name__}")
    try:
        return _dtype.from_numpy_dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a retrograd dtype, got {dtype!r}") from None


def _infer_python_dtype(array: np.ndarray) -> _DType:
    """The dtype PyTorch gives Python data: floats -> default dtype, ints -> int64."""
    kind = array.dtype.kind
    if kind == "f":
        return _dtype.get_default_dtype()
    if kind in "iu":
        return _dtype.int64
    if kind == "b":
        return _dtype.bool
    raise TypeError(f"Could not infer dtype of {array.dtype}")


def _unwrap_tensors(data):
    """Nested lists may hold tensors (one element each, as PyTorch accepts)."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, list | tuple):
        return [_unwrap_tensors(item) for item in data]
    return data


_INT64_LIMIT = 2 ** 63


def _as_array(data, dtype: _DType | None) -> np.ndarray:
    """A fresh array holding `data`, with PyTorch's dtype inference when `dtype` is None."""
    if type(data) is float and (dtype is None or dtype.is_floating_point):  # the common scalar, directly
        return np.array(data, dtype=(dtype or _dtype.get_default_dtype()).numpy)
    if type(data) is int and dtype is None and -_INT64_LIMIT <= data < _INT64_LIMIT:
        return np.array(data, dtype=np.int64)
    if isinstance(data, Tensor):
        array = np.array(data._data, copy=True)
        return array if dtype is None else array.astype(dtype.numpy)
    if isinstance(data, np.ndarray | np.generic):
        array = np.array(data, copy=True)
        inferred = _dtype.from_numpy_dtype(array.dtype)
    else:
        if isinstance(data, str | bytes) or not (
            isinstance(data, numbers.Number | list | tuple | bool)
        ):
            raise TypeError(
                f"Could not infer dtype of {type(data).__name__}"
                if not isinstance(data, list | tuple)
                else "tensor data must be numbers or (nested) sequences of numbers"
            )
        try:
            array = np.array(_unwrap_tensors(data))
        except ValueError as error:
            raise ValueError(f"expected a rectangular sequence of numbers: {error}") from None
        if array.dtype == object or array.dtype.kind == "u":
            array = _beyond_int64(array, dtype)
        inferred = _infer_python_dtype(array) if array.size or array.dtype.kind != "f" else None
        if inferred is None:
            inferred = _dtype.get_default_dtype()
        target = dtype or inferred
        if target.numpy.kind in "iu" and array.dtype.kind in "iuf" and array.size:
            check_convertible(array, target)
    target = dtype or inferred
    if array.dtype != target.numpy:
        array = array.astype(target.numpy)
    return array


def _beyond_int64(array: np.ndarray, dtype: _DType | None) -> np.ndarray:
    """Python integers NumPy could not hold as int64 (uint64 or object arrays): a float dtype
    takes them, any other is PyTorch's overflow error."""
    if array.dtype == object and not all(
        isinstance(item, numbers.Number) and not isinstance(item, complex) for item in array.flat
    ):
        raise TypeError("tensor data must be numbers or (nested) sequences of numbers")
    if dtype is not None and dtype.is_floating_point:
        return array.astype(dtype.numpy)
    raise ValueError("Overflow when unpacking long long")


def check_convertible(values, target: _DType) -> None:
    """PyTorch's check that numbers given in Python (tensor data, a fill value) fit an integer
    dtype: RuntimeError for NaN, inf and values out of range (an unsigned dtype also takes
    negative values down to -max, which wrap, as PyTorch's two's-complement rule allows)."""
    info = np.iinfo(target.numpy)
    low = -info.max if info.min == 0 else info.min
    array = np.asarray(values)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")
        array = np.trunc(array)
    if array.size and (array.min() < low or array.max() > info.max):
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def _new(array: np.ndarray, requires_grad: bool) -> Tensor:
    result = Tensor._make(array)
    result._origin = None  # made by the user, whatever the grad mode (Note [Tensor origins])
    if requires_grad:
        result.requires_grad_(True)
    return result


def tensor(data, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False):
    """A new leaf tensor holding a copy of `data` (numbers, nested lists, arrays)."""
    _check_device(device)
    if isinstance(data, Tensor):
        import warnings

        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "retrograd.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    result = _new(_as_array(data, _resolve_dtype(dtype)), requires_grad)
    if isinstance(data, np.ndarray):
        result._origin = ORIGIN_NUMPY
    return result


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """`data` as a tensor, sharing memory with a tensor or an array where possible."""
    _check_device(device)
    dtype = _resolve_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype.numpy):
        _dtype.from_numpy_dtype(data.dtype)
        result = Tensor._make(_storage.own_span(data))
        result._origin = ORIGIN_NUMPY
        return result
    result = _new(_as_array(data, dtype), False)
    if isinstance(data, np.ndarray):
        result._origin = ORIGIN_NUMPY
    return result


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with the NumPy array `array` (a write to one shows in the other).

    As PyTorch: arrays with negative strides or non-native byte order are refused
    (ValueError; copy them first), and a read-only array gives a warning.

    >>> import numpy as np, retrograd
    >>> array = np.zeros(2)
    >>> x = retrograd.from_numpy(array)
    >>> array[0] = 5.0
    >>> x
    tensor([5., 0.], dtype=retrograd.float64)
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {_type_name(array)})")
    _check_shareable(array)
    result = Tensor._make(_storage.own_span(array))
    result._origin = ORIGIN_NUMPY
    return result


def _type_name(value) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _check_shareable(array: np.ndarray) -> None:
    """The checks PyTorch makes before it shares an array's memory."""
    if not array.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. Conversion "
            "between byte orders is currently not supported."
        )
    _dtype.from_numpy_dtype(array.dtype)
    if any(step < 0 for step in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array with array.copy().)"
        )
    if not array.flags.writeable:
        import warnings

        warnings.warn(
            "The given NumPy array is not writable; the tensor shares its memory, so in-place "
            "operations on the tensor will fail. Copy the array (array.copy()) or make it "
            "writable before converting it to a tensor.",
            UserWarning,
            stacklevel=3,
        )


class _LegacyCapsule:
    """Lets NumPy read a bare DLPack capsule (what `to_dlpack` returns) through the protocol.

    An unversioned capsule cannot say whether its memory may be written, so NumPy marks the
    array read-only; PyTorch treats such memory as writable, and so does `writable`.
    """

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)

    @staticmethod
    def writable(array: np.ndarray) -> np.ndarray:
        """A writable array on the memory of the read-only `array` (which it keeps alive)."""

        class _Memory:
            def __init__(self):
                interface = dict(array.__array_interface__)
                interface["data"] = (interface["data"][0], False)
                self.__array_interface__ = interface
                self.owner = array

        return np.asarray(_Memory())


# DLPack device types whose memory the CPU reads: CPU, CUDA pinned host memory, ROCm host memory.
_DLPACK_HOST_MEMORY = (1, 3, 11)


def from_dlpack(ext_tensor, *, device=None, copy: bool | None = None) -> Tensor:
    """A tensor sharing memory with any array that speaks DLPack (PyTorch, NumPy, JAX, ...).

    `ext_tensor` is an object with `__dlpack__`, or a DLPack capsule. The data stays where it
    is (no copy) unless `copy=True`. Only CPU memory can be read.

    >>> import numpy as np, retrograd
    >>> retrograd.from_dlpack(np.arange(3))
    tensor([0, 1, 2])
    """
    _device.check_device(device)
    legacy = type(ext_tensor).__name__ == "PyCapsule"
    if legacy:
        ext_tensor = _LegacyCapsule(ext_tensor)
    elif not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(
            f"from_dlpack expects an object with __dlpack__ or a DLPack capsule, got {_type_name(ext_tensor)}"
        )
    if hasattr(ext_tensor, "__dlpack_device__"):
        kind = int(ext_tensor.__dlpack_device__()[0])
        if kind not in _DLPACK_HOST_MEMORY:
            raise _device.NoDeviceError(
                f"from_dlpack received a tensor in device memory (DLPack device type {kind}, not the "
                "CPU); retrograd computes on the CPU with NumPy: move the tensor to the CPU first "
                "(e.g. tensor.cpu())"
            )
    try:
        array = np.from_dlpack(ext_tensor, copy=copy)
    except BufferError as error:
        raise BufferError(f"from_dlpack could not read the tensor: {error}") from None
    except (TypeError, RuntimeError) as error:
        # NumPy cannot hold some DLPack dtypes (bfloat16, complex32, ...).
        raise TypeError(
            f"from_dlpack could not read the tensor: {error} (retrograd holds float16, float32, "
            "float64, int8 to int64, uint8 and bool; convert first, e.g. with tensor.float())"
        ) from None
    _dtype.from_numpy_dtype(array.dtype)
    if legacy and not array.flags.writeable and array.size:
        array = _LegacyCapsule.writable(array)
    return Tensor._make(array)


def _check_device(device) -> None:
    """Refuse any device but the CPU, with the message that says this build computes on the CPU."""
    _device.check_device(device)


def _size(size) -> tuple[int, ...]:
    """Sizes given as `f(2, 3)`, `f((2, 3))` or `f([2, 3])`."""
    if len(size) == 1 and isinstance(size[0], list | tuple | Size):
        size = tuple(size[0])
    for dim in size:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral | Tensor):
            raise TypeError(
                f"size must be a tuple of ints, but got an element of type {type(dim).__name__}"
            )
    size = tuple(int(dim) for dim in size)
    for dim in size:
        if dim < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {dim}: {list(size)}")
    if math.prod(size) * 8 >= 2**63:  # PyTorch's check of the byte count (here for 8-byte elements)
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)}")
    return size


def _float_dtype(dtype) -> _DType:
    return _resolve_dtype(dtype) or _dtype.get_default_dtype()


# PyTorch's argument parser words a missing size of its random factories as a bad overload.
_NO_SIZE = {name: f"{name}() received an invalid combination of arguments - got (), but expected one of: "
                  "(tuple of ints size, ...)" for name in ("rand", "randn")}


def _size_keyword(function, leading: int = 0):
    """Let `function(*size, ...)` also take its shape as `size=` (`randn(size=(2, 3))`);
    `leading` counts the positional arguments before the sizes (1 for `self`)."""
    import functools

    name = function.__name__.lstrip("_")

    @functools.wraps(function)
    def with_size_keyword(*args, **kwargs):
        if "size" in kwargs:
            if len(args) > leading:
                raise TypeError(f"{name}() got multiple values for argument 'size'")
            args = (*args, kwargs.pop("size"))
        elif len(args) == leading:  # no size at all: PyTorch refuses, as a missing argument
            raise TypeError(_NO_SIZE.get(name, f'{name}() missing 1 required positional arguments: "size"'))
        return function(*args, **kwargs)

    return with_size_keyword


def _size_keyword_method(function):
    return _size_keyword(function, leading=1)


def _factory_out(function):
    """PyTorch's `out=` for a creation function: the values are made in `out`'s dtype (unless
    `dtype` says otherwise) and written into it, resized silently (see Note [out= arguments])."""
    import functools

    @functools.wraps(function)
    def with_out(*args, out=None, **kwargs):
        if out is None:
            return function(*args, **kwargs)
        from .ops import _out

        if isinstance(out, Tensor) and kwargs.get("dtype") is None:
            kwargs["dtype"] = out.dtype
        return _out.write(out, function(*args, **kwargs), function.__name__, warn=False)

    return with_out


@_size_keyword
@_factory_out
def zeros(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of the given size filled with 0 (the default dtype unless `dtype` says otherwise).

    >>> import retrograd
    >>> retrograd.zeros(2, 3).shape
    retrograd.Size([2, 3])
    """
    _check_device(device)
    return _new(np.zeros(_size(size), _float_dtype(dtype).numpy), requires_grad)


@_size_keyword
@_factory_out
def ones(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of the given size filled with 1 (the default dtype unless `dtype` says otherwise).

    >>> import retrograd
    >>> retrograd.ones(2)
    tensor([1., 1.])
    """
    _check_device(device)
    return _new(np.ones(_size(size), _float_dtype(dtype).numpy), requires_grad)


@_size_keyword
@_factory_out
def empty(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """Like PyTorch's empty; retrograd fills it with zeros so results are reproducible."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@_factory_out
def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape `size` filled with `fill_value`; its dtype follows the value (float, int or bool).

    >>> import retrograd
    >>> retrograd.full((2,), 7)
    tensor([7, 7])
    """
    _check_device(device)
    if not isinstance(fill_value, numbers.Number | Tensor):
        raise TypeError(
            f"full(): argument 'fill_value' (position 2) must be Number, not {type(fill_value).__name__}"
        )
    dtype = _resolve_dtype(dtype) or _dtype._scalar_dtype(
        fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    )
    if dtype.numpy.kind in "iu" and isinstance(fill_value, int | float) and not isinstance(fill_value, bool):
        check_convertible(fill_value, dtype)
    return _new(np.full(_size((size,)), fill_value, dtype.numpy), requires_grad)


def _like(template: Tensor, dtype, device=None) -> tuple[tuple[int, ...], _DType]:
    _check_device(device)
    if not isinstance(template, Tensor):
        raise TypeError(f"expected a Tensor as input, got {type(template).__name__}")
    return template._data.shape, _resolve_dtype(dtype) or template.dtype


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros with the shape (and, unless `dtype` is given, the dtype) of `input`."""
    shape, dtype = _like(input, dtype, device)
    return _new(np.zeros(shape, dtype.numpy), requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones with the shape (and, unless `dtype` is given, the dtype) of `input`."""
    shape, dtype = _like(input, dtype, device)
    return _new(np.ones(shape, dtype.numpy), requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Like PyTorch's empty_like; retrograd fills it with zeros so results are reproducible."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False):
    """A tensor shaped as `input` (and of its dtype unless `dtype` is given), filled with `fill_value`."""
    shape, dtype = _like(input, dtype, device)
    return _new(np.full(shape, fill_value, dtype.numpy), requires_grad)


@_factory_out
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False):
    """Values from `start` (default 0) up to, not including, `end`, spaced by `step`."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if values[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (values[1] - values[0]) * values[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    inferred = (
        _dtype.get_default_dtype()
        if any(isinstance(v, float | np.floating) for v in values)
        else _dtype.int64
    )
    dtype = _resolve_dtype(dtype) or inferred
    return _new(np.arange(*values).astype(dtype.numpy), requires_grad)


@_factory_out
def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included.

    Computed as PyTorch does, so float32 results are bit-identical: the first half forward
    from start, the second half backward from end, each value one fused multiply-add.

    >>> import retrograd
    >>> retrograd.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    _check_device(device)
    steps = _scalar(steps)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_dtype(dtype)
    values = _linspace_values(_scalar(start), _scalar(end), int(steps), dtype.numpy)
    return _new(values, requires_grad)


def _linspace_values(start, end, steps: int, numpy_dtype: np.dtype) -> np.ndarray:
    numpy_dtype = np.dtype(numpy_dtype)
    if steps <= 1:
        return np.full(steps, start).astype(numpy_dtype)
    if numpy_dtype.kind == "f":
        compute = np.float64 if numpy_dtype == np.float64 else np.float32
        first, last = compute(start), compute(end)
        step = (last - first) / compute(steps - 1)
    else:  # integers step in double from the endpoints converted to the dtype
        compute = np.float64
        first, last = compute(int(start)), compute(int(end))
        step = (last - first) / (steps - 1)
    fused = _random._fma64 if compute is np.float64 else _random._fma32
    halfway = steps // 2
    forward = fused(step, np.arange(halfway).astype(compute), first)
    backward = fused(-step, np.arange(steps - halfway - 1, -1, -1).astype(compute), last)
    return np.concatenate([forward, backward]).astype(compute).astype(numpy_dtype)


@_factory_out
def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False):
    """A 2-d tensor with ones on the diagonal and zeros elsewhere (`n` rows, `m` columns, default `n`).

    >>> import retrograd
    >>> retrograd.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    _check_device(device)
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {min(n, m if m is not None else n)}")
    return _new(np.eye(n, m, dtype=_float_dtype(dtype).numpy), requires_grad)


# ---------------------------------------------------------------------------
# Random numbers: PyTorch's CPU streams, drawn by `random` (see Note [PyTorch's transforms])


@draws_per_example
@_size_keyword
@_factory_out
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    _check_device(device)
    shape = _size(size)
    dtype = _float_dtype(dtype)
    values = _random._uniform(generator, math.prod(shape), dtype.numpy)
    return _new(values.reshape(shape), requires_grad)


@draws_per_example
@_size_keyword
@_factory_out
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal random numbers."""
    _check_device(device)
    shape = _size(size)
    dtype = _float_dtype(dtype)
    values = _random._normal(generator, math.prod(shape), dtype.numpy)
    return _new(values.reshape(shape), requires_grad)


@draws_per_example
@_factory_out
def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Random integers in [low, high)."""
    _check_device(device)
    if size is None:
        if high is None or not isinstance(high, tuple | list | Size):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    low, high = int(_scalar(low)), int(_scalar(high))
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dtype = _resolve_dtype(dtype) or _dtype.int64
    shape = _size((size,))
    values = _random._integers(generator, math.prod(shape), low, high)
    return _new(values.reshape(shape).astype(dtype.numpy), requires_grad)


@_factory_out
def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0, ..., n - 1."""
    _check_device(device)
    n = int(_scalar(n))
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dtype = _resolve_dtype(dtype) or _dtype.int64
    return _new(_random._permutation(generator, n).astype(dtype.numpy), requires_grad)


def _scalar(value):
    return value.item() if isinstance(value, Tensor) else value


@draws_per_example
def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """Uniform random numbers in [0, 1) with the shape (and dtype) of `input`."""
    shape, dtype = _like(input, dtype, device)
    return rand(shape, generator=generator, dtype=dtype, requires_grad=requires_grad)


@draws_per_example
def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """Standard normal random numbers with the shape (and dtype) of `input`."""
    shape, dtype = _like(input, dtype, device)
    return randn(shape, generator=generator, dtype=dtype, requires_grad=requires_grad)


@draws_per_example
def randint_like(input: Tensor, low, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """Random integers in [low, high) with the shape (and dtype) of `input`."""
    shape, dtype = _like(input, dtype, device)
    return randint(low, high, shape, generator=generator, dtype=dtype)


# ---------------------------------------------------------------------------
# Tensor.new_*: new tensors with the dtype of an existing one


def _new_options(self: Tensor, dtype, device, requires_grad: bool) -> _DType:
    _check_device(device)
    return _resolve_dtype(dtype) or self.dtype


def _new_shape(size: tuple, method: str) -> tuple[int, ...]:
    if not size:
        raise TypeError(f"{method}() missing 1 required positional arguments: \"size\"")
    return _size(size)


@_size_keyword_method
def _new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False, layout=None,
               pin_memory: bool = False) -> Tensor:
    """Zeros of shape `size`, with this tensor's dtype unless `dtype` is given."""
    dtype = _new_options(self, dtype, device, requires_grad)
    return _new(np.zeros(_new_shape(size, "new_zeros"), dtype.numpy), requires_grad)


@_size_keyword_method
def _new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False, layout=None,
              pin_memory: bool = False) -> Tensor:
    """Ones of shape `size`, with this tensor's dtype unless `dtype` is given."""
    dtype = _new_options(self, dtype, device, requires_grad)
    return _new(np.ones(_new_shape(size, "new_ones"), dtype.numpy), requires_grad)


@_size_keyword_method
def _new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False, layout=None,
               pin_memory: bool = False) -> Tensor:
    """A tensor of shape `size` (zeros here), with this tensor's dtype unless `dtype` is given."""
    dtype = _new_options(self, dtype, device, requires_grad)
    return _new(np.zeros(_new_shape(size, "new_empty"), dtype.numpy), requires_grad)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
              layout=None, pin_memory: bool = False) -> Tensor:
    """`fill_value` in every element of shape `size`, with this tensor's dtype by default."""
    dtype = _new_options(self, dtype, device, requires_grad)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _new(np.full(_size((size,)), fill_value).astype(dtype.numpy), requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False, layout=None,
                pin_memory: bool = False) -> Tensor:
    """A new leaf holding a copy of `data`, with this tensor's dtype unless `dtype` is given."""
    import warnings

    dtype = _new_options(self, dtype, device, requires_grad)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "tensor.new_tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    return _new(_as_array(data, dtype), requires_grad)


def _allocating(function):
    """`function`, with NumPy's MemoryError for a size beyond memory raised as PyTorch's
    allocator raises it: a RuntimeError."""

    @functools.wraps(function)
    def allocate(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except MemoryError as error:
            raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: {error}") from None

    return allocate


zeros, ones, empty, full = _allocating(zeros), _allocating(ones), _allocating(empty), _allocating(full)
rand, randn, randint = _allocating(rand), _allocating(randn), _allocating(randint)
arange = _allocating(arange)
linspace, eye = _allocating(linspace), _allocating(eye)

# Attached by the op table (ops/__init__.py): see Note [Where Tensor methods come from].
TENSOR_METHODS = {
    "new_zeros": _allocating(_new_zeros),
    "new_ones": _allocating(_new_ones),
    "new_empty": _allocating(_new_empty),
    "new_full": _allocating(_new_full),
    "new_tensor": _new_tensor,
}
