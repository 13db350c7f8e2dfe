"""The vmap levels that are active: shared by the op table (ops/_batching/), the random
number generator (which refuses to draw in randomness='error' mode) and retrograd.func.

Kept apart, with few imports, so that the lowest layers can test `vmap_state.depth`
without importing the op table.

The state is per thread, as PyTorch's functorch interpreter stack is thread-local: a vmap
running in one thread is invisible to the ops another thread runs at the same time (each
thread starts with no level). Level ids come from one process-wide counter, so they never
repeat between threads.
"""

from __future__ import annotations

import itertools
import threading

from ._thread_counts import ProcessWideCount, entry_detours

__all__ = ["check_random_operation", "pop_level", "push_level", "vmap_active", "vmap_state"]


class _Level:
    __slots__ = ("id", "randomness", "size")

    def __init__(self, level_id: int, size: int, randomness: str):
        self.id = level_id
        self.size = size
        self.randomness = randomness


class _VmapState(threading.local):
    """The active vmap levels of the calling thread (innermost last). `depth` is what
    `apply` tests. A `threading.local`: each thread sees its own attributes, set up by
    `__init__` the first time it reads one."""

    def __init__(self):
        self.depth = 0
        self.levels: list[_Level] = []
        self.sizes: dict[int, int] = {}
        self.drawing: list = []  # see draws_per_example


vmap_state = _VmapState()
# open levels in all threads: the op runner tests it first
vmap_active = ProcessWideCount(part_of=entry_detours)
_level_ids = itertools.count(1)


def push_level(size: int, randomness: str) -> _Level:
    level = _Level(next(_level_ids), size, randomness)
    vmap_state.levels.append(level)
    vmap_state.sizes[level.id] = size
    vmap_state.depth = len(vmap_state.levels)
    vmap_active.add(1)
    return level


def pop_level(level: _Level) -> None:
    vmap_state.levels.remove(level)
    vmap_state.sizes.pop(level.id, None)
    vmap_state.depth = len(vmap_state.levels)
    vmap_active.add(-1)


def check_random_operation() -> None:
    """Called by the random number generator: PyTorch's error in randomness='error' mode."""
    if vmap_state.depth and vmap_state.levels[-1].randomness == "error":
        raise RuntimeError(
            "vmap: called random operation while in randomness error mode. Please either use the "
            "'same' or 'different' randomness flags on vmap or perform the randomness operation "
            "out of vmap"
        )


def draws_per_example(function, reads_inputs: bool = False):
    """Mark a random function: inside vmap with randomness='different', each example draws
    its own values (the function runs once per example, the results stacked); otherwise it
    runs as it is (with 'same', one draw serves every example). A function that `reads_inputs`
    (bernoulli's probabilities) also runs once per example when an input is batched."""
    import functools

    @functools.wraps(function)
    def draw(*args, **kwargs):
        if vmap_state.depth and not vmap_state.drawing:
            check_random_operation()
            if vmap_state.levels[-1].randomness == "different" or (
                    reads_inputs and _any_batched(args, kwargs)):
                from .ops._batching import loop_over_examples

                levels = tuple(level.id for level in vmap_state.levels)
                drawing = vmap_state.drawing
                drawing.append(True)  # the function's own random calls draw once each
                try:
                    return loop_over_examples(function, args, kwargs, levels)
                finally:
                    drawing.pop()
        return function(*args, **kwargs)

    return draw


def draws_per_example_reading_inputs(function):
    """`draws_per_example` for a function whose draws depend on its inputs' values."""
    return draws_per_example(function, reads_inputs=True)


def _any_batched(args, kwargs) -> bool:
    return any(type(value).__name__ == "BatchedTensor" for value in (*args, *kwargs.values()))
