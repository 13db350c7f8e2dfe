"""einsum, tensordot, inner and matmul record the ops PyTorch's composites run.

PyTorch has no node of its own for these (Note [Contractions as PyTorch composes them]): the
graph of each call is its permutes, diagonals, sums, views, expands and matrix products.
For each case below the whole graph is compared with PyTorch's, node by node down to the
leaves (class names, and every saved value: tensors by shape, numbers and tuples as they
are), and so are the result and the gradients. Cases vary the equation, broadcasting,
which operands require grad (matmul's choices depend on it) and the operands' strides
(reshape views a contiguous tensor and copies an unviewable one).

PyTorch's MmBackward0 shows `_saved_*_sym_strides`; for a dim of size 1 its views pick
other strides than NumPy's (ignored by both, for the layout), so those are left out.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd

torch = pytest.importorskip("torch")

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("ij->", [(2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,j", [(2,), (3,)]),
    ("ij,ij->ij", [(2, 1), (2, 3)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]),
    ("a...,...b->ab", [(2, 3, 4), (4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 2), (2, 3)]),
    ("bn,anm,bm->ba", [(3, 4), (2, 4, 5), (3, 5)]),
    ("i,i->", [(3,), (3,)]),
    ("ij,kj->", [(2, 3), (4, 3)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    ("ij,jk->ki", [(2, 3), (1, 4)]),
    ("ijk,ikl->jl", [(2, 3, 4), (2, 4, 5)]),
]

TENSORDOT_CASES = [
    ([(2, 3, 4), (3, 4, 2)], 2),
    ([(2, 3), (4, 2)], ([0], [1])),
    ([(3,), (3,)], 1),
    ([(2, 3), (2, 3)], 2),
    ([(2,), (3,)], 0),
    ([(2, 3, 4), (4, 3, 5)], ([1, 2], [1, 0])),
    ([(3, 1), (3,)], ([0], [0])),
]

INNER_CASES = [[(3,), (3,)], [(2, 3), (4, 3)], [(2, 2, 3), (3,)], [(), (3,)]]

MATMUL_CASES = [
    [(3,), (3, 4)],
    [(2, 2, 3), (2, 3, 4)],
    [(2, 2, 3), (3, 4)],
    [(3,), (2, 3, 4)],
    [(2, 3), (2, 3, 4)],
    [(2, 1, 2, 3), (3, 3, 2)],
    [(2, 2, 3), (3,)],
    [(2, 3, 4), (4,)],
    [(5, 2, 3), (1, 3, 4)],
    [(1, 2, 3), (4, 3, 2)],
    [(1, 2, 3), (1, 3, 4)],
    [(5, 2, 3), (1, 1, 3, 4)],
    [(2, 5, 2, 3), (1, 3, 4)],
    [(0, 2, 3), (3, 4)],
    [(3,), (2, 2, 3, 4)],
    [(2, 2, 3, 4), (4,)],
]


def _shown(value):
    """A saved value in a form both libraries' values compare in (PyTorch shows a negative
    int as its unsigned 64-bit pattern: read back)."""
    if isinstance(value, retrograd.Tensor | torch.Tensor):
        return ("tensor", tuple(value.shape))
    if isinstance(value, bool) or not isinstance(value, int | tuple):
        return value
    if isinstance(value, tuple):
        return tuple(_shown(item) for item in value)
    return value - 2**64 if value >= 2**63 else value


def _graph(node, depth=0, lines=None) -> list[str]:
    """The graph below `node`, one line per node (depth, name, saved values)."""
    lines = [] if lines is None else lines
    if node is None:
        lines.append(f"{depth} None")
        return lines
    saved = sorted(name for name in dir(node)
                   if name.startswith("_saved_") and not name.endswith("_sym_strides"))
    values = " ".join(f"{name}={_shown(getattr(node, name))}" for name in saved)
    lines.append(f"{depth} {node.name()} {values}")
    for child, _ in node.next_functions:
        _graph(child, depth + 1, lines)
    return lines


def _leaves(library, arrays, needs_grad, transposed):
    """The operands: leaves of the given arrays, or (transposed) views `.mT` of leaves
    holding each matrix transposed (same values, other strides)."""
    leaves, operands = [], []
    for array, needs in zip(arrays, needs_grad):
        if transposed and array.ndim >= 2:
            leaf = library.tensor(np.ascontiguousarray(np.swapaxes(array, -1, -2)), requires_grad=needs)
            operand = leaf.mT
        else:
            leaf = operand = library.tensor(array, requires_grad=needs)
        leaves.append(leaf)
        operands.append(operand)
    return leaves, operands


def _compare(call, shapes, needs_grad=None, transposed=False):
    arrays = [np.random.default_rng(seed).standard_normal(shape) for seed, shape in enumerate(shapes)]
    needs_grad = needs_grad or [True] * len(shapes)
    found = {}
    for library in (retrograd, torch):
        leaves, operands = _leaves(library, arrays, needs_grad, transposed)
        result = call(library, *operands)
        graph = _graph(result.grad_fn)
        if result.requires_grad:
            gradient = np.random.default_rng(9).standard_normal(tuple(result.shape))
            result.backward(library.tensor(gradient))
        grads = [None if leaf.grad is None else leaf.grad.numpy() for leaf in leaves]
        found[library] = graph, result.detach().numpy(), grads
    ours, theirs = found[retrograd], found[torch]
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)
    for mine, reference in zip(ours[2], theirs[2]):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


def _grad_patterns(count: int):
    """All operands requiring grad, then each one alone not requiring it."""
    return [None] + [[position != skipped for position in range(count)] for skipped in range(count)]


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize(("equation", "shapes"), EINSUM_CASES)
def test_einsum_records_pytorchs_graph(equation, shapes, transposed):
    patterns = _grad_patterns(len(shapes)) if len(shapes) > 1 else [None]
    for needs_grad in patterns:
        _compare(lambda library, *operands: library.einsum(equation, *operands), shapes, needs_grad,
                 transposed)


def test_einsum_sublists_record_the_same_graph_as_the_equation():
    """A sublist's integers are PyTorch's labels: 0-25 'A'-'Z', 26-51 'a'-'z' (the order
    in which the summed dims are aligned)."""
    _compare(lambda library, a, b: library.einsum(a, [26, 0, 27], b, [0, 27, 28], [26, 28]),
             [(2, 3, 4), (3, 4, 5)])


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize(("shapes", "dims"), TENSORDOT_CASES)
def test_tensordot_records_pytorchs_graph(shapes, dims, transposed):
    for needs_grad in _grad_patterns(2):
        _compare(lambda library, a, b: library.tensordot(a, b, dims), shapes, needs_grad, transposed)


@pytest.mark.parametrize("shapes", INNER_CASES)
def test_inner_records_pytorchs_graph(shapes):
    _compare(lambda library, a, b: library.inner(a, b), shapes)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("shapes", MATMUL_CASES)
def test_matmul_records_pytorchs_graph(shapes, transposed):
    """matmul's path depends on which operand requires grad and on the batch's strides."""
    for needs_grad in _grad_patterns(2):
        _compare(lambda library, a, b: library.matmul(a, b), shapes, needs_grad, transposed)


def test_matmul_of_a_batch_is_no_view_of_the_product_and_takes_writes():
    """The last unsafe view shares the product's memory and nothing else: writing the
    result in place is allowed and changes no operand."""
    a = retrograd.tensor(np.ones((2, 2, 3)), requires_grad=True)
    b = retrograd.tensor(np.ones((3, 4)), requires_grad=True)
    result = a @ b
    assert result._base is None
    result.mul_(2)
    result.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 2, 3), 8.0))
    assert np.all(a.detach().numpy() == 1)


def _operands(shapes):
    return tuple(retrograd.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
                 for seed, shape in enumerate(shapes))


@pytest.mark.parametrize("shapes", [[(2, 2, 3), (2, 3, 4)], [(3,), (2, 3, 4)], [(2, 3), (2, 3, 4)],
                                    [(2, 1, 2, 3), (3, 3, 2)], [(2, 2, 3), (3,)], [(5, 2, 3), (1, 3, 4)]])
def test_composed_matmul_is_exact_to_second_order(shapes):
    operands = _operands(shapes)
    assert retrograd.autograd.gradcheck(retrograd.matmul, operands)
    assert retrograd.autograd.gradgradcheck(retrograd.matmul, operands)


@pytest.mark.parametrize(("equation", "shapes"), [case for case in EINSUM_CASES if len(case[1]) <= 3])
def test_composed_einsum_is_exact_to_second_order(equation, shapes):
    operands = _operands(shapes)
    assert retrograd.autograd.gradcheck(lambda *xs: retrograd.einsum(equation, *xs), operands)
    assert retrograd.autograd.gradgradcheck(lambda *xs: retrograd.einsum(equation, *xs), operands)


@pytest.mark.parametrize(("shapes", "dims"), TENSORDOT_CASES)
def test_composed_tensordot_is_exact_to_second_order(shapes, dims):
    operands = _operands(shapes)
    assert retrograd.autograd.gradgradcheck(lambda a, b: retrograd.tensordot(a, b, dims), operands)


def test_composites_take_tangents_laid_out_otherwise_than_their_primals():
    """A tangent need not have its primal's strides: the reshape of a contiguous operand (a
    view) reshapes a transposed tangent by a copy, and the tangent is PyTorch's."""
    import retrograd.autograd.forward_ad as forward_ad

    primal = np.random.default_rng(0).standard_normal((2, 2, 3))
    tangent = np.random.default_rng(1).standard_normal((2, 3, 2))
    weight = np.random.default_rng(2).standard_normal((3, 4))
    found = []
    for library, dual_api in ((retrograd, forward_ad), (torch, torch.autograd.forward_ad)):
        with dual_api.dual_level():
            dual = dual_api.make_dual(library.tensor(primal), library.tensor(tangent).mT)
            result = library.matmul(dual, library.tensor(weight))
            found.append(dual_api.unpack_dual(result).tangent.numpy())
    np.testing.assert_allclose(found[0], found[1], rtol=1e-12)


@pytest.mark.parametrize("call", [lambda library, x, frozen: library.matmul(x.unsqueeze(0), frozen),
                                  lambda library, x, frozen: library.tensordot(x, frozen, 1),
                                  lambda library, x, frozen: library.einsum("ij,jk->ik", x, frozen)])
def test_composites_refuse_to_save_an_inference_tensor_as_pytorchs(call):
    """PyTorch's products save the views of an inference tensor (inference tensors too)
    where the other operand requires grad, and refuse; without grad nothing is saved."""
    for library in (retrograd, torch):
        with library.inference_mode():
            frozen = library.ones(2, 2)
        x = library.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            call(library, x, frozen)
        assert not call(library, x.detach(), frozen).requires_grad
