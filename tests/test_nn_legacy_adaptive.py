"""nn.AdaptiveLogSoftmaxWithLoss, nn.CrossMapLRN2d, nn.FractionalMaxPool2d/3d and the deprecated
nn.Container and nn.NLLLoss2d: values, gradients, errors and warnings, against closed forms and PyTorch."""

import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn

# ---------------------------------------------------------------------------
# AdaptiveLogSoftmaxWithLoss


def _adaptive_pair(**kwargs):
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(64, 20, [4, 10, 15], **kwargs).double()
    ours = nn.AdaptiveLogSoftmaxWithLoss(64, 20, [4, 10, 15], dtype=retrograd.float64, **kwargs)
    ours.load_state_dict({name: retrograd.tensor(value.numpy()) for name, value in theirs.state_dict().items()})
    return ours, theirs


def test_adaptive_log_prob_is_a_distribution_over_all_classes():
    model = nn.AdaptiveLogSoftmaxWithLoss(16, 12, [3, 7], div_value=2.0)
    log_prob = model.log_prob(retrograd.randn(5, 16))
    assert log_prob.shape == (5, 12)
    np.testing.assert_allclose(log_prob.exp().sum(dim=1).detach().numpy(), np.ones(5), rtol=1e-5)


def test_adaptive_output_is_the_log_prob_of_each_target_and_loss_its_mean_negative():
    model = nn.AdaptiveLogSoftmaxWithLoss(16, 12, [3, 7], div_value=2.0, head_bias=True)
    x, target = retrograd.randn(6, 16), retrograd.tensor([0, 2, 3, 6, 7, 11])
    result = model(x, target)
    expected = model.log_prob(x).gather(1, target.unsqueeze(1)).squeeze(1)
    np.testing.assert_allclose(result.output.detach().numpy(), expected.detach().numpy(), rtol=1e-5)
    assert result.loss.item() == pytest.approx(-expected.mean().item(), rel=1e-5)
    assert type(result).__name__ == "_ASMoutput" and result._fields == ("output", "loss")


@needs_torch
@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_values_and_gradients_match_pytorch(head_bias):
    ours, theirs = _adaptive_pair(head_bias=head_bias)
    x = np.random.default_rng(0).standard_normal((9, 64))
    target = np.array([0, 3, 4, 9, 10, 14, 15, 19, 2])
    our_x, their_x = retrograd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    our_result, their_result = ours(our_x, retrograd.tensor(target)), theirs(their_x, torch.tensor(target))
    np.testing.assert_allclose(our_result.output.detach().numpy(), their_result.output.detach().numpy(), rtol=1e-12)
    our_result.loss.backward()
    their_result.loss.backward()
    np.testing.assert_allclose(our_x.grad.numpy(), their_x.grad.numpy(), rtol=1e-10, atol=1e-15)
    for (name, mine), other in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), other.grad.numpy(), rtol=1e-10, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(ours.log_prob(our_x).detach().numpy(), theirs.log_prob(their_x).detach().numpy(),
                               rtol=1e-12)
    single = ours(our_x[0], retrograd.tensor(target[0]))
    their_single = theirs(their_x[0], torch.tensor(target[0]))
    assert single.output.shape == () and single.loss.item() == pytest.approx(their_single.loss.item(), rel=1e-12)


@needs_torch
def test_adaptive_predict_matches_pytorch_when_the_head_prefers_clusters():
    ours, theirs = _adaptive_pair()
    with torch.no_grad():
        theirs.head.weight[4:] *= 40
    ours.load_state_dict({name: retrograd.tensor(value.numpy()) for name, value in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((12, 64))
    our_prediction = ours.predict(retrograd.tensor(x))
    their_prediction = theirs.predict(torch.tensor(x))
    assert our_prediction.tolist() == their_prediction.tolist()
    assert any(value >= 4 for value in our_prediction.tolist())
    assert ours.predict(retrograd.tensor(x[:1])).tolist() == theirs.predict(torch.tensor(x[:1])).tolist()


@pytest.mark.parametrize("cutoffs", [[], [5, 3], [0, 4], [4, 12], [4, 4], [2.5]])
def test_adaptive_refuses_bad_cutoffs(cutoffs):
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs)


def test_adaptive_refuses_bad_targets_and_shapes():
    model = nn.AdaptiveLogSoftmaxWithLoss(16, 12, [3, 7])
    x = retrograd.randn(3, 16)
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 11\], but values in range \[1, 12\]"):
        model(x, retrograd.tensor([1, 12, 5]))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        model(x, retrograd.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        model(retrograd.randn(3, 2, 16), retrograd.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        model(x, retrograd.tensor(1))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        model(x, retrograd.tensor([[1, 2, 3]]))


def test_adaptive_tail_widths_shrink_by_div_value():
    model = nn.AdaptiveLogSoftmaxWithLoss(64, 20, [4, 10, 15])
    assert model.head.out_features == 4 + 3
    assert [(a.out_features, b.out_features) for a, b in model.tail] == [(16, 6), (4, 5), (1, 5)]


# ---------------------------------------------------------------------------
# CrossMapLRN2d


def test_cross_map_lrn_sums_as_pytorch_does_keeping_channel_zero():
    # size 1 over 3 channels: PyTorch's running sum gives [x0², x0² + x1², x0² + x2²].
    x = retrograd.tensor([[[[1.0]], [[3.0]], [[-2.0]]]], dtype=retrograd.float64)
    out = nn.CrossMapLRN2d(1, alpha=0.5, beta=0.75, k=2.0)(x)
    sums = np.array([1.0, 1.0 + 9.0, 1.0 + 4.0])
    expected = np.array([1.0, 3.0, -2.0]) / (2.0 + 0.5 * sums) ** 0.75
    np.testing.assert_allclose(out.numpy().ravel(), expected, rtol=1e-14)


@needs_torch
@pytest.mark.parametrize("size", [2, 3, 4, 5, 9])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_map_lrn_values_and_gradients_match_pytorch(size, dtype):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 7, 3, 4)).astype(dtype)
    grad = rng.standard_normal((2, 7, 3, 4)).astype(dtype)
    ours, theirs = retrograd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    our_out = nn.CrossMapLRN2d(size, alpha=0.3, beta=0.6, k=1.5)(ours)
    their_out = torch.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.6, k=1.5)(theirs)
    our_out.backward(retrograd.tensor(grad))
    their_out.backward(torch.tensor(grad))
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol, atol=rtol)
    assert our_out.dtype == retrograd.float32 if dtype == "float32" else retrograd.float64
    assert our_out.grad_fn.name() == their_out.grad_fn.name() == "CrossMapLRN2dBackward"


def test_cross_map_lrn_refuses_a_non_4d_input_and_prints_its_settings():
    layer = nn.CrossMapLRN2d(3)
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D instead"):
        layer(retrograd.randn(3, 2, 2))
    assert repr(layer) == "CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)"


# ---------------------------------------------------------------------------
# Container, NLLLoss2d


def test_container_registers_its_keyword_modules_and_is_deprecated():
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        container = nn.Container(first=nn.Linear(1, 2), second=nn.ReLU())
    assert [name for name, _ in container.named_children()] == ["first", "second"]
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        class Old(nn.Container):
            pass


def test_nllloss2d_is_a_deprecated_nllloss():
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated. Please use `NLLLoss`"):
        loss = nn.NLLLoss2d(ignore_index=1)
    assert isinstance(loss, nn.NLLLoss) and loss.ignore_index == 1
    log_prob = retrograd.log_softmax(retrograd.randn(2, 3, 4, 4), dim=1)
    target = retrograd.randint(0, 3, (2, 4, 4))
    assert loss(log_prob, target).item() == nn.NLLLoss(ignore_index=1)(log_prob, target).item()


def test_defining_the_legacy_modules_warns_nothing():
    import subprocess
    import sys

    code = "import warnings; warnings.simplefilter('error'); import retrograd.nn"
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": "src"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.CrossMapLRN2d(2)


# ---------------------------------------------------------------------------
# FractionalMaxPool2d


@needs_torch
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fractional_max_pool_draws_and_pools_as_pytorch(seed, dtype):
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(5, 20, 2))
    kernel = tuple(int(v) for v in rng.integers(1, 4, 2))
    output = (int(rng.integers(1, height - kernel[0] + 2)), int(rng.integers(1, width - kernel[1] + 2)))
    x = np.round(rng.standard_normal((2, 3, height, width)), 1).astype(dtype)  # rounding makes ties
    if seed % 3 == 0:
        x[0, 0, 0, :3] = np.nan
    torch.manual_seed(seed)
    their_out, their_indices = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x), kernel, output_size=output, return_indices=True)
    retrograd.manual_seed(seed)
    our_out, our_indices = retrograd.nn.functional.fractional_max_pool2d(
        retrograd.tensor(x), kernel, output_size=output, return_indices=True)
    np.testing.assert_array_equal(our_out.numpy(), their_out.numpy())
    np.testing.assert_array_equal(our_indices.numpy(), their_indices.numpy())
    assert our_indices.dtype == retrograd.int64 and str(our_out.dtype).endswith(dtype)


@needs_torch
def test_fractional_max_pool_module_with_samples_and_ratio_matches_pytorch_with_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 9))
    samples = rng.random((1, 3, 2))
    ours = nn.FractionalMaxPool2d((2, 3), output_ratio=(0.5, 0.6), _random_samples=retrograd.tensor(samples))
    theirs = torch.nn.FractionalMaxPool2d((2, 3), output_ratio=(0.5, 0.6), _random_samples=torch.tensor(samples))
    our_x, their_x = retrograd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    our_out, their_out = ours(our_x), theirs(their_x)
    assert our_out.shape == their_out.shape == (3, 3, 5)
    np.testing.assert_array_equal(our_out.detach().numpy(), their_out.detach().numpy())
    weights = rng.standard_normal(tuple(our_out.shape))
    (our_out * retrograd.tensor(weights)).sum().backward()
    (their_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(our_x.grad.numpy(), their_x.grad.numpy())
    assert list(ours.state_dict()) == ["_random_samples"] and repr(ours) == "FractionalMaxPool2d()"


def test_fractional_max_pool_takes_the_maximum_of_each_window_and_has_a_gradient():
    # in 8, out 5, kernel 2: alpha = 1.5; u = 0.3 gives starts ⌊(i + 0.3)·1.5⌋ − 0 = 0, 1, 3, 4 and
    # u = 0.7 gives ⌊(i + 0.7)·1.5⌋ − 1 = 0, 1, 3, 4; the last window starts at 8 − 2 = 6.
    starts = [0, 1, 3, 4, 6]
    samples = retrograd.tensor([[[0.3, 0.7]]], dtype=retrograd.float64)
    x = retrograd.randn(1, 1, 8, 8, dtype=retrograd.float64, requires_grad=True)
    out = retrograd.nn.functional.fractional_max_pool2d(x, 2, output_size=5, _random_samples=samples)
    plane = x.detach().numpy()[0, 0]
    expected = [[plane[r:r + 2, c:c + 2].max() for c in starts] for r in starts]
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], np.array(expected))
    assert retrograd.autograd.gradcheck(
        lambda t: retrograd.nn.functional.fractional_max_pool2d(t, 2, output_size=5, _random_samples=samples), (x,))


@pytest.mark.parametrize("call, error, words", [
    (lambda x: nn.FractionalMaxPool2d(2), ValueError, "requires specifying either an output size"),
    (lambda x: nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5), ValueError, "only one of"),
    (lambda x: nn.FractionalMaxPool2d(2, output_ratio=1.5), ValueError, r"between 0 and 1 \(got 1.5\)"),
    (lambda x: retrograd.nn.functional.fractional_max_pool2d(x, 2), ValueError, "either an output_size"),
    (lambda x: retrograd.nn.functional.fractional_max_pool2d(x, 4, output_size=3), RuntimeError,
     "pool height 4 too large relative to input height 5"),
    (lambda x: retrograd.nn.functional.fractional_max_pool2d(x, 2, output_size=3,
                                                             _random_samples=retrograd.rand(1, 3, 2)),
     RuntimeError, r"_random_samples.size\(1\) equals to input channel size"),
    (lambda x: retrograd.nn.functional.fractional_max_pool2d(x, 2, output_size=3,
                                                             _random_samples=retrograd.rand(1, 2, 2).double()),
     RuntimeError, "same dtype as input"),
])
def test_fractional_max_pool_refuses_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call(retrograd.randn(1, 2, 5, 5))


@needs_torch
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fractional_max_pool3d_draws_and_pools_as_pytorch(seed, dtype):
    rng = np.random.default_rng(seed)
    spatial = [int(v) for v in rng.integers(4, 10, 3)]
    kernel = tuple(int(v) for v in rng.integers(1, 4, 3))
    output = [int(rng.integers(1, size - pool + 1)) for size, pool in zip(spatial, kernel)]
    x = np.round(rng.standard_normal((2, 3, *spatial)), 1).astype(dtype)
    if seed % 3 == 0:
        x[0, 0, 0, 0, :3] = np.nan
    torch.manual_seed(seed)
    their_out, their_indices = torch.nn.functional.fractional_max_pool3d(
        torch.tensor(x), kernel, output_size=output, return_indices=True)
    retrograd.manual_seed(seed)
    our_out, our_indices = retrograd.nn.functional.fractional_max_pool3d(
        retrograd.tensor(x), kernel, output_size=output, return_indices=True)
    np.testing.assert_array_equal(our_out.numpy(), their_out.numpy())
    np.testing.assert_array_equal(our_indices.numpy(), their_indices.numpy())


@needs_torch
def test_fractional_max_pool3d_module_unbatched_with_ratio_matches_pytorch_with_gradients():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 7, 8))
    torch.manual_seed(5)
    theirs = torch.nn.FractionalMaxPool3d(2, output_ratio=0.5, return_indices=True)
    their_x = torch.tensor(x, requires_grad=True)
    their_out, their_indices = theirs(their_x)
    retrograd.manual_seed(5)
    ours = nn.FractionalMaxPool3d(2, output_ratio=0.5, return_indices=True)
    our_x = retrograd.tensor(x, requires_grad=True)
    our_out, our_indices = ours(our_x)
    assert our_out.shape == their_out.shape == (2, 3, 3, 4)
    np.testing.assert_array_equal(our_indices.numpy(), their_indices.numpy())
    our_out.sum().backward()
    their_out.sum().backward()
    np.testing.assert_array_equal(our_x.grad.numpy(), their_x.grad.numpy())


def test_fractional_max_pool3d_wants_room_beyond_the_last_window():
    x = retrograd.randn(1, 1, 6, 6, 7)
    assert retrograd.nn.functional.fractional_max_pool3d(x, (3, 2, 2), output_size=(3, 3, 5)).shape == (1, 1, 3, 3, 5)
    with pytest.raises(RuntimeError, match="pool time 3 too large relative to input time 6"):
        retrograd.nn.functional.fractional_max_pool3d(x, (3, 2, 2), output_size=(4, 5, 6))
    with pytest.raises(RuntimeError, match="kernel_size must either be a single Int or tuple of three Ints"):
        retrograd.nn.functional.fractional_max_pool3d(x, (2, 2), output_size=3)
    with pytest.raises(ValueError, match="FractionalMaxPool3d requires specifying either"):
        nn.FractionalMaxPool3d(2)


# ---------------------------------------------------------------------------
# LinearCrossEntropyLoss, LinearCrossEntropyOptions


@needs_torch
@pytest.mark.parametrize("kwargs", [
    {},
    {"bias": True, "label_smoothing": 0.1, "reduction": "sum"},
    {"ignore_index": 1, "reduction": "none"},
])
def test_linear_cross_entropy_loss_matches_pytorch_with_gradients(kwargs):
    theirs = torch.nn.LinearCrossEntropyLoss(4, 3, **kwargs).double()
    ours = nn.LinearCrossEntropyLoss(4, 3, dtype=retrograd.float64, **kwargs)
    ours.load_state_dict({name: retrograd.tensor(value.numpy()) for name, value in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    our_loss = ours(retrograd.tensor(x), retrograd.tensor(target))
    their_loss = theirs(torch.tensor(x), torch.tensor(target))
    np.testing.assert_allclose(our_loss.detach().numpy(), their_loss.detach().numpy(), rtol=1e-12)
    our_loss.sum().backward()
    their_loss.sum().backward()
    np.testing.assert_allclose(ours.linear.weight.grad.numpy(), theirs.linear.weight.grad.numpy(), rtol=1e-10)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())


def test_linear_cross_entropy_loss_stores_its_weight_flat_and_checks_arguments():
    loss = nn.LinearCrossEntropyLoss(5, 3, out_features=(2, 4), bias=True)
    assert loss.linear.weight.shape == (24, 5) and loss.linear.bias.shape == (24,)
    with pytest.raises(RuntimeError, match=r"expected weight shape to be \(3,\), got \(2,\)"):
        nn.LinearCrossEntropyLoss(5, 3, weight=retrograd.ones(2))
    with pytest.raises(RuntimeError, match=r"label_smoothing to be in range \[0, 1\], got 1.5"):
        nn.LinearCrossEntropyLoss(5, 3, label_smoothing=1.5)


@pytest.mark.parametrize("kwargs, message", [
    ({"acc_policy": "fast"}, "invalid acc_policy: 'fast'"),
    ({"chunking_method": "bogus"}, "invalid chunking_method: 'bogus'"),
    ({"chunking_method": "aspect_ratio:0"}, "invalid chunking_method"),
    ({"batch_chunk_size": 0}, "batch_chunk_size must be positive int or None, got 0"),
    ({"acc_dtype": retrograd.int64}, "acc_dtype must be one of"),
])
def test_linear_cross_entropy_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.LinearCrossEntropyOptions(**kwargs)


def test_linear_cross_entropy_options_are_a_frozen_dataclass_as_pytorchs():
    options = nn.LinearCrossEntropyOptions(batch_chunk_size=4, chunking_method="aspect_ratio:2")
    assert repr(options) == ("LinearCrossEntropyOptions(allow_retain_graph=False, batch_chunk_size=4, "
                             "chunking_method='aspect_ratio:2', acc_policy='auto', acc_dtype=None)")
    with pytest.raises(AttributeError):
        options.batch_chunk_size = 8
    loss = nn.LinearCrossEntropyLoss(4, 3, options=options)
    plain = nn.LinearCrossEntropyLoss(4, 3)
    plain.load_state_dict(loss.state_dict())
    x, target = retrograd.randn(5, 4), retrograd.tensor([0, 1, 2, 1, 0])
    assert loss(x, target).item() == plain(x, target).item()
