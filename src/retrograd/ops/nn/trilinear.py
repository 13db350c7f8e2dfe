"""The bilinear form of F.bilinear, as PyTorch records it: one `_trilinear` node."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._tensor import Tensor
from ...autograd.graph import Node
from .._saved_shown import ShownAsPyTorch
from .._tangents import MULTILINEAR
from ..linalg import einsum

# PyTorch's `_trilinear` arguments for a bilinear form: i1 (N, in1) unsqueezed at 1 and 3, the
# weight (out, in1, in2) at 0, i2 (N, in2) at 1 and 2, the product summed over dims 2 and 3.
_BILINEAR_LAYOUT = {"expand1": (1, 3), "expand2": (0,), "expand3": (1, 2), "sumdim": (2, 3)}


class TrilinearBackward0(ShownAsPyTorch, Node):
    """out[n, o] = sum over i, j of i1[n, i] i2[o, i, j] i3[n, j] (PyTorch's `_trilinear` with
    bilinear's layout, whose node shows that layout). The input pair i1, i2 is contracted
    first, then the result with i3, as PyTorch's kernel orders it. Each gradient is the same
    form with that input's place taken by the incoming gradient: on arrays without
    create_graph, recorded (einsum) with it, so it can be differentiated again."""
    hand_written = "a three-factor contraction whose gradients are three other contractions"

    tangent = MULTILINEAR
    inputs = ("i1", "i2", "i3")
    saved_names = ("i1", "i2", "i3")
    shown: ClassVar[dict] = {name: (lambda node, value=value: value)
                             for name, value in _BILINEAR_LAYOUT.items()}
    __slots__ = ()
    _runs_on_arrays = True  # see Note [Array kernels of the heavy nn ops] (ops/nn/_common.py)

    @staticmethod
    def forward(ctx, i1, i2, i3):
        ctx.save_for_backward(i1, i2, i3)
        left, weight, right = i1._data, i2._data, i3._data
        out_features, in1, in2 = weight.shape
        first = np.matmul(left, np.moveaxis(weight, 1, 0).reshape(in1, out_features * in2))
        first = first.reshape(left.shape[0], out_features, in2)
        return np.matmul(first, right[:, :, None])[..., 0]

    def backward(self, grad):
        i1, i2, i3 = self._saved_tensors
        needs = self.needs_input_grad
        if isinstance(grad, Tensor):
            contract = einsum
        else:
            i1, i2, i3 = i1._data, i2._data, i3._data

            def contract(equation, *operands):
                return np.einsum(equation, *operands, optimize=True)

        return (contract("no,oij,nj->ni", grad, i2, i3) if needs[0] else None,
                contract("no,ni,nj->oij", grad, i1, i3) if needs[1] else None,
                contract("no,ni,oij->nj", grad, i1, i2) if needs[2] else None)
