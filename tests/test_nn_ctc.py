"""F.ctc_loss and nn.CTCLoss: the loss against a closed form and PyTorch, PyTorch's gradient,
the target layouts, reductions, zero_infinity and errors."""

import math
import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn
from retrograd.nn import functional as F


def test_one_frame_one_label_is_minus_its_log_probability():
    log_probs = retrograd.log_softmax(retrograd.tensor([[[0.2, 1.0, -0.5]]], dtype=retrograd.float64), dim=2)
    loss = F.ctc_loss(log_probs, retrograd.tensor([[1]]), [1], [1], reduction="none")
    assert loss.item() == pytest.approx(-log_probs[0, 0, 1].item(), rel=1e-14)


def test_two_frames_one_label_sums_its_three_alignments():
    # alignments of "a" (label 1) over two frames: a a, a _, _ a.
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    log_probs = retrograd.tensor(np.log(probs)[:, None, :])
    loss = F.ctc_loss(log_probs, retrograd.tensor([[1]]), [2], [1], reduction="sum")
    total = 0.3 * 0.6 + 0.3 * 0.1 + 0.5 * 0.6
    assert loss.item() == pytest.approx(-math.log(total), rel=1e-12)


def test_repeated_labels_need_a_blank_between_them():
    log_probs = retrograd.log_softmax(retrograd.randn(1, 1, 3, dtype=retrograd.float64), dim=2)
    impossible = F.ctc_loss(log_probs.expand(2, 1, 3), retrograd.tensor([[1, 1]]), [2], [2], reduction="none")
    assert impossible.item() == math.inf
    zeroed = F.ctc_loss(log_probs.expand(2, 1, 3), retrograd.tensor([[1, 1]]), [2], [2], reduction="none",
                        zero_infinity=True)
    assert zeroed.item() == 0.0


def _random_case(rng, trial):
    frames, batch, classes = int(rng.integers(1, 12)), int(rng.integers(1, 4)), int(rng.integers(2, 6))
    longest = int(rng.integers(0, 5))
    blank = int(rng.integers(0, classes))
    labels = [c for c in range(classes) if c != blank]
    return {
        "logits": rng.standard_normal((frames, batch, classes)),
        "targets": rng.choice(labels, (batch, max(longest, 1))),
        "input_lengths": rng.integers(1, frames + 1, batch),
        "target_lengths": rng.integers(0, longest + 1, batch),
        "blank": blank,
        "reduction": ("none", "sum", "mean")[trial % 3],
        "zero_infinity": trial % 4 == 0,
    }


@needs_torch
@pytest.mark.parametrize("trial", range(24))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ctc_loss_and_its_gradient_match_pytorch(trial, dtype):
    case = _random_case(np.random.default_rng(trial), trial)
    logits = case["logits"].astype(dtype)
    options = {"blank": case["blank"], "reduction": case["reduction"], "zero_infinity": case["zero_infinity"]}
    theirs = torch.tensor(logits).log_softmax(2).detach().requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        their_loss = torch.nn.functional.ctc_loss(
            theirs, torch.tensor(case["targets"]), torch.tensor(case["input_lengths"]),
            torch.tensor(case["target_lengths"]), **options)
    ours = retrograd.tensor(theirs.detach().numpy(), requires_grad=True)
    our_loss = F.ctc_loss(ours, retrograd.tensor(case["targets"]), retrograd.tensor(case["input_lengths"]),
                          retrograd.tensor(case["target_lengths"]), **options)
    upstream = np.random.default_rng(99).standard_normal(tuple(their_loss.shape)).astype(dtype)
    their_loss.backward(torch.tensor(upstream))
    our_loss.backward(retrograd.tensor(upstream))
    rtol = 1e-10 if dtype == "float64" else 2e-5
    assert our_loss.dtype == ours.dtype and our_loss.shape == tuple(their_loss.shape)
    np.testing.assert_allclose(our_loss.detach().numpy(), their_loss.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol, atol=rtol)


@needs_torch
def test_concatenated_targets_unbatched_input_and_tuple_lengths_match_pytorch():
    rng = np.random.default_rng(3)
    log_probs = rng.standard_normal((7, 2, 5))
    log_probs -= np.log(np.exp(log_probs).sum(2, keepdims=True))
    concatenated = np.array([1, 2, 2, 3, 4])
    ours = F.ctc_loss(retrograd.tensor(log_probs), retrograd.tensor(concatenated), (7, 6), (3, 2))
    theirs = torch.nn.functional.ctc_loss(torch.tensor(log_probs), torch.tensor(concatenated), (7, 6), (3, 2))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    ours = F.ctc_loss(retrograd.tensor(log_probs[:, 0]), retrograd.tensor([1, 2, 2]), retrograd.tensor(7),
                      retrograd.tensor(3), reduction="none")
    theirs = torch.nn.functional.ctc_loss(torch.tensor(log_probs[:, 0]), torch.tensor([1, 2, 2]), torch.tensor(7),
                                          torch.tensor(3), reduction="none")
    assert ours.shape == () and ours.item() == pytest.approx(theirs.item(), rel=1e-12)


@needs_torch
def test_the_gradient_is_pytorchs_through_log_softmax():
    logits = np.random.default_rng(4).standard_normal((6, 2, 4))
    ours = retrograd.tensor(logits, requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    targets = [[1, 2, 3], [3, 3, 0]]
    nn.CTCLoss(blank=0)(ours.log_softmax(2), retrograd.tensor(targets), [6, 5], [3, 2]).backward()
    torch.nn.CTCLoss(blank=0)(theirs.log_softmax(2), torch.tensor(targets), [6, 5], [3, 2]).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_mean_divides_each_loss_by_its_target_length():
    log_probs = retrograd.log_softmax(retrograd.randn(5, 2, 4, dtype=retrograd.float64), dim=2)
    targets = retrograd.tensor([[1, 2, 3], [2, 0, 0]])
    each = F.ctc_loss(log_probs, targets, [5, 5], [3, 1], blank=0, reduction="none")
    mean = F.ctc_loss(log_probs, targets, [5, 5], [3, 1], blank=0)
    assert mean.item() == pytest.approx((each[0].item() / 3 + each[1].item() / 1) / 2, rel=1e-14)
    assert repr(nn.CTCLoss()) == "CTCLoss()"


@pytest.mark.parametrize("call, error, words", [
    (lambda lp, t: F.ctc_loss(lp, t, [7, 5], [3, 2]), RuntimeError, "input_lengths to have value at most 6"),
    (lambda lp, t: F.ctc_loss(lp, t, [6, 5], [4, 2]), RuntimeError, "size at least 4 at dimension 1"),
    (lambda lp, t: F.ctc_loss(lp, t, [6], [3, 2]), RuntimeError, "input_lengths must be of size batch_size"),
    (lambda lp, t: F.ctc_loss(lp, t, [6, 5], [3]), RuntimeError, "target_lengths must be of size batch_size"),
    (lambda lp, t: F.ctc_loss(lp, t, [6, 5], [3, 2], blank=4), RuntimeError, "blank must be in label range"),
    (lambda lp, t: F.ctc_loss(lp, t, [6, 5], [3, 2], reduction="x"), ValueError,
     "x is not a valid value for reduction"),
])
def test_ctc_loss_refuses_bad_arguments(call, error, words):
    log_probs = retrograd.log_softmax(retrograd.randn(6, 2, 4), dim=2)
    with pytest.raises(error, match=words):
        call(log_probs, retrograd.tensor([[1, 2, 3], [1, 2, 3]]))
