"""A small pure-Python rasteriser: the picture as PNG when Pillow is not installed.

It draws the scene of `_render.to_scene` (rounded boxes, polylines with arrowheads, text)
on an RGB pixel buffer, with text in a 5x7 bitmap font, and encodes the PNG with zlib.
Plain but dependable: no system binary and no third-party package. With Pillow installed
(`pip install retrograd[viz]`) `_render.to_png` uses Pillow instead, for smoother text.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib

__all__ = ["encode_png", "render_png"]

# One glyph a line: the character (or "space"), then its rows from the top, 5 pixels
# wide; row 7 (the eighth), when present, hangs below the baseline.
_FONT_SHEET = r"""
space ..... ..... ..... ..... ..... ..... .....
! ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..
" .#.#. .#.#. ..... ..... ..... ..... .....
# .#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.
$ ..#.. .#### #.#.. .###. ..#.# ####. ..#..
% ##..# ##..# ...#. ..#.. .#... #..## #..##
& .##.. #..#. #.#.. .#... #.#.# #..#. .##.#
' ..#.. ..#.. ..... ..... ..... ..... .....
( ...#. ..#.. .#... .#... .#... ..#.. ...#.
) .#... ..#.. ...#. ...#. ...#. ..#.. .#...
* ..... ..#.. #.#.# .###. #.#.# ..#.. .....
+ ..... ..#.. ..#.. ##### ..#.. ..#.. .....
, ..... ..... ..... ..... ..... .##.. ..#.. .#...
- ..... ..... ..... ##### ..... ..... .....
. ..... ..... ..... ..... ..... .##.. .##..
/ ....# ....# ...#. ..#.. .#... #.... #....
0 .###. #...# #..## #.#.# ##..# #...# .###.
1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.
2 .###. #...# ....# ...#. ..#.. .#... #####
3 ####. ....# ....# .###. ....# ....# ####.
4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.
5 ##### #.... ####. ....# ....# #...# .###.
6 ..##. .#... #.... ####. #...# #...# .###.
7 ##### ....# ...#. ..#.. .#... .#... .#...
8 .###. #...# #...# .###. #...# #...# .###.
9 .###. #...# #...# .#### ....# ...#. .##..
: ..... .##.. .##.. ..... .##.. .##.. .....
; ..... .##.. .##.. ..... .##.. ..#.. .#...
< ...#. ..#.. .#... #.... .#... ..#.. ...#.
= ..... ..... ##### ..... ##### ..... .....
> .#... ..#.. ...#. ....# ...#. ..#.. .#...
? .###. #...# ....# ...#. ..#.. ..... ..#..
@ .###. #...# #.### #.#.# #.### #.... .###.
A .###. #...# #...# ##### #...# #...# #...#
B ####. #...# #...# ####. #...# #...# ####.
C .###. #...# #.... #.... #.... #...# .###.
D ###.. #..#. #...# #...# #...# #..#. ###..
E ##### #.... #.... ####. #.... #.... #####
F ##### #.... #.... ####. #.... #.... #....
G .###. #...# #.... #.### #...# #...# .####
H #...# #...# #...# ##### #...# #...# #...#
I .###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
J ..### ...#. ...#. ...#. ...#. #..#. .##..
K #...# #..#. #.#.. ##... #.#.. #..#. #...#
L #.... #.... #.... #.... #.... #.... #####
M #...# ##.## #.#.# #.#.# #...# #...# #...#
N #...# #...# ##..# #.#.# #..## #...# #...#
O .###. #...# #...# #...# #...# #...# .###.
P ####. #...# #...# ####. #.... #.... #....
Q .###. #...# #...# #...# #.#.# #..#. .##.#
R ####. #...# #...# ####. #.#.. #..#. #...#
S .#### #.... #.... .###. ....# ....# ####.
T ##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..
U #...# #...# #...# #...# #...# #...# .###.
V #...# #...# #...# #...# #...# .#.#. ..#..
W #...# #...# #...# #.#.# #.#.# #.#.# .#.#.
X #...# #...# .#.#. ..#.. .#.#. #...# #...#
Y #...# #...# .#.#. ..#.. ..#.. ..#.. ..#..
Z ##### ....# ...#. ..#.. .#... #.... #####
[ .###. .#... .#... .#... .#... .#... .###.
\ #.... #.... .#... ..#.. ...#. ....# ....#
] .###. ...#. ...#. ...#. ...#. ...#. .###.
^ ..#.. .#.#. #...# ..... ..... ..... .....
_ ..... ..... ..... ..... ..... ..... #####
` .#... ..#.. ..... ..... ..... ..... .....
a ..... ..... .###. ....# .#### #...# .####
b #.... #.... #.##. ##..# #...# #...# ####.
c ..... ..... .###. #.... #.... #...# .###.
d ....# ....# .##.# #..## #...# #...# .####
e ..... ..... .###. #...# ##### #.... .###.
f ..##. .#..# .#... ###.. .#... .#... .#...
g ..... ..... .#### #...# #...# .#### ....# .###.
h #.... #.... #.##. ##..# #...# #...# #...#
i ..#.. ..... .##.. ..#.. ..#.. ..#.. .###.
j ...#. ..... ..##. ...#. ...#. ...#. #..#. .##..
k #.... #.... #..#. #.#.. ##... #.#.. #..#.
l .##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
m ..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#
n ..... ..... #.##. ##..# #...# #...# #...#
o ..... ..... .###. #...# #...# #...# .###.
p ..... ..... ####. #...# #...# ####. #.... #....
q ..... ..... .#### #...# #...# .#### ....# ....#
r ..... ..... #.##. ##..# #.... #.... #....
s ..... ..... .###. #.... .###. ....# ####.
t .#... .#... ###.. .#... .#... .#..# ..##.
u ..... ..... #...# #...# #...# #..## .##.#
v ..... ..... #...# #...# #...# .#.#. ..#..
w ..... ..... #...# #...# #.#.# #.#.# .#.#.
x ..... ..... #...# .#.#. ..#.. .#.#. #...#
y ..... ..... #...# #...# #...# .#### ....# .###.
z ..... ..... ##### ...#. ..#.. .#... #####
{ ...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.
| ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..
} .#... ..#.. ..#.. ...#. ..#.. ..#.. .#...
~ ..... ..... .#... #.#.# ...#. ..... .....
× ..... #...# .#.#. ..#.. .#.#. #...# .....
"""

GLYPH_WIDTH, GLYPH_HEIGHT, GLYPH_ADVANCE = 5, 7, 6
MAX_PIXELS = 16_000_000  # past this the pure-Python writer would take minutes


def _parse_font(sheet: str) -> dict[str, list[tuple[int, int]]]:
    """Each character's lit pixels as (column, row), row 6 on the baseline."""
    font = {}
    for line in sheet.strip().splitlines():
        key, *rows = line.split(" ")
        character = " " if key == "space" else key
        font[character] = [
            (column, row) for row, bits in enumerate(rows) for column, bit in enumerate(bits) if bit == "#"
        ]
    return font


FONT = _parse_font(_FONT_SHEET)
_SUBSTITUTES = {"…": "...", "─": "-", "│": "|", "└": "`", "├": "|"}


def _rgb(colour: str) -> bytes:
    return bytes.fromhex(colour.lstrip("#"))


class _Canvas:
    """An RGB pixel buffer with the few shapes the pictures need."""

    def __init__(self, width: int, height: int):
        self.width = width
        self.height = height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def span(self, y: int, x0: float, x1: float, colour: bytes) -> None:
        """Fill row `y` from x0 to x1 (inclusive of x0, exclusive of x1)."""
        if not 0 <= y < self.height:
            return
        start = max(0, round(x0))
        end = min(self.width, round(x1))
        if end > start:
            offset = (y * self.width + start) * 3
            self.pixels[offset:offset + (end - start) * 3] = colour * (end - start)

    def dot(self, x: int, y: int, colour: bytes) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            offset = (y * self.width + x) * 3
            self.pixels[offset:offset + 3] = colour

    def rounded_rect(self, x0: float, y0: float, x1: float, y1: float, radius: float, colour: bytes) -> None:
        radius = max(0.0, min(radius, (x1 - x0) / 2, (y1 - y0) / 2))
        for y in range(math.floor(y0), math.ceil(y1)):
            centre = y + 0.5
            inset = 0.0
            if centre < y0 + radius:
                inset = radius - math.sqrt(max(0.0, radius**2 - (y0 + radius - centre) ** 2))
            elif centre > y1 - radius:
                inset = radius - math.sqrt(max(0.0, radius**2 - (centre - (y1 - radius)) ** 2))
            self.span(y, x0 + inset, x1 - inset, colour)

    def line(self, points, width: float, colour: bytes, dash: tuple[float, float] | None = None) -> None:
        """A polyline drawn one brush square per pixel step, optionally dashed (on, off)."""
        brush = max(1, round(width))
        block = colour * brush
        travelled = 0.0
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            length = math.hypot(xb - xa, yb - ya)
            steps = max(1, math.ceil(max(abs(xb - xa), abs(yb - ya))))
            for step in range(steps + 1):
                fraction = step / steps
                if dash is not None and (travelled + length * fraction) % sum(dash) > dash[0]:
                    continue
                x = round(xa + (xb - xa) * fraction) - brush // 2
                y = round(ya + (yb - ya) * fraction) - brush // 2
                if x >= 0 and x + brush <= self.width:
                    for row in range(max(0, y), min(self.height, y + brush)):
                        offset = (row * self.width + x) * 3
                        self.pixels[offset:offset + 3 * brush] = block
            travelled += length

    def triangle(self, points, colour: bytes) -> None:
        (ax, ay), (bx, by), (cx, cy) = points
        top = max(0, math.floor(min(ay, by, cy)))
        bottom = min(self.height - 1, math.ceil(max(ay, by, cy)))
        edges = [((ax, ay), (bx, by)), ((bx, by), (cx, cy)), ((cx, cy), (ax, ay))]
        for y in range(top, bottom + 1):
            centre = y + 0.5
            crossings = sorted(
                xa + (centre - ya) * (xb - xa) / (yb - ya)
                for (xa, ya), (xb, yb) in edges
                if (ya <= centre < yb) or (yb <= centre < ya)
            )
            if len(crossings) >= 2:
                self.span(y, crossings[0], crossings[-1], colour)

    def text(self, x: float, baseline: float, text: str, colour: bytes, pixel: int, bold: bool,
             anchor: str) -> None:
        for original, substitute in _SUBSTITUTES.items():
            text = text.replace(original, substitute)
        if anchor == "end":
            x -= len(text) * GLYPH_ADVANCE * pixel
        top = round(baseline) - GLYPH_HEIGHT * pixel
        left = round(x)
        for index, character in enumerate(text):
            glyph = FONT.get(character, FONT["?"])
            origin = left + index * GLYPH_ADVANCE * pixel
            for column, row in glyph:
                for thick in range(2 if bold else 1):
                    for dy in range(pixel):
                        y = top + row * pixel + dy
                        start = origin + (column + thick) * pixel
                        self.span(y, start, start + pixel, colour)


def render_png(scene: dict, scale: float = 1.0) -> bytes:
    """The scene of `_render.to_scene` as PNG bytes, drawn in pure Python."""
    from ._render import arrowhead

    width, height = max(1, math.ceil(scene["width"] * scale)), max(1, math.ceil(scene["height"] * scale))
    if width * height > MAX_PIXELS:
        raise ValueError(
            f"this picture is {width} x {height} pixels, too big for the built-in PNG writer: save it as "
            ".svg, install Pillow (pip install 'retrograd[viz]'), or draw fewer nodes (max_nodes=...)"
        )
    canvas = _Canvas(width, height)
    pixel = max(1, round(scale))
    for shape in scene["shapes"]:
        kind = shape["type"]
        if kind == "rect":
            _draw_box(canvas, shape, scale)
        elif kind == "text":
            size_pixel = pixel if shape["size"] >= 11 else max(1, round(scale * 0.85))
            canvas.text(shape["x"] * scale, shape["y"] * scale, shape["text"], _rgb(shape["colour"]),
                        size_pixel, shape["bold"], shape.get("anchor", "start"))
        else:
            points = [(x * scale, y * scale) for x, y in shape["points"]]
            colour = _rgb(shape.get("colour", "#495057"))
            canvas.line(points, 1.3 * scale, colour)
            canvas.triangle(arrowhead(points, 8 * scale), colour)
    return encode_png(canvas.width, canvas.height, canvas.pixels)


def _draw_box(canvas: _Canvas, shape: dict, scale: float) -> None:
    x0, y0 = shape["x"] * scale, shape["y"] * scale
    x1, y1 = x0 + shape["w"] * scale, y0 + shape["h"] * scale
    radius = shape["radius"] * scale
    width = max(1.0, round(shape["width"] * scale))
    fill, stroke = _rgb(shape["fill"]), _rgb(shape["stroke"])
    if not shape["dash"]:
        canvas.rounded_rect(x0, y0, x1, y1, radius, stroke)
        canvas.rounded_rect(x0 + width, y0 + width, x1 - width, y1 - width, max(0.0, radius - width), fill)
        return
    canvas.rounded_rect(x0, y0, x1, y1, radius, fill)
    on, off = (float(part) * scale for part in shape["dash"].split(","))
    outline = [(x0 + radius, y0), (x1 - radius, y0), (x1, y0 + radius), (x1, y1 - radius),
               (x1 - radius, y1), (x0 + radius, y1), (x0, y1 - radius), (x0, y0 + radius), (x0 + radius, y0)]
    canvas.line(outline, width, stroke, dash=(on, off))


def encode_png(width: int, height: int, pixels: bytes | bytearray) -> bytes:
    """Encode 8-bit RGB pixels (row by row) as a PNG file."""
    row_bytes = width * 3
    raw = b"".join(b"\x00" + bytes(pixels[row * row_bytes:(row + 1) * row_bytes]) for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))
