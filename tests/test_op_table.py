"""The gradient test matrix, generated from the op table.

Every differentiable op with samples is checked, on every sample, against central finite
differences in float64: first derivatives (gradcheck) and, where the table says the op is
twice differentiable, second derivatives (gradgradcheck). Where PyTorch is installed, values
and first derivatives are compared with it too.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import retrograd
from crosscheck import PYTORCH_GRADIENT_IS_WRONG, PYTORCH_VALUE_IS_APPROXIMATE
from op_samples import samples_for
from retrograd.autograd import gradcheck, gradgradcheck
from retrograd.ops import table


def _cases():
    for name, info in sorted(table.items()):
        if samples_for(info) is None or not info.differentiable:
            continue
        for index, (args, kwargs) in enumerate(samples_for(info)(np.random.default_rng(0))):
            yield pytest.param(info, args, kwargs, id=f"{name}-{index}")


CASES = list(_cases())


def _with_grad(value):
    """Copies of the sample's floating tensors that require grad, looking inside lists and
    tuples (numbers and integer tensors stay as they are)."""
    if isinstance(value, retrograd.Tensor) and value.dtype.is_floating_point:
        return value.detach().clone().requires_grad_(True)
    if isinstance(value, tuple | list):
        return type(value)(_with_grad(item) for item in value)
    return value


def _differentiable_leaves(value, kind) -> list:
    """The tensors of type `kind` that require grad inside `value`, in order (lists searched)."""
    if isinstance(value, kind):
        return [value] if value.requires_grad else []
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _differentiable_leaves(item, kind)]
    return []


def _substitute(value, leaves):
    """`value` with its differentiable tensors replaced, in order, by those of the iterator `leaves`."""
    if isinstance(value, retrograd.Tensor):
        return next(leaves) if value.requires_grad else value
    if isinstance(value, tuple | list):
        return type(value)(_substitute(item, leaves) for item in value)
    return value


def _flat_call(info, args, kwargs):
    """The op as a function of its differentiable tensors only, as gradcheck wants them."""
    run = _call(info, kwargs)

    def flat(*leaves):
        return run(*_substitute(args, iter(leaves)))

    return flat, tuple(_differentiable_leaves(args, retrograd.Tensor))


def _call(info, kwargs, function=None):
    function = info.function if function is None else function
    if info.gradcheck_wrapper is not None:
        function = info.gradcheck_wrapper(function)

    def run(*args):
        if info.mutates_input:
            args = (args[0].clone(), *args[1:])
        return function(*args, **kwargs)

    return run


def test_every_differentiable_op_has_samples():
    missing = [
        name
        for name, info in table.items()
        if info.differentiable and samples_for(info) is None
    ]
    assert missing == []


def test_every_op_sample_belongs_to_an_op_of_the_table():
    from op_samples import SAMPLES

    assert sorted(set(SAMPLES) - set(table)) == []


# ---------------------------------------------------------------------------
# The samples exercise every parameter: a keyword of an op's signature that no sample passes
# is a code path the gradient matrix never runs (a wrong derivative for `alpha != 1` went
# unnoticed that way).

_LEGACY_REDUCTION = "legacy loss argument, mapped to `reduction` (test_nn_layers::test_legacy_reduction_arguments_warn_and_map)"
# Keywords no sample can exercise, by name, with the reason.
UNSAMPLED_KEYWORDS = {
    "inplace": "writes into the sample's leaf, which requires grad and so refuses it; the in-place "
               "forms are tested in test_nn_functional and test_autograd_inplace",
    "_stacklevel": "only the stack level of a deprecation warning, as in PyTorch",
    "memory_format": "no effect on NumPy arrays",
    "non_blocking": "no effect on the CPU",
    "sparse": "sparse gradients are not supported (refused with NotImplementedError)",
    "sparse_grad": "sparse gradients are not supported",
    "driver": "chooses a CUDA solver; ignored on the CPU, as in PyTorch",
    "out": "an out= tensor is written, not differentiated",
}
# Keywords of one op no sample can exercise, with the reason.
UNSAMPLED_OP_KEYWORDS = {
    ("topk", "sorted"): "sorted=False leaves the order unspecified (PyTorch's differs between devices), "
                        "so results cannot be compared element by element",
    ("scaled_dot_product_attention", "dropout_p"): "random: a dropout mask is not reproducible across "
                                                   "libraries nor differentiable by finite differences",
    ("scatter", "reduce"): "no derivative, as in PyTorch (Note [scatter with reduce]): the gradient "
                           "matrix has nothing to check; test_op_keywords compares values, the refusing "
                           "backward and the errors with PyTorch",
}
# Keywords of one op that no sample passes yet: each entry would be a missing sample. The test
# fails when an entry is covered (remove it) and when a new keyword is not (add a sample).
NOT_YET_SAMPLED: dict[str, set[str]] = {}


def _keywords(info) -> list[tuple[int, inspect.Parameter]]:
    parameters = list(inspect.signature(info.function).parameters.values())
    return [
        (position, parameter) for position, parameter in enumerate(parameters)
        if parameter.default is not inspect.Parameter.empty
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


def _unsampled_keywords() -> dict[str, set[str]]:
    unsampled: dict[str, set[str]] = {}
    for name, info in sorted(table.items()):
        if samples_for(info) is None:
            continue
        samples = samples_for(info)(np.random.default_rng(0))
        for position, parameter in _keywords(info):
            if parameter.name in UNSAMPLED_KEYWORDS or (name, parameter.name) in UNSAMPLED_OP_KEYWORDS:
                continue
            if name in LEGACY_REDUCTION_OPS and parameter.name in ("size_average", "reduce"):
                continue
            positional = parameter.kind is not parameter.KEYWORD_ONLY
            if not any(parameter.name in kwargs or (positional and len(args) > position) for args, kwargs in samples):
                unsampled.setdefault(name, set()).add(parameter.name)
    return unsampled


LEGACY_REDUCTION_OPS = {
    name for name, info in table.items()
    if {"size_average", "reduce", "reduction"} <= set(inspect.signature(info.function).parameters)
}


def test_every_keyword_of_an_op_is_passed_by_some_sample():
    assert _unsampled_keywords() == NOT_YET_SAMPLED


@pytest.mark.parametrize(("info", "args", "kwargs"), CASES)
def test_first_derivative_matches_finite_differences(info, args, kwargs):
    assert gradcheck(*_flat_call(info, _with_grad(args), kwargs))


@pytest.mark.parametrize(("info", "args", "kwargs"), CASES)
def test_second_derivative_matches_finite_differences(info, args, kwargs):
    if not info.second_order:
        pytest.skip(f"{info.name} is differentiable once only")
    assert gradgradcheck(*_flat_call(info, _with_grad(args), kwargs))


def _to_torch(value, torch):
    if isinstance(value, retrograd.Tensor):
        result = torch.tensor(value.detach().numpy())
        return result.requires_grad_(value.requires_grad)
    if isinstance(value, tuple | list):
        return type(value)(_to_torch(item, torch) for item in value)
    if isinstance(value, dict):
        return {key: _to_torch(item, torch) for key, item in value.items()}
    if isinstance(value, retrograd.dtype):
        return getattr(torch, value.name)
    return value


def _torch_function(torch, name: str):
    """torch.<name>, where name may be dotted (nn.functional.gelu), else torch.Tensor.<name>."""
    found = torch
    for part in name.split("."):
        found = getattr(found, part, None)
    return found if found is not None else getattr(torch.Tensor, name)


@pytest.mark.parametrize(("info", "args", "kwargs"), CASES)
def test_values_and_gradients_match_pytorch(info, args, kwargs):
    torch = pytest.importorskip("torch")
    torch_function = _torch_function(torch, info.torch_name)
    ours = _with_grad(args)
    theirs = _to_torch(ours, torch)
    out = _call(info, kwargs)(*ours)
    expected = _call(info, _to_torch(kwargs, torch), torch_function)(*theirs)
    outs = out if isinstance(out, tuple) else (out,)
    expecteds = expected if isinstance(expected, tuple) else (expected,)
    assert len(outs) == len(expecteds)
    rtol = PYTORCH_VALUE_IS_APPROXIMATE.get(info.name, (1e-10, ""))[0]
    for mine, reference in zip(outs, expecteds):
        assert mine.shape == tuple(reference.shape)
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=rtol, atol=1e-12)
    weights = [np.random.default_rng(1).standard_normal(o.shape) for o in outs]
    total = sum((o * retrograd.tensor(w)).sum() for o, w in zip(outs, weights) if o.requires_grad)
    total_ref = sum((o * torch.tensor(w)).sum() for o, w in zip(expecteds, weights) if o.requires_grad)
    if not isinstance(total, retrograd.Tensor):
        return
    total.backward()
    total_ref.backward()
    torch_leaves = _differentiable_leaves(theirs, torch.Tensor)
    for position, (mine, reference) in enumerate(zip(_differentiable_leaves(ours, retrograd.Tensor), torch_leaves)):
        if mine.requires_grad and (info.name, position) not in PYTORCH_GRADIENT_IS_WRONG:
            expected_grad = reference.grad
            if expected_grad is None:
                assert mine.grad is None or not mine.grad.numpy().any()
                continue
            # (force: PyTorch's gradient of sgn is a zero tensor, which converts only so)
            np.testing.assert_allclose(mine.grad.numpy(), expected_grad.numpy(force=True), rtol=1e-9, atol=1e-12)


def test_every_hand_written_op_node_says_why_it_is_not_a_declaration():
    from retrograd.ops._derivatives_doc import hand_written_nodes

    nodes = hand_written_nodes()
    assert len(nodes) > 40  # conv, pooling, linalg, einsum, cat... (see docs/derivatives.md)
    assert [node.__name__ for node in nodes if not node.hand_written] == []
