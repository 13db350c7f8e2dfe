"""where's checks, skipped for the usual call (a bool tensor condition, two tensors), still
run for every other call, with PyTorch's errors; and the usual call's result and gradients."""

import numpy as np
import pytest

import retrograd as torch


def _error(call):
    with pytest.raises(Exception) as raised:
        call()
    kind = next(base for base in (RuntimeError, TypeError) if isinstance(raised.value, base))
    return kind, str(raised.value)


@pytest.mark.parametrize(("condition", "input", "other", "expected"), [
    (lambda: torch.tensor([1.0, 0.0]), lambda: torch.zeros(2), lambda: torch.ones(2),
     (RuntimeError, "where expected condition to be a boolean tensor, but got a tensor with dtype Float")),
    (lambda: torch.tensor([1, 0], dtype=torch.uint8), lambda: torch.zeros(2), lambda: torch.ones(2),
     (RuntimeError, "where expected condition to be a boolean tensor, but got a tensor with dtype Byte")),
    (lambda: [True, False], lambda: torch.zeros(2), lambda: torch.ones(2),
     (TypeError, "where(): argument 'condition' (position 1) must be Tensor, not list")),
])
def test_condition_errors(condition, input, other, expected):
    assert _error(lambda: torch.where(condition(), input(), other())) == expected


def test_a_number_must_fit_the_integer_tensor():
    condition = torch.tensor([True, False])
    small = torch.tensor([1, 2], dtype=torch.int8)
    first = _error(lambda: torch.where(condition, small, 300))
    second = _error(lambda: torch.where(condition, 300, small))
    assert first[0] is RuntimeError and "without overflow" in first[1] and first == second
    assert torch.where(condition, small, 3).tolist() == [1, 3]


def test_two_tensors():
    condition = torch.tensor([[True, False], [False, True]])
    x = torch.tensor([[1.0, np.nan], [-0.0, 4.0]], requires_grad=True)
    y = torch.tensor([5.0, -6.0], requires_grad=True)
    result = torch.where(condition, x, y)
    assert result.detach().numpy().tobytes() == np.array([[1.0, -6.0], [5.0, 4.0]], np.float32).tobytes()
    assert result.grad_fn.name() == "WhereBackward0"
    result.backward(torch.ones(2, 2))
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 1.0]] and y.grad.tolist() == [1.0, 1.0]
