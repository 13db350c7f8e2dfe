"""The pictures of the seed article's graphs, for the tour: y = (x+1)(x+2), z = x*x*y, the
graph of dz/dx made with create_graph=True, and an explorer page of the first."""

from __future__ import annotations

import os
import warnings

from ._explorer import explore
from ._picture import draw

__all__ = ["write_seed_pictures"]


def write_seed_pictures(directory: str | os.PathLike) -> list[str]:
    """Write the seed's graph pictures (SVG and PNG; PNG in pure Python when Pillow is not
    installed) and one explorer page into `directory`; return the paths written."""
    import retrograd as torch

    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    suffixes = [".svg", ".png"]
    written = []

    x = torch.tensor(2.0, requires_grad=True)
    a = torch.add(x, 1)
    b = torch.add(x, 2)
    y = torch.mul(a, b)
    names = {"x": x, "a": a, "b": b, "y": y}
    written.append(explore(y, os.path.join(directory, "seed_explorer.html"), params=names))
    before = draw(y, params=names)
    y.backward()
    after = draw(y, params=names)
    written += _save(before, directory, "seed_y_before_backward", suffixes)
    written += _save(after, directory, "seed_y_after_backward", suffixes)

    x = torch.tensor(2.0, requires_grad=True)
    w = torch.tensor(3.0, requires_grad=True)
    z = x * x * w
    written += _save(draw(z, params={"x": x, "y": w, "z": z}), directory, "seed_z", suffixes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (dz_dx,) = torch.autograd.grad(z, x, create_graph=True)
    written += _save(draw(dz_dx, params={"x": x, "y": w, "dz/dx": dz_dx}), directory,
                     "seed_dz_dx_create_graph", suffixes)
    return written


def _save(picture, directory: str, stem: str, suffixes: list[str]) -> list[str]:
    return [picture.save(os.path.join(directory, stem + suffix), engine="python") for suffix in suffixes]
