"""Normalisation by a norm, cosine similarity and pairwise distance."""

from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .._saved_shown import given_where_different
from .._table import apply, register
from ..composite.numeric import AddBackward1, NormBackward1
from ..composite.tensors import broadcast_shapes
from ..pointwise import (
    clamp_min,
)
from ..reduce import norm
from ._common import _torch_name


def _norm_along(input: Tensor, p: float, dim) -> Tensor:
    """The p-norm along dim, kept; its gradient at a zero slice is 0 (as PyTorch), not NaN."""
    return norm(input, p, dim, keepdim=True)


@register(torch_name=_torch_name("normalize"))
def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    norm = clamp_min(_norm_along(input, p, dim), eps)
    return input / norm.expand_as(input)


@register(torch_name=_torch_name("cosine_similarity"))
def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """x1 . x2 / (||x1|| ||x2||) along dim, each norm floored at eps.

    As PyTorch: inputs of different shapes are both expanded to their broadcast shape, and
    each norm is cloned and floored in place without recording, so the floor passes the
    gradient unchanged (CloneBackward0 in the graph, no clamp node)."""
    if tuple(x1.shape) != tuple(x2.shape):
        shape = broadcast_shapes(x1.shape, x2.shape)
        x1, x2 = x1.expand(shape), x2.expand(shape)
    return ((x1 / _floored_norm(x1, dim, eps)) * (x2 / _floored_norm(x2, dim, eps))).sum(dim)


def _floored_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """||x|| along dim (kept), at least eps, the floor written in place out of the graph."""
    floored = _norm_along(x, 2, dim).clone()
    with no_grad():
        floored.clamp_min_(eps)
    return floored


# ---------------------------------------------------------------------------
# Distances and more losses (compositions of differentiable ops)


@register(torch_name=_torch_name("pairwise_distance"))
def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p over the last dim, recorded as PyTorch records it: SubBackward0,
    AddBackward1 (eps, a Scalar), NormBackward1 over the innermost dim of the broadcast."""
    innermost = max(x1.ndim, x2.ndim) - 1
    difference = apply(AddBackward1, x1 - x2, other=eps)
    dim = innermost % max(difference.ndim, 1)
    return apply(NormBackward1, difference, p=float(p), dim=(dim,), keepdim=keepdim,
                 **given_where_different(dim=(innermost, dim)))
