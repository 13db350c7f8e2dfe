"""`Variable`: the pre-0.4 wrapper around a tensor, kept so that old programs run.

Since PyTorch 0.4 every tensor is a Variable: `Variable(x)` gives back a tensor (sharing
x's data, cut from any graph) and `isinstance(t, Variable)` holds for every tensor.

>>> import retrograd
>>> from retrograd.autograd import Variable
>>> v = Variable(retrograd.ones(2), requires_grad=True)
>>> v
tensor([1., 1.], requires_grad=True)
>>> isinstance(retrograd.zeros(1), Variable)
True
"""

from __future__ import annotations

import warnings

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        from .._tensor import Tensor

        return isinstance(instance, Tensor)

    def __call__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from .._creation import empty
        from .._tensor import Tensor

        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with retrograd.no_grad():` "
                "instead.",
                UserWarning,
                stacklevel=2,
            )
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        result = data.detach()
        if requires_grad:
            result.requires_grad_(True)
        return result


class Variable(metaclass=_VariableMeta):
    """`Variable(data, requires_grad=False)`: `data` as a new leaf (deprecated; use tensors)."""
