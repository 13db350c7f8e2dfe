"""Generate docs/operators.md from the op table (never edited by hand).

`python -m retrograd ops-doc > docs/operators.md` writes it; `tests/test_docs.py` fails when
the page is stale. Operators are grouped by family (the op module that declares them), and
each row says in which namespaces the operator can be called: `retrograd`,
`retrograd.nn.functional`, `retrograd.linalg`, and as a `Tensor` method.
"""

from __future__ import annotations

import numpy as np

__all__ = ["family_of", "operators_markdown"]

# The op module an operator is declared in -> the family it is listed under, in page order.
FAMILIES = {
    "pointwise": "Pointwise arithmetic and functions",
    "compare": "Comparisons and logical operators",
    "reduce": "Reductions",
    "shape": "Shapes, views and joining",
    "index": "Indexing, gathering and scattering",
    "fill": "Filling and copying",
    "linalg": "Linear algebra",
    "nn": "Neural-network functions",
}

_HEADER = """\
# Operators

Generated from the op table (`retrograd.ops.table`) by `python -m retrograd ops-doc`;
`tests/test_docs.py` fails when this page is out of date. Every differentiable operator listed
here is checked by `tests/test_op_table.py` on each of its samples: gradcheck (first derivative)
and gradgradcheck (second derivative) against finite differences in float64, and values and
gradients against PyTorch where it is installed.

The *namespaces* column says where an operator can be called: `retrograd` (`retrograd.add`,
what `torch.add` is), `F` (`retrograd.nn.functional`), `linalg` (`retrograd.linalg`), and
`Tensor` (as a method or Python operator, listed in *Tensor methods*).
"""

_TABLE_HEAD = """\
| operator | namespaces | signature | Tensor methods | in place | 1st derivative | 2nd derivative | samples |
|---|---|---|---|---|---|---|---|
"""


def family_of(info) -> str:
    """The family title of an op-table entry (from the module that declares it)."""
    module = info.function.__module__.split(".ops.", 1)[-1]
    key = module.split(".", 1)[0]
    return FAMILIES.get(key, key.replace("_", " ").capitalize())


def _namespaces(info) -> str:
    import retrograd
    from retrograd import linalg
    from retrograd.nn import functional

    found = []
    prefix, _, short = info.name.rpartition(".")
    if prefix == "linalg":
        if getattr(linalg, short, None) is info.function:
            found.append("`linalg`")
    elif not info.name.startswith("_"):
        if getattr(retrograd, info.name, None) is info.function:
            found.append("`retrograd`")
        if getattr(functional, info.name, None) is info.function:
            found.append("`F`")
        if getattr(linalg, info.name, None) is info.function:
            found.append("`linalg`")
    if info.methods or info.name.startswith("__"):
        found.append("`Tensor`")
    return ", ".join(found) or "—"


def _row(info) -> str:
    methods = ", ".join(f"`{name}`" for name in info.methods) or "—"
    inplace = f"`{info.inplace}`" if info.inplace else "—"
    first = "yes" if info.differentiable else "no (not differentiable)"
    second = "yes" if info.second_order else "no"
    samples = len(info.samples(np.random.default_rng(0))) if info.samples else 0
    summary = f" — {info.doc}" if info.doc else ""
    signature = info.signature.replace("|", "\\|")
    cells = [f"`{info.name}`{summary}", _namespaces(info), f"`{signature}`", methods, inplace, first,
             second, str(samples)]
    return "| " + " | ".join(cells).replace("\n", " ") + " |"


def _anchor(title: str) -> str:
    """The anchor GitHub and MyST give a heading: lower case, spaces to dashes, punctuation gone."""
    kept = "".join(char for char in title.lower() if char.isalnum() or char in " -_")
    return kept.replace(" ", "-")


def operators_markdown() -> str:
    """The operators page: a table of contents, then one table per family, rows sorted by name."""
    from .ops import table

    groups: dict[str, list] = {}
    for name in sorted(table):
        groups.setdefault(family_of(table[name]), []).append(table[name])
    order = [title for title in FAMILIES.values() if title in groups]
    order += sorted(title for title in groups if title not in order)
    total = len(table)
    differentiable = sum(1 for info in table.values() if info.differentiable)
    lines = [_HEADER, f"{total} operators, of which {differentiable} differentiable.\n", "## Contents\n"]
    for title in order:
        lines.append(f"- [{title}](#{_anchor(title)}) ({len(groups[title])})")
    lines.append("")
    for title in order:
        lines.append(f"## {title}\n")
        lines.append(_TABLE_HEAD + "\n".join(_row(info) for info in groups[title]) + "\n")
    return "\n".join(lines)
