"""Tensor printing: ``format_tensor`` must give PyTorch's ``repr`` character for character.

The first half states key outputs as literal strings, so that it runs without
PyTorch. The second half compares against ``repr`` of real torch tensors and is
skipped where torch is not installed.

Cross-checks pass torch's own suffix text (``dtype=torch.float64``), not ours:
a suffix's length decides where the line wraps, so renaming it after the fact
would make long cases differ for a reason that has nothing to do with printing.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from retrograd._printing import format_tensor, get_printoptions, set_printoptions

DEFAULT_OPTIONS = {
    "precision": 4,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 80,
    "sci_mode": None,
}


@pytest.fixture(autouse=True)
def _restore_default_printoptions():
    """Every test starts and ends with PyTorch's default options, here and in torch."""
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")
    try:
        import torch
    except ImportError:
        return
    torch.set_printoptions(profile="default")


def show(values, *suffixes, dtype=None):
    """Format ``values`` (anything ``np.array`` takes) with the given suffixes."""
    return format_tensor(np.array(values, dtype=dtype), suffixes=list(suffixes))


# ---------------------------------------------------------------------------
# Literal outputs (no torch needed)


def test_integer_valued_float_scalars_print_with_trailing_dot():
    assert show(7.0) == "tensor(7.)"
    assert show(12.0) == "tensor(12.)"


def test_fractional_float_scalar_prints_four_decimals():
    assert show(2.5) == "tensor(2.5000)"


def test_integer_valued_float_vector_prints_with_trailing_dots():
    assert show([2.0, 4.0]) == "tensor([2., 4.])"


def test_integer_vector_prints_plain_numbers():
    assert show([1, 2]) == "tensor([1, 2])"


def test_bool_vector_prints_padded_true_false():
    assert show([True, False]) == "tensor([ True, False])"


def test_matrix_rows_line_up_under_the_first_row():
    assert show([[1.0, 2.0], [3.0, 4.0]]) == "tensor([[1., 2.],\n        [3., 4.]])"


def test_three_dimensional_blocks_are_separated_by_a_blank_line():
    expected = "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"
    assert show(np.arange(8.0).reshape(2, 2, 2)) == expected


def test_all_elements_are_padded_to_the_widest():
    assert show([0.1, 100.0]) == "tensor([  0.1000, 100.0000])"
    assert show([1, -20]) == "tensor([  1, -20])"


def test_scientific_notation_when_magnitudes_span_more_than_three_decades():
    assert show([1.0, 1000.0]) == "tensor([   1., 1000.])"
    assert show([1.0, 1001.0]) == "tensor([1.0000e+00, 1.0010e+03])"


def test_scientific_notation_for_small_fractions_and_huge_values():
    assert show([1e-5, 1.0]) == "tensor([1.0000e-05, 1.0000e+00])"
    assert show([1.5e8]) == "tensor([1.5000e+08])"
    assert show([1e8]) == "tensor([100000000.])"


def test_nan_inf_and_zero_do_not_widen_columns():
    assert show([1.0, math.nan]) == "tensor([1., nan])"
    assert show([math.nan, math.inf, -math.inf]) == "tensor([nan, inf, -inf])"
    assert show([0.0, -0.0]) == "tensor([0., -0.])"
    assert show([100.0, math.nan]) == "tensor([100.,  nan])"


def test_empty_vector_prints_brackets_only():
    assert show([], dtype=np.float32) == "tensor([])"


def test_empty_multidimensional_tensor_shows_its_size_before_other_suffixes():
    empty = np.zeros((0, 3))
    assert format_tensor(empty, suffixes=[]) == "tensor([], size=(0, 3))"
    assert (
        format_tensor(empty, suffixes=["dtype=retrograd.float64"])
        == "tensor([], size=(0, 3), dtype=retrograd.float64)"
    )


def test_suffixes_follow_the_values():
    assert show(7.0, "grad_fn=<MulBackward0>") == "tensor(7., grad_fn=<MulBackward0>)"
    assert (
        show([2.0, 4.0], "dtype=retrograd.float64", "requires_grad=True")
        == "tensor([2., 4.], dtype=retrograd.float64, requires_grad=True)"
    )


def test_suffix_that_would_overflow_the_line_starts_a_new_one():
    expected = (
        "tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n"
        "         8.5000,  9.5000, 10.5000, 11.5000], dtype=torch.float64,\n"
        "       grad_fn=<AddBackward0>)"
    )
    assert show(np.arange(12.0) + 0.5, "dtype=torch.float64", "grad_fn=<AddBackward0>") == expected


def test_long_vector_wraps_at_linewidth():
    expected = (
        "tensor([0.0000, 0.5000, 1.0000, 1.5000, 2.0000, 2.5000, 3.0000, 3.5000, 4.0000,\n"
        "        4.5000, 5.0000, 5.5000])"
    )
    assert show(np.arange(12.0) * 0.5) == expected


def test_more_than_threshold_elements_are_summarised_with_edge_items():
    expected = (
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
        "        1.9990e+03])"
    )
    assert show(np.arange(2000.0, dtype=np.float32)) == expected


def test_exactly_threshold_elements_print_in_full():
    # Summarising starts above the threshold (1000 by default), not at it.
    at_threshold = show(np.arange(1000.0))
    assert "..." not in at_threshold and at_threshold.endswith("998., 999.])")
    assert "..." in show(np.arange(1001.0))


def test_float16_values_print_at_their_exact_value():
    assert show([1.0, 2.5], "dtype=torch.float16", dtype=np.float16) == (
        "tensor([1.0000, 2.5000], dtype=torch.float16)"
    )


def test_default_printoptions_are_pytorchs():
    assert get_printoptions() == DEFAULT_OPTIONS


def test_precision_option_changes_decimals():
    set_printoptions(precision=2)
    assert show([1.12345]) == "tensor([1.12])"


def test_threshold_option_summarises_sooner():
    set_printoptions(threshold=5)
    assert show(np.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"


def test_sci_mode_option_forces_or_forbids_scientific_notation():
    set_printoptions(sci_mode=True)
    assert show([1.0, 2.0]) == "tensor([1.0000e+00, 2.0000e+00])"
    set_printoptions(sci_mode=False)
    assert show([1e-10, 1.0]) == "tensor([0.0000, 1.0000])"


def test_sci_mode_does_not_apply_without_finite_nonzero_values():
    set_printoptions(sci_mode=True)
    assert show([0.0, math.nan]) == "tensor([0., nan])"


def test_profiles_set_every_option_and_explicit_arguments_override_them():
    set_printoptions(profile="short")
    assert get_printoptions() == {**DEFAULT_OPTIONS, "precision": 2, "edgeitems": 2}
    set_printoptions(profile="full", linewidth=120)
    assert get_printoptions() == {**DEFAULT_OPTIONS, "threshold": math.inf, "linewidth": 120}


def test_set_printoptions_resets_sci_mode_when_not_given():
    set_printoptions(sci_mode=True)
    set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None


def test_unknown_profile_is_ignored_like_pytorch():
    set_printoptions(profile="short")
    set_printoptions(profile="no-such-profile")
    assert get_printoptions()["precision"] == 2


def test_get_printoptions_returns_a_copy():
    get_printoptions()["precision"] = 9
    assert get_printoptions()["precision"] == 4


def test_complex_arrays_are_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="complex128"):
        show([1 + 2j])


# ---------------------------------------------------------------------------
# Cross-checks against torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def torch_suffixes(tensor):
    """The suffixes torch's ``repr`` adds for ``tensor``, in torch's order."""
    import torch

    suffixes = []
    shown_dtypes = (
        (torch.float32,) if tensor.numel() == 0 else (torch.float32, torch.int64, torch.bool)
    )
    if tensor.dtype not in shown_dtypes:
        suffixes.append(f"dtype={tensor.dtype}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return suffixes


def assert_prints_like_torch(tensor):
    ours = format_tensor(tensor.detach().numpy(), suffixes=torch_suffixes(tensor))
    assert ours == repr(tensor)


def use_printoptions(torch, **options):
    """Set the same print options here and in torch."""
    set_printoptions(**options)
    torch.set_printoptions(**options)


CASES = {
    "scalar_7": lambda torch: torch.tensor(7.0),
    "scalar_12": lambda torch: torch.tensor(12.0),
    "scalar_2_5": lambda torch: torch.tensor(2.5),
    "scalar_int": lambda torch: torch.tensor(5),
    "scalar_negative_zero": lambda torch: torch.tensor(-0.0),
    "scalar_nan": lambda torch: torch.tensor(math.nan),
    "vector_2_4": lambda torch: torch.tensor([2.0, 4.0]),
    "vector_int": lambda torch: torch.tensor([1, 2]),
    "matrix_1234": lambda torch: torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "mixed_magnitudes": lambda torch: torch.tensor([0.1, 100.0, 12.5]),
    "ratio_just_over_1000": lambda torch: torch.tensor([0.1, 100.1]),
    "negatives": lambda torch: torch.tensor([-1.5, 2.25, -300.125]),
    "nan_inf": lambda torch: torch.tensor([1.5, math.nan, -math.inf, math.inf]),
    "only_nan_inf": lambda torch: torch.tensor([math.nan, math.inf, -math.inf]),
    "zeros": lambda torch: torch.zeros(3),
    "signed_zeros_with_fractions": lambda torch: torch.tensor([-0.0, 100.5]),
    "tiny": lambda torch: torch.tensor([1e-10, 3e-12]),
    "min_just_below_1e-4": lambda torch: torch.tensor([1e-4, 1.0]),
    "huge": lambda torch: torch.tensor([1e20, -3e25]),
    "max_1e8": lambda torch: torch.tensor([1e8, 3.0]),
    "max_over_1e8": lambda torch: torch.tensor([1.5e8, 3.0]),
    "float64_overflowing_ratio": lambda torch: torch.tensor([1e300, 5e-324], dtype=torch.float64),
    "arange_2000": lambda torch: torch.arange(2000.0),
    "arange_1001_int": lambda torch: torch.arange(1001),
    "square_100": lambda torch: torch.arange(10000.0).reshape(100, 100) / 7,
    "cube": lambda torch: torch.arange(60.0).reshape(3, 4, 5) - 30,
    "large_cube": lambda torch: torch.linspace(-5, 5, 3000).reshape(10, 15, 20),
    "four_dims": lambda torch: torch.arange(16.0).reshape(2, 2, 2, 2) * 0.25,
    "tall_matrix_summarised": lambda torch: torch.arange(3000.0).reshape(1500, 2),
    "wide_matrix_wrapped": lambda torch: torch.arange(60.0).reshape(2, 30) + 0.5,
    "bools": lambda torch: torch.tensor([[True, False], [False, True]]),
    "many_bools": lambda torch: torch.arange(1200).reshape(40, 30) % 3 == 0,
    "int8": lambda torch: torch.tensor([-128, 5, 127], dtype=torch.int8),
    "uint8": lambda torch: torch.tensor([0, 255], dtype=torch.uint8),
    "int32_matrix": lambda torch: torch.arange(-6, 6, dtype=torch.int32).reshape(3, 4),
    "float16": lambda torch: torch.tensor([0.1, 1.5, 65504.0], dtype=torch.float16),
    "float16_fractions": lambda torch: torch.linspace(-1, 1, 9, dtype=torch.float16),
    "float64": lambda torch: torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64),
    "float64_integers": lambda torch: torch.arange(5, dtype=torch.float64),
    "empty_vector": lambda torch: torch.tensor([]),
    "empty_int_vector": lambda torch: torch.tensor([], dtype=torch.int64),
    "empty_matrix": lambda torch: torch.zeros(0, 3),
    "empty_middle_axis_float64": lambda torch: torch.zeros(3, 0, 2, dtype=torch.float64),
    "empty_requires_grad": lambda torch: torch.zeros(0, requires_grad=True),
    "requires_grad": lambda torch: torch.tensor([2.0, 4.0], requires_grad=True),
    "grad_fn_scalar": lambda torch: torch.tensor(3.5, requires_grad=True) * 2,
    "grad_fn_float64_matrix": lambda torch: (
        torch.ones(4, 9, dtype=torch.float64, requires_grad=True) / 3
    ),
    "grad_fn_long_vector": lambda torch: torch.arange(30.0, requires_grad=True) * 1.5,
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_prints_like_torch(torch, make):
    assert_prints_like_torch(make(torch))


OPTION_CASES = {
    "precision_2": {"precision": 2},
    "precision_0": {"precision": 0},
    "precision_8": {"precision": 8},
    "threshold_5": {"threshold": 5},
    "edgeitems_1": {"threshold": 10, "edgeitems": 1},
    "linewidth_30": {"linewidth": 30},
    "linewidth_1": {"linewidth": 1},
    "sci_mode_on": {"sci_mode": True},
    "sci_mode_off": {"sci_mode": False},
    "profile_short": {"profile": "short"},
    "profile_full": {"profile": "full"},
    "short_with_wide_lines": {"profile": "short", "linewidth": 200},
}


@pytest.mark.parametrize("options", OPTION_CASES.values(), ids=OPTION_CASES.keys())
@pytest.mark.parametrize(
    "make",
    [
        lambda torch: torch.linspace(-3, 3, 25),
        lambda torch: torch.arange(1200.0).reshape(30, 40),
        lambda torch: torch.tensor([1e-6, 1.0, 2.5, math.nan]),
        lambda torch: torch.tensor([1e20, 1.0, 0.0]),
        lambda torch: torch.tensor(0.125),
        lambda torch: torch.arange(20).reshape(2, 10),
        lambda torch: torch.arange(24.0, dtype=torch.float64, requires_grad=True).reshape(2, 3, 4),
    ],
    ids=["linspace", "matrix_1200", "tiny_nan", "huge_zero", "scalar", "int", "cube_grad"],
)
def test_prints_like_torch_under_printoptions(torch, options, make):
    use_printoptions(torch, **options)
    assert_prints_like_torch(make(torch))


@pytest.mark.parametrize("linewidth", [20, 57, 80, 81, 120])
def test_suffix_wrapping_matches_torch_for_every_line_length(torch, linewidth):
    use_printoptions(torch, linewidth=linewidth)
    for length in range(1, 40):
        base = torch.arange(length, dtype=torch.float64) + 0.5
        assert_prints_like_torch(base)
        assert_prints_like_torch(base.clone().requires_grad_())
        assert_prints_like_torch(base.clone().requires_grad_() * 2)
        assert_prints_like_torch(base.reshape(1, 1, length).float().requires_grad_())


def test_printoptions_match_torchs(torch):
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for profile in ("short", "full", "default"):
        use_printoptions(torch, profile=profile)
        assert get_printoptions() == torch._tensor_str.get_printoptions()


FLOAT_DTYPES = st.sampled_from([np.float16, np.float32, np.float64])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)


@st.composite
def float_arrays(draw):
    """Float arrays with a mix of magnitudes, whole numbers, zeros, nan and inf."""
    elements = st.one_of(
        st.floats(),
        st.floats(-1e4, 1e4),
        st.integers(-(10**6), 10**6).map(float),
        st.sampled_from([0.0, -0.0, 1e-4, 1e8, 1000.0, 0.5, 2.5]),
    )
    values = draw(hnp.arrays(np.float64, SHAPES, elements=elements))
    scale = draw(st.sampled_from([1.0, 1e-6, 1e6, 1e30]))
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(values * scale).astype(draw(FLOAT_DTYPES))


@settings(max_examples=300, deadline=None)
@given(array=float_arrays())
def test_random_float_arrays_print_like_torch(array):
    torch = pytest.importorskip("torch")
    assert_prints_like_torch(torch.from_numpy(array))


@settings(max_examples=100, deadline=None)
@given(
    array=float_arrays(),
    precision=st.integers(0, 8),
    linewidth=st.integers(10, 120),
    threshold=st.integers(1, 60),
    edgeitems=st.integers(1, 4),
    sci_mode=st.sampled_from([None, True, False]),
)
def test_random_float_arrays_under_random_printoptions_print_like_torch(
    array, precision, linewidth, threshold, edgeitems, sci_mode
):
    torch = pytest.importorskip("torch")
    use_printoptions(
        torch,
        precision=precision,
        linewidth=linewidth,
        threshold=threshold,
        edgeitems=edgeitems,
        sci_mode=sci_mode,
    )
    try:
        assert_prints_like_torch(torch.from_numpy(array))
    finally:
        use_printoptions(torch, profile="default")
