"""The declared nn ops (issue 11): selecting derivatives select, second derivatives of the
piecewise-linear activations are zeros, nothing is saved that no needed formula reads, and
the heavy ops' backward (linear, conv, pooling, losses, normalisation) gives the same
gradients on arrays as with create_graph, and as PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
import retrograd.nn.functional as F

NAN, INF = float("nan"), float("inf")

# Activations whose derivative selects: (name, function of F and torch.nn.functional).
SELECTING = [
    ("relu", lambda f, x: f.relu(x)),
    ("relu6", lambda f, x: f.relu6(x)),
    ("leaky_relu", lambda f, x: f.leaky_relu(x, 0.2)),
    ("hardtanh", lambda f, x: f.hardtanh(x, -1.0, 1.0)),
    ("threshold", lambda f, x: f.threshold(x, 0.5, -2.0)),
    ("softshrink", lambda f, x: f.softshrink(x, 0.5)),
    ("hardshrink", lambda f, x: f.hardshrink(x, 0.5)),
    ("hardsigmoid", lambda f, x: f.hardsigmoid(x)),
    ("hardswish", lambda f, x: f.hardswish(x)),
    ("elu", lambda f, x: f.elu(x)),
    ("selu", lambda f, x: f.selu(x)),
    ("celu", lambda f, x: f.celu(x, 1.5)),
    ("softplus", lambda f, x: f.softplus(x, 2.0, 3.0)),
    ("gelu", lambda f, x: f.gelu(x)),
    ("gelu_tanh", lambda f, x: f.gelu(x, approximate="tanh")),
    ("silu", lambda f, x: f.silu(x)),
    ("mish", lambda f, x: f.mish(x)),
    ("logsigmoid", lambda f, x: f.logsigmoid(x)),
    ("softmax", lambda f, x: f.softmax(x, 0)),
    ("log_softmax", lambda f, x: f.log_softmax(x, 0)),
]
PIECEWISE_LINEAR = ["relu", "relu6", "leaky_relu", "hardtanh", "threshold", "softshrink", "hardshrink"]

_POINTS = [-4.0, -3.0, -1.0, -0.3, 0.0, 0.3, 1.0, 3.0, 4.0, 7.0]
_UPSTREAM = [1.0, NAN, INF, -INF, NAN, 2.0, NAN, INF, NAN, -1.0]


def _gradient(function, points, upstream, create_graph=False):
    x = retrograd.tensor(points, dtype=retrograd.float64, requires_grad=True)
    y = function(F, x)
    (grad,) = retrograd.autograd.grad(y, x, retrograd.tensor(upstream, dtype=retrograd.float64),
                                      create_graph=create_graph)
    return grad


@pytest.mark.parametrize(("name", "function"), SELECTING, ids=[name for name, _ in SELECTING])
def test_nan_and_inf_upstream_stay_where_the_forward_selected(name, function):
    grad = _gradient(function, _POINTS, _UPSTREAM).numpy()
    ones = _gradient(function, _POINTS, [1.0] * len(_POINTS)).numpy()
    if name not in ("softmax", "log_softmax"):
        # where the derivative is 0, no NaN or Inf arrives (elementwise ops)
        zero = ones == 0
        assert np.all(grad[zero] == 0), (name, grad)
    assert np.allclose(grad, _gradient(function, _POINTS, _UPSTREAM, create_graph=True).detach().numpy(),
                       equal_nan=True)


@pytest.mark.parametrize(("name", "function"), SELECTING, ids=[name for name, _ in SELECTING])
def test_selecting_derivatives_match_pytorch(name, function):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as torch_functional

    x = torch.tensor(_POINTS, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(function(torch_functional, x), x,
                                      torch.tensor(_UPSTREAM, dtype=torch.float64))
    for create_graph in (False, True):
        got = _gradient(function, _POINTS, _UPSTREAM, create_graph).detach().numpy()
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=1e-15, equal_nan=True)


def test_sqrt_of_relu_has_zero_gradient_where_relu_is_zero():
    x = retrograd.tensor([-1.0, 0.0, 4.0], requires_grad=True)
    retrograd.sqrt(F.relu(x)).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.25]


@pytest.mark.parametrize("name", PIECEWISE_LINEAR)
def test_second_derivative_of_piecewise_linear_activation_is_zero(name):
    function = dict(SELECTING)[name]
    x = retrograd.tensor(_POINTS, dtype=retrograd.float64, requires_grad=True)
    (grad,) = retrograd.autograd.grad(function(F, x).sum(), x, create_graph=True)
    assert grad.requires_grad
    (second,) = retrograd.autograd.grad(grad.sum(), x)
    assert second.tolist() == [0.0] * len(_POINTS)


def test_second_derivative_grad_fn_names_are_pytorchs():
    x = retrograd.tensor([1.0, -1.0], requires_grad=True)
    names = {}
    for name in PIECEWISE_LINEAR:
        (grad,) = retrograd.autograd.grad(dict(SELECTING)[name](F, x).sum(), x, create_graph=True)
        names[name] = type(grad.grad_fn).__name__
    assert names == {
        "relu": "ThresholdBackwardBackward0", "relu6": "HardtanhBackwardBackward0",
        "leaky_relu": "LeakyReluBackwardBackward0", "hardtanh": "HardtanhBackwardBackward0",
        "threshold": "ThresholdBackwardBackward0", "softshrink": "SoftshrinkBackwardBackward0",
        "hardshrink": "HardshrinkBackwardBackward0",
    }


def test_saved_names_are_pytorchs():
    x = retrograd.randn(3, requires_grad=True)
    assert F.relu(x).grad_fn._saved_result is not None
    node = F.leaky_relu(x, 0.2).grad_fn
    assert node._saved_negative_slope == 0.2 and node._saved_self is x
    node = F.softmax(x, 0).grad_fn
    assert node._saved_dim == 0 and node._saved_result is not None
    node = F.elu(x).grad_fn
    assert (node._saved_alpha, node._saved_scale, node._saved_input_scale) == (1.0, 1.0, 1.0)


LOSSES = [
    ("mse", lambda f, x, t: f.mse_loss(x, t, reduction="none")),
    ("mse_mean", lambda f, x, t: f.mse_loss(x, t)),
    ("smooth_l1", lambda f, x, t: f.smooth_l1_loss(x, t, reduction="none", beta=0.5)),
    ("smooth_l1_zero_beta", lambda f, x, t: f.smooth_l1_loss(x, t, reduction="sum", beta=0.0)),
    ("huber", lambda f, x, t: f.huber_loss(x, t, reduction="none", delta=0.5)),
    ("bce", lambda f, x, t: f.binary_cross_entropy(x.sigmoid(), t.sigmoid(), reduction="none")),
    ("bce_logits", lambda f, x, t: f.binary_cross_entropy_with_logits(x, t.sigmoid(), reduction="none")),
    ("bce_logits_pos_weight", lambda f, x, t: f.binary_cross_entropy_with_logits(
        x, t.sigmoid(), reduction="mean", pos_weight=(t.detach() * 0 + 2.0))),
]


@pytest.mark.parametrize(("name", "function"), LOSSES, ids=[name for name, _ in LOSSES])
def test_elementwise_loss_gradients_match_pytorch_in_both_modes(name, function):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as torch_functional

    rng = np.random.default_rng(0)
    x_data, t_data = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    x = torch.tensor(x_data, requires_grad=True)
    t = torch.tensor(t_data, requires_grad=True)
    expected = function(torch_functional, x, t)
    upstream = np.where(rng.random(expected.shape) < 0.3, np.nan, rng.normal(size=expected.shape))
    expected_grads = torch.autograd.grad(expected, (x, t), torch.tensor(upstream))
    for create_graph in (False, True):
        ours_x = retrograd.tensor(x_data, requires_grad=True)
        ours_t = retrograd.tensor(t_data, requires_grad=True)
        got = function(F, ours_x, ours_t)
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
        grads = retrograd.autograd.grad(got, (ours_x, ours_t), retrograd.tensor(upstream),
                                        create_graph=create_graph)
        for mine, theirs in zip(grads, expected_grads):
            np.testing.assert_allclose(mine.detach().numpy(), theirs.numpy(), rtol=1e-10, atol=1e-14,
                                       equal_nan=True)


def _nll_case(module, reduction, target, upstream=None, create_graph=False):
    logits = module.tensor([[0.1, 0.5, -1.0], [1.0, 0.2, 0.3], [0.0, 0.0, 0.4]], dtype=module.float64,
                           requires_grad=True)
    target = module.tensor(target, dtype=module.int64)
    loss = module.nn.functional.cross_entropy(logits, target, ignore_index=1, reduction=reduction)
    upstream = module.ones_like(loss) if upstream is None else module.tensor(upstream, dtype=module.float64)
    (grad,) = module.autograd.grad(loss, logits, upstream, create_graph=create_graph)
    return loss.detach().numpy(), grad.detach().numpy()


@pytest.mark.parametrize("create_graph", [False, True])
def test_cross_entropy_with_every_target_ignored_has_zero_gradient(create_graph):
    loss, grad = _nll_case(retrograd, "mean", [1, 1, 1], create_graph=create_graph)
    assert np.isnan(loss)
    assert grad.tolist() == [[0.0] * 3] * 3


@pytest.mark.parametrize("create_graph", [False, True])
def test_nan_upstream_does_not_reach_ignored_targets(create_graph):
    _, grad = _nll_case(retrograd, "none", [0, 1, 2], [1.0, NAN, 2.0], create_graph)
    assert grad[1].tolist() == [0.0, 0.0, 0.0]
    assert np.isfinite(grad[[0, 2]]).all()


@pytest.mark.parametrize(("reduction", "target", "upstream"), [
    ("mean", [1, 1, 1], None), ("none", [0, 1, 2], [1.0, NAN, 2.0]), ("sum", [2, 0, 1], None),
    ("mean", [2, 0, 1], None),
])
def test_cross_entropy_ignore_index_matches_pytorch(reduction, target, upstream):
    torch = pytest.importorskip("torch")
    expected_loss, expected_grad = _nll_case(torch, reduction, target, upstream)
    for create_graph in (False, True):
        loss, grad = _nll_case(retrograd, reduction, target, upstream, create_graph)
        np.testing.assert_allclose(loss, expected_loss, equal_nan=True)
        np.testing.assert_allclose(grad, expected_grad, atol=1e-15, equal_nan=True)


# Heavy ops: (name, input shapes, function of (functional module, *tensors)).
HEAVY = [
    ("conv2d", [(2, 4, 6, 5), (6, 2, 3, 2), (6,)],
     lambda f, x, w, b: f.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    ("conv1d", [(2, 3, 7), (4, 3, 3), (4,)], lambda f, x, w, b: f.conv1d(x, w, b, padding=2, stride=2)),
    ("conv_transpose2d", [(1, 2, 3, 3), (2, 3, 2, 2), (3,)],
     lambda f, x, w, b: f.conv_transpose2d(x, w, b, stride=2)),
    ("max_pool2d", [(2, 3, 6, 7)], lambda f, x: f.max_pool2d(x, 3, stride=2, padding=1)),
    ("max_pool2d_overlap", [(1, 2, 5, 5)], lambda f, x: f.max_pool2d(x, 3, stride=1)),
    ("max_pool1d", [(2, 3, 9)], lambda f, x: f.max_pool1d(x, 2)),
    ("avg_pool2d", [(2, 3, 6, 7)], lambda f, x: f.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", [(2, 3, 9)], lambda f, x: f.avg_pool1d(x, 3, stride=2)),
    ("adaptive_avg_pool2d", [(2, 3, 7, 5)], lambda f, x: f.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_max_pool2d", [(2, 3, 7, 5)], lambda f, x: f.adaptive_max_pool2d(x, (3, 2))),
    ("interpolate", [(1, 2, 3, 4)], lambda f, x: f.interpolate(x, scale_factor=2, mode="bilinear")),
    ("linear_2d", [(5, 3), (4, 3), (4,)], lambda f, x, w, b: f.linear(x, w, b)),
    ("linear_1d", [(3,), (4, 3), (4,)], lambda f, x, w, b: f.linear(x, w, b)),
    ("linear_3d_no_bias", [(2, 5, 3), (4, 3)], lambda f, x, w: f.linear(x, w)),
    ("layer_norm", [(2, 3, 4), (3, 4), (3, 4)], lambda f, x, w, b: f.layer_norm(x, (3, 4), w, b)),
    ("batch_norm_train", [(4, 3, 5), (3,), (3,)],
     lambda f, x, w, b: f.batch_norm(x, None, None, w, b, training=True)),
    ("cross_entropy", [(6, 5)], lambda f, x: f.cross_entropy(x, _TARGETS(f))),
]


def _TARGETS(functional):
    module = retrograd if functional is F else __import__("torch")
    return module.tensor([0, 4, 1, 1, 3, 2])


def _heavy_grads(module, functional, function, arrays, upstream, create_graph):
    tensors = [module.tensor(array, requires_grad=True) for array in arrays]
    out = function(functional, *tensors)
    grads = module.autograd.grad(out, tensors, module.tensor(upstream(out.shape)), create_graph=create_graph)
    return out.detach().numpy(), [g.detach().numpy() for g in grads]


@pytest.mark.parametrize(("name", "shapes", "function"), HEAVY, ids=[case[0] for case in HEAVY])
def test_heavy_op_gradients_agree_on_arrays_and_with_create_graph(name, shapes, function):
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=shape) for shape in shapes]

    def upstream(shape):
        return np.random.default_rng(2).normal(size=shape)

    value, on_arrays = _heavy_grads(retrograd, F, function, arrays, upstream, False)
    _, recorded = _heavy_grads(retrograd, F, function, arrays, upstream, True)
    for a, b in zip(on_arrays, recorded):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    torch = pytest.importorskip("torch")
    import torch.nn.functional as torch_functional

    expected_value, expected = _heavy_grads(torch, torch_functional, function, arrays, upstream, False)
    np.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-12)
    for a, b in zip(on_arrays, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_max_pool_nan_upstream_reaches_only_the_maxima():
    x = retrograd.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).backward(retrograd.tensor([[[[NAN]]]]))
    assert np.isnan(x.grad.numpy()[0, 0, 1, 1])
    assert x.grad.numpy().ravel()[:3].tolist() == [0.0, 0.0, 0.0]


def test_linear_with_frozen_weight_does_not_save_the_input():
    x = retrograd.randn(2, 3, requires_grad=True)
    w = retrograd.randn(4, 3)
    h = x * 1.0
    y = F.linear(h, w)
    h.add_(1.0)  # PyTorch runs this: the input is not needed for the input's gradient
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.tile(w.numpy().sum(0), (2, 1)), rtol=1e-6)


def test_linear_records_pytorchs_graph():
    x, w, b = retrograd.randn(2, 3, requires_grad=True), retrograd.randn(4, 3, requires_grad=True), \
        retrograd.randn(4, requires_grad=True)
    node = F.linear(x, w, b).grad_fn
    assert type(node).__name__ == "AddmmBackward0"
    assert [type(n).__name__ for n, _ in node.next_functions] == ["AccumulateGrad", "AccumulateGrad", "TBackward0"]
    assert type(F.linear(x, w).grad_fn).__name__ == "MmBackward0"
    assert type(F.linear(retrograd.randn(2, 2, 3), w).grad_fn).__name__ == "UnsafeViewBackward0"
    assert type(F.linear(retrograd.randn(2, 2, 3), w, b).grad_fn).__name__ == "ViewBackward0"


def test_linear_shows_pytorchs_beta_and_alpha_without_keeping_them():
    # linear records addmm with the defaults (no keyword arguments kept per step); the node
    # shows them as PyTorch's shows 1 and 1, and addmm's own call keeps what it was given.
    x, w, b = retrograd.randn(2, 3), retrograd.randn(4, 3, requires_grad=True), retrograd.randn(4)
    node = F.linear(x, w, b).grad_fn
    assert (node._saved_beta, node._saved_alpha) == (1, 1)
    scaled = retrograd.addmm(b, x, w.t(), beta=0.5, alpha=2.0)
    assert (scaled.grad_fn._saved_beta, scaled.grad_fn._saved_alpha) == (0.5, 2.0)
    np.testing.assert_allclose(scaled.detach().numpy(), 0.5 * b.numpy() + 2.0 * x.numpy() @ w.detach().numpy().T,
                               rtol=1e-6)


def test_addmm_sums_a_bias_gradient_over_rows_itself():
    # AddmmBackward0's formula for `self` sums the rows of an array gradient for a row added
    # to each (linear's bias), which the engine would otherwise do: the same sum, same bits.
    from retrograd.autograd.engine import _sum_to_array
    from retrograd.ops.linalg import AddmmBackward0

    grad = np.random.default_rng(0).normal(size=(8, 204))
    summed = AddmmBackward0.derivatives["self"](grad, (204,), 1)
    assert summed.shape == (204,) and summed.tobytes() == _sum_to_array(grad, (204,)).tobytes()
    halved = AddmmBackward0.derivatives["self"](grad, (204,), 0.5)
    assert halved.tobytes() == _sum_to_array(grad * 0.5, (204,)).tobytes()
    # other shapes are left to the engine
    assert AddmmBackward0.derivatives["self"](grad, (8, 204), 1) is grad
    assert AddmmBackward0.derivatives["self"](grad, (1, 204), 1) is grad
    tensor = retrograd.tensor(grad)
    assert AddmmBackward0.derivatives["self"](tensor, (204,), 1) is tensor


@pytest.mark.parametrize("bias_shape", [(4,), (1, 4), (2, 1), (2, 4), ()])
def test_addmm_bias_gradient_of_every_broadcast_shape(bias_shape):
    rng = np.random.default_rng(1)
    x, w = retrograd.tensor(rng.normal(size=(2, 3))), retrograd.tensor(rng.normal(size=(3, 4)))
    b = retrograd.tensor(rng.normal(size=bias_shape), requires_grad=True)
    upstream = rng.normal(size=(2, 4))
    retrograd.addmm(b, x, w, beta=0.5).backward(retrograd.tensor(upstream))
    padded = (1,) * (2 - len(bias_shape)) + bias_shape  # the bias as the (2, 4) result broadcasts it
    summed_dims = tuple(dim for dim, size in enumerate(padded) if size == 1)
    expected = (0.5 * upstream).sum(axis=summed_dims, keepdims=True).reshape(bias_shape)
    assert b.grad.shape == bias_shape
    np.testing.assert_allclose(b.grad.numpy(), expected, rtol=1e-12)


def test_linear_bias_gradient_batched_and_double_backward(monkeypatch):
    import retrograd.autograd._batched as batched_pass

    def row_by_row(*args, **kwargs):
        raise AssertionError("the batched pass failed (a formula is not batch-polymorphic)")

    monkeypatch.setattr(batched_pass, "_row_by_row", row_by_row)
    rng = np.random.default_rng(2)
    x = retrograd.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    w = retrograd.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = retrograd.tensor(rng.normal(size=(4,)), requires_grad=True)
    y = F.linear(x, w, b)
    upstream = rng.normal(size=(5, 2, 4))
    (batched,) = retrograd.autograd.grad(y, b, retrograd.tensor(upstream), retain_graph=True,
                                         is_grads_batched=True)
    np.testing.assert_allclose(batched.numpy(), upstream.sum(axis=1), rtol=1e-12)
    (grad,) = retrograd.autograd.grad((y * y).sum(), b, create_graph=True)
    np.testing.assert_allclose(grad.detach().numpy(), 2 * y.detach().numpy().sum(0), rtol=1e-12)
    (second,) = retrograd.autograd.grad(grad.sum(), x)
    np.testing.assert_allclose(second.numpy(), np.tile(2 * w.detach().numpy().sum(0), (2, 1)), rtol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
def test_embedding_padding_row_gets_no_gradient_even_nan(create_graph):
    weight = retrograd.randn(4, 3, requires_grad=True)
    indices = retrograd.tensor([[0, 1], [1, 3]])
    upstream = np.ones((2, 2, 3))
    upstream[0, 1, 0] = NAN  # reaches the padding lookup only
    (grad,) = retrograd.autograd.grad(F.embedding(indices, weight, padding_idx=1), weight,
                                      retrograd.tensor(upstream, dtype=retrograd.float32),
                                      create_graph=create_graph)
    assert grad.detach().numpy().tolist() == [[1.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3]


@pytest.mark.parametrize(("name", "function", "out_shape"), [
    ("adaptive_avg_pool2d", lambda f, x: f.adaptive_avg_pool2d(x, (3, 2)), (1, 1, 3, 2)),
    ("nearest", lambda f, x: f.interpolate(x, scale_factor=2), (1, 1, 10, 14)),
    ("adaptive_avg_pool1d", lambda f, x: f.adaptive_avg_pool1d(x[0], 3), (1, 5, 3)),
])
def test_nan_upstream_stays_inside_its_window(name, function, out_shape):
    data = np.random.default_rng(0).normal(size=(1, 1, 5, 7))
    upstream = np.ones(out_shape)
    upstream.flat[0] = NAN
    x = retrograd.tensor(data, requires_grad=True)
    (grad,) = retrograd.autograd.grad(function(F, x), x, retrograd.tensor(upstream))
    reached = np.isnan(grad.numpy())
    assert 0 < reached.sum() < reached.size / 2
    torch = pytest.importorskip("torch")
    import torch.nn.functional as torch_functional

    x = torch.tensor(data, requires_grad=True)
    (expected,) = torch.autograd.grad(function(torch_functional, x), x, torch.tensor(upstream))
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_math_keep_where_keeps_selected_bits_and_zeros_the_rest(dtype):
    from retrograd.ops import _math

    values = np.array([[1.5, NAN, -0.0, INF], [-INF, 2.0, NAN, -3.0]], dtype=dtype).T  # not contiguous
    mask = np.array([[True, False], [True, True], [True, False], [False, True]])
    got = _math.keep_where(mask, values)
    expected = np.where(mask, values, 0)
    assert got.dtype == dtype
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
    both = _math.choose(mask, values, values * 2)
    assert np.array_equal(both, np.where(mask, values, values * 2), equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_math_zero_where_zeros_where_the_mask_holds_and_keeps_other_bits(dtype):
    from retrograd.ops import _math

    values = np.array([[1.5, NAN, -0.0, INF], [-INF, 2.0, NAN, -3.0]], dtype=dtype).T  # not contiguous
    mask = np.array([[True, False], [True, True], [True, False], [False, True]])
    got = _math.zero_where(mask, values)
    expected = np.where(mask, 0, values)
    assert got.dtype == dtype
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_relu_backward_on_arrays_passes_the_gradient_where_the_result_is_positive_or_nan():
    from retrograd.ops import _math

    result = np.array([0.0, 2.0, NAN, -NAN, -0.0, INF], dtype=np.float32)
    grad = np.array([NAN, -INF, 3.0, 4.0, INF, -0.0], dtype=np.float32)
    got = _math.threshold_backward(grad, result, 0)
    expected = np.array([0.0, -INF, 3.0, 4.0, 0.0, -0.0], dtype=np.float32)
    assert np.array_equal(got.view(np.int32), expected.view(np.int32))
