"""All parameters as one flat vector, and back (for second-order methods and tooling)."""

from __future__ import annotations

from collections.abc import Iterable

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter's values in order (differentiable)."""
    from ... import cat

    return cat([parameter.reshape(-1) for parameter in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of `vec` into the parameters' data (outside autograd)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected retrograd.Tensor, but got: {type(vec).__name__}")
    offset = 0
    for parameter in parameters:
        count = parameter.numel()
        parameter.data = Tensor._make(vec._data[offset : offset + count].reshape(parameter.shape))
        offset += count
