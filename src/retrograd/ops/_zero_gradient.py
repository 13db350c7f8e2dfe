"""A gradient known to be exactly zero, that stays zero when multiplied by NaN or Inf.

Note [Zero gradients that stay zero]
    PyTorch's derivative of `sgn` (and so the second derivative of `abs`) is an "efficient
    zero tensor": multiplied or divided by anything, even NaN or Inf, it stays zero, and
    added to another gradient it gives that gradient. Later formulas that multiply the
    gradient (mul, div, exp, pow...) then keep it zero, so `abs` of an infinite value has a
    finite second derivative there. An ordinary array of zeros turns into NaN instead
    (0 * inf). `ZeroGradient` is that value as a NumPy array: a read-only array of zeros
    (no memory, like PyTorch's) whose products and quotients are zero gradients again.
    Everything else materialises it into plain zeros, as PyTorch's own kernels do for ops
    without a zero-tensor path (sum, neg, clone, matmul...): the sum of a zero gradient is
    an ordinary zero, which a later NaN does turn into NaN, in both libraries. Views keep it.
    As PyTorch's, it cannot be written in place (hooks and `autograd.grad` hand it out as
    it is); only `.grad` stores a plain copy, so a later backward can add into it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ZeroGradient", "zero_gradient"]


def _plain(value):
    """`value` with every ZeroGradient in it (in lists and tuples too: np.concatenate's
    arrays) seen as a plain array."""
    if isinstance(value, ZeroGradient):
        return value.view(np.ndarray)
    if type(value) is list or type(value) is tuple:
        return type(value)(_plain(item) for item in value)
    return value


def _keeps_zero(ufunc, inputs) -> bool:
    """Whether `ufunc(*inputs)` is a zero gradient: a product with one, or one divided."""
    if ufunc is np.multiply:
        return any(isinstance(value, ZeroGradient) for value in inputs)
    if ufunc is np.true_divide or ufunc is np.divide:
        return isinstance(inputs[0], ZeroGradient) and not isinstance(inputs[1], ZeroGradient)
    return False


class ZeroGradient(np.ndarray):
    """Zeros that products keep zero (see Note [Zero gradients that stay zero])."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain_inputs = tuple(_plain(value) for value in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(value) for value in kwargs["out"])
        with np.errstate(all="ignore"):
            result = getattr(ufunc, method)(*plain_inputs, **kwargs)
        if method == "__call__" and "out" not in kwargs and _keeps_zero(ufunc, inputs):
            return zero_gradient(np.shape(result), np.result_type(result))
        return result

    def __array_function__(self, func, types, args, kwargs):
        plain_args = tuple(_plain(value) for value in args)
        plain_kwargs = {name: _plain(value) for name, value in kwargs.items()}
        return func(*plain_args, **plain_kwargs)

    def copy(self, order="C"):
        """A plain, writable copy (a clone of PyTorch's zero tensor is an ordinary tensor)."""
        return np.zeros(self.shape, self.dtype)

    def tolist(self):
        """Refused unless empty, as PyTorch refuses `tolist()` of its zero tensor, which has no
        memory to read (`item()` and `numpy(force=True)` still read it as zeros)."""
        if self.size:
            raise RuntimeError("tolist() shouldn't be called on a tensor with unallocated storage")
        return self.view(np.ndarray).tolist()


def zero_gradient(shape, dtype) -> ZeroGradient:
    """A zero gradient of `shape` and `dtype`, taking no memory."""
    return np.broadcast_to(np.zeros((), dtype), shape).view(ZeroGradient)
