"""Generate docs/derivatives.md from the op declarations (never edited by hand)."""

from __future__ import annotations

import importlib

from ._formula import Formula

__all__ = ["derivatives_markdown"]

_HEADER = """\
# Derivatives

Generated from the op declarations (`Formula` classes, see `ops/_formula.py`) by
`python -m retrograd derivatives-doc`; `tests/test_docs.py` fails when this page is out of date.
Each row is a grad_fn as PyTorch names it, with the derivative of each differentiable input.
A formula's parameters say what the node saves: `grad` is the incoming gradient, `result` the
op's output, other names are the op's inputs and parameters. Tensors are saved only for the
formulas that will run (an input that needs no gradient costs nothing). Without
`create_graph` the formulas run on NumPy arrays; with it, on Tensors, recording a graph.
Ops not listed here are hand-written node classes (the escape hatch for complex ops).

"""


def _declared_classes() -> list[type[Formula]]:
    importlib.import_module("retrograd.ops")
    found = []
    stack = list(Formula.__subclasses__())
    while stack:
        klass = stack.pop()
        stack.extend(klass.__subclasses__())
        if klass.formulas_text() and not klass.__name__.startswith("_"):
            found.append(klass)
    return found


def _cell(text: str) -> str:
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`"


def derivatives_markdown() -> str:
    """The derivatives page: one section per module, one row per declared grad_fn."""
    by_module: dict[str, list[type[Formula]]] = {}
    for klass in _declared_classes():
        by_module.setdefault(klass.__module__, []).append(klass)
    parts = [_HEADER]
    total = 0
    for module in sorted(by_module):
        parts.append(f"## {module.removeprefix('retrograd.')}\n\n")
        parts.append("| grad_fn | input | derivative | saves |\n|---|---|---|---|\n")
        for klass in sorted(by_module[module], key=lambda klass: klass.__name__):
            total += 1
            for index, (name, text) in enumerate(klass.formulas_text().items()):
                title = f"`{klass.__name__}`" if index == 0 else ""
                reads = klass._derivative_table[klass.inputs.index(name)][1]
                saves = ", ".join(f"`{read}`" for read in reads if read not in ("grad", "grads"))
                parts.append(f"| {title} | `{name}` | {_cell(text)} | {saves or '—'} |\n")
        parts.append("\n")
    parts.append(f"{total} declared grad_fn classes.\n")
    return "".join(parts)
