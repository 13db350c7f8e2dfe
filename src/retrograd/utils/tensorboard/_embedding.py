"""The files of TensorBoard's embedding projector, laid out as PyTorch's `add_embedding` lays them.

Each call writes `<log_dir>/<step:05d>/<tag>/` with `tensors.tsv` (one point a line),
`metadata.tsv` (labels) and `sprite.png` (thumbnails), and rewrites the projector's
`projector_config.pbtxt` (tensorboard's `ProjectorConfig`) listing every embedding so far.
"""

from __future__ import annotations

import math
import os

import numpy as np
from tensorboard.plugins.projector import EmbeddingInfo, ProjectorConfig, visualize_embeddings

from .summary import image_grid, png_bytes, to_numpy


def _escape_tag(tag: str) -> str:
    """A tag as one directory name: '%', '/' and '\\' written as %-escapes."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def _metadata_lines(metadata, metadata_header) -> list[str]:
    """One label per point, or a header line and tab-separated columns."""
    if not metadata_header:
        return [str(label) for label in metadata]
    if len(metadata_header) != len(metadata[0]):
        raise AssertionError("len of header must be equal to the number of columns in metadata")
    return ["\t".join(str(cell) for cell in row) for row in [metadata_header, *metadata]]


def _sprite(images: np.ndarray) -> bytes:
    """Thumbnails (N, C, H, W) in [0, 1] tiled into a square PNG, ceil(sqrt(N)) to a row."""
    grid = image_grid(images, columns=math.ceil(len(images) ** 0.5)).transpose(1, 2, 0)
    side = grid.shape[1]
    square = np.zeros((side, side, 3))
    square[: grid.shape[0]] = grid
    return png_bytes(np.uint8((square * 255).clip(0, 255)))


def _check_counts(points: np.ndarray, metadata, images) -> None:
    """One label and one thumbnail per point, and the points a matrix."""
    if metadata is not None and points.shape[0] != len(metadata):
        raise AssertionError("#labels should equal with #data points")
    if images is not None and points.shape[0] != images.shape[0]:
        raise AssertionError("#images should equal with #data points")
    if points.ndim != 2:
        raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")


def _make_folder(folder: str) -> None:
    """Create the embedding's folder; an existing one is reused with PyTorch's warning line."""
    if os.path.isdir(folder):
        print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
    elif os.path.exists(folder):
        raise NotADirectoryError(f"Path: `{folder}` exists, but is a file. Cannot proceed.")
    else:
        os.makedirs(folder)


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)


class EmbeddingLog:
    """The embeddings one SummaryWriter has saved, and the projector config that lists them."""

    def __init__(self, log_dir: str):
        self.log_dir = log_dir
        self.config = ProjectorConfig()

    def add(self, mat, metadata, label_img, global_step, tag: str, metadata_header) -> None:
        """Write one embedding's files and list it in the projector config."""
        points = to_numpy(mat)
        images = None if label_img is None else to_numpy(label_img)
        _check_counts(points, metadata, images)
        step = str(0 if global_step is None else global_step).zfill(5)
        subdir = f"{step}/{_escape_tag(tag)}"
        folder = os.path.join(self.log_dir, subdir)
        _make_folder(folder)
        info = EmbeddingInfo(tensor_name=f"{tag}:{step}", tensor_path=os.path.join(subdir, "tensors.tsv"))
        if metadata is not None:
            lines = _metadata_lines(metadata, metadata_header)
            _write(os.path.join(folder, "metadata.tsv"), ("\n".join(lines) + "\n").encode())
            info.metadata_path = os.path.join(subdir, "metadata.tsv")
        if images is not None:
            _write(os.path.join(folder, "sprite.png"), _sprite(images))
            info.sprite.image_path = os.path.join(subdir, "sprite.png")
            info.sprite.single_image_dim.extend([images.shape[3], images.shape[2]])
        rows = ["\t".join(str(value.item()) for value in row) + "\n" for row in points]
        _write(os.path.join(folder, "tensors.tsv"), "".join(rows).encode())
        self.config.embeddings.append(info)
        visualize_embeddings(self.log_dir, self.config)
