"""Closed-form tangent formulas of cumprod, det, eigh, svd, qr, pinv and solve_triangular
(no longer the transpose of their backward): the tangent equals J·v by finite differences
and PyTorch's torch.func.jvp, and it can be differentiated again, forward over forward
(jacfwd(jacfwd)), forward over reverse (jacfwd(jacrev)) and reverse over forward (the
gradient of a tangent), each matching PyTorch. The last test lists which ops of the table may
still use the transposed backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import retrograd
import retrograd.autograd.forward_ad as fwAD
import retrograd.func as rfunc
from retrograd.autograd.graph import Node
from retrograd.ops._tangents import rule_name

RNG = np.random.default_rng(11)


def _well_conditioned(*shape):
    return RNG.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])


def _sym(lib, a):
    return (a + (a.mT if hasattr(a, "mT") else np.swapaxes(a, -1, -2))) / 2


# name -> (function of (lib, *tensors), inputs as arrays)
CASES = {
    "cumprod": (lambda lib, x: lib.cumprod(x, 1), [RNG.standard_normal((2, 4))]),
    "cumprod_zeros": (lambda lib, x: lib.cumprod(x, 1),
                      [np.array([[0.5, 0.0, 1.5, 2.0], [0.0, 1.2, 0.0, -0.7]])]),
    "cumprod_dim0": (lambda lib, x: lib.cumprod(x, 0), [np.array([[0.5, 0.0], [0.0, 1.5], [2.0, -1.0]])]),
    "cumprod_dtype": (lambda lib, x: lib.cumprod(x, 0, dtype=lib.float64), [RNG.standard_normal(3)]),
    "det": (lambda lib, a: lib.linalg.det(a), [_well_conditioned(3, 3)]),
    "det_batched": (lambda lib, a: lib.linalg.det(a), [_well_conditioned(2, 3, 3)]),
    "eigh": (lambda lib, a: tuple(o * o if i else o for i, o in enumerate(lib.linalg.eigh(_sym(lib, a)))),
             [RNG.standard_normal((3, 3))]),
    "eigh_upper": (lambda lib, a: lib.linalg.eigh(_sym(lib, a), UPLO="U")[1] ** 2,
                   [RNG.standard_normal((2, 3, 3))]),
    "svd_tall": (lambda lib, a: _svd_invariant(lib, a, False), [RNG.standard_normal((4, 3))]),
    "svd_wide": (lambda lib, a: _svd_invariant(lib, a, False), [RNG.standard_normal((2, 3))]),
    "svd_square_batched": (lambda lib, a: _svd_invariant(lib, a, False), [RNG.standard_normal((2, 3, 3))]),
    "svd_full_tall": (lambda lib, a: _svd_invariant(lib, a, True), [RNG.standard_normal((4, 2))]),
    "svd_full_wide": (lambda lib, a: _svd_invariant(lib, a, True), [RNG.standard_normal((2, 4))]),
    "eigh_raw": (lambda lib, a: tuple(o * o if i else o for i, o in enumerate(lib.linalg.eigh(a))), [_sym(np, RNG.standard_normal((3, 3)))]),
    "svdvals": (lambda lib, a: lib.linalg.svdvals(a), [RNG.standard_normal((3, 4))]),
    "qr_tall": (lambda lib, a: tuple(lib.linalg.qr(a)), [RNG.standard_normal((4, 3))]),
    "qr_square": (lambda lib, a: tuple(lib.linalg.qr(a)), [_well_conditioned(3, 3)]),
    "qr_wide": (lambda lib, a: tuple(lib.linalg.qr(a)), [RNG.standard_normal((2, 4))]),
    "qr_complete_wide": (lambda lib, a: tuple(lib.linalg.qr(a, mode="complete")), [RNG.standard_normal((2, 3))]),
    "pinv_tall": (lambda lib, a: lib.linalg.pinv(a), [RNG.standard_normal((4, 2))]),
    "pinv_wide": (lambda lib, a: lib.linalg.pinv(a), [RNG.standard_normal((2, 3))]),
    "pinv_batched": (lambda lib, a: lib.linalg.pinv(a), [_well_conditioned(2, 3, 3)]),
    "solve_triangular_upper": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
                               [_well_conditioned(3, 3), RNG.standard_normal((3, 2))]),
    "solve_triangular_lower_unit_right": (
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [RNG.standard_normal((3, 3)), RNG.standard_normal((2, 3))]),
    "solve_triangular_broadcast": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False),
                                   [_well_conditioned(2, 3, 3), RNG.standard_normal((3, 2))]),
}


def _svd_invariant(lib, a, full):
    """U, S, Vh up to the signs of the singular vectors: U S, S and S Vh stay fixed when a
    pair of singular vectors flips sign together only in products; use U diag(S) Vh pieces."""
    u, s, vh = lib.linalg.svd(a, full_matrices=full)
    return u * u, s, vh * vh


def _flat(out):
    return list(out) if isinstance(out, tuple) else [out]


def _run(lib, name, *tensors):
    return CASES[name][0](lib, *tensors)


def _tangents(arrays, seed=5):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(array.shape) for array in arrays]


NAMES = sorted(CASES)
# First order against PyTorch only: eigh of a matrix that is symmetric but moved along a
# direction that is not (PyTorch's tangent uses all of dA, finite differences only the
# triangle eigh reads), and the extra singular vectors of full_matrices=True (not unique;
# zero tangents as in PyTorch).
CONVENTIONS = {"eigh_raw", "svd_full_tall", "svd_full_wide"}
SECOND_ORDER = sorted(set(NAMES) - CONVENTIONS)


def _ours_jvp(name, arrays, tangents):
    primals = tuple(retrograd.tensor(a) for a in arrays)
    out, tangent = rfunc.jvp(lambda *x: _run(retrograd, name, *x), primals,
                             tuple(retrograd.tensor(t) for t in tangents))
    return [t.numpy() for t in _flat(tangent)]


def _torch_jvp(name, arrays, tangents):
    primals = tuple(torch.tensor(a) for a in arrays)
    out, tangent = torch.func.jvp(lambda *x: _run(torch, name, *x), primals,
                                  tuple(torch.tensor(t) for t in tangents))
    return [t.numpy() for t in _flat(tangent)]


def _finite_differences(name, arrays, tangents, eps=1e-6):
    def at(sign):
        moved = [retrograd.tensor(a + sign * eps * t) for a, t in zip(arrays, tangents)]
        return [o.numpy() for o in _flat(_run(retrograd, name, *moved))]
    return [(p - m) / (2 * eps) for p, m in zip(at(1), at(-1))]


@pytest.mark.parametrize("name", NAMES)
def test_tangent_matches_finite_differences_and_torch(name):
    arrays = CASES[name][1]
    tangents = _tangents(arrays)
    mine = _ours_jvp(name, arrays, tangents)
    if name not in CONVENTIONS:
        for value, expected in zip(mine, _finite_differences(name, arrays, tangents)):
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
    for value, expected in zip(mine, _torch_jvp(name, arrays, tangents)):
        np.testing.assert_allclose(value, expected, rtol=1e-8, atol=1e-10)


def _scalar(lib, name):
    """s(x) = Σ over the outputs of (output * W).sum(), W fixed random weights."""
    def scalar(*x):
        weights = np.random.default_rng(2)
        total = 0
        for out in _flat(_run(lib, name, *x)):
            total = total + (out * lib.tensor(weights.standard_normal(tuple(out.shape)))).sum()
        return total
    return scalar


def _torch_hessian_by_double_backward(name, arrays):
    """PyTorch's reverse over reverse, the reference for every second-order check: PyTorch's
    own forward-mode compositions are wrong for some of these ops (jvp of jvp of det, the
    gradient of a tangent of det; nan for eigh, and for cumprod at zeros)."""
    argnums = tuple(range(len(arrays)))
    return torch.func.jacrev(torch.func.jacrev(_scalar(torch, name), argnums=argnums), argnums=argnums)(
        *(torch.tensor(a) for a in arrays))


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_forward_over_forward_matches_torch_reverse_over_reverse(name):
    arrays = CASES[name][1]
    argnums = tuple(range(len(arrays)))
    mine = rfunc.jacfwd(rfunc.jacfwd(_scalar(retrograd, name), argnums=argnums), argnums=argnums)(
        *(retrograd.tensor(a) for a in arrays))
    for row, expected_row in zip(mine, _torch_hessian_by_double_backward(name, arrays)):
        for value, expected in zip(row, expected_row):
            np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_forward_over_reverse_matches_torch(name):
    arrays = CASES[name][1]
    argnums = tuple(range(len(arrays)))
    primals = tuple(retrograd.tensor(a) for a in arrays)
    mine = rfunc.jacfwd(rfunc.grad(_scalar(retrograd, name), argnums=argnums), argnums=argnums)(*primals)
    mine_hessian = rfunc.hessian(_scalar(retrograd, name), argnums=argnums)(*primals)
    expected = _torch_hessian_by_double_backward(name, arrays)
    for found in (mine, mine_hessian):
        for row, expected_row in zip(found, expected):
            for value, reference in zip(row, expected_row):
                np.testing.assert_allclose(value.numpy(), reference.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_reverse_over_forward_matches_torch(name):
    """The gradient of s's tangent along v (a tangent differentiated by reverse mode) is H v."""
    arrays = CASES[name][1]
    tangents = _tangents(arrays)
    primals = [retrograd.tensor(a, requires_grad=True) for a in arrays]
    with fwAD.dual_level():
        duals = [fwAD.make_dual(p, retrograd.tensor(t)) for p, t in zip(primals, tangents)]
        tangent = fwAD.unpack_dual(_scalar(retrograd, name)(*duals)).tangent
        mine = retrograd.autograd.grad(tangent, primals)
    hessian = _torch_hessian_by_double_backward(name, arrays)
    for position, value in enumerate(mine):
        expected = sum((hessian[position][other] * torch.tensor(tangents[other])).sum(
            tuple(range(-tangents[other].ndim, 0))) for other in range(len(arrays)))
        np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-7, atol=1e-9)


def test_qr_errors_as_pytorch():
    a = retrograd.tensor(RNG.standard_normal((4, 3)))
    for mode, message in (("r", "The derivative of linalg.qr depends on Q"),
                          ("complete", "not differentiable when mode='complete' and nrows > ncols")):
        with pytest.raises(RuntimeError, match=message):
            rfunc.jvp(lambda a, mode=mode: retrograd.linalg.qr(a, mode=mode)[1], (a,), (a,))


# The ops whose tangent may still be the transpose of their backward, with the reason.
TRANSPOSED_ALLOWED: dict[str, str] = {}


def test_which_ops_use_the_transposed_backward():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = sorted({cls.__name__ for cls in subclasses(Node)
                    if cls.__module__.startswith("retrograd") and rule_name(cls) == "transposed"})
    assert found == sorted(TRANSPOSED_ALLOWED)
