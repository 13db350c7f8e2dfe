"""Generate docs/derivatives.md from the op declarations (never edited by hand)."""

from __future__ import annotations

import importlib

from ._formula import Formula, _lambda_text
from ._tangents import rule_name

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
The tangent column is forward mode (see Note [Tangent formulas] in `ops/_tangents.py`): how
the op's output tangent is made from its inputs' tangents, derived (`element_wise`, `linear`,
`multilinear`, `reduction`, `transposed`) or written out (`<input>_t` is an input's tangent).
Ops not listed here are hand-written node classes (the escape hatch for complex ops); each
with the reason it is one, and its tangent rule, closes the page.

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
        parts.append("| grad_fn | input | derivative | saves | tangent |\n|---|---|---|---|---|\n")
        for klass in sorted(by_module[module], key=lambda klass: klass.__name__):
            total += 1
            for index, (name, text) in enumerate(klass.formulas_text().items()):
                title = f"`{klass.__name__}`" if index == 0 else ""
                tangent = _tangent_cell(klass) if index == 0 else ""
                reads = klass._derivative_table[klass.inputs.index(name)][1]
                saves = ", ".join(f"`{read}`" for read in reads if read not in ("grad", "grads"))
                parts.append(f"| {title} | `{name}` | {_cell(text)} | {saves or '—'} | {tangent} |\n")
        parts.append("\n")
    parts.append(f"{total} declared grad_fn classes.\n\n")
    parts.append(_hand_written_section())
    return "".join(parts)


def _tangent_cell(klass) -> str:
    rule = getattr(klass, "tangent", None)
    if rule is None:
        return "none (forward mode raises)"
    name = rule_name(klass)
    return _cell(_lambda_text(rule)) if name == "hand-written" else name


def hand_written_nodes() -> list[type]:
    """The op node classes that are not declarations (Formula): the escape hatch."""
    from ..autograd.graph import Node

    found = []
    stack = list(Node.__subclasses__())
    while stack:
        klass = stack.pop()
        stack.extend(klass.__subclasses__())
        if (klass.__module__.startswith("retrograd.ops") and not issubclass(klass, Formula)
                and not klass.__name__.startswith("_")):
            found.append(klass)
    return found


def _hand_written_section() -> str:
    found = hand_written_nodes()
    rows = sorted({(klass.__module__.removeprefix("retrograd."), klass.__name__, klass.hand_written,
                    _tangent_cell(klass)) for klass in found})
    lines = ["## Hand-written nodes\n\n",
             "The escape hatch: op nodes written as classes, each with the reason it is not a "
             "declaration.\n\n",
             "| module | grad_fn | why hand-written | tangent |\n|---|---|---|---|\n"]
    lines.extend(f"| {module} | `{name}` | {why} | {tangent} |\n" for module, name, why, tangent in rows)
    return "".join(lines)
