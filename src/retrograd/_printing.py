"""The text form of a tensor, matching PyTorch's ``repr`` character for character.

This module knows nothing about tensors: it formats a NumPy array plus the
suffixes (``dtype=...``, ``grad_fn=<...>``) that the caller has already chosen.

>>> import numpy as np
>>> print(format_tensor(np.array([[1.0, 2.0], [3.0, 4.5]]), suffixes=[]))
tensor([[1.0000, 2.0000],
        [3.0000, 4.5000]])

How an element is written is decided once for the whole tensor (see
`_ElementFormatter`); the nesting, wrapping and summarising are then purely
about laying those equal-width strings out in lines.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["format_tensor", "get_printoptions", "set_printoptions"]

_PREFIX = "tensor("
_ELLIPSIS_ELEMENT = " ..."
_ELLIPSIS_ROW = "..."

# Float styles: how every element of one floating tensor is written.
_INTEGER = "integer"  # 7.  (all finite values are whole numbers)
_FIXED = "fixed"  # 2.5000
_SCIENTIFIC = "scientific"  # 1.0000e-05

# Automatic scientific notation kicks in past these magnitudes.
_MAX_RATIO_BEFORE_SCIENTIFIC = 1000.0
_MAX_ABS_BEFORE_SCIENTIFIC = 1.0e8
_MIN_ABS_BEFORE_SCIENTIFIC = 1.0e-4


@dataclasses.dataclass
class _PrintOptions:
    """Global print options; the fields are PyTorch's, with its defaults."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_options = _PrintOptions()


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as ``torch.set_printoptions`` does.

    A ``profile`` ("default", "short" or "full") is applied first and the other
    arguments override it. ``sci_mode`` is always written, so leaving it out
    returns scientific notation to automatic. An unknown profile name is
    ignored, as in PyTorch.

    >>> import retrograd
    >>> retrograd.set_printoptions(precision=2)
    >>> print(retrograd.tensor([1.12345]))
    tensor([1.12])
    >>> retrograd.set_printoptions(profile="default")
    """
    if profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(_options, name, value)
    if precision is not None:
        _options.precision = precision
    if threshold is not None:
        _options.threshold = threshold
    if edgeitems is not None:
        _options.edgeitems = edgeitems
    if linewidth is not None:
        _options.linewidth = linewidth
    _options.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as a new dict.

    >>> import retrograd
    >>> retrograd.get_printoptions()
    {'precision': 4, 'threshold': 1000, 'edgeitems': 3, 'linewidth': 80, 'sci_mode': None}
    """
    return dataclasses.asdict(_options)


def format_tensor(array: np.ndarray, *, suffixes: list[str]) -> str:
    """Return ``repr`` of a tensor holding ``array``, ending with ``suffixes``.

    ``suffixes`` are complete items such as ``"requires_grad=True"``; an empty
    array also gets ``size=(...)`` first when it is not one-dimensional.

    >>> format_tensor(np.array(7.0), suffixes=["grad_fn=<MulBackward0>"])
    'tensor(7., grad_fn=<MulBackward0>)'
    >>> format_tensor(np.zeros((0, 3)), suffixes=[])
    'tensor([], size=(0, 3))'
    """
    array = np.asarray(array)
    items = list(suffixes)
    indent = len(_PREFIX)
    if array.size == 0:
        body = "[]"
        if array.ndim != 1:
            items.insert(0, f"size={tuple(array.shape)}")
    else:
        summarize = array.size > _options.threshold
        shown = _summarized(array) if summarize else array
        formatter = _ElementFormatter(shown)
        body = _format_nested(array, formatter, indent, summarize)
    return _append_suffixes(_PREFIX + body, items, indent)


# ---------------------------------------------------------------------------
# Elements


class _ElementFormatter:
    """Writes single elements, all padded to one width.

    The style is chosen from ``values`` (the elements that will be shown):
    booleans and integers print as Python does; floats print in one of the
    three float styles.
    """

    def __init__(self, values: np.ndarray) -> None:
        self._write = _element_writer(values)
        lengths = [len(self._write(value)) for value in _width_setting_values(values)]
        self.width = max(lengths, default=1)

    def __call__(self, value: Any) -> str:
        return self._write(value).rjust(self.width)


def _element_writer(values: np.ndarray) -> Callable[[Any], str]:
    """Choose how one element of ``values`` is written, without padding."""
    kind = values.dtype.kind
    if kind in "biu":
        return str
    if kind != "f":
        raise TypeError(
            f"cannot print a tensor with NumPy dtype {values.dtype}; "
            "only bool, integer and real floating dtypes are supported"
        )
    style = _float_style(_finite_nonzero(values))
    precision = _options.precision
    if style == _SCIENTIFIC:
        return lambda value: f"{value:.{precision}e}"
    if style == _FIXED:
        return lambda value: f"{value:.{precision}f}"
    return _write_integer_valued_float


def _write_integer_valued_float(value: float) -> str:
    """Write a whole-number float as ``7.``; ``nan`` and ``inf`` get no dot."""
    text = f"{value:.0f}"
    return text + "." if math.isfinite(value) else text


def _width_setting_values(values: np.ndarray) -> list[Any]:
    """The elements whose written length sets the column width.

    For floats only the finite non-zero values count, so ``nan``, ``inf`` and
    zeros never widen a column (PyTorch prints ``tensor([1., nan])``). With no
    such value the width is 1, which still matters for line wrapping.
    """
    if values.dtype.kind == "f":
        return _finite_nonzero(values).tolist()
    return values.ravel().tolist()


def _finite_nonzero(values: np.ndarray) -> np.ndarray:
    """The finite, non-zero elements of ``values`` as a flat float64 array."""
    flat = values.ravel()
    return flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)


def _float_style(finite_nonzero: np.ndarray) -> str:
    """Pick the float style from the finite non-zero values of a tensor.

    Whole numbers print as ``7.``; anything else in fixed point. Scientific
    notation is used when the magnitudes span more than three decades, exceed
    1e8, or (for non-whole numbers) go below 1e-4. ``sci_mode`` overrides the
    choice of scientific notation, but only when there is a finite non-zero
    value: zeros, ``nan`` and ``inf`` alone always print as ``0.``, ``nan``, ``inf``.
    """
    if finite_nonzero.size == 0:
        return _INTEGER
    integer_valued = bool(np.all(np.ceil(finite_nonzero) == finite_nonzero))
    scientific = _needs_scientific(np.abs(finite_nonzero), integer_valued)
    if _options.sci_mode is not None:
        scientific = _options.sci_mode
    if scientific:
        return _SCIENTIFIC
    return _INTEGER if integer_valued else _FIXED


def _needs_scientific(magnitudes: np.ndarray, integer_valued: bool) -> bool:
    """Whether the automatic rule asks for scientific notation."""
    largest, smallest = magnitudes.max(), magnitudes.min()
    with np.errstate(over="ignore"):  # 1e300 / 1e-300 is inf, which is right here
        ratio = largest / smallest
    if ratio > _MAX_RATIO_BEFORE_SCIENTIFIC or largest > _MAX_ABS_BEFORE_SCIENTIFIC:
        return True
    return not integer_valued and smallest < _MIN_ABS_BEFORE_SCIENTIFIC


# ---------------------------------------------------------------------------
# Layout


def _summarized(array: np.ndarray) -> np.ndarray:
    """The part of ``array`` a summarised print shows: edge items of every axis."""
    edge = _options.edgeitems
    for axis, size in enumerate(array.shape):
        if size > 2 * edge:
            head = np.take(array, range(edge), axis=axis)
            tail = np.take(array, range(size - edge, size), axis=axis)
            array = np.concatenate([head, tail], axis=axis)
    return array


def _visible_indices(length: int, summarize: bool) -> list[int | None]:
    """Indices printed along an axis of ``length``; ``None`` marks the elided middle."""
    edge = _options.edgeitems
    if summarize and length > 2 * edge:
        return [*range(edge), None, *range(length - edge, length)]
    return list(range(length))


def _format_nested(
    array: np.ndarray, formatter: _ElementFormatter, indent: int, summarize: bool
) -> str:
    """Format ``array`` as nested brackets whose first line starts at column ``indent``."""
    if array.ndim == 0:
        return formatter(array.item())
    if array.ndim == 1:
        return _format_vector(array, formatter, indent, summarize)
    rows = [
        _ELLIPSIS_ROW
        if index is None
        else _format_nested(array[index], formatter, indent + 1, summarize)
        for index in _visible_indices(len(array), summarize)
    ]
    # One newline between rows of a matrix, one blank line more per extra dimension.
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def _format_vector(
    vector: np.ndarray, formatter: _ElementFormatter, indent: int, summarize: bool
) -> str:
    """Format a 1-d array, wrapping so that lines stay within ``linewidth``."""
    values = vector.tolist()
    elements = [
        _ELLIPSIS_ELEMENT if index is None else formatter(values[index])
        for index in _visible_indices(len(vector), summarize)
    ]
    per_line = max(1, (_options.linewidth - indent) // (formatter.width + 2))
    lines = [
        ", ".join(elements[start : start + per_line]) for start in range(0, len(elements), per_line)
    ]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _append_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Close ``text`` with ``suffixes``, starting a new line where one would overflow.

    Note [suffix line length]: PyTorch counts the line that the tensor body ends
    on as two characters longer than it is; a line it starts for a suffix is
    counted exactly. We keep that count so that our wrapping matches.
    """
    pieces = [text]
    line_length = len(_last_line(text)) + 2
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _options.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def _last_line(text: str) -> str:
    """The text after the last newline in ``text`` (all of it if there is none)."""
    return text.rsplit("\n", 1)[-1]
