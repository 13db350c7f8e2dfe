"""torch.gradient: exact on polynomials its stencils integrate exactly, PyTorch's values and graph,
its derivatives by gradcheck, and PyTorch's errors."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck, gradgradcheck


def _tensor(values, dtype=retrograd.float64):
    return retrograd.tensor(np.asarray(values, dtype=np.float64), dtype=dtype)


def test_central_differences_are_exact_inside_for_a_parabola():
    x = np.arange(6.0) * 0.5
    (estimate,) = retrograd.gradient(_tensor(x ** 2), spacing=0.5)
    np.testing.assert_allclose(estimate.numpy()[1:-1], 2 * x[1:-1], rtol=1e-14)


def test_second_order_edges_are_exact_for_a_parabola_at_uneven_coordinates():
    x = np.array([0.0, 0.3, 1.0, 1.4, 2.5, 2.6])
    for edge_order in (1, 2):
        (estimate,) = retrograd.gradient(_tensor(3 * x ** 2 - x), spacing=(_tensor(x),),
                                         edge_order=edge_order)
        inside = slice(None) if edge_order == 2 else slice(1, -1)
        np.testing.assert_allclose(estimate.numpy()[inside], (6 * x - 1)[inside], rtol=1e-12)


def test_first_order_edges_are_the_one_sided_differences():
    (estimate,) = retrograd.gradient(_tensor([1.0, 4.0, 9.0, 16.0]), spacing=2.0)
    assert estimate.tolist() == [1.5, 2.0, 3.0, 3.5]


def test_each_dim_gets_its_own_step_in_the_order_given():
    values = _tensor(np.arange(12.0).reshape(3, 4) ** 2)
    along_columns, along_rows = retrograd.gradient(values, dim=(1, 0), spacing=[2.0, 0.5])
    np.testing.assert_allclose(along_rows.numpy(), np.gradient(values.numpy(), 0.5, axis=0))
    np.testing.assert_allclose(along_columns.numpy(), np.gradient(values.numpy(), 2.0, axis=1))


def test_integer_input_gives_the_default_float_dtype():
    (estimate,) = retrograd.gradient(retrograd.tensor([1, 4, 9, 16]))
    assert estimate.dtype == retrograd.float32
    assert estimate.tolist() == [3.0, 4.0, 6.0, 7.0]


def test_a_zero_dimensional_tensor_has_no_partial_derivatives():
    assert retrograd.gradient(retrograd.tensor(1.0)) == ()


def test_records_a_cat_of_edge_interior_and_edge():
    values = _tensor([1.0, 4.0, 9.0, 16.0]).requires_grad_()
    (estimate,) = retrograd.gradient(values)
    assert type(estimate.grad_fn).__name__ == "CatBackward0"
    assert len(estimate.grad_fn.next_functions) == 3


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradcheck_for_steps_and_coordinates(edge_order):
    rng = np.random.default_rng(0)
    values = _tensor(rng.standard_normal((4, 5))).requires_grad_()
    coordinates = _tensor(np.cumsum(rng.uniform(0.2, 1.0, 5))).requires_grad_()

    def estimate(values, coordinates):
        return retrograd.gradient(values, spacing=(coordinates,), dim=1, edge_order=edge_order)

    assert gradcheck(estimate, (values, coordinates))
    assert gradgradcheck(estimate, (values, coordinates))
    assert gradcheck(lambda v: retrograd.gradient(v, spacing=0.7, edge_order=edge_order), (values,))


@needs_torch
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_pytorch(edge_order, dtype):
    rng = np.random.default_rng(edge_order)
    data = rng.standard_normal((3, 5, 4)).astype(dtype)
    coordinates = np.cumsum(rng.uniform(0.1, 1.0, 5)).astype(dtype)
    calls = [
        {},
        {"spacing": 0.3},
        {"spacing": [0.5, 2.0, 1.0]},
        {"dim": -1, "spacing": 2},
        {"dim": [2, 0]},
        {"dim": 1, "spacing": ("coordinates",)},
    ]
    for call in calls:
        mine, theirs = dict(call), dict(call)
        if "spacing" in call and call["spacing"] == ("coordinates",):
            mine["spacing"] = (retrograd.tensor(coordinates),)
            theirs["spacing"] = (torch.tensor(coordinates),)
        ours = retrograd.gradient(retrograd.tensor(data), edge_order=edge_order, **mine)
        expected = torch.gradient(torch.tensor(data), edge_order=edge_order, **theirs)
        assert len(ours) == len(expected)
        tolerance = 1e-5 if dtype == "float32" else 1e-12
        for left, right in zip(ours, expected):
            assert str(left.dtype).split(".")[1] == str(right.dtype).split(".")[1]
            np.testing.assert_allclose(left.numpy(), right.numpy(), rtol=tolerance, atol=tolerance)


_ERRORS = [
    ({"edge_order": 3}, RuntimeError, "only supports edge_order=1 and edge_order=2"),
    ({"spacing": [1.0, 2.0, 3.0]}, RuntimeError, "since dim argument was not given"),
    ({"dim": 1, "spacing": [1.0, 2.0]}, RuntimeError, "spacing and dim arguments to have the same length"),
    ({"spacing": [_tensor([0.0, 1.0, 2.0]), _tensor([[0.0, 1.0, 2.0, 3.0]])]}, RuntimeError,
     "each element of spacing to have one dimension"),
    ({"dim": 2}, IndexError, "Dimension out of range"),
    ({"dim": (0, 0)}, RuntimeError, "appears multiple times"),
    ({"spacing": "a"}, TypeError, "spacing"),
    ({"dim": 1, "spacing": [_tensor([0.0, 1.0, 2.0])]}, RuntimeError, "one value per sample"),
]


@pytest.mark.parametrize("kwargs, error, words", _ERRORS)
def test_bad_arguments_raise_and_leave_the_input_unchanged(kwargs, error, words):
    values = _tensor(np.arange(12.0).reshape(3, 4))
    before = values.numpy().copy()
    with pytest.raises(error, match=words):
        retrograd.gradient(values, **kwargs)
    np.testing.assert_array_equal(values.numpy(), before)


def test_a_dimension_too_short_for_the_edge_order_is_refused():
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        retrograd.gradient(_tensor([1.0, 2.0]), edge_order=2)
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        retrograd.gradient(_tensor([1.0]))


def test_input_must_be_a_tensor():
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        retrograd.gradient([1.0, 2.0])
