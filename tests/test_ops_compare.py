"""Comparisons, value tests, logical and bitwise operators: bool results, no graph."""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrograd


def test_comparison_operators_give_bool_tensors():
    x = retrograd.tensor([1.0, 2.0, 3.0])
    assert (x == 2).tolist() == [False, True, False]
    assert (x != 2).tolist() == [True, False, True]
    assert (x < 2).tolist() == [True, False, False]
    assert (x <= 2).tolist() == [True, True, False]
    assert (x > 2).tolist() == [False, False, True]
    assert (x >= 2).tolist() == [False, True, True]
    assert (x > 2).dtype is retrograd.bool


def test_reflected_comparisons_with_a_number_on_the_left():
    x = retrograd.tensor([1, 2, 3])
    assert (2 < x).tolist() == [False, False, True]  # noqa: SIM300
    assert (2 == x).tolist() == [False, True, False]  # noqa: SIM300


def test_comparison_functions_methods_and_aliases():
    a, b = retrograd.tensor([1, 2, 3]), retrograd.tensor([3, 2, 1])
    assert retrograd.eq(a, b).tolist() == [False, True, False]
    assert a.ne(b).tolist() == [True, False, True]
    assert retrograd.greater(a, b).tolist() == retrograd.gt(a, b).tolist() == [False, False, True]
    assert a.less_equal(b).tolist() == [True, True, False]
    assert retrograd.not_equal(a, b).tolist() == [True, False, True]
    assert retrograd.greater_equal(a, b).tolist() == [False, True, True]


def test_comparison_broadcasts_and_promotes():
    ints = retrograd.tensor([[1], [2]])
    floats = retrograd.tensor([1.5, 2.0])
    assert retrograd.lt(ints, floats).tolist() == [[True, True], [False, False]]


def test_comparison_with_something_else_falls_back_to_python():
    x = retrograd.tensor([1.0])
    assert (x == None) is False  # noqa: E711
    assert (x != "text") is True


def test_tensors_stay_hashable():
    x = retrograd.tensor([1.0])
    assert {x: 1}[x] == 1
    assert hash(x) == id(x)


def test_comparisons_record_no_graph():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    result = x > 1
    assert result.grad_fn is None and not result.requires_grad


def test_comparison_in_place_keeps_the_dtype():
    x = retrograd.tensor([1.0, 2.0, 3.0])
    x.gt_(1.5)
    assert x.dtype is retrograd.float32 and x.tolist() == [0.0, 1.0, 1.0]


def test_comparison_shape_mismatch():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(2\)"):
        retrograd.eq(retrograd.ones(3), retrograd.ones(2))


def test_isclose_allclose_and_equal():
    a = retrograd.tensor([1.0, math.nan, math.inf, 1.0])
    b = retrograd.tensor([1.0 + 1e-7, math.nan, math.inf, 1.1])
    assert retrograd.isclose(a, b).tolist() == [True, False, True, False]
    assert retrograd.isclose(a, b, equal_nan=True).tolist() == [True, True, True, False]
    assert a.isclose(b, atol=0.2, equal_nan=True).tolist() == [True] * 4
    assert retrograd.allclose(retrograd.ones(2), retrograd.ones(2) + 1e-9) is True
    assert retrograd.equal(retrograd.ones(2), retrograd.ones(2)) is True
    assert retrograd.equal(retrograd.ones(2), retrograd.ones(3)) is False
    assert retrograd.ones(2).equal(retrograd.zeros(2)) is False


def test_isclose_needs_one_dtype():
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        retrograd.isclose(retrograd.ones(1), retrograd.ones(1, dtype=retrograd.float64))


def test_value_tests():
    x = retrograd.tensor([1.0, math.nan, math.inf, -math.inf])
    assert retrograd.isnan(x).tolist() == [False, True, False, False]
    assert x.isinf().tolist() == [False, False, True, True]
    assert retrograd.isfinite(x).tolist() == [True, False, False, False]
    assert retrograd.isposinf(x).tolist() == [False, False, True, False]
    assert retrograd.isneginf(x).tolist() == [False, False, False, True]
    assert retrograd.isfinite(retrograd.tensor([1, 2])).tolist() == [True, True]


def test_logical_ops_treat_nonzero_as_true():
    a = retrograd.tensor([1.0, 0.0, 2.0, 0.0])
    b = retrograd.tensor([3, 0, 0, 4])
    assert retrograd.logical_and(a, b).tolist() == [True, False, False, False]
    assert retrograd.logical_or(a, b).tolist() == [True, False, True, True]
    assert a.logical_xor(b).tolist() == [False, False, True, True]
    assert retrograd.logical_not(a).tolist() == [False, True, False, True]
    assert retrograd.logical_not(a).dtype is retrograd.bool


def test_logical_not_in_place_keeps_the_dtype():
    x = retrograd.tensor([1.0, 0.0])
    x.logical_not_()
    assert x.tolist() == [0.0, 1.0] and x.dtype is retrograd.float32


def test_bitwise_operators_on_integers_and_bools():
    a, b = retrograd.tensor([12, 10]), retrograd.tensor([10, 6])
    assert (a & b).tolist() == [8, 2]
    assert (a | b).tolist() == [14, 14]
    assert (a ^ b).tolist() == [6, 12]
    assert (~a).tolist() == [-13, -11]
    assert (a & 4).tolist() == [4, 0]
    assert (4 | a).tolist() == [12, 14]
    assert (a << 1).tolist() == [24, 20]
    assert (a >> 2).tolist() == [3, 2]
    flags = retrograd.tensor([True, False])
    assert (~flags).tolist() == [False, True]
    assert (flags ^ retrograd.tensor([True, True])).tolist() == [False, True]
    assert (flags & 1).dtype is retrograd.int64


def test_bitwise_in_place():
    a = retrograd.tensor([12, 10])
    a.bitwise_and_(6)
    assert a.tolist() == [4, 2]


def test_bitwise_ops_refuse_floats():
    x = retrograd.ones(1)
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for 'Float'"):
        x & x
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer"):
        ~x
    with pytest.raises(NotImplementedError, match="bitwise_not_cpu"):
        retrograd.bitwise_not(x)


def test_results_match_pytorch():
    torch = pytest.importorskip("torch")
    values = [[1.5, -2.0, 0.0], [math.nan, 2.0, -0.0]]
    others = [2.0, -2.0, 0.0]
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"):
        mine = getattr(retrograd, name)(retrograd.tensor(values), retrograd.tensor(others))
        theirs = getattr(torch, name)(torch.tensor(values), torch.tensor(others))
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    for name in ("isnan", "isinf", "isfinite", "logical_not"):
        np.testing.assert_array_equal(
            getattr(retrograd, name)(retrograd.tensor(values)).numpy(),
            getattr(torch, name)(torch.tensor(values)).numpy(),
        )


def test_augmented_bitwise_assignment_writes_in_place():
    x = retrograd.tensor([12, 10])
    alias = x
    x &= 6
    x |= 1
    x ^= 2
    x <<= 1
    x >>= 2
    assert alias is x and x.tolist() == [3, 0] and x._version == 5
