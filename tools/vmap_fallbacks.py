"""Which ops of the table fall back to a loop over the examples under vmap.

    PYTHONPATH=src python3 tools/vmap_fallbacks.py        # the count and the ops
    PYTHONPATH=src python3 tools/vmap_fallbacks.py -v     # and every sample that falls back

Runs the cases of tests/test_func_batching.py (every sample of every op, with all its
floating tensor arguments batched, and with the first only) and lists those in which an op
without a batching rule fell back (PyTorch's "performance drop" warning), naming the op
that warned. The test keeps the set of such ops equal to its ALLOWED_FALLBACKS.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import test_func_batching as matrix  # noqa: E402  (the cases live with the test)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    names = {case.values[0].name for case in matrix.CASES}
    fell_back: dict[str, list[tuple[str, list[str]]]] = {}
    errors = {}
    for case in matrix.CASES:
        info, args, kwargs, batched = case.values
        try:
            warned = matrix._vmapped(info, args, kwargs, batched)[3]
        except Exception as error:  # reported: an expected error, or a bug to look at
            errors[case.id] = f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"
            continue
        if warned:
            ops = sorted({re.search(r"rule for (\S+)\.", message).group(1) for message in warned})
            fell_back.setdefault(info.name, []).append((case.id, ops))
    print(f"ops with samples: {len(names)}; cases: {len(matrix.CASES)}")
    print(f"ops falling back in at least one case: {len(fell_back)}; "
          f"cases falling back: {sum(len(cases) for cases in fell_back.values())}")
    for name in sorted(fell_back):
        via = sorted({op for _, ops in fell_back[name] for op in ops})
        print(f"  {name:32s} {len(fell_back[name]):3d} cases  via {', '.join(via)}")
        if verbose:
            for case_id, ops in fell_back[name]:
                print(f"      {case_id}: {', '.join(ops)}")
    for case_id, error in errors.items():
        expected = " (expected)" if case_id in matrix.EXPECTED_ERRORS else ""
        print(f"error{expected}: {case_id}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
