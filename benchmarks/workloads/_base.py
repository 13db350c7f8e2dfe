"""What a workload is, and the helpers its implementations share.

A workload makes one problem (NumPy data) and has one builder per library. A builder
`build(module, problem)` returns `step`, a function that runs the measured work once
(forward + backward, plus the update for training steps) and returns the gradients, so
the harness can check them against the NumPy reference before it times anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np


class Unavailable(Exception):
    """This library cannot run this workload (a missing op or API); the message says why."""


@dataclasses.dataclass
class Workload:
    key: str
    title: str
    unit: str  # "µs/op", "ms", "s" (time per call) or "MiB" (peak memory)
    make_problem: Callable[[bool], dict]  # quick -> problem
    builders: dict[str, Callable]
    divisor: Callable[[dict], float] = lambda problem: 1.0  # e.g. the op count for µs/op
    unsupported: dict[str, str] = dataclasses.field(default_factory=dict)  # library -> why not
    rtol: float = 1e-4
    atol: float = 1e-6
    disable_gc: bool = False  # time with Python's cyclic collector switched off
    repeats: int | None = None  # cap on repeats (slow workloads)
    table: str = "main"  # which table of the report the row belongs to

    @property
    def measures_memory(self) -> bool:
        return self.unit == "MiB"


UNIT_SCALE = {"µs/op": 1e6, "ms": 1e3, "s": 1.0}


def lookup(module, path: str):
    """`module.a.b` for path "a.b", or None when any part is missing."""
    value = module
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def torch_like(*required: str):
    """A builder written once against PyTorch's API, run with `torch` or `retrograd` as `T`.

    `required` are the dotted names it uses beyond the core (`"tanh"`,
    `"nn.functional.conv2d"`); a library that lacks one is skipped with a note.
    """

    def decorate(build: Callable) -> Callable:
        def checked_build(T, problem):
            missing = [path for path in required if lookup(T, path) is None]
            if missing:
                raise Unavailable(f"needs {', '.join(missing)}")
            return build(T, problem)

        checked_build.__name__ = build.__name__
        checked_build.__doc__ = build.__doc__
        return checked_build

    return decorate


def as_array(value) -> np.ndarray:
    """A gradient from any library as a NumPy array."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy())
    if hasattr(value, "data") and isinstance(value.data, np.ndarray):
        return value.data
    return np.asarray(value)


def leaf(T, array: np.ndarray):
    """A leaf tensor that requires grad, owning a copy of `array`."""
    return T.from_numpy(array.copy()).requires_grad_()


def constant(T, array: np.ndarray):
    return T.from_numpy(array.copy())


def zero_grads(parameters) -> None:
    for parameter in parameters:
        parameter.grad = None


def sgd_update(T, parameters, learning_rate: float) -> None:
    with T.no_grad():
        for parameter in parameters:
            parameter.add_(parameter.grad, alpha=-learning_rate)
