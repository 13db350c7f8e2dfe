"""retrograd.testing.assert_close: PyTorch's verdicts and reports, case by case."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.testing import assert_close


def _cases(T):
    nan, inf = float("nan"), float("inf")
    return [
      (T.tensor([1., 2., 3.]), T.tensor([1., 2.5, 3.]), {}),
      (T.tensor([1., 2.]), T.tensor([1., 2.], dtype=T.float64), {}),
      (T.tensor([1., 2.]), T.tensor([1., 2., 3.]), {}),
      (T.tensor([[1., nan]]), T.tensor([[1., nan]]), {}),
      (T.tensor([1, 2]), T.tensor([1, 3]), {}),
      (1.0, 1.1, {}), (1, 2, {}), (1, 1.0, {}),
      (T.tensor([1., 2.]), [1., 2.], {}),
      ([T.tensor(1.)], [T.tensor(2.)], {}),
      (T.tensor([1., 2.]), T.tensor([1., 2.01]), {"rtol": 0, "atol": 0.1}),
      (T.tensor([1., 2.]), T.tensor([1., 2.01]), {"rtol": 0}),
      (T.tensor(1.), T.tensor(1.1), {}),
      (T.tensor([1.]), T.tensor([1.1]), {}),
      (T.tensor([1., 2.]), T.tensor([1., 2.], dtype=T.float64), {"check_dtype": False}),
      (T.tensor([1., nan]), T.tensor([1., nan]), {"equal_nan": True}),
      (T.tensor([inf]), T.tensor([inf]), {}),
      (T.tensor([inf]), T.tensor([-inf]), {}),
      ({"a": T.tensor(1.)}, {"a": T.tensor(2.)}, {}),
      (T.tensor([1., 2.]), T.tensor([1., 3.]), {"msg": "custom"}),
      (np.array([1., 2.]), np.array([1., 2.5]), {}),
      (T.tensor([[1., 2.], [3., 4.]]), T.tensor([[1., 2.], [3., 5.]]), {}),
      (T.tensor([True]), T.tensor([False]), {}),
      ((T.tensor(1.),), [T.tensor(1.)], {}),
      ([1., 2.], [1., 2.], {}),
      (T.tensor([1, 2]), T.tensor([1., 2.]), {}),
      (T.tensor([1, 2, 7]), T.tensor([1, 3, 4]), {}),
      ([T.tensor([1.]), {"b": [T.tensor(2.)]}], [T.tensor([1.]), {"b": [T.tensor(3.)]}], {}),
      (T.tensor([1e-6, 0.]), T.tensor([0., 1e-6]), {}),
    ]


def _verdict(assert_function, actual, expected, options) -> str:
    try:
        assert_function(actual, expected, **options)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "close"


@needs_torch
@pytest.mark.parametrize("index", range(len(_cases(retrograd))))
def test_verdict_and_report_are_pytorchs(index):
    actual, expected, options = _cases(retrograd)[index]
    torch_actual, torch_expected, torch_options = _cases(torch)[index]
    ours = _verdict(assert_close, actual, expected, options).replace("retrograd.", "torch.")
    assert ours == _verdict(torch.testing.assert_close, torch_actual, torch_expected, torch_options)


def test_tolerances_follow_the_dtype():
    assert_close(retrograd.tensor([1.0]), retrograd.tensor([1.0 + 1e-6]))  # within float32's
    with pytest.raises(AssertionError, match="up to 1e-07 allowed"):
        assert_close(retrograd.tensor([1.0], dtype=retrograd.float64),
                     retrograd.tensor([1.0 + 1e-6], dtype=retrograd.float64))
    with pytest.raises(AssertionError, match="Tensor-likes are not equal"):
        assert_close(retrograd.tensor([3]), retrograd.tensor([4]))


def test_report_counts_and_locates_the_worst_element():
    with pytest.raises(AssertionError) as raised:
        assert_close(retrograd.tensor([[0.0, 1.0], [2.0, 3.0]]), retrograd.tensor([[0.0, 2.0], [2.0, 5.0]]))
    report = str(raised.value)
    assert "Mismatched elements: 2 / 4 (50.0%)" in report
    assert "Greatest absolute difference: 2.0 at index (1, 1)" in report
    assert "Greatest relative difference: 0.5 at index (0, 1)" in report


def test_gradients_compare_as_pytorchs_tests_write_it():
    x = retrograd.tensor(np.linspace(0.1, 1.0, 5), requires_grad=True)
    (x.sin() ** 2).sum().backward()
    assert_close(x.grad, (2 * x.sin() * x.cos()).detach())
    with pytest.raises(ValueError, match="must be either specified or omitted"):
        assert_close(x.grad, x.grad, atol=1e-3)
