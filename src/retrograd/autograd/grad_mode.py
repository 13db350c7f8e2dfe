"""The switches that decide whether operations record a graph.

State is thread-local: a `no_grad` block in one thread never changes another thread's mode.
Each switch works as a context manager and as a decorator (of functions and generators).
"""

from __future__ import annotations

import functools
import inspect
import threading

from .._thread_counts import ProcessWideCount

__all__ = [
    "enable_grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]


class _ModeState(threading.local):
    grad_enabled = True
    inference = False
    # why a tensor made while grad mode is off has no graph: "no_grad", or "backward" while a
    # backward pass without create_graph runs (the engine sets it; Note [Tensor origins])
    origin_without_grad = "no_grad"


_state = _ModeState()


# Note [Reading the modes quickly]
#     The modes are thread-local, as PyTorch's, and reading a `threading.local` attribute
#     costs about twenty reads of a plain one (see _thread_counts.py). Recording an op reads
#     grad mode and inference mode, so each has a process-wide count of the threads where it
#     is switched away from its default (grad mode off, inference mode on), kept by
#     `_set_grad_enabled` and `_set_inference`, the only writers. While a count is 0 every
#     thread has the default and the thread-local state need not be read: grad mode is
#     `not threads_without_grad.count or _state.grad_enabled`, and inference mode is
#     `threads_in_inference.count != 0 and _state.inference`. A thread that ends with a mode
#     switched leaves its count above 0 for good: the reads are then only slower, never wrong.
threads_without_grad = ProcessWideCount()
threads_in_inference = ProcessWideCount()


def _set_grad_enabled(enabled: bool) -> None:
    """Set this thread's grad mode, keeping Note [Reading the modes quickly]'s count."""
    if _state.grad_enabled != enabled:
        threads_without_grad.add(-1 if enabled else 1)
        _state.grad_enabled = enabled


def _set_inference(inference: bool) -> None:
    """Set this thread's inference mode, keeping Note [Reading the modes quickly]'s count."""
    if _state.inference != inference:
        threads_in_inference.add(1 if inference else -1)
        _state.inference = inference


def is_grad_enabled() -> bool:
    """Whether operations run now record the graph for backward."""
    return not threads_without_grad.count or _state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """True inside `inference_mode()`."""
    return threads_in_inference.count != 0 and _state.inference


class _DecoratorContextManager:
    """A context manager that can also wrap a function or a generator function.

    Used bare as a decorator (`@no_grad`, without parentheses) it wraps the function too.
    """

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])
        return super().__new__(cls)

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            generator = func(*args, **kwargs)
            with self.clone():
                request = next(generator)
            while True:
                try:
                    response = yield request
                except GeneratorExit:
                    with self.clone():
                        generator.close()
                    raise
                except BaseException as error:
                    with self.clone():
                        request = generator.throw(error)
                else:
                    try:
                        with self.clone():
                            request = generator.send(response)
                    except StopIteration as stop:
                        return stop.value

        return wrapper

    def clone(self):
        """A new context manager of the same kind and mode (used when it decorates a function)."""
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Run without recording a graph: results do not require grad."""

    def __enter__(self):
        self._previous = _state.grad_enabled
        _set_grad_enabled(False)

    def __exit__(self, *exc_info):
        _set_grad_enabled(self._previous)


class enable_grad(_DecoratorContextManager):
    """Record a graph again inside a `no_grad` block."""

    def __enter__(self):
        self._previous = _state.grad_enabled
        _set_grad_enabled(True)

    def __exit__(self, *exc_info):
        _set_grad_enabled(self._previous)


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to `mode`: at once when called, and back when used as a context ends."""

    def __init__(self, mode: bool):
        self._previous = _state.grad_enabled
        self.mode = bool(mode)
        _set_grad_enabled(self.mode)

    def __call__(self, func):
        # Used as a decorator, the call above must not change the mode of the caller.
        _set_grad_enabled(self._previous)
        return super().__call__(func)

    def __enter__(self):
        _set_grad_enabled(self.mode)

    def __exit__(self, *exc_info):
        _set_grad_enabled(self._previous)

    def clone(self):
        """A new context manager of the same kind and mode (used when it decorates a function)."""
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like `no_grad`, and the tensors made inside can never join a graph later."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = (_state.grad_enabled, _state.inference)
        _set_grad_enabled(not self.mode)
        _set_inference(self.mode)

    def __exit__(self, *exc_info):
        _set_grad_enabled(self._previous[0])
        _set_inference(self._previous[1])

    def clone(self):
        """A new context manager of the same kind and mode (used when it decorates a function)."""
        return self.__class__(self.mode)
