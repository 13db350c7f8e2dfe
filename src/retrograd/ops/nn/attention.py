"""Scaled dot-product attention."""

from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ..._vmap_state import vmap_state
from ...autograd.graph import Node
from .._table import OUTPUT, apply, output, register
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
    group of query heads (grouped-query attention). Recorded as one fused node where PyTorch's
    CPU dispatch picks its fused kernel, else as the ops of the math kernel (Note [Which
    attention kernel]).
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
        )
    if _takes_fused_kernel(query, key, value, attn_mask, dropout_p, enable_gqa):
        if attn_mask is not None and attn_mask.dtype is _dtype.bool:
            attn_mask = Tensor._make(np.where(attn_mask._data, 0.0, -np.inf).astype(query._data.dtype))
        return apply(ScaledDotProductFlashAttentionForCpuBackward0, query, key, value, attn_mask=attn_mask,
                     is_causal=is_causal, scale=scale)[0]
    if enable_gqa:
        key, value = _shared_among_query_heads(query, key, value)
    scale = _scale_value(scale, query)
    # (each side scaled by sqrt(scale), as a Scalar: PyTorch's math kernel and its nodes)
    root = math.sqrt(scale)
    scores = matmul(apply(MulBackward1, query, other=root),
                    apply(MulBackward1, key.transpose(-2, -1), other=root))
    if is_causal:
        attn_mask = Tensor._make(_causal_keep(query.shape[-2], key.shape[-2]))
    if attn_mask is not None:
        if attn_mask.dtype is _dtype.bool:
            scores = scores + _constant_like(scores, np.where(attn_mask._data, 0.0, -np.inf))
        else:
            scores = scores + attn_mask
    weights = apply(SafeSoftmaxBackward0, scores, dim=scores.ndim - 1, dim_as_given=-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)


# Note [Which attention kernel]
#     PyTorch's scaled_dot_product_attention on CPU runs its fused ("flash") kernel, recorded
#     as one ScaledDotProductFlashAttentionForCpuBackward0 node, when the call fits it: query,
#     key and value 4-d (batch, heads, sequence, embedding) with one embedding size, the same
#     batch, the same heads (with enable_gqa: key and value sharing a head count that divides
#     the query's), non-empty sequences, each last dim of stride 1, no dropout, and no mask or
#     a 2-d or 4-d one that needs no gradient. Otherwise it composes the math kernel's ops
#     (MulBackward1 on each side, a matmul, _safe_softmax, a matmul), recorded as such. Both
#     compute the same function; the fused node keeps PyTorch's saved values (the output, the
#     logsumexp of each query's scores, the mask as a float tensor, the scale as given). Under
#     vmap the math kernel's ops run (they have batching rules).


def _takes_fused_kernel(query, key, value, attn_mask, dropout_p, enable_gqa) -> bool:
    """Whether PyTorch's CPU dispatch would pick its fused kernel (Note [Which attention kernel])."""
    if vmap_state.depth or dropout_p > 0 or not (query.ndim == key.ndim == value.ndim == 4):
        return False
    if query.dtype not in (_dtype.float16, _dtype.float32, _dtype.float64):
        return False
    batch, heads, length, size = query.shape
    if key.shape[0] != batch or value.shape[0] != batch or key.shape[-1] != size or value.shape[-1] != size:
        return False
    key_heads, value_heads = key.shape[1], value.shape[1]
    if enable_gqa:
        if key_heads != value_heads or heads % key_heads:
            return False
    elif key_heads != heads or value_heads != heads:
        return False
    if length == 0 or key.shape[2] == 0 or any(x.stride(-1) != 1 for x in (query, key, value)):
        return False
    return attn_mask is None or (attn_mask.ndim in (2, 4) and not attn_mask.requires_grad)


def _causal_keep(rows: int, columns: int) -> np.ndarray:
    """Where a causal mask lets query i see key j: j <= i (aligned at the top left)."""
    return np.tril(np.ones((rows, columns), dtype=bool))


class ScaledDotProductFlashAttentionForCpuBackward0(Node):
    """PyTorch's fused CPU attention: out = softmax(query @ key^T * scale + mask) @ value per
    (batch, head), with logsumexp (the log of each softmax row's denominator) as a second,
    non-differentiable output, as PyTorch's node saves it (Note [Which attention kernel]).

    Backward, with P the softmax weights rebuilt from the saved logsumexp and dO the
    incoming gradient: dV = P^T dO, dS = P * (dO V^T - rowsum(dO * out)), dQ = dS K scale,
    dK = dS^T Q scale (key and value heads shared by a group of query heads sum their
    group's gradients). With create_graph the same formulas run as recorded ops, the
    softmax recomputed from query and key, so that they can be differentiated again (a step
    beyond PyTorch, whose kernel has no derivative).
    """
    hand_written = "a fused kernel: its backward rebuilds the softmax from the saved logsumexp"

    inputs, outputs = ("query", "key", "value"), ("output", "logsumexp")
    saved_names = ("query", "key", "value", "output", "logsumexp")
    non_differentiable_outputs = (1,)
    __slots__ = ("attn_mask", "dropout_p", "is_causal", "scale")
    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    @staticmethod
    def forward(ctx, query, key, value, attn_mask, is_causal, scale):
        ctx.save_for_backward(query, key, value, OUTPUT, output(1))
        ctx.attn_mask, ctx.dropout_p, ctx.is_causal, ctx.scale = attn_mask, 0.0, is_causal, scale
        data = query._data
        accumulation = _accumulation_dtype(data)
        mask = None if attn_mask is None else attn_mask._data
        scores = _attention_scores(data.astype(accumulation, copy=False),
                                   _heads_as_query(key._data, data).astype(accumulation, copy=False),
                                   mask, is_causal, _scale_value(scale, data))
        peak = np.max(scores, axis=-1, keepdims=True)
        peak[peak == -np.inf] = 0  # (a query that sees nothing: zeros out, logsumexp 0)
        weights = np.exp(scores - peak)
        total = weights.sum(-1, keepdims=True)
        out = np.matmul(weights, _heads_as_query(value._data, data).astype(accumulation, copy=False))
        out = np.divide(out, total, out=np.zeros_like(out), where=total > 0)
        logsumexp = (peak + np.log(total, out=np.zeros_like(total), where=total > 0))[..., 0]
        return out.astype(data.dtype, copy=False), logsumexp

    def backward(self, grad, grad_logsumexp=None):
        query, key, value, out, logsumexp = self._saved_tensors
        needs = self.needs_input_grad
        if isinstance(grad, Tensor):
            return self._recorded_grads(query, key, value, grad, needs)
        data = query._data
        accumulation = _accumulation_dtype(data)
        keys = _heads_as_query(key._data, data).astype(accumulation, copy=False)
        values = _heads_as_query(value._data, data).astype(accumulation, copy=False)
        queries, grad = data.astype(accumulation, copy=False), grad.astype(accumulation, copy=False)
        scale = _scale_value(self.scale, data)
        mask = None if self.attn_mask is None else self.attn_mask._data
        scores = _attention_scores(queries, keys, mask, self.is_causal, scale)
        weights = np.exp(scores - logsumexp._data[..., None])
        grad_scores = weights * (np.matmul(grad, values.swapaxes(-1, -2))
                                 - (grad * out._data.astype(accumulation)).sum(-1, keepdims=True))
        grad_query = np.matmul(grad_scores, keys) * scale if needs[0] else None
        grad_key = np.matmul(grad_scores.swapaxes(-1, -2), queries) * scale if needs[1] else None
        grad_value = np.matmul(weights.swapaxes(-1, -2), grad) if needs[2] else None
        return tuple(None if g is None else _group_sum(g, like._data).astype(data.dtype, copy=False)
                     for g, like in ((grad_query, query), (grad_key, key), (grad_value, value)))

    def _recorded_grads(self, query, key, value, grad, needs):
        """The same gradients as recorded ops of query, key, value and grad."""
        keys, values = key, value
        if key.shape[1] != query.shape[1]:
            keys, values = _shared_among_query_heads(query, key, value)
        scale = _scale_value(self.scale, query)
        scores = matmul(query, keys.transpose(-2, -1)) * scale
        if self.is_causal:
            scores = scores + _constant_like(
                scores, np.where(_causal_keep(query.shape[-2], key.shape[-2]), 0.0, -np.inf))
        if self.attn_mask is not None:
            scores = scores + self.attn_mask
        weights = apply(SafeSoftmaxBackward0, scores, dim=3, dim_as_given=-1)
        out = matmul(weights, values)
        grad_scores = weights * (matmul(grad, values.transpose(-2, -1)) - (grad * out).sum(-1, keepdim=True))
        grad_query = matmul(grad_scores, keys) * scale if needs[0] else None
        grad_key = _group_sum(matmul(grad_scores.transpose(-2, -1), query) * scale, key) if needs[1] else None
        grad_value = _group_sum(matmul(weights.transpose(-2, -1), grad), value) if needs[2] else None
        return grad_query, grad_key, grad_value


def _accumulation_dtype(data: np.ndarray) -> np.dtype:
    """Half precision is computed in float32, as PyTorch's kernel accumulates it."""
    return np.dtype(np.float32) if data.dtype == np.float16 else data.dtype


def _scale_value(scale, data: np.ndarray) -> float:
    return 1 / math.sqrt(data.shape[-1]) if scale is None else scale


def _heads_as_query(data: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Key or value heads repeated for each group of consecutive query heads (dim 1)."""
    group = query.shape[1] // data.shape[1]
    return data if group == 1 else np.repeat(data, group, axis=1)


def _attention_scores(query, key, mask, is_causal, scale) -> np.ndarray:
    scores = np.matmul(query, key.swapaxes(-1, -2)) * scale
    if is_causal:
        scores = np.where(_causal_keep(*scores.shape[-2:]), scores, -np.inf)
    if mask is not None:
        scores = scores + mask.astype(scores.dtype, copy=False)
    return scores


def _group_sum(grad, like):
    """A gradient per query head (arrays or Tensors) summed over each group of query heads
    that shares one head of `like`."""
    batch, heads = like.shape[:2]
    if grad.shape[1] == heads:
        return grad
    return grad.reshape(batch, heads, grad.shape[1] // heads, *grad.shape[2:]).sum(2)


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
