"""Reductions: operators that combine the elements of a tensor along dimensions.

Sums, means, products, extremes, spread (var, std), norms and log-sum-exp; the running
sums, products and extremes; and the ops that pick elements along a dim (sort, topk,
kthvalue, median, mode, max/min with a dim), which return PyTorch's named
(values, indices) tuples and send the gradient back to the picked positions.
"""

from __future__ import annotations

import builtins
import collections
import math
import types
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from . import _math, _samples
from ._formula import Formula
from ._table import apply, register
from ._tangents import LINEAR, REDUCTION, TRANSPOSED
from .pointwise import maximum, minimum

__all__ = [
    "all",
    "amax",
    "amin",
    "any",
    "argmax",
    "argmin",
    "argsort",
    "count_nonzero",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "kthvalue",
    "logsumexp",
    "max",
    "mean",
    "median",
    "min",
    "mode",
    "norm",
    "normalize_dims",
    "prod",
    "return_types",
    "sort",
    "std",
    "std_mean",
    "sum",
    "topk",
    "var",
    "var_mean",
]


def normalize_dims(dim, ndim: int) -> tuple[int, ...]:
    """`dim` (None, an int, or a sequence) as a sorted tuple of non-negative dims.

    A 0-d tensor accepts dim 0 and -1, as in PyTorch.
    """
    if dim is None:
        return tuple(range(ndim))
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


def _count(shape: tuple, dim: tuple) -> int:
    """How many elements a reduction over `dim` of a tensor of `shape` combines."""
    return math.prod(shape[d] for d in dim)


class SumBackward0(Formula):
    """Sum of all elements: the gradient is the incoming one, everywhere."""

    @staticmethod
    def forward(self, dim, keepdim, dtype):
        data = self._data
        if dtype is None and data.dtype.kind in "biu":
            dtype = _dtype.int64
        return np.sum(data, axis=dim, keepdims=keepdim, dtype=None if dtype is None else dtype.numpy)

    tangent = LINEAR
    derivatives = {"self": lambda grad, self_shape: _math.expand_to(grad, self_shape)}


class SumBackward1(SumBackward0):
    """Sum over chosen dims."""

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, keepdim: _math.expand_reduced(grad, self_shape, dim, keepdim),
    }


@register(methods="sum", samples=_samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}))
def sum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum of all elements, or over `dim` (an int or tuple)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sum(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dims = normalize_dims(dim, input.ndim)
    node = SumBackward0 if dim is None else SumBackward1
    return apply(node, input, dim=dims, keepdim=keepdim, dtype=dtype)


class MeanBackward0(Formula):
    """Mean of all elements: the incoming gradient divided by the count."""

    @staticmethod
    def forward(self, dim, keepdim, dtype):
        data = self._data
        if dtype is not None:
            data = data.astype(dtype.numpy)
        if data.dtype.kind not in "fc":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_dtype.scalar_type_name(self.dtype)}"
            )
        if _count(data.shape, dim) == 0:
            return np.full(
                kept_shape(data.shape, dim) if keepdim else
                tuple(s for i, s in enumerate(data.shape) if i not in dim),
                np.nan,
                dtype=data.dtype,
            )
        return np.mean(data, axis=dim, keepdims=keepdim)

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape: (
            _math.expand_to(grad, self_shape) / builtins.max(math.prod(self_shape), 1)),
    }


class MeanBackward1(MeanBackward0):
    """Mean over chosen dims."""

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape, dim, keepdim: (
            _math.expand_reduced(grad, self_shape, dim, keepdim) / builtins.max(_count(self_shape, dim), 1)),
    }


@register(methods="mean", samples=_samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}))
def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean of all elements, or over `dim` (an int or tuple)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"mean(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dims = normalize_dims(dim, input.ndim)
    node = MeanBackward0 if dim is None else MeanBackward1
    return apply(node, input, dim=dims, keepdim=keepdim, dtype=dtype)


# ---------------------------------------------------------------------------
# Named results: `values, indices = x.max(dim)` or `x.max(dim).values`


def _return_type(name: str):
    """A named (values, indices) tuple that prints as PyTorch's torch.return_types.<name>."""
    base = collections.namedtuple(name, ("values", "indices"))

    def __repr__(self) -> str:
        return f"retrograd.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


return_types = types.SimpleNamespace(
    **{
        name: _return_type(name)
        for name in ("max", "min", "median", "mode", "kthvalue", "topk", "sort", "cummax", "cummin")
    }
)


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


class _SelectsAlongDim(Formula):
    """An op that picks elements along one dim: it returns (values, indices), and the
    gradient of the values goes back to the picked positions.

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
    def forward(cls, self, dim, keepdim=False, **options):
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
    def forward(cls, self, dim, **options):
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


def _select(node_class, result_type, input, dim, keepdim=False, **options):
    if node_class.reduces:
        options["keepdim"] = keepdim
    values, indices = apply(node_class, input, dim=dim, **options)
    return result_type(values, indices)


def _values_of(node_class, input, dim, **options):
    """Only the values of a selecting op (what `sort(...).values` would be)."""
    return apply(node_class, input, dim=dim, **options)[0]


# ---------------------------------------------------------------------------
# Orderings


def _descending_key(data: np.ndarray) -> np.ndarray:
    """A key whose ascending order is `data`'s descending order (ties keep their order; a NaN
    stays NaN, which sorts last: _order moves the NaNs first)."""
    if data.dtype.kind == "b":
        return ~data.astype(np.int8)
    if data.dtype.kind in "iu":
        return ~data
    return -data


def _order(data: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """The stable order of `data` along dim. NaN counts as larger than inf (PyTorch's order):
    last ascending, first descending."""
    key = _descending_key(data) if descending else data
    order = np.argsort(key, axis=dim, kind="stable")
    if descending and data.dtype.kind in "fc":
        nan = np.isnan(np.take_along_axis(data, order, axis=dim))
        if nan.any():  # a stable pass on "is not NaN" brings the NaNs (in their order) to the front
            order = np.take_along_axis(order, np.argsort(~nan, axis=dim, kind="stable"), axis=dim)
    return order


def _first_nan_wins(data: np.ndarray, dim: int, indices: np.ndarray) -> np.ndarray:
    """Where a slice holds a NaN, the index of its first NaN (NaN propagates, as PyTorch)."""
    if data.dtype.kind not in "fc":
        return indices
    nan = np.isnan(data)
    has_nan = nan.any(axis=dim, keepdims=True)
    if not has_nan.any():
        return indices
    return np.where(has_nan, np.argmax(nan, axis=dim, keepdims=True), indices)


class SortBackward0(_KeepsDim):

    @staticmethod
    def choose(data, dim, descending=False):
        return _order(data, dim, descending)


@register(methods="sort", samples=lambda rng: [
    *_dim_samples(rng, [{}, {"descending": True}]),
    ((_samples.make(rng, (2, 3, 4)),), {"dim": 1, "stable": True}),
])
def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """The elements sorted along `dim`, and where each came from: (values, indices).

    The sort is always stable (equal elements keep their order); NaN counts as largest.
    """
    dim = _one_dim(input, dim, "sort")
    return _select(SortBackward0, return_types.sort, input, dim, descending=descending)


@register(methods="argsort", differentiable=False)
def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort `input` along `dim` (stable)."""
    dim = _one_dim(input, dim, "argsort")
    data = input._data
    work = data.reshape(1) if data.ndim == 0 else data
    return Tensor._make(_order(work, dim, descending).reshape(data.shape))


class TopkBackward0(_KeepsDim):

    @staticmethod
    def choose(data, dim, k, largest):
        order = _order(data, dim, descending=largest)
        return np.take(order, np.arange(k), axis=dim)


@register(
    methods="topk",
    samples=lambda rng: _dim_samples(rng, [{"k": 2}, {"k": 1, "largest": False}], dims=(-1,)),
)
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) elements along `dim`, in order, with their indices."""
    dim = _one_dim(input, dim, "topk")
    _refuse_bool(input, RuntimeError("topk does not support bool dtypes on CPU"))
    size = input._data.shape[dim] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    return _select(TopkBackward0, return_types.topk, input, dim, k=k, largest=largest)


class KthvalueBackward0(_SelectsAlongDim):

    @staticmethod
    def choose(data, dim, k):
        order = _order(data, dim, descending=False)
        return np.take(order, [k - 1], axis=dim)


@register(methods="kthvalue",
          samples=_samples.plus(lambda rng: _dim_samples(rng, [{"k": 2}], dims=(-1,)), {"keepdim": True}))
def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest element along `dim` (k counts from 1), with its index."""
    dim = _one_dim(input, dim, "kthvalue")
    _refuse_bool(input, NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'"))
    size = input._data.shape[dim] if input.ndim else 1
    if size == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {dim} to have non-zero size.")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return _select(KthvalueBackward0, return_types.kthvalue, input, dim, keepdim, k=k)


class MedianBackward1(_SelectsAlongDim):
    """The lower median along a dim (NaN if the slice holds one)."""

    @staticmethod
    def choose(data, dim):
        order = _order(data, dim, descending=False)
        middle = np.take(order, [(data.shape[dim] - 1) // 2], axis=dim)
        return _first_nan_wins(data, dim, middle)


def _evenly_distribute(grad, self, result):
    """The gradient of a whole-tensor max, min or median: shared evenly by the elements equal to
    the result (or, for a NaN result, by the NaNs), and only by them (as PyTorch)."""
    chosen = (self == result) | ((self != self) & (result != result))
    return _math.where(chosen, grad / _math.count_along(chosen, None, grad), 0.0)


class MedianBackward0(Formula):
    """The lower median of all elements (NaN if there is one)."""

    @staticmethod
    def forward(self):
        flat = self._data.reshape(-1)
        index = MedianBackward1.choose(flat, 0)
        return flat[index].reshape(())

    tangent = REDUCTION
    derivatives = {"self": lambda grad, self, result: _evenly_distribute(grad, self, result)}


def _median_samples(rng):
    return [((_samples.make(rng, (2, 5)),), {}), *_dim_samples(rng, [{}])]


@register(methods="median", samples=_samples.plus(_median_samples, {"keepdim": True}, base=1))
def median(input, dim=None, keepdim: bool = False):
    """The lower median of all elements, or along `dim` as (values, indices)."""
    _refuse_bool(input, NotImplementedError("\"median_cpu\" not implemented for 'Bool'"))
    if dim is None:
        if input._data.size == 0:
            return Tensor._make(np.array(np.nan, dtype=input._data.dtype))
        return apply(MedianBackward0, input)
    dim = _one_dim(input, dim, "median")
    _check_nonempty_dim(input, dim, "median")
    return _select(MedianBackward1, return_types.median, input, dim, keepdim)


class ModeBackward0(_SelectsAlongDim):
    """The most frequent value along a dim (the smallest among equally frequent ones),
    with the index of its last occurrence."""

    @staticmethod
    def choose(data, dim):
        moved = np.moveaxis(data, dim, -1)
        ordered = np.sort(moved, axis=-1)
        positions = np.arange(ordered.shape[-1])
        starts_run = np.ones(ordered.shape, dtype=bool)
        starts_run[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
        if data.dtype.kind in "fc":  # NaNs (sorted last) count as one value, as PyTorch counts them
            starts_run[..., 1:] &= ~(np.isnan(ordered[..., 1:]) & np.isnan(ordered[..., :-1]))
        run_start = np.maximum.accumulate(np.where(starts_run, positions, 0), axis=-1)
        count_so_far = positions - run_start
        value = np.take_along_axis(ordered, np.argmax(count_so_far, axis=-1)[..., None], axis=-1)
        occurrences = moved == value
        if data.dtype.kind in "fc":
            occurrences |= np.isnan(moved) & np.isnan(value)
        last = ordered.shape[-1] - 1 - np.argmax(occurrences[..., ::-1], axis=-1)
        return np.moveaxis(last[..., None], -1, dim)


@register(methods="mode", samples=_samples.plus(lambda rng: _dim_samples(rng, [{}]), {"keepdim": True}))
def mode(input, dim: int = -1, keepdim: bool = False):
    """The most frequent value along `dim` and the index of its last occurrence."""
    dim = _one_dim(input, dim, "mode")
    _check_nonempty_dim(input, dim, "mode")
    return _select(ModeBackward0, return_types.mode, input, dim, keepdim)


class CummaxBackward0(_KeepsDim):
    """The running maximum along a dim; each value's index is the latest position of the max.

    An index repeats along the dim, so the gradient is added where it does (not put).
    """

    running = staticmethod(np.maximum.accumulate)
    # Reads `self` (for its shape) as PyTorch saves it: changing it in place raises, as there.
    derivatives = {
        "self": lambda grad, indices, dim, self: _scatter_picked(
            grad, indices, dim, self.shape, False, unique=False),
    }

    @classmethod
    def choose(cls, data, dim):
        running = cls.running(data, axis=dim)
        is_new = (data == running)
        if data.dtype.kind in "fc":
            is_new |= np.isnan(data)
        shape = [1] * data.ndim
        shape[dim] = data.shape[dim]
        positions = np.arange(data.shape[dim]).reshape(shape)
        return np.maximum.accumulate(np.where(is_new, positions, 0), axis=dim)


class CumminBackward0(CummaxBackward0):
    running = staticmethod(np.minimum.accumulate)


@register(methods="cummax", samples=lambda rng: _dim_samples(rng, [{}]))
def cummax(input, dim: int):
    """The running maximum along `dim`, with the index where each maximum was reached."""
    dim = _one_dim(input, dim, "cummax")
    return _select(CummaxBackward0, return_types.cummax, input, dim)


@register(methods="cummin", samples=lambda rng: _dim_samples(rng, [{}]))
def cummin(input, dim: int):
    """The running minimum along `dim`, with the index where each minimum was reached."""
    dim = _one_dim(input, dim, "cummin")
    return _select(CumminBackward0, return_types.cummin, input, dim)


def _dim_samples(rng, option_sets, dims=(1, -1, 0)):
    """Samples for an op along one dim: a (2, 3, 4) tensor, a vector and (k = 1) a 0-d tensor.

    Ops that take `k` get the dim as a keyword (their second positional argument is k).
    """
    cases = []
    for options in option_sets:
        shapes = [((2, 3, 4), dim) for dim in dims] + [((5,), 0)]
        if options.get("k", 1) == 1:
            shapes.append(((), 0))
        for shape, dim in shapes:
            x = _samples.make(rng, shape)
            if "k" in options:
                cases.append(((x,), {**options, "dim": dim}))
            else:
                cases.append(((x, dim), dict(options)))
    return cases


# ---------------------------------------------------------------------------
# Maxima and minima


def _check_reducible(input: Tensor, dims: tuple[int, ...], op_name: str, dim_given: bool) -> None:
    """PyTorch refuses to reduce an empty tensor without a dim, or over an empty dim."""
    if input._data.size:
        return
    if not dim_given:
        raise RuntimeError(
            f"{op_name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    for dim in dims:
        if input._data.shape[dim] == 0:
            raise IndexError(f"{op_name}(): Expected reduction dim {dim} to have non-zero size.")


def _amax_backward(grad, self, result, dim: tuple, keepdim: bool):
    """Ties share the gradient evenly. PyTorch multiplies by the 0/1 mask of the extremes here
    (it does not select), so a NaN or Inf incoming gradient reaches every element, as there."""
    shape = self.shape
    chosen = self == _math.unsqueeze_reduced(result, shape, dim, keepdim)
    return _math.unsqueeze_reduced(grad, shape, dim, keepdim) / _math.count_along(chosen, dim, grad) * chosen


class AmaxBackward0(Formula):
    """The largest element over dims: ties share the gradient evenly (as PyTorch)."""

    kernel = staticmethod(np.max)

    @classmethod
    def forward(cls, self, dim, keepdim):
        return cls.kernel(self._data, axis=dim, keepdims=keepdim)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, dim, keepdim: _amax_backward(grad, self, result, dim, keepdim),
    }


class AminBackward0(AmaxBackward0):
    kernel = staticmethod(np.min)


class MaxBackward1(Formula):
    """max() of all elements: ties share the gradient, which reaches only them."""

    kernel = staticmethod(np.max)

    @classmethod
    def forward(cls, self):
        return cls.kernel(self._data)

    tangent = REDUCTION
    derivatives = {"self": lambda grad, self, result: _evenly_distribute(grad, self, result)}


class MinBackward1(MaxBackward1):
    """min() of all elements."""

    kernel = staticmethod(np.min)


@register(methods="amax", samples=_samples.reduction())
def amax(input, dim=(), keepdim: bool = False):
    """The largest element over `dim` (all dims if empty); ties share the gradient."""
    dims = normalize_dims(dim, input.ndim)
    _check_reducible(input, dims, "amax", dim not in ((), None))
    return apply(AmaxBackward0, input, dim=dims, keepdim=keepdim)


@register(methods="amin", samples=_samples.reduction())
def amin(input, dim=(), keepdim: bool = False):
    """The smallest element over `dim` (all dims if empty); ties share the gradient."""
    dims = normalize_dims(dim, input.ndim)
    _check_reducible(input, dims, "amin", dim not in ((), None))
    return apply(AminBackward0, input, dim=dims, keepdim=keepdim)


class MaxBackward0(_SelectsAlongDim):
    """max along a dim: the first largest element (or the first NaN) and its index."""

    @staticmethod
    def choose(data, dim):
        return np.argmax(data, axis=dim, keepdims=True)


class MinBackward0(_SelectsAlongDim):

    @staticmethod
    def choose(data, dim):
        return np.argmin(data, axis=dim, keepdims=True)


def _extreme(input, dim, keepdim, whole_node, along_node, result_type, pairwise, op_name):
    if isinstance(dim, Tensor):
        return pairwise(input, dim)
    if dim is None:
        _check_reducible(input, (), op_name, False)
        return apply(whole_node, input)
    dim = _one_dim(input, dim, op_name)
    _check_nonempty_dim(input, dim, op_name)
    return _select(along_node, result_type, input, dim, keepdim)


def _max_samples(rng):
    return [((_samples.make(rng, (2, 3)),), {}), ((_samples.make(rng, ()),), {}), *_dim_samples(rng, [{}])]


@register(methods="max", samples=_samples.plus(_max_samples, {"keepdim": True}, base=2))
def max(input, dim=None, keepdim: bool = False):
    """The largest element; along `dim`, (values, indices); with a tensor, elementwise maximum."""
    return _extreme(input, dim, keepdim, MaxBackward1, MaxBackward0, return_types.max, maximum, "max")


@register(methods="min", samples=_samples.plus(_max_samples, {"keepdim": True}, base=2))
def min(input, dim=None, keepdim: bool = False):
    """The smallest element; along `dim`, (values, indices); with a tensor, elementwise minimum."""
    return _extreme(input, dim, keepdim, MinBackward1, MinBackward0, return_types.min, minimum, "min")


def _refuse_bool(input: Tensor, error: Exception) -> None:
    """The ordering ops PyTorch does not run on bool tensors."""
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        raise error


def _arg_extreme(input, dim, keepdim, kernel, op_name: str) -> Tensor:
    _refuse_bool(input, RuntimeError(f"{op_name}(): does not support bool input"))
    data = input._data
    if dim is None:
        if data.size == 0:
            raise IndexError(f"{op_name}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = np.asarray(kernel(data.reshape(-1)), dtype=np.int64)
        return Tensor._make(index.reshape((1,) * data.ndim) if keepdim else index)
    dim = _one_dim(input, dim, op_name)
    _check_nonempty_dim(input, dim, op_name)
    work = data.reshape(1) if data.ndim == 0 else data
    index = kernel(work, axis=dim, keepdims=keepdim).astype(np.int64)
    return Tensor._make(index.reshape(()) if data.ndim == 0 else index)


@register(methods="argmax", differentiable=False)
def argmax(input, dim=None, keepdim: bool = False):
    """The index of the first largest element (of the flattened tensor if `dim` is None)."""
    return _arg_extreme(input, dim, keepdim, np.argmax, "argmax")


@register(methods="argmin", differentiable=False)
def argmin(input, dim=None, keepdim: bool = False):
    """The index of the first smallest element (of the flattened tensor if `dim` is None)."""
    return _arg_extreme(input, dim, keepdim, np.argmin, "argmin")


# ---------------------------------------------------------------------------
# Products


def _integer_accumulator(data: np.ndarray, dtype):
    """Sums and products of integers and bools accumulate in int64, as PyTorch."""
    if dtype is not None:
        return dtype.numpy
    return np.int64 if data.dtype.kind in "biu" else None


# Note [Gradient of a product with zeros]
#     d prod(x) / d x_k is the product of the other elements. Dividing the product by x_k
#     fails where x_k = 0, so it is computed as (product of those before) * (product of
#     those after), two exclusive running products. With create_graph these are recorded
#     as cumprods (of x shifted by one, from each end), so higher derivatives go through
#     cumprod's own backward, which is exact with zeros, as PyTorch does.


def _prod_of_others_array(data: np.ndarray, dim: int) -> np.ndarray:
    """For each element, the product of the others along `dim`: exclusive running products
    from both ends; see Note [Gradient of a product with zeros]."""
    if data.shape[dim] == 0:
        return data * 0
    ones = np.ones_like(np.take(data, [0], axis=dim))
    before = np.concatenate([ones, np.cumprod(np.take(data, np.arange(data.shape[dim] - 1), axis=dim),
                                              axis=dim)], axis=dim)
    reversed_data = np.flip(data, axis=dim)
    after = np.concatenate([ones, np.cumprod(np.take(reversed_data, np.arange(data.shape[dim] - 1),
                                                     axis=dim), axis=dim)], axis=dim)
    return before * np.flip(after, axis=dim)


def prod_of_others(x: Tensor, dim: int) -> Tensor:
    """For each element, the product of the other elements along `dim` (recorded)."""
    from .shape import cat, flip, narrow

    size = x._data.shape[dim]
    if size == 0:
        return x * 0
    ones = Tensor._make(np.ones_like(np.take(x._data, [0], axis=dim)))
    before = cumprod(cat([ones, narrow(x, dim, 0, size - 1)], dim), dim)
    after = flip(cumprod(cat([ones, flip(narrow(x, dim, 1, size - 1), dim)], dim), dim), dim)
    return before * after


def _prod_backward(grad, self, result):
    """Product of all elements; see Note [Gradient of a product with zeros]. As PyTorch: with
    no zero, grad * result / x; with two zeros or more and no graph to build, exactly 0."""
    if not self.shape:
        return grad
    zeros = _math.count_zeros(self)
    if zeros == 0:
        return grad * (result / self)
    if zeros > 1 and not _math.records(self):
        return _math.zeros_like(self)
    return grad * _math.reshape(_math.prod_of_others(_math.reshape(self, (-1,)), 0), self.shape)


def _prod_dim_backward(grad, self, result, dim: tuple, keepdim: bool):
    """Product along one dim: grad * result / x, or the products of the others where x has a 0."""
    if not dim:
        return grad
    shape = self.shape
    grad = _math.unsqueeze_reduced(grad, shape, dim, keepdim)
    if _math.count_zeros(self) == 0:
        return grad * (_math.unsqueeze_reduced(result, shape, dim, keepdim) / self)
    return grad * _math.prod_of_others(self, dim[0])


class ProdBackward0(Formula):
    """Product of all elements; see Note [Gradient of a product with zeros]."""

    @staticmethod
    def forward(self, dtype):
        data = self._data
        return np.prod(data, dtype=_integer_accumulator(data, dtype))

    tangent = REDUCTION
    derivatives = {"self": lambda grad, self, result: _prod_backward(grad, self, result)}


class ProdBackward1(Formula):
    """Product along one dim."""

    @staticmethod
    def forward(self, dim, keepdim, dtype):
        data = self._data
        return np.prod(data, axis=dim, keepdims=keepdim, dtype=_integer_accumulator(data, dtype))

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, dim, keepdim: _prod_dim_backward(grad, self, result, dim, keepdim),
    }


def _prod_samples(rng):
    x = _samples.make(rng, (2, 3, 4))
    with_zeros = _samples.make(rng, (3, 4))
    with_zeros._data[0, 1] = 0.0
    with_zeros._data[1, :2] = 0.0
    return [
        ((x,), {}),
        ((x, 1), {}),
        ((x, -1, True), {}),
        ((_samples.make(rng, ()),), {}),
        ((with_zeros,), {}),
        ((with_zeros, 1), {}),
        ((with_zeros, 0), {}),
        ((_samples.make(rng, (0, 3)), 1), {}),
    ]


@register(methods="prod", samples=_samples.plus(_prod_samples, {"dtype": _samples.FLOAT64}))
def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The product of all elements, or along one `dim`; exact gradients where elements are 0."""
    if dim is None:
        return apply(ProdBackward0, input, dtype=dtype)
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(
            f"prod(): argument 'dim' (position 2) must be int, not {type(dim).__name__}"
        )
    dims = normalize_dims(dim, input.ndim)
    return apply(ProdBackward1, input, dim=dims, keepdim=keepdim, dtype=dtype)


# ---------------------------------------------------------------------------
# Running sums and products


class CumsumBackward0(Formula):
    """Running sum along a dim: each input feeds every later output."""

    @staticmethod
    def forward(self, dim, dtype):
        data = self._data
        if data.ndim == 0:
            return data.astype(_integer_accumulator(data, dtype) or data.dtype)
        return np.cumsum(data, axis=dim, dtype=_integer_accumulator(data, dtype))

    tangent = LINEAR
    derivatives = {"self": lambda grad, dim: grad if grad.ndim == 0 else _math.reversed_cumsum(grad, dim)}


class ReversedCumsumBackward0(Formula):
    """Running sum from the end of a dim (the backward of cumsum, and cumsum its backward)."""

    @staticmethod
    def forward(self, dim):
        return np.flip(np.cumsum(np.flip(self._data, axis=dim), axis=dim), axis=dim).copy()

    tangent = LINEAR
    derivatives = {"self": lambda grad, dim: _math.cumsum(grad, dim)}


@register(methods="cumsum", inplace="cumsum_",
          samples=_samples.plus(lambda rng: _dim_samples(rng, [{}]), {"dtype": _samples.FLOAT64}))
def cumsum(input, dim: int, *, dtype=None):
    """The running sum along `dim` (integers accumulate in int64)."""
    dim = _one_dim(input, dim, "cumsum")
    return apply(CumsumBackward0, input, dim=dim, dtype=dtype)


def _cumprod_backward(grad, self, result, dim: int):
    """d out_i / d x_k = prod_{j <= i, j != k} x_j for i >= k. Without zeros that is
    reversed_cumsum(grad * result) / x; with zeros, see the two helpers below."""
    if not self.shape:
        return grad
    if _math.count_zeros(self) == 0:
        return _math.reversed_cumsum(grad * result, dim) / self
    if _math.records(self):
        return _cumprod_backward_recorded(grad, self, dim)
    return _cumprod_backward_with_zeros(grad, self, result, dim)


def _cumprod_backward_with_zeros(grad: np.ndarray, x: np.ndarray, result: np.ndarray, dim: int) -> np.ndarray:
    """On arrays, in O(n). With z the first zero of a slice: an element before it gets
    sum_{i < z} grad_i result_i / x_k; the zero itself gets (product of those before it) times
    sum_{z <= i < z2} grad_i prod_{z < j <= i} x_j, z2 the second zero; elements after it get 0.
    Terms whose derivative is exactly 0 are left out (selected), so a NaN or Inf incoming
    gradient there does not reach the others (as PyTorch)."""
    zeros_so_far = np.cumsum(x == 0, axis=dim)
    before = zeros_so_far == 0  # k < z
    at_zero = (zeros_so_far == 1) & (x == 0)  # k == z
    with np.errstate(invalid="ignore"):
        early = _reversed_cumsum_array(np.where(before, grad * result, 0), dim) / np.where(before, x, 1)
        after_zero = np.cumprod(np.where(zeros_so_far == 0, 1, np.where(at_zero, 1, x)), axis=dim)
        to_second = np.where(zeros_so_far == 1, grad * after_zero, 0)
        at = np.cumprod(np.where(before, x, 1), axis=dim) * _reversed_cumsum_array(to_second, dim)
    return np.where(before, early, np.where(at_zero, at, 0))


def _reversed_cumsum_array(data: np.ndarray, dim: int) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(data, axis=dim), axis=dim), axis=dim)


def _cumprod_backward_recorded(grad: Tensor, x: Tensor, dim: int) -> Tensor:
    """With create_graph, a form whose derivative is right at zeros too (O(n^2) memory):
    the running products of an n x n stack of copies of x, copy k having x_k replaced by 1."""
    shape = x._data.shape
    size = shape[dim]
    leading, trailing = shape[:dim], shape[dim + 1:]
    stacked_shape = (*leading, size, size, *trailing)
    mask_shape = (size, size) + (1,) * len(trailing)
    diagonal = np.eye(size, dtype=bool).reshape(mask_shape)
    copies = _math.where(diagonal, 1.0, x.reshape(*leading, 1, size, *trailing).expand(stacked_shape))
    running = cumprod(copies, dim + 1)
    from_k_on = np.triu(np.ones((size, size), dtype=bool)).reshape(mask_shape)
    weighted = _math.where(from_k_on, grad.reshape(*leading, 1, size, *trailing) * running, 0.0)
    return weighted.sum(dim + 1)


class CumprodBackward0(Formula):
    """Running product along a dim; exact gradients where elements are 0."""

    @staticmethod
    def forward(self, dim, dtype):
        data = self._data
        if data.ndim == 0:
            return data.astype(_integer_accumulator(data, dtype) or data.dtype)
        return np.cumprod(data, axis=dim, dtype=_integer_accumulator(data, dtype))

    tangent = TRANSPOSED
    derivatives = {"self": lambda grad, self, result, dim: _cumprod_backward(grad, self, result, dim)}


def _cumprod_samples(rng):
    with_zeros = _samples.make(rng, (2, 4))
    with_zeros._data[0, 1] = 0.0
    with_zeros._data[1, 0] = with_zeros._data[1, 2] = 0.0
    return [*_dim_samples(rng, [{}]), ((with_zeros, 1), {}), ((with_zeros, 0), {})]


@register(methods="cumprod", inplace="cumprod_",
          samples=_samples.plus(_cumprod_samples, {"dtype": _samples.FLOAT64}))
def cumprod(input, dim: int, *, dtype=None):
    """The running product along `dim`; exact gradients where elements are 0."""
    dim = _one_dim(input, dim, "cumprod")
    return apply(CumprodBackward0, input, dim=dim, dtype=dtype)


# ---------------------------------------------------------------------------
# Spread: variance and standard deviation


def _correction(unbiased, correction) -> float:
    if correction is not None and unbiased is not None:
        raise TypeError(
            "var() received an invalid combination of arguments - got both 'unbiased' and "
            "'correction': pass only one"
        )
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _check_floating(input: Tensor) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"var(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")


def _var_backward(grad, self, dim: tuple, keepdim: bool, correction):
    """2 (x - mean) / (N - correction) times the incoming gradient (inf when N <= correction)."""
    shape = self.shape
    count = _count(shape, dim)
    divisor = count - correction
    scale = 2.0 / divisor if divisor else math.inf
    centered = self - _math.sum_dims(self, dim, True) / builtins.max(count, 1)
    return _math.unsqueeze_reduced(grad * scale, shape, dim, keepdim) * centered


def _std_backward(grad, self, result, dim: tuple, keepdim: bool, correction):
    """The variance's gradient of grad / (2 std); 0 where std is 0 (selected, as PyTorch)."""
    zero = result == 0
    per_variance = _math.where(zero, 0.0, grad / (2 * _math.where(zero, 1.0, result)))
    return _var_backward(per_variance, self, dim, keepdim, correction)


class VarBackward0(Formula):
    """sum((x - mean)^2) / (N - correction): two passes, so no cancellation."""

    op_name = "var"

    @classmethod
    def forward(cls, self, dim, keepdim, correction):
        data = self._data
        count = _count(data.shape, dim)
        divisor = count - correction
        if divisor <= 0:
            warnings.warn(
                f"{cls.op_name}(): degrees of freedom is <= 0. Correction should be strictly less "
                "than the reduction factor (input numel divided by output numel).",
                UserWarning,
                stacklevel=4,
            )
            divisor = 0
        with np.errstate(all="ignore"):
            centered = data - np.mean(data, axis=dim, keepdims=True) if count else data
            variance = np.sum(centered * centered, axis=dim, keepdims=keepdim) / data.dtype.type(divisor)
        return cls.finish(variance)

    @staticmethod
    def finish(variance):
        return variance

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, dim, keepdim, correction: _var_backward(
            grad, self, dim, keepdim, correction),
    }


class StdBackward0(VarBackward0):
    """The square root of the variance."""

    op_name = "std"
    finish = staticmethod(np.sqrt)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, dim, keepdim, correction: _std_backward(
            grad, self, result, dim, keepdim, correction),
    }


def _spread_dims(input: Tensor, dim, unbiased):
    """Accept PyTorch's overloads: var(x, True) and var(x, dim, True)."""
    if isinstance(dim, bool):
        return normalize_dims(None, input.ndim), dim
    return normalize_dims(dim, input.ndim), unbiased


def _spread_samples(rng):
    # A 0-d or empty input has no spread (the result is NaN, as in PyTorch): not a gradient case.
    cases = [case for case in _samples.reduction()(rng) if case[0][0].numel() > 1]
    x = _samples.make(rng, (3, 4))
    cases += [((x,), {"correction": 0}), ((x, 1), {"unbiased": False}), ((x, 0, True, True), {})]
    return cases



@register(methods="var", samples=_spread_samples)
def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """The variance over `dim` (all dims by default), divided by N - correction (default 1)."""
    _check_floating(input)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(VarBackward0, input, dim=dims, keepdim=keepdim, correction=correction)


@register(methods="std", samples=_spread_samples)
def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """The standard deviation over `dim`: sqrt(var)."""
    _check_floating(input)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(StdBackward0, input, dim=dims, keepdim=keepdim, correction=correction)


def _spread_mean_backward(grads, self, dim: tuple, keepdim: bool, correction, deviation=None):
    """(var or std, mean) together: the sum of the gradients of the outputs that got one."""
    spread_grad = grads[0]
    mean_grad = grads[1] if len(grads) > 1 else None  # the engine passes as many as were used
    total = None
    if spread_grad is not None:
        if deviation is None:
            total = _var_backward(spread_grad, self, dim, keepdim, correction)
        else:
            total = _std_backward(spread_grad, self, deviation, dim, keepdim, correction)
    if mean_grad is not None:
        shape = self.shape
        part = _math.expand_reduced(mean_grad, shape, dim, keepdim) / builtins.max(_count(shape, dim), 1)
        total = part if total is None else total + part
    return total


class VarMeanBackward0(Formula):
    """(var, mean) over the same dims, in one node (as PyTorch)."""

    outputs = ("result0", "result1")
    spread = VarBackward0

    @classmethod
    def forward(cls, self, dim, keepdim, correction):
        spread = cls.spread.forward(self, dim, keepdim, correction)
        return spread, MeanBackward0.forward(self, dim, keepdim, None)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grads, self, dim, keepdim, correction: _spread_mean_backward(
            grads, self, dim, keepdim, correction),
    }


class StdMeanBackward0(VarMeanBackward0):
    """(std, mean) over the same dims, in one node (as PyTorch)."""

    spread = StdBackward0
    tangent = REDUCTION
    derivatives = {
        "self": lambda grads, self, result0, dim, keepdim, correction: _spread_mean_backward(
            grads, self, dim, keepdim, correction, result0),
    }


@register(samples=_spread_samples)
def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over the same dims."""
    _check_floating(input)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(VarMeanBackward0, input, dim=dims, keepdim=keepdim, correction=correction)


@register(samples=_spread_samples)
def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean) over the same dims."""
    _check_floating(input)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(StdMeanBackward0, input, dim=dims, keepdim=keepdim, correction=correction)


# ---------------------------------------------------------------------------
# Norms and log-sum-exp


def _norm_backward(grad, self, result, ord: float, dim: tuple, keepdim: bool):
    """The gradient of a vector p-norm, as PyTorch computes it at 0 and at ties."""
    shape = self.shape
    if ord == 0:
        return _math.zeros_like(self)
    grad = _math.unsqueeze_reduced(grad, shape, dim, keepdim)
    if ord == 1:
        return grad * _math.sign(self)
    result = _math.unsqueeze_reduced(result, shape, dim, keepdim)
    if ord in (math.inf, -math.inf):
        chosen = _math.abs(self) == result
        return _math.sign(self) * (grad / _math.count_along(chosen, dim, grad) * chosen)
    zero = result == 0
    safe_result = _math.where(zero, 1.0, result)
    if ord == 2:  # PyTorch multiplies by the mask here: a NaN or Inf grad at a zero norm leaks
        return self * (grad / safe_result) * (result != 0)
    if ord >= 1:
        per_result = _math.where(zero, 0.0, grad / safe_result ** (ord - 1))
        return _math.sign(self) * _math.abs(self) ** (ord - 1) * per_result
    # ord < 1: |x|^(ord - 1) is taken as 0 at x = 0, and grad / result^(ord - 1) is not masked
    # (at a zero norm it is grad * 0, NaN for a NaN or Inf grad, as PyTorch).
    nonzero = self != 0
    power = _math.abs(_math.where(nonzero, self, 1.0)) ** (ord - 1)
    return _math.sign(self) * _math.where(nonzero, power, 0.0) * (grad * result ** (1 - ord))


class LinalgVectorNormBackward0(Formula):
    """(sum |x|^p)^(1/p) over dims, with p = inf (max |x|), -inf, 0 (count) and 1, 2 exactly.

    The forward divides by the largest |x| first, so large values do not overflow.
    At 0 the gradient is 0 (p >= 1), and ties for p = +-inf share it evenly, as PyTorch.
    """

    @staticmethod
    def forward(self, ord, dim=None, keepdim=False, dims=None):
        # `dims`: the name linalg.vector_norm (ops/linalg.py) still passes; to go once it says `dim`.
        if dims is not None:
            dim = dims
        magnitude = np.abs(self._data)
        if ord == math.inf:
            return np.max(magnitude, axis=dim, keepdims=keepdim, initial=0.0)
        if ord == -math.inf:
            return np.min(magnitude, axis=dim, keepdims=keepdim)
        if ord == 0:
            return np.sum(magnitude != 0, axis=dim, keepdims=keepdim).astype(magnitude.dtype)
        if ord == 1:
            return np.sum(magnitude, axis=dim, keepdims=keepdim)
        scale = np.max(magnitude, axis=dim, keepdims=True, initial=0.0)
        safe_scale = np.where(scale > 0, scale, 1).astype(magnitude.dtype)
        with np.errstate(all="ignore"):
            scaled = np.sum((magnitude / safe_scale) ** ord, axis=dim, keepdims=True) ** (1 / ord)
        result = scaled * safe_scale
        return result if keepdim else result.reshape([s for i, s in enumerate(result.shape) if i not in dim])

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, ord, dim, keepdim, dims: _norm_backward(
            grad, self, result, ord, dim if dims is None else dims, keepdim),
    }


def _norm_samples(rng):
    x = _samples.make(rng, (2, 3))
    x._data[np.abs(x._data) < 0.1] = 0.3
    return [
        ((x,), {}),
        ((x, 2, 1), {}),
        ((x, 1), {}),
        ((x, 3.0, 0, True), {}),
        ((x, 0.5), {}),
        ((x, math.inf, 1), {}),
        ((x, -math.inf), {}),
        ((x, "fro", (0, 1)), {}),
        ((_samples.make(rng, ()),), {}),
    ]


@register(methods="norm", samples=_samples.plus(_norm_samples, {"dtype": _samples.FLOAT64}))
def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """The p-norm of all elements, or over `dim` ('fro' is the 2-norm of the flattened dims)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"norm(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_dtype.scalar_type_name(input.dtype)}"
        )
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm(p='{p}') is a matrix norm: use retrograd.linalg.matrix_norm")
    dims = normalize_dims(dim, input.ndim)
    return apply(LinalgVectorNormBackward0, input, ord=float(p), dim=dims, keepdim=keepdim)


class LogsumexpBackward0(Formula):
    """log(sum(exp(x))) over dims, shifted by the maximum so that exp cannot overflow."""

    @staticmethod
    def forward(self, dim, keepdim):
        data = self._data
        if data.dtype.kind != "f":
            data = data.astype(_dtype.get_default_dtype().numpy)
        if data.size == 0:
            return np.log(np.sum(np.exp(data), axis=dim, keepdims=keepdim))
        shift = np.max(data, axis=dim, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0).astype(data.dtype)
        with np.errstate(divide="ignore"):
            total = np.log(np.sum(np.exp(data - shift), axis=dim, keepdims=True)) + shift
        return total if keepdim else total.reshape([s for i, s in enumerate(total.shape) if i not in dim])

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, dim, keepdim: (
            _math.unsqueeze_reduced(grad, self.shape, dim, keepdim)
            * _math.exp(self - _math.unsqueeze_reduced(result, self.shape, dim, keepdim))),
    }


def _logsumexp_samples(rng):
    cases = _samples.reduction()(rng)[2:]
    big = _samples.make(rng, (2, 3), 1000.0, 1001.0)
    return [*cases, ((big, 1), {})]


@register(methods="logsumexp", samples=_logsumexp_samples)
def logsumexp(input, dim, keepdim: bool = False):
    """log(sum(exp(input))) over `dim`, stable for large values."""
    dims = normalize_dims(dim, input.ndim)
    return apply(LogsumexpBackward0, input, dim=dims, keepdim=keepdim)


# ---------------------------------------------------------------------------
# Truth and counting (not differentiable)


def _truth_reduction(input, dim, keepdim, kernel) -> Tensor:
    dims = normalize_dims(dim, input.ndim)
    result = kernel(input._data.astype(bool, copy=False), axis=dims, keepdims=keepdim)
    if input.dtype is _dtype.uint8:
        result = result.astype(np.uint8)
    return Tensor._make(np.asarray(result))


@register(methods="all", differentiable=False)
def all(input, dim=None, keepdim: bool = False):
    """Whether every element (over `dim`) is nonzero; bool (uint8 for uint8 input)."""
    return _truth_reduction(input, dim, keepdim, np.all)


@register(methods="any", differentiable=False)
def any(input, dim=None, keepdim: bool = False):
    """Whether some element (over `dim`) is nonzero; bool (uint8 for uint8 input)."""
    return _truth_reduction(input, dim, keepdim, np.any)


@register(methods="count_nonzero", differentiable=False)
def count_nonzero(input, dim=None):
    """The number of nonzero elements (over `dim`), as int64."""
    dims = normalize_dims(dim, input.ndim)
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=dims), dtype=np.int64))
