"""Ops, dtypes, losses and optimisers as PyTorch 2.13 has them: the regression tests of issue 12.

Each test names the behaviour; where PyTorch is installed it is also the reference (the test
skips that comparison cleanly without it). See Note [Checked arguments] in ops/_table.py for
how arguments and dtypes are checked in one place.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retrograd
import retrograd.nn.functional as F

try:
    import torch
except ImportError:  # the comparisons below skip, the behaviours are still checked
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (torch) is not installed")


def _leaf(values, dtype=None):
    return retrograd.tensor(values, dtype=dtype or retrograd.float32, requires_grad=True)


# ---------------------------------------------------------------------------
# Losses where every target is ignored


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_loss_whose_targets_are_all_ignored_has_zero_gradient(loss):
    logits = _leaf([[1.0, 2.0, 3.0], [1.0, 0.0, 2.0]])
    value = getattr(F, loss)(logits, retrograd.tensor([-100, -100]))
    value.backward()
    assert math.isnan(value.item())  # 0 / 0, as PyTorch's mean
    np.testing.assert_array_equal(logits.grad.numpy(), np.zeros((2, 3)))


def test_sgd_step_after_a_padding_only_batch_keeps_the_weights_finite():
    retrograd.manual_seed(0)
    model = retrograd.nn.Linear(3, 4)
    optimizer = retrograd.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(retrograd.ones(2, 3)), retrograd.tensor([-100, -100])).backward()
    optimizer.step()
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


# ---------------------------------------------------------------------------
# Derivatives at the edges of the domain


def test_logit_gradient_outside_the_unit_interval_is_nan():
    x = _leaf([-0.5, 0.5, 1.5])
    retrograd.logit(x).sum().backward()
    gradient = x.grad.numpy()
    assert math.isnan(gradient[0]) and math.isnan(gradient[2])
    assert gradient[1] == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("activation", "expected"),
    [("elu", [1.0, 0.0]), ("selu", [1.0507010221481323, 0.0]), ("celu", [1.0, 0.0]),
     ("hardswish", [1.0, 0.0])],
)
def test_activation_gradient_at_infinity_is_finite(activation, expected):
    x = _leaf([math.inf, -math.inf])
    getattr(F, activation)(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


# ---------------------------------------------------------------------------
# NaN in orderings: larger than inf


def test_topk_ranks_nan_above_inf():
    values, indices = retrograd.tensor([1.0, math.inf, math.nan, 2.0]).topk(2)
    assert math.isnan(values[0].item()) and values[1].item() == math.inf
    assert indices.tolist() == [2, 1]


def test_sort_descending_puts_nan_first_and_ascending_last():
    data = retrograd.tensor([1.0, math.inf, math.nan, 2.0, -math.inf])
    assert data.sort(descending=True).indices.tolist() == [2, 1, 3, 0, 4]
    assert data.sort().indices.tolist() == [4, 0, 3, 1, 2]
    assert data.argsort(descending=True).tolist() == [2, 1, 3, 0, 4]


def test_sort_descending_keeps_the_order_of_several_nans_along_each_dim():
    data = retrograd.tensor([[math.nan, 1.0, math.nan], [2.0, math.nan, 3.0]])
    assert data.sort(dim=1, descending=True).indices.tolist() == [[0, 2, 1], [1, 2, 0]]
    assert data.sort(dim=0, descending=True).indices.tolist() == [[0, 1, 0], [1, 0, 1]]


@needs_torch
@pytest.mark.parametrize("call", [
    lambda lib, x: x.max(0), lambda lib, x: x.min(0), lambda lib, x: x.argmax(), lambda lib, x: x.argmin(),
    lambda lib, x: x.sort(descending=True), lambda lib, x: x.sort(), lambda lib, x: x.argsort(descending=True),
    lambda lib, x: x.topk(3), lambda lib, x: x.topk(3, largest=False), lambda lib, x: x.kthvalue(2),
    lambda lib, x: x.median(0), lambda lib, x: x.cummax(0), lambda lib, x: x.cummin(0), lambda lib, x: lib.msort(x),
])
def test_orderings_with_nan_and_infinities_match_pytorch(call):
    values = [1.0, math.nan, -math.inf, 2.0, math.inf, math.nan, 0.0]
    ours, theirs = call(retrograd, retrograd.tensor(values)), call(torch, torch.tensor(values))
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())


# ---------------------------------------------------------------------------
# Creating tensors: overflow is an error; integer arithmetic wraps


@pytest.mark.parametrize(("data", "dtype", "error"), [
    ([2**63], None, ValueError),
    ([-(2**63) - 1], None, ValueError),
    ([2**64], None, ValueError),
    ([300], "uint8", RuntimeError),
    ([-256], "uint8", RuntimeError),
    ([200], "int8", RuntimeError),
    ([2**40], "int32", RuntimeError),
    ([math.nan], "int64", RuntimeError),
    ([math.inf], "int32", RuntimeError),
    ([3e10], "int32", RuntimeError),
])
def test_tensor_of_python_numbers_that_do_not_fit_raises(data, dtype, error):
    with pytest.raises(error, match="[Oo]verflow"):
        retrograd.tensor(data, dtype=None if dtype is None else getattr(retrograd, dtype))


@pytest.mark.parametrize(("data", "dtype", "expected"), [
    ([-1], "uint8", [255]), ([-255], "uint8", [1]), ([1.9], "int32", [1]), ([2**63 - 1], None, [2**63 - 1]),
    ([2**63], "float32", [2.0**63]), ([2**64], "float64", [2.0**64]),
])
def test_tensor_of_python_numbers_that_fit_is_converted_as_pytorch(data, dtype, expected):
    result = retrograd.tensor(data, dtype=None if dtype is None else getattr(retrograd, dtype))
    assert result.tolist() == expected


def test_tensor_of_an_array_wraps_as_numpy_and_pytorch():
    assert retrograd.tensor(np.array([300]), dtype=retrograd.uint8).tolist() == [44]


@pytest.mark.parametrize(("call", "expected"), [
    (lambda: retrograd.tensor([1], dtype=retrograd.int8) + 200, [-55]),
    (lambda: retrograd.tensor([3], dtype=retrograd.int8) * 1000, [-72]),
    (lambda: retrograd.tensor([3], dtype=retrograd.uint8) - 300, [215]),
    (lambda: retrograd.tensor([3], dtype=retrograd.int32) + 2**40, [3]),
    (lambda: retrograd.tensor([3]) + 2**63, [-(2**63) + 3]),
    (lambda: retrograd.tensor([1], dtype=retrograd.int8).add_(200), [-55]),
    (lambda: retrograd.tensor([1], dtype=retrograd.int8) == 257, [True]),
])
def test_integer_scalar_arithmetic_wraps_as_pytorch(call, expected):
    assert call().tolist() == expected


@pytest.mark.parametrize("call", [
    lambda: retrograd.full((2,), 300, dtype=retrograd.uint8),
    lambda: retrograd.tensor([1], dtype=retrograd.int8).fill_(200),
    lambda: retrograd.where(retrograd.tensor([True]), retrograd.tensor([1], dtype=retrograd.int8), 300),
    lambda: retrograd.tensor([1], dtype=retrograd.int8).masked_fill(retrograd.tensor([True]), 300),
])
def test_fill_value_that_does_not_fit_raises(call):
    with pytest.raises(RuntimeError, match="cannot be converted to type .*int8 without overflow"):
        call()


def test_a_refused_fill_leaves_the_tensor_unchanged():
    x = retrograd.tensor([1, 2], dtype=retrograd.int8)
    with pytest.raises(RuntimeError):
        x.fill_(200)
    assert x.tolist() == [1, 2] and x._version == 0


# ---------------------------------------------------------------------------
# Dtypes: promotion of loss pairs, float-only ops, integer coefficients


@pytest.mark.parametrize("loss", ["mse_loss", "smooth_l1_loss", "l1_loss"])
def test_pair_loss_of_int_and_float32_is_float32(loss):
    value = getattr(F, loss)(retrograd.tensor([1, 2]), retrograd.tensor([1.0, 3.0]))
    assert value.dtype is retrograd.float32
    assert value.item() == pytest.approx({"mse_loss": 0.5, "smooth_l1_loss": 0.25, "l1_loss": 0.5}[loss])


_INTEGERS = retrograd.tensor([[1, 2, 3], [4, 5, 6]])
_FLOAT_ONLY = {
    "softmax": lambda x: F.softmax(x, 1), "log_softmax": lambda x: F.log_softmax(x, 1),
    "gelu": F.gelu, "silu": F.silu, "softplus": F.softplus, "mish": F.mish, "elu": F.elu, "selu": F.selu,
    "celu": F.celu, "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid, "logsigmoid": F.logsigmoid,
    "leaky_relu": F.leaky_relu, "hardshrink": F.hardshrink, "softshrink": F.softshrink,
    "mse_loss": lambda x: F.mse_loss(x, x), "huber_loss": lambda x: F.huber_loss(x, x),
    "smooth_l1_loss": lambda x: F.smooth_l1_loss(x, x), "lerp": lambda x: retrograd.lerp(x, x, 0.5),
    "layer_norm": lambda x: F.layer_norm(x, (3,)), "cross_entropy": lambda x: F.cross_entropy(x, retrograd.tensor([0, 1])),
}


@pytest.mark.parametrize("name", sorted(_FLOAT_ONLY))
def test_float_only_op_refuses_integer_input(name):
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        _FLOAT_ONLY[name](_INTEGERS)


def test_float_only_op_with_a_dtype_converts_first():
    result = retrograd.softmax(_INTEGERS, 1, dtype=retrograd.float64)
    assert result.dtype is retrograd.float64
    assert _INTEGERS.softmax(1, retrograd.float32).dtype is retrograd.float32


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda x: F.relu(x), RuntimeError, "Boolean inputs not supported for relu"),
    (lambda x: x.relu(), RuntimeError, "Boolean inputs not supported for relu"),
    (lambda x: F.hardtanh(x), RuntimeError, "not supported for hardtanh"),
    (lambda x: F.relu6(x), RuntimeError, "not supported for hardtanh"),
    (lambda x: F.threshold(x, 0.5, 0.0), NotImplementedError, "not implemented for 'Bool'"),
])
def test_bool_input_is_refused_where_pytorch_refuses_it(call, error, words):
    with pytest.raises(error, match=words):
        call(retrograd.tensor([True, False]))


def test_hardtanh_keeps_integers():
    result = F.hardtanh(retrograd.tensor([-2, 0, 3]), -1.5, 2.0)
    assert result.dtype is retrograd.int64 and result.tolist() == [-1, 0, 2]


@pytest.mark.parametrize(("call", "expected"), [
    (lambda t: retrograd.addmm(t([[5]]), t([[1]]), t([[3]]), beta=1.5, alpha=-2.7), [[-1]]),
    (lambda t: retrograd.addmv(t([5]), t([[1]]), t([3]), beta=1.5, alpha=2.7), [11]),
    (lambda t: retrograd.addcmul(t([5]), t([2]), t([3]), value=1.5), [11]),
    (lambda t: retrograd.baddbmm(t([[[5]]]), t([[[1]]]), t([[[3]]]), beta=1.5, alpha=2.7), [[[11]]]),
])
def test_float_coefficient_of_integer_operands_is_truncated(call, expected):
    assert call(retrograd.tensor).tolist() == expected


@pytest.mark.parametrize("call", [
    lambda t: retrograd.add(t([5]), t([3]), alpha=2.7),
    lambda t: retrograd.sub(t([5]), t([3]), alpha=2.7),
    lambda t: retrograd.addr(t([[5]]), t([1]), t([3]), beta=2, alpha=0.5),
])
def test_float_coefficient_of_integer_operands_is_refused(call):
    with pytest.raises(RuntimeError, match="must not be a floating point number"):
        call(retrograd.tensor)


def test_kl_div_refuses_integral_inputs():
    with pytest.raises(RuntimeError, match="Integral inputs not supported"):
        F.kl_div(retrograd.tensor([1.0, 2.0]), retrograd.tensor([3, 4]), reduction="sum")


# ---------------------------------------------------------------------------
# softmax's dim


@pytest.mark.parametrize("call", [
    lambda x: retrograd.softmax(x), lambda x: x.softmax(), lambda x: retrograd.log_softmax(x),
    lambda x: x.log_softmax(),
])
def test_softmax_without_dim_raises_type_error(call):
    with pytest.raises(TypeError, match="dim"):
        call(retrograd.tensor([1.0, 2.0]))


def test_functional_softmax_without_dim_warns_and_chooses_as_pytorch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        result = F.softmax(retrograd.tensor([[1.0, 2.0]]))
    np.testing.assert_allclose(result.numpy(), [[0.26894142, 0.73105858]], rtol=1e-6)


# ---------------------------------------------------------------------------
# Arguments that are not tensors


@pytest.mark.parametrize("call", [
    lambda: F.relu("abc"), lambda: retrograd.reshape("abc", (3,)), lambda: F.conv1d("abc", retrograd.ones(1, 1, 1)),
    lambda: F.softsign("abc"), lambda: F.lp_pool1d("abc", 2.0, 2), lambda: retrograd.float_power("abc", 2),
    lambda: retrograd.gather(retrograd.ones(3), 0, "abc"), lambda: retrograd.amax([1.0, 2.0]),
])
def test_an_argument_that_is_not_a_tensor_raises_type_error(call):
    with pytest.raises(TypeError, match="Tensor"):
        call()


def test_the_not_a_tensor_error_is_also_an_attribute_error():
    """PyTorch's Python-level functionals fail on a method lookup: `except AttributeError`
    written for them still catches ours."""
    with pytest.raises(AttributeError):
        F.tanhshrink("abc")


def test_a_sequence_holding_a_non_tensor_names_the_element():
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got str"):
        retrograd.broadcast_tensors(retrograd.ones(2), "abc")


def test_an_op_given_a_number_where_pytorch_takes_one_still_works():
    assert retrograd.pow(2, retrograd.tensor([3.0])).tolist() == [8.0]


# ---------------------------------------------------------------------------
# Optimisers and schedulers


def _stepped_adam(out_features):
    retrograd.manual_seed(0)
    model = retrograd.nn.Linear(3, out_features)
    optimizer = retrograd.optim.Adam(model.parameters(), lr=0.1)
    model(retrograd.ones(4, 3)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_optimizer_state_of_another_shape_raises_runtime_error_at_step_and_changes_nothing():
    _, trained = _stepped_adam(2)
    model, optimizer = _stepped_adam(4)
    optimizer.load_state_dict(trained.state_dict())
    model(retrograd.ones(4, 3)).sum().backward()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(4\)"):
        optimizer.step()
    for parameter, saved in zip(model.parameters(), before):
        np.testing.assert_array_equal(parameter.detach().numpy(), saved)


def test_optimizer_state_that_broadcasts_but_differs_raises_runtime_error():
    model, optimizer = _stepped_adam(2)
    state = optimizer.state_dict()
    state["state"][1]["exp_avg"] = retrograd.zeros(1)
    optimizer.load_state_dict(state)
    with pytest.raises(RuntimeError, match=r"output with shape \[1\] doesn't match the broadcast shape \[2\]"):
        optimizer.step()


def test_scheduler_step_before_optimizer_step_warns():
    optimizer = retrograd.optim.SGD([_leaf([1.0])], lr=0.1)
    scheduler = retrograd.optim.lr_scheduler.StepLR(optimizer, 1)
    with pytest.warns(UserWarning, match=r"`lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        scheduler.step()


def test_scheduler_step_after_optimizer_step_does_not_warn():
    weight = _leaf([1.0])
    optimizer = retrograd.optim.SGD([weight], lr=0.1)
    scheduler = retrograd.optim.lr_scheduler.StepLR(optimizer, 1)
    (weight * 2).sum().backward()
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def test_lbfgs_state_keeps_the_two_loop_alphas():
    x = _leaf([1.0, 2.0])
    optimizer = retrograd.optim.LBFGS([x], lr=0.5, history_size=3)

    def closure():
        optimizer.zero_grad()
        loss = ((x - 3) ** 2).sum() + (x**4).sum() * 0.01
        loss.backward()
        return loss

    for _ in range(2):
        optimizer.step(closure)
    state = optimizer.state_dict()["state"][0]
    assert len(state["al"]) == 3
    assert all(alpha is not None for alpha in state["al"])


# ---------------------------------------------------------------------------
# Bad input found by the bad-input sweep (tests/test_bad_input.py), one cause each


@pytest.mark.parametrize("call", [
    lambda a: retrograd.linalg.svd(a), lambda a: retrograd.linalg.svdvals(a), lambda a: retrograd.linalg.pinv(a),
    lambda a: retrograd.linalg.cholesky(a),
    lambda a: retrograd.linalg.matrix_norm(a, "nuc"),
])
def test_linear_algebra_on_nan_raises_linalg_error_a_runtime_error(call):
    matrix = retrograd.tensor([[math.nan, 1.0], [1.0, 2.0]])
    with pytest.raises(retrograd.linalg.LinAlgError) as caught:
        call(matrix)
    assert isinstance(caught.value, RuntimeError) and not isinstance(caught.value, ValueError)


@pytest.mark.parametrize("call", [
    lambda x, w: F.layer_norm(x, (3,), w), lambda x, w: F.group_norm(x.reshape(1, 3, 2), 3, w),
    lambda x, w: F.batch_norm(x, None, None, w, training=True), lambda x, w: F.prelu(x, w[:1]),
    lambda x, w: F.cross_entropy(x, retrograd.tensor([0, 1]), weight=w),
])
def test_float32_input_with_a_float64_parameter_is_refused(call):
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        call(retrograd.ones(2, 3), retrograd.ones(3, dtype=retrograd.float64))


def test_mixed_dtypes_that_pytorch_promotes_are_promoted():
    result = retrograd.addr(retrograd.ones(2, 3), retrograd.ones(2, dtype=retrograd.float64), retrograd.ones(3))
    assert result.dtype is retrograd.float64
    solved = retrograd.linalg.solve_triangular(retrograd.eye(2), retrograd.ones(2, 1, dtype=retrograd.float64),
                                               upper=True)
    assert solved.dtype is retrograd.float32
    assert F.huber_loss(retrograd.ones(3), retrograd.zeros(3, dtype=retrograd.float64)).dtype is retrograd.float32


@pytest.mark.parametrize(("call", "argument"), [
    (lambda w: F.nll_loss(retrograd.zeros(2, 3), retrograd.tensor([0, 1]), weight=w), "weight"),
    (lambda w: F.cross_entropy(retrograd.zeros(2, 3), retrograd.tensor([0, 1]), weight=w), "weight"),
    (lambda w: F.batch_norm(retrograd.ones(4, 3), w, retrograd.ones(3), training=True), "running_mean"),
])
def test_a_class_weight_or_running_statistic_requiring_grad_is_refused_and_left_unchanged(call, argument):
    weight = retrograd.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"not differentiable with respect to argument '{argument}'"):
        call(weight)
    assert weight.tolist() == [1.0, 1.0, 1.0] and weight._version == 0
    with retrograd.no_grad():
        call(weight)  # recording nothing, PyTorch accepts it


def test_mode_counts_nans_as_one_value():
    values, indices = retrograd.tensor([math.nan, 1.0, math.nan, 2.0]).mode()
    assert math.isnan(values.item()) and indices.item() in (0, 2)


def test_a_shape_error_from_numpy_is_a_runtime_error():
    with pytest.raises(RuntimeError):
        retrograd.ones(2, 3).masked_fill(retrograd.zeros(0, 3, dtype=retrograd.bool), 1.0)
    with pytest.raises(RuntimeError, match="sizes of the tensors do not fit"):
        retrograd.ones(2, 3).scatter_add(0, retrograd.zeros(2, 3, dtype=retrograd.int64), retrograd.ones(5, 7, 2))


def test_layer_norm_weight_of_another_shape_is_refused_as_pytorch():
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as normalized_shape"):
        F.layer_norm(retrograd.ones(2, 3), (3,), retrograd.ones(5, 7, 2))


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: retrograd.tensor([1.0], dtype="float32"), TypeError, "dtype"),
    (lambda: retrograd.full((2,), "x"), TypeError, "fill_value"),
    (lambda: retrograd.zeros(2**62), RuntimeError, "Storage size calculation overflowed"),
    (lambda: retrograd.max_pool2d(retrograd.zeros(0, 5, 5), 2), RuntimeError, "optional 0 dim batch size"),
])
def test_creation_and_pooling_refuse_as_pytorch(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_pooling_an_empty_batch_gives_an_empty_result():
    assert retrograd.max_pool2d(retrograd.zeros(0, 2, 4, 4), 2).shape == (0, 2, 2, 2)
