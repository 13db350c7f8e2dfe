"""Reductions of spread and size: var, std (and their _mean forms), norms, logsumexp, and the
not-differentiable truth and counting reductions (all, any, count_nonzero)."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, ShowsDimAsGiven, as_given, dims_as_given
from .._table import apply, register
from .._tangents import REDUCTION
from .sums import MeanBackward0, _count, normalize_dims

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


class _SpreadShownAsPyTorch(ShownAsPyTorch):
    """A spread node (var, std, their _mean forms) shows `dim` and `correction` as the call
    gave them: `var(x)` shows None for both (see Note [Saved values as PyTorch shows them])."""

    __slots__ = ()

    shown: ClassVar[dict] = {"dim": as_given("dim", dims_as_given), "correction": as_given("correction")}


def _spread_as_given(dim, unbiased, correction) -> dict:
    """The `_as_given` parameters of a spread node: PyTorch keeps `correction` None only when
    the call gave no dim, no `unbiased` and no `correction`."""
    if correction is None and unbiased is not None:
        correction = int(unbiased)
    elif correction is None and dim is not None:
        correction = 1
    return {"dim_as_given": dim, "correction_as_given": correction}


class VarBackward0(_SpreadShownAsPyTorch, Formula):
    """sum((x - mean)^2) / (N - correction): two passes, so no cancellation."""

    op_name = "var"

    @classmethod
    def forward(cls, self, dim, keepdim, correction, dim_as_given=None, correction_as_given=None):
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


def _spread_given(dim, unbiased) -> tuple:
    """(dim, unbiased) as the call meant them: var(x, True) gives `unbiased`, not a dim."""
    return (None, dim) if isinstance(dim, bool) else (dim, unbiased)


def _spread_dims(input: Tensor, dim, unbiased):
    """Accept PyTorch's overloads: var(x, True) and var(x, dim, True)."""
    if isinstance(dim, bool):
        return normalize_dims(None, input.ndim), dim
    return normalize_dims(dim, input.ndim), unbiased


@register(methods="var")
def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """The variance over `dim` (all dims by default), divided by N - correction (default 1)."""
    _check_floating(input)
    given = _spread_as_given(*_spread_given(dim, unbiased), correction)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(VarBackward0, input, dim=dims, keepdim=keepdim, correction=correction, **given)


@register(methods="std")
def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """The standard deviation over `dim`: sqrt(var)."""
    _check_floating(input)
    given = _spread_as_given(*_spread_given(dim, unbiased), correction)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(StdBackward0, input, dim=dims, keepdim=keepdim, correction=correction, **given)


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


class VarMeanBackward0(_SpreadShownAsPyTorch, Formula):
    """(var, mean) over the same dims, in one node (as PyTorch)."""

    outputs = ("result0", "result1")
    spread = VarBackward0

    @classmethod
    def forward(cls, self, dim, keepdim, correction, dim_as_given=None, correction_as_given=None):
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


@register()
def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over the same dims."""
    _check_floating(input)
    given = _spread_as_given(*_spread_given(dim, unbiased), correction)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(VarMeanBackward0, input, dim=dims, keepdim=keepdim, correction=correction, **given)


@register()
def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean) over the same dims."""
    _check_floating(input)
    given = _spread_as_given(*_spread_given(dim, unbiased), correction)
    dims, unbiased = _spread_dims(input, dim, unbiased)
    correction = _correction(unbiased, correction)
    return apply(StdMeanBackward0, input, dim=dims, keepdim=keepdim, correction=correction, **given)


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


class LinalgVectorNormBackward0(ShownAsPyTorch, Formula):
    """(sum |x|^p)^(1/p) over dims, with p = inf (max |x|), -inf, 0 (count) and 1, 2 exactly.

    The forward divides by the largest |x| first, so large values do not overflow.
    At 0 the gradient is 0 (p >= 1), and ties for p = +-inf share it evenly, as PyTorch.
    """

    shown: ClassVar[dict] = {"dim": as_given("dim", dims_as_given), "ord": as_given("ord")}
    hidden = ("dims",)

    @staticmethod
    def forward(self, ord, dim=None, keepdim=False, dims=None, dim_as_given=None, ord_as_given=None):
        # `dims`: the name linalg.vector_norm (ops/linalg/) still passes; to go once it says `dim`.
        if dims is not None:
            dim = dims
        return vector_norm_of_array(self._data, ord, dim, keepdim)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, ord, dim, keepdim, dims: _norm_backward(
            grad, self, result, ord, dim if dims is None else dims, keepdim),
    }


def vector_norm_of_array(data: np.ndarray, ord: float, dim: tuple, keepdim: bool) -> np.ndarray:
    """The vector `ord`-norm of an array over the dims `dim` (LinalgVectorNormBackward0's forward)."""
    magnitude = np.abs(data)
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


@register(methods="norm")
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
    return apply(LinalgVectorNormBackward0, input, ord=float(p), dim=dims, keepdim=keepdim, dim_as_given=dim,
                 ord_as_given=p)


class LogsumexpBackward0(ShowsDimAsGiven, Formula):
    """log(sum(exp(x))) over dims, shifted by the maximum so that exp cannot overflow."""

    @staticmethod
    def forward(self, dim, keepdim, dim_as_given=None):
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


@register(methods="logsumexp")
def logsumexp(input, dim, keepdim: bool = False):
    """log(sum(exp(input))) over `dim`, stable for large values."""
    dims = normalize_dims(dim, input.ndim)
    return apply(LogsumexpBackward0, input, dim=dims, keepdim=keepdim, dim_as_given=dim)


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
