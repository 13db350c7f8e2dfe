"""Elementwise operators with one input and parameters (nan_to_num, ...) and clamping
(clamp, clip)."""

from __future__ import annotations

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .. import _math
from .._formula import Formula
from .._table import apply, register, register_method, run_in_place
from .._tangents import ELEMENT_WISE
from .promotion import _unary_input, floating_input

# ---------------------------------------------------------------------------
# One-input ops with parameters


@register(methods="square", inplace="square_")
def square(input):
    """input * input (recorded as a power, as PyTorch does; bool gives int64)."""
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        input = input.to(_dtype.int64)
    return pow(input, 2)


class RoundBackward0(Formula):
    @staticmethod
    def forward(self, decimals):
        data = _unary_input(self, "round")
        if data.dtype.kind in "iu" and decimals == 0:
            return data.copy()
        if data.dtype.kind in "iub":
            raise NotImplementedError(
                f'"round_cpu" not implemented for \'{_dtype.scalar_type_name(self.dtype)}\''
            )
        if decimals == 0:
            return np.round(data)
        scale = np.asarray(10.0**decimals, dtype=data.dtype)
        return np.round(data * scale) / scale

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad: _math.zeros_like(grad)}


class RoundBackward1(RoundBackward0):
    """round with `decimals`."""

    tangent = ELEMENT_WISE

@register(methods="round", inplace="round_")
def round(input, *, decimals: int | None = None):
    """Each element rounded to `decimals` places (0 by default), halves to even (0 gradient).

    As PyTorch, passing `decimals` (even 0) records RoundBackward1, the other overload."""
    if decimals is None:
        return apply(RoundBackward0, input, decimals=0)
    return apply(RoundBackward1, input, decimals=decimals)


class LogitBackward0(Formula):
    """log(p / (1 - p)); with `eps`, p is first clamped to [eps, 1 - eps] (gradient 0 outside,
    and NaN outside [0, 1] without eps, as PyTorch)."""

    @staticmethod
    def forward(self, eps):
        data = floating_input(self, "logit")
        if eps is not None:
            data = np.clip(data, eps, 1 - eps)
        with np.errstate(all="ignore"):
            return np.log(data / (1 - data))

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, eps: _math.where(
            (self < 0) | (self > 1) if eps is None else (self < eps) | (self > 1 - eps),
            float("nan") if eps is None else 0.0,
            grad / (self * (1 - self))),
    }


@register(methods="logit", inplace="logit_")
def logit(input, eps: float | None = None):
    """The log-odds log(p / (1 - p)) of each element."""
    return apply(LogitBackward0, input, eps=eps)


class NanToNumBackward0(Formula):
    """NaN and infinities replaced by numbers: no gradient reaches the replaced places."""

    @staticmethod
    def forward(self, nan, posinf, neginf):
        data = _unary_input(self, "nan_to_num")
        if data.dtype.kind not in "fc":
            return data.copy()
        return np.nan_to_num(data, nan=nan, posinf=posinf, neginf=neginf)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self: grad * _math.isfinite(self)}  # PyTorch multiplies


@register(methods="nan_to_num", inplace="nan_to_num_")
def nan_to_num(input, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (default: the dtype's extremes)."""
    return apply(NanToNumBackward0, input, nan=nan, posinf=posinf, neginf=neginf)


# ---------------------------------------------------------------------------
# Clamping


def _inside(x, low, high):
    """Where low <= x <= high (a bound may be None): a bool array or tensor."""
    if low is None:
        return x <= high
    if high is None:
        return x >= low
    return (x >= low) & (x <= high)


class ClampBackward1(Formula):
    """Clamp to number bounds: the gradient passes where min <= x <= max."""

    @staticmethod
    def forward(self, min, max):
        data = _unary_input(self, "clamp")
        if data.dtype.kind == "f" and type(min) in _FLOAT_KEEPS and type(max) in _FLOAT_KEEPS:
            return _clamp_arrays(data, min, max)  # (result_type's answer: the input's dtype)
        target = _dtype.result_type(self, *(bound for bound in (min, max) if bound is not None)).numpy
        return _clamp_arrays(data.astype(target, copy=False), min, max)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, min, max: _math.where(_inside(self, min, max), grad, 0.0)}


class ClampBackward0(Formula):
    """Clamp to tensor bounds: x's gradient where it is kept, each bound's where it wins."""

    inputs = ("self", "min", "max")

    @staticmethod
    def forward(self, min, max):
        data = _unary_input(self, "clamp")
        bounds = [bound for bound in (min, max) if bound is not None]
        target = _dtype.result_type(self, *bounds).numpy
        low = None if min is None else min._data.astype(target, copy=False)
        high = None if max is None else max._data.astype(target, copy=False)
        return _clamp_arrays(data.astype(target, copy=False), low, high)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, min, max: _math.where(_inside(self, min, max), grad, 0.0),
        "min": lambda grad, self, min, max: _math.where(
            (self < min) if max is None else (self < min) & (min <= max), grad, 0.0),
        "max": lambda grad, self, min, max: _math.where(
            (self if min is None else _math.where(self < min, min, self)) > max, grad, 0.0),
    }


# Bounds a floating input keeps its dtype under: None, Python ints and floats (no bool).
_FLOAT_KEEPS = frozenset((type(None), int, float))


def _clamp_arrays(data: np.ndarray, low, high) -> np.ndarray:
    """max(data, low) then min(., high): where low > high every element becomes high. A
    number `high` after a `low` is applied in place, to the array the max made (one array
    less, the same values; a 0-d input's max is a NumPy scalar, not written in place)."""
    if low is not None:
        data = np.maximum(data, low)
        if high is not None and type(data) is np.ndarray and not isinstance(high, np.ndarray):
            np.minimum(data, high, out=data)
            return data
    if high is not None:
        data = np.minimum(data, high)
    return data


@register(methods=("clamp", "clip"), inplace="clamp_")
def clamp(input, min=None, max=None):
    """Each element limited to [min, max]; either bound may be None, a number or a tensor."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        low, high = (_as_bound_tensor(bound, input) for bound in (min, max))
        return apply(ClampBackward0, input, low, high)
    return apply(ClampBackward1, input, min=min, max=max)


def _as_bound_tensor(bound, input: Tensor):
    if bound is None or isinstance(bound, Tensor):
        return bound
    return Tensor._make(np.asarray(bound, dtype=_dtype.result_type(input, bound).numpy))


clip = clamp
register_method("clip_", Tensor.clamp_)


# clamp_min and clamp_max record nodes of their own, as PyTorch's (F.normalize and the margin
# losses floor with clamp_min, so their graphs show ClampMinBackward0).


class ClampMinBackward0(Formula):
    """max(x, min) for a number min: the gradient passes where x >= min."""

    @staticmethod
    def forward(self, min):
        return ClampBackward1.forward(self, min, None)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, min: _math.where(self >= min, grad, 0.0)}


class ClampMaxBackward0(Formula):
    """min(x, max) for a number max: the gradient passes where x <= max."""

    @staticmethod
    def forward(self, max):
        return ClampBackward1.forward(self, None, max)

    tangent = ELEMENT_WISE
    derivatives = {"self": lambda grad, self, max: _math.where(self <= max, grad, 0.0)}


class ClampMinBackward1(Formula):
    """max(x, min) for a tensor min: x's gradient where x >= min, min's where it wins."""

    inputs = ("self", "min")

    @staticmethod
    def forward(self, min):
        return ClampBackward0.forward(self, min, None)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, min: _math.where(self >= min, grad, 0.0),
        "min": lambda grad, self, min: _math.where(self < min, grad, 0.0),
    }


class ClampMaxBackward1(Formula):
    """min(x, max) for a tensor max: x's gradient where x <= max, max's where it wins."""

    inputs = ("self", "max")

    @staticmethod
    def forward(self, max):
        return ClampBackward0.forward(self, None, max)

    tangent = ELEMENT_WISE
    derivatives = {
        "self": lambda grad, self, max: _math.where(self <= max, grad, 0.0),
        "max": lambda grad, self, max: _math.where(self > max, grad, 0.0),
    }


def clamp_min(input, min):
    """max(input, min) elementwise: clamp(input, min=min), recorded as ClampMinBackward0 (a
    number) or ClampMinBackward1 (a tensor)."""
    if isinstance(min, Tensor):
        return apply(ClampMinBackward1, input, min)
    return apply(ClampMinBackward0, input, min=min)


def clamp_max(input, max):
    """min(input, max) elementwise: clamp(input, max=max), recorded as ClampMaxBackward0 (a
    number) or ClampMaxBackward1 (a tensor)."""
    if isinstance(max, Tensor):
        return apply(ClampMaxBackward1, input, max)
    return apply(ClampMaxBackward0, input, max=max)


def clamp_min_(self, min):
    """clamp_min in place: its node (ClampMinBackward0 or 1) records the write, as PyTorch's."""
    return run_in_place(self, clamp_min, min)


def clamp_max_(self, max):
    """clamp_max in place: its node (ClampMaxBackward0 or 1) records the write, as PyTorch's."""
    return run_in_place(self, clamp_max, max)


register_method("clamp_min", clamp_min)
register_method("clamp_max", clamp_max)
register_method("clamp_min_", clamp_min_)
register_method("clamp_max_", clamp_max_)
