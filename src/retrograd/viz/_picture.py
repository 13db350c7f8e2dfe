"""`draw(...)` and the Picture it returns: one graph, many outputs (DOT, SVG, PNG, HTML, text)."""

from __future__ import annotations

import html
import os
import shutil
import subprocess

from .._tensor import Tensor
from . import _render
from ._model import GraphModel, build_model

__all__ = ["Picture", "draw"]


class Picture:
    """A drawing of an autograd graph, read when `draw` was called.

    `.dot()` DOT source, `.svg()` SVG text, `.png()` PNG bytes, `.save(path)` by suffix,
    `str()` a text tree; Jupyter shows it inline through `_repr_svg_`.
    """

    def __init__(self, model: GraphModel):
        self.model = model

    def dot(self) -> str:
        """The graph in Graphviz's DOT language (render it with `dot -Tsvg`)."""
        return _render.to_dot(self.model)

    def svg(self, engine: str = "auto") -> str:
        """SVG text; `engine="dot"` uses Graphviz, `"python"` the built-in layout, `"auto"`
        Graphviz when `dot` is on PATH."""
        if _use_graphviz(engine):
            return _run_graphviz(self.dot(), "svg").decode()
        return _render.to_svg(self.model)

    def png(self, engine: str = "auto", scale: float = 1.0) -> bytes:
        """The picture as PNG bytes (with Pillow if installed, else the built-in rasteriser)."""
        if _use_graphviz(engine):
            return _run_graphviz(self.dot(), "png")
        return _render.to_png(self.model, scale=scale)

    def html(self) -> str:
        """A self-contained HTML page showing the picture (what Jupyter displays)."""
        return (
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>retrograd graph</title></head>"
            f"<body>\n{self.svg(engine='python')}\n<pre>{html.escape(str(self))}</pre>\n</body></html>\n"
        )

    def save(self, path: str | os.PathLike, engine: str = "auto") -> str:
        """Write the picture; the suffix of `path` chooses .svg, .png, .dot or .html."""
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower()
        if suffix == ".png":
            data = self.png(engine)
        elif suffix == ".svg":
            data = self.svg(engine).encode()
        elif suffix in (".dot", ".gv"):
            data = self.dot().encode()
        elif suffix in (".html", ".htm"):
            data = self.html().encode()
        else:
            raise ValueError(f"cannot save a graph picture as {suffix or 'a file without suffix'!r}: "
                             "use .svg, .png, .dot or .html")
        with open(path, "wb") as file:
            file.write(data)
        return path

    def _repr_svg_(self) -> str:
        return self.svg(engine="python")

    def text(self, width: int | None = None) -> str:
        """The graph as an indented tree of text; with `width`, long boxes wrap onto more lines."""
        return _render.to_text(self.model, width)

    def __str__(self) -> str:
        return _render.to_text(self.model)

    def __repr__(self) -> str:
        return f"<retrograd.viz.Picture of {len(self.model.boxes)} boxes>\n{self}"


def draw(
    *roots: Tensor,
    params: dict | None = None,
    show_saved: bool = True,
    show_grads: bool = True,
    max_nodes: int = 500,
    collapse: int = 8,
) -> Picture:
    """A picture of the graph that produced `roots`, with the autograd state PyTorch hides.

    `params` maps names to tensors (e.g. `dict(model.named_parameters())`) to label them;
    runs of `collapse` or more identical ops become one box; at most `max_nodes` boxes.

    >>> import retrograd
    >>> x = retrograd.tensor(2.0, requires_grad=True)
    >>> print(retrograd.viz.draw((x + 1) * (x + 2), params={"x": x}))  # doctest: +ELLIPSIS
    output, scalar, float32  (value = 12)
    └─ MulBackward0  (_saved_other = 4; _saved_self = 3)
    ...
    """
    if not roots:
        raise ValueError("draw() needs at least one tensor")
    for index, root in enumerate(roots):
        if not isinstance(root, Tensor):
            raise TypeError(f"draw() argument {index} must be a Tensor, got {type(root).__name__}")
    model = build_model(list(roots), params, show_saved=show_saved, show_grads=show_grads,
                        max_nodes=max_nodes, collapse=collapse)
    return Picture(model)


def _use_graphviz(engine: str) -> bool:
    if engine not in ("auto", "dot", "python"):
        raise ValueError(f"engine must be 'auto', 'dot' or 'python', got {engine!r}")
    if engine == "dot" and shutil.which("dot") is None:
        raise RuntimeError("engine='dot' needs Graphviz's dot on PATH; use engine='python'")
    return engine == "dot" or (engine == "auto" and shutil.which("dot") is not None)


def _run_graphviz(source: str, output_format: str) -> bytes:
    completed = subprocess.run(["dot", f"-T{output_format}"], input=source.encode(), capture_output=True,
                               check=True, timeout=120)
    return completed.stdout
