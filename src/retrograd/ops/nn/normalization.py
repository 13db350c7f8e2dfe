"""Normalisation: layer, group, batch, instance and RMS normalisation."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np

from ..._tensor import Tensor
from ...autograd.graph import Node
from .._saved_shown import ShownAsPyTorch, formula_value, kept_arguments, saved_unchecked
from .._table import apply, register
from ..composite.numeric import AddBackward1
from ..pointwise import (
    _constant_like,
    rsqrt,
)
from ..shape import rearrange as _rearrange
from ..shape import views as _views
from ._backward_ops import joined_to_input
from ._common import _torch_name

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


def _standardized_array(data: np.ndarray, dims: tuple, eps: float):
    """x_hat and rstd on arrays (the array path of `_standardized`)."""
    centered = data - _mean_kept(data, dims)
    rstd = 1 / np.sqrt(_mean_kept(centered * centered, dims) + eps)
    centered *= rstd
    return centered, rstd


def _standardized_input_grad_array(grad_hat, x_hat, rstd, dims: tuple) -> np.ndarray:
    """rstd * (g - mean(g) - x_hat * mean(g * x_hat)) on arrays."""
    result = grad_hat - _mean_kept(grad_hat, dims)
    result -= x_hat * _mean_kept(grad_hat * x_hat, dims)
    result *= rstd
    return result


def _standardize_array(data: np.ndarray, dims: tuple, eps: float) -> np.ndarray:
    """(data - mean) / sqrt(variance + eps) over `dims`; the variance as `data.var` computes
    it (the mean of the squared deviations from the same mean), read from the deviations
    the result divides (Note [Means as NumPy computes them])."""
    if data.dtype.type not in _SUMMED_AS_IS or data.size == 0:
        mean = data.mean(axis=dims, keepdims=True)
        variance = data.var(axis=dims, keepdims=True)
        return (data - mean) / np.sqrt(variance + eps)
    centered = data - _mean_kept(data, dims)
    return centered / np.sqrt(_mean_kept(np.square(centered), dims) + eps)


# Note [Means as NumPy computes them]
#     `ndarray.mean` and `ndarray.var` are Python functions of a dozen calls each (argument
#     checks, the element count, the dtype rules), a few microseconds on a small input, and
#     a normalisation's forward and backward take four. For float32 and float64 they are
#     the sum (`np.add.reduce`, with the same pairwise order) divided in place by the count
#     as a NumPy intp, and the variance is the mean of `np.square` of `data - mean`; done
#     here so, the results are the same to the bit in fewer calls. Other dtypes (float16,
#     whose mean sums in float32 but whose variance does not) and empty inputs (with
#     NumPy's warnings) keep NumPy's methods.
_SUMMED_AS_IS = (np.float32, np.float64)


def _mean_kept(data: np.ndarray, dims: tuple) -> np.ndarray:
    """`data.mean(axis=dims, keepdims=True)`, to the bit (Note [Means as NumPy computes them])."""
    if data.dtype.type not in _SUMMED_AS_IS or data.size == 0 or type(dims) is not tuple:
        return data.mean(axis=dims, keepdims=True)
    count = 1
    for dim in dims:
        count *= data.shape[dim]
    total = np.add.reduce(data, axis=dims, keepdims=True)
    if count <= _EXACT_COUNTS:
        total /= count
        return total
    return np.true_divide(total, np.intp(count), out=total, casting="unsafe")


# NumPy divides a float32 sum by its intp count in float64 and rounds to float32; a count
# of at most 2**24 is exact in float32, and a division rounded twice, through float64
# (53 >= 2 * 24 + 2 bits), is rounded once: dividing in float32 by the count as a Python
# int (`/=`, the cheaper call) gives the same bits. float64 divides in float64 either way.
_EXACT_COUNTS = 2**24


# Note [Normalisation statistics shown, not kept]
#     PyTorch's normalisation nodes save the mean and the reciprocal standard deviation
#     their forward computed (`result1`, `result2`: outputs the functional forms drop).
#     Ours recompute them in backward from the saved input, so a node keeps none: it shows
#     them computed again from its saved input (or, for batch norm, from the batch
#     statistics it keeps), freed with the node as PyTorch's are. The forward pays nothing.


def _statistics(node, dims: tuple, shape=None) -> tuple:
    """The mean and 1 / sqrt(variance + eps) of the node's saved input over `dims` (kept as
    dims of size 1), the input first reshaped to `shape` if given, as PyTorch's node shows
    them (Note [Normalisation statistics shown, not kept])."""
    data = formula_value(node, "input")._data
    if shape is not None:
        data = data.reshape(shape)
    mean = data.mean(axis=dims, keepdims=True)
    return mean, 1 / np.sqrt(data.var(axis=dims, keepdims=True) + node.eps)


def _shown_statistics(statistics) -> dict:
    """`result1` and `result2` as PyTorch's node shows them, from `statistics(node)`."""
    return {"result1": lambda node: Tensor._make(statistics(node)[0]),
            "result2": lambda node: Tensor._make(statistics(node)[1])}


class NativeLayerNormBackward0(ShownAsPyTorch, Node):
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"
    inputs = ("x", "weight", "bias")
    tangent = staticmethod(lambda x, x_t, weight, weight_t, bias_t, dims, eps: _affine_tangent(
        *_standardized_tangent(x, x_t, dims, eps), weight, weight_t, bias_t, None))
    __slots__ = ("dims", "eps", "normalized_shape")
    saved_names = ("input", "weight", "bias")
    hidden = ("dims", "eps")
    shown: ClassVar[dict] = _shown_statistics(lambda node: _statistics(node, node.dims))

    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        ctx.save_for_backward(x, weight, bias)
        ctx.dims, ctx.eps = dims, eps
        ctx.normalized_shape = x._data.shape[dims[0]:] if dims else ()
        result = _standardize_array(x._data, dims, eps)
        if weight is not None:
            result = result * weight._data
        if bias is not None:
            result = result + bias._data
        return result

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad):
        x, weight, _ = self._saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        if not isinstance(grad, Tensor):
            x_hat, rstd = _standardized_array(x._data, self.dims, self.eps)
            grad_hat = grad * weight._data if weight is not None else grad
            grad_x = _standardized_input_grad_array(grad_hat, x_hat, rstd, self.dims) if needs_x else None
            lead = tuple(range(x.ndim - len(self.dims)))
            grad_weight = (grad * x_hat).sum(axis=lead) if needs_weight else None
            return grad_x, grad_weight, grad.sum(axis=lead) if needs_bias else None
        x_hat, rstd = _standardized(x, self.dims, self.eps)
        grad_hat = grad * weight if weight is not None else grad
        grad_x = _standardized_input_grad(grad_hat, x_hat, rstd, self.dims) if needs_x else None
        return grad_x, grad * x_hat if needs_weight else None, grad if needs_bias else None


@register(torch_name="layer_norm", floating=True,
          same_dtype=("input", "weight", "bias"))
def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """(input - mean) / sqrt(var + eps) over the last len(normalized_shape) dims, then affine."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    sizes = input._data.shape if type(input) is Tensor else tuple(input.shape)
    if sizes[len(sizes) - len(shape):] != shape or len(shape) > len(sizes):
        raise RuntimeError(
            f"Given normalized_shape=[{', '.join(map(str, shape))}], expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    for name, parameter in (("weight", weight), ("bias", bias)):
        if isinstance(parameter, Tensor) and parameter._data.shape != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(parameter.shape)} and normalized_shape = {list(shape)}"
            )
    dims = tuple(range(len(sizes) - len(shape), len(sizes)))
    return apply(NativeLayerNormBackward0, input, weight, bias, dims=dims, eps=eps)


# Tangents (forward mode). The Jacobian of x -> x_hat, rstd (I - 1 1^T / n - x_hat x_hat^T / n),
# is symmetric, so the tangent of x_hat is the backward rule applied to the tangent of x.


def _standardized_tangent(x, x_t, dims: tuple, eps: float):
    x_hat, rstd = _standardized(x, dims, eps)
    return x_hat, _standardized_input_grad(x_t, x_hat, rstd, dims)


def _group_size(shape: tuple, groups: int) -> int:
    """How many elements one group of one sample holds (explicit: an empty batch has no -1 to infer)."""
    return int(np.prod(shape[1:], dtype=np.int64)) // groups


def _grouped_tangent(x, x_t, groups: int, eps: float):
    grouped = x.reshape(x.shape[0], groups, _group_size(x.shape, groups))
    x_hat, x_hat_t = _standardized_tangent(grouped, x_t.reshape(grouped.shape), (2,), eps)
    return x_hat.reshape(x.shape), x_hat_t.reshape(x.shape)


def _batch_tangent(x, x_t, mean, variance, training: bool, eps: float):
    if training:
        return _standardized_tangent(x, x_t, _non_channel_dims(x), eps)
    shape = _channel_shape(x)
    rstd = Tensor._make((1 / np.sqrt(variance + eps)).reshape(shape).astype(x._data.dtype))
    return (x - Tensor._make(mean.reshape(shape).astype(x._data.dtype))) * rstd, x_t * rstd


def _affine_tangent(x_hat, x_hat_t, weight, weight_t, bias_t, shape):
    """The tangent of x_hat * weight + bias (weight and bias reshaped to `shape` if given)."""
    def fit(value):
        return value if shape is None or value is None else value.reshape(shape)

    result = x_hat_t
    if weight is not None:
        result = result * fit(weight) + x_hat * fit(weight_t)
    if bias_t is not None:
        result = result + fit(bias_t)
    return result


def _channel_shape(x: Tensor) -> tuple:
    return (x.shape[1],) + (1,) * (x.ndim - 2)


def _non_channel_dims(x: Tensor) -> tuple:
    return (0, *range(2, x.ndim))


def _group_statistics(node) -> tuple:
    """Group norm's mean and reciprocal standard deviation per sample and group, (N, group)."""
    batch, channels, plane, groups = node._arguments
    mean, rstd = _statistics(node, (2,), (batch, groups, channels // groups * plane))
    return mean[..., 0], rstd[..., 0]


class NativeGroupNormBackward0(ShownAsPyTorch, Node):
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"
    inputs = ("x", "weight", "bias")
    tangent = staticmethod(lambda x, x_t, weight, weight_t, bias_t, groups, eps: _affine_tangent(
        *_grouped_tangent(x, x_t, groups, eps), weight, weight_t, bias_t, _channel_shape(x)))
    __slots__ = ("_arguments", "eps", "groups")
    saved_names = ("input", "weight")
    hidden = ("groups",)
    shown: ClassVar[dict] = {**kept_arguments("N", "C", "HxW", "group"),
                             **_shown_statistics(_group_statistics)}

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps):
        ctx.save_for_backward(x, weight)
        ctx.groups, ctx.eps = groups, eps
        data = x._data
        ctx._arguments = (data.shape[0], data.shape[1], int(np.prod(data.shape[2:], dtype=np.int64)), groups)
        grouped = data.reshape(data.shape[0], groups, _group_size(data.shape, groups))
        result = _standardize_array(grouped, (2,), eps).reshape(data.shape)
        channel_shape = (data.shape[1],) + (1,) * (data.ndim - 2)
        if weight is not None:
            result = result * weight._data.reshape(channel_shape)
        if bias is not None:
            result = result + bias._data.reshape(channel_shape)
        return result

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad):
        x, weight = self._saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        if not isinstance(grad, Tensor):
            return self._array_grads(x._data, None if weight is None else weight._data, grad, needs_x,
                                     needs_weight, needs_bias)
        grouped = x.reshape(x.shape[0], self.groups, _group_size(x.shape, self.groups))
        x_hat, rstd = _standardized(grouped, (2,), self.eps)
        grad_hat = grad * weight.reshape(_channel_shape(x)) if weight is not None else grad
        grad_x = None
        if needs_x:
            grouped_grad = grad_hat.reshape(grouped.shape)
            grad_x = _standardized_input_grad(grouped_grad, x_hat, rstd, (2,)).reshape(x.shape)
        dims = _non_channel_dims(x)
        grad_weight = (grad * x_hat.reshape(x.shape)).sum(dims) if needs_weight else None
        return grad_x, grad_weight, grad.sum(dims) if needs_bias else None


    def _array_grads(self, data, weight, grad, needs_x, needs_weight, needs_bias):
        """The same rule on arrays (no graph is built)."""
        grouped_shape = (data.shape[0], self.groups, _group_size(data.shape, self.groups))
        x_hat, rstd = _standardized_array(data.reshape(grouped_shape), (2,), self.eps)
        x_hat = x_hat.reshape(data.shape)
        channel_shape = (data.shape[1],) + (1,) * (data.ndim - 2)
        grad_hat = grad * weight.reshape(channel_shape) if weight is not None else grad
        grad_x = None
        if needs_x:
            grad_x = _standardized_input_grad_array(
                grad_hat.reshape(grouped_shape), x_hat.reshape(grouped_shape), rstd, (2,)).reshape(data.shape)
        dims = (0, *range(2, data.ndim))
        grad_weight = (grad * x_hat).sum(axis=dims) if needs_weight else None
        return grad_x, grad_weight, grad.sum(axis=dims) if needs_bias else None


@register(torch_name="group_norm", floating=True,
          same_dtype=("input", "weight", "bias"))
def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each group of channels of each sample, then a per-channel affine map."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of "
            f"shape [{', '.join(map(str, input.shape))}] and num_groups={num_groups}"
        )
    return apply(NativeGroupNormBackward0, input, weight, bias, groups=num_groups, eps=eps)


def _batch_statistics(node) -> tuple:
    """Batch norm's mean and reciprocal standard deviation per channel in training (kept as
    the forward computed them); empty in eval, as PyTorch's."""
    if not node.training:
        return (np.empty(0, node.mean.dtype),) * 2
    return node.mean, 1 / np.sqrt(node.variance + node.eps)


class NativeBatchNormBackward0(ShownAsPyTorch, Node):
    """Per-channel normalisation by the batch statistics (training) or given running ones.
    It shows the running statistics it was given as PyTorch's node does, unchecked: the
    running update of a later call changes them in place (Note [Normalisation statistics
    shown, not kept])."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    inputs = ("x", "weight", "bias")
    tangent = staticmethod(
        lambda x, x_t, weight, weight_t, bias_t, mean, variance, training, eps: _affine_tangent(
            *_batch_tangent(x, x_t, mean, variance, training, eps), weight, weight_t, bias_t,
            _channel_shape(x)))
    __slots__ = ("_running", "eps", "mean", "training", "variance")
    saved_names = ("input", "weight")
    hidden = ("mean", "variance")
    shown: ClassVar[dict] = {"running_mean": lambda node: saved_unchecked(node, node._running[0]),
                             "running_var": lambda node: saved_unchecked(node, node._running[1]),
                             **_shown_statistics(lambda node: saved_unchecked(node, _batch_statistics(node)))}

    @staticmethod
    def forward(ctx, x, weight, bias, mean, variance, training, eps, running=(None, None)):
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.variance, ctx.training, ctx.eps = mean, variance, training, eps
        ctx._running = running
        data = x._data
        shape = (data.shape[1],) + (1,) * (data.ndim - 2)
        result = (data - mean.reshape(shape)) / np.sqrt(variance.reshape(shape) + eps)
        if weight is not None:
            result = result * weight._data.reshape(shape)
        if bias is not None:
            result = result + bias._data.reshape(shape)
        return result.astype(data.dtype, copy=False)

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad):
        x, weight = self._saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        dims, shape = _non_channel_dims(x), _channel_shape(x)
        if not isinstance(grad, Tensor):
            data = x._data
            if self.training:
                x_hat, rstd = _standardized_array(data, dims, self.eps)
            else:
                rstd = (1 / np.sqrt(self.variance + self.eps)).reshape(shape).astype(data.dtype)
                x_hat = (data - self.mean.reshape(shape)) * rstd
            grad_hat = grad * weight._data.reshape(shape) if weight is not None else grad
            grad_x = None
            if needs_x:
                if self.training:
                    grad_x = _standardized_input_grad_array(grad_hat, x_hat, rstd, dims)
                else:
                    grad_x = grad_hat * rstd
            grad_weight = (grad * x_hat).sum(axis=dims) if needs_weight else None
            return grad_x, grad_weight, grad.sum(axis=dims) if needs_bias else None
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
                # PyTorch's gradient is a function of the input with no derivative for it
                # in eval (see joined_to_input)
                grad_x = joined_to_input("NativeBatchNormBackwardBackward0", grad_hat * rstd, x)
        grad_weight = (grad * x_hat).sum(dims) if needs_weight else None
        return grad_x, grad_weight, grad.sum(dims) if needs_bias else None


@register(torch_name=_torch_name("batch_norm"), floating=True,
          same_dtype=("input", "running_mean", "running_var", "weight", "bias"),
          not_differentiable=("running_mean", "running_var"))
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel (dim 1) by the batch's statistics, or by the running ones in eval.

    Training also updates the running statistics in place:
    new = (1 - momentum) * old + momentum * batch (the variance unbiased).
    """
    data = input._data
    dims = (0, *range(2, data.ndim))
    channels = data.shape[1] if data.ndim > 1 else 0
    for name, statistic in (("running_mean", running_mean), ("running_var", running_var)):
        if statistic is not None and statistic.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {statistic.numel()}")
    if training and data.size == 0:  # an empty batch: an empty result, the statistics untouched (PyTorch)
        mean = variance = np.zeros(channels, dtype=data.dtype)
    elif training:
        count = data.size // max(data.shape[1], 1)
        if count == 1:
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
                 training=training, eps=eps, running=(running_mean, running_var))


@register(torch_name=_torch_name("instance_norm"), floating=True,
          same_dtype=("input", "running_mean", "running_var", "weight", "bias"),
          not_differentiable=("running_mean", "running_var"))
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel of each sample over its spatial dims; running statistics, if
    given, track the batch average of the per-instance ones.

    Recorded as PyTorch records it: the input viewed as one sample of batch * channel
    channels, batch_norm of that with the weight, bias and running statistics repeated per
    sample (RepeatBackward0), viewed back (ViewBackward0 at the output); in training, the
    given running statistics then take the mean over the samples of the repeated ones
    batch_norm updated."""
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"instance_norm(): argument 'momentum' (position 7) must be float, not "
                        f"{type(momentum).__name__}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats "
                           "is false")
    shape = input.shape
    if use_input_stats and int(np.prod(shape[2:], dtype=np.int64)) <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {shape}"
        )
    batch, channels = shape[0], shape[1]
    repeated = [None if value is None else _rearrange.repeat(value, batch)
                for value in (weight, bias, running_mean, running_var)]
    one_sample = _views.view(_rearrange.contiguous(input), (1, batch * channels, *shape[2:]))
    out = batch_norm(one_sample, repeated[2], repeated[3], repeated[0], repeated[1], use_input_stats,
                     momentum, eps)
    for given, updated in zip((running_mean, running_var), repeated[2:]):
        if given is not None and use_input_stats:
            given._data[...] = updated._data.reshape(batch, channels).mean(0)
            given._bump_version()
    return _views.view(out, shape)


@register(torch_name=_torch_name("rms_norm"), floating=True)
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """input / sqrt(mean(input^2) + eps) over the last len(normalized_shape) dims, times weight;
    eps defaults to the machine epsilon of input's dtype."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    sizes = input._data.shape if type(input) is Tensor else tuple(input.shape)
    if sizes[len(sizes) - len(shape):] != shape or len(shape) > len(sizes):
        raise RuntimeError(
            f"Given normalized_shape=[{', '.join(map(str, shape))}], expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    eps = float(np.finfo(input._data.dtype).eps) if eps is None else eps
    # PyTorch's graph: rsqrt of (the mean of input ** 2 over the dims, last first) plus eps as
    # a Scalar, times input
    dims = tuple(range(input.ndim - 1, input.ndim - len(shape) - 1, -1))
    result = input * rsqrt(apply(AddBackward1, input.pow(2).mean(dims, keepdim=True), other=eps))
    if weight is None:
        return result
    return (result * weight).to(input.dtype)  # a float64 weight leaves float32 input float32, as PyTorch
