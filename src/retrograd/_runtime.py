"""Settings and small helpers of the `torch` namespace that programs call even on a CPU:
thread counts, determinism and precision switches, memory formats, window functions,
`unravel_index`, `histogram`, `asarray`, `empty_strided`, and the function forms of
dropout. The settings are remembered and reported back; where they steer PyTorch's C++
kernels they change nothing here (retrograd's kernels are NumPy's), as each docstring says.
"""

from __future__ import annotations

import math
import os

import numpy as np

from . import _dtype
from ._tensor import Tensor

__all__ = [
    "alpha_dropout",
    "alpha_dropout_",
    "are_deterministic_algorithms_enabled",
    "asarray",
    "bartlett_window",
    "blackman_window",
    "channels_last",
    "channels_last_3d",
    "conj",
    "conj_physical",
    "contiguous_format",
    "dropout",
    "dropout_",
    "embedding_renorm_",
    "empty_strided",
    "feature_alpha_dropout",
    "feature_alpha_dropout_",
    "feature_dropout",
    "feature_dropout_",
    "get_deterministic_debug_mode",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "get_num_threads",
    "hamming_window",
    "hann_window",
    "histogram",
    "histogramdd",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_conj",
    "is_deterministic_algorithms_warn_only_enabled",
    "is_neg",
    "is_warn_always_enabled",
    "kaiser_window",
    "legacy_contiguous_format",
    "max_pool1d_with_indices",
    "memory_format",
    "pdist",
    "preserve_format",
    "resolve_conj",
    "resolve_neg",
    "rrelu",
    "set_anomaly_enabled",
    "set_deterministic_debug_mode",
    "set_float32_matmul_precision",
    "set_flush_denormal",
    "set_num_interop_threads",
    "set_num_threads",
    "set_warn_always",
    "unravel_index",
    "use_deterministic_algorithms",
]


# ---------------------------------------------------------------------------
# Settings


class _Settings:
    num_threads = os.cpu_count() or 1
    num_interop_threads = os.cpu_count() or 1
    deterministic = False
    deterministic_warn_only = False
    matmul_precision = "highest"
    warn_always = False


def set_num_threads(num: int) -> None:
    """Remember the intra-op thread count (NumPy's BLAS keeps its own setting)."""
    if int(num) <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _Settings.num_threads = int(num)


def get_num_threads() -> int:
    """The intra-op thread count last set (the number of CPUs at start)."""
    return _Settings.num_threads


def set_num_interop_threads(num: int) -> None:
    """Remember the inter-op thread count (retrograd runs ops one at a time)."""
    if int(num) <= 0:
        raise RuntimeError("Expected positive number of threads")
    _Settings.num_interop_threads = int(num)


def get_num_interop_threads() -> int:
    """The inter-op thread count last set (the number of CPUs at start)."""
    return _Settings.num_interop_threads


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Remember the switch; retrograd's kernels are deterministic either way."""
    _Settings.deterministic = bool(mode)
    _Settings.deterministic_warn_only = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether use_deterministic_algorithms(True) was called."""
    return _Settings.deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether use_deterministic_algorithms was called with warn_only=True."""
    return _Settings.deterministic_warn_only


def set_deterministic_debug_mode(debug_mode) -> None:
    """0/"default", 1/"warn" or 2/"error": use_deterministic_algorithms in one number."""
    modes = {"default": 0, "warn": 1, "error": 2}
    mode = modes.get(debug_mode, debug_mode) if isinstance(debug_mode, str) else int(debug_mode)
    if mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(mode > 0, warn_only=mode == 1)


def get_deterministic_debug_mode() -> int:
    """0 (off), 1 (warn only) or 2 (on), as set."""
    if not _Settings.deterministic:
        return 0
    return 1 if _Settings.deterministic_warn_only else 2


def set_float32_matmul_precision(precision: str) -> None:
    """Remember the precision ('highest', 'high' or 'medium'); NumPy always computes in full."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision}")
    _Settings.matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """The precision last set: 'highest' unless changed."""
    return _Settings.matmul_precision


def set_warn_always(b: bool) -> None:
    """Remember whether warnings that PyTorch gives once should be given every time."""
    _Settings.warn_always = bool(b)


def is_warn_always_enabled() -> bool:
    """Whether set_warn_always(True) was called."""
    return _Settings.warn_always


def set_flush_denormal(mode: bool) -> bool:
    """Accepted; denormals are kept (NumPy has no switch). Returns True as on x86 CPUs."""
    return True


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (see autograd.detect_anomaly)."""
    from .autograd import anomaly

    return anomaly.is_anomaly_enabled()


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also checks backward results for NaN."""
    from .autograd import anomaly

    return anomaly.is_anomaly_check_nan_enabled()


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Switch anomaly detection on or off (see autograd.set_detect_anomaly)."""
    from .autograd import anomaly

    anomaly.set_detect_anomaly(enabled, check_nan)


class memory_format:
    """A memory layout name (retrograd tensors are always row-major)."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return f"retrograd.{self._name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
legacy_contiguous_format = memory_format("legacy_contiguous_format")


# ---------------------------------------------------------------------------
# Making tensors


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False) -> Tensor:
    """`obj` as a tensor, sharing memory where it can unless `copy=True`."""
    from ._creation import as_tensor, tensor

    if copy:
        result = tensor(obj._data if isinstance(obj, Tensor) else obj, dtype=dtype)
    else:
        result = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        result.requires_grad_(True)
    return result


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """A zero-filled tensor of `size` laid out with `stride` (in elements) on a storage just
    long enough (PyTorch leaves the memory uninitialised)."""
    from ._creation import empty
    from ._storage import strided_storage

    plain = empty(0, dtype=dtype, device=device)
    size, stride = tuple(int(length) for length in size), tuple(int(step) for step in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                           f"strides ({len(stride)})")
    result = Tensor._make(strided_storage(size, stride, plain._data.dtype))
    return result.requires_grad_(requires_grad) if requires_grad else result


def _window(values: np.ndarray, dtype, requires_grad: bool) -> Tensor:
    from ._creation import _float_dtype, _new

    return _new(values.astype(_float_dtype(dtype).numpy), requires_grad)


def _positions(window_length: int, periodic: bool) -> tuple[np.ndarray, int]:
    if window_length < 0:
        raise RuntimeError(f"window_length must be non-negative, got {window_length}")
    count = window_length + 1 if periodic else window_length
    return np.arange(window_length, dtype=np.float64), count


def _cosine_window(window_length: int, periodic: bool, terms: tuple, dtype, requires_grad):
    if window_length == 1:
        return _window(np.ones(1), dtype, requires_grad)
    n, count = _positions(window_length, periodic)
    values = np.zeros(window_length)
    for order, coefficient in enumerate(terms):
        values = values + coefficient * np.cos(2 * math.pi * order * n / max(count - 1, 1))
    return _window(values, dtype, requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                requires_grad: bool = False) -> Tensor:
    """0.5 - 0.5 cos(2 pi n / (N - 1)) (N = length + 1 when periodic)."""
    return _cosine_window(window_length, periodic, (0.5, -0.5), dtype, requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """alpha - beta cos(2 pi n / (N - 1))."""
    return _cosine_window(window_length, periodic, (alpha, -beta), dtype, requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _cosine_window(window_length, periodic, (0.42, -0.5, 0.08), dtype, requires_grad)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    requires_grad: bool = False) -> Tensor:
    """The triangle 1 - |2n / (N - 1) - 1|."""
    if window_length == 1:
        return _window(np.ones(1), dtype, requires_grad)
    n, count = _positions(window_length, periodic)
    return _window(1 - np.abs(2 * n / max(count - 1, 1) - 1), dtype, requires_grad)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None,
                  layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)."""
    if window_length == 1:
        return _window(np.ones(1), dtype, requires_grad)
    n, count = _positions(window_length, periodic)
    ratio = 2 * n / max(count - 1, 1) - 1
    values = np.i0(beta * np.sqrt(np.clip(1 - ratio * ratio, 0, None))) / np.i0(beta)
    return _window(values, dtype, requires_grad)


def unravel_index(indices, shape) -> tuple:
    """The coordinates, in a tensor of `shape`, of each flat (row-major) index."""
    if not isinstance(indices, Tensor):
        indices = Tensor._make(np.asarray(indices))
    if indices.dtype.is_floating_point or indices.dtype is _dtype.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype!r}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    total = int(np.prod(shape, dtype=np.int64))
    flat = indices._data.astype(np.int64)
    if flat.size and (flat.max() >= total or flat.min() < -total):
        raise RuntimeError("'indices' must be in range [-prod(shape), prod(shape) - 1]")
    parts = np.unravel_index(flat % max(total, 1), shape)
    return tuple(Tensor._make(np.asarray(part, dtype=np.int64)) for part in parts)


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False, out=None):
    """Counts of `input` in equal bins (a number of bins, over `range` or the data's range)
    or between given edges (a tensor); returns (hist, bin_edges)."""
    if out is not None:  # see Note [out= arguments] (ops/_out.py)
        from .ops import _out

        found = histogram(input, bins, range=range, weight=weight, density=density)
        return _out.write(out, found, "histogram")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, "
                           f"but got input {input.dtype!r}")
    data = input._data.reshape(-1)
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    weights = weight._data.reshape(-1) if weight is not None else None
    counts, bin_edges = np.histogram(data, bins=edges, range=range, weights=weights, density=density)
    dtype = input._data.dtype
    from .return_types import histogram as result_type

    return result_type(Tensor._make(counts.astype(dtype)), Tensor._make(bin_edges.astype(dtype)))


def histogramdd(input, bins=10, *, range=None, weight=None, density: bool = False):
    """Counts of the points of `input` (..., D) in a D-dimensional grid of bins: a number of equal
    bins per dimension (one for all, or one each) over `range` (min, max per dimension, flat) or
    the data's range, or each dimension's edges (1-d tensors); returns (hist, bin_edges)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"histogramdd(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{_dtype.scalar_type_name(input.dtype)}'")
    if input.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    dims = input.shape[-1]
    dtype = input._data.dtype
    points = input._data.reshape(-1, dims).astype(np.float64)
    edges = _histogram_edges(points, bins, range, dims, dtype)
    weights = None if weight is None else weight._data.reshape(-1).astype(np.float64)
    if all(np.all(np.diff(edge) >= 0) for edge in edges):
        counts, _ = np.histogramdd(points, bins=[edge.astype(np.float64) for edge in edges],
                                   weights=weights, density=density)
    else:  # decreasing edges hold no point (as PyTorch's kernel finds none)
        counts = np.zeros([len(edge) - 1 for edge in edges])
    from .return_types import histogramdd as result_type

    return result_type(Tensor._make(counts.astype(dtype)), tuple(Tensor._make(edge) for edge in edges))


def _histogram_edges(points: np.ndarray, bins, range, dims: int, dtype) -> list:
    """Each dimension's bin edges, in the input's dtype, as torch.histogramdd checks them."""
    edges_given = isinstance(bins, list | tuple) and len(bins) > 0 and isinstance(bins[0], Tensor)
    if isinstance(bins, Tensor) or edges_given:
        given = [bins] if isinstance(bins, Tensor) else list(bins)
        if len(given) != dims:
            raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension "
                               "of the input.")
        return [edge._data.astype(dtype) for edge in given]
    counts = [int(bins)] * dims if isinstance(bins, int | np.integer) else [int(b) for b in bins]
    if len(counts) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of "
                           "the input.")
    for dim, count in enumerate(counts):
        if count <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for dimension {dim}")
    if range is not None and len(range) != 2 * dims:
        raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram range should have "
                           f"{2 * dims} elements, but got {len(range)}")
    edges = []
    for dim, count in enumerate(counts):
        low, high = _histogram_range(points[:, dim], range, dim)
        edges.append(np.linspace(low, high, count + 1).astype(dtype))
    return edges


def _histogram_range(values: np.ndarray, range, dim: int) -> tuple[float, float]:
    if range is not None:
        low, high = float(range[2 * dim]), float(range[2 * dim + 1])
    elif values.size:
        low, high = float(values.min()), float(values.max())
    else:
        low, high = 0.0, 1.0
    if low > high:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {low:g} max "
                           f"{high:g} for dimension {dim}")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histogramdd: dimension {dim}'s range [{low:g}, {high:g}] is not finite")
    if low == high:
        low, high = low - 0.5, high + 0.5
    return low, high


# ---------------------------------------------------------------------------
# Dropout as functions of the torch namespace: `torch.dropout(input, p, train)`


def dropout(input, p: float, train: bool) -> Tensor:
    """nn.functional.dropout(input, p, train)."""
    from .nn import functional

    return functional.dropout(input, p, train)


def dropout_(input, p: float, train: bool) -> Tensor:
    """Dropout in place."""
    from .nn import functional

    return functional.dropout(input, p, train, inplace=True)


def feature_dropout(input, p: float, train: bool) -> Tensor:
    """Dropout of whole channels (dropout2d for inputs of more than 2 dims)."""
    from .nn import functional

    return functional.dropout2d(input, p, train) if input.ndim > 2 else functional.dropout(input, p, train)


def feature_dropout_(input, p: float, train: bool) -> Tensor:
    """feature_dropout in place."""
    return input.copy_(feature_dropout(input, p, train))


def alpha_dropout(input, p: float, train: bool) -> Tensor:
    """nn.functional.alpha_dropout(input, p, train)."""
    from .nn import functional

    return functional.alpha_dropout(input, p, train)


def alpha_dropout_(input, p: float, train: bool) -> Tensor:
    """alpha_dropout in place."""
    return input.copy_(alpha_dropout(input, p, train))


def feature_alpha_dropout(input, p: float, train: bool) -> Tensor:
    """nn.functional.feature_alpha_dropout(input, p, train)."""
    from .nn import functional

    return functional.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p: float, train: bool) -> Tensor:
    """feature_alpha_dropout in place."""
    return input.copy_(feature_alpha_dropout(input, p, train))


# ---------------------------------------------------------------------------
# Function forms of nn.functional ops that PyTorch also has in the torch namespace


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """nn.functional.pdist: the p-norm distance between every pair of rows i < j."""
    from .nn import functional

    return functional.pdist(input, p)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator=None) -> Tensor:
    """nn.functional.rrelu: leaky ReLU with a slope drawn from [lower, upper] in training, and
    their mean otherwise."""
    from .nn import functional

    if generator is not None:
        raise NotImplementedError("rrelu(): a generator= other than the default one is not supported")
    return functional.rrelu(input, lower, upper, training)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode: bool = False) -> tuple:
    """nn.functional.max_pool1d_with_indices: (the maxima, their positions); an empty `stride`
    is the kernel size, as PyTorch."""
    from .nn import functional

    stride = None if stride in ((), []) else stride
    return functional.max_pool1d_with_indices(input, kernel_size, stride, padding, dilation,
                                              ceil_mode, return_indices=True)


# ---------------------------------------------------------------------------
# Conjugation: retrograd's dtypes are real, so a tensor is its own conjugate (as in PyTorch,
# where these give back the very tensor for a real one)


def conj(input: Tensor) -> Tensor:
    """`input` itself: a real tensor is its own conjugate."""
    return input


def conj_physical(input: Tensor, *, out=None) -> Tensor:
    """`input` itself (a real tensor is its own conjugate), or written into `out`."""
    if out is not None:  # see Note [out= arguments] (ops/_out.py)
        from .ops import _out

        return _out.write(out, input, "conj_physical")
    return input


def resolve_conj(input: Tensor) -> Tensor:
    """`input` itself: a real tensor has no lazy conjugation to resolve."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """`input` itself: retrograd never negates lazily."""
    return input


def is_conj(input: Tensor) -> bool:
    """False: a real tensor is never a lazy conjugate."""
    return False


def is_neg(input: Tensor) -> bool:
    """False: retrograd never negates lazily."""
    return False


def embedding_renorm_(input: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> Tensor:
    """Rescale, in place, each row of the matrix `input` named in `indices` whose
    `norm_type`-norm exceeds `max_norm` to that norm (what `embedding(max_norm=...)` does to
    its weight before looking rows up); outside autograd, as in PyTorch."""
    from .ops.nn.sparse import _renormalize_rows

    if indices.dtype.name not in ("int64", "int32"):
        raise RuntimeError(
            "Expected tensor for argument #2 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {_dtype.tensor_type_name(indices.dtype)} instead (while checking "
            "arguments for embedding_renorm_)")
    if input.ndim != 2:
        raise RuntimeError(f"Expected 2-dimensional tensor, but got {input.ndim}-dimensional tensor for "
                           "argument #1 'self' (while checking arguments for embedding_renorm_)")
    _renormalize_rows(input, np.unique(indices._data.reshape(-1)), float(max_norm), float(norm_type))
    return input
