"""The run's results as a console table, a JSON file and docs/benchmarks.md."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from .harness import Result
from .libraries import BY_NAME

# The targets of issue 11 (Operators v2) for retrograd: (workload, compared with, at most
# this ratio). w9's floor is 0.67x: what backward must keep, against what PyTorch keeps.
TARGETS = (
    ("w1", "torch", 0.6),
    ("w2", "torch", 1.0),
    ("w3", "numpy", 1.05),
    ("w4", "torch", 0.7),
    ("w5", "torch", 1.0),
    ("w7", "torch", 1.3),
    ("w9", "torch", 0.75),
)


def number(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def ratio(result: Result, baseline: Result | None) -> str:
    if baseline is None or result.median is None or not baseline.median:
        return "–"
    return f"{result.median / baseline.median:.2f}×"


@dataclasses.dataclass
class Row:
    workload: str
    library: str
    median: str
    spread: str
    unit: str
    versus_torch: str
    versus_numpy: str
    note: str


HEADERS = ("workload", "library", "median", "min–max", "unit", "× PyTorch", "× NumPy", "note")


def rows(results: list[Result]) -> list[Row]:
    by_key = {(result.workload, result.library): result for result in results}
    table = []
    for result in results:
        torch_result = by_key.get((result.workload, "torch"))
        numpy_result = by_key.get((result.workload, "numpy"))
        spread = f"{number(min(result.samples))}–{number(max(result.samples))}" if result.samples else "–"
        table.append(
            Row(
                workload=result.workload,
                library=BY_NAME[result.library].label,
                median=number(result.median),
                spread=spread,
                unit=result.unit,
                versus_torch=ratio(result, torch_result),
                versus_numpy=ratio(result, numpy_result),
                note=result.note,
            )
        )
    return table


def console_table(table: list[Row]) -> str:
    cells = [HEADERS] + [dataclasses.astuple(row) for row in table]
    widths = [max(len(str(line[column])) for line in cells) for column in range(len(HEADERS) - 1)]
    lines = []
    previous = None
    for line in cells:
        if previous is not None and line[0] != previous and line is not cells[1]:
            lines.append("")
        previous = line[0] if line is not cells[0] else None
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1])
    return "\n".join(lines)


def markdown_table(table: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in table:
        lines.append("| " + " | ".join(str(cell) for cell in dataclasses.astuple(row)) + " |")
    return "\n".join(lines)


def target_lines(results: list[Result]) -> list[str]:
    by_key = {(result.workload, result.library): result for result in results}
    lines = []
    for workload, baseline_name, limit in TARGETS:
        ours = by_key.get((workload, "retrograd"))
        baseline = by_key.get((workload, baseline_name))
        label = BY_NAME[baseline_name].label
        goal = f"{workload}: ≤ {limit}× {label}"
        if ours is None or baseline is None:
            lines.append(f"- {goal}: not measured in this run")
        elif ours.median is None or baseline.median is None:
            why = ours.note or baseline.note
            lines.append(f"- {goal}: not measured ({why})")
        else:
            measured = ours.median / baseline.median
            verdict = "met" if measured <= limit else f"missed by {measured / limit:.2f}×"
            lines.append(f"- {goal}: measured {measured:.2f}× — {verdict}")
    return lines


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def result_record(result: Result) -> dict:
    record = dataclasses.asdict(result)
    record["median"] = result.median
    return record


def _load_warning(load: dict, cpus: int | None) -> list[str]:
    """A warning line when other work shared the machine (absolute times are then inflated)."""
    busiest = max((values[0] for values in (load["before"], load["after"]) if values), default=0.0)
    if not cpus or busiest <= cpus:
        return []
    return [
        f"- warning: the machine was shared (load average up to {busiest:.1f} on {cpus} CPUs): absolute "
        "times are inflated and noisy; the ratios between libraries, sampled interleaved, are the result."
    ]


def results_from(document: dict) -> list[Result]:
    """The Result objects of a JSON document written by `write_json`."""
    fields = {field.name for field in dataclasses.fields(Result)}
    records = document["results"]
    return [Result(**{key: value for key, value in record.items() if key in fields}) for record in records]


def markdown(document: dict, results: list[Result]) -> str:
    machine = document["machine"]
    main_rows = rows([r for r in results if r.workload in document["main_workloads"]])
    depth_rows = rows([r for r in results if r.workload in document["depth_workloads"]])
    blas = "; ".join(
        ", ".join(f"{key}={value}" for key, value in pool.items() if value is not None)
        for pool in machine["blas"]
    )
    load = document["load_average"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m benchmarks` from a real run; do not edit by hand.",
        "Workloads are those of issues 7 and 11 (see `benchmarks/workloads/`). Each library's gradients",
        "were checked against the hand-written NumPy forward+backward before it was timed;",
        "each library ran in a process of its own, as a user's program does, and the processes were",
        "sampled interleaved (A B C A B C ...), each sample after a warm-up and a garbage collection",
        "(see Note [Each library in its own process] in `benchmarks/worker.py`). Times are per call",
        "(µs/op: per chain op); memory is the peak resident memory one forward+backward added,",
        "measured in a fresh process per library.",
        "",
        "## Run",
        "",
        f"- date: {document['date']}",
        f"- command: `{document['command']}`",
        f"- CPU: {machine['cpu']} ({machine['logical_cpus']} logical CPUs); "
        f"load average before/after: {load['before']} / {load['after']}",
        f"- Python {machine['python']}, NumPy {machine['numpy']}; {machine['platform']}",
        f"- threads: {machine['threads']} "
        f"({', '.join(f'{k}={v}' for k, v in machine['thread_variables'].items())}; "
        "torch.set_num_threads likewise)",
        f"- OpenBLAS overrides in the environment: {machine['openblas_overrides']}",
        f"- NumPy's BLAS (threadpoolctl): {blas}",
        f"- settings: {document['settings']}",
        "- libraries: "
        + ", ".join(f"{BY_NAME[name].label} {version}" for name, version in document["libraries"].items()),
        *(f"- note: {note}" for note in document.get("notes", [])),
        *_load_warning(load, machine["logical_cpus"]),
        "",
        "## Results",
        "",
        markdown_table(main_rows),
        "",
    ]
    minimum = document.get("memory_minimum_bytes") or {}
    if not isinstance(minimum, dict):  # runs before w9 recorded w6's alone
        minimum = {"w6": minimum}
    for key, size in minimum.items():
        lines += [
            f"{key}'s theoretical minimum: backward must keep {size / 2**20:.0f} MiB (every distinct",
            "value a derivative needs, the input excluded), plus one gradient array while it runs.",
            "",
        ]
    if depth_rows:
        lines += [
            "## Per-op cost against graph depth",
            "",
            "The w4 chain at several depths, with Python's cyclic garbage collector on and off.",
            "",
            markdown_table(depth_rows),
            "",
        ]
    lines += ["## retrograd against the targets of issue 11", "", *target_lines(results), ""]
    lines += [
        "Where the time and memory go, and what to change: `benchmarks/PROFILE.md`",
        "(`python -m benchmarks.profile_engine` reproduces its measurements).",
        "",
    ]
    from .distributed import markdown_section  # measured apart: python -m benchmarks.distributed

    lines += markdown_section()
    return "\n".join(lines)
