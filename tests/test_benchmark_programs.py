"""The real-program workloads of benchmarks/programs.py run with retrograd standing in for
torch and, where PyTorch is installed, reach PyTorch's final loss (timings are never checked)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

import retrograd

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from benchmarks import programs, sections  # noqa: E402

try:
    import torch
except ImportError:  # the cross-check below skips
    torch = None


@pytest.mark.parametrize("name", sorted(programs.PROGRAMS))
def test_program_runs_on_retrograd(name):
    loss = programs.PROGRAMS[name](retrograd, **programs.SIZES[name][1])
    assert math.isfinite(loss)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("name", sorted(programs.PROGRAMS))
def test_program_reaches_pytorchs_loss(name):
    size = programs.SIZES[name][1]
    ours = programs.PROGRAMS[name](retrograd, **size)
    theirs = programs.PROGRAMS[name](torch, **size)
    assert math.isclose(ours, theirs, rel_tol=1e-4, abs_tol=1e-7)


def test_the_benchmarks_page_keeps_the_real_programs_section():
    page = (REPOSITORY / "docs" / "benchmarks.md").read_text()
    assert sections.find_section(page, sections.REAL_PROGRAMS_BEGIN, sections.REAL_PROGRAMS_END)
    rewritten = sections.keep_sections(REPOSITORY / "docs" / "benchmarks.md", "# Benchmarks\n")
    assert sections.REAL_PROGRAMS_BEGIN in rewritten


def test_a_timed_run_happens_in_a_process_that_imports_only_its_library():
    # (Note [One library per process]: the child reports its time and the program's loss)
    size = {"steps": 20}
    seconds, loss = programs._timed_run("small_ops_loop", "retrograd", size)
    assert seconds > 0 and loss == programs.small_ops_loop(retrograd, **size)
    code = ("import sys; from benchmarks.programs import _child; _child('small_ops_loop', 'retrograd', "
            "{'steps': 2}); print('torch' in sys.modules)")
    finished = programs.subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True,
                                       text=True, check=True)
    assert finished.stdout.split()[-1] == "False"


def test_the_table_gives_the_ratio_of_medians_and_the_spread_of_the_pairs():
    results = {"lstm_lbfgs": {"torch": [1.0, 2.0, 1.5], "retrograd": [0.9, 1.8, 1.6],
                              "losses": (0.25, 0.25), "size": {"series": 8}}}
    row = next(line for line in programs.section(results, 3).splitlines() if line.startswith("| LSTMCell"))
    assert row.split(" | ")[2:6] == ["1.500", "1.600", "1.07x", "0.90-1.07x"]
