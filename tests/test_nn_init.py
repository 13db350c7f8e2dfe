"""nn.init: the distributions, their bounds and gains (statistically, and against PyTorch's gains)."""

import math

import numpy as np
import pytest

import retrograd
from retrograd import nn
from retrograd.nn import init


def _big(*shape):
    return retrograd.empty(*shape)


def test_calculate_gain_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    for slope in (None, 0.2, 1):
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope)
        )


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope x not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_uniform_and_normal():
    values = init.uniform_(_big(200, 100), -2, 3).numpy()
    assert values.min() >= -2 and values.max() < 3 and abs(values.mean() - 0.5) < 0.05
    values = init.normal_(_big(200, 100), 1.0, 2.0).numpy()
    assert abs(values.mean() - 1.0) < 0.05 and abs(values.std() - 2.0) < 0.05


def test_trunc_normal_stays_in_bounds():
    values = init.trunc_normal_(_big(100, 100), mean=0.0, std=1.0, a=-0.5, b=1.0).numpy()
    assert values.min() >= -0.5 and values.max() <= 1.0
    assert values.std() < 1.0


def test_constant_ones_zeros_eye():
    assert init.constant_(_big(2), 0.5).tolist() == [0.5, 0.5]
    assert init.ones_(_big(2)).tolist() == [1.0, 1.0]
    assert init.zeros_(retrograd.ones(2)).tolist() == [0.0, 0.0]
    assert init.eye_(_big(2, 3)).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(_big(2))


def test_xavier_bounds_and_spread():
    weight = init.xavier_uniform_(_big(300, 200), gain=2.0).numpy()
    bound = 2.0 * math.sqrt(6.0 / 500)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    weight = init.xavier_normal_(_big(300, 200)).numpy()
    assert weight.std() == pytest.approx(math.sqrt(2.0 / 500), rel=0.03)


def test_kaiming_uses_fan_in_or_fan_out_and_the_receptive_field():
    weight = init.kaiming_uniform_(_big(64, 16, 3, 3), nonlinearity="relu").numpy()
    bound = math.sqrt(2.0) * math.sqrt(3.0 / (16 * 9))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    weight = init.kaiming_normal_(_big(400, 100), mode="fan_out").numpy()
    assert weight.std() == pytest.approx(init.calculate_gain("leaky_relu", 0) / math.sqrt(400), rel=0.03)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_big(2, 2), mode="fan_avg")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(_big(3))


def test_kaiming_on_an_empty_tensor_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(_big(0, 3))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    weight = init.orthogonal_(_big(*shape), gain=2.0).numpy().reshape(shape[0], -1).astype(np.float64)
    if weight.shape[0] <= weight.shape[1]:
        np.testing.assert_allclose(weight @ weight.T, 4 * np.eye(weight.shape[0]), atol=1e-5)
    else:
        np.testing.assert_allclose(weight.T @ weight, 4 * np.eye(weight.shape[1]), atol=1e-5)


def test_init_is_in_place_outside_autograd_and_bumps_the_version():
    parameter = nn.Parameter(retrograd.zeros(3, 3))
    version = parameter._version
    result = init.normal_(parameter)
    assert result is parameter and parameter.is_leaf and parameter.grad_fn is None
    assert parameter._version == version + 1


def test_generators_make_init_repeatable():
    first = init.uniform_(_big(5), generator=retrograd.Generator().manual_seed(3))
    second = init.uniform_(_big(5), generator=retrograd.Generator().manual_seed(3))
    assert first.tolist() == second.tolist()
    retrograd.manual_seed(1)
    third = init.normal_(_big(5))
    retrograd.manual_seed(1)
    assert init.normal_(_big(5)).tolist() == third.tolist()
