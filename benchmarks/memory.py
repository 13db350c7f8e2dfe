"""Peak memory of one step, measured in a fresh process per library.

Usage (run by the suite): python -m benchmarks.memory WORKLOAD LIBRARY [--quick] [--threads N]
prints one JSON object: the peak resident memory the step added over what the process held
before it, and how its gradients compared with the NumPy reference.

Why a process per measurement: the peak must not be hidden by memory that an earlier run
left mapped, and PyTorch's allocations are invisible to tracemalloc, so resident memory
(Linux's VmHWM, reset through /proc/self/clear_refs) is the one measure every library
shares. glibc is told to give every allocation above 64 KiB its own mapping
(MALLOC_MMAP_THRESHOLD_), so freed arrays leave the resident set at once, for all alike.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from .environment import REPOSITORY, pin_threads, use_repository_sources

MALLOC_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def measure(workload_key: str, library: str, quick: bool, threads: int) -> dict:
    """Run the probe below in a child process and return what it reports."""
    command = [sys.executable, "-m", "benchmarks.memory", workload_key, library, "--threads", str(threads)]
    if quick:
        command.append("--quick")
    environment = {**os.environ, **MALLOC_SETTINGS}
    completed = subprocess.run(
        command, cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=600
    )
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"note": f"failed: {last_line[:160]}"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def probe(workload_key: str, library_name: str, quick: bool, threads: int) -> dict:
    import numpy as np

    from .harness import check, reference_gradients
    from .libraries import BY_NAME
    from .workloads import Unavailable, all_workloads

    workload = next(w for w in all_workloads(quick, depth_scan=False) if w.key == workload_key)
    library = BY_NAME[library_name]
    module = library.load(threads)
    builder = workload.builders[library_name]
    try:
        builder(module, workload.make_problem(True))()  # load lazily imported code paths
    except Unavailable as reason:
        return {"note": f"n/a: {reason}"}
    problem = workload.make_problem(quick)
    step = builder(module, problem)
    gc.collect()
    baseline_kib = _status_kib("VmRSS")
    if not _reset_peak():
        return {"note": "cannot reset the peak resident size (/proc/self/clear_refs)"}
    grads = step()
    peak_kib = _status_kib("VmHWM")
    del grads
    report = {"peak_bytes": (peak_kib - baseline_kib) * 1024}
    reference = reference_gradients(workload, problem, np)
    try:
        report["max_error"] = check(step, reference, workload)
    except AssertionError as failure:
        report["note"] = f"wrong gradient: {failure}"
    return report


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("library")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    options = parser.parse_args(arguments)
    pin_threads(options.threads)
    use_repository_sources()
    print(json.dumps(probe(options.workload, options.library, options.quick, options.threads)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
