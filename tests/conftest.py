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
# Hypothesis: reproducible in CI.
#
# Under CI (the CI environment variable is set, as .ci/run does) property tests draw the same
# examples on every run (derandomize) and write no example database, so a red run is red
# again on a rerun and on any machine; a failure prints the blob that replays it
# (@reproduce_failure). Elsewhere examples are random, which finds new bugs over time.
# HYPOTHESIS_PROFILE=ci (or =dev) chooses a profile explicitly. Tests set max_examples and
# deadline themselves; health checks are never suppressed wholesale.



def _load_hypothesis_profile() -> None:
    from hypothesis import settings

    # Both start from Hypothesis's own defaults (Hypothesis may have loaded its built-in "ci"
    # profile, which also suppresses the too_slow health check, when it saw CI set).
    defaults = settings.get_profile("default")
    settings.register_profile("ci", defaults, derandomize=True, database=None, print_blob=True)
    settings.register_profile("dev", defaults, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


_load_hypothesis_profile()


# ---------------------------------------------------------------------------
# Running as if PyTorch were missing: `pytest --no-torch`.
#
# Tests that compare against PyTorch are marked one by one (crosscheck.needs_torch, or
# pytest.importorskip("torch") inside the test), so that the others of their module run
# without it. `--no-torch` hides an installed PyTorch (`import torch` raises ImportError, as
# on a machine without it) to check exactly that.


def pytest_addoption(parser):
    parser.addoption(
        "--no-torch", action="store_true", default=False,
        help="run as if PyTorch were not installed (its cross-checks are skipped)",
    )


_HIDDEN = object()


def pytest_configure(config):
    if config.getoption("no_torch"):
        config._torch_before_hiding = sys.modules.get("torch", _HIDDEN)
        sys.modules["torch"] = None  # `import torch` now raises ImportError


def pytest_unconfigure(config):
    before = getattr(config, "_torch_before_hiding", None)
    if before is None:
        return
    if before is _HIDDEN:
        sys.modules.pop("torch", None)
    else:
        sys.modules["torch"] = before


# ---------------------------------------------------------------------------
# The closing summary: how many PyTorch cross-checks were skipped, and why; then the other
# skipped tests, by reason, so that no skip goes unnoticed.
#
# A run without PyTorch passes while checking much less. The summary says so at the end.

_TORCH_REASON = re.compile(r"\btorch\b|pytorch", re.IGNORECASE)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


_OTHER_REASONS_SHOWN = 8


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tests: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = _skip_reason(report)
        if _TORCH_REASON.search(reason):
            (modules if isinstance(report, pytest.CollectReport) else tests)[reason] += 1
        else:
            others[reason] += 1
    _write_torch_summary(terminalreporter, config, tests, modules)
    _write_other_skips(terminalreporter, others)


def _write_other_skips(terminalreporter, others: Counter) -> None:
    if not others:
        return
    terminalreporter.write_sep("-", f"Other skipped tests: {sum(others.values())}")
    for reason, number in others.most_common(_OTHER_REASONS_SHOWN):
        terminalreporter.write_line(f"  {_count(number, 'test')}: {reason}")
    rest = others.most_common()[_OTHER_REASONS_SHOWN:]
    if rest:
        terminalreporter.write_line(
            f"  {_count(sum(n for _, n in rest), 'test')} for {_count(len(rest), 'other reason')} (-rs lists them)"
        )


def _write_torch_summary(terminalreporter, config, tests: Counter, modules: Counter) -> None:
    if config.getoption("no_torch", default=False):
        terminalreporter.write_line("PyTorch hidden by --no-torch: its cross-checks are skipped")
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
