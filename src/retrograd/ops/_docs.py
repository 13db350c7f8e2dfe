"""Generate docs/operators.md from the op table (never edited by hand)."""

from __future__ import annotations

import numpy as np

from ._table import table

__all__ = ["operators_markdown"]

_HEADER = """\
# Operators

Generated from the op table (`retrograd.ops.table`) by `python -m retrograd ops-doc`;
`tests/test_docs.py` fails when this page is out of date. Every differentiable operator listed
here is checked by `tests/test_op_table.py` on each of its samples: gradcheck (first derivative)
and gradgradcheck (second derivative) against finite differences in float64, and values and
gradients against PyTorch where it is installed.

| operator | signature | Tensor methods | in place | 1st derivative | 2nd derivative | samples |
|---|---|---|---|---|---|---|
"""


def _row(info) -> str:
    methods = ", ".join(f"`{name}`" for name in info.methods) or "—"
    inplace = f"`{info.inplace}`" if info.inplace else "—"
    first = "yes" if info.differentiable else "no (not differentiable)"
    second = "yes" if info.second_order else "no"
    samples = len(info.samples(np.random.default_rng(0))) if info.samples else 0
    summary = f" — {info.doc}" if info.doc else ""
    signature = info.signature.replace("|", "\\|")
    cells = [f"`{info.name}`{summary}", f"`{signature}`", methods, inplace, first, second, str(samples)]
    return "| " + " | ".join(cells) + " |"


def operators_markdown() -> str:
    """The operators page: one row per op of the table, sorted by name."""
    rows = [_row(table[name]) for name in sorted(table)]
    return _HEADER + "\n".join(rows) + f"\n\n{len(rows)} operators.\n"
