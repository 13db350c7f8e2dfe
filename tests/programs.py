"""Random programs over the op table, runnable on retrograd and on PyTorch alike.

A program starts from a few float64 leaves and appends values to a pool, one step at a time:

- `op`: one registered operator, called on one of its table samples whose floating tensors
  are *coupled* to earlier pool values (see `couple`), optionally through its in-place variant;
- `combine`: add, sub or mul of two pool values, broadcasting their shapes;
- `view_inplace`: a clone of a pool value, a view of it written in place, both kept;
- `detach`: a pool value cut from the graph.

The program's output is the sum of every floating pool value weighted by fixed random
numbers, so every step is checked and values have several consumers.

Why coupling keeps every op in its safe domain: an op's input is `sample + (picked - picked_ref)`,
where `picked` are elements of an earlier pool value and `picked_ref` their value in the first
(reference) run. At the reference point each op sees exactly its table sample (chosen in the
op's safe domain, away from kinks and ties), while the derivative of the input with respect to
the earlier value is the identity, so the chain rule runs through every step at full strength.
The reference run records these constants (and detached values); later runs, the perturbed
finite-difference runs and the PyTorch run, reuse them, so all runs compute one function.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

import retrograd
from op_samples import samples_for
from retrograd.ops import table

LEAF_SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1), (0,)]
COMBINE = ("add", "sub", "mul")
VIEWS = ("flat", "first_row", "transpose", "whole")
VIEW_WRITES = ("mul_", "add_", "sin_", "scale_")
# Ops whose samples the program may call: differentiable ones, deterministic on their samples.
OPS = sorted(name for name, info in table.items() if info.differentiable and samples_for(info) is not None)


@dataclasses.dataclass(frozen=True)
class Step:
    """One step; `sources` pick pool values (taken modulo the pool size when run)."""

    kind: str
    sources: tuple[int, ...]
    op: str = ""
    sample: int = 0
    in_place: bool = False
    variant: str = ""


@dataclasses.dataclass(frozen=True)
class Program:
    leaf_shapes: tuple[tuple[int, ...], ...]
    steps: tuple[Step, ...]
    seed: int

    def leaves(self, lib) -> list:
        rng = np.random.default_rng(self.seed)
        return [lib.tensor(rng.uniform(-1.5, 1.5, shape), requires_grad=True) for shape in self.leaf_shapes]

    def describe(self) -> str:
        lines = [f"leaves {list(self.leaf_shapes)} seed {self.seed}"]
        for step in self.steps:
            detail = f" {step.op}[{step.sample}]{' in place' if step.in_place else ''}" if step.op else ""
            lines.append(f"  {step.kind}{detail} {step.variant} from {list(step.sources)}")
        return "\n".join(lines)


class Runner:
    """Runs a program on one library (the `retrograd` or `torch` module).

    `constants` is filled by the first (reference) run and replayed by every later one.
    With `own_reference` the run takes its references from its own values instead (the
    PyTorch run: a reference rounded differently would leave near-zero inputs where the
    sample has exact zeros, and derivatives such as prod's are ill-conditioned there).
    """

    def __init__(self, program: Program, lib, constants: list | None = None, own_reference: bool = False):
        self.program = program
        self.lib = lib
        self.own_reference = own_reference
        self.recording = constants is None
        self.constants = [] if constants is None else constants
        self.next_constant = 0

    def __call__(self, *leaves):
        self.next_constant = 0
        pool = list(leaves)
        for step in self.program.steps:
            pool.extend(getattr(self, f"_{step.kind}")(step, pool))
        return self._loss(pool)

    # -- constants recorded by the reference run

    def _constant(self, make):
        if self.recording:
            self.constants.append(np.array(make(), dtype=np.float64))
        value = self.constants[self.next_constant]
        self.next_constant += 1
        return self.lib.tensor(value)

    @staticmethod
    def _array(value) -> np.ndarray:
        return value.detach().numpy()

    # -- steps

    def _op(self, step: Step, pool: list) -> list:
        info = table[step.op]
        args, kwargs = self._sample(step)
        sources = itertools.cycle(step.sources)
        coupled = _map_arrays(args, lambda array: self._couple(array, pool[next(sources) % len(pool)]))
        function = self._function(info)
        if step.in_place:
            target, *rest = coupled
            result = getattr(target, info.inplace)(*rest, **kwargs)
        else:
            if info.mutates_input:
                coupled = (coupled[0].clone(), *coupled[1:])
            result = function(*coupled, **kwargs)
        outputs = tuple(result) if isinstance(result, tuple | list) else (result,)
        return [out for out in outputs if _is_floating(out)]

    def _sample(self, step: Step):
        """The op's sample: floating tensors of args as arrays (to be coupled), the rest as tensors."""
        info = table[step.op]
        samples = samples_for(info)(np.random.default_rng(self.program.seed))
        args, kwargs = samples[step.sample % len(samples)]
        args = _map_tensors(args, self._sample_input)
        kwargs = _map_dtypes(_map_tensors(kwargs, self._fixed_tensor), self.lib)
        return args, kwargs

    def _sample_input(self, tensor):
        return tensor.detach().numpy() if tensor.dtype.is_floating_point else self._fixed_tensor(tensor)

    def _fixed_tensor(self, tensor):
        return self.lib.tensor(tensor.detach().numpy())

    def _function(self, info):
        if self.lib is retrograd:
            function = info.function
        else:
            function = torch_function(self.lib, info.torch_name)
        if info.gradcheck_wrapper is not None:
            function = info.gradcheck_wrapper(function)
        return function

    def _couple(self, sample: np.ndarray, source):
        """`sample` as a function of `source`: equal at the reference point, identity derivative."""
        constant = self.lib.tensor(sample)
        if not _is_floating(source) or (source.numel() == 0 and sample.size > 0) or _is_fixed(sample):
            return constant
        flat = source.reshape(-1)
        positions = self.lib.arange(sample.size) % max(flat.numel(), 1)
        picked = self.lib.index_select(flat, 0, positions).reshape(sample.shape)
        reference = picked.detach() if self.own_reference else self._constant(lambda: self._array(picked))
        return constant + (picked - reference)

    def _combine(self, step: Step, pool: list) -> list:
        left, right = (pool[index % len(pool)] for index in step.sources[:2])
        if not (_is_floating(left) and _is_floating(right)):
            return []
        if not _broadcastable(tuple(left.shape), tuple(right.shape)):
            return []
        if step.variant == "add":
            return [left + right]
        if step.variant == "sub":
            return [left - right]
        return [left * right]

    def _view_inplace(self, step: Step, pool: list) -> list:
        source = pool[step.sources[0] % len(pool)]
        if not _is_floating(source) or source.numel() == 0:
            return []
        base = source.contiguous().clone()  # PyTorch's clone keeps strides; a view must not depend on them
        view = _view(base, step.variant)
        write = VIEW_WRITES[step.sources[1] % len(VIEW_WRITES)]
        if write == "sin_":
            view.sin_()
        elif write == "scale_":
            view.mul_(1.5)
        else:
            other = self._couple(np.linspace(0.5, 1.5, view.numel()).reshape(tuple(view.shape)),
                                 pool[step.sources[2] % len(pool)])
            getattr(view, write)(other)
        return [base, view]

    def _detach(self, step: Step, pool: list) -> list:
        source = pool[step.sources[0] % len(pool)]
        if not _is_floating(source):
            return []
        if self.own_reference:
            return [source.detach() * 1.0]
        return [self._constant(lambda: self._array(source)) * 1.0]

    def _loss(self, pool: list):
        rng = np.random.default_rng(self.program.seed + 1)
        total = None
        for value in pool:
            if not _is_floating(value):
                continue
            weights = self.lib.tensor(rng.uniform(0.5, 1.5, tuple(value.shape)))
            term = (value * weights).sum()
            total = term if total is None else total + term
        return total


def _view(base, variant: str):
    if variant == "first_row" and base.dim() >= 1 and base.shape[0] > 0:
        return base[0]
    if variant == "transpose" and base.dim() >= 2:
        return base.transpose(0, -1)
    if variant == "flat":
        return base.view(-1)
    return base.view(tuple(base.shape))


def _is_fixed(sample: np.ndarray) -> bool:
    """Samples that stay constant in a program.

    Floating class labels (-1, 0, 1): losses compare them for equality, so finite differences
    across them are meaningless. Samples with deliberately tied non-zero values (max, min,
    norm(p=inf) ties): the gradient there is a convention and jumps on either side, so once
    the tied elements move differently the second derivative is not defined.
    """
    if sample.size == 0:
        return False
    if np.isin(sample, (-1.0, 0.0, 1.0)).all():
        return True
    nonzero = sample[sample != 0]
    return np.unique(nonzero).size < nonzero.size


def _is_floating(value) -> bool:
    return hasattr(value, "dtype") and hasattr(value, "requires_grad") and value.dtype.is_floating_point


def _broadcastable(left: tuple, right: tuple) -> bool:
    return all(a == b or a == 1 or b == 1 for a, b in zip(reversed(left), reversed(right)))


def _map_tensors(value, function):
    """`value` (nested tuples, lists, dicts) with each retrograd tensor replaced by `function(tensor)`."""
    return _map_nested(value, retrograd.Tensor, function)


def _map_arrays(value, function):
    return _map_nested(value, np.ndarray, function)


def _map_nested(value, kind, function):
    if isinstance(value, kind):
        return function(value)
    if isinstance(value, tuple | list):
        return type(value)(_map_nested(item, kind, function) for item in value)
    if isinstance(value, dict):
        return {key: _map_nested(item, kind, function) for key, item in value.items()}
    return value


def _map_dtypes(value, lib):
    if isinstance(value, retrograd.dtype):
        return getattr(lib, value.name)
    if isinstance(value, dict):
        return {key: _map_dtypes(item, lib) for key, item in value.items()}
    return value


def torch_function(torch, name: str):
    """torch.<name> (dotted names allowed: linalg.inv), else the method torch.Tensor.<name>."""
    found = torch
    for part in name.split("."):
        found = getattr(found, part, None)
    return found if found is not None else getattr(torch.Tensor, name)


def in_place_allowed(name: str, sample: int, seed: int) -> bool:
    """The op has an in-place variant that keeps its first (floating) input's shape on this sample."""
    info = table[name]
    if info.inplace is None:
        return False
    samples = samples_for(info)(np.random.default_rng(seed))
    args, kwargs = samples[sample % len(samples)]
    first = args[0] if args else None
    if not isinstance(first, retrograd.Tensor) or not first.dtype.is_floating_point:
        return False
    with retrograd.no_grad():
        result = info.function(*args, **kwargs)
    return isinstance(result, retrograd.Tensor) and result.shape == first.shape and result.dtype == first.dtype
