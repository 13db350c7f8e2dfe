"""Where retrograd's time and memory go, per op: the evidence behind engine changes.

    python -m benchmarks.profile_engine [--section costs,engine,profile,depth,memory]

Sections:
  costs    µs per call of one op on a 1-element float32 tensor: forward without a graph,
           forward recording a node, and the node's backward (as the engine runs it), next
           to PyTorch and to the bare NumPy ufunc.
  engine   the engine's own cost per node: a chain of `y + 0.0`, whose backward does no
           tensor work, so backward time per node is pure engine overhead.
  profile  cProfile of the w1 chain (forward + backward), top functions by own time.
  depth    µs per op of the w4 chain at 10^3, 10^4, 10^5 ops, cyclic gc on and off.
  memory   tracemalloc of the w6 chain: bytes alive after forward, peak, the minimum.
Ops that retrograd does not have yet are replaced in the chains by a stand-in with the
same saving pattern (tanh -> sqrt: both save their output), and the output says so.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import time
import timeit
import tracemalloc

from .environment import pin_threads, use_repository_sources

STAND_INS = {"tanh": "sqrt"}


def _chain_ops(T, cycle, length):
    ops = []
    replaced = set()
    for index in range(length):
        op = cycle[index % len(cycle)]
        if op not in ("add", "mul") and not hasattr(T, op):
            replaced.add(op)
            op = STAND_INS[op]
        ops.append(op)
    return ops, replaced


def _chain_functions(T, ops, x) -> list:
    functions = []
    for op in ops:
        if op == "add":
            functions.append(lambda y: y + x)
        elif op == "mul":
            functions.append(lambda y: y * 0.5)
        else:
            functions.append(getattr(T, op))
    return functions


def _chain_step(T, ops, x):
    functions = _chain_functions(T, ops, x)

    def step():
        x.grad = None
        y = x
        for function in functions:
            y = function(y)
        (y if y.numel() == 1 else y.sum()).backward()

    return step


def _stand_in_note(replaced: set) -> str:
    if not replaced:
        return ""
    return f" (stand-ins: {', '.join(f'{op}->{STAND_INS[op]}' for op in sorted(replaced))})"


def _best_us(statement, namespace, number) -> float:
    return min(timeit.repeat(statement, globals=namespace, number=number, repeat=3)) / number * 1e6


def op_costs(T, torch) -> None:
    import numpy as np

    array = np.array([0.5], dtype=np.float32)
    print("\n## Per-op cost, 1-element float32 (µs per call, best of 3)\n")
    print("| op | NumPy ufunc | retrograd no-grad | retrograd recording | retrograd node backward |"
          " PyTorch no-grad | PyTorch recording |")
    print("|---|---|---|---|---|---|---|")
    cases = {
        "add (tensor)": ("a + a", "lambda y: y + y"),
        "mul (scalar)": ("a * 0.5", "lambda y: y * 0.5"),
        "sin": ("np.sin(a)", "lambda y: L.sin(y)"),
        "exp": ("np.exp(a)", "lambda y: L.exp(y)"),
        "tanh": ("np.tanh(a)", "lambda y: L.tanh(y)"),
        "sqrt": ("np.sqrt(a)", "lambda y: L.sqrt(y)"),
    }
    for name, (numpy_statement, function_source) in cases.items():
        row = [name, f"{_best_us(numpy_statement, {'np': np, 'a': array}, 20000):.2f}"]
        for library in (T, torch):
            if library is None:
                row += ["–", "–"] if library is torch else ["–", "–", "–"]
                continue
            function = eval(function_source, {"L": library})
            plain = library.from_numpy(array.copy())
            leaf = library.from_numpy(array.copy()).requires_grad_()
            try:
                function(plain)
            except AttributeError:
                row += ["missing"] * (3 if library is T else 2)
                continue
            namespace = {"f": function, "p": plain, "r": leaf}
            row.append(f"{_best_us('f(p)', namespace, 20000):.2f}")
            row.append(f"{_best_us('f(r)', namespace, 10000):.2f}")
            if library is T:
                row.append(f"{_node_backward_us(T, function, leaf):.2f}")
        print("| " + " | ".join(row) + " |")


def _node_backward_us(T, function, leaf) -> float:
    """The node's backward as the engine calls it (grad mode off), per call."""
    output = function(leaf)
    node = output.grad_fn
    grad = T.ones_like(output)
    with T.no_grad():
        return _best_us("node.backward(g)", {"node": node, "g": grad}, 10000)


def engine_overhead(T, length: int = 2000) -> None:
    import numpy as np

    x = T.from_numpy(np.array([0.5], dtype=np.float32)).requires_grad_()

    def forward():
        y = x
        for _ in range(length):
            y = y + 0.0
        return y

    forward_seconds = min(timeit.repeat(forward, number=5, repeat=3)) / 5
    total = []
    for _ in range(5):
        y = forward()
        start = time.perf_counter()
        y.backward()
        total.append(time.perf_counter() - start)
    print("\n## Engine overhead per node (chain of y + 0.0, backward does no tensor work)\n")
    print(f"- forward (record one AddBackward0): {forward_seconds / length * 1e6:.2f} µs per op")
    print(f"- backward (engine only): {min(total) / length * 1e6:.2f} µs per node")


def profile_chain(T, length: int = 100, calls: int = 300, top: int = 18) -> None:
    import numpy as np

    from .workloads.chain import MIXED_CYCLE

    ops, replaced = _chain_ops(T, MIXED_CYCLE, length)
    x = T.from_numpy(np.array([0.5], dtype=np.float32)).requires_grad_()
    step = _chain_step(T, ops, x)
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    note = _stand_in_note(replaced)
    print(f"\n## cProfile: w1 chain, {calls} x ({length} ops fwd+bwd){note}\n")
    print("```")
    print("\n".join(line.replace(str(_source_root()), "") for line in stream.getvalue().splitlines()[4:]))
    print("```")


def _source_root():
    from .environment import REPOSITORY

    return REPOSITORY / "src" / "retrograd"


class _CollectorClock:
    """Time spent in Python's cyclic garbage collector, by generation (gc.callbacks)."""

    def __init__(self):
        self.seconds = {}
        self.counts = {}
        self._started = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        self.seconds[generation] = self.seconds.get(generation, 0.0) + time.perf_counter() - self._started
        self.counts[generation] = self.counts.get(generation, 0) + 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc_info):
        gc.callbacks.remove(self)


def depth_scan(T, depths=(1_000, 10_000, 100_000)) -> None:
    import numpy as np

    from .workloads.chain import MIXED_CYCLE

    print("\n## Per-op cost against depth (w4 chain, µs per op)\n")
    print("| ops | fwd+bwd gc on | fwd+bwd gc off | forward gc on | of which full (gen 2) collections |"
          " GC-tracked objects per op |")
    print("|---|---|---|---|---|---|")
    for depth in depths:
        ops, replaced = _chain_ops(T, MIXED_CYCLE, depth)
        x = T.from_numpy(np.array([0.5], dtype=np.float32)).requires_grad_()
        step = _chain_step(T, ops, x)
        step()
        cells = [f"{_seconds(step, disable_gc) / depth * 1e6:.2f}" for disable_gc in (False, True)]
        functions = _chain_functions(T, ops, x)
        gc.collect()
        tracked_before = len(gc.get_objects())
        with _CollectorClock() as clock:
            start = time.perf_counter()
            y = x
            for function in functions:
                y = function(y)
            forward = time.perf_counter() - start
        gc.collect()
        tracked = (len(gc.get_objects()) - tracked_before) / depth
        del y
        full = clock.seconds.get(2, 0.0)
        cells += [f"{forward / depth * 1e6:.2f}", f"{full / depth * 1e6:.2f} ({clock.counts.get(2, 0)} runs)",
                  f"{tracked:.1f}"]
        print(f"| {depth:,} | " + " | ".join(cells) + " |")
    print(_stand_in_note(replaced).strip())


def _seconds(step, disable_gc: bool) -> float:
    gc.collect()
    if disable_gc:
        gc.disable()
    try:
        start = time.perf_counter()
        step()
        return time.perf_counter() - start
    finally:
        gc.enable()


def memory(T, length: int = 200, size: int = 2**20) -> None:
    from .workloads.chain import MEMORY_CYCLE, chain_problem, saved_minimum_bytes

    ops, replaced = _chain_ops(T, MEMORY_CYCLE, length)
    problem = chain_problem(length, size, MEMORY_CYCLE)
    x = T.from_numpy(problem["x"].copy()).requires_grad_()
    mib = 2**20
    gc.collect()
    tracemalloc.start()
    start_bytes = tracemalloc.get_traced_memory()[0]
    y = x
    for op in ops:
        y = getattr(T, op)(y)
    after_forward = tracemalloc.get_traced_memory()[0] - start_bytes
    snapshot = tracemalloc.take_snapshot()
    total = y.sum()
    total.backward()
    peak = tracemalloc.get_traced_memory()[1] - start_bytes
    after_backward = tracemalloc.get_traced_memory()[0] - start_bytes
    tracemalloc.stop()
    note = _stand_in_note(replaced)
    print(f"\n## Memory: w6 chain, {length} ops on {size:,} float32{note}\n")
    print(f"- alive after forward: {after_forward / mib:.0f} MiB; peak during fwd+bwd: {peak / mib:.0f} MiB;"
          f" alive after backward (graph still referenced by y): {after_backward / mib:.0f} MiB")
    print(f"- minimum backward must keep: {saved_minimum_bytes(problem) / mib:.0f} MiB")
    print("- largest allocation sites alive after forward:")
    for statistic in snapshot.statistics("lineno")[:5]:
        frame = statistic.traceback[0]
        print(f"  - {frame.filename.replace(str(_source_root()), '')}:{frame.lineno}: "
              f"{statistic.size / mib:.0f} MiB in {statistic.count} blocks")


SECTIONS = ("costs", "engine", "profile", "depth", "memory")


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", default=",".join(SECTIONS), help=f"any of {', '.join(SECTIONS)}")
    options = parser.parse_args(arguments)
    pin_threads(1)
    use_repository_sources()
    import retrograd

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    chosen = options.section.split(",")
    if "costs" in chosen:
        op_costs(retrograd, torch)
    if "engine" in chosen:
        engine_overhead(retrograd)
    if "profile" in chosen:
        profile_chain(retrograd)
    if "depth" in chosen:
        depth_scan(retrograd)
    if "memory" in chosen:
        memory(retrograd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
