"""Activations, softmax and their in-place forms."""

from __future__ import annotations

import math
import warnings
from typing import ClassVar

import numpy as np

from ... import _creation
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, ShowsOneDimAsGiven, formula_value, saved_array
from .._table import apply, register, run_in_place
from .._tangents import ELEMENT_WISE
from ..pointwise import (
    _erf_and_erfc,
    _stable_sigmoid,
    sigmoid,
    tanh,
)
from ..pointwise import abs as absolute
from ..pointwise.promotion import floating_input
from ..reduce import normalize_dims
from ._common import _tensor_data, _torch_name

# ---------------------------------------------------------------------------
# Activations
#
# Each is declared (Note [Declared derivatives]): the forward on arrays, and the derivative
# by `self` as a formula that runs on arrays without create_graph and records with it.
# Piecewise derivatives select (`_math.select`/`choose`, or the `*_backward` ops of _math that are
# PyTorch's threshold_backward & co.), so a NaN or Inf in the incoming gradient stays where
# the forward put it, and the second derivative of a piecewise-linear activation is zero.


def _relu_kernel(data: np.ndarray) -> np.ndarray:
    return np.maximum(data, 0)


class ReluBackward0(Formula):
    """max(x, 0); the derivative selects by the saved result, as PyTorch saves it."""

    array_kernel = staticmethod(_relu_kernel)

    @staticmethod
    def forward(self):
        return _relu_kernel(_tensor_data(self, "relu"))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, result: _math.threshold_backward(grad, result, 0)}


class LeakyReluBackward0(Formula):
    @staticmethod
    def forward(self, negative_slope):
        data = floating_input(self, "leaky_relu")
        return np.where(data > 0, data, data * negative_slope)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, negative_slope: _math.leaky_relu_backward(grad, self, negative_slope),
    }


class HardtanhBackward0(Formula):
    @staticmethod
    def forward(self, min_val, max_val):
        data = _tensor_data(self, "hardtanh")
        return np.clip(data, min_val, max_val).astype(data.dtype, copy=False)  # integers stay

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, min_val, max_val: _math.hardtanh_backward(grad, self, min_val, max_val),
    }


def _elu_forward(data, alpha, scale, input_scale):
    negative = alpha * np.expm1(np.minimum(data, 0) * input_scale)
    return scale * np.where(data > 0, data, negative)


class EluBackward0(Formula):
    """scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)); also selu."""

    @staticmethod
    def forward(self, alpha, scale, input_scale):
        return _elu_forward(floating_input(self, "elu"), alpha, scale, input_scale)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, alpha, scale, input_scale: _math.elu_backward(
            grad, self, alpha, scale, input_scale),
    }


class CeluBackward0(Formula):
    """x if x > 0 else alpha * (exp(x / alpha) - 1)."""

    @staticmethod
    def forward(self, alpha):
        return _elu_forward(floating_input(self, "celu"), alpha, 1.0, 1.0 / alpha)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, alpha: _math.elu_backward(grad, self, alpha, 1.0, 1.0 / alpha)}


_GELU_TANH_SCALE = math.sqrt(2 / math.pi)
_GELU_TANH_CUBIC = 0.044715
_INVERSE_SQRT_2 = 1 / math.sqrt(2)
_INVERSE_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _gelu_derivative(grad, self, approximate):
    if approximate == "tanh":
        t = _math.tanh((self + self * self * self * _GELU_TANH_CUBIC) * _GELU_TANH_SCALE)
        slope = (self * self * (3 * _GELU_TANH_CUBIC) + 1) * _GELU_TANH_SCALE
        return grad * ((t + 1) * 0.5 + self * 0.5 * (1 - t * t) * slope)
    density = _math.exp(self * self * -0.5) * _INVERSE_SQRT_2PI
    return grad * ((_math.erf(self * _INVERSE_SQRT_2) + 1) * 0.5 + self * density)


class GeluBackward0(Formula):
    """x * Phi(x), or with approximate='tanh' 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    @staticmethod
    def forward(self, approximate):
        data = floating_input(self, "gelu")
        if approximate == "tanh":
            inner = _GELU_TANH_SCALE * (data + _GELU_TANH_CUBIC * data * data * data)
            return 0.5 * data * (1 + np.tanh(inner))
        return data * 0.5 * (1 + _erf_and_erfc(data * _INVERSE_SQRT_2)[0])

    tangent = ELEMENT_WISE
    derivatives = {"self": _gelu_derivative}


def _silu_derivative(grad, self):
    s = _math.sigmoid(self)
    return grad * s * (self * (1 - s) + 1)


class SiluBackward0(Formula):
    @staticmethod
    def forward(self):
        data = floating_input(self, "silu")
        return data * _stable_sigmoid(data)

    tangent = ELEMENT_WISE
    derivatives = {"self": _silu_derivative}


class SoftplusBackward0(Formula):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""

    @staticmethod
    def forward(self, beta, threshold):
        data = floating_input(self, "softplus")
        scaled = data * beta
        return np.where(scaled > threshold, data, np.logaddexp(0, scaled) / beta)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, beta, threshold: _math.choose(
            self * beta > threshold, grad, grad * _math.sigmoid(self * beta)),
    }


def _mish_derivative(grad, self):
    t = _math.tanh(_math.softplus(self))
    return grad * (t + self * (1 - t * t) * _math.sigmoid(self))


class MishBackward0(Formula):
    @staticmethod
    def forward(self):
        data = floating_input(self, "mish")
        return data * np.tanh(np.logaddexp(0, data))

    tangent = ELEMENT_WISE
    derivatives = {"self": _mish_derivative}


# PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32, in every dtype.
_ONE_SIXTH_AS_PYTORCH = float(np.float32(1 / 6))


class HardsigmoidBackward0(Formula):
    @staticmethod
    def forward(self):
        data = floating_input(self, "hardsigmoid")  # min(max(x + 3, 0), 6) / 6: PyTorch's bits
        return np.minimum(np.maximum(data + data.dtype.type(3), 0), data.dtype.type(6)) / data.dtype.type(6)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self: _math.keep_where((self > -3) & (self < 3), grad * _ONE_SIXTH_AS_PYTORCH),
    }


class HardswishBackward0(Formula):
    @staticmethod
    def forward(self):
        data = floating_input(self, "hardswish")
        return data * np.clip(data + 3, 0, 6) / 6

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: _math.hardswish_backward(grad, self)}


def _log_sigmoid_buffer(node) -> Tensor:
    """exp(-|x|), the buffer PyTorch's CPU kernel saves beside the input (our formula needs
    only the input): computed from the saved input when read, freed with it."""
    return saved_array(node, np.exp(-np.abs(formula_value(node, "self")._data)))


class LogSigmoidBackward0(ShownAsPyTorch, Formula):
    """log(sigmoid(x)); it shows PyTorch's `buffer` too (_log_sigmoid_buffer)."""

    @staticmethod
    def forward(self):
        return -np.logaddexp(0, -floating_input(self, "logsigmoid"))

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.sigmoid(-self)}
    shown: ClassVar[dict] = {"buffer": _log_sigmoid_buffer}


@register(methods="relu", inplace="relu_", direct=ReluBackward0)
def relu(input, inplace: bool = False):
    """max(input, 0)."""
    if inplace:
        return run_in_place(input, relu)
    return apply(ReluBackward0, input)


@register(torch_name=_torch_name("relu6"))
def relu6(input, inplace: bool = False):
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0, 6, inplace)  # (ints, as PyTorch's node shows them)


@register(torch_name=_torch_name("hardtanh"))
def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """input clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return run_in_place(input, hardtanh, min_val, max_val)
    return apply(HardtanhBackward0, input, min_val=min_val, max_val=max_val)


@register(torch_name=_torch_name("leaky_relu"),
          floating=True)
def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """input where positive, negative_slope * input elsewhere."""
    if inplace:
        return run_in_place(input, leaky_relu, negative_slope)
    return apply(LeakyReluBackward0, input, negative_slope=negative_slope)


@register(torch_name=_torch_name("elu"), floating=True)
def elu(input, alpha: float = 1.0, inplace: bool = False):
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    if inplace:
        return run_in_place(input, elu, alpha)
    return apply(EluBackward0, input, alpha=alpha, scale=1, input_scale=1)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@register(torch_name=_torch_name("selu"), floating=True)
def selu(input, inplace: bool = False):
    """scale * elu(input, alpha) with the self-normalising constants."""
    if inplace:
        return run_in_place(input, selu)
    return apply(EluBackward0, input, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1)


@register(torch_name=_torch_name("celu"), floating=True)
def celu(input, alpha: float = 1.0, inplace: bool = False):
    """input where positive, alpha * (exp(input / alpha) - 1) elsewhere."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return run_in_place(input, celu, alpha)
    return apply(CeluBackward0, input, alpha=alpha)


@register(torch_name=_torch_name("gelu"), floating=True)
def gelu(input, approximate: str = "none"):
    """input * Phi(input), Phi the standard normal CDF (or its tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return apply(GeluBackward0, input, approximate=approximate)


@register(torch_name=_torch_name("silu"), floating=True)
def silu(input, inplace: bool = False):
    """input * sigmoid(input)."""
    if inplace:
        return run_in_place(input, silu)
    return apply(SiluBackward0, input)


@register(torch_name=_torch_name("mish"), floating=True)
def mish(input, inplace: bool = False):
    """input * tanh(softplus(input))."""
    if inplace:
        return run_in_place(input, mish)
    return apply(MishBackward0, input)


@register(torch_name=_torch_name("softplus"), floating=True)
def softplus(input, beta: float = 1, threshold: float = 20):
    """log(1 + exp(beta * input)) / beta, linear above `threshold` (stable for large inputs)."""
    return apply(SoftplusBackward0, input, beta=beta, threshold=threshold)


@register(torch_name=_torch_name("softsign"))
def softsign(input):
    """input / (1 + |input|)."""
    return input / (absolute(input) + 1)


@register(torch_name=_torch_name("hardsigmoid"), floating=True)
def hardsigmoid(input, inplace: bool = False):
    """input / 6 + 1/2, clipped to [0, 1]."""
    if inplace:
        return run_in_place(input, hardsigmoid)
    return apply(HardsigmoidBackward0, input)


@register(torch_name=_torch_name("hardswish"), floating=True)
def hardswish(input, inplace: bool = False):
    """input * hardsigmoid(input)."""
    if inplace:
        return run_in_place(input, hardswish)
    return apply(HardswishBackward0, input)


@register(torch_name=_torch_name("logsigmoid"), floating=True)
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
    data = floating_input(input, op_name)
    return data if dtype is None else data.astype(dtype.numpy)


def _softmax_derivative(grad, result, dim):
    """y * (g - sum(g * y)) along dim (a 0-d input is its own dim: g*y - y*(g*y), still a
    function of y, so a second derivative reaches the input as PyTorch's does)."""
    weighted = grad * result
    if result.ndim == 0:
        return weighted - result * weighted
    return weighted - result * _math.sum_dims(weighted, dim, keepdim=True)


class SoftmaxBackward0(ShowsOneDimAsGiven, Formula):
    """exp(x - max) / sum(exp(x - max)); backward y * (g - sum(g * y))."""

    @staticmethod
    def forward(self, dim, dtype=None, dim_as_given=None):
        data = _softmax_input(self, dtype, "softmax")
        if data.ndim == 0:  # exp(x - x) / exp(x - x): 1, or NaN for NaN and +-inf (as PyTorch)
            shifted = np.exp(data - data)
            return np.asarray(shifted / shifted, dtype=data.dtype)
        if data.size == 0:
            return data.copy()
        shifted = np.exp(data - np.maximum.reduce(data, axis=dim, keepdims=True))  # (np.max, less Python)
        shifted /= np.add.reduce(shifted, axis=dim, keepdims=True)
        return shifted

    # Softmax's Jacobian diag(y) - y yᵀ is symmetric: J·v is the derivative formula at grad = v.
    tangent = staticmethod(lambda self_t, result, dim: _softmax_derivative(self_t, result, dim))
    derivatives = {"self": _softmax_derivative}


def _log_softmax_tangent(self_t, result, dim):
    """v - sum(softmax · v) along dim (the Jacobian is I - 1 softmaxᵀ)."""
    if result.ndim == 0:
        return self_t - _math.exp(result) * self_t
    return self_t - _math.sum_dims(_math.exp(result) * self_t, dim, keepdim=True)


def _log_softmax_derivative(grad, result, dim):
    """g - exp(y) * sum(g) along dim (g - exp(y) * g for a 0-d input)."""
    if result.ndim == 0:
        return grad - _math.exp(result) * grad
    return grad - _math.exp(result) * _math.sum_dims(grad, dim, keepdim=True)


class LogSoftmaxBackward0(ShowsOneDimAsGiven, Formula):
    """x - max - log(sum(exp(x - max))); backward g - exp(y) * sum(g)."""

    @staticmethod
    def forward(self, dim, dtype=None, dim_as_given=None):
        data = _softmax_input(self, dtype, "log_softmax")
        if data.ndim == 0:  # x - x - log(exp(x - x)): 0, or NaN for NaN and +-inf (as PyTorch)
            shifted = data - data
            return np.asarray(shifted - np.log(np.exp(shifted)), dtype=data.dtype)
        if data.size == 0:
            return data.copy()
        shifted = data - np.maximum.reduce(data, axis=dim, keepdims=True)  # (np.max, less Python)
        shifted -= np.log(np.add.reduce(np.exp(shifted), axis=dim, keepdims=True))
        return shifted

    # J = I - 1 softmaxᵀ along dim: J·v = v - sum(softmax · v).
    tangent = staticmethod(_log_softmax_tangent)
    derivatives = {"self": _log_softmax_derivative}


def _as_given(dim) -> dict:
    """The dim the call gave, for the node to show (Note [Saved values as PyTorch shows them])."""
    return {} if dim is None else {"dim_as_given": dim}


@register(methods="softmax",
          floating=True)
def softmax(input, dim, dtype=None):
    """exp(input) normalised to sum to 1 along `dim` (shifted by the max: no overflow).

    `dim` is required, as in `torch.softmax`; `nn.functional.softmax` still chooses one
    (deprecated, with PyTorch's warning) when it is left out. A tensor and an int dim in
    range (the usual call) go to the op without the checks' calls."""
    if type(input) is Tensor and type(dim) is int and -input._data.ndim <= dim < input._data.ndim:
        return apply(SoftmaxBackward0, input, dim=dim % input._data.ndim, dtype=dtype, dim_as_given=dim)
    given, dim = dim, _softmax_dim(dim, floating_input(input, "softmax").ndim, "softmax")
    return apply(SoftmaxBackward0, input, dim=dim, dtype=dtype, **_as_given(given))


@register(methods="log_softmax",
          floating=True)
def log_softmax(input, dim, dtype=None):
    """log(softmax(input, dim)), computed stably as input - logsumexp(input, dim); `dim` is
    required, as in `torch.log_softmax` (see `softmax`)."""
    if type(input) is Tensor and type(dim) is int and -input._data.ndim <= dim < input._data.ndim:
        return apply(LogSoftmaxBackward0, input, dim=dim % input._data.ndim, dtype=dtype, dim_as_given=dim)
    given, dim = dim, _softmax_dim(dim, floating_input(input, "log_softmax").ndim, "log_softmax")
    return apply(LogSoftmaxBackward0, input, dim=dim, dtype=dtype, **_as_given(given))


def _log_softmax_along(input, dim: int):
    """log_softmax of a floating input along a dim already in range (cross_entropy's classes),
    recorded as `log_softmax(input, dim)` records it."""
    return apply(LogSoftmaxBackward0, input, dim=dim, dtype=None, dim_as_given=dim)


@register(torch_name=_torch_name("softmin"), floating=True)
def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """softmax(-input, dim)."""
    given, dim = dim, _softmax_dim(dim, floating_input(input, "softmin").ndim, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return apply(SoftmaxBackward0, -input, dim=dim, dtype=None, **_as_given(given))


# ---------------------------------------------------------------------------
# More activations and their in-place forms


class ThresholdBackward0(Formula):
    @staticmethod
    def forward(self, threshold, value):
        data = _tensor_data(self, "threshold")
        return np.where(data <= threshold, value, data).astype(data.dtype, copy=False)  # NaN stays

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, threshold: _math.threshold_backward(grad, self, threshold)}


class HardshrinkBackward0(Formula):
    @staticmethod
    def forward(self, lambd):
        data = floating_input(self, "hardshrink")
        return np.where((data >= -lambd) & (data <= lambd), 0, data).astype(data.dtype, copy=False)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, lambd: _math.hardshrink_backward(grad, self, lambd)}


class SoftshrinkBackward0(Formula):
    @staticmethod
    def forward(self, lambd):
        data = floating_input(self, "softshrink")
        return np.where(data > lambd, data - lambd, np.where(data < -lambd, data + lambd, data * 0)).astype(
            data.dtype, copy=False
        )  # (NaN * 0: a NaN stays, as in PyTorch)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, lambd: _math.softshrink_backward(grad, self, lambd)}


@register(torch_name=_torch_name("threshold"))
def threshold(input, threshold: float, value: float, inplace: bool = False):
    """input where input > threshold, else value."""
    if inplace:
        return run_in_place(input, _threshold, threshold, value)
    return _threshold(input, threshold, value)


def _threshold(input, threshold: float, value: float):
    return apply(ThresholdBackward0, input, threshold=threshold, value=value)


@register(torch_name=_torch_name("hardshrink"), floating=True)
def hardshrink(input, lambd: float = 0.5):
    """input where |input| > lambd, else 0."""
    return apply(HardshrinkBackward0, input, lambd=lambd)


@register(torch_name=_torch_name("softshrink"), floating=True)
def softshrink(input, lambd: float = 0.5):
    """input shrunk toward 0 by lambd (0 inside [-lambd, lambd])."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return apply(SoftshrinkBackward0, input, lambd=lambd)


@register(torch_name=_torch_name("tanhshrink"))
def tanhshrink(input):
    """input - tanh(input)."""
    return input - tanh(input)


class PreluKernelBackward0(Formula):
    """self where positive, weight * self elsewhere (weight broadcast over self); the
    derivatives select by the sign of self, as PyTorch's _prelu_kernel_backward."""

    inputs = ("self", "weight")

    @staticmethod
    def forward(self, weight):
        data = self._data
        return np.where(data > 0, data, weight._data * data)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, weight: _math.where(self > 0, grad, weight * grad),
        "weight": lambda grad, self: _math.where(self > 0, 0.0, self * grad),
    }


@register(torch_name=_torch_name("prelu"), floating=True,
          same_dtype=("input", "weight"))
def prelu(input, weight):
    """input where positive, weight * input elsewhere; weight has one slope per channel (dim 1) or one."""
    channels = weight.numel()
    if channels != 1 and (input.ndim < 2 or input.shape[1] != channels):
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {channels} "
            f"and channel size = {input.shape[1] if input.ndim >= 2 else 1}."
        )
    if input.ndim >= 2:  # (viewed as PyTorch views it, so its node saves that shape)
        weight = weight.reshape((1, channels) + (1,) * (input.ndim - 2))
    elif input.ndim == 0:
        weight = weight.reshape(())
    return apply(PreluKernelBackward0, input, weight)


class RreluWithNoiseBackward0(ShownAsPyTorch, Formula):
    """rrelu: x * noise when training (noise the drawn slope of each element <= 0, 1
    elsewhere), leaky relu with slope (lower + upper) / 2 otherwise, PyTorch's node. Out of
    training PyTorch's noise is an unwritten buffer of the input's shape; ours holds zeros."""

    @staticmethod
    def forward(self, noise, lower, upper, training):
        data = floating_input(self, "rrelu")
        if training:
            return data * noise
        return np.where(data > 0, data, data * ((lower + upper) / 2))

    shown: ClassVar[dict] = {"noise": lambda node: saved_array(node, node._parameter("noise"))}
    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, noise, lower, upper, training: _times_noise(grad, noise) if training
        else _math.leaky_relu_backward(grad, self, (lower + upper) / 2),
    }


def _times_noise(grad, noise: np.ndarray):
    """The gradient (an array, or a Tensor when recorded) times rrelu's drawn slopes."""
    return grad * (Tensor._make(noise) if isinstance(grad, Tensor) else noise)


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Leaky relu whose negative slope is drawn uniformly from [lower, upper] per element when
    training (from the default generator), and is (lower + upper) / 2 otherwise."""
    if training:
        noise = _creation._random._rrelu_noise(input._data, lower, upper)
    else:
        noise = np.zeros(input._data.shape, input._data.dtype)
    if inplace:
        return run_in_place(input, _rrelu_with_noise, noise, lower, upper, training)
    return _rrelu_with_noise(input, noise, lower, upper, training)


def _rrelu_with_noise(input, noise, lower, upper, training):
    return apply(RreluWithNoiseBackward0, input, noise=noise, lower=lower, upper=upper, training=training)


def _halves(x, dim: int) -> tuple:
    """The two halves of x (an array or a Tensor) along `dim`: glu's values and gates."""
    half = x.shape[dim] // 2
    return _math.narrow(x, dim, 0, half), _math.narrow(x, dim, half, half)


def _gate(x):
    """sigmoid of glu's gate half, an array or a Tensor (recorded)."""
    return sigmoid(x) if isinstance(x, Tensor) else _stable_sigmoid(x)


def _glu_derivative(grad, self, dim: int):
    """d(a σ(b)): g σ(b) for the values a, g a σ(b) (1 - σ(b)) for the gates b, joined along dim."""
    values, gates = _halves(self, dim)
    gate = _gate(gates)
    return _math.cat([grad * gate, grad * values * gate * (1 - gate)], dim)


def _glu_tangent(self_t, self, dim: int):
    """a' σ(b) + a σ(b) (1 - σ(b)) b'."""
    values, gates = _halves(self, dim)
    values_t, gates_t = _halves(self_t, dim)
    gate = _gate(gates)
    return values_t * gate + values * gate * (1 - gate) * gates_t


class GluBackward0(ShowsOneDimAsGiven, Formula):
    """a * sigmoid(b), a and b the two halves of the input along a dim: one node, as PyTorch's,
    saving the input and the dim as given."""

    @staticmethod
    def forward(self, dim, dim_as_given=None):
        values, gates = _halves(floating_input(self, "glu"), dim)
        return values * _stable_sigmoid(gates)

    tangent = staticmethod(_glu_tangent)
    derivatives = {"self": _glu_derivative}


def glu(input, dim: int = -1):
    """a * sigmoid(b), where a and b are the two halves of input along dim."""
    size = input.shape[dim]
    wrapped = input._wrap_dim(dim)
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {wrapped} is size {size}")
    return apply(GluBackward0, input, dim=wrapped, dim_as_given=dim)


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
