"""Printing at the edges of each rule, against PyTorch (found by mutation testing).

A fixed grid (no random draws, so a mutant run is repeatable) of values, shapes and print
options that sit on each boundary of the formatting rules: the summarising threshold, edge
items, line width, the switches to scientific notation, widths set by finite values only.
The literal expectations are PyTorch 2.13's output; the cross-check compares the whole grid.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import retrograd

VALUES = {
    "whole": np.array([1.0, -2.0, 30.0, 4.0]),
    "fixed": np.array([1.5, -2.25, 0.125, 10.0]),
    "ratio just under 1000": np.array([1.0, 999.0]),
    "ratio just over 1000": np.array([1.0, 1001.0]),
    "ratio over 1000, fractional": np.array([0.5, 501.0]),
    "large whole": np.array([1.0e8, 2.0]),
    "just over 1e8": np.array([100000001.0, 100000000.0]),
    "just under 1e-4": np.array([0.00009, 0.0001]),
    "exactly 1e-4": np.array([0.0001, 0.0002]),
    "zeros and nan": np.array([0.0, np.nan, -np.inf, 0.0]),
    "nan and whole": np.array([np.nan, 2.0, np.inf, -3.0]),
    "nan and fraction": np.array([np.nan, 2.5, -np.inf]),
    "negative zero": np.array([-0.0, 1.0]),
    "ints": np.array([3, -12, 7, 100000]),
    "bools": np.array([True, False, True]),
}

OPTIONS = [
    {},
    {"precision": 2},
    {"precision": 6, "sci_mode": True},
    {"sci_mode": False},
    {"linewidth": 30},
    {"linewidth": 20, "precision": 1},
]

SHAPES = {
    "scalar": (),
    "empty vector": (0,),
    "empty matrix": (0, 3),
    "empty 3-d": (2, 0, 1),
    "6": (6,),
    "7": (7,),
    "2x3": (2, 3),
    "2x3x2": (2, 3, 2),
    "2x1x2x2": (2, 1, 2, 2),
}


def _array(shape, dtype):
    size = int(np.prod(shape))
    return (np.arange(size) * 1.25 - 3).reshape(shape).astype(dtype)


def _printed(torch, array, options=None, dtype=None, requires_grad=False):
    """repr of a tensor of `array` (float32 unless `dtype` names another) under `options`."""
    if dtype is None and array.dtype.kind == "f":
        dtype = "float32"
    torch.set_printoptions(profile="default")
    try:
        if options:
            torch.set_printoptions(**options)
        tensor = torch.tensor(array, dtype=None if dtype is None else getattr(torch, dtype))
        return repr(tensor.requires_grad_() if requires_grad else tensor)
    finally:
        torch.set_printoptions(profile="default")


def _grid(torch):
    printed = {}
    for name, values in VALUES.items():
        for index, options in enumerate(OPTIONS):
            printed[name, index] = _printed(torch, values, options)
        printed[name, "matrix"] = _printed(torch, np.stack([values, values[::-1]]))
    for name, shape in SHAPES.items():
        for dtype in ("float32", "float64", "int64"):
            printed[name, dtype] = _printed(torch, _array(shape, dtype), dtype=dtype)
    for size in (999, 1000, 1001):
        printed["threshold", size] = _printed(torch, np.arange(size, dtype=np.float32))
    for edgeitems in (1, 2):
        for shape in ((5,), (4, 5), (3, 3), (5, 2, 4)):
            options = {"threshold": 10, "edgeitems": edgeitems}
            printed["summarised", edgeitems, shape] = _printed(torch, _array(shape, np.float32), options)
    printed["summary width"] = _printed(torch, np.array([1e5] + [1.0] * 1000 + [2.5]))
    printed["requires grad"] = _printed(torch, np.array([1.5, 2.0]), requires_grad=True)
    printed["double, requires grad"] = _printed(
        torch, np.arange(20, dtype=np.float64) * 1000.5, dtype="float64", requires_grad=True
    )
    printed["double tiny"] = _printed(torch, np.array([1e-300, 1e300]), dtype="float64")
    printed["long suffix"] = _printed(torch, np.arange(8.0) * 1.5, {"linewidth": 40}, requires_grad=True)
    printed["long suffix, wrapped"] = _printed(torch, np.arange(9.0) * 1.5, {"linewidth": 40},
                                               requires_grad=True)
    return printed


def test_threshold_is_the_largest_size_printed_whole():
    assert _printed(retrograd, np.arange(1000, dtype=np.float32)).count("...") == 0
    assert _printed(retrograd, np.arange(1001, dtype=np.float32)).count("...") == 1
    assert _printed(retrograd, np.arange(7.0), {"threshold": 7}) == "tensor([0., 1., 2., 3., 4., 5., 6.])"
    assert _printed(retrograd, np.arange(7.0), {"threshold": 6}) == "tensor([0., 1., 2.,  ..., 4., 5., 6.])"
    assert _printed(retrograd, np.arange(6.0), {"threshold": 5}) == "tensor([0., 1., 2., 3., 4., 5.])"


def test_summarised_matrix_keeps_edge_rows_and_columns():
    text = _printed(retrograd, np.arange(25.0).reshape(5, 5), {"threshold": 10, "edgeitems": 1})
    assert text == "tensor([[ 0.,  ...,  4.],\n        ...,\n        [20.,  ..., 24.]])"


def test_scientific_switches():
    assert _printed(retrograd, VALUES["ratio just under 1000"]) == "tensor([  1., 999.])"
    assert _printed(retrograd, VALUES["ratio just over 1000"]) == "tensor([1.0000e+00, 1.0010e+03])"
    assert _printed(retrograd, VALUES["large whole"]) == "tensor([1.0000e+08, 2.0000e+00])"
    assert _printed(retrograd, VALUES["just under 1e-4"]) == "tensor([9.0000e-05, 1.0000e-04])"
    # float32's nearest value to 1e-4 is just below it; float64 holds it exactly.
    assert _printed(retrograd, VALUES["exactly 1e-4"]) == "tensor([1.0000e-04, 2.0000e-04])"
    assert _printed(retrograd, VALUES["exactly 1e-4"], dtype="float64") == (
        "tensor([0.0001, 0.0002], dtype=retrograd.float64)"
    )
    assert _printed(retrograd, VALUES["zeros and nan"], {"sci_mode": True}) == "tensor([0., nan, -inf, 0.])"
    assert _printed(retrograd, VALUES["nan and whole"]) == "tensor([nan,  2., inf, -3.])"


def test_width_and_wrapping():
    assert _printed(retrograd, np.arange(10.0), {"linewidth": 20}) == (
        "tensor([0., 1., 2.,\n        3., 4., 5.,\n        6., 7., 8.,\n        9.])"
    )
    assert _printed(retrograd, np.array([[1.0, -10.5]])) == "tensor([[  1.0000, -10.5000]])"
    assert _printed(retrograd, np.zeros((2, 0, 1))) == "tensor([], size=(2, 0, 1))"
    assert _printed(retrograd, np.zeros((0,))) == "tensor([])"


def test_print_options_round_trip():
    retrograd.set_printoptions(precision=2, threshold=5, edgeitems=1, linewidth=40, sci_mode=True)
    try:
        assert retrograd.get_printoptions() == {
            "precision": 2, "threshold": 5, "edgeitems": 1, "linewidth": 40, "sci_mode": True,
        }
        retrograd.set_printoptions(profile="short")
        assert retrograd.get_printoptions() == {
            "precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80, "sci_mode": None,
        }
        retrograd.set_printoptions(profile="full", precision=3)
        assert retrograd.get_printoptions()["threshold"] == float("inf")
        assert retrograd.get_printoptions()["precision"] == 3
        retrograd.set_printoptions(profile="no such profile")
        assert retrograd.get_printoptions()["precision"] == 3
    finally:
        retrograd.set_printoptions(profile="default")
    assert retrograd.get_printoptions()["edgeitems"] == 3


def test_grid_matches_pytorch():
    real = pytest.importorskip("torch")
    ours, theirs = _grid(retrograd), _grid(real)
    differences = {
        key: (ours[key], theirs[key].replace("torch.", "retrograd."))
        for key in theirs
        if ours[key] != theirs[key].replace("torch.", "retrograd.")
    }
    assert not differences


def test_print_option_profiles_match_pytorch():
    real = pytest.importorskip("torch")
    for profile in ("short", "full", "default"):
        retrograd.set_printoptions(profile=profile, linewidth=50)
        real.set_printoptions(profile=profile, linewidth=50)
        try:
            theirs = real._tensor_str.PRINT_OPTS
            assert retrograd.get_printoptions() == {
                "precision": theirs.precision, "threshold": theirs.threshold, "edgeitems": theirs.edgeitems,
                "linewidth": theirs.linewidth, "sci_mode": theirs.sci_mode,
            }
        finally:
            retrograd.set_printoptions(profile="default")
            real.set_printoptions(profile="default")


def test_the_ratio_rule_is_decided_in_double_precision():
    # float32 division rounds this ratio to exactly 1000; in float64 it is just above, and
    # PyTorch (which decides in double) switches to scientific notation.
    values = np.array([1.2697867155075073, 1269.7867431640625], dtype=np.float32)
    assert _printed(retrograd, values) == "tensor([1.2698e+00, 1.2698e+03])"


def test_hidden_middle_values_do_not_set_the_format():
    values = np.array([1.0, 2.0, 3.0, 12345.0, 5.0, 6.0, 7.0, 8.0])
    assert _printed(retrograd, values, {"threshold": 5}) == "tensor([1., 2., 3.,  ..., 6., 7., 8.])"
    assert _printed(retrograd, values[:6], {"threshold": 5}) == (
        "tensor([1.0000e+00, 2.0000e+00, 3.0000e+00, 1.2345e+04, 5.0000e+00, 6.0000e+00])"
    )


def test_extreme_ratios_print_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _printed(retrograd, np.array([1e-300, 1e300]), dtype="float64") == (
            "tensor([1.0000e-300, 1.0000e+300], dtype=retrograd.float64)"
        )


def test_the_formatter_refuses_dtypes_a_tensor_cannot_hold():
    from retrograd._printing import format_tensor

    with pytest.raises(TypeError) as error:
        format_tensor(np.array([1j]), suffixes=[])
    assert str(error.value) == (
        "cannot print a tensor with NumPy dtype complex128; only bool, integer and real floating dtypes "
        "are supported"
    )
    assert format_tensor(np.array([1, 2], dtype=np.uint8), suffixes=[]) == "tensor([1, 2])"


def test_second_suffix_wraps_exactly_past_the_line_width():
    # "tensor([1.]" counts as 13 (Note [suffix line length]); each suffix adds its length and ", ".
    one_line = "tensor([1.], dtype=retrograd.float64, requires_grad=True)"
    wrapped = "tensor([1.], dtype=retrograd.float64,\n       requires_grad=True)"
    array = np.array([1.0])
    assert _printed(retrograd, array, {"linewidth": 58}, dtype="float64", requires_grad=True) == one_line
    assert _printed(retrograd, array, {"linewidth": 57}, dtype="float64", requires_grad=True) == wrapped
