"""Weight normalisation's fused node: w = g * v / ||v||, the norm over every dim but `dim`.

PyTorch computes `nn.utils.weight_norm`'s weight in one op, `_weight_norm_interface`, when the
kept dim is the first or the last of `v` (otherwise as a composite of mul, div and norm), and
records WeightNormInterfaceBackward0, which shows `v`, `g`, `dim` and `result1`, the norms.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._saved_shown import ShownAsPyTorch, formula_value, saved_array
from .._table import apply
from .._tangents import ELEMENT_WISE

__all__ = ["WeightNormInterfaceBackward0", "fused_weight_norm", "uses_the_fused_node"]


def _other_dims(v, dim: int) -> tuple:
    return tuple(d for d in range(v.ndim) if d != dim)


def _norms(v, dim: int):
    """||v|| over every dim but `dim`, kept as size-1 dims (an array or a recorded Tensor)."""
    return _math.sqrt(_math.sum_dims(v * v, _other_dims(v, dim), keepdim=True))


def _g_grad(grad, v, dim: int):
    """d/dg: the incoming gradient projected on v's direction, per kept slice."""
    return _math.sum_dims(grad * v, _other_dims(v, dim), keepdim=True) / _norms(v, dim)


def _v_grad(grad, v, g, dim: int):
    """d/dv: (g / ||v||) (grad - v <grad, v> / ||v||^2), per kept slice."""
    norms = _norms(v, dim)
    projection = _math.sum_dims(grad * v, _other_dims(v, dim), keepdim=True) / (norms * norms)
    return g / norms * (grad - v * projection)


def _shown_norms(node):
    """`_saved_result1`: the norms PyTorch's forward returns beside the weight."""
    v = formula_value(node, "v")
    data = v._data if isinstance(v, Tensor) else v
    return saved_array(node, np.asarray(_norms(data, node._params["dim"])))


class WeightNormInterfaceBackward0(ShownAsPyTorch, Formula):
    inputs = ("v", "g")
    shown: ClassVar[dict] = {"result1": _shown_norms}

    @staticmethod
    def forward(v, g, dim):
        data = v._data
        return (g._data * (data / _norms(data, dim))).astype(data.dtype, copy=False)

    tangent = ELEMENT_WISE
    derivatives = {
        "v": lambda grad, v, g, dim: _v_grad(grad, v, g, dim),
        "g": lambda grad, v, dim: _g_grad(grad, v, dim),
    }


def uses_the_fused_node(v: Tensor, dim: int) -> bool:
    """Whether PyTorch computes weight_norm of `v` along `dim` with its fused op (`dim` the
    first or the last dim, as given; -1 is the norm of the whole tensor, a composite)."""
    return dim != -1 and (dim == 0 or dim == v.ndim - 1)


def fused_weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """g * v / ||v|| recorded as WeightNormInterfaceBackward0."""
    return apply(WeightNormInterfaceBackward0, v, g, dim=dim)
