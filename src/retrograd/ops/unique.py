"""unique and unique_consecutive: the distinct values (or slices) of a tensor.

Both return the distinct elements, and on request where each input element went
(`return_inverse`) and how often each distinct element occurs (`return_counts`). With `dim`
they compare whole slices along that dimension (rows for dim=0) instead of elements.

As in PyTorch, `unique` always sorts (its `sorted` flag does not change the CPU result),
NaNs are never equal to each other, and neither op has a derivative: a result made from a
tensor that requires grad carries a grad_fn whose backward says so.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import Node
from ._table import apply, register

__all__ = ["unique", "unique_consecutive"]


class _NoDerivative(Node):
    """A node for an op without a derivative: recording works, backward refuses."""
    hand_written = "not differentiable: the node only refuses a backward, as PyTorch's does"

    __slots__ = ()
    non_differentiable_outputs = (1, 2)
    derivative_name = ""

    def backward(self, *grads):
        raise NotImplementedError(f"the derivative for '{self.derivative_name}' is not implemented.")


def _unique_flat(data: np.ndarray):
    flat = data.reshape(-1)
    if flat.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return flat.copy(), empty.reshape(data.shape), empty
    values, inverse, counts = np.unique(
        flat, return_inverse=True, return_counts=True, equal_nan=False
    )
    return values, inverse.reshape(data.shape).astype(np.int64), counts.astype(np.int64)


def _unique_along(data: np.ndarray, dim: int):
    if data.shape[dim] == 0:
        return data.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64)
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=dim)
    return values, inverse.reshape(-1).astype(np.int64), counts.astype(np.int64)


class Unique2Backward0(_NoDerivative):
    __slots__ = ()
    derivative_name = "_unique2"

    @staticmethod
    def forward(ctx, input):
        return _unique_flat(input._data)


class UniqueDimBackward0(_NoDerivative):
    __slots__ = ()
    derivative_name = "unique_dim"

    @staticmethod
    def forward(ctx, input, dim):
        return _unique_along(input._data, dim)


def _consecutive_starts(rows: np.ndarray) -> np.ndarray:
    """Whether each row (of a 2-d array) differs from the one before it (the first always does)."""
    changed = np.ones(rows.shape[0], dtype=bool)
    if rows.shape[0] > 1:
        changed[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    return changed


def _unique_consecutive(data: np.ndarray, dim: int | None):
    if dim is None:
        rows = data.reshape(-1, 1)
        moved = data.reshape(-1)
        inverse_shape = data.shape
    else:
        moved = np.moveaxis(data, dim, 0)
        rows = moved.reshape(moved.shape[0], -1)
        inverse_shape = (data.shape[dim],)
    if rows.shape[0] == 0:
        empty = np.zeros(0, np.int64)
        return data.copy(), empty.reshape(inverse_shape), empty
    changed = _consecutive_starts(rows)
    starts = np.flatnonzero(changed)
    counts = np.diff(np.append(starts, rows.shape[0])).astype(np.int64)
    inverse = (np.cumsum(changed) - 1).astype(np.int64).reshape(inverse_shape)
    values = moved[starts]
    if dim is not None:
        values = np.moveaxis(values, 0, dim)
    return np.ascontiguousarray(values), inverse, counts


class UniqueConsecutiveBackward0(_NoDerivative):
    __slots__ = ()
    derivative_name = "unique_consecutive"

    @staticmethod
    def forward(ctx, input, dim):
        return _unique_consecutive(input._data, dim)


def _check_dim(input: Tensor, dim):
    if dim is None:
        return None
    if input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return input._wrap_dim(dim)


def _pick(results: tuple, return_inverse: bool, return_counts: bool):
    values, inverse, counts = results
    if not return_inverse and not return_counts:
        return values
    chosen = [values]
    if return_inverse:
        chosen.append(inverse)
    if return_counts:
        chosen.append(counts)
    return tuple(chosen)


@register(methods="unique", differentiable=False)
def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None):
    """The sorted distinct elements of `input` (or distinct slices along `dim`); optionally
    also the index of each element's value in them, and how often each value occurs.

    >>> import retrograd
    >>> retrograd.unique(retrograd.tensor([3, 1, 3, 2]), return_counts=True)
    (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    dim = _check_dim(input, dim)
    if dim is None:
        results = apply(Unique2Backward0, input)
    else:
        results = apply(UniqueDimBackward0, input, dim=dim)
    return _pick(results, return_inverse, return_counts)


@register(methods="unique_consecutive", differentiable=False)
def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """`input` with each run of equal consecutive elements (or slices along `dim`) kept once.

    >>> import retrograd
    >>> retrograd.unique_consecutive(retrograd.tensor([1, 1, 2, 1]))
    tensor([1, 2, 1])
    """
    dim = _check_dim(input, dim)
    results = apply(UniqueConsecutiveBackward0, input, dim=dim)
    return _pick(results, return_inverse, return_counts)
