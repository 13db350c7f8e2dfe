"""Dropout: elementwise and channel-wise."""

from __future__ import annotations

from ... import _creation
from ..._tensor import Tensor
from ..._vmap_state import draws_per_example
from .._table import run_in_place
from ..pointwise import (
    mul,
)


def _check_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


@draws_per_example  # randomness='different': a mask per example
def _dropout_with_mask(input: Tensor, p: float, mask_shape, inplace: bool) -> Tensor:
    """input times a Bernoulli(1 - p) mask scaled by 1 / (1 - p), drawn from the default generator."""
    mask = Tensor._make(_creation._random._dropout_mask(mask_shape, p, input._data.dtype))
    if inplace:
        return run_in_place(input, mul, mask)
    return mul(input, mask)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (only when training)."""
    _check_probability(p)
    if not training or p == 0:
        return input
    return _dropout_with_mask(input, p, input.shape, inplace)


def _channel_dropout(input, p, training, inplace, spatial: int, name: str):
    _check_probability(p)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{name}: Expected {spatial + 1}D or {spatial + 2}D input, but received a {input.ndim}D "
            f"input. Note that {name} exists to provide channel-wise dropout on inputs with "
            f"{spatial} spatial dimension{'s' if spatial > 1 else ''}, a channel dimension, and an "
            "optional batch dimension (i.e. " f"{spatial + 1}D or {spatial + 2}D inputs)."
        )
    if not training or p == 0:
        return input
    channel_dims = input.ndim - spatial
    return _dropout_with_mask(input, p, tuple(input.shape[:channel_dims]) + (1,) * spatial, inplace)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability p."""
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    return _channel_dropout(input, p, training, inplace, 3, "dropout3d")
