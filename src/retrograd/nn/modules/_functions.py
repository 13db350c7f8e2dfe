"""Autograd Functions behind nn modules that PyTorch writes as custom Functions (and whose
node names, e.g. `CrossMapLRN2dBackward`, programs see)."""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from ...autograd.function import Function, once_differentiable

__all__ = ["CrossMapLRN2d"]


def _window_sums(squares: np.ndarray, size: int) -> np.ndarray:
    """The channel sums Lua Torch's CrossMapLRN2d divides by, as PyTorch computes them: a running
    sum that adds channel c + pre_pad − 1 and drops channel c − pre_pad only once c > pre_pad,
    so channel 0 stays in every sum (kept as is: it is the reference's result)."""
    channels = squares.shape[1]
    pre_pad = int((size - 1) / 2 + 1)
    sums = np.empty_like(squares)
    sums[:, 0] = np.sum(squares[:, :min(pre_pad, channels)], axis=1)
    for channel in range(1, channels):
        sums[:, channel] = sums[:, channel - 1]
        if channel < channels - pre_pad + 1:
            sums[:, channel] += squares[:, channel + pre_pad - 1]
        if channel > pre_pad:
            sums[:, channel] -= squares[:, channel - pre_pad]
    return sums


class CrossMapLRN2d(Function):
    """Local response normalisation across channels of a 4-d input: x / (k + α/size·Σx²)^β.

    The backward is PyTorch's own formula (a window of `size` channels ending at each
    channel), which is not exactly the derivative of the forward's sums; it is kept so that
    gradients agree with PyTorch.
    """

    @staticmethod
    def forward(ctx, input, size, alpha=1e-4, beta=0.75, k=1):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        data = input._data
        scale = _window_sums(data * data, size)
        scale *= alpha / size
        scale += k
        output = np.power(scale, -beta) * data
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        ctx.scale = scale
        result = Tensor._make(output.astype(data.dtype, copy=False))
        ctx.save_for_backward(input, result)
        return result

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        input, output = ctx.saved_tensors
        size, scale = ctx.size, ctx.scale
        data, grad = input._data, grad_output._data
        channels = data.shape[1]
        grad_input = np.power(scale, -ctx.beta) * grad
        first = int(size - (size - 1) / 2)
        if first + channels > channels + size - 1:
            raise RuntimeError(
                f"start ({first}) + length ({channels}) exceeds dimension size ({channels + size - 1})."
            )
        padded = np.zeros((data.shape[0], channels + size - 1, *data.shape[2:]), data.dtype)
        padded[:, first:first + channels] = grad * output._data / scale
        window = np.sum(padded[:, :size - 1], axis=1)
        factor = 2 * ctx.alpha * ctx.beta / size
        for channel in range(channels):
            window += padded[:, channel + size - 1]
            grad_input[:, channel] -= factor * data[:, channel] * window
            window -= padded[:, channel]
        return Tensor._make(grad_input.astype(data.dtype, copy=False)), None, None, None, None
