"""Linear algebra, matrix products: matmul, mm, bmm, mv, dot, outer, the add-and-multiply family
(addmm, baddbmm, ...), trace, kron and the cross products."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ..._vmap_state import vmap_active
from ...autograd.graph import Node
from .. import _batching, _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, formula_value
from .._table import apply, register, register_method, with_direct_entry
from .._tangents import LINEAR, MULTILINEAR, MultilinearPlus
from ..pointwise import integral_coefficient, operand_arrays
from ..shape import TBackward0, reshape, views
from .contraction import (
    _check_same_scalar_type,
    _promoted,
    _refuse_saved_inference,
    _require_tensor,
    _shape_text,
    _type_name,
    tensordot,
)

# ---------------------------------------------------------------------------
# Matrix products


def _matrix_transpose(matrices):
    """The last two dims swapped: `t()` for a matrix (TBackward0 when recorded, as PyTorch's
    mm backward), `mT` for a batch."""
    return _math.t(matrices) if matrices.ndim == 2 else matrices.mT


def _same_float_matrices(a, b) -> bool:
    """Whether a matrix product's gradient formula, given Tensors (create_graph), may record
    what `a @ b.t()` records (TBackward0, MmBackward0) by the node classes, without matmul's
    dispatch: two matrices of one floating dtype pass all its checks (their inner sizes
    match, as the forward's did). The formulas of mm, addmm and linear run this at every
    create_graph backward."""
    return (isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.ndim == 2 == b._data.ndim
            and a._data.dtype == b._data.dtype and a._data.dtype.kind == "f")


_SMALL_PRODUCT = 4096  # elements of a result np.dot computes faster than np.matmul


def _matrices_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b of two matrices, by np.dot where that is the same computation as np.matmul.

    Note [Matrix products by np.dot]
        For float32/float64 matrices each stored in C or F order, np.dot and np.matmul hand
        BLAS the same gemm call, so their results are the same bits; and where the inner
        size is 1 every element is one rounded product, whatever the loop. np.dot's call
        costs a third of np.matmul's on the small matrices of a recurrent step (2 us instead
        of 5 for an (8, 1) @ (1, 204) product), and linear runs addmm at every step. But
        np.dot fills its result with zeros before gemm writes it, which costs more than it
        saves on a large result (a (51, 8) @ (8, 204) product is 15% slower), so only results
        of up to _SMALL_PRODUCT elements take it. Any other layout or dtype goes to
        np.matmul, whose summation order for strided operands np.dot does not share. addmm
        and mm (so `a @ b` of two matrices) compute their forward here. The derivatives keep
        np.matmul (with np.dot a whole LSTM backward measured 4% slower), except for an outer
        product (inner size 1), for which np.matmul's own loop takes three times np.dot's
        BLAS call (the gradient of the first factor of `h @ w`, with w of one column).
    """
    if (a.dtype.char in "fd" and b.dtype is a.dtype and a.shape[0] * b.shape[1] <= _SMALL_PRODUCT
            and (a.shape[1] == 1 or (a.flags.forc and b.flags.forc))):  # (each in C or F order)
        return np.dot(a, b)
    return np.matmul(a, b)


def grad_of_first_factor(grad, first_shape: tuple, second):
    """d(a @ b)/da applied to `grad`: grad @ b^T, with 1-d operands promoted as matmul does.

    Arrays or Tensors alike (see Note [One formula, two modes]); the engine sums broadcast
    batch dimensions back to a's shape.
    """
    if second.ndim == 2 and len(first_shape) == 2:  # matrices (mm, addmm, linear): no promotion to undo
        if type(grad) is np.ndarray:  # (an outer product, of inner size 1, as the forward's)
            return _matrices_product(grad, second.T) if second.shape[1] == 1 else np.matmul(grad, second.T)
        if _same_float_matrices(grad, second):
            return apply(MmBackward0, grad, apply(TBackward0, second))
    second_matrix = second.reshape((second.shape[0], 1)) if second.ndim == 1 else second
    if len(first_shape) == 1 or second.ndim == 1:
        batch = grad.shape[: grad.ndim - (len(first_shape) > 1) - (second.ndim > 1)]
        rows = 1 if len(first_shape) == 1 else first_shape[-2]
        grad = grad.reshape((*batch, rows, second_matrix.shape[-1]))
    result = _math.matmul(grad, _matrix_transpose(second_matrix))
    if len(first_shape) == 1:
        result = result.reshape((*result.shape[:-2], first_shape[0]))
    return result


def grad_of_second_factor(grad, first, second_shape: tuple):
    """d(a @ b)/db applied to `grad`: a^T @ grad, with 1-d operands promoted as matmul does."""
    if first.ndim == 2 and len(second_shape) == 2:  # matrices (mm, addmm, linear): no promotion to undo
        if type(grad) is np.ndarray:
            return np.matmul(first.T, grad)
        if _same_float_matrices(grad, first):
            return apply(MmBackward0, apply(TBackward0, first), grad)
    first_matrix = first.reshape((1, first.shape[0])) if first.ndim == 1 else first
    if first.ndim == 1 or len(second_shape) == 1:
        batch = grad.shape[: grad.ndim - (first.ndim > 1) - (len(second_shape) > 1)]
        columns = 1 if len(second_shape) == 1 else second_shape[-1]
        grad = grad.reshape((*batch, first_matrix.shape[-2], columns))
    result = _math.matmul(_matrix_transpose(first_matrix), grad)
    if len(second_shape) == 1:
        result = result.reshape((*result.shape[:-2], second_shape[0]))
    return result


def _matrix_product(self, other):
    return np.matmul(self._data, other._data)


class _MatrixProduct(Formula):
    """The product of two operands, as np.matmul computes it (1-d operands promoted)."""

    inputs = ("self", "other")
    forward = staticmethod(_matrix_product)
    tangent = MULTILINEAR
    derivatives = {
        "self": lambda grad, self_shape, other: grad_of_first_factor(grad, self_shape, other),
        "other": lambda grad, self, other_shape: grad_of_second_factor(grad, self, other_shape),
    }


_SHARED_STRIDES: dict[tuple, tuple] = {}  # each pair of strides kept, once (Note [Saved strides])
_MOST_STRIDES = 1024


def _strides_keeper(first: int, second: int):
    """The `keep_more` of a product whose matrices are inputs `first` and `second`: the
    strides of each that needs a gradient (Note [Saved strides])."""

    def keep_strides(node, needs, inputs):
        strides = (inputs[first]._data.strides if needs >> first & 1 else None,
                   inputs[second]._data.strides if needs >> second & 1 else None)
        shared = _SHARED_STRIDES.get(strides)
        if shared is None:
            if len(_SHARED_STRIDES) >= _MOST_STRIDES:
                _SHARED_STRIDES.clear()
            shared = _SHARED_STRIDES[strides] = strides
        node._strides = shared

    return keep_strides


class _SavesStrides:
    """A matrix product that also shows its matrices' strides, as PyTorch's mm and addmm do.

    Note [Saved strides]
        PyTorch's MmBackward0 and AddmmBackward0 keep, for the formula of each matrix, that
        matrix's strides, and show them as `_saved_<matrix>_sym_strides` (in elements; `()`
        for a matrix that needs no gradient, for which nothing is kept). torchviz draws them
        with `show_attrs=True`. The formulas here do not read them, so they are taken from
        the inputs' arrays when the node is recorded and turned into elements when read.
        A program multiplies matrices of the same few layouts over and over (a recurrent
        step's three products, at every step), so each pair of strides is kept once and
        shared: three tuples less per product for the cyclic collector (Note [A light graph]).
    """

    __slots__ = ()  # (each node class declares the `_strides` slot: one layout per class)
    _strided: tuple[str, ...] = ()  # the matrices' input names
    _strided_at: tuple[int, ...] = ()  # their positions among the inputs

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._strided_at:
            cls.keep_more = staticmethod(_strides_keeper(*cls._strided_at))

    def _saved_names(self) -> list[str]:
        return [*super()._saved_names(), *(f"{name}_sym_strides" for name in self._strided)]

    def _find_saved(self, name: str):
        matrix = name.removesuffix("_sym_strides")
        if matrix != name and matrix in self._strided:
            which = self._strided.index(matrix)
            strides = getattr(self, "_strides", (None, None))[which]
            if strides is None:
                return ()
            itemsize = self._input_meta[self._strided_at[which]][1].itemsize
            return tuple(step // itemsize for step in strides)
        return super()._find_saved(name)


class MmBackward0(_SavesStrides, Formula):
    """matrix @ matrix."""

    __slots__ = ("_strides",)  # Note [Saved strides]: a slot, not a dict per node

    inputs = ("self", "mat2")
    _strided, _strided_at = ("self", "mat2"), (0, 1)

    @staticmethod
    def forward(self, mat2):
        return _matrices_product(self._data, mat2._data)

    tangent = MULTILINEAR
    derivatives = {
        "self": lambda grad, self_shape, mat2: grad_of_first_factor(grad, self_shape, mat2),
        "mat2": lambda grad, self, mat2_shape: grad_of_second_factor(grad, self, mat2_shape),
    }


def _float_operands(first, second, first_ndim: int, second_ndim: int) -> bool:
    """Whether mv's formulas, given Tensors (create_graph), may record PyTorch's nodes for
    their product by the node classes, without the public op's checks: Tensors of those
    numbers of dims and of one floating dtype (their sizes agree, as the forward's did)."""
    return (isinstance(first, Tensor) and isinstance(second, Tensor) and first._data.ndim == first_ndim
            and second._data.ndim == second_ndim and first._data.dtype == second._data.dtype
            and first._data.dtype.kind == "f")


def grad_of_matrix_times_vector(grad, matrix_shape: tuple, vector):
    """d(matrix @ vector)/d matrix applied to `grad`: the outer product grad vector^T, as
    PyTorch's mv formula `grad.ger(vec)` (ViewBackward0 and MulBackward0 when recorded).

    Note [The formulas of mv]
        PyTorch differentiates mv by two more products of one matrix and vectors: the vector's
        gradient is `self.t().mv(grad)` and the matrix's `grad.ger(vec)`. So, on arrays, the
        vector's gradient is one matrix-vector product (gemv) on the transposed matrix, with
        no copy of it, and the matrix's one broadcast product (each element a single rounded
        product); with create_graph they record PyTorch's nodes (TBackward0 and MvBackward0;
        ViewBackward0 and MulBackward0), so a second derivative runs one node for each
        product, as PyTorch's does, where matmul's general formulas (a 1-d operand promoted
        to a matrix) record a view on each side of a matrix product. A Hessian-vector
        product of a function of `W @ x` (benchmarks' w5) runs these at each step. A
        gradient with leading batch dimensions (Note [Batched backward]) takes the general
        formulas.
    """
    if type(grad) is np.ndarray:
        if grad.ndim == 1:
            return np.multiply.outer(grad, vector)
    elif _float_operands(grad, vector, 1, 1):
        return outer(grad, vector)  # (reshape and mul: PyTorch's ger)
    return grad_of_first_factor(grad, matrix_shape, vector)


def grad_of_vector_times_matrix(grad, matrix, vector_shape: tuple):
    """d(matrix @ vector)/d vector applied to `grad`: matrix^T @ grad, PyTorch's
    `self.t().mv(grad)` (see Note [The formulas of mv])."""
    if type(grad) is np.ndarray:
        if grad.ndim == 1:
            return np.matmul(matrix.T, grad)
    elif _float_operands(matrix, grad, 2, 1):
        return apply(MvBackward0, apply(TBackward0, matrix), grad)
    return grad_of_second_factor(grad, matrix, vector_shape)


class MvBackward0(ShownAsPyTorch, Formula):
    """matrix @ vector."""

    hidden = ("self_sym_sizes", "vec_sym_sizes")  # Note [Saved values as PyTorch shows them]

    inputs = ("self", "vec")
    forward = staticmethod(_matrix_product)
    tangent = MULTILINEAR
    derivatives = {  # Note [The formulas of mv]
        "self": lambda grad, self_shape, vec: grad_of_matrix_times_vector(grad, self_shape, vec),
        "vec": lambda grad, self, vec_shape: grad_of_vector_times_matrix(grad, self, vec_shape),
    }


class DotBackward0(Formula):
    """vector . vector."""

    inputs = ("self", "tensor")
    forward = staticmethod(_matrix_product)
    tangent = MULTILINEAR
    derivatives = {
        "self": lambda grad, tensor: grad * tensor,
        "tensor": lambda grad, self: grad * self,
    }


class VdotBackward0(_MatrixProduct):
    """vector . vector, the first conjugated (the same for real tensors)."""

    tangent = MULTILINEAR
    derivatives = {
        "self": lambda grad, other: grad * other,
        "other": lambda grad, self: grad * self,
    }


class BmmBackward0(MmBackward0):
    """batch of matrices @ batch of matrices (PyTorch shows the two tensors only)."""

    _strided, _strided_at = (), ()
    forward = staticmethod(_matrix_product)

    def _saved_names(self) -> list[str]:
        return [name for name in super()._saved_names() if not name.endswith("_sym_sizes")]


def _dtype_pair_name(tensor: Tensor) -> str:
    return _type_name(tensor).lower()


def _check_product_dtypes(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_dtype_pair_name(a)} != "
            f"{_dtype_pair_name(b)}"
        )


def _check_not_bool(a: Tensor, kernel: str) -> None:
    """PyTorch's product kernels take no bool (checked after the shapes, as PyTorch does)."""
    if a.dtype is _dtype.bool:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _check_dot(a: Tensor, b: Tensor) -> None:
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_type_name(a)} and "
            f"{_type_name(b)}"
        )
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
            f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively"
        )
    _check_not_bool(a, "dot")


def _check_mm(a_shape, b_shape) -> None:
    if a_shape[1] != b_shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_shape_text(a_shape)} and {_shape_text(b_shape)})"
        )


def _check_mv(mat_shape, vec_shape) -> None:
    if mat_shape[1] != vec_shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({mat_shape[0]}), mat ({_shape_text(mat_shape)}), vec "
            f"({vec_shape[0]})"
        )


def _broadcast_batch(a_batch: tuple, b_batch: tuple) -> tuple:
    rank = max(len(a_batch), len(b_batch))
    a_batch = (1,) * (rank - len(a_batch)) + tuple(a_batch)
    b_batch = (1,) * (rank - len(b_batch)) + tuple(b_batch)
    result = []
    for index, (left, right) in enumerate(zip(a_batch, b_batch)):
        if left != right and left != 1 and right != 1:
            raise RuntimeError(
                f"The size of tensor a ({left}) must match the size of tensor b ({right}) at "
                f"non-singleton dimension {index}"
            )
        result.append(max(left, right) if min(left, right) != 0 else 0)
    return tuple(result)


def _check_bmm(batch: tuple, a_shape, b_shape) -> None:
    count = math.prod(batch)
    if a_shape[-1] != b_shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {a_shape[-1]}] "
            f"but got: [{count}, {b_shape[-2]}]."
        )


def _matmul_node(a: Tensor, b: Tensor) -> type[Node] | None:
    """Check the operands of `a @ b` as PyTorch does and pick the node of the case: dot, mv
    or mm, or None where PyTorch composes several ops (`_composed_matmul`)."""
    a_shape, b_shape = a._data.shape, b._data.shape
    if not a_shape or not b_shape:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(a_shape)}D and "
            f"{len(b_shape)}D"
        )
    if len(a_shape) == 1 and len(b_shape) == 1:
        _check_dot(a, b)
        return DotBackward0
    _check_product_dtypes(a, b)
    if len(b_shape) == 1:
        rows = math.prod(a_shape[:-1])
        _check_mv((rows, a_shape[-1]), b_shape)
        return MvBackward0 if len(a_shape) == 2 else None
    if len(a_shape) == 1:
        _check_mm((1, a_shape[0]), b_shape[-2:])
        return None
    if len(b_shape) == 2:
        _check_mm((math.prod(a_shape[:-1]), a_shape[-1]), b_shape)
        return MmBackward0 if len(a_shape) == 2 else None
    batch = _broadcast_batch(a_shape[:-2], b_shape[:-2])
    _check_bmm(batch, a_shape, b_shape)
    return None


def _should_fold(a: Tensor, b: Tensor) -> bool:
    """PyTorch's choice for a product of a batch (3 or more dims) and a matrix or vector:
    fold the batch into the rows of one matrix product (mm or mv) rather than expand the
    smaller operand to a batch (bmm). It folds when the smaller operand requires grad
    (its gradient is then one product, not a batch summed), and otherwise when the fold
    is a view: the batch's leading dims lie one after another in memory. (The batch is
    the second operand transposed when that is the larger.)"""
    a_larger = a.ndim >= b.ndim
    batch = a._data if a_larger else np.swapaxes(b._data, -1, -2)
    if batch.ndim < 3 or (b.ndim if a_larger else a.ndim) > 2:
        return False
    if (b if a_larger else a).requires_grad:
        return True
    if a.ndim == 2:  # (the product would be transposed, then copied to be contiguous)
        return False
    if batch.size == 0:
        return True
    shape, strides = batch.shape, batch.strides
    return all(strides[dim] == strides[dim + 1] * shape[dim + 1] for dim in range(batch.ndim - 2))


def _composed_matmul(a: Tensor, b: Tensor) -> Tensor:
    """`a @ b` where PyTorch composes several ops, run as PyTorch runs them (Note
    [Contractions as PyTorch composes them]): a vector times a matrix as a one-row mm
    squeezed in place; a batch times a matrix or vector folded into one mm or mv
    (`_should_fold`), where a batch of one matrix that requires grad counts as a matrix;
    any other case as both operands expanded to the broadcast batch, flattened to one
    batch dim, one bmm, and the result viewed with its batch dims."""
    if a.ndim == 1 and b.ndim == 2:
        return a.unsqueeze(0).mm(b).squeeze_(0)
    if a.ndim == 3 == b.ndim and (a._data.shape[0] == 1) != (b._data.shape[0] == 1):
        # a batch of one matrix that requires grad is that matrix, so that its gradient is
        # one product (as PyTorch's)
        if a._data.shape[0] == 1 and a.requires_grad:
            return _composed_matmul(a.squeeze(0), b)
        if b._data.shape[0] == 1 and b.requires_grad:
            return _composed_matmul(a, b.squeeze(0))
    if _should_fold(a, b):
        transpose = b.ndim > a.ndim
        batch = b.mT if transpose else a
        other = (a.t() if a.ndim == 2 else a) if transpose else b
        rows_shape = batch._data.shape[:-1]
        folded = reshape(batch, (math.prod(rows_shape), batch._data.shape[-1]))
        if other.ndim == 1:
            return apply(views.UnsafeViewBackward0, folded.mv(other), shape=rows_shape)
        shape = (*rows_shape, other._data.shape[1])
        product = apply(views.UnsafeViewBackward0, folded.mm(other), shape=shape)
        return product.mT.contiguous() if transpose else product
    a_shape, b_shape = a._data.shape, b._data.shape
    rows, inner = (a_shape[-2] if a.ndim > 1 else 1), a_shape[-1]
    columns = b_shape[-1] if b.ndim > 1 else None
    batch = _broadcast_batch(a_shape[:-2], b_shape[:-2])
    count = math.prod(batch)
    left = reshape(a.expand(*batch, rows, inner), (count, rows, inner))
    if columns is None:
        right = reshape(b.expand(*batch, inner), (count, inner)).unsqueeze(2)
        product = left.bmm(right).squeeze(-1)
    else:
        right = reshape(b.expand(*batch, inner, columns), (count, inner, columns))
        product = left.bmm(right)
    shape = (*batch, *((rows,) if a.ndim > 1 else ()), *((columns,) if columns is not None else ()))
    return apply(views.UnsafeViewBackward0, product, shape=shape)


# Two float matrices of one dtype whose inner sizes agree pass every check and make
# MmBackward0: their product is recorded by matmul's direct entry (Note [Direct entries]).
@register(methods=("matmul", "__matmul__"), direct=MmBackward0, direct_if="float matrices that multiply")
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product with NumPy/PyTorch rules: 1-d operands are vectors, leading dims
    are batch dims and broadcast. Two vectors, a matrix and a vector, or two matrices make
    one node (dot, mv, mm); the other cases record PyTorch's composite (`_composed_matmul`)."""
    _require_tensor(input, "matmul", 1, "input")
    _require_tensor(other, "matmul", 2, "other")
    node = _matmul_node(input, other)
    _check_not_bool(input, "dot" if node is DotBackward0 else "bmm" if max(input.ndim, other.ndim) > 2
                    else "addmv_impl_cpu" if other.ndim == 1 else "addmm_impl_cpu_")
    if node is not None:
        return apply(node, input, other)
    if vmap_active.count and _batching.any_batched(input, (other,)):
        return apply(_MatrixProduct, input, other)  # (vmap's rule for products: one product)
    _refuse_saved_inference((input, other))
    return _composed_matmul(input, other)


def _matmul_operator(self: Tensor, other) -> Tensor:
    """`self @ other`; NotImplemented for non-tensors (Python then raises its TypeError)."""
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


def _rmatmul_operator(self: Tensor, other) -> Tensor:
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


# The table lists `__matmul__`; these replace the generic operators, which accept numbers.
register_method("__matmul__", with_direct_entry("matmul", _matmul_operator), replace=True)
register_method("__rmatmul__", _rmatmul_operator)


@register(methods="mm")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices."""
    _require_tensor(input, "mm", 1, "input")
    _require_tensor(mat2, "mm", 2, "mat2")
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_product_dtypes(input, mat2)
    _check_mm(input._data.shape, mat2._data.shape)
    _check_not_bool(input, "addmm_impl_cpu_")
    return apply(MmBackward0, input, mat2)


def _check_batches(first: Tensor, second: Tensor) -> None:
    if first.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if second.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    _check_product_dtypes(first, second)
    count, _, inner = first._data.shape
    if second._data.shape[:2] != (count, inner):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {inner}] but "
            f"got: [{second.shape[0]}, {second.shape[1]}]."
        )
    _check_not_bool(first, "bmm")


@register(methods="bmm")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix products of two batches of matrices, pairwise (no broadcasting)."""
    _require_tensor(input, "bmm", 1, "input")
    _require_tensor(mat2, "bmm", 2, "mat2")
    _check_batches(input, mat2)
    return apply(BmmBackward0, input, mat2)


def _check_matrix_vector(mat: Tensor, vec: Tensor) -> None:
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {mat.ndim}, {vec.ndim}")
    _check_product_dtypes(mat, vec)
    _check_mv(mat._data.shape, vec._data.shape)
    _check_not_bool(mat, "addmv_impl_cpu")


@register(methods="mv")
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """A matrix times a vector."""
    _require_tensor(input, "mv", 1, "input")
    _require_tensor(vec, "mv", 2, "vec")
    _check_matrix_vector(input, vec)
    return apply(MvBackward0, input, vec)


@register(methods="dot")
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The dot product of two vectors."""
    _require_tensor(input, "dot", 1, "input")
    _require_tensor(tensor, "dot", 2, "tensor")
    _check_dot(input, tensor)
    return apply(DotBackward0, input, tensor)


@register(methods="vdot")
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product with the first vector conjugated (plain dot for real tensors)."""
    _require_tensor(input, "vdot", 1, "input")
    _require_tensor(other, "vdot", 2, "other")
    _check_dot(input, other)
    return apply(VdotBackward0, input, other)


@register(methods="inner")
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims of both (a number times a tensor for 0-d)."""
    _require_tensor(input, "inner", 1, "input")
    _require_tensor(other, "inner", 2, "other")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"[{', '.join(map(str, input.shape))}] and [{', '.join(map(str, other.shape))}]"
        )
    return tensordot(input, other, dims=([-1], [-1]))


@register(methods=("outer", "ger"))
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors: out[i, j] = input[i] * vec2[j]."""
    _require_tensor(input, "outer", 1, "input")
    _require_tensor(vec2, "outer", 2, "vec2")
    for name, vector in (("self", input), ("vec2", vec2)):
        if vector.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {vector.ndim}-D")
    return input.reshape(input.shape[0], 1) * vec2


ger = outer


def _scaled_product_plus(product):
    """The forward beta * self + alpha * product(first, second); self is ignored when beta is 0.

    beta and alpha default to 1, as the public functions': linear records addmm without them
    (no keyword arguments to build and keep at every step of a recurrent model), and its node
    still shows `_saved_beta` and `_saved_alpha` as 1, as PyTorch's does.
    """

    def forward(self, first, second, beta=1, alpha=1):
        result = product(first._data, second._data)
        if alpha != 1:
            result = result * alpha
        if beta == 0:
            return result
        added = self._data if beta == 1 else self._data * beta
        if type(result) is np.ndarray and added.dtype is result.dtype:
            try:  # (in place: the same sums without a second result-sized array)
                result += added
                return result
            except ValueError:  # (a self larger than the product: broadcast to a new array)
                pass
        return result + added

    return staticmethod(forward)


def _scaled(grad, factor):
    return grad if factor == 1 else grad * factor


def _gradient_of_added(grad, self_shape: tuple, beta):
    """d(beta * self + ...)/d self applied to `grad`, an array summed over its rows when `self`
    is one row added to each (linear's bias).

    The engine sums a broadcast input's gradient back to its shape (_fit_to_inputs) for every
    op, but linear runs addmm at every step of a recurrent model, where that general path costs
    more than the product's own backward; this is the same sum (np.add.reduce over the rows,
    as the engine's _sum_to_array) for that one case. Summing axis -2 also serves a batched
    pass (Note [Batched backward]), whose gradient has leading batch dims that the engine's
    fitting would not sum past. Other shapes, and Tensors (create_graph, whose sum is
    recorded as the engine records it), are left to the engine.
    """
    grad = _scaled(grad, beta)
    if type(grad) is np.ndarray and grad.ndim >= 2 and self_shape == grad.shape[-1:]:
        return np.add.reduce(grad, axis=-2)
    return grad


def _summed_matmul(left, right):
    return np.matmul(left, right).sum(axis=0)


class AddmmBackward0(_SavesStrides, ShownAsPyTorch, Formula):
    """beta * self + alpha * (mat1 @ mat2), the fused form of BLAS's gemm."""

    __slots__ = ("_strides",)  # Note [Saved strides]: a slot, not a dict per node

    hidden = ("self_sym_sizes",)  # Note [Saved values as PyTorch shows them]

    inputs = ("self", "mat1", "mat2")
    _strided, _strided_at = ("mat1", "mat2"), (1, 2)
    forward = _scaled_product_plus(_matrices_product)  # Note [Matrix products by np.dot]
    tangent = MultilinearPlus(0)
    derivatives = {
        "self": lambda grad, self_shape, beta: _gradient_of_added(grad, self_shape, beta),
        "mat1": lambda grad, mat1_shape, mat2, alpha: grad_of_first_factor(
            _scaled(grad, alpha), mat1_shape, mat2),
        "mat2": lambda grad, mat1, mat2_shape, alpha: grad_of_second_factor(
            _scaled(grad, alpha), mat1, mat2_shape),
    }


class BaddbmmBackward0(ShownAsPyTorch, Formula):
    """beta * self + alpha * (batch1 @ batch2), batch by batch."""

    hidden = ("batch1_sym_sizes", "batch2_sym_sizes")  # Note [Saved values as PyTorch shows them]

    inputs = ("self", "batch1", "batch2")
    forward = _scaled_product_plus(np.matmul)
    tangent = MultilinearPlus(0)
    derivatives = {
        "self": lambda grad, beta: _scaled(grad, beta),
        "batch1": lambda grad, batch1_shape, batch2, alpha: grad_of_first_factor(
            _scaled(grad, alpha), batch1_shape, batch2),
        "batch2": lambda grad, batch1, batch2_shape, alpha: grad_of_second_factor(
            _scaled(grad, alpha), batch1, batch2_shape),
    }


class AddbmmBackward0(BaddbmmBackward0):
    """beta * self + alpha * (sum over the batch of batch1 @ batch2)."""

    forward = _scaled_product_plus(_summed_matmul)
    shown: ClassVar[dict] = {
        "batch1_sym_argsize_0": lambda node: formula_value(node, "batch1_sym_sizes")[0],
        "batch1_sym_argsize_1": lambda node: formula_value(node, "batch1_sym_sizes")[1],
        "batch2_sym_argsize_2": lambda node: formula_value(node, "batch2_sym_sizes")[2],
    }


class AddmvBackward0(ShownAsPyTorch, Formula):
    """beta * self + alpha * (mat @ vec)."""

    hidden = ("mat_sym_sizes", "vec_sym_sizes")  # Note [Saved values as PyTorch shows them]

    inputs = ("self", "mat", "vec")
    forward = _scaled_product_plus(np.matmul)
    tangent = MultilinearPlus(0)
    derivatives = {
        "self": lambda grad, beta: _scaled(grad, beta),
        # mv's formulas, then alpha (as PyTorch's: Note [The formulas of mv])
        "mat": lambda grad, mat_shape, vec, alpha: _scaled(
            grad_of_matrix_times_vector(grad, mat_shape, vec), alpha),
        "vec": lambda grad, mat, vec_shape, alpha: _scaled(
            grad_of_vector_times_matrix(grad, mat, vec_shape), alpha),
    }


class AddrBackward0(Formula):
    """beta * self + alpha * outer(vec1, vec2)."""

    inputs = ("self", "vec1", "vec2")
    forward = _scaled_product_plus(np.multiply.outer)
    tangent = MultilinearPlus(0)
    derivatives = {
        "self": lambda grad, beta: _scaled(grad, beta),
        "vec1": lambda grad, vec2, alpha: _math.matmul(_scaled(grad, alpha), vec2),
        "vec2": lambda grad, vec1, alpha: _math.matmul(_scaled(grad, alpha).mT, vec1),
    }


def _check_expandable(input: Tensor, target: tuple, product_operand: Tensor) -> None:
    """The added term of addmm and friends: same dtype as the product, broadcastable to it."""
    if input.dtype is not product_operand.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {_type_name(input)} and "
            f"{_type_name(product_operand)}"
        )
    shape = input._data.shape
    offset = len(target) - len(shape)
    compatible = offset >= 0 and all(
        size == 1 or size == target[offset + index] for index, size in enumerate(shape)
    )
    if compatible:
        return
    for index in range(len(shape)):
        size = shape[-1 - index]
        wanted = target[-1 - index] if index < len(target) else None
        if size != 1 and size != wanted:
            raise RuntimeError(
                f"The expanded size of the tensor ({wanted}) must match the existing size ({size}) at "
                f"non-singleton dimension {len(target) - 1 - index}.  Target sizes: "
                f"[{', '.join(map(str, target))}].  Tensor sizes: [{', '.join(map(str, shape))}]"
            )


@register(methods="addmm", inplace="addmm_")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape."""
    for position, (name, value) in enumerate((("input", input), ("mat1", mat1), ("mat2", mat2)), 1):
        _require_tensor(value, "addmm", position, name)
    if mat1.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    _check_product_dtypes(mat1, mat2)
    _check_mm(mat1._data.shape, mat2._data.shape)
    _check_not_bool(mat1, "addmm_impl_cpu_")
    _check_expandable(input, (mat1.shape[0], mat2.shape[1]), mat2)
    beta = integral_coefficient(beta, (input, mat1, mat2), "beta")
    alpha = integral_coefficient(alpha, (input, mat1, mat2), "alpha")
    return apply(AddmmBackward0, input, mat1, mat2, beta=beta, alpha=alpha)


@register(methods="baddbmm", inplace="baddbmm_")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    for position, (name, value) in enumerate((("input", input), ("batch1", batch1), ("batch2", batch2)), 1):
        _require_tensor(value, "baddbmm", position, name)
    _check_batches(batch1, batch2)
    _check_expandable(input, (batch1.shape[0], batch1.shape[1], batch2.shape[2]), batch2)
    beta = integral_coefficient(beta, (input, batch1, batch2), "beta")
    alpha = integral_coefficient(alpha, (input, batch1, batch2), "alpha")
    return apply(BaddbmmBackward0, input, batch1, batch2, beta=beta, alpha=alpha)


@register(methods="addmv", inplace="addmv_")
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    for position, (name, value) in enumerate((("input", input), ("mat", mat), ("vec", vec)), 1):
        _require_tensor(value, "addmv", position, name)
    _check_matrix_vector(mat, vec)
    _check_expandable(input, (mat.shape[0],), mat)
    beta = integral_coefficient(beta, (input, mat, vec), "beta")
    alpha = integral_coefficient(alpha, (input, mat, vec), "alpha")
    return apply(AddmvBackward0, input, mat, vec, beta=beta, alpha=alpha)


@register(methods="addbmm", inplace="addbmm_")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (the sum over the batch of batch1 @ batch2)."""
    for position, (name, value) in enumerate((("input", input), ("batch1", batch1), ("batch2", batch2)), 1):
        _require_tensor(value, "addbmm", position, name)
    _check_batches(batch1, batch2)
    _check_expandable(input, (batch1.shape[1], batch2.shape[2]), batch2)
    beta = integral_coefficient(beta, (input, batch1, batch2), "beta")
    alpha = integral_coefficient(alpha, (input, batch1, batch2), "alpha")
    return apply(AddbmmBackward0, input, batch1, batch2, beta=beta, alpha=alpha)


@register(methods="addr", inplace="addr_")
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    for position, (name, value) in enumerate((("input", input), ("vec1", vec1), ("vec2", vec2)), 1):
        _require_tensor(value, "addr", position, name)
    for name, vector in (("vec1", vec1), ("vec2", vec2)):
        if vector.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {vector.ndim}-D")
    input, vec1, vec2 = _promoted((input, vec1, vec2))  # addr promotes, as PyTorch's
    _check_expandable(input, (vec1.shape[0], vec2.shape[0]), vec2)
    beta = integral_coefficient(beta, (input, vec1, vec2), "beta", refuse=True)
    alpha = integral_coefficient(alpha, (input, vec1, vec2), "alpha", refuse=True)
    return apply(AddrBackward0, input, vec1, vec2, beta=beta, alpha=alpha)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of several matrices (deprecated in PyTorch for linalg.multi_dot)."""
    from .norms import multi_dot  # defined later in the package
    return multi_dot(matrices)


def _trace(self):
    data = self._data
    dtype = np.int64 if data.dtype.kind in "biu" else data.dtype
    return np.asarray(np.trace(data, dtype=dtype))


class TraceBackward0(Formula):
    """Sum of the diagonal: the incoming gradient goes to the diagonal, zeros elsewhere."""

    forward = staticmethod(_trace)
    tangent = LINEAR
    derivatives = {
        "self": lambda grad, self_shape: _math.where(
            _math.eye_mask(self_shape), grad, 0.0),
    }


@register(methods="trace")
def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    _require_tensor(input, "trace")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return apply(TraceBackward0, input)


@register(methods="kron")
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every element of input times the whole of other, as blocks."""
    _require_tensor(input, "kron", 1, "input")
    _require_tensor(other, "kron", 2, "other")
    rank = max(input.ndim, other.ndim)
    input_shape = (1,) * (rank - input.ndim) + tuple(input.shape)
    other_shape = (1,) * (rank - other.ndim) + tuple(other.shape)
    # PyTorch's graph: each factor viewed with its dims interleaved with size-1 dims, their
    # product, and that viewed with each pair of dims merged.
    ones = (1,) * rank
    spread_input = apply(views.UnsafeViewBackward0, input, shape=_interleaved(input_shape, ones))
    spread_other = apply(views.UnsafeViewBackward0, other, shape=_interleaved(ones, other_shape))
    merged = tuple(left * right for left, right in zip(input_shape, other_shape))
    return apply(views.UnsafeViewBackward0, spread_input * spread_other, shape=merged)


def _interleaved(first: tuple, second: tuple) -> tuple:
    """(first[0], second[0], first[1], second[1], ...)."""
    return tuple(size for pair in zip(first, second) for size in pair)


# ---------------------------------------------------------------------------
# cross


def _cross(self, other, dim):
    left, right = operand_arrays(self, other, "linalg.cross")
    left, right = np.broadcast_arrays(left, right)
    return np.cross(left, right, axis=dim)


def _cross_of(first, second, dim: int):
    """first x second along `dim`, on arrays or Tensors (Note [One formula, two modes])."""
    if isinstance(first, Tensor):
        return linalg_cross(first, second, dim=dim)
    first, second = np.broadcast_arrays(first, second)
    return np.cross(first, second, axis=dim)


class LinalgCrossBackward0(Formula):
    """Cross product along `dim`: d(a x b) = da x b + a x db."""

    inputs = ("self", "other")
    forward = staticmethod(_cross)
    tangent = MULTILINEAR
    derivatives = {
        "self": lambda grad, other, dim: _cross_of(other, grad, dim),
        "other": lambda grad, self, dim: _cross_of(grad, self, dim),
    }


@register(name="linalg.cross", torch_name="linalg.cross")
def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along `dim`, broadcasting the other dims."""
    _require_tensor(input, "linalg_cross", 1, "input")
    _require_tensor(other, "linalg_cross", 2, "other")
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    _check_same_scalar_type((input, other))
    rank = input.ndim
    shape_a, shape_b = input._data.shape, other._data.shape
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})"
        )
    if shape_a[dim] != 3 or shape_b[dim] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {shape_a[dim]} and "
            f"{shape_b[dim]}"
        )
    return apply(LinalgCrossBackward0, input, other, dim=dim)  # saved as given, as PyTorch


@register(methods="cross")
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product along `dim` (default: the first dim of size 3)."""
    if dim is None:
        _require_tensor(input, "cross", 1, "input")
        dim = next((index for index, size in enumerate(input.shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)
