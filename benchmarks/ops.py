"""Per-op micro-benchmarks: the NumPy kernel, no_grad, forward with recording, and backward.

    python -m benchmarks.ops                  # the full run: the "Per-op costs" section of
                                              # docs/benchmarks.md and benchmarks/ops_results.json
    python -m benchmarks.ops --quick          # 16 elements, one short sample (under build/)
    python -m benchmarks.ops --only add,matmul --sizes 16 --libraries retrograd,torch
    python -m benchmarks.ops --from-json benchmarks/ops_results.json   # rewrite the section only

For every op of `benchmarks/op_cases.py` and every size (16 and 1,024 float32 elements per
input), each installed library's output and gradients are first checked against PyTorch's
(retrograd's where PyTorch is absent); then all series are sampled interleaved: one sample
of the NumPy kernel, then each library's no_grad, forward and backward, and again, `repeats`
times. A sample calls the mode enough times to last about `sample_seconds` (wall clock),
after a garbage collection; the collector stays on while it runs. Reported: the median over
samples of the time per call, in µs. The objects that exist once the libraries are loaded
are moved out of the collector's reach (`gc.freeze`), so the collection before each sample
is cheap and a full collection during one costs what the benchmark's own objects cost.
How each mode is measured: `benchmarks/op_runners.py`.

Threads are pinned (1 by default) before NumPy is imported, as in `python -m benchmarks`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import statistics
import sys
from pathlib import Path

from .environment import REPOSITORY, load_average, pin_threads, use_repository_sources
from .sections import PER_OP_BEGIN, PER_OP_END, replace_section

SIZES = (16, 1024)
OP_LIBRARIES = ("retrograd", "torch", "autograd", "mygrad")  # micrograd has no arrays
LABELS = {"retrograd": "retrograd", "torch": "PyTorch", "autograd": "HIPS autograd", "mygrad": "MyGrad"}


def parse(arguments: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ops", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 elements, 1 short sample (a smoke run)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/PyTorch threads (default 1)")
    parser.add_argument("--repeats", type=int, help="samples per series (default 7, quick 1)")
    parser.add_argument("--sample-seconds", type=float, help="wall time of one sample (default 0.02 s)")
    parser.add_argument("--sizes", help="comma-separated element counts (squares), default 16,1024")
    parser.add_argument("--only", help="comma-separated op names (default: all)")
    parser.add_argument("--libraries", help="comma-separated subset of retrograd,torch,autograd,mygrad")
    parser.add_argument("--note", action="append", default=[], help="a line to print in the section")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--markdown", type=Path, help="the file whose per-op section is (re)written")
    parser.add_argument("--from-json", type=Path, help="measure nothing: rewrite the section from this file")
    options = parser.parse_args(arguments)
    folder = REPOSITORY / "build" / "benchmarks-quick"
    options.json = options.json or (
        folder / "ops_results.json" if options.quick else REPOSITORY / "benchmarks" / "ops_results.json"
    )
    options.markdown = options.markdown or (
        folder / "benchmarks.md" if options.quick else REPOSITORY / "docs" / "benchmarks.md"
    )
    return options


def main(arguments: list[str] | None = None) -> int:
    options = parse(arguments)
    if options.from_json:
        document = json.loads(options.from_json.read_text())
    else:
        pin_threads(options.threads)
        use_repository_sources()
        document = measure(options, arguments if arguments is not None else sys.argv[1:])
        write_json(options.json, document)
        print(console_table(document), file=sys.stderr)
    write_section(options.markdown, document)
    print(
        f"wrote {_shown(options.markdown)}" + ("" if options.from_json else f" and {_shown(options.json)}"),
        file=sys.stderr,
    )
    return 0


# -- measuring ------------------------------------------------------------------------------


def measure(options: argparse.Namespace, arguments: list[str]) -> dict:
    import numpy as np

    from . import environment, libraries
    from .op_cases import BY_NAME, CASES

    names = options.libraries.split(",") if options.libraries else list(OP_LIBRARIES)
    unknown = [name for name in names if name not in OP_LIBRARIES]
    if unknown:
        raise SystemExit(f"unknown libraries {unknown}; choose from {list(OP_LIBRARIES)}")
    chosen = [library for library in libraries.select(names) if library.name in OP_LIBRARIES]
    modules = {library.name: library.load(options.threads) for library in chosen}
    environment.limit_loaded_pools(options.threads)
    if options.only:
        missing = [name for name in options.only.split(",") if name not in BY_NAME]
        if missing:
            raise SystemExit(f"unknown ops {missing}; choose from {list(BY_NAME)}")
        cases = [BY_NAME[name] for name in options.only.split(",")]
    else:
        cases = list(CASES)
    sizes = (
        [int(size) for size in options.sizes.split(",")]
        if options.sizes
        else ([16] if options.quick else list(SIZES))
    )
    repeats = options.repeats or (1 if options.quick else 7)
    sample_seconds = options.sample_seconds or (0.002 if options.quick else 0.02)

    import gc

    gc.collect()
    gc.freeze()  # the libraries' own objects: each sample's collection then scans only ours
    load_before = load_average()
    records = []
    for case in cases:
        for size in sizes:
            print(f"{case.name} ({size} elements)", file=sys.stderr, flush=True)
            records.append(_measure_case(case, size, modules, repeats, sample_seconds, np))
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks.ops " + shlex.join(arguments),
        "machine": environment.describe(options.threads),
        "load_average": {"before": _rounded(load_before), "after": _rounded(load_average())},
        "settings": {
            "repeats": repeats,
            "sample_seconds": sample_seconds,
            "sizes": sizes,
            "quick": options.quick,
        },
        "libraries": {library.name: library.version() for library in chosen},
        "notes": options.note,
        "cases": records,
    }


def _measure_case(case, size: int, modules: dict, repeats: int, sample_seconds: float, np) -> dict:
    from .harness import describe_error
    from .op_runners import RUNNERS, KernelRunner, Unsupported

    rng = np.random.default_rng(size)
    inputs, constants = case.make(size, rng)
    expected = np.asarray(case.kernel(*inputs, *constants))
    gradient = rng.standard_normal(expected.shape).astype(np.float32)
    record = {"op": case.name, "size": size, "shape_note": case.shape_note, "series": {}, "notes": {}}

    runners = {"numpy": KernelRunner(case, inputs, constants)}
    for name, module in modules.items():
        try:
            runners[name] = RUNNERS[name](module, case, inputs, constants, gradient)
        except Unsupported as reason:
            record["notes"][name] = f"n/a: {reason}"
    _check(runners, record, np)

    series = {}
    for name, runner in runners.items():
        for mode, sampler in runner.samplers().items():
            key = f"{name}.{mode}"
            try:
                series[key] = (sampler, _calls_per_sample(sampler, sample_seconds))
            except Exception as error:  # a library's failure is a result, not a crash
                record["notes"][name] = f"failed in {mode}: {describe_error(error)}"
    samples = {key: [] for key in series}
    for _ in range(repeats):
        for key, (sampler, calls) in series.items():
            samples[key].append(_sample(sampler, calls) / calls * 1e6)
    for key, values in samples.items():
        library, mode = key.split(".")
        if library in record["notes"]:
            continue
        record["series"][key] = {
            "median_us": statistics.median(values),
            "samples_us": values,
            "calls": series[key][1],
        }
    return record


def _check(runners: dict, record: dict, np) -> None:
    """Drop each runner whose output or gradients differ from the reference library's."""
    from .harness import describe_error

    results = {}
    for name, runner in list(runners.items()):
        try:
            results[name] = runner.results()
        except Exception as error:
            record["notes"][name] = f"failed: {describe_error(error)}"
            del runners[name]
    reference_name = next((name for name in ("torch", "retrograd") if name in results), None)
    if reference_name is None:
        return
    reference_out, reference_grads = results[reference_name]
    for name, (out, grads) in results.items():
        problem = _difference(out, reference_out, np)
        if problem is None and name != "numpy":
            if len(grads) != len(reference_grads):
                problem = f"{len(grads)} gradients, {reference_name} has {len(reference_grads)}"
            for index, (grad, reference) in enumerate(zip(grads, reference_grads)):
                problem = problem or _difference(grad, reference, np, f"gradient {index}")
        if problem is not None:
            record["notes"][name] = f"differs from {LABELS.get(reference_name)}: {problem}"
            del runners[name]


def _difference(value, reference, np, what: str = "output") -> str | None:
    value, reference = np.asarray(value, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if value.shape != reference.shape:
        return f"{what} shape {value.shape}, expected {reference.shape}"
    if not np.allclose(value, reference, rtol=1e-4, atol=1e-5):
        return f"{what} off by up to {np.abs(value - reference).max():.3g}"
    return None


def _calls_per_sample(sampler, sample_seconds: float) -> int:
    """Warm up, then how many calls make a sample last about `sample_seconds` of wall time."""
    import time

    sampler(2)
    calls = 1
    while True:
        start = time.perf_counter()
        sampler(calls)
        elapsed = time.perf_counter() - start
        if elapsed > sample_seconds / 10 or calls >= 100_000:
            return max(1, min(1_000_000, math.ceil(sample_seconds / elapsed * calls)))
        calls *= 10


def _sample(sampler, calls: int) -> float:
    import gc

    gc.collect()
    return sampler(calls)


def _rounded(load) -> list[float] | None:
    return None if load is None else [round(value, 2) for value in load]


# -- reporting ------------------------------------------------------------------------------


def median(record: dict, library: str, mode: str) -> float | None:
    entry = record["series"].get(f"{library}.{mode}")
    return None if entry is None else entry["median_us"]


def ratio(record: dict, library: str, mode: str) -> float | None:
    ours, theirs = median(record, library, mode), median(record, "torch", mode)
    return None if ours is None or not theirs else ours / theirs


def _us(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _geometric_mean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def write_section(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    path.write_text(replace_section(text, section(document)))


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _main_rows(document: dict) -> list[list[str]]:
    rows = []
    for record in document["cases"]:
        ours_forward, kernel = median(record, "retrograd", "forward"), median(record, "numpy", "kernel")
        overhead = None if ours_forward is None or kernel is None else ours_forward - kernel
        rows.append(
            [
                record["op"],
                str(record["size"]),
                _us(kernel),
                *(
                    _us(median(record, library, mode))
                    for library in ("retrograd", "torch")
                    for mode in ("nograd", "forward", "backward")
                ),
                _us(overhead),
                f"**{_times(ratio(record, 'retrograd', 'forward'))}**",
                f"**{_times(ratio(record, 'retrograd', 'backward'))}**",
                record["notes"].get("retrograd", ""),
            ]
        )
    return rows


def _other_rows(document: dict, others: list[str]) -> list[list[str]]:
    rows = []
    for record in document["cases"]:
        row = [record["op"], str(record["size"])]
        for library in others:
            note = record["notes"].get(library)
            if note:
                row += ["–", "–", "–", "–", note]
                continue
            row += [_us(median(record, library, mode)) for mode in ("nograd", "forward", "backward")]
            row += [
                _times(ratio(record, library, "forward"))
                + " / "
                + _times(ratio(record, library, "backward")),
                "",
            ]
        rows.append(row)
    return rows


def _summary_lines(document: dict) -> list[str]:
    libraries = [name for name in OP_LIBRARIES if name in document["libraries"] and name != "torch"]
    lines = []
    if "torch" not in document["libraries"]:
        return ["PyTorch was not installed for this run: no ratios."]
    for size in document["settings"]["sizes"]:
        parts = []
        for library in libraries:
            for mode in ("forward", "backward"):
                values = [ratio(r, library, mode) for r in document["cases"] if r["size"] == size]
                values = [v for v in values if v is not None]
                if values:
                    parts.append(
                        f"{LABELS[library]} {mode} {_geometric_mean(values):.2f}× (over {len(values)} ops)"
                    )
        lines.append(f"- {size} elements, geometric mean of × PyTorch: " + "; ".join(parts))
    for mode in ("forward", "backward"):
        ranked = sorted(
            ((ratio(r, "retrograd", mode), r["op"], r["size"]) for r in document["cases"]),
            key=lambda item: -(item[0] or 0),
        )
        worst = ", ".join(
            f"{op} ({size}) {value:.2f}×" for value, op, size in ranked[:8] if value is not None
        )
        lines.append(f"- retrograd's {mode} furthest from PyTorch: {worst}")
    return lines


def _load_warning(load: dict, cpus: int | None) -> list[str]:
    busiest = max((values[0] for values in (load["before"], load["after"]) if values), default=0.0)
    if not cpus or busiest <= cpus:
        return []
    return [
        f"- warning: the machine was shared (load average up to {busiest:.1f} on {cpus} CPUs): absolute "
        "times are inflated several times and noisy, backward (a longer code path) the most; the ratios "
        "between libraries, sampled interleaved, are the result; a single row is noisy (check it against "
        "the other size)."
    ]


def section(document: dict) -> str:
    machine = document["machine"]
    load = document["load_average"]
    libraries = ", ".join(f"{LABELS[name]} {version}" for name, version in document["libraries"].items())
    headers = [
        "op",
        "elements",
        "NumPy kernel",
        "retrograd no_grad",
        "retrograd forward",
        "retrograd backward",
        "PyTorch no_grad",
        "PyTorch forward",
        "PyTorch backward",
        "retrograd forward − kernel",
        "forward × PyTorch",
        "backward × PyTorch",
        "note",
    ]
    others = [name for name in ("autograd", "mygrad") if name in document["libraries"]]
    other_headers = ["op", "elements"]
    for library in others:
        label = LABELS[library]
        other_headers += [
            f"{label} no-grad",
            f"{label} forward",
            f"{label} backward",
            f"{label} fwd / bwd × PyTorch",
            "note",
        ]
    lines = [
        PER_OP_BEGIN,
        "",
        "Generated by `python -m benchmarks.ops` from a real run; do not edit by hand (the rest of this",
        "file comes from `python -m benchmarks`, which keeps this section). Times are µs per call, the",
        "median of interleaved samples (NumPy kernel, then each library's modes, repeated), 1 thread,",
        "float32, `elements` per input tensor (16: a 4×4 matrix or a (1,1,4,4) image; 1,024: 32×32 or",
        "(1,4,16,16)). Modes: **NumPy kernel**, the forward computed by plain NumPy; **no_grad**, the op",
        "without recording; **forward**, the op with every differentiable input requiring a gradient",
        "(a node is recorded; HIPS autograd: `make_vjp(f)(x)`); **backward**, `out.backward(g)` on a",
        "fresh graph each call (`.grad` reset to None first, the forward outside the timer, nothing",
        "subtracted; HIPS autograd: `vjp(g)`). Every library's output and gradients were checked",
        "against PyTorch's first. The ops and why: `benchmarks/op_cases.py`; the modes:",
        "`benchmarks/op_runners.py`.",
        "",
        f"- date: {document['date']}; command: `{document['command'].strip()}`",
        f"- CPU: {machine['cpu']} ({machine['logical_cpus']} logical CPUs); load average before/after: "
        f"{load['before']} / {load['after']}; Python {machine['python']}, NumPy {machine['numpy']}",
        f"- settings: {document['settings']}; libraries: {libraries}",
        *(f"- note: {note}" for note in document.get("notes", [])),
        *_load_warning(load, machine["logical_cpus"]),
        "",
        "### retrograd and PyTorch",
        "",
        *_table(headers, _main_rows(document)),
        "",
        "### Summary",
        "",
        *_summary_lines(document),
        "",
    ]
    if others:
        lines += [
            "### HIPS autograd and MyGrad",
            "",
            "Where the library has the op as one function (HIPS autograd's relu is `np.maximum(x, 0)`).",
            "",
            *_table(other_headers, _other_rows(document, others)),
            "",
        ]
    lines.append(PER_OP_END)
    return "\n".join(lines)


def console_table(document: dict) -> str:
    rows = [["op", "n", "kernel", "rg fwd", "rg bwd", "pt fwd", "pt bwd", "fwd×", "bwd×"]]
    for record in document["cases"]:
        rows.append(
            [
                record["op"],
                str(record["size"]),
                _us(median(record, "numpy", "kernel")),
                _us(median(record, "retrograd", "forward")),
                _us(median(record, "retrograd", "backward")),
                _us(median(record, "torch", "forward")),
                _us(median(record, "torch", "backward")),
                _times(ratio(record, "retrograd", "forward")),
                _times(ratio(record, "retrograd", "backward")),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
