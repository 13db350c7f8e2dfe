"""Elementwise operators: values, dtypes, kinks, in-place variants and errors.

The op-table matrix (test_op_table.py) already checks every op's gradients on smooth
samples; here are the behaviours it cannot see: PyTorch's choice of subgradient at a kink,
result dtypes, numerical stability at extreme values, and the exact errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck, gradgradcheck


def _grads(library, function, *values):
    """Values and input gradients of `function(library, *tensors)` summed, in float64."""
    tensors = [library.tensor(value, dtype=library.float64, requires_grad=True) for value in values]
    output = function(library, *tensors)
    output.sum().backward()
    return output.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in tensors]


def _same_as_torch(function, *values):
    torch = pytest.importorskip("torch")
    mine_value, mine_grads = _grads(retrograd, function, *values)
    their_value, their_grads = _grads(torch, function, *values)
    np.testing.assert_allclose(mine_value, their_value, rtol=1e-12, equal_nan=True)
    for mine, theirs in zip(mine_grads, their_grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, equal_nan=True)


# ---------------------------------------------------------------------------
# Subgradients at kinks, as PyTorch chooses them


@pytest.mark.parametrize(
    ("name", "function", "values"),
    [
        ("abs at 0", lambda lib, x: lib.abs(x), ([0.0, -1.0, 1.0],)),
        ("clamp at both bounds", lambda lib, x: lib.clamp(x, 0.0, 1.0), ([0.0, 1.0, 0.5, -1.0, 2.0],)),
        ("clamp tensor bounds", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
         ([0.0, 1.0, 0.5, -1.0, 2.0], [0.0] * 5, [1.0] * 5)),
        ("clamp min above max", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
         ([0.0, 1.0, 0.5], [1.0] * 3, [0.0] * 3)),
        ("maximum ties split", lambda lib, a, b: lib.maximum(a, b), ([1.0, 2.0, 3.0], [1.0, 1.0, 4.0])),
        ("minimum ties split", lambda lib, a, b: lib.minimum(a, b), ([1.0, 2.0, 3.0], [1.0, 1.0, 4.0])),
        ("fmax with NaN", lambda lib, a, b: lib.fmax(a, b), ([1.0, math.nan, 3.0], [1.0, 1.0, math.nan])),
        ("fmin with NaN", lambda lib, a, b: lib.fmin(a, b), ([1.0, math.nan, 3.0], [1.0, 1.0, math.nan])),
        ("floor has zero gradient", lambda lib, x: lib.floor(x), ([1.0, -1.5, 2.7],)),
        ("sign has zero gradient", lambda lib, x: lib.sign(x), ([0.0, -1.5, 2.7],)),
        ("frac passes the gradient", lambda lib, x: lib.frac(x), ([1.0, -1.5, 2.7],)),
        ("nan_to_num blocks replaced places", lambda lib, x: lib.nan_to_num(x), ([math.nan, math.inf, 1.0],)),
        ("logit with eps", lambda lib, x: lib.logit(x, eps=0.1), ([0.05, 0.3, 0.95, 0.1],)),
        ("where picks sides", lambda lib, a, b: lib.where(a > 1, a, b), ([1.0, 2.0], [3.0, 4.0])),
        ("remainder", lambda lib, a, b: lib.remainder(a, b), ([5.0, -5.0], [3.0, 3.0])),
        ("fmod", lambda lib, a, b: lib.fmod(a, b), ([5.0, -5.0], [3.0, 3.0])),
        ("div floor has zero gradient", lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
         ([5.0, -5.0], [3.0, 3.0])),
        ("sqrt at 0 is inf", lambda lib, x: lib.sqrt(x), ([0.0, 4.0],)),
        ("atan2 at the origin", lambda lib, a, b: lib.atan2(a, b), ([0.0], [0.0])),
        ("hypot at the origin", lambda lib, a, b: lib.hypot(a, b), ([0.0], [0.0])),
    ],
)
def test_gradient_at_kinks_matches_pytorch(name, function, values):
    _same_as_torch(function, *values)


def test_masked_fill_with_a_tensor_value_collects_the_masked_gradient():
    torch = pytest.importorskip("torch")

    def run(library):
        x = library.tensor([1.0, 2.0, 3.0], dtype=library.float64, requires_grad=True)
        value = library.tensor(0.5, dtype=library.float64, requires_grad=True)
        weights = library.tensor([1.0, 2.0, 3.0], dtype=library.float64)
        (x.masked_fill(x > 1, value) * weights).sum().backward()
        return x.grad.numpy(), value.grad.item()

    mine, theirs = run(retrograd), run(torch)
    np.testing.assert_array_equal(mine[0], theirs[0])
    assert mine[1] == theirs[1] == 5.0


# ---------------------------------------------------------------------------
# Numerical stability


def test_sigmoid_is_finite_and_exact_at_large_magnitudes():
    x = retrograd.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=retrograd.float64, requires_grad=True)
    y = retrograd.sigmoid(x)
    np.testing.assert_allclose(y.detach().numpy(), [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-15)
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_erf_family_matches_closed_forms():
    x = np.array([-6.0, -3.0, -1.0, -1e-8, 0.0, 0.5, 2.0, 2.5, 4.0, 10.0])
    erf = retrograd.erf(retrograd.tensor(x, dtype=retrograd.float64)).numpy()
    erfc = retrograd.erfc(retrograd.tensor(x, dtype=retrograd.float64)).numpy()
    np.testing.assert_allclose(erf, [math.erf(v) for v in x], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(erfc, [math.erfc(v) for v in x], rtol=1e-11)


def test_erfinv_inverts_erf_and_has_infinite_ends():
    y = np.linspace(-0.999, 0.999, 41)
    x = retrograd.erfinv(retrograd.tensor(y, dtype=retrograd.float64))
    np.testing.assert_allclose(retrograd.erf(x).numpy(), y, rtol=1e-13, atol=1e-15)
    ends = retrograd.erfinv(retrograd.tensor([1.0, -1.0, 1.5])).numpy()
    assert ends[0] == np.inf and ends[1] == -np.inf and np.isnan(ends[2])


def test_erf_family_matches_pytorch_on_float32():
    torch = pytest.importorskip("torch")
    values = np.linspace(-4, 4, 33, dtype=np.float32)
    for name in ("erf", "erfc"):
        mine = getattr(retrograd, name)(retrograd.tensor(values)).numpy()
        theirs = getattr(torch, name)(torch.tensor(values)).numpy()
        np.testing.assert_allclose(mine, theirs, rtol=2e-6, atol=1e-7)
    inner = values[np.abs(values) < 1] / 1.1
    mine = retrograd.erfinv(retrograd.tensor(inner)).numpy()
    np.testing.assert_allclose(mine, torch.erfinv(torch.tensor(inner)).numpy(), rtol=2e-6)


def test_expm1_and_log1p_are_accurate_near_zero():
    x = retrograd.tensor([1e-12], dtype=retrograd.float64)
    assert retrograd.expm1(x).item() == pytest.approx(1e-12, rel=1e-12)
    assert retrograd.log1p(x).item() == pytest.approx(1e-12, rel=1e-12)


def test_hypot_does_not_overflow():
    big = retrograd.tensor([1e200], dtype=retrograd.float64)
    assert retrograd.hypot(big, big).item() == pytest.approx(math.sqrt(2) * 1e200)


# ---------------------------------------------------------------------------
# Result dtypes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("abs", retrograd.int64), ("sign", retrograd.int64), ("floor", retrograd.int64),
        ("ceil", retrograd.int64), ("trunc", retrograd.int64), ("neg", retrograd.int64),
        ("square", retrograd.int64), ("exp", retrograd.float32), ("sigmoid", retrograd.float32),
        ("erf", retrograd.float32), ("rsqrt", retrograd.float32), ("exp2", retrograd.float32),
    ],
)
def test_integer_inputs_keep_or_leave_their_dtype_as_in_pytorch(name, expected):
    result = getattr(retrograd, name)(retrograd.tensor([1, -2, 3]))
    assert result.dtype is expected


def test_bool_inputs_follow_pytorch():
    flags = retrograd.tensor([True, False])
    assert retrograd.sign(flags).dtype is retrograd.bool
    assert retrograd.square(flags).tolist() == [1, 0]
    assert retrograd.exp(flags).dtype is retrograd.float32
    with pytest.raises(NotImplementedError, match="abs_cpu"):
        retrograd.abs(flags)


def test_float_power_is_always_float64():
    assert retrograd.float_power(retrograd.tensor([1, 2, 3]), 2).dtype is retrograd.float64
    assert retrograd.float_power(retrograd.ones(2), 2.0).dtype is retrograd.float64


def test_integer_division_modes():
    a, b = retrograd.tensor([7, -7, 6]), retrograd.tensor([2, 2, -4])
    assert retrograd.div(a, b, rounding_mode="trunc").tolist() == [3, -3, -1]
    assert retrograd.div(a, b, rounding_mode="floor").tolist() == [3, -4, -2]
    assert retrograd.div(a, b).dtype is retrograd.float32
    assert (a // b).tolist() == [3, -4, -2]
    assert (a % b).tolist() == [1, 1, -2]
    assert retrograd.fmod(a, b).tolist() == [1, -1, 2]
    assert (7 // retrograd.tensor([2])).tolist() == [3]
    assert (7 % retrograd.tensor([-2])).tolist() == [-1]


def test_float_floor_division_matches_python():
    a = retrograd.tensor([7.5, -7.5], dtype=retrograd.float64)
    assert retrograd.floor_divide(a, 2).tolist() == [7.5 // 2, -7.5 // 2]
    assert retrograd.remainder(a, -2).tolist() == [7.5 % -2, -7.5 % -2]


def test_integer_division_by_zero_is_refused():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        retrograd.remainder(retrograd.tensor([1, 2]), 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        retrograd.div(retrograd.tensor([1, 2]), 0, rounding_mode="floor")


def test_round_halves_to_even_and_supports_decimals():
    assert retrograd.round(retrograd.tensor([0.5, 1.5, 2.5, -0.5])).tolist() == [0.0, 2.0, 2.0, -0.0]
    assert retrograd.round(retrograd.tensor([1.2345], dtype=retrograd.float64), decimals=2).item() == 1.23
    assert retrograd.round(retrograd.tensor([1.2345]), decimals=2).grad_fn is None


def test_clamp_promotes_an_integer_tensor_to_a_float_bound():
    result = retrograd.clamp(retrograd.tensor([0, 5]), 0.5)
    assert result.dtype is retrograd.float32
    assert result.tolist() == [0.5, 5.0]


def test_where_promotes_and_accepts_numbers():
    condition = retrograd.tensor([True, False])
    assert retrograd.where(condition, retrograd.tensor([1, 2]), 0.5).dtype is retrograd.float32
    assert retrograd.where(condition, 1, 0).tolist() == [1, 0]
    indices = retrograd.where(retrograd.tensor([[True, False], [False, True]]))
    assert [index.tolist() for index in indices] == [[0, 1], [0, 1]]


def test_tensor_where_method():
    x = retrograd.tensor([1.0, -2.0])
    assert x.where(x > 0, retrograd.tensor(0.0)).tolist() == [1.0, 0.0]


# ---------------------------------------------------------------------------
# Methods, aliases and in-place variants


@pytest.mark.parametrize(
    "name",
    ["abs", "sign", "rsqrt", "exp2", "expm1", "log2", "log10", "log1p", "sinh", "cosh", "tanh",
     "sigmoid", "erf", "erfc", "floor", "ceil", "trunc", "frac", "square", "round", "atan", "asinh"],
)
def test_in_place_variant_writes_the_out_of_place_result(name):
    x = retrograd.tensor([0.25, 0.5, 0.75], dtype=retrograd.float64)
    expected = getattr(x, name)()
    version = x._version
    assert getattr(x, f"{name}_")() is x
    np.testing.assert_array_equal(x.numpy(), expected.numpy())
    assert x._version == version + 1


def test_in_place_on_a_non_leaf_records_the_op():
    leaf = retrograd.tensor([0.5, 1.0], dtype=retrograd.float64, requires_grad=True)
    y = leaf * 1
    y.sigmoid_()
    assert y.grad_fn.name() == "SigmoidBackward0"
    y.sum().backward()
    s = 1 / (1 + np.exp(-leaf.detach().numpy()))
    np.testing.assert_allclose(leaf.grad.numpy(), s * (1 - s))


def test_in_place_into_an_integer_tensor_refuses_a_float_result_and_changes_nothing():
    x = retrograd.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        x.exp_()
    assert x.tolist() == [1, 2] and x._version == 0


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    x = retrograd.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.exp_()


def test_aliases_are_the_same_operation():
    x = retrograd.tensor([0.2, -0.4], dtype=retrograd.float64)
    pairs = [("arcsin", "asin"), ("arctan", "atan"), ("absolute", "abs"), ("fix", "trunc"), ("clip", "clamp")]
    for alias, name in pairs:
        args = (-0.1, 0.1) if name == "clamp" else ()
        expected = getattr(retrograd, name)(x, *args).numpy()
        np.testing.assert_array_equal(getattr(x, alias)(*args).numpy(), expected)
    assert abs(x).tolist() == retrograd.abs(x).tolist()


def test_clamp_in_place_and_one_sided_helpers():
    x = retrograd.tensor([-2.0, 0.0, 2.0])
    assert x.clamp_min(-1).tolist() == [-1.0, 0.0, 2.0]
    assert retrograd.clamp_max(x, 1).tolist() == [-2.0, 0.0, 1.0]
    x.clip_(-1, 1)
    assert x.tolist() == [-1.0, 0.0, 1.0]


def test_float_power_in_place_needs_a_float64_tensor():
    x = retrograd.ones(2)
    with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float"):
        x.float_power_(2.0)
    y = retrograd.ones(2, dtype=retrograd.float64) * 3
    y.float_power_(2)
    assert y.tolist() == [9.0, 9.0]


def test_lerp_addcmul_addcdiv_values():
    start, end = retrograd.tensor([1.0, 2.0]), retrograd.tensor([3.0, 6.0])
    assert retrograd.lerp(start, end, 0.25).tolist() == [1.5, 3.0]
    assert retrograd.lerp(start, end, retrograd.tensor([0.0, 1.0])).tolist() == [1.0, 6.0]
    assert retrograd.addcmul(start, start, end, value=2).tolist() == [7.0, 26.0]
    assert retrograd.addcdiv(start, end, start, value=0.5).tolist() == [2.5, 3.5]


def test_gradients_of_rounding_division_are_zero_twice_over():
    a = retrograd.tensor([5.0, -3.5], dtype=retrograd.float64, requires_grad=True)
    b = retrograd.tensor([2.0, 1.5], dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(lambda a, b: retrograd.div(a, b, rounding_mode="trunc"), (a, b))
    assert gradgradcheck(lambda a, b: retrograd.div(a, b, rounding_mode="floor"), (a, b))


def test_floor_divide_records_nothing():
    x = retrograd.tensor([5.0], requires_grad=True)
    result = x // 2
    assert result.grad_fn is None and not result.requires_grad


# ---------------------------------------------------------------------------
# Errors, as PyTorch raises them


def test_div_rejects_an_unknown_rounding_mode():
    with pytest.raises(RuntimeError, match="one of None, 'trunc', or 'floor' but found 'bad'"):
        retrograd.div(retrograd.ones(2), 2, rounding_mode="bad")


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        retrograd.clamp(retrograd.ones(2))


def test_where_needs_a_bool_condition():
    with pytest.raises(RuntimeError, match="boolean tensor, but got a tensor with dtype Float"):
        retrograd.where(retrograd.ones(2), retrograd.ones(2), retrograd.zeros(2))


def test_masked_fill_errors():
    x = retrograd.ones(3)
    with pytest.raises(RuntimeError, match="only supports boolean masks, but got mask with dtype float"):
        x.masked_fill(retrograd.ones(3), 0.0)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        x.masked_fill(x > 0, retrograd.ones(2))
    version = x._version
    with pytest.raises(RuntimeError):
        x.masked_fill_(retrograd.ones(3), 0.0)
    assert x.tolist() == [1.0, 1.0, 1.0] and x._version == version


def test_masked_fill_in_place():
    x = retrograd.tensor([1.0, 2.0, 3.0])
    x.masked_fill_(x > 1.5, -1.0)
    assert x.tolist() == [1.0, -1.0, -1.0]


def test_binary_shape_mismatch_names_the_sizes():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(2\)"):
        retrograd.maximum(retrograd.ones(3), retrograd.ones(2))


def test_addcdiv_refuses_integer_division():
    one = retrograd.tensor([1])
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        retrograd.addcdiv(one, one, one)


def test_lerp_needs_matching_dtypes():
    with pytest.raises(RuntimeError, match="expected dtype float32 for `end` but got dtype float64"):
        retrograd.lerp(retrograd.ones(2), retrograd.ones(2, dtype=retrograd.float64), 0.5)


def test_integer_rounding_as_pytorch():
    assert retrograd.round(retrograd.tensor([1, -2])).tolist() == [1, -2]
    with pytest.raises(NotImplementedError, match='"round_cpu" not implemented for \'Long\''):
        retrograd.round(retrograd.tensor([1]), decimals=1)
    with pytest.raises(NotImplementedError, match='"frac_cpu" not implemented for \'Long\''):
        retrograd.frac(retrograd.tensor([1]))
    with pytest.raises(NotImplementedError, match='"remainder_cpu" not implemented for \'Bool\''):
        retrograd.remainder(retrograd.tensor([True]), retrograd.tensor([True]))
    with pytest.raises(NotImplementedError, match='"hypot_cpu" not implemented for \'Long\''):
        retrograd.hypot(retrograd.tensor([1]), retrograd.tensor([1]))
    assert retrograd.atan2(retrograd.tensor([1]), retrograd.tensor([1])).dtype is retrograd.float32


def test_unary_ops_name_the_bad_argument():
    with pytest.raises(TypeError, match=r"sigmoid\(\): argument 'input' \(position 1\) must be Tensor"):
        retrograd.sigmoid([1.0])


def test_second_derivative_of_clamp_with_tensor_bounds_matches_finite_differences():
    x = retrograd.tensor([-0.8, 0.1, 0.9], dtype=retrograd.float64, requires_grad=True)
    low = retrograd.tensor([-0.5, -0.5, -0.5], dtype=retrograd.float64, requires_grad=True)
    high = retrograd.tensor([0.5, 0.5, 0.5], dtype=retrograd.float64, requires_grad=True)
    assert gradgradcheck(lambda x, lo, hi: retrograd.clamp(x, lo, hi) ** 2, (x, low, high))


def test_augmented_assignment_writes_in_place():
    x = retrograd.tensor([7.0, -7.0])
    alias = x
    x //= 2
    x %= 3
    x **= 2
    assert alias is x and x.tolist() == [0.0, 4.0] and x._version == 3


def test_unary_plus_is_the_tensor_itself():
    x = retrograd.tensor([1.0])
    assert +x is x and retrograd.positive(x) is x
    with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor is not supported"):
        +retrograd.tensor([True])


def test_integer_powers_with_negative_tensor_exponents_as_pytorch():
    base = retrograd.tensor([1, -1, -1, 2, -2, 3])
    exponent = retrograd.tensor([-2, -3, -2, -1, -1, 0])
    assert retrograd.pow(base, exponent).tolist() == [1, -1, 1, 0, 0, 1]
    assert (2 ** retrograd.tensor([-1, 2])).tolist() == [0, 4]
    with pytest.raises(NotImplementedError, match="\"pow\" not implemented for 'Bool'"):
        retrograd.pow(retrograd.tensor([True]), retrograd.tensor([True]))


@pytest.mark.parametrize("create_graph", [False, True])
def test_zero_to_a_tensor_power_is_flat_for_non_negative_exponents_only(create_graph):
    """d(0 ** y)/dy is 0 where y >= 0 (PyTorch's choice) and 0 ** y * log 0 = -inf below."""
    exponent = retrograd.tensor([0.0, 1.0, 2.0, -1.0], requires_grad=True)
    (grad,) = retrograd.autograd.grad((0.0 ** exponent).sum(), exponent, create_graph=create_graph)
    assert grad.tolist() == [0.0, 0.0, 0.0, -math.inf]
    assert sorted(name for name in dir((2.0 ** exponent).grad_fn) if name.startswith("_saved_")) == [
        "_saved_exponent", "_saved_result", "_saved_self"]  # (as PyTorch's PowBackward2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_tanh_backward_keep_their_rounding_on_arrays(dtype):
    """sigmoid's derivative rounds as (grad * (1 - y)) * y (PyTorch's sigmoid_backward, bit for
    bit) and tanh's as grad * (1 - y * y), also on strided, broadcast and mixed-dtype operands."""
    from retrograd.ops import _math

    rng = np.random.default_rng(5)
    result = np.tanh(rng.standard_normal((200, 9)) * 3).astype(dtype)
    grad = rng.standard_normal((200, 9)).astype(dtype)
    for g, y in [(grad, result), (grad[:, 2:7], result[:, 2:7]), (grad[:1], result),
                 (grad.astype(np.float64), result)]:
        assert _math.sigmoid_backward(g, y).tobytes() == (g * (1 - y) * y).tobytes()
        assert _math.tanh_backward(g, y).tobytes() == (g * (1 - y * y)).tobytes()
        assert _math.sigmoid_backward(g, y).dtype == (g * y).dtype


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_backward_is_pytorchs_bit_for_bit(dtype):
    from retrograd.ops import _math

    rng = np.random.default_rng(6)
    result = (1 / (1 + np.exp(-3 * rng.standard_normal((200, 9))))).astype(dtype)
    grad = rng.standard_normal((200, 9)).astype(dtype)
    theirs = torch.ops.aten.sigmoid_backward(torch.from_numpy(grad), torch.from_numpy(result)).numpy()
    assert _math.sigmoid_backward(grad, result).tobytes() == theirs.tobytes()


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp"])
@pytest.mark.parametrize("cut", ["transposed", "columns"])
def test_unary_results_are_laid_out_as_their_input_as_in_pytorch(name, cut):
    """An elementwise result keeps a transposed input's order (PyTorch's strides), and a
    strided piece of a row (an LSTM's gate) gives a contiguous result."""
    values = np.arange(24, dtype=np.float64).reshape(4, 6) / 10

    def strides(x):
        x = x.t() if cut == "transposed" else x[:, 1:4]
        return getattr(x, name)().stride()

    expected = {"transposed": (1, 6), "columns": (3, 1)}[cut]
    assert strides(retrograd.tensor(values)) == expected
    assert strides(retrograd.tensor(values, requires_grad=True)) == expected
    if torch is not None:
        assert strides(torch.tensor(values)) == expected
