"""The connectionist temporal classification loss (Graves et al., 2006): the negative log of
the total probability of every alignment of a target sequence with the input frames, where
an alignment may repeat labels and insert blanks.

The forward is the log-space alpha recursion over the extended target (blank, l1, blank, l2,
..., blank), run for the whole batch at once, one frame per step. The backward is PyTorch's
formula: with beta the matching backward recursion (both include the frame's own
log-probability), the gradient at frame t, class c is exp(lp[t, c]) − exp(log Σ_{s: l'_s = c}
alpha_t(s)·beta_t(s) + nll − lp[t, c]). That is the gradient of the loss taken through a
log_softmax that produced `log_probs` (as PyTorch assumes); the exp(lp) term makes it differ
from the derivative with respect to arbitrary `log_probs`, exactly as PyTorch's does.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function, once_differentiable

__all__ = ["ctc_loss"]

_REDUCTIONS = ("none", "mean", "sum")


def _logsumexp(*terms: np.ndarray) -> np.ndarray:
    """log Σ exp(terms), elementwise, where every term may be -inf."""
    stacked = np.stack(np.broadcast_arrays(*terms))
    top = np.max(stacked, axis=0)
    safe_top = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(stacked - safe_top), axis=0)) + safe_top


def _shifted(array: np.ndarray, by: int, fill) -> np.ndarray:
    """`array` moved `by` places along axis 1 (toward higher positions when positive), the
    places it leaves filled with `fill`."""
    moved = np.full_like(array, fill)
    width = array.shape[1]
    if 0 < by < width:
        moved[:, by:] = array[:, :-by]
    elif -width < by < 0:
        moved[:, :by] = array[:, -by:]
    return moved


def _extended_targets(targets: np.ndarray, target_lengths: np.ndarray, blank: int) -> np.ndarray:
    """(N, 2·max_len + 1): blank, l1, blank, l2, ..., blank per sequence (padded with blanks)."""
    batch, longest = len(target_lengths), int(target_lengths.max(initial=0))
    extended = np.full((batch, 2 * longest + 1), blank, np.int64)
    for n, length in enumerate(target_lengths):
        extended[n, 1:2 * length:2] = targets[n][:length]
    return extended


def _can_skip(extended: np.ndarray, blank: int) -> np.ndarray:
    """Whether position s may be reached from s − 2 (a label differing from the one before it)."""
    skip = np.zeros(extended.shape, bool)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    return skip


def _emissions(log_probs: np.ndarray, extended: np.ndarray) -> np.ndarray:
    """(T, N, S') log-probability of each extended target position at each frame."""
    positions = np.broadcast_to(extended[None], (log_probs.shape[0], *extended.shape))
    return np.take_along_axis(log_probs, positions, axis=2)


def _alphas(emit: np.ndarray, skip: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(T, N, S') log alpha; positions past 2·len + 1 stay -inf."""
    frames, _, width = emit.shape
    valid = np.arange(width)[None] < ends[:, None]
    alpha = np.full(emit.shape, -np.inf, emit.dtype)
    alpha[0, :, :2] = np.where(valid[:, :2], emit[0, :, :2], -np.inf)
    for t in range(1, frames):
        previous = alpha[t - 1]
        two_back = np.where(skip, _shifted(previous, 2, -np.inf), -np.inf)
        reach = _logsumexp(previous, _shifted(previous, 1, -np.inf), two_back)
        alpha[t] = np.where(valid, reach + emit[t], -np.inf)
    return alpha


def _betas(emit: np.ndarray, skip: np.ndarray, ends: np.ndarray, input_lengths: np.ndarray) -> np.ndarray:
    """(T, N, S') log beta, starting at each sequence's own last frame and last two positions."""
    frames, _, width = emit.shape
    positions = np.arange(width)[None]
    valid = positions < ends[:, None]
    last = (positions >= ends[:, None] - 2) & valid
    beta = np.full(emit.shape, -np.inf, emit.dtype)
    skip_ahead = _shifted(skip, -2, False)
    for t in range(frames - 1, -1, -1):
        starts_here = (input_lengths - 1 == t)[:, None]
        if t + 1 < frames:
            following = beta[t + 1]
            two_ahead = np.where(skip_ahead, _shifted(following, -2, -np.inf), -np.inf)
            reach = _logsumexp(following, _shifted(following, -1, -np.inf), two_ahead) + emit[t]
        else:
            reach = np.full_like(emit[t], -np.inf)
        beta[t] = np.where(starts_here, np.where(last, emit[t], -np.inf), np.where(valid, reach, -np.inf))
    return beta


class CtcLoss(Function):
    """Per-sequence CTC negative log-likelihoods of `log_probs` (T, N, C); see the module notes."""

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        data = log_probs._data
        extended = _extended_targets(targets, target_lengths, blank)
        skip = _can_skip(extended, blank)
        ends = 2 * target_lengths + 1
        emit = _emissions(data, extended)
        alpha = _alphas(emit, skip, ends)
        batch = np.arange(len(input_lengths))
        final = alpha[input_lengths - 1, batch]
        last = final[batch, ends - 1]
        before_last = np.where(ends > 1, final[batch, np.maximum(ends - 2, 0)], -np.inf)
        nll = -_logsumexp(last, before_last)
        ctx.saved = (extended, skip, ends, emit, alpha, nll, input_lengths, zero_infinity)
        ctx.save_for_backward(log_probs)
        if zero_infinity:
            nll = np.where(np.isinf(nll), 0, nll)
        return Tensor._make(nll.astype(data.dtype))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (log_probs,) = ctx.saved_tensors
        extended, skip, ends, emit, alpha, nll, input_lengths, zero_infinity = ctx.saved
        data = log_probs._data
        beta = _betas(emit, skip, ends, input_lengths)
        frames, batch, classes = data.shape
        both = alpha + beta
        collected = np.full((frames, batch, classes), -np.inf, data.dtype)
        for n in range(batch):
            for s in range(int(ends[n])):
                label = extended[n, s]
                collected[:, n, label] = _logsumexp(collected[:, n, label], both[:, n, s])
        with np.errstate(invalid="ignore", over="ignore"):
            grad = np.exp(data) - np.exp(collected + nll[None, :, None] - data)
        grad *= grad_output._data[None, :, None]
        grad[np.arange(frames)[:, None] >= input_lengths[None, :]] = 0
        if zero_infinity:
            grad[:, np.isinf(nll)] = 0
        return Tensor._make(grad.astype(data.dtype)), None, None, None, None, None


def _lengths(value, name: str) -> np.ndarray:
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    return np.asarray(array, np.int64).reshape(-1)


def _check(log_probs: Tensor, targets: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray,
           blank: int, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    frames, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(input_lengths) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if input_lengths.size and input_lengths.max() > frames:
        raise RuntimeError(
            f"Expected input_lengths to have value at most {frames}, but got value {input_lengths.max()} "
            "(while checking arguments for ctc_loss_allocate_outputs)"
        )
    if targets.ndim == 2 and target_lengths.size and target_lengths.max() > targets.shape[1]:
        raise RuntimeError(
            f"Expected tensor to have size at least {target_lengths.max()} at dimension 1, but got size "
            f"{targets.shape[1]} for argument #2 'targets' (while checking arguments for "
            "ctc_loss_allocate_outputs)"
        )


def _padded_targets(targets: np.ndarray, target_lengths: np.ndarray) -> list[np.ndarray]:
    """Each sequence's labels, from a padded (N, S) or a concatenated 1-d targets array."""
    if targets.ndim == 2:
        return [row[:length] for row, length in zip(targets, target_lengths)]
    offsets = np.concatenate([[0], np.cumsum(target_lengths)])
    return [targets[offsets[n]:offsets[n + 1]] for n in range(len(target_lengths))]


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of `log_probs` ((T, N, C) or unbatched (T, C), the output of log_softmax over C)
    against `targets` ((N, S) padded, 1-d concatenated, or (S,) unbatched).

    `reduction="mean"` divides each sequence's loss by its target length (at least 1) and
    averages; `zero_infinity` gives impossible alignments a zero loss and gradient.
    """
    unbatched = log_probs.dim() == 2
    batched = log_probs.unsqueeze(1) if unbatched else log_probs
    target_array = np.asarray(targets._data if isinstance(targets, Tensor) else targets).astype(np.int64)
    if unbatched:
        target_array = target_array.reshape(1, -1)
    input_array = _lengths(input_lengths, "input_lengths")
    length_array = _lengths(target_lengths, "target_lengths")
    _check(batched, target_array, input_array, length_array, blank, reduction)
    sequences = _padded_targets(target_array, length_array)
    padded = np.zeros((len(sequences), int(length_array.max(initial=0))), np.int64)
    for n, sequence in enumerate(sequences):
        padded[n, :len(sequence)] = sequence
    losses = CtcLoss.apply(batched, padded, input_array, length_array, blank, zero_infinity)
    if reduction == "none":
        return losses.squeeze(0) if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    divisor = Tensor._make(np.maximum(length_array, 1).astype(losses._data.dtype))
    return (losses / divisor).mean()
