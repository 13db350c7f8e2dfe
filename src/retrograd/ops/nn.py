"""Neural-network operators: activations, softmax, linear maps, convolution, pooling,
padding, embedding, normalisation, dropout and losses.

Each op is a node class named as PyTorch names its grad_fn, whose forward computes on
arrays (numerically stable at large magnitudes) and whose backward is written with
differentiable tensor operations, so every op here is twice differentiable. Where a
backward needs a linear map that no other op provides (scattering into windows, gathering
by index, padding), it uses a pair of nodes here that are each other's backward:
Im2Col/Col2Im, Gather/ScatterAdd, ConstantPadNd with negated pads; contractions use
linalg's einsum.

Note [Constant masks]
    Piecewise derivatives (relu, hardtanh, the two sides of a loss) are written as the
    gradient times a constant tensor built from a boolean mask of the saved input. The
    mask does not require grad, so the derivative's own derivative is the smooth part
    only, as PyTorch's is. A smooth branch that could overflow where it is masked off
    (exp in elu) is evaluated on the input times the mask, never masked after the fact.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _creation, _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _samples
from ._table import OUTPUT, apply, register, run_in_place
from .linalg import einsum, matmul
from .pointwise import (
    _check_broadcast,
    _constant_like,
    _erf_and_erfc,
    _stable_sigmoid,
    clamp_min,
    erf,
    exp,
    mul,
    sigmoid,
    tanh,
    where_constant,
)
from .pointwise import abs as absolute
from .reduce import norm, normalize_dims

__all__ = ["log_softmax", "relu", "softmax"]


# The C type names PyTorch's kernels print in some dtype errors.
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half"}


def _torch_name(name: str) -> str:
    return f"nn.functional.{name}"


# ---------------------------------------------------------------------------
# Helpers shared by the backward formulas


def _floating_data(x, op_name: str) -> np.ndarray:
    """The input's array; integer and bool inputs become the default float dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    data = x._data
    if data.dtype.kind in "fc":
        return data
    return data.astype(_dtype.get_default_dtype().numpy)


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


def _norm_along(input: Tensor, p: float, dim) -> Tensor:
    """The p-norm along dim, kept; its gradient at a zero slice is 0 (as PyTorch), not NaN."""
    return norm(input, p, dim, keepdim=True)


def _normalize_samples(rng):
    x = _samples.make(rng, (2, 3), 0.5, 2.0)
    return [((x,), {}), ((x,), {"p": 1.0, "dim": 0}), ((x,), {"dim": -1, "eps": 10.0})]


@register(samples=_normalize_samples, torch_name=_torch_name("normalize"))
def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    norm = clamp_min(_norm_along(input, p, dim), eps)
    return input / norm.expand_as(input)


# ---------------------------------------------------------------------------
# Linear maps


def _c_type_name(dtype) -> str:
    return _C_TYPE_NAMES.get(dtype.name, dtype.name)


def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_c_type_name(a.dtype)} != {_c_type_name(b.dtype)}"
        )


class AddmmBackward0(Node):
    """input @ weight.T + bias over the last dim of input (any leading dims)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        result = np.matmul(x._data, weight._data.T)
        if bias is not None:
            result = result + bias._data
        return result

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        features_in, features_out = weight.shape[1], weight.shape[0]
        flat_grad = grad.reshape(-1, features_out)
        grad_x = grad_weight = None
        if needs_x:
            grad_x = einsum("mo,oi->mi", flat_grad, weight).reshape(x.shape)
        if needs_weight:
            grad_weight = einsum("mo,mi->oi", flat_grad, x.reshape(-1, features_in))
        return grad_x, grad_weight, grad if needs_bias else None


class MmBackward0(AddmmBackward0):
    """input @ weight.T (linear without bias)."""

    __slots__ = ()


def _linear_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (4, 3)), make(rng, (4,))), {}),
        ((make(rng, (2, 3)), make(rng, (4, 3))), {}),
        ((make(rng, (2, 2, 3)), make(rng, (2, 3)), make(rng, (2,))), {}),
        ((make(rng, (3,)), make(rng, (2, 3)), make(rng, (2,))), {}),
    ]


@register(samples=_linear_samples, torch_name=_torch_name("linear"))
def linear(input, weight, bias=None):
    """input @ weight.T + bias: weight is (out_features, in_features)."""
    if input.shape[-1:] != weight.shape[-1:] or weight.ndim != 2:
        rows = int(np.prod(input.shape[:-1])) if input.ndim > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1] if input.ndim else 1} "
            f"and {weight.shape[-1]}x{weight.shape[0]})"
        )
    _check_same_dtype(input, weight)
    node = AddmmBackward0 if bias is not None else MmBackward0
    if input.ndim <= 2:
        return apply(node, input, weight, bias)
    flat = apply(node, input.reshape(-1, input.shape[-1]), weight, bias)
    return flat.reshape(*input.shape[:-1], weight.shape[0])


def _bilinear_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 2)), make(rng, (4, 3, 2)), make(rng, (4,))), {}),
        ((make(rng, (2, 3)), make(rng, (2, 2)), make(rng, (4, 3, 2))), {}),
    ]


@register(samples=_bilinear_samples, torch_name=_torch_name("bilinear"))
def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    batch_shape = input1.shape[:-1]
    left = input1.reshape(-1, input1.shape[-1])
    right = input2.reshape(-1, input2.shape[-1])
    result = einsum("ni,oij,nj->no", left, weight, right).reshape(*batch_shape, weight.shape[0])
    return result if bias is None else result + bias


# ---------------------------------------------------------------------------
# Index maps: gather and scatter-add along one axis (each the other's backward)


class GatherBackward0(Node):
    """x picked along `axis` at `index` (an array broadcastable to the result)."""

    __slots__ = ("axis", "index", "size")

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.axis, ctx.index, ctx.size = axis, index, x._data.shape[axis]
        return np.take_along_axis(x._data, index, axis)

    def backward(self, grad):
        return scatter_add_along(grad, self.axis, self.index, self.size)


class ScatterAddBackward0(Node):
    """Zeros with `size` along `axis`, with `src` added at `index` (repeats accumulate)."""

    __slots__ = ("axis", "index")

    @staticmethod
    def forward(ctx, src, axis, index, size):
        ctx.axis, ctx.index = axis, index
        data = src._data
        shape = list(data.shape)
        shape[axis] = size
        grids = [np.arange(extent).reshape([-1 if d == dim else 1 for d in range(data.ndim)])
                 for dim, extent in enumerate(data.shape)]
        grids[axis] = index
        positions = np.ravel_multi_index(tuple(np.broadcast_arrays(*grids)), shape)
        total = int(np.prod(shape, dtype=np.int64))
        summed = np.bincount(positions.ravel(), weights=data.ravel(), minlength=total)
        return summed.astype(data.dtype, copy=False).reshape(shape)

    def backward(self, grad):
        return gather_along(grad, self.axis, self.index)


def gather_along(x: Tensor, axis: int, index: np.ndarray) -> Tensor:
    return apply(GatherBackward0, x, axis=axis % x.ndim, index=index)


def scatter_add_along(src: Tensor, axis: int, index: np.ndarray, size: int) -> Tensor:
    index = np.broadcast_to(index, src.shape)
    return apply(ScatterAddBackward0, src, axis=axis % src.ndim, index=index, size=size)


# ---------------------------------------------------------------------------
# Padding


def _pad_pairs(pad, ndim: int) -> tuple[tuple[int, int], ...]:
    """F.pad's flat (last-dim-first) list as one (before, after) pair per dim."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {ndim}")
    pairs = [(0, 0)] * ndim
    for index in range(len(pad) // 2):
        pairs[ndim - 1 - index] = (int(pad[2 * index]), int(pad[2 * index + 1]))
    return tuple(pairs)


class ConstantPadNdBackward0(Node):
    """Pad with a constant (negative amounts crop); backward pads with the negated amounts."""

    __slots__ = ("pairs",)

    @staticmethod
    def forward(ctx, x, pairs, value):
        ctx.pairs = pairs
        data = x._data
        crop = tuple(slice(max(-before, 0), data.shape[d] - max(-after, 0))
                     for d, (before, after) in enumerate(pairs))
        grow = [(max(before, 0), max(after, 0)) for before, after in pairs]
        cropped = data[crop]
        for d, (before, after) in enumerate(pairs):
            if data.shape[d] + before + after < 0:
                raise RuntimeError(
                    f"The input size {data.shape[d]}, plus negative padding {before} and {after} "
                    f"resulted in a negative output size, which is invalid. Check dimension {d} of "
                    "your input."
                )
        if not any(before or after for before, after in grow):
            return cropped.copy()
        return np.pad(cropped, grow, mode="constant", constant_values=value)

    def backward(self, grad):
        negated = tuple((-before, -after) for before, after in self.pairs)
        return constant_pad(grad, negated, 0)


def constant_pad(x: Tensor, pairs, value=0) -> Tensor:
    return apply(ConstantPadNdBackward0, x, pairs=tuple(pairs), value=value)


class _IndexPadBackward(Node):
    """Reflect/replicate/circular padding: a gather over the padded dims, flattened;
    backward scatter-adds the gradient back (repeated positions accumulate)."""

    __slots__ = ("flat_index", "input_shape", "padded_dims")

    @staticmethod
    def forward(ctx, x, positions):
        data = x._data
        padded_dims = len(positions)
        spatial = data.shape[data.ndim - padded_dims:]
        flat_index = np.ravel_multi_index(np.ix_(*positions), spatial)
        ctx.flat_index, ctx.input_shape, ctx.padded_dims = flat_index.ravel(), data.shape, padded_dims
        flat = data.reshape(*data.shape[: data.ndim - padded_dims], -1)
        return np.take(flat, flat_index, axis=-1)

    def backward(self, grad):
        lead_shape = self.input_shape[: len(self.input_shape) - self.padded_dims]
        spatial_size = int(np.prod(self.input_shape[len(lead_shape):], dtype=np.int64))
        flat_grad = grad.reshape(*lead_shape, -1)
        return scatter_add_along(flat_grad, -1, self.flat_index, spatial_size).reshape(self.input_shape)


def _index_pad_node(name: str) -> type[Node]:
    return type(name, (_IndexPadBackward,), {"__slots__": ()})


# Named as PyTorch names these grad_fns (its circular padding is a copy into slices).
_CIRCULAR_PAD_NODE = _index_pad_node("CopySlices")
_INDEX_PAD_NODES = {
    **{(mode, dims): _index_pad_node(f"{name}Pad{dims}DBackward0")
       for mode, name in (("reflect", "Reflection"), ("replicate", "Replication"))
       for dims in (1, 2, 3)},
    **{("circular", dims): _CIRCULAR_PAD_NODE for dims in (1, 2, 3)},
}


def _pad_positions(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each padded position, the input position it copies."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)
_INDEX_PAD_MODES = ("reflect", "replicate", "circular")


def _check_index_pad(input: Tensor, pad, mode: str) -> None:
    padded_dims = len(pad) // 2
    if len(pad) % 2 or padded_dims not in (1, 2, 3) or input.ndim not in (padded_dims + 1, padded_dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor."
        )
    for index in range(padded_dims):
        dim = input.ndim - 1 - index
        before, after = pad[2 * index], pad[2 * index + 1]
        size = input.shape[dim]
        too_large = max(before, after) >= size if mode == "reflect" else max(before, after) > size
        if too_large or (mode == "replicate" and size == 0):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({before}, {after}) at dimension {dim} of input "
                f"[{', '.join(map(str, input.shape))}]"
            )


def _pad_samples(rng):
    x = _samples.make(rng, (1, 2, 3, 4))
    return [
        ((x, (1, 2)), {}),
        ((x, (1, -1, 0, 2)), {"value": 0.5}),
        ((x, (2, 1, 1, 2)), {"mode": "reflect"}),
        ((x, (2, 3, 1, 0)), {"mode": "replicate"}),
        ((_samples.make(rng, (2, 3, 4)), (1, 2)), {"mode": "circular"}),
        ((_samples.make(rng, (2, 4)), (3, 1)), {"mode": "reflect"}),
    ]


@register(samples=_pad_samples, torch_name=_torch_name("pad"))
def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last len(pad) // 2 dims: pad = (last_before, last_after, previous_before, ...).

    mode 'constant' fills with `value` (negative amounts crop); 'reflect' mirrors without
    repeating the edge; 'replicate' repeats the edge; 'circular' wraps around.
    """
    if mode == "constant":
        return constant_pad(input, _pad_pairs(pad, input.ndim), 0 if value is None else value)
    if mode not in _INDEX_PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    _check_index_pad(input, pad, mode)
    padded_dims = len(pad) // 2
    positions = []
    for dim in range(input.ndim - padded_dims, input.ndim):
        index = input.ndim - 1 - dim
        positions.append(_pad_positions(input.shape[dim], pad[2 * index], pad[2 * index + 1], mode))
    return apply(_INDEX_PAD_NODES[(mode, padded_dims)], input, positions=tuple(positions))


# ---------------------------------------------------------------------------
# Windows over the last two dims: im2col and its adjoint col2im


def _window_view(data: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """A read-only view (..., out_h, out_w, kernel_h, kernel_w) of the windows of `data`."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = np.lib.stride_tricks.sliding_window_view(data, span, axis=(-2, -1))
    return windows[..., :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def _columns_array(data: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """The windows as columns (..., kernel_h, kernel_w, out_h, out_w), contiguous: the layout
    in which a convolution is one matrix product per sample (and F.unfold a reshape)."""
    windows = _window_view(data, kernel, stride, dilation)
    lead = windows.ndim - 4
    order = (*range(lead), lead + 2, lead + 3, lead, lead + 1)
    return np.ascontiguousarray(windows.transpose(order))


def _col2im_array(cols: np.ndarray, size, stride, dilation) -> np.ndarray:
    """Sum each window entry of `cols` (..., kh, kw, out_h, out_w) back to its place in an
    array of spatial `size`: one strided add per kernel position."""
    kernel_h, kernel_w, out_h, out_w = cols.shape[-4:]
    result = np.zeros((*cols.shape[:-4], *size), dtype=cols.dtype)
    row_extent, col_extent = stride[0] * (out_h - 1) + 1, stride[1] * (out_w - 1) + 1
    for i in range(kernel_h):
        row = i * dilation[0]
        for j in range(kernel_w):
            column = j * dilation[1]
            result[..., row: row + row_extent: stride[0], column: column + col_extent: stride[1]] += (
                cols[..., i, j, :, :]
            )
    return result


class Im2ColBackward0(Node):
    """The windows of the last two dims as columns (..., kernel_h, kernel_w, out_h, out_w)."""

    __slots__ = ("dilation", "size", "stride")

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation):
        ctx.size, ctx.stride, ctx.dilation = x._data.shape[-2:], stride, dilation
        return _columns_array(x._data, kernel, stride, dilation)

    def backward(self, grad):
        return col2im(grad, self.size, self.stride, self.dilation)


class Col2ImBackward0(Node):
    """Columns (..., kh, kw, out_h, out_w) summed back into an image of spatial `size`."""

    __slots__ = ("dilation", "kernel", "stride")

    @staticmethod
    def forward(ctx, cols, size, stride, dilation):
        ctx.kernel, ctx.stride, ctx.dilation = cols._data.shape[-4:-2], stride, dilation
        return _col2im_array(cols._data, size, stride, dilation)

    def backward(self, grad):
        return im2col(grad, self.kernel, self.stride, self.dilation)


def im2col(x: Tensor, kernel, stride, dilation) -> Tensor:
    return apply(Im2ColBackward0, x, kernel=tuple(kernel), stride=tuple(stride), dilation=tuple(dilation))


def col2im(cols: Tensor, size, stride, dilation) -> Tensor:
    return apply(Col2ImBackward0, cols, size=tuple(size), stride=tuple(stride), dilation=tuple(dilation))


# ---------------------------------------------------------------------------
# Convolution


def _spatial_pairs(pairs) -> tuple:
    """(before, after) pairs for the leading (batch, channel) dims and the spatial ones."""
    return ((0, 0), (0, 0), *pairs)


class ConvolutionBackward0(Node):
    """Convolution (or its transpose) over 1 or 2 spatial dims, by im2col and matmul.

    Internally 1-d is 2-d with height 1. `padding` holds (before, after) per spatial dim.
    Forward: windows of the padded input contracted with the weight (per group);
    transposed: the input contracted with the weight into windows, summed by col2im, then
    cropped. The backward is the same few differentiable maps run the other way.
    """

    __slots__ = ("dilation", "groups", "output_padding", "padding", "stride", "transposed")
    saved_names = ("input", "weight")

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, transposed, output_padding):
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups
        ctx.transposed, ctx.output_padding = transposed, output_padding
        ctx.save_for_backward(x, weight)
        data, kernel = _as_2d(x._data), _as_2d(weight._data)
        if transposed:
            result = _transposed_convolution_array(data, kernel, stride, padding, dilation, groups,
                                                   output_padding)
        else:
            result = _convolution_array(data, kernel, stride, padding, dilation, groups)
        if bias is not None:
            result = result + bias._data.reshape(-1, 1, 1)
        return result.reshape(*result.shape[:2], *result.shape[4 - x._data.ndim + 2:])

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        x4, weight4, grad4 = _tensor_2d(x), _tensor_2d(weight), _tensor_2d(grad)
        if self.transposed:
            grad_x, grad_weight = self._transposed_grads(x4, weight4, grad4, needs_x, needs_weight)
        else:
            grad_x, grad_weight = self._grads(x4, weight4, grad4, needs_x, needs_weight)
        grad_bias = grad.sum((0, *range(2, grad.ndim))) if needs_bias else None
        return (
            grad_x.reshape(x.shape) if grad_x is not None else None,
            grad_weight.reshape(weight.shape) if grad_weight is not None else None,
            grad_bias,
        )

    def _grads(self, x, weight, grad, needs_x, needs_weight):
        """Forward was out[g] = weight[g] @ columns(x)[g] over all samples at once; its adjoints."""
        groups = self.groups
        batch, channels = x.shape[:2]
        out_channels, group_channels, kernel_h, kernel_w = weight.shape
        out_h, out_w = grad.shape[2:]
        grad_g = _channels_first(grad).reshape(groups, out_channels // groups, -1)
        weight_g = weight.reshape(groups, out_channels // groups, group_channels * kernel_h * kernel_w)
        grad_x = grad_weight = None
        if needs_x:
            padded_size = tuple(s + b + a for s, (b, a) in zip(x.shape[2:], self.padding))
            cols = matmul(weight_g.transpose(-2, -1), grad_g)
            cols = cols.reshape(channels, kernel_h, kernel_w, batch, out_h, out_w).permute(3, 0, 1, 2, 4, 5)
            image = col2im(cols, padded_size, self.stride, self.dilation)
            grad_x = constant_pad(image, _spatial_pairs((-b, -a) for b, a in self.padding))
        if needs_weight:
            padded = constant_pad(x, _spatial_pairs(self.padding))
            cols = im2col(padded, (kernel_h, kernel_w), self.stride, self.dilation)
            cols = _kernel_rows_first(cols).reshape(groups, group_channels * kernel_h * kernel_w, -1)
            grad_weight = matmul(cols, grad_g.transpose(-2, -1)).transpose(-2, -1)
        return grad_x, grad_weight

    def _transposed_grads(self, x, weight, grad, needs_x, needs_weight):
        """Forward was columns[g] = weight[g]^T @ x[g], summed by col2im; its adjoints."""
        groups = self.groups
        batch, in_channels, height, width = x.shape
        _, group_out, kernel_h, kernel_w = weight.shape
        group_in = in_channels // groups
        padded = constant_pad(grad, _spatial_pairs(self.padding))
        cols = im2col(padded, (kernel_h, kernel_w), self.stride, self.dilation)
        cols = _kernel_rows_first(cols).reshape(groups, group_out * kernel_h * kernel_w, -1)
        weight_g = weight.reshape(groups, group_in, group_out * kernel_h * kernel_w)
        grad_x = grad_weight = None
        if needs_x:
            grad_x = matmul(weight_g, cols).reshape(in_channels, batch, height, width).permute(1, 0, 2, 3)
        if needs_weight:
            x_g = _channels_first(x).reshape(groups, group_in, -1)
            grad_weight = matmul(cols, x_g.transpose(-2, -1)).transpose(-2, -1)
        return grad_x, grad_weight


def _kernel_rows_first(cols: Tensor) -> Tensor:
    """Columns (N, C, kh, kw, out_h, out_w) as (C, kh, kw, N, out_h, out_w)."""
    return cols.permute(1, 2, 3, 0, 4, 5)


def _channels_first(x: Tensor) -> Tensor:
    """(N, C, ...) as (C, N, ...): channels lead, so that all samples share one matrix product."""
    return x.transpose(0, 1)


def _as_2d(data: np.ndarray) -> np.ndarray:
    """(N, C, L) as (N, C, 1, L); (N, C, H, W) unchanged."""
    return data[:, :, None, :] if data.ndim == 3 else data


def _tensor_2d(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], x.shape[1], 1, x.shape[2]) if x.ndim == 3 else x


def _convolution_array(data, kernel, stride, padding, dilation, groups):
    """Per group, one product weight (out, c * kh * kw) @ columns (c * kh * kw, n * out_h * out_w)."""
    batch = data.shape[0]
    out_channels, group_channels, kernel_h, kernel_w = kernel.shape
    padded = np.pad(data, _spatial_pairs(padding))
    windows = _window_view(padded, (kernel_h, kernel_w), stride, dilation)
    out_h, out_w = windows.shape[2:4]
    cols = np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3))
    cols = cols.reshape(groups, group_channels * kernel_h * kernel_w, -1)
    kernel = kernel.reshape(groups, out_channels // groups, group_channels * kernel_h * kernel_w)
    result = np.matmul(kernel, cols).reshape(out_channels, batch, out_h, out_w)
    return np.ascontiguousarray(result.transpose(1, 0, 2, 3))


def _transposed_convolution_array(data, kernel, stride, padding, dilation, groups, output_padding):
    """Per group, weight^T @ input gives columns for all samples, which col2im sums into images."""
    batch, in_channels, height, width = data.shape
    _, group_out, kernel_h, kernel_w = kernel.shape
    group_in = in_channels // groups
    kernel = kernel.reshape(groups, group_in, group_out * kernel_h * kernel_w)
    inputs = np.ascontiguousarray(data.transpose(1, 0, 2, 3)).reshape(groups, group_in, -1)
    cols = np.matmul(kernel.transpose(0, 2, 1), inputs)
    cols = cols.reshape(groups * group_out, kernel_h, kernel_w, batch, height, width)
    cols = cols.transpose(3, 0, 1, 2, 4, 5)
    full = tuple(
        (size - 1) * s + d * (k - 1) + 1 + extra
        for size, s, d, k, extra in zip((height, width), stride, dilation, (kernel_h, kernel_w),
                                        output_padding)
    )
    image = _col2im_array(cols, full, stride, dilation)
    (top, bottom), (left, right) = padding
    return image[..., top: full[0] - bottom, left: full[1] - right]


def _tuple(value, count: int, name: str) -> tuple:
    if isinstance(value, numbers.Integral):
        return (int(value),) * count
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * count
    if len(value) != count:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {count} values")
    return value


def _conv_padding(padding, kernel, dilation, stride, count):
    """(before, after) per spatial dim; 'same' puts the odd extra on the after side."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * count
        if padding != "same":
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in _tuple(padding, count, "padding"))


def _dims_text(values) -> str:
    return " x ".join(map(str, values))


def _check_conv_dtypes(input: Tensor, weight: Tensor, bias) -> None:
    """PyTorch's errors for a weight or bias whose dtype differs from the input's."""
    if weight.dtype is not input.dtype:
        raise RuntimeError(
            f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
            f"{_dtype.scalar_type_name(weight.dtype)}"
        )
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(
            f"Input type ({_c_type_name(input.dtype)}) and bias type ({_c_type_name(bias.dtype)}) "
            "should be the same"
        )


def _conv(input, weight, bias, stride, padding, dilation, groups, count, name):
    """Checks and unbatched handling shared by conv1d and conv2d."""
    if input.ndim not in (count + 1, count + 2):
        raise RuntimeError(
            f"Expected {count + 1}D (unbatched) or {count + 2}D (batched) input to {name}, but got "
            f"input of size: [{', '.join(map(str, input.shape))}]"
        )
    _check_conv_dtypes(input, weight, bias)
    unbatched = input.ndim == count + 1
    if unbatched:
        input = input.reshape(1, *input.shape)
    kernel = weight.shape[2:]
    stride = _tuple(stride, count, "stride")
    dilation = _tuple(dilation, count, "dilation")
    pairs = _conv_padding(padding, kernel, dilation, stride, count)
    if input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size [{', '.join(map(str, weight.shape))}], expected "
            f"input[{', '.join(map(str, input.shape))}] to have {weight.shape[1] * groups} channels, "
            f"but got {input.shape[1]} channels instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
            f"got weight of size [{', '.join(map(str, weight.shape))}] instead"
        )
    padded = [s + b + a for s, (b, a) in zip(input.shape[2:], pairs)]
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < s for p, s in zip(padded, spans)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({_dims_text(padded)}). Kernel size: "
            f"({_dims_text(spans)}). Kernel size can't be greater than actual input size"
        )
    if count == 1:
        stride, dilation, pairs = (1, *stride), (1, *dilation), ((0, 0), *pairs)
    result = apply(ConvolutionBackward0, input, weight, bias, stride=stride, padding=pairs,
                   dilation=dilation, groups=groups, transposed=False, output_padding=(0, 0))
    return result.reshape(result.shape[1:]) if unbatched else result


def _conv2d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 4, 4)), make(rng, (2, 2, 2, 2)), make(rng, (2,))), {}),
        ((make(rng, (2, 2, 5, 4)), make(rng, (2, 1, 2, 3))), {"stride": 2, "padding": 1, "groups": 2}),
        ((make(rng, (1, 1, 5, 5)), make(rng, (1, 1, 2, 2))), {"dilation": 2, "padding": "same"}),
        ((make(rng, (1, 3, 3)), make(rng, (2, 1, 2, 2)), make(rng, (2,))), {"padding": (1, 0)}),
    ]


@register(samples=_conv2d_samples, torch_name="conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-d cross-correlation of (N, C, H, W) input with (O, C / groups, kH, kW) weight."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv1d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 2, 5)), make(rng, (3, 2, 2)), make(rng, (3,))), {}),
        ((make(rng, (1, 2, 6)), make(rng, (2, 1, 3))),
         {"stride": 2, "padding": 2, "groups": 2, "dilation": 2}),
        ((make(rng, (2, 5)), make(rng, (1, 2, 2))), {"padding": "same"}),
    ]


@register(samples=_conv1d_samples, torch_name="conv1d")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-d cross-correlation of (N, C, L) input with (O, C / groups, k) weight."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def _conv_transpose2d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 3, 3)), make(rng, (2, 1, 2, 2)), make(rng, (1,))), {}),
        ((make(rng, (1, 2, 2, 3)), make(rng, (2, 2, 3, 2))),
         {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
        ((make(rng, (1, 1, 2, 2)), make(rng, (1, 1, 2, 2))), {"dilation": 2, "stride": (1, 2)}),
    ]


@register(samples=_conv_transpose2d_samples, torch_name="conv_transpose2d")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1):
    """The adjoint of conv2d: (N, C, H, W) input, (C, O / groups, kH, kW) weight."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


def _conv_transpose1d_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 2, 4)), make(rng, (2, 3, 2)), make(rng, (3,))), {}),
        ((make(rng, (1, 2, 3)), make(rng, (2, 1, 3))),
         {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 1}),
    ]


@register(samples=_conv_transpose1d_samples, torch_name="conv_transpose1d")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1):
    """The adjoint of conv1d: (N, C, L) input, (C, O / groups, k) weight."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, count, name):
    """Checks and unbatched handling shared by conv_transpose1d and conv_transpose2d."""
    if input.ndim not in (count + 1, count + 2):
        raise RuntimeError(
            f"Expected {count + 1}D (unbatched) or {count + 2}D (batched) input to {name}, but got input "
            f"of size: [{', '.join(map(str, input.shape))}]"
        )
    _check_conv_dtypes(input, weight, bias)
    unbatched = input.ndim == count + 1
    if unbatched:
        input = input.reshape(1, *input.shape)
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size [{', '.join(map(str, weight.shape))}], expected "
            f"input[{', '.join(map(str, input.shape))}] to have {weight.shape[0]} channels, but got "
            f"{input.shape[1]} channels instead"
        )
    stride, dilation = _tuple(stride, count, "stride"), _tuple(dilation, count, "dilation")
    output_padding = _tuple(output_padding, count, "output_padding")
    if any(extra >= max(s, d) for extra, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation")
    pairs = tuple((p, p) for p in _tuple(padding, count, "padding"))
    if count == 1:
        stride, dilation = (1, *stride), (1, *dilation)
        pairs, output_padding = ((0, 0), *pairs), (0, *output_padding)
    result = apply(ConvolutionBackward0, input, weight, bias, stride=stride, padding=pairs,
                   dilation=dilation, groups=groups, transposed=True, output_padding=output_padding)
    return result.reshape(result.shape[1:]) if unbatched else result


# ---------------------------------------------------------------------------
# Pooling


def _pool_output_size(size, kernel, stride, padding, dilation, ceil_mode) -> int:
    effective = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (effective + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return count


def _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, name):
    """Kernel, stride, padding, dilation pairs and the output size; PyTorch's checks."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"{name}: Expected 3D or 4D (batch mode) tensor for input, but got: "
            f"[{', '.join(map(str, input.shape))}]"
        )
    kernel = _tuple(kernel_size, 2, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, 2, "stride")
    padding, dilation = _tuple(padding, 2, "padding"), _tuple(dilation, 2, "dilation")
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    out = tuple(_pool_output_size(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip(input.shape[-2:], kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, input.shape[-3:]))}). Calculated output size: "
            f"({input.shape[-3]}x{out[0]}x{out[1]}). Output size is too small"
        )
    return kernel, stride, padding, dilation, out


def _pool_pairs(size, kernel, stride, padding, dilation, out) -> tuple:
    """(before, after) padding per spatial dim so that `out` windows fit (ceil_mode may need more)."""
    pairs = []
    for s, k, st, p, d, o in zip(size, kernel, stride, padding, dilation, out):
        needed = (o - 1) * st + d * (k - 1) + 1
        pairs.append((p, max(p, needed - s - p)))
    return tuple(pairs)


class MaxPool2DWithIndicesBackward0(Node):
    """The max of each window (values, and flat indices into the input's H*W plane);
    backward scatter-adds the gradient to the arg-max positions."""

    __slots__ = ("indices", "shape")
    non_differentiable_outputs = (1,)

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out):
        data = x._data
        height, width = data.shape[-2:]
        pairs = _pool_pairs((height, width), kernel, stride, padding, dilation, out)
        lead = [(0, 0)] * (data.ndim - 2)
        fill = -np.inf if data.dtype.kind == "f" else np.iinfo(data.dtype).min
        padded = np.pad(data, [*lead, *pairs], constant_values=fill)
        windows = _window_view(padded, kernel, stride, dilation)[..., : out[0], : out[1], :, :]
        flat = windows.reshape(*windows.shape[:-2], -1)
        choice = np.argmax(flat, axis=-1)
        values = np.take_along_axis(flat, choice[..., None], axis=-1)[..., 0]
        rows = (np.arange(out[0]) * stride[0] - padding[0])[:, None] + (choice // kernel[1]) * dilation[0]
        cols = (np.arange(out[1]) * stride[1] - padding[1])[None, :] + (choice % kernel[1]) * dilation[1]
        indices = (rows * width + cols).astype(np.int64)
        ctx.indices, ctx.shape = indices, data.shape
        return values, indices

    def backward(self, grad, grad_indices=None):
        lead = self.shape[:-2]
        flat_grad = grad.reshape(*lead, -1)
        flat_index = self.indices.reshape(*lead, -1)
        plane = self.shape[-2] * self.shape[-1]
        return scatter_add_along(flat_grad, -1, flat_index, plane).reshape(self.shape)


def _max_pool_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 4, 4)), 2), {}),
        ((make(rng, (2, 5, 5)), 3), {"stride": 2, "padding": 1}),
        ((make(rng, (1, 1, 5, 4)), 2), {"dilation": 2, "ceil_mode": True, "stride": 2}),
    ]


@register(samples=_max_pool_samples, torch_name="max_pool2d")
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The max over each window of the last two dims (padding counts as -inf)."""
    kernel, stride, padding, dilation, out = _pool_geometry(
        input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    values, indices = apply(MaxPool2DWithIndicesBackward0, input, kernel=kernel, stride=stride,
                            padding=padding, dilation=dilation, out=out)
    return (values, indices) if return_indices else values


def _adaptive_windows(size: int, out: int):
    """For each output position, the input positions of its window, padded to the longest
    window by repeating the last position (a repeat never changes a max)."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1)) * size) // out)
    longest = int((ends - starts).max()) if out else 0
    positions = starts[:, None] + np.arange(longest)[None, :]
    return np.minimum(positions, ends[:, None] - 1)


class AdaptiveMaxPool2DBackward0(MaxPool2DWithIndicesBackward0):
    """The max over windows chosen to give the requested output size; backward as max_pool2d's."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x, out):
        data = x._data
        height, width = data.shape[-2:]
        rows, columns = _adaptive_windows(height, out[0]), _adaptive_windows(width, out[1])
        picked = data[..., rows[:, :, None, None], columns[None, None, :, :]]
        picked = np.moveaxis(picked, -3, -2)
        flat = picked.reshape(*picked.shape[:-2], -1)
        choice = np.argmax(flat, axis=-1)
        values = np.take_along_axis(flat, choice[..., None], axis=-1)[..., 0]
        kernel_w = columns.shape[1]
        chosen_rows = rows[np.arange(out[0])[:, None], choice // kernel_w]
        chosen_columns = columns[np.arange(out[1])[None, :], choice % kernel_w]
        indices = (chosen_rows * width + chosen_columns).astype(np.int64)
        ctx.indices, ctx.shape = indices, data.shape
        return values, indices


def _adaptive_max_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 5, 4)), 2), {}), ((make(rng, (2, 7, 3)), (3, None)), {})]


@register(samples=_adaptive_max_samples, torch_name=_torch_name("adaptive_max_pool2d"))
def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size (None keeps that dim's size)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: [{', '.join(map(str, input.shape))}]"
        )
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) else tuple(output_size)
    out = tuple(int(s) if s is not None else size for s, size in zip(sizes, input.shape[-2:]))
    values, indices = apply(AdaptiveMaxPool2DBackward0, input, out=out)
    return (values, indices) if return_indices else values


@register(samples=lambda rng: [((_samples.make(rng, (1, 2, 7)), 3), {})],
          torch_name=_torch_name("adaptive_max_pool1d"))
def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max pooling of the last dim to a fixed output size."""
    _check_1d_pool_input(input, "adaptive_max_pool1d")
    values, indices = adaptive_max_pool2d(input.unsqueeze(-2), (1, _one(output_size, "output_size")), True)
    values, indices = values.squeeze(-2), indices.squeeze(-2)
    return (values, indices) if return_indices else values


def _average_divisor(size, kernel, stride, padding, out, count_include_pad) -> np.ndarray:
    """How many elements each output averages over, per output row and column (outer product)."""
    counts = []
    for s, k, st, p, o in zip(size, kernel, stride, padding, out):
        starts = np.arange(o) * st - p
        ends = np.minimum(starts + k, s + p)
        if count_include_pad:
            counts.append(ends - starts)
        else:
            counts.append(np.minimum(ends, s) - np.maximum(starts, 0))
    return np.multiply.outer(counts[0], counts[1])


class AvgPool2DBackward0(Node):
    """The mean of each window; backward spreads grad / divisor over each window (col2im)."""

    __slots__ = ("divisor", "kernel", "pairs", "size", "stride")

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out, count_include_pad, divisor_override):
        data = x._data
        size = data.shape[-2:]
        pairs = _pool_pairs(size, kernel, stride, padding, (1, 1), out)
        padded = np.pad(data, [*[(0, 0)] * (data.ndim - 2), *pairs])
        windows = _window_view(padded, kernel, stride, (1, 1))[..., : out[0], : out[1], :, :]
        if divisor_override:
            divisor = np.full(out, float(divisor_override))
        else:
            divisor = _average_divisor(size, kernel, stride, padding, out, count_include_pad)
        divisor = divisor.astype(data.dtype)
        ctx.divisor, ctx.kernel, ctx.stride, ctx.pairs, ctx.size = divisor, kernel, stride, pairs, size
        return windows.sum(axis=(-2, -1)) / divisor

    def backward(self, grad):
        scaled = grad / _constant_like(grad, self.divisor)
        lead, out = grad.shape[:-2], grad.shape[-2:]
        spread = scaled.reshape(*lead, 1, 1, *out).expand(*lead, *self.kernel, *out)
        padded_size = tuple(s + before + after for s, (before, after) in zip(self.size, self.pairs))
        image = col2im(spread, padded_size, self.stride, (1, 1))
        crop = [(0, 0)] * (grad.ndim - 2) + [(-before, -after) for before, after in self.pairs]
        return constant_pad(image, crop)


def _avg_pool_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (1, 2, 4, 4)), 2), {}),
        ((make(rng, (2, 5, 5)), 3), {"stride": 2, "padding": 1}),
        ((make(rng, (1, 1, 5, 4)), 2), {"stride": 2, "padding": 1, "ceil_mode": True,
                                         "count_include_pad": False}),
        ((make(rng, (1, 1, 4, 4)), (2, 3)), {"stride": 1, "divisor_override": 3}),
    ]


@register(samples=_avg_pool_samples, torch_name="nn.functional.avg_pool2d")
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean over each window of the last two dims."""
    kernel, stride, padding, _, out = _pool_geometry(
        input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d"
    )
    return apply(AvgPool2DBackward0, input, kernel=kernel, stride=stride, padding=padding, out=out,
                 count_include_pad=count_include_pad, divisor_override=divisor_override)


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """Row i averages input positions floor(i*size/out) .. ceil((i+1)*size/out) - 1."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1)) * size) // out)
    positions = np.arange(size)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


class _SeparableMapBackward(Node):
    """A linear map applied to each of the last len(matrices) dims by a matrix (out, in):
    adaptive average pooling and resampling. The backward contracts with the same matrices
    the other way, through einsum, so it is differentiable again."""

    __slots__ = ("matrices", "shape")

    @staticmethod
    def forward(ctx, x, matrices):
        data = x._data
        ctx.matrices, ctx.shape = matrices, data.shape
        if len(matrices) == 1:
            return np.einsum("...w,qw->...q", data, matrices[0], optimize=True)
        return np.einsum("ph,...hw,qw->...pq", matrices[0], data, matrices[1], optimize=True)

    def backward(self, grad):
        mapped = len(self.matrices)
        flat = grad.reshape(-1, *grad.shape[grad.ndim - mapped:])
        matrices = [_constant_like(grad, matrix) for matrix in self.matrices]
        if mapped == 1:
            return einsum("mq,qw->mw", flat, matrices[0]).reshape(self.shape)
        return einsum("mpq,ph,qw->mhw", flat, matrices[0], matrices[1]).reshape(self.shape)


def _map_node(name: str) -> type[Node]:
    return type(name, (_SeparableMapBackward,), {"__slots__": ()})


AdaptiveAvgPool2DBackward0 = _map_node("AdaptiveAvgPool2DBackward0")
_RESAMPLE_NODES = {
    (mode, dims): _map_node(f"Upsample{name}{dims}DBackward0")
    for mode, name in (("nearest", "Nearest"), ("nearest-exact", "NearestExact"), ("linear", "Linear"),
                       ("bilinear", "Bilinear"))
    for dims in (1, 2)
}


def _adaptive_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 4, 4)), 2), {}), ((make(rng, (2, 5, 3)), (3, None)), {})]


@register(samples=_adaptive_samples, torch_name="nn.functional.adaptive_avg_pool2d")
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that dim's size)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
            f"[{', '.join(map(str, input.shape))}]"
        )
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) else tuple(output_size)
    out = tuple(int(s) if s is not None else size for s, size in zip(sizes, input.shape[-2:]))
    matrices = tuple(_adaptive_matrix(size, o, input._data.dtype) for size, o in zip(input.shape[-2:], out))
    return apply(AdaptiveAvgPool2DBackward0, input, matrices=matrices)


# ---------------------------------------------------------------------------
# Embedding and dropout


class EmbeddingBackward0(Node):
    """Rows of `weight` picked by integer `indices`; backward adds the gradient rows back
    (repeated indices accumulate; the padding row gets none)."""

    __slots__ = ("indices", "padding_idx", "rows")

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.indices, ctx.padding_idx, ctx.rows = indices, padding_idx, weight._data.shape[0]
        return np.take(weight._data, indices, axis=0)

    def backward(self, grad):
        flat_index = self.indices.reshape(-1)
        flat_grad = grad.reshape(flat_index.size, grad.shape[-1])
        if self.padding_idx is not None:
            flat_grad = flat_grad * _constant_like(grad, (flat_index != self.padding_idx)[:, None])
        return scatter_add_along(flat_grad, 0, flat_index[:, None], self.rows)


def _embedding_samples(rng):
    indices = Tensor._make(np.array([[0, 2], [2, 3]], dtype=np.int64))
    weight = _samples.make(rng, (4, 3))
    return [((indices, weight), {}), ((indices, weight), {"padding_idx": 1})]


@register(samples=_embedding_samples, torch_name=_torch_name("embedding"))
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """weight[input]: a lookup of rows by integer index.

    With max_norm, the looked-up rows whose norm_type-norm exceeds it are first rescaled to
    it, in place in weight (outside the graph), as PyTorch does.
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    indices = input._data
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
            f"Int; but got {_dtype.tensor_type_name(input.dtype)} instead (while checking arguments for "
            "embedding)"
        )
    rows = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError("index out of range in self")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    if max_norm is not None:
        _renormalize_rows(weight, np.unique(indices), max_norm, norm_type)
    return apply(EmbeddingBackward0, weight, indices=indices, padding_idx=padding_idx)


def _renormalize_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    data = weight._data
    norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        chosen = rows[too_long]
        data[chosen] *= (max_norm / (norms[too_long] + 1e-7))[:, None]
        weight._bump_version()


def _check_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_with_mask(input: Tensor, p: float, mask_shape, inplace: bool) -> Tensor:
    """input times a Bernoulli(1 - p) mask scaled by 1 / (1 - p), drawn from the default generator."""
    mask = Tensor._make(_creation._random._dropout_mask(mask_shape, p, input._data.dtype))
    if inplace:
        return run_in_place(input, mul, mask)
    return mul(input, mask)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (only when training)."""
    _check_probability(p)
    if not training or p == 0:
        return input
    return _dropout_with_mask(input, p, input.shape, inplace)


def _channel_dropout(input, p, training, inplace, spatial: int, name: str):
    _check_probability(p)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{name}: Expected {spatial + 1}D or {spatial + 2}D input, but received a {input.ndim}D "
            f"input. Note that {name} exists to provide channel-wise dropout on inputs with "
            f"{spatial} spatial dimension{'s' if spatial > 1 else ''}, a channel dimension, and an "
            "optional batch dimension (i.e. " f"{spatial + 1}D or {spatial + 2}D inputs)."
        )
    if not training or p == 0:
        return input
    channel_dims = input.ndim - spatial
    return _dropout_with_mask(input, p, tuple(input.shape[:channel_dims]) + (1,) * spatial, inplace)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability p."""
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d")


# ---------------------------------------------------------------------------
# Normalisation
#
# The backward of every normalisation is one rule: with x_hat = (x - mean) * rstd over
# the normalised dims, dL/dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat)) where g is
# the gradient reaching x_hat. Mean and rstd are recomputed from the saved input with
# tensor operations, so the rule is itself differentiable.


def _standardized(x: Tensor, dims: tuple, eps: float):
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    variance = (centered * centered).mean(dims, keepdim=True)
    rstd = (variance + eps) ** -0.5
    return centered * rstd, rstd


def _standardized_input_grad(grad_hat: Tensor, x_hat: Tensor, rstd: Tensor, dims: tuple) -> Tensor:
    return rstd * (
        grad_hat - grad_hat.mean(dims, keepdim=True) - x_hat * (grad_hat * x_hat).mean(dims, keepdim=True)
    )


def _standardize_array(data: np.ndarray, dims: tuple, eps: float) -> np.ndarray:
    mean = data.mean(axis=dims, keepdims=True)
    variance = data.var(axis=dims, keepdims=True)
    return (data - mean) / np.sqrt(variance + eps)


class NativeLayerNormBackward0(Node):
    __slots__ = ("dims", "eps")

    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        ctx.save_for_backward(x, weight)
        ctx.dims, ctx.eps = dims, eps
        result = _standardize_array(x._data, dims, eps)
        if weight is not None:
            result = result * weight._data
        if bias is not None:
            result = result + bias._data
        return result

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        x_hat, rstd = _standardized(x, self.dims, self.eps)
        grad_hat = grad * weight if weight is not None else grad
        grad_x = _standardized_input_grad(grad_hat, x_hat, rstd, self.dims) if needs_x else None
        return grad_x, grad * x_hat if needs_weight else None, grad if needs_bias else None


def _layer_norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), (3,), make(rng, (3,)), make(rng, (3,))), {}),
        ((make(rng, (2, 2, 3)), (2, 3)), {"eps": 1e-3}),
    ]


@register(samples=_layer_norm_samples, torch_name="layer_norm")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """(input - mean) / sqrt(var + eps) over the last len(normalized_shape) dims, then affine."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise RuntimeError(
            f"Given normalized_shape=[{', '.join(map(str, shape))}], expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    return apply(NativeLayerNormBackward0, input, weight, bias, dims=dims, eps=eps)


def _channel_shape(x: Tensor) -> tuple:
    return (x.shape[1],) + (1,) * (x.ndim - 2)


def _non_channel_dims(x: Tensor) -> tuple:
    return (0, *range(2, x.ndim))


class NativeGroupNormBackward0(Node):
    __slots__ = ("eps", "groups")

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps):
        ctx.save_for_backward(x, weight)
        ctx.groups, ctx.eps = groups, eps
        data = x._data
        grouped = data.reshape(data.shape[0], groups, -1)
        result = _standardize_array(grouped, (2,), eps).reshape(data.shape)
        channel_shape = (data.shape[1],) + (1,) * (data.ndim - 2)
        if weight is not None:
            result = result * weight._data.reshape(channel_shape)
        if bias is not None:
            result = result + bias._data.reshape(channel_shape)
        return result

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        grouped = x.reshape(x.shape[0], self.groups, -1)
        x_hat, rstd = _standardized(grouped, (2,), self.eps)
        grad_hat = grad * weight.reshape(_channel_shape(x)) if weight is not None else grad
        grad_x = None
        if needs_x:
            grouped_grad = grad_hat.reshape(grouped.shape)
            grad_x = _standardized_input_grad(grouped_grad, x_hat, rstd, (2,)).reshape(x.shape)
        dims = _non_channel_dims(x)
        grad_weight = (grad * x_hat.reshape(x.shape)).sum(dims) if needs_weight else None
        return grad_x, grad_weight, grad.sum(dims) if needs_bias else None


def _group_norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 4, 3)), 2, make(rng, (4,)), make(rng, (4,))), {}),
        ((make(rng, (1, 2, 2, 2)), 1), {}),
    ]


@register(samples=_group_norm_samples, torch_name="group_norm")
def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each group of channels of each sample, then a per-channel affine map."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of "
            f"shape [{', '.join(map(str, input.shape))}] and num_groups={num_groups}"
        )
    return apply(NativeGroupNormBackward0, input, weight, bias, groups=num_groups, eps=eps)


class NativeBatchNormBackward0(Node):
    """Per-channel normalisation by the batch statistics (training) or given running ones."""

    __slots__ = ("eps", "mean", "training", "variance")

    @staticmethod
    def forward(ctx, x, weight, bias, mean, variance, training, eps):
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.variance, ctx.training, ctx.eps = mean, variance, training, eps
        data = x._data
        shape = (data.shape[1],) + (1,) * (data.ndim - 2)
        result = (data - mean.reshape(shape)) / np.sqrt(variance.reshape(shape) + eps)
        if weight is not None:
            result = result * weight._data.reshape(shape)
        if bias is not None:
            result = result + bias._data.reshape(shape)
        return result.astype(data.dtype, copy=False)

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        dims, shape = _non_channel_dims(x), _channel_shape(x)
        if self.training:
            x_hat, rstd = _standardized(x, dims, self.eps)
        else:
            rstd = _constant_like(x, (1 / np.sqrt(self.variance + self.eps)).reshape(shape))
            x_hat = (x - _constant_like(x, self.mean.reshape(shape))) * rstd
        grad_hat = grad * weight.reshape(shape) if weight is not None else grad
        grad_x = None
        if needs_x:
            if self.training:
                grad_x = _standardized_input_grad(grad_hat, x_hat, rstd, dims)
            else:
                grad_x = grad_hat * rstd
        grad_weight = (grad * x_hat).sum(dims) if needs_weight else None
        return grad_x, grad_weight, grad.sum(dims) if needs_bias else None


def _batch_norm_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (3, 2)), None, None, make(rng, (2,)), make(rng, (2,))), {"training": True}),
        ((make(rng, (2, 2, 3)), None, None), {"training": True, "eps": 1e-3}),
        ((make(rng, (2, 2, 2)),), {"running_mean": make(rng, (2,)), "running_var": make(rng, (2,), 0.5, 2.0),
                                   "weight": make(rng, (2,))}),
    ]


@register(samples=_batch_norm_samples, torch_name=_torch_name("batch_norm"))
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel (dim 1) by the batch's statistics, or by the running ones in eval.

    Training also updates the running statistics in place:
    new = (1 - momentum) * old + momentum * batch (the variance unbiased).
    """
    data = input._data
    dims = (0, *range(2, data.ndim))
    if training:
        count = data.size // max(data.shape[1], 1)
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {input.shape}"
            )
        mean, variance = data.mean(axis=dims), data.var(axis=dims)
        factor = 0.1 if momentum is None else momentum
        if running_mean is not None:
            running_mean._data[...] = (1 - factor) * running_mean._data + factor * mean
            running_mean._bump_version()
        if running_var is not None:
            unbiased = variance * count / (count - 1)
            running_var._data[...] = (1 - factor) * running_var._data + factor * unbiased
            running_var._bump_version()
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean, variance = running_mean._data, running_var._data
    return apply(NativeBatchNormBackward0, input, weight, bias, mean=mean, variance=variance,
                 training=training, eps=eps)


# ---------------------------------------------------------------------------
# Losses


_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """The old size_average/reduce flags, translated to `reduction` (with PyTorch's warning)."""
    if size_average is None and reduce is None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return reduction
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction='"
        f"{'none' if reduce is False else 'sum' if size_average is False else 'mean'}' instead.",
        UserWarning,
        stacklevel=3,
    )
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_array(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.mean(loss) if loss.size else np.array(np.nan, dtype=loss.dtype)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def _warn_if_broadcast(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
            "the same size.",
            UserWarning,
            stacklevel=3,
        )


class _ElementwiseLoss(Node):
    """loss(input, target) elementwise, then reduced. Subclasses give `compute` on arrays and
    `derivatives(x, target)`: the elementwise d/dinput and d/dtarget as tensor expressions."""

    __slots__ = ("count", "params", "reduction", "shape")

    @classmethod
    def forward(cls, ctx, x, target, reduction, **params):
        ctx.save_for_backward(x, target)
        _check_broadcast(x._data.shape, target._data.shape)
        data, target_data = np.broadcast_arrays(x._data, target._data)
        loss = cls.compute(data, target_data, **params)
        ctx.reduction, ctx.params, ctx.shape, ctx.count = reduction, params, loss.shape, loss.size
        return _reduce_array(loss, reduction)

    def backward(self, grad):
        x, target = self.saved_tensors
        if self.reduction != "none":
            grad = grad.expand(self.shape)
            if self.reduction == "mean":
                grad = grad / max(self.count, 1)
        needs_x, needs_target = self.needs_input_grad
        by_input, by_target = self.derivatives(x, target, needs_target, **self.params)
        return grad * by_input if needs_x else None, grad * by_target if needs_target else None


class MseLossBackward0(_ElementwiseLoss):
    __slots__ = ()

    @staticmethod
    def compute(data, target):
        difference = data - target
        return difference * difference

    @staticmethod
    def derivatives(x, target, needs_target):
        twice = (x - target) * 2
        return twice, -twice


class SmoothL1LossBackward0(_ElementwiseLoss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""

    __slots__ = ()

    @staticmethod
    def compute(data, target, beta):
        distance = np.abs(data - target)
        if beta == 0:
            return distance
        return np.where(distance < beta, 0.5 * distance * distance / beta, distance - 0.5 * beta)

    @staticmethod
    def derivatives(x, target, needs_target, beta):
        difference = x - target
        quadratic = np.abs(difference._data) < beta
        linear_slope = _constant_like(x, np.sign(difference._data) * ~quadratic)
        slope = difference * _constant_like(x, quadratic / beta if beta else quadratic) + linear_slope
        return slope, -slope


class HuberLossBackward0(_ElementwiseLoss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""

    __slots__ = ()

    @staticmethod
    def compute(data, target, delta):
        distance = np.abs(data - target)
        return np.where(distance < delta, 0.5 * distance * distance, delta * (distance - 0.5 * delta))

    @staticmethod
    def derivatives(x, target, needs_target, delta):
        difference = x - target
        quadratic = np.abs(difference._data) < delta
        linear_slope = _constant_like(x, delta * np.sign(difference._data) * ~quadratic)
        slope = difference * _constant_like(x, quadratic) + linear_slope
        return slope, -slope


_LOG_FLOOR = -100.0


class BinaryCrossEntropyBackward0(_ElementwiseLoss):
    """-w (t log x + (1 - t) log(1 - x)), each log floored at -100 as PyTorch does."""

    __slots__ = ()

    @staticmethod
    def compute(data, target, weight):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(data), _LOG_FLOOR)
            log_rest = np.maximum(np.log1p(-data), _LOG_FLOOR)
        loss = -(target * log_x + (1 - target) * log_rest)
        return loss if weight is None else loss * weight

    @staticmethod
    def derivatives(x, target, needs_target, weight):
        by_input = (x - target) / clamp_min(x * (1 - x), 1e-12)
        by_target = ((1 - x).log() - x.log()) if needs_target else None
        if weight is not None:
            scale = _constant_like(x, weight)
            by_input = by_input * scale
            by_target = by_target * scale if needs_target else None
        return by_input, by_target


class BinaryCrossEntropyWithLogitsBackward0(_ElementwiseLoss):
    """w ((1 - t) x + (1 + (pw - 1) t) softplus(-x)): the stable form, no log of a sigmoid."""

    __slots__ = ()

    @staticmethod
    def compute(data, target, weight, pos_weight):
        softplus_negative = np.logaddexp(0, -data)
        if pos_weight is None:
            loss = (1 - target) * data + softplus_negative
        else:
            loss = (1 - target) * data + (1 + (pos_weight - 1) * target) * softplus_negative
        return loss if weight is None else loss * weight

    @staticmethod
    def derivatives(x, target, needs_target, weight, pos_weight):
        if pos_weight is None:
            by_input = sigmoid(x) - target
            by_target = -x if needs_target else None
        else:
            extra = _constant_like(x, pos_weight - 1)
            by_input = (1 - target) - (target * extra + 1) * sigmoid(-x)
            by_target = (softplus(-x) * extra - x) if needs_target else None
        if weight is not None:
            scale = _constant_like(x, weight)
            by_input = by_input * scale
            by_target = by_target * scale if needs_target else None
        return by_input, by_target


def _pair_loss_samples(low=-2.0, high=2.0, target_low=None, target_high=None, **kwargs):
    target_low = low if target_low is None else target_low
    target_high = high if target_high is None else target_high

    def samples(rng):
        make = _samples.make
        cases = [
            ((make(rng, (2, 3), low, high), make(rng, (2, 3), target_low, target_high)), {}),
            ((make(rng, (2, 3), low, high), make(rng, (2, 3), target_low, target_high)),
             {"reduction": "sum"}),
            ((make(rng, (3,), low, high), make(rng, (3,), target_low, target_high)), {"reduction": "none"}),
        ]
        for case in cases:
            case[1].update(kwargs)
        return cases

    return samples


def _elementwise_loss(node, input, target, size_average, reduce, reduction, **params):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_if_broadcast(input, target)
    return apply(node, input, target, reduction=reduction, **params)


def _weighted(loss: Tensor, weight: Tensor, reduction: str, mean_over_weight: bool) -> Tensor:
    """Each element's loss scaled by weight (same shape as input), then reduced; 'mean'
    divides by the total weight (mse, l1) or by the element count (huber), as PyTorch does."""
    if weight.shape != loss.shape:
        raise ValueError("Weights and input must have the same size.")
    scaled = loss * weight
    if reduction == "mean" and mean_over_weight:
        return scaled.sum() / weight.sum()
    return _reduce(scaled, reduction)


def _weighted_pair_loss_samples(**kwargs):
    def samples(rng):
        weighted = ((_samples.make(rng, (2, 3)), _samples.make(rng, (2, 3))),
                    {"weight": _samples.make(rng, (2, 3), 0.5, 2.0), **kwargs})
        return [*_pair_loss_samples(**kwargs)(rng), weighted]

    return samples


@register(samples=_weighted_pair_loss_samples(), torch_name=_torch_name("mse_loss"))
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """The (mean) squared difference; with `weight`, the weighted mean."""
    if weight is None:
        return _elementwise_loss(MseLossBackward0, input, target, size_average, reduce, reduction)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = _elementwise_loss(MseLossBackward0, input, target, None, None, "none")
    return _weighted(loss, weight, reduction, mean_over_weight=True)


@register(samples=_weighted_pair_loss_samples(), torch_name=_torch_name("l1_loss"))
def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """The (mean) absolute difference; with `weight`, the weighted mean."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_if_broadcast(input, target)
    loss = absolute(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    return _weighted(loss, weight, reduction, mean_over_weight=True)


@register(samples=_pair_loss_samples(beta=0.8), torch_name=_torch_name("smooth_l1_loss"))
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """Quadratic for |d| < beta, linear beyond (continuous slope)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _elementwise_loss(SmoothL1LossBackward0, input, target, size_average, reduce, reduction,
                             beta=beta)


@register(samples=_weighted_pair_loss_samples(delta=1.3), torch_name=_torch_name("huber_loss"))
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """Quadratic for |d| < delta, delta * (|d| - delta / 2) beyond."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return _elementwise_loss(HuberLossBackward0, input, target, None, None, reduction, delta=delta)
    loss = _elementwise_loss(HuberLossBackward0, input, target, None, None, "none", delta=delta)
    return _weighted(loss, weight, reduction, mean_over_weight=False)


def _weight_array(weight, like: Tensor):
    return None if weight is None else np.asarray(weight._data, dtype=like._data.dtype)


def _bce_samples(rng):
    weighted = ((_samples.make(rng, (2, 3), 0.1, 0.9), _samples.make(rng, (2, 3), 0.0, 1.0)),
                {"weight": _samples.make(rng, (3,), 0.5, 2.0)})
    return [*_pair_loss_samples(0.1, 0.9, 0.0, 1.0)(rng), weighted]


@register(samples=_bce_samples, torch_name=_torch_name("binary_cross_entropy"))
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """-(target log(input) + (1 - target) log(1 - input)), input a probability."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
            "is deprecated. Please ensure they have the same size."
        )
    data = input._data
    if data.size and ((data < 0).any() or (data > 1).any() or np.isnan(data).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    return apply(BinaryCrossEntropyBackward0, input, target, reduction=reduction,
                 weight=_weight_array(weight, input))


def _bce_logits_samples(rng):
    make = _samples.make
    weighted = ((make(rng, (2, 3)), make(rng, (2, 3), 0.0, 1.0)),
                {"weight": make(rng, (3,), 0.5, 2.0), "pos_weight": make(rng, (3,), 0.5, 3.0)})
    return [*_pair_loss_samples(-3.0, 3.0, 0.0, 1.0)(rng), weighted]


@register(samples=_bce_logits_samples, torch_name=_torch_name("binary_cross_entropy_with_logits"))
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits.

    pos_weight scales the positive term (per class, broadcast over the last dim).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return apply(BinaryCrossEntropyWithLogitsBackward0, input, target, reduction=reduction,
                 weight=_weight_array(weight, input), pos_weight=_weight_array(pos_weight, input))


# Class-index losses


class NllLossBackward0(Node):
    """-weight[t] * input[t] along the class dim (ignored targets contribute 0), reduced;
    backward scatters the scaled gradient into the target positions."""

    __slots__ = ("axis", "coefficients", "index", "reduction", "size")

    @staticmethod
    def forward(ctx, x, index, coefficients, axis, reduction):
        picked = np.take_along_axis(x._data, index, axis)
        losses = -np.squeeze(picked, axis) * coefficients
        ctx.index, ctx.coefficients, ctx.axis = index, coefficients, axis
        ctx.reduction, ctx.size = reduction, x._data.shape[axis]
        if reduction == "none":
            return losses
        total = losses.sum()
        if reduction == "sum":
            return total
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / coefficients.sum()

    def backward(self, grad):
        coefficients = self.coefficients
        if self.reduction != "none":
            grad = grad.expand(coefficients.shape)
        if self.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                coefficients = coefficients / coefficients.sum()
        scaled = grad * _constant_like(grad, -coefficients)
        return scatter_add_along(scaled.reshape(*self.index.shape), self.axis, self.index, self.size)


def _class_targets(input: Tensor, target: Tensor, weight, ignore_index: int):
    """The class axis, the target as an index array along it, and each target's weight
    (0 where ignored); PyTorch's checks on shapes and ranges."""
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"expected scalar type Long but found {_dtype.scalar_type_name(target.dtype)}"
        )
    axis = 1 if input.ndim >= 2 else 0
    if input.ndim >= 2 and target.ndim >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
        )
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if input.ndim > 2 and tuple(target.shape) != tuple(expected):
        raise RuntimeError(
            f"Expected target size [{', '.join(map(str, expected))}], got "
            f"[{', '.join(map(str, target.shape))}]"
        )
    if input.ndim <= 2 and target.ndim != input.ndim - 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    classes = input.shape[axis]
    targets = target._data
    kept = targets != ignore_index
    out_of_bounds = kept & ((targets < 0) | (targets >= classes))
    if out_of_bounds.any():
        raise IndexError(f"Target {targets[out_of_bounds].flat[0]} is out of bounds.")
    safe = np.where(kept, targets, 0).astype(np.int64)
    if weight is None:
        class_weight = np.ones(classes, dtype=input._data.dtype)
    else:
        class_weight = _weight_array(weight, input)
    coefficients = class_weight[safe] * kept
    return axis, np.expand_dims(safe, axis), coefficients, kept


def _nll_samples(rng):
    make = _samples.make
    target = Tensor._make(np.array([0, 2, 1], dtype=np.int64))
    spatial_target = Tensor._make(np.array([[1, 0], [2, -100]], dtype=np.int64))
    return [
        ((make(rng, (3, 3)), target), {}),
        ((make(rng, (3, 3)), target), {"reduction": "sum", "weight": make(rng, (3,), 0.5, 2.0)}),
        ((make(rng, (3, 3)), target), {"reduction": "none", "ignore_index": 2}),
        ((make(rng, (2, 3, 2)), spatial_target), {"weight": make(rng, (3,), 0.5, 2.0)}),
        ((make(rng, (3,)), Tensor._make(np.array(1, dtype=np.int64))), {}),
    ]


@register(samples=_nll_samples, torch_name=_torch_name("nll_loss"))
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """The negative log-likelihood of class-index targets, from log-probabilities `input`.

    Classes lie along dim 1 (dim 0 for one sample); 'mean' divides by the targets' total weight.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    axis, index, coefficients, _ = _class_targets(input, target, weight, ignore_index)
    return apply(NllLossBackward0, input, index=index, coefficients=coefficients, axis=axis,
                 reduction=reduction)


def _cross_entropy_samples(rng):
    make = _samples.make
    target = Tensor._make(np.array([0, 2, 1], dtype=np.int64))
    return [
        ((make(rng, (3, 3)), target), {}),
        ((make(rng, (3, 3)), target), {"label_smoothing": 0.2, "weight": make(rng, (3,), 0.5, 2.0)}),
        ((make(rng, (3, 3)), target), {"label_smoothing": 0.1, "ignore_index": 1, "reduction": "sum"}),
        ((make(rng, (3, 3)), target), {"label_smoothing": 0.1, "reduction": "none"}),
        ((make(rng, (2, 3, 2)), make(rng, (2, 3, 2), 0.0, 1.0)), {"label_smoothing": 0.3}),
        ((make(rng, (2, 3)), make(rng, (2, 3), 0.0, 1.0)), {"reduction": "sum", "weight": make(rng, (3,))}),
    ]


@register(samples=_cross_entropy_samples, torch_name=_torch_name("cross_entropy"))
def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """nll_loss(log_softmax(input), target) along the class dim (1, or 0 for one sample).

    A float target shaped like input holds class probabilities instead:
    -sum(target * log_softmax(input)) over the class dim.

    label_smoothing eps mixes the target with the uniform distribution: (1 - eps) * target + eps / C.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    axis = 1 if input.ndim >= 2 else 0
    log_probabilities = log_softmax(input, axis)
    classes = input.shape[axis]
    class_shape = [1] * input.ndim
    class_shape[axis] = classes
    weighted = log_probabilities
    if weight is not None:
        class_weight = _weight_array(weight, input).reshape(class_shape)
        weighted = log_probabilities * _constant_like(input, class_weight)
    if target.dtype.is_floating_point:
        if target.shape != input.shape:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        losses = -(weighted * target).sum(axis)
        if reduction == "mean":
            return losses.sum() / (input.numel() // max(classes, 1))
        return _reduce(losses, reduction)
    loss = nll_loss(log_probabilities, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return loss
    _, _, coefficients, kept = _class_targets(input, target, weight, ignore_index)
    smooth = -weighted.sum(axis) * _constant_like(input, kept)
    if reduction == "mean":
        denominator = coefficients.sum() if weight is not None else kept.sum()
        smooth = smooth.sum() / float(denominator)
    else:
        smooth = _reduce(smooth, reduction)
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _xlogy(x: Tensor) -> Tensor:
    """x log x, with 0 where x == 0."""
    zero = x._data == 0
    return x * (where_constant(zero, 1.0, x).log() if zero.any() else x.log())


def _kl_samples(rng):
    make = _samples.make
    log_input = make(rng, (2, 3), -2.0, -0.1)
    return [
        ((log_input, make(rng, (2, 3), 0.1, 1.0)), {"reduction": "batchmean"}),
        ((log_input, make(rng, (2, 3), 0.1, 1.0)), {"reduction": "sum"}),
        ((log_input, make(rng, (2, 3), -2.0, 0.0)), {"reduction": "none", "log_target": True}),
    ]


@register(samples=_kl_samples, torch_name=_torch_name("kl_div"))
def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """target * (log(target) - input) pointwise, input holding log-probabilities.

    'batchmean' divides the sum by the batch size, as the KL divergence's definition wants.
    """
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning,
            stacklevel=2,
        )
    if reduction == "batchmean":
        batch = input.shape[0] if input.ndim else 1
        reduction = "sum"
    else:
        batch = None
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_target:
        pointwise = exp(target) * (target - input)
    else:
        pointwise = _xlogy(target) - target * input
    loss = _reduce(pointwise, reduction)
    return loss / batch if batch is not None else loss


def _cosine_samples(rng):
    make = _samples.make
    return [
        ((make(rng, (2, 3)), make(rng, (2, 3))), {}),
        ((make(rng, (2, 3)), make(rng, (3,))), {"dim": -1}),
    ]


@register(samples=_cosine_samples, torch_name=_torch_name("cosine_similarity"))
def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """x1 . x2 / (||x1|| ||x2||) along dim, each norm floored at eps."""
    first = x1 / clamp_min(_norm_along(x1, 2, dim), eps)
    second = x2 / clamp_min(_norm_along(x2, 2, dim), eps)
    return (first * second).sum(dim)


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
    scale = Tensor._make(_creation._random._rrelu_noise(input._data, lower, upper))
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


# ---------------------------------------------------------------------------
# 1-d pooling (as 2-d pooling over a height of 1), unfold/fold, pixel shuffle


def _check_1d_pool_input(input, name: str) -> None:
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"{name}() Expected 2D or 3D input tensor, but got [{', '.join(map(str, input.shape))}]"
        )


def _one(value, name: str) -> int:
    (single,) = _tuple(value, 1, name)
    return single


def _pool1d_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 6)), 2), {}), ((make(rng, (2, 7)), 3), {"stride": 2, "padding": 1})]


@register(samples=_pool1d_samples, torch_name=_torch_name("max_pool1d"))
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The max over each window of the last dim."""
    _check_1d_pool_input(input, "max_pool1d")
    stride = None if stride is None or stride == [] or stride == () else (1, _one(stride, "stride"))
    result = max_pool2d(input.unsqueeze(-2), (1, _one(kernel_size, "kernel_size")), stride,
                        (0, _one(padding, "padding")), (1, _one(dilation, "dilation")), ceil_mode, True)
    values, indices = result[0].squeeze(-2), result[1].squeeze(-2)
    return (values, indices) if return_indices else values


@register(samples=_pool1d_samples, torch_name=_torch_name("avg_pool1d"))
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """The mean over each window of the last dim."""
    _check_1d_pool_input(input, "avg_pool1d")
    stride = None if stride is None or stride == [] or stride == () else (1, _one(stride, "stride"))
    return avg_pool2d(input.unsqueeze(-2), (1, _one(kernel_size, "kernel_size")), stride,
                      (0, _one(padding, "padding")), ceil_mode, count_include_pad).squeeze(-2)


def _adaptive1d_samples(rng):
    return [((_samples.make(rng, (1, 2, 7)), 3), {}), ((_samples.make(rng, (2, 4)), 4), {})]


@register(samples=_adaptive1d_samples, torch_name=_torch_name("adaptive_avg_pool1d"))
def adaptive_avg_pool1d(input, output_size):
    """Average pooling of the last dim to a fixed output size."""
    _check_1d_pool_input(input, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _one(output_size, "output_size"))).squeeze(-2)


def _fold_geometry(kernel_size, dilation, padding, stride):
    return (_tuple(kernel_size, 2, "kernel_size"), _tuple(dilation, 2, "dilation"),
            _tuple(padding, 2, "padding"), _tuple(stride, 2, "stride"))


def _unfold_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 3, 4)), 2), {}), ((make(rng, (2, 1, 4, 4)), (2, 3)),
                                                 {"stride": 2, "padding": 1, "dilation": (1, 2)})]


@register(samples=_unfold_samples, torch_name=_torch_name("unfold"))
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding windows of (N, C, H, W) input as columns: (N, C * kH * kW, number of windows)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    kernel, dilation, padding, stride = _fold_geometry(kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    padded = constant_pad(input, _spatial_pairs((p, p) for p in padding))
    windows = im2col(padded, kernel, stride, dilation)
    batch, channels = windows.shape[:2]
    columns = windows.reshape(batch, channels * kernel[0] * kernel[1], -1)
    return columns.squeeze(0) if unbatched else columns


def _fold_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 4, 6)), (3, 4), 2), {}), ((make(rng, (2, 6, 6)), (4, 5), (2, 3)),
                                                      {"stride": 2, "padding": 1, "dilation": (1, 2)})]


@register(samples=_fold_samples, torch_name=_torch_name("fold"))
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: columns summed back into an (N, C, H, W) image."""
    kernel, dilation, padding, stride = _fold_geometry(kernel_size, dilation, padding, stride)
    size = _tuple(output_size, 2, "output_size")
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    padded_size = tuple(s + 2 * p for s, p in zip(size, padding))
    counts = [(s - d * (k - 1) - 1) // st + 1
              for s, d, k, st in zip(padded_size, dilation, kernel, stride)]
    blocks = kernel[0] * kernel[1]
    if input.ndim != 3 or input.shape[1] % blocks or input.shape[2] != counts[0] * counts[1]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {counts[0]} * {counts[1]} = {counts[0] * counts[1]}, but got "
            f"input.size(2)={input.shape[2] if input.ndim == 3 else 0}."
        )
    batch, channels = input.shape[0], input.shape[1] // blocks
    windows = input.reshape(batch, channels, *kernel, *counts)
    image = col2im(windows, padded_size, stride, dilation)
    result = constant_pad(image, _spatial_pairs((-p, -p) for p in padding))
    return result.squeeze(0) if unbatched else result


def _pixel_shuffle_samples(rng):
    return [((_samples.make(rng, (1, 8, 2, 3)), 2), {})]


@register(samples=_pixel_shuffle_samples, torch_name=_torch_name("pixel_shuffle"))
def pixel_shuffle(input, upscale_factor: int):
    """(..., C * r^2, H, W) to (..., C, H * r, W * r)."""
    r = upscale_factor
    *lead, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
        )
    grouped = input.reshape(-1, channels // (r * r), r, r, height, width)
    shuffled = grouped.permute(0, 1, 4, 2, 5, 3)
    return shuffled.reshape(*lead, channels // (r * r), height * r, width * r)


@register(samples=lambda rng: [((_samples.make(rng, (1, 2, 4, 6)), 2), {})],
          torch_name=_torch_name("pixel_unshuffle"))
def pixel_unshuffle(input, downscale_factor: int):
    """(..., C, H * r, W * r) to (..., C * r^2, H, W): the inverse of pixel_shuffle."""
    r = downscale_factor
    *lead, channels, height, width = input.shape
    if height % r or width % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but got "
            f"height={height}, width={width}, downscale_factor={r}"
        )
    grouped = input.reshape(-1, channels, height // r, r, width // r, r)
    shuffled = grouped.permute(0, 1, 3, 5, 2, 4)
    return shuffled.reshape(*lead, channels * r * r, height // r, width // r)


# ---------------------------------------------------------------------------
# Resampling


def _resample_matrix(in_size: int, out_size: int, mode: str, align_corners: bool, scale: float):
    """The (out, in) matrix that resamples one dim: one-hot rows for nearest, two weights for linear."""
    target = np.arange(out_size)
    matrix = np.zeros((out_size, in_size))
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        source = np.minimum(np.floor((target + offset) * scale).astype(np.int64), in_size - 1)
        matrix[target, source] = 1.0
        return matrix
    if align_corners:
        position = target * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
    else:
        position = np.maximum((target + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(position).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    weight = position - low
    np.add.at(matrix, (target, low), 1 - weight)
    np.add.at(matrix, (target, high), weight)
    return matrix


# The spatial dims each mode handles.
_RESAMPLE_DIMS = {
    "nearest": (1, 2), "nearest-exact": (1, 2), "linear": (1,), "bilinear": (2,), "area": (1, 2),
}


def _interpolate_samples(rng):
    make = _samples.make
    image = make(rng, (1, 2, 3, 4))
    return [
        ((make(rng, (1, 2, 3)),), {"scale_factor": 2}),
        ((image,), {"size": (5, 3), "mode": "nearest-exact"}),
        ((make(rng, (1, 1, 4)),), {"size": 7, "mode": "linear"}),
        ((image,), {"scale_factor": 1.5, "mode": "bilinear"}),
        ((image,), {"size": (4, 7), "mode": "bilinear", "align_corners": True}),
        ((image,), {"size": (2, 3), "mode": "area"}),
    ]


@register(samples=_interpolate_samples, torch_name=_torch_name("interpolate"))
def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """Resample the spatial dims (after batch and channel) to `size` or by `scale_factor`.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-d input), 'bilinear' (4-d), 'area'.
    """
    if mode not in _RESAMPLE_DIMS:
        raise NotImplementedError(f"interpolate: mode '{mode}' is not supported")
    if align_corners is not None and mode not in ("linear", "bilinear"):
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | "
            "bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported")
    spatial = input.ndim - 2
    if spatial not in _RESAMPLE_DIMS[mode]:
        needed = " or ".join(f"{d + 2}D" for d in _RESAMPLE_DIMS[mode])
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {needed} input")
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "only one of size or scale_factor should be defined" if size is not None
            else "either size or scale_factor should be defined"
        )
    in_sizes = input.shape[2:]
    if size is not None:
        out_sizes = _tuple(size, spatial, "size")
        scales = [i / o for i, o in zip(in_sizes, out_sizes)]
    else:
        if isinstance(scale_factor, numbers.Number):
            factors = (scale_factor,) * spatial
        else:
            factors = tuple(scale_factor)
        out_sizes = tuple(math.floor(i * f) for i, f in zip(in_sizes, factors))
        if recompute_scale_factor:
            scales = [i / o for i, o in zip(in_sizes, out_sizes)]
        else:
            scales = [1.0 / f for f in factors]
    if mode == "area":
        pool = adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d
        return pool(input, out_sizes if spatial == 2 else out_sizes[0])
    matrices = tuple(
        _resample_matrix(i, o, mode, bool(align_corners), s).astype(input._data.dtype)
        for i, o, s in zip(in_sizes, out_sizes, scales)
    )
    return apply(_RESAMPLE_NODES[(mode, spatial)], input, matrices=matrices)


# ---------------------------------------------------------------------------
# Distances and more losses (compositions of differentiable ops)


def _lp_norm_last(difference: Tensor, p: float, keepdim: bool) -> Tensor:
    if p == 2:
        return (difference * difference).sum(-1, keepdim=keepdim) ** 0.5
    return (absolute(difference) ** p).sum(-1, keepdim=keepdim) ** (1 / p)


def _pairwise_samples(rng):
    make = _samples.make
    return [((make(rng, (3, 4)), make(rng, (3, 4))), {}), ((make(rng, (3, 4)), make(rng, (4,))),
                                                           {"p": 1.5, "keepdim": True})]


@register(samples=_pairwise_samples, torch_name=_torch_name("pairwise_distance"))
def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p over the last dim."""
    return _lp_norm_last(x1 - x2 + eps, p, keepdim)


def _triplet_samples(rng):
    make = _samples.make
    anchor, positive, negative = make(rng, (3, 4)), make(rng, (3, 4)), make(rng, (3, 4))
    return [((anchor, positive, negative), {"margin": 5.0}),
            ((anchor, positive, negative), {"margin": 5.0, "swap": True, "p": 1.0, "reduction": "sum"})]


@register(samples=_triplet_samples, torch_name=_torch_name("triplet_margin_loss"))
def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
    """max(d(anchor, positive) - d(anchor, negative) + margin, 0), d the p-norm distance."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        between = pairwise_distance(positive, negative, p, eps)
        closer = _constant_like(to_negative, between._data < to_negative._data)
        to_negative = between * closer + to_negative * (1 - closer)
    return _reduce(clamp_min(to_positive - to_negative + margin, 0), reduction)


def _sign_target(rng, shape):
    return Tensor._make(rng.choice([-1.0, 1.0], size=shape))


def _ranking_samples(rng):
    make = _samples.make
    return [((make(rng, (4,)), make(rng, (4,)), _sign_target(rng, (4,))), {"margin": 0.3})]


@register(samples=_ranking_samples, torch_name=_torch_name("margin_ranking_loss"))
def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """max(0, -target * (input1 - input2) + margin), target in {1, -1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce(clamp_min(-target * (input1 - input2) + margin, 0), reduction)


def _hinge_samples(rng):
    return [((_samples.make(rng, (2, 3)), _sign_target(rng, (2, 3))), {"margin": 1.5})]


@register(samples=_hinge_samples, torch_name=_torch_name("hinge_embedding_loss"))
def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    labels = target._data
    below_margin = clamp_min(margin - input, 0) * _constant_like(input, labels != 1)
    return _reduce(below_margin + input * _constant_like(input, labels != -1), reduction)


def _soft_margin_samples(rng):
    return [((_samples.make(rng, (2, 3)),), {"target": _sign_target(rng, (2, 3))})]


@register(samples=_soft_margin_samples, torch_name=_torch_name("soft_margin_loss"))
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """log(1 + exp(-target * input)), target in {1, -1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.requires_grad:
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. "
            "This input cannot have requires_grad True."
        )
    return _reduce(softplus(-target * input), reduction)


def _multilabel_samples(rng):
    make = _samples.make
    labels = Tensor._make(rng.integers(0, 2, size=(2, 3)).astype(np.float64))
    return [((make(rng, (2, 3)), labels), {}), ((make(rng, (2, 3)), labels),
                                                {"weight": make(rng, (3,), 0.5, 2.0), "reduction": "sum"})]


@register(samples=_multilabel_samples, torch_name=_torch_name("multilabel_soft_margin_loss"))
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """Binary cross entropy of each class's logit, averaged over the classes (last dim)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / input.shape[-1], reduction)


def _poisson_samples(rng):
    make = _samples.make
    counts = make(rng, (2, 3), 0.0, 4.0)
    return [((make(rng, (2, 3)), counts), {}),
            ((make(rng, (2, 3), 0.5, 2.0), counts), {"log_input": False, "full": True, "reduction": "sum"})]


@register(samples=_poisson_samples, torch_name=_torch_name("poisson_nll_loss"))
def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):
    """The Poisson negative log-likelihood: exp(input) - target * input for log-rates, or
    input - target * log(input + eps) for rates; `full` adds Stirling's term where target > 1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        above_one = target._data > 1
        safe = where_constant(~above_one, 2.0, target)
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + stirling * _constant_like(input, above_one)
    return _reduce(loss, reduction)


def _gaussian_samples(rng):
    make = _samples.make
    return [((make(rng, (2, 3)), make(rng, (2, 3)), make(rng, (2, 3), 0.5, 2.0)), {}),
            ((make(rng, (2, 3)), make(rng, (2, 3)), make(rng, (2,), 0.5, 2.0)), {"full": True})]


@register(samples=_gaussian_samples, torch_name=_torch_name("gaussian_nll_loss"))
def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """0.5 * (log(var) + (input - target)^2 / var), var floored at eps (the floor passes no
    gradient change: var's gradient is taken as if unclamped, as PyTorch does)."""
    if isinstance(var, numbers.Number):
        var = Tensor._make(np.full(input.shape, float(var), dtype=input._data.dtype))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    floored = var + _constant_like(var, np.maximum(var._data, eps) - var._data)
    difference = input - target
    loss = (floored.log() + difference * difference / floored) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _cosine_embedding_samples(rng):
    make = _samples.make
    return [((make(rng, (3, 4)), make(rng, (3, 4)), _sign_target(rng, (3,))), {"margin": -0.5})]


@register(samples=_cosine_embedding_samples, torch_name=_torch_name("cosine_embedding_loss"))
def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                          reduction: str = "mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where target is -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    tiny = 1e-12
    dot = (input1 * input2).sum(-1)
    cosine = dot / (((input1 * input1).sum(-1) + tiny) * ((input2 * input2).sum(-1) + tiny)) ** 0.5
    labels = target._data
    similar = (1 - cosine) * _constant_like(cosine, labels == 1)
    dissimilar = clamp_min(cosine - margin, 0) * _constant_like(cosine, labels == -1)
    loss = similar + dissimilar
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------
# Attention and instance normalisation


def _attention_samples(rng):
    make = _samples.make
    query, key, value = make(rng, (2, 3, 4)), make(rng, (2, 5, 4)), make(rng, (2, 5, 2))
    mask = Tensor._make(np.array([[True, True, False, True, True]] * 3))
    return [((query, key, value), {}),
            ((query, key, value), {"attn_mask": mask, "scale": 0.3}),
            ((query, make(rng, (2, 3, 4)), make(rng, (2, 3, 2))), {"is_causal": True}),
            ((query, key, value), {"attn_mask": make(rng, (3, 5))})]


@register(samples=_attention_samples, torch_name=_torch_name("scaled_dot_product_attention"))
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False):
    """softmax(query @ key^T * scale + mask) @ value, scale 1 / sqrt(embedding size) by default.

    A bool mask keeps the True positions; a float mask is added to the scores.
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
        )
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        rows, columns = query.shape[-2], key.shape[-2]
        attn_mask = Tensor._make(np.tril(np.ones((rows, columns), dtype=bool)))
    if attn_mask is not None:
        if attn_mask.dtype is _dtype.bool:
            scores = scores + _constant_like(scores, np.where(attn_mask._data, 0.0, -np.inf))
        else:
            scores = scores + attn_mask
    weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)


def _instance_norm_samples(rng):
    make = _samples.make
    return [((make(rng, (2, 3, 4)),), {}),
            ((make(rng, (2, 2, 2, 3)),), {"weight": make(rng, (2,)), "bias": make(rng, (2,)), "eps": 1e-3})]


@register(samples=_instance_norm_samples, torch_name=_torch_name("instance_norm"))
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel of each sample over its spatial dims (group_norm with one
    channel per group); running statistics, if given, track the batch average of the
    per-instance ones."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = int(np.prod(input.shape[2:], dtype=np.int64))
    if spatial <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape}"
        )
    data = input._data
    dims = tuple(range(2, data.ndim))
    if running_mean is not None:
        instance_mean = data.mean(axis=dims).mean(0)
        running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * instance_mean
        running_mean._bump_version()
    if running_var is not None:
        unbiased = data.var(axis=dims, ddof=1).mean(0)
        running_var._data[...] = (1 - momentum) * running_var._data + momentum * unbiased
        running_var._bump_version()
    return group_norm(input, input.shape[1], weight, bias, eps)


def _rms_norm_samples(rng):
    make = _samples.make
    return [((make(rng, (2, 3)), (3,), make(rng, (3,))), {}), ((make(rng, (2, 2, 3)), (2, 3)), {"eps": 1e-3})]


@register(samples=_rms_norm_samples, torch_name=_torch_name("rms_norm"))
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """input / sqrt(mean(input^2) + eps) over the last len(normalized_shape) dims, times weight;
    eps defaults to the machine epsilon of input's dtype."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise RuntimeError(
            f"Given normalized_shape=[{', '.join(map(str, shape))}], expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    eps = float(np.finfo(input._data.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    result = input * ((input * input).mean(dims, keepdim=True) + eps) ** -0.5
    return result * weight if weight is not None else result


def _lp_pool_samples(rng):
    make = _samples.make
    return [((make(rng, (1, 2, 4, 4), 0.5, 2.0), 2.0, 2), {}),
            ((make(rng, (1, 1, 5, 4), 0.5, 2.0), 3.0, (2, 3)), {"stride": 1})]


@register(samples=_lp_pool_samples, torch_name=_torch_name("lp_pool2d"))
def lp_pool2d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The p-norm over each window of the last two dims: (sum of x^p)^(1/p)."""
    kernel = _tuple(kernel_size, 2, "kernel_size")
    average = avg_pool2d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return (average * (kernel[0] * kernel[1])) ** (1.0 / norm_type)


@register(samples=lambda rng: [((_samples.make(rng, (1, 2, 6), 0.5, 2.0), 2.0, 3), {"stride": 2})],
          torch_name=_torch_name("lp_pool1d"))
def lp_pool1d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The p-norm over each window of the last dim."""
    kernel = _one(kernel_size, "kernel_size")
    average = avg_pool1d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return (average * kernel) ** (1.0 / norm_type)


@register(samples=lambda rng: [((_samples.make(rng, (1, 6, 2, 2)), 3), {})],
          torch_name=_torch_name("channel_shuffle"))
def channel_shuffle(input, groups: int):
    """Interleave the channels of `groups` groups: (N, g * c, ...) as (N, g, c, ...) to (N, c, g, ...)."""
    batch, channels, *spatial = input.shape
    grouped = input.reshape(batch, groups, channels // groups, *spatial)
    return grouped.transpose(1, 2).reshape(batch, channels, *spatial)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = True):
    """max_pool1d returning (values, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = True):
    """max_pool2d returning (values, indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    return _channel_dropout(input, p, training, inplace, 3, "dropout3d")


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """Deprecated spelling of interpolate."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='nearest')."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
