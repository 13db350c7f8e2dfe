"""Reductions that multiply or accumulate: prod, and the running sums and products (cumsum,
cumprod, cummax, cummin, logcumsumexp)."""

from __future__ import annotations

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShowsOneDimAsGiven
from .._table import apply, register
from .._tangents import LINEAR, REDUCTION
from .sums import _one_dim, normalize_dims

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
    from ..shape import cat, flip, narrow

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


class ProdBackward1(ShowsOneDimAsGiven, Formula):
    """Product along one dim (`dim` a 1-tuple for the formula, shown as the int the call
    gave, as PyTorch's node)."""

    @staticmethod
    def forward(self, dim, keepdim, dtype, dim_as_given=None):
        data = self._data
        return np.prod(data, axis=dim, keepdims=keepdim, dtype=_integer_accumulator(data, dtype))

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, result, dim, keepdim: _prod_dim_backward(grad, self, result, dim, keepdim),
    }


@register(methods="prod")
def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The product of all elements, or along one `dim`; exact gradients where elements are 0."""
    if dim is None:
        return apply(ProdBackward0, input, dtype=dtype)
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(
            f"prod(): argument 'dim' (position 2) must be int, not {type(dim).__name__}"
        )
    dims = normalize_dims(dim, input.ndim)
    return apply(ProdBackward1, input, dim=dims, keepdim=keepdim, dtype=dtype, dim_as_given=dim)


# ---------------------------------------------------------------------------
# Running sums and products


class CumsumBackward0(ShowsOneDimAsGiven, Formula):
    """Running sum along a dim: each input feeds every later output."""

    @staticmethod
    def forward(self, dim, dtype, dim_as_given=None):
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


@register(methods="cumsum", inplace="cumsum_")
def cumsum(input, dim: int, *, dtype=None):
    """The running sum along `dim` (integers accumulate in int64)."""
    given, dim = dim, _one_dim(input, dim, "cumsum")
    return apply(CumsumBackward0, input, dim=dim, dtype=dtype, dim_as_given=given)


def _data_of(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else x


def _summed_from_the_end(x, dim: int):
    """logcumsumexp running from the end of `dim`."""
    if isinstance(x, Tensor):
        return logcumsumexp(x.flip(dim), dim).flip(dim)
    return np.flip(np.logaddexp.accumulate(np.flip(x, dim), axis=dim), dim)


def _logcumsumexp_derivative(grad, self, result, dim: int):
    """PyTorch's logcumsumexp_backward: the positive and the negative parts of grad, each
    summed from the end of `dim` in log space (log|grad| - result), put back with exp(. + self).
    An element of grad that is neither > 0 nor < 0 (0, or NaN) adds nothing, as there."""
    if grad.ndim == 0 or _math.numel(grad) == 0:
        return grad
    lowest = float(np.finfo(_data_of(grad).dtype).min)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_size = _math.log(_math.absolute(grad))
    positive = _math.where(grad > 0, log_size, lowest)
    negative = _math.where(grad < 0, log_size, lowest)
    with np.errstate(over="ignore"):
        return (_math.exp(_summed_from_the_end(positive - result, dim) + self)
                - _math.exp(_summed_from_the_end(negative - result, dim) + self))


def _logcumsumexp_tangent(self, self_t, dim: int):
    """sum_{j <= i} exp(x_j) t_j / sum_{j <= i} exp(x_j), with exp shifted by the max along dim."""
    if self.ndim == 0 or _math.numel(self) == 0:
        return self_t
    with np.errstate(invalid="ignore"):
        peak = _math.constant(np.max(_data_of(self), axis=dim, keepdims=True), self)
        shifted = _math.exp(self - peak)
        return _math.cumsum(shifted * self_t, dim) / _math.cumsum(shifted, dim)


class LogcumsumexpBackward0(ShowsOneDimAsGiven, Formula):
    """log(cumsum(exp(self))) along a dim, without overflow or underflow."""

    @staticmethod
    def forward(self, dim, dim_as_given=None):
        data = self._data
        if data.ndim == 0 or data.size == 0:
            return data.copy()
        return np.logaddexp.accumulate(data, axis=dim)

    tangent = staticmethod(_logcumsumexp_tangent)
    derivatives = {"self": _logcumsumexp_derivative}


@register(methods="logcumsumexp")
def logcumsumexp(input, dim: int):
    """log(cumsum(exp(input))) along `dim`, without overflow or underflow."""
    given, dim = dim, _one_dim(input, dim, "logcumsumexp")
    if not input.dtype.is_floating_point:
        found = _dtype.scalar_type_name(input.dtype)
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{found}\'')
    return apply(LogcumsumexpBackward0, input, dim=dim, dim_as_given=given)


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


def _cumprod_tangent(x, x_t, result, dim):
    """y_k = prod_{j<=k} x_j: dy_k = y_k sum_{j<=k} dx_j / x_j where no x_j is zero. With
    zeros, from the first zero z of the dim on only the term of dx_z survives (the others
    keep the factor x_z = 0): dy_k = cumprod(x with x_z replaced by dx_z)_k. That tangent is
    right but its own derivative is not (it no longer depends on x_z); when the tangent is to
    be differentiated again (recorded, or carrying an outer level's tangent) the exact
    polynomial form is used instead: dy_k = sum_{i<=k} cumprod(x with x_i replaced by dx_i)_k,
    O(n^2) along the dim. Written with Tensors (arrays are wrapped)."""
    x, x_t, result = (Tensor._make(value) if isinstance(value, np.ndarray) else value
                      for value in (x, x_t, result))
    if x.ndim == 0:
        return x_t
    dim = dim % x.ndim
    if x.dtype != result.dtype:  # cumprod(..., dtype=)
        x, x_t = x.to(result.dtype), x_t.to(result.dtype)
    zero = x._data == 0
    if not zero.any():
        return cumsum(x_t / x, dim) * result
    if _differentiated_again(x, x_t):
        return _cumprod_tangent_exact(x, x_t, dim)
    first = zero & (np.cumsum(zero, axis=dim) == 1)
    from_first = np.cumsum(first, axis=dim) > 0
    safe = _math.where(Tensor._make(zero), 1.0, x)
    before = cumsum(x_t / safe, dim) * result
    after = cumprod(_math.where(Tensor._make(first), x_t, x), dim)
    return _math.where(Tensor._make(from_first), after, before)


def _differentiated_again(*values) -> bool:
    from ...autograd import forward_ad, grad_mode

    if grad_mode.is_grad_enabled():
        for value in values:
            if value.requires_grad:
                return True
    return forward_ad.has_tangent(values)


def _cumprod_tangent_exact(x: Tensor, x_t: Tensor, dim: int) -> Tensor:
    """sum_{i<=k} cumprod(copy i)_k over an n x n stack of copies of x, copy i with x_i
    replaced by dx_i (see _cumprod_tangent)."""
    shape = tuple(x.shape)
    size = shape[dim]
    leading, trailing = shape[:dim], shape[dim + 1:]
    stacked = (*leading, size, size, *trailing)  # dims dim and dim + 1: copy i, position k
    mask_shape = (size, size) + (1,) * len(trailing)
    diagonal = Tensor._make(np.eye(size, dtype=bool).reshape(mask_shape))
    copies = _math.where(diagonal, x_t.reshape(*leading, size, 1, *trailing).expand(stacked),
                         x.reshape(*leading, 1, size, *trailing).expand(stacked))
    running = cumprod(copies, dim + 1)
    up_to = Tensor._make(np.triu(np.ones((size, size), dtype=bool)).reshape(mask_shape))  # i <= k
    return _math.where(up_to, running, 0.0).sum(dim)


class CumprodBackward0(ShowsOneDimAsGiven, Formula):
    """Running product along a dim; exact gradients where elements are 0."""

    @staticmethod
    def forward(self, dim, dtype, dim_as_given=None):
        data = self._data
        if data.ndim == 0:
            return data.astype(_integer_accumulator(data, dtype) or data.dtype)
        return np.cumprod(data, axis=dim, dtype=_integer_accumulator(data, dtype))

    tangent = staticmethod(lambda self, self_t, result, dim: _cumprod_tangent(self, self_t, result, dim))
    derivatives = {"self": lambda grad, self, result, dim: _cumprod_backward(grad, self, result, dim)}


@register(methods="cumprod", inplace="cumprod_")
def cumprod(input, dim: int, *, dtype=None):
    """The running product along `dim`; exact gradients where elements are 0."""
    given, dim = dim, _one_dim(input, dim, "cumprod")
    return apply(CumprodBackward0, input, dim=dim, dtype=dtype, dim_as_given=given)
