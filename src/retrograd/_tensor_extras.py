"""Tensor methods made of other operations: `unfold` (sliding windows, declared in
ops/shape/rearrange.py), `fill_diagonal_`, the legacy `new`, the size attributes `itemsize`,
`nbytes`, `is_cpu`, and where the elements lie: `storage_offset()`, `data_ptr()`."""

from __future__ import annotations

import numpy as np

from . import _runtime
from ._creation import _check_device
from ._legacy import fill_legacy
from ._tensor import Tensor
from .autograd.graph import own_counter
from .ops._table import register_methods
from .ops._zero_gradient import ZeroGradient
from .ops.shape.rearrange import tensor_unfold

__all__: list[str] = []


def _fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
    """Set the main diagonal to `fill_value`, in place (for a tall matrix, `wrap` starts it
    again every `columns + 1` rows, as NumPy's fill_diagonal)."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    if self.ndim == 2:
        rows, columns = self.shape
        limit = rows * columns if wrap and rows > columns + 1 else min(rows, columns) * columns
        flat = np.arange(0, limit, columns + 1)
        flat = flat[flat // columns < rows]
        positions = (flat // columns, flat % columns)
    else:
        diagonal = np.arange(self.shape[0])
        positions = (diagonal,) * self.ndim
    index = tuple(Tensor._make(np.asarray(part, dtype=np.int64)) for part in positions)
    values = fill_value if isinstance(fill_value, Tensor) else Tensor._make(
        np.asarray(fill_value, dtype=self._data.dtype)
    )
    return self.index_put_(index, values)


def _new(self, *args, device=None) -> Tensor:
    """The legacy constructor with this tensor's dtype: `x.new(2, 3)`, `x.new([1, 2])`."""
    _check_device(device)
    result = Tensor.__new__(Tensor)
    fill_legacy(result, args, self.dtype, fixed=False)
    if not (len(args) == 1 and isinstance(args[0], Tensor)) and result.dtype is not self.dtype:
        result._data = result._data.astype(self._data.dtype)
        result._meta = None
    return result


def _as_subclass(self, cls) -> Tensor:
    """This tensor's data and version counter, as an instance of the Tensor subclass `cls`."""
    result = cls.__new__(cls)
    Tensor._setup(result, self._data, None, 0, own_counter(self))
    return result


def _resize(self, *sizes) -> Tensor:
    """Deprecated: `reshape` with a warning (same number of elements)."""
    import warnings

    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return self.reshape(*sizes)


def _resize_as(self, tensor: Tensor) -> Tensor:
    """Deprecated: `reshape` to the shape of `tensor`, with a warning."""
    import warnings

    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return self.reshape(tensor.shape)


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad: bool = False,
                       layout=None, pin_memory: bool = False) -> Tensor:
    """`empty_strided(size, stride)` in this tensor's dtype (zero-filled)."""
    from ._runtime import empty_strided

    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device,
                         requires_grad=requires_grad)


def _is_distributed(self) -> bool:
    """Always False: a retrograd tensor lives in one process."""
    return False


def _storage_offset(self) -> int:
    """How many elements past the start of its storage this tensor's first element lies
    (see Note [Storage of a NumPy-backed tensor] in _storage.py): 2 for `arange(6.)[2:]`."""
    from ._storage import storage_offset

    return storage_offset(self._data)


def _data_ptr(self) -> int:
    """The memory address of the first element (views of one storage differ by whole elements)."""
    return self._data.__array_interface__["data"][0]


def _is_zerotensor(self) -> bool:
    """Whether this tensor is a zero tensor without memory of its own: sgn's gradient (Note
    [Zero gradients that stay zero], ops/_zero_gradient.py), which numpy() refuses unless forced."""
    return isinstance(self._data, ZeroGradient)


register_methods({
    **{name: getattr(_runtime, name)
       for name in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "is_neg")},
    "storage_offset": _storage_offset,
    "data_ptr": _data_ptr,
    "as_subclass": _as_subclass,
    "resize": _resize,
    "resize_as": _resize_as,
    "new_empty_strided": _new_empty_strided,
    "is_distributed": _is_distributed,
    "is_mps": property(lambda self: False, doc="Always False: retrograd computes on the CPU."),
    "unfold": tensor_unfold,
    "fill_diagonal_": _fill_diagonal_,
    "new": _new,
    "_is_zerotensor": _is_zerotensor,
    "itemsize": property(lambda self: self._data.itemsize, doc="Bytes per element."),
    "nbytes": property(lambda self: self._data.nbytes, doc="Bytes of all elements."),
}, __name__)
