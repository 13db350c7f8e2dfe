"""Forward mode in the gradient test matrix, generated from the op table.

For every sample of every differentiable op, with a random tangent v for each floating input:
the output tangent (forward mode, dual tensors) equals J·v by central finite differences; it
agrees with reverse mode (wᵀ(Jv) = (wᵀJ)v for a random w); and where PyTorch is installed it
equals `torch.func.jvp` on the same function.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
import retrograd.autograd.forward_ad as fwAD
from op_samples import samples_for
from retrograd.ops import table
from retrograd.ops._tangents import rule_name
from test_op_table import CASES, _call, _flat_call, _to_torch, _torch_function, _with_grad

try:
    import torch as _torch
except ImportError:  # pragma: no cover - torch is an optional cross-check
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="PyTorch is not installed")


def _tangents_for(leaves, seed: int = 7) -> list:
    rng = np.random.default_rng(seed)
    return [retrograd.tensor(rng.standard_normal(leaf.shape)) for leaf in leaves]


def _outputs(out) -> tuple:
    return out if isinstance(out, tuple) else (out,)


def _differentiable(out) -> bool:
    return isinstance(out, retrograd.Tensor) and out.dtype.is_floating_point


def _forward_mode(function, leaves, tangents) -> list:
    """The tangent of each floating output (None where it has none)."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(leaf.detach(), tangent) for leaf, tangent in zip(leaves, tangents)]
        outs = _outputs(function(*duals))
        found = []
        for out in outs:
            if not _differentiable(out):
                found.append(None)
                continue
            tangent = fwAD.unpack_dual(out).tangent
            found.append(None if tangent is None else tangent.detach().numpy().copy())
    return found


def _finite_differences(function, leaves, tangents, eps: float = 1e-6) -> list:
    """Σ_i J_i v_i, each by a central difference moving input i alone (as gradcheck does, so a
    non-differentiable input such as a label tensor jumps symmetrically and cancels)."""

    def at(position, sign):
        with retrograd.no_grad():
            moved = [leaf.detach() + sign * eps * tangent if index == position else leaf.detach()
                     for index, (leaf, tangent) in enumerate(zip(leaves, tangents))]
            return [out.detach().numpy().copy() if _differentiable(out) else None
                    for out in _outputs(function(*moved))]

    total = None
    for position in range(len(leaves)):
        plus, minus = at(position, 1.0), at(position, -1.0)
        terms = [None if p is None else (p - m) / (2 * eps) for p, m in zip(plus, minus)]
        total = terms if total is None else [None if t is None else t + u for t, u in zip(total, terms)]
    return total


@pytest.mark.parametrize(("info", "args", "kwargs"), CASES)
def test_tangent_matches_finite_differences(info, args, kwargs):
    function, leaves = _flat_call(info, _with_grad(args), kwargs)
    if not leaves:
        pytest.skip("no floating input")
    tangents = _tangents_for(leaves)
    forward = _forward_mode(function, leaves, tangents)
    numeric = _finite_differences(function, leaves, tangents)
    for mine, expected in zip(forward, numeric):
        if expected is None:
            continue
        assert mine is not None, f"{info.name}: an output lost its tangent"
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("info", "args", "kwargs"), CASES)
def test_tangent_agrees_with_reverse_mode(info, args, kwargs):
    function, leaves = _flat_call(info, _with_grad(args), kwargs)
    if not leaves:
        pytest.skip("no floating input")
    tangents = _tangents_for(leaves)
    forward = _forward_mode(function, leaves, tangents)
    outs = _outputs(function(*leaves))
    rng = np.random.default_rng(3)
    weights = [rng.standard_normal(out.shape) if _differentiable(out) else None for out in outs]
    pairs = [(out, w) for out, w in zip(outs, weights) if w is not None and out.requires_grad]
    if not pairs:
        pytest.skip("no output depends on the inputs")
    total = sum((out * retrograd.tensor(w)).sum() for out, w in pairs)
    grads = retrograd.autograd.grad(total, leaves, allow_unused=True)
    # (force=True: sgn's gradient is a zero tensor, which numpy() refuses unforced)
    reverse = sum(float((g.numpy(force=True) * v.numpy()).sum())
                  for g, v in zip(grads, tangents) if g is not None)
    forward_value = sum(float((t * w).sum()) for t, w in zip(forward, weights)
                        if t is not None and w is not None)
    assert forward_value == pytest.approx(reverse, rel=1e-8, abs=1e-9)


# PyTorch 2.13's own forward formula disagrees with its reverse mode and with finite
# differences for a tangent outside the triangle the op reads (checked by hand: jvp, vjp and
# central differences give three different numbers); ours agrees with both (tests above).
_PYTORCH_INCONSISTENT = {
    "cholesky_inverse": "PyTorch's jvp of cholesky_inverse disagrees with its vjp off the triangle",
    "triangular_solve": "PyTorch's jvp of triangular_solve disagrees with its vjp off the triangle",
}


# (op, a string argument of the sample): PyTorch 2.13 returns no tangent at all there.
_PYTORCH_DROPS_THE_TANGENT = {
    ("scatter_reduce", "prod"): "PyTorch's scatter_reduce(reduce='prod') gives no tangent (None); "
                                "ours agrees with reverse mode and finite differences (tests above)",
}


@needs_torch
@pytest.mark.parametrize(("info", "args", "kwargs"), CASES)
def test_tangent_matches_pytorch_jvp(info, args, kwargs):
    torch = _torch
    if info.name in _PYTORCH_INCONSISTENT:
        pytest.skip(_PYTORCH_INCONSISTENT[info.name])
    for (name, argument), reason in _PYTORCH_DROPS_THE_TANGENT.items():
        if info.name == name and any(isinstance(value, str) and value == argument for value in args):
            pytest.skip(reason)
    ours = _with_grad(args)
    function, leaves = _flat_call(info, ours, kwargs)
    if not leaves:
        pytest.skip("no floating input")
    tangents = _tangents_for(leaves)
    forward = _forward_mode(function, leaves, tangents)
    torch_function = _torch_function(torch, info.torch_name)
    theirs = _to_torch(ours, torch)
    torch_run = _call(info, _to_torch(kwargs, torch), torch_function)
    torch_leaves = [leaf for leaf in _torch_leaves(theirs)]

    def torch_flat(*values):
        iterator = iter(values)
        return torch_run(*_replace_torch(theirs, iterator))

    primals = tuple(leaf.detach() for leaf in torch_leaves)
    torch_tangents = tuple(torch.tensor(v.numpy()) for v in tangents)
    try:
        _, expected = torch.func.jvp(torch_flat, primals, torch_tangents)
    except (NotImplementedError, RuntimeError) as error:
        pytest.skip(f"PyTorch has no forward mode here: {str(error).splitlines()[0]}")
    expected = _outputs(expected)
    for mine, reference in zip(forward, expected):
        if mine is None or not reference.dtype.is_floating_point:
            continue
        if reference._is_zerotensor():  # PyTorch's symbolic zero (slogdet's sign)
            reference = torch.zeros(reference.shape, dtype=reference.dtype)
        np.testing.assert_allclose(mine, reference.numpy(), rtol=1e-7, atol=1e-9)


def _torch_leaves(value) -> list:
    if hasattr(value, "requires_grad") and hasattr(value, "dtype") and not isinstance(value, tuple | list):
        return [value] if value.requires_grad else []
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _torch_leaves(item)]
    return []


def _replace_torch(value, iterator):
    if hasattr(value, "requires_grad") and not isinstance(value, tuple | list):
        return next(iterator) if value.requires_grad else value
    if isinstance(value, tuple | list):
        return type(value)(_replace_torch(item, iterator) for item in value)
    return value


def test_every_differentiable_op_of_the_table_declares_a_tangent():
    missing = []
    with fwAD.dual_level():
        for name, info in sorted(table.items()):
            if samples_for(info) is None or not info.differentiable:
                continue
            args, kwargs = samples_for(info)(np.random.default_rng(0))[0]
            function, leaves = _flat_call(info, _with_grad(args), kwargs)
            duals = [fwAD.make_dual(leaf.detach(), retrograd.ones_like(leaf)) for leaf in leaves]
            try:
                function(*duals)
            except NotImplementedError as error:
                if "forward AD" in str(error):
                    missing.append(name)
    assert missing == []


def test_unique_refuses_a_tangent_as_pytorch_does():
    with fwAD.dual_level():
        dual = fwAD.make_dual(retrograd.tensor([1.0, 2.0, 2.0]), retrograd.ones(3))
        with pytest.raises(NotImplementedError, match="Trying to use forward AD with unique"):
            retrograd.unique(dual)


def test_rule_names_are_known():
    from retrograd.autograd.graph import Node

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names = {rule_name(cls) for cls in subclasses(Node) if cls.__module__.startswith("retrograd.ops")}
    assert names <= {None, "element_wise", "linear", "multilinear", "reduction", "transposed",
                     "hand-written"}
