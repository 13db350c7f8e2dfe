"""Linear maps: linear (PyTorch's addmm/mm graph) and bilinear."""

from __future__ import annotations

import numpy as np

from ..._dtype import scalar_type_name
from ..._tensor import Tensor
from ..._vmap_state import vmap_state
from .._table import apply, register
from ..linalg import AddmmBackward0, MmBackward0, einsum
from ..shape import SqueezeBackward4, TBackward0, UnsafeViewBackward0
from ._common import _c_type_name, _torch_name
from .trilinear import TrilinearBackward0

# ---------------------------------------------------------------------------
# Linear maps


def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    """mm's check of linear without bias."""
    if a.dtype is not b.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_c_type_name(a.dtype)} != {_c_type_name(b.dtype)}"
        )


def check_linear_dtypes(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's dtype checks of linear, in its order and words: addmm's with a bias (the bias
    against the weight, then the input against the weight), mm's without."""
    if bias is None:
        _check_same_dtype(input, weight)
        return
    for name, tensor in (("self", bias), ("mat1", input)):
        if tensor.dtype is not weight.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{scalar_type_name(tensor.dtype)} and {scalar_type_name(weight.dtype)}")


@register(torch_name=_torch_name("linear"))
def linear(input, weight, bias=None):
    """input @ weight.T + bias: weight is (out_features, in_features)."""
    input_shape, weight_shape = input._data.shape, weight._data.shape
    if input_shape[-1:] != weight_shape[-1:] or len(weight_shape) != 2:
        rows = int(np.prod(input.shape[:-1])) if input.ndim > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1] if input.ndim else 1} "
            f"and {weight.shape[-1]}x{weight.shape[0]})"
        )
    dtype = weight._data.dtype
    if input._data.dtype != dtype or (bias is not None and bias._data.dtype != dtype):
        check_linear_dtypes(input, weight, bias)
    # PyTorch's graph: addmm(bias, input, weight.t()) or mm(input, weight.t()) on a matrix
    # (linalg's declared nodes, checks done here);
    # other inputs are viewed as one (and back), as PyTorch's linear does.
    transposed = apply(TBackward0, weight)  # weight.t(), its checks done above
    if len(input_shape) == 2:
        if bias is None:
            return apply(MmBackward0, input, transposed)
        return apply(AddmmBackward0, bias, input, transposed)
    if input.ndim == 1:
        if bias is None:
            # PyTorch's `squeeze_(0)` of the product: SqueezeBackward4
            return apply(SqueezeBackward4, apply(MmBackward0, input.unsqueeze(0), transposed), dim=0)
        return apply(AddmmBackward0, bias, input.reshape(1, -1), transposed).reshape(
            weight.shape[0])
    out_shape = (*input.shape[:-1], weight.shape[0])
    flat = input.reshape(-1, input.shape[-1])
    if bias is None:
        return apply(UnsafeViewBackward0, apply(MmBackward0, flat, transposed), shape=out_shape)
    return apply(AddmmBackward0, bias, flat, transposed).reshape(out_shape)


@register(torch_name=_torch_name("bilinear"))
def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    tensors = {"input1": input1, "input2": input2, "weight": weight, "bias": bias}
    given = {name: tensor for name, tensor in tensors.items() if tensor is not None}
    if len({tensor.dtype for tensor in given.values()}) > 1:
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{name}: {_c_type_name(tensor.dtype)}" for name, tensor in given.items()))
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    for name, size, expected in (("input1", input1.shape[-1], weight.shape[1]),
                                 ("input2", input2.shape[-1], weight.shape[2]),
                                 ("bias", None if bias is None else bias.shape[-1], weight.shape[0])):
        if size is not None and size != expected:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got {size} but expected "
                               f"{expected}")
    batch_shape = input1.shape[:-1]
    left = input1.reshape(-1, input1.shape[-1])
    right = input2.reshape(-1, input2.shape[-1])
    if vmap_state.depth:  # (einsum has batching rules; the node below has none)
        result = einsum("ni,oij,nj->no", left, weight, right)
    else:  # (PyTorch's node: ops/nn/trilinear.py)
        result = apply(TrilinearBackward0, left, weight, right)
    result = result.reshape(*batch_shape, weight.shape[0])
    return result if bias is None else result + bias
