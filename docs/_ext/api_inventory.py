"""What the API reference documents: the public callables of each page's modules.

Shared by the documentation build (docs/_ext/retrograd_api.py emits one autodoc entry per
name listed here) and by tests/test_docs_api.py (every name listed here has a docstring),
so the reference and the docstring check cannot drift apart. Needs no Sphinx.
"""

from __future__ import annotations

import importlib
import inspect

# (page, title, modules): the pages of the reference, grouped as PyTorch's documentation is.
PAGES = [
    ("tensors", "retrograd (tensors and operators)", ["retrograd", "retrograd.linalg"]),
    ("tensor_class", "retrograd.Tensor", ["retrograd.Tensor"]),
    ("autograd", "retrograd.autograd",
     ["retrograd.autograd", "retrograd.autograd.functional", "retrograd.autograd.forward_ad",
      "retrograd.autograd.graph", "retrograd.utils.checkpoint"]),
    ("func", "retrograd.func", ["retrograd.func"]),
    ("nn", "retrograd.nn",
     ["retrograd.nn", "retrograd.nn.init", "retrograd.nn.utils", "retrograd.nn.utils.parametrize",
      "retrograd.nn.utils.parametrizations", "retrograd.nn.utils.prune"]),
    ("nn.functional", "retrograd.nn.functional", ["retrograd.nn.functional"]),
    ("optim", "retrograd.optim", ["retrograd.optim", "retrograd.optim.lr_scheduler"]),
    ("data", "retrograd.utils.data", ["retrograd.utils.data"]),
    ("distributions", "retrograd.distributions",
     ["retrograd.distributions", "retrograd.distributions.constraints"]),
    ("viz", "retrograd.viz and retrograd.explain", ["retrograd.viz", "retrograd._explain"]),
]

# Where a module-level function of `retrograd` comes from -> the section it is listed under.
SECTIONS = {
    "retrograd._creation": "Creating tensors and random numbers",
    "retrograd._dtype": "Data types",
    "retrograd._tensor": "Tensor, Size and device",
    "retrograd._printing": "Printing",
    "retrograd.autograd.grad_mode": "Gradient modes",
    "retrograd.serialization": "Saving and loading",
    "retrograd._explain": "Explanations",
    "retrograd": "Tensor predicates",
}


def resolve(dotted: str):
    """The module or class named `dotted` (`retrograd.Tensor` is a class)."""
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError:
        module_name, _, attribute = dotted.rpartition(".")
        return getattr(importlib.import_module(module_name), attribute)


def public_names(module) -> list[str]:
    """The public callables of `module` (functions and classes, no submodules), sorted."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    found = []
    for name in names:
        value = getattr(module, name, None)
        if not name.isidentifier() or inspect.ismodule(value) or not callable(value):
            continue
        if not getattr(value, "__module__", "").startswith("retrograd"):
            continue
        found.append(name)
    return sorted(set(found), key=str.lower)


def public_members(cls) -> list[str]:
    """The public methods and properties of a retrograd class, its retrograd bases' included."""
    names = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next((klass for klass in cls.__mro__ if name in vars(klass)), None)
        if owner is None or not owner.__module__.startswith("retrograd"):
            continue
        raw = vars(owner)[name]
        if isinstance(raw, (staticmethod, classmethod, property)) or callable(raw):
            names.append(name)
    return names


def callables_of(dotted: str):
    """(qualified name, object) for every public callable of a module, and its classes' members."""
    target = resolve(dotted)
    if inspect.isclass(target):
        yield dotted, target
        for member in public_members(target):
            yield f"{dotted}.{member}", getattr(target, member)
        return
    for name in public_names(target):
        value = getattr(target, name)
        yield f"{dotted}.{name}", value
        if inspect.isclass(value) and dotted != "retrograd":
            for member in public_members(value):
                yield f"{dotted}.{name}.{member}", getattr(value, member)


def missing_docstrings() -> list[str]:
    """Every public callable of the reference's modules that has no docstring (inherited counts)."""
    missing = []
    seen = set()
    for _page, _title, modules in PAGES:
        for dotted in modules:
            for qualified, value in callables_of(dotted):
                key = id(value)
                if key in seen and not inspect.isclass(value):
                    continue
                seen.add(key)
                doc = inspect.getdoc(value)
                if isinstance(value, type) and doc == inspect.getdoc(type):
                    doc = None
                if not (doc or "").strip():
                    missing.append(qualified)
    return missing
