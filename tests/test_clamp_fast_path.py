"""clamp with number bounds on a floating input (`_FLOAT_KEEPS`: no dtype promotion asked)
and its in-place second bound give what the promoting path and two fresh NumPy passes
give: values to the bit (NaN, signed zeros, infinities), dtype, strides, gradient."""

import numpy as np
import pytest

import retrograd as torch
from bitwise import assert_same_bits
from retrograd.ops.pointwise import clamping

VALUES = [-2.0, -0.5, -0.0, 0.0, 0.25, 0.5, 3.0, np.nan, np.inf, -np.inf]
BOUNDS = [(-0.5, 0.5), (0, 1), (None, 0.5), (-0.5, None), (0.5, -0.5), (-0.0, 0.0), (0.0, -0.0),
          (float("nan"), 1.0), (-1, float("inf")), (True, None), (np.float64(0.1), 0.2), (2, 3.5)]


def _clamped(x, low, high):
    leaf = x.detach().requires_grad_(x.dtype.is_floating_point)
    result = leaf.clamp(low, high)
    grad = None
    if result.requires_grad:
        result.backward(torch.ones_like(result))
        grad = leaf.grad.numpy()
    return result.detach().numpy(), result.dtype, grad


def _reference(monkeypatch, x, low, high):
    with monkeypatch.context() as patch:
        patch.setattr(clamping, "_FLOAT_KEEPS", frozenset())
        values, dtype, grad = _clamped(x, low, high)
    data = x.numpy().astype(dtype.numpy)
    if low is not None:
        data = np.maximum(data, low)
    if high is not None:
        data = np.minimum(data, high)
    assert np.asarray(data).tobytes() == values.tobytes()
    return values, dtype, grad


@pytest.mark.parametrize(("low", "high"), BOUNDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int32, torch.bool])
def test_number_bounds_match_the_promoting_path(monkeypatch, dtype, low, high):
    x = torch.tensor(VALUES).to(dtype) if dtype.is_floating_point else torch.tensor([-3, 0, 1, 5]).to(dtype)
    for tensor in (x, x.reshape(2, -1).t(), x[0]):  # a matrix's transpose, a 0-d tensor
        before = tensor.numpy().copy()
        assert_same_bits(_clamped(tensor, low, high), _reference(monkeypatch, tensor, low, high))
        assert tensor.numpy().tobytes() == before.tobytes()  # the input is never written
