"""The `retrograd-api` directive: one autodoc entry per public callable of a reference page.

    .. retrograd-api:: nn

emits, for each module of that page (see `api_inventory.PAGES`), a section with an
`autofunction` / `autoclass` for every public callable, so nothing public is left out of the
reference and nothing is listed by hand. The top-level `retrograd` module is split into
sections by where each function comes from (creation, dtypes, grad modes, ... and one section
per operator family, as on the operators page).
"""

from __future__ import annotations

import inspect

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

import api_inventory


def _entry(dotted: str, value) -> list[str]:
    if inspect.isclass(value):
        return [f".. autoclass:: {dotted}", "   :members:", "   :show-inheritance:", ""]
    return [f".. autofunction:: {dotted}", ""]


def _heading(title: str, underline: str) -> list[str]:
    return [title, underline * len(title), ""]


def _top_level_sections(module) -> dict[str, list[str]]:
    from retrograd._operators_page import FAMILIES, family_of
    from retrograd.ops import table

    by_function = {id(info.function): info for info in table.values()}
    sections: dict[str, list[str]] = {}
    for name in api_inventory.public_names(module):
        value = getattr(module, name)
        info = by_function.get(id(value))
        if name == "Tensor":
            continue  # it has its own page
        if info is not None:
            if info.name != name:
                continue  # listed under its table name
            title = f"Operators: {family_of(info)}"
        elif value.__module__.startswith("retrograd.ops"):
            title = "Operators: other"
        else:
            title = api_inventory.SECTIONS.get(value.__module__, "Other functions")
        sections.setdefault(title, []).append(name)
    fixed = list(dict.fromkeys(api_inventory.SECTIONS.values()))
    families = [f"Operators: {title}" for title in FAMILIES.values()]
    order = [title for title in [*fixed, *families] if title in sections]
    order += sorted(title for title in sections if title not in order)
    return {title: sections[title] for title in order}


class RetrogradApi(SphinxDirective):
    required_arguments = 1

    def run(self):
        page = self.arguments[0]
        modules = next(modules for name, _title, modules in api_inventory.PAGES if name == page)
        lines: list[str] = []
        for dotted in modules:
            target = api_inventory.resolve(dotted)
            if inspect.isclass(target):
                lines += [f".. autoclass:: {dotted}", "   :members:", "   :special-members: __getitem__",
                          ""]
                continue
            if len(modules) > 1:
                lines += _heading(dotted, "-")
            lines += [f".. module:: {dotted}", "   :no-index:", ""] if dotted == "retrograd._explain" else [
                f".. py:currentmodule:: {dotted}", ""]
            if dotted == "retrograd":
                for title, names in _top_level_sections(target).items():
                    lines += _heading(title, "~")
                    for name in names:
                        lines += _entry(f"{dotted}.{name}", getattr(target, name))
                continue
            import retrograd

            elsewhere = []
            for name in api_inventory.public_names(target):
                value = getattr(target, name)
                if dotted != "retrograd" and getattr(retrograd, name, None) is value:
                    elsewhere.append(name)
                    continue
                lines += _entry(f"{dotted}.{name}", value)
            if elsewhere:
                links = ", ".join(f":func:`retrograd.{name}`" for name in elsewhere)
                lines += [f"Also here, documented with the top-level functions: {links}.", ""]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=f"<retrograd-api {page}>"), container)
        return container.children


def _escape_bars(app, what, name, obj, options, lines) -> None:
    """Docstrings are plain text: `|x|` there is an absolute value, not a reST substitution."""
    in_example = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>"):
            in_example = True
        elif not stripped:
            in_example = False
        if in_example or "|" not in line:
            continue
        pieces = line.split("`")
        lines[index] = "`".join(piece if number % 2 else piece.replace("|", "\\|")
                                for number, piece in enumerate(pieces))


def setup(app):
    app.add_directive("retrograd-api", RetrogradApi)
    app.connect("autodoc-process-docstring", _escape_bars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
