"""Linear algebra, small helpers and einsum: argument checks, named results, and the general
contraction (einsum) that the backwards of this package are written with."""

from __future__ import annotations

import numbers
import string

import numpy as np

from ... import _dtype, return_types
from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _math
from .._table import apply, register
from .._tangents import MULTILINEAR


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
# einsum: the general contraction, and the workhorse of the backwards below
#
# Internally subscripts are lists of integer labels; `_contract` checks sizes, broadcasts
# size-1 dims, and records one EinsumBackward0 node whose backward is again a contraction.


def _letter(label: int) -> str:
    return string.ascii_letters[label] if 0 <= label < 52 else "..."


def _label_sizes(arrays, input_labels) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for position, (array, labels) in enumerate(zip(arrays, input_labels)):
        for label, size in zip(labels, array.shape):
            seen = sizes.get(label)
            if seen is None or seen == 1:
                sizes[label] = size
            elif size != seen and size != 1:
                raise RuntimeError(
                    f"einsum(): subscript {_letter(label)} has size {size} for operand {position} "
                    f"which does not broadcast with previously seen size {seen}"
                )
    return sizes


def _contract(operands, input_labels, output_labels, node_class=None) -> Tensor:
    """einsum over integer labels: the entry point shared by einsum, tensordot and backwards."""
    input_labels = tuple(tuple(labels) for labels in input_labels)
    output_labels = tuple(output_labels)
    sizes = _label_sizes([x._data for x in operands], input_labels)
    return apply(
        node_class or EinsumBackward0, *operands, input_labels=input_labels,
        output_labels=output_labels, sizes=sizes,
    )


def _as_permutation(input_labels, output_labels):
    """The axes order when a one-operand contraction only reorders dims (the fast path)."""
    if len(input_labels) != 1:
        return None
    labels = input_labels[0]
    if len(labels) != len(output_labels) or len(set(labels)) != len(labels):
        return None
    if set(labels) != set(output_labels):
        return None
    return [labels.index(label) for label in output_labels]


class EinsumBackward0(Node):
    """A contraction of several operands; each operand's gradient is the contraction of the
    incoming gradient with the other operands (identities restore repeated subscripts)."""
    hand_written = "a contraction of any number of operands, each differentiated by contracting the others"

    tangent = MULTILINEAR
    __slots__ = ("input_labels", "output_labels", "sizes")

    @staticmethod
    def forward(ctx, *operands, input_labels, output_labels, sizes):
        # Operand j is read only by the gradients of the other operands.
        edges = getattr(ctx, "next_functions", ())
        needed = [position for position, (node, _) in enumerate(edges) if node is not None]
        ctx.save_for_backward(*(
            operand if any(position != index for position in needed) else None
            for index, operand in enumerate(operands)
        ))
        ctx.input_labels, ctx.output_labels, ctx.sizes = input_labels, output_labels, sizes
        permutation = _as_permutation(input_labels, output_labels)
        if permutation is not None:
            return np.transpose(operands[0]._data, permutation).copy()
        compact = {}
        for labels in (*input_labels, output_labels):
            for label in labels:
                compact.setdefault(label, len(compact))
        if len(compact) > 52:
            raise RuntimeError("einsum(): more than 52 distinct subscripts are not supported")
        arguments = []
        for operand, labels in zip(operands, input_labels):
            data = operand._data
            full = tuple(sizes[label] for label in labels)
            if data.shape != full:
                data = np.broadcast_to(data, full)
            arguments += [data, [compact[label] for label in labels]]
        arguments.append([compact[label] for label in output_labels])
        result = np.einsum(*arguments, optimize=len(operands) > 1)
        if any(np.may_share_memory(result, operand._data) for operand in operands):
            result = result.copy()
        return result

    def backward(self, grad):
        operands = self._saved_tensors
        needs = self.needs_input_grad
        return tuple(
            self._operand_grad(position, grad, operands) if needs[position] else None
            for position in range(len(operands))
        )

    def _operand_grad(self, position: int, grad: Tensor, operands) -> Tensor:
        inputs = [grad]
        labels_in = [self.output_labels]
        for other, (operand, labels) in enumerate(zip(operands, self.input_labels)):
            if other != position:
                inputs.append(operand)
                labels_in.append(labels)
        present = {label for labels in labels_in for label in labels}
        for label in dict.fromkeys(self.input_labels[position]):
            if label not in present:
                inputs.append(_constant(np.ones(self.sizes[label], dtype=grad._data.dtype)))
                labels_in.append((label,))
        return self._on_diagonals(tuple(self.input_labels[position]), inputs, labels_in)

    def _on_diagonals(self, target: tuple, inputs: list, labels_in: list) -> Tensor:
        """The contraction into `target`; a subscript repeated there ('ii') read a diagonal,
        so the gradient is written on that diagonal of zeros (PyTorch's diagonal backward),
        never multiplied by an identity, where 0 * NaN would reach the rest of the matrix."""
        for later, label in enumerate(target):
            first = target.index(label)
            if first != later:
                rest = tuple(each for place, each in enumerate(target) if place not in (first, later))
                inner = self._on_diagonals((*rest, label), inputs, labels_in)
                shape = tuple(self.sizes[each] for each in target)
                return _math.diagonal_backward(inner, shape, 0, first, later)
        return _contract(inputs, labels_in, target)


# einsum, named as the last op of PyTorch's contraction: one node each.


class ViewBackward0(EinsumBackward0):
    """einsum whose last step sums a subscript (PyTorch: a view of a batched product)."""

    __slots__ = ()


class MulBackward0(EinsumBackward0):
    """einsum whose last step sums nothing (PyTorch: a product)."""

    __slots__ = ()


class PermuteBackward0(EinsumBackward0):
    """einsum of one operand that only reorders its subscripts (PyTorch: a permute)."""

    __slots__ = ()


class SumBackward1(EinsumBackward0):
    """einsum of one operand that sums a subscript (PyTorch: a sum over dims)."""

    __slots__ = ()


def _einsum_node(input_labels, output_labels) -> type[Node]:
    """The node PyTorch shows for this einsum: the last op of its contraction (a view of a
    batched product when the last step sums a subscript, else a product or a permute/sum)."""
    output = set(output_labels)
    if len(input_labels) == 1:
        return SumBackward1 if set(input_labels[0]) - output else PermuteBackward0
    last = set(input_labels[-1])
    carried = {label for labels in input_labels[:-1] for label in labels if label in output or label in last}
    return ViewBackward0 if (carried | last) - output else MulBackward0

_ELLIPSIS_BASE = 1000


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
        if char not in string.ascii_letters:
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {equation_offset + index} in the equation "
                "string, subscripts must be in [a-zA-Z]"
            )
        labels.append(string.ascii_letters.index(char))
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


def _expand_ellipses(terms, ndims):
    """Replace each operand's ellipsis by labels for its (right-aligned) broadcast dims."""
    ranks = [ndim - (len(labels) - 1) if None in labels else 0 for labels, ndim in zip(terms, ndims)]
    rank = max(ranks, default=0)
    ellipsis_labels = [_ELLIPSIS_BASE + index for index in range(rank)]
    expanded = []
    for labels, own_rank in zip(terms, ranks):
        if None in labels:
            at = labels.index(None)
            own = ellipsis_labels[rank - own_rank:]
            labels = labels[:at] + own + labels[at + 1:]
        expanded.append(labels)
    return expanded, ellipsis_labels


def _parse_equation(equation: str, operands) -> tuple[list[list[int]], list[int]]:
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
    input_labels, ellipsis_labels = _expand_ellipses(parsed, [x.ndim for x in operands])
    if arrow:
        output_terms = _parse_term(right, 0, len(left) + 2)
        return input_labels, _output_labels(output_terms, input_labels, ellipsis_labels)
    return input_labels, _implicit_output(parsed, ellipsis_labels)


def _implicit_output(terms, ellipsis_labels) -> list[int]:
    """The output of an equation without '->': broadcast dims, then the subscripts used
    once, in alphabetical order (upper case first)."""
    counts: dict[int, int] = {}
    for labels in terms:
        for label in labels:
            if label is not None:
                counts[label] = counts.get(label, 0) + 1
    single = sorted(label for label, count in counts.items() if count == 1)
    uses_ellipsis = any(None in labels for labels in terms)
    return (ellipsis_labels if uses_ellipsis else []) + single


def _output_labels(terms, input_labels, ellipsis_labels) -> list[int]:
    seen = {label for labels in input_labels for label in labels}
    output: list[int] = []
    for label in terms:
        if label is None:
            output += ellipsis_labels
            continue
        if label not in seen:
            raise RuntimeError(
                f"einsum(): output subscript {_letter(label)} does not appear in the equation for any "
                "input operand"
            )
        if label in output:
            raise RuntimeError(
                f"einsum(): output subscript {_letter(label)} appears more than once in the output"
            )
        output.append(label)
    return output


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
    input_labels, ellipsis_labels = _expand_ellipses(terms, [x.ndim for x in operands])
    if output is None:
        return operands, input_labels, _implicit_output(terms, ellipsis_labels)
    output_terms = [None if item is Ellipsis else int(item) for item in output]
    return operands, input_labels, _output_labels(output_terms, input_labels, ellipsis_labels)


@register()
def einsum(*arguments) -> Tensor:
    """Sum of products over the subscripts of an Einstein-summation equation.

    `einsum("ij,jk->ik", a, b)`; implicit outputs (`"ij,jk"`), `...` for broadcast batch
    dims, size-1 dims broadcast, and the sublist form `einsum(a, [0, 1], b, [1, 2], [0, 2])`.
    """
    if not arguments:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(arguments[0], str):
        equation, operands = arguments[0], arguments[1:]
        if len(operands) == 1 and isinstance(operands[0], list | tuple):
            operands = tuple(operands[0])
        for operand in operands:
            _require_tensor(operand, "einsum", 2, "tensors")
        input_labels, output_labels = _parse_equation(equation, operands)
    else:
        operands, input_labels, output_labels = _parse_sublists(arguments)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    _check_same_scalar_type(operands)
    return _contract(operands, input_labels, output_labels, _einsum_node(input_labels, output_labels))


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
    """Contract the last `dims` dims of `a` with the first of `b`, or the listed dim pairs."""
    _require_tensor(a, "tensordot", 1, "a")
    _require_tensor(b, "tensordot", 2, "b")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    first, second = _tensordot_dims(dims, a.ndim, b.ndim)
    a_labels = list(range(a.ndim))
    b_labels = list(range(a.ndim, a.ndim + b.ndim))
    for dim_a, dim_b in zip(first, second):
        index_a, index_b = a._wrap_dim(dim_a), b._wrap_dim(dim_b)
        size_a, size_b = a.shape[index_a], b.shape[index_b]
        if size_a != size_b:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {size_a} in dim {dim_a} "
                f"and second has size {size_b} in dim {dim_b}"
            )
        b_labels[index_b] = a_labels[index_a]
    contracted = {a._wrap_dim(dim) for dim in first}
    output = [label for dim, label in enumerate(a_labels) if dim not in contracted]
    output += [label for label in b_labels if label >= a.ndim]
    return _contract((a, b), (a_labels, b_labels), output)
