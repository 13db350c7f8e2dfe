"""Reductions, the basics: dims arguments, sum and mean, named results (`values, indices`),
and gathering and scattering along a dim (the backward of every value-selecting op)."""

from __future__ import annotations

import builtins
import math

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShowsDimAsGiven, ShowsOneDimAsGiven
from .._table import apply, register
from .._tangents import LINEAR, REDUCTION


def normalize_dims(dim, ndim: int) -> tuple[int, ...]:
    """`dim` (None, an int, or a sequence) as a sorted tuple of non-negative dims.

    A 0-d tensor accepts dim 0 and -1, as in PyTorch.
    """
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int:  # (the common case, in range: a softmax's or a sum's one dim)
        rank = ndim if ndim > 0 else 1
        if -rank <= dim < rank:
            dim %= rank
            return (dim,) if dim < ndim else ()
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    if not dims and dim is not None and not isinstance(dim, int):
        return tuple(range(ndim))
    rank = builtins.max(ndim, 1)
    wrapped = []
    for value in dims:
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise TypeError(f"dim must be an int or a tuple of ints, got {type(value).__name__}")
        if not -rank <= value < rank:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but "
                f"got {value})"
            )
        wrapped.append(int(value) % rank)
    if len(set(wrapped)) != len(wrapped):
        repeated = next(d for d in wrapped if wrapped.count(d) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return tuple(sorted(d for d in wrapped if d < ndim))


def kept_shape(shape: tuple, dims: tuple[int, ...]) -> tuple[int, ...]:
    """`shape` with the reduced `dims` kept as size 1 (the shape of a keepdim result)."""
    return tuple(1 if index in dims else size for index, size in enumerate(shape))


def _count(shape: tuple, dim: tuple | None) -> int:
    """How many elements a reduction over `dim` (None: every dim) of a tensor of `shape` combines."""
    return math.prod(shape if dim is None else (shape[d] for d in dim))


class SumBackward0(Formula):
    """Sum of all elements: the gradient is the incoming one, everywhere. Its forward's `dim`
    is None (every dim) unless a subclass names dims; `sum(x)` calls it without parameters
    (Note [Direct entries], ops/_recording.py)."""

    @staticmethod
    def forward(self, dim=None, keepdim=False, dtype=None, dim_as_given=None):
        data = self._data
        if dtype is None and data.dtype.kind in "biu":
            dtype = _dtype.int64
        # (np.sum's own call, less its Python wrapper)
        return np.add.reduce(data, axis=dim, dtype=None if dtype is None else dtype.numpy, keepdims=keepdim)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.expand_to(grad, self_shape)}


class SumBackward1(ShowsDimAsGiven, SumBackward0):
    """Sum over chosen dims (shown as given: Note [Saved values as PyTorch shows them])."""

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, keepdim: _math.expand_reduced(grad, self_shape, dim, keepdim),
    }


@register(methods="sum", direct=SumBackward0)
def sum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum of all elements, or over `dim` (an int or tuple)."""
    if dim is None:  # (a non-tensor input fails in the forward: Note [Checked arguments])
        return apply(SumBackward0, input, keepdim=keepdim, dtype=dtype)
    dims = normalize_dims(dim, input.ndim)
    return apply(SumBackward1, input, dim=dims, keepdim=keepdim, dtype=dtype, dim_as_given=dim)


def _mean_of(data: np.ndarray, dim: tuple, keepdim: bool):
    """np.mean(data, axis=dim, keepdims=keepdim), computed as NumPy computes it (the same
    bits: the sum, float16 summed in float32, divided by the count), less its Python layers."""
    narrow = data.dtype == np.float16
    total = np.add.reduce(data, axis=dim, dtype=np.float32 if narrow else None, keepdims=keepdim)
    count = _count(data.shape, dim)
    if type(total) is np.ndarray:
        total = np.true_divide(total, count, out=total, casting="unsafe")
        return data.dtype.type(total) if narrow else total
    return (data.dtype if narrow else total.dtype).type(total / count)


class MeanBackward0(Formula):
    """Mean of all elements: the incoming gradient divided by the count. Its forward's `dim`
    is None (every dim) unless a subclass names dims, as SumBackward0's."""

    @staticmethod
    def forward(self, dim=None, keepdim=False, dtype=None, dim_as_given=None):
        data = self._data
        if dtype is not None:
            data = data.astype(dtype.numpy)
        if data.dtype.kind not in "fc":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_dtype.scalar_type_name(self.dtype)}"
            )
        if _count(data.shape, dim) == 0:
            if dim is None:
                dim = tuple(range(data.ndim))
            return np.full(
                kept_shape(data.shape, dim) if keepdim else
                tuple(s for i, s in enumerate(data.shape) if i not in dim),
                np.nan,
                dtype=data.dtype,
            )
        return _mean_of(data, dim, keepdim)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape: (
            _math.expand_to(grad, self_shape) / builtins.max(math.prod(self_shape), 1)),
    }

    def _saved_names(self) -> list[str]:
        return [*super()._saved_names(), "self_sym_numel"]  # PyTorch also shows the count

    def _find_saved(self, name: str):
        if name == "self_sym_numel":
            return math.prod(super()._find_saved("self_sym_sizes"))
        return super()._find_saved(name)


class MeanBackward1(ShowsDimAsGiven, MeanBackward0):
    """Mean over chosen dims (shown as given: Note [Saved values as PyTorch shows them])."""

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, keepdim: (
            _math.expand_reduced(grad, self_shape, dim, keepdim) / builtins.max(_count(self_shape, dim), 1)),
    }


@register(methods="mean", direct=MeanBackward0)
def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean of all elements, or over `dim` (an int or tuple)."""
    if dim is None:  # (a non-tensor input fails in the forward: Note [Checked arguments])
        return apply(MeanBackward0, input, keepdim=keepdim, dtype=dtype)
    dims = normalize_dims(dim, input.ndim)
    return apply(MeanBackward1, input, dim=dims, keepdim=keepdim, dtype=dtype, dim_as_given=dim)


# ---------------------------------------------------------------------------
# Gathering and scattering along a dim (the backward of every value-selecting op)


def _index_along(indices: np.ndarray, dim: int) -> tuple:
    """The full index that addresses `indices` positions along `dim` and every other dim as is."""
    index = []
    for axis, size in enumerate(indices.shape):
        if axis == dim:
            index.append(indices)
        else:
            shape = [1] * indices.ndim
            shape[axis] = size
            index.append(np.arange(size).reshape(shape))
    return tuple(index)


class GatherBackward0(Formula):
    """Values of x at `indices` (an array) along `dim`: the gradient is scattered back."""

    @staticmethod
    def forward(self, dim, indices):
        return np.take_along_axis(self._data, indices, axis=dim)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, indices: _math.scatter_along(grad, indices, dim, self_shape),
    }


class ScatterAddBackward0(Formula):
    """Zeros of `shape` with `source` added at `indices` along `dim`: the gradient is gathered."""

    inputs = ("src",)

    @staticmethod
    def forward(src, dim, indices, shape):
        result = np.zeros(shape, dtype=src._data.dtype)
        np.add.at(result, _index_along(indices, dim), src._data)
        return result

    tangent = LINEAR
    derivatives = {"src": lambda grad, dim, indices: _math.take_along(grad, indices, dim)}


def _scatter_picked(grad, indices, dim: int, self_shape: tuple, unsqueeze: bool, unique: bool = True):
    """The gradient of the values an op picked at `indices` along `dim`, sent back to them.

    Only the picked positions get a gradient (a NaN in `grad` reaches no other element).
    `unsqueeze`: the op dropped the dim (max(dim), median(dim) without keepdim).
    """
    indices = _math.index_array(indices)
    if not self_shape:
        picked = _math.scatter_along(_math.reshape(grad, (1,)), indices.reshape(1), 0, (1,), unique)
        return _math.reshape(picked, ())
    if unsqueeze:
        kept = (*grad.shape[:dim], 1, *grad.shape[dim:])
        grad, indices = _math.reshape(grad, kept), indices.reshape(kept)
    return _math.scatter_along(grad, indices, dim, self_shape, unique)


class _SelectsAlongDim(ShowsOneDimAsGiven, Formula):
    """An op that picks elements along one dim: it returns (values, indices), and the
    gradient of the values goes back to the picked positions. Its `dim` shows as the call
    gave it (`dim_as_given`, Note [Saved values as PyTorch shows them]).

    Subclasses say how to `choose` the indices (an int64 array with `data`'s ndim) and whether
    the op `reduces` the dim (max, median: dropped unless keepdim) or keeps it (sort, topk).
    """

    outputs = ("result", "indices")
    non_differentiable_outputs = (1,)
    reduces = True

    @staticmethod
    def choose(data: np.ndarray, dim: int, **options) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def forward(cls, self, dim, keepdim=False, dim_as_given=None, **options):
        data = self._data
        work = data.reshape(1) if data.ndim == 0 else data
        indices = cls.choose(work, dim, **options).astype(np.int64, copy=False)
        values = np.take_along_axis(work, indices, axis=dim)
        if data.ndim == 0:
            shape = ()
        elif cls.reduces and not keepdim:
            shape = values.shape[:dim] + values.shape[dim + 1:]
        else:
            shape = values.shape
        return values.reshape(shape), indices.reshape(shape)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, indices, dim, keepdim, self_shape: _scatter_picked(
            grad, indices, dim, self_shape, not keepdim),
    }


class _KeepsDim(_SelectsAlongDim):
    """A selecting op whose values keep the dim (sort, topk, cummax): no keepdim."""

    reduces = False

    @classmethod
    def forward(cls, self, dim, dim_as_given=None, **options):
        return super().forward(self, dim, **options)

    # The values are the input picked at `indices` along dim: so is the tangent.
    tangent = staticmethod(
        lambda self_t, indices, dim: _math.take_along(self_t, indices, dim) if self_t.ndim else self_t)
    derivatives = {
        "self": lambda grad, indices, dim, self_shape: _scatter_picked(grad, indices, dim, self_shape, False),
    }


def _one_dim(input, dim, op_name: str) -> int:
    """`dim` wrapped to a non-negative index (0-d tensors accept 0 and -1)."""
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{op_name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"{op_name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return input._wrap_dim(int(dim))


def _check_nonempty_dim(input: Tensor, dim: int, op_name: str) -> None:
    if input.ndim and input._data.shape[dim] == 0:
        raise IndexError(f"{op_name}(): Expected reduction dim {dim} to have non-zero size.")


def _select(node_class, result_type, input, dim, keepdim=False, dim_as_given=None, **options):
    if node_class.reduces:
        options["keepdim"] = keepdim
    if dim_as_given is not None and dim_as_given != dim:  # (kept only where it was wrapped)
        options["dim_as_given"] = dim_as_given
    values, indices = apply(node_class, input, dim=dim, **options)
    return result_type(values, indices)


def _values_of(node_class, input, dim, **options):
    """Only the values of a selecting op (what `sort(...).values` would be)."""
    return apply(node_class, input, dim=dim, **options)[0]
