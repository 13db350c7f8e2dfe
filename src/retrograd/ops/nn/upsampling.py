"""Resampling: interpolate and the deprecated upsample functions."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import ClassVar

import numpy as np

from .._saved_shown import kept_arguments
from .._table import apply, register
from ._common import _torch_name, _tuple
from ._maps import _SeparableMapBackward
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

# Named as PyTorch names each mode's grad_fn.


def _shown(spatial: int, interpolating: bool) -> dict:
    """What PyTorch's resampling node shows: the output size, the scale factor per dim as the
    call gave it (None when it gave a size or asked to recompute it), whether corners align
    (the interpolating modes) and the input's sizes. The call keeps them in this order."""
    scales = ("scales",) if spatial == 1 else ("scales_h", "scales_w")
    names = ("output_size", *scales, *(("align_corners",) if interpolating else ()))
    return {**kept_arguments(*names), "self_sym_sizes": lambda node: node.shape}


class UpsampleNearest1DBackward0(_SeparableMapBackward):
    """nearest resampling of the last dim."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(1, False)


class UpsampleNearest2DBackward0(_SeparableMapBackward):
    """nearest resampling of the last two dims."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(2, False)


class UpsampleNearestExact1DBackward0(_SeparableMapBackward):
    """nearest-exact resampling of the last dim."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(1, False)


class UpsampleNearestExact2DBackward0(_SeparableMapBackward):
    """nearest-exact resampling of the last two dims."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(2, False)


class UpsampleLinear1DBackward0(_SeparableMapBackward):
    """linear resampling of the last dim."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(1, True)


class UpsampleLinear2DBackward0(_SeparableMapBackward):
    """linear resampling of the last two dims."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(2, True)


class UpsampleBilinear1DBackward0(_SeparableMapBackward):
    """bilinear resampling of the last dim."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(1, True)


class UpsampleBilinear2DBackward0(_SeparableMapBackward):
    """bilinear resampling of the last two dims."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(2, True)


class UpsampleBilinear2DAaBackward0(_SeparableMapBackward):
    """antialiased bilinear resampling of the last two dims (a tent as wide as the shrink)."""

    __slots__ = ()
    shown: ClassVar[dict] = _shown(2, True)


_RESAMPLE_NODES = {
    ("nearest", 1): UpsampleNearest1DBackward0, ("nearest", 2): UpsampleNearest2DBackward0,
    ("nearest-exact", 1): UpsampleNearestExact1DBackward0,
    ("nearest-exact", 2): UpsampleNearestExact2DBackward0,
    ("linear", 1): UpsampleLinear1DBackward0, ("linear", 2): UpsampleLinear2DBackward0,
    ("bilinear", 1): UpsampleBilinear1DBackward0, ("bilinear", 2): UpsampleBilinear2DBackward0,
}


# ---------------------------------------------------------------------------
# Resampling


def _resample_entries(in_size: int, out_size: int, mode: str, align_corners: bool, scale: float):
    """The (out, in) matrix that resamples one dim, as (rows, columns, weights): one per row for
    nearest; for linear the two neighbours of each output position with weights 1 - w and w,
    kept even where a weight is 0 or both are one input (the last edge, or a size that does
    not change), as PyTorch's kernel adds both terms: its backward then makes NaN of 0 * Inf
    where PyTorch's does."""
    target = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        source = np.minimum(np.floor((target + offset) * scale).astype(np.int64), in_size - 1)
        return target, source, np.ones(out_size)
    if out_size == in_size:
        low = high = target
        weight = np.zeros(out_size)
    else:
        if align_corners:
            position = target * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
        else:
            position = np.maximum((target + 0.5) * scale - 0.5, 0.0)
        low = np.minimum(np.floor(position).astype(np.int64), in_size - 1)
        high = np.minimum(low + 1, in_size - 1)
        weight = np.clip(position - low, 0.0, 1.0)
    return np.concatenate([target, target]), np.concatenate([low, high]), np.concatenate([1 - weight, weight])


def _antialiased_entries(in_size: int, out_size: int, scale: float):
    """The (out, in) matrix of antialiased bilinear resampling of one dim, as (rows, columns,
    weights): each output averages the inputs under a triangle filter centred on it, widened by
    the scale when shrinking (so every input contributes), clipped at the edges and normalised
    to sum to 1."""
    widened = scale >= 1.0
    support = scale if widened else 1.0
    stretch = 1.0 / scale if widened else 1.0
    rows, columns, weights = [], [], []
    for target in range(out_size):
        centre = scale * (target + 0.5)
        first = max(int(centre - support + 0.5), 0)
        last = min(int(centre + support + 0.5), in_size)
        sources = np.arange(first, last)
        tent = np.maximum(1.0 - np.abs((sources - centre + 0.5) * stretch), 0.0)
        total = tent.sum()
        rows += [target] * len(sources)
        columns += list(sources)
        weights += list(tent / total if total != 0 else tent)
    return np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64), np.array(weights)


def _resample_matrix(entries, in_size: int, out_size: int, dtype) -> np.ndarray:
    rows, columns, weights = entries
    matrix = np.zeros((out_size, in_size), dtype=dtype)
    np.add.at(matrix, (rows, columns), weights.astype(dtype))
    return matrix


# The spatial dims each mode handles.
_RESAMPLE_DIMS = {
    "nearest": (1, 2), "nearest-exact": (1, 2), "linear": (1,), "bilinear": (2,), "area": (1, 2),
}


@register(torch_name=_torch_name("interpolate"), floating=True)
def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):
    """Resample the spatial dims (after batch and channel) to `size` or by `scale_factor`.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-d input), 'bilinear' (4-d), 'area'.
    `antialias` (bilinear) averages under a filter as wide as the shrink factor, so that
    downsampling does not alias; `recompute_scale_factor` computes the kernel's scale from the
    output size instead of taking `scale_factor`.
    """
    if mode not in _RESAMPLE_DIMS:
        raise NotImplementedError(f"interpolate: mode '{mode}' is not supported")
    if align_corners is not None and mode not in ("linear", "bilinear"):
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | "
            "bicubic | trilinear"
        )
    if antialias and not (mode == "bilinear" and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
                         "requires a 4-D tensor as input")
    spatial = input.ndim - 2
    if spatial not in _RESAMPLE_DIMS[mode]:
        needed = " or ".join(f"{d + 2}D" for d in _RESAMPLE_DIMS[mode])
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {needed} input")
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "only one of size or scale_factor should be defined" if size is not None
            else "either size or scale_factor should be defined"
        )
    in_sizes = input.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        out_sizes = _tuple(size, spatial, "size")
        scales = [i / o for i, o in zip(in_sizes, out_sizes)]
        factors_shown = (None,) * spatial
    else:
        if isinstance(scale_factor, numbers.Number):
            factors = (scale_factor,) * spatial
        else:
            factors = tuple(scale_factor)
        out_sizes = tuple(math.floor(i * f) for i, f in zip(in_sizes, factors))
        factors_shown = (None,) * spatial if recompute_scale_factor else tuple(map(float, factors))
        if recompute_scale_factor:
            scales = [i / o for i, o in zip(in_sizes, out_sizes)]
        else:
            scales = [1.0 / f for f in factors]
    if mode == "area":
        pool = adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d
        return pool(input, out_sizes if spatial == 2 else out_sizes[0])
    if antialias:
        if align_corners:
            scales = [(i - 1) / (o - 1) if o > 1 else 0.0 for i, o in zip(in_sizes, out_sizes)]
        node = UpsampleBilinear2DAaBackward0
        entries = tuple(_antialiased_entries(i, o, s) for i, o, s in zip(in_sizes, out_sizes, scales))
    else:
        node = _RESAMPLE_NODES[(mode, spatial)]
        entries = tuple(_resample_entries(i, o, mode, bool(align_corners), s)
                        for i, o, s in zip(in_sizes, out_sizes, scales))
    dtype = input._data.dtype
    entries = tuple(tuple(part.astype(dtype) if part.dtype.kind == "f" else part for part in each)
                    for each in entries)
    matrices = tuple(_resample_matrix(each, i, o, dtype) for each, i, o in zip(entries, in_sizes, out_sizes))
    interpolating = mode not in ("nearest", "nearest-exact")
    arguments = (tuple(out_sizes), *factors_shown, *((bool(align_corners),) if interpolating else ()))
    return apply(node, input, matrices=matrices, entries=entries, arguments=arguments)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """Deprecated spelling of interpolate."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='nearest')."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
