"""The picture's outputs: DOT source, SVG, PNG and a text drawing, from one GraphModel.

SVG and PNG are drawn from one list of shapes (a scene: boxes, text, lines) laid out by
`_layout`, so both look the same and neither needs a system binary. PNG uses Pillow when
it is installed (the `viz` extra, for smooth text) and the pure-Python `_raster` otherwise.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from xml.sax.saxutils import escape

from . import _layout
from ._model import COLLAPSED, LEAF, MORE, OP, OUTPUT, Box, GraphModel

__all__ = ["to_dot", "to_png", "to_scene", "to_svg", "to_text"]

FONT_SIZE = 12.0
CHAR_WIDTH = FONT_SIZE * 0.6  # a monospace font
LINE_HEIGHT = FONT_SIZE * 1.35
PADDING = 7.0

_KIND_COLOURS = {  # (fill, stroke)
    OUTPUT: ("#ffe8cc", "#d9480f"),
    OP: ("#f1f3f5", "#495057"),
    LEAF: ("#d0ebff", "#1971c2"),
    COLLAPSED: ("#e5dbff", "#6741d9"),
    MORE: ("#ffffff", "#868e96"),
}
_RETAINED = ("#d3f9d8", "#2f9e44")
_FREED = ("#e9ecef", "#868e96")
_NO_GRAD = ("#ffffff", "#adb5bd")
_BUMPED_STROKE = "#e03131"
_TEXT = "#212529"
_WARNING_TEXT = "#c92a2a"
_GRAD_TEXT = "#237032"
_EDGE = "#495057"

LEGEND = [
    (OUTPUT, set(), "output tensor"),
    (OP, set(), "operation (grad_fn)"),
    (LEAF, set(), "leaf (AccumulateGrad)"),
    (OP, {"retained"}, "retains grad"),
    (OP, {"freed"}, "saved values freed"),
    (OP, {"bumped"}, "saved value changed in place"),
    (OUTPUT, {"nograd"}, "no grad"),
    (COLLAPSED, set(), "run of identical ops"),
]


def box_style(kind: str, flags: set[str]) -> dict:
    """Fill, stroke and dash of a box, from its kind and flags (one rule for all outputs)."""
    fill, stroke = _KIND_COLOURS[kind]
    dash = ""
    if "retained" in flags:
        fill, stroke = _RETAINED
    if "freed" in flags:
        fill, stroke = _FREED
        dash = "5,3"
    if "nograd" in flags:
        fill, stroke = _NO_GRAD
        dash = "2,2"
    if kind == MORE:
        dash = "5,3"
    width = 1.2
    if "bumped" in flags:
        stroke, width = _BUMPED_STROKE, 2.4
    return {"fill": fill, "stroke": stroke, "dash": dash, "width": width}


def line_colour(line: str) -> str:
    if "FREED" in line or "CHANGED" in line or "no graph" in line:
        return _WARNING_TEXT
    if line.startswith(("grad = ", "retain_grad")) and "None" not in line:
        return _GRAD_TEXT
    return _TEXT


def box_size(box: Box) -> tuple[float, float]:
    longest = max([len(box.title), *(len(line) for line in box.lines)])
    return longest * CHAR_WIDTH + 2 * PADDING, (1 + len(box.lines)) * LINE_HEIGHT + 2 * PADDING - 4


# ---------------------------------------------------------------------------
# The scene: shapes in picture coordinates


def to_scene(model: GraphModel, legend: bool = True) -> dict:
    """Lay the model out and list what to draw: {"width", "height", "shapes"}."""
    sizes = {key: box_size(box) for key, box in model.boxes.items()}
    placed = _layout.layout(sizes, [(edge.source, edge.target) for edge in model.edges])
    shapes: list[dict] = []
    labels = {(edge.source, edge.target): edge.label for edge in model.edges}
    for source, target, points in placed.routes:
        curve = _smooth(points)
        shapes.append({"type": "line", "points": curve, "id": f"e{source}_{target}",
                       "source": source, "target": target})
        label = labels.get((source, target))
        if label:
            x, y, anchor = label_position(curve)
            shapes.append({"type": "text", "x": x, "y": y, "text": label, "anchor": anchor,
                           "colour": _EDGE, "bold": False, "size": FONT_SIZE - 2})
    for key, box in model.boxes.items():
        x, y = placed.positions[key]
        width, height = sizes[key]
        shapes.extend(_box_shapes(box, x - width / 2, y - height / 2, width, height))
    width, height = placed.width, placed.height
    if model.note:
        shapes.append({"type": "text", "x": _layout._MARGIN, "y": height + LINE_HEIGHT,
                       "text": model.note, "colour": _WARNING_TEXT, "bold": True, "size": FONT_SIZE})
        height += LINE_HEIGHT + 6
    if legend:
        legend_shapes, legend_width, legend_height = _legend(height + 8)
        shapes.extend(legend_shapes)
        width = max(width, legend_width)
        height += legend_height + 8
    return {"width": math.ceil(width), "height": math.ceil(height), "shapes": shapes}


def _box_shapes(box: Box, left: float, top: float, width: float, height: float) -> list[dict]:
    style = box_style(box.kind, box.flags)
    shapes = [{"type": "rect", "x": left, "y": top, "w": width, "h": height, "id": f"n{box.key}",
               "radius": 9.0 if box.kind in (LEAF, OUTPUT) else 3.0, **style}]
    baseline = top + PADDING + FONT_SIZE - 1
    shapes.append({"type": "text", "x": left + PADDING, "y": baseline, "text": box.title,
                   "colour": _TEXT, "bold": True, "size": FONT_SIZE})
    for line in box.lines:
        baseline += LINE_HEIGHT
        shapes.append({"type": "text", "x": left + PADDING, "y": baseline, "text": line,
                       "colour": line_colour(line), "bold": False, "size": FONT_SIZE})
    return shapes


def _legend(top: float) -> tuple[list[dict], float, float]:
    shapes = [{"type": "text", "x": _layout._MARGIN, "y": top + FONT_SIZE, "bold": True,
               "size": FONT_SIZE, "colour": _TEXT,
               "text": "Legend (arrows: the way gradients flow, from a node to its next_functions)"}]
    x = _layout._MARGIN
    y = top + FONT_SIZE + 8
    row_width = 0.0
    per_row = 4
    for index, (kind, flags, text) in enumerate(LEGEND):
        if index and index % per_row == 0:
            x = _layout._MARGIN
            y += 26
        width = len(text) * CHAR_WIDTH + 2 * PADDING
        style = box_style(kind, flags)
        shapes.append({"type": "rect", "x": x, "y": y, "w": width, "h": 20, "radius": 3.0, **style})
        shapes.append({"type": "text", "x": x + PADDING, "y": y + 14, "text": text, "colour": _TEXT,
                       "bold": False, "size": FONT_SIZE})
        x += width + 10
        row_width = max(row_width, x)
    return shapes, max(row_width, 76 * CHAR_WIDTH) + _layout._MARGIN, y + 20 - top


def _smooth(points: list[tuple[float, float]], radius: float = 14.0) -> list[tuple[float, float]]:
    """The polyline through `points` with each bend rounded off (a sampled quadratic curve
    of at most `radius` on either side of the corner)."""
    if len(points) <= 2:
        return list(points)
    result = [points[0]]
    for before, corner, after in zip(points, points[1:], points[2:]):
        into = math.dist(before, corner)
        out_of = math.dist(corner, after)
        if into == 0 or out_of == 0:
            continue
        cut = min(radius, into / 2, out_of / 2)
        start = _towards(corner, before, cut / into)
        end = _towards(corner, after, cut / out_of)
        for step in range(7):
            t = step / 6
            result.append(tuple(
                (1 - t) ** 2 * start[axis] + 2 * (1 - t) * t * corner[axis] + t**2 * end[axis]
                for axis in (0, 1)
            ))
    result.append(points[-1])
    return result


def _towards(origin: tuple[float, float], target: tuple[float, float],
             fraction: float) -> tuple[float, float]:
    return (origin[0] + (target[0] - origin[0]) * fraction, origin[1] + (target[1] - origin[1]) * fraction)


def halfway(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The point half-way along a polyline (where an edge's gradient is written)."""
    segments = list(itertools.pairwise(points))
    lengths = [math.dist(start, end) for start, end in segments]
    remaining = sum(lengths) / 2
    for (start, end), length in zip(segments, lengths):
        if remaining <= length and length > 0:
            t = remaining / length
            return start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
        remaining -= length
    return points[-1]


def label_position(curve: list[tuple[float, float]]) -> tuple[float, float, str]:
    """Where to write an edge's label: half-way along it, set off from the line at a right
    angle on the outer side of its slant (so the labels of two edges leaving one box point
    away from each other), with the text growing away from the line, never across it."""
    x, y = halfway(curve)
    (x0, y0), (x1, y1) = curve[0], curve[-1]
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    going_left = dx < -1
    # The normal (dy, -dx) or (-dy, dx) whose horizontal part points where the edge leans:
    # above the line, to its outer side.
    nx, ny = (-dy / length, dx / length) if going_left else (dy / length, -dx / length)
    if ny > 0:
        nx, ny = -nx, -ny
    offset = 7.0
    return x + nx * offset, y + ny * offset - 1, "end" if going_left else "start"


def arrowhead(points: list[tuple[float, float]], size: float = 8.0) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1) = points[-2], points[-1]
    angle = math.atan2(y1 - y0, x1 - x0)
    return [
        (x1, y1),
        (x1 - size * math.cos(angle - 0.4), y1 - size * math.sin(angle - 0.4)),
        (x1 - size * math.cos(angle + 0.4), y1 - size * math.sin(angle + 0.4)),
    ]


# ---------------------------------------------------------------------------
# SVG


_FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def to_svg(model: GraphModel, legend: bool = True) -> str:
    """The picture as standalone SVG text (element ids: `n<key>` boxes, `e<src>_<dst>` edges)."""
    return scene_to_svg(to_scene(model, legend))


def scene_to_svg(scene: dict) -> str:
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{scene["width"]}" height="{scene["height"]}" '
        f'viewBox="0 0 {scene["width"]} {scene["height"]}" '
        f'font-family="{_FONT_FAMILY}" font-size="{FONT_SIZE:g}">',
        f'<rect width="{scene["width"]}" height="{scene["height"]}" fill="#ffffff"/>',
    ]
    for shape in scene["shapes"]:
        parts.append(_svg_shape(shape))
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_shape(shape: dict) -> str:
    kind = shape["type"]
    identity = f' id="{shape["id"]}"' if shape.get("id") else ""
    if kind == "rect":
        dash = f' stroke-dasharray="{shape["dash"]}"' if shape["dash"] else ""
        return (f'<rect{identity} class="box" x="{shape["x"]:.1f}" y="{shape["y"]:.1f}" '
                f'width="{shape["w"]:.1f}" height="{shape["h"]:.1f}" rx="{shape["radius"]:g}" '
                f'fill="{shape["fill"]}" stroke="{shape["stroke"]}" '
                f'stroke-width="{shape["width"]:g}"{dash}/>')
    if kind == "text":
        weight = ' font-weight="bold"' if shape["bold"] else ""
        if shape.get("anchor") == "end":
            weight += ' text-anchor="end"'
        size = f' font-size="{shape["size"]:g}"' if shape["size"] != FONT_SIZE else ""
        return (f'<text x="{shape["x"]:.1f}" y="{shape["y"]:.1f}" fill="{shape["colour"]}"'
                f'{weight}{size} xml:space="preserve">{escape(shape["text"])}</text>')
    points = shape["points"]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    head = " ".join(f"{x:.1f},{y:.1f}" for x, y in arrowhead(points))
    return (f'<g{identity} class="edge"><polyline points="{path}" fill="none" stroke="{_EDGE}" '
            f'stroke-width="1.3"/><polygon points="{head}" fill="{_EDGE}"/></g>')


# ---------------------------------------------------------------------------
# PNG


def to_png(model: GraphModel, legend: bool = True, scale: float = 1.0) -> bytes:
    """The picture as PNG bytes: with Pillow when installed, else in pure Python."""
    return to_png_from_scene(to_scene(model, legend), scale)


def to_png_from_scene(scene: dict, scale: float = 1.0) -> bytes:
    """A laid-out scene as PNG bytes: with Pillow when installed, else in pure Python."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        from ._raster import render_png

        return render_png(scene, scale)
    import io

    image = Image.new("RGB", (max(1, int(scene["width"] * scale)), max(1, int(scene["height"] * scale))),
                      "#ffffff")
    draw = ImageDraw.Draw(image)
    fonts = _Fonts(scale)
    for shape in scene["shapes"]:
        _draw_shape(draw, shape, fonts, scale)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class _Fonts:
    """A monospace TrueType font when the system has one, else Pillow's built-in font."""

    _NAMES = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "LiberationMono-Regular.ttf",
              "LiberationMono-Bold.ttf", "Menlo.ttc", "consola.ttf", "consolab.ttf")

    def __init__(self, scale: float):
        self.scale = scale
        self.cache: dict = {}

    def get(self, size: float, bold: bool):
        from PIL import ImageFont

        key = (size, bold)
        if key not in self.cache:
            pixels = max(6, round(size * self.scale))
            names = [name for name in self._NAMES if ("Bold" in name or "b." in name) == bold]
            font = None
            for name in names:
                try:
                    font = ImageFont.truetype(name, pixels)
                    break
                except OSError:
                    continue
            self.cache[key] = font or ImageFont.load_default(pixels)
        return self.cache[key]


def _draw_shape(draw, shape: dict, fonts: _Fonts, scale: float) -> None:
    kind = shape["type"]
    if kind == "rect":
        box = [shape["x"] * scale, shape["y"] * scale, (shape["x"] + shape["w"]) * scale,
               (shape["y"] + shape["h"]) * scale]
        width = max(1, round(shape["width"] * scale))
        if not shape["dash"]:
            draw.rounded_rectangle(box, radius=shape["radius"] * scale, fill=shape["fill"],
                                   outline=shape["stroke"], width=width)
            return
        # Pillow draws no dashed outlines: fill, then dash the outline ourselves, as the
        # pure-Python rasteriser does (the same cue with or without Pillow).
        draw.rounded_rectangle(box, radius=shape["radius"] * scale, fill=shape["fill"])
        on, off = (float(part) * scale for part in shape["dash"].split(","))
        for start, end in _dashes(_outline(box, shape["radius"] * scale), on, off):
            draw.line([start, end], fill=shape["stroke"], width=width)
        return
    if kind == "text":
        font = fonts.get(shape["size"], shape["bold"])
        anchor = "rs" if shape.get("anchor") == "end" else "ls"
        draw.text((shape["x"] * scale, shape["y"] * scale), shape["text"], fill=shape["colour"],
                  font=font, anchor=anchor)
        return
    points = [(x * scale, y * scale) for x, y in shape["points"]]
    draw.line(points, fill=_EDGE, width=max(1, round(1.3 * scale)), joint="curve")
    draw.polygon(arrowhead(points, 8 * scale), fill=_EDGE)


def _outline(box: list[float], radius: float) -> list[tuple[float, float]]:
    """The outline of a rounded rectangle as a closed polyline (corners cut diagonally)."""
    x0, y0, x1, y1 = box
    return [(x0 + radius, y0), (x1 - radius, y0), (x1, y0 + radius), (x1, y1 - radius),
            (x1 - radius, y1), (x0 + radius, y1), (x0, y1 - radius), (x0, y0 + radius), (x0 + radius, y0)]


def _dashes(points: list[tuple[float, float]], on: float, off: float) -> list[tuple[tuple, tuple]]:
    """The (start, end) segments of a dashed polyline: `on` drawn, `off` skipped, repeating."""
    segments = []
    phase = 0.0  # distance into the current on+off period
    for (xa, ya), (xb, yb) in itertools.pairwise(points):
        length = math.hypot(xb - xa, yb - ya)
        done = 0.0
        while done < length:
            drawing = phase < on
            step = min((on - phase) if drawing else (on + off - phase), length - done)
            if drawing and step > 0:
                start = (xa + (xb - xa) * done / length, ya + (yb - ya) * done / length)
                end = (xa + (xb - xa) * (done + step) / length, ya + (yb - ya) * (done + step) / length)
                segments.append((start, end))
            done += step
            phase = (phase + step) % (on + off)
    return segments


# ---------------------------------------------------------------------------
# DOT


def to_dot(model: GraphModel, legend: bool = True) -> str:
    """Graphviz DOT source of the picture (same boxes, colours, text and edges)."""
    lines = [
        "digraph retrograd {",
        '  graph [rankdir=TB, fontname="monospace"];',
        '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=11];',
        '  edge [color="#495057", arrowsize=0.7, fontname="monospace", fontsize=9];',
    ]
    for key, box in model.boxes.items():
        style = box_style(box.kind, box.flags)
        rows = [f"<b>{escape(box.title)}</b>"]
        for line in box.lines:
            colour = line_colour(line)
            text = escape(line)
            rows.append(text if colour == _TEXT else f'<font color="{colour}">{text}</font>')
        label = '<br align="left"/>'.join(rows) + '<br align="left"/>'
        lines.append(f"  {_dot_id(key)} [label=<{label}>, {_dot_style(style)}];")
    for edge in model.edges:
        label = f' [label="{_dot_escape(edge.label)}"]' if edge.label else ""
        lines.append(f"  {_dot_id(edge.source)} -> {_dot_id(edge.target)}{label};")
    if model.note:
        lines.append(f'  label="{_dot_escape(model.note)}"; labelloc=b; fontsize=11; '
                     f'fontcolor="{_WARNING_TEXT}";')
    if legend:
        lines.append(_dot_legend())
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_style(style: dict) -> str:
    styles = "rounded,filled" + (",dashed" if style["dash"] else "")
    return (f'fillcolor="{style["fill"]}", color="{style["stroke"]}", penwidth={style["width"]:g}, '
            f'style="{styles}"')


def _dot_legend() -> str:
    """The legend as one table at the bottom of the drawing."""
    cells = "".join(
        f'<td bgcolor="{box_style(kind, flags)["fill"]}" color="{box_style(kind, flags)["stroke"]}" '
        f'border="1" style="rounded">{escape(text)}</td>'
        for kind, flags, text in LEGEND
    )
    title = "<b>Legend</b> (arrows: the way gradients flow, from a node to its next_functions)"
    table = (f'<table border="0" cellspacing="4" cellpadding="3"><tr><td colspan="{len(LEGEND)}" '
             f'align="left">{title}</td></tr><tr>{cells}</tr></table>')
    return f"  legend [shape=plaintext, style=\"\", fontsize=9, label=<{table}>];\n  {{rank=sink; legend}}"


def _dot_id(key: int) -> str:
    return f"n{key}" if key >= 0 else f"out{-key}"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------------------
# Text


def to_text(model: GraphModel, width: int | None = None) -> str:
    """An indented tree for terminals; a box reached again is shown as `(see above)`.

    With `width`, a box whose line would be longer puts its details on the lines below it.
    """
    children: dict[int, list[tuple[int, str]]] = {key: [] for key in model.boxes}
    has_parent = set()
    for edge in model.edges:
        children[edge.source].append((edge.target, edge.label))
        has_parent.add(edge.target)
    roots = [key for key in model.boxes if key not in has_parent]
    lines: list[str] = []
    printed: set[int] = set()
    stack = [(key, "", "", "") for key in reversed(roots)]
    while stack:
        key, lead, continuation, label = stack.pop()
        box = model.boxes[key]
        details = "; ".join(box.lines)
        edge_label = f"[{label}] " if label else ""
        if key in printed:
            lines.append(f"{lead}{edge_label}{box.title} (see above)")
            continue
        printed.add(key)
        head = f"{lead}{edge_label}{box.title}"
        below = children[key]
        if details and width is not None and len(head) + len(details) + 4 > width:
            lines.append(head)
            bar = continuation + ("│  " if below else "   ") + "  "
            lines.extend(bar + part for part in
                         textwrap.wrap(f"({details})", max(width - len(bar), 20), break_on_hyphens=False))
        else:
            lines.append(head + (f"  ({details})" if details else ""))
        for index in range(len(below) - 1, -1, -1):
            child, child_label = below[index]
            last = index == len(below) - 1
            stack.append((child, continuation + ("└─ " if last else "├─ "),
                          continuation + ("   " if last else "│  "), child_label))
    if model.note:
        lines.append(model.note)
    return "\n".join(lines)
