"""The torch-namespace forms of functionals: `torch.ctc_loss` with `reduction` as ATen's int,
against F.ctc_loss and PyTorch; `torch.conv3d` and `torch.max_pool3d` are the functionals."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.nn import functional as F


def _case(dtype=retrograd.float64):
    rng = np.random.default_rng(3)
    logits = retrograd.tensor(rng.standard_normal((6, 2, 5)), dtype=dtype)
    return {
        "log_probs": logits.log_softmax(2),
        "targets": retrograd.tensor([[1, 2, 2], [3, 4, 0]]),
        "input_lengths": [6, 5],
        "target_lengths": [3, 2],
    }


@pytest.mark.parametrize("reduction, name", [(0, "none"), (1, "mean"), (2, "sum"), (7, "none")])
def test_int_reduction_is_the_functionals_named_reduction(reduction, name):
    case = _case()
    ours = retrograd.ctc_loss(*case.values(), 0, reduction, False)
    expected = F.ctc_loss(*case.values(), reduction=name)
    np.testing.assert_array_equal(ours.numpy(), expected.numpy())


def test_reduction_left_out_gives_the_per_sequence_losses_as_pytorch():
    case = _case()
    assert retrograd.ctc_loss(*case.values()).shape == (2,)


def test_a_string_reduction_is_a_type_error():
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        retrograd.ctc_loss(*_case().values(), reduction="mean")


def test_blank_and_zero_infinity_reach_the_functional():
    case = _case()
    case["targets"] = retrograd.tensor([[1, 1, 1], [3, 4, 1]])
    case["input_lengths"] = [3, 5]
    assert retrograd.ctc_loss(*case.values(), 0, 0, False)[0].item() == float("inf")
    assert retrograd.ctc_loss(*case.values(), 0, 0, True)[0].item() == 0.0
    with_blank_two = retrograd.ctc_loss(*case.values(), 2, 0, True)
    np.testing.assert_array_equal(with_blank_two.numpy(),
                                  F.ctc_loss(*case.values(), blank=2, reduction="none",
                                             zero_infinity=True).numpy())


@needs_torch
@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_values_and_gradients_match_pytorch(reduction):
    case = _case()
    log_probs = case["log_probs"].detach().requires_grad_()
    theirs_log_probs = torch.tensor(log_probs.detach().numpy(), requires_grad=True)
    ours = retrograd.ctc_loss(log_probs, case["targets"], retrograd.tensor([6, 5]),
                              retrograd.tensor([3, 2]), 0, reduction)
    expected = torch.ctc_loss(theirs_log_probs, torch.tensor(case["targets"].numpy()),
                              torch.tensor([6, 5]), torch.tensor([3, 2]), 0, reduction)
    np.testing.assert_allclose(ours.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(log_probs.grad.numpy(), theirs_log_probs.grad.numpy(), rtol=1e-10,
                               atol=1e-12)


def test_conv3d_and_max_pool3d_are_the_functionals():
    assert retrograd.conv3d is F.conv3d
    assert retrograd.max_pool3d is F.max_pool3d


@needs_torch
def test_conv3d_and_max_pool3d_match_pytorch():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 2, 5, 4, 6)), rng.standard_normal((3, 2, 2, 3, 2))
    np.testing.assert_allclose(
        retrograd.conv3d(retrograd.tensor(x), retrograd.tensor(w), stride=(1, 2, 1), padding=1).numpy(),
        torch.conv3d(torch.tensor(x), torch.tensor(w), stride=(1, 2, 1), padding=1).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(retrograd.max_pool3d(retrograd.tensor(x), 2).numpy(),
                                  torch.max_pool3d(torch.tensor(x), 2).numpy())
    ours = [retrograd.tensor(value, requires_grad=True) for value in (x, w)]
    theirs = [torch.tensor(value, requires_grad=True) for value in (x, w)]
    retrograd.conv3d(*ours, padding=(0, 1, 1)).pow(2).sum().backward()
    torch.conv3d(*theirs, padding=(0, 1, 1)).pow(2).sum().backward()
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), expected.grad.numpy(), rtol=1e-11)


def _bag_case():
    weight = retrograd.tensor(np.random.default_rng(8).standard_normal((6, 3)))
    return weight, retrograd.tensor([1, 2, 4, 5, 4, 3, 2]), retrograd.tensor([0, 2, 2, 5])


def test_embedding_bag_output_is_the_functionals_with_mode_as_an_int():
    weight, indices, offsets = _bag_case()
    for mode, name in ((0, "sum"), (1, "mean"), (2, "max")):
        output = retrograd.embedding_bag(weight, indices, offsets, False, mode)[0]
        expected = F.embedding_bag(indices, weight, offsets, mode=name)
        np.testing.assert_array_equal(output.numpy(), expected.numpy())


def test_embedding_bag_bookkeeping():
    weight, indices, offsets = _bag_case()
    _, offset2bag, bag_size, max_indices = retrograd.embedding_bag(weight, indices, offsets, False, 1,
                                                                   padding_idx=-2)
    assert offset2bag.tolist() == [0, 0, 2, 2, 2, 3, 3]
    assert bag_size.tolist() == [2, 0, 1, 2]  # row 4 (-2 from the end) is padding
    assert max_indices.tolist() == bag_size.tolist()
    _, offset2bag, bag_size, _ = retrograd.embedding_bag(weight, indices, offsets, False, 0)
    assert offset2bag.numel() == 0 and bag_size.tolist() == [0, 0, 0, 0]
    maxima = retrograd.embedding_bag(weight, indices, offsets, False, 2)[3].numpy()
    table = weight.numpy()
    for bag, members in enumerate(([1, 2], [], [4, 5, 4], [3, 2])):
        expected = [members[int(np.argmax(table[members, column]))] if members else 0 for column in range(3)]
        assert maxima[bag].tolist() == expected


def test_embedding_bag_refuses_what_pytorch_refuses():
    weight, indices, offsets = _bag_case()
    with pytest.raises(RuntimeError, match="`mode` must be sum, mean, or max"):
        retrograd.embedding_bag(weight, indices, offsets, False, 3)
    with pytest.raises(RuntimeError, match="per_sample_weights only supported with mode='sum'"):
        retrograd.embedding_bag(weight, indices, offsets, False, 1, False, retrograd.ones(7, dtype=weight.dtype))
    with pytest.raises(TypeError, match="argument 'offsets' \\(position 3\\) must be Tensor"):
        retrograd.embedding_bag(weight, indices, None)


@needs_torch
@pytest.mark.parametrize("mode", [1, 2])
@pytest.mark.parametrize("padding_idx", [None, 4, -1])
def test_embedding_bag_matches_pytorch(mode, padding_idx):
    weight, indices, offsets = _bag_case()
    ours_weight = weight.detach().requires_grad_()
    theirs_weight = torch.tensor(weight.numpy(), requires_grad=True)
    ours = retrograd.embedding_bag(ours_weight, indices, offsets, False, mode, padding_idx=padding_idx)
    theirs = torch.embedding_bag(theirs_weight, torch.tensor(indices.numpy()), torch.tensor(offsets.numpy()),
                                 False, mode, False, None, False, padding_idx)
    np.testing.assert_allclose(ours[0].detach().numpy(), theirs[0].detach().numpy(), rtol=1e-14)
    for mine, expected in zip(ours[1:], theirs[1:]):
        assert mine.tolist() == expected.tolist()
    ours[0].pow(2).sum().backward()
    theirs[0].pow(2).sum().backward()
    np.testing.assert_allclose(ours_weight.grad.numpy(), theirs_weight.grad.numpy(), rtol=1e-12)
