"""Linear maps: linear (PyTorch's addmm/mm graph) and bilinear."""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from ...autograd.graph import Node
from .. import _samples
from .._table import apply, register
from ..linalg import einsum
from ._common import _c_type_name, _torch_name

# ---------------------------------------------------------------------------
# Linear maps


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
