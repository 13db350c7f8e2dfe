"""Composite operators, the rest: more pointwise and integer ops, scatter into a copy, and
linear algebra in PyTorch's older spellings (and the ones PyTorch removed)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ... import _dtype, return_types
from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, as_given, given_where_different
from .._table import OUTPUT, apply, output, register_method
from .._tangents import ELEMENT_WISE, LINEAR
from ..linalg.solvers import _solved, _substituted, _triangle, solve_triangular
from ..pointwise.promotion import _floating as promoted_floating
from ..pointwise.promotion import operand_arrays
from ..reduce.statistics import _norm_backward, vector_norm_of_array
from ..shape import _diagonal_view, tril, triu
from .numeric import (
    _check_square,
    _refuse_integers,
    register,
)

# ---------------------------------------------------------------------------
# More pointwise and integer ops


@register(methods="hardshrink", floating=True)
def hardshrink(input, lambd: float = 0.5):
    """x where |x| > lambd, else 0 (Tensor.hardshrink; see nn.functional.hardshrink)."""
    from ...nn import functional

    return functional.hardshrink(input, lambd)


@register(methods="prelu",
          floating=True, same_dtype=("input", "weight"))
def prelu(input, weight):
    """max(0, x) + weight * min(0, x), with one weight or one per channel."""
    from ...nn import functional

    return functional.prelu(input, weight)


@register(methods="isreal", differentiable=False)
def isreal(input):
    """True everywhere: retrograd tensors are real."""
    return Tensor._make(np.ones(input._data.shape, dtype=bool))


@register(methods="diagflat")
def diagflat(input, offset: int = 0):
    """A square matrix with the flattened input on diagonal `offset`."""
    return input.reshape(-1).diag(offset)


_FrexpResult = return_types.frexp


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


class LdexpBackward0(Formula):
    """input * 2 ** other, in the floating dtype the two promote to (the default one for two
    integer tensors); PyTorch's formulas, so the exponent's gradient reads the result."""

    inputs = ("self", "other")

    @staticmethod
    def forward(self, other):
        if not isinstance(other, Tensor):
            raise TypeError("ldexp(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(other).__name__}")
        if other.dtype is _dtype.bool:
            raise NotImplementedError("\"ldexp_cpu_exp\" not implemented for 'Bool'")
        mantissa, exponent = (promoted_floating(array) for array in operand_arrays(self, other, "ldexp"))
        return mantissa * _math.float32_in_float64(np.power, exponent.dtype.type(2), exponent)

    tangent = ELEMENT_WISE
    # (self's formula names `result` too: the node keeps it whichever input needs grad, as
    # PyTorch's shows `_saved_result` whenever it records the node)
    derivatives = {
        "self": lambda grad, other, result: grad * 2.0 ** other,
        "other": lambda grad, result: grad * result * math.log(2.0),
    }


@register(methods="ldexp", inplace="ldexp_")
def ldexp(input, other):
    """input * 2 ** other."""
    return apply(LdexpBackward0, input, other)


@register(methods="nextafter", inplace="nextafter_", differentiable=False)
def nextafter(input, other):
    """The next representable float after input in the direction of other."""
    right = other._data if isinstance(other, Tensor) else np.asarray(other, input._data.dtype)
    return Tensor._make(np.asarray(np.nextafter(input._data, right.astype(input._data.dtype))))


class RenormBackward0(ShownAsPyTorch, Formula):
    """Each slice along `dim` whose p-norm exceeds maxnorm scaled down to norm maxnorm; the
    others, and their gradients, pass unchanged (selected). The dim shows as given."""

    shown: ClassVar[dict] = {"dim": as_given("dim", int)}

    @staticmethod
    def forward(self, p, dim, maxnorm, dim_as_given=None):
        data = self._data
        norms = vector_norm_of_array(data, p, _other_dims(data.ndim, dim), True)
        with np.errstate(divide="ignore"):
            scale = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1).astype(data.dtype)
        return data * scale

    tangent = staticmethod(
        lambda self, self_t, p, dim, maxnorm: _renorm_tangent(self, self_t, p, dim, maxnorm))
    derivatives = {"self": lambda grad, self, p, dim, maxnorm: _renorm_backward(grad, self, p, dim, maxnorm)}


def _other_dims(ndim: int, dim: int) -> tuple:
    return tuple(other for other in range(ndim) if other != dim)


def _renorm_parts(self, p, dim: int, maxnorm) -> tuple:
    """(dims of a slice, the slices' norms, which exceed maxnorm, 1 / (norm + 1e-7))."""
    others = _other_dims(len(self.shape), dim)
    if isinstance(self, Tensor):
        norms = self.norm(p, dim=others, keepdim=True) if others else self.abs()
    else:
        norms = vector_norm_of_array(self, p, others, True)
    return others, norms, norms > maxnorm, 1 / (norms + 1e-7)


def _renorm_backward(grad, self, p, dim: int, maxnorm):
    """x s(x) with s = maxnorm / (|x|_p + 1e-7) where the slice's norm exceeds maxnorm: s g plus
    the norm's gradient of -maxnorm / (|x|_p + 1e-7)^2 sum(x g) there, g elsewhere."""
    others, norms, over, inverse = _renorm_parts(self, p, dim, maxnorm)
    along = -maxnorm * inverse * inverse * _math.sum_dims(self * grad, others, keepdim=True)
    inside = maxnorm * inverse * grad + _norm_backward(along, self, norms, p, others, True)
    return _math.where(over, inside, grad)


def _renorm_tangent(self, self_t, p, dim: int, maxnorm):
    """J t = s t - maxnorm / (|x|_p + 1e-7)^2 (d|x|_p . t) x in the slices that exceed maxnorm."""
    others, norms, over, inverse = _renorm_parts(self, p, dim, maxnorm)
    slope = _norm_backward(_math.zeros_like(norms) + 1, self, norms, p, others, True)
    along = _math.sum_dims(slope * self_t, others, keepdim=True)
    return _math.where(over, maxnorm * inverse * self_t - maxnorm * inverse * inverse * along * self, self_t)


@register(methods="renorm", inplace="renorm_")
def renorm(input, p, dim: int, maxnorm):
    """Each slice along `dim` whose p-norm exceeds maxnorm scaled down to norm maxnorm."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype.scalar_type_name(input.dtype)}")
    wrapped = input._wrap_dim(dim)
    return apply(RenormBackward0, input, p=p, dim=wrapped, maxnorm=maxnorm,
                 **given_where_different(dim=(dim, wrapped)))


# ---------------------------------------------------------------------------
# Scatter into a copy


# Note [Scatter into a copy]
#     select_scatter, slice_scatter and diagonal_scatter write src over one part of a copy of
#     input: a basic key (`_select_key`, `_slice_key`) or a diagonal. Each is one node with
#     PyTorch's name, and its derivatives select: input's gradient is the incoming one with
#     that part zeroed (never multiplied by a mask, so a NaN there stays out; with
#     create_graph, the op itself writing zeros, as PyTorch's formula), src's is that part.


def _select_key(dim: int, index: int) -> tuple:
    return (slice(None),) * dim + (index, Ellipsis)


def _slice_key(dim: int, start, end, step: int) -> tuple:
    return (slice(None),) * dim + (slice(start, end, step), Ellipsis)


def _scattered(input, src, part) -> np.ndarray:
    """A copy of input's array with src's array written over `part(copy)`, a view of it."""
    result = input._data.copy()
    target = part(result)
    if target.shape != src._data.shape:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
            f"slice size = {list(target.shape)}"
        )
    target[...] = src._data
    return result


def _part_zeroed(grad, node_class, part, **params):
    """`grad` with the part that `node_class` writes (`part(array)`, a view) zeroed."""
    if isinstance(grad, Tensor):
        zeros = Tensor._make(np.zeros(part(grad._data).shape, grad._data.dtype))
        return apply(node_class, grad, zeros, **params)
    result = grad.copy()
    part(result)[...] = 0
    return result


class SelectScatterBackward0(ShownAsPyTorch, Formula):
    """input with its slice at `index` along `dim` replaced by src (Note [Scatter into a copy]);
    the dim shows as the call gave it."""

    inputs = ("self", "src")
    shown: ClassVar[dict] = {"dim": as_given("dim", int)}

    @staticmethod
    def forward(self, src, dim, index, dim_as_given=None):
        return _scattered(self, src, lambda array: array[_select_key(dim, index)])

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, index: _part_zeroed(
            grad, SelectScatterBackward0, lambda array: array[_select_key(dim, index)], dim=dim, index=index),
        "src": lambda grad, dim, index: _math.select(grad, dim, index),
    }


class SliceScatterBackward0(ShownAsPyTorch, Formula):
    """input with `input[start:end:step]` along `dim` replaced by src (Note [Scatter into a copy]);
    the dim shows as the call gave it."""

    inputs = ("self", "src")
    shown: ClassVar[dict] = {"dim": as_given("dim", int)}

    @staticmethod
    def forward(self, src, dim, start, end, step, dim_as_given=None):
        return _scattered(self, src, lambda array: array[_slice_key(dim, start, end, step)])

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, dim, start, end, step: _part_zeroed(
            grad, SliceScatterBackward0, lambda array: array[_slice_key(dim, start, end, step)],
            dim=dim, start=start, end=end, step=step),
        "src": lambda grad, dim, start, end, step: _math.basic_index(grad, _slice_key(dim, start, end, step)),
    }


class DiagonalScatterBackward0(ShownAsPyTorch, Formula):
    """input with its diagonal (offset, dim1, dim2) replaced by src (Note [Scatter into a copy]);
    the dims show as the call gave them."""

    inputs = ("self", "src")
    shown: ClassVar[dict] = {"dim1": as_given("dim1", int), "dim2": as_given("dim2", int)}

    @staticmethod
    def forward(self, src, offset, dim1, dim2, dim1_as_given=None, dim2_as_given=None):
        return _scattered(self, src, lambda array: _diagonal_view(array, offset, dim1, dim2))

    tangent = LINEAR
    derivatives = {
        "self": lambda grad, offset, dim1, dim2: _part_zeroed(
            grad, DiagonalScatterBackward0, lambda array: _diagonal_view(array, offset, dim1, dim2),
            offset=offset, dim1=dim1, dim2=dim2),
        "src": lambda grad, offset, dim1, dim2: _math.diagonal(grad, offset, dim1, dim2),
    }


@register(methods="select_scatter")
def select_scatter(input, src, dim: int, index: int):
    """A copy of input with the slice `input.select(dim, index)` replaced by src."""
    wrapped = input._wrap_dim(dim)
    size = input.shape[wrapped]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} "
                         f"at dimension {wrapped}")
    return apply(SelectScatterBackward0, input, src, dim=wrapped, index=index,
                 **given_where_different(dim=(dim, wrapped)))


@register(methods="slice_scatter")
def slice_scatter(input, src, dim: int = 0, start=None, end=None, step: int = 1):
    """A copy of input with `input[start:end:step]` along `dim` replaced by src."""
    wrapped = input._wrap_dim(dim)
    return apply(SliceScatterBackward0, input, src, dim=wrapped, start=start, end=end, step=step,
                 **given_where_different(dim=(dim, wrapped)))


@register(methods="diagonal_scatter")
def diagonal_scatter(input, src, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A copy of input with its diagonal (offset, dim1, dim2) replaced by src."""
    first, second = input._wrap_dim(dim1), input._wrap_dim(dim2)
    return apply(DiagonalScatterBackward0, input, src, offset=offset, dim1=first, dim2=second,
                 **given_where_different(dim1=(dim1, first), dim2=(dim2, second)))


@register(methods="split_with_sizes")
def split_with_sizes(input, split_sizes, dim: int = 0):
    """Pieces of the given sizes along `dim`."""
    wrapped = input._wrap_dim(dim)
    if sum(split_sizes) != input.shape[wrapped]:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {input.shape[wrapped]} (input tensor's "
            f"size at dimension {wrapped}), but got split_sizes={list(split_sizes)}"
        )
    return input.split(list(split_sizes), dim)  # (the dim as given, which its node shows)


# ---------------------------------------------------------------------------
# Linear algebra in PyTorch's older spellings


class CholeskySolveBackward0(Node):
    """X with A X = B, A = L L^T (or U^T U) given by its Cholesky factor, with PyTorch's
    gradients, which reach every entry of the factor: dB = A^-1 grad, dL = -(dB X^T + X dB^T) L
    (upper: -U (...)). A is formed from the whole factor, so the values agree with those
    gradients (LAPACK's potrs reads one triangle; a factor is zero in the other)."""
    hand_written = "a matrix function whose backward solves with the saved factor in one kernel"

    inputs = ("self", "input2")
    saved_names = ("self", "input2", "result")  # (as PyTorch names them: Note [Saved names])
    tangent = staticmethod(lambda self_t, input2, input2_t, result, upper: _cholesky_solve_tangent(
        self_t, input2, input2_t, result, upper))
    __slots__ = ("upper",)

    @staticmethod
    def forward(ctx, b, factor, upper):
        ctx.save_for_backward(b, factor, OUTPUT)
        ctx.upper = upper
        transposed = np.swapaxes(factor._data, -1, -2)
        product = transposed @ factor._data if upper else factor._data @ transposed
        return _solved(product, b._data, "retrograd.cholesky_solve")

    def backward(self, grad):
        _, factor, solution = self._saved_tensors
        needs_b, needs_factor = self.needs_input_grad
        grad_b = cholesky_solve(grad, factor, self.upper)
        grad_factor = None
        if needs_factor:
            common = grad_b @ solution.mT
            common = common + common.mT
            grad_factor = -(factor @ common) if self.upper else -(common @ factor)
        return grad_b if needs_b else None, grad_factor


def _cholesky_solve_tangent(self_t, input2, input2_t, result, upper: bool):
    """dX = A^-1 (dB - dA X), dA = dL L^T + L dL^T (upper: dU^T U + U^T dU)."""
    if upper:
        product_t = input2_t.mT @ input2 + input2.mT @ input2_t
    else:
        product_t = input2_t @ input2.mT + input2 @ input2_t.mT
    return cholesky_solve(self_t - product_t @ result, input2, upper)


@register(methods="cholesky_solve")
def cholesky_solve(input, input2, upper: bool = False):
    """Solve A X = input given the Cholesky factor input2 of A (lower unless `upper`)."""
    _refuse_integers(input2, "cholesky_solve_cpu")
    _check_square(input2, "")
    if input.dtype is not input2.dtype:
        names = (_dtype.scalar_type_name(input.dtype), _dtype.scalar_type_name(input2.dtype))
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {names[0]} and A "
                           f"of type {names[1]} instead.")
    return apply(CholeskySolveBackward0, input, input2, upper=upper)


_TriangularSolveResult = return_types.triangular_solve


class TriangularSolveBackward0(Node):
    """torch.triangular_solve: X with op(T) X = b, T the upper or lower triangle of A and op(T)
    T or its transpose, and a copy of A broadcast to the batch (`cloned_coefficient`), in one
    node with PyTorch's name. dB = op(T)^-T grad; dT is the triangle of -dB X^T (of -X dB^T
    for the transpose); the copy's gradient reaches the whole of A, as PyTorch's."""
    hand_written = "a matrix function whose backward solves with the saved matrix in one kernel"

    inputs, outputs = ("self", "A"), ("solution", "cloned_coefficient")
    saved_names = ("self", "A", "solution")  # (as PyTorch names them: Note [Saved names])
    tangent = staticmethod(
        lambda self_t, A, A_t, solution, cloned_coefficient, upper, transpose, unitriangular:
        _triangular_solve_tangent(self_t, A, A_t, solution, cloned_coefficient, upper, transpose,
                                  unitriangular))
    __slots__ = ("transpose", "unitriangular", "upper")

    @staticmethod
    def forward(ctx, b, A, upper, transpose, unitriangular):
        ctx.save_for_backward(b, A, output(0))
        ctx.upper, ctx.transpose, ctx.unitriangular = upper, transpose, unitriangular
        matrix = np.swapaxes(A._data, -1, -2) if transpose else A._data
        lower_or_upper = upper != transpose
        solution = _substituted(_triangle(matrix, lower_or_upper, unitriangular), b._data, lower_or_upper)
        batch = np.broadcast_shapes(b._data.shape[:-2], A._data.shape[:-2])
        return solution, np.array(np.broadcast_to(A._data, batch + A._data.shape[-2:]))

    def backward(self, *grads):
        grad_solution, grad_copy = (*grads, None, None)[:2]
        _, A, solution = self._saved_tensors
        needs_b, needs_a = self.needs_input_grad
        grad_b = grad_a = None
        if grad_solution is not None:
            # op(T)^T is T^T (lower when T is upper) without transpose, T itself with it
            grad_b = solve_triangular(A if self.transpose else A.mT, grad_solution,
                                      upper=self.upper == self.transpose, unitriangular=self.unitriangular)
            if needs_a:
                product = -(solution @ grad_b.mT) if self.transpose else -(grad_b @ solution.mT)
                offset = 1 if self.unitriangular else 0
                grad_a = triu(product, offset) if self.upper else tril(product, -offset)
        if grad_copy is not None and needs_a:
            grad_a = grad_copy if grad_a is None else grad_a + grad_copy
        return grad_b if needs_b else None, grad_a


def _triangular_solve_tangent(self_t, A, A_t, solution, cloned_coefficient, upper, transpose, unitriangular):
    """dX = op(T)^-1 (dB - op(dT) X), dT the triangle of dA the op reads; the copy's is dA."""
    offset = 1 if unitriangular else 0
    triangle_t = triu(A_t, offset) if upper else tril(A_t, -offset)
    right = self_t - (triangle_t.mT if transpose else triangle_t) @ solution
    solved = solve_triangular(A.mT if transpose else A, right, upper=upper != transpose,
                              unitriangular=unitriangular)
    return solved, A_t.expand(cloned_coefficient.shape)


@register(methods="triangular_solve",
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
    _refuse_integers(A, "triangular_solve_cpu")
    if A.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has "
                           f"{A.ndim} dimensions instead")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    return _TriangularSolveResult(*apply(TriangularSolveBackward0, b, A, upper=upper, transpose=transpose,
                                         unitriangular=unitriangular))


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

for _name in ("eig", "symeig", "lstsq", "solve"):
    register_method(_name, globals()[_name])
