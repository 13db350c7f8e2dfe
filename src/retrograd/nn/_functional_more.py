"""More of `nn.functional`, written with the existing ops (their gradients come from those):
3-d pooling and convolution, unpooling, alpha dropout, Gumbel-softmax, local response
normalisation, margin losses, pdist, embedding_bag, affine_grid and grid_sample.

Note [Separable 3-d pooling]
    A 3-d box is the product of an (H, W) rectangle and a depth interval, and max, mean and
    sum over a product set can be taken one factor at a time. So the 3-d pools run the 2-d
    pool over (H, W) for every depth, then a (1, kD) 2-d pool over depth. Padding, ceil_mode,
    count_include_pad and the divisor factor the same way, so the values are PyTorch's.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .._tensor import Tensor

__all__ = [
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "affine_grid",
    "alpha_dropout",
    "avg_pool3d",
    "conv3d",
    "embedding_bag",
    "feature_alpha_dropout",
    "grid_sample",
    "gumbel_softmax",
    "linear_cross_entropy",
    "local_response_norm",
    "lp_pool3d",
    "max_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "pdist",
    "triplet_margin_with_distance_loss",
]


def _rg():
    import retrograd

    return retrograd


def _F():
    from . import functional

    return functional


def _triple(value, name: str = "value") -> tuple:
    if isinstance(value, numbers.Integral):
        return (int(value),) * 3
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * 3
    if len(value) != 3:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 3 values")
    return value


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


# ---------------------------------------------------------------------------
# Pooling with indices, unpooling


def adaptive_max_pool1d_with_indices(input, output_size, return_indices: bool = False):
    """adaptive_max_pool1d, always returning (values, indices)."""
    return _F().adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices: bool = False):
    """adaptive_max_pool2d, always returning (values, indices)."""
    return _F().adaptive_max_pool2d(input, output_size, True)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, count: int, name: str):
    def many(value):
        return (int(value),) * count if isinstance(value, numbers.Integral) else tuple(int(v) for v in value)

    kernel = many(kernel_size)
    stride = kernel if stride is None else many(stride)
    padding = many(padding)
    spatial = input.shape[-count:]
    size = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(spatial, stride, padding, kernel))
    if output_size is not None:
        size = tuple(int(s) for s in tuple(output_size)[-count:])
    if indices.shape != input.shape:
        raise RuntimeError(f"{name}(): Expected shape of indices to be same as that of the input tensor")
    lead = input.shape[:-count]
    plane = int(np.prod(size))
    flat_input = input.reshape(*lead, -1)
    flat_indices = indices.reshape(*lead, -1)
    if flat_indices.numel() and (int(flat_indices.max()) >= plane or int(flat_indices.min()) < 0):
        raise RuntimeError(
            f"Found an invalid max index: {int(flat_indices.max())} (output volumes are of size {plane}"
        )
    zeros = _rg().zeros(*lead, plane, dtype=input.dtype)
    return zeros.scatter(-1, flat_indices, flat_input).reshape(*lead, *size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value back at the position its max came from (zeros elsewhere)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value back at the position its max came from (zeros elsewhere)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value back at the position its max came from (zeros elsewhere)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


# ---------------------------------------------------------------------------
# 3-d pooling (see Note [Separable 3-d pooling]) and convolution


def _batched_5d(input, name: str):
    if input.ndim not in (4, 5):
        raise RuntimeError(
            f"{name}: Expected 4D or 5D (batch mode) tensor for input, but got: "
            f"[{', '.join(map(str, input.shape))}]"
        )
    return (input.unsqueeze(0), True) if input.ndim == 4 else (input, False)


def _separable(input, name: str, plane_pool, depth_pool):
    """plane_pool((N, C*D, H, W)) then depth_pool((N, C*H'*W', 1, D)) on a 5-d input."""
    x, unbatched = _batched_5d(input, name)
    n, c, d, h, w = x.shape
    planes = plane_pool(x.reshape(n, c * d, h, w))
    h2, w2 = planes.shape[-2:]
    columns = planes.reshape(n, c, d, h2 * w2).transpose(2, 3).reshape(n, c * h2 * w2, 1, d)
    depth = depth_pool(columns)
    d2 = depth.shape[-1]
    result = depth.reshape(n, c, h2, w2, d2).permute(0, 1, 4, 2, 3)
    return result.squeeze(0) if unbatched else result


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean over each (kD, kH, kW) box of a (N, C, D, H, W) input."""
    F = _F()
    kernel = _triple(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () else _triple(stride, "stride")
    padding = _triple(padding, "padding")
    divisor = 1 if divisor_override is not None else None
    result = _separable(
        input, "avg_pool3d",
        lambda x: F.avg_pool2d(x, kernel[1:], stride[1:], padding[1:], ceil_mode, count_include_pad, divisor),
        lambda x: F.avg_pool2d(x, (1, kernel[0]), (1, stride[0]), (0, padding[0]), ceil_mode,
                               count_include_pad, divisor),
    )
    return result / divisor_override if divisor_override is not None else result


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The max over each (kD, kH, kW) box of a (N, C, D, H, W) input (values only)."""
    if return_indices:
        raise NotImplementedError("retrograd's max_pool3d does not return indices yet")
    F = _F()
    kernel = _triple(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () else _triple(stride, "stride")
    padding, dilation = _triple(padding, "padding"), _triple(dilation, "dilation")
    return _separable(
        input, "max_pool3d",
        lambda x: F.max_pool2d(x, kernel[1:], stride[1:], padding[1:], dilation[1:], ceil_mode),
        lambda x: F.max_pool2d(x, (1, kernel[0]), (1, stride[0]), (0, padding[0]), (1, dilation[0]),
                               ceil_mode),
    )


def _adaptive_sizes(output_size, input) -> tuple:
    sizes = (output_size,) * 3 if isinstance(output_size, numbers.Integral) else tuple(output_size)
    return tuple(int(s) if s is not None else size for s, size in zip(sizes, input.shape[-3:]))


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of a (N, C, D, H, W) input to `output_size`."""
    F = _F()
    out = _adaptive_sizes(output_size, input)
    return _separable(input, "adaptive_avg_pool3d",
                      lambda x: F.adaptive_avg_pool2d(x, out[1:]),
                      lambda x: F.adaptive_avg_pool2d(x, (1, out[0])))


def adaptive_max_pool3d(input, output_size, return_indices: bool = False):
    """Max pooling of a (N, C, D, H, W) input to `output_size` (values only)."""
    if return_indices:
        raise NotImplementedError("retrograd's adaptive_max_pool3d does not return indices yet")
    F = _F()
    out = _adaptive_sizes(output_size, input)
    return _separable(input, "adaptive_max_pool3d",
                      lambda x: F.adaptive_max_pool2d(x, out[1:]),
                      lambda x: F.adaptive_max_pool2d(x, (1, out[0])))


def lp_pool3d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The p-norm over each (kD, kH, kW) box: (sum x**p) ** (1/p)."""
    kernel = _triple(kernel_size, "kernel_size")
    volume = kernel[0] * kernel[1] * kernel[2]
    averaged = avg_pool3d(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (averaged.sign() * averaged.abs().relu()).mul(volume).pow(1.0 / norm_type)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """3-d cross-correlation: one conv2d per kernel depth, summed (see the module note)."""
    F = _F()
    x, unbatched = _batched_5d(input, "conv3d")
    stride, dilation = _triple(stride, "stride"), _triple(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            totals = [d * (k - 1) for k, d in zip(weight.shape[2:], dilation)]
            if any(total % 2 for total in totals):
                raise NotImplementedError("retrograd's conv3d supports padding='same' for odd kernels only")
            padding = tuple(total // 2 for total in totals)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
    padding = _triple(padding, "padding")
    depth_kernel = weight.shape[2]
    if padding[0]:
        x = F.pad(x, (0, 0, 0, 0, padding[0], padding[0]))
    n, c, depth, h, w = x.shape
    out_depth = (depth - dilation[0] * (depth_kernel - 1) - 1) // stride[0] + 1
    if out_depth < 1:
        raise RuntimeError("Calculated output depth is too small: the kernel is larger than the padded input")
    total = None
    for tap in range(depth_kernel):
        positions = np.arange(out_depth) * stride[0] + tap * dilation[0]
        slices = x.index_select(2, Tensor._make(positions.astype(np.int64)))
        planes = slices.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, h, w)
        part = F.conv2d(planes, weight[:, :, tap], None, stride[1:], padding[1:], dilation[1:], groups)
        total = part if total is None else total + part
    result = total.reshape(n, out_depth, *total.shape[1:]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        result = result + bias.reshape(1, -1, 1, 1, 1)
    return result.squeeze(0) if unbatched else result


# ---------------------------------------------------------------------------
# Random regularisers


_SELU_NEGATIVE = -1.7580993408473766  # -scale * alpha of SELU: the value alpha dropout drops to


def _alpha_dropout(input, p: float, training: bool, inplace: bool, feature: bool):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    rg = _rg()
    if p == 1:
        result = input * 0
    else:
        shape = input.shape if not feature else (*input.shape[:2], *([1] * (input.ndim - 2)))
        keep = (rg.rand(*shape, dtype=input.dtype) < 1 - p).to(input.dtype)
        a = 1.0 / math.sqrt((_SELU_NEGATIVE ** 2 * p + 1) * (1 - p))
        shift = (keep - 1) * (_SELU_NEGATIVE * a) + _SELU_NEGATIVE * a * p
        result = input * (keep * a) + shift
    return input.copy_(result) if inplace else result


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout that keeps SELU's mean and variance: dropped elements take SELU's negative limit."""
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Alpha dropout of whole channels."""
    return _alpha_dropout(input, p, training, inplace, feature=True)


def gumbel_softmax(logits, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1):
    """A sample from the Gumbel-softmax distribution (one-hot with hard=True, with the
    gradient of the soft sample)."""
    rg, F = _rg(), _F()
    uniform = rg.rand(*logits.shape, dtype=logits.dtype).clamp(min=np.finfo(logits._data.dtype).tiny)
    gumbels = -(-uniform.log()).log()
    soft = F.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    one_hot = rg.zeros_like(logits).scatter(dim, index, rg.ones_like(index, dtype=logits.dtype))
    return one_hot - soft.detach() + soft


# ---------------------------------------------------------------------------
# Normalisation and distances


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """Divide each element by (k + alpha * mean of squares over `size` neighbouring channels) ** beta."""
    rg = _rg()
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    if input.ndim == 3:  # (as PyTorch composes it: the squares average-pooled across channels)
        F = _F()
        squares = F.pad((input * input).unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        divisor = F.avg_pool2d(squares, (size, 1), stride=1).squeeze(1)
        return input / divisor.mul(alpha).add(k).pow(beta)
    squared = input * input
    channels = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    pad_shape = list(input.shape)
    pieces = []
    if before:
        pad_shape[1] = before
        pieces.append(rg.zeros(*pad_shape, dtype=input.dtype))
    pieces.append(squared)
    if after:
        pad_shape[1] = after
        pieces.append(rg.zeros(*pad_shape, dtype=input.dtype))
    padded = rg.cat(pieces, 1) if len(pieces) > 1 else squared
    window = padded.narrow(1, 0, channels)
    for offset in range(1, size):
        window = window + padded.narrow(1, offset, channels)
    divisor = (window / size * alpha + k).pow(beta)
    return input / divisor


def pdist(input, p: float = 2):
    """The p-norm distance between every pair of rows i < j, in row-major order."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    rows = input.shape[0]
    first, second = np.triu_indices(rows, 1)
    if first.size == 0:
        return input.new_zeros(0)
    left = input.index_select(0, Tensor._make(first.astype(np.int64)))
    right = input.index_select(0, Tensor._make(second.astype(np.int64)))
    return (left - right).norm(p, dim=1)


# ---------------------------------------------------------------------------
# Losses


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                      reduce=None, reduction: str = "mean"):
    """The multi-class hinge loss: mean over classes j != y of max(0, margin - x[y] + x[j]) ** p
    (times weight[y]); one node, MultiMarginLossBackward0, as PyTorch's."""
    from ..ops._table import apply
    from ..ops.nn.loss import MultiMarginLossBackward0, _legacy_reduction

    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_multi_margin(input, target, weight)
    weights = None if weight is None else weight._data
    return apply(MultiMarginLossBackward0, input, target=target._data.astype(np.int64), p=p,
                 margin=float(margin), weight=weights, reduction=reduction)


def _check_multi_margin(input, target, weight) -> None:
    """PyTorch's checks of multi_margin_loss's arguments, in its order."""
    shape = tuple(input.shape)
    if len(shape) > 2 or (len(shape) == 2 and shape[1] == 0) or (len(shape) < 2 and input.numel() == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
            f"[{', '.join(map(str, shape))}]"
        )
    samples, classes = (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0] if shape else 1)
    if target.ndim > 1 or target.numel() != samples:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
            f"samples (batch size). Expected target size [{samples}], but got "
            f"[{', '.join(map(str, target.shape))}]. Input has shape [{', '.join(map(str, shape))}]."
        )
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(
            f"inconsistent weight size, expected {classes} but got [{', '.join(map(str, weight.shape))}]"
        )
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {_scalar_type_name(target.dtype)}")
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_type_name(input.dtype)} but found "
                           f"{_scalar_type_name(weight.dtype)}")
    labels = target._data
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise RuntimeError("target out of range")


def _scalar_type_name(dtype) -> str:
    from .._dtype import scalar_type_name

    return scalar_type_name(dtype)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Hinge loss between every target class (listed in `target` up to the first -1) and every
    other class, averaged over the classes."""
    rg = _rg()
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    unbatched = input.ndim <= 1
    x = input.reshape(1, -1) if unbatched else input
    labels = target._data.reshape(x.shape)
    classes = x.shape[1]
    is_target = np.zeros(x.shape, dtype=bool)
    for row, listed in enumerate(labels):
        for label in listed:
            if label < 0:
                break
            is_target[row, label] = True
    pairs = Tensor._make(is_target[:, :, None] & ~is_target[:, None, :])
    hinge = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)
    loss = rg.where(pairs, hinge, rg.zeros_like(hinge)).sum((1, 2)) / classes
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean"):
    """max(d(anchor, positive) - d(anchor, negative) + margin, 0) with a distance of your choice."""
    rg = _rg()
    distance = distance_function if distance_function is not None else _F().pairwise_distance
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:
        negative_distance = rg.minimum(negative_distance, distance(positive, negative))
    loss = (margin + positive_distance - negative_distance).clamp(min=0)
    return _reduce(loss, reduction)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction: str = "mean", ignore_index=None, label_smoothing: float = 0.0,
                         options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target)."""
    F = _F()
    logits = F.linear(input, linear_weight, linear_bias)
    return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                           ignore_index=-100 if ignore_index is None else ignore_index,
                           label_smoothing=label_smoothing)


# ---------------------------------------------------------------------------
# Embedding bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False, padding_idx=None):
    """The sum, mean or max of the embeddings of each bag of indices (rows of a 2-d input, or
    runs of a 1-d input starting at `offsets`); entries equal to padding_idx are left out."""
    rg, F = _rg(), _F()
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported "
            f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
        )
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a "
                             "mini-batch of fixed length sequences.")
        length = input.shape[1]
        starts = list(range(0, input.numel(), length)) if length else [0] * input.shape[0]
        flat = input.reshape(-1)
        weights = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        starts = [int(value) for value in offsets.tolist()]
        if include_last_offset:
            starts = starts[:-1]
        flat, weights = input, per_sample_weights
        length = None
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    vectors = F.embedding(flat, weight, max_norm=max_norm, norm_type=norm_type)
    if weights is not None:
        vectors = vectors * weights.unsqueeze(1)
    count = flat.shape[0]
    ends = [start + length for start in starts] if length is not None else [*starts[1:], count]
    if input.ndim == 1 and include_last_offset:
        ends[-1] = int(offsets.tolist()[-1])
    keep = flat._data != padding_idx if padding_idx is not None else np.ones(count, dtype=bool)
    bags = []
    for start, end in zip(starts, ends):
        rows = np.flatnonzero(keep[start:end]) + start
        if rows.size == 0:
            bags.append(rg.zeros(weight.shape[1], dtype=weight.dtype))
            continue
        chosen = vectors.index_select(0, Tensor._make(rows.astype(np.int64)))
        if mode == "sum":
            bags.append(chosen.sum(0))
        elif mode == "mean":
            bags.append(chosen.mean(0))
        else:
            bags.append(chosen.amax(0))
    if not bags:
        return rg.zeros(0, weight.shape[1], dtype=weight.dtype)
    return rg.stack(bags)


# ---------------------------------------------------------------------------
# Spatial transformers: affine_grid and grid_sample


def _resolve_align_corners(align_corners, name: str) -> bool:
    if align_corners is None:
        warnings.warn(
            "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
            "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
            f"documentation of grid_sample for details. ({name})",
            UserWarning,
            stacklevel=3,
        )
        return False
    return bool(align_corners)


def _base_coordinates(steps: int, align_corners: bool, dtype) -> Tensor:
    rg = _rg()
    if steps <= 1:
        return rg.zeros(max(steps, 0), dtype=dtype)
    values = rg.linspace(-1.0, 1.0, steps, dtype=dtype)
    return values if align_corners else values * ((steps - 1) / steps)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of an affine transform `theta` (N x 2 x 3 or N x 3 x 4) for an output
    of `size` (N, C, H, W) or (N, C, D, H, W), in grid_sample's [-1, 1] coordinates."""
    rg = _rg()
    align = _resolve_align_corners(align_corners, "affine_grid")
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {list(theta.shape)}.")
        n, _, h, w = size
        xs = _base_coordinates(w, align, theta.dtype).reshape(1, w).expand(h, w)
        ys = _base_coordinates(h, align, theta.dtype).reshape(h, 1).expand(h, w)
        base = rg.stack([xs, ys, rg.ones(h, w, dtype=theta.dtype)], -1).reshape(1, h * w, 3)
        return (base @ theta.transpose(1, 2)).reshape(n, h, w, 2)
    if len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {list(theta.shape)}.")
        n, _, d, h, w = size
        xs = _base_coordinates(w, align, theta.dtype).reshape(1, 1, w).expand(d, h, w)
        ys = _base_coordinates(h, align, theta.dtype).reshape(1, h, 1).expand(d, h, w)
        zs = _base_coordinates(d, align, theta.dtype).reshape(d, 1, 1).expand(d, h, w)
        base = rg.stack([xs, ys, zs, rg.ones(d, h, w, dtype=theta.dtype)], -1).reshape(1, d * h * w, 4)
        return (base @ theta.transpose(1, 2)).reshape(n, d, h, w, 3)
    raise NotImplementedError(
        f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
        f"Got size {size}."
    )


def _unnormalise(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coordinate + 1) / 2 * (size - 1)
    return ((coordinate + 1) * size - 1) / 2


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros", align_corners=None):
    """Sample a (N, C, H, W) input at the (x, y) positions of a (N, Hout, Wout, 2) grid in
    [-1, 1] coordinates, bilinearly or at the nearest pixel; outside positions read zeros
    (`padding_mode='zeros'`) or the nearest edge (`'border'`). 2-d inputs only."""
    rg = _rg()
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(
            f"retrograd's grid_sample supports modes 'bilinear' and 'nearest', not {mode!r}"
        )
    if padding_mode not in ("zeros", "border"):
        raise NotImplementedError(
            f"retrograd's grid_sample supports padding modes 'zeros' and 'border', not {padding_mode!r}"
        )
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2:
        raise NotImplementedError("retrograd's grid_sample supports 4-d input with a (N, H, W, 2) grid")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    align = _resolve_align_corners(align_corners, "grid_sample")
    n, channels, height, width = input.shape
    out_h, out_w = grid.shape[1:3]
    x = _unnormalise(grid[..., 0], width, align)
    y = _unnormalise(grid[..., 1], height, align)
    if padding_mode == "border":
        x = x.clamp(0, width - 1)
        y = y.clamp(0, height - 1)
    flat_input = input.reshape(n, channels, height * width)

    def read(column: np.ndarray, row: np.ndarray) -> Tensor:
        """input[n, :, row, column] where inside, 0 outside: shape (N, C, Hout, Wout)."""
        inside = (column >= 0) & (column < width) & (row >= 0) & (row < height)
        positions = np.where(inside, row * width + column, 0).astype(np.int64).reshape(n, 1, -1)
        index = Tensor._make(np.broadcast_to(positions, (n, channels, positions.shape[-1])).copy())
        values = flat_input.gather(2, index).reshape(n, channels, out_h, out_w)
        mask = Tensor._make(inside.reshape(n, 1, out_h, out_w))
        return rg.where(mask, values, rg.zeros_like(values))

    if mode == "nearest":
        column = np.rint(x._data).astype(np.int64)
        row = np.rint(y._data).astype(np.int64)
        return read(column, row)
    left = np.floor(x._data).astype(np.int64)
    top = np.floor(y._data).astype(np.int64)
    right_weight = (x - Tensor._make(left.astype(x._data.dtype))).unsqueeze(1)
    bottom_weight = (y - Tensor._make(top.astype(y._data.dtype))).unsqueeze(1)
    left_weight, top_weight = 1 - right_weight, 1 - bottom_weight
    return (read(left, top) * left_weight * top_weight
            + read(left + 1, top) * right_weight * top_weight
            + read(left, top + 1) * left_weight * bottom_weight
            + read(left + 1, top + 1) * right_weight * bottom_weight)
