"""MultiheadAttention: scaled dot-product attention over several heads, with PyTorch's layout."""

from __future__ import annotations

import math

import numpy as np

from ..._creation import empty
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


def _additive_mask(mask: Tensor | None, dtype: np.dtype) -> np.ndarray | None:
    """A mask as numbers to add to the scores: True (boolean masks) becomes −inf."""
    if mask is None:
        return None
    values = mask._data
    if values.dtype == np.bool_:
        return np.where(values, -np.inf, 0.0).astype(dtype)
    return values.astype(dtype)


def _pad_last(mask: np.ndarray | None) -> np.ndarray | None:
    """One more (unmasked) key column, for bias_k/bias_v or the zero attention key."""
    if mask is None:
        return None
    return np.concatenate([mask, np.zeros((*mask.shape[:-1], 1), mask.dtype)], axis=-1)


class MultiheadAttention(Module):
    """Attention(Q, K, V) = softmax(QKᵀ/√d + mask) V in `num_heads` heads of size embed_dim/num_heads.

    Inputs are (L, N, E), or (N, L, E) with `batch_first`, or unbatched (L, E). Returns
    (output, attention weights averaged over heads, or per head, or None).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projection_weights(self) -> tuple:
        if self._qkv_same_embed_dim:
            weights = self.in_proj_weight.chunk(3)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None, None, None)
        return weights, biases

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None,
                average_attn_weights: bool = True, is_causal: bool = False):
        from ... import cat, zeros

        batched = query.dim() == 3
        if batched and self.batch_first:
            query, key, value = (tensor.transpose(0, 1) for tensor in (query, key, value))
        if not batched:
            query, key, value = (tensor.unsqueeze(1) for tensor in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        target_length, batch, embed_dim = query.shape
        heads, head_dim = self.num_heads, self.head_dim
        if embed_dim != self.embed_dim:
            raise AssertionError(
                f"was expecting embedding dimension of {self.embed_dim}, but got {embed_dim}"
            )

        (weight_q, weight_k, weight_v), (bias_q, bias_k, bias_v) = self._projection_weights()
        q = F.linear(query, weight_q, bias_q)
        k = F.linear(key, weight_k, bias_k)
        v = F.linear(value, weight_v, bias_v)

        dtype = q._data.dtype
        mask = _additive_mask(attn_mask, dtype)
        if mask is None and is_causal:
            source_length = key.size(0)
            mask = np.triu(np.full((target_length, source_length), -np.inf, dtype), 1)
        padding = _additive_mask(key_padding_mask, dtype)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, batch, embed_dim)])
            v = cat([v, self.bias_v.expand(1, batch, embed_dim)])
            mask, padding = _pad_last(mask), _pad_last(padding)

        q = q.reshape(target_length, batch * heads, head_dim).transpose(0, 1)
        k = k.reshape(k.size(0), batch * heads, head_dim).transpose(0, 1)
        v = v.reshape(v.size(0), batch * heads, head_dim).transpose(0, 1)
        if self.add_zero_attn:
            k = cat([k, zeros(batch * heads, 1, head_dim, dtype=k.dtype)], dim=1)
            v = cat([v, zeros(batch * heads, 1, head_dim, dtype=v.dtype)], dim=1)
            mask, padding = _pad_last(mask), _pad_last(padding)
        source_length = k.size(1)

        scores = (q * math.sqrt(1.0 / float(head_dim))) @ k.transpose(1, 2)
        combined = self._combined_mask(mask, padding, batch, source_length)
        if combined is not None:
            scores = scores + Tensor._make(combined)
        weights = F.softmax(scores, dim=-1)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, p=self.dropout)
        output = (weights @ v).transpose(0, 1).reshape(target_length * batch, embed_dim)
        output = F.linear(output, self.out_proj.weight, self.out_proj.bias)
        output = output.reshape(target_length, batch, embed_dim)

        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        weights = weights.reshape(batch, heads, target_length, source_length)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return output, (weights if batched else weights.squeeze(0))

    def _combined_mask(self, mask, padding, batch: int, source_length: int) -> np.ndarray | None:
        """attn_mask and key_padding_mask as one additive array of shape (N·H or 1, L, S)."""
        if padding is not None:
            if padding.shape != (batch, source_length):
                raise AssertionError(
                    f"expecting key_padding_mask shape of {(batch, source_length)}, but got {padding.shape}"
                )
            padding = np.broadcast_to(padding[:, None, None, :], (batch, self.num_heads, 1, source_length))
            padding = padding.reshape(batch * self.num_heads, 1, source_length)
        if mask is not None and mask.ndim == 2:
            mask = mask[None]
        if mask is None:
            return padding
        return mask if padding is None else mask + padding
