"""Random autograd programs, run on retrograd and on PyTorch and compared step by step.

programs.py checks op derivatives (against finite differences, on safe inputs). These
programs stress what lies around the ops: the engine, views and the version counter. A
program builds a pool of tensors from a few leaves (float32, float64, int64, int32, bool;
requiring grad or not; with NaN and Inf at times), one step at a time:

- `op`: an out-of-place op (unary, binary with broadcasting and dtype promotion, matmul);
- `inplace`: an in-place op on any pool value: a leaf, a plain tensor, a view, a detach()
  alias (so a saved value may be changed behind the graph's back);
- `view`: view/select/slice/transpose/expand/split/unbind/diagonal... of a pool value,
  including views of tensors that do not require grad, later written in place;
- `detach`, `requires_grad_`, `retain_grad`;
- any op or in-place step may run under `no_grad()`.

Then several roots (which may reach each other) are differentiated with incoming gradients
that may hold NaN, Inf or be int64: `autograd.grad` with create_graph, a second derivative
through the first, and `autograd.backward` into `.grad`.

A program is made by running it on retrograd while choosing each step (so steps fit the
shapes and dtypes at hand); the first step that raises ends it. PyTorch then replays it and
must agree on every step: the same error class at the same step, and at the end the same
values, dtypes, `requires_grad` and `is_leaf` of every pool value, the same first and second
derivatives (None where PyTorch has None) and the same `.grad`.

After every step each pool value's `grad_fn` is read, in both libraries: PyTorch rebuilds the
history of a view lazily, when `grad_fn` is read, and treats a view that was never read
after its base changed as a leaf (a quirk that retrograd's eager rebuild does not copy).
Such a read raises, in both, for a view that split, unbind or chunk returned (or a view
made under no_grad, or a view of either) once the memory it sees was written in place
("Output 0 of Split is a view and its base or another view of its base has been modified
inplace"): the program then ends there. So that programs go on past such writes, a step that
writes in place usually drops those views from the pool (`forget`).

Left out: `requires_grad_()` on a view (a view that requires grad by its own flag, of a base
that does not: PyTorch then rebuilds its views' histories from a base without grad when the
memory is written; found by the generator, programs 6459 and 7313 of issue 12's last run, and
not copied), and second derivatives with respect to non-leaf inputs. Nor does an in-place op read an
input that overlaps its target without being dense (PyTorch reads it while writing, element
by element).

"""

from __future__ import annotations

import dataclasses
import random
import warnings

import numpy as np

from retrograd.autograd.graph import _COUNTER_ZERO

LEAF_SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1), (3, 3)]
FLOAT_DTYPES = ("float32", "float32", "float64")
OTHER_DTYPES = ("int64", "int32", "bool")
SPECIALS = (float("nan"), float("inf"), float("-inf"), 0.0)

UNARY = {
    "neg": lambda L, a: -a,
    "exp": lambda L, a: a.exp(),
    "tanh": lambda L, a: a.tanh(),
    "sigmoid": lambda L, a: a.sigmoid(),
    "relu": lambda L, a: a.relu(),
    "sin": lambda L, a: a.sin(),
    "abs": lambda L, a: a.abs(),
    "sqrt": lambda L, a: a.sqrt(),
    "log": lambda L, a: a.log(),
    "reciprocal": lambda L, a: a.reciprocal(),
    "clone": lambda L, a: a.clone(),
    "sum": lambda L, a: a.sum(),
    "sum0": lambda L, a: a.sum(0),
    "mean": lambda L, a: a.mean(),
    "pow2": lambda L, a: a.pow(2),
    "pow_half": lambda L, a: a ** 0.5,
    "clamp": lambda L, a: a.clamp(min=-0.5, max=0.5),
    "leaky_relu": lambda L, a: L.nn.functional.leaky_relu(a, 0.1),
    "square": lambda L, a: a * a,
    "softmax": lambda L, a: a.softmax(-1),
    "scale": lambda L, a: a * 2.5,
    "rsub": lambda L, a: 1 - a,
    "to64": lambda L, a: a.double(),
    "to32": lambda L, a: a.float(),
}
BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: a - b,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b,
    "maximum": lambda L, a, b: L.maximum(a, b),
    "minimum": lambda L, a, b: L.minimum(a, b),
    "where": lambda L, a, b: L.where(a > 0, a, b),
    "matmul": lambda L, a, b: a @ b,
}
IN_PLACE_UNARY = {
    "exp_": lambda a: a.exp_(),
    "tanh_": lambda a: a.tanh_(),
    "sigmoid_": lambda a: a.sigmoid_(),
    "relu_": lambda a: a.relu_(),
    "sin_": lambda a: a.sin_(),
    "clamp_": lambda a: a.clamp_(min=-0.5),
    "zero_": lambda a: a.zero_(),
    "fill_": lambda a: a.fill_(0.5),
    "pow_": lambda a: a.pow_(2),
    "neg_": lambda a: a.neg_(),
    "abs_": lambda a: a.abs_(),
    "sqrt_": lambda a: a.sqrt_(),
    "scale_": lambda a: a.mul_(1.5),
    "shift_": lambda a: a.add_(1),
}
IN_PLACE_BINARY = {
    "add_": lambda a, b: a.add_(b),
    "sub_": lambda a, b: a.sub_(b),
    "mul_": lambda a, b: a.mul_(b),
    "div_": lambda a, b: a.div_(b),
    "copy_": lambda a, b: a.copy_(b),
}
VIEWS = {
    "flat": lambda a, k: a.view(-1),
    "reshape": lambda a, k: a.reshape(-1),
    "first": lambda a, k: a[0],
    "column": lambda a, k: a[:, 1],
    "tail": lambda a, k: a[1:],
    "t": lambda a, k: a.t(),
    "transpose": lambda a, k: a.transpose(0, -1),
    "unsqueeze": lambda a, k: a.unsqueeze(0),
    "squeeze": lambda a, k: a.squeeze(),
    "narrow": lambda a, k: a.narrow(0, 0, 1),
    "expand": lambda a, k: a.expand(2, *a.shape),
    "diagonal": lambda a, k: a.diagonal(),
    "split": lambda a, k: a.split(1)[k % max(len(a), 1)],
    "unbind": lambda a, k: a.unbind(0)[k % max(len(a), 1)],
    "chunk": lambda a, k: a.chunk(2)[0],
    "select": lambda a, k: a.select(0, -1),
    "detach": lambda a, k: a.detach(),
}
MULTI_VIEWS = ("split", "unbind", "chunk")
SINGLE_VIEWS = ("first", "flat", "t", "narrow", "column", "tail", "select", "diagonal", "unsqueeze", "expand")
FLOAT_ONLY = ("leaky_relu", "softmax", "mean")  # (refused on integers, by both: drawn less often there)


@dataclasses.dataclass(frozen=True)
class Leaf:
    shape: tuple[int, ...]
    dtype: str
    requires_grad: bool
    values: tuple


@dataclasses.dataclass(frozen=True)
class Step:
    kind: str  # op, inplace, view, requires_grad_, retain_grad
    name: str = ""
    sources: tuple[int, ...] = ()
    scalar: float | None = None
    index: int = 0
    no_grad: bool = False
    forget: tuple[int, ...] = ()  # pool values dropped after the step (see the module docstring)


@dataclasses.dataclass(frozen=True)
class Backward:
    roots: tuple[int, ...]
    gradients: tuple  # per root: (kind, values) with kind float, int or None (implicit)
    inputs: tuple[int, ...]
    weights: tuple  # per input, for the second derivative
    leaves: tuple[int, ...] = ()  # the positions in `inputs` of leaves: second derivatives are taken there


@dataclasses.dataclass
class Program:
    seed: int
    leaves: list[Leaf]
    steps: list[Step]
    backward: Backward | None = None

    def describe(self) -> str:
        lines = [f"seed {self.seed}"]
        for number, leaf in enumerate(self.leaves):
            lines.append(f"  [{number}] leaf {leaf.dtype}{list(leaf.shape)} requires_grad={leaf.requires_grad} "
                         f"{list(leaf.values)}")
        number = len(self.leaves)
        for step_number, step in enumerate(self.steps):
            extra = f" scalar={step.scalar}" if step.scalar is not None else ""
            extra += " under no_grad" if step.no_grad else ""
            extra += f", then forget {list(step.forget)}" if step.forget else ""
            made = f"[{number}] = " if step.kind in ("op", "view") else ""
            lines.append(f"  step {step_number}: {made}{step.kind} {step.name} of {list(step.sources)} "
                         f"index={step.index}{extra}")
            number += step.kind in ("op", "view")
        if self.backward is not None:
            lines.append(f"  backward roots {list(self.backward.roots)} inputs {list(self.backward.inputs)} "
                         f"gradients {list(self.backward.gradients)}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Running one program on one library


def _error_class(error: BaseException) -> str:
    """The builtin class an error is (PyTorch's own error classes derive from builtin ones)."""
    for klass in type(error).__mro__:
        if klass.__module__ == "builtins":
            return klass.__name__
    return type(error).__name__


def make_leaf(L, leaf: Leaf):
    array = np.array(leaf.values, dtype=np.float64).reshape(leaf.shape)
    dtype = getattr(L, leaf.dtype)
    if leaf.dtype == "bool":
        return L.tensor(array != 0)
    if leaf.dtype.startswith("int"):
        return L.tensor(array.astype(np.int64), dtype=dtype)
    return L.tensor(array, dtype=dtype, requires_grad=leaf.requires_grad)


def run_step(L, pool: list, step: Step) -> None:
    """Run one step on library L, appending what it makes to the pool."""
    if step.no_grad:
        with L.no_grad():
            _run_step(L, pool, step)
    else:
        _run_step(L, pool, step)
    for index in step.forget:
        pool[index] = None
    for value in pool:
        if value is not None:
            value.grad_fn  # (see the module docstring: PyTorch rebuilds views lazily)


def _other(L, pool: list, step: Step):
    return step.scalar if step.scalar is not None else pool[step.sources[1]]


def _run_step(L, pool: list, step: Step) -> None:
    source = pool[step.sources[0]]
    if step.kind == "op":
        if step.name in UNARY:
            pool.append(UNARY[step.name](L, source))
        else:
            pool.append(BINARY[step.name](L, source, _other(L, pool, step)))
    elif step.kind == "inplace":
        if step.name in IN_PLACE_UNARY:
            IN_PLACE_UNARY[step.name](source)
        else:
            IN_PLACE_BINARY[step.name](source, _other(L, pool, step))
    elif step.kind == "view":
        pool.append(VIEWS[step.name](source, step.index))
    elif step.kind == "requires_grad_":
        source.requires_grad_()
    elif step.kind == "retain_grad":
        source.retain_grad()
    else:
        raise ValueError(step.kind)


def _gradient(L, root, spec):
    kind, values = spec
    if kind is None:
        return None
    array = np.array(values, dtype=np.float64).reshape(tuple(root.shape))
    if kind == "int":
        return L.tensor(array.astype(np.int64))
    return L.tensor(array, dtype=root.dtype)


def _state(value) -> tuple | None:
    if value is None:
        return None
    if getattr(value, "_is_zerotensor", lambda: False)():  # PyTorch's zeros without storage
        data = np.zeros(tuple(value.shape))
    else:
        data = value.detach().numpy().copy()
    return (str(value.dtype).split(".")[-1], tuple(value.shape), value.requires_grad, value.is_leaf, data)


def _grads(values) -> list:
    return [None if value is None else _state(value) for value in values]


def run(L, program: Program) -> dict:
    """Everything observable about the program on library L."""
    observed: dict = {"failed_at": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pool = [make_leaf(L, leaf) for leaf in program.leaves]
        for number, step in enumerate(program.steps):
            try:
                run_step(L, pool, step)
            except Exception as error:  # (compared by class with the other library)
                observed["failed_at"] = (number, _error_class(error))
                observed["message"] = str(error)[:300]
                return observed
        observed["pool"] = [_state(value) for value in pool]
        if program.backward is not None:
            _run_backward(L, pool, program.backward, observed)
    return observed


def _run_backward(L, pool: list, backward: Backward, observed: dict) -> None:
    roots = [pool[index] for index in backward.roots]
    gradients = [_gradient(L, root, spec) for root, spec in zip(roots, backward.gradients)]
    inputs = [pool[index] for index in backward.inputs]
    phase = "grad"
    try:
        firsts = ()
        if inputs:
            firsts = L.autograd.grad(roots, inputs, gradients, retain_graph=True, create_graph=True,
                                     allow_unused=True)
            observed["first"] = _grads(firsts)
        # .grad is read before the second derivative runs: that pass goes through the saved
        # values of the first graph, where PyTorch's retained grads may be reached again
        # (see the module docstring)
        phase = "backward"  # twice: with create_graph, then without (how .grad accumulates)
        L.autograd.backward(roots, gradients, retain_graph=True, create_graph=True)
        L.autograd.backward(roots, gradients, retain_graph=True)
        observed["grad"] = [
            None if value.grad is None else _state(value.grad)
            for value in pool
            if value is not None and value.requires_grad and (value.is_leaf or value.retains_grad)
        ]
        phase = "second"
        terms = [
            (first * L.tensor(np.array(weights).reshape(tuple(first.shape)), dtype=first.dtype)).sum()
            for first, weights in zip(firsts, backward.weights)
            if first is not None and first.requires_grad
        ]
        observed["second_exists"] = bool(terms)
        leaves = [inputs[position] for position in backward.leaves]
        if terms and leaves:
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            observed["second"] = _grads(L.autograd.grad(total, leaves, allow_unused=True))
    except Exception as error:
        observed["backward_failed"] = (phase, _error_class(error))
        observed["message"] = str(error)[:300]


# ---------------------------------------------------------------------------
# Making a program (by running it on retrograd)


class _Maker:
    def __init__(self, seed: int, retrograd):
        self.rng = random.Random(seed)
        self.seed = seed
        self.L = retrograd
        self.multi_views: set[int] = set()  # pool values split/unbind/chunk made, and views of them
        self.pending: list[Step] = []  # steps decided ahead

    def leaf(self) -> Leaf:
        rng = self.rng
        shape = rng.choice(LEAF_SHAPES)
        dtype = rng.choice(FLOAT_DTYPES) if rng.random() < 0.85 else rng.choice(OTHER_DTYPES)
        count = int(np.prod(shape, dtype=np.int64))
        if dtype in FLOAT_DTYPES:
            values = [round(rng.uniform(-2, 2), 3) for _ in range(count)]
            if rng.random() < 0.2 and count:
                values[rng.randrange(count)] = rng.choice(SPECIALS)
        else:
            values = [float(rng.randint(-3, 3)) for _ in range(count)]
        requires_grad = dtype in FLOAT_DTYPES and rng.random() < 0.65
        return Leaf(shape, dtype, requires_grad, tuple(values))

    def pick(self, pool: list, prefer_grad: bool = False) -> int:
        if prefer_grad and self.rng.random() < 0.6:
            chosen = [index for index, value in enumerate(pool) if value is not None and value.requires_grad]
            if chosen:
                return self.rng.choice(chosen)
        # recent values more often: programs grow chains, not only fans
        index = min(len(pool) - 1, int(len(pool) * self.rng.random() ** 0.5))
        while pool[index] is None:
            index -= 1
        return index

    def grad_into_plain(self, pool: list) -> Step | None:
        """A value that requires grad written into plain floating memory, viewed elsewhere if
        possible: the base and every view of it must take the history (issue 12)."""
        rng = self.rng
        plain = [index for index, value in enumerate(pool)
                 if value is not None and not value.requires_grad and value.dtype.is_floating_point]
        if not plain:
            return None
        viewed = [index for index in plain if _shares_memory(pool, index)]
        if not viewed and rng.random() < 0.8:  # a view first, for a later write to reach
            return Step("view", rng.choice(SINGLE_VIEWS), (rng.choice(plain),), index=rng.randrange(3))
        target = rng.choice(viewed if viewed and rng.random() < 0.8 else plain)
        shape = tuple(pool[target].shape)
        sources = [index for index, value in enumerate(pool)
                   if value is not None and value.requires_grad and _broadcasts_to(tuple(value.shape), shape)
                   and not _overlaps_not_dense(pool[target], value)]
        if not sources:
            return None
        return Step("inplace", rng.choice(("add_", "mul_", "copy_", "sub_")), (target, rng.choice(sources)))

    def pick_where(self, pool: list, wanted, otherwise: int) -> int:
        chosen = [index for index, value in enumerate(pool) if value is not None and wanted(index)]
        return self.rng.choice(chosen) if chosen else otherwise

    def partner(self, pool: list, first: int) -> int:
        """Another pool value, broadcastable with `first` most of the time (and requiring grad
        half of the time, where one does)."""
        shape = tuple(pool[first].shape)
        present = [index for index, value in enumerate(pool) if value is not None]
        if self.rng.random() < 0.5:
            present = [index for index in present if pool[index].requires_grad] or present
        fitting = [index for index in present if _broadcastable(shape, tuple(pool[index].shape))]
        if fitting and self.rng.random() < 0.85:
            return self.rng.choice(fitting)
        return self.rng.choice(present)

    def step(self, pool: list) -> Step:
        rng = self.rng
        if self.pending:
            return self.pending.pop(0)
        kind = rng.choices(["op", "inplace", "view", "requires_grad_", "retain_grad", "grad_into_plain"],
                           [32, 24, 24, 2, 6, 12])[0]
        if kind == "grad_into_plain":
            step = self.grad_into_plain(pool)
            if step is not None:
                return step
            kind = "inplace"
        # ops on values that require grad more often, retained grads on non-leaves, writes
        # often into memory that other pool values view
        source = self.pick(pool, prefer_grad=kind == "op")
        if kind == "retain_grad" and rng.random() < 0.9:
            source = self.pick_where(pool, lambda index: pool[index].grad_fn is not None, source)
            if rng.random() < 0.7:  # a curved use next, so the retained gradient depends on the leaves
                self.pending.append(Step("op", rng.choice(("square", "exp", "sin", "tanh")), (source,)))
        elif kind == "inplace":
            if rng.random() < 0.4:
                source = self.pick_where(pool, lambda index: _shares_memory(pool, index), source)
            if _writes_a_leaf(pool[source]) and rng.random() < 0.85:  # (an error: keep some)
                source = self.pick_where(pool, lambda index: not _writes_a_leaf(pool[index]), source)
        no_grad = kind in ("op", "inplace") and rng.random() < 0.1
        floating = pool[source].dtype.is_floating_point
        if kind == "op":
            if rng.random() < 0.5:
                names = sorted(name for name in UNARY if floating or name not in FLOAT_ONLY or rng.random() < 0.2)
                return Step("op", rng.choice(names), (source,), no_grad=no_grad)
            name = rng.choice(sorted(BINARY))
            if rng.random() < 0.15 and name != "matmul":
                return Step("op", name, (source,), scalar=rng.choice((2.0, -0.5, 3)), no_grad=no_grad)
            return Step("op", name, (source, self.partner(pool, source)), no_grad=no_grad)
        if kind == "requires_grad_" and pool[source]._base is not None:
            kind = "retain_grad"  # (left out: see the module docstring)
        if kind == "inplace":
            if rng.random() < 0.5:
                return Step("inplace", rng.choice(sorted(IN_PLACE_UNARY)), (source,), no_grad=no_grad)
            name = rng.choice(sorted(IN_PLACE_BINARY))
            if rng.random() < 0.15:
                return Step("inplace", name, (source,), scalar=rng.choice((2.0, -0.5, 3)), no_grad=no_grad)
            other = self.partner(pool, source)
            if not floating and pool[other].dtype.is_floating_point and rng.random() < 0.8:
                return Step("inplace", "mul_", (source,), scalar=3, no_grad=no_grad)  # (int stays int)
            if _overlaps_not_dense(pool[source], pool[other]):
                return Step("inplace", "mul_", (source,), scalar=2.0, no_grad=no_grad)
            return Step("inplace", name, (source, other), no_grad=no_grad)
        if kind == "view":
            names = sorted(name for name in VIEWS if pool[source].dim() or name not in ("split", "chunk")
                           or rng.random() < 0.3)  # (0-d: an error, in both)
            return Step("view", rng.choice(names), (source,), index=rng.randrange(3))
        return Step(kind, "", (source,))

    def backward(self, pool: list) -> Backward | None:
        rng = self.rng
        candidates = [index for index, value in enumerate(pool) if value is not None and value.requires_grad]
        if not candidates:
            return None
        roots = tuple(rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2, 3)))))
        gradients = []
        for index in roots:
            root = pool[index]
            count = root.numel()
            kind = rng.choices(["implicit", "float", "special", "int"], [3, 4, 2, 1])[0]
            if kind == "implicit" and count == 1 and len(roots) == 1:
                gradients.append((None, ()))
                continue
            if kind == "int":
                gradients.append(("int", tuple(float(rng.randint(-2, 2)) for _ in range(count))))
                continue
            values = [round(rng.uniform(-1.5, 1.5), 3) for _ in range(count)]
            if kind == "special" and count:
                values[rng.randrange(count)] = rng.choice(SPECIALS)
            gradients.append(("float", tuple(values)))
        leaves = [index for index in candidates if pool[index].is_leaf]
        others = [index for index in candidates if not pool[index].is_leaf and rng.random() < 0.2]
        inputs = tuple(leaves + others)
        weights = tuple(
            tuple(round(rng.uniform(0.5, 1.5), 3) for _ in range(pool[index].numel())) for index in inputs
        )
        return Backward(roots, tuple(gradients), inputs, weights, tuple(range(len(leaves))))


def make_program(seed: int, retrograd, max_steps: int = 10) -> Program:
    maker = _Maker(seed, retrograd)
    rng = maker.rng
    program = Program(seed, [maker.leaf() for _ in range(rng.randint(1, 3))], [])
    multi_views = maker.multi_views
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pool = [make_leaf(retrograd, leaf) for leaf in program.leaves]
        for _ in range(rng.randint(2, max_steps)):
            step = maker.step(pool)
            program.steps.append(step)
            try:
                run_step(retrograd, pool, step)
            except Exception:  # (the program ends with a step that raises)
                return program
            if step.kind == "view" and step.name != "detach" and (
                    step.name in MULTI_VIEWS or step.sources[0] in multi_views):
                multi_views.add(len(pool) - 1)
            if step.kind == "inplace":
                written = pool[step.sources[0]]._version_counter  # shared by a base and its views
                forget = tuple(index for index in sorted(multi_views)
                               if pool[index]._version_counter is written)
                if forget and rng.random() < 0.75:  # (else the next step reads a spoiled view: both raise)
                    program.steps[-1] = dataclasses.replace(step, forget=forget)
                    for index in forget:
                        pool[index] = None
                        multi_views.discard(index)
        program.backward = maker.backward(pool)
    return program


def _writes_a_leaf(value) -> bool:
    """Whether writing into `value` in place is refused as a write into a leaf that requires grad."""
    base = value._base
    return value.grad_fn is None and (value.requires_grad or (base is not None and base.requires_grad))


def _shares_memory(pool: list, index: int) -> bool:
    counter = pool[index]._version_counter
    if counter is _COUNTER_ZERO:  # (a tensor nothing shares yet: Note [The shared zero version])
        return False
    return any(value is not None and position != index and value._version_counter is counter
               for position, value in enumerate(pool))


def _overlaps_not_dense(target, other) -> bool:
    written, read = target._data, other._data
    if written is read or not np.may_share_memory(written, read):
        return False
    return not (_dense(written) and _dense(read))


def _dense(array: np.ndarray) -> bool:
    expected = array.itemsize
    for stride, size in sorted((abs(stride), size) for size, stride in zip(array.shape, array.strides) if size != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    return len(shape) <= len(target) and all(
        size in (1, wanted) for size, wanted in zip(reversed(shape), reversed(target)))


def _broadcastable(left: tuple, right: tuple) -> bool:
    return all(a == b or a == 1 or b == 1 for a, b in zip(reversed(left), reversed(right)))


# ---------------------------------------------------------------------------
# Comparing


def _same_state(mine, theirs, what: str, loose: bool, values: bool = True) -> str | None:
    if mine is None or theirs is None:
        if mine is None and theirs is None:
            return None
        return f"{what}: retrograd {'None' if mine is None else 'a tensor'}, PyTorch {'None' if theirs is None else 'a tensor'}"
    (dtype, shape, requires_grad, is_leaf, data), (dtype_t, shape_t, requires_grad_t, is_leaf_t, data_t) = mine, theirs
    if (dtype, shape) != (dtype_t, shape_t):
        return f"{what}: retrograd {dtype}{list(shape)}, PyTorch {dtype_t}{list(shape_t)}"
    if (requires_grad, is_leaf) != (requires_grad_t, is_leaf_t):
        return (f"{what}: retrograd requires_grad={requires_grad} is_leaf={is_leaf}, PyTorch "
                f"requires_grad={requires_grad_t} is_leaf={is_leaf_t}")
    if data.dtype.kind in "fc":
        if not values:  # only where the values are NaN or infinite, and which infinity
            if not (np.array_equal(np.isnan(data), np.isnan(data_t))
                    and np.array_equal(np.where(np.isinf(data), data, 0), np.where(np.isinf(data_t), data_t, 0))):
                return f"{what}: retrograd {data.tolist()}, PyTorch {data_t.tolist()} (NaN or inf)"
            return None
        rtol, atol = (1e-4, 1e-4) if loose else (1e-9, 1e-11)
        finite = np.abs(data_t[np.isfinite(data_t)])
        scale = 1.0 + (float(finite.max()) if finite.size else 0.0)
        if not np.allclose(data, data_t, rtol=rtol, atol=atol * scale, equal_nan=True):
            return f"{what}: retrograd {data.tolist()}, PyTorch {data_t.tolist()}"
    elif not np.array_equal(data, data_t):
        return f"{what}: retrograd {data.tolist()}, PyTorch {data_t.tolist()}"
    return None


def compare(mine: dict, theirs: dict, loose: bool = True, values: bool = True) -> str | None:
    """The first disagreement between two runs of a program, or None. `loose`: float32
    tolerances (a program with any float32 value rounds there, in either library); without
    `values`, floating values are compared only for where they are NaN or infinite."""
    if mine["failed_at"] != theirs["failed_at"]:
        return (f"step errors differ: retrograd {mine['failed_at']} ({mine.get('message')}), "
                f"PyTorch {theirs['failed_at']} ({theirs.get('message')})")
    if mine["failed_at"] is not None:
        return None
    loose = loose or any(state is not None and state[0] in ("float32", "float16") for state in mine["pool"])
    for number, (ours, reference) in enumerate(zip(mine["pool"], theirs["pool"])):
        found = _same_state(ours, reference, f"pool value {number}", loose, values)
        if found:
            return found
    if mine.get("backward_failed") != theirs.get("backward_failed"):
        return (f"backward errors differ: retrograd {mine.get('backward_failed')} ({mine.get('message')}), "
                f"PyTorch {theirs.get('backward_failed')} ({theirs.get('message')})")
    if mine.get("second_exists") != theirs.get("second_exists"):
        return (f"first derivatives that require grad: retrograd {mine.get('second_exists')}, "
                f"PyTorch {theirs.get('second_exists')}")
    for key in ("first", "second", "grad"):
        for number, (ours, reference) in enumerate(zip(mine.get(key, ()), theirs.get(key, ()), strict=True)):
            found = _same_state(ours, reference, f"{key} {number}", loose, values)
            if found:
                return found
    return None


def in_float64(program: Program) -> Program:
    """The program with every float32 value float64 instead (leaves, `to32`), on the same
    float32-rounded leaf values: where the float32 runs differ by rounding alone, the formulas
    are compared here, at float64's tolerances."""
    leaves = [
        dataclasses.replace(leaf, dtype="float64", values=tuple(float(np.float32(value)) for value in leaf.values))
        if leaf.dtype == "float32" else leaf
        for leaf in program.leaves
    ]
    steps = [dataclasses.replace(step, name="to64") if step.name == "to32" else step for step in program.steps]
    return dataclasses.replace(program, leaves=leaves, steps=steps)


def check(seed: int, retrograd, torch, max_steps: int = 10) -> str | None:
    """Make program `seed`, run it on both libraries; the disagreement (with the program), or None.

    Note [float32 rounding in the programs]: a program with float32 values is compared with
    tolerances of 1e-4 (relative, and absolute times the largest finite value). A second
    derivative through x / x or a product of reciprocals sums terms of 1e4 to 1e7 that cancel,
    so float32 leaves both results with rounding noise far above that (each library sums in
    its own order). Where the two runs then differ only in float values (the same errors,
    dtypes, shapes, flags, Nones, and NaN and infinities in the same places), the difference
    is accepted as rounding if the same program in float64 agrees at float64's tolerances: the
    formulas are the same, only float32 rounded them differently.
    """
    return judge(make_program(seed, retrograd, max_steps), retrograd, torch)


def judge(program: Program, retrograd, torch) -> str | None:
    """Run `program` on both libraries; the disagreement (with the program), or None (see `check`)."""
    loose = any(leaf.dtype != "float64" for leaf in program.leaves)
    mine, theirs = run(retrograd, program), run(torch, program)
    found = compare(mine, theirs, loose)
    if found is not None and loose and compare(mine, theirs, loose, values=False) is None:
        wide = in_float64(program)
        if compare(run(retrograd, wide), run(torch, wide), loose=False) is None:
            return None
    return None if found is None else f"{found}\n{program.describe()}"
