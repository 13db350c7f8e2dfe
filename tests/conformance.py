"""Run PyTorch programs under PyTorch and under retrograd, and compare what they print.

    python tests/conformance.py                 # every program in tests/programs_conformance/
    python tests/conformance.py inplace_tour    # some of them
    python tests/conformance.py --update        # rewrite the recorded PyTorch outputs

Each program is run as a script in a fresh interpreter, once with PyTorch and once with
`torch` aliased to retrograd (a finder on `sys.meta_path` answers `import torch` and every
`import torch.x.y` with `retrograd` and `retrograd.x.y`). Their standard outputs are compared
line by line: `torch.` and `retrograd.` count as equal, spacing is ignored, and numbers
as equal when they agree to the digits printed (one unit in the last printed place, or a
relative 1e-5; integers must be equal). PyTorch's output is also recorded in
`programs_conformance/expected/NAME.txt`, so retrograd is checked where PyTorch is absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs_conformance"
EXPECTED = PROGRAMS / "expected"
SOURCE = HERE.parent / "src"

# Runs a program with `torch` aliased to retrograd; argv[1] is the program.
_ALIAS_RUNNER = r"""
import importlib, importlib.abc, importlib.util, runpy, sys

class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return importlib.import_module("retrograd" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass

sys.meta_path.insert(0, _Alias())
program = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(program, run_name="__main__")
"""

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)\b")


def programs() -> list[Path]:
    return sorted(path for path in PROGRAMS.glob("*.py") if not path.name.startswith("_"))


def run(program: Path, library: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `program` with `library` ("torch" or "retrograd") as torch; returns the process."""
    environment = dict(os.environ)
    environment.setdefault("OMP_NUM_THREADS", "1")
    environment["PYTHONWARNINGS"] = "ignore"
    if library == "retrograd":
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(SOURCE), *filter(None, [environment.get("PYTHONPATH")])]
        )
        command = [sys.executable, "-c", _ALIAS_RUNNER, str(program.resolve())]
    else:
        command = [sys.executable, str(program.resolve())]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment,
                          cwd=str(program.parent))


def _normalise_text(text: str) -> str:
    return "".join(text.replace("retrograd.", "torch.").split())


def _numbers_agree(expected: str, actual: str) -> bool:
    if expected == actual:
        return True
    try:
        left, right = float(expected), float(actual)
    except ValueError:
        return False
    if left != left or right != right:  # nan
        return left != left and right != right
    mantissa, _, exponent = expected.lower().partition("e")
    if "." not in mantissa and not exponent:
        return False  # integers agree only when equal
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    unit = 10.0 ** (int(exponent or 0) - decimals) if decimals else 0.0
    return abs(left - right) <= max(1.01 * unit, 1e-5 * max(abs(left), abs(right)))


def lines_agree(expected: str, actual: str) -> bool:
    """Whether two printed lines say the same, up to module names, spacing and rounding."""
    expected_numbers = _NUMBER.findall(expected)
    actual_numbers = _NUMBER.findall(actual)
    if len(expected_numbers) != len(actual_numbers):
        return False
    if _normalise_text(_NUMBER.sub("#", expected)) != _normalise_text(_NUMBER.sub("#", actual)):
        return False
    return all(_numbers_agree(left, right) for left, right in zip(expected_numbers, actual_numbers))


def compare(expected: str, actual: str) -> list[str]:
    """The differences between two outputs, as readable lines (empty when they agree)."""
    expected_lines = expected.splitlines()
    actual_lines = actual.splitlines()
    problems = []
    for number, (left, right) in enumerate(zip(expected_lines, actual_lines), start=1):
        if not lines_agree(left, right):
            problems.append(f"line {number}:\n  PyTorch:   {left}\n  retrograd: {right}")
    if len(expected_lines) != len(actual_lines):
        problems.append(f"PyTorch printed {len(expected_lines)} lines, retrograd {len(actual_lines)}")
    return problems


def expected_output(program: Path) -> str:
    return (EXPECTED / f"{program.stem}.txt").read_text()


def check(program: Path, reference: str | None = None) -> list[str]:
    """Run `program` under retrograd and compare with `reference` (PyTorch's output)."""
    ours = run(program, "retrograd")
    if ours.returncode != 0:
        return [f"retrograd run failed:\n{ours.stderr[-3000:]}"]
    return compare(expected_output(program) if reference is None else reference, ours.stdout)


def main(argv: list[str]) -> int:
    update = "--update" in argv
    chosen = [name for name in argv[1:] if not name.startswith("--")]
    selected = [path for path in programs() if not chosen or path.stem in chosen]
    failures = 0
    for program in selected:
        reference = run(program, "torch")
        if reference.returncode != 0:
            print(f"{program.stem}: PyTorch run failed\n{reference.stderr[-2000:]}")
            failures += 1
            continue
        if update:
            EXPECTED.mkdir(exist_ok=True)
            (EXPECTED / f"{program.stem}.txt").write_text(reference.stdout)
        problems = check(program, reference.stdout)
        print(f"{program.stem}: {'same' if not problems else 'DIFFERENT'}")
        for problem in problems:
            print("  " + problem.replace("\n", "\n  "))
        failures += bool(problems)
    print(f"{len(selected) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
