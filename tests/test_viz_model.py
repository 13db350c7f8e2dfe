"""The graph picture: its model (boxes, edges, states), layout, and DOT/SVG/PNG/text outputs."""

import itertools
import shutil
import string
import struct
import sys
import xml.etree.ElementTree as ElementTree
import zlib
from pathlib import Path

import pytest

import retrograd
from retrograd import viz
from retrograd.viz import _layout, _raster, _render


def seed_graph():
    """The seed article's example: y = (x + 1)(x + 2) at x = 2."""
    x = retrograd.tensor(2.0, requires_grad=True)
    a = retrograd.add(x, 1)
    b = retrograd.add(x, 2)
    y = retrograd.mul(a, b)
    return x, a, b, y


def titles(picture):
    return [box.title for box in picture.model.boxes.values()]


def box_named(picture, words):
    (box,) = [box for box in picture.model.boxes.values() if words in box.title]
    return box


def test_seed_graph_has_one_box_per_node_and_leaf_and_output():
    x, _a, _b, y = seed_graph()
    picture = viz.draw(y, params={"x": x})
    kinds = sorted(box.kind for box in picture.model.boxes.values())
    assert kinds == ["leaf", "op", "op", "op", "output"]
    assert sorted(titles(picture)) == sorted([
        "output, scalar, float32", "MulBackward0", "AddBackward0", "AddBackward0",
        "x: leaf, scalar, float32",
    ])


def test_edges_go_from_each_node_to_its_next_functions():
    _x, a, b, y = seed_graph()
    model = viz.draw(y).model
    keys = model.node_keys
    expected = {(-1, keys[id(y.grad_fn)])}
    for node in (y.grad_fn, a.grad_fn, b.grad_fn):
        for child, _ in node.next_functions:
            if child is not None:
                expected.add((keys[id(node)], keys[id(child)]))
    assert {(edge.source, edge.target) for edge in model.edges} == expected
    assert len(model.edges) == 5


def test_named_non_leaves_are_labelled_and_constants_noted():
    x, a, b, y = seed_graph()
    picture = viz.draw(y, params={"x": x, "a": a, "b": b, "y": y})
    adds = [box for box in picture.model.boxes.values() if box.title == "AddBackward0"]
    assert sorted(line for box in adds for line in box.lines if "grad_fn" in line) == [
        "grad_fn of a", "grad_fn of b"]
    assert all("input 1: constant, no grad" in box.lines for box in adds)
    assert box_named(picture, "output").title.startswith("y: output")


def test_saved_values_shown_before_backward_and_freed_after():
    _x, _a, _b, y = seed_graph()
    before = box_named(viz.draw(y), "MulBackward0")
    # PyTorch's names, in the order the derivatives read them (self's reads other)
    assert before.lines == ["_saved_other = 4", "_saved_self = 3"]
    assert "freed" not in before.flags
    y.backward()
    after = box_named(viz.draw(y), "MulBackward0")
    assert after.lines == ["saved values: FREED by backward"]
    assert "freed" in after.flags


def test_retain_graph_keeps_saved_values():
    _x, _a, _b, y = seed_graph()
    y.backward(retain_graph=True)
    assert "freed" not in box_named(viz.draw(y), "MulBackward0").flags


def test_leaf_shows_its_grad_after_backward():
    x, _a, _b, y = seed_graph()
    assert "grad = None" in box_named(viz.draw(y, params={"x": x}), "x:").lines
    y.backward()
    leaf = box_named(viz.draw(y, params={"x": x}), "x:")
    assert "grad = 7" in leaf.lines
    assert "has_grad" in leaf.flags


def test_retained_grad_of_a_non_leaf_is_shown():
    _x, a, _b, y = seed_graph()
    a.retain_grad()
    y.backward()
    model = viz.draw(y).model
    box = model.boxes[model.node_keys[id(a.grad_fn)]]
    assert "retained" in box.flags
    assert "retain_grad: grad = 4" in box.lines


def test_in_place_change_of_a_saved_tensor_is_flagged():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()
    e.add_(1)
    model = viz.draw(e).model
    exp_box = next(box for box in model.boxes.values() if box.title == "ExpBackward0")
    assert "bumped" in exp_box.flags
    assert any("saved at version 0, now 1: CHANGED IN PLACE" in line for line in exp_box.lines)


def test_hooks_are_listed():
    x, a, _b, y = seed_graph()
    a.register_hook(lambda grad: grad)
    x.register_hook(lambda grad: grad)
    model = viz.draw(y, params={"x": x}).model
    assert "hooks: 1 tensor hook" in model.boxes[model.node_keys[id(a.grad_fn)]].lines
    assert "hooks: 1 hook" in box_named(viz.draw(y, params={"x": x}), "x:").lines


def test_several_roots_share_one_graph():
    x, a, b, y = seed_graph()
    z = a * 2
    model = viz.draw(y, z, params={"y": y, "z": z}).model
    outputs = [box.title for box in model.boxes.values() if box.kind == "output"]
    assert outputs == ["y: output, scalar, float32", "z: output, scalar, float32"]
    assert [box.kind for box in model.boxes.values()].count("leaf") == 1
    assert len(model.boxes) == 7


def test_saved_values_and_grads_can_be_left_out():
    x, a, b, y = seed_graph()
    y.backward(retain_graph=True)
    model = viz.draw(y, params={"x": x}, show_saved=False, show_grads=False).model
    lines = [line for box in model.boxes.values() for line in box.lines]
    assert not any(line.startswith(("saved", "grad =")) for line in lines)


def test_a_tensor_without_grad_is_drawn_as_no_grad():
    picture = viz.draw(retrograd.tensor([1.0, 2.0]))
    (box,) = picture.model.boxes.values()
    assert "nograd" in box.flags
    assert picture.model.edges == []


def test_run_of_identical_ops_collapses_into_one_box_with_count():
    x = retrograd.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20):
        y = y * 2.0
    picture = viz.draw(y, params={"x": x})
    assert sorted(titles(picture)) == sorted([
        "output, scalar, float32", "MulBackward0 × 20", "x: leaf, scalar, float32"])
    assert len(picture.model.edges) == 2
    assert len(viz.draw(y, collapse=0).model.boxes) == 22


def test_an_input_used_twice_is_one_edge_labelled_with_both_inputs():
    x = retrograd.tensor(2.0, requires_grad=True)
    model = viz.draw(x * x).model
    (edge,) = [edge for edge in model.edges if edge.source >= 0]
    assert edge.label == "inputs 0, 1"
    assert model.boxes[edge.target].kind == "leaf"


def test_short_runs_are_not_collapsed():
    x = retrograd.tensor(2.0, requires_grad=True)
    y = retrograd.tensor(3.0, requires_grad=True)
    z = x * x * y
    assert [box.title for box in viz.draw(z).model.boxes.values()].count("MulBackward0") == 2


def test_max_nodes_cuts_the_picture_with_a_note():
    x = retrograd.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.0
    picture = viz.draw(y, max_nodes=10, collapse=0)
    assert picture.model.note == "21 more nodes not shown (max_nodes=10)"
    assert "... 21 more nodes" in titles(picture)
    assert "21 more nodes not shown" in picture.svg(engine="python")


def test_a_100000_node_graph_is_walked_without_recursion():
    x = retrograd.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        collapsed = viz.draw(y)
        cut = viz.draw(y, collapse=0, max_nodes=300)
        svg = cut.svg(engine="python")
        text = str(cut)
    finally:
        sys.setrecursionlimit(limit)
    assert "MulBackward0 × 100000" in titles(collapsed)
    assert cut.model.note == "99701 more nodes not shown (max_nodes=300)"
    ElementTree.fromstring(svg)
    assert text.count("MulBackward0") == 300


# -- layout -----------------------------------------------------------------


def test_layers_follow_the_longest_path():
    edges = [(0, 1), (1, 2), (0, 2), (2, 3)]
    assert _layout.layer_of([0, 1, 2, 3], edges) == {0: 0, 1: 1, 2: 2, 3: 3}


def test_layering_refuses_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        _layout.layer_of([0, 1], [(0, 1), (1, 0)])


def test_crossings_are_counted():
    assert _layout.count_crossings([[0, 1], [2, 3]], [(0, 3), (1, 2)]) == 1
    assert _layout.count_crossings([[0, 1], [2, 3]], [(0, 2), (1, 3)]) == 0


def test_barycenter_ordering_removes_avoidable_crossings():
    # Two parents each with two children, listed so the initial order crosses.
    edges = [(0, 2), (0, 5), (1, 3), (1, 4), (5, 6), (2, 7), (3, 8), (4, 9)]
    sizes = {key: (20.0, 10.0) for key in range(10)}
    placed = _layout.layout(sizes, edges)
    assert _layout.count_crossings(placed.layers, edges) == 0


def test_layout_keeps_boxes_apart_and_edges_downwards():
    _x, _a, _b, y = seed_graph()
    scene_model = viz.draw(y).model
    sizes = {key: (100.0, 30.0) for key in scene_model.boxes}
    placed = _layout.layout(sizes, [(e.source, e.target) for e in scene_model.edges])
    for row in placed.layers:
        real = sorted(placed.positions[key][0] for key in row if key in placed.positions)
        assert all(right - left >= 100.0 for left, right in itertools.pairwise(real))
    for source, target, points in placed.routes:
        assert placed.positions[source][1] < placed.positions[target][1]
        assert points[0][1] < points[-1][1]


# -- outputs ---------------------------------------------------------------------


def test_svg_is_well_formed_and_has_every_box_and_edge():
    x, _a, _b, y = seed_graph()
    picture = viz.draw(y, params={"x": x})
    root = ElementTree.fromstring(picture.svg(engine="python"))
    namespace = "{http://www.w3.org/2000/svg}"
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    for key in picture.model.boxes:
        assert f"n{key}" in ids
    for edge in picture.model.edges:
        assert f"e{edge.source}_{edge.target}" in ids
    texts = [element.text for element in root.iter(f"{namespace}text")]
    assert "MulBackward0" in texts and "x: leaf, scalar, float32" in texts
    assert picture._repr_svg_().startswith("<svg")


def test_dot_source_lists_every_box_and_edge():
    x, _a, _b, y = seed_graph()
    picture = viz.draw(y, params={"x": x})
    dot = picture.dot()
    assert dot.startswith("digraph retrograd {") and dot.rstrip().endswith("}")
    for key in picture.model.boxes:
        assert f"  n{key} [label=" in dot or f"  out{-key} [label=" in dot
    assert dot.count(" -> ") == 5
    assert "<b>MulBackward0</b>" in dot and "legend [shape=plaintext" in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_accepts_the_dot_source():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()
    product = e * 2
    e.add_(1)
    picture = viz.draw(product.sum(), e, params={"x": x, "e<&>": e})
    svg = picture.svg(engine="dot")
    root = ElementTree.fromstring(svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg)
    texts = " ".join(element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "ExpBackward0" in texts and "e<&>: output" in texts and "CHANGED IN PLACE" in texts


def test_text_drawing_is_a_tree_with_shared_nodes_referenced():
    x, _a, _b, y = seed_graph()
    y.backward()
    text = str(viz.draw(y, params={"x": x}))
    assert text.splitlines() == [
        "output, scalar, float32  (value = 12)",
        "└─ MulBackward0  (saved values: FREED by backward)",
        "   ├─ AddBackward0  (input 1: constant, no grad)",
        "   │  └─ x: leaf, scalar, float32  (AccumulateGrad, requires_grad=True; grad = 7)",
        "   └─ AddBackward0  (input 1: constant, no grad)",
        "      └─ x: leaf, scalar, float32 (see above)",
    ]


def test_save_chooses_the_format_by_suffix(tmp_path):
    _x, _a, _b, y = seed_graph()
    picture = viz.draw(y)
    assert Path(picture.save(tmp_path / "g.svg", engine="python")).read_text().startswith("<svg")
    assert Path(picture.save(tmp_path / "g.dot")).read_text().startswith("digraph")
    assert "<svg" in Path(picture.save(tmp_path / "g.html")).read_text()
    with pytest.raises(ValueError, match=r"use \.svg, \.png, \.dot or \.html"):
        picture.save(tmp_path / "g.gif")


def test_png_is_drawn_without_a_system_binary(tmp_path):
    pytest.importorskip("PIL")
    x, _a, _b, y = seed_graph()
    path = viz.draw(y, params={"x": x}).save(tmp_path / "g.png", engine="python")
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    image = Image.open(path)
    assert image.size[0] > 300 and image.size[1] > 200


def test_draw_rejects_non_tensors():
    with pytest.raises(TypeError, match="must be a Tensor"):
        viz.draw([1.0])
    with pytest.raises(ValueError, match="at least one tensor"):
        viz.draw()


def test_graphviz_is_used_when_dot_is_on_path(tmp_path, monkeypatch):
    fake_dot = tmp_path / "dot"
    fake_dot.write_text('#!/bin/sh\necho "<svg>from graphviz $1</svg>"\n')
    fake_dot.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    x, a, b, y = seed_graph()
    picture = viz.draw(y)
    assert picture.svg() == "<svg>from graphviz -Tsvg</svg>\n"
    assert picture.svg(engine="python").startswith("<svg xmlns=")


def test_asking_for_graphviz_without_it_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    x, a, b, y = seed_graph()
    with pytest.raises(RuntimeError, match="needs Graphviz's dot on PATH; use engine='python'"):
        viz.draw(y).svg(engine="dot")


def test_seed_pictures_for_the_tour(tmp_path):
    written = viz.write_seed_pictures(tmp_path)
    names = {Path(path).name for path in written}
    assert {"seed_explorer.html", "seed_y_before_backward.svg", "seed_y_after_backward.svg", "seed_z.svg",
            "seed_dz_dx_create_graph.svg"} <= names
    for path in written:
        if path.endswith(".svg"):
            ElementTree.fromstring(Path(path).read_text())
    assert "FREED" in (tmp_path / "seed_y_after_backward.svg").read_text()


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB rows of an 8-bit RGB PNG with filter 0 (what _raster writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, size = 8, b"", None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        assert struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
            assert body[8:10] == bytes([8, 2])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height = size
    raw = zlib.decompress(idat)
    rows = [raw[row * (width * 3 + 1):(row + 1) * (width * 3 + 1)] for row in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, b"".join(row[1:] for row in rows)


def test_pure_python_png_draws_boxes_text_and_edges():
    x, a, b, y = seed_graph()
    y.backward()
    scene = _render.to_scene(viz.draw(y, params={"x": x}).model)
    width, height, pixels = decode_png(_raster.render_png(scene))
    assert (width, height) == (scene["width"], scene["height"])
    colours = {pixels[index:index + 3] for index in range(0, len(pixels), 3)}
    for colour in ("#d0ebff", "#ffe8cc", "#e9ecef", "#212529", "#237032", "#495057"):
        assert bytes.fromhex(colour[1:]) in colours  # leaf, output, freed, text, grad, edges


def test_pure_python_png_is_used_without_pillow(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    x, a, b, y = seed_graph()
    data = viz.draw(y).png(engine="python")
    width, height, _ = decode_png(data)
    assert width > 300 and height > 200


def test_bitmap_font_covers_printable_ascii():
    assert set(string.printable[:95]) <= set(_raster.FONT)
    for character, pixels in _raster.FONT.items():
        assert all(0 <= column < 5 and 0 <= row < 8 for column, row in pixels), character
    assert _raster.FONT[" "] == [] and len(_raster.FONT["#"]) > 10


def test_pure_python_png_refuses_huge_pictures(monkeypatch):
    monkeypatch.setattr(_raster, "MAX_PIXELS", 1000)
    x, a, b, y = seed_graph()
    with pytest.raises(ValueError, match=r"too big for the built-in PNG writer: save it as \.svg"):
        _raster.render_png(_render.to_scene(viz.draw(y).model))


def test_long_edges_bend_around_boxes_and_run_straight_where_there_is_room():
    # 0 -> 1 -> 2 -> 3 -> 4 is a chain; 0 -> 4 skips three layers.
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)]
    sizes = {key: (80.0, 20.0) for key in range(5)}
    placed = _layout.layout(sizes, edges)
    (route,) = [points for source, target, points in placed.routes if (source, target) == (0, 4)]
    inner = route[1:-1]
    assert len(inner) == 6  # in and out of each of the three skipped layers
    assert len({round(x, 3) for x, _ in inner}) == 1
    chain_x = placed.positions[2][0]
    assert abs(inner[0][0] - chain_x) >= 40 + _layout._GAP_X
