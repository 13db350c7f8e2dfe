"""Embedding: rows of a weight looked up by integer index."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ...autograd.graph import Node
from .._saved_shown import ShownAsPyTorch
from .._table import apply, register
from .._tangents import LINEAR
from ._common import _torch_name
from ._maps import scatter_add_along

# ---------------------------------------------------------------------------
# Embedding and dropout


class EmbeddingBackward0(ShownAsPyTorch, Node):
    """Rows of `weight` picked by integer `indices`; backward adds the gradient rows back
    (repeated indices accumulate; the padding row gets none; with `scale_grad_by_freq` each
    lookup's gradient is divided by how often its index occurs in `indices`).

    As PyTorch's node, it saves the index tensor the call gave: a backward after it changed
    in place, or a second one, is refused."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("frequencies", "padding_idx", "rows")
    saved_names = ("indices",)
    hidden = ("frequencies", "rows")
    shown: ClassVar[dict] = {
        "weight_sym_argsize_0": lambda node: node.rows,
        "padding_idx": lambda node: -1 if node.padding_idx is None else node.padding_idx,
        "scale_grad_by_freq": lambda node: node.frequencies is not None,
        "sparse": lambda node: False,
    }

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq=False):
        ctx.save_for_backward(indices)
        ctx.padding_idx, ctx.rows = padding_idx, weight._data.shape[0]
        ctx.frequencies = _frequencies(indices._data) if scale_grad_by_freq else None
        return np.take(weight._data, indices._data, axis=0)

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad):
        (indices,) = self._saved_tensors
        flat_index = indices._data.reshape(-1)
        flat_grad = grad.reshape(flat_index.size, grad.shape[-1])
        if self.frequencies is not None:
            flat_grad = _scaled_by_frequency(flat_grad, self.frequencies)
        if self.padding_idx is not None:
            # select, so a NaN reaching a padding lookup stays out of every row
            kept = flat_index != self.padding_idx
            flat_index = flat_index[kept]
            flat_grad = flat_grad[kept] if not isinstance(grad, Tensor) else flat_grad[Tensor._make(kept)]
        if not isinstance(grad, Tensor):
            result = np.zeros((self.rows, grad.shape[-1]), dtype=grad.dtype)
            np.add.at(result, flat_index, flat_grad)
            return result
        return scatter_add_along(flat_grad, 0, flat_index[:, None], self.rows)


def _scaled_by_frequency(flat_grad, frequencies: np.ndarray):
    """Each lookup's gradient row divided by its index's frequency. Recorded (create_graph), the
    division is a constant added outside the graph, so the derivative of this gradient is the
    plain lookup, as PyTorch's double backward of embedding computes it."""
    if not isinstance(flat_grad, Tensor):
        return flat_grad / frequencies.astype(flat_grad.dtype)[:, None]
    divided = flat_grad._data / frequencies.astype(flat_grad._data.dtype)[:, None]
    return flat_grad + Tensor._make(divided - flat_grad._data)


def _frequencies(indices: np.ndarray) -> np.ndarray:
    """For each lookup of `indices` (flattened), how many lookups of the same index there are."""
    flat = indices.reshape(-1)
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return counts[inverse.reshape(-1)]


@register(torch_name=_torch_name("embedding"))
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """weight[input]: a lookup of rows by integer index.

    With max_norm, the looked-up rows whose norm_type-norm exceeds it are first rescaled to
    it, in place in weight (outside the graph), as PyTorch does. With scale_grad_by_freq, the
    gradient of each lookup is divided by the number of lookups of its index.
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported")
    indices = input._data
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
            f"Int; but got {_dtype.tensor_type_name(input.dtype)} instead (while checking arguments for "
            "embedding)"
        )
    rows = weight.shape[0]
    if padding_idx is not None:  # (checked first, as in PyTorch's F.embedding)
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    if max_norm is not None:  # before the lookup's own checks, as PyTorch's F.embedding
        _renormalize_rows(weight, np.unique(indices), max_norm, norm_type)
    if rows == 0 and weight.ndim:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError("index out of range in self")
    return apply(EmbeddingBackward0, weight, indices=input, padding_idx=padding_idx,
                 scale_grad_by_freq=scale_grad_by_freq)


def _renormalize_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    """embedding_renorm_: the rows (sorted, unique; negative ones count from the end) whose norm
    exceeds max_norm rescaled to it, in place, with PyTorch's errors."""
    if weight._data.dtype.kind not in "fc":
        raise RuntimeError("norm(): input dtype should be either floating point or complex. Got "
                           f"{_dtype.scalar_type_name(weight.dtype)} instead.")
    count = weight.shape[0]
    if rows.size and (rows[0] < -count or rows[-1] >= count):
        bad = int(rows[-1] if rows[-1] >= count else rows[0])
        raise IndexError(f"select(): index {bad} out of range for tensor of size "
                         f"[{', '.join(map(str, weight.shape))}] at dimension 0")
    rows = rows % max(count, 1)
    data = weight._data
    norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        chosen = rows[too_long]
        data[chosen] *= (max_norm / (norms[too_long] + 1e-7))[:, None]
    weight._bump_version()  # an in-place op on weight, whether or not a row changed (as PyTorch)
