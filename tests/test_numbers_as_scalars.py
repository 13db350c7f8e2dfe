"""Python numbers beside a tensor are computed with as NumPy scalars of the tensor's dtype,
which are kept for reuse (Note [Numbers as NumPy scalars], ops/pointwise/promotion.py)."""

import math

import numpy as np
import pytest

import retrograd
from retrograd.ops.pointwise import promotion


@pytest.fixture(autouse=True)
def _fresh_tables():
    promotion._SCALARS.clear()
    yield
    promotion._SCALARS.clear()


def _bits(tensor) -> list[int]:
    return tensor.detach().numpy().view(np.uint32).tolist()


def test_minus_zero_after_zero_keeps_its_sign():
    x = retrograd.tensor([1.0, -2.0])
    first, second = x * 0.0, x * -0.0
    assert _bits(first) == _bits(retrograd.tensor([0.0, -0.0]))
    assert _bits(second) == _bits(retrograd.tensor([-0.0, 0.0]))
    assert _bits(x * 0.0) == _bits(first)


def test_equal_numbers_of_different_types_give_the_same_result():
    x = retrograd.tensor([3.0, 5.0])
    for number in (2, 2.0, 2, True, 1.0, 1):
        assert _bits(x * number) == _bits(retrograd.tensor([3.0, 5.0]) * float(number))
    ints = retrograd.tensor([3, 5])
    assert (ints * True).tolist() == [3, 5] and (ints * 2).dtype == retrograd.int64


def test_nan_is_never_kept_and_the_table_has_a_bound():
    x = retrograd.tensor([1.0])
    for _ in range(3):
        assert math.isnan((x + float("nan")).item())
    assert promotion._SCALARS == {}
    for number in range(1, 2 * promotion._MOST_SCALARS):
        assert (x * number).item() == number
    assert 0 < len(promotion._SCALARS[np.float32]) <= promotion._MOST_SCALARS


def test_a_kept_number_is_of_the_tensors_dtype():
    half, double = retrograd.tensor([1.0], dtype=retrograd.float16), retrograd.tensor([1.0], dtype=retrograd.float64)
    assert (half * 0.1).item() == float(np.float16(0.1))
    assert (double * 0.1).item() == 0.1
    assert (half * 0.1).item() == float(np.float16(0.1))
