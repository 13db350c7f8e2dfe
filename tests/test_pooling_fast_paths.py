"""max_pool2d's tiled path (Note [Tiled max pooling]) and the geometry cache (Note [Pooling
geometry per call]) give what the general path gives, to the bit: values, indices, their
dtypes and strides, and gradients."""

import numpy as np
import pytest

import retrograd as torch
import retrograd.nn.functional as F
from bitwise import assert_same_bits
from retrograd.ops.nn import pooling


def _pooled(x: np.ndarray, *arguments, **keywords):
    """Values, indices and the input's gradient (of a gradient with a NaN and a -0.0)."""
    tensor = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    values, indices = F.max_pool2d(tensor, *arguments, return_indices=True, **keywords)
    gradient = None
    if tensor.requires_grad:
        grad = np.arange(values.numel(), dtype=x.dtype).reshape(values.shape) - 1
        grad.reshape(-1)[:1] = np.nan
        grad.reshape(-1)[-1:] = -0.0
        values.backward(torch.tensor(grad))
        gradient = tensor.grad.numpy()
    return values.detach().numpy(), indices.numpy(), gradient


def _general(monkeypatch, x, *arguments, **keywords):
    with monkeypatch.context() as patch:
        patch.setattr(pooling, "_TILED_MOST", -1)
        return _pooled(x, *arguments, **keywords)


def _input(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(0, 5, shape).astype(dtype)  # ties in most windows


CASES = [
    ((1, 1, 4, 4), 2, {}),
    ((2, 3, 5, 7), 2, {}),  # cropped: a row and a column no window covers
    ((3, 6, 6), (2, 3), {}),  # a 3-d input, a rectangular kernel
    ((1, 2, 4, 4), 1, {}),
    ((2, 2, 6, 6), 3, {"stride": 3, "padding": 0, "dilation": 1}),
    ((1, 1, 4, 4), 2, {"ceil_mode": True}),
    ((2, 1, 5, 5), 2, {"ceil_mode": True}),  # a last window reaching past the input
    ((0, 2, 4, 4), 2, {}),  # an empty batch
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8])
@pytest.mark.parametrize(("shape", "kernel", "keywords"), CASES)
def test_tiled_path_matches_the_general_one(monkeypatch, shape, kernel, keywords, dtype):
    x = _input(shape, dtype)
    assert_same_bits(_pooled(x, kernel, **keywords), _general(monkeypatch, x, kernel, **keywords))


@pytest.mark.parametrize(("shape", "kernel", "keywords"), CASES[:3])
def test_tiled_path_keeps_the_nan_rule_and_signed_zeros(monkeypatch, shape, kernel, keywords):
    x = _input(shape, np.float32, seed=1)
    flat = x.reshape(-1)
    flat[::5] = np.nan  # windows with one NaN, with two, with none
    flat[1::7] = -0.0
    flat[2::7] = 0.0
    x[..., :2, :2] = -0.0  # a window of zeros: the first (-0.0) is its max
    assert_same_bits(_pooled(x, kernel, **keywords), _general(monkeypatch, x, kernel, **keywords))


def test_tiled_path_takes_a_non_contiguous_input(monkeypatch):
    x = _input((2, 3, 6, 4), np.float32).transpose(0, 1, 3, 2)
    assert not x.flags.c_contiguous
    tensor = torch.tensor(x).transpose(-1, -2).transpose(-1, -2)  # a strided view of the same values
    fast = F.max_pool2d(tensor, 2, return_indices=True)
    with monkeypatch.context() as patch:
        patch.setattr(pooling, "_TILED_MOST", -1)
        general = F.max_pool2d(tensor, 2, return_indices=True)
    assert_same_bits([t.numpy() for t in fast], [t.numpy() for t in general])
    assert_same_bits(_pooled(x, 2), _general(monkeypatch, x, 2))


def test_geometry_cache_keeps_the_errors_and_the_shown_arguments():
    x = torch.zeros(1, 1, 4, 4, requires_grad=True)
    with pytest.raises(TypeError):
        F.max_pool2d(x, 2.0)
    F.max_pool2d(x, 2)  # cached: the float must not find it
    with pytest.raises(TypeError):
        F.max_pool2d(x, 2.0)
    assert F.max_pool2d(x, [2, 2], [2, 2]).shape == (1, 1, 2, 2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(x, 5)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        F.max_pool2d(torch.zeros(4, 4), 2)
    node = F.max_pool2d(x, 2).grad_fn
    assert (node._saved_kernel_size, node._saved_stride) == ((2, 2), ())
