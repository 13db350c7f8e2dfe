"""Where a tensor's elements lie in memory: its storage, as PyTorch's `as_strided` sees it.

Note [Storage of a NumPy-backed tensor]
    A PyTorch tensor is a window (sizes, strides, storage offset) on a storage, a flat block
    of memory that its views share. A retrograd tensor holds a NumPy array, and NumPy keeps
    the same structure under another name: a view's `.base` chain ends at the array that
    owns the memory (the *root*; NumPy's stride tricks put a small holder in the chain, whose
    own `.base` is followed too). So a tensor's storage is the memory its root spans, from
    the root's lowest to its highest byte; its storage offset is how many elements its first
    element lies past the start of that block. `x[2:]` of a fresh `arange(6.)` has offset 2
    and a storage of 6 elements, as in PyTorch, and so do `.detach()` and `.data` of it, which
    share the array. Every tensor an op returns owns a fresh root (offset 0), except views
    and the pieces of `unsafe_split`, which share their input's memory in PyTorch too.

    A tensor made from a NumPy array that it shares (`from_numpy`, `as_tensor`) has, as in
    PyTorch, the memory that array's elements span as its storage, at offset 0: the array is
    re-rooted on a holder of that span (`own_span`), which keeps the array's memory alive
    without `_root` following on to the array it views. `from_numpy(array[1:])` starts its
    storage at the slice.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_geometry", "clone_geometry", "copy_with_storage", "overlaps_by_a_zero_stride",
           "own_span", "positions", "storage_bytes", "storage_offset", "strided_storage", "strided_view"]


def _root(array: np.ndarray) -> np.ndarray:
    """The array at the end of `array`'s `.base` chain: the one whose memory it views."""
    node = array
    while True:
        base = node.base
        if isinstance(base, np.ndarray):
            node = base
            continue
        inner = getattr(base, "base", None)  # NumPy's stride-tricks holder keeps its array here
        if isinstance(inner, np.ndarray) and hasattr(base, "__array_interface__"):
            node = inner
            continue
        return node


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _span(array: np.ndarray) -> tuple[int, int]:
    """(lowest address, number of bytes) of the memory `array`'s elements cover."""
    start = _address(array)
    if array.size == 0:
        return start, 0
    low = high = 0
    for size, stride in zip(array.shape, array.strides):
        reach = (size - 1) * stride
        low, high = (low + reach, high) if reach < 0 else (low, high + reach)
    return start + low, high - low + array.itemsize


def storage_bytes(array: np.ndarray) -> tuple[int, int]:
    """(start address, size in bytes) of the storage of `array`; see Note [Storage of a
    NumPy-backed tensor]."""
    return _span(_root(array))


def storage_offset(array: np.ndarray) -> int:
    """How many elements past the start of its storage `array`'s first element lies."""
    start, _ = storage_bytes(array)
    return max(_address(array) - start, 0) // array.itemsize


def _as_int_list(values, argument: str, position: int, name: str = "as_strided") -> tuple[int, ...]:
    if isinstance(values, numbers.Integral):
        values = (values,)
    if not isinstance(values, tuple | list):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be tuple of "
                        f"ints, not {type(values).__name__}")
    for index, value in enumerate(values):
        if not isinstance(value, numbers.Integral) and not _is_int_tensor(value):
            raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be tuple "
                            f"of ints, but found element of type {type(value).__name__} at pos {index}")
    return tuple(int(value) for value in values)


def _is_int_tensor(value) -> bool:
    from ._tensor import Tensor

    return isinstance(value, Tensor) and value.ndim == 0 and not value.dtype.is_floating_point


def check_geometry(array: np.ndarray, size, stride, offset, name: str = "as_strided",
                   first_position: int = 1) -> tuple:
    """(size, stride, storage offset) as ints, checked as PyTorch checks them against the
    storage of `array`: the same errors, with the same words (`first_position` is the
    argument position of `size` that the type errors name)."""
    size = _as_int_list(size, "size", first_position, name)
    stride = _as_int_list(stride, "stride", first_position + 1, name)
    if offset is None:
        offset = storage_offset(array)
    elif not isinstance(offset, numbers.Integral) and not _is_int_tensor(offset):
        raise TypeError(f"{name}(): argument 'storage_offset' (position {first_position + 2}) must be "
                        f"int, not {type(offset).__name__}")
    offset = int(offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(step < 0 for step in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: [{', '.join(map(str, stride))}]")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(length < 0 for length in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes=[{', '.join(map(str, size))}]"
                           f" and strides=[{', '.join(map(str, stride))}]")
    itemsize = array.itemsize
    needed = 0
    if all(size):
        needed = itemsize * (offset + 1 + sum((length - 1) * step for length, step in zip(size, stride)))
    _, available = storage_bytes(array)
    if needed > available:
        raise RuntimeError(
            f"setStorage: sizes [{', '.join(map(str, size))}], strides [{', '.join(map(str, stride))}], "
            f"storage offset {offset}, and itemsize {itemsize} requiring a storage size of {needed} "
            f"are out of bounds for storage of size {available}"
        )
    return size, stride, offset


class _Window:
    """Holds the root array while NumPy views a window on its memory (as NumPy's own stride
    tricks do: NumPy keeps this holder as the view's `.base`, and `_root` follows `.base` on)."""

    def __init__(self, interface: dict, base: np.ndarray):
        self.__array_interface__ = interface
        self.base = base


class _Span:
    """Holds the array a re-rooted one shares memory with (under a name `_root` does not
    follow), and describes the memory its elements span as one flat block."""

    def __init__(self, array: np.ndarray):
        start, nbytes = _span(array)
        self.__array_interface__ = {
            "version": 3,
            "shape": (nbytes // array.itemsize,),
            "typestr": array.dtype.str,
            "data": (start, not array.flags.writeable),
        }
        self.owner = array


def own_span(array: np.ndarray) -> np.ndarray:
    """`array` (the same memory) on a storage of its own: the span of its elements, from its
    first element; see Note [Storage of a NumPy-backed tensor]. Arrays with a negative stride
    are returned as they are."""
    if any(step < 0 for step in array.strides) or storage_bytes(array) == _span(array):
        return array
    span = np.asarray(_Span(array))
    return np.ndarray(array.shape, dtype=array.dtype, buffer=span, strides=array.strides)


def strided_view(array: np.ndarray, size: tuple, stride: tuple, offset: int) -> np.ndarray:
    """The window (size, stride, storage offset; in elements) on `array`'s storage, as an
    array sharing its memory; the geometry is checked already (`check_geometry`)."""
    root = _root(array)
    start, _ = _span(root)
    itemsize = array.itemsize
    interface = {
        "version": 3,
        "shape": tuple(size),
        "typestr": array.dtype.str,
        "strides": tuple(step * itemsize for step in stride),
        "data": (start + offset * itemsize, not root.flags.writeable),
    }
    return np.asarray(_Window(interface, root))


def strided_storage(size: tuple, stride: tuple, dtype) -> np.ndarray:
    """Zeros of `size` laid out with `stride` (in elements) on a new storage just long enough."""
    if any(length < 0 for length in size) or any(step < 0 for step in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes=[{', '.join(map(str, size))}]"
                           f" and strides=[{', '.join(map(str, stride))}]")
    itemsize = np.dtype(dtype).itemsize
    if not all(size):
        return np.lib.stride_tricks.as_strided(np.zeros(1, dtype=dtype), shape=size,
                                               strides=tuple(step * itemsize for step in stride))
    length = 1 + sum((extent - 1) * step for extent, step in zip(size, stride))
    storage = np.zeros(length, dtype=dtype)
    return np.ndarray(size, dtype=dtype, buffer=storage, strides=tuple(step * itemsize for step in stride))


def overlaps_by_a_zero_stride(size: tuple, stride: tuple) -> bool:
    """Whether a window repeats an element along some dim (stride 0, size over 1)."""
    return any(step == 0 and length > 1 for length, step in zip(size, stride))


def clone_geometry(array: np.ndarray) -> tuple:
    """(size, stride, storage offset; in elements) of `copy_with_storage(array)`."""
    if overlaps_by_a_zero_stride(array.shape, array.strides):
        size = tuple(array.shape)
        return size, tuple(int(np.prod(size[dim + 1:], dtype=np.int64)) for dim in range(len(size))), 0
    return tuple(array.shape), tuple(step // array.itemsize for step in array.strides), storage_offset(array)


def copy_with_storage(array: np.ndarray) -> np.ndarray:
    """A copy of `array` with the same strides and storage offset, on a fresh copy of its whole
    storage (PyTorch's clone that preserves strides, which a scatter into a copy writes through).

    An array that overlaps itself by a zero stride (after `expand`) is copied contiguously
    instead, on a storage of its own elements, as PyTorch does too."""
    if overlaps_by_a_zero_stride(array.shape, array.strides):
        return np.array(array, order="C")
    itemsize = array.itemsize
    _, nbytes = storage_bytes(array)
    storage = strided_view(array, (nbytes // itemsize,), (1,), 0).copy()
    return np.ndarray(array.shape, dtype=array.dtype, buffer=storage,
                      offset=storage_offset(array) * itemsize, strides=array.strides)


def positions(size: tuple, stride: tuple, offset: int) -> np.ndarray:
    """The storage position (in elements) of each element of the window, shaped as `size`."""
    result = np.full(size, offset, dtype=np.int64)
    for dim, (length, step) in enumerate(zip(size, stride)):
        result += (np.arange(length, dtype=np.int64) * step).reshape(
            (length,) + (1,) * (len(size) - dim - 1))
    return result
