"""F.pad: constant padding (negative amounts crop) and reflect/replicate/circular padding."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._tensor import Tensor
from ..._vmap_state import vmap_state
from ...autograd.graph import Node
from .._saved_shown import ShownAsPyTorch, kept_arguments
from .._table import apply, register
from .._tangents import LINEAR, LinearWith
from ._backward_ops import joined_to_input
from ._common import _torch_name
from ._maps import scatter_add_along

# ---------------------------------------------------------------------------
# Padding


def _pad_pairs(pad, ndim: int) -> tuple[tuple[int, int], ...]:
    """F.pad's flat (last-dim-first) list as one (before, after) pair per dim."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {ndim}")
    pairs = [(0, 0)] * ndim
    for index in range(len(pad) // 2):
        pairs[ndim - 1 - index] = (int(pad[2 * index]), int(pad[2 * index + 1]))
    return tuple(pairs)


def _flat_pad(pairs) -> tuple:
    """(before, after) pairs per dim as F.pad's flat list, last dim first."""
    return tuple(amount for pair in reversed(pairs) for amount in pair)


class ConstantPadNdBackward0(ShownAsPyTorch, Node):
    """Pad with a constant (negative amounts crop); backward pads with the negated amounts.
    It shows `pad` as PyTorch's node does: F.pad's list as the call gave it (one pair per
    padded dim), the flat list of every dim when padding made inside another op."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LinearWith(value=0)
    __slots__ = ("_arguments", "pairs")
    hidden = ("pairs",)
    shown: ClassVar[dict] = {
        "pad": lambda node: node._arguments[0] if node._arguments else _flat_pad(node.pairs)}

    @staticmethod
    def forward(ctx, x, pairs, value, arguments=()):
        ctx.pairs, ctx._arguments = pairs, arguments
        data = x._data
        crop = tuple(slice(max(-before, 0), data.shape[d] - max(-after, 0))
                     for d, (before, after) in enumerate(pairs))
        grow = [(max(before, 0), max(after, 0)) for before, after in pairs]
        cropped = data[crop]
        for d, (before, after) in enumerate(pairs):
            if data.shape[d] + before + after < 0:
                raise RuntimeError(
                    f"The input size {data.shape[d]}, plus negative padding {before} and {after} "
                    f"resulted in a negative output size, which is invalid. Check dimension {d} of "
                    "your input."
                )
        if not any(before or after for before, after in grow):
            return cropped.copy()
        return np.pad(cropped, grow, mode="constant", constant_values=value)

    def backward(self, grad):
        negated = tuple((-before, -after) for before, after in self.pairs)
        return constant_pad(grad, negated, 0)


def constant_pad(x: Tensor, pairs, value=0) -> Tensor:
    return apply(ConstantPadNdBackward0, x, pairs=tuple(pairs), value=value)


class _IndexPadBackward(ShownAsPyTorch, Node):
    """Reflect/replicate/circular padding: a gather over the padded dims, flattened;
    backward scatter-adds the gradient back (repeated positions accumulate). `joined` names
    the grad_fn PyTorch gives that gradient, a function of the input for reflect and
    replicate (see `joined_to_input`); circular padding's is a copy into slices, not one.
    Reflect and replicate show `padding` as the call gave it, as PyTorch's nodes do."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    joined: str | None = None
    __slots__ = ("_arguments", "flat_index", "input_shape", "padded_dims")
    hidden = ("flat_index", "input_shape", "padded_dims")
    shown: ClassVar[dict] = kept_arguments("padding")

    @staticmethod
    def forward(ctx, x, positions, arguments=()):
        data = x._data
        ctx._arguments = arguments
        if getattr(ctx, "joined", None) is not None:  # (nothing to read when nothing records)
            ctx.save_for_backward(x)
        padded_dims = len(positions)
        spatial = data.shape[data.ndim - padded_dims:]
        flat_index = np.ravel_multi_index(np.ix_(*positions), spatial)
        ctx.flat_index, ctx.input_shape, ctx.padded_dims = flat_index.ravel(), data.shape, padded_dims
        flat = data.reshape(*data.shape[: data.ndim - padded_dims], int(np.prod(spatial, dtype=np.int64)))
        return np.take(flat, flat_index, axis=-1)

    def backward(self, grad):
        lead_shape = self.input_shape[: len(self.input_shape) - self.padded_dims]
        spatial_size = int(np.prod(self.input_shape[len(lead_shape):], dtype=np.int64))
        flat_grad = grad.reshape(*lead_shape, int(np.prod(grad.shape[len(lead_shape):], dtype=np.int64)))
        result = scatter_add_along(flat_grad, -1, self.flat_index, spatial_size).reshape(self.input_shape)
        if self.joined is not None:
            result = joined_to_input(self.joined, result, *self._saved_tensors)
        return result


# Named as PyTorch names these grad_fns.


class ReflectionPad1DBackward0(_IndexPadBackward):
    """reflect padding of the last 1 dim."""

    joined = "ReflectionPad1DBackwardBackward0"
    __slots__ = ()


class ReflectionPad2DBackward0(_IndexPadBackward):
    """reflect padding of the last 2 dims."""

    joined = "ReflectionPad2DBackwardBackward0"
    __slots__ = ()


class ReflectionPad3DBackward0(_IndexPadBackward):
    """reflect padding of the last 3 dims."""

    joined = "ReflectionPad3DBackwardBackward0"
    __slots__ = ()


class ReplicationPad1DBackward0(_IndexPadBackward):
    """replicate padding of the last 1 dim."""

    joined = "ReplicationPad1DBackwardBackward0"
    __slots__ = ()


class ReplicationPad2DBackward0(_IndexPadBackward):
    """replicate padding of the last 2 dims."""

    joined = "ReplicationPad2DBackwardBackward0"
    __slots__ = ()


class ReplicationPad3DBackward0(_IndexPadBackward):
    """replicate padding of the last 3 dims."""

    joined = "ReplicationPad3DBackwardBackward0"
    __slots__ = ()


class CopySlices(_IndexPadBackward):
    """circular padding under vmap, as one gather (out of vmap it is PyTorch's copies into
    slices, `_circular_pad`, whose grad_fn is CopySlices)."""

    __slots__ = ()
    shown: ClassVar[dict] = {}


_INDEX_PAD_NODES = {
    ("reflect", 1): ReflectionPad1DBackward0, ("reflect", 2): ReflectionPad2DBackward0,
    ("reflect", 3): ReflectionPad3DBackward0,
    ("replicate", 1): ReplicationPad1DBackward0, ("replicate", 2): ReplicationPad2DBackward0,
    ("replicate", 3): ReplicationPad3DBackward0,
    **{("circular", dims): CopySlices for dims in (1, 2, 3)},
}


def _pad_positions(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each padded position, the input position it copies."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)
_INDEX_PAD_MODES = ("reflect", "replicate", "circular")


def _check_index_pad(input: Tensor, pad, mode: str) -> None:
    padded_dims = len(pad) // 2
    if len(pad) % 2 or padded_dims not in (1, 2, 3) or input.ndim not in (padded_dims + 1, padded_dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor."
        )
    for index in range(padded_dims):
        dim = input.ndim - 1 - index
        before, after = pad[2 * index], pad[2 * index + 1]
        size = input.shape[dim]
        too_large = max(before, after) >= size if mode == "reflect" else max(before, after) > size
        if too_large or (mode == "replicate" and size == 0):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({before}, {after}) at dimension {dim} of input "
                f"[{', '.join(map(str, input.shape))}]"
            )


@register(torch_name=_torch_name("pad"))
def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last len(pad) // 2 dims: pad = (last_before, last_after, previous_before, ...).

    mode 'constant' fills with `value` (negative amounts crop); 'reflect' mirrors without
    repeating the edge; 'replicate' repeats the edge; 'circular' wraps around.
    """
    given = tuple(int(amount) for amount in pad)
    if mode == "constant":
        return apply(ConstantPadNdBackward0, input, pairs=_pad_pairs(pad, input.ndim),
                     value=0 if value is None else value, arguments=(given,))
    if mode not in _INDEX_PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    _check_index_pad(input, pad, mode)
    if mode == "circular" and not vmap_state.depth:  # (under vmap: the gather below, which has a rule)
        return _circular_pad(input, given)
    padded_dims = len(pad) // 2
    positions = []
    for dim in range(input.ndim - padded_dims, input.ndim):
        index = input.ndim - 1 - dim
        positions.append(_pad_positions(input.shape[dim], pad[2 * index], pad[2 * index + 1], mode))
    return apply(_INDEX_PAD_NODES[(mode, padded_dims)], input, positions=tuple(positions), arguments=(given,))


def _circular_pad(input: Tensor, pad: tuple) -> Tensor:
    """Circular padding as PyTorch's kernel does it, so with its graph (CopySlices over slices):
    the input copied into the middle of a new tensor, then, dim by dim from the last, the
    wrapped parts copied from the result itself (corners written more than once)."""
    from ..shape.reorder import slice_along  # (a later module of the package)

    padded_dims = len(pad) // 2
    shape = list(input.shape)
    for index in range(padded_dims):
        shape[input.ndim - 1 - index] += pad[2 * index] + pad[2 * index + 1]
    out = Tensor._make(np.zeros(shape, dtype=input._data.dtype))
    inner, source = out, input
    for index in range(padded_dims):
        dim, before, after = input.ndim - 1 - index, pad[2 * index], pad[2 * index + 1]
        inner = slice_along(inner, dim, max(before, 0), shape[dim] - max(after, 0))
        source = slice_along(source, dim, max(-before, 0), input.shape[dim] - max(-after, 0))
    inner.copy_(source)
    for index in range(padded_dims):
        dim, before, after = input.ndim - 1 - index, pad[2 * index], pad[2 * index + 1]
        if before > 0:
            end = shape[dim] - max(after, 0)
            slice_along(out, dim, 0, before).copy_(slice_along(out, dim, end - before, end))
        if after > 0:
            start = max(before, 0)
            written = slice_along(out, dim, shape[dim] - after, shape[dim])
            written.copy_(slice_along(out, dim, start, start + after))
    return out
