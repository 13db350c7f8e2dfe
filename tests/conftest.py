"""Test-suite settings (set before NumPy is imported) and the closing summary of skipped cross-checks."""

import os
import re
import sys
from collections import Counter

import pytest

# Small matrix products are much slower with several BLAS threads on a shared 2-core
# machine; the tests measure correctness, never speed, so one thread is the right setting.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


# ---------------------------------------------------------------------------
# The closing summary: how many PyTorch cross-checks were skipped, and why.
#
# Tests that compare against PyTorch skip when it is missing (pytest.importorskip("torch")),
# so a run without PyTorch passes while checking much less. The summary says so at the end.

_TORCH_REASON = re.compile(r"\btorch\b|pytorch", re.IGNORECASE)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tests: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = _skip_reason(report)
        if _TORCH_REASON.search(reason):
            (modules if isinstance(report, pytest.CollectReport) else tests)[reason] += 1
    if not tests and not modules:
        torch = sys.modules.get("torch")
        if torch is not None:
            terminalreporter.write_line(f"PyTorch cross-checks: none skipped (torch {torch.__version__})")
        return
    counted = _count(sum(tests.values()), "test")
    if modules:
        counted += " and " + _count(sum(modules.values()), "whole module")
    terminalreporter.write_sep("-", f"PyTorch cross-checks skipped: {counted}")
    for reason in sorted(set(tests) | set(modules), key=lambda r: -(tests[r] + modules[r])):
        where = _count(tests[reason], "test")
        if modules[reason]:
            where += " and " + _count(modules[reason], "module")
        terminalreporter.write_line(f"  {where}: {reason}")
    if any("could not import 'torch'" in reason for reason in set(tests) | set(modules)):
        terminalreporter.write_line(
            "  Install PyTorch to run them: pip install -e '.[torch]' (the CPU build is enough)."
        )
