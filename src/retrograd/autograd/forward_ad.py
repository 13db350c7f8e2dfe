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
    A dual tensor is an ordinary Tensor that carries a tangent (another Tensor of the same
    shape) for a dual level; a tensor without one has none. Tangents are set only inside a
    level, and every tensor that got one is remembered (weakly) so that leaving the level
    drops all its tangents at once, as PyTorch does. The tangent of level 0 lives in the
    tensor's `_fw_grad` slot; those of deeper levels in its `_fw_grads` dict {level: tangent}.

    Levels. `dual_level()` does not nest, as in PyTorch 2.13 (entering a second one, or one
    inside `retrograd.func.jvp`, raises PyTorch's "Nested forward mode AD is not supported
    at the moment"). The transforms of `retrograd.func` do nest (`jvp(jvp(f))`,
    `jacfwd(jacfwd(f))`), as functorch's levels do: each jvp opens a level of its own
    (`_enter_transform_level`), numbered 0, 1, 2... from the outside in, and a jvp inside a
    `dual_level()` raises the same error as PyTorch's. A tangent of level k is itself a
    tensor that may carry tangents of the levels below k (a second-order term). The levels
    are per thread, as functorch's interpreter stack is, so two threads run jvps at once;
    only `dual_level()` is process-wide, as PyTorch's: while one thread holds one, opening
    another in any thread raises.

    Each op passes through the op runner (`ops/_table.apply`), which asks one question of
    this module's state, `_active.count and _state.hooked`, before anything else; the count
    (of levels open in any thread, a plain attribute) is 0 unless a level is open, so code
    that never enters a level pays one attribute read per op. When it is
    True the runner hands the call to `ops/_tangents.apply_dual`. That finds the deepest
    level k (at most `_state.cap`) at which an input has a tangent, lowers the cap to k - 1
    and, with it lowered, runs the op on the inputs (the levels below k propagate through it
    by the same path) and then the op's tangent formula for level k (see Note [Tangent
    formulas] in ops/_tangents.py), whose ops carry the lower levels' tangents too: the
    tangent of level k gets its own tangents of the levels below. With the cap at -1 (one
    level, the usual case) the op and its formula run as plain ops, so they never recurse,
    and the ops they use are recorded for reverse mode like any other op (a tangent can be
    differentiated: reverse-over-forward).

    While a level is open, backward passes run their formulas on Tensors even without
    create_graph (see the engine's Note [Arrays or Tensors in the pass]), so a gradient of a
    dual computation carries its own tangent: forward-over-reverse, the Hessian-vector
    product of PyTorch's tutorials.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import NamedTuple

import numpy as np

from .._thread_counts import ProcessWideCount, entry_detours

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]


class _DualState(threading.local):
    """The calling thread's open levels, the deepest level its ops propagate now, and the
    tensors that got a tangent in each level. Per thread, as functorch's interpreter stack:
    two threads run their jvps at once without seeing each other's levels (a `dual_level()`
    is process-wide in PyTorch: while one thread holds one, another thread's `dual_level()`
    raises, see `_public_owner`)."""

    def __init__(self):
        self.level = -1  # the innermost open level; -1: no level is open
        self.cap = -1  # ops propagate the tangents of levels 0..cap (see the Note)
        self.hooked = False  # read by the op runner: cap >= 0
        self.public = False  # the open level is a dual_level() (which never nests)
        self.duals: list[_Duals] = []  # per open level: the tensors given a tangent in it


class _Duals:
    """Weak references to every tensor given a tangent in one level."""

    __slots__ = ("compact_at", "references")

    def __init__(self):
        self.references: list = []
        self.compact_at = 4096  # when to drop the references to tensors already freed


_state = _DualState()
# levels open in all threads together: the op runner's first test
_active = ProcessWideCount(part_of=entry_detours)
_public_owner: list = []  # the thread holding a dual_level(), if one does
_public_lock = threading.Lock()

_NESTED_MESSAGE = "Nested forward mode AD is not supported at the moment"


def enter_dual_level() -> int:
    """Open a dual level and return its number; tangents live until it is exited."""
    with _public_lock:
        if _state.level >= 0 or _public_owner:
            raise RuntimeError(_NESTED_MESSAGE)
        _public_owner.append(threading.get_ident())
    _push()
    _state.public = True
    return _state.level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the dual level: every tangent made inside it is dropped."""
    if level is None:
        level = _state.level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _state.level or not _state.public:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    _pop(level)
    _state.public = False
    with _public_lock:
        _public_owner.clear()


def _enter_transform_level() -> int:
    """A level of `retrograd.func.jvp`: nests inside another jvp's, never inside a
    dual_level() (PyTorch's error)."""
    if _state.public:
        raise RuntimeError(_NESTED_MESSAGE)
    return _push()


def _exit_transform_level(level: int) -> None:
    if level != _state.level or _state.public:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    _pop(level)


def _push() -> int:
    _state.duals.append(_Duals())
    _state.level = _state.cap = len(_state.duals) - 1
    _state.hooked = True
    _active.add(1)
    return _state.level


def _pop(level: int) -> None:
    duals = _state.duals.pop()
    for reference in duals.references:
        tensor = reference()
        if tensor is None:
            continue
        if level == 0:
            tensor._fw_grad = None
        else:
            deeper = getattr(tensor, "_fw_grads", None)
            if deeper:
                deeper.pop(level, None)
    _state.level = _state.cap = level - 1
    _state.hooked = _state.cap >= 0
    _active.add(-1)


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
    level = _resolve_level(level, "_make_dual")
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
    return _make_dual_at(tensor, tangent, level)


def _make_dual_at(tensor, tangent, level: int):
    """A view of `tensor` with `tangent` at `level`; the view keeps the tangents `tensor` has
    at the levels below (made with the cap lowered to level - 1)."""
    with _capped(level - 1):
        dual = tensor.view(tensor.shape)
    set_tangent(dual, tangent, level)
    return dual


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """`(primal, tangent)` of `tensor`: the primal is a view without tangent; the tangent is
    None for a tensor that has none (and outside a dual level)."""
    if level is None and _state.level < 0:
        return UnpackedDualTensor(tensor, None)
    level = _resolve_level(level, "_fw_primal")
    return _unpack_at(tensor, level)


def _unpack_at(tensor, level: int) -> UnpackedDualTensor:
    """`(primal, tangent)` at `level`: the primal view keeps the tangents of the levels below."""
    tangent = tangent_at(tensor, level)
    with _capped(level - 1):
        primal = tensor[...]
    return UnpackedDualTensor(primal, tangent)


class _capped:
    """Ops propagate only the tangents of levels 0..cap inside (cap -1: none)."""

    __slots__ = ("cap", "saved")

    def __init__(self, cap: int):
        self.cap = cap

    def __enter__(self):
        self.saved = (_state.cap, _state.hooked)
        cap = min(self.cap, _state.cap)
        _state.cap = cap
        _state.hooked = cap >= 0

    def __exit__(self, *exc_info):
        _state.cap, _state.hooked = self.saved
        return False


# -- for the op runner and the engine ----------------------------------------------


def set_tangent(tensor, tangent, level: int = 0) -> None:
    """Give `tensor` a tangent in the open `level` (remembered so exiting drops it)."""
    if level == 0:
        tensor._fw_grad = tangent
    else:
        deeper = getattr(tensor, "_fw_grads", None)
        if deeper is None:
            deeper = tensor._fw_grads = {}
        deeper[level] = tangent
    duals = _state.duals[level]
    references = duals.references
    references.append(weakref.ref(tensor))
    if len(references) >= duals.compact_at:  # a long level: forget the tensors that are gone
        references[:] = [reference for reference in references if reference() is not None]
        duals.compact_at = max(2 * len(references), 4096)


def tangent_at(tensor, level: int):
    """The tangent of `tensor` at `level`, or None."""
    if level == 0:
        return getattr(tensor, "_fw_grad", None)
    deeper = getattr(tensor, "_fw_grads", None)
    return deeper.get(level) if deeper else None


def tangent_levels(tensor) -> list:
    """The levels at which `tensor` has a tangent, from the outermost."""
    levels = [0] if getattr(tensor, "_fw_grad", None) is not None else []
    deeper = getattr(tensor, "_fw_grads", None)
    if deeper:
        levels.extend(sorted(level for level, tangent in deeper.items() if tangent is not None))
    return levels


def top_level(values, cap: int) -> int:
    """The deepest level (at most `cap`) at which one of `values` has a tangent, or -1."""
    found = -1
    for value in values:
        if getattr(value, "_fw_grad", None) is not None and found < 0:
            found = 0
        deeper = getattr(value, "_fw_grads", None)
        if deeper:
            for level, tangent in deeper.items():
                if found < level <= cap and tangent is not None:
                    found = level
    return found


def tangent_of(tensor):
    """The tangent of `tensor` at the innermost level that ops propagate now, or None."""
    if _state.cap <= 0:
        return getattr(tensor, "_fw_grad", None) if _state.cap == 0 else None
    return tangent_at(tensor, _state.cap)


def carry_tangents(source, target):
    """`target` (a fresh tensor) made dual with every tangent `source` has, level by level
    from the outermost: a view of `target` (or `target` itself when `source` has none)."""
    for level in tangent_levels(source):
        if level <= _state.level:
            target = _make_dual_at(target, tangent_at(source, level), level)
    return target


def copy_tangents(source, target) -> None:
    """`target` reads the tangents of `source` (no registration: a short-lived copy)."""
    target._fw_grad = getattr(source, "_fw_grad", None)
    deeper = getattr(source, "_fw_grads", None)
    if deeper:
        target._fw_grads = dict(deeper)


def is_active() -> bool:
    """Whether a dual level is open."""
    return _state.level >= 0


def has_tangent(values) -> bool:
    """Whether any of `values` is a tensor with a tangent (at any level)."""
    return any(getattr(value, "_fw_grad", None) is not None or getattr(value, "_fw_grads", None)
               for value in values)


def apply_custom_function(cls, node, args: tuple, kwargs: dict, recording: bool):
    """A custom `autograd.Function` called on dual tensors: forward runs on the primals (its
    inside computes no tangents of the deepest level with one) and the output tangents are
    its `jvp(ctx, *tangents)`, with zeros for tensors without a tangent and None for other
    arguments, as in PyTorch."""
    from .._tensor import Tensor
    from .function import _check_dirty_returned, _record, _run_forward

    level = top_level(args, _state.cap)
    with _capped(level - 1):
        outputs = _run_forward(cls, node, args, kwargs)
        if node._dirty:
            _check_dirty_returned(node, outputs)
        tangents = []
        for value in args:
            if not isinstance(value, Tensor):
                tangents.append(None)
                continue
            tangent = tangent_at(value, level)
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
    results = outputs if isinstance(outputs, tuple) else (outputs,)
    produced = produced if isinstance(produced, tuple) else (produced,)
    for output, tangent in zip(results, produced):
        if isinstance(output, Tensor) and tangent is not None and output.dtype.is_floating_point:
            set_tangent(output, tangent, level)
    return outputs
