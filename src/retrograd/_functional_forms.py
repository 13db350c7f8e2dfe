"""The `torch` namespace's forms of `torch.nn.functional` functions that PyTorch also exposes at
the top level: `conv3d` and `max_pool3d` as they are; `ctc_loss`, whose top-level signature
takes ATen's enum as an int (`reduction`: 0 none, 1 mean, 2 sum) where the functional takes a
string; and `embedding_bag`, whose top-level form takes `mode` as an int (0 sum, 1 mean, 2 max)
and also returns the kernel's bookkeeping (each index's bag, each bag's size, the rows the
maxima came from).

Programs written against the low-level names (`torch.ctc_loss(..., blank, reduction,
zero_infinity)`, `torch.conv3d(x, w)`) run unchanged; the work is done by the functional.
"""

from __future__ import annotations

import numpy as np

from ._tensor import Tensor
from .nn._functional_ctc import ctc_loss as _functional_ctc_loss
from .nn._functional_more import conv3d, max_pool3d
from .nn._functional_more import embedding_bag as _functional_embedding_bag

__all__ = ["conv3d", "ctc_loss", "embedding_bag", "max_pool3d"]

# ATen's Reduction enum: its int values and the functional's names for them.
_REDUCTIONS = {1: "mean", 2: "sum"}


def _reduction_name(op_name: str, reduction) -> str:
    """The functional's name for `reduction` (an int); PyTorch's kernels treat every value
    other than 1 (mean) and 2 (sum) as none."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{op_name}() received an invalid combination of arguments - got "
                        f"reduction={type(reduction).__name__}, but expected int reduction "
                        f"(0 none, 1 mean, 2 sum)")
    return _REDUCTIONS.get(reduction, "none")


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """`F.ctc_loss` with `reduction` as ATen's int (0 none, 1 mean, 2 sum).

    Left out, `reduction` gives the per-sequence losses: PyTorch's `torch.ctc_loss` does the
    same, although its signature names mean as the default.
    """
    return _functional_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                               _reduction_name("ctc_loss", reduction), zero_infinity)


_BAG_MODES = {0: "sum", 1: "mean", 2: "max"}


def embedding_bag(weight: Tensor, indices: Tensor, offsets: Tensor, scale_grad_by_freq: bool = False,
                  mode: int = 0, sparse: bool = False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx=None):
    """(output, offset2bag, bag_size, max_indices): `F.embedding_bag` of the bags that start at
    `offsets`, with `mode` as an int (0 sum, 1 mean, 2 max) and a negative `padding_idx`
    counted from the end of `weight`, as PyTorch's top-level form.

    offset2bag is each index's bag (empty for mode sum without padding_idx), bag_size the
    number of indices other than padding_idx in each bag (zeros for mode sum), max_indices the
    row of `weight` each maximum came from (mode max; otherwise bag_size again)."""
    if not isinstance(offsets, Tensor):
        raise TypeError(f"embedding_bag(): argument 'offsets' (position 3) must be Tensor, not "
                        f"{type(offsets).__name__}")
    if mode not in _BAG_MODES:
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    flat = indices.reshape(-1)
    output = _functional_embedding_bag(flat, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                                       mode=_BAG_MODES[mode], sparse=sparse,
                                       per_sample_weights=per_sample_weights,
                                       include_last_offset=include_last_offset, padding_idx=padding_idx)
    return (output, *_bag_bookkeeping(weight, flat._data, offsets._data, mode, include_last_offset,
                                      padding_idx))


def _bag_bookkeeping(weight: Tensor, indices: np.ndarray, offsets: np.ndarray, mode: int,
                     include_last_offset: bool, padding_idx) -> tuple[Tensor, Tensor, Tensor]:
    """(offset2bag, bag_size, max_indices) of PyTorch's embedding_bag kernel."""
    bags = len(offsets) - 1 if include_last_offset else len(offsets)
    starts = offsets[:bags].astype(np.int64)
    bag_of = np.clip(np.searchsorted(starts, np.arange(len(indices)), side="right") - 1, 0,
                     max(bags - 1, 0))
    kept = np.ones(len(indices), bool) if padding_idx is None else indices != padding_idx
    if mode == 0 and padding_idx is None:
        offset2bag = np.zeros(0, np.int64)
    else:
        offset2bag = bag_of.astype(np.int64)
    if mode == 0:
        sizes = np.zeros(bags, np.int64)
    else:
        sizes = np.bincount(bag_of[kept], minlength=bags).astype(np.int64)[:bags]
    maxima = sizes.copy() if mode != 2 else _max_rows(weight._data, indices, bag_of, kept, bags)
    return Tensor._make(offset2bag), Tensor._make(sizes), Tensor._make(maxima)


def _max_rows(table: np.ndarray, indices: np.ndarray, bag_of: np.ndarray, kept: np.ndarray,
              bags: int) -> np.ndarray:
    """For each bag and column, the row of `table` holding the bag's maximum (0 for an empty bag)."""
    rows = np.zeros((bags, table.shape[1]), np.int64)
    for bag in range(bags):
        members = indices[(bag_of == bag) & kept]
        if members.size:
            rows[bag] = members[np.argmax(table[members], axis=0)]
    return rows
