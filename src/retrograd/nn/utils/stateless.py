"""`functional_call` under its old name (deprecated since PyTorch 2.0); the one implementation
lives in `retrograd.func`."""

from __future__ import annotations

from typing import Any

from ..._warnings import warn_at_caller
from ...func._functional_call import functional_call as _functional_call

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers: dict, args: Any = None, kwargs: dict | None = None,
                    *, tie_weights: bool = True, strict: bool = False):
    """`retrograd.func.functional_call` (a FutureWarning says to call it there, as PyTorch does)."""
    warn_at_caller(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be "
        "removed in a future version of PyTorch. Please use `torch.func.functional_call` instead "
        "which is a drop-in replacement.",
        FutureWarning,
    )
    return _functional_call(
        module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict
    )
