"""Convolution (and its transpose) over 1 or 2 spatial dims, and unfold/fold."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from ...autograd.graph import Node
from .._saved_shown import ShownAsPyTorch
from .._table import apply, register
from .._tangents import LINEAR, MultilinearPlus
from ..linalg import matmul
from ._common import _c_type_name, _torch_name, _tuple
from ._maps import _col2im_array, _columns_array, _window_view, col2im, im2col
from .padding import ConstantPadNdBackward0, constant_pad

# ---------------------------------------------------------------------------
# Convolution


def _spatial_pairs(pairs) -> tuple:
    """(before, after) pairs for the leading (batch, channel) dims and the spatial ones."""
    return ((0, 0), (0, 0), *pairs)


def _last(name: str):
    """A geometry value as PyTorch's node shows it: one entry per spatial dim of the call
    (the leading height-1 entry of a 1-d convolution dropped)."""
    return lambda node: getattr(node, name)[-node._spatial_dims:]


class ConvolutionBackward0(ShownAsPyTorch, Node):
    """Convolution (or its transpose) over 1 or 2 spatial dims, by im2col and matmul.

    Internally 1-d is 2-d with height 1. `padding` holds (before, after) per spatial dim;
    the node shows it as PyTorch's does, one number per dim (the before side; 'same' padding
    with an odd total pads the input first, as PyTorch, so the two sides are equal here),
    and `stride`, `dilation` and `output_padding` per spatial dim of the call.
    Forward: windows of the padded input contracted with the weight (per group);
    transposed: the input contracted with the weight into windows, summed by col2im, then
    cropped. The backward is the same few differentiable maps run the other way.
    """
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = MultilinearPlus(2)
    __slots__ = ("_spatial_dims", "bias_sym_sizes_opt", "dilation", "groups", "output_padding", "padding",
                 "stride", "transposed")
    saved_names = ("input", "weight")
    shown: ClassVar[dict] = {
        "stride": _last("stride"), "dilation": _last("dilation"), "output_padding": _last("output_padding"),
        "padding": lambda node: tuple(before for before, _ in node.padding[-node._spatial_dims:]),
    }

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, transposed, output_padding):
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups
        ctx.transposed, ctx.output_padding = transposed, output_padding
        ctx._spatial_dims = x._data.ndim - 2
        ctx.bias_sym_sizes_opt = (0,) if bias is None else bias._data.shape
        ctx.save_for_backward(x, weight)
        data, kernel = _as_2d(x._data), _as_2d(weight._data)
        if transposed:
            result = _transposed_convolution_array(data, kernel, stride, padding, dilation, groups,
                                                   output_padding)
        else:
            result = _convolution_array(data, kernel, stride, padding, dilation, groups)
        if bias is not None:
            result += bias._data.reshape(-1, 1, 1)
        return result.reshape(*result.shape[:2], *result.shape[4 - x._data.ndim + 2:])

    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    def backward(self, grad):
        x, weight = self._saved_tensors
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        if not isinstance(grad, Tensor):
            grads = self._transposed_array_grads if self.transposed else self._array_grads
            return grads(x._data, weight._data, grad, needs_x, needs_weight, needs_bias)
        x4, weight4, grad4 = _tensor_2d(x), _tensor_2d(weight), _tensor_2d(grad)
        if self.transposed:
            grad_x, grad_weight = self._transposed_grads(x4, weight4, grad4, needs_x, needs_weight)
        else:
            grad_x, grad_weight = self._grads(x4, weight4, grad4, needs_x, needs_weight)
        grad_bias = grad.sum((0, *range(2, grad.ndim))) if needs_bias else None
        return (
            grad_x.reshape(x.shape) if grad_x is not None else None,
            grad_weight.reshape(weight.shape) if grad_weight is not None else None,
            grad_bias,
        )

    def _array_grads(self, x, weight, grad, needs_x, needs_weight, needs_bias):
        """The adjoints of forward's product per sample and group, in NumPy (no graph is built):
        by the weight, the gradient times the input's columns summed over samples; by the
        input, the weight's transpose times the gradient, summed back into place by col2im."""
        x4, weight4, grad4 = _as_2d(x), _as_2d(weight), _as_2d(grad)
        groups = self.groups
        batch, channels = x4.shape[:2]
        out_channels, group_channels, kernel_h, kernel_w = weight4.shape
        out_h, out_w = grad4.shape[2:]
        grad_g = grad4.reshape(batch, groups, out_channels // groups, out_h * out_w)
        weight_g = weight4.reshape(groups, out_channels // groups, group_channels * kernel_h * kernel_w)
        grad_x = grad_weight = None
        if needs_x:
            cols = np.matmul(weight_g.transpose(0, 2, 1), grad_g)
            cols = cols.reshape(batch, channels, kernel_h, kernel_w, out_h, out_w)
            padded_size = tuple(s + b + a for s, (b, a) in zip(x4.shape[2:], self.padding))
            image = _col2im_array(cols, padded_size, self.stride, self.dilation)
            (top, bottom), (left, right) = self.padding
            grad_x = image[..., top: padded_size[0] - bottom, left: padded_size[1] - right].reshape(x.shape)
        if needs_weight:
            cols, _ = _columns(x4, (kernel_h, kernel_w), self.stride, self.padding, self.dilation, groups)
            per_sample = np.matmul(grad_g, cols.transpose(0, 1, 3, 2))
            grad_weight = per_sample.sum(0).reshape(weight.shape)
        return grad_x, grad_weight, _bias_grad(grad4) if needs_bias else None

    def _transposed_array_grads(self, x, weight, grad, needs_x, needs_weight, needs_bias):
        """The adjoints of the transposed forward, in NumPy: the gradient's columns (im2col of
        the gradient padded back to the uncropped size) times the weight, per sample and group."""
        x4, weight4, grad4 = _as_2d(x), _as_2d(weight), _as_2d(grad)
        groups = self.groups
        batch, in_channels = x4.shape[:2]
        _, group_out, kernel_h, kernel_w = weight4.shape
        cols, (out_h, out_w) = _columns(grad4, (kernel_h, kernel_w), self.stride, self.padding, self.dilation,
                                        groups)
        height, width = x4.shape[2:]
        if (out_h, out_w) != (height, width):  # output padding beyond the stride: extra windows
            lead = cols.shape[:3]
            cols = cols.reshape(*lead, out_h, out_w)[..., :height, :width].reshape(*lead, -1)
        weight_g = weight4.reshape(groups, in_channels // groups, group_out * kernel_h * kernel_w)
        grad_x = grad_weight = None
        if needs_x:
            grad_x = np.matmul(weight_g, cols).reshape(x.shape)
        if needs_weight:
            x_g = x4.reshape(batch, groups, in_channels // groups, -1)
            grad_weight = np.matmul(x_g, cols.transpose(0, 1, 3, 2)).sum(0).reshape(weight.shape)
        return grad_x, grad_weight, _bias_grad(grad4) if needs_bias else None

    def _grads(self, x, weight, grad, needs_x, needs_weight):
        """Forward was out[g] = weight[g] @ columns(x)[g] over all samples at once; its adjoints."""
        groups = self.groups
        batch, channels = x.shape[:2]
        out_channels, group_channels, kernel_h, kernel_w = weight.shape
        out_h, out_w = grad.shape[2:]
        grad_g = _channels_first(grad).reshape(groups, out_channels // groups, -1)
        weight_g = weight.reshape(groups, out_channels // groups, group_channels * kernel_h * kernel_w)
        grad_x = grad_weight = None
        if needs_x:
            padded_size = tuple(s + b + a for s, (b, a) in zip(x.shape[2:], self.padding))
            cols = matmul(weight_g.transpose(-2, -1), grad_g)
            cols = cols.reshape(channels, kernel_h, kernel_w, batch, out_h, out_w).permute(3, 0, 1, 2, 4, 5)
            image = col2im(cols, padded_size, self.stride, self.dilation)
            grad_x = constant_pad(image, _spatial_pairs((-b, -a) for b, a in self.padding))
        if needs_weight:
            padded = constant_pad(x, _spatial_pairs(self.padding))
            cols = im2col(padded, (kernel_h, kernel_w), self.stride, self.dilation)
            cols = _kernel_rows_first(cols).reshape(groups, group_channels * kernel_h * kernel_w, -1)
            grad_weight = matmul(cols, grad_g.transpose(-2, -1)).transpose(-2, -1)
        return grad_x, grad_weight

    def _transposed_grads(self, x, weight, grad, needs_x, needs_weight):
        """Forward was columns[g] = weight[g]^T @ x[g], summed by col2im; its adjoints."""
        groups = self.groups
        batch, in_channels, height, width = x.shape
        _, group_out, kernel_h, kernel_w = weight.shape
        group_in = in_channels // groups
        padded = constant_pad(grad, _spatial_pairs(self.padding))
        cols = im2col(padded, (kernel_h, kernel_w), self.stride, self.dilation)
        if tuple(cols.shape[-2:]) != (height, width):  # output padding beyond the stride: extra windows
            cols = cols[..., :height, :width]
        cols = _kernel_rows_first(cols).reshape(groups, group_out * kernel_h * kernel_w, -1)
        weight_g = weight.reshape(groups, group_in, group_out * kernel_h * kernel_w)
        grad_x = grad_weight = None
        if needs_x:
            grad_x = matmul(weight_g, cols).reshape(in_channels, batch, height, width).permute(1, 0, 2, 3)
        if needs_weight:
            x_g = _channels_first(x).reshape(groups, group_in, -1)
            grad_weight = matmul(cols, x_g.transpose(-2, -1)).transpose(-2, -1)
        return grad_x, grad_weight


def _bias_grad(grad: np.ndarray) -> np.ndarray:
    """The sum over all but the channel dim of (N, C, H, W), over the samples first: whole rows
    added at once (a vectorised sum, some 4 times faster than one reduction over three axes)."""
    return grad.reshape(grad.shape[0], -1).sum(0).reshape(grad.shape[1], -1).sum(1)


def _kernel_rows_first(cols: Tensor) -> Tensor:
    """Columns (N, C, kh, kw, out_h, out_w) as (C, kh, kw, N, out_h, out_w)."""
    return cols.permute(1, 2, 3, 0, 4, 5)


def _channels_first(x: Tensor) -> Tensor:
    """(N, C, ...) as (C, N, ...): channels lead, so that all samples share one matrix product."""
    return x.transpose(0, 1)


def _as_2d(data: np.ndarray) -> np.ndarray:
    """(N, C, L) as (N, C, 1, L); (N, C, H, W) unchanged."""
    return data[:, :, None, :] if data.ndim == 3 else data


def _tensor_2d(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], x.shape[1], 1, x.shape[2]) if x.ndim == 3 else x


def _padded(data: np.ndarray, padding) -> np.ndarray:
    """`data` with zeros around its last two dims ((before, after) pairs), or itself."""
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return data
    height, width = data.shape[-2:]
    padded = np.zeros((*data.shape[:-2], top + height + bottom, left + width + right), data.dtype)
    padded[..., top: top + height, left: left + width] = data
    return padded


def _columns(data, kernel, stride, padding, dilation, groups) -> np.ndarray:
    """im2col per sample and group: (N, groups, C / groups * kh * kw, out_h * out_w), contiguous,
    and (out_h, out_w)."""
    padded = _padded(data, padding)
    batch, channels = padded.shape[:2]
    out_h, out_w = (
        (size - d * (k - 1) - 1) // s + 1 for size, k, s, d in zip(padded.shape[2:], kernel, stride, dilation)
    )
    if stride[1] == 1 and padded.flags.c_contiguous and padded.size and out_h * out_w:
        cols = _row_runs(padded, kernel, stride[0], dilation, (out_h, out_w))
    else:
        windows = _window_view(padded, kernel, stride, dilation)  # (N, C, oh, ow, kh, kw)
        cols = np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3))
    rows = channels // groups * kernel[0] * kernel[1]
    return cols.reshape(batch, groups, rows, out_h * out_w), (out_h, out_w)


def _row_runs(padded: np.ndarray, kernel, row_stride: int, dilation, out_size) -> np.ndarray:
    """The columns (N, C, kh, kw, out_h, out_w) of a contiguous input when windows move one
    element at a time along a row: each output row of a kernel position is then a contiguous
    run of the input, copied as one opaque element (NumPy copies short runs of numbers one
    inner loop each, several times slower)."""
    batch, channels, height, width = padded.shape
    out_h, out_w = out_size
    item = padded.itemsize
    runs = np.lib.stride_tricks.as_strided(
        padded.reshape(-1).view(np.uint8),
        shape=(batch, channels, kernel[0], kernel[1], out_h, out_w * item),
        strides=(channels * height * width * item, height * width * item, dilation[0] * width * item,
                 dilation[1] * item, row_stride * width * item, 1),
        writeable=False,
    )
    run = np.dtype((np.void, out_w * item))
    return np.ascontiguousarray(runs.view(run)).view(padded.dtype).reshape(
        batch, channels, *kernel, out_h, out_w)


def _convolution_array(data, kernel, stride, padding, dilation, groups):
    """Per sample and group, one product weight (out, c * kh * kw) @ columns (c * kh * kw, out_h * out_w):
    the result comes out (N, out, out_h, out_w) with no transpose."""
    batch = data.shape[0]
    out_channels, group_channels, kernel_h, kernel_w = kernel.shape
    cols, out_size = _columns(data, (kernel_h, kernel_w), stride, padding, dilation, groups)
    kernel = kernel.reshape(groups, out_channels // groups, group_channels * kernel_h * kernel_w)
    return np.matmul(kernel, cols).reshape(batch, out_channels, *out_size)


def _transposed_convolution_array(data, kernel, stride, padding, dilation, groups, output_padding):
    """Per group, weight^T @ input gives columns for all samples, which col2im sums into images."""
    batch, in_channels, height, width = data.shape
    _, group_out, kernel_h, kernel_w = kernel.shape
    group_in = in_channels // groups
    kernel = kernel.reshape(groups, group_in, group_out * kernel_h * kernel_w)
    inputs = np.ascontiguousarray(data.transpose(1, 0, 2, 3)).reshape(groups, group_in, -1)
    cols = np.matmul(kernel.transpose(0, 2, 1), inputs)
    cols = cols.reshape(groups * group_out, kernel_h, kernel_w, batch, height, width)
    cols = cols.transpose(3, 0, 1, 2, 4, 5)
    full = tuple(
        (size - 1) * s + d * (k - 1) + 1 + extra
        for size, s, d, k, extra in zip((height, width), stride, dilation, (kernel_h, kernel_w),
                                        output_padding)
    )
    image = _col2im_array(cols, full, stride, dilation)
    (top, bottom), (left, right) = padding
    return image[..., top: full[0] - bottom, left: full[1] - right]


def _conv_padding(padding, kernel, dilation, stride, count):
    """(before, after) per spatial dim; 'same' puts the odd extra on the after side."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * count
        if padding != "same":
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in _tuple(padding, count, "padding"))


def _dims_text(values) -> str:
    return " x ".join(map(str, values))


def _check_conv_dtypes(input: Tensor, weight: Tensor, bias) -> None:
    """PyTorch's errors for a weight or bias whose dtype differs from the input's."""
    if weight.dtype is not input.dtype:
        raise RuntimeError(
            f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
            f"{_dtype.scalar_type_name(weight.dtype)}"
        )
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(
            f"Input type ({_c_type_name(input.dtype)}) and bias type ({_c_type_name(bias.dtype)}) "
            "should be the same"
        )


def _conv(input, weight, bias, stride, padding, dilation, groups, count, name):
    """Checks and unbatched handling shared by conv1d and conv2d."""
    if input.ndim not in (count + 1, count + 2):
        raise RuntimeError(
            f"Expected {count + 1}D (unbatched) or {count + 2}D (batched) input to {name}, but got "
            f"input of size: [{', '.join(map(str, input.shape))}]"
        )
    _check_conv_dtypes(input, weight, bias)
    unbatched = input.ndim == count + 1
    if unbatched:  # (unsqueezed and squeezed again, as PyTorch)
        input = input.unsqueeze(0)
    kernel = weight.shape[2:]
    stride = _tuple(stride, count, "stride")
    dilation = _tuple(dilation, count, "dilation")
    pairs = _conv_padding(padding, kernel, dilation, stride, count)
    if weight.shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
            f"weight of size [{', '.join(map(str, weight.shape))}] instead"
        )
    if input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size [{', '.join(map(str, weight.shape))}], expected "
            f"input[{', '.join(map(str, input.shape))}] to have {weight.shape[1] * groups} channels, "
            f"but got {input.shape[1]} channels instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
            f"got weight of size [{', '.join(map(str, weight.shape))}] instead"
        )
    padded = [s + b + a for s, (b, a) in zip(input.shape[2:], pairs)]
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < s for p, s in zip(padded, spans)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({_dims_text(padded)}). Kernel size: "
            f"({_dims_text(spans)}). Kernel size can't be greater than actual input size"
        )
    if any(before != after for before, after in pairs):
        input, pairs = _padded_for_same(input, pairs)
    if count == 1:
        stride, dilation, pairs = (1, *stride), (1, *dilation), ((0, 0), *pairs)
    result = apply(ConvolutionBackward0, input, weight, bias, stride=stride, padding=pairs,
                   dilation=dilation, groups=groups, transposed=False, output_padding=(0, 0))
    return result.squeeze(0) if unbatched else result


def _padded_for_same(input, pairs):
    """'same' padding whose total is odd, as PyTorch does it: the input padded first by the
    extra on the after side (ConstantPadNdBackward0, F.pad's list of every spatial dim), then
    the symmetric rest."""
    extra = [(0, after - before) for before, after in pairs]
    flat = tuple(amount for pair in reversed(extra) for amount in pair)
    padded = apply(ConstantPadNdBackward0, input, pairs=_spatial_pairs(extra), value=0, arguments=(flat,))
    return padded, tuple((before, before) for before, _ in pairs)


@register(torch_name="conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-d cross-correlation of (N, C, H, W) input with (O, C / groups, kH, kW) weight."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


@register(torch_name="conv1d")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-d cross-correlation of (N, C, L) input with (O, C / groups, k) weight."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


@register(torch_name="conv_transpose2d")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1):
    """The adjoint of conv2d: (N, C, H, W) input, (C, O / groups, kH, kW) weight."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


@register(torch_name="conv_transpose1d")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1):
    """The adjoint of conv1d: (N, C, L) input, (C, O / groups, k) weight."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, count, name):
    """Checks and unbatched handling shared by conv_transpose1d and conv_transpose2d."""
    if input.ndim not in (count + 1, count + 2):
        raise RuntimeError(
            f"Expected {count + 1}D (unbatched) or {count + 2}D (batched) input to {name}, but got input "
            f"of size: [{', '.join(map(str, input.shape))}]"
        )
    _check_conv_dtypes(input, weight, bias)
    unbatched = input.ndim == count + 1
    if unbatched:
        input = input.unsqueeze(0)
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size [{', '.join(map(str, weight.shape))}], expected "
            f"input[{', '.join(map(str, input.shape))}] to have {weight.shape[0]} channels, but got "
            f"{input.shape[1]} channels instead"
        )
    stride, dilation = _tuple(stride, count, "stride"), _tuple(dilation, count, "dilation")
    output_padding = _tuple(output_padding, count, "output_padding")
    if any(extra >= max(s, d) for extra, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation")
    pairs = tuple((p, p) for p in _tuple(padding, count, "padding"))
    if count == 1:
        stride, dilation = (1, *stride), (1, *dilation)
        pairs, output_padding = ((0, 0), *pairs), (0, *output_padding)
    result = apply(ConvolutionBackward0, input, weight, bias, stride=stride, padding=pairs,
                   dilation=dilation, groups=groups, transposed=True, output_padding=output_padding)
    return result.squeeze(0) if unbatched else result


def _fold_geometry(kernel_size, dilation, padding, stride):
    return (_tuple(kernel_size, 2, "kernel_size"), _tuple(dilation, 2, "dilation"),
            _tuple(padding, 2, "padding"), _tuple(stride, 2, "stride"))


def _block_counts(size, kernel, dilation, padding, stride) -> tuple:
    """The number of sliding blocks along each spatial dim of `size` (padded)."""
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride))


def _im2col_array(data: np.ndarray, kernel, dilation, padding, stride) -> np.ndarray:
    """(..., C, H, W) to (..., C * kh * kw, number of blocks): each block's entries as a
    column, channel-major, as PyTorch's im2col."""
    (top, left) = padding
    padded = np.pad(data, [(0, 0)] * (data.ndim - 2) + [(top, top), (left, left)])
    columns = _columns_array(padded, kernel, stride, dilation)
    lead = columns.shape[:-5]
    channels, kernel_h, kernel_w, out_h, out_w = columns.shape[-5:]
    return columns.reshape(*lead, channels * kernel_h * kernel_w, out_h * out_w)


def _col2im_layout_array(data: np.ndarray, output_size, kernel, dilation, padding, stride) -> np.ndarray:
    """(..., C * kh * kw, number of blocks) summed back into (..., C, H, W): the adjoint of
    _im2col_array."""
    counts = _block_counts(output_size, kernel, dilation, padding, stride)
    lead, rows = data.shape[:-2], data.shape[-2]
    windows = data.reshape(*lead, rows // (kernel[0] * kernel[1]), *kernel, *counts)
    padded_size = tuple(s + 2 * p for s, p in zip(output_size, padding))
    image = _col2im_array(windows, padded_size, stride, dilation)
    (top, left) = padding
    return image[..., top: top + output_size[0], left: left + output_size[1]]


class Im2ColBackward0(Node):
    """F.unfold: the sliding blocks of (..., C, H, W) as columns (..., C * kh * kw, blocks),
    PyTorch's node and saved geometry (the input's H and W as self_sym_argsize_minus_2/_1);
    its gradient is col2im of the gradient (Col2ImBackward0 when recorded), as PyTorch's."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("dilation", "kernel_size", "padding", "self_sym_argsize_minus_1", "self_sym_argsize_minus_2",
                 "stride")
    _runs_on_arrays = True

    @staticmethod
    def forward(ctx, x, kernel_size, dilation, padding, stride):
        ctx.kernel_size, ctx.dilation, ctx.padding, ctx.stride = kernel_size, dilation, padding, stride
        ctx.self_sym_argsize_minus_2, ctx.self_sym_argsize_minus_1 = x._data.shape[-2:]
        return _im2col_array(x._data, kernel_size, dilation, padding, stride)

    def backward(self, grad):
        size = (self.self_sym_argsize_minus_2, self.self_sym_argsize_minus_1)
        geometry = (self.kernel_size, self.dilation, self.padding, self.stride)
        if not isinstance(grad, Tensor):
            return _col2im_layout_array(grad, size, *geometry)
        return apply(Col2ImBackward0, grad, output_size=size, kernel_size=geometry[0], dilation=geometry[1],
                     padding=geometry[2], stride=geometry[3])


class Col2ImBackward0(Node):
    """F.fold: columns (..., C * kh * kw, blocks) summed back into (..., C, H, W), PyTorch's
    node and saved geometry; its gradient is im2col of the gradient (Im2ColBackward0 when
    recorded), as PyTorch's."""
    hand_written = "backward is a few linear maps on arrays (Note [Array kernels of the heavy nn ops])"

    tangent = LINEAR
    __slots__ = ("dilation", "kernel_size", "padding", "stride")
    _runs_on_arrays = True

    @staticmethod
    def forward(ctx, columns, output_size, kernel_size, dilation, padding, stride):
        ctx.kernel_size, ctx.dilation, ctx.padding, ctx.stride = kernel_size, dilation, padding, stride
        return _col2im_layout_array(columns._data, output_size, kernel_size, dilation, padding, stride)

    def backward(self, grad):
        geometry = (self.kernel_size, self.dilation, self.padding, self.stride)
        if not isinstance(grad, Tensor):
            return _im2col_array(grad, *geometry)
        return apply(Im2ColBackward0, grad, kernel_size=geometry[0], dilation=geometry[1],
                     padding=geometry[2], stride=geometry[3])


@register(torch_name=_torch_name("unfold"), floating=True)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding windows of (N, C, H, W) input as columns: (N, C * kH * kW, number of windows)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    kernel, dilation, padding, stride = _fold_geometry(kernel_size, dilation, padding, stride)
    return apply(Im2ColBackward0, input, kernel_size=kernel, dilation=dilation, padding=padding,
                 stride=stride)


@register(torch_name=_torch_name("fold"), floating=True)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: columns summed back into an (N, C, H, W) image."""
    kernel, dilation, padding, stride = _fold_geometry(kernel_size, dilation, padding, stride)
    size = _tuple(output_size, 2, "output_size")
    counts = _block_counts(size, kernel, dilation, padding, stride)
    blocks = kernel[0] * kernel[1]
    if input.ndim not in (2, 3) or input.shape[-2] % blocks or input.shape[-1] != counts[0] * counts[1]:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {counts[0]} * {counts[1]} = {counts[0] * counts[1]}, but got "
            f"input.size(2)={input.shape[-1] if input.ndim in (2, 3) else 0}."
        )
    return apply(Col2ImBackward0, input, output_size=size, kernel_size=kernel, dilation=dilation,
                 padding=padding, stride=stride)
