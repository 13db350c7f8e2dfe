"""The switches that decide whether operations record a graph.

State is thread-local: a `no_grad` block in one thread never changes another thread's mode.
Each switch works as a context manager and as a decorator (of functions and generators).
"""

from __future__ import annotations

import functools
import inspect
import threading

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


def is_grad_enabled() -> bool:
    """Whether operations run now record the graph for backward."""
    return _state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """True inside `inference_mode()`."""
    return _state.inference


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
        _state.grad_enabled = False

    def __exit__(self, *exc_info):
        _state.grad_enabled = self._previous


class enable_grad(_DecoratorContextManager):
    """Record a graph again inside a `no_grad` block."""

    def __enter__(self):
        self._previous = _state.grad_enabled
        _state.grad_enabled = True

    def __exit__(self, *exc_info):
        _state.grad_enabled = self._previous


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to `mode`: at once when called, and back when used as a context ends."""

    def __init__(self, mode: bool):
        self._previous = _state.grad_enabled
        self.mode = bool(mode)
        _state.grad_enabled = self.mode

    def __call__(self, func):
        # Used as a decorator, the call above must not change the mode of the caller.
        _state.grad_enabled = self._previous
        return super().__call__(func)

    def __enter__(self):
        _state.grad_enabled = self.mode

    def __exit__(self, *exc_info):
        _state.grad_enabled = self._previous

    def clone(self):
        """A new context manager of the same kind and mode (used when it decorates a function)."""
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like `no_grad`, and the tensors made inside can never join a graph later."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = (_state.grad_enabled, _state.inference)
        _state.grad_enabled = not self.mode
        _state.inference = self.mode

    def __exit__(self, *exc_info):
        _state.grad_enabled, _state.inference = self._previous

    def clone(self):
        """A new context manager of the same kind and mode (used when it decorates a function)."""
        return self.__class__(self.mode)
