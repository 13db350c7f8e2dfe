"""The array kernels of convolution and max pooling (issue 11): the fast paths (max pooling by
two separable passes, conv columns copied as runs, one product per sample and group) against
PyTorch over strides, dilations, paddings and groups, in float32 and float64, on contiguous and
non-contiguous inputs; and against the recorded (create_graph) path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import retrograd
import retrograd.nn.functional as F
from crosscheck import needs_torch, torch

NAN, INF = float("nan"), float("inf")

POOL_GEOMETRIES = [
    # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 1, 1, True),
    ((2, 3), (1, 2), (1, 0), (2, 1), False),
    (1, 1, 0, 1, False),
    ((3, 1), (3, 1), 0, 1, True),
]


def _pool_input(kind: str, dtype) -> np.ndarray:
    rng = np.random.default_rng(7)
    if kind == "ties":  # few distinct values: the first maximum of each window must win
        return rng.integers(-2, 2, (2, 3, 9, 10)).astype(dtype)
    data = rng.normal(size=(2, 3, 9, 10)).astype(dtype)
    if kind == "nan":
        data[rng.random(data.shape) < 0.1] = NAN
    if kind == "inf":
        data[rng.random(data.shape) < 0.2] = -INF
        data[rng.random(data.shape) < 0.05] = INF
    return data


@needs_torch
@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=str)
@pytest.mark.parametrize("kind", ["normal", "ties", "nan", "inf"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_values_and_indices_match_pytorch(geometry, kind, dtype):
    kernel, stride, padding, dilation, ceil_mode = geometry
    data = _pool_input(kind, dtype)
    values, indices = F.max_pool2d(retrograd.tensor(data), kernel, stride, padding, dilation, ceil_mode, True)
    expected_values, expected_indices = torch.nn.functional.max_pool2d(
        torch.from_numpy(data), kernel, stride, padding, dilation, ceil_mode, True)
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


@needs_torch
def test_max_pool2d_of_integers_matches_pytorch():
    data = np.random.default_rng(3).integers(-5, 5, (2, 2, 7, 8))
    values, indices = F.max_pool2d(retrograd.tensor(data), 3, 2, 1, return_indices=True)
    expected_values, expected_indices = torch.nn.functional.max_pool2d(
        torch.from_numpy(data), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


def test_max_pool2d_of_one_by_one_windows_owns_its_values():
    x = retrograd.tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    pooled = F.max_pool2d(x, 1)
    with retrograd.no_grad():
        x.add_(100.0)
    np.testing.assert_array_equal(pooled.numpy(), np.arange(12.0).reshape(1, 1, 3, 4))


@needs_torch
@pytest.mark.parametrize("geometry", POOL_GEOMETRIES, ids=str)
@pytest.mark.parametrize("upstream", ["finite", "nan"])
def test_max_pool2d_gradient_matches_pytorch(geometry, upstream):
    kernel, stride, padding, dilation, ceil_mode = geometry
    data = _pool_input("ties", np.float64)
    x = retrograd.tensor(data, requires_grad=True)
    reference = torch.tensor(data, requires_grad=True)
    out = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    expected_out = torch.nn.functional.max_pool2d(reference, kernel, stride, padding, dilation, ceil_mode)
    grad = np.random.default_rng(4).normal(size=out.shape)
    if upstream == "nan":
        grad[0, 0, 0, 0] = NAN
    out.backward(retrograd.tensor(grad))
    expected_out.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(x.grad.numpy(), reference.grad.numpy(), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(np.signbit(x.grad.numpy()), np.signbit(reference.grad.numpy()))


CONV_CASES = [
    # dims, stride, padding, dilation, groups
    (2, 1, 1, 1, 1),
    (2, (2, 1), 1, (1, 2), 2),
    (2, 2, 0, 1, 1),
    (2, 1, "same", 2, 2),
    (2, (1, 3), (2, 0), 1, 1),
    (1, 1, 2, 1, 2),
    (1, 2, 1, 2, 1),
    (1, 1, "valid", 3, 1),
]


def _conv_arrays(dims: int, groups: int, dtype, layout: str):
    rng = np.random.default_rng(11)
    spatial = (7, 8) if dims == 2 else (9,)
    if layout == "contiguous":
        x = rng.normal(size=(3, 4, *spatial)).astype(dtype)
    else:  # channels last in memory, seen through a transpose
        x = np.moveaxis(rng.normal(size=(3, *spatial, 4)).astype(dtype), -1, 1)
    weight = rng.normal(size=(6, 4 // groups, *((3, 2) if dims == 2 else (3,)))).astype(dtype)
    bias = rng.normal(size=6).astype(dtype)
    return x, weight, bias


@needs_torch
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_convolution_and_its_gradients_match_pytorch(case, dtype, layout):
    dims, stride, padding, dilation, groups = case
    arrays = _conv_arrays(dims, groups, dtype, layout)
    name = f"conv{dims}d"
    ours = [retrograd.tensor(array, requires_grad=True) for array in arrays]
    theirs = [torch.tensor(array, requires_grad=True) for array in arrays]
    out = getattr(F, name)(*ours, stride, padding, dilation, groups)
    expected = getattr(torch.nn.functional, name)(*theirs, stride, padding, dilation, groups)
    upstream = np.random.default_rng(12).normal(size=out.shape).astype(dtype)
    out.backward(retrograd.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-12}
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    for mine, reference in zip(ours, theirs):
        assert mine.grad.dtype == mine.dtype
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), **tolerance)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_convolution_gradients_agree_on_arrays_and_with_create_graph(case):
    dims, stride, padding, dilation, groups = case
    arrays = _conv_arrays(dims, groups, np.float64, "transposed")

    def gradients(create_graph):
        tensors = [retrograd.tensor(array, requires_grad=True) for array in arrays]
        out = getattr(F, f"conv{dims}d")(*tensors, stride, padding, dilation, groups)
        upstream = retrograd.tensor(np.random.default_rng(13).normal(size=out.shape))
        return [g.detach().numpy() for g in retrograd.autograd.grad(out, tensors, upstream,
                                                                     create_graph=create_graph)]

    for on_arrays, recorded in zip(gradients(False), gradients(True)):
        np.testing.assert_allclose(on_arrays, recorded, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("needed", list(itertools.product([False, True], repeat=3))[1:], ids=str)
def test_convolution_computes_only_the_gradients_asked_for(needed):
    arrays = _conv_arrays(2, 1, np.float64, "contiguous")
    tensors = [retrograd.tensor(array, requires_grad=flag) for array, flag in zip(arrays, needed)]
    F.conv2d(*tensors, padding=1).sum().backward()
    for tensor, flag in zip(tensors, needed):
        assert (tensor.grad is not None) == flag


TRANSPOSED_CASES = [
    # dims, stride, padding, output_padding, dilation, groups
    (2, 2, 1, 1, 1, 2),
    (2, 1, 0, 1, 2, 1),  # output padding beyond the stride (allowed by a larger dilation)
    (1, 3, 1, 2, 1, 1),
    (1, 1, 0, 1, 3, 2),
]


@needs_torch
@pytest.mark.parametrize("case", TRANSPOSED_CASES, ids=str)
@pytest.mark.parametrize("create_graph", [False, True])
def test_transposed_convolution_gradients_match_pytorch(case, create_graph):
    dims, stride, padding, output_padding, dilation, groups = case
    rng = np.random.default_rng(17)
    spatial = (5, 6) if dims == 2 else (7,)
    arrays = [rng.normal(size=(2, 4, *spatial)), rng.normal(size=(4, 6 // groups, *((3,) * dims))),
              rng.normal(size=6)]
    name = f"conv_transpose{dims}d"

    def gradients(module, functional):
        tensors = [module.tensor(array, requires_grad=True) for array in arrays]
        out = getattr(functional, name)(*tensors, stride, padding, output_padding, groups, dilation)
        upstream = module.tensor(np.random.default_rng(18).normal(size=tuple(out.shape)))
        grads = module.autograd.grad(out, tensors, upstream, create_graph=create_graph)
        return [g.detach().numpy() for g in grads]

    for mine, reference in zip(gradients(retrograd, F), gradients(torch, torch.nn.functional)):
        np.testing.assert_allclose(mine, reference, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize(("shape", "groups"), [((3, 6, 5), 2), ((2, 4, 3, 3), 4), ((2, 6), 3)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_gradients_agree_on_arrays_with_create_graph_and_pytorch(shape, groups, affine):
    rng = np.random.default_rng(19)
    arrays = [rng.normal(size=shape)] + ([rng.normal(size=shape[1]), rng.normal(size=shape[1])] if affine else [])
    upstream = rng.normal(size=shape)

    def gradients(module, create_graph):
        tensors = [module.tensor(array, requires_grad=True) for array in arrays]
        out = module.nn.functional.group_norm(tensors[0], groups, *tensors[1:])
        grads = module.autograd.grad(out, tensors, module.tensor(upstream), create_graph=create_graph)
        return [g.detach().numpy() for g in grads]

    on_arrays = gradients(retrograd, False)
    for mine, recorded in zip(on_arrays, gradients(retrograd, True)):
        np.testing.assert_allclose(mine, recorded, rtol=1e-12, atol=1e-12)
    if torch is not None:
        for mine, reference in zip(on_arrays, gradients(torch, False)):
            np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)
