"""Activation checkpointing: trade compute for memory.

`checkpoint(fn, *args)` runs `fn` without keeping what its operations save for backward
and runs it again during backward to get those values back. The gradients are the same
as without checkpointing; the memory of everything saved inside `fn` is freed after the
forward instead of being held until backward.

Two implementations, as in PyTorch:

- use_reentrant=False (recommended): the forward runs normally under saved-tensor hooks
  whose pack keeps only a ticket number. The first unpack of a ticket reruns `fn` (same
  inputs, same random numbers) under hooks that collect the tensors it saves, in the same
  order; each ticket is then answered from that list (see Note [Recompute on unpack]).
  Works with autograd.grad, backward(inputs=...) and double backward.
- use_reentrant=True: a custom Function whose forward runs `fn` under no_grad and whose
  backward reruns it with grad enabled and calls backward on it (a backward inside a
  backward); only `.backward()` without `inputs` may reach it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from .. import _creation
from .._tensor import Tensor
from ..autograd import backward as autograd_backward
from ..autograd import grad_mode
from ..autograd.engine import current_graph_task
from ..autograd.function import Function
from ..autograd.graph import saved_tensors_hooks

__all__ = ["CheckpointError", "checkpoint", "checkpoint_sequential"]

_EXPLICIT_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
    "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
    "exception. use_reentrant=False is recommended, but if you need to preserve the current "
    "default behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants."
)
_NO_INPUT_REQUIRES_GRAD = "None of the inputs have requires_grad=True. Gradients will be None"


class CheckpointError(RuntimeError):
    """The recomputation did not save the same tensors as the original forward."""


def checkpoint(
    function: Callable,
    *args,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    determinism_check: str = "default",
    debug: bool = False,
    **kwargs,
):
    """Run `function(*args, **kwargs)` keeping none of its saved tensors; recompute in backward.

    `preserve_rng_state` makes the recomputation draw the same random numbers (dropout).
    Without `use_reentrant`, warns (as PyTorch) and uses the reentrant variant.
    """
    if use_reentrant is None:
        warnings.warn(_EXPLICIT_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(
            f"determinism_check should be one of ['default', 'none'], but got {determinism_check}"
        )
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _ReentrantCheckpoint.apply(function, preserve_rng_state, *args)
    return _checkpoint_by_recomputation(
        function, args, kwargs, preserve_rng_state, check=determinism_check == "default"
    )


# ---------------------------------------------------------------------------
# use_reentrant=False


class _Recomputation:
    """The saved tensors of one checkpointed call: tickets in forward, values in backward.

    Note [Recompute on unpack]
        The forward's pack hook hands out ticket i for the i-th saved tensor and keeps
        only its shape and dtype. The first unpack reruns the function and collects what
        it saves, in order: the same op sequence saves the same tensors, so value i
        answers ticket i. An answered value is dropped, so memory is freed as backward
        goes; a ticket asked for again (retain_graph) triggers a new rerun.
    """

    def __init__(self, function, args, kwargs, rng_state, check: bool):
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.rng_state = rng_state
        self.check = check
        self.metadata: list[tuple] = []
        self.values: list = []

    def pack(self, tensor: Tensor) -> int:
        self.metadata.append((tensor.shape, tensor.dtype))
        return len(self.metadata) - 1

    def unpack(self, ticket: int) -> Tensor:
        if ticket >= len(self.values) or self.values[ticket] is None:
            self._rerun()
        value = self.values[ticket]
        self.values[ticket] = None
        return value

    def _rerun(self) -> None:
        # Backward runs with grad mode on exactly when it creates a graph (create_graph):
        # only then must the recomputed values keep their own history. Otherwise they are
        # kept detached and the recomputation's graph holds nothing, so it is freed at once
        # (a saved output held by its own node would be a reference cycle).
        differentiable = grad_mode.is_grad_enabled()
        collected: list[Tensor] = []

        def collect(tensor):
            if len(collected) >= len(self.metadata):
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation "
                    "than during the original forward pass."
                )
            if differentiable:
                collected.append(tensor)
                return tensor
            collected.append(tensor.detach())
            return None

        with _same_random_numbers(self.rng_state), grad_mode.enable_grad(), saved_tensors_hooks(
            collect, _identity
        ):
            self.function(*self.args, **self.kwargs)
        self._check(collected)
        self.values = collected

    def _check(self, collected: list[Tensor]) -> None:
        if not self.check:
            return
        recomputed = [(tensor.shape, tensor.dtype) for tensor in collected]
        if recomputed != self.metadata:
            differing = [
                f"tensor at position {index}:\nsaved metadata: {saved}\nrecomputed metadata: {again}"
                for index, (saved, again) in enumerate(zip(self.metadata, recomputed))
                if saved != again
            ]
            if len(recomputed) != len(self.metadata):
                differing.append(
                    f"{len(self.metadata)} tensors were saved in forward, {len(recomputed)} in "
                    "the recomputation"
                )
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have "
                "different metadata than during the forward pass.\n" + "\n".join(differing)
            )


def _identity(value):
    return value


def _checkpoint_by_recomputation(function, args, kwargs, preserve_rng_state: bool, check: bool):
    rng_state = _creation.get_rng_state() if preserve_rng_state else None
    recomputation = _Recomputation(function, args, kwargs, rng_state, check)
    with saved_tensors_hooks(recomputation.pack, recomputation.unpack):
        return function(*args, **kwargs)


class _same_random_numbers:
    """Draw from `state` inside the block (when given), then continue where the caller was."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        if self.state is not None:
            self.outer = _creation.get_rng_state()
            _creation.set_rng_state(self.state)

    def __exit__(self, *exc_info):
        if self.state is not None:
            _creation.set_rng_state(self.outer)


# ---------------------------------------------------------------------------
# use_reentrant=True


class _ReentrantCheckpoint(Function):
    """forward under no_grad; backward reruns the function and backpropagates through it."""

    @staticmethod
    def forward(ctx, function, preserve_rng_state, *args):
        if not any(isinstance(arg, Tensor) and arg.requires_grad for arg in args):
            warnings.warn(_NO_INPUT_REQUIRES_GRAD, UserWarning, stacklevel=4)
        ctx.function = function
        ctx.rng_state = _creation.get_rng_state() if preserve_rng_state else None
        ctx.tensor_positions = [index for index, arg in enumerate(args) if isinstance(arg, Tensor)]
        ctx.arguments = list(args)
        ctx.save_for_backward(*(args[index] for index in ctx.tensor_positions))
        return function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        task = current_graph_task()
        if task is not None and task.targeted:
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
                "passing an `inputs` parameter to .backward(). To resolve this error, you can "
                "either set use_reentrant=False, or call .backward() without passing the `inputs` "
                "argument."
            )
        arguments = list(ctx.arguments)
        copies = {}
        for index, tensor in zip(ctx.tensor_positions, ctx.saved_tensors):
            copy = tensor.detach()
            copy.requires_grad = tensor.requires_grad
            arguments[index] = copies[index] = copy
        with _same_random_numbers(ctx.rng_state), grad_mode.enable_grad():
            outputs = ctx.function(*arguments)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [
            (out, grad)
            for out, grad in zip(outputs, grad_outputs)
            if isinstance(out, Tensor) and out.requires_grad and grad is not None
        ]
        if not pairs:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary"
            )
        autograd_backward([out for out, _ in pairs], [grad for _, grad in pairs])
        input_grads = [
            copies[index].grad if index in copies and copies[index].requires_grad else None
            for index in range(len(arguments))
        ]
        return (None, None, *input_grads)


# ---------------------------------------------------------------------------
# Sequences of layers


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs):
    """Run `functions` (a list of callables or a Sequential) in `segments` chunks, each
    checkpointed except the last, which runs normally (its output is needed at once)."""
    if use_reentrant is None:
        warnings.warn(_EXPLICIT_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    layers = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if segments < 1:
        raise ValueError(f"segments must be at least 1, got {segments}")
    size = len(layers) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_run_segment(layers, start, end), input, use_reentrant=use_reentrant,
                           **kwargs)
    return _run_segment(layers, end + 1, len(layers) - 1)(input)


def _run_segment(layers: list, start: int, end: int) -> Callable:
    def run(value):
        for layer in layers[start:end + 1]:
            value = layer(value)
        return value

    return run
