"""nn.utils beyond clipping basics: get_total_norm / clip_grads_with_norm_ (the two halves of
clip_grad_norm_), the deprecated names, BatchNorm fusion, skip_init, stateless and the memory
formats; against closed forms and PyTorch."""

import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn
from retrograd.nn import utils


def _with_grads(grads, dtype=retrograd.float32):
    parameters = []
    for grad in grads:
        parameter = nn.Parameter(retrograd.zeros(len(grad), dtype=dtype))
        parameter.grad = retrograd.tensor(grad, dtype=dtype)
        parameters.append(parameter)
    return parameters


# ---------------------------------------------------------------------------
# get_total_norm, clip_grads_with_norm_, clip_grad_norm_, clip_grad_norm


def test_get_total_norm_is_the_norm_of_all_tensors_as_one_vector():
    total = utils.get_total_norm([retrograd.tensor([3.0]), retrograd.tensor([[4.0, 0.0]])])
    assert total.item() == 5.0 and total.dtype == retrograd.float32


def test_get_total_norm_promotes_the_norms_as_stack_does():
    tensors = [retrograd.ones(2, dtype=retrograd.float64), retrograd.ones(2)]
    assert utils.get_total_norm(tensors).dtype == retrograd.float64


def test_get_total_norm_of_nothing_is_a_float32_zero():
    total = utils.get_total_norm([])
    assert total.item() == 0.0 and total.dtype == retrograd.float32


def test_get_total_norm_refuses_integer_tensors():
    with pytest.raises(RuntimeError, match="Expected a floating point .* Got Long"):
        utils.get_total_norm([retrograd.tensor([1, 2])])


def test_get_total_norm_error_if_nonfinite():
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.get_total_norm([retrograd.tensor([float("inf")])], error_if_nonfinite=True)
    assert utils.get_total_norm([retrograd.tensor([float("nan")])]).isnan().item()


@needs_torch
@pytest.mark.parametrize("norm_type", [0.0, 0.5, 1.0, 2.0, 3.0, -1.0, float("inf"), float("-inf")])
def test_get_total_norm_matches_pytorch(norm_type):
    arrays = [np.array([1.0, -2.0, 0.0, 0.5], np.float32), np.array([[3.0, -0.25]], np.float32)]
    ours = utils.get_total_norm([retrograd.tensor(a) for a in arrays], norm_type)
    theirs = torch.nn.utils.get_total_norm([torch.tensor(a) for a in arrays], norm_type)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)


def test_clip_grads_with_norm_scales_by_max_over_total_plus_epsilon():
    parameters = _with_grads([[3.0, 4.0]], retrograd.float64)
    utils.clip_grads_with_norm_(parameters, 1.0, retrograd.tensor(10.0, dtype=retrograd.float64))
    assert parameters[0].grad.tolist() == pytest.approx([3.0 / (10 + 1e-6), 4.0 / (10 + 1e-6)], rel=1e-12)


def test_clip_grads_with_norm_never_scales_up():
    parameters = _with_grads([[3.0, 4.0]])
    utils.clip_grads_with_norm_(parameters, 1.0, retrograd.tensor(0.5))
    assert parameters[0].grad.tolist() == [3.0, 4.0]


def test_clip_grads_with_norm_wants_a_tensor_norm_and_leaves_grads_alone():
    parameters = _with_grads([[3.0, 4.0]])
    with pytest.raises(TypeError, match="total_norm"):
        utils.clip_grads_with_norm_(parameters, 1.0, 5.0)
    assert parameters[0].grad.tolist() == [3.0, 4.0]


def test_clip_grad_norm_is_get_total_norm_then_clip_grads_with_norm():
    grads = [[1.0, -2.0, 0.5], [3.0, -0.25]]
    one_step, two_steps = _with_grads(grads), _with_grads(grads)
    total = utils.clip_grad_norm_(one_step, 0.7, norm_type=3.0, foreach=True)
    norm = utils.get_total_norm([p.grad for p in two_steps], 3.0)
    utils.clip_grads_with_norm_(two_steps, 0.7, norm)
    assert total.item() == norm.item()
    for a, b in zip(one_step, two_steps):
        assert a.grad.tolist() == b.grad.tolist()


def test_clip_grad_norm_warns_on_an_empty_generator():
    with pytest.warns(UserWarning, match="empty generator, no gradient clipping"):
        utils.clip_grad_norm_((p for p in []), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        utils.clip_grad_norm_([], 1.0)


def test_clip_grad_norm_without_underscore_is_deprecated_and_clips():
    parameters = _with_grads([[3.0, 4.0]])
    with pytest.warns(FutureWarning, match="deprecated in favor of `torch.nn.utils.clip_grad_norm_`"):
        total = utils.clip_grad_norm(parameters, 1.0)
    assert total.item() == 5.0
    assert parameters[0].grad.tolist() == pytest.approx([0.6, 0.8], rel=1e-5)


@needs_torch
def test_clip_grad_norm_of_mixed_dtypes_matches_pytorch():
    grads = [[1.0, -2.0], [3.0, -0.25, 7.0]]
    ours = _with_grads(grads[:1], retrograd.float64) + _with_grads(grads[1:])
    theirs = [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)), torch.nn.Parameter(torch.zeros(3))]
    theirs[0].grad = torch.tensor(grads[0], dtype=torch.float64)
    theirs[1].grad = torch.tensor(grads[1])
    our_total = utils.clip_grad_norm_(ours, 0.5)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert str(our_total.dtype).split(".")[1] == str(their_total.dtype).split(".")[1] == "float64"
    assert our_total.item() == pytest.approx(their_total.item(), rel=1e-12)
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), other.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------
# fusion


def _eval_batchnorm(cls, channels, affine=True):
    retrograd.manual_seed(0)
    bn = cls(channels, affine=affine)
    bn.running_mean.copy_(retrograd.randn(channels))
    bn.running_var.copy_(retrograd.rand(channels) + 0.5)
    if affine:
        with retrograd.no_grad():
            bn.weight.copy_(retrograd.randn(channels))
            bn.bias.copy_(retrograd.randn(channels))
    return bn.eval()


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_conv_computes_conv_then_batchnorm(affine, bias):
    conv = nn.Conv2d(3, 4, 3, bias=bias).eval()
    bn = _eval_batchnorm(nn.BatchNorm2d, 4, affine)
    fused = utils.fuse_conv_bn_eval(conv, bn)
    x = retrograd.randn(2, 3, 6, 6)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), atol=1e-5)
    assert fused is not conv and isinstance(fused.weight, nn.Parameter) and fused.weight.is_leaf
    assert (conv.bias is None) == (not bias)


def test_fused_transposed_conv_scales_its_output_channels():
    conv = nn.ConvTranspose2d(3, 4, 2).eval()
    bn = _eval_batchnorm(nn.BatchNorm2d, 4)
    fused = utils.fuse_conv_bn_eval(conv, bn, transpose=True)
    x = retrograd.randn(2, 3, 5, 5)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("features", [4, 1])
def test_fused_linear_computes_linear_then_batchnorm(features):
    linear = nn.Linear(3, 4).eval()
    bn = _eval_batchnorm(nn.BatchNorm1d, features)
    fused = utils.fuse_linear_bn_eval(linear, bn)
    x = retrograd.randn(5, 3)
    expected = bn(linear(x)) if features == 4 else bn(linear(x).unsqueeze(1)).squeeze(1)
    np.testing.assert_allclose(fused(x).detach().numpy(), expected.detach().numpy(), atol=1e-5)


def test_fusion_refuses_training_mode_and_mismatched_features():
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        utils.fuse_conv_bn_eval(nn.Conv2d(1, 2, 1), _eval_batchnorm(nn.BatchNorm2d, 2))
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(), _eval_batchnorm(nn.BatchNorm1d, 2))
    no_stats = nn.BatchNorm1d(3, track_running_stats=False).eval()
    with pytest.raises(AssertionError, match="running_mean and bn.running_var must not be None"):
        utils.fuse_linear_bn_eval(nn.Linear(2, 3).eval(), no_stats)


def test_fused_weights_keep_dtypes_and_requires_grad():
    conv_w = retrograd.randn(4, 3, 1, 1, dtype=retrograd.float64).requires_grad_(False)
    stats = [retrograd.zeros(4), retrograd.ones(4)]
    weight, bias = utils.fuse_conv_bn_weights(conv_w, None, *stats, 1e-5, None, None)
    assert weight.dtype == bias.dtype == retrograd.float64
    assert not weight.requires_grad and not bias.requires_grad
    conv_b = retrograd.zeros(4, dtype=retrograd.float16, requires_grad=True)
    weight, bias = utils.fuse_conv_bn_weights(conv_w, conv_b, *stats, 1e-5, None, None)
    assert bias.dtype == retrograd.float16 and bias.requires_grad


@needs_torch
def test_fused_weights_match_pytorch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in [(4, 3, 2), (4,), (4,), (4,), (4,), (4,)]]
    arrays[2] = np.abs(arrays[2]) + 0.1
    for transpose in (False, True):
        conv_w = arrays[0] if not transpose else arrays[0].transpose(1, 0, 2).copy()
        ours = utils.fuse_conv_bn_weights(retrograd.tensor(conv_w), *[retrograd.tensor(a) for a in (arrays[1], arrays[5], arrays[2])],
                                          1e-3, *[retrograd.tensor(a) for a in arrays[3:5]], transpose)
        theirs = torch.nn.utils.fuse_conv_bn_weights(torch.tensor(conv_w), *[torch.tensor(a) for a in (arrays[1], arrays[5], arrays[2])],
                                                     1e-3, *[torch.tensor(a) for a in arrays[3:5]], transpose)
        for mine, other in zip(ours, theirs):
            np.testing.assert_allclose(mine.detach().numpy(), other.detach().numpy(), rtol=1e-6)
    linear = [retrograd.tensor(a) for a in (rng.standard_normal((4, 3)).astype(np.float32), arrays[1])]
    ours = utils.fuse_linear_bn_weights(*linear, *[retrograd.tensor(a) for a in (arrays[5], arrays[2])], 1e-3,
                                        *[retrograd.tensor(a) for a in arrays[3:5]])
    theirs = torch.nn.utils.fuse_linear_bn_weights(*[torch.tensor(t.numpy()) for t in linear],
                                                   *[torch.tensor(a) for a in (arrays[5], arrays[2])], 1e-3,
                                                   *[torch.tensor(a) for a in arrays[3:5]])
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine.detach().numpy(), other.detach().numpy(), rtol=1e-6)


def test_fusion_is_a_submodule_with_the_same_functions():
    assert utils.fusion.fuse_conv_bn_eval is utils.fuse_conv_bn_eval


# ---------------------------------------------------------------------------
# skip_init, stateless, memory formats


def test_skip_init_builds_the_module_with_zeroed_tensors():
    layer = utils.skip_init(nn.Linear, 6, out_features=2)
    assert layer.weight.shape == (2, 6) and isinstance(layer.weight, nn.Parameter)
    assert layer.weight.abs().sum().item() == 0.0 and layer.weight.requires_grad


def test_skip_init_refuses_a_non_module_and_a_module_without_device():
    class NoDevice(nn.Module):
        def __init__(self, size):
            super().__init__()

    with pytest.raises(RuntimeError, match="Expected a Module"):
        utils.skip_init(int, 3)
    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        utils.skip_init(NoDevice, 3)


def test_stateless_functional_call_is_deprecated_and_is_func_functional_call():
    layer = nn.Linear(2, 1)
    weights = {"weight": retrograd.tensor([[1.0, 2.0]]), "bias": retrograd.tensor([0.5])}
    with pytest.warns(FutureWarning, match="Please use `torch.func.functional_call`"):
        result = utils.stateless.functional_call(layer, weights, (retrograd.tensor([3.0, 4.0]),))
    assert result.tolist() == [11.5]
    assert layer.weight is not weights["weight"] and layer.weight.shape == (1, 2)
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="Missing key"):
        utils.stateless.functional_call(layer, {"bias": weights["bias"]}, retrograd.ones(2), strict=True)


@pytest.mark.parametrize("convert, cls", [
    (utils.convert_conv2d_weight_memory_format, nn.Conv2d),
    (utils.convert_conv3d_weight_memory_format, nn.Conv3d),
])
def test_memory_format_conversion_returns_the_module_with_the_same_weights(convert, cls):
    conv = cls(2, 3, 1)
    model = nn.Sequential(nn.Sequential(conv), nn.ReLU())
    before = conv.weight.detach().clone()
    old_array = conv.weight._data
    assert convert(model, retrograd.channels_last) is model
    assert conv.weight._data is not old_array and isinstance(conv.weight, nn.Parameter)
    assert retrograd.equal(conv.weight.detach(), before)
