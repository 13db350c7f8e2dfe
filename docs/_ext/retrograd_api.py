"""The `retrograd-api` directive: one autodoc entry per public callable of a reference page.

    .. retrograd-api:: nn

emits, for each module of that page (see `api_inventory.PAGES`), a section with an
`autofunction` / `autoclass` for every public callable, so nothing public is left out of the
reference and nothing is listed by hand. The top-level `retrograd` module is split into
sections by where each function comes from (creation, dtypes, grad modes, ... and one section
per operator family, as on the operators page).
"""

from __future__ import annotations

import importlib
import inspect
import re

import api_inventory
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


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
        if any(getattr(home, name, None) is value for home in _homes()):
            continue  # documented once, where PyTorch documents it (F.relu, linalg.inv)
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


_HOME_NAMES = ("retrograd", "retrograd.nn.functional", "retrograd.linalg")


def _homes():
    """Modules whose functions are documented there, not again among the top-level ones."""
    return [importlib.import_module(name) for name in _HOME_NAMES[1:]]


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
                if dotted not in _HOME_NAMES and getattr(retrograd, name, None) is value:
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
    """Docstrings are plain text: `|x|` there is an absolute value, not a reST substitution,
    and `add_` an in-place method, not a link.

    A module's docstring (with its indented Notes) is shown as it is written, preformatted.
    """
    if what == "module":
        lines[:] = ["::", ""] + [f"    {line}" for line in lines] + [""]
        return
    in_example = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>"):
            in_example = True
        elif not stripped:
            in_example = False
        if in_example or ("|" not in line and "_" not in line):
            continue
        pieces = line.split("`")
        lines[index] = "`".join(piece if number % 2 else _escape_plain(piece)
                                for number, piece in enumerate(pieces))


def _source_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """`{source}` role: a link to the highlighted source of a symbol, with its file and lines.

    ``{source}`retrograd.autograd.engine._count_dependencies``` renders as
    "engine.py: _count_dependencies (lines 182-199)" and links to the viewcode page at that
    definition. Lines are read from the code at build time, so they never go stale; a symbol
    that no longer exists is a build error.
    """
    target = text.strip()
    module_name, qualname = _split_symbol(target)
    module = importlib.import_module(module_name)
    value = module
    for part in qualname.split(".") if qualname else ():
        value = getattr(value, part)
    value = inspect.unwrap(getattr(value, "fget", value))
    env = inliner.document.settings.env
    page = "../" * env.docname.count("/") + "_modules/" + module_name.replace(".", "/") + ".html"
    filename = module_name.rsplit(".", 1)[-1] + ".py"
    if not qualname:
        reference = nodes.reference(rawtext, "", refuri=page)
        reference += nodes.literal(filename, filename)
        return [reference], []
    if inspect.isclass(value) and value.__module__ != module_name:
        # A public class names its public module (Note [Public module names]); its source is
        # in the module the role names.
        # (viewcode files it under that module, so the link goes to the page, not an anchor).
        first, last = _class_lines(module, qualname)
        page_only = True
    else:
        page_only = False
        source_lines, first = inspect.getsourcelines(value)
        last = first + len(source_lines) - 1
    # viewcode marks each documented top-level object of the module by its name
    uri = page if page_only else f"{page}#{qualname.split('.')[0]}"
    label = f"{filename}: {qualname} (lines {first}\u2013{last})"
    reference = nodes.reference(rawtext, "", refuri=uri)
    reference += nodes.literal(label, label)
    return [reference], []


def _class_lines(module, qualname: str) -> tuple[int, int]:
    """The first and last line of class `qualname` in `module`'s source file."""
    import ast

    tree = ast.parse(inspect.getsource(module))
    body = tree.body
    for part in qualname.split("."):
        found = next(node for node in body if isinstance(node, ast.ClassDef) and node.name == part)
        body = found.body
    return found.lineno, found.end_lineno


def _split_symbol(target: str) -> tuple[str, str]:
    parts = target.split(".")
    found = 0
    for cut in range(1, len(parts) + 1):
        try:
            importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            break
        found = cut
    if not found:
        raise ValueError(f"no module in {target!r}")
    return ".".join(parts[:found]), ".".join(parts[found:])


def _drop_object_base(app, name, obj, options, bases) -> None:
    """`Bases: object` says nothing: show a class's bases only when it has real ones."""
    bases[:] = [base for base in bases if base is not object]


_TRAILING_UNDERSCORE = re.compile(r"\b(\w+)_(?=\W|$)")


def _escape_plain(text: str) -> str:
    """`|` and a word ending in `_` (`add_`, `from_`) mean themselves in a plain-text docstring,
    not a reST substitution or link."""
    return _TRAILING_UNDERSCORE.sub(r"\1\\_", text.replace("|", "\\|"))


def setup(app):
    app.add_directive("retrograd-api", RetrogradApi)
    app.connect("autodoc-process-bases", _drop_object_base)
    app.add_role("source", _source_role)
    app.connect("autodoc-process-docstring", _escape_bars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
