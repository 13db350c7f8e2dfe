"""Derivatives in both modes, and NaN/Inf in incoming gradients, for every op of the table.

Two checks per sample of the op table (see Note [One formula, two modes], ops/_formula.py):
- the gradient computed on arrays (no create_graph) equals the one computed on Tensors
  (create_graph=True), for an ordinary incoming gradient;
- an incoming gradient holding NaN and Inf gives what PyTorch gives, first and second order:
  a derivative that selects (max, clamp, relu, where, masked_fill, ...) never lets a NaN or Inf
  reach elements the forward did not select, and 0 * inf never makes a NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from test_op_table import CASES, _call, _to_torch, _torch_function, _with_grad

# Samples (op table case ids) whose derivatives do not yet behave as PyTorch's with NaN/Inf
# incoming gradients, first and second order. Each is a strict xfail: it fails the run once it
# passes, so remove a sample from the list when its op is fixed (Operators v2 converts ops that
# still multiply by masks family by family). Ops of ops/composite.py (copysign, logaddexp,
# logaddexp2, logcumsumexp, trapezoid) are here because their derivatives are those of the ops
# they are made of, so a NaN/Inf spreads as through those ops, not as through PyTorch's kernel.
NOT_YET_SELECTING_FIRST_ORDER: set[str] = {
    "einsum-1", "einsum-2", "interpolate-2", "interpolate-3", "interpolate-4", "linalg.cholesky-0",
    "linalg.cholesky-1", "linalg.det-1", "logaddexp-0", "logaddexp-1", "logaddexp-2", "logaddexp-3",
    "logaddexp2-0", "logaddexp2-1", "logaddexp2-2", "logaddexp2-3", "logcumsumexp-0",
    "logcumsumexp-1", "trapezoid-1",
}
NOT_YET_SELECTING_SECOND_ORDER: set[str] = {
    "adaptive_avg_pool1d-0", "adaptive_avg_pool1d-1", "adaptive_avg_pool2d-0",
    "adaptive_avg_pool2d-1", "avg_pool1d-0", "avg_pool1d-1", "avg_pool1d-2", "avg_pool2d-0",
    "avg_pool2d-1", "avg_pool2d-2", "avg_pool2d-3", "batch_norm-2", "copysign-0", "copysign-1",
    "copysign-2", "copysign-3", "copysign-5", "interpolate-5", "pad-2", "pad-3", "pad-5", "prelu-0",
}


def _differentiable_inputs(args) -> list:
    found = []
    for value in args:
        if isinstance(value, retrograd.Tensor) and value.requires_grad:
            found.append(value)
        elif isinstance(value, tuple | list):
            found.extend(_differentiable_inputs(value))
    return found


def _outputs(result) -> list:
    results = result if isinstance(result, tuple) else (result,)
    return [output for output in results if isinstance(output, retrograd.Tensor) and output.requires_grad]


def _poisoned(shape, seed: int) -> np.ndarray:
    """An incoming gradient of `shape`: random, with a NaN first and an Inf second."""
    weights = np.random.default_rng(seed).standard_normal(shape)
    flat = weights.reshape(-1)
    if flat.size >= 1:
        flat[0] = np.nan
    if flat.size >= 2:
        flat[1] = np.inf
    return weights


def _run(info, args, kwargs):
    inputs = _with_grad(args)
    leaves = _differentiable_inputs(inputs)
    outputs = _outputs(_call(info, kwargs)(*inputs))
    return leaves, outputs


@pytest.mark.parametrize(("info", "args", "kwargs"), CASES)
def test_array_and_tensor_modes_agree(info, args, kwargs):
    leaves, outputs = _run(info, args, kwargs)
    if not leaves or not outputs:
        pytest.skip("no differentiable input or output")
    weights = [retrograd.tensor(np.random.default_rng(1).standard_normal(o.shape)).to(o.dtype)
               for o in outputs]
    on_arrays = retrograd.autograd.grad(outputs, leaves, weights, retain_graph=True, allow_unused=True)
    on_tensors = retrograd.autograd.grad(outputs, leaves, weights, create_graph=True, allow_unused=True)
    for array_mode, tensor_mode in zip(on_arrays, on_tensors):
        assert (array_mode is None) == (tensor_mode is None)
        if array_mode is not None:
            assert array_mode.dtype == tensor_mode.dtype
            np.testing.assert_allclose(array_mode.numpy(), tensor_mode.detach().numpy(),
                                       rtol=1e-12, atol=1e-14)


def _torch_gradients(info, args, kwargs, torch, order: int):
    torch_function = _torch_function(torch, info.torch_name)
    ours_inputs = _with_grad(args)
    theirs = _to_torch(ours_inputs, torch)
    leaves = _differentiable_inputs_torch(theirs, torch)
    results = _call(info, _to_torch(kwargs, torch), torch_function)(*theirs)
    results = results if isinstance(results, tuple) else (results,)
    outputs = [o for o in results if isinstance(o, torch.Tensor) and o.requires_grad]
    return _gradients(torch, torch.autograd.grad, leaves, outputs, order)


def _differentiable_inputs_torch(args, torch) -> list:
    found = []
    for value in args:
        if isinstance(value, torch.Tensor) and value.requires_grad:
            found.append(value)
        elif isinstance(value, tuple | list):
            found.extend(_differentiable_inputs_torch(value, torch))
    return found


def _gradients(library, grad, leaves, outputs, order: int):
    """First order: the gradient for a poisoned incoming gradient. Second order: the gradient
    of <first gradient, ordinary weights> for a poisoned incoming gradient."""
    if order == 1:
        weights = [library.tensor(_poisoned(tuple(o.shape), 1)).to(o.dtype) for o in outputs]
        found = grad(outputs, leaves, weights, allow_unused=True)
        return [None if g is None else g.detach().numpy(force=True) for g in found]
    weights = [library.tensor(np.random.default_rng(2).standard_normal(tuple(o.shape))).to(o.dtype)
               for o in outputs]
    first = grad(outputs, leaves, weights, create_graph=True, allow_unused=True)
    first = [g for g in first if g is not None and g.requires_grad]
    if not first:
        return []
    poison = [library.tensor(_poisoned(tuple(g.shape), 3)).to(g.dtype) for g in first]
    found = grad(first, leaves, poison, allow_unused=True)
    return [None if g is None else g.detach().numpy(force=True) for g in found]


def _compare_with_pytorch(info, args, kwargs, order: int):
    torch = pytest.importorskip("torch")
    leaves, outputs = _run(info, args, kwargs)
    if not leaves or not outputs or all(o.numel() == 0 for o in outputs):
        pytest.skip("no differentiable input or output")
    try:
        expected = _torch_gradients(info, args, kwargs, torch, order)
    except RuntimeError as error:
        pytest.skip(f"PyTorch does not differentiate this: {error}")
    mine = _gradients(retrograd, retrograd.autograd.grad, leaves, outputs, order)
    assert len(mine) == len(expected)
    for got, want in zip(mine, expected):
        if got is None or want is None:
            continue  # an unused input: PyTorch and we may differ in None versus zeros
        assert got.shape == want.shape
        if order == 2:
            # Second derivatives are sums of several products: with an Inf coming in, PyTorch
            # and we may meet inf - inf in another order (NaN where it has -inf). What must
            # agree is which elements stay finite, and their values.
            np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
            got, want = np.where(np.isfinite(got), got, 0), np.where(np.isfinite(want), want, 0)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, equal_nan=True)


def _marked(order: int):
    known = NOT_YET_SELECTING_FIRST_ORDER if order == 1 else NOT_YET_SELECTING_SECOND_ORDER
    marked = []
    for case in CASES:
        info = case.values[0]
        if order == 2 and not info.second_order:
            continue
        marks = ()
        if case.id in known:
            marks = pytest.mark.xfail(reason="NaN/Inf in the incoming gradient spreads unlike PyTorch's",
                                      raises=AssertionError, strict=True)
        marked.append(pytest.param(*case.values, id=case.id, marks=marks))
    return marked


@pytest.mark.parametrize(("info", "args", "kwargs"), _marked(1))
def test_nan_and_inf_incoming_gradients_match_pytorch(info, args, kwargs):
    _compare_with_pytorch(info, args, kwargs, order=1)


@pytest.mark.parametrize(("info", "args", "kwargs"), _marked(2))
def test_nan_and_inf_into_second_derivatives_match_pytorch(info, args, kwargs):
    _compare_with_pytorch(info, args, kwargs, order=2)


def test_every_listed_sample_exists():
    assert {case.id for case in CASES} >= NOT_YET_SELECTING_FIRST_ORDER | NOT_YET_SELECTING_SECOND_ORDER
