"""In-place ops written straight into the target's array when no graph is recorded.

Note [Direct in-place writes]
    An in-place op that records nothing (under no_grad, or when no tensor involved requires
    grad: an optimizer's step, `grad.zero_()`, `p.add_(g, alpha=-lr)`) need not build its
    result as a new tensor and copy it over the target: its NumPy kernel can write into the
    target's array (`out=`). `run_in_place` (_table.py) stays the general path and makes every
    decision about errors; a direct write is taken only where it does exactly what that path
    does, which two checks establish before anything is written:

      - `writes_directly(target, arguments)`, the one rule: nothing would be recorded; no vmap
        or forward-mode level is open (they have their in-place rules); the target is a plain
        writeable array whose elements are distinct memory locations; it is not an inference
        tensor written outside inference mode; no tensor argument shares memory with it
        unless it is the very same array (`p.mul_(p)`);
      - the op's writer, declared beside the op (`@direct_writer("add_")`), takes the plain
        case only: tensor operands of the target's dtype whose shapes broadcast to the
        target's, numbers the target's dtype keeps (promotion.same_dtype_operand). For
        anything else (promotion, a result type that cannot be cast, a shape that does not
        fit, a rounding mode, a tensor weight...) it returns NotImplemented before writing,
        and run_in_place runs instead, raising PyTorch's error where there is one.

    A writer computes what its op's forward computes, operation by operation in the same
    order (`a + alpha * b` is `np.multiply(b, alpha)` added into `a`), so the values are bit
    for bit those of the general path (tests/test_direct_write.py compares them). After the
    write, `_after_write` does what run_in_place does after any write outside the graph: the
    version counter goes up (a saved tensor then refuses to be used), and the views of a base
    that requires grad read their history anew.

    The profiler pauses direct writes while it records (autograd/profiler.py), so an in-place
    op is seen there as an operation of the runner.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor
from .._vmap_state import vmap_active as _vmap_active
from ..autograd import grad_mode
from ..autograd.engine import _can_sum_to
from ..autograd.forward_ad import _active as _dual_active
from . import _inplace
from ._table import _overlaps_itself

__all__ = ["WRITERS", "broadcasts_to", "direct_writer", "plain_number", "views_after_unrecorded_write",
           "write", "writes_directly"]

# In-place method name -> its writer `writer(target_array, *arguments, **keywords)`, which
# returns NotImplemented (having written nothing) where the general path must run.
WRITERS: dict[str, Callable] = {}


def direct_writer(method_name: str) -> Callable:
    """Declare the decorated function as the direct writer of the in-place method `method_name`."""

    def declare(writer: Callable) -> Callable:
        if method_name in WRITERS:
            raise RuntimeError(f"{method_name} has a direct writer already")
        WRITERS[method_name] = writer
        return writer

    return declare


def write(target: Tensor, method_name: str, arguments: tuple, keywords: dict) -> bool:
    """Run `target.<method_name>(*arguments, **keywords)` as a direct write, if the rule and
    the op's writer allow it; False when the general path (run_in_place) must run instead."""
    writer = WRITERS.get(method_name)
    if writer is None or not writes_directly(target, arguments, keywords):
        return False
    try:
        if writer(target._data, *arguments, **keywords) is NotImplemented:
            return False
    except TypeError:  # (arguments the op does not take: the general path raises its error)
        return False
    _after_write(target)
    return True


def writes_directly(target: Tensor, arguments: tuple = (), keywords: dict | None = None) -> bool:
    """Whether an in-place op on `target` with these arguments may write into target's array
    directly: the one rule of Note [Direct in-place writes]."""
    if _vmap_active.count or _dual_active.count:
        return False
    data = target._data
    if type(data) is not np.ndarray or not data.flags.writeable:
        return False  # (a zero gradient that stays zero, a view of an expanded tensor)
    if _overlaps_itself(data):
        return False
    if target._is_inference and not grad_mode._state.inference:
        return False
    recorded = grad_mode._state.grad_enabled
    if recorded and (target._requires_grad or (target._base is not None and target._base._requires_grad)):
        return False
    for argument in arguments:
        if isinstance(argument, Tensor) and not _may_be_read(argument, data, recorded):
            return False
    if keywords:
        for argument in keywords.values():
            if isinstance(argument, Tensor) and not _may_be_read(argument, data, recorded):
                return False
    return True


def _may_be_read(argument: Tensor, data: np.ndarray, recorded: bool) -> bool:
    """Whether a tensor argument of a direct write into `data` needs no graph, and its memory is
    data's very array or apart from it (two arrays that own their memory never share it, so
    np.may_share_memory is asked only about views)."""
    if recorded and argument._requires_grad:
        return False
    read = argument._data
    if read is data:
        return True
    if type(read) is not np.ndarray:
        return False
    return (read.base is None and data.base is None) or not np.may_share_memory(read, data)


def _after_write(target: Tensor) -> None:
    """What follows any write outside the graph (as in run_in_place)."""
    target._bump_version()
    views_after_unrecorded_write(target)
    _inplace.refresh_aliased_views(target)


def views_after_unrecorded_write(target: Tensor) -> None:
    """Written outside the graph (under no_grad): as in PyTorch, the views of a base that
    requires grad read its history anew (PyTorch does it when their grad_fn is next read)."""
    root = target if target._base is None else target._base
    if root._views is not None and root._requires_grad:
        _inplace.refresh_views(root)


def plain_number(value) -> bool:
    """Whether `value` is a Python float or int (not a bool, a NumPy scalar or a tensor, whose
    dtypes take part in promotion)."""
    return type(value) is float or type(value) is int


def broadcasts_to(shape: tuple, target_shape: tuple) -> bool:
    """Whether an operand of `shape` broadcasts to `target_shape` without changing it: the
    engine's rule for a gradient that sums back to its input, read the other way round."""
    return _can_sum_to(target_shape, shape)
