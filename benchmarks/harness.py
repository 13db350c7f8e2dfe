"""Check every library's gradients, then time them interleaved (A B C A B C ...).

Each library runs in a process of its own (benchmarks/worker.py; Note [Each library in its
own process]) that the harness asks for one sample at a time, in turn. Interleaving spreads
machine drift (other processes, frequency changes) over all libraries alike. Each timed
sample runs the step enough times to last about `sample_seconds`, after a collection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import math
import statistics
import subprocess
import sys
import time

import numpy as np

from .environment import REPOSITORY
from .workloads import UNIT_SCALE, Workload, as_array


@dataclasses.dataclass
class Settings:
    repeats: int = 5
    warmup: int = 1
    sample_seconds: float = 0.2
    threads: int = 1
    quick: bool = False


@dataclasses.dataclass
class Result:
    """One library on one workload: its samples (in the workload's unit), or why there are none."""

    workload: str
    library: str
    unit: str
    samples: list[float] = dataclasses.field(default_factory=list)
    calls_per_sample: int = 0
    note: str = ""
    max_error: float | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None


def check(step, reference: list[np.ndarray], workload: Workload) -> float:
    """Run `step` once and compare its gradients with the reference; the largest error.

    Raises AssertionError with the offending gradient's index when one is off.
    """
    grads = [as_array(grad) for grad in step()]
    if len(grads) != len(reference):
        raise AssertionError(f"returned {len(grads)} gradients, expected {len(reference)}")
    worst = 0.0
    for index, (grad, expected) in enumerate(zip(grads, reference)):
        if grad.shape != expected.shape:
            raise AssertionError(f"gradient {index} has shape {grad.shape}, expected {expected.shape}")
        difference = np.abs(grad.astype(np.float64) - expected)
        allowed = workload.atol + workload.rtol * np.abs(expected)
        if not np.all(difference <= allowed):
            largest = difference.max()
            raise AssertionError(f"gradient {index} differs from the reference by up to {largest:.3g}")
        scale = np.maximum(np.abs(expected), workload.atol)
        worst = max(worst, float((difference / scale).max(initial=0.0)))
    return worst


def reference_gradients(workload: Workload, problem: dict, numpy_module) -> list[np.ndarray]:
    step = workload.builders["numpy"](numpy_module, problem)
    return [as_array(grad).astype(np.float64) for grad in step()]


class StepFailed(Exception):
    """A library's process reported an error, or exited; the message says which."""


class LibraryProcess:
    """One library's own process (benchmarks/worker.py) and the requests the harness sends it."""

    def __init__(self, library_name: str, settings: Settings):
        command = [sys.executable, "-m", "benchmarks.worker", library_name]
        command += ["--threads", str(settings.threads)]
        if settings.quick:
            command.append("--quick")
        self.process = subprocess.Popen(
            command, cwd=REPOSITORY, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, action: str, **arguments) -> dict:
        """Send one request and wait for its answer; raises StepFailed for an error or an exit."""
        with contextlib.suppress(BrokenPipeError):  # an exited process: the empty read below says so
            self.process.stdin.write(json.dumps({"action": action, **arguments}) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise StepFailed(f"its process exited with code {self.process.wait()}")
        answer = json.loads(line)
        if "error" in answer:
            raise StepFailed(answer["error"])
        return answer

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        self.process.wait(timeout=60)


@contextlib.contextmanager
def library_processes(libraries, settings: Settings):
    """A process for each library, for the whole run, closed at the end."""
    processes = {library.name: LibraryProcess(library.name, settings) for library in libraries}
    try:
        yield processes
    finally:
        for process in processes.values():
            process.close()


def prepare(workload: Workload, libraries, processes: dict) -> tuple[dict, list[Result]]:
    """Have each library's process build and check its step; those that fail or cannot run get a note."""
    ready = {}
    results = []
    for library in libraries:
        result = Result(workload.key, library.name, workload.unit)
        results.append(result)
        try:
            answer = processes[library.name].ask("prepare", workload_key=workload.key)
        except StepFailed as failure:
            result.note = f"failed: {failure}"
            continue
        if "note" in answer:
            result.note = answer["note"]
            continue
        result.max_error = answer["max_error"]
        ready[library.name] = processes[library.name]
    return ready, results


def describe_error(error: Exception) -> str:
    """The exception's type and the first line of its message, short enough for a table."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:120] if text else ''}"


def time_workload(workload: Workload, problem: dict, ready: dict, results: list[Result], settings: Settings):
    """Warm up each step, size its samples, then take the samples interleaved, one process at a time."""
    by_library = {result.library: result for result in results}
    calls = {}
    for name, process in list(ready.items()):
        try:
            seconds = process.ask("time", calls=1)["seconds"]  # the check was the first call
            for _ in range(settings.warmup - 1):
                seconds = process.ask("time", calls=1)["seconds"]
        except StepFailed as failure:
            _drop(by_library[name], ready, f"failed on a repeated call: {failure}")
            continue
        calls[name] = max(1, math.ceil(settings.sample_seconds / max(seconds, 1e-9)))
        by_library[name].calls_per_sample = calls[name]
    repeats = settings.repeats if workload.repeats is None else min(settings.repeats, workload.repeats)
    scale = UNIT_SCALE[workload.unit] / workload.divisor(problem)
    for _ in range(repeats):
        for name, process in list(ready.items()):
            try:
                seconds = process.ask("time", calls=calls[name])["seconds"]
            except StepFailed as failure:  # a later call failing is reported like a failed check
                _drop(by_library[name], ready, f"failed while timing: {failure}")
                continue
            by_library[name].samples.append(seconds / calls[name] * scale)
    for process in ready.values():
        with contextlib.suppress(StepFailed):  # (a process that exits now has given its samples)
            process.ask("release")


def _drop(result: Result, ready: dict, note: str) -> None:
    result.note = note
    result.samples.clear()
    del ready[result.library]


def timed(step, calls: int, disable_gc: bool) -> float:
    gc.collect()
    if disable_gc:
        gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            step()
        return time.perf_counter() - start
    finally:
        gc.enable()
