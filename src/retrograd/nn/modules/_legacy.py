"""Modules PyTorch keeps from Lua Torch and from its own early releases: the deprecated
`Container` and `NLLLoss2d` (each warns, as PyTorch's do, when made or subclassed) and
`CrossMapLRN2d`. Their public homes are PyTorch's (Note [Public module names])."""

from __future__ import annotations

from ..._tensor import Tensor
from ..._warnings import warn_at_caller
from . import _functions
from .loss import NLLLoss
from .module import Module

__all__ = ["Container", "CrossMapLRN2d", "NLLLoss2d"]


class _WarnsWhenUsed:
    """A class that says, with a FutureWarning, that it is deprecated: when it is
    instantiated and when it is subclassed (as `typing_extensions.deprecated` does)."""

    _deprecation = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if any("_deprecation" in vars(base) for base in cls.__mro__[1:] if base is not _WarnsWhenUsed):
            warn_at_caller(cls._deprecation, FutureWarning)

    def __new__(cls, *args, **kwargs):
        warn_at_caller(cls._deprecation, FutureWarning)
        return super().__new__(cls)


class Container(_WarnsWhenUsed, Module):
    """A Module whose keyword arguments become its submodules (deprecated: subclass Module)."""

    _deprecation = (
        "`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
        "Subclass that instead."
    )

    def __init__(self, **kwargs):
        super().__init__()
        for name, module in kwargs.items():
            self.add_module(name, module)


class NLLLoss2d(_WarnsWhenUsed, NLLLoss):
    """NLLLoss under its old name for (N, C, H, W) inputs (deprecated: NLLLoss takes them)."""

    _deprecation = (
        "`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and "
        "see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details."
    )

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean"):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class CrossMapLRN2d(Module):
    """Lua Torch's local response normalisation across the channels of a 4-d input:
    x / (k + alpha/size · Σ x²)^beta, the sum over neighbouring channels."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return _functions.CrossMapLRN2d.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
