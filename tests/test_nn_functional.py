"""retrograd.nn.functional: behaviour beyond the op-table matrix (which checks every op's
first and second derivatives and its values against PyTorch on small samples).

Here: grad_fn names, numerical stability at large magnitudes, in-place variants, dropout's
randomness, batch-norm running statistics, larger cross-checks with PyTorch, and errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retrograd
import retrograd.nn.functional as F
from retrograd.autograd import gradcheck, gradgradcheck


def _tensor(array, requires_grad=False):
    return retrograd.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def _random(shape, seed=0, low=-2.0, high=2.0, requires_grad=False):
    data = np.random.default_rng(seed).uniform(low, high, size=shape)
    return _tensor(data, requires_grad)


# ---------------------------------------------------------------------------
# Names of the recorded operations


@pytest.mark.parametrize(
    ("make_output", "name"),
    [
        (lambda x: F.relu(x), "ReluBackward0"),
        (lambda x: retrograd.relu(x), "ReluBackward0"),
        (lambda x: x.relu(), "ReluBackward0"),
        (lambda x: F.relu6(x), "HardtanhBackward0"),
        (lambda x: F.leaky_relu(x), "LeakyReluBackward0"),
        (lambda x: F.elu(x), "EluBackward0"),
        (lambda x: F.selu(x), "EluBackward0"),
        (lambda x: F.celu(x), "CeluBackward0"),
        (lambda x: F.gelu(x, approximate="tanh"), "GeluBackward0"),
        (lambda x: F.silu(x), "SiluBackward0"),
        (lambda x: F.mish(x), "MishBackward0"),
        (lambda x: F.softplus(x), "SoftplusBackward0"),
        (lambda x: F.softsign(x), "DivBackward0"),
        (lambda x: F.hardsigmoid(x), "HardsigmoidBackward0"),
        (lambda x: F.hardswish(x), "HardswishBackward0"),
        (lambda x: F.logsigmoid(x), "LogSigmoidBackward0"),
        (lambda x: retrograd.sigmoid(x), "SigmoidBackward0"),
        (lambda x: x.tanh(), "TanhBackward0"),
        (lambda x: retrograd.softmax(x, 1), "SoftmaxBackward0"),
        (lambda x: F.softmin(x, 1), "SoftmaxBackward0"),
        (lambda x: x.log_softmax(1), "LogSoftmaxBackward0"),
        (lambda x: F.normalize(x), "DivBackward0"),
        (lambda x: F.linear(x, _random((4, 3))), "MmBackward0"),
        (lambda x: F.linear(x, _random((4, 3)), _random((4,))), "AddmmBackward0"),
        (lambda x: F.layer_norm(x, (3,)), "NativeLayerNormBackward0"),
        (lambda x: F.mse_loss(x, _random((2, 3))), "MseLossBackward0"),
        (lambda x: F.l1_loss(x, _random((2, 3))), "MeanBackward0"),
        (lambda x: F.smooth_l1_loss(x, _random((2, 3))), "SmoothL1LossBackward0"),
        (lambda x: F.huber_loss(x, _random((2, 3))), "HuberLossBackward0"),
        (lambda x: F.nll_loss(x, retrograd.tensor([0, 2])), "NllLossBackward0"),
        (lambda x: F.cross_entropy(x, retrograd.tensor([0, 2])), "NllLossBackward0"),
        (lambda x: F.binary_cross_entropy_with_logits(x, _random((2, 3), 0, 0, 1)),
         "BinaryCrossEntropyWithLogitsBackward0"),
        (lambda x: F.binary_cross_entropy(x.sigmoid(), _random((2, 3), 0, 0, 1)),
         "BinaryCrossEntropyBackward0"),
        (lambda x: F.kl_div(x, _random((2, 3), 0, 0, 1), reduction="batchmean"), "DivBackward0"),
        (lambda x: F.cosine_similarity(x, _random((2, 3))), "SumBackward1"),
        (lambda x: F.dropout(x), "MulBackward0"),
    ],
)
def test_grad_fn_names_match_pytorch(make_output, name):
    x = _random((2, 3), requires_grad=True)
    assert type(make_output(x).grad_fn).__name__ == name


@pytest.mark.parametrize(
    ("make_output", "name"),
    [
        (lambda x: F.conv2d(x, _random((2, 2, 2, 2))), "ConvolutionBackward0"),
        (lambda x: F.conv_transpose2d(x, _random((2, 3, 2, 2))), "ConvolutionBackward0"),
        (lambda x: F.max_pool2d(x, 2), "MaxPool2DWithIndicesBackward0"),
        (lambda x: F.avg_pool2d(x, 2), "AvgPool2DBackward0"),
        (lambda x: F.adaptive_avg_pool2d(x, 2), "AdaptiveAvgPool2DBackward0"),
        (lambda x: F.adaptive_avg_pool2d(x, 1), "MeanBackward1"),  # PyTorch's shortcut to a mean
        (lambda x: F.pad(x, (1, 1)), "ConstantPadNdBackward0"),
        (lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect"), "ReflectionPad2DBackward0"),
        (lambda x: F.pad(x.reshape(2, 4, 4), (1, 1, 1, 1), mode="replicate"), "ReplicationPad2DBackward0"),
        (lambda x: F.batch_norm(x, None, None, training=True), "NativeBatchNormBackward0"),
        (lambda x: F.group_norm(x, 1), "NativeGroupNormBackward0"),
    ],
)
def test_grad_fn_names_of_image_ops_match_pytorch(make_output, name):
    x = _random((1, 2, 4, 4), requires_grad=True)
    assert type(make_output(x).grad_fn).__name__ == name


def test_conv1d_records_a_convolution_node():
    x = _random((1, 2, 5), requires_grad=True)
    assert type(F.conv1d(x, _random((3, 2, 2))).grad_fn).__name__ == "ConvolutionBackward0"


def test_embedding_records_an_embedding_node():
    weight = _random((4, 3), requires_grad=True)
    assert type(F.embedding(retrograd.tensor([1, 3]), weight).grad_fn).__name__ == "EmbeddingBackward0"


# ---------------------------------------------------------------------------
# Numerical stability


def test_softmax_of_large_values_does_not_overflow():
    result = F.softmax(retrograd.tensor([1e4, 0.0, 1e4]), dim=0)
    np.testing.assert_allclose(result.numpy(), [0.5, 0.0, 0.5])


def test_log_softmax_of_large_values_is_finite_and_exact():
    result = F.log_softmax(_tensor([1e4, 0.0]), dim=0)
    np.testing.assert_allclose(result.numpy(), [0.0, -1e4])


def test_softmax_gradient_at_large_values_is_finite():
    x = _tensor([[1e4, -1e4, 3.0]], requires_grad=True)
    (F.softmax(x, 1) * _tensor([[1.0, 2.0, 3.0]])).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_cross_entropy_of_huge_logits_is_the_logit_gap():
    logits = _tensor([[1e4, -1e4], [0.0, 5e3]], requires_grad=True)
    loss = F.cross_entropy(logits, retrograd.tensor([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [2e4, 5e3])
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), [[1.0, -1.0], [-1.0, 1.0]])


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits():
    logits = _tensor([1e4, -1e4, 1e4], requires_grad=True)
    targets = _tensor([1.0, 0.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1e4])
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), [0.0, 0.0, 1.0])


def test_binary_cross_entropy_floors_log_at_minus_100():
    loss = F.binary_cross_entropy(_tensor([0.0, 1.0]), _tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "logsigmoid", "silu", "mish", "gelu", "elu"])
def test_smooth_activations_are_finite_at_huge_inputs(name):
    x = _tensor([-1e4, -800.0, 800.0, 1e4], requires_grad=True)
    out = getattr(F, name)(x)
    out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


# ---------------------------------------------------------------------------
# Closed forms and gradients


def test_relu_zeroes_negatives_and_passes_gradient_only_where_positive():
    x = _tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = F.relu(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_relu_keeps_integer_dtype():
    result = F.relu(retrograd.tensor([-2, 3]))
    assert result.dtype is retrograd.int64
    assert result.tolist() == [0, 3]


def test_sigmoid_of_integers_is_float():
    assert retrograd.sigmoid(retrograd.tensor([0])).dtype is retrograd.float32


def test_softmax_rows_sum_to_one():
    result = F.softmax(_random((3, 4)), dim=1)
    np.testing.assert_allclose(result.sum(1).numpy(), np.ones(3))


def test_softmax_without_dim_warns_and_uses_dim_1_for_2d():
    x = _random((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        result = F.softmax(x)
    np.testing.assert_allclose(result.numpy(), F.softmax(x, 1).numpy())


def test_softmax_with_dtype_casts_first():
    result = F.softmax(retrograd.tensor([1.0, 2.0]), dim=0, dtype=retrograd.float64)
    assert result.dtype is retrograd.float64


def test_log_softmax_hessian_vector_product():
    x = _random((2, 3), requires_grad=True)
    assert gradgradcheck(lambda value: F.log_softmax(value, 1), (x,))


def test_sigmoid_saves_its_output_so_changing_it_in_place_breaks_backward():
    x = _random((3,), requires_grad=True)
    y = retrograd.sigmoid(x)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_in_place_activations_record_their_node_and_bump_the_version():
    x = _random((2, 3), requires_grad=True)
    for method, name in [("relu_", "ReluBackward0"), ("sigmoid_", "SigmoidBackward0"),
                         ("tanh_", "TanhBackward0")]:
        y = x * 1
        version = y._version
        getattr(y, method)()
        assert type(y.grad_fn).__name__ == name
        assert y._version == version + 1


def test_functional_relu_in_place_changes_the_input():
    x = _tensor([-1.0, 2.0])
    result = F.relu(x, inplace=True)
    assert result is x
    assert x.tolist() == [0.0, 2.0]


def test_in_place_relu_on_a_leaf_that_requires_grad_is_refused():
    x = _tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.relu_()
    assert x.tolist() == [-1.0, 2.0]


def test_gelu_closed_form():
    x = _tensor([-1.0, 0.0, 2.0])
    expected = [value * 0.5 * (1 + math.erf(value / math.sqrt(2))) for value in (-1.0, 0.0, 2.0)]
    np.testing.assert_allclose(F.gelu(x).numpy(), expected, rtol=1e-14)


def test_linear_matches_matrix_product_with_leading_dims():
    x, weight, bias = _random((2, 4, 3), 1), _random((5, 3), 2), _random((5,), 3)
    expected = x.numpy() @ weight.numpy().T + bias.numpy()
    np.testing.assert_allclose(F.linear(x, weight, bias).numpy(), expected)


def test_conv2d_double_backward_passes_gradgradcheck_in_input_and_weight():
    x = _random((1, 2, 4, 4), 1, requires_grad=True)
    weight = _random((2, 1, 2, 2), 2, requires_grad=True)

    def convolve(image, kernel):
        return F.conv2d(image, kernel, stride=2, padding=1, groups=2)

    assert gradcheck(convolve, (x, weight))
    assert gradgradcheck(convolve, (x, weight))


def test_nll_loss_mean_divides_by_the_total_weight_of_the_kept_targets():
    log_probabilities = _tensor(np.log([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]))
    weight = _tensor([1.0, 3.0])
    target = retrograd.tensor([1, 0, -100])
    loss = F.nll_loss(log_probabilities, target, weight=weight)
    expected = -(3 * math.log(0.8) + 1 * math.log(0.6)) / 4
    assert loss.item() == pytest.approx(expected)


def test_nll_loss_of_only_ignored_targets_is_nan():
    loss = F.nll_loss(_random((2, 3)), retrograd.tensor([-100, -100]))
    assert math.isnan(loss.item())


# ---------------------------------------------------------------------------
# Dropout


def test_dropout_is_repeatable_with_manual_seed():
    x = retrograd.ones(100)
    retrograd.manual_seed(7)
    first = F.dropout(x, 0.3)
    retrograd.manual_seed(7)
    second = F.dropout(x, 0.3)
    assert first.tolist() == second.tolist()


def test_dropout_zeroes_about_p_and_scales_the_rest():
    retrograd.manual_seed(0)
    result = F.dropout(retrograd.ones(10000), 0.25).numpy()
    kept = result != 0
    np.testing.assert_allclose(result[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02


def test_dropout_in_eval_returns_the_input_itself():
    x = _random((3,))
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_with_p_one_gives_zeros():
    assert F.dropout(retrograd.ones(4), 1.0).tolist() == [0.0] * 4


def test_dropout_gradient_is_the_mask():
    retrograd.manual_seed(3)
    x = retrograd.ones(20, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_dropout2d_drops_whole_channels():
    retrograd.manual_seed(1)
    result = F.dropout2d(retrograd.ones(4, 8, 3, 3), 0.5).numpy()
    per_channel = result.reshape(4, 8, 9)
    assert (per_channel == per_channel[..., :1]).all()
    assert set(np.unique(result)) <= {0.0, 2.0}


def test_dropout1d_drops_whole_channels_of_unbatched_input():
    retrograd.manual_seed(2)
    result = F.dropout1d(retrograd.ones(6, 5), 0.5).numpy()
    assert (result == result[:, :1]).all()


def test_dropout_rejects_a_probability_outside_0_1():
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, but got 1\.5"):
        F.dropout(retrograd.ones(2), 1.5)


# ---------------------------------------------------------------------------
# Normalisation


def test_batch_norm_training_updates_running_statistics_in_place():
    x = _random((4, 3, 2), 5)
    running_mean, running_var = retrograd.zeros(3, dtype=retrograd.float64), retrograd.ones(
        3, dtype=retrograd.float64
    )
    version = running_mean._version
    F.batch_norm(x, running_mean, running_var, training=True, momentum=0.2)
    data = x.numpy()
    np.testing.assert_allclose(running_mean.numpy(), 0.2 * data.mean(axis=(0, 2)))
    np.testing.assert_allclose(running_var.numpy(), 0.8 + 0.2 * data.var(axis=(0, 2), ddof=1))
    assert running_mean._version == version + 1


def test_batch_norm_eval_uses_the_running_statistics():
    x = _random((2, 2))
    result = F.batch_norm(x, _tensor([1.0, -1.0]), _tensor([4.0, 1.0]), eps=0.0)
    np.testing.assert_allclose(result.numpy(), (x.numpy() - [1.0, -1.0]) / [2.0, 1.0])


def test_batch_norm_training_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(_random((1, 3)), None, None, training=True)


def test_layer_norm_output_has_zero_mean_and_unit_variance():
    result = F.layer_norm(_random((3, 5)), (5,), eps=0.0).numpy()
    np.testing.assert_allclose(result.mean(1), 0, atol=1e-12)
    np.testing.assert_allclose(result.var(1), 1)


# ---------------------------------------------------------------------------
# Cross-checks with PyTorch on larger inputs


def _both(shape, seed, torch, low=-2.0, high=2.0):
    data = np.random.default_rng(seed).uniform(low, high, size=shape)
    return _tensor(data, True), torch.tensor(data, requires_grad=True)


def _assert_same_values_and_grads(ours, theirs, our_inputs, their_inputs):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(9).standard_normal(tuple(theirs.shape))
    (ours * _tensor(weights)).sum().backward()
    (theirs * theirs.new_tensor(weights)).sum().backward()
    for mine, reference in zip(our_inputs, their_inputs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"stride": 2, "padding": 1},
        {"stride": (2, 1), "padding": (0, 2), "dilation": (1, 2)},
        {"groups": 2, "padding": "same"},
        {"padding": "valid", "dilation": 2},
    ],
)
def test_conv2d_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 4, 7, 6), 1, torch)
    groups = options.get("groups", 1)
    weight, weight_ref = _both((6, 4 // groups, 3, 2), 2, torch)
    bias, bias_ref = _both((6,), 3, torch)
    ours = F.conv2d(x, weight, bias, **options)
    theirs = torch.nn.functional.conv2d(x_ref, weight_ref, bias_ref, **options)
    _assert_same_values_and_grads(ours, theirs, (x, weight, bias), (x_ref, weight_ref, bias_ref))


@pytest.mark.parametrize(
    "options",
    [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 2, "dilation": 2, "stride": (1, 3)}],
)
def test_conv_transpose2d_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 4, 4, 5), 1, torch)
    groups = options.get("groups", 1)
    weight, weight_ref = _both((4, 6 // groups, 3, 2), 2, torch)
    bias, bias_ref = _both((6,), 3, torch)
    ours = F.conv_transpose2d(x, weight, bias, **options)
    theirs = torch.nn.functional.conv_transpose2d(x_ref, weight_ref, bias_ref, **options)
    _assert_same_values_and_grads(ours, theirs, (x, weight, bias), (x_ref, weight_ref, bias_ref))


def test_conv1d_matches_pytorch():
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 3, 11), 1, torch)
    weight, weight_ref = _both((4, 3, 3), 2, torch)
    ours = F.conv1d(x, weight, stride=2, padding=1, dilation=2)
    theirs = torch.nn.functional.conv1d(x_ref, weight_ref, stride=2, padding=1, dilation=2)
    _assert_same_values_and_grads(ours, theirs, (x, weight), (x_ref, weight_ref))


@pytest.mark.parametrize(
    "options",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": (3, 2), "stride": 2, "ceil_mode": True},
        {"kernel_size": 2, "dilation": 2, "padding": 1},
    ],
)
def test_max_pool2d_values_indices_and_grads_match_pytorch(options):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 3, 7, 6), 4, torch)
    ours, our_indices = F.max_pool2d(x, return_indices=True, **options)
    theirs, their_indices = torch.nn.functional.max_pool2d(x_ref, return_indices=True, **options)
    np.testing.assert_array_equal(our_indices.numpy(), their_indices.numpy())
    assert our_indices.dtype is retrograd.int64 and not our_indices.requires_grad
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


@pytest.mark.parametrize(
    "options",
    [
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True},
        {"kernel_size": 2, "ceil_mode": True},
    ],
)
def test_avg_pool2d_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 3, 7, 6), 4, torch)
    ours = F.avg_pool2d(x, **options)
    theirs = torch.nn.functional.avg_pool2d(x_ref, **options)
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


@pytest.mark.parametrize("output_size", [(3, 2), 1, (5, None)])
def test_adaptive_avg_pool2d_matches_pytorch(output_size):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 3, 7, 5), 4, torch)
    ours = F.adaptive_avg_pool2d(x, output_size)
    theirs = torch.nn.functional.adaptive_avg_pool2d(x_ref, output_size)
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


@pytest.mark.parametrize(
    ("pad", "mode"),
    [((2, 1, 0, 3), "constant"), ((-1, 2), "constant"), ((3, 2, 1, 2), "reflect"),
     ((4, 1, 2, 0), "replicate"), ((2, 3, 1, 1), "circular")],
)
def test_pad_matches_pytorch(pad, mode):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 3, 4, 5), 4, torch)
    ours = F.pad(x, pad, mode=mode)
    theirs = torch.nn.functional.pad(x_ref, pad, mode=mode)
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


def test_embedding_with_padding_idx_and_repeats_matches_pytorch():
    torch = pytest.importorskip("torch")
    weight, weight_ref = _both((5, 3), 4, torch)
    indices = [[0, 2, 2], [4, 2, 1]]
    ours = F.embedding(retrograd.tensor(indices), weight, padding_idx=2)
    theirs = torch.nn.functional.embedding(torch.tensor(indices), weight_ref, padding_idx=2)
    _assert_same_values_and_grads(ours, theirs, (weight,), (weight_ref,))
    assert not weight.grad.numpy()[2].any()


@pytest.mark.parametrize(
    "options",
    [
        {"weight": [0.5, 2.0, 1.0, 3.0], "ignore_index": 1, "label_smoothing": 0.15},
        {"label_smoothing": 0.4, "reduction": "sum"},
        {"weight": [0.5, 2.0, 1.0, 3.0], "reduction": "none", "label_smoothing": 0.2},
    ],
)
def test_cross_entropy_with_class_indices_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((5, 4, 2), 4, torch)
    target = [[0, 1], [3, 2], [1, 1], [2, 0], [3, 3]]
    ours_options, their_options = dict(options), dict(options)
    if "weight" in options:
        ours_options["weight"] = _tensor(options["weight"])
        their_options["weight"] = torch.tensor(options["weight"], dtype=torch.float64)
    ours = F.cross_entropy(x, retrograd.tensor(target), **ours_options)
    theirs = torch.nn.functional.cross_entropy(x_ref, torch.tensor(target), **their_options)
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


def test_cross_entropy_with_probability_targets_matches_pytorch():
    torch = pytest.importorskip("torch")
    x, x_ref = _both((3, 4), 4, torch)
    target = np.random.default_rng(1).dirichlet(np.ones(4), size=3)
    ours = F.cross_entropy(x, _tensor(target), label_smoothing=0.1)
    theirs = torch.nn.functional.cross_entropy(x_ref, torch.tensor(target), label_smoothing=0.1)
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


def test_batch_norm_running_statistics_match_pytorch():
    torch = pytest.importorskip("torch")
    x, x_ref = _both((4, 3, 5), 4, torch)
    mean, var = retrograd.zeros(3, dtype=retrograd.float64), retrograd.ones(3, dtype=retrograd.float64)
    mean_ref, var_ref = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    ours = F.batch_norm(x, mean, var, training=True)
    theirs = torch.nn.functional.batch_norm(x_ref, mean_ref, var_ref, training=True)
    np.testing.assert_allclose(mean.numpy(), mean_ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), var_ref.numpy(), rtol=1e-12)
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


@pytest.mark.parametrize("name", ["cosine_similarity", "normalize"])
def test_norm_based_functions_match_pytorch_at_tiny_norms(name):
    torch = pytest.importorskip("torch")
    data = np.array([[1e-10, 2e-10, 0.0], [3.0, 4.0, 5.0]])
    other = np.array([[1e-9, -1e-10, 1e-10], [1.0, 1.0, 1.0]])
    if name == "normalize":
        ours, theirs = F.normalize(_tensor(data)), torch.nn.functional.normalize(torch.tensor(data))
    else:
        ours = F.cosine_similarity(_tensor(data), _tensor(other))
        theirs = torch.nn.functional.cosine_similarity(torch.tensor(data), torch.tensor(other))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_float32_inputs_give_float32_results():
    x = retrograd.randn(2, 3, 5, 5)
    weight = retrograd.randn(4, 3, 3, 3)
    assert F.conv2d(x, weight).dtype is retrograd.float32
    assert F.max_pool2d(x, 2).dtype is retrograd.float32
    assert F.layer_norm(x, (5,)).dtype is retrograd.float32
    assert F.batch_norm(x, None, None, training=True).dtype is retrograd.float32


# ---------------------------------------------------------------------------
# Errors, with PyTorch's types and messages


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: F.nll_loss(_random((3, 5)), retrograd.tensor([0, 1])), ValueError,
         r"Expected input batch_size \(3\) to match target batch_size \(2\)\."),
        (lambda: F.nll_loss(_random((3, 5)), retrograd.tensor([0, 1, 5])), IndexError,
         "Target 5 is out of bounds."),
        (lambda: F.cross_entropy(_random((3, 5)), retrograd.tensor([0, -3, 1])), IndexError,
         "Target -3 is out of bounds."),
        (lambda: F.binary_cross_entropy(_random((3,), 0, 0.1, 0.9), _random((3, 1))), ValueError,
         "Using a target size"),
        (lambda: F.binary_cross_entropy(_tensor([1.5]), _tensor([1.0])), RuntimeError,
         "all elements of input should be between 0 and 1"),
        (lambda: F.binary_cross_entropy_with_logits(_random((3, 5)), _random((3,))), ValueError,
         r"Target size \(retrograd.Size\(\[3\]\)\) must be the same as input size"),
        (lambda: F.conv2d(_random((1, 3, 5, 5)), _random((2, 4, 3, 3))), RuntimeError,
         r"expected input\[1, 3, 5, 5\] to have 4 channels, but got 3 channels instead"),
        (lambda: F.conv2d(_random((1, 3, 2, 2)), _random((2, 3, 3, 3))), RuntimeError,
         "Kernel size can't be greater than actual input size"),
        (lambda: F.conv2d(_random((3, 5)), _random((2, 3, 3, 3))), RuntimeError,
         r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"),
        (lambda: F.conv2d(_random((1, 3, 5, 5)), _random((2, 3, 3, 3)), padding="same", stride=2),
         RuntimeError, "padding='same' is not supported for strided convolutions"),
        (lambda: F.conv2d(_random((1, 2, 4, 4)).float(), _random((3, 2, 2, 2))), RuntimeError,
         "expected scalar type Float but found Double"),
        (lambda: F.conv2d(_random((1, 2, 4, 4)), _random((3, 2, 2, 2)), _random((3,)).float()), RuntimeError,
         r"Input type \(double\) and bias type \(float\) should be the same"),
        (lambda: F.linear(_random((2, 3)).float(), _random((4, 3))), RuntimeError,
         "expected m1 and m2 to have the same dtype, but got: float != double"),
        (lambda: F.linear(_random((2, 3)), _random((4, 5))), RuntimeError,
         r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\)"),
        (lambda: F.embedding(retrograd.tensor([7]), _random((4, 5))), IndexError,
         "index out of range in self"),
        (lambda: F.max_pool2d(_random((1, 1, 4, 4)), 2, padding=2), RuntimeError,
         "pad should be at most half of effective kernel size"),
        (lambda: F.layer_norm(_random((2, 3)), (4,)), RuntimeError,
         r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]"),
        (lambda: F.group_norm(_random((2, 3, 4)), 2), RuntimeError,
         "Expected number of channels in input to be divisible by num_groups"),
        (lambda: F.softmax(_random((3, 5)), 2), IndexError, "Dimension out of range"),
        (lambda: F.pad(_random((1, 2, 3)), (3, 3), mode="reflect"), RuntimeError,
         "Padding size should be less than the corresponding input dimension"),
        (lambda: F.pad(_random((1, 2, 3, 3)), (1, 1), mode="reflect"), NotImplementedError,
         "Padding size 2 is not supported for 4D input tensor"),
        (lambda: F.mse_loss(_random((2,)), _random((2,)), reduction="avg"), ValueError,
         "avg is not a valid value for reduction"),
    ],
)
def test_bad_input_raises_pytorchs_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_failed_in_place_activation_leaves_the_tensor_unchanged():
    x = retrograd.tensor([-1, 2])
    version = x._version
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.sigmoid_()
    assert x.tolist() == [-1, 2]
    assert x._version == version


def test_relu_saves_its_result_so_changing_the_input_afterwards_is_allowed():
    x = _random((3,), requires_grad=True) * 1
    y = F.relu(x)
    x.add_(1)
    np.testing.assert_array_equal(y.grad_fn._saved_result.detach().numpy(), y.detach().numpy())
    y.sum().backward()


def test_convolution_node_exposes_its_saved_input_weight_and_settings():
    x, weight = _random((1, 2, 4, 4), requires_grad=True), _random((3, 2, 2, 2))
    node = F.conv2d(x, weight, stride=2).grad_fn
    assert node._saved_input.shape == (1, 2, 4, 4)
    assert node._saved_weight.shape == (3, 2, 2, 2)
    assert node._saved_stride == (2, 2)


# ---------------------------------------------------------------------------
# The wider functional API


@pytest.mark.parametrize(
    ("make_output", "name"),
    [
        (lambda x: F.threshold(x, 0.1, 2.0), "ThresholdBackward0"),
        (lambda x: F.hardshrink(x), "HardshrinkBackward0"),
        (lambda x: F.softshrink(x), "SoftshrinkBackward0"),
        (lambda x: F.max_pool1d(x, 2), "SqueezeBackward1"),
        (lambda x: F.avg_pool1d(x, 2), "SqueezeBackward1"),
        (lambda x: F.interpolate(x, scale_factor=2), "UpsampleNearest1DBackward0"),
        (lambda x: F.interpolate(x, size=7, mode="linear"), "UpsampleLinear1DBackward0"),
        (lambda x: F.interpolate(x.reshape(1, 2, 3, 4), scale_factor=1.5, mode="bilinear"),
         "UpsampleBilinear2DBackward0"),
        (lambda x: F.conv_transpose1d(x, _random((3, 2, 2))), "ConvolutionBackward0"),
        (lambda x: F.tanhshrink(x), "SubBackward0"),
    ],
)
def test_grad_fn_names_of_more_functions_match_pytorch(make_output, name):
    x = _random((2, 3, 4), requires_grad=True)
    assert type(make_output(x).grad_fn).__name__ == name


@pytest.mark.parametrize(
    ("name", "args"),
    [("relu_", ()), ("elu_", (0.5,)), ("selu_", ()), ("celu_", (2.0,)), ("leaky_relu_", (0.3,)),
     ("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.2, -1.0))],
)
def test_functional_in_place_forms_write_into_their_input(name, args):
    data = np.random.default_rng(0).uniform(-2, 2, 6)
    x = _tensor(data)
    out_of_place = getattr(F, name[:-1])(_tensor(data), *args)
    result = getattr(F, name)(x, *args)
    assert result is x
    np.testing.assert_allclose(x.numpy(), out_of_place.numpy())


def test_rrelu_in_eval_uses_the_mean_slope():
    x = _tensor([-2.0, 3.0])
    np.testing.assert_allclose(F.rrelu(x, 0.1, 0.3).numpy(), [-0.4, 3.0])


def test_rrelu_in_training_draws_slopes_in_range_repeatably():
    x = -retrograd.ones(1000, dtype=retrograd.float64)
    retrograd.manual_seed(5)
    first = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    retrograd.manual_seed(5)
    second = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    np.testing.assert_array_equal(first, second)
    assert ((-first >= 0.1) & (-first <= 0.3)).all()


def test_dropout3d_drops_whole_channels():
    retrograd.manual_seed(4)
    result = F.dropout3d(retrograd.ones(2, 6, 2, 2, 2), 0.5).numpy().reshape(2, 6, 8)
    assert (result == result[..., :1]).all()


def test_max_pool_with_indices_aliases_return_both():
    values, indices = F.max_pool2d_with_indices(_random((1, 1, 4, 4)), 2)
    assert values.shape == indices.shape == (1, 1, 2, 2)


def test_upsample_is_a_deprecated_interpolate():
    x = _random((1, 1, 2, 2))
    with pytest.warns(UserWarning, match="deprecated"):
        result = F.upsample(x, scale_factor=2)
    np.testing.assert_array_equal(result.numpy(), F.interpolate(x, scale_factor=2).numpy())


def test_glu_matches_pytorch():
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 6), 3, torch)
    _assert_same_values_and_grads(F.glu(x), torch.nn.functional.glu(x_ref), (x,), (x_ref,))


def test_instance_norm_running_statistics_match_pytorch():
    torch = pytest.importorskip("torch")
    x, x_ref = _both((3, 2, 5), 4, torch)
    mean, var = retrograd.zeros(2, dtype=retrograd.float64), retrograd.ones(2, dtype=retrograd.float64)
    mean_ref, var_ref = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    ours = F.instance_norm(x, mean, var)
    theirs = torch.nn.functional.instance_norm(x_ref, mean_ref, var_ref)
    np.testing.assert_allclose(mean.numpy(), mean_ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), var_ref.numpy(), rtol=1e-12)
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


@pytest.mark.parametrize(
    "options",
    [{"size": (9, 2), "mode": "bilinear"}, {"scale_factor": (2.5, 0.5), "mode": "bilinear", "align_corners": True},
     {"scale_factor": 3, "mode": "nearest"}, {"size": (4, 11), "mode": "nearest-exact"},
     {"scale_factor": 0.7, "mode": "bilinear", "recompute_scale_factor": True}],
)
def test_interpolate_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 3, 5, 6), 4, torch)
    _assert_same_values_and_grads(
        F.interpolate(x, **options), torch.nn.functional.interpolate(x_ref, **options), (x,), (x_ref,)
    )


def test_scaled_dot_product_attention_matches_pytorch_with_causal_mask():
    torch = pytest.importorskip("torch")
    query, query_ref = _both((2, 2, 5, 4), 1, torch)
    key, key_ref = _both((2, 2, 5, 4), 2, torch)
    value, value_ref = _both((2, 2, 5, 3), 3, torch)
    ours = F.scaled_dot_product_attention(query, key, value, is_causal=True)
    theirs = torch.nn.functional.scaled_dot_product_attention(query_ref, key_ref, value_ref, is_causal=True)
    _assert_same_values_and_grads(ours, theirs, (query, key, value), (query_ref, key_ref, value_ref))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: F.interpolate(_random((1, 1, 2, 2))), ValueError, "either size or scale_factor should be defined"),
        (lambda: F.interpolate(_random((1, 1, 2, 2)), size=3, scale_factor=2), ValueError,
         "only one of size or scale_factor should be defined"),
        (lambda: F.interpolate(_random((1, 1, 2, 2)), size=3, align_corners=True), ValueError,
         "align_corners option can only be set with the interpolating modes"),
        (lambda: F.interpolate(_random((1, 1, 2, 2)), size=3, mode="linear"), NotImplementedError,
         "Got 4D input, but linear mode needs 3D input"),
        (lambda: F.glu(_random((2, 3))), RuntimeError, "Halving dimension must be even"),
        (lambda: F.prelu(_random((2, 3)), _random((2,))), RuntimeError,
         "Mismatch of parameter numbers and input channel size"),
        (lambda: F.soft_margin_loss(_random((2,)), _random((2,), requires_grad=True)), RuntimeError,
         "not differentiable with respect to argument 'target'"),
        (lambda: F.fold(_random((1, 4, 5)), (3, 4), 2), RuntimeError,
         "expected size of input's dimension 2 to match the calculated number of sliding blocks"),
    ],
)
def test_bad_input_to_the_wider_api_raises_pytorchs_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("output_size", [(2, 3), 1, (5, None)])
def test_adaptive_max_pool2d_values_indices_and_grads_match_pytorch(output_size):
    torch = pytest.importorskip("torch")
    x, x_ref = _both((2, 3, 7, 5), 4, torch)
    ours, our_indices = F.adaptive_max_pool2d(x, output_size, return_indices=True)
    theirs, their_indices = torch.nn.functional.adaptive_max_pool2d(x_ref, output_size, return_indices=True)
    np.testing.assert_array_equal(our_indices.numpy(), their_indices.numpy())
    _assert_same_values_and_grads(ours, theirs, (x,), (x_ref,))


def test_embedding_max_norm_rescales_the_looked_up_rows_in_place_as_pytorch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(2).normal(0, 3, (5, 3))
    weight, weight_ref = _tensor(data), torch.tensor(data)
    indices = [[1, 1], [3, 0]]
    ours = F.embedding(retrograd.tensor(indices), weight, max_norm=1.5, norm_type=1.0)
    theirs = torch.nn.functional.embedding(torch.tensor(indices), weight_ref, max_norm=1.5, norm_type=1.0)
    np.testing.assert_allclose(weight.numpy(), weight_ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape", [(0, 2, 4, 6), (1, 2, 0, 6), (2, 0, 4, 6)])
def test_pixel_unshuffle_of_an_empty_input_keeps_its_shape(shape):
    """As PyTorch (which returns a copy of an empty input); pixel_shuffle reshapes as usual."""
    x = retrograd.zeros(*shape, requires_grad=True)
    result = retrograd.nn.functional.pixel_unshuffle(x, 2)
    assert tuple(result.shape) == shape and result.grad_fn is not None
    assert tuple(retrograd.nn.functional.pixel_shuffle(retrograd.zeros(0, 8, 2, 3), 2).shape) == (0, 2, 4, 6)


def test_pixel_unshuffle_names_the_size_that_does_not_divide():
    with pytest.raises(RuntimeError, match=r"expects width to be divisible by downscale_factor, but input.size\(-1\)=5"):
        retrograd.nn.functional.pixel_unshuffle(retrograd.zeros(1, 2, 4, 5), 2)


@pytest.mark.parametrize(
    ("shape", "target", "options"),
    [
        ((4, 5), [1, 0, 4, 2], {}),
        ((4, 5), [1, -100, 4, -100], {"reduction": "sum"}),
        ((4, 5), [3, 2, 3, 0], {"ignore_index": 3, "weight": [0.5, 2.0, 1.0, 3.0, 0.25]}),
        ((3, 5), [2, 2, 2], {"ignore_index": 2}),  # every target ignored: loss NaN, gradient 0
        ((2, 5, 3), [[1, 0, 4], [-100, 2, 2]], {"reduction": "none"}),
        ((5,), 3, {}),
    ],
)
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_target_losses_match_pytorch_with_ignored_targets_and_weights(name, shape, target, options):
    torch = pytest.importorskip("torch")
    x, x_ref = _both(shape, 4, torch)
    weight = options.get("weight")
    ours_options = {**options, "weight": None if weight is None else _tensor(np.array(weight))}
    theirs_options = {**options, "weight": None if weight is None else torch.tensor(weight, dtype=torch.float64)}
    ours = getattr(F, name)(x, retrograd.tensor(target), **ours_options)
    theirs = getattr(torch.nn.functional, name)(x_ref, torch.tensor(target), **theirs_options)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, equal_nan=True)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x_ref.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_target_mean_over_no_kept_target_is_nan_without_a_warning(name, dtype):
    """0 / 0 of the mean, silently (PyTorch warns nothing either); the gradient is zero."""
    x = _tensor(np.arange(15, dtype=dtype).reshape(3, 5) / 7, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = getattr(F, name)(x, retrograd.tensor([2, 2, 2]), ignore_index=2)
        loss.backward()
    assert np.isnan(loss.item()) and not x.grad.numpy().any()


@pytest.mark.parametrize(
    ("target", "first_out_of_bounds"), [([-100, 7, -2], 7), ([1, -100, -3, 9], -3), ([-100, 0, 6], 6)]
)
def test_nll_loss_names_the_first_kept_target_out_of_bounds(target, first_out_of_bounds):
    x = _random((len(target), 5), requires_grad=True)
    with pytest.raises(IndexError, match=f"Target {first_out_of_bounds} is out of bounds."):
        F.nll_loss(x, retrograd.tensor(target))
    assert x.grad is None
