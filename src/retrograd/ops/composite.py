"""Operators made of other operators: no node of their own, so their gradients come from the
ops they are written with (the graph shows those ops, e.g. `MulBackward0` for `deg2rad`).

Also the non-differentiable helpers PyTorch programs use for counting, searching and
indexing (`bincount`, `searchsorted`, `bucketize`, `isin`, `tril_indices`, ...), computed
directly on arrays.

Where a formula has a removable singularity (`sinc` at 0, `xlogy` at x = 0), the inputs are
first made safe with `where` so that no NaN reaches the gradient of the unselected branch
(DESIGN.md: select, never multiply by a mask).
"""

from __future__ import annotations

import collections
import itertools
import math
import numbers

import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor
from . import _out, _samples
from ._table import register as _register_in_table


# Parameters that must hold tensors, checked (with PyTorch's TypeError) before a composite runs.
def register(**options):
    """The op table's `register`: it also checks the tensor arguments (Note [Checked arguments])."""
    return _register_in_table(**options)

__all__ = [
    "aminmax",
    "argwhere",
    "bincount",
    "block_diag",
    "broadcast_shapes",
    "bucketize",
    "can_cast",
    "cartesian_prod",
    "cdist",
    "column_stack",
    "combinations",
    "copysign",
    "corrcoef",
    "cov",
    "cumulative_trapezoid",
    "deg2rad",
    "diff",
    "dist",
    "dsplit",
    "finfo",
    "heaviside",
    "histc",
    "hsplit",
    "iinfo",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "isin",
    "logaddexp",
    "logaddexp2",
    "logcumsumexp",
    "logspace",
    "msort",
    "nanmean",
    "nansum",
    "rad2deg",
    "ravel",
    "scalar_tensor",
    "searchsorted",
    "sgn",
    "signbit",
    "sinc",
    "trapezoid",
    "trapz",
    "tril_indices",
    "triu_indices",
    "vander",
    "vsplit",
    "xlogy",
]


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


@register(methods="deg2rad", inplace="deg2rad_", samples=_samples.unary())
def deg2rad(input):
    """Degrees to radians: input * pi / 180."""
    return _floating(input) * (math.pi / 180.0)


@register(methods="rad2deg", inplace="rad2deg_", samples=_samples.unary())
def rad2deg(input):
    """Radians to degrees: input * 180 / pi."""
    return _floating(input) * (180.0 / math.pi)


@register(methods="sinc", inplace="sinc_", samples=_samples.unary(0.1, 2.0))
def sinc(input):
    """sin(pi x) / (pi x), and 1 at x = 0."""
    rg = _retrograd()
    x = _floating(input)
    at_zero = x == 0
    safe = rg.where(at_zero, rg.ones_like(x), x) * math.pi
    return rg.where(at_zero, rg.ones_like(x), safe.sin() / safe)


@register(methods="xlogy", inplace="xlogy_", samples=_samples.binary(0.5, 2.0, scalar=1.5))
def xlogy(input, other):
    """input * log(other), and 0 where input is 0 (unless other is NaN)."""
    rg = _retrograd()
    x = _as_tensor(input, other if isinstance(other, Tensor) else None)
    y = _as_tensor(other, x)
    x, y = _floating(x), _floating(y)
    zero = (x == 0) & ~y.isnan()
    safe_y = rg.where(zero, rg.ones_like(y), y)
    product = x * safe_y.log()
    return rg.where(zero, rg.zeros_like(product), product)


@register(methods="logaddexp", samples=_samples.binary(scalar=None))
def logaddexp(input, other):
    """log(exp(input) + exp(other)), computed without overflow."""
    rg = _retrograd()
    for value in (input, other):
        if isinstance(value, Tensor):
            _refuse_integers(value, "logaddexp_cpu")
    larger = rg.maximum(input, other)
    return larger + (-(input - other).abs()).exp().log1p()


@register(methods="logaddexp2", samples=_samples.binary(scalar=None))
def logaddexp2(input, other):
    """log2(2**input + 2**other), computed without overflow."""
    for value in (input, other):
        if isinstance(value, Tensor):
            _refuse_integers(value, "logaddexp2_cpu")
    return logaddexp(input * math.log(2.0), other * math.log(2.0)) / math.log(2.0)


@register(methods="copysign", inplace="copysign_",
          samples=_samples.binary(0.2, 2.0, other_low=-2.0, other_high=2.0))
def copysign(input, other):
    """The magnitude of input with the sign of other (-0.0 counts as negative)."""
    rg = _retrograd()
    magnitude = _floating(_as_tensor(input)).abs()
    sign_source = other._data if isinstance(other, Tensor) else np.asarray(other)
    negative = Tensor._make(np.asarray(np.signbit(sign_source)))
    result = rg.where(negative, -magnitude, magnitude)
    if isinstance(other, Tensor) and other.requires_grad:
        # `other` gets a zero gradient, as in PyTorch: selected away, never multiplied by 0
        # (so a NaN arriving in the gradient stays out of it).
        nowhere = Tensor._make(np.zeros(other._data.shape, dtype=bool))
        result = result + rg.where(nowhere, other, rg.zeros_like(other))
    return result


@register(methods="signbit", differentiable=False)
def signbit(input):
    """Whether the sign bit is set (True for -0.0)."""
    return Tensor._make(np.asarray(np.signbit(input._data)))


@register(methods="sgn", inplace="sgn_", samples=_samples.unary(0.2, 2.0),
          gradcheck_wrapper=lambda op: lambda x: op(x) + 0 * x)  # PyTorch's zero gradient is a ZeroTensor
def sgn(input):
    """The sign of each element (for real tensors, the same as sign)."""
    return input.sign()


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


@register(methods="nansum",
          samples=_samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}))
def nansum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum, treating NaN as zero."""
    rg = _retrograd()
    cleaned = rg.where(input.isnan(), rg.zeros_like(input), input)
    if dim is None:
        return cleaned.sum(dtype=dtype)
    return cleaned.sum(dim, keepdim=keepdim, dtype=dtype)


@register(methods="nanmean",
          samples=_samples.plus(_samples.reduction(), {"dim": 1, "dtype": _samples.FLOAT64}))
def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean of the elements that are not NaN."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got "
            f"{_dtype.scalar_type_name(input.dtype)}"
        )
    present = (~input.isnan()).to(input.dtype)
    if dim is None:
        return nansum(input, dtype=dtype) / present.sum()
    return nansum(input, dim, keepdim, dtype=dtype) / present.sum(dim, keepdim=keepdim)


_aminmax_base = collections.namedtuple("aminmax", ("min", "max"))


class _AminmaxResult(_aminmax_base):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"retrograd.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})"


@register(methods="aminmax",
          samples=_samples.plus(lambda rng: [((_samples.make(rng, (2, 3)),), {"dim": 1})], {"keepdim": True}))
def aminmax(input, *, dim=None, keepdim: bool = False):
    """The smallest and largest elements (over `dim`, or all): (min, max)."""
    if dim is None:
        if keepdim:
            shape = (1,) * input.ndim
            return _AminmaxResult(input.amin().reshape(shape), input.amax().reshape(shape))
        return _AminmaxResult(input.amin(), input.amax())
    return _AminmaxResult(input.amin(dim, keepdim=keepdim), input.amax(dim, keepdim=keepdim))


@register(methods="logcumsumexp", samples=lambda rng: [
    ((_samples.make(rng, (2, 3)),), {"dim": 1}), ((_samples.make(rng, (4,)),), {"dim": 0}),
])
def logcumsumexp(input, dim: int):
    """log(cumsum(exp(input))) along `dim`, without overflow or underflow.

    With a gradient to record it runs logaddexp step by step along `dim` (one op per
    element of that dim); otherwise NumPy's logaddexp.accumulate does it in one call.
    """
    rg = _retrograd()
    _refuse_integers(input, "logcumsumexp_out_cpu")
    x = _floating(input)
    if x.ndim == 0 or x.numel() == 0:
        return x.clone()
    if not (x.requires_grad and rg.is_grad_enabled()) and getattr(x, "_fw_grad", None) is None:
        axis = x._wrap_dim(dim)
        return Tensor._make(np.logaddexp.accumulate(x._data, axis=axis))
    steps = x.unbind(dim)
    running = [steps[0]]
    for step in steps[1:]:
        running.append(logaddexp(running[-1], step))
    return rg.stack(running, dim)


@register(methods="diff", samples=_samples.plus(lambda rng: [
    ((_samples.make(rng, (5,)),), {}), ((_samples.make(rng, (3, 4)),), {"dim": 0, "n": 2}),
], {"prepend": lambda rng: _samples.make(rng, (2,)), "append": lambda rng: _samples.make(rng, (1,))}))
def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """Differences of neighbours along `dim`, `n` times (after adding prepend/append)."""
    rg = _retrograd()
    from .reduce import normalize_dims

    (dim,) = normalize_dims(dim, max(input.ndim, 1))  # PyTorch's "Dimension out of range"
    pieces = [value for value in (prepend, input, append) if value is not None]
    x = rg.cat(pieces, dim) if len(pieces) > 1 else input
    for _ in range(n):
        size = x.shape[dim]
        if size == 0:
            break
        later, earlier = x.narrow(dim, 1, size - 1), x.narrow(dim, 0, size - 1)
        x = (later != earlier) if x.dtype is _dtype.bool else later - earlier
    return x


@register(methods="msort", samples=lambda rng: [((_samples.make(rng, (4, 3)),), {})])
def msort(input):
    """`input` sorted along its first dimension."""
    return input.sort(dim=0).values


def _trapezoid_parts(y, x, dx, dim):
    count = y.shape[dim]
    left, right = y.narrow(dim, 0, count - 1), y.narrow(dim, 1, count - 1)
    if x is None:
        return (left + right) * ((1.0 if dx is None else dx) / 2.0)
    spacing = x.diff(dim=dim if x.ndim == y.ndim else -1)
    if x.ndim == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[dim] = count - 1
        spacing = spacing.reshape(shape)
    return (left + right) * spacing / 2.0


@register(samples=_samples.plus(lambda rng: [((_samples.make(rng, (5,)),), {}),
                                            ((_samples.make(rng, (2, 4)),), {"dx": 0.5})],
                                {"dim": 0}, {"x": lambda rng: _samples.make(rng, (5,))}))
def trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The integral of `y` by the trapezoid rule, along `dim` (spacing `x` or `dx`, default 1)."""
    if y.shape[dim] == 0:
        return y.sum(dim)
    return _trapezoid_parts(y, x, dx, dim).sum(dim)


@register(samples=_samples.plus(lambda rng: [((_samples.make(rng, (5,)),), {})],
                                {"dx": 0.5, "dim": 0}, {"x": lambda rng: _samples.make(rng, (5,))}))
def trapz(y, x=None, *, dx=None, dim: int = -1):
    """The integral of `y` by the trapezoid rule (an older name of trapezoid)."""
    return trapezoid(y, x, dx=dx, dim=dim)


@register(samples=_samples.plus(lambda rng: [((_samples.make(rng, (5,)),), {})],
                                {"dx": 0.5, "dim": 0}, {"x": lambda rng: _samples.make(rng, (5,))}))
def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The running integral of `y` by the trapezoid rule, along `dim`."""
    if y.shape[dim] == 0:
        return y.narrow(dim, 0, 0)
    return _trapezoid_parts(y, x, dx, dim).cumsum(dim)


# ---------------------------------------------------------------------------
# Statistics and distances


@register(methods="cov", samples=lambda rng: [((_samples.make(rng, (3, 5)),), {}),
                                              ((_samples.make(rng, (2, 4)),), {"correction": 0})])
def cov(input, *, correction: int = 1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of `input` (observations in columns)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("retrograd's cov does not take fweights or aweights yet")
    x = _floating(input)
    if x.ndim < 2:
        x = x.reshape(1, -1)
    count = x.shape[1]
    centered = x - x.mean(1, keepdim=True)
    result = centered @ centered.t() / max(count - correction, 0)
    return result.squeeze() if input.ndim < 2 else result


@register(methods="corrcoef", samples=lambda rng: [((_samples.make(rng, (3, 5)),), {})])
def corrcoef(input):
    """The Pearson correlation coefficients of the variables in the rows of `input`."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    scale = c.diagonal().sqrt()
    return (c / scale.unsqueeze(1) / scale.unsqueeze(0)).clamp(-1.0, 1.0)


@register(samples=_samples.plus(lambda rng: [((_samples.make(rng, (3, 2)), _samples.make(rng, (4, 2))), {}),
                               ((_samples.make(rng, (2, 3, 2)), _samples.make(rng, (2, 2, 2))), {"p": 1.0})],
                                {"compute_mode": "donot_use_mm_for_euclid_dist"}))
def cdist(x1, x2, p: float = 2.0, compute_mode=None):
    """The p-norm distance between each row of x1 and each row of x2 (batched)."""
    _same_dtype((x1, x2), f"expected scalar type {_dtype.scalar_type_name(x1.dtype)} but found "
                          f"{_dtype.scalar_type_name(x2.dtype)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return differences.norm(p, dim=-1)


@register(methods="dist",
          samples=_samples.plus(lambda rng: [((_samples.make(rng, (2, 3)), _samples.make(rng, (3,))), {})],
                                {"p": 3.0}))
def dist(input, other, p: float = 2):
    """The p-norm of input - other."""
    return (input - other).norm(p)


# ---------------------------------------------------------------------------
# Shapes and building tensors


@register(methods="ravel", samples=_samples.unary())
def ravel(input):
    """The elements as a 1-d tensor (a view where possible)."""
    return input.reshape(-1)


def _split_sections(input, indices_or_sections, dim: int, name: str, minimum: int):
    if input.ndim < minimum:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {minimum} dimension, but got a tensor "
            f"with {input.ndim} dimensions!"
        )
    if isinstance(indices_or_sections, numbers.Integral) and input.shape[dim] % indices_or_sections:
        raise RuntimeError(
            f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
            f"{input.shape[dim]} is not divisible by the split_size {indices_or_sections}!"
        )
    return input.tensor_split(indices_or_sections, dim)


@register(methods="hsplit", samples=lambda rng: [((_samples.make(rng, (2, 4)), 2), {})])
def hsplit(input, indices_or_sections):
    """Split into columns: along dim 1 (dim 0 for a 1-d tensor)."""
    return _split_sections(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


@register(methods="vsplit", samples=lambda rng: [((_samples.make(rng, (4, 2)), [1, 3]), {})])
def vsplit(input, indices_or_sections):
    """Split into rows: along dim 0 of a tensor of at least 2 dims."""
    return _split_sections(input, indices_or_sections, 0, "vsplit", 2)


@register(methods="dsplit", samples=lambda rng: [((_samples.make(rng, (1, 2, 4)), 2), {})])
def dsplit(input, indices_or_sections):
    """Split along dim 2 of a tensor of at least 3 dims."""
    return _split_sections(input, indices_or_sections, 2, "dsplit", 3)


@register(samples=lambda rng: [(([_samples.make(rng, (2,)), _samples.make(rng, (2, 2))],), {})])
def column_stack(tensors):
    """Stack 0-d and 1-d tensors as columns (and 2-d ones as they are) side by side."""
    columns = [t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors]
    return _retrograd().cat(columns, 1)


def _block_dtype(tensors) -> _dtype.dtype:
    """PyTorch's promotion: 0-d tensors count only when of a higher category (int < float)."""
    import functools

    dimensioned = [t.dtype for t in tensors if t.ndim > 0]
    zero_dim = [t.dtype for t in tensors if t.ndim == 0]
    result = functools.reduce(_dtype.promote_types, dimensioned) if dimensioned else None
    zero_result = functools.reduce(_dtype.promote_types, zero_dim) if zero_dim else None
    if result is None or (zero_result is not None and zero_result._category > result._category):
        return zero_result
    return result


@register(samples=lambda rng: [
    ((_samples.make(rng, (1, 2)), _samples.make(rng, ()), _samples.make(rng, (2,))), {}),
])
def block_diag(*tensors):
    """The tensors (0-d, 1-d or 2-d) placed along the diagonal of a zero matrix."""
    rg = _retrograd()
    blocks = []
    for t in tensors:
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input has "
                f"{t.ndim} dimensions"
            )
        blocks.append(t.reshape(1, -1) if t.ndim < 2 else t)
    if not blocks:
        return rg.zeros(1, 0)
    dtype = _block_dtype(tensors)
    width = sum(block.shape[1] for block in blocks)
    rows, left = [], 0
    for block in blocks:
        right = width - left - block.shape[1]
        pieces = [rg.zeros(block.shape[0], left, dtype=dtype), block.to(dtype),
                  rg.zeros(block.shape[0], right, dtype=dtype)]
        rows.append(rg.cat(pieces, 1))
        left += block.shape[1]
    return rg.cat(rows, 0)


@register(samples=lambda rng: [((_samples.make(rng, (2,)), _samples.make(rng, (3,))), {})])
def cartesian_prod(*tensors):
    """Every combination of one element from each 1-d tensor, one per row."""
    rg = _retrograd()
    _same_dtype(tensors, "meshgrid expects all tensors to have the same dtype")
    if len(tensors) == 1:
        return tensors[0]
    grids = rg.meshgrid(*tensors, indexing="ij")
    return rg.stack([grid.reshape(-1) for grid in grids], 1)


@register(samples=_samples.plus(
    lambda rng: [((_samples.make(rng, (4,)),), {}), ((_samples.make(rng, (3,)),), {"r": 3})],
    {"with_replacement": True}))
def combinations(input, r: int = 2, with_replacement: bool = False):
    """Every combination of `r` elements of a 1-d tensor, one per row (in order)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    picks = list(choose(range(input.shape[0]), r))
    if r == 0:
        return input.new_empty(0)
    if not picks:
        return input.new_empty(0, r)
    index = Tensor._make(np.asarray(picks, dtype=np.int64).reshape(-1))
    return input.index_select(0, index).reshape(len(picks), r)


def vander(x, N: int | None = None, increasing: bool = False):
    """The Vandermonde matrix: column j is x ** (N - 1 - j) (or x ** j when increasing).

    Not in the op table's gradient matrix: PyTorch 2.13's own vander backward fails
    ("modified by an inplace operation"), so there is nothing to compare with.
    """
    rg = _retrograd()
    count = x.shape[0] if N is None else N
    powers = rg.arange(count) if increasing else rg.arange(count - 1, -1, -1)
    base = x if x.dtype.is_floating_point else x.to(_dtype.int64)
    return base.unsqueeze(-1) ** powers.to(base.dtype)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False, out=None) -> Tensor:
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    from .._creation import _float_dtype, _new

    if out is not None:  # see Note [out= arguments]
        values = logspace(start, end, steps, base, dtype=dtype if dtype is not None else out.dtype)
        return _out.write(out, values, "logspace", warn=False)

    exponents = np.linspace(float(start), float(end), steps)
    values = np.power(float(base), exponents).astype(_float_dtype(dtype).numpy)
    return _new(values, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number `s` (the default float dtype unless told)."""
    from .._creation import _float_dtype, _new

    value = s.item() if isinstance(s, Tensor) else s
    return _new(np.asarray(value, dtype=_float_dtype(dtype).numpy), requires_grad)


def _index_pairs(rows: np.ndarray, columns: np.ndarray) -> Tensor:
    return Tensor._make(np.stack([rows, columns]).astype(np.int64).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (row, column) indices of the lower triangle of a row x col matrix, as a 2 x N tensor."""
    rows, columns = np.tril_indices(row, offset, col)
    result = _index_pairs(rows, columns)
    return result if dtype is None else result.to(dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (row, column) indices of the upper triangle of a row x col matrix, as a 2 x N tensor."""
    rows, columns = np.triu_indices(row, offset, col)
    result = _index_pairs(rows, columns)
    return result if dtype is None else result.to(dtype)


# ---------------------------------------------------------------------------
# Searching and counting (no gradients)


@register(methods="argwhere", differentiable=False)
def argwhere(input):
    """The indices of the nonzero elements, one row per element."""
    return Tensor._make(np.argwhere(input._data).astype(np.int64))


@register(methods="bincount", differentiable=False)
def bincount(input, weights=None, minlength: int = 0):
    """How often each value 0, 1, ... occurs in a 1-d tensor of non-negative integers
    (summing `weights` instead of counting ones when given)."""
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if input.dtype.is_floating_point or input.dtype is _dtype.bool:
        raise RuntimeError(
            f"\"bincount_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'"
        )
    if input.numel() and input._data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._make(np.bincount(input._data, minlength=minlength).astype(np.int64))
    counts = np.bincount(input._data, weights=weights._data, minlength=minlength)
    result_dtype = weights.dtype if weights.dtype.is_floating_point else _dtype.float64
    return Tensor._make(counts.astype(result_dtype.numpy))


@register(methods="histc", differentiable=False)
def histc(input, bins: int = 100, min: float = 0, max: float = 0):
    """A histogram of `bins` equal-width bins between min and max (the data's range when both
    are 0); elements outside are ignored."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    data = input._data.reshape(-1)
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = np.histogram(data, bins=bins, range=(low, high))
    return Tensor._make(counts.astype(input._data.dtype))


def _search(boundaries: np.ndarray, values: np.ndarray, right: bool) -> np.ndarray:
    return np.searchsorted(boundaries, values, side="right" if right else "left")


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False, side=None,
                 sorter=None, out=None):
    """For each value, the index where it would go in `sorted_sequence` to keep it sorted
    (searched along the last dim; row by row for a batched sequence)."""
    if out is not None:  # see Note [out= arguments]
        found = searchsorted(sorted_sequence, input, out_int32=out_int32, right=right, side=side,
                             sorter=sorter)
        return _out.write(out, found, "searchsorted", exact_dtype=True)
    right = right or side == "right"
    sequence = sorted_sequence._data
    if sorter is not None:
        sequence = np.take_along_axis(sequence, sorter._data, axis=-1)
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    if sequence.ndim == 1:
        result = _search(sequence, values, right)
    else:
        if sequence.shape[:-1] != values.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match"
            )
        flat_sequence = sequence.reshape(-1, sequence.shape[-1])
        flat_values = values.reshape(-1, values.shape[-1])
        result = np.stack([_search(row, row_values, right)
                           for row, row_values in zip(flat_sequence, flat_values)]).reshape(values.shape)
    return Tensor._make(np.asarray(result, dtype=np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False, out=None):
    """For each element, the index of the bucket of 1-d `boundaries` it falls in."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """Whether each element of `elements` is among `test_elements`."""
    left = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    right = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._make(np.asarray(np.isin(left, right, invert=invert)))


# ---------------------------------------------------------------------------
# Questions about tensors and dtypes


@register(methods="is_nonzero", differentiable=False)
def is_nonzero(input) -> bool:
    """The truth of a one-element tensor."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()).item())


@register(methods="is_same_size", differentiable=False)
def is_same_size(input, other) -> bool:
    """Whether both tensors have the same shape."""
    return input.shape == other.shape


@register(methods="is_signed", differentiable=False)
def is_signed(input) -> bool:
    """Whether the dtype holds negative numbers."""
    return input.dtype.is_signed


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of these shapes broadcast to."""
    normalised = [(shape,) if isinstance(shape, numbers.Integral) else tuple(shape) for shape in shapes]
    result: list[int] = []
    for index, shape in enumerate(normalised):
        padded = [1] * (len(shape) - len(result)) + result
        merged = []
        sizes = [1] * (len(padded) - len(shape)) + list(shape)
        for position, (current, size) in enumerate(zip(padded, sizes)):
            if current == size or size == 1:
                merged.append(current)
            elif current == 1:
                merged.append(size)
            else:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at "
                    f"{position - len(padded)}! Mismatching argument at index {index} had "
                    f"{tuple(shape)}; but expected shape should be broadcastable to {result}"
                )
        result = merged
    return Size(result)


def can_cast(from_, to) -> bool:
    """Whether PyTorch's casting rules allow from_ -> to in an in-place op (never to a lower
    category: float -> integer or integer -> bool)."""
    return from_._category <= to._category


class finfo:
    """The limits of a floating dtype: eps, max, min, tiny, resolution, bits."""

    def __init__(self, type=None):
        type = _dtype.get_default_dtype() if type is None else type
        if not type.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo "
                            f"to handle '{type!r}'")
        info = np.finfo(type.numpy)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)
        self.dtype = type.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype: min, max, bits."""

    def __init__(self, type):
        if type.is_floating_point or type is _dtype.bool:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to "
                            f"handle '{type!r}'")
        info = np.iinfo(type.numpy)
        self.bits = info.bits
        self.min = int(info.min)
        self.max = int(info.max)
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# ---------------------------------------------------------------------------
# More pointwise and integer ops


@register(methods="hardshrink", samples=_samples.plus(_samples.unary(), {"lambd": 0.3}), floating=True)
def hardshrink(input, lambd: float = 0.5):
    """x where |x| > lambd, else 0 (Tensor.hardshrink; see nn.functional.hardshrink)."""
    from ..nn import functional

    return functional.hardshrink(input, lambd)


@register(methods="prelu", samples=lambda rng: [((_samples.make(rng, (2, 3)), _samples.make(rng, (1,))), {})],
          floating=True, same_dtype=("input", "weight"))
def prelu(input, weight):
    """max(0, x) + weight * min(0, x), with one weight or one per channel."""
    from ..nn import functional

    return functional.prelu(input, weight)


@register(methods="isreal", differentiable=False)
def isreal(input):
    """True everywhere: retrograd tensors are real."""
    return Tensor._make(np.ones(input._data.shape, dtype=bool))


@register(methods="diagflat", samples=lambda rng: [((_samples.make(rng, (3,)),), {}),
                                                   ((_samples.make(rng, (2, 2)),), {"offset": -1})])
def diagflat(input, offset: int = 0):
    """A square matrix with the flattened input on diagonal `offset`."""
    return input.reshape(-1).diag(offset)


_frexp_base = collections.namedtuple("frexp", ("mantissa", "exponent"))


class _FrexpResult(_frexp_base):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"retrograd.return_types.frexp(\nmantissa={self.mantissa!r},\nexponent={self.exponent!r})"


@register(methods="frexp", differentiable=False)
def frexp(input):
    """Mantissa in [0.5, 1) and integer exponent with input = mantissa * 2 ** exponent."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = np.frexp(input._data)
    return _FrexpResult(Tensor._make(mantissa), Tensor._make(exponent.astype(np.int32)))


def _integer_pair(input, other, name: str):
    left, right = input._data, (other._data if isinstance(other, Tensor) else np.asarray(other))
    if left.dtype.kind not in "iu" or right.dtype.kind not in "iu":
        kind = left.dtype if left.dtype.kind not in "iu" else right.dtype
        raise RuntimeError(
            f"\"{name}_cpu\" not implemented for '{_dtype.scalar_type_name(_dtype.from_numpy_dtype(kind))}'"
        )
    return left, right


@register(methods="gcd", inplace="gcd_", differentiable=False)
def gcd(input, other):
    """The greatest common divisor of each pair of integers."""
    left, right = _integer_pair(input, other, "gcd")
    return Tensor._make(np.asarray(np.gcd(left, right)))


@register(methods="lcm", inplace="lcm_", differentiable=False)
def lcm(input, other):
    """The least common multiple of each pair of integers."""
    left, right = _integer_pair(input, other, "lcm")
    return Tensor._make(np.asarray(np.lcm(left, right)))


@register(methods="ldexp", inplace="ldexp_", samples=lambda rng: [
    ((_samples.make(rng, (2, 3)), Tensor._make(np.array([1, 0, 3]))), {}),
])  # (PyTorch 2.13's ldexp gradient is 0 for negative integer exponents: it computes 2**other in int)
def ldexp(input, other):
    """input * 2 ** other."""
    exponent = other if isinstance(other, Tensor) else _as_tensor(other)
    return _floating(input) * (2.0 ** exponent.to(_float_dtype_of(_floating(input))))


@register(methods="nextafter", inplace="nextafter_", differentiable=False)
def nextafter(input, other):
    """The next representable float after input in the direction of other."""
    right = other._data if isinstance(other, Tensor) else np.asarray(other, input._data.dtype)
    return Tensor._make(np.asarray(np.nextafter(input._data, right.astype(input._data.dtype))))


@register(methods="renorm", inplace="renorm_", samples=lambda rng: [
    ((_samples.make(rng, (3, 4)), 2, 0, 1.0), {}), ((_samples.make(rng, (2, 3)), 1, 1, 1.5), {}),
])
def renorm(input, p, dim: int, maxnorm):
    """Each slice along `dim` whose p-norm exceeds maxnorm scaled down to norm maxnorm."""
    rg = _retrograd()
    dim = input._wrap_dim(dim)
    others = [d for d in range(input.ndim) if d != dim]
    norms = input.norm(p, dim=others, keepdim=True) if others else input.abs()
    scale = rg.where(norms > maxnorm, maxnorm / (norms + 1e-7), rg.ones_like(norms))
    return input * scale


# ---------------------------------------------------------------------------
# Scatter into a copy


@register(methods="select_scatter", samples=lambda rng: [
    ((_samples.make(rng, (2, 3)), _samples.make(rng, (3,)), 0, 1), {}),
])
def select_scatter(input, src, dim: int, index: int):
    """A copy of input with the slice `input.select(dim, index)` replaced by src."""
    result = input.clone()
    result.select(dim, index).copy_(src)
    return result


@register(methods="slice_scatter", samples=_samples.plus(lambda rng: [
    ((_samples.make(rng, (4, 2)), _samples.make(rng, (2, 2))), {"dim": 0, "start": 1, "end": 3}),
], {"start": 0, "end": 4, "step": 2}))
def slice_scatter(input, src, dim: int = 0, start=None, end=None, step: int = 1):
    """A copy of input with `input[start:end:step]` along `dim` replaced by src."""
    result = input.clone()
    index = [slice(None)] * input.ndim
    index[input._wrap_dim(dim)] = slice(start, end, step)
    result[tuple(index)] = src
    return result


@register(methods="diagonal_scatter", samples=_samples.plus(lambda rng: [
    ((_samples.make(rng, (3, 3)), _samples.make(rng, (3,))), {}),
    ((_samples.make(rng, (2, 3)), _samples.make(rng, (2,))), {"offset": 1}),
], {"dim1": 1, "dim2": 0}))
def diagonal_scatter(input, src, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A copy of input with its diagonal (offset, dim1, dim2) replaced by src."""
    if input.numel() == 0:
        return input.clone() + src.sum() * 0
    result = input.clone()
    result.diagonal(offset, dim1, dim2).copy_(src)
    return result


@register(methods="split_with_sizes",
          samples=lambda rng: [((_samples.make(rng, (2, 3)), [1, 2]), {"dim": 1})])
def split_with_sizes(input, split_sizes, dim: int = 0):
    """Pieces of the given sizes along `dim`."""
    dim = input._wrap_dim(dim)
    if sum(split_sizes) != input.shape[dim]:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {input.shape[dim]} (input tensor's "
            f"size at dimension {dim}), but got split_sizes={list(split_sizes)}"
        )
    return input.split(list(split_sizes), dim)


# ---------------------------------------------------------------------------
# Linear algebra in PyTorch's older spellings


def _product_of_factor(factor, upper: bool):
    """A = L L^T (or U^T U) from the Cholesky factor, as PyTorch's gradient sees it: every
    entry of the factor counts, so its upper part gets a gradient too."""
    transposed = factor.transpose(-2, -1)
    return transposed @ factor if upper else factor @ transposed


@register(methods="cholesky_solve", samples=lambda rng: [
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 0.0], [0.5, 1.5]]))), {}),
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 0.5], [0.0, 1.5]]))), {"upper": True}),
])
def cholesky_solve(input, input2, upper: bool = False):
    """Solve A X = input given the Cholesky factor input2 of A (lower unless `upper`)."""
    _refuse_integers(input2, "cholesky_solve_cpu")
    _check_square(input2, "")
    return _retrograd().linalg.solve(_product_of_factor(input2, upper), input)


@register(methods="cholesky_inverse", samples=lambda rng: [
    ((Tensor._make(np.array([[2.0, 0.0], [0.5, 1.5]])),), {}),
    ((Tensor._make(np.array([[2.0, 0.5], [0.0, 1.5]])),), {"upper": True}),
])
def cholesky_inverse(input, upper: bool = False):
    """The inverse of A from its Cholesky factor `input`."""
    _refuse_integers(input, "cholesky_inverse_out_cpu")
    _check_square(input, "cholesky_inverse: ")
    return _retrograd().linalg.inv(_product_of_factor(input, upper))


_triangular_base = collections.namedtuple("triangular_solve", ("solution", "cloned_coefficient"))


class _TriangularSolveResult(_triangular_base):
    __slots__ = ()

    def __repr__(self) -> str:
        return (f"retrograd.return_types.triangular_solve(\nsolution={self.solution!r},\n"
                f"cloned_coefficient={self.cloned_coefficient!r})")


@register(methods="triangular_solve", samples=_samples.plus(lambda rng: [
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 1.0], [0.0, 3.0]]))), {}),
    ((_samples.make(rng, (2, 1)), Tensor._make(np.array([[2.0, 0.0], [1.0, 3.0]]))), {"upper": False}),
], {"transpose": True}, {"unitriangular": True}),
          same_dtype=("b", "A"))
def triangular_solve(b, A, upper: bool = True, transpose: bool = False, unitriangular: bool = False):
    """Deprecated spelling of linalg.solve_triangular(A, b): (solution, copy of A)."""
    import warnings

    warnings.warn(
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular and will be "
        "removed in a future PyTorch release.",
        UserWarning,
        stacklevel=2,
    )
    rg = _retrograd()
    _refuse_integers(A, "triangular_solve_cpu")
    matrix = A.transpose(-2, -1) if transpose else A
    solution = rg.linalg.solve_triangular(matrix, b, upper=upper != transpose, unitriangular=unitriangular)
    return _TriangularSolveResult(solution, A.clone())


def _removed(name: str, advice: str):
    def removed(*args, **kwargs):
        raise RuntimeError(f"This function was deprecated since version 1.9 and is now removed. {advice}")

    removed.__name__ = name
    removed.__doc__ = f"Removed from PyTorch in 1.9: raises RuntimeError saying what to use instead. {advice}"
    return removed


eig = _removed("eig", "Use retrograd.linalg.eigh for symmetric matrices (complex eig is not supported).")
symeig = _removed("symeig", "Use retrograd.linalg.eigh(A, UPLO='U' if upper else 'L') instead.")
lstsq = _removed("lstsq", "Use retrograd.linalg.pinv(A) @ B (linalg.lstsq reverses the arguments).")
solve = _removed("solve", "Use retrograd.linalg.solve(A, B) (the arguments are reversed).")
matrix_rank = _removed("matrix_rank", "Please use the `retrograd.linalg.matrix_rank` function instead.")

__all__ += ["eig", "lstsq", "matrix_rank", "solve", "symeig"]
for _name in ("eig", "symeig", "lstsq", "solve"):
    setattr(Tensor, _name, globals()[_name])
