"""Making tensors: from data, filled, ranges and random numbers, with PyTorch's dtype rules."""

from __future__ import annotations

import numbers

import numpy as np

from . import _dtype
from ._dtype import dtype as _DType
from ._tensor import Size, Tensor

__all__ = [
    "Generator",
    "arange",
    "as_tensor",
    "default_generator",
    "empty",
    "empty_like",
    "eye",
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


def _as_array(data, dtype: _DType | None) -> np.ndarray:
    """A fresh array holding `data`, with PyTorch's dtype inference when `dtype` is None."""
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
        if array.dtype == object:
            raise TypeError("tensor data must be numbers or (nested) sequences of numbers")
        inferred = _infer_python_dtype(array) if array.size or array.dtype.kind != "f" else None
        if inferred is None:
            inferred = _dtype.get_default_dtype()
    target = dtype or inferred
    if array.dtype != target.numpy:
        array = array.astype(target.numpy)
    return array


def _new(array: np.ndarray, requires_grad: bool) -> Tensor:
    result = Tensor._make(array)
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
    return _new(_as_array(data, _resolve_dtype(dtype)), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """`data` as a tensor, sharing memory with a tensor or an array where possible."""
    _check_device(device)
    dtype = _resolve_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype.numpy):
        _dtype.from_numpy_dtype(data.dtype)
        return Tensor._make(data)
    return _new(_as_array(data, dtype), False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def _check_device(device) -> None:
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        from ._tensor import device as Device

        Device(device)
        raise RuntimeError(
            f"retrograd computes on the CPU with NumPy; device {device!r} is not available"
        )


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
    return size


def _float_dtype(dtype) -> _DType:
    return _resolve_dtype(dtype) or _dtype.get_default_dtype()


def _size_keyword(function, leading: int = 0):
    """Let `function(*size, ...)` also take its shape as `size=` (`randn(size=(2, 3))`);
    `leading` counts the positional arguments before the sizes (1 for `self`)."""
    import functools

    @functools.wraps(function)
    def with_size_keyword(*args, **kwargs):
        if "size" in kwargs:
            if len(args) > leading:
                name = function.__name__.lstrip("_")
                raise TypeError(f"{name}() got multiple values for argument 'size'")
            args = (*args, kwargs.pop("size"))
        return function(*args, **kwargs)

    return with_size_keyword


def _size_keyword_method(function):
    return _size_keyword(function, leading=1)


@_size_keyword
def zeros(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    _check_device(device)
    return _new(np.zeros(_size(size), _float_dtype(dtype).numpy), requires_grad)


@_size_keyword
def ones(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    _check_device(device)
    return _new(np.ones(_size(size), _float_dtype(dtype).numpy), requires_grad)


@_size_keyword
def empty(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """Like PyTorch's empty; retrograd fills it with zeros so results are reproducible."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    _check_device(device)
    dtype = _resolve_dtype(dtype) or _dtype._scalar_dtype(
        fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    )
    return _new(np.full(_size((size,)), fill_value, dtype.numpy), requires_grad)


def _like(template: Tensor, dtype) -> tuple[tuple[int, ...], _DType]:
    if not isinstance(template, Tensor):
        raise TypeError(f"expected a Tensor as input, got {type(template).__name__}")
    return template._data.shape, _resolve_dtype(dtype) or template.dtype


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(input, dtype)
    return _new(np.zeros(shape, dtype.numpy), requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(input, dtype)
    return _new(np.ones(shape, dtype.numpy), requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False):
    shape, dtype = _like(input, dtype)
    return _new(np.full(shape, fill_value, dtype.numpy), requires_grad)


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


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False):
    _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _new(np.linspace(start, end, steps).astype(_float_dtype(dtype).numpy), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False):
    _check_device(device)
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {min(n, m if m is not None else n)}")
    return _new(np.eye(n, m, dtype=_float_dtype(dtype).numpy), requires_grad)


# ---------------------------------------------------------------------------
# Random numbers


class Generator:
    """A seeded source of random numbers (NumPy's PCG64), as `retrograd.Generator`."""

    def __init__(self, device="cpu"):
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.default_rng(seed & 0xFFFF_FFFF_FFFF_FFFF)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        new_seed = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(new_seed)
        return new_seed

    def get_state(self) -> Tensor:
        state = np.frombuffer(repr(self._rng.bit_generator.state).encode(), dtype=np.uint8)
        return Tensor._make(state.copy())

    def set_state(self, state: Tensor) -> None:
        import ast

        text = bytes(state._data.astype(np.uint8)).decode()
        self._rng.bit_generator.state = ast.literal_eval(text)

    @property
    def rng(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, so random tensors repeat from run to run."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def seed() -> int:
    return default_generator.seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state: Tensor) -> None:
    default_generator.set_state(state)


def _rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator).rng


@_size_keyword
def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    _check_device(device)
    dtype = _float_dtype(dtype)
    return _new(_rng(generator).random(_size(size)).astype(dtype.numpy), requires_grad)


@_size_keyword
def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers."""
    _check_device(device)
    dtype = _float_dtype(dtype)
    return _new(_rng(generator).standard_normal(_size(size)).astype(dtype.numpy), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high)."""
    _check_device(device)
    if size is None:
        if high is None or not isinstance(high, tuple | list | Size):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dtype = _resolve_dtype(dtype) or _dtype.int64
    values = _rng(generator).integers(low, high, size=_size((size,)))
    return _new(values.astype(dtype.numpy), requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False):
    dtype = _resolve_dtype(dtype) or _dtype.int64
    return _new(_rng(generator).permutation(n).astype(dtype.numpy), requires_grad)


def rand_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(input, dtype)
    return rand(shape, dtype=dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(input, dtype)
    return randn(shape, dtype=dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, dtype=None, device=None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return randint(low, high, shape, dtype=dtype)


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


Tensor.new_zeros = _new_zeros
Tensor.new_ones = _new_ones
Tensor.new_empty = _new_empty
Tensor.new_full = _new_full
Tensor.new_tensor = _new_tensor
