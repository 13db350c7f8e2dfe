"""What the pictures show, and that they show it the same with or without Pillow."""

import importlib.util
import itertools
import math
import re
import sys

import pytest

import retrograd
from retrograd import viz
from retrograd.viz import _page, _raster, _render

HAS_PILLOW = importlib.util.find_spec("PIL") is not None


def freed_graph():
    x = retrograd.tensor(2.0, requires_grad=True)
    y = retrograd.mul(retrograd.add(x, 1), retrograd.add(x, 2))
    y.backward()
    return x, y


def _pixels_python(scene) -> tuple[int, bytes]:
    from test_viz_model import decode_png

    width, _height, pixels = decode_png(_raster.render_png(scene))
    return width, pixels


def _pixels_pillow(scene) -> tuple[int, bytes]:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(_render.to_png_from_scene(scene))).convert("RGB")
    return image.width, image.tobytes()


def _runs_along_top_edge(scene, pixels: bytes, width: int) -> int:
    """How many separate stroke-coloured runs the top edge of the freed box has (1 if solid)."""
    (rect,) = [shape for shape in scene["shapes"] if shape["type"] == "rect" and shape.get("id")
               and shape["dash"] == "5,3"]
    stroke = bytes.fromhex(rect["stroke"][1:])
    row = round(rect["y"])
    start, end = round(rect["x"] + rect["radius"] + 2), round(rect["x"] + rect["w"] - rect["radius"] - 2)
    runs, inside = 0, False
    for column in range(start, end):
        offset = (row * width + column) * 3
        on = _close(pixels[offset:offset + 3], stroke)
        runs += on and not inside
        inside = on
    return runs


def _close(colour: bytes, target: bytes) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(colour, target))


def test_freed_box_is_dashed_in_the_pure_python_png():
    _x, y = freed_graph()
    scene = _render.to_scene(viz.draw(y).model)
    width, pixels = _pixels_python(scene)
    assert _runs_along_top_edge(scene, pixels, width) > 5


@pytest.mark.skipif(not HAS_PILLOW, reason="Pillow is not installed")
def test_freed_box_is_dashed_in_the_pillow_png_too():
    _x, y = freed_graph()
    scene = _render.to_scene(viz.draw(y).model)
    width, pixels = _pixels_pillow(scene)
    assert _runs_along_top_edge(scene, pixels, width) > 5


def test_dash_segments_cover_on_and_skip_off():
    segments = _render._dashes([(0, 0), (20, 0)], 5, 3)
    assert [(start[0], end[0]) for start, end in segments] == [(0, 5), (8, 13), (16, 20)]


def test_saved_values_are_named_as_pytorch_names_them():
    x = retrograd.tensor(2.0, requires_grad=True)
    product = retrograd.mul(x + 1, x + 2)
    text = str(viz.draw(product))
    assert "_saved_self = 3" in text and "_saved_other = 4" in text
    assert "_saved_result: its own output" in str(viz.draw(x.exp()))
    assert "saved[" not in text


def test_text_drawing_wraps_to_a_width():
    x, y = freed_graph()
    picture = viz.draw(y, params={"x": x, "y": y})
    assert max(len(line) for line in str(picture).splitlines()) > 70
    wrapped = picture.text(width=60)
    assert max(len(line) for line in wrapped.splitlines()) <= 60
    assert "grad = 7" in wrapped


def test_edge_labels_sit_off_their_edge():
    for start, end in [((100, 0), (40, 80)), ((100, 0), (160, 80)), ((100, 0), (100, 80)),
                       ((0, 0), (200, 30))]:
        curve = [start, end]
        x, y, anchor = _render.label_position(curve)
        (x0, y0), (x1, y1) = start, end
        distance = abs((y1 - y0) * x - (x1 - x0) * y + x1 * y0 - y1 * x0) / math.dist(start, end)
        assert distance >= 5, (start, end)
        assert y <= (y0 + y1) / 2 + 1  # above the line's middle: the text grows up, away from it
        assert anchor == ("end" if x1 < x0 else "start")


def test_explorer_states_are_outlines_with_their_own_legend():
    css = re.search(r"<style>(.*?)</style>", _page.PAGE_TEMPLATE, re.S)[1]
    for state in ("done", "running"):
        rule = re.search(rf"rect\.box\.{state}[^{{]*\{{([^}}]*)\}}", css)[1]
        assert "fill" not in rule  # fills keep the meaning the drawing's legend gives them
    legend = re.search(r'<div id="states">(.*?)</div>\s*<div id="counter">', _page.PAGE_TEMPLATE, re.S)[1]
    assert "state-running" in legend and "state-done" in legend and "state-freed" in legend


def test_explorer_text_colours_have_readable_contrast():
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(foreground: str, background: str) -> float:
        high, low = sorted([luminance(foreground), luminance(background)], reverse=True)
        return (high + 0.05) / (low + 0.05)

    css = re.search(r"<style>(.*?)</style>", _page.PAGE_TEMPLATE, re.S)[1]
    hint = re.search(r"\.hint \{ color: (#[0-9a-f]{6})", css)[1]
    assert contrast(hint, "#f8f9fa") >= 4.5
    for rule in ("text.grad-label {", "text.grad-label.hot {", "text.leaf-grad {"):
        colour = re.search(re.escape(rule) + r" fill: (#[0-9a-f]{6})", css)[1]
        assert contrast(colour, "#ffffff") >= 4.5, rule


def test_explorer_page_uses_its_width():
    css = re.search(r"<style>(.*?)</style>", _page.PAGE_TEMPLATE, re.S)[1]
    assert re.search(r"#graph svg \{[^}]*width: 100%", css)


def test_explore_shows_inline_in_jupyter(tmp_path):
    _x, y = freed_graph()
    x = retrograd.tensor(2.0, requires_grad=True)
    y = x * x
    path = viz.explore(y, tmp_path / "y.html")
    assert isinstance(path, str) and path == str(tmp_path / "y.html")
    shown = path._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "backward-pass explorer" in shown
    assert '"' not in shown.split('srcdoc="', 1)[1].split('" title=', 1)[0]


def test_tour_pictures_include_png_without_pillow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    written = viz.write_seed_pictures(tmp_path)
    pngs = [path for path in written if path.endswith(".png")]
    assert len(pngs) == 4
    for path in pngs:
        with open(path, "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"


def test_create_graph_picture_has_no_crossing_edges():
    from retrograd.viz import _layout

    x = retrograd.tensor(2.0, requires_grad=True)
    w = retrograd.tensor(3.0, requires_grad=True)
    (dz_dx,) = retrograd.autograd.grad(x * x * w, x, create_graph=True)
    model = viz.draw(dz_dx).model
    sizes = {key: _render.box_size(box) for key, box in model.boxes.items()}
    edges = [(edge.source, edge.target) for edge in model.edges]
    placed = _layout.layout(sizes, edges)
    segments = []
    for _source, _target, points in placed.routes:
        segments += list(itertools.pairwise(points))
    assert _count_proper_crossings(segments) == 0


def _count_proper_crossings(segments) -> int:
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    count = 0
    for i, (a, b) in enumerate(segments):
        for c, d in segments[i + 1:]:
            if len({a, b, c, d}) < 4:
                continue  # segments that share an end point meet, they do not cross
            if side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0:
                count += 1
    return count
