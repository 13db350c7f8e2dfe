"""Generate docs/operators.md from the op table (never edited by hand).

`python -m retrograd ops-doc > docs/operators.md` writes it; `tests/test_docs.py` fails when
the page is stale. Operators are grouped by family (the op module that declares them), and
each row says in which namespaces the operator can be called: `retrograd`,
`retrograd.nn.functional`, `retrograd.linalg`, and as a `Tensor` method; which grad_fn its first
sample records; and the source file that defines it.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import warnings
from pathlib import Path

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
what `torch.add` is), `F` (`retrograd.nn.functional`), `linalg` (`retrograd.linalg`),
`special` (`retrograd.special`), and `Tensor` (as a method or Python operator, listed in
*Tensor methods*). *grad_fn* is the node the operator's first sample records (as `y.grad_fn`
shows it), and *defined in* the file of `src/retrograd/` where the operator is written.
"""

_TABLE_HEAD = (
    "| operator | namespaces | signature | Tensor methods | in place | grad_fn | 1st derivative "
    "| 2nd derivative | samples | defined in |\n"
    "|---|---|---|---|---|---|---|---|---|---|\n"
)


def family_of(info) -> str:
    """The family title of an op-table entry (from the module that declares it)."""
    module = info.function.__module__.split(".ops.", 1)[-1]
    key = module.split(".", 1)[0]
    return FAMILIES.get(key, key.replace("_", " ").capitalize())


def _namespaces(info) -> str:
    import retrograd
    from retrograd import linalg, special
    from retrograd.nn import functional

    submodules = {"linalg": linalg, "special": special}
    found = []
    prefix, _, short = info.name.rpartition(".")
    if prefix in submodules:
        if getattr(submodules[prefix], short, None) is info.function:
            found.append(f"`{prefix}`")
    elif not info.name.startswith("_"):
        if getattr(retrograd, info.name, None) is info.function:
            found.append("`retrograd`")
        if getattr(functional, info.name, None) is info.function:
            found.append("`F`")
        for name, submodule in submodules.items():
            if getattr(submodule, info.name, None) is info.function:
                found.append(f"`{name}`")
    if info.methods or info.name.startswith("__"):
        found.append("`Tensor`")
    return ", ".join(found) or "—"


def _requiring_grad(value):
    """The sample's floating tensors as leaves that require grad (inside lists and tuples too)."""
    from ._tensor import Tensor

    if isinstance(value, Tensor) and value.dtype.is_floating_point:
        return value.detach().clone().requires_grad_(True)
    if isinstance(value, tuple | list):
        return type(value)(_requiring_grad(item) for item in value)
    return value


def _op_samples():
    """The `SAMPLES` of tests/op_samples/ (op name -> `samples(rng)`), beside the tests in the source
    checkout: the page counts each op's samples and shows the grad_fn its first one records."""
    module = sys.modules.get("op_samples")
    if module is None:
        directory = Path(__file__).resolve().parents[2] / "tests" / "op_samples"
        if not directory.is_dir():
            raise RuntimeError(f"the operators page reads the op samples of the source checkout: {directory}")
        spec = importlib.util.spec_from_file_location("op_samples", directory / "__init__.py",
                                                      submodule_search_locations=[str(directory)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["op_samples"] = module
        spec.loader.exec_module(module)
    return module.SAMPLES


def _grad_fn(info) -> str:
    """The grad_fn class the op's first sample records, or a dash."""
    samples = _op_samples().get(info.name)
    if not info.differentiable or samples is None:
        return "—"
    args, kwargs = samples(np.random.default_rng(0))[0]
    args = _requiring_grad(args)
    if info.mutates_input:
        args = (args[0].clone(), *args[1:])
    try:
        with warnings.catch_warnings():  # deprecation notes of the op itself are not for this page
            warnings.simplefilter("ignore")
            result = info.function(*args, **kwargs)
    except Exception:  # a sample that needs its test's wrapper: no entry in the column
        return "—"
    while isinstance(result, tuple | list) and result:
        result = result[0]
    node = getattr(result, "grad_fn", None)
    return f"`{type(node).__name__}`" if node is not None else "—"


def _defined_in(info) -> str:
    """The file of src/retrograd/ that defines the op's function."""
    path = Path(inspect.getsourcefile(inspect.unwrap(info.function)))
    package = Path(__file__).parent
    return f"`{path.relative_to(package).as_posix()}`" if path.is_relative_to(package) else "—"


def _row(info) -> str:
    methods = ", ".join(f"`{name}`" for name in info.methods) or "—"
    inplace = f"`{info.inplace}`" if info.inplace else "—"
    first = "yes" if info.differentiable else "no (not differentiable)"
    second = "yes" if info.second_order else "no"
    samples = _op_samples().get(info.name)
    samples = len(samples(np.random.default_rng(0))) if samples else 0
    summary = f" — {info.doc}" if info.doc else ""
    signature = info.signature.replace("|", "\\|")
    cells = [f"`{info.name}`{summary}", _namespaces(info), f"`{signature}`", methods, inplace,
             _grad_fn(info), first, second, str(samples), _defined_in(info)]
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
