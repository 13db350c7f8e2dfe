"""Scaled updates by blocks (Note [Scaled updates by blocks], retrograd/_scaled_update.py):
`target = combine(target, operand * scale)` without a temporary as large as the target, with
the bits of the plain computation."""

import numpy as np
import pytest

import retrograd
from retrograd import _scaled_update
from retrograd._scaled_update import combine_scaled_into


def _pair(size, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype)


def _block(dtype) -> int:
    return _scaled_update._BLOCK_BYTES // np.dtype(dtype).itemsize


def _plain(combine, target, operand, scale):
    return combine(target, np.multiply(operand, scale))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.complex64])
@pytest.mark.parametrize("blocks", [2, 2.5, 7.25])
@pytest.mark.parametrize("combine", [np.add, np.subtract])
@pytest.mark.parametrize("scale", [0.01, -3, 1e-30])
def test_blocks_give_the_bits_of_the_plain_update(dtype, blocks, combine, scale):
    size = int(blocks * _block(dtype)) + (1 if blocks != int(blocks) else 0)
    target, operand = _pair(size, dtype)
    expected = _plain(combine, target, operand, scale)
    combine_scaled_into(combine, target, operand, scale)
    np.testing.assert_array_equal(target, expected)
    assert target.dtype == dtype


def test_a_matrix_is_updated_through_blocks_that_cross_its_rows():
    target, operand = _pair(3 * _block(np.float32) + 5, np.float32)
    target, operand = target.reshape(-1, 1), operand.reshape(-1, 1)
    wide_target, wide_operand = target.reshape(1, -1).copy(), operand.reshape(1, -1)
    expected = _plain(np.add, target, operand, -0.5)
    combine_scaled_into(np.add, target, operand, -0.5)
    combine_scaled_into(np.add, wide_target, wide_operand, -0.5)
    np.testing.assert_array_equal(target, expected)
    np.testing.assert_array_equal(wide_target.reshape(-1, 1), expected)


def test_the_operand_may_be_the_target_itself():
    target, _ = _pair(4 * _block(np.float32), np.float32)
    expected = _plain(np.add, target, target, 0.5)
    combine_scaled_into(np.add, target, target, 0.5)
    np.testing.assert_array_equal(target, expected)


def test_an_operand_that_overlaps_the_target_gives_the_plain_result():
    """A block would read elements an earlier block had written; the plain way reads them first."""
    size = 3 * _block(np.float64)
    memory, _ = _pair(size + 1000, np.float64)
    reference = memory.copy()
    expected = _plain(np.add, reference[1000:], reference[:size], 2.0)
    combine_scaled_into(np.add, memory[1000:], memory[:size], 2.0)
    np.testing.assert_array_equal(memory[1000:], expected)


@pytest.mark.parametrize("layout", ["transposed target", "strided operand", "broadcast operand",
                                    "float64 operand", "numpy scale"])
def test_other_layouts_and_types_take_the_plain_way(layout):
    rows = 4 * _block(np.float32) // 64
    target, operand = (array.reshape(rows, 64) for array in _pair(rows * 64, np.float32))
    scale = 0.25
    if layout == "transposed target":
        target = target.T.copy().T
    elif layout == "strided operand":
        operand = np.repeat(operand, 2, axis=1)[:, ::2]
    elif layout == "broadcast operand":
        operand = operand[0]
    elif layout == "float64 operand":
        operand = operand.astype(np.float64)
    else:
        scale = np.float64(0.1)  # (promotes a float32 product: the plain way keeps its rounding)
    expected = _plain(np.add, target, operand, scale).astype(np.float32)
    combine_scaled_into(np.add, target, operand, scale)
    np.testing.assert_array_equal(target, expected)


def test_an_optimizer_step_and_add_with_alpha_give_the_plain_bits():
    weight = retrograd.nn.Parameter(retrograd.randn(300, 257))
    weight.grad = retrograd.randn(300, 257)
    start, grad = weight.detach().numpy().copy(), weight.grad.numpy().copy()
    retrograd.optim.SGD([weight], lr=0.03).step()
    np.testing.assert_array_equal(weight.detach().numpy(), start - np.multiply(grad, 0.03))
    with retrograd.no_grad():
        weight.add_(weight.grad, alpha=-0.7)
        weight.sub_(weight.grad, alpha=1.5)
    after = start - np.multiply(grad, 0.03)
    after = after + np.multiply(grad, -0.7)
    after = after - np.multiply(grad, 1.5)
    np.testing.assert_array_equal(weight.detach().numpy(), after)
