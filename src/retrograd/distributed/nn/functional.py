"""Differentiable collectives: they return new tensors and record a graph node.

The derivative of a sum over ranks is a sum over ranks: rank r's input reaches every
rank's output, so the gradient of rank r's input is the all-reduced gradient of the
outputs (`all_reduce`). For `all_gather`, rank r's input is the r-th output on every
rank, so its gradient is the sum over ranks of their r-th output gradients: a
reduce-scatter. Every rank must call backward, as every rank called forward.
"""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from ...autograd.function import Function
from .. import distributed_c10d as c10d
from ..distributed_c10d import ReduceOp

__all__ = ["all_gather", "all_reduce"]


def _copy(tensor: Tensor) -> Tensor:
    return Tensor._make(np.array(tensor._data, copy=True))


class _AllReduce(Function):
    @staticmethod
    def forward(ctx, op, group, tensor):
        ctx.op = op
        ctx.group = group
        result = _copy(tensor)
        c10d.all_reduce(result, op=op, group=group)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.op not in (ReduceOp.SUM, ReduceOp.AVG):
            raise RuntimeError(
                f"retrograd.distributed.nn.all_reduce: backward is defined for ReduceOp.SUM and "
                f"ReduceOp.AVG only, not {ctx.op!r}"
            )
        return None, None, _AllReduce.apply(ctx.op, ctx.group, grad_output)


class _AllGather(Function):
    @staticmethod
    def forward(ctx, group, tensor):
        ctx.group = group
        size = c10d.get_world_size(group)
        outputs = [Tensor._make(np.empty_like(tensor._data)) for _ in range(size)]
        c10d.all_gather(outputs, _copy(tensor), group=group)
        return tuple(outputs)

    @staticmethod
    def backward(ctx, *grad_outputs):
        grads = [_copy(grad) if grad is not None else None for grad in grad_outputs]
        like = next(grad for grad in grads if grad is not None)
        grads = [grad if grad is not None else Tensor._make(np.zeros_like(like._data)) for grad in grads]
        result = Tensor._make(np.empty_like(like._data))
        c10d.reduce_scatter(result, grads, op=ReduceOp.SUM, group=ctx.group)
        return None, result


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None) -> Tensor:
    """The reduction of `tensor` over the group, as a new tensor that autograd follows."""
    return _AllReduce.apply(op, group, tensor)


def all_gather(tensor: Tensor, group=None) -> tuple[Tensor, ...]:
    """Every rank's `tensor`, as a tuple of new tensors that autograd follows."""
    return _AllGather.apply(group, tensor)
