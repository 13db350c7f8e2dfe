"""cat's common call (`_matching_sizes`) and `_common_dtype`'s shortcut give what the general
checks give: the result (values, dtype), the node (its dim as given, the sizes) and the
gradients; and every error of a call off the common case stays PyTorch's."""

import numpy as np
import pytest

import retrograd as torch
from retrograd.ops.shape import split_join


def _joined(tensors, dim):
    leaves = [t.detach().requires_grad_(t.dtype.is_floating_point) for t in tensors]
    result = torch.cat(leaves, dim)
    grads = None
    if result.requires_grad:
        result.backward(torch.arange(result.numel(), dtype=result.dtype).reshape(result.shape))
        grads = [None if t.grad is None else t.grad.numpy() for t in leaves]
    node = result.grad_fn
    shown = None if node is None else (node._saved_dim, node.sizes)
    return result.detach().numpy(), result.dtype, shown, grads


def _general(monkeypatch, tensors, dim):
    with monkeypatch.context() as patch:
        patch.setattr(split_join, "_matching_sizes", lambda tensors, dim: None)
        return _joined(tensors, dim)


def _same(first, second):
    (a, a_dtype, a_shown, a_grads), (b, b_dtype, b_shown, b_grads) = first, second
    assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    assert a_dtype == b_dtype and a_shown == b_shown
    assert (a_grads is None) == (b_grads is None)
    for x, y in zip(a_grads or (), b_grads or ()):
        if x is None or y is None:
            assert x is None and y is None
            continue
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def _t(*shape, dtype=torch.float32):
    return torch.arange(float(np.prod(shape))).reshape(shape).to(dtype)


CASES = [
    ([_t(4), _t(4)], 0),
    ([_t(2, 3), _t(5, 3)], 0),
    ([_t(2, 3), _t(2, 1), _t(2, 0)], -1),
    ([_t(2, 3, 4), _t(2, 1, 4)], -2),
    ([_t(3, 2).t(), _t(2, 2)], 1),  # a non-contiguous input
    ([_t(2, 2), _t(2, 2, dtype=torch.float64)], 0),  # promoted
    ([_t(2, 2, dtype=torch.int64), _t(2, 2, dtype=torch.float16)], 1),
    ([_t(2, 2, dtype=torch.int32), _t(1, 2, dtype=torch.int32)], 0),
    ([_t(2, 2), _t(0)], 0),  # a 1-d empty tensor, skipped
    ([_t(0), _t(0)], 0),
    ([_t(3)], 0),
    ([_t(2, 3), _t(2, 3)], 1.0),  # (taken by the general checks, as before; PyTorch refuses it)
    ([_t(2, 3), _t(2, 3)], True),
]


@pytest.mark.parametrize(("tensors", "dim"), CASES)
def test_common_call_matches_the_general_checks(monkeypatch, tensors, dim):
    _same(_joined(tensors, dim), _general(monkeypatch, tensors, dim))


@pytest.mark.parametrize(("tensors", "dim"), [
    ([_t(2, 3), _t(2, 4)], 0),
    ([_t(2, 3), _t(2, 3, 1)], 0),
    ([_t(2), torch.tensor(1.0)], 0),
    ([_t(2, 3), _t(2, 3)], 2),
    ([_t(2, 3), _t(2, 3)], -3),
    ([], 0),
])
def test_errors_stay_pytorchs(monkeypatch, tensors, dim):
    with pytest.raises(Exception) as fast:
        torch.cat(tensors, dim)
    with pytest.raises(Exception) as general:
        _general(monkeypatch, tensors, dim)
    assert type(fast.value) is type(general.value) and str(fast.value) == str(general.value)


@pytest.mark.parametrize(("dtypes", "expected"), [
    ((torch.float32, torch.float32), torch.float32),
    ((torch.float32, torch.float64), torch.float64),
    ((torch.int64, torch.float16, torch.float16), torch.float16),
    ((torch.uint8, torch.int8), torch.int16),
    ((torch.bool, torch.bool), torch.bool),
])
def test_joined_dtype_is_the_promoted_one(dtypes, expected):
    joined = torch.cat([torch.zeros(2, dtype=dtype) for dtype in dtypes])
    assert joined.dtype == expected and joined.numpy().dtype == expected.numpy
