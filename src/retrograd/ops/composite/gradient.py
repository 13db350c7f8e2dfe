"""`torch.gradient`: finite-difference estimates of a sampled function's partial derivatives.

Composed of slicing (`narrow`), arithmetic and `cat`, so it records those ops (a `CatBackward0`
whose inputs are the left edge, the interior and the right edge, as PyTorch's graph) and is
differentiable to any order for free.

Along each dimension the interior uses second-order central differences; the two edges use
one-sided differences of first (`edge_order=1`) or second (`edge_order=2`) order. Samples are
either evenly spaced (a number: the step) or placed at given coordinates (a 1-d tensor per
dimension), for which the weights of the three neighbours follow from the two unequal steps.
"""

from __future__ import annotations

import numbers

from ..._tensor import Tensor
from ..reduce.sums import normalize_dims
from ..shape import cat

__all__ = ["gradient"]


def gradient(input, *, spacing=1, dim=None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """The estimated partial derivatives of `input` along `dim` (all dimensions by default).

    `spacing` is the step between samples (a number, or one number per dimension) or the
    sample coordinates (one 1-d tensor per dimension).

    >>> import retrograd as torch
    >>> torch.gradient(torch.tensor([1., 4., 9., 16.]))
    (tensor([3., 4., 6., 7.]),)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _dims(input, dim)
    steps = _steps(spacing, dims, input.ndim, dim is None)
    for axis in dims:
        if input.shape[axis] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1")
    for axis, step in zip(dims, steps):
        if isinstance(step, Tensor) and step.shape[0] != input.shape[axis]:
            raise RuntimeError(
                f"torch.gradient expected the coordinates along dimension {axis} to have one "
                f"value per sample ({input.shape[axis]}), but got {step.shape[0]}")
    return tuple(_along(input, axis, step, edge_order) for axis, step in zip(dims, steps))


def _dims(input: Tensor, dim) -> tuple[int, ...]:
    """`dim` as non-negative dims in the order given (every dim when None)."""
    if dim is None:
        return tuple(range(input.ndim))
    listed = (dim,) if isinstance(dim, int) else tuple(dim)
    if input.ndim == 0 and listed:
        raise IndexError(f"Dimension specified as {listed[0]} but tensor has no dimensions")
    normalize_dims(listed, input.ndim)  # PyTorch's range and repetition errors
    return tuple(int(axis) % input.ndim for axis in listed)


def _steps(spacing, dims: tuple[int, ...], ndim: int, all_dims: bool) -> list:
    """One step (a number) or one coordinate tensor per dim of `dims`."""
    if _is_number(spacing):
        return [_number(spacing)] * len(dims)
    if isinstance(spacing, Tensor) or not isinstance(spacing, list | tuple):
        raise TypeError(f"gradient(): argument 'spacing' must be a number or a tuple of numbers "
                        f"or of tensors, not {type(spacing).__name__}")
    if len(spacing) != len(dims):
        if all_dims:
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar, or a list of "
                f"length equal to 'self.dim() = {ndim}', since dim argument was not given, but "
                f"got a list of length {len(spacing)}")
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
            f"arguments to have the same length, but got a spacing argument of length "
            f"{len(spacing)} and a dim argument of length {len(dims)}.")
    if all(isinstance(step, Tensor) for step in spacing):
        for step in spacing:
            if step.ndim != 1:
                raise RuntimeError("torch.gradient expected each element of spacing to have one "
                                   f"dimension, but got an element with {step.ndim} dimensions!")
        return list(spacing)
    if all(_is_number(step) for step in spacing):
        return [_number(step) for step in spacing]
    raise TypeError("gradient(): argument 'spacing' must hold only numbers or only 1-d tensors")


def _is_number(value) -> bool:
    if isinstance(value, Tensor):
        return value.ndim == 0
    return isinstance(value, numbers.Real)


def _number(value):
    return value.item() if isinstance(value, Tensor) else value


def _along(input: Tensor, axis: int, step, edge_order: int) -> Tensor:
    """The estimate along one dimension: edge, interior and edge, joined."""
    size = input.shape[axis]

    def part(start: int, length: int = 1) -> Tensor:
        return input.narrow(axis, start % size, length)

    if isinstance(step, Tensor):
        steps = _broadcast_along(step.diff(), axis, input.ndim)
        pieces = _uneven(part, size, steps, axis, edge_order)
    else:
        pieces = _even(part, size, step, edge_order)
    return cat(pieces, axis)


def _even(part, size: int, step, edge_order: int) -> list[Tensor]:
    """Edges and interior for evenly spaced samples `step` apart."""
    interior = (part(2, size - 2) - part(0, size - 2)) / (2 * step)
    if edge_order == 1:
        first = (part(1) - part(0)) / step
        last = (part(-1) - part(-2)) / step
    else:
        first = (-1.5 * part(0) + 2 * part(1) - 0.5 * part(2)) / step
        last = (0.5 * part(-3) - 2 * part(-2) + 1.5 * part(-1)) / step
    return [first, interior, last]


def _broadcast_along(steps: Tensor, axis: int, ndim: int) -> Tensor:
    shape = [1] * ndim
    shape[axis] = steps.shape[0]
    return steps.reshape(shape)


def _uneven(part, size: int, steps: Tensor, axis: int, edge_order: int) -> list[Tensor]:
    """Edges and interior for samples at coordinates whose successive differences are `steps`
    (shaped to broadcast along the dimension): each estimate is the derivative at the sample
    of the parabola through it and its two neighbours."""
    before, after = steps.narrow(axis, 0, size - 2), steps.narrow(axis, 1, size - 2)
    interior = (-after / (before * (before + after)) * part(0, size - 2)
                + (after - before) / (before * after) * part(1, size - 2)
                + before / (after * (before + after)) * part(2, size - 2))
    if edge_order == 1:
        first = (part(1) - part(0)) / steps.narrow(axis, 0, 1)
        last = (part(-1) - part(-2)) / steps.narrow(axis, size - 2, 1)
        return [first, interior, last]
    near, far = steps.narrow(axis, 0, 1), steps.narrow(axis, 1, 1)
    first = (-(2 * near + far) / (near * (near + far)) * part(0)
             + (near + far) / (near * far) * part(1)
             - near / (far * (near + far)) * part(2))
    near, far = steps.narrow(axis, size - 3, 1), steps.narrow(axis, size - 2, 1)
    last = (far / (near * (near + far)) * part(-3)
            - (near + far) / (near * far) * part(-2)
            + (2 * far + near) / (far * (near + far)) * part(-1))
    return [first, interior, last]
