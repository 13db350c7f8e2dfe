"""More of `nn.init`: `dirac_`, `sparse_`, and the deprecated names without the trailing
underscore (`nn.init.uniform`, ...) that old programs call; installed into `nn.init`."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._tensor import Tensor
from . import init

__all__ = ["dirac_", "sparse_"]


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-d conv weight so that the convolution passes its input through
    (per group: output channel i copies input channel i at the kernel's centre)."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    smallest = min(out_per_group, sizes[1])
    values = np.zeros(sizes, dtype=tensor._data.dtype)
    centre = tuple(size // 2 for size in sizes[2:])
    for group in range(groups):
        for channel in range(smallest):
            values[(group * out_per_group + channel, channel, *centre)] = 1
    return init._write(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """A 2-d weight drawn from N(0, std) with a `sparsity` fraction of each column set to zero."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, columns = tensor.shape
    zeros_per_column = math.ceil(sparsity * rows)
    init.normal_(tensor, 0, std, generator)
    from .._creation import randperm

    values = tensor._data.copy()
    for column in range(columns):
        values[randperm(rows, generator=generator)._data[:zeros_per_column], column] = 0
    return init._write(tensor, values)


def _deprecated(new_name: str):
    method = getattr(init, new_name) if hasattr(init, new_name) else globals()[new_name]
    old_name = new_name[:-1]

    def deprecated(*args, **kwargs):
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return method(*args, **kwargs)

    deprecated.__name__ = old_name
    deprecated.__doc__ = f"Deprecated: use `nn.init.{new_name}`."
    return deprecated


def install() -> None:
    for name in __all__:
        if not hasattr(init, name):
            setattr(init, name, globals()[name])
    for new_name in ("uniform_", "normal_", "constant_", "eye_", "dirac_", "xavier_uniform_",
                     "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_"):
        if not hasattr(init, new_name[:-1]):
            setattr(init, new_name[:-1], _deprecated(new_name))
