"""Scaled dot-product attention."""

from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .._table import apply, register
from ..composite.numeric import MulBackward1
from ..linalg import matmul
from ..pointwise import (
    _constant_like,
)
from ._common import _torch_name
from .activation import SoftmaxBackward0
from .dropout import dropout

# ---------------------------------------------------------------------------
# Attention and instance normalisation


class SafeSoftmaxBackward0(SoftmaxBackward0):
    """Attention's softmax (PyTorch's `_safe_softmax`): a row whose scores are all -inf (a
    query that may attend to nothing) gives zeros, not NaN; elsewhere softmax, with
    softmax's gradient (0 along a zero row)."""

    @staticmethod
    def forward(self, dim, dtype=None, dim_as_given=None):
        result = SoftmaxBackward0.forward(self, dim, dtype, dim_as_given)
        masked = np.all(self._data == -np.inf, axis=dim, keepdims=True)
        return np.where(masked, 0, result).astype(result.dtype, copy=False) if masked.any() else result


@register(torch_name=_torch_name("scaled_dot_product_attention"))
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False):
    """softmax(query @ key^T * scale + mask) @ value, scale 1 / sqrt(embedding size) by default.

    A bool mask keeps the True positions; a float mask is added to the scores. With
    `enable_gqa`, key and value may have fewer heads (dim -3) than query, each shared by a
    group of query heads (grouped-query attention).
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
        )
    if enable_gqa:
        key, value = _shared_among_query_heads(query, key, value)
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    # (each side scaled by sqrt(scale), as a Scalar: PyTorch's math kernel and its nodes)
    root = math.sqrt(scale)
    scores = matmul(apply(MulBackward1, query, other=root),
                    apply(MulBackward1, key.transpose(-2, -1), other=root))
    if is_causal:
        rows, columns = query.shape[-2], key.shape[-2]
        attn_mask = Tensor._make(np.tril(np.ones((rows, columns), dtype=bool)))
    if attn_mask is not None:
        if attn_mask.dtype is _dtype.bool:
            scores = scores + _constant_like(scores, np.where(attn_mask._data, 0.0, -np.inf))
        else:
            scores = scores + attn_mask
    weights = apply(SafeSoftmaxBackward0, scores, dim=scores.ndim - 1, dim_as_given=-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)


def _shared_among_query_heads(query, key, value):
    """key and value with each head repeated for its group of consecutive query heads (dim -3),
    so that query head h reads key head h // (query heads / key heads)."""
    heads, key_heads, value_heads = query.size(-3), key.size(-3), value.size(-3)
    if heads % key_heads or heads % value_heads:
        raise RuntimeError(
            "Number of heads in key and value must divide the number of heads in query "
            f"(query has {heads}, key {key_heads}, value {value_heads})"
        )
    return (key.repeat_interleave(heads // key_heads, -3),
            value.repeat_interleave(heads // value_heads, -3))
