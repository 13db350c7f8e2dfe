"""tools/mutation.py guards its verdicts: a run whose tests cannot be found again would count every
mutant as killed (docs/mutation.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("mutation_tool", ROOT / "tools" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _write_tests(folder: Path, parameters: str) -> None:
    (folder / "tests").mkdir()
    (folder / "tests" / "test_cases.py").write_text(
        "import pytest\n\n\n"
        "def _cases():\n    yield 1\n    yield 2\n\n\n"
        f"@pytest.mark.parametrize('case', {parameters})\n"
        "def test_case(case):\n    assert case\n")


def test_a_parametrization_consumed_by_the_first_collection_stops_the_run(tmp_path):
    """mutmut collects once in its fork server and again for each mutant: a generator of
    parameters is empty the second time, no test is found, and every mutant would count as
    killed (how LBFGS once scored 636 / 636)."""
    tool = _tool()
    _write_tests(tmp_path, "_cases()")
    with pytest.raises(SystemExit, match=r"loses 2 tests, e\.g\. tests/test_cases\.py::test_case\[1\]"):
        tool._check_collection_repeats(tmp_path, tool.Target(sources=(), tests=("tests/test_cases.py",)))


def test_parameters_in_a_list_are_collected_again(tmp_path):
    tool = _tool()
    _write_tests(tmp_path, "list(_cases())")
    tool._check_collection_repeats(tmp_path, tool.Target(sources=(), tests=("tests/test_cases.py",)))
