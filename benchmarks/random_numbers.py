"""Random-number speed: retrograd's PyTorch-identical streams against PyTorch's own generator.

    python -m benchmarks.random_numbers            # sizes 100 and 100,000
    python -m benchmarks.random_numbers --sizes 16 1000000 --repeats 9

Each line times one call (best of `repeats`, after a warm-up) of the same expression in both
libraries on one thread, in CPU time of this process (steadier than wall time on a shared
machine); the ratio is retrograd's time over PyTorch's. Without PyTorch only
retrograd's times are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

CASES = (
    ("rand", "lib.rand(n)"),
    ("rand float64", "lib.rand(n, dtype=lib.float64)"),
    ("randn", "lib.randn(n)"),
    ("randn float64", "lib.randn(n, dtype=lib.float64)"),
    ("uniform_(-1, 1)", "lib.empty(n).uniform_(-1, 1)"),
    ("normal_(0.5, 2)", "lib.empty(n).normal_(0.5, 2)"),
    ("randint(0, 100)", "lib.randint(0, 100, (n,))"),
    ("randperm", "lib.randperm(n)"),
    ("bernoulli_(0.5)", "lib.empty(n).bernoulli_(0.5)"),
    ("dropout(p=0.5)", "lib.nn.functional.dropout(ones, 0.5)"),
    ("multinomial(n, 100, True)", "lib.multinomial(ones, 100, True)"),
    ("multinomial(n, 10)", "lib.multinomial(ones, 10)"),
)


def _best_time(statement: str, namespace: dict, repeats: int) -> float:
    code = compile(statement, "<case>", "eval")
    eval(code, namespace)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        eval(code, namespace)
        best = min(best, time.process_time() - start)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--repeats", type=int, default=7)
    arguments = parser.parse_args(argv)

    import retrograd

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    libraries = {"retrograd": retrograd} if torch is None else {"retrograd": retrograd, "torch": torch}
    print("| call | n | retrograd (µs) | PyTorch (µs) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, statement in CASES:
        for n in arguments.sizes:
            times = {}
            for label, lib in libraries.items():
                lib.manual_seed(0)
                namespace = {"lib": lib, "n": n, "ones": lib.ones(n)}
                times[label] = _best_time(statement, namespace, arguments.repeats)
            ours = times["retrograd"] * 1e6
            if "torch" in times:
                theirs = times["torch"] * 1e6
                print(f"| {name} | {n} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.1f} |")
            else:
                print(f"| {name} | {n} | {ours:.1f} | n/a | n/a |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
