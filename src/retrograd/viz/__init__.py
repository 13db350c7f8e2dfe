"""See the graph: pictures of the recorded graph and a step-by-step backward-pass explorer.

`draw(*roots)` returns a Picture (DOT, SVG, PNG, HTML, text); `explore(root, path)` writes
one self-contained HTML page that steps through the backward pass. Nothing here changes
the graph it reads.
"""

from ._explorer import explore, record_backward
from ._picture import Picture, draw
from ._seed_pictures import write_seed_pictures

__all__ = ["Picture", "draw", "explore", "record_backward", "write_seed_pictures"]
