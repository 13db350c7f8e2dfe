"""FractionalMaxPool2d / FractionalMaxPool3d: max pooling to any output size, with
pseudo-random window offsets (see retrograd/nn/_functional_fractional.py). Their public home
is PyTorch's `nn.modules.pooling` (Note [Public module names])."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


class _FractionalMaxPoolNd(Module):
    """Fractional max pooling over the last `_dims` dims to `output_size`, or to the input's
    size times `output_ratio` (each in (0, 1)); `_random_samples` (N, C, dims), a buffer when
    given, fixes the window offsets instead of drawing them at every call."""

    _dims = 0

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices: bool = False,
                 _random_samples: Tensor | None = None):
        super().__init__()
        self.kernel_size = self._expand(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = self._expand(output_size) if output_size is not None else None
        self.output_ratio = self._expand(output_ratio) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"{type(self).__name__} requires specifying either an output size, or a pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < ratio < 1 for ratio in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def _expand(self, value) -> tuple:
        return tuple(value) if isinstance(value, (list, tuple)) else (value,) * self._dims


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    __doc__ = _FractionalMaxPoolNd.__doc__
    _dims = 2

    def forward(self, input: Tensor):
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size, self.output_ratio,
                                       self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    __doc__ = _FractionalMaxPoolNd.__doc__
    _dims = 3

    def forward(self, input: Tensor):
        return F.fractional_max_pool3d(input, self.kernel_size, self.output_size, self.output_ratio,
                                       self.return_indices, _random_samples=self._random_samples)
