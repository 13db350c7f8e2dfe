"""softmax and log_softmax's usual call (a tensor, an int dim in range) give what the checked
path gives (taken here by a NumPy integer dim): values, dtype, the node's dim as given and
the gradient; a dim out of range and a 0-d input keep their behaviour."""

import numpy as np
import pytest

import retrograd as torch
import retrograd.nn.functional as F
from bitwise import assert_same_bits

OPS = [F.softmax, F.log_softmax, torch.softmax, torch.log_softmax]


def _run(op, x, dim, **keywords):
    leaf = x.detach().requires_grad_()
    result = op(leaf, dim, **keywords)
    result.backward(torch.linspace(-1, 1, result.numel()).reshape(result.shape).to(result.dtype))
    return (result.detach().numpy(), result.dtype, result.grad_fn._saved_dim, result.grad_fn.name(),
            leaf.grad.numpy())


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dim", [-3, -2, -1, 0, 1, 2])
def test_usual_call_matches_the_checked_path(op, dim):
    x = torch.randn(2, 3, 4)
    x[0, 1, 2] = float("nan")
    x[1, 2] = float("-inf")
    assert_same_bits(_run(op, x, dim), _run(op, x, np.int64(dim)))
    assert_same_bits(_run(op, x.transpose(0, 2), dim), _run(op, x.transpose(0, 2), np.int64(dim)))
    assert_same_bits(_run(op, x, dim, dtype=torch.float64), _run(op, x, np.int64(dim), dtype=torch.float64))


@pytest.mark.parametrize("op", OPS)
def test_off_the_usual_call(op):
    for dim in (3, -4):
        with pytest.raises(IndexError) as usual:
            op(torch.randn(2, 3, 4), dim)
        with pytest.raises(IndexError) as checked:
            op(torch.randn(2, 3, 4), np.int64(dim))
        assert str(usual.value) == str(checked.value)
    assert_same_bits(_run(op, torch.tensor(0.5), 0), _run(op, torch.tensor(0.5), np.int64(0)))
    assert_same_bits(_run(op, torch.tensor(0.5), -1), _run(op, torch.tensor(0.5), np.int64(-1)))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        op(torch.arange(3), 0)
