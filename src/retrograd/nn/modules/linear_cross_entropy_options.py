"""`LinearCrossEntropyOptions`: how PyTorch may chunk `linear_cross_entropy` over the batch so
that the (batch, classes) logits never exist at once.

retrograd accepts and checks the options as PyTorch does and always computes the reference
path (the logits in full): the numbers are the same, the peak memory is not reduced.
"""

from __future__ import annotations

import dataclasses

from ..._dtype import float16, float32, float64

__all__ = ["LinearCrossEntropyOptions"]

_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Chunking options for `linear_cross_entropy`: `batch_chunk_size` rows per chunk, or a
    `chunking_method` ("auto" or "aspect_ratio[:k]"), an accumulation policy and dtype, and
    whether a second backward is allowed. Checked here; retrograd computes without chunks."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, separator, factor = self.chunking_method.partition(":")
            factor = factor if separator else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in (float16, float32, float64):
            raise ValueError(
                "acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32, "
                f"torch.float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the op pick "
                "automatically."
            )
