"""Composite operators, numeric: the tensor-argument checks every composite shares, and the
pointwise ops, reductions, scans, statistics and distances written with other ops."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ... import _dtype, return_types
from ..._tensor import Tensor
from ..._warnings import warn_at_caller
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, ShowsDimAsGiven, as_given, dims_as_given
from .._table import apply
from .._table import register as _register_in_table
from .._tangents import ELEMENT_WISE, LINEAR, REDUCTION
from ..pointwise.promotion import operand_arrays
from ..reduce.ordering import _amax_backward
from ..reduce.statistics import _norm_backward, vector_norm_of_array
from ..shape.reorder import slice_along
from ..shape.views import wrap_dim


# Parameters that must hold tensors, checked (with PyTorch's TypeError) before a composite runs.
def register(**options):
    """The op table's `register`: it also checks the tensor arguments (Note [Checked arguments])."""
    return _register_in_table(**options)


def _retrograd():
    import retrograd

    return retrograd


def _as_tensor(value, like: Tensor | None = None) -> Tensor:
    if isinstance(value, Tensor):
        return value
    dtype = like.dtype if like is not None and like.dtype.is_floating_point else None
    return _retrograd().tensor(value, dtype=dtype)


def _float_dtype_of(tensor: Tensor):
    return tensor.dtype if tensor.dtype.is_floating_point else _dtype.get_default_dtype()


def _refuse_integers(tensor: Tensor, kernel: str) -> None:
    """PyTorch's NotImplementedError for a floating-only kernel given an integer tensor."""
    if not tensor.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_dtype.scalar_type_name(tensor.dtype)}'"
        )


def _same_dtype(tensors, message: str) -> None:
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError(message)


def _check_square(matrix: Tensor, prefix: str) -> None:
    if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
        rows, columns = (matrix.shape[-2], matrix.shape[-1]) if matrix.ndim >= 2 else (0, 0)
        raise RuntimeError(
            f"{prefix}A must be batches of square matrices, but they are {rows} by {columns} matrices"
        )


def _floating(tensor: Tensor) -> Tensor:
    return tensor if tensor.dtype.is_floating_point else tensor.to(_dtype.get_default_dtype())


# ---------------------------------------------------------------------------
# Pointwise


@register(methods="signbit", differentiable=False)
def signbit(input):
    """Whether the sign bit is set (True for -0.0)."""
    return Tensor._make(np.asarray(np.signbit(input._data)))


@register(methods="heaviside", inplace="heaviside_", differentiable=False)
def heaviside(input, values):
    """0 where input < 0, 1 where input > 0, and `values` where input == 0."""
    if input.dtype is not values.dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes: "
            f"{input.dtype!r} and {values.dtype!r}"
        )
    data = np.where(input._data == 0, values._data, (input._data > 0).astype(input._data.dtype))
    return Tensor._make(np.asarray(data, dtype=input._data.dtype))


# ---------------------------------------------------------------------------
# Reductions and scans


class NansumBackward0(ShownAsPyTorch, Formula):
    """The sum over `dim` (every dim by default), NaN counted as zero: the gradient is the
    incoming one, spread back, and 0 where the input was NaN. Its `dim` shows as the call
    gave it (None when it gave none), as PyTorch's node."""

    @staticmethod
    def forward(self, dim, keepdim=False, dtype=None, dim_as_given=None):
        data = self._data
        if data.dtype.kind in "fc":
            data = np.where(np.isnan(data), 0, data)
        elif dtype is None:
            dtype = _dtype.int64
        return np.add.reduce(data, axis=dim, dtype=None if dtype is None else dtype.numpy, keepdims=keepdim)

    # (PyTorch's: the tangent where the input is not NaN, summed as the forward sums)
    tangent = staticmethod(lambda self, self_t, dim, keepdim: _math.sum_dims(
        _math.where(_math.isnan(self), 0.0, self_t), dim, keepdim))
    derivatives = {
        "self": lambda grad, self, dim, keepdim: _math.where(
            _math.isnan(self), 0.0, _math.expand_reduced(grad, self.shape, dim, keepdim)),
    }
    shown: ClassVar[dict] = {"dim": as_given("dim", dims_as_given)}


@register(methods="nansum")
def nansum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum, treating NaN as zero."""
    from ..reduce import normalize_dims

    dims = normalize_dims(dim, input.ndim)
    return apply(NansumBackward0, input, dim=dims, keepdim=keepdim, dtype=dtype, dim_as_given=dim)


@register(methods="nanmean")
def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean of the elements that are not NaN."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got "
            f"{_dtype.scalar_type_name(input.dtype)}"
        )
    present = ~input.isnan()  # (counted in int64, as PyTorch: its node saves that count)
    if dim is None:
        return nansum(input, dtype=dtype) / present.sum()
    return nansum(input, dim, keepdim, dtype=dtype) / present.sum(dim, keepdim=keepdim)


_AminmaxResult = return_types.aminmax


class AminmaxBackward0(Formula):
    """(min, max) over `dim` (all dims when None) in one node, as PyTorch: each output's
    gradient is amin's or amax's (ties share it), and the two are summed."""

    outputs = ("min", "max")

    @staticmethod
    def forward(self, dim, keepdim):
        dims = _reduced_dims(self.ndim, dim)
        data = self._data
        return np.min(data, axis=dims, keepdims=keepdim), np.max(data, axis=dims, keepdims=keepdim)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grads, self, min, max, dim, keepdim: _aminmax_backward(
            grads, self, min, max, dim, keepdim),
    }


def _reduced_dims(ndim: int, dim) -> tuple:
    """The dims aminmax reduces: all for None, else the one given (none of a 0-d tensor)."""
    return tuple(range(ndim)) if dim is None or not ndim else (dim % ndim,)


def _aminmax_backward(grads, self, min, max, dim, keepdim: bool):
    """The sum of amin's and amax's gradients, for the outputs that got one."""
    dims = _reduced_dims(len(self.shape), dim)
    total = None
    for grad, result in zip(grads, (min, max)):  # (the engine passes as many as were used)
        if grad is not None:
            part = _amax_backward(grad, self, result, dims, keepdim)
            total = part if total is None else total + part
    return total


@register(methods="aminmax")
def aminmax(input, *, dim=None, keepdim: bool = False):
    """The smallest and largest elements (over `dim`, or all): (min, max)."""
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            )
    else:
        wrapped = input._wrap_dim(dim)
        if input.ndim and input.shape[wrapped] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {wrapped} to have non-zero size.")
    return _AminmaxResult(*apply(AminmaxBackward0, input, dim=dim, keepdim=keepdim))


@register(methods="diff")
def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """Differences of neighbours along `dim`, `n` times (after adding prepend/append)."""
    rg = _retrograd()
    from ..reduce import normalize_dims

    (wrapped,) = normalize_dims(dim, max(input.ndim, 1))  # PyTorch's "Dimension out of range"
    # (the pieces are cut and joined along the dim as given, which their nodes show)
    pieces = [value for value in (prepend, input, append) if value is not None]
    x = rg.cat(pieces, dim) if len(pieces) > 1 else input
    for _ in range(n):
        size = x.shape[wrapped]
        if size == 0:
            break
        later, earlier = x.narrow(dim, 1, size - 1), x.narrow(dim, 0, size - 1)
        x = (later != earlier) if x.dtype is _dtype.bool else later - earlier
    return x


@register(methods="msort")
def msort(input):
    """`input` sorted along its first dimension."""
    return input.sort(dim=0).values


def _check_sample_points(y, x, dim, op_name: str) -> None:
    """One `x` per sample of `y` along `dim` (x 1-d, or of y's rank), as PyTorch checks."""
    if isinstance(x, Tensor) and isinstance(y, Tensor) and y.ndim:
        along = x.shape[0] if x.ndim == 1 else x.shape[dim] if x.ndim == y.ndim else None
        if along is not None and along != y.shape[dim]:
            raise RuntimeError(f"{op_name}: There must be one `x` value for each sample point")


def _trapezoid_parts(y, x, dx, dim):
    """Each interval's trapezoid along dim, as PyTorch records it: (left + right) times dx / 2
    (a Scalar: MulBackward1) for even spacing; for sample points `x`, (left + right) times
    x's differences, not yet halved (the caller halves the sum, DivBackward1 by 2, as PyTorch,
    and gives the dim wrapped, as PyTorch's nodes show it there)."""
    pairs = slice_along(y, dim, 0, -1) + slice_along(y, dim, 1)
    if x is None:
        return apply(MulBackward1, pairs, other=(1.0 if dx is None else dx) / 2.0)
    if x.ndim == 1:  # (viewed along y's dim, as PyTorch)
        shape = [1] * y.ndim
        shape[dim] = x.shape[0]
        x = x.view(shape)
    elif x.ndim != y.ndim:
        return pairs * x.diff(dim=-1)
    return pairs * (slice_along(x, dim, 1) - slice_along(x, dim, 0, -1))


def _halved(total, x):
    """A sum of trapezoids over sample points, halved as PyTorch does it (see _trapezoid_parts)."""
    return total if x is None else apply(DivBackward1, total, other=2.0)


class MulBackward1(Formula):
    """A tensor times a number, as PyTorch's own composites multiply (by a Scalar, which its
    node saves as `other`); Python's `tensor * number` records MulBackward0, as there."""

    inputs = ("self",)

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "mul")
        return left * right

    tangent = LINEAR
    derivatives = {"self": lambda grad, other: grad * other}


class DivBackward1(Formula):
    """A tensor divided by a number, as PyTorch's own composites divide by a Scalar (its node
    saves it as `other`); Python's `tensor / number` records DivBackward0, as there."""

    inputs = ("self",)

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "div")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.true_divide(left, right)

    tangent = LINEAR
    derivatives = {"self": lambda grad, other: grad / other}


class SubBackward1(Formula):
    """A tensor minus a number, as PyTorch's own composites subtract a Scalar (its node saves
    nothing); Python's `tensor - number` records SubBackward0, as there."""

    inputs = ("self",)

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "sub")
        return left - right

    tangent = ELEMENT_WISE  # (affine: the number is not subtracted from the tangent)
    derivatives = {"self": lambda grad: grad}


class AddBackward1(Formula):
    """A tensor plus a number, as PyTorch's own composites add a Scalar (its node saves
    nothing); Python's `tensor + number` records AddBackward0, as there."""

    inputs = ("self",)

    @staticmethod
    def forward(self, other):
        left, right = operand_arrays(self, other, "add")
        return left + right

    tangent = ELEMENT_WISE  # (affine: the number is not added to the tangent)
    derivatives = {"self": lambda grad: grad}


def _norm_tangent(self, self_t, result, p, dim, keepdim):
    """NormBackward1's tangent: the norm's derivative at each element times the tangent,
    summed over `dim`; zeros for p = 0 (whose gradient is none)."""
    if p == 0:
        return _math.zeros_like(result)
    ones = _math.constant(np.ones(tuple(result.shape)), result)
    return _math.sum_dims(_norm_backward(ones, self, result, p, dim, keepdim) * self_t, dim, keepdim)


class NormBackward1(ShowsDimAsGiven, Formula):
    """The p-norm over dims as PyTorch's composites call it (`at::norm(self, p, dim,
    keepdim)`): the vector norm under its older node, which saves self, p, dim, keepdim and
    result; the same gradient (norm_backward), none at all for p = 0 (the input's gradient
    stays None there, as PyTorch's)."""

    @staticmethod
    def forward(self, p, dim, keepdim, dim_as_given=None):
        return vector_norm_of_array(self._data, p, dim, keepdim)

    tangent = staticmethod(_norm_tangent)
    derivatives = {"self": lambda grad, self, result, p, dim, keepdim: None if p == 0 else _norm_backward(
        grad, self, result, p, dim, keepdim)}


@register()
def trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The integral of `y` by the trapezoid rule, along `dim` (spacing `x` or `dx`, default 1)."""
    if y.shape[dim] == 0:
        return y.sum(dim)
    if x is None:
        # PyTorch's form (sum minus half the two ends), whose gradient at an end is
        # g * dx - g * dx / 2: an Inf arriving makes NaN there, as in PyTorch
        ends = y.select(dim, 0) + y.select(dim, -1)
        return apply(MulBackward1, y.sum(dim) - apply(MulBackward1, ends, other=0.5),
                     other=1.0 if dx is None else dx)
    if x is not None:
        dim = wrap_dim(dim, y.ndim)
    return _halved(_trapezoid_parts(y, x, dx, dim).sum(dim), x)


@register()
def trapz(y, x=None, *, dx=None, dim: int = -1):
    """The integral of `y` by the trapezoid rule (an older name of trapezoid)."""
    return trapezoid(y, x, dx=dx, dim=dim)


@register()
def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The running integral of `y` by the trapezoid rule, along `dim`."""
    _check_sample_points(y, x, dim, "cumulative_trapezoid")
    if y.shape[dim] == 0:
        return y.narrow(dim, 0, 0)
    if x is not None:
        dim = wrap_dim(dim, y.ndim)
    return _halved(_trapezoid_parts(y, x, dx, dim).cumsum(dim), x)


# ---------------------------------------------------------------------------
# Statistics and distances


def _checked_cov_weights(weights, kind: str, observations: int, dtype_ok, dtype_wanted: str) -> None:
    """PyTorch's checks of cov's `fweights` or `aweights`, in its order: at most 1-d, the
    right dtype family, one weight per observation, none negative (NaN counts as negative)."""
    if weights.ndim > 1:
        raise RuntimeError(f"cov(): expected {kind} to have one or fewer dimensions but got {kind} "
                           f"with {weights.ndim} dimensions")
    if not dtype_ok(weights.dtype):
        raise RuntimeError(f"cov(): expected {kind} to have {dtype_wanted} dtype but got {kind} with "
                           f"{_dtype.scalar_type_name(weights.dtype)} dtype")
    if weights.numel() != observations:
        raise RuntimeError(f"cov(): expected {kind} to have the same numel as there are observations "
                           f"in the input but got {weights.numel()} != {observations}")
    if observations and not bool((weights.detach().min() >= 0).item()):
        raise RuntimeError(f"cov(): {kind} cannot be negative")


def _is_integral(dtype) -> bool:
    return not dtype.is_floating_point and not dtype.is_complex and dtype is not _dtype.bool


@register(methods="cov")
def cov(input, *, correction: int = 1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of `input` (observations in columns).

    Each observation counts `fweights` times (integers) and weighs `aweights` (floats)."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input "
                           f"with {input.ndim} dimensions")
    if input.dtype is _dtype.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if isinstance(correction, bool) or not isinstance(correction, int):
        raise TypeError(f"cov(): argument 'correction' must be int, not {type(correction).__name__}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        _checked_cov_weights(fweights, "fweights", observations, _is_integral, "integral")
        weights = fweights.reshape(-1)
    if aweights is not None:
        _checked_cov_weights(aweights, "aweights", observations, lambda d: d.is_floating_point,
                             "floating point")
        weights = aweights.reshape(-1) if weights is None else weights * aweights.reshape(-1)
    # (the mean as PyTorch's graph has it: the sum divided by a tensor total, unsqueezed)
    if weights is None:
        total = Tensor._make(np.asarray(observations, dtype=np.int64))
        mean = _floating(x).sum(1) / total
    else:
        total = weights.sum()
        if not bool((total != 0).item()):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        mean = (x * weights).sum(1) / total
    centered = x - mean.unsqueeze(1)
    weighted = centered if weights is None else centered * weights
    divisor = _cov_normaliser(total, weights, aweights, correction)
    with np.errstate(divide="ignore", invalid="ignore"):  # a divisor of 0 gives inf and nan, silently
        return (centered @ weighted.t() / divisor).squeeze()


def _cov_normaliser(total, weights, aweights, correction: int):
    """The divisor of cov: the total weight less `correction` (less `correction` times the
    aweights-weighted mean of the aweights when they are given), and 0 with PyTorch's warning
    where that leaves no degree of freedom."""
    if weights is not None and correction != 0 and aweights is not None:
        divisor = total - correction * (weights * aweights.reshape(-1)).sum() / total
    else:
        divisor = total - correction
    if (divisor <= 0) if not isinstance(divisor, Tensor) else bool((divisor <= 0).item()):
        warn_at_caller("cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
                       "number of observations.")
        return 0
    return divisor


@register(methods="corrcoef")
def corrcoef(input):
    """The Pearson correlation coefficients of the variables in the rows of `input`."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    scale = c.diagonal().sqrt()
    return (c / scale.view(-1, 1) / scale.view(1, -1)).clamp(-1, 1)


_CDIST_MODES = {None: 0, "use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                "donot_use_mm_for_euclid_dist": 2}


def _cdist_arrays(x1: np.ndarray, x2: np.ndarray, p: float) -> np.ndarray:
    """The p-norm distances of the rows of x1 (..., r1, c) to those of x2 (..., r2, c), the
    batch dims broadcast, computed from the differences as PyTorch's direct kernel does."""
    difference = x1[..., :, None, :] - x2[..., None, :, :]
    if p == 0:
        return np.sum(difference != 0, axis=-1).astype(difference.dtype)
    if p == 2:
        return np.sqrt(np.sum(difference * difference, axis=-1))
    magnitude = np.abs(difference)
    if p == 1:
        return np.sum(magnitude, axis=-1)
    if p == math.inf:
        return np.max(magnitude, axis=-1, initial=0.0)
    return np.sum(magnitude ** p, axis=-1) ** (1 / p)


def _cdist_per_difference(difference, grad, dist, p: float):
    """The gradient reaching each difference x1[i] - x2[j] (..., r1, r2, c) of cdist, as
    PyTorch's kernel gives it: 0 where the distance is 0, ties of p = inf each given the
    whole gradient, and for p < 1 a zero difference gets 0."""
    if p == 0:
        return _math.zeros_like(difference)
    grad = _math.unsqueeze(grad, -1)
    if p == 1:
        return grad * _math.sign(difference)
    dist = _math.unsqueeze(dist, -1)
    if p == math.inf:
        return grad * _math.sign(difference) * (_math.abs(difference) == dist)
    zero = dist == 0
    scale = _math.where(zero, 0.0, grad / _math.where(zero, 1.0, dist) ** (p - 1))
    if p == 2:
        return difference * scale
    if p < 1:
        nonzero = difference != 0
        power = _math.where(nonzero, _math.abs(_math.where(nonzero, difference, 1.0)) ** (p - 1), 0.0)
    else:
        power = _math.abs(difference) ** (p - 1)
    return _math.sign(difference) * power * scale


def _cdist_backward(grad, x1, x2, result, p: float, which: int):
    """cdist's gradient for x1 (`which` 0) or x2 (1), summed back to its batch shape."""
    difference = _math.unsqueeze(x1, -2) - _math.unsqueeze(x2, -3)
    per_difference = _cdist_per_difference(difference, grad, result, p)
    if which == 0:
        return _math.sum_to_size(per_difference.sum(-2), tuple(x1.shape))
    return _math.sum_to_size(-per_difference.sum(-3), tuple(x2.shape))


def _cdist_tangent(x1, x2, x1_t, x2_t, result, p):
    difference = _math.unsqueeze(x1, -2) - _math.unsqueeze(x2, -3)
    factor = _cdist_per_difference(difference, _math.constant(1.0, result), result, p)
    return (factor * (_math.unsqueeze(x1_t, -2) - _math.unsqueeze(x2_t, -3))).sum(-1)


class CdistBackward0(Formula):
    """cdist by its direct kernel: one node, as PyTorch's `_cdist_forward` (saved x1, x2, p
    and result); its gradients are the p-norm's at each difference of rows, summed over the
    other input's rows (Note [cdist's two kernels])."""

    inputs = ("x1", "x2")

    @staticmethod
    def forward(x1, x2, p):
        return _cdist_arrays(x1._data, x2._data, p)

    tangent = staticmethod(_cdist_tangent)
    derivatives = {
        "x1": lambda grad, x1, x2, result, p: _cdist_backward(grad, x1, x2, result, p, 0),
        "x2": lambda grad, x1, x2, result, p: _cdist_backward(grad, x1, x2, result, p, 1),
    }


def _euclidean_arrays(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Euclidean distances by one matrix product, as PyTorch's `_euclidean_dist`: the rows
    [-2 x1, |x1|^2, 1] times [x2, 1, |x2|^2], clamped at 0 before the square root."""
    x1_norm = np.sum(x1 * x1, axis=-1, keepdims=True)
    x2_norm = np.sum(x2 * x2, axis=-1, keepdims=True)
    left = np.concatenate([x1 * -2, x1_norm, np.ones_like(x1_norm)], axis=-1)
    right = np.concatenate([x2, np.ones_like(x2_norm), x2_norm], axis=-1)
    return np.sqrt(np.maximum(left @ right.swapaxes(-1, -2), 0))


def _euclidean_backward(grad, x1, x2, result, which: int):
    """The Euclidean distances' gradient for x1 (`which` 0) or x2 (1): with r = grad / result
    (0 where the distance is 0), x1 * rowsum(r) - r x2 and x2 * colsum(r) - r^T x1."""
    zero = result == 0
    ratio = _math.where(zero, 0.0, grad / _math.where(zero, 1.0, result))
    if which == 0:
        gradient = x1 * _math.unsqueeze(ratio.sum(-1), -1) - ratio @ x2
        return _math.sum_to_size(gradient, tuple(x1.shape))
    gradient = x2 * _math.unsqueeze(ratio.sum(-2), -1) - _math.transpose(ratio, -1, -2) @ x1
    return _math.sum_to_size(gradient, tuple(x2.shape))


def _euclidean_tangent(x1, x2, x1_t, x2_t, result):
    zero = result == 0
    products = (x1_t * x1).sum(-1)
    inner = _math.unsqueeze(products, -1) + _math.unsqueeze((x2_t * x2).sum(-1), -2)
    cross = x1_t @ _math.transpose(x2, -1, -2) + x1 @ _math.transpose(x2_t, -1, -2)
    return _math.where(zero, 0.0, (inner - cross) / _math.where(zero, 1.0, result))


class EuclideanDistBackward0(Formula):
    """cdist's Euclidean distances by matrix products (Note [cdist's two kernels]): PyTorch's
    `_euclidean_dist` node, saving x1, x2 and result."""

    inputs = ("x1", "x2")

    @staticmethod
    def forward(x1, x2):
        return _euclidean_arrays(x1._data, x2._data)

    tangent = staticmethod(_euclidean_tangent)
    derivatives = {
        "x1": lambda grad, x1, x2, result: _euclidean_backward(grad, x1, x2, result, 0),
        "x2": lambda grad, x1, x2, result: _euclidean_backward(grad, x1, x2, result, 1),
    }


def _euclidean_cdist(x1: Tensor, x2: Tensor) -> Tensor:
    """PyTorch's matrix-product branch of cdist: the batch dims broadcast and flattened into
    one (expand, a contiguous copy where it takes one, view) unless they hold one batch,
    EuclideanDistBackward0, viewed to the output's shape."""
    batch = tuple(np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2])))
    (r1, columns), r2 = x1.shape[-2:], x2.shape[-2]
    count = math.prod(batch)
    if count != 1:
        x1 = x1.expand(*batch, r1, columns).contiguous().view(count, r1, columns)
        x2 = x2.expand(*batch, r2, columns).contiguous().view(count, r2, columns)
    return apply(EuclideanDistBackward0, x1, x2).view(*batch, r1, r2)


def _check_cdist(x1: Tensor, x2: Tensor, p: float, compute_mode) -> int:
    """PyTorch's checks of cdist's arguments, in its order; the compute mode as a number."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, tensor in (("X1", x1), ("X2", x2)):
        if tensor.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {tensor.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    _same_dtype((x1, x2), f"expected scalar type {_dtype.scalar_type_name(x1.dtype)} but found "
                          f"{_dtype.scalar_type_name(x2.dtype)}")
    if not x1.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: "
                           f"{_dtype.scalar_type_name(x1.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return _CDIST_MODES[compute_mode]


@register()
def cdist(x1, x2, p: float = 2.0, compute_mode=None):
    """The p-norm distance between each row of x1 and each row of x2 (batched).

    Note [cdist's two kernels]
        PyTorch computes the Euclidean distance (p = 2) by matrix products when asked to
        (compute_mode "use_mm_for_euclid_dist") or, by default, when either input has more
        than 25 rows: the node is then EuclideanDistBackward0, below a view to the output's
        shape. Every other call runs the direct kernel, one CdistBackward0. We take the same
        branch, so the graph and the rounding are PyTorch's."""
    mode = _check_cdist(x1, x2, p, compute_mode)
    rows = (x1.shape[-2], x2.shape[-2])
    if x1.numel() and x2.numel() and p == 2 and (mode == 1 or (mode == 0 and max(rows) > 25)):
        return _euclidean_cdist(x1, x2)
    return apply(CdistBackward0, x1, x2, p=float(p))


class DistBackward0(Formula):
    """The p-norm of input - other (broadcast): one node, as PyTorch's, whose gradients are
    the norm's at the difference (other's negated)."""

    inputs = ("self", "other")

    @staticmethod
    def forward(self, other, p):
        left, right = operand_arrays(self, other, "dist")
        difference = left - right
        if difference.dtype.kind not in "fc":
            name = _dtype.scalar_type_name(_dtype.from_numpy_dtype(difference.dtype))
            raise RuntimeError(
                f"norm(): input dtype should be either floating point or complex. Got {name} instead."
            )
        return vector_norm_of_array(difference, p, tuple(range(difference.ndim)), False)

    tangent = REDUCTION
    derivatives = {
        "self": lambda grad, self, other, result, p: _dist_backward(grad, self, other, result, p),
        "other": lambda grad, self, other, result, p: -_dist_backward(grad, self, other, result, p),
    }


def _dist_backward(grad, self, other, result, p):
    difference = self - other
    return _norm_backward(grad, difference, result, p, tuple(range(len(difference.shape))), False)


@register(methods="dist")
def dist(input, other, p: float = 2):
    """The p-norm of input - other."""
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return apply(DistBackward0, input, other, p=p)
