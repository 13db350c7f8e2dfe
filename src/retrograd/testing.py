"""`retrograd.testing.assert_close`: PyTorch's comparison of tensors, numbers and containers of them.

Closeness is `|actual - expected| <= atol + rtol * |expected|` elementwise, with default
tolerances by dtype (PyTorch's table below; exact for integers and bools), after checking
that shapes and (unless `check_dtype=False`) dtypes agree. A failure raises AssertionError
with PyTorch's report: how many elements differ, and the greatest absolute and relative
differences with their index.
"""

from __future__ import annotations

import collections.abc
import math
import numbers

import numpy as np

from . import _dtype
from ._tensor import Size, Tensor

__all__ = ["assert_close"]

# (rtol, atol) by NumPy dtype name; integer and bool dtypes compare exactly.
_DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg=None) -> None:
    """Raise AssertionError unless `actual` and `expected` are close (see the module's doc)."""
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.")
    _compare(actual, expected, "", dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                                        check_stride=check_stride, msg=msg))


def _compare(actual, expected, where: str, options: dict) -> None:
    if _is_tensor_like(actual) and _is_tensor_like(expected) and type(actual) is type(expected):
        _compare_tensors(_as_tensor(actual), _as_tensor(expected), where, options)
    elif isinstance(actual, Tensor) and isinstance(expected, Tensor):
        _compare_tensors(actual, expected, where, options)
    elif _is_number(actual) and _is_number(expected):
        _compare_numbers(actual, expected, where, options)
    elif _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", where,
                  options)
        for index, (first, second) in enumerate(zip(actual, expected)):
            _compare(first, second, f"{where}[{index}]", options)
    elif isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            missing, additional = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            _fail(f"The keys of the mappings do not match:\nMissing keys: {missing}\nAdditional keys: "
                  f"{additional}", where, options)
        for key in expected:
            _compare(actual[key], expected[key], f"{where}[{key!r}]", options)
    else:
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                        f"{type(expected)}.")


def _is_tensor_like(value) -> bool:
    return isinstance(value, Tensor | np.ndarray)


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._make(np.asarray(value))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, np.ndarray)


def _is_sequence(value) -> bool:
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, str)


def _fail(message: str, where: str, options: dict) -> None:
    custom = options["msg"]
    if custom is not None:
        message = custom(message) if callable(custom) else custom
    elif where:
        message += f"\n\nThe failure occurred for item {where}"
    raise AssertionError(message)


def _tolerances(dtype: np.dtype, options: dict) -> tuple[float, float]:
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    return _DEFAULT_TOLERANCES.get(dtype.name, (0.0, 0.0) if dtype.kind in "iub" else (1e-7, 1e-7))


def _compare_tensors(actual: Tensor, expected: Tensor, where: str, options: dict) -> None:
    if actual.shape != expected.shape:
        _fail(f"The values for attribute 'shape' do not match: {Size(actual.shape)!r} != "
              f"{Size(expected.shape)!r}.", where, options)
    if options["check_dtype"] and actual.dtype is not expected.dtype:
        _fail(f"The values for attribute 'dtype' do not match: {actual.dtype!r} != {expected.dtype!r}.",
              where, options)
    if options["check_stride"] and actual.stride() != expected.stride():
        _fail(f"The values for attribute 'stride()' do not match: {actual.stride()!r} != "
              f"{expected.stride()!r}.", where, options)
    first, second = actual.numpy(force=True), expected.numpy(force=True)  # (a zero tensor too)
    common = np.result_type(first, second) if first.dtype != second.dtype else first.dtype
    first, second = first.astype(common, copy=False), second.astype(common, copy=False)
    rtol, atol = _tolerances(common, options)
    close = _close(first, second, rtol, atol, options["equal_nan"])
    if close.all():
        return
    absolute, relative = _differences(first, second)
    absolute[close], relative[close] = 0, 0
    exact = rtol == 0 and atol == 0
    if actual.dim() == 0:
        _fail(_number_report(first.item(), second.item(), exact, rtol, atol), where, options)
    mismatched = int((~close).sum())
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {mismatched} / {close.size} ({mismatched / close.size:.1%})"]
    for name, differences, allowed in (("absolute", absolute, atol), ("relative", relative, rtol)):
        index = _index_of_greatest(differences)
        line = f"Greatest {name} difference: {differences[index].item()} at index {index}"
        lines.append(line if exact else f"{line} (up to {allowed} allowed)")
    _fail("\n".join(lines), where, options)


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    if actual.dtype.kind in "iub":
        if rtol == 0 and atol == 0:
            return actual == expected
        actual, expected = actual.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # an infinity is close only to itself
        close = (actual == expected) | (np.isfinite(actual) & np.isfinite(expected)
                                        & (np.abs(actual - expected) <= atol + rtol * np.abs(expected)))
    if equal_nan:
        close |= np.isnan(actual) & np.isnan(expected)
    return close


def _differences(actual: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|actual - expected| (integers stay integers) and that over |expected| (as PyTorch: in the
    default float dtype for integers)."""
    if actual.dtype.kind == "b":
        actual, expected = actual.astype(np.int64), expected.astype(np.int64)
    with np.errstate(all="ignore"):
        absolute = np.abs(actual - expected)
        if absolute.dtype.kind in "iu":
            floating = _dtype.get_default_dtype().numpy
            relative = absolute.astype(floating) / np.abs(expected).astype(floating)
        else:
            relative = absolute / np.abs(expected)
    return np.atleast_1d(absolute), np.atleast_1d(relative)


def _index_of_greatest(differences: np.ndarray) -> tuple[int, ...]:
    """The index of the greatest difference (a NaN counts as greatest, as torch.max)."""
    nans = np.isnan(differences) if differences.dtype.kind == "f" else None
    flat = int(np.argmax(nans)) if nans is not None and nans.any() else int(np.argmax(differences))
    return tuple(int(i) for i in np.unravel_index(flat, differences.shape))


def _scalar_report(actual, expected, absolute, relative, exact: bool, rtol: float, atol: float) -> str:
    if exact:
        return (f"Scalars are not equal!\n\nExpected {expected} but got {actual}.\n"
                f"Absolute difference: {absolute}\nRelative difference: {relative}")
    return (f"Scalars are not close!\n\nExpected {expected} but got {actual}.\n"
            f"Absolute difference: {absolute} (up to {atol} allowed)\n"
            f"Relative difference: {relative} (up to {rtol} allowed)")


def _compare_numbers(actual, expected, where: str, options: dict) -> None:
    if options["check_dtype"] and type(actual) is not type(expected):
        _fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.", where, options)
    array_type = np.int64 if isinstance(actual, numbers.Integral) and isinstance(expected, numbers.Integral) \
        else np.float64
    first, second = np.asarray(actual, array_type), np.asarray(expected, array_type)
    rtol, atol = _tolerances(first.dtype, options)
    if _close(first, second, rtol, atol, options["equal_nan"]).all():
        return
    _fail(_number_report(actual, expected, rtol == 0 and atol == 0, rtol, atol), where, options)


def _number_report(actual, expected, exact: bool, rtol: float, atol: float) -> str:
    """The report for two numbers (or 0-d tensors), their differences in Python arithmetic."""
    absolute = abs(actual - expected)
    relative = absolute / abs(expected) if expected != 0 else math.inf
    return _scalar_report(actual, expected, absolute, relative, exact, rtol, atol)
