"""Activation functions as modules (ReLU, GELU, Softmax, ...), each a thin wrapper of its
`nn.functional` function that stores the settings shown in its repr."""

from __future__ import annotations

from ..._creation import empty
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "SELU",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softsign",
    "Tanh",
    "Threshold",
]


class _Inplace(Module):
    """An activation with only an `inplace` flag (shown in the repr when set).

    `_function` names the `nn.functional` function it applies (looked up when called).
    """

    _function = "relu"

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._function)(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Plain(Module):
    """An activation without settings."""

    _function = "sigmoid"

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._function)(input)


class ReLU(_Inplace):
    """max(0, x)."""

    _function = "relu"


class ReLU6(_Inplace):
    """min(max(0, x), 6)."""

    _function = "relu6"


class SELU(_Inplace):
    """Scaled ELU with the self-normalising constants."""

    _function = "selu"


class SiLU(_Inplace):
    """x·σ(x) (also called swish)."""

    _function = "silu"


class Mish(_Inplace):
    """x·tanh(softplus(x))."""

    _function = "mish"


class Hardsigmoid(_Inplace):
    """A piecewise-linear sigmoid: clamp(x/6 + 1/2, 0, 1)."""

    _function = "hardsigmoid"


class Hardswish(_Inplace):
    """x·hardsigmoid(x)."""

    _function = "hardswish"


class Sigmoid(_Plain):
    """1 / (1 + e^(−x))."""

    _function = "sigmoid"


class Tanh(_Plain):
    _function = "tanh"


class Softsign(_Plain):
    """x / (1 + |x|)."""

    _function = "softsign"


class LogSigmoid(_Plain):
    """log σ(x), computed stably."""

    _function = "logsigmoid"


class LeakyReLU(Module):
    """x for x ≥ 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class _Alpha(Module):
    _function = "elu"

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._function)(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class ELU(_Alpha):
    """x for x > 0, α·(eˣ − 1) otherwise."""

    _function = "elu"


class CELU(_Alpha):
    """max(0, x) + min(0, α·(e^(x/α) − 1))."""

    _function = "celu"


class GELU(Module):
    """x·Φ(x), exactly or with the tanh approximation (`approximate='tanh'`)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError("max_val must be larger than min_val")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """log(1 + e^(βx))/β, linear above `threshold`."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class _SoftmaxFamily(Module):
    _function = "softmax"

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._function)(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxFamily):
    """e^(xᵢ) / Σⱼ e^(xⱼ) along `dim`."""

    _function = "softmax"


class LogSoftmax(_SoftmaxFamily):
    """log softmax along `dim`, computed stably."""

    _function = "log_softmax"


class Softmin(_SoftmaxFamily):
    """softmax(−x) along `dim`."""

    _function = "softmin"


class PReLU(Module):
    """x for x > 0, a·x otherwise, with a learned slope `a` (one, or one per channel of dim 1)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set the slopes back to `init`."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        from ... import where

        slope = self.weight
        if self.num_parameters > 1 and input.dim() > 1:
            slope = slope.reshape(-1, *([1] * (input.dim() - 2)))
        elif input.dim() == 0 or self.num_parameters == 1:
            slope = slope.reshape(())
        return where(input > 0, input, slope * input)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Threshold(Module):
    """x where x > threshold, `value` elsewhere."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        from ... import full_like, where

        result = where(input > self.threshold, input, full_like(input, self.value))
        return input.copy_(result) if self.inplace else result

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")
