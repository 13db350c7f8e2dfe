"""Run every workload for every installed library and write the report.

    python -m benchmarks                      # the full run; regenerates docs/benchmarks.md
    python -m benchmarks --quick              # tiny sizes, a smoke run (writes under build/)
    python -m benchmarks --only w1,w4 --libraries retrograd,torch --threads 2

Threads are pinned (1 by default) before NumPy is imported. This module imports only the
standard library at the top for that reason.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
from pathlib import Path

from .environment import REPOSITORY, load_average, pin_threads, use_repository_sources
from .sections import keep_sections  # the per-op section of `python -m benchmarks.ops` survives


def parse(arguments: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few repeats (a smoke run)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/PyTorch threads (default 1)")
    parser.add_argument("--repeats", type=int, help="timed samples per library (default 5, quick 2)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls before sampling")
    parser.add_argument("--sample-seconds", type=float, help="length of one sample (default 0.2 s)")
    parser.add_argument("--libraries", help="comma-separated subset, e.g. retrograd,numpy")
    parser.add_argument("--only", help="comma-separated workload keys, e.g. w1,w4 (default: all)")
    parser.add_argument("--no-depth-scan", action="store_true", help="skip the per-depth chain table")
    parser.add_argument("--note", action="append", default=[], help="a line to print in the report")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument(
        "--from-json", type=Path, help="measure nothing: rewrite the markdown report from this results file"
    )
    parser.add_argument("--markdown", type=Path, help="where to write the report")
    options = parser.parse_args(arguments)
    default_folder = REPOSITORY / ("build/benchmarks-quick" if options.quick else "docs")
    options.json = options.json or (
        default_folder / "results.json" if options.quick else REPOSITORY / "benchmarks" / "results.json"
    )
    options.markdown = options.markdown or default_folder / "benchmarks.md"
    return options


def main(arguments: list[str] | None = None) -> int:
    options = parse(arguments)
    if options.from_json:
        return _rewrite_report(options)
    pin_threads(options.threads)
    use_repository_sources()
    return _run(options, arguments if arguments is not None else sys.argv[1:])


def _run(options: argparse.Namespace, arguments: list[str]) -> int:
    from . import environment, libraries, memory, report
    from .harness import Settings, library_processes, prepare, time_workload
    from .workloads import all_workloads
    from .workloads.chain import saved_minimum_bytes

    settings = Settings(
        repeats=options.repeats or (2 if options.quick else 5),
        warmup=options.warmup,
        sample_seconds=options.sample_seconds or (0.02 if options.quick else 0.2),
        threads=options.threads,
        quick=options.quick,
    )
    chosen = libraries.select(options.libraries.split(",") if options.libraries else None)
    if not any(library.name == "numpy" for library in chosen):
        raise SystemExit("the NumPy reference is needed to check gradients; include numpy")
    workloads = all_workloads(options.quick, depth_scan=not options.no_depth_scan)
    if options.only:
        keys = options.only.split(",")
        workloads = [w for w in workloads if w.key in keys or w.key.split()[0] in keys]

    load_before = load_average()
    results = []
    memory_minimum = {}
    with library_processes(chosen, settings) as processes:
        for workload in workloads:
            print(f"{workload.key}: {workload.title}", file=sys.stderr, flush=True)
            problem = workload.make_problem(options.quick)
            if workload.measures_memory:
                results += _measure_memory(workload, chosen, settings, memory)
                memory_minimum[workload.key] = saved_minimum_bytes(problem)
                continue
            ready, workload_results = prepare(workload, chosen, processes)
            time_workload(workload, problem, ready, workload_results, settings)
            results += workload_results

    table = report.rows(results)
    print(report.console_table(table))
    print("\n".join(report.target_lines(results)))
    document = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks " + shlex.join(arguments),
        "machine": environment.describe(options.threads),
        "load_average": {"before": _rounded(load_before), "after": _rounded(load_average())},
        "settings": {
            "repeats": settings.repeats,
            "warmup": settings.warmup,
            "sample_seconds": settings.sample_seconds,
            "quick": settings.quick,
        },
        "libraries": {library.name: library.version() for library in chosen},
        "main_workloads": [w.key for w in workloads if w.table == "main"],
        "depth_workloads": [w.key for w in workloads if w.table == "depth"],
        "memory_minimum_bytes": memory_minimum,
        "notes": options.note,
        "results": [report.result_record(result) for result in results],
    }
    report.write_json(options.json, document)
    options.markdown.parent.mkdir(parents=True, exist_ok=True)
    options.markdown.write_text(keep_sections(options.markdown, report.markdown(document, results)))
    print(f"wrote {_shown(options.json)} and {_shown(options.markdown)}", file=sys.stderr)
    return 0


def _rewrite_report(options: argparse.Namespace) -> int:
    import json

    from . import report

    document = json.loads(options.from_json.read_text())
    text = report.markdown(document, report.results_from(document))
    options.markdown.write_text(keep_sections(options.markdown, text))
    print(f"wrote {_shown(options.markdown)}", file=sys.stderr)
    return 0


def _measure_memory(workload, chosen, settings, memory) -> list:
    """Each library in its own process, interleaved; the samples are peaks in MiB."""
    from .harness import Result

    results = {library.name: Result(workload.key, library.name, workload.unit) for library in chosen}
    repeats = min(settings.repeats, 2)
    for _ in range(repeats):
        for library in chosen:
            result = results[library.name]
            if result.note:
                continue
            measured = memory.measure(workload.key, library.name, settings.quick, settings.threads)
            if "note" in measured:
                result.note = measured["note"]
                result.samples.clear()
                continue
            result.samples.append(measured["peak_bytes"] / 2**20)
            result.max_error = measured.get("max_error")
    return list(results.values())


def _rounded(load) -> list[float] | None:
    return None if load is None else [round(value, 2) for value in load]


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
