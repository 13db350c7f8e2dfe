"""How each library runs one op in the four measured modes, and how a mode is timed.

A runner turns an `OpCase` and its NumPy inputs into samplers: `sampler(calls)` runs the
mode `calls` times and returns the seconds that count. The modes:

- `kernel`: the NumPy forward alone (`OpCase.kernel` on float32 arrays), the floor;
- `nograd`: the op on the library's tensors without recording (PyTorch and retrograd: inside
  `no_grad()`, entered once per sample; MyGrad: inside `mygrad.no_autodiff`; HIPS autograd:
  the autograd.numpy function on plain arrays);
- `forward`: the op with every differentiable input requiring a gradient, so a node is
  recorded (HIPS autograd: `make_vjp(f)(x)`, which traces f);
- `backward`: `out.backward(g)` on a fresh graph each call (HIPS autograd: `vjp(g)`), the
  leaves' `.grad` reset to None first (as after `zero_grad()`); the forward that builds the
  graph runs outside the timer, and only the backward call is timed. Nothing is subtracted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .op_cases import OpCase

MODES = ("nograd", "forward", "backward")


class Unsupported(Exception):
    """The library has no such op (the message says why)."""


def _repeat(call: Callable, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - start


def _repeat_inside(context: Callable, call: Callable, calls: int) -> float:
    with context():
        return _repeat(call, calls)


def _repeat_backward(prepare: Callable[[], Callable], calls: int) -> float:
    clock = time.perf_counter
    total = 0.0
    for _ in range(calls):
        run = prepare()
        start = clock()
        run()
        total += clock() - start
    return total


class KernelRunner:
    def __init__(self, case: OpCase, inputs: list[np.ndarray], constants: list[np.ndarray]):
        kernel = case.kernel
        self.call = lambda: kernel(*inputs, *constants)

    def samplers(self) -> dict[str, Callable[[int], float]]:
        return {"kernel": lambda calls: _repeat(self.call, calls)}

    def results(self) -> tuple[np.ndarray, list[np.ndarray]]:
        return np.asarray(self.call()), []


class TorchLikeRunner:
    """PyTorch and retrograd: the same code, `import retrograd as torch`."""

    def __init__(self, module, case: OpCase, inputs, constants, gradient):
        function = case.torch_like
        T, F = module, module.nn.functional
        self.module = module
        self.leaves = [T.tensor(array, requires_grad=True) for array in inputs]
        bound = [T.tensor(array) for array in constants]
        leaves = self.leaves
        self.call = lambda: function(T, F, *leaves, *bound)
        self.gradient = T.tensor(gradient)

    def _prepare_backward(self) -> Callable:
        for leaf in self.leaves:
            leaf.grad = None
        out = self.call()
        gradient = self.gradient
        return lambda: out.backward(gradient)

    def samplers(self):
        return {
            "nograd": lambda calls: _repeat_inside(self.module.no_grad, self.call, calls),
            "forward": lambda calls: _repeat(self.call, calls),
            "backward": lambda calls: _repeat_backward(self._prepare_backward, calls),
        }

    def results(self):
        self._prepare_backward()()
        out = self.call().detach().numpy()
        return out, [leaf.grad.numpy() for leaf in self.leaves]


class AutogradRunner:
    """HIPS autograd: trace with `make_vjp`, differentiate with the returned vjp."""

    def __init__(self, module, case: OpCase, inputs, constants, gradient):
        import autograd.numpy as anp
        from autograd import make_vjp

        function = case.for_library("autograd")
        if function is None:
            raise Unsupported(case.missing("autograd"))
        self.single = len(inputs) == 1
        if self.single:
            traced = lambda x: function(anp, x, *constants)  # noqa: E731
            self.argument = inputs[0]
        else:
            traced = lambda xs: function(anp, *xs, *constants)  # noqa: E731
            self.argument = tuple(inputs)
        self.make = make_vjp(traced)
        self.plain = lambda: function(anp, *inputs, *constants)
        self.gradient = gradient

    def _prepare_backward(self):
        vjp, _ = self.make(self.argument)
        gradient = self.gradient
        return lambda: vjp(gradient)

    def samplers(self):
        argument, make = self.argument, self.make
        return {
            "nograd": lambda calls: _repeat(self.plain, calls),
            "forward": lambda calls: _repeat(lambda: make(argument), calls),
            "backward": lambda calls: _repeat_backward(self._prepare_backward, calls),
        }

    def results(self):
        vjp, out = self.make(self.argument)
        grads = vjp(self.gradient)
        return np.asarray(out), [np.asarray(g) for g in ([grads] if self.single else grads)]


class MyGradRunner:
    def __init__(self, module, case: OpCase, inputs, constants, gradient):
        function = case.for_library("mygrad")
        if function is None:
            raise Unsupported(case.missing("mygrad"))
        mg = module
        self.module = module
        self.leaves = [mg.tensor(array) for array in inputs]
        leaves = self.leaves
        self.call = lambda: function(mg, *leaves, *constants)
        self.gradient = gradient

    def _prepare_backward(self):
        out = self.call()
        gradient = self.gradient
        return lambda: out.backward(gradient)

    def samplers(self):
        return {
            "nograd": lambda calls: _repeat_inside(lambda: self.module.no_autodiff, self.call, calls),
            "forward": lambda calls: _repeat(self.call, calls),
            "backward": lambda calls: _repeat_backward(self._prepare_backward, calls),
        }

    def results(self):
        self._prepare_backward()()
        grads = [np.asarray(leaf.grad) for leaf in self.leaves]
        return np.asarray(self.call().data), grads


RUNNERS = {
    "retrograd": TorchLikeRunner,
    "torch": TorchLikeRunner,
    "autograd": AutogradRunner,
    "mygrad": MyGradRunner,
}
