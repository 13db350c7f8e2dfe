"""Linear algebra: matrix products, einsum, decompositions, solvers and norms.

Forwards call NumPy's BLAS/LAPACK (`np.matmul`, `np.einsum`, `np.linalg.*`), batched over
leading dims. Backwards are written with differentiable tensor operations, mostly `matmul`
and `einsum` of the incoming gradient, so second derivatives come for free. Node classes are
named as PyTorch names the grad_fn; where PyTorch records several nodes for one call (a
batched matmul is a bmm under an unsafe view) we record one node that carries the name
PyTorch shows at the top.

Note [Symmetric inputs]
    cholesky, eigh and eigvalsh read one triangle of their input, as LAPACK does, but
    PyTorch returns the symmetric gradient (the derivative along symmetric perturbations).
    We do the same; their op-table samples therefore differentiate through a symmetrizing
    wrapper, exactly as PyTorch's own gradient tests do.

Note [Gauge freedom]
    Eigenvectors and singular vectors are defined up to the sign of each vector, so values
    computed by two LAPACK builds may differ by those signs. The op-table samples compare
    sign-free functions of them (each vector squared elementwise).
"""

from __future__ import annotations

import math
import numbers
import string

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _math, _samples
from ._formula import Formula
from ._table import OUTPUT, apply, output, register
from ._tangents import LINEAR, MULTILINEAR, TRANSPOSED, MultilinearPlus
from .pointwise import integral_coefficient, operand_arrays, where
from .reduce import LinalgVectorNormBackward0, normalize_dims
from .shape import cat, diag_embed, diagonal, movedim, tril, triu

__all__ = [
    "addbmm",
    "addmm",
    "addmv",
    "addr",
    "baddbmm",
    "bmm",
    "chain_matmul",
    "cholesky",
    "cross",
    "det",
    "dot",
    "einsum",
    "ger",
    "inner",
    "inverse",
    "kron",
    "logdet",
    "matmul",
    "matrix_power",
    "mm",
    "mv",
    "outer",
    "pinverse",
    "qr",
    "slogdet",
    "svd",
    "tensordot",
    "trace",
    "vdot",
]


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


class _ReturnTuple(tuple):
    """Base of the named result tuples (PyTorch's torch.return_types), printed as PyTorch does."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __new__(cls, *values):
        return super().__new__(cls, values)

    def __repr__(self) -> str:
        items = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{items})"

    def __getnewargs__(self):
        return tuple(self)


def _return_type(name: str, fields: tuple[str, ...], qualname: str) -> type:
    """A result tuple printed as PyTorch's `name`, found by pickle under `qualname`."""
    namespace = {"__slots__": (), "_fields": fields, "__module__": __name__, "__qualname__": qualname}
    for index, field in enumerate(fields):
        namespace[field] = property(lambda self, index=index: self[index])
    return type(name, (_ReturnTuple,), namespace)


_SlogdetResult = _return_type("linalg_slogdet", ("sign", "logabsdet"), "_SlogdetResult")
_TorchSlogdetResult = _return_type("slogdet", ("sign", "logabsdet"), "_TorchSlogdetResult")
_QrResult = _return_type("linalg_qr", ("Q", "R"), "_QrResult")
_TorchQrResult = _return_type("qr", ("Q", "R"), "_TorchQrResult")
_EighResult = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"), "_EighResult")
_SvdResult = _return_type("linalg_svd", ("U", "S", "Vh"), "_SvdResult")
_TorchSvdResult = _return_type("svd", ("U", "S", "V"), "_TorchSvdResult")


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
        fresh = max(self.sizes, default=-1) + 1
        target = []
        for label in self.input_labels[position]:
            if label in target:
                inputs.append(_identity(self.sizes[label], grad))
                labels_in.append((label, fresh))
                target.append(fresh)
                fresh += 1
            else:
                target.append(label)
        present = {label for labels in labels_in for label in labels}
        for label in dict.fromkeys(self.input_labels[position]):
            if label not in present:
                inputs.append(_constant(np.ones(self.sizes[label], dtype=grad._data.dtype)))
                labels_in.append((label,))
        return _contract(inputs, labels_in, target)


def _einsum_node(input_labels, output_labels) -> type[Node]:
    """The node PyTorch shows for this einsum: the last op of its contraction (a view of a
    batched product when the last step sums a subscript, else a product or a permute/sum)."""
    output = set(output_labels)
    if len(input_labels) == 1:
        return _EINSUM_NODES["SumBackward1" if set(input_labels[0]) - output else "PermuteBackward0"]
    last = set(input_labels[-1])
    carried = {label for labels in input_labels[:-1] for label in labels if label in output or label in last}
    return _EINSUM_NODES["ViewBackward0" if (carried | last) - output else "MulBackward0"]


_EINSUM_NODES = {
    name: type(name, (EinsumBackward0,), {"__slots__": (), "__module__": __name__,
                                          "__doc__": f"einsum, named as PyTorch's last op ({name})."})
    for name in ("ViewBackward0", "MulBackward0", "PermuteBackward0", "SumBackward1")
}

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


def _einsum_samples(rng):
    make = _samples.make
    return [
        (("ij,jk->ik", make(rng, (2, 3)), make(rng, (3, 4))), {}),
        (("ii->", make(rng, (3, 3))), {}),
        (("ii->i", make(rng, (3, 3))), {}),
        (("...ij->...ji", make(rng, (2, 3, 4))), {}),
        (("bij,bjk->bik", make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {}),
        (("i,j", make(rng, (2,)), make(rng, (3,))), {}),
        (("ij->", make(rng, (2, 3))), {}),
        (("ij,ij->ij", make(rng, (2, 1)), make(rng, (2, 3))), {}),
        (("...ij,...jk", make(rng, (2, 1, 2, 3)), make(rng, (3, 3, 2))), {}),
        (("ij,jk,kl->il", make(rng, (2, 3)), make(rng, (3, 2)), make(rng, (2, 2))), {}),
    ]


@register(samples=_einsum_samples)
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


def _tensordot_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3, 4)), make(rng, (3, 4, 2))), {"dims": 2}),
        ((make(rng, (2, 3)), make(rng, (4, 2))), {"dims": ([0], [1])}),
        ((make(rng, (2,)), make(rng, (3,))), {"dims": 0}),
    ]


@register(samples=_tensordot_samples)
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


# ---------------------------------------------------------------------------
# Matrix products


def grad_of_first_factor(grad, first_shape: tuple, second):
    """d(a @ b)/da applied to `grad`: grad @ b^T, with 1-d operands promoted as matmul does.

    Arrays or Tensors alike (see Note [One formula, two modes]); the engine sums broadcast
    batch dimensions back to a's shape.
    """
    second_matrix = second.reshape((second.shape[0], 1)) if second.ndim == 1 else second
    if len(first_shape) == 1 or second.ndim == 1:
        batch = grad.shape[: grad.ndim - (len(first_shape) > 1) - (second.ndim > 1)]
        rows = 1 if len(first_shape) == 1 else first_shape[-2]
        grad = grad.reshape((*batch, rows, second_matrix.shape[-1]))
    result = _math.matmul(grad, second_matrix.mT)
    if len(first_shape) == 1:
        result = result.reshape((*result.shape[:-2], first_shape[0]))
    return result


def grad_of_second_factor(grad, first, second_shape: tuple):
    """d(a @ b)/db applied to `grad`: a^T @ grad, with 1-d operands promoted as matmul does."""
    first_matrix = first.reshape((1, first.shape[0])) if first.ndim == 1 else first
    if first.ndim == 1 or len(second_shape) == 1:
        batch = grad.shape[: grad.ndim - (first.ndim > 1) - (len(second_shape) > 1)]
        columns = 1 if len(second_shape) == 1 else second_shape[-1]
        grad = grad.reshape((*batch, first_matrix.shape[-2], columns))
    result = _math.matmul(first_matrix.mT, grad)
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


class MmBackward0(Formula):
    """matrix @ matrix."""

    inputs = ("self", "mat2")
    forward = staticmethod(_matrix_product)
    tangent = MULTILINEAR
    derivatives = {
        "self": lambda grad, self_shape, mat2: grad_of_first_factor(grad, self_shape, mat2),
        "mat2": lambda grad, self, mat2_shape: grad_of_second_factor(grad, self, mat2_shape),
    }


class MvBackward0(Formula):
    """matrix @ vector."""

    inputs = ("self", "vec")
    forward = staticmethod(_matrix_product)
    tangent = MULTILINEAR
    derivatives = {
        "self": lambda grad, self_shape, vec: grad_of_first_factor(grad, self_shape, vec),
        "vec": lambda grad, self, vec_shape: grad_of_second_factor(grad, self, vec_shape),
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
    """batch of matrices @ batch of matrices."""


def _matmul_named(name: str, doc: str) -> type[Node]:
    """A matmul node carrying the name of the node PyTorch records on top for that case."""
    return type(name, (_MatrixProduct,), {"__doc__": doc, "__module__": __name__})


_BatchedMatmul = _matmul_named(
    "UnsafeViewBackward0", "Batched matmul (PyTorch: a bmm or mm under an unsafe view)."
)
_VectorMatrixMatmul = _matmul_named(
    "SqueezeBackward4", "vector @ matrix (PyTorch: an mm of the unsqueezed vector, squeezed)."
)
_MatrixBatchMatmul = _matmul_named(
    "CloneBackward0", "matrix @ batch (PyTorch: a transposed product made contiguous)."
)


def _dtype_pair_name(tensor: Tensor) -> str:
    return _type_name(tensor).lower()


def _check_product_dtypes(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_dtype_pair_name(a)} != "
            f"{_dtype_pair_name(b)}"
        )
    if a.dtype is _dtype.bool:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


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


def _matmul_node(a: Tensor, b: Tensor) -> type[Node]:
    """Check the operands of `a @ b` as PyTorch does and pick the node for the case."""
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
        return MvBackward0 if len(a_shape) == 2 else _BatchedMatmul
    if len(a_shape) == 1:
        _check_mm((1, a_shape[0]), b_shape[-2:])
        return _VectorMatrixMatmul if len(b_shape) == 2 else _BatchedMatmul
    if len(b_shape) == 2:
        _check_mm((math.prod(a_shape[:-1]), a_shape[-1]), b_shape)
        return MmBackward0 if len(a_shape) == 2 else _BatchedMatmul
    batch = _broadcast_batch(a_shape[:-2], b_shape[:-2])
    _check_bmm(batch, a_shape, b_shape)
    one_matrix = len(a_shape) == 2 or (len(a_shape) == len(b_shape) == 3 and a_shape[0] == 1 != b_shape[0])
    return _MatrixBatchMatmul if one_matrix else _BatchedMatmul


def _matmul_samples(rng):
    make = _samples.make
    pairs = [
        ((3,), (3,)),
        ((2, 3), (3, 4)),
        ((2, 3), (3,)),
        ((3,), (3, 4)),
        ((2, 2, 3), (2, 3, 4)),
        ((2, 2, 3), (3, 4)),
        ((3,), (2, 3, 4)),
        ((2, 3), (2, 3, 4)),
        ((2, 1, 2, 3), (3, 3, 2)),
        ((0, 3), (3, 2)),
    ]
    return [((make(rng, left), make(rng, right)), {}) for left, right in pairs]


@register(methods=("matmul", "__matmul__"), samples=_matmul_samples)
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product with NumPy/PyTorch rules: 1-d operands are vectors, leading dims
    are batch dims and broadcast."""
    _require_tensor(input, "matmul", 1, "input")
    _require_tensor(other, "matmul", 2, "other")
    return apply(_matmul_node(input, other), input, other)


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
Tensor.__matmul__ = _matmul_operator
Tensor.__rmatmul__ = _rmatmul_operator


def _pair_samples(*pairs):
    def samples(rng):
        return [((_samples.make(rng, left), _samples.make(rng, right)), {}) for left, right in pairs]

    return samples


@register(methods="mm", samples=_pair_samples(((2, 3), (3, 4)), ((0, 3), (3, 2))))
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


@register(methods="bmm", samples=_pair_samples(((2, 2, 3), (2, 3, 4))))
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


@register(methods="mv", samples=_pair_samples(((2, 3), (3,))))
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """A matrix times a vector."""
    _require_tensor(input, "mv", 1, "input")
    _require_tensor(vec, "mv", 2, "vec")
    _check_matrix_vector(input, vec)
    return apply(MvBackward0, input, vec)


@register(methods="dot", samples=_pair_samples(((3,), (3,)), ((0,), (0,))))
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The dot product of two vectors."""
    _require_tensor(input, "dot", 1, "input")
    _require_tensor(tensor, "dot", 2, "tensor")
    _check_dot(input, tensor)
    return apply(DotBackward0, input, tensor)


@register(methods="vdot", samples=_pair_samples(((3,), (3,))))
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product with the first vector conjugated (plain dot for real tensors)."""
    _require_tensor(input, "vdot", 1, "input")
    _require_tensor(other, "vdot", 2, "other")
    _check_dot(input, other)
    return apply(VdotBackward0, input, other)


@register(methods="inner", samples=_pair_samples(((3,), (3,)), ((2, 3), (4, 3))))
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


@register(methods=("outer", "ger"), samples=_pair_samples(((3,), (2,)), ((0,), (2,))))
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
    """The forward beta * self + alpha * product(first, second); self is ignored when beta is 0."""

    def forward(self, first, second, beta, alpha):
        result = product(first._data, second._data)
        if alpha != 1:
            result = result * alpha
        if beta == 0:
            return result
        return result + (self._data if beta == 1 else self._data * beta)

    return staticmethod(forward)


def _scaled(grad, factor):
    return grad if factor == 1 else grad * factor


def _summed_matmul(left, right):
    return np.matmul(left, right).sum(axis=0)


class AddmmBackward0(Formula):
    """beta * self + alpha * (mat1 @ mat2), the fused form of BLAS's gemm."""

    inputs = ("self", "mat1", "mat2")
    forward = _scaled_product_plus(np.matmul)
    tangent = MultilinearPlus(0)
    derivatives = {
        "self": lambda grad, beta: _scaled(grad, beta),
        "mat1": lambda grad, mat1_shape, mat2, alpha: grad_of_first_factor(
            _scaled(grad, alpha), mat1_shape, mat2),
        "mat2": lambda grad, mat1, mat2_shape, alpha: grad_of_second_factor(
            _scaled(grad, alpha), mat1, mat2_shape),
    }


class BaddbmmBackward0(Formula):
    """beta * self + alpha * (batch1 @ batch2), batch by batch."""

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


class AddmvBackward0(Formula):
    """beta * self + alpha * (mat @ vec)."""

    inputs = ("self", "mat", "vec")
    forward = _scaled_product_plus(np.matmul)
    tangent = MultilinearPlus(0)
    derivatives = {
        "self": lambda grad, beta: _scaled(grad, beta),
        "mat": lambda grad, mat_shape, vec, alpha: grad_of_first_factor(
            _scaled(grad, alpha), mat_shape, vec),
        "vec": lambda grad, mat, vec_shape, alpha: grad_of_second_factor(
            _scaled(grad, alpha), mat, vec_shape),
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


def _addmm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 4)), make(rng, (2, 3)), make(rng, (3, 4))), {}),
        ((make(rng, (4,)), make(rng, (2, 3)), make(rng, (3, 4))), {"beta": 0.5, "alpha": 2.0}),
    ]


@register(methods="addmm", inplace="addmm_", samples=_addmm_samples)
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
    _check_expandable(input, (mat1.shape[0], mat2.shape[1]), mat2)
    beta = integral_coefficient(beta, (input, mat1, mat2), "beta")
    alpha = integral_coefficient(alpha, (input, mat1, mat2), "alpha")
    return apply(AddmmBackward0, input, mat1, mat2, beta=beta, alpha=alpha)


def _baddbmm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 2, 4)), make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {}),
        ((make(rng, (4,)), make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {"beta": 2.0, "alpha": 0.5}),
    ]


@register(methods="baddbmm", inplace="baddbmm_", samples=_baddbmm_samples)
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    for position, (name, value) in enumerate((("input", input), ("batch1", batch1), ("batch2", batch2)), 1):
        _require_tensor(value, "baddbmm", position, name)
    _check_batches(batch1, batch2)
    _check_expandable(input, (batch1.shape[0], batch1.shape[1], batch2.shape[2]), batch2)
    beta = integral_coefficient(beta, (input, batch1, batch2), "beta")
    alpha = integral_coefficient(alpha, (input, batch1, batch2), "alpha")
    return apply(BaddbmmBackward0, input, batch1, batch2, beta=beta, alpha=alpha)


def _addmv_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2,)), make(rng, (2, 3)), make(rng, (3,))), {}),
        ((make(rng, ()), make(rng, (2, 3)), make(rng, (3,))), {"beta": 0.5, "alpha": 3.0}),
    ]


@register(methods="addmv", inplace="addmv_", samples=_addmv_samples)
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    for position, (name, value) in enumerate((("input", input), ("mat", mat), ("vec", vec)), 1):
        _require_tensor(value, "addmv", position, name)
    _check_matrix_vector(mat, vec)
    _check_expandable(input, (mat.shape[0],), mat)
    beta = integral_coefficient(beta, (input, mat, vec), "beta")
    alpha = integral_coefficient(alpha, (input, mat, vec), "alpha")
    return apply(AddmvBackward0, input, mat, vec, beta=beta, alpha=alpha)


def _addbmm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 4)), make(rng, (3, 2, 3)), make(rng, (3, 3, 4))), {}),
        ((make(rng, (4,)), make(rng, (2, 2, 3)), make(rng, (2, 3, 4))), {"beta": 0.5, "alpha": 2.0}),
    ]


@register(methods="addbmm", inplace="addbmm_", samples=_addbmm_samples)
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (the sum over the batch of batch1 @ batch2)."""
    for position, (name, value) in enumerate((("input", input), ("batch1", batch1), ("batch2", batch2)), 1):
        _require_tensor(value, "addbmm", position, name)
    _check_batches(batch1, batch2)
    _check_expandable(input, (batch1.shape[1], batch2.shape[2]), batch2)
    beta = integral_coefficient(beta, (input, batch1, batch2), "beta")
    alpha = integral_coefficient(alpha, (input, batch1, batch2), "alpha")
    return apply(AddbmmBackward0, input, batch1, batch2, beta=beta, alpha=alpha)


def _addr_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2,)), make(rng, (3,))), {}),
        ((make(rng, (3,)), make(rng, (2,)), make(rng, (3,))), {"beta": 2.0, "alpha": 0.5}),
    ]


@register(methods="addr", inplace="addr_", samples=_addr_samples)
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


def _trace_samples(rng):
    return [((_samples.make(rng, (3, 3)),), {}), ((_samples.make(rng, (2, 3)),), {})]


@register(methods="trace", samples=_trace_samples)
def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    _require_tensor(input, "trace")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return apply(TraceBackward0, input)


class _KronProduct(Node):
    """Kronecker product: each gradient is the block-wise contraction with the other operand."""

    tangent = MULTILINEAR
    __slots__ = ("a_shape", "b_shape")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        rank = max(a._data.ndim, b._data.ndim)
        ctx.a_shape = (1,) * (rank - a._data.ndim) + a._data.shape
        ctx.b_shape = (1,) * (rank - b._data.ndim) + b._data.shape
        return np.kron(a._data, b._data)

    def backward(self, grad):
        a, b = self._saved_tensors
        rank = len(self.a_shape)
        interleaved = tuple(size for pair in zip(self.a_shape, self.b_shape) for size in pair)
        blocks = grad.reshape(interleaved)
        a_labels = list(range(0, 2 * rank, 2))
        b_labels = list(range(1, 2 * rank, 2))
        block_labels = list(range(2 * rank))
        needs_a, needs_b = self.needs_input_grad
        grad_a = grad_b = None
        if needs_a:
            grad_a = _contract((blocks, b.reshape(self.b_shape)), (block_labels, b_labels), a_labels)
            grad_a = grad_a.reshape(a.shape)
        if needs_b:
            grad_b = _contract((blocks, a.reshape(self.a_shape)), (block_labels, a_labels), b_labels)
            grad_b = grad_b.reshape(b.shape)
        return grad_a, grad_b


_KronProduct.__name__ = _KronProduct.__qualname__ = "UnsafeViewBackward0"


@register(methods="kron", samples=_pair_samples(((2, 3), (2, 2)), ((2,), (2, 3))))
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every element of input times the whole of other, as blocks."""
    _require_tensor(input, "kron", 1, "input")
    _require_tensor(other, "kron", 2, "other")
    return apply(_KronProduct, input, other)


# ---------------------------------------------------------------------------
# cross


class LinalgCrossBackward0(Node):
    """Cross product along `dim`: d(a x b) = da x b + a x db."""

    tangent = MULTILINEAR
    __slots__ = ("dim",)

    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.save_for_backward(a, b)
        ctx.dim = dim
        left, right = operand_arrays(a, b, "linalg.cross")
        left, right = np.broadcast_arrays(left, right)
        return np.cross(left, right, axis=dim)

    def backward(self, grad):
        a, b = self._saved_tensors
        needs_a, needs_b = self.needs_input_grad
        grad_a = linalg_cross(b, grad, dim=self.dim) if needs_a else None
        grad_b = linalg_cross(grad, a, dim=self.dim) if needs_b else None
        return grad_a, grad_b


def _cross_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 3))), {}),
        ((make(rng, (1, 3)), make(rng, (4, 3))), {}),
        ((make(rng, (3, 2)), make(rng, (3, 2))), {"dim": 0}),
    ]


@register(name="linalg.cross", torch_name="linalg.cross", samples=_cross_samples)
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
    return apply(LinalgCrossBackward0, input, other, dim=dim % rank - rank)


def _torch_cross_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 3))), {"dim": 1}),
        ((make(rng, (3, 2)), make(rng, (3, 2))), {"dim": 0}),
    ]


@register(methods="cross", samples=_torch_cross_samples)
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product along `dim` (default: the first dim of size 3)."""
    if dim is None:
        _require_tensor(input, "cross", 1, "input")
        dim = next((index for index, size in enumerate(input.shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


# ---------------------------------------------------------------------------
# Inverse, determinants, solve


def _raise_singular(op_name: str, data: np.ndarray, detail) -> None:
    """LinAlgError naming the first singular matrix of a batch, as PyTorch does."""
    flat = data.reshape((-1, *data.shape[-2:]))
    for index, matrix in enumerate(flat):
        rank = np.linalg.matrix_rank(matrix) if matrix.size else matrix.shape[-1]
        if rank < matrix.shape[-1]:
            raise LinAlgError(f"{op_name}: {_batch_prefix(data.shape, index)}{detail(rank + 1)}")
    raise LinAlgError(f"{op_name}: {detail(1)}")


class LinalgInvExBackward0(Node):
    """Y = A^-1: dA = -Y^T grad Y^T."""

    inputs = ("a",)
    tangent = staticmethod(lambda a_t, result: -matmul(matmul(result, a_t), result))
    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(OUTPUT)
        try:
            return np.linalg.inv(a._data)
        except np.linalg.LinAlgError:
            _raise_singular(
                "linalg.inv",
                a._data,
                lambda element: f"The diagonal element {element} is zero, the inversion could not be "
                "completed because the input matrix is singular.",
            )

    def backward(self, grad):
        (inverse_,) = self._saved_tensors
        inverse_t = inverse_.mT
        return -matmul(matmul(inverse_t, grad), inverse_t)


def _well_conditioned(rng, shape) -> Tensor:
    """A random matrix plus a multiple of the identity: far from singular."""
    size = shape[-1]
    data = rng.uniform(-1.0, 1.0, size=shape) + 3.0 * np.eye(size)
    return Tensor._make(data.astype(np.float64))


def _square_samples(rng):
    return [
        ((_well_conditioned(rng, (3, 3)),), {}),
        ((_well_conditioned(rng, (2, 2, 2)),), {}),
    ]


@register(name="linalg.inv", torch_name="linalg.inv", samples=_square_samples)
def inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch)."""
    _require_tensor(A, "linalg_inv", 1, "A")
    _check_square_batches(A, "linalg.inv")
    return apply(LinalgInvExBackward0, A)


def inverse(input: Tensor) -> Tensor:
    """torch.inverse: the same as linalg.inv."""
    return inv(input)


Tensor.inverse = inverse


class LinalgDetBackward0(Node):
    """det(A): dA = grad * det(A) * A^-T (zero for exactly singular matrices, as PyTorch)."""

    tangent = TRANSPOSED
    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a, OUTPUT)
        return np.linalg.det(a._data)

    def backward(self, grad):
        a, determinant = self._saved_tensors
        scale = (grad * determinant).unsqueeze(-1).unsqueeze(-1)
        return scale * inv(_singular_replaced(a, determinant._data == 0)).mT


def _singular_replaced(a: Tensor, singular: np.ndarray) -> Tensor:
    """`a` with the singular matrices of the batch replaced by identities, so that it can be
    inverted; the caller masks what those entries contribute."""
    if not singular.any():
        return a
    return where(_constant(singular[..., None, None]), _identity(a.shape[-1], a), a)


@register(name="linalg.det", torch_name="linalg.det", samples=_square_samples)
def det(A: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch)."""
    _require_tensor(A, "linalg_det", 1, "A")
    _check_square_batches(A, "linalg.det")
    return apply(LinalgDetBackward0, A)


Tensor.det = det


class LinalgSlogdetBackward0(Node):
    """(sign, log|det A|): only log|det| has a gradient, grad * A^-T (nan for a singular A,
    as in PyTorch)."""

    inputs, outputs = ("a",), ("sign", "logabsdet")
    tangent = staticmethod(lambda a, a_t, sign, logabsdet: (
        _math.zeros_like(sign), _slogdet_tangent(a, a_t, logabsdet)))
    __slots__ = ()

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a, output(1))
        sign, logabsdet = np.linalg.slogdet(a._data)
        return np.asarray(sign), np.asarray(logabsdet)

    @_without_float_warnings
    def backward(self, *grads):
        grad = grads[1] if len(grads) > 1 else None
        if grad is None:
            return None
        a, logabsdet = self._saved_tensors
        singular = np.isneginf(logabsdet._data)
        inverse_t = inv(_singular_replaced(a, singular)).mT
        if singular.any():
            inverse_t = where(_constant(singular[..., None, None]), math.nan, inverse_t)
        return grad.unsqueeze(-1).unsqueeze(-1) * inverse_t


def _slogdet_tangent(a, a_t, logabsdet):
    """d log|det A| = trace(A^-1 dA) (nan for a singular A, as the gradient)."""
    singular = np.isneginf(logabsdet._data)
    inverse_t = inv(_singular_replaced(a, singular)).mT
    if singular.any():
        inverse_t = where(_constant(singular[..., None, None]), math.nan, inverse_t)
    return (inverse_t * a_t).sum((-2, -1))


def _slogdet_samples(rng):
    flipped = _well_conditioned(rng, (3, 3))
    flipped._data[[0, 1]] = flipped._data[[1, 0]]
    return [*_square_samples(rng), ((flipped,), {})]


@register(name="linalg.slogdet", torch_name="linalg.slogdet", samples=_slogdet_samples)
def linalg_slogdet(A: Tensor):
    """(sign, log|det|) of a square matrix: the determinant without overflow."""
    _require_tensor(A, "linalg_slogdet", 1, "A")
    _check_square_batches(A, "linalg.slogdet")
    return _SlogdetResult(*apply(LinalgSlogdetBackward0, A))


def slogdet(input: Tensor):
    """torch.slogdet: linalg.slogdet with PyTorch's older result type."""
    return _TorchSlogdetResult(*linalg_slogdet(input))


def logdet(input: Tensor) -> Tensor:
    """log(det(input)): nan for a negative determinant, -inf for a singular matrix."""
    sign, logabsdet = linalg_slogdet(input)
    return where(sign < 0, math.nan, logabsdet)


Tensor.slogdet = slogdet
Tensor.logdet = logdet


class LinalgSolveExBackward0(Node):
    """X = A^-1 B: dB = A^-T grad, dA = -dB X^T."""

    inputs = ("a", "b")
    tangent = staticmethod(lambda a, a_t, b_t, result, vector: _solve_tangent(a, a_t, b_t, result, vector))
    __slots__ = ("vector",)

    @staticmethod
    def forward(ctx, a, b, vector):
        ctx.save_for_backward(a, OUTPUT)
        ctx.vector = vector
        right = b._data[..., None] if vector else b._data
        batch = np.broadcast_shapes(a._data.shape[:-2], right.shape[:-2])
        try:
            result = np.linalg.solve(
                np.broadcast_to(a._data, batch + a._data.shape[-2:]),
                np.broadcast_to(right, batch + right.shape[-2:]),
            )
        except np.linalg.LinAlgError:
            raise LinAlgError(
                "retrograd.linalg.solve: The solver failed because the input matrix is singular."
            ) from None
        return result[..., 0] if vector else result

    def backward(self, grad):
        a, solution = self._saved_tensors
        needs_a, needs_b = self.needs_input_grad
        grad_b = solve(a.mT, grad)
        grad_a = None
        if needs_a:
            if self.vector:
                grad_a = -matmul(grad_b.unsqueeze(-1), solution.unsqueeze(-2))
            else:
                grad_a = -matmul(grad_b, solution.mT)
        return grad_a, grad_b if needs_b else None


def _solve_samples(rng):
    make = _samples.make
    return [
        ((_well_conditioned(rng, (3, 3)), make(rng, (3,))), {}),
        ((_well_conditioned(rng, (3, 3)), make(rng, (3, 2))), {}),
        ((_well_conditioned(rng, (2, 3, 3)), make(rng, (3, 2))), {}),
        ((_well_conditioned(rng, (2, 3, 3)), make(rng, (2, 3))), {}),
        ((_well_conditioned(rng, (3, 3)), make(rng, (2, 3))), {"left": False}),
    ]


@register(name="linalg.solve", torch_name="linalg.solve", samples=_solve_samples)
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (or X A = B when left=False); B may be a vector or batch of vectors."""
    _require_tensor(A, "linalg_solve", 1, "A")
    _require_tensor(B, "linalg_solve", 2, "B")
    _check_square_batches(A, "linalg.solve")
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_type_name(A)} and B of type {_type_name(B)} instead"
        )
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    rows = B.shape[-1] if vector else B.shape[-2] if B.ndim >= 2 else None
    if rows != A.shape[-1]:
        columns = 1 if vector else B.shape[-1]
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({_shape_text(A.shape[-2:])} and {rows}x{columns})"
        )
    if not vector:
        _broadcast_batch(A.shape[:-2], B.shape[:-2])
    return apply(LinalgSolveExBackward0, A, B, vector=vector)


class LinalgSolveTriangularBackward0(Node):
    """X = T^-1 B for the triangle T of A: dB = T^-T grad, dA = the same triangle of -dB X^T."""

    tangent = TRANSPOSED
    __slots__ = ("unitriangular", "upper")

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular):
        ctx.save_for_backward(a, OUTPUT)
        ctx.upper, ctx.unitriangular = upper, unitriangular
        triangle = _triangle(a._data, upper, unitriangular)
        batch = np.broadcast_shapes(triangle.shape[:-2], b._data.shape[:-2])
        try:
            return np.linalg.solve(
                np.broadcast_to(triangle, batch + triangle.shape[-2:]),
                np.broadcast_to(b._data, batch + b._data.shape[-2:]),
            )
        except np.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.solve_triangular: The solver failed because the input matrix is singular."
            ) from None

    def backward(self, grad):
        a, solution = self._saved_tensors
        needs_a, needs_b = self.needs_input_grad
        grad_b = solve_triangular(a.mT, grad, upper=not self.upper, unitriangular=self.unitriangular)
        grad_a = None
        if needs_a:
            product = -matmul(grad_b, solution.mT)
            offset = 1 if self.unitriangular else 0
            grad_a = triu(product, offset) if self.upper else tril(product, -offset)
        return grad_a, grad_b if needs_b else None


def _triangle(data: np.ndarray, upper: bool, unitriangular: bool) -> np.ndarray:
    """The upper or lower triangle of `data`, with ones on the diagonal if unitriangular."""
    offset = 1 if unitriangular else 0
    triangle = np.triu(data, offset) if upper else np.tril(data, -offset)
    if unitriangular:
        triangle = triangle + np.eye(data.shape[-1], dtype=data.dtype)
    return triangle


def _solve_triangular_samples(rng):
    make = _samples.make
    return [
        ((_well_conditioned(rng, (3, 3)), make(rng, (3, 2))), {"upper": True}),
        ((_well_conditioned(rng, (2, 3, 3)), make(rng, (3, 2))), {"upper": False}),
        ((make(rng, (3, 3)), make(rng, (2, 3))), {"upper": False, "left": False, "unitriangular": True}),
    ]


@register(
    name="linalg.solve_triangular", torch_name="linalg.solve_triangular", samples=_solve_triangular_samples,
    floating=True,
)
def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False):
    """X with T X = B (or X T = B when left=False), T the upper or lower triangle of A."""
    _require_tensor(A, "linalg_solve_triangular", 1, "A")
    _require_tensor(B, "linalg_solve_triangular", 2, "B")
    _check_square_batches(A, "linalg.solve_triangular")
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if B.dtype is not A.dtype:
        B = B.to(A.dtype)  # PyTorch's solve_triangular computes in A's dtype
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    if B.shape[-2] != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation AX = B "
            f"({_shape_text(A.shape[-2:])} and {_shape_text(B.shape[-2:])})"
        )
    _broadcast_batch(A.shape[:-2], B.shape[:-2])
    return apply(LinalgSolveTriangularBackward0, A, B, upper=upper, unitriangular=unitriangular)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along `dim`, broadcasting the other dims."""
    _require_tensor(x, "linalg_vecdot", 1, "x")
    _require_tensor(y, "linalg_vecdot", 2, "y")
    if x.ndim == 1 and y.ndim == 1 and dim in (0, -1):
        return vdot(x, y)
    return (x * y).sum(dim)


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * largest) (an int64 tensor)."""
    _require_tensor(A, "linalg_matrix_rank", 1, "A")
    _check_matrix_input(A, "linalg.matrix_rank")
    values = np.linalg.svd(A._data, compute_uv=False)
    if rtol is None:
        rtol = np.finfo(A._data.dtype).eps * max(A.shape[-2:]) if atol is None or atol == 0 else 0.0
    atol = 0.0 if atol is None else atol
    largest = values[..., :1] if values.shape[-1] else np.zeros((*values.shape[:-1], 1), values.dtype)
    cutoff = np.maximum(_scalar_tolerance(atol), _scalar_tolerance(rtol) * largest)
    return _constant(np.sum(values > cutoff, axis=-1).astype(np.int64))


def cond(A: Tensor, p=None) -> Tensor:
    """The condition number of A in the norm `p` (the 2-norm by default: largest over
    smallest singular value)."""
    _require_tensor(A, "linalg_cond", 1, "A")
    _check_matrix_input(A, "linalg.cond")
    if p in (None, 2, -2):
        values = svdvals(A)
        largest, smallest = values[..., 0], values[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of (a batch of) matrices: torch.diagonal with the last two dims by default."""
    return diagonal(A, offset, dim1, dim2)


# ---------------------------------------------------------------------------
# Decompositions


def _symmetrized(op):
    """Call `op` on (A + A^T) / 2, for gradient tests of ops that read one triangle.

    See Note [Symmetric inputs]; works on retrograd and PyTorch tensors alike.
    """

    def call(A, *args, **kwargs):
        return op((A + A.mT) / 2, *args, **kwargs)

    return call


def _sign_free(op, vector_outputs: tuple[int, ...]):
    """Square the listed outputs elementwise (see Note [Gauge freedom])."""

    def call(*args, **kwargs):
        outputs = tuple(op(*args, **kwargs))
        return tuple(out * out if index in vector_outputs else out for index, out in enumerate(outputs))

    return call


def _solve_tangent(a, a_t, b_t, result, vector):
    """X = A^-1 B: dX = A^-1 (dB - dA X)."""
    solution = result.unsqueeze(-1) if vector else result
    right = (b_t.unsqueeze(-1) if vector else b_t) - matmul(a_t, solution)
    tangent = solve(a, right)
    return tangent.squeeze(-1) if vector else tangent


def _cholesky_tangent(a_t, result, upper):
    """A = L L^T: dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with half diagonal."""
    lower = result.mT if upper else result
    lower_inverse = inv(lower)
    middle = matmul(matmul(lower_inverse, a_t), lower_inverse.mT)
    lower_t = matmul(lower, tril(middle) - 0.5 * diag_embed(diagonal(middle, 0, -2, -1)))
    return lower_t.mT if upper else lower_t


class LinalgCholeskyExBackward0(Node):
    """A = L L^T: dA = sym(L^-T Phi(L^T grad) L^-1), Phi = lower triangle with half diagonal."""

    inputs = ("a",)
    tangent = staticmethod(lambda a_t, result, upper: _cholesky_tangent(a_t, result, upper))
    __slots__ = ("upper",)

    @staticmethod
    def forward(ctx, a, upper):
        ctx.save_for_backward(OUTPUT)
        ctx.upper = upper
        try:
            lower = np.linalg.cholesky(a._data)
        except np.linalg.LinAlgError:
            _raise_not_positive_definite("linalg.cholesky", a._data)
        _refuse_nan_pivot("linalg.cholesky", lower)
        return np.swapaxes(lower, -1, -2).copy() if upper else lower

    def backward(self, grad):
        (factor,) = self._saved_tensors
        if self.upper:
            factor, grad = factor.mT, grad.mT
        product = matmul(factor.mT, grad)
        phi = tril(product) - 0.5 * diag_embed(diagonal(product, 0, -2, -1))
        factor_inverse = inv(factor)
        grad_a = matmul(matmul(factor_inverse.mT, phi), factor_inverse)
        return (grad_a + grad_a.mT) * 0.5


class CholeskyBackward0(LinalgCholeskyExBackward0):
    """The deprecated torch.cholesky."""

    __slots__ = ()


def _refuse_nan_pivot(op_name: str, lower: np.ndarray) -> None:
    """NumPy's Cholesky lets a NaN through; LAPACK's (PyTorch's) stops at the first NaN pivot."""
    diagonal = np.diagonal(lower, axis1=-2, axis2=-1)
    if not np.isnan(diagonal).any():
        return
    flat = diagonal.reshape((-1, diagonal.shape[-1]))
    index = int(np.argmax(np.isnan(flat).any(axis=-1)))
    order = int(np.argmax(np.isnan(flat[index]))) + 1
    raise LinAlgError(
        f"{op_name}: {_batch_prefix(lower.shape, index)}The factorization could not be completed "
        f"because the input is not positive-definite (the leading minor of order {order} is not "
        "positive-definite)."
    )


def _raise_not_positive_definite(op_name: str, data: np.ndarray) -> None:
    flat = data.reshape((-1, *data.shape[-2:]))
    for index, matrix in enumerate(flat):
        for order in range(1, matrix.shape[-1] + 1):
            try:
                np.linalg.cholesky(matrix[:order, :order])
            except np.linalg.LinAlgError:
                raise LinAlgError(
                    f"{op_name}: {_batch_prefix(data.shape, index)}The factorization could not be "
                    "completed because the input is not positive-definite (the leading minor of "
                    f"order {order} is not positive-definite)."
                ) from None


def _positive_definite(rng, shape) -> Tensor:
    data = rng.uniform(-1.0, 1.0, size=shape)
    data = data @ np.swapaxes(data, -1, -2) + shape[-1] * np.eye(shape[-1])
    return Tensor._make(data.astype(np.float64))


def _cholesky_samples(rng):
    return [
        ((_positive_definite(rng, (3, 3)),), {}),
        ((_positive_definite(rng, (2, 2, 2)),), {"upper": True}),
    ]


@register(
    name="linalg.cholesky",
    torch_name="linalg.cholesky",
    samples=_cholesky_samples,
    gradcheck_wrapper=_symmetrized,
)
def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L, lower triangular with positive diagonal, such that A = L L^T (A positive-definite)."""
    _require_tensor(A, "linalg_cholesky", 1, "A")
    _check_square_batches(A, "linalg.cholesky")
    return apply(LinalgCholeskyExBackward0, A, upper=upper)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (deprecated in PyTorch for linalg.cholesky)."""
    _require_tensor(input, "cholesky")
    _check_square_batches(input, "cholesky")
    return apply(CholeskyBackward0, input, upper=upper)


Tensor.cholesky = cholesky


class LinalgQrBackward0(Node):
    """A = Q R. The gradient for tall or square A (Q with orthonormal columns, R invertible):
    dA = [dQ + Q copyltu(M)] R^-T with M = R dR^T - dQ^T Q; wide A splits into a square
    block and the rest."""

    tangent = TRANSPOSED
    __slots__ = ("mode",)

    @staticmethod
    def forward(ctx, a, mode):
        ctx.save_for_backward(OUTPUT, output(1))
        ctx.mode = mode
        data = a._data
        if mode == "r":
            r = np.linalg.qr(data, mode="r")
            return np.zeros((0,), dtype=data.dtype), np.triu(r)
        q, r = np.linalg.qr(data, mode=mode)
        return q, r

    def backward(self, *grads):
        if self.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        q, r = self._saved_tensors
        rows, columns = q.shape[-2], r.shape[-1]
        if self.mode == "complete" and rows > columns:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        grad_q = grads[0] if grads and grads[0] is not None else q * 0
        grad_r = grads[1] if len(grads) > 1 and grads[1] is not None else r * 0
        if rows >= columns:
            return _qr_square_or_tall_grad(q, r, grad_q, grad_r)
        square, rest = r[..., :rows], r[..., rows:]
        grad_square, grad_rest = grad_r[..., :rows], grad_r[..., rows:]
        grad_q = grad_q + matmul(matmul(q, rest), grad_rest.mT)
        grad_left = _qr_square_or_tall_grad(q, square, grad_q, grad_square)
        grad_right = matmul(q, grad_rest)
        return cat([grad_left, grad_right], -1)




def _qr_square_or_tall_grad(q: Tensor, r: Tensor, grad_q: Tensor, grad_r: Tensor) -> Tensor:
    """The gradient of A = Q R with at least as many rows as columns (R square, invertible)."""
    m = matmul(r, grad_r.mT) - matmul(grad_q.mT, q)
    copied = tril(m) + tril(m, -1).mT
    b = grad_q + matmul(q, copied)
    return solve(r, b.mT).mT


_QR_MODES = ("reduced", "complete", "r")


def _qr_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (4, 3)),), {}),
        ((_well_conditioned(rng, (3, 3)),), {}),
        ((make(rng, (2, 3)),), {}),
        ((make(rng, (2, 3)),), {"mode": "complete"}),
        ((make(rng, (2, 3, 2)),), {}),
    ]


@register(name="linalg.qr", torch_name="linalg.qr", samples=_qr_samples)
def linalg_qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q R, Q with orthonormal columns and R upper triangular."""
    _require_tensor(A, "linalg_qr", 1, "A")
    _check_floating(A, "linalg.qr")
    if A.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    if mode not in _QR_MODES:
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
            "'complete'"
        )
    return _QrResult(*apply(LinalgQrBackward0, A, mode=mode))



def qr(input: Tensor, some: bool = True):
    """torch.qr: (Q, R); `some=False` gives the complete Q."""
    return _TorchQrResult(*linalg_qr(input, "reduced" if some else "complete"))


Tensor.qr = qr


class LinalgEighBackward0(Node):
    """A = V diag(L) V^T: dA = V (diag(dL) + F o skew(V^T dV)) V^T, F_ij = 1 / (L_j - L_i).

    Close eigenvalues make F large and the gradient of V ill-conditioned (inf or nan for
    repeated ones, as in PyTorch); the gradient of L alone is always fine.
    """

    tangent = TRANSPOSED
    __slots__ = ()

    @staticmethod
    def forward(ctx, a, uplo):
        ctx.save_for_backward(OUTPUT, output(1))
        values, vectors = np.linalg.eigh(a._data, UPLO=uplo)
        return values, vectors

    @_without_float_warnings
    def backward(self, *grads):
        values, vectors = self._saved_tensors
        grad_values = grads[0] if grads else None
        grad_vectors = grads[1] if len(grads) > 1 else None
        inner = diag_embed(grad_values) if grad_values is not None else None
        if grad_vectors is not None:
            projected = matmul(vectors.mT, grad_vectors)
            skew = (projected - projected.mT) * 0.5
            identity = _identity(values.shape[-1], values)
            gaps = values.unsqueeze(-2) - values.unsqueeze(-1) + identity
            rotation = skew / gaps
            inner = rotation if inner is None else inner + rotation
        if inner is None:
            return None
        return matmul(matmul(vectors, inner), vectors.mT)


def _check_uplo(UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _symmetric_samples(rng):
    return [
        ((_positive_definite(rng, (3, 3)),), {}),
        ((_positive_definite(rng, (2, 2, 2)),), {"UPLO": "U"}),
    ]


@register(
    name="linalg.eigh",
    torch_name="linalg.eigh",
    samples=_symmetric_samples,
    gradcheck_wrapper=lambda op: _sign_free(_symmetrized(op), (1,)),
    floating=True,
)
def eigh(A: Tensor, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix, read from the
    UPLO triangle."""
    _require_tensor(A, "linalg_eigh", 1, "A")
    _check_square_batches(A, "linalg.eigh")
    _check_uplo(UPLO)
    return _EighResult(*apply(LinalgEighBackward0, A, uplo=UPLO))


@register(
    name="linalg.eigvalsh",
    torch_name="linalg.eigvalsh",
    samples=_symmetric_samples,
    gradcheck_wrapper=_symmetrized,
    floating=True,
)
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix."""
    return eigh(A, UPLO).eigenvalues


class LinalgSvdBackward0(Node):
    """A = U diag(S) V^T (Townsend's formula for real matrices).

    dA = U [(F o (U^T dU - dU^T U)) S + diag(dS) + S (F o (V^T dV - dV^T V))] V^T
         + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T),  F_ij = 1 / (S_j^2 - S_i^2).
    Repeated singular values make F infinite (nan gradients, as in PyTorch) unless only S
    is differentiated; zero singular values make the last two terms infinite.
    """

    tangent = TRANSPOSED
    __slots__ = ("full_matrices",)

    @staticmethod
    def forward(ctx, a, full_matrices):
        ctx.save_for_backward(OUTPUT, output(1), output(2))
        ctx.full_matrices = full_matrices
        u, s, vh = np.linalg.svd(a._data, full_matrices=full_matrices)
        return u, s, vh

    @_without_float_warnings
    def backward(self, *grads):
        u, s, vh = self._saved_tensors
        grad_u, grad_s, grad_vh = (*grads, None, None, None)[:3]
        count = s.shape[-1]
        rows, columns = u.shape[-2], vh.shape[-1]
        if self.full_matrices:
            u, vh = u[..., :count], vh[..., :count, :]
            grad_u = None if grad_u is None else grad_u[..., :count]
            grad_vh = None if grad_vh is None else grad_vh[..., :count, :]
        result = None if grad_s is None else matmul(u * grad_s.unsqueeze(-2), vh)
        if grad_u is None and grad_vh is None:
            return result
        identity = _identity(count, s)
        squares = s * s
        coupling = 1 / (squares.unsqueeze(-2) - squares.unsqueeze(-1) + identity) - identity
        inner = None
        if grad_u is not None:
            projected = matmul(u.mT, grad_u)
            inner = coupling * (projected - projected.mT) * s.unsqueeze(-2)
        if grad_vh is not None:
            v, grad_v = vh.mT, grad_vh.mT
            projected = matmul(vh, grad_v)
            term = s.unsqueeze(-1) * (coupling * (projected - projected.mT))
            inner = term if inner is None else inner + term
        total = matmul(matmul(u, inner), vh)
        if grad_u is not None and rows > count:
            outside = grad_u - matmul(u, matmul(u.mT, grad_u))
            total = total + matmul(outside / s.unsqueeze(-2), vh)
        if grad_vh is not None and columns > count:
            outside = grad_vh - matmul(matmul(grad_vh, v), vh)
            total = total + matmul(u, outside / s.unsqueeze(-1))
        return total if result is None else result + total


def _svd_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (3, 2)),), {"full_matrices": False}),
        ((make(rng, (2, 3)),), {"full_matrices": False}),
        ((make(rng, (3, 3)),), {}),
        ((make(rng, (2, 3, 2)),), {"full_matrices": False}),
    ]


def _check_matrix_input(A: Tensor, op_name: str) -> None:
    _check_floating(A, op_name)
    if A.ndim < 2:
        raise RuntimeError(f"{op_name}: The input tensor A must have at least 2 dimensions.")


@register(
    name="linalg.svd",
    torch_name="linalg.svd",
    samples=_svd_samples,
    gradcheck_wrapper=lambda op: _sign_free(op, (0, 2)),
)
def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, singular values descending."""
    _require_tensor(A, "linalg_svd", 1, "A")
    _check_matrix_input(A, "linalg.svd")
    return _SvdResult(*apply(LinalgSvdBackward0, A, full_matrices=full_matrices))


def _svdvals_samples(rng):
    return [((args[0],), {}) for args, _ in _svd_samples(rng)]


@register(name="linalg.svdvals", torch_name="linalg.svdvals", samples=_svdvals_samples)
def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of A, descending."""
    _require_tensor(A, "linalg_svdvals", 1, "A")
    _check_matrix_input(A, "linalg.svdvals")
    return apply(LinalgSvdBackward0, A, full_matrices=False)[1]


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """torch.svd: (U, S, V) with V (not V^T); zeros for U and V when compute_uv=False."""
    u, s, vh = linalg_svd(input, full_matrices=not some)
    if not compute_uv:
        return _TorchSvdResult(
            _constant(np.zeros(u.shape, u._data.dtype)), s, _constant(np.zeros(vh.shape, vh._data.dtype))
        )
    return _TorchSvdResult(u, s, vh.mT)


Tensor.svd = svd


class LinalgPinvBackward0(Node):
    """P = A^+ (for constant rank):
    dA = -P^T grad P^T + (I - A P) grad^T P P^T + P^T P grad^T (I - P A)."""

    tangent = TRANSPOSED
    __slots__ = ()

    @staticmethod
    def forward(ctx, a, atol, rtol):
        ctx.save_for_backward(a, OUTPUT)
        u, s, vh = np.linalg.svd(a._data, full_matrices=False)
        largest = s[..., :1] if s.shape[-1] else np.zeros((*s.shape[:-1], 1), s.dtype)
        cutoff = np.maximum(atol, rtol * largest)
        kept = s > cutoff
        inverted = np.where(kept, 1 / np.where(kept, s, 1), 0)
        return np.matmul(np.swapaxes(vh, -1, -2) * inverted[..., None, :], np.swapaxes(u, -1, -2))

    def backward(self, grad):
        a, pinv_ = self._saved_tensors
        pinv_t, grad_t = pinv_.mT, grad.mT
        rows, columns = a.shape[-2], a.shape[-1]
        left = _identity(rows, a) - matmul(a, pinv_)
        right = _identity(columns, a) - matmul(pinv_, a)
        result = -matmul(matmul(pinv_t, grad), pinv_t)
        result = result + matmul(matmul(left, grad_t), matmul(pinv_, pinv_t))
        return result + matmul(matmul(pinv_t, pinv_), matmul(grad_t, right))


def _pinv_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (3, 2)),), {}),
        ((make(rng, (2, 3)),), {}),
        ((_well_conditioned(rng, (2, 3, 3)),), {}),
    ]


@register(name="linalg.pinv", torch_name="linalg.pinv",
          samples=_samples.plus(_pinv_samples, {"rtol": 1e-3}, {"atol": 1e-3}))
def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse; singular values at or below max(atol, rtol * largest)
    count as zero (default rtol: eps * max(rows, columns))."""
    _require_tensor(A, "linalg_pinv", 1, "A")
    if A.ndim < 2 or not A.dtype.is_floating_point:
        raise RuntimeError(
            f"linalg.pinv({_type_name(A)}{{[{', '.join(map(str, A.shape))}]}}): expected a tensor with "
            "2 or more dimensions of float, double, cfloat or cdouble types"
        )
    if rtol is None:
        rtol = np.finfo(A._data.dtype).eps * max(A.shape[-2:]) if atol is None or atol == 0 else 0.0
    atol = 0.0 if atol is None else atol
    return apply(LinalgPinvBackward0, A, atol=_scalar_tolerance(atol), rtol=_scalar_tolerance(rtol))


def _scalar_tolerance(value):
    return value._data[..., None] if isinstance(value, Tensor) else value


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: pinv with a relative cutoff `rcond`."""
    return pinv(input, rtol=rcond)


Tensor.pinverse = pinverse


# ---------------------------------------------------------------------------
# Norms


def _vector_norm_samples(rng):
    make = _samples.make
    x = make(rng, (2, 3))
    return [
        ((x,), {}),
        ((x,), {"ord": 1, "dim": 1}),
        ((x,), {"ord": math.inf, "dim": (0, 1), "keepdim": True}),
        ((x,), {"ord": 3.0, "dim": 0}),
        ((x,), {"ord": -math.inf}),
        ((make(rng, ()),), {}),
        ((make(rng, (0, 3)),), {"dim": 0}),
    ]


@register(name="linalg.vector_norm", torch_name="linalg.vector_norm",
          samples=_samples.plus(_vector_norm_samples, {"dtype": _samples.FLOAT64}))
def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector p-norm of x over `dim` (all elements by default); ord may be inf, -inf, 0."""
    _require_tensor(x, "linalg_vector_norm", 1, "x")
    if dtype is not None:
        x = x.to(dtype)
    _check_floating(x, "linalg.vector_norm")
    if isinstance(ord, Tensor):
        ord = ord.item()
    dims = normalize_dims(dim, x.ndim)
    reduces_empty = x._data.size == 0 and (not dims or any(x.shape[d] == 0 for d in dims))
    if math.isinf(ord) and reduces_empty:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
            "operation does not have an identity"
        )
    return apply(LinalgVectorNormBackward0, x, ord=float(ord), dims=dims, keepdim=keepdim)


_MATRIX_ORDERS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def _with_kept_dims(result: Tensor, dims: tuple[int, int]) -> Tensor:
    """Put back the two reduced dims as size 1 (keepdim=True)."""
    for dim in sorted(dims):
        result = result.unsqueeze(dim)
    return result


def _matrix_norm_samples(rng):
    make = _samples.make
    A = make(rng, (3, 2))
    return [
        ((A,), {}),
        ((A,), {"ord": "nuc"}),
        ((A,), {"ord": 2}),
        ((A,), {"ord": -2}),
        ((A,), {"ord": 1}),
        ((A,), {"ord": -math.inf, "keepdim": True}),
        ((make(rng, (2, 3, 2)),), {"ord": "nuc", "dim": (0, 2)}),
    ]


@register(name="linalg.matrix_norm", torch_name="linalg.matrix_norm",
          samples=_samples.plus(_matrix_norm_samples, {"dtype": _samples.FLOAT64}))
def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """A matrix norm over the two dims `dim`: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf."""
    _require_tensor(A, "linalg_matrix_norm", 1, "A")
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    _check_floating(A, "linalg.matrix_norm")
    if ord not in _MATRIX_ORDERS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    rows, columns = (A._wrap_dim(d) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, columns), keepdim)
    if ord in ("nuc", 2, -2):
        values = svdvals(movedim(A, (rows, columns), (-2, -1)))
        if ord == "nuc":
            result = values.sum(-1)
        else:
            result = values.amax(-1) if ord == 2 else values.amin(-1)
        return _with_kept_dims(result, (rows, columns)) if keepdim else result
    summed, extreme = (rows, columns) if abs(ord) == 1 else (columns, rows)
    sums = A.abs().sum(summed, keepdim=keepdim)
    if not keepdim and summed < extreme:
        extreme -= 1
    return sums.amax(extreme, keepdim) if ord > 0 else sums.amin(extreme, keepdim)


def _norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)),), {}),
        ((make(rng, (3,)),), {"ord": 1}),
        ((make(rng, (3, 2)),), {"ord": "nuc"}),
        ((make(rng, (2, 3, 2)),), {"dim": (1, 2)}),
        ((make(rng, (2, 3)),), {"ord": math.inf, "dim": 1}),
    ]


@register(name="linalg.norm", torch_name="linalg.norm",
          samples=_samples.plus(_norm_samples, {"keepdim": True, "dtype": _samples.FLOAT64}))
def linalg_norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector norm or a matrix norm, chosen by `dim` (and A's dims when `dim` is None)."""
    _require_tensor(A, "linalg_norm", 1, "A")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if A.ndim not in (1, 2):
            raise RuntimeError(
                "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                f"{A.ndim}D."
            )
        dim = (-2, -1) if isinstance(ord, str) else tuple(range(A.ndim))
    if len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. Got {list(dim)}")


# ---------------------------------------------------------------------------
# Products of several matrices


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices; the first may be a row vector, the last a column."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for index, tensor in enumerate(tensors):
        _require_tensor(tensor, "multi_dot", 1, "tensors")
        allowed = (1, 2) if index in (0, len(tensors) - 1) else (2,)
        if tensor.ndim not in allowed:
            raise RuntimeError(
                f"multi_dot(): tensor {index} must be 2D but got {tensor.ndim}D"
                if allowed == (2,)
                else f"multi_dot(): the {'first' if index == 0 else 'last'} tensor must be 1D or 2D "
                f"but got {tensor.ndim}D"
            )
    result = tensors[0]
    for tensor in tensors[1:]:
        result = matmul(result, tensor)
    return result


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A multiplied by itself n times (the identity for n = 0, powers of the inverse for n < 0)."""
    _require_tensor(A, "linalg_matrix_power", 1, "A")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            "linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{A.shape[-2] if A.ndim > 1 else A.shape[-1]} by {A.shape[-1]} matrices"
        )
    if n == 0:
        return _constant(np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape).copy())
    base = inv(A) if n < 0 else A
    power, result = abs(n), None
    while power:
        if power & 1:
            result = base if result is None else matmul(result, base)
        power >>= 1
        if power:
            base = matmul(base, base)
    return result


Tensor.matrix_power = matrix_power
