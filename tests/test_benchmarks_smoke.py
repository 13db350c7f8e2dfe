"""The benchmark suite's quick mode runs end to end and checks gradients (never timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from benchmarks import sections  # noqa: E402
from benchmarks.harness import check  # noqa: E402
from benchmarks.ops import _check  # noqa: E402
from benchmarks.workloads import all_workloads, chain  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benchmarks")
    command = [
        sys.executable, "-m", "benchmarks", "--quick", "--libraries", "retrograd,numpy",
        "--repeats", "1", "--sample-seconds", "0.001",
        "--json", str(folder / "results.json"), "--markdown", str(folder / "benchmarks.md"),
    ]
    completed = subprocess.run(
        command, cwd=REPOSITORY, capture_output=True, text=True, timeout=300, env={**os.environ}
    )
    assert completed.returncode == 0, completed.stderr
    return folder, json.loads((folder / "results.json").read_text()), completed.stdout


def test_quick_run_measures_every_workload_with_the_numpy_reference(quick_run):
    _, document, _ = quick_run
    measured = {r["workload"] for r in document["results"] if r["library"] == "numpy" and r["samples"]}
    assert measured == {workload.key for workload in all_workloads(quick=True)}


def test_retrograd_is_either_correct_or_skipped_with_a_reason(quick_run):
    _, document, _ = quick_run
    for result in document["results"]:
        if result["library"] != "retrograd":
            continue
        if result["samples"]:
            assert result["note"] == ""
            assert result["max_error"] is not None
        else:
            assert result["note"].startswith("n/a: "), f"{result['workload']}: {result['note']}"


def test_quick_run_writes_the_markdown_report_with_its_run_settings(quick_run):
    folder, document, stdout = quick_run
    text = (folder / "benchmarks.md").read_text()
    assert text.startswith("# Benchmarks")
    assert "threads: 1 (OMP_NUM_THREADS=1" in text
    assert "| w1 | retrograd |" in text
    assert "retrograd against the targets of issue 11" in text
    assert document["machine"]["thread_variables"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "w1" in stdout


def test_check_rejects_a_gradient_off_by_more_than_the_tolerance():
    workload = chain.w1()
    reference = [np.array([1.0, 2.0])]
    assert check(lambda: [np.array([1.0, 2.0])], reference, workload) == 0.0
    with pytest.raises(AssertionError, match="gradient 0 differs"):
        check(lambda: [np.array([1.0, 2.01])], reference, workload)
    with pytest.raises(AssertionError, match="shape"):
        check(lambda: [np.array([1.0])], reference, workload)


def _chain_value(x: np.ndarray, ops: tuple[str, ...]) -> float:
    functions = {"sin": np.sin, "exp": np.exp, "tanh": np.tanh}
    y = x
    for op in ops:
        if op == "add":
            y = y + x
        elif op == "mul":
            y = y * chain.FACTOR
        else:
            y = functions[op](y)
    return float(y.sum())


def test_numpy_chain_gradient_matches_finite_differences():
    problem = chain.chain_problem(25, 3, chain.MIXED_CYCLE)
    x = problem["x"].astype(np.float64)
    (gradient,) = chain.numpy_chain(np, {**problem, "x": x})()
    step = 1e-6
    for index in range(3):
        shift = np.zeros(3)
        shift[index] = step
        upper, lower = _chain_value(x + shift, problem["ops"]), _chain_value(x - shift, problem["ops"])
        numeric = (upper - lower) / (2 * step)
        assert gradient[index] == pytest.approx(numeric, rel=1e-6)


def test_saved_minimum_counts_each_needed_value_once():
    # sin needs values 0, 3, ..., 198; exp outputs are 2, 5, ..., 200; tanh outputs
    # coincide with the next sin's input; the input (value 0) is not counted: 133 values.
    problem = chain.chain_problem(200, 4, chain.MEMORY_CYCLE)
    assert chain.saved_minimum_bytes(problem) == 133 * 4 * 4



class _Flaky:
    def prepare(self, workload_key):
        return {"max_error": 0.0}

    def time(self, calls):
        raise ValueError("step broke\nsecond line")

    def release(self):
        return {}


def test_a_library_process_answers_an_error_and_keeps_serving():
    import io

    from benchmarks.worker import serve

    requests = io.StringIO('{"action": "time", "calls": 3}\n{"action": "prepare", "workload_key": "w1"}\n')
    answers = io.StringIO()
    serve(_Flaky(), requests, answers)
    assert [json.loads(line) for line in answers.getvalue().splitlines()] == [
        {"error": "ValueError: step broke"}, {"max_error": 0.0},
    ]


def test_a_library_whose_process_exits_gets_a_note_and_the_others_go_on():
    from benchmarks.harness import LibraryProcess, Settings, StepFailed, prepare
    from benchmarks.libraries import Library

    process = LibraryProcess("no-such-library", Settings(quick=True))
    with pytest.raises(StepFailed, match="exited with code 1"):
        process.ask("prepare", workload_key="w1")

    class _Answers:
        def ask(self, action, **arguments):
            return {"max_error": 0.5}

    missing = Library("gone", "Gone", "gone", "gone")
    present = Library("here", "Here", "here", "here")
    ready, results = prepare(chain.w1(), [missing, present], {"gone": process, "here": _Answers()})
    assert list(ready) == ["here"]
    assert results[0].note == "failed: its process exited with code 1" and results[1].max_error == 0.5
    process.close()


# -- python -m benchmarks.ops (per-op micro-benchmarks) ----------------------------------------

OLD_SECTION = f"{sections.PER_OP_BEGIN}\n\nold numbers\n{sections.PER_OP_END}"


def _torch_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def quick_ops_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ops")
    markdown = folder / "benchmarks.md"
    markdown.write_text(f"# Benchmarks\n\nThe other sections.\n\n{OLD_SECTION}\n\n## Later section\n")
    libraries = "retrograd,torch" if _torch_installed() else "retrograd"
    command = [
        sys.executable, "-m", "benchmarks.ops", "--quick", "--only", "add,matmul", "--libraries", libraries,
        "--sample-seconds", "0.0005", "--json", str(folder / "ops.json"), "--markdown", str(markdown),
    ]
    completed = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads((folder / "ops.json").read_text()), markdown.read_text()


def test_quick_ops_run_times_every_mode_of_the_chosen_ops(quick_ops_run):
    document, _ = quick_ops_run
    assert [(case["op"], case["size"]) for case in document["cases"]] == [("add", 16), ("matmul", 16)]
    for case in document["cases"]:
        assert case["notes"] == {}, case["notes"]  # checked against PyTorch's gradients where installed
        expected = {"numpy.kernel"} | {f"{library}.{mode}" for library in document["libraries"]
                                       for mode in ("nograd", "forward", "backward")}
        assert set(case["series"]) == expected
        assert all(series["median_us"] > 0 for series in case["series"].values())


def test_quick_ops_run_replaces_only_its_own_section(quick_ops_run):
    _, text = quick_ops_run
    assert text.startswith("# Benchmarks\n\nThe other sections.\n")
    assert text.rstrip().endswith("## Later section")
    assert "old numbers" not in text
    assert text.count(sections.PER_OP_BEGIN) == 1 and text.count(sections.PER_OP_END) == 1
    assert "| add | 16 |" in text and "| matmul | 16 |" in text


def test_the_suite_report_keeps_the_per_op_section(tmp_path):
    from benchmarks.run import main

    markdown = tmp_path / "benchmarks.md"
    markdown.write_text(f"# Benchmarks\n\nstale\n\n{OLD_SECTION}\n")
    assert main(["--from-json", str(REPOSITORY / "benchmarks" / "results.json"), "--markdown", str(markdown)]) == 0
    text = markdown.read_text()
    assert "stale" not in text and "## Results" in text
    assert text.rstrip().endswith(OLD_SECTION)


class _FixedResults:
    def __init__(self, out, grads):
        self.out, self.grads = np.asarray(out), [np.asarray(grad) for grad in grads]

    def results(self):
        return self.out, self.grads


def test_a_library_whose_gradient_differs_from_pytorch_is_not_timed():
    runners = {
        "numpy": _FixedResults([1.0, 2.0], []),
        "torch": _FixedResults([1.0, 2.0], [[3.0, 4.0]]),
        "retrograd": _FixedResults([1.0, 2.0], [[3.0, 4.0]]),
        "mygrad": _FixedResults([1.0, 2.0], [[3.0, 4.1]]),
    }
    record = {"notes": {}}
    _check(runners, record, np)
    assert set(runners) == {"numpy", "torch", "retrograd"}
    assert record["notes"] == {"mygrad": "differs from PyTorch: gradient 0 off by up to 0.1"}


def test_rewriting_the_data_parallel_section_keeps_the_per_op_section_after_it(tmp_path):
    from benchmarks import distributed

    markdown = tmp_path / "benchmarks.md"
    markdown.write_text(f"# Benchmarks\n\n{distributed.SECTION}\n\nold ddp\n\n{OLD_SECTION}\n")
    distributed.write_section(markdown, [distributed.SECTION, "", "new ddp"])
    text = markdown.read_text()
    assert "old ddp" not in text and "new ddp" in text
    assert sections.find_section(text) == OLD_SECTION
