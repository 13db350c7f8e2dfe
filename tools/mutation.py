"""Mutation testing of the modules where a bug is a wrong gradient (docs/mutation.md).

    python3 -m tools.mutation list            # the modules, their source and their tests
    python3 -m tools.mutation MODULE          # mutate one module, run its tests, print the score
    python3 -m tools.mutation MODULE --keep   # reuse the last run's results (mutmut's cache)
    python3 -m tools.mutation MODULE --show   # also print the diff of each unexplained survivor
    python3 -m tools.mutation MODULE --survivors  # after writing tests: rerun only the last survivors
    python3 -m tools.mutation MODULE --report # the last run's score, without running anything

The tool is mutmut 3 (`pip install -e '.[mutation]'`), configured in pyproject.toml's
[tool.mutmut]. mutmut mutates one small thing at a time in a copy of the source (a `<` made
`<=`, a number made another, an argument dropped, a call's result replaced by None, ...) and
runs the tests that reach the mutated function; a mutant that no test notices *survived*, and
names a behaviour the suite does not pin down.

Each module is paired here with the few fast test files that exercise it (the whole suite takes
minutes; a mutant run goes through each mutant's tests once). The run happens in a scratch copy
of the tree under `.mutation/MODULE/` (ignored by git), so the working tree is never mutated and
two modules can be run one after the other without mixing their results. It runs under `nice`.

A survivor that changes no behaviour (an *equivalent* mutant) is listed in EQUIVALENT below with
the reason; the score counts it as a survivor all the same (killed / total), and the report
says how many of the survivors are explained.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"


@dataclass(frozen=True)
class Target:
    """One module under mutation: its source files, which functions, and its tests."""

    sources: tuple[str, ...]
    tests: tuple[str, ...]
    # mutmut's mutant names are `retrograd.pkg.module.x_function__mutmut_N` (a method is
    # `xǁClassǁmethod__mutmut_N`); these globs keep a part of a large module.
    functions: tuple[str, ...] = ()


TARGETS: dict[str, Target] = {
    "optim": Target(
        sources=(
            "src/retrograd/optim/optimizer.py",
            "src/retrograd/optim/sgd.py",
            "src/retrograd/optim/adam.py",
            "src/retrograd/optim/rmsprop.py",
            "src/retrograd/optim/more.py",
        ),
        tests=("tests/test_optim.py", "tests/test_mutation_optim.py"),
    ),
    "state_dict": Target(
        sources=("src/retrograd/nn/modules/module.py",),
        tests=("tests/test_nn_module.py", "tests/test_mutation_state_dict.py"),
        functions=(
            "retrograd.nn.modules.module.*state_dict*",
            "retrograd.nn.modules.module.*_local_state*",
            "retrograd.nn.modules.module.*_copy_into*",
            "retrograd.nn.modules.module.*_IncompatibleKeys*",
        ),
    ),
    "printing": Target(
        sources=("src/retrograd/_printing.py",),
        tests=("tests/test_printing.py", "tests/test_mutation_printing.py"),
    ),
    "serialization": Target(
        sources=("src/retrograd/serialization.py",),
        tests=("tests/test_serialization.py", "tests/test_mutation_serialization.py"),
    ),
    "grad_mode": Target(
        sources=("src/retrograd/autograd/grad_mode.py",),
        tests=("tests/test_autograd_grad_mode.py", "tests/test_mutation_grad_mode.py"),
    ),
    "function": Target(
        sources=("src/retrograd/autograd/function.py",),
        tests=("tests/test_autograd_function.py", "tests/test_mutation_function.py"),
    ),
    "gradcheck": Target(
        sources=("src/retrograd/autograd/gradcheck.py",),
        tests=("tests/test_autograd_gradcheck.py", "tests/test_mutation_gradcheck.py"),
    ),
    "graph": Target(
        sources=("src/retrograd/autograd/graph.py",),
        tests=("tests/test_engine.py", "tests/test_autograd_hooks.py", "tests/test_mutation_graph.py"),
    ),
    "engine": Target(
        sources=("src/retrograd/autograd/engine.py",),
        tests=(
            "tests/test_engine.py",
            "tests/test_autograd_hooks.py",
            "tests/test_saved_values.py",
            "tests/test_mutation_engine.py",
        ),
    ),
    "table": Target(
        sources=("src/retrograd/ops/_table.py",),
        tests=("tests/test_op_table.py", "tests/test_mutation_ops.py"),
    ),
    "formula": Target(
        sources=("src/retrograd/ops/_formula.py",),
        tests=("tests/test_shape_index_formulas.py", "tests/test_mutation_ops.py"),
    ),
}

# Survivors judged equivalent (no behaviour changes), by mutant name, with the reason. mutmut
# numbers a function's mutants in source order, so an edit of that function renumbers them:
# after such an edit, check the list against `--show`.
EQUIVALENT: dict[str, dict[str, str]] = {}


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name in {"__pycache__", ".hypothesis", ".pytest_cache"}}


def _prepare(name: str, target: Target, keep: bool) -> Path:
    """The scratch tree: src/, the module's tests, and a pyproject whose [tool.mutmut] names them."""
    work = SCRATCH / name
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for folder in ("src", "tests"):
        if (work / folder).exists():
            shutil.rmtree(work / folder)
        shutil.copytree(ROOT / folder, work / folder, ignore=_ignore)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    settings = config["tool"]["mutmut"]
    text = (ROOT / "pyproject.toml").read_text()
    tests = [test for test in target.tests if (ROOT / test).exists()]
    overrides = {
        "only_mutate": list(target.sources),
        "pytest_add_cli_args_test_selection": tests,
    }
    lines = []
    for key, value in overrides.items():
        if key in settings:
            raise SystemExit(f"pyproject.toml's [tool.mutmut] must leave {key} to tools/mutation.py")
        lines.append(f"{key} = {json.dumps(value)}")
    text = text.replace("[tool.mutmut]\n", "[tool.mutmut]\n" + "\n".join(lines) + "\n", 1)
    (work / "pyproject.toml").write_text(text)
    return work


def _results(work: Path, target: Target) -> dict[str, int | None]:
    """Mutant name -> pytest's exit code (None: not run): the merged record of the runs in `work`."""
    merged = work / "results.json"
    if merged.exists():
        return json.loads(merged.read_text())
    return _mutmut_results(work, target)


def _merge(work: Path, target: Target, previous: dict[str, int | None]) -> None:
    """Record this run's verdicts over the previous ones (a rerun of survivors leaves the mutants
    it did not run without a verdict in mutmut's files; adding tests never revives a killed one)."""
    codes = dict(previous)
    codes.update({key: code for key, code in _mutmut_results(work, target).items()
                  if code is not None or key not in codes})
    (work / "results.json").write_text(json.dumps(codes, indent=1, ensure_ascii=False))


def _mutmut_results(work: Path, target: Target) -> dict[str, int | None]:
    """Mutant name -> pytest's exit code (None: not run), from mutmut's files in mutants/."""
    codes: dict[str, int | None] = {}
    for source in target.sources:
        meta = work / "mutants" / (source + ".meta")
        if meta.exists():
            codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    if target.functions:
        import fnmatch

        codes = {
            key: code
            for key, code in codes.items()
            if any(fnmatch.fnmatch(key, pattern) for pattern in target.functions)
        }
    return codes


STATUS = {0: "survived", 1: "killed", 3: "killed", 33: "no tests", 5: "no tests", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not run"}


def _status(code: int | None) -> str:
    return STATUS.get(code, "suspicious")


_SHOW = """
import json, sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
names = json.load(sys.stdin)
print(json.dumps({name: get_diff_for_mutant(name, path=find_mutant(name).path) for name in names}))
"""


def _diffs(work: Path, names: list[str]) -> dict[str, str]:
    """Each mutant's diff against the source, read by one mutmut process in the scratch tree."""
    shown = subprocess.run([sys.executable, "-c", _SHOW], cwd=work, input=json.dumps(names),
                           capture_output=True, text=True)
    if shown.returncode != 0:
        print(shown.stderr[-2000:])
        return {}
    return json.loads(shown.stdout.strip().splitlines()[-1])


def _report(name: str, work: Path, target: Target, seconds: float | None, show: bool) -> dict:
    codes = _results(work, target)
    counts: dict[str, int] = {}
    for code in codes.values():
        counts[_status(code)] = counts.get(_status(code), 0) + 1
    # A timeout is a mutant the tests stopped (an endless loop): killed, as mutmut counts it.
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    total = len(codes)
    equivalent = EQUIVALENT.get(name, {})
    survivors = sorted(key for key, code in codes.items() if _status(code) in {"survived", "no tests"})
    unexplained = [key for key in survivors if key not in equivalent]
    score = 100.0 * killed / total if total else 0.0
    summary = {
        "module": name,
        "total": total,
        "killed": killed,
        "score": round(score, 1),
        "counts": counts,
        "survivors": survivors,
        "equivalent": [key for key in survivors if key in equivalent],
        "unexplained": unexplained,
        "seconds": None if seconds is None else round(seconds),
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"\n{name}: {killed} / {total} mutants killed ({score:.1f}%)", end="")
    print("" if seconds is None else f" in {seconds:.0f} s")
    print("  " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    print(f"  survivors: {len(survivors)}, judged equivalent: {len(summary['equivalent'])}")
    diffs = _diffs(work, unexplained) if show else {}
    for key in unexplained:
        print(f"  survived: {key}")
        if key in diffs:
            print("    " + "\n    ".join(diffs[key].rstrip().splitlines()[2:]))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.mutation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", help="a module name from `list`, or `list`")
    parser.add_argument("--keep", action="store_true", help="reuse the last run (rerun what changed)")
    parser.add_argument("--show", action="store_true", help="print each unexplained survivor's diff")
    parser.add_argument("--report", action="store_true", help="only print the last run's score")
    parser.add_argument("--survivors", action="store_true",
                        help="rerun only the mutants that survived the last run (after new tests)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("mutants", nargs="*", help="only these mutant names (globs), e.g. survivors")
    args = parser.parse_args(argv)
    if args.module == "list":
        for name, target in TARGETS.items():
            print(f"{name}: {' '.join(target.sources)}")
            if target.functions:
                print(f"    functions: {' '.join(target.functions)}")
            print(f"    tests: {' '.join(target.tests)}")
        return 0
    if args.module not in TARGETS:
        raise SystemExit(f"unknown module {args.module!r}; one of: {', '.join(TARGETS)}")
    target = TARGETS[args.module]
    work = SCRATCH / args.module
    if args.report:
        _report(args.module, work, target, None, args.show)
        return 0
    try:
        import mutmut  # noqa: F401
    except ImportError:
        raise SystemExit("mutmut is not installed: pip install -e '.[mutation]'") from None
    names = list(args.mutants) or list(target.functions)
    previous = _results(work, target) if (args.survivors or args.mutants or args.keep) else {}
    if args.survivors:
        codes = previous
        names = [key for key, code in codes.items() if _status(code) in {"survived", "no tests"}]
        if not names:
            print(f"{args.module}: no survivors to rerun")
            return 0
    work = _prepare(args.module, target, keep=args.keep or bool(args.mutants) or args.survivors)
    command = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs),
               *names]
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    started = time.monotonic()
    # mutmut draws a progress line many times a second; keep only its last state.
    process = subprocess.run(command, cwd=work, env=environment, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        sys.stdout.write(process.stdout[-4000:] + process.stderr[-4000:])
        return process.returncode
    _merge(work, target, previous)
    last = re.split(r"[\r\n⠀-⣿]", process.stdout.strip())
    print(" ".join(part for part in last[-3:] if part.strip()))
    _report(args.module, work, target, seconds, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
