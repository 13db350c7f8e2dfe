"""max()/min() and amax/amin run NumPy's ufunc reduce directly: the same values (NaN, signed
zeros, bools, integers, empty dims' errors) and nodes as `np.max`/`np.min`."""

import numpy as np
import pytest

import retrograd as torch

DATA = [np.array([3.0, -0.0, 0.0, np.nan, -np.inf], np.float32), np.array([[0.0, -0.0], [-0.0, 0.0]]),
        np.array([[1, 7], [7, -2]], np.int32), np.array([True, False]), np.array(2.5, np.float64)]


@pytest.mark.parametrize("data", DATA)
def test_full_reduction_is_numpys(data):
    for op, kernel in ((torch.max, np.max), (torch.min, np.min)):
        result = op(torch.tensor(data))
        expected = np.asarray(kernel(data))
        assert result.numpy().dtype == expected.dtype and result.numpy().tobytes() == expected.tobytes()


@pytest.mark.parametrize("data", DATA[1:3])
@pytest.mark.parametrize("dim", [0, 1, (0, 1), ()])
def test_amax_amin_are_numpys(data, dim):
    for op, kernel in ((torch.amax, np.max), (torch.amin, np.min)):
        for keepdim in (False, True):
            result = op(torch.tensor(data), dim, keepdim)
            axis = None if dim == () else dim
            expected = np.asarray(kernel(data, axis=axis, keepdims=keepdim))
            assert result.numpy().dtype == expected.dtype and result.numpy().tobytes() == expected.tobytes()


def test_gradient_and_errors():
    x = torch.tensor([1.0, 4.0, 4.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        torch.zeros(0).min()
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        torch.zeros(0, 2).amax(0)
