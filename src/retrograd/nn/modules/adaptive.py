"""AdaptiveLogSoftmaxWithLoss: a softmax over many classes made cheap by splitting them by
frequency (Grave et al., "Efficient softmax approximation for GPUs").

The `head` scores the frequent classes (those below `cutoffs[0]`) and one entry per tail
cluster; a class in cluster i gets log p(cluster i) + log p(class | cluster i), the second
from the cluster's own small two-layer projection, whose hidden width shrinks by `div_value`
per cluster.
"""

from __future__ import annotations

import itertools
from collections import namedtuple
from collections.abc import Sequence

from ..._tensor import Tensor
from ...ops.reduce import argmax
from ...ops.shape import cat
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _check_cutoffs(cutoffs: list, n_classes: int) -> None:
    if not cutoffs:
        raise ValueError("cutoffs should be a sequence of length larger than 0")
    if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
        raise ValueError(
            "cutoffs should be a sequence of unique, positive integers sorted in an increasing "
            "order, where each value is between 1 and n_classes-1"
        )


def _check_shapes(input: Tensor, target: Tensor) -> None:
    if target.dim() == 1:
        if input.size(0) != target.size(0):
            raise RuntimeError("Input and target should have the same size in the batch dimension.")
        if input.dim() != 2:
            raise RuntimeError(
                f"1D target tensor expects 2D input tensors, but found inputs with size {input.size()}"
            )
    elif target.dim() == 0:
        if input.dim() != 1:
            raise RuntimeError(
                f"0D target tensor expects 1D input tensors, but found inputs with size {input.size()}"
            )
    else:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probabilities of the targets under an adaptive softmax, and their mean negative.

    `forward(input, target)` returns `(output, loss)` (a named tuple): `output[i]` is the
    log-probability of `target[i]`, `loss` the mean of `-output`. `log_prob(input)` gives the
    full (N, n_classes) log-probabilities, `predict(input)` the most likely class.
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        _check_cutoffs(cutoffs, n_classes)
        factory = {"device": device, "dtype": dtype}
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [*cutoffs, n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for index in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (index + 1)))
            width = self.cutoffs[index + 1] - self.cutoffs[index]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **factory),
                                        Linear(hidden, width, bias=False, **factory)))

    def reset_parameters(self) -> None:
        """Initialise the head and every cluster's projection again."""
        self.head.reset_parameters()
        for to_hidden, to_classes in self.tail:
            to_hidden.reset_parameters()
            to_classes.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        _check_shapes(input_, target_)
        batched = target_.dim() > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        batch_size = target.size(0)
        output = input.new_zeros(batch_size)
        head_index = target.new_empty(batch_size)
        bounds = [0, *self.cutoffs]
        used_rows = 0
        for cluster, (low, high) in enumerate(itertools.pairwise(bounds)):
            in_cluster = (target >= low) & (target < high)
            rows = in_cluster.nonzero()[:, 0]
            if rows.numel() == 0:
                continue
            if cluster == 0:
                head_index.index_copy_(0, rows, target[in_cluster])
            else:
                scores = self.tail[cluster - 1](input.index_select(0, rows))
                within = F.log_softmax(scores, dim=1).gather(1, (target[in_cluster] - low).unsqueeze(1))
                head_index.index_fill_(0, rows, self.shortlist_size + cluster - 1)
                output.index_copy_(0, rows, within.squeeze(1))
            used_rows += rows.numel()
        if used_rows != batch_size:
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{target.min().item()}, {target.max().item()}] were found. "
            )
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, head_index.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """(N, n_classes) log-probabilities: the shortlist from the head, each cluster's classes
        as the cluster's log-probability plus their log-probability within it."""
        head_logprob = F.log_softmax(head_output, dim=1)
        pieces = [head_logprob[:, :self.shortlist_size]]
        for cluster, projection in enumerate(self.tail):
            within = F.log_softmax(projection(input), dim=1)
            pieces.append(within + head_logprob[:, self.shortlist_size + cluster].unsqueeze(1))
        return cat(pieces, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """The log-probability of every class for each row of `input` (N, n_classes)."""
        return self._full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row; the clusters are scored only for rows whose head
        prefers a cluster over every shortlist class."""
        head_output = self.head(input)
        output = argmax(head_output, dim=1)
        outside = output >= self.shortlist_size
        if not outside.any():
            return output
        if outside.all():
            return argmax(self._full_log_prob(input, head_output), dim=1)
        output[outside] = argmax(self._full_log_prob(input[outside], head_output[outside]), dim=1)
        return output
