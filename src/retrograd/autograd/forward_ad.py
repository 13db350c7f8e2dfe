"""Forward-mode automatic differentiation: dual tensors that carry a tangent through each op.

    >>> import retrograd as torch
    >>> import retrograd.autograd.forward_ad as fwAD
    >>> x = torch.tensor(2.0)
    >>> with fwAD.dual_level():
    ...     dual = fwAD.make_dual(x, torch.tensor(1.0))
    ...     y = (dual + 1) * (dual + 2)
    ...     fwAD.unpack_dual(y)
    UnpackedDualTensor(primal=tensor(12.), tangent=tensor(7.))

Note [Dual tensors]
    A dual tensor is an ordinary Tensor whose `_fw_grad` slot holds its tangent (another
    Tensor of the same shape); a tensor whose slot is unset has no tangent. The slot is set
    only inside a dual level, and every tensor that got one is remembered (weakly) so that
    leaving the level drops all tangents at once, as PyTorch does. As in PyTorch 2.13,
    levels do not nest: there is level 0 or no level.

    Each op passes through the op runner (`ops/_table.apply`), which asks one question of
    this module's state, `_state.hooked`, before anything else; it is False unless a dual
    level is open, so code that never enters a level pays one attribute read per op. When it
    is True the runner hands the call to `ops/_tangents.apply_dual`, which runs the op as
    usual and then the op's tangent formula (see Note [Tangent formulas] in ops/_tangents.py).
    Tangent formulas run with `hooked` off, on the primal values and tangents, so they never
    recurse, and the ops they use are recorded for reverse mode like any other op (a tangent
    can be differentiated: reverse-over-forward).

    While a level is open, backward passes run their formulas on Tensors even without
    create_graph (see the engine's Note [Arrays or Tensors in the pass]), so a gradient of a
    dual computation carries its own tangent: forward-over-reverse, the Hessian-vector
    product of PyTorch's tutorials.
"""

from __future__ import annotations

import functools
import weakref
from typing import NamedTuple

import numpy as np

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]


class _DualState:
    """The one dual level (or none) and the tensors that got a tangent inside it."""

    __slots__ = ("compact_at", "duals", "hooked", "level")

    def __init__(self):
        self.level = -1  # -1: no level is open
        self.hooked = False  # read by the op runner: a level is open and not paused
        self.duals: list = []  # weak references to every tensor given a tangent
        self.compact_at = 4096  # when to drop the references to tensors already freed


_state = _DualState()

_NESTED_MESSAGE = "Nested forward mode AD is not supported at the moment"


def enter_dual_level() -> int:
    """Open a dual level and return its number; tangents live until it is exited."""
    if _state.level >= 0:
        raise RuntimeError(_NESTED_MESSAGE)
    _state.level = 0
    _state.hooked = True
    return _state.level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the dual level: every tangent made inside it is dropped."""
    if level is None:
        level = _state.level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _state.level:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    for reference in _state.duals:
        tensor = reference()
        if tensor is not None:
            tensor._fw_grad = None
    _state.duals = []
    _state.compact_at = 4096
    _state.level = -1
    _state.hooked = False


class dual_level:
    """Context manager (or decorator) for a dual level: tangents are dropped on exit.

    `with dual_level():` gives the level's number; `make_dual` and `unpack_dual` use it.
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc_info) -> None:
        exit_dual_level()

    def __call__(self, function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            with dual_level():
                return function(*args, **kwargs)

        return wrapped


class UnpackedDualTensor(NamedTuple):
    """What `unpack_dual` returns: the primal (a view) and the tangent (or None)."""

    primal: object
    tangent: object


def _resolve_level(level: int | None, what: str) -> int:
    current = _state.level
    if level is None:
        return current
    if level != current:
        raise RuntimeError(f"Invalid level given to {what}")
    return level


def make_dual(tensor, tangent, *, level: int | None = None):
    """A view of `tensor` that carries `tangent` (the direction to differentiate along).

    Only inside a dual level; `tangent` must have `tensor`'s shape, and both must be of a
    floating-point dtype.
    """
    from .._tensor import Tensor

    if level is None and _state.level < 0:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    _resolve_level(level, "_make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(
            f"make_dual(): argument 'tensor' and 'tangent' must be Tensors, not "
            f"{type(tensor).__name__} and {type(tangent).__name__}"
        )
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not tangent.dtype.is_floating_point:
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    hooked = _state.hooked
    _state.hooked = False
    try:
        dual = tensor.view(tensor.shape)
    finally:
        _state.hooked = hooked
    set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """`(primal, tangent)` of `tensor`: the primal is a view without tangent; the tangent is
    None for a tensor that has none (and outside a dual level)."""
    if level is None and _state.level < 0:
        return UnpackedDualTensor(tensor, None)
    _resolve_level(level, "_fw_primal")
    tangent = getattr(tensor, "_fw_grad", None)
    hooked = _state.hooked
    _state.hooked = False
    try:
        primal = tensor[...]
    finally:
        _state.hooked = hooked
    return UnpackedDualTensor(primal, tangent)


# -- for the op runner and the engine ----------------------------------------------


def set_tangent(tensor, tangent) -> None:
    """Give `tensor` a tangent in the open level (remembered so exiting drops it)."""
    tensor._fw_grad = tangent
    duals = _state.duals
    duals.append(weakref.ref(tensor))
    if len(duals) >= _state.compact_at:  # a long level: forget the tensors that are gone
        duals[:] = [reference for reference in duals if reference() is not None]
        _state.compact_at = max(2 * len(duals), 4096)


def tangent_of(tensor):
    """The tangent of `tensor` in the open level, or None."""
    return getattr(tensor, "_fw_grad", None)


def is_active() -> bool:
    """Whether a dual level is open."""
    return _state.level >= 0


def has_tangent(values) -> bool:
    """Whether any of `values` is a tensor with a tangent."""
    return any(getattr(value, "_fw_grad", None) is not None for value in values)


def apply_custom_function(cls, node, args: tuple, kwargs: dict, recording: bool):
    """A custom `autograd.Function` called on dual tensors: forward runs on the primals (its
    inside computes no tangents) and the output tangents are its `jvp(ctx, *tangents)`, with
    zeros for tensors without a tangent and None for other arguments, as in PyTorch."""
    from .._tensor import Tensor
    from .function import _check_dirty_returned, _record, _run_forward

    _state.hooked = False
    try:
        outputs = _run_forward(cls, node, args, kwargs)
        if node._dirty:
            _check_dirty_returned(node, outputs)
        tangents = []
        for value in args:
            if not isinstance(value, Tensor):
                tangents.append(None)
                continue
            tangent = getattr(value, "_fw_grad", None)
            if tangent is None:
                tangent = Tensor._make(np.zeros(value._data.shape, value._data.dtype))
            tangents.append(tangent)
        # In jvp, ctx.saved_tensors are what forward saved for it (or else for backward).
        node._saved = getattr(node, "_to_save_forward", None) or node._to_save
        node._saved_versions = (None,) * len(node._saved)
        try:
            produced = cls.jvp(node, *tangents)
        finally:
            node._saved = node._saved_versions = None
        if recording:
            outputs = _record(node, args, outputs)
    finally:
        _state.hooked = True
    results = outputs if isinstance(outputs, tuple) else (outputs,)
    produced = produced if isinstance(produced, tuple) else (produced,)
    for output, tangent in zip(results, produced):
        if isinstance(output, Tensor) and tangent is not None and output.dtype.is_floating_point:
            set_tangent(output, tangent)
    return outputs
