"""Smaller names PyTorch programs use: searching and counting, dtype limits, constants,
legacy helpers, Tensor.unfold/put_/fill_diagonal_/new. Each is compared with PyTorch."""

import warnings

import numpy as np
import pytest

import retrograd
from retrograd.autograd import gradcheck

try:
    import torch
except ImportError:  # the comparisons skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# Each expression is evaluated with `lib` bound to retrograd and to torch.
EXPRESSIONS = [
    "lib.searchsorted(lib.tensor([1, 3, 5, 7]), lib.tensor([3, 6, 9]))",
    "lib.searchsorted(lib.tensor([1, 3, 5, 7]), lib.tensor([3, 6, 9]), right=True)",
    "lib.searchsorted(lib.tensor([[1, 3], [2, 4]]), lib.tensor([[2], [5]]), side='right')",
    "lib.bucketize(lib.tensor([1, 5, 9]), lib.tensor([1, 3, 5, 7]))",
    "lib.bucketize(lib.tensor([1, 5, 9]), lib.tensor([1, 3, 5, 7]), right=True, out_int32=True)",
    "lib.isin(lib.tensor([1, 2, 3]), lib.tensor([2, 9]))",
    "lib.isin(lib.tensor([1, 2, 3]), lib.tensor([2, 9]), invert=True)",
    "lib.bincount(lib.tensor([0, 1, 1, 3]))",
    "lib.bincount(lib.tensor([0, 1, 1]), minlength=5)",
    "lib.bincount(lib.tensor([0, 1, 1]), weights=lib.tensor([0.5, 1.0, 2.0]))",
    "lib.histc(lib.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)",
    "lib.histc(lib.tensor([1.0, 2.0, 1.0, 7.0]), bins=3)",
    "lib.tril_indices(3, 3)",
    "lib.triu_indices(3, 4, 1)",
    "lib.tril_indices(4, 3, -1)",
    "lib.logspace(0, 2, 3)",
    "lib.logspace(0, 2, 3, base=2)",
    "lib.scalar_tensor(3)",
    "lib.scalar_tensor(3, dtype=lib.int64)",
    "lib.argwhere(lib.tensor([[0, 1], [1, 0]]))",
    "lib.heaviside(lib.tensor([-1.0, 0.0, 2.0]), lib.tensor(0.5))",
    "lib.signbit(lib.tensor([-0.0, 0.0, -2.0, 3.0]))",
    "lib.copysign(lib.tensor([1, 2]), lib.tensor([-1, 1]))",
    "lib.vander(lib.tensor([1.0, 2.0, 3.0]))",
    "lib.vander(lib.tensor([1, 2]), N=3, increasing=True)",
    "lib.aminmax(lib.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0)",
    "lib.aminmax(lib.tensor([[1.0, 5.0], [3.0, 2.0]]))",
    "lib.combinations(lib.tensor([1, 2]), with_replacement=True)",
    "lib.cartesian_prod(lib.tensor([1, 2]), lib.tensor([3, 4]))",
    "lib.block_diag(lib.ones(1, 2), lib.tensor(3.0), lib.tensor([4.0, 5.0]))",
    "lib.column_stack([lib.tensor([1, 2]), lib.tensor([[3], [4]])])",
    "lib.diff(lib.tensor([1, 4, 9, 16]), n=2)",
    "lib.diff(lib.tensor([True, True, False]))",
    "lib.nansum(lib.tensor([1.0, float('nan'), 2.0]))",
    "lib.nanmean(lib.tensor([[1.0, float('nan')], [3.0, 4.0]]), dim=1)",
    "lib.deg2rad(lib.tensor([180, 90]))",
    "lib.xlogy(lib.tensor([0.0, 0.0, 2.0]), lib.tensor([0.0, float('nan'), 3.0]))",
    "lib.sinc(lib.tensor([0.0, 0.5, -1.5]))",
    "lib.logcumsumexp(lib.tensor([0.0, 1000.0, 1000.0]), dim=0)",
    "lib.hsplit(lib.arange(6).reshape(2, 3), 3)",
    "lib.vsplit(lib.arange(8).reshape(4, 2), [1, 3])",
    "lib.cdist(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), lib.tensor([[3.0, 4.0]]))",
    "lib.trapezoid(lib.tensor([1.0, 2.0, 4.0]), lib.tensor([0.0, 1.0, 3.0]))",
    "lib.cumulative_trapezoid(lib.tensor([1.0, 2.0, 4.0]), dx=0.5)",
    "lib.broadcast_shapes((2, 1), (3,), (1, 1, 1))",
    "[lib.can_cast(lib.float32, lib.int32), lib.can_cast(lib.int64, lib.int8), lib.can_cast(lib.int8, lib.bool)]",
    "[lib.is_nonzero(lib.tensor([2])), lib.is_same_size(lib.ones(2), lib.ones(3)), lib.ones(1).is_signed()]",
    "repr(lib.finfo(lib.float32))",
    "repr(lib.finfo())",
    "[lib.finfo(lib.float16).eps, lib.finfo(lib.float64).max, lib.finfo(lib.float32).bits]",
    "repr(lib.iinfo(lib.int32))",
    "[lib.iinfo(lib.uint8).max, lib.iinfo(lib.int64).min]",
    "[lib.e, lib.pi, lib.inf, lib.newaxis]",
    "lib.range(1, 4)",
    "lib.range(0, 1, 0.25)",
    "lib.typename(lib.ones(1, dtype=lib.int64))",
    "lib.arange(7.0).unfold(0, 3, 2)",
    "lib.arange(12.0).reshape(3, 4).unfold(1, 2, 1)",
    "lib.zeros(3, 3).fill_diagonal_(5)",
    "lib.zeros(7, 3).fill_diagonal_(1, wrap=True)",
    "lib.zeros(2, 3).put_(lib.tensor([0, 5, -1]), lib.tensor([1.0, 2.0, 3.0]))",
    "lib.zeros(2, 3).put(lib.tensor([0, 0]), lib.tensor([1.0, 2.0]), accumulate=True)",
    "lib.zeros(2, dtype=lib.int32).new([1.5])",
    "lib.zeros(2).new(2, 3).shape",
    "[lib.ones(2, 3).nbytes, lib.ones(2, dtype=lib.float64).itemsize, lib.ones(1).is_cpu]",
    "lib.frexp(lib.tensor([8.0, -0.3, 0.0]))",
    "lib.gcd(lib.tensor([4, 6, 0]), lib.tensor([6, 9, 5]))",
    "lib.lcm(lib.tensor([4, 6]), lib.tensor([6, 9]))",
    "lib.nextafter(lib.tensor([1.0, 2.0]), lib.tensor([2.0, 1.0])) - lib.tensor([1.0, 2.0])",
    "lib.tensor([1.0, 2.0]).isreal()",
    "lib.arange(4.0).resize(2, 2)",
    "[lib.ones(1).is_mps, lib.ones(1).is_distributed()]",
    "lib.diagflat(lib.tensor([1.0, 2.0]), 1)",
    "lib.zeros(2, 2).new_empty_strided((2, 3), (3, 1)).shape",
    "lib.hann_window(5)",
    "lib.hann_window(6, periodic=False, dtype=lib.float64)",
    "lib.hamming_window(4, periodic=False)",
    "lib.blackman_window(5, dtype=lib.float64)",
    "lib.bartlett_window(5)",
    "lib.kaiser_window(4, dtype=lib.float64)",
    "[lib.hann_window(1), lib.hann_window(0)]",
    "lib.unravel_index(lib.tensor([4, 7, -1]), (2, 4))",
    "lib.histogram(lib.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0))",
    "lib.histogram(lib.tensor([1.0, 2.0, 1.0]), bins=lib.tensor([0.0, 1.0, 2.0, 3.0]))",
    "lib.asarray([1, 2])",
    "lib.empty_strided((2, 3), (3, 1)).shape",
    "repr(lib.channels_last)",
    "lib.dropout(lib.ones(3), 0.0, True)",
    "[lib.are_deterministic_algorithms_enabled(), lib.get_float32_matmul_precision(), lib.is_anomaly_enabled()]",
]


def _plain(value):
    """Something comparable across libraries: nested lists, dtype names, strings."""
    if (torch is not None and isinstance(value, torch.Tensor)) or isinstance(value, retrograd.Tensor):
        return ("tensor", str(value.dtype).split(".")[-1], value.tolist())
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return value.replace("retrograd.", "torch.")
    if isinstance(value, float) and np.isnan(value):
        return "nan"
    return value


def _evaluate(expression: str, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _plain(eval(expression, {"lib": lib}))


@needs_torch
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_matches_pytorch(expression):
    ours, theirs = _evaluate(expression, retrograd), _evaluate(expression, torch)
    if ours != theirs:  # floats may differ in the last bits
        flat_ours, flat_theirs = np.asarray(ours[2], float), np.asarray(theirs[2], float)
        assert ours[:2] == theirs[:2]
        np.testing.assert_allclose(flat_ours, flat_theirs, rtol=1e-6, atol=1e-7, equal_nan=True)


def test_searchsorted_and_bincount_without_pytorch():
    assert retrograd.searchsorted(retrograd.tensor([1, 3, 5]), retrograd.tensor([3, 4])).tolist() == [1, 2]
    assert retrograd.bincount(retrograd.tensor([0, 2, 2])).tolist() == [1, 0, 2]
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        retrograd.bincount(retrograd.tensor([-1, 2]))


def test_sinc_and_xlogy_gradients_at_their_removable_points():
    x = retrograd.tensor([0.0, 0.5], requires_grad=True)
    retrograd.sinc(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and x.grad[0].item() == 0.0
    a = retrograd.tensor([0.0, 2.0], requires_grad=True)
    b = retrograd.tensor([0.0, 3.0], requires_grad=True)
    retrograd.xlogy(a, b).sum().backward()
    # as PyTorch: d/da is 0 where a = 0 and b <= 0; d/db = a / b is 0/0 there
    np.testing.assert_array_equal(a.grad.numpy(), np.float32([0.0, np.log(3.0)]))
    np.testing.assert_array_equal(b.grad.numpy(), np.float32([np.nan, 2.0 / 3.0]))


def test_xlogy_records_pytorchs_three_nodes_and_their_zero_rules():
    nan = float("nan")
    x = retrograd.tensor([0.0, 0.0, 1.5], requires_grad=True)
    y = retrograd.tensor([nan, 2.0, 0.0], requires_grad=True)
    z = retrograd.xlogy(x, y)
    assert z.grad_fn.name() == "XlogyBackward0"
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.float32([nan, np.log(2.0), -np.inf]))
    for other, expected in ((nan, [0.0, nan]), (0.0, [0.0, -np.inf]), (2.0, [np.log(2.0)] * 2)):
        x = retrograd.tensor([0.0, 1.5], requires_grad=True)
        z = retrograd.xlogy(x, other)
        assert z.grad_fn.name() == "XlogyBackward2"
        z.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.float32(expected))
    y = retrograd.tensor([0.5, 2.0], requires_grad=True)
    z = retrograd.xlogy(3.0, y)
    assert z.grad_fn.name() == "XlogyBackward1"
    z.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 1.5])


def test_vander_and_unfold_gradients_match_finite_differences():
    x = retrograd.tensor([0.5, -1.2, 2.0], dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(lambda t: retrograd.vander(t, N=4), (x,))
    assert gradcheck(lambda t: t.unfold(0, 2, 1), (x,))
    assert gradcheck(lambda t: t.clone().put_(retrograd.tensor([0, 0]), t[1:] * 2, accumulate=True), (x,))


def test_in_place_function_forms_of_the_new_ops():
    x = retrograd.tensor([180.0])
    assert retrograd.deg2rad_(x) is x
    assert x.item() == pytest.approx(np.pi)


def test_range_warns_that_it_is_deprecated():
    with pytest.warns(UserWarning, match="range is deprecated"):
        assert retrograd.range(1, 3).tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("name", ["eig", "symeig", "lstsq", "solve", "matrix_rank"])
def test_functions_pytorch_removed_raise_as_in_pytorch(name):
    with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
        getattr(retrograd, name)(retrograd.eye(2))


def test_as_subclass_shares_the_data():
    class Tagged(retrograd.Tensor):
        pass

    x = retrograd.tensor([1.0, 2.0])
    tagged = x.as_subclass(Tagged)
    assert type(tagged) is Tagged
    tagged[0] = 5.0
    assert x.tolist() == [5.0, 2.0]


def test_runtime_settings_are_remembered():
    previous = retrograd.get_num_threads()
    retrograd.set_num_threads(3)
    assert retrograd.get_num_threads() == 3
    retrograd.set_num_threads(previous)
    retrograd.use_deterministic_algorithms(True, warn_only=True)
    assert retrograd.are_deterministic_algorithms_enabled() and retrograd.get_deterministic_debug_mode() == 1
    retrograd.use_deterministic_algorithms(False)
    with pytest.raises(RuntimeError, match="Invalid precision"):
        retrograd.set_float32_matmul_precision("low")
