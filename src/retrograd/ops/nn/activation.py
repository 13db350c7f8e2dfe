"""Activations, softmax and their in-place forms."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import _creation
from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _samples
from .._table import OUTPUT, apply, register, run_in_place
from ..pointwise import (
    _constant_like,
    _erf_and_erfc,
    _stable_sigmoid,
    erf,
    exp,
    mul,
    sigmoid,
    tanh,
)
from ..pointwise import abs as absolute
from ..reduce import normalize_dims
from ._common import _floating_data, _torch_name

# ---------------------------------------------------------------------------
# Activations


class _Activation(Node):
    """y = f(x) elementwise; backward is grad * f'(x), with f' written as tensor ops.

    Subclasses give `compute(data, **params)` on arrays and `derivative(x, **params)`.
    """

    __slots__ = ("params",)
    op_name = ""
    keeps_integers = False

    @classmethod
    def forward(cls, ctx, x, **params):
        data = x._data if cls.keeps_integers else _floating_data(x, cls.op_name)
        ctx.save_for_backward(x)
        ctx.params = params
        return cls.compute(data, **params)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * self.derivative(x, **self.params)


class ReluBackward0(Node):
    """max(x, 0); the derivative mask comes from the saved result, as PyTorch saves it."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"relu(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
        ctx.save_for_backward(OUTPUT)
        return np.maximum(x._data, 0)

    def backward(self, grad):
        (result,) = self.saved_tensors
        return grad * _constant_like(grad, result._data > 0)


class LeakyReluBackward0(_Activation):
    __slots__ = ()
    op_name = "leaky_relu"

    @staticmethod
    def compute(data, negative_slope):
        return np.where(data > 0, data, data * negative_slope)

    @staticmethod
    def derivative(x, negative_slope):
        return _constant_like(x, np.where(x._data > 0, 1.0, negative_slope))


class HardtanhBackward0(_Activation):
    __slots__ = ()
    op_name = "hardtanh"
    keeps_integers = True

    @staticmethod
    def compute(data, min_val, max_val):
        return np.clip(data, min_val, max_val)

    @staticmethod
    def derivative(x, min_val, max_val):
        return _constant_like(x, (x._data > min_val) & (x._data < max_val))


class EluBackward0(_Activation):
    """scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)); also selu."""

    __slots__ = ()
    op_name = "elu"

    @staticmethod
    def compute(data, alpha, scale, input_scale):
        negative = alpha * np.expm1(np.minimum(data, 0) * input_scale)
        return scale * np.where(data > 0, data, negative)

    @staticmethod
    def derivative(x, alpha, scale, input_scale):
        negative = x._data <= 0
        exponential = exp(x * _constant_like(x, negative * input_scale))
        negative_slope = _constant_like(x, negative * (scale * alpha * input_scale))
        return exponential * negative_slope + _constant_like(x, ~negative * scale)


class CeluBackward0(EluBackward0):
    __slots__ = ()
    op_name = "celu"


def _normal_density(x: Tensor) -> Tensor:
    return exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


_GELU_TANH_SCALE = math.sqrt(2 / math.pi)
_GELU_TANH_CUBIC = 0.044715


class GeluBackward0(_Activation):
    """x * Phi(x), or with approximate='tanh' 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    __slots__ = ()
    op_name = "gelu"

    @staticmethod
    def compute(data, approximate):
        if approximate == "tanh":
            inner = _GELU_TANH_SCALE * (data + _GELU_TANH_CUBIC * data * data * data)
            return 0.5 * data * (1 + np.tanh(inner))
        return data * 0.5 * (1 + _erf_and_erfc(data * (1 / math.sqrt(2)))[0])

    @staticmethod
    def derivative(x, approximate):
        if approximate == "tanh":
            inner = (x + x * x * x * _GELU_TANH_CUBIC) * _GELU_TANH_SCALE
            t = tanh(inner)
            slope = (x * x * (3 * _GELU_TANH_CUBIC) + 1) * _GELU_TANH_SCALE
            return (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * slope
        return (erf(x * (1 / math.sqrt(2))) + 1) * 0.5 + x * _normal_density(x)


class SiluBackward0(_Activation):
    __slots__ = ()
    op_name = "silu"

    @staticmethod
    def compute(data):
        return data * _stable_sigmoid(data)

    @staticmethod
    def derivative(x):
        s = sigmoid(x)
        return s * (x * (1 - s) + 1)


class SoftplusBackward0(_Activation):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""

    __slots__ = ()
    op_name = "softplus"

    @staticmethod
    def compute(data, beta, threshold):
        scaled = data * beta
        return np.where(scaled > threshold, data, np.logaddexp(0, scaled) / beta)

    @staticmethod
    def derivative(x, beta, threshold):
        linear = x._data * beta > threshold
        return sigmoid(x * beta) * _constant_like(x, ~linear) + _constant_like(x, linear)


class MishBackward0(_Activation):
    __slots__ = ()
    op_name = "mish"

    @staticmethod
    def compute(data):
        return data * np.tanh(np.logaddexp(0, data))

    @staticmethod
    def derivative(x):
        t = tanh(softplus(x))
        return t + x * (1 - t * t) * sigmoid(x)


# PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32, in every dtype.
_ONE_SIXTH_AS_PYTORCH = float(np.float32(1 / 6))


class HardsigmoidBackward0(_Activation):
    __slots__ = ()
    op_name = "hardsigmoid"

    @staticmethod
    def compute(data):
        return np.clip(data / 6 + 0.5, 0, 1)

    @staticmethod
    def derivative(x):
        return _constant_like(x, ((x._data > -3) & (x._data < 3)) * _ONE_SIXTH_AS_PYTORCH)


class HardswishBackward0(_Activation):
    __slots__ = ()
    op_name = "hardswish"

    @staticmethod
    def compute(data):
        return data * np.clip(data + 3, 0, 6) / 6

    @staticmethod
    def derivative(x):
        middle = (x._data > -3) & (x._data < 3)
        return x * _constant_like(x, middle / 3) + _constant_like(x, middle * 0.5 + (x._data >= 3))


class LogSigmoidBackward0(_Activation):
    __slots__ = ()
    op_name = "logsigmoid"

    @staticmethod
    def compute(data):
        return -np.logaddexp(0, -data)

    @staticmethod
    def derivative(x):
        return sigmoid(-x)


def _activation_samples(low=-3.0, high=3.0, **kwargs):
    """Samples avoiding the kinks at 0 (and at the edges of the linear pieces)."""

    def samples(rng):
        cases = []
        for shape in [(3,), (2, 3), (), (0,)]:
            data = rng.uniform(low, high, size=shape)
            data = np.where(np.abs(data) < 0.1, 0.37, data)
            cases.append(((Tensor._make(data.astype(np.float64)),), dict(kwargs)))
        return cases

    return samples


@register(methods="relu", inplace="relu_", samples=_activation_samples())
def relu(input, inplace: bool = False):
    """max(input, 0)."""
    if inplace:
        return run_in_place(input, relu)
    return apply(ReluBackward0, input)


@register(samples=_activation_samples(-8.0, 8.0), torch_name=_torch_name("relu6"))
def relu6(input, inplace: bool = False):
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


@register(samples=_activation_samples(min_val=-1.5, max_val=2.0), torch_name=_torch_name("hardtanh"))
def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """input clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return run_in_place(input, hardtanh, min_val, max_val)
    return apply(HardtanhBackward0, input, min_val=min_val, max_val=max_val)


@register(samples=_activation_samples(negative_slope=0.2), torch_name=_torch_name("leaky_relu"))
def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """input where positive, negative_slope * input elsewhere."""
    if inplace:
        return run_in_place(input, leaky_relu, negative_slope)
    return apply(LeakyReluBackward0, input, negative_slope=negative_slope)


@register(samples=_activation_samples(alpha=0.7), torch_name=_torch_name("elu"))
def elu(input, alpha: float = 1.0, inplace: bool = False):
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    if inplace:
        return run_in_place(input, elu, alpha)
    return apply(EluBackward0, input, alpha=alpha, scale=1.0, input_scale=1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@register(samples=_activation_samples(), torch_name=_torch_name("selu"))
def selu(input, inplace: bool = False):
    """scale * elu(input, alpha) with the self-normalising constants."""
    if inplace:
        return run_in_place(input, selu)
    return apply(EluBackward0, input, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)


@register(samples=_activation_samples(alpha=1.5), torch_name=_torch_name("celu"))
def celu(input, alpha: float = 1.0, inplace: bool = False):
    """input where positive, alpha * (exp(input / alpha) - 1) elsewhere."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return run_in_place(input, celu, alpha)
    return apply(CeluBackward0, input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def _gelu_samples(rng):
    x = _samples.make(rng, (2, 3), -3.0, 3.0)
    return [((x,), {}), ((x,), {"approximate": "tanh"}), ((_samples.make(rng, ()),), {})]


@register(samples=_gelu_samples, torch_name=_torch_name("gelu"))
def gelu(input, approximate: str = "none"):
    """input * Phi(input), Phi the standard normal CDF (or its tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return apply(GeluBackward0, input, approximate=approximate)


@register(samples=_activation_samples(), torch_name=_torch_name("silu"))
def silu(input, inplace: bool = False):
    """input * sigmoid(input)."""
    if inplace:
        return run_in_place(input, silu)
    return apply(SiluBackward0, input)


@register(samples=_activation_samples(), torch_name=_torch_name("mish"))
def mish(input, inplace: bool = False):
    """input * tanh(softplus(input))."""
    if inplace:
        return run_in_place(input, mish)
    return apply(MishBackward0, input)


def _softplus_samples(rng):
    x = _samples.make(rng, (2, 3), -3.0, 3.0)
    return [((x,), {}), ((x,), {"beta": 2.0, "threshold": 3.0}), ((_samples.make(rng, (0,)),), {})]


@register(samples=_softplus_samples, torch_name=_torch_name("softplus"))
def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta * input)) / beta, linear above `threshold` (stable for large inputs)."""
    return apply(SoftplusBackward0, input, beta=beta, threshold=threshold)


@register(samples=_activation_samples(), torch_name=_torch_name("softsign"))
def softsign(input):
    """input / (1 + |input|)."""
    return input / (absolute(input) + 1)


@register(samples=_activation_samples(-5.0, 5.0), torch_name=_torch_name("hardsigmoid"))
def hardsigmoid(input, inplace: bool = False):
    """input / 6 + 1/2, clipped to [0, 1]."""
    if inplace:
        return run_in_place(input, hardsigmoid)
    return apply(HardsigmoidBackward0, input)


@register(samples=_activation_samples(-5.0, 5.0), torch_name=_torch_name("hardswish"))
def hardswish(input, inplace: bool = False):
    """input * hardsigmoid(input)."""
    if inplace:
        return run_in_place(input, hardswish)
    return apply(HardswishBackward0, input)


@register(samples=_activation_samples(), torch_name=_torch_name("logsigmoid"))
def logsigmoid(input):
    """log(sigmoid(input)), computed as -softplus(-input)."""
    return apply(LogSigmoidBackward0, input)


# ---------------------------------------------------------------------------
# Softmax and friends


def _softmax_dim(dim, ndim: int, op_name: str) -> int:
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {op_name} has been deprecated. Change the call to "
            "include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
        dim = 0 if ndim in (0, 1, 3) else 1
    (wrapped,) = normalize_dims(dim, ndim) or (0,)
    return wrapped


def _softmax_input(input, dtype, op_name: str) -> np.ndarray:
    data = _floating_data(input, op_name)
    return data if dtype is None else data.astype(dtype.numpy)


class SoftmaxBackward0(Node):
    """exp(x - max) / sum(exp(x - max)); backward y * (g - sum(g * y))."""

    __slots__ = ("dim",)

    @staticmethod
    def forward(ctx, x, dim, dtype):
        data = _softmax_input(x, dtype, "softmax")
        ctx.save_for_backward(OUTPUT)
        ctx.dim = dim
        if data.ndim == 0:
            return np.ones_like(data)
        if data.size == 0:
            return data.copy()
        shifted = np.exp(data - np.max(data, axis=dim, keepdims=True))
        return shifted / np.sum(shifted, axis=dim, keepdims=True)

    def backward(self, grad):
        (result,) = self.saved_tensors
        if result.ndim == 0:
            return grad * 0
        weighted = grad * result
        return weighted - result * weighted.sum(self.dim, keepdim=True)


class LogSoftmaxBackward0(Node):
    """x - max - log(sum(exp(x - max))); backward g - exp(y) * sum(g)."""

    __slots__ = ("dim",)

    @staticmethod
    def forward(ctx, x, dim, dtype):
        data = _softmax_input(x, dtype, "log_softmax")
        ctx.save_for_backward(OUTPUT)
        ctx.dim = dim
        if data.ndim == 0:
            return np.zeros_like(data)
        if data.size == 0:
            return data.copy()
        shifted = data - np.max(data, axis=dim, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))

    def backward(self, grad):
        (result,) = self.saved_tensors
        if result.ndim == 0:
            return grad * 0
        return grad - exp(result) * grad.sum(self.dim, keepdim=True)


def _softmax_samples(rng):
    x = _samples.make(rng, (2, 3))
    return [
        ((x,), {"dim": 1}),
        ((x,), {"dim": 0}),
        ((_samples.make(rng, (2, 2, 3)),), {"dim": -1}),
        ((_samples.make(rng, ()),), {"dim": 0}),
        ((_samples.make(rng, (2, 0)),), {"dim": 1}),
    ]


@register(methods="softmax", samples=_softmax_samples)
def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """exp(input) normalised to sum to 1 along `dim` (shifted by the max: no overflow)."""
    dim = _softmax_dim(dim, _floating_data(input, "softmax").ndim, "softmax")
    return apply(SoftmaxBackward0, input, dim=dim, dtype=dtype)


@register(methods="log_softmax", samples=_softmax_samples)
def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """log(softmax(input, dim)), computed stably as input - logsumexp(input, dim)."""
    dim = _softmax_dim(dim, _floating_data(input, "log_softmax").ndim, "log_softmax")
    return apply(LogSoftmaxBackward0, input, dim=dim, dtype=dtype)


@register(samples=_softmax_samples, torch_name=_torch_name("softmin"))
def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """softmax(-input, dim)."""
    dim = _softmax_dim(dim, _floating_data(input, "softmin").ndim, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return apply(SoftmaxBackward0, -input, dim=dim, dtype=None)


# ---------------------------------------------------------------------------
# More activations and their in-place forms


class ThresholdBackward0(_Activation):
    __slots__ = ()
    op_name = "threshold"
    keeps_integers = True

    @staticmethod
    def compute(data, threshold, value):
        return np.where(data > threshold, data, value).astype(data.dtype, copy=False)

    @staticmethod
    def derivative(x, threshold, value):
        return _constant_like(x, x._data > threshold)


class HardshrinkBackward0(_Activation):
    __slots__ = ()
    op_name = "hardshrink"

    @staticmethod
    def compute(data, lambd):
        return np.where(np.abs(data) > lambd, data, 0).astype(data.dtype, copy=False)

    @staticmethod
    def derivative(x, lambd):
        return _constant_like(x, np.abs(x._data) > lambd)


class SoftshrinkBackward0(_Activation):
    __slots__ = ()
    op_name = "softshrink"

    @staticmethod
    def compute(data, lambd):
        return np.where(data > lambd, data - lambd, np.where(data < -lambd, data + lambd, 0)).astype(
            data.dtype, copy=False
        )

    @staticmethod
    def derivative(x, lambd):
        return _constant_like(x, np.abs(x._data) > lambd)


@register(samples=_activation_samples(threshold=0.5, value=-2.0), torch_name=_torch_name("threshold"))
def threshold(input, threshold: float, value: float, inplace: bool = False):
    """input where input > threshold, else value."""
    if inplace:
        return run_in_place(input, _threshold, threshold, value)
    return _threshold(input, threshold, value)


def _threshold(input, threshold: float, value: float):
    return apply(ThresholdBackward0, input, threshold=threshold, value=value)


@register(samples=_activation_samples(lambd=0.7), torch_name=_torch_name("hardshrink"))
def hardshrink(input, lambd: float = 0.5):
    """input where |input| > lambd, else 0."""
    return apply(HardshrinkBackward0, input, lambd=lambd)


@register(samples=_activation_samples(lambd=0.7), torch_name=_torch_name("softshrink"))
def softshrink(input, lambd: float = 0.5):
    """input shrunk toward 0 by lambd (0 inside [-lambd, lambd])."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return apply(SoftshrinkBackward0, input, lambd=lambd)


@register(samples=_activation_samples(), torch_name=_torch_name("tanhshrink"))
def tanhshrink(input):
    """input - tanh(input)."""
    return input - tanh(input)


def _prelu_samples(rng):
    make = _samples.make
    data = rng.uniform(-2, 2, (2, 3, 2))
    x = Tensor._make(np.where(np.abs(data) < 0.1, 0.5, data))
    return [((x, make(rng, (3,), 0.1, 0.5)), {}), ((x, make(rng, (1,), 0.1, 0.5)), {})]


@register(samples=_prelu_samples, torch_name=_torch_name("prelu"))
def prelu(input, weight):
    """input where positive, weight * input elsewhere; weight has one slope per channel (dim 1) or one."""
    channels = weight.numel()
    if channels != 1 and (input.ndim < 2 or input.shape[1] != channels):
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {channels} "
            f"and channel size = {input.shape[1] if input.ndim >= 2 else 1}."
        )
    shape = (channels,) + (1,) * (input.ndim - 2) if channels != 1 else ()
    positive = _constant_like(input, input._data > 0)
    negative = _constant_like(input, input._data <= 0)
    return input * positive + input * weight.reshape(shape) * negative


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Leaky relu whose negative slope is drawn uniformly from [lower, upper] per element when
    training (from the default generator), and is (lower + upper) / 2 otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slopes = _creation.default_generator.rng.uniform(lower, upper, size=input.shape)
    scale = Tensor._make(np.where(input._data >= 0, 1.0, slopes).astype(input._data.dtype))
    if inplace:
        return run_in_place(input, mul, scale)
    return mul(input, scale)


def glu(input, dim: int = -1):
    """a * sigmoid(b), where a and b are the two halves of input along dim."""
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {input._wrap_dim(dim)} is size {size}"
        )
    half = size // 2
    return input.narrow(dim, 0, half) * sigmoid(input.narrow(dim, half, half))


def relu_(input):
    """In-place relu."""
    return relu(input, inplace=True)


def elu_(input, alpha: float = 1.0):
    """In-place elu."""
    return elu(input, alpha, inplace=True)


def selu_(input):
    """In-place selu."""
    return selu(input, inplace=True)


def celu_(input, alpha: float = 1.0):
    """In-place celu."""
    return celu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01):
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold: float, value: float):
    """In-place threshold."""
    return run_in_place(input, _threshold, threshold, value)


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False):
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, inplace=True)
