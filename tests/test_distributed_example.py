"""The data-parallel example and benchmark (slow: `pytest -m slow`), and the benchmark's report
section (fast, no MPI)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import distributed as benchmark  # noqa: E402

from test_distributed import run_job  # noqa: E402  (stops every process of a job that overruns)

needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                               reason="needs mpi4py: pip install -e '.[distributed]'")


def _environment() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def _final_accuracy(output: str) -> float:
    final = next(line for line in output.splitlines() if "final test accuracy" in line)
    return float(final.split("final test accuracy ")[1].split("%")[0]) / 100


@pytest.mark.slow
@needs_mpi
def test_digits_ddp_on_two_processes_reaches_the_single_process_accuracy(tmp_path):
    for module in ("sklearn", "tqdm", "matplotlib", "threadpoolctl"):
        pytest.importorskip(module)
    examples = ROOT / "examples"
    single = subprocess.run(
        [sys.executable, str(examples / "digits_mlp.py"), "--no-progress", "--plot", str(tmp_path / "a.png")],
        capture_output=True, text=True, timeout=300, check=True, env=_environment())
    code, output, _ = run_job(
        [sys.executable, "-m", "retrograd.distributed.run", "--nproc-per-node", "2",
         str(examples / "digits_ddp.py"), "--plot", str(tmp_path / "b.png")], 300, cwd=examples)
    assert code == 0, output
    assert "DDP on 2 processes" in output
    assert _final_accuracy(output) >= min(_final_accuracy(single.stdout), 0.97) - 0.005
    assert (tmp_path / "b.png").stat().st_size > 0


@pytest.mark.slow
@needs_mpi
def test_quick_benchmark_run_reports_scaling_and_overlap(tmp_path):
    code, output, _ = run_job(
        [sys.executable, "-m", "benchmarks.distributed", "--quick", "--json", str(tmp_path / "r.json"),
         "--markdown", str(tmp_path / "b.md")], 300)
    assert code == 0, output
    document = json.loads((tmp_path / "r.json").read_text())
    names = [entry["name"] for entry in document["configurations"]]
    assert names == [configuration["name"] for configuration in benchmark.CONFIGURATIONS]
    for entry in document["configurations"][1:]:
        assert 0 <= entry["hidden_fraction"] <= 1 and entry["communication_ms"] > 0
    assert benchmark.SECTION in (tmp_path / "b.md").read_text()


SAMPLE = {
    "date": "2026-01-01 00:00 UTC", "command": "python -m benchmarks.distributed", "cpus": 2,
    "load_average": {"before": [0.1, 0.1, 0.1], "after": [0.2, 0.1, 0.1]}, "python": "3.11.7",
    "numpy": "2.4.6", "mpi": "MPICH Version: 5.0.2", "settings": {"steps": 40},
    "configurations": [
        {"name": "1 process", "nproc": 1, "batch_per_process": 256, "ddp": False, "step_ms": 40.0},
        {"name": "2 processes, strong", "nproc": 2, "batch_per_process": 128, "ddp": True,
         "step_ms": 25.0, "buckets": 2, "slower_rank_ms": 1.0, "communication_ms": 4.0,
         "exposed_ms": 1.0, "hidden_fraction": 0.75, "standalone_all_reduce_ms": 2.0},
        {"name": "2 processes, weak", "nproc": 2, "batch_per_process": 256, "ddp": True,
         "step_ms": 50.0, "buckets": 2, "slower_rank_ms": 1.0, "communication_ms": 4.0,
         "exposed_ms": 2.0, "hidden_fraction": 0.5, "standalone_all_reduce_ms": 2.0},
    ],
}


def test_section_gives_strong_and_weak_efficiency_and_the_hidden_fraction():
    text = "\n".join(benchmark.markdown_section(SAMPLE))
    assert "| 2 processes, strong | 128 | 2 | 25.0 | 10240 | 0.80 (strong) |" in text
    assert "| 2 processes, weak | 256 | 2 | 50.0 | 10240 | 0.80 (weak) |" in text
    assert "| 75% |" in text and "| 50% |" in text


def test_writing_the_section_keeps_the_rest_of_the_report(tmp_path):
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\n## Results\n\n| a |\n")
    benchmark.write_section(report, benchmark.markdown_section(SAMPLE))
    benchmark.write_section(report, benchmark.markdown_section(SAMPLE))  # replaced, not repeated
    text = report.read_text()
    assert text.startswith("# Benchmarks\n\n## Results\n\n| a |\n\n## Data-parallel training")
    assert text.count(benchmark.SECTION) == 1
