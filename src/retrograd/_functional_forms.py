"""The `torch` namespace's forms of `torch.nn.functional` functions that PyTorch also exposes at
the top level: `conv3d` and `max_pool3d` as they are, and `ctc_loss`, whose top-level signature
takes ATen's enum as an int (`reduction`: 0 none, 1 mean, 2 sum) where the functional takes a
string.

Programs written against the low-level names (`torch.ctc_loss(..., blank, reduction,
zero_infinity)`, `torch.conv3d(x, w)`) run unchanged; the work is done by the functional.
"""

from __future__ import annotations

from ._tensor import Tensor
from .nn._functional_ctc import ctc_loss as _functional_ctc_loss
from .nn._functional_more import conv3d, max_pool3d

__all__ = ["conv3d", "ctc_loss", "max_pool3d"]

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
