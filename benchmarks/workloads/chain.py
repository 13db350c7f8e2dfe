"""Chains of elementwise ops: per-op overhead (w1), deep graphs (w4), peak memory (w6, w9).

A chain applies ops one after another to a running value `y`, starting from the leaf
`x`: `sin`, `exp`, `tanh` are the functions; `add` adds the leaf (`y + x`, so the
gradient reaching x stays finite however deep the chain) and `mul` scales by 0.5.
"""

from __future__ import annotations

import numpy as np

from ._base import Unavailable, Workload, leaf, torch_like

MIXED_CYCLE = ("sin", "exp", "add", "mul", "tanh")
MEMORY_CYCLE = ("sin", "exp", "tanh")
FACTOR = 0.5

# Which value each op's derivative needs: its input or its output.
NEEDS_INPUT = {"sin"}
NEEDS_OUTPUT = {"exp", "tanh"}


def chain_problem(length: int, size: int, cycle: tuple[str, ...], seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 0.9, size).astype(np.float32)
    ops = tuple(cycle[index % len(cycle)] for index in range(length))
    return {"x": x, "ops": ops}


# ---------------------------------------------------------------------------
# The hand-written NumPy reference: saves exactly what each derivative needs and
# frees it as soon as backward has used it.


def _sin(y, x, saved):
    saved.append(y)
    return np.sin(y)


def _exp(y, x, saved):
    y = np.exp(y)
    saved.append(y)
    return y


def _tanh(y, x, saved):
    y = np.tanh(y)
    saved.append(y)
    return y


def _add(y, x, saved):
    return y + x


def _mul(y, x, saved):
    return y * FACTOR


_NUMPY_FORWARD = {"sin": _sin, "exp": _exp, "tanh": _tanh, "add": _add, "mul": _mul}


def numpy_chain(np_module, problem):
    x = problem["x"]
    forward = [_NUMPY_FORWARD[op] for op in problem["ops"]]
    reversed_ops = problem["ops"][::-1]
    factor = x.dtype.type(FACTOR)

    def step():
        saved = []
        y = x
        for function in forward:
            y = function(y, x, saved)
        del y
        grad = np.ones_like(x)
        grad_x = None
        for op in reversed_ops:
            if op == "sin":
                grad = grad * np.cos(saved.pop())
            elif op == "exp":
                grad = grad * saved.pop()
            elif op == "tanh":
                result = saved.pop()
                grad = grad * (1 - result * result)
            elif op == "mul":
                grad = grad * factor
            else:
                grad_x = grad if grad_x is None else grad_x + grad
        return [grad if grad_x is None else grad_x + grad]

    return step


# ---------------------------------------------------------------------------
# The libraries


def _torch_like_op(T, op: str, x):
    if op == "add":
        return lambda y: y + x
    if op == "mul":
        return lambda y: y * FACTOR
    return getattr(T, op)


@torch_like("sin", "exp", "tanh")
def torch_like_chain(T, problem):
    x = leaf(T, problem["x"])
    functions = [_torch_like_op(T, op, x) for op in problem["ops"]]

    def step():
        x.grad = None
        y = x
        for function in functions:
            y = function(y)
        (y if y.numel() == 1 else y.sum()).backward()
        return [x.grad]

    return step


def autograd_chain(module, problem):
    import autograd.numpy as anp

    x = problem["x"].copy()
    named = {"sin": anp.sin, "exp": anp.exp, "tanh": anp.tanh}
    functions = [_array_op(named, op, x.dtype) for op in problem["ops"]]

    def total(x):
        y = x
        for function in functions:
            y = function(y, x)
        return anp.sum(y)

    gradient = module.grad(total)
    return lambda: [gradient(x)]


def _array_op(named: dict, op: str, dtype):
    if op == "add":
        return lambda y, x: y + x
    if op == "mul":
        factor = dtype.type(FACTOR)
        return lambda y, x: y * factor
    function = named[op]
    return lambda y, x: function(y)


def mygrad_chain(module, problem):
    x = module.tensor(problem["x"].copy())
    named = {"sin": module.sin, "exp": module.exp, "tanh": module.tanh}
    functions = [_array_op(named, op, problem["x"].dtype) for op in problem["ops"]]

    def step():
        y = x
        for function in functions:
            y = function(y, x)
        y.backward()
        return [x.grad]

    return step


def _micrograd_chain(module, problem):
    raise Unavailable("micrograd's Value has no sin, exp or tanh")


BUILDERS = {
    "numpy": numpy_chain,
    "retrograd": torch_like_chain,
    "torch": torch_like_chain,
    "autograd": autograd_chain,
    "mygrad": mygrad_chain,
    "micrograd": _micrograd_chain,
}


def _op_count(problem) -> float:
    return float(len(problem["ops"]))


def saved_minimum_bytes(problem) -> int:
    """What backward must keep, at least: every distinct value some derivative needs.

    Value 0 is the input leaf (held by the caller anyway, so not counted); value i is the
    output of op i. sin needs its input, exp and tanh their output.
    """
    needed = set()
    for index, op in enumerate(problem["ops"]):
        if op in NEEDS_INPUT:
            needed.add(index)
        elif op in NEEDS_OUTPUT:
            needed.add(index + 1)
    needed.discard(0)
    return len(needed) * problem["x"].nbytes


def w1() -> Workload:
    return Workload(
        key="w1",
        title="per-op overhead: 100-op chain on a 1-element float32 tensor, fwd+bwd",
        unit="µs/op",
        make_problem=lambda quick: chain_problem(20 if quick else 100, 1, MIXED_CYCLE),
        builders=BUILDERS,
        divisor=_op_count,
        rtol=1e-4,
    )


def w4() -> Workload:
    return Workload(
        key="w4",
        title="deep graph: 100,000-op chain on a 1-element float32 tensor, fwd+bwd",
        unit="s",
        make_problem=lambda quick: chain_problem(1_000 if quick else 100_000, 1, MIXED_CYCLE),
        builders=BUILDERS,
        rtol=1e-3,
        repeats=3,
    )


def _peak_memory(key: str, title: str, cycle: tuple[str, ...]) -> Workload:
    """Peak memory of one forward+backward of a 200-op chain of `cycle` on 2^20 float32."""
    return Workload(
        key=key,
        title=f"peak memory: {title} chain on 2^20 float32, fwd+bwd",
        unit="MiB",
        make_problem=lambda quick: chain_problem(30 if quick else 200, 2**12 if quick else 2**20, cycle),
        builders=BUILDERS,
        rtol=1e-3,
        atol=1e-30,
    )


def w6() -> Workload:
    return _peak_memory("w6", "200-op sin/exp/tanh", MEMORY_CYCLE)


def w9() -> Workload:
    return _peak_memory("w9", "(sin, exp, add, mul, tanh) x 40", MIXED_CYCLE)


def depth_scan(depths: tuple[int, ...]) -> list[Workload]:
    """Per-op cost of the mixed chain at several depths, with and without the cycle collector."""
    workloads = []
    for depth in depths:
        for disable_gc in (False, True):
            workloads.append(
                Workload(
                    key=f"chain {depth:,} gc {'off' if disable_gc else 'on'}",
                    title=f"{depth:,}-op chain, cyclic gc {'off' if disable_gc else 'on'}",
                    unit="µs/op",
                    make_problem=lambda quick, depth=depth: chain_problem(depth, 1, MIXED_CYCLE),
                    builders=BUILDERS,
                    divisor=_op_count,
                    rtol=1e-3,
                    disable_gc=disable_gc,
                    repeats=3,
                    table="depth",
                )
            )
    return workloads
