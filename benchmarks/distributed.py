"""Data-parallel scaling: the w3 MLP training step on 1 and 2 processes (DDP over MPI).

    python -m benchmarks.distributed            # measure; write benchmarks/results_distributed.json
                                                # and the "Data-parallel training" section of
                                                # docs/benchmarks.md (nothing else in it changes)
    python -m benchmarks.distributed --quick    # tiny sizes, a smoke run (writes under build/)

The step is w3's: one SGD step of a 784-512-512-10 ReLU network, cross-entropy loss, on a
global batch of 256. Configurations, run interleaved (round after round):
  1 process           the plain model on the whole batch (no DDP)
  2 processes strong  DDP, the same global batch split in two (128 each)
  2 processes weak    DDP, 256 each (twice the work per step)
  2 processes, small buckets: strong scaling with 0.25 MB buckets instead of 25 MB
  2 processes, no progress thread: strong scaling, MPI polled at the gradient hooks only
    (see Note [MPI progress during backward] in retrograd/nn/parallel/distributed.py)

Scaling efficiency: strong = T(1) / (2 T(2)) for the same global batch; weak = T(1) / T(2)
with the batch per process kept. The fraction of all-reduce time hidden behind backward
comes from DDP's timestamps of bucket launch and completion (on one machine `perf_counter`
is one clock for every process): a bucket's all-reduce runs from the moment the last rank
launched it until rank 0 saw it complete, and communication time is the union of these
intervals; exposed is the time from the end of backward on the slowest rank until rank 0
had every bucket reduced and written back; hidden = 1 - exposed / communication. Rank 0's
wait for a slower rank's backward is reported apart: it is load imbalance, not
communication. Completion is seen when DDP polls (at every gradient, and in the final
wait), so communication intervals are upper bounds. The cost of the same all-reduces
alone (blocking, nothing else running) is given beside them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .environment import REPOSITORY, load_average, pin_threads

RESULTS = REPOSITORY / "benchmarks" / "results_distributed.json"
MARKDOWN = REPOSITORY / "docs" / "benchmarks.md"
SECTION = "## Data-parallel training (DDP over MPI)"

CONFIGURATIONS = [
    {"name": "1 process", "nproc": 1, "batch_per_process": 256, "ddp": False, "bucket_cap_mb": 25},
    {"name": "2 processes, strong", "nproc": 2, "batch_per_process": 128, "ddp": True, "bucket_cap_mb": 25,
     "probe": True},
    {"name": "2 processes, weak", "nproc": 2, "batch_per_process": 256, "ddp": True, "bucket_cap_mb": 25},
    {"name": "2 processes, strong, 0.25 MB buckets", "nproc": 2, "batch_per_process": 128, "ddp": True,
     "bucket_cap_mb": 0.25},
    {"name": "2 processes, strong, no progress thread", "nproc": 2, "batch_per_process": 128, "ddp": True,
     "bucket_cap_mb": 25, "progress_thread": False},
]


# ---------------------------------------------------------------------------
# The worker: runs in every rank, under the launcher


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def worker(configuration: dict, steps: int, warmup: int, quick: bool, output: str) -> None:
    import numpy as np

    import retrograd
    import retrograd.distributed as dist
    from retrograd import nn
    from retrograd.nn.parallel import DistributedDataParallel

    dist.init_process_group(backend="mpi")
    rank = dist.get_rank()
    sizes = (32, 16, 16, 10) if quick else (784, 512, 512, 10)
    batch = 8 if quick else configuration["batch_per_process"]
    retrograd.manual_seed(0)
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                          nn.Linear(sizes[2], sizes[3]))
    if configuration["ddp"]:
        model = DistributedDataParallel(model, bucket_cap_mb=configuration["bucket_cap_mb"])
        model._ddp_progress_thread = configuration.get("progress_thread", True)
    optimizer = retrograd.optim.SGD(model.parameters(), lr=0.01)
    loss_function = nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    inputs = retrograd.tensor(rng.normal(0.0, 1.0, (batch, sizes[0])).astype(np.float32))
    targets = retrograd.tensor(rng.integers(0, sizes[-1], batch))
    records = []
    for step in range(warmup + steps):
        dist.barrier()
        started = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_function(model(inputs), targets)
        backward_started = time.perf_counter()
        loss.backward()
        backward_ended = time.perf_counter()
        optimizer.step()
        ended = time.perf_counter()
        if step < warmup:
            continue
        record = {"step": ended - started, "backward": backward_ended - backward_started}
        if configuration["ddp"]:
            timeline = model._ddp_timeline
            record.update(launched=[launched for launched, _, _ in timeline["buckets"]],
                          done=[done for _, done, _ in timeline["buckets"]],
                          last_gradient=timeline["last_gradient"], finished=timeline["finished"])
        records.append(record)
    standalone = probe = None
    if configuration["ddp"]:
        standalone = _standalone_all_reduce(model, repeats=steps)
        if configuration.get("probe"):
            probe = _progress_probe(model, repeats=steps)
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, records)
        records = [_overlap(step_records) for step_records in zip(*everyone)]
    if rank == 0:
        Path(output).write_text(json.dumps({"records": records, "standalone": standalone, "probe": probe}))
    dist.destroy_process_group()


def _overlap(step_records: tuple) -> dict:
    """One step's communication, seen from rank 0, with every rank's timestamps.

    On one machine `perf_counter` is the same clock in every process, so a bucket's
    all-reduce is taken to start when the last rank launched it, and backward to end when
    the last rank's last gradient arrived; what rank 0 waits for before that is the slower
    rank, not communication.
    """
    mine = step_records[0]
    starts = [max(times) for times in zip(*(record["launched"] for record in step_records))]
    communication = _union([(start, max(start, done)) for start, done in zip(starts, mine["done"])])
    all_backward_done = max(record["last_gradient"] for record in step_records)
    return {
        "step": mine["step"],
        "backward": mine["backward"],
        "buckets": len(starts),
        "communication": communication,
        "exposed": max(0.0, mine["finished"] - all_backward_done),
        "slower_rank": max(0.0, all_backward_done - mine["last_gradient"]),
    }


def _progress_probe(model, repeats: int) -> dict:
    """Launch the largest bucket's all-reduce, compute for 20 ms, then wait: how long is
    left to wait, with DDP's polling thread and without (median ms)?"""
    import threading

    import numpy as np

    import retrograd.distributed as dist
    from retrograd.distributed._mpi import mpi

    comm = model._ddp_comm
    buffer = max((bucket.buffer for bucket in model._ddp_buckets), key=len).copy()
    matrix = np.random.default_rng(0).random((300, 300))
    waits: dict[str, list] = {"polling thread": [], "no thread": []}
    for _ in range(repeats):
        for mode, samples in waits.items():
            dist.barrier()
            request = comm.Iallreduce(mpi().IN_PLACE, buffer, op=mpi().SUM)
            stop = threading.Event()
            lock = threading.Lock()

            def poll(request=request, stop=stop, lock=lock):
                while not stop.wait(0.0002):
                    with lock:
                        if request.Test():
                            return

            thread = threading.Thread(target=poll) if mode == "polling thread" else None
            if thread is not None:
                thread.start()
            started = time.perf_counter()
            while time.perf_counter() - started < 0.02:
                matrix @ matrix  # NumPy work that releases the GIL, as backward's
            stop.set()
            if thread is not None:
                thread.join()
            waited = time.perf_counter()
            request.Wait()
            samples.append(time.perf_counter() - waited)
    return {"bytes": int(buffer.nbytes), **{mode: 1e3 * float(np.median(samples))
                                             for mode, samples in waits.items()}}


def _standalone_all_reduce(model, repeats: int) -> float:
    """Median seconds of the same buckets' all-reduces, blocking, with nothing else running."""
    import numpy as np

    import retrograd.distributed as dist
    from retrograd.distributed._mpi import mpi

    comm = model._ddp_comm
    buffers = [bucket.buffer.copy() for bucket in model._ddp_buckets]
    times = []
    for _ in range(repeats):
        dist.barrier()
        started = time.perf_counter()
        for buffer in buffers:
            comm.Allreduce(mpi().IN_PLACE, buffer, op=mpi().SUM)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


# ---------------------------------------------------------------------------
# The driver


def _run_configuration(configuration: dict, steps: int, warmup: int, quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "result.json"
        command = [sys.executable, "-m", "retrograd.distributed.run", "--nproc-per-node",
                   str(configuration["nproc"]), "-m", "benchmarks.distributed", "--worker",
                   json.dumps(configuration), "--steps", str(steps), "--warmup", str(warmup),
                   "--output", str(output), *(["--quick"] if quick else [])]
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPOSITORY / "src"), str(REPOSITORY), environment.get("PYTHONPATH")]))
        subprocess.run(command, cwd=REPOSITORY, env=environment, check=True, timeout=600)
        return json.loads(output.read_text())


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def measure(options: argparse.Namespace) -> dict:
    load_before = load_average()
    collected: dict[str, list] = {c["name"]: [] for c in CONFIGURATIONS}
    standalone: dict[str, list] = {c["name"]: [] for c in CONFIGURATIONS}
    probes = []
    for round_number in range(options.rounds):
        for configuration in CONFIGURATIONS:
            print(f"round {round_number + 1}/{options.rounds}: {configuration['name']}", file=sys.stderr)
            result = _run_configuration(configuration, options.steps, options.warmup, options.quick)
            collected[configuration["name"]].extend(result["records"])
            if result["standalone"] is not None:
                standalone[configuration["name"]].append(result["standalone"])
            if result.get("probe"):
                probes.append(result["probe"])
    summary = []
    for configuration in CONFIGURATIONS:
        records = collected[configuration["name"]]
        entry = {
            **configuration,
            "steps": len(records),
            "step_ms": 1e3 * _median([r["step"] for r in records]),
            "backward_ms": 1e3 * _median([r["backward"] for r in records]),
        }
        if configuration["ddp"]:
            communication = [r["communication"] for r in records]
            exposed = [r["exposed"] for r in records]
            hidden = [max(0.0, c - e) / c for c, e in zip(communication, exposed) if c > 0]
            entry.update(
                buckets=records[0]["buckets"],
                slower_rank_ms=1e3 * _median([r["slower_rank"] for r in records]),
                communication_ms=1e3 * _median(communication),
                exposed_ms=1e3 * _median(exposed),
                hidden_fraction=_median(hidden),
                standalone_all_reduce_ms=1e3 * _median(standalone[configuration["name"]]),
            )
        summary.append(entry)
    import numpy

    from retrograd.distributed._mpi import mpi

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python -m benchmarks.distributed", *options.arguments]),
        "cpus": os.cpu_count(),
        "load_average": {"before": [round(v, 2) for v in load_before],
                         "after": [round(v, 2) for v in load_average()]},
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "mpi": " ".join(mpi().Get_library_version().splitlines()[0].split()),
        "settings": {"steps": options.steps, "warmup": options.warmup, "rounds": options.rounds,
                     "quick": options.quick, "threads": 1},
        "configurations": summary,
        "progress_probe": {"bytes": probes[0]["bytes"],
                           **{mode: _median([probe[mode] for probe in probes])
                              for mode in ("polling thread", "no thread")}} if probes else None,
    }


def markdown_section(document: dict | None = None) -> list[str]:
    """The lines of docs/benchmarks.md's data-parallel section ([] before any run)."""
    if document is None:
        if not RESULTS.exists():
            return []
        document = json.loads(RESULTS.read_text())
    by_name = {entry["name"]: entry for entry in document["configurations"]}
    single = by_name["1 process"]
    lines = [
        SECTION,
        "",
        "Generated by `python -m benchmarks.distributed` (see its docstring for the method).",
        "w3's step (784-512-512-10 ReLU MLP, SGD, cross-entropy), one BLAS thread per process,",
        "on one machine: processes talk through MPI's shared memory.",
        "",
        f"- date: {document['date']}; command: `{document['command']}`",
        f"- {document['cpus']} logical CPUs; load average before/after: "
        f"{document['load_average']['before']} / {document['load_average']['after']}",
        f"- Python {document['python']}, NumPy {document['numpy']}, {document['mpi']}",
        f"- settings: {document['settings']} (medians over every timed step of every round)",
        "",
        "| configuration | batch per process | buckets | step (ms) | samples/s | scaling efficiency | "
        "wait for the slower rank (ms) | all-reduce (ms) | exposed after backward (ms) | "
        "hidden behind backward | all-reduce alone (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in document["configurations"]:
        samples = entry["nproc"] * entry["batch_per_process"] / (entry["step_ms"] / 1e3)
        if entry["nproc"] == 1:
            efficiency = "1 (baseline)"
        elif entry["batch_per_process"] == single["batch_per_process"]:
            efficiency = f"{single['step_ms'] / entry['step_ms']:.2f} (weak)"
        else:
            efficiency = f"{single['step_ms'] / (entry['nproc'] * entry['step_ms']):.2f} (strong)"
        if entry["ddp"]:
            communication = (f"{entry['buckets']} | {entry['step_ms']:.1f} | {samples:.0f} | {efficiency} | "
                             f"{entry['slower_rank_ms']:.2f} | "
                             f"{entry['communication_ms']:.2f} | {entry['exposed_ms']:.2f} | "
                             f"{entry['hidden_fraction']:.0%} | {entry['standalone_all_reduce_ms']:.2f}")
        else:
            communication = f"– | {entry['step_ms']:.1f} | {samples:.0f} | {efficiency} | – | – | – | – | –"
        lines.append(f"| {entry['name']} | {entry['batch_per_process']} | {communication} |")
    lines += [
        "",
        "Strong: the same global batch of 256 split between the processes (ideal 1.0: twice the",
        "samples per second); weak: 256 per process (ideal 1.0: the step takes as long as one",
        "process's). With 2 logical CPUs the two processes have one core each only when the",
        "machine is otherwise idle: under load they share cores with other jobs, and efficiency",
        "measures the machine as much as DDP. The last bucket holds the first layer's gradients,",
        "which backward computes last, so their all-reduce cannot be hidden, and in this MLP the",
        "first layer is 60% of the parameters. With 0.25 MB buckets the first layer's weight",
        "leaves in a bucket of its own just before its bias arrives (the last gradient): that",
        "all-reduce counts as hidden though almost no computation is left to hide it, and the",
        "step is not faster. How the same code runs across machines, and what limits it there:",
        "docs/distributed.md.",
        "",
    ]
    probe = document.get("progress_probe")
    if probe:
        lines += [
            f"MPI progress: an all-reduce of {probe['bytes'] / 2**20:.2f} MiB (the largest bucket) launched "
            "before 20 ms of NumPy work still needed",
            f"{probe['no thread']:.2f} ms of waiting afterwards when nothing polled MPI meanwhile, and "
            f"{probe['polling thread']:.2f} ms with DDP's",
            "polling thread (medians; Note [MPI progress during backward]).",
            "",
        ]
    return lines


def write_section(markdown: Path, lines: list[str]) -> None:
    """Replace (or append) the data-parallel section of `markdown`; leave the rest alone."""
    text = markdown.read_text() if markdown.exists() else ""
    start = text.find(SECTION)
    if start >= 0:
        following = text.find("\n## ", start + len(SECTION))
        text = text[:start] + (text[following + 1:] if following >= 0 else "")
    text = text.rstrip("\n") + "\n\n" + "\n".join(lines)
    markdown.write_text(text.rstrip("\n") + "\n")


def main(arguments: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if arguments is None else arguments
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run (writes under build/)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per run (default 40, quick 3)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 5, quick 1)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--markdown", type=Path, help="the report whose section to (re)write")
    parser.add_argument("--from-json", type=Path,
                        help="measure nothing: rewrite the section from this results file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    options = parser.parse_args(arguments)
    options.steps = options.steps or (3 if options.quick else 40)
    options.warmup = options.warmup if options.warmup is not None else (1 if options.quick else 5)
    options.rounds = options.rounds or (1 if options.quick else 3)
    pin_threads(1)
    if options.worker:
        worker(json.loads(options.worker), options.steps, options.warmup, options.quick, options.output)
        return 0
    options.arguments = arguments
    if options.from_json:
        document = json.loads(options.from_json.read_text())
        write_section(options.markdown or MARKDOWN, markdown_section(document))
        return 0
    folder = REPOSITORY / "build" / "benchmarks-quick"
    options.json = options.json or (folder / "results_distributed.json" if options.quick else RESULTS)
    options.markdown = options.markdown or (folder / "benchmarks.md" if options.quick else MARKDOWN)
    sys.path.insert(0, str(REPOSITORY / "src"))
    document = measure(options)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(document, indent=2) + "\n")
    options.markdown.parent.mkdir(parents=True, exist_ok=True)
    section = markdown_section(document)
    write_section(options.markdown, section)
    print("\n".join(section))
    print(f"wrote {options.json} and {options.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
