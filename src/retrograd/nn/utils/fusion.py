"""Folding an eval-mode BatchNorm into the convolution or linear layer before it.

In eval mode BatchNorm is the affine map `(x - running_mean) / sqrt(running_var + eps) * weight
+ bias` per channel, so it can be absorbed into the preceding layer's weight (scaled per output
channel) and bias: one layer then computes what the two did.
"""

from __future__ import annotations

import copy

from ..._tensor import Tensor
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def _check_eval_mode(layer, bn) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")


def _check_running_stats(bn) -> None:
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A new convolution (a deep copy of `conv`) computing `bn(conv(x))`; both in eval mode.

    `transpose` says that `conv` is a transposed convolution (output channels on dim 1).
    """
    _check_eval_mode(conv, bn)
    _check_running_stats(bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias, transpose
    )
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps: float, bn_w, bn_b,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The weight and bias of a convolution followed by an eval-mode BatchNorm, as Parameters.

    A missing conv bias or BatchNorm weight/bias counts as zeros/ones/zeros. The results
    keep the conv weight's and bias's dtypes and `requires_grad`.
    """
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    conv_b = bn_rm.new_zeros(bn_rm.shape) if conv_b is None else conv_b
    bn_w = bn_rm.new_ones(bn_rm.shape) if bn_w is None else bn_w
    bn_b = bn_rm.new_zeros(bn_rm.shape) if bn_b is None else bn_b
    inverse_std = Tensor.rsqrt(bn_rv + bn_eps)
    channel_dim = [1, -1] if transpose else [-1, 1]
    scale = (bn_w * inverse_std).reshape(channel_dim + [1] * (conv_w.dim() - 2))
    fused_w = (conv_w * scale).to(dtype=weight_dtype)
    fused_b = ((conv_b - bn_rm) * inverse_std * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A new Linear (a deep copy of `linear`) computing `bn(linear(x))`; both in eval mode.

    The BatchNorm's channels must be the linear layer's outputs (or a single channel).
    """
    _check_eval_mode(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    _check_running_stats(bn)
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps: float, bn_w,
                           bn_b) -> tuple[Parameter, Parameter]:
    """The weight and bias of a Linear followed by an eval-mode BatchNorm, as Parameters.

    A missing linear bias counts as zeros; the results keep the linear weight's and bias's
    dtypes and `requires_grad`.
    """
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    linear_b = bn_rm.new_zeros(bn_rm.shape) if linear_b is None else linear_b
    scale = bn_w * Tensor.rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=weight_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)
