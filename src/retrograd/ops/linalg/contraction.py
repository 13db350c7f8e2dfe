"""Linear algebra, small helpers and the contractions: argument checks, named results, and
einsum and tensordot, composed as PyTorch composes them."""

from __future__ import annotations

import math
import numbers
import string

import numpy as np

from ... import _dtype, return_types
from ..._tensor import Tensor
from ...autograd import grad_mode
from .._table import _INFERENCE_SAVED_MESSAGE, register
from ..shape import reshape


class LinAlgError(RuntimeError):
    """A matrix the algorithm cannot handle (singular, not positive-definite), as torch.linalg."""


# ---------------------------------------------------------------------------
# Small helpers


def _require_tensor(value, op_name: str, position: int = 1, argument: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{op_name}(): argument '{argument}' (position {position}) must be Tensor, not "
            f"{type(value).__name__}"
        )


def _constant(array) -> Tensor:
    """A tensor that needs no gradient (masks, identities) for use inside a backward."""
    return Tensor._make(np.asarray(array))


def _identity(size: int, like: Tensor) -> Tensor:
    return _constant(np.eye(size, dtype=like._data.dtype))


def _type_name(tensor: Tensor) -> str:
    return _dtype.scalar_type_name(tensor.dtype)


def _shape_text(shape) -> str:
    return "x".join(map(str, shape))


def _check_same_scalar_type(tensors) -> None:
    """PyTorch's "expected scalar type" error for operands of different dtypes."""
    first = tensors[0]
    for other in tensors[1:]:
        if other.dtype is not first.dtype:
            raise RuntimeError(
                f"expected scalar type {_type_name(first)} but found {_type_name(other)}"
            )


def _promoted(tensors: tuple) -> tuple:
    """The tensors in their common dtype (PyTorch's promotion); casts are recorded."""
    target = tensors[0].dtype
    for tensor in tensors[1:]:
        target = _dtype.result_type(Tensor._make(np.empty(0, target.numpy)), tensor)
    return tuple(tensor if tensor.dtype is target else tensor.to(target) for tensor in tensors)


def _check_floating(tensor: Tensor, op_name: str) -> None:
    if not tensor.dtype.is_floating_point:
        raise RuntimeError(
            f"{op_name}: Expected a floating point or complex tensor as input. Got {_type_name(tensor)}"
        )


def _check_square_batches(tensor: Tensor, op_name: str, name: str = "A") -> None:
    """PyTorch's checks for ops on (batches of) square matrices."""
    _check_floating(tensor, op_name)
    shape = tensor._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"{op_name}: The input tensor {name} must have at least 2 dimensions.")
    if shape[-1] != shape[-2]:
        raise RuntimeError(
            f"{op_name}: {name} must be batches of square matrices, but they are {shape[-2]} by "
            f"{shape[-1]} matrices"
        )


def _batch_prefix(shape: tuple, flat_index: int) -> str:
    return f"(Batch element {flat_index}): " if len(shape) > 2 else ""


def _without_float_warnings(backward):
    """Run a backward without NumPy's divide/invalid warnings: ill-conditioned inputs give
    inf and nan gradients silently, as in PyTorch."""

    def quiet(self, *grads):
        with np.errstate(divide="ignore", invalid="ignore"):
            return backward(self, *grads)

    quiet.__doc__ = backward.__doc__
    return quiet


# The named result tuples (retrograd.return_types, as PyTorch's torch.return_types).
_SlogdetResult = return_types.linalg_slogdet
_TorchSlogdetResult = return_types.slogdet
_QrResult = return_types.linalg_qr
_TorchQrResult = return_types.qr
_EighResult = return_types.linalg_eigh
_SvdResult = return_types.linalg_svd
_TorchSvdResult = return_types.svd

# ---------------------------------------------------------------------------
# PyTorch's composites: einsum and tensordot record the ops PyTorch's run
#
# Note [Contractions as PyTorch composes them]
#     PyTorch has no node of its own for einsum, tensordot, inner or the batched cases of
#     matmul: they are composites, and their graph is the ops they run (permutes, views,
#     sums and one matrix product per pair of operands). So are ours, op by op in the same
#     order, so that each records PyTorch's nodes with PyTorch's saved values, the output's
#     grad_fn is PyTorch's, and the gradient (first and higher order, forward mode, vmap)
#     is that of those ops. Their numbers come from the same products (a batched matmul),
#     so the results agree with PyTorch's to the rounding of those products. Where they
#     reshape they call `reshape`, which records what PyTorch's does: ViewBackward0 for a
#     contiguous tensor, ReshapeAliasBackward0 for another tensor whose strides allow a
#     view, and a contiguous copy (CloneBackward0) viewed (UnsafeViewBackward0) for the
#     rest.
#     The cost is PyTorch's too: a batched matmul records five nodes where it recorded one
#     (twice the instructions of a small product's forward and backward).


def _refuse_saved_inference(operands) -> None:
    """PyTorch's error for an inference tensor that the composite's product would save: in
    PyTorch its views are inference tensors too, and a product saves each operand where
    the other requires grad. (Here its views are plain tensors, so it is checked once, on
    the operands.)"""
    if (any(operand._is_inference for operand in operands) and grad_mode.is_grad_enabled()
            and any(operand.requires_grad for operand in operands)):
        raise RuntimeError(_INFERENCE_SAVED_MESSAGE)


# Internally subscripts are integer labels, as PyTorch numbers them: 'A'-'Z' are 0-25 and
# 'a'-'z' 26-51 (a sublist's integers are these labels); None stands for an ellipsis.

_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _letter(label: int) -> str:
    return _LETTERS[label] if 0 <= label < 52 else "..."


def _parse_term(term: str, position: int, equation_offset: int) -> list[int | None]:
    """One term's subscripts as labels, with None standing for its ellipsis."""
    labels: list[int | None] = []
    index = 0
    while index < len(term):
        if term.startswith("...", index):
            if None in labels:
                raise RuntimeError(
                    f"einsum(): found '.' for operand {position} that is not part of any ellipsis"
                )
            labels.append(None)
            index += 3
            continue
        char = term[index]
        if char not in _LETTERS:
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {equation_offset + index} in the equation "
                "string, subscripts must be in [a-zA-Z]"
            )
        labels.append(_LETTERS.index(char))
        index += 1
    return labels


def _check_term_rank(labels, position: int, ndim: int) -> None:
    """An operand needs one subscript per dim, or at most that many with an ellipsis."""
    explicit = len(labels) - (None in labels)
    if None not in labels and explicit != ndim:
        raise RuntimeError(
            f"einsum(): the number of subscripts in the equation ({explicit}) does not match the "
            f"number of dimensions ({ndim}) for operand {position} and no ellipsis was given"
        )
    if explicit > ndim:
        raise RuntimeError(
            f"einsum(): the number of subscripts in the equation ({explicit}) is more than the "
            f"number of dimensions ({ndim}) for operand {position}"
        )


def _parse_equation(equation: str, operands) -> tuple[list[list[int | None]], list[int | None]]:
    """The terms of the operands and of the output (None: an ellipsis)."""
    equation = equation.replace(" ", "")
    left, arrow, right = equation.partition("->")
    terms = left.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    parsed = []
    offset = 0
    for position, (term, operand) in enumerate(zip(terms, operands)):
        labels = _parse_term(term, position, offset)
        _check_term_rank(labels, position, operand.ndim)
        parsed.append(labels)
        offset += len(term) + 1
    if arrow:
        return parsed, _checked_output(_parse_term(right, 0, len(left) + 2), parsed)
    return parsed, _implicit_output(parsed)


def _implicit_output(terms) -> list[int | None]:
    """The output of an equation without '->': the broadcast dims, then the subscripts used
    once, in label order (upper case first)."""
    counts: dict[int, int] = {}
    for labels in terms:
        for label in labels:
            if label is not None:
                counts[label] = counts.get(label, 0) + 1
    return [None, *sorted(label for label, count in counts.items() if count == 1)]


def _checked_output(output, terms) -> list[int | None]:
    seen = {label for labels in terms for label in labels}
    for index, label in enumerate(output):
        if label is None:
            continue
        if label not in seen:
            raise RuntimeError(
                f"einsum(): output subscript {_letter(label)} does not appear in the equation for any "
                "input operand"
            )
        if label in output[:index]:
            raise RuntimeError(
                f"einsum(): output subscript {_letter(label)} appears more than once in the output"
            )
    return list(output)


def _parse_sublists(arguments):
    """einsum(op0, sublist0, op1, sublist1, ..., [output]): the interleaved format."""
    operands = list(arguments[0::2])
    sublists = list(arguments[1::2])
    output = None
    if len(arguments) % 2 == 1:
        output = arguments[-1]
        operands = operands[:-1]
    terms = [[None if item is Ellipsis else int(item) for item in sublist] for sublist in sublists]
    for position, (operand, labels) in enumerate(zip(operands, terms)):
        _require_tensor(operand, "einsum", 2, "tensors")
        _check_term_rank(labels, position, operand.ndim)
    if output is None:
        return operands, terms, _implicit_output(terms)
    output = [None if item is Ellipsis else int(item) for item in output]
    return operands, terms, _checked_output(output, terms)


def _ellipsis_rank(operands, terms) -> int:
    """How many dims the ellipsis stands for: the most any operand's covers."""
    return max((operand.ndim - len(labels) + 1 for operand, labels in zip(operands, terms)
                if None in labels), default=0)


def _check_label_sizes(operands, terms, ellipsis_rank: int) -> None:
    """PyTorch's errors for subscripts whose sizes disagree: repeated in one operand (where
    they must be equal) or across operands (where they must broadcast)."""
    sizes: dict = {}
    for position, (operand, labels) in enumerate(zip(operands, terms)):
        shape = operand._data.shape
        own: dict = {}
        dim = 0
        for label in labels:
            if label is None:
                covered = len(shape) - len(labels) + 1
                keys = [("...", ellipsis_rank - covered + index) for index in range(covered)]
            else:
                keys = [label]
            for key in keys:
                size = shape[dim]
                dim += 1
                if key in own:
                    if own[key] != size:
                        raise RuntimeError(
                            f"einsum(): subscript {_letter(key)} is repeated for operand {position} but "
                            f"the sizes don't match, {size} != {own[key]}"
                        )
                    continue
                own[key] = size
                seen = sizes.get(key, 1)
                if seen != 1 and size not in (1, seen):
                    if isinstance(key, tuple):  # (a broadcast dim; PyTorch's text lacks a space)
                        raise RuntimeError(
                            f"einsum(): dimension {dim - 1} covered by ellipsis in operand {position}has "
                            f"size {size} which does not broadcast with previously seen ellipsis with "
                            f"size {seen} for the respective dimension"
                        )
                    raise RuntimeError(
                        f"einsum(): subscript {_letter(key)} has size {size} for operand {position} "
                        f"which does not broadcast with previously seen size {seen}"
                    )
                if seen == 1:
                    sizes[key] = size


def _aligned_positions(terms, output, ellipsis_rank: int):
    """PyTorch's alignment of the operands: the output's dims in order (the ellipsis's where
    it stands), then the summed ones (the ellipsis's first, then the labels in order).
    Returns each label's position, the ellipsis's first position, the output's rank and
    the total rank."""
    positions: dict[int, int] = {}
    at = 0
    ellipsis_at = None
    for label in output:
        if label is None:
            ellipsis_at, at = at, at + ellipsis_rank
        else:
            positions[label] = at
            at += 1
    output_rank = at
    if ellipsis_at is None:
        ellipsis_at, at = at, at + ellipsis_rank
    for label in sorted({label for labels in terms for label in labels if label is not None}):
        if label not in positions:
            positions[label] = at
            at += 1
    return positions, ellipsis_at, output_rank, at


def _aligned(operand: Tensor, labels, positions, ellipsis_at: int, ellipsis_rank: int,
             rank: int) -> Tensor:
    """One operand with a dim for each aligned position (size 1, added at the end, for the
    labels and broadcast dims it lacks), repeated subscripts read on their diagonal,
    permuted into the common order."""
    order = [-1] * rank
    first_dim: dict[int, int] = {}
    ndim = operand.ndim
    dim = 0
    for label in labels:
        if label is None:  # (its dims are the last of the ellipsis's; the others are added below)
            covered = ndim - len(labels) + 1
            for index in range(ellipsis_rank - covered, ellipsis_rank):
                order[ellipsis_at + index] = dim
                dim += 1
        elif label in first_dim:
            operand = operand.diagonal(0, first_dim[label], dim).movedim(-1, first_dim[label])
        else:
            first_dim[label] = dim
            order[positions[label]] = dim
            dim += 1
    for index in range(rank):
        if order[index] == -1:
            operand = operand.unsqueeze(dim)
            order[index] = dim
            dim += 1
    return operand.permute(order)


def _product_summed(left: Tensor, right: Tensor, summed: list[int]) -> Tensor:
    """left * right summed over the dims `summed` (kept as size 1), as PyTorch's einsum pairs
    two aligned operands: a product when nothing is summed, else one batched matrix
    product (bmm) whose batch is the dims both have, viewed and permuted back."""
    if not summed:
        return left * right
    both, left_only, right_only = [], [], []
    summed_size = 1
    for dim in range(left.ndim):
        left_size, right_size = left._data.shape[dim], right._data.shape[dim]
        if dim in summed:
            if left_size != 1 and right_size != 1:
                summed_size *= left_size
            elif left_size != 1:
                left = left.sum(dim, True)
            elif right_size != 1:
                right = right.sum(dim, True)
        elif left_size != 1 and right_size != 1:
            both.append(dim)
        elif left_size != 1:
            left_only.append(dim)
        else:
            right_only.append(dim)
    left_shape, right_shape = left._data.shape, right._data.shape
    both_sizes = [left_shape[dim] for dim in both]
    left_sizes = [left_shape[dim] for dim in left_only]
    right_sizes = [right_shape[dim] for dim in right_only]
    rows, columns = math.prod(left_sizes), math.prod(right_sizes)
    left = reshape(left.permute(both + left_only + summed + right_only),
                     (math.prod(both_sizes), rows, summed_size))
    right = reshape(right.permute(both + summed + right_only + left_only),
                      (math.prod(both_sizes), summed_size, columns))
    product = left.bmm(right).view(*both_sizes, *left_sizes, *[1] * len(summed), *right_sizes)
    order = [0] * len(left_shape)
    for place, dim in enumerate(both + left_only + summed + right_only):
        order[dim] = place
    return product.permute(order)


def _contracted(operands, terms, output) -> Tensor:
    """einsum of checked operands and terms (None: an ellipsis), by PyTorch's algorithm:
    align the operands, then contract them left to right, a pair at a time, each dim summed
    as soon as no operand left needs it, and view away the summed dims (see Note
    [Contractions as PyTorch composes them])."""
    ellipsis_rank = _ellipsis_rank(operands, terms)
    _check_label_sizes(operands, terms, ellipsis_rank)
    if len(operands) > 1:
        _refuse_saved_inference(operands)
    positions, ellipsis_at, output_rank, rank = _aligned_positions(terms, output, ellipsis_rank)
    aligned = [_aligned(operand, labels, positions, ellipsis_at, ellipsis_rank, rank)
               for operand, labels in zip(operands, terms)]
    if len(aligned) == 1:
        if rank == output_rank:
            return aligned[0]
        return aligned[0].sum(list(range(output_rank, rank)))
    # how many operands not yet contracted have each summed dim (of a size other than 1)
    counts = {dim: sum(operand._data.shape[dim] != 1 for operand in aligned)
              for dim in range(output_rank, rank)}
    while len(aligned) > 1:
        left, right = aligned[0], aligned[1]
        summed, left_summed, right_summed = [], [], []
        for dim in range(output_rank, rank):
            left_size, right_size = left._data.shape[dim], right._data.shape[dim]
            if left_size != 1 and right_size != 1:
                counts[dim] -= 1
                if counts[dim] == 1:
                    summed.append(dim)
                    counts[dim] = 0
            elif counts[dim] == 1:
                if left_size != 1:
                    left_summed.append(dim)
                    counts[dim] = 0
                elif right_size != 1:
                    right_summed.append(dim)
                    counts[dim] = 0
        if left_summed:
            left = left.sum(left_summed, True)
        if right_summed:
            right = right.sum(right_summed, True)
        aligned[:2] = [_product_summed(left, right, summed)]
    result = aligned[0]
    if rank == output_rank:
        return result
    return result.view(*result._data.shape[:output_rank])


@register()
def einsum(*arguments) -> Tensor:
    """Sum of products over the subscripts of an Einstein-summation equation.

    `einsum("ij,jk->ik", a, b)`; implicit outputs (`"ij,jk"`), `...` for broadcast batch
    dims, size-1 dims broadcast, and the sublist form `einsum(a, [0, 1], b, [1, 2], [0, 2])`.
    Recorded as PyTorch's composite (Note [Contractions as PyTorch composes them]).
    """
    if not arguments:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(arguments[0], str):
        equation, operands = arguments[0], arguments[1:]
        if len(operands) == 1 and isinstance(operands[0], list | tuple):
            operands = tuple(operands[0])
        for operand in operands:
            _require_tensor(operand, "einsum", 2, "tensors")
        terms, output = _parse_equation(equation, operands)
    else:
        operands, terms, output = _parse_sublists(arguments)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    _check_same_scalar_type(operands)
    return _contracted(operands, terms, output)


def _tensordot_dims(dims, a_ndim: int, b_ndim: int):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a_ndim, b_ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims))
    first, second = dims
    first = [first] if isinstance(first, numbers.Integral) else list(first)
    second = [second] if isinstance(second, numbers.Integral) else list(second)
    if len(first) != len(second):
        raise RuntimeError("both dimension lists should have same length")
    return first, second


@register()
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the last `dims` dims of `a` with the first of `b`, or the listed dim pairs.

    PyTorch's composite (Note [Contractions as PyTorch composes them]): a contracted dim of
    size 1 on one side is summed on the other, then each operand is permuted (the dims as
    given) and viewed as a matrix, and their product viewed as the result; where the
    result is one number, the product is a dot product of the operands flattened (or, for
    operands not contiguous, the sum of their elementwise product).
    """
    _require_tensor(a, "tensordot", 1, "a")
    _require_tensor(b, "tensordot", 2, "b")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    first, second = _tensordot_dims(dims, a.ndim, b.ndim)
    _refuse_saved_inference((a, b))
    left, right = a, b
    contracted = 1
    for dim_a, dim_b in zip(first, second):
        size_a, size_b = a.shape[a._wrap_dim(dim_a)], b.shape[b._wrap_dim(dim_b)]
        if size_b == 1:  # (sums keep the dtype: a bool stays bool)
            left = left.sum(dim_a, True, dtype=left.dtype)
        elif size_a == 1:
            right = right.sum(dim_b, True, dtype=right.dtype)
        elif size_a != size_b:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {size_a} in dim {dim_a} "
                f"and second has size {size_b} in dim {dim_b}"
            )
        else:
            contracted *= size_a
    kept_a = [dim for dim in range(a.ndim) if dim not in {a._wrap_dim(each) for each in first}]
    kept_b = [dim for dim in range(b.ndim) if dim not in {b._wrap_dim(each) for each in second}]
    sizes_a = [left._data.shape[dim] for dim in kept_a]
    sizes_b = [right._data.shape[dim] for dim in kept_b]
    rows, columns = math.prod(sizes_a), math.prod(sizes_b)
    left, right = left.permute(kept_a + first), right.permute(second + kept_b)
    if rows == 1 and columns == 1:  # (one number: a dot product of contiguous operands)
        if left._data.flags.c_contiguous and right._data.flags.c_contiguous:
            left = left if left.ndim == 1 else reshape(left, (contracted,))
            right = right if right.ndim == 1 else reshape(right, (contracted,))
            product = left.dot(right)
        else:
            product = (left.squeeze() * right.squeeze()).sum()
    else:
        product = reshape(left, (rows, contracted)).mm(reshape(right, (contracted, columns)))
    return reshape(product, (*sizes_a, *sizes_b))
