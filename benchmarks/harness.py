"""Check every library's gradients, then time them interleaved (A B C A B C ...).

Interleaving spreads machine drift (other processes, frequency changes) over all libraries
alike. Each timed sample runs the step enough times to last about `sample_seconds`, after
a collection of the garbage the previous library left behind.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import statistics
import time

import numpy as np

from .workloads import UNIT_SCALE, Unavailable, Workload, as_array


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


def prepare(workload, problem, libraries, modules, reference) -> tuple[dict, list[Result]]:
    """Build and check every library's step; those that fail or cannot run get a note."""
    steps = {}
    results = []
    for library in libraries:
        result = Result(workload.key, library.name, workload.unit)
        results.append(result)
        builder = workload.builders.get(library.name)
        if builder is None:
            result.note = "not implemented"
            continue
        try:
            step = builder(modules[library.name], problem)
            result.max_error = check(step, reference, workload)
        except Unavailable as reason:
            result.note = f"n/a: {reason}"
            continue
        except AssertionError as failure:
            result.note = f"wrong gradient: {failure}"
            continue
        except Exception as error:  # a library's own failure is a result to report, not a crash
            result.note = f"failed: {_describe(error)}"
            continue
        steps[library.name] = step
    return steps, results


def _describe(error: Exception) -> str:
    """The exception's type and the first line of its message, short enough for a table."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:120] if text else ''}"


def time_workload(workload: Workload, problem: dict, steps: dict, results: list[Result], settings: Settings):
    """Warm up each step, size its samples, then take the samples interleaved."""
    by_library = {result.library: result for result in results}
    calls = {}
    for name, step in list(steps.items()):
        try:
            seconds = _timed(step, 1, workload.disable_gc)  # the check above was the first call
            for _ in range(settings.warmup - 1):
                seconds = _timed(step, 1, workload.disable_gc)
        except Exception as error:
            _drop(by_library[name], steps, f"failed on a repeated call: {_describe(error)}")
            continue
        calls[name] = max(1, math.ceil(settings.sample_seconds / max(seconds, 1e-9)))
        by_library[name].calls_per_sample = calls[name]
    repeats = settings.repeats if workload.repeats is None else min(settings.repeats, workload.repeats)
    scale = UNIT_SCALE[workload.unit] / workload.divisor(problem)
    for _ in range(repeats):
        for name, step in list(steps.items()):
            try:
                seconds = _timed(step, calls[name], workload.disable_gc)
            except Exception as error:  # a later call failing is reported like a failed check
                _drop(by_library[name], steps, f"failed while timing: {_describe(error)}")
                continue
            by_library[name].samples.append(seconds / calls[name] * scale)


def _drop(result: Result, steps: dict, note: str) -> None:
    result.note = note
    result.samples.clear()
    del steps[result.library]


def _timed(step, calls: int, disable_gc: bool) -> float:
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
