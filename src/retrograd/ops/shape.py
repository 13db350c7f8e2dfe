"""Shape operators: views and copies that rearrange elements without changing them."""

from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor
from ..autograd.graph import Node
from . import _samples
from ._table import apply, register

__all__ = ["clone", "expand", "reshape", "select", "sum_to_size", "view"]


def _shape_argument(shape) -> tuple:
    """A shape given as `f(2, 3)` or `f((2, 3))`."""
    if len(shape) == 1 and isinstance(shape[0], list | tuple | Size):
        shape = tuple(shape[0])
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral | Tensor):
            raise TypeError(
                f"shape must be a sequence of ints, but got an element of type {type(size).__name__}"
            )
    return tuple(int(size) for size in shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in `shape`; RuntimeError if `shape` cannot hold `numel` elements."""
    unknown = [index for index, size in enumerate(shape) if size == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for size in shape:
        if size < -1:
            raise RuntimeError(f"invalid shape dimension {size}")
    known = int(np.prod([size for size in shape if size != -1], dtype=np.int64))
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape = tuple(numel // known if size == -1 else size for size in shape)
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    """A view with a new shape: the gradient takes the input's shape back."""

    __slots__ = ("shape",)
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        data = x._data
        ctx.shape = data.shape
        result = data.view()
        try:
            result.shape = shape
        except AttributeError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
        return result

    def backward(self, grad):
        return grad.reshape(self.shape)


class ReshapeAliasBackward0(Node):
    """reshape that had to copy (the input was not viewable): same gradient as a view."""

    __slots__ = ("shape",)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        return np.reshape(x._data, shape).copy()

    def backward(self, grad):
        return grad.reshape(self.shape)


def _can_view(data: np.ndarray, shape: tuple) -> bool:
    if data.flags.c_contiguous:
        return True
    try:
        data.view().shape = shape
    except AttributeError:
        return False
    return True


def _reshape_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [((x, (3, 2)), {}), ((x, (-1,)), {}), ((_samples.make(rng, ()), (1, 1)), {})]


@register(methods="view", samples=_reshape_samples)
def view(input, *shape):
    """The same data seen with a new shape (no copy; the strides must allow it)."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    shape = _infer_shape(_shape_argument(shape), input._data.size)
    return apply(ViewBackward0, input, shape=shape)


@register(methods="reshape", samples=_reshape_samples)
def reshape(input, *shape):
    """The same elements in a new shape: a view when possible, else a copy."""
    shape = _infer_shape(_shape_argument(shape), input._data.size)
    if _can_view(input._data, shape):
        return apply(ViewBackward0, input, shape=shape)
    return apply(ReshapeAliasBackward0, input, shape=shape)


class ExpandBackward0(Node):
    """A broadcast view: the gradient is summed back over the expanded dims."""

    __slots__ = ("shape",)
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        return np.broadcast_to(x._data, shape)

    def backward(self, grad):
        return grad.sum_to_size(self.shape)


def _expanded_shape(current: tuple, requested: tuple) -> tuple:
    if len(requested) < len(current):
        raise RuntimeError(
            f"expand(retrograd.FloatTensor{{[{', '.join(map(str, current))}]}}, size=["
            f"{', '.join(map(str, requested))}]): the number of sizes provided ({len(requested)}) "
            f"must be greater or equal to the number of dimensions in the tensor ({len(current)})"
        )
    offset = len(requested) - len(current)
    result = list(requested)
    for index, size in enumerate(current):
        target = requested[offset + index]
        if target == -1:
            result[offset + index] = size
        elif size != target and size != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({target}) must match the existing size "
                f"({size}) at non-singleton dimension {offset + index}.  Target sizes: "
                f"[{', '.join(map(str, requested))}].  Tensor sizes: [{', '.join(map(str, current))}]"
            )
    return tuple(result)


def _expand_samples(rng):
    return [((_samples.make(rng, (3, 1)), (2, 3, 4)), {}), ((_samples.make(rng, ()), (2,)), {})]


@register(methods="expand", samples=_expand_samples)
def expand(input, *sizes):
    """A view broadcasting size-1 dims (and new leading dims) to `sizes` (-1 keeps a dim)."""
    shape = _expanded_shape(input._data.shape, _shape_argument(sizes))
    if shape == input._data.shape:
        return apply(ViewBackward0, input, shape=shape)
    return apply(ExpandBackward0, input, shape=shape)


class SumToSizeBackward0(Node):
    """Sum over broadcast dims (the inverse of expand): the gradient is expanded back."""

    __slots__ = ("shape",)

    @staticmethod
    def forward(ctx, x, shape):
        data = x._data
        ctx.shape = data.shape
        leading = data.ndim - len(shape)
        dims = tuple(range(leading)) + tuple(
            leading + index
            for index, size in enumerate(shape)
            if size == 1 and data.shape[leading + index] != 1
        )
        summed = np.sum(data, axis=dims, keepdims=True) if dims else data
        return summed.reshape(shape)

    def backward(self, grad):
        return grad.expand(self.shape)


def _sum_to_size_samples(rng):
    return [((_samples.make(rng, (2, 3, 4)), (3, 1)), {}), ((_samples.make(rng, (2, 3)), ()), {})]


@register(methods="sum_to_size", samples=_sum_to_size_samples)
def sum_to_size(input, *size):
    """Sum `input` down to `size`, which it must be expandable from (undoes broadcasting)."""
    shape = _shape_argument(size)
    if shape == input._data.shape:
        return input
    data_shape = input._data.shape
    if len(shape) > len(data_shape) or any(
        s != 1 and s != d for s, d in zip(shape, data_shape[len(data_shape) - len(shape):])
    ):
        raise RuntimeError(
            f"size {{[{', '.join(map(str, shape))}]}} is not expandable to size "
            f"{{[{', '.join(map(str, data_shape))}]}}."
        )
    return apply(SumToSizeBackward0, input, shape=shape)


class SelectBackward0(Node):
    """One index along one dim (a view): the gradient goes back to that slice, zero elsewhere."""

    __slots__ = ("dim", "index", "shape")
    is_view = True

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x._data.shape, dim, index
        return x._data[(slice(None),) * dim + (index,)]

    def backward(self, grad):
        return SelectBackwardBackward0.apply_to(grad, self.shape, self.dim, self.index)


class SelectBackwardBackward0(Node):
    """Scatter a slice's gradient into zeros of the full shape (the backward of select)."""

    __slots__ = ("dim", "index")

    @staticmethod
    def forward(ctx, grad, shape, dim, index):
        ctx.dim, ctx.index = dim, index
        result = np.zeros(shape, dtype=grad._data.dtype)
        result[(slice(None),) * dim + (index,)] = grad._data
        return result

    def backward(self, grad):
        return grad.select(self.dim, self.index)

    @classmethod
    def apply_to(cls, grad, shape, dim, index):
        return apply(cls, grad, shape=shape, dim=dim, index=index)


def _select_samples(rng):
    return [((_samples.make(rng, (2, 3)), 1, -1), {}), ((_samples.make(rng, (3,)), 0, 1), {})]


@register(methods="select", samples=_select_samples)
def select(input, dim: int, index: int):
    """The slice at `index` along `dim` (a view with that dim removed)."""
    dim = input._wrap_dim(dim)
    if input._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    size = input._data.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size "
            f"[{', '.join(map(str, input._data.shape))}] at dimension {dim}"
        )
    return apply(SelectBackward0, input, dim=dim, index=index % size)


class CloneBackward0(Node):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    def backward(self, grad):
        return grad


@register(methods="clone", samples=_samples.unary())
def clone(input, *, memory_format=None):
    """A copy of `input` with its own memory; gradients flow through it."""
    return apply(CloneBackward0, input)


class ToCopyBackward0(Node):
    """A dtype conversion: the gradient is converted back to the input's dtype."""

    __slots__ = ("dtype",)

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x._data.astype(dtype.numpy)

    def backward(self, grad):
        return grad.to(self.dtype)


def _to(self, *args, **kwargs):
    """A tensor with the requested dtype (and device, which must be the CPU); self if unchanged."""
    target = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for arg in args:
        if isinstance(arg, _dtype.dtype):
            target = arg
        elif isinstance(arg, Tensor):
            target = arg.dtype
        elif isinstance(arg, str) or hasattr(arg, "type"):
            device = arg
        elif arg is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {arg!r}")
    if device is not None:
        from .._creation import _check_device

        _check_device(device)
    if target is None or target is self.dtype:
        return clone(self) if copy else self
    if self._requires_grad and not target.is_floating_point:
        with_grad = apply(ToCopyBackward0, self, dtype=target)
        return with_grad.detach()
    return apply(ToCopyBackward0, self, dtype=target)


def _caster(target: _dtype.dtype):
    def cast(self, memory_format=None):
        return _to(self, target)

    cast.__name__ = target.name
    cast.__doc__ = f"self.to(retrograd.{target.name})"
    return cast


Tensor.to = _to
Tensor.type_as = lambda self, other: _to(self, other.dtype)
for _method, _target in {
    "float": _dtype.float32,
    "double": _dtype.float64,
    "half": _dtype.float16,
    "long": _dtype.int64,
    "int": _dtype.int32,
    "short": _dtype.int16,
    "char": _dtype.int8,
    "byte": _dtype.uint8,
    "bool": _dtype.bool,
}.items():
    setattr(Tensor, _method, _caster(_target))
Tensor.cpu = lambda self, memory_format=None: self
Tensor.contiguous = lambda self, memory_format=None: (
    self if self._data.flags.c_contiguous else clone(self)
)
Tensor.view_as = lambda self, other: view(self, other.shape)
Tensor.expand_as = lambda self, other: expand(self, other.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other.shape)
Tensor.unbind = lambda self, dim=0: tuple(
    select(self, dim, index) for index in range(self.shape[self._wrap_dim(dim)])
)
