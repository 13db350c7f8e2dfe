"""quantile and nanquantile: values against NumPy's closed forms, NaN handling, shapes, errors,
out=, gradients (closed form, gradcheck including q) and PyTorch's graph (Note [quantile is
composite]). The gradient matrix (test_op_table) covers the samples of tests/op_samples.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck

MODES = ["linear", "lower", "higher", "midpoint", "nearest"]
DATA = np.random.default_rng(3).standard_normal((4, 7))


def _t(values, **options):
    return retrograd.tensor(np.asarray(values, dtype=np.float64), **options)


@pytest.mark.parametrize("mode", MODES)
def test_values_are_numpys_quantiles(mode):
    q = [0.0, 0.125, 0.3, 0.5, 0.75, 1.0]
    result = retrograd.quantile(_t(DATA), _t(q), dim=1, interpolation=mode)
    expected = np.quantile(DATA, q, axis=1, method=mode)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-15, atol=1e-15)


def test_nearest_rounds_a_half_rank_to_even():
    # 5 values: q = 0.125 and 0.375 put the rank at 0.5 and 1.5, which round to 0 and 2.
    values = _t([10.0, 20.0, 30.0, 40.0, 50.0])
    assert retrograd.quantile(values, _t([0.125, 0.375]), interpolation="nearest").tolist() == [10.0, 30.0]


def test_midpoint_is_halfway_between_the_neighbours():
    assert retrograd.quantile(_t([1.0, 2.0, 4.0, 8.0]), 0.4, interpolation="midpoint").item() == 3.0


def test_whole_tensor_and_q_axis_first():
    x = _t(DATA)
    assert retrograd.quantile(x, 0.5).shape == ()
    assert retrograd.quantile(x, 0.5, keepdim=True).shape == (1, 1)
    assert retrograd.quantile(x, _t([0.1, 0.9]), dim=0).shape == (2, 7)
    assert retrograd.quantile(x, _t([0.1, 0.9]), dim=0, keepdim=True).shape == (2, 1, 7)
    assert retrograd.quantile(x, _t(0.5), dim=-1).shape == (4,)
    assert retrograd.quantile(x, _t([]), dim=1).shape == (0, 4)
    np.testing.assert_allclose(retrograd.quantile(x, 0.5).item(), np.median(DATA), rtol=1e-15)


def test_methods_and_float32():
    x = retrograd.tensor(DATA, dtype=retrograd.float32)
    result = x.quantile(0.25, dim=1)
    assert result.dtype is retrograd.float32
    np.testing.assert_allclose(result.numpy(), np.quantile(DATA.astype(np.float32), 0.25, axis=1), rtol=1e-6)
    assert x.nanquantile(0.25, 1).dtype is retrograd.float32


def test_a_nan_makes_quantile_nan_and_nanquantile_skips_it():
    values = _t([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4, [4.0, 1.0, 2.0, 3.0]])
    assert np.isnan(retrograd.quantile(values, 0.5, dim=1).numpy()).tolist() == [True, True, False]
    skipped = retrograd.nanquantile(values, 0.5, dim=1).numpy()
    np.testing.assert_array_equal(skipped, [2.0, np.nan, 2.5])


def test_gradient_goes_to_the_two_neighbours_with_the_interpolation_weights():
    x = _t([5.0, 1.0, 4.0, 2.0, 3.0], requires_grad=True)
    retrograd.quantile(x, 0.3).backward()  # rank 0.3 * 4 = 1.2: between 2.0 (weight 0.8) and 3.0 (0.2)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.0, 0.8, 0.2], rtol=1e-14)


def test_gradient_reaches_q_as_the_slope_between_neighbours():
    x = _t([5.0, 1.0, 4.0, 2.0, 3.0])
    q = _t([0.3, 0.6], requires_grad=True)
    retrograd.quantile(x, q).sum().backward()
    # d/dq of a + (b - a)·(q·4 - floor(q·4)) is (b - a)·4; the neighbours differ by 1.
    np.testing.assert_allclose(q.grad.numpy(), [4.0, 4.0], rtol=1e-14)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_gradcheck_in_input_and_q(name, mode):
    x = _t(DATA[:, :5], requires_grad=True)
    q = _t([0.3, 0.55], requires_grad=True)
    function = getattr(retrograd, name)
    assert gradcheck(lambda x, q: function(x, q, dim=1, interpolation=mode), (x, q))


def test_out_takes_the_result_and_must_have_the_input_dtype():
    out = retrograd.empty(0, dtype=retrograd.float64)
    assert retrograd.quantile(_t(DATA), 0.5, dim=1, out=out) is out
    np.testing.assert_allclose(out.numpy(), np.quantile(DATA, 0.5, axis=1), rtol=1e-15)
    with pytest.raises(RuntimeError, match="out tensor must be same dtype as the input tensor"):
        retrograd.nanquantile(_t(DATA), 0.5, out=retrograd.empty(0))


BAD_CALLS = {
    "integer input": lambda lib: lib.quantile(lib.arange(4), 0.5),
    "q above 1": lambda lib: lib.quantile(lib.ones(3), 1.5),
    "q below 0": lambda lib: lib.nanquantile(lib.ones(3), -0.1),
    "q is nan": lambda lib: lib.quantile(lib.ones(3), float("nan")),
    "q tensor out of range": lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.2, 1.5])),
    "q of another dtype": lambda lib: lib.quantile(lib.ones(3), lib.tensor([0.5], dtype=lib.float64)),
    "q of two dims": lambda lib: lib.quantile(lib.ones(3), lib.tensor([[0.5]])),
    "unknown interpolation": lambda lib: lib.quantile(lib.ones(3), 0.5, interpolation="cubic"),
    "empty input": lambda lib: lib.quantile(lib.ones(0, 3), 0.5, dim=1),
    "dim out of range": lambda lib: lib.quantile(lib.ones(2, 3), 0.5, dim=2),
    "half input": lambda lib: lib.quantile(lib.ones(3, dtype=lib.float16), 0.5),
    "out of another dtype": lambda lib: lib.quantile(lib.ones(3), 0.5, out=lib.empty(0, dtype=lib.float64)),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_is_refused_with_an_error(case):
    with pytest.raises((RuntimeError, IndexError)):
        BAD_CALLS[case](retrograd)


@needs_torch
@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_errors_are_pytorchs(case):
    with pytest.raises(Exception) as theirs:
        BAD_CALLS[case](torch)
    with pytest.raises(type(theirs.value)) as ours:
        BAD_CALLS[case](retrograd)
    assert str(ours.value).replace("retrograd", "torch") == str(theirs.value)


def _chain(node) -> list[str]:
    names = []
    while node is not None:
        names.append(node.name())
        parents = [parent for parent, _ in node.next_functions if parent is not None]
        node = parents[0] if parents else None
    return names


@needs_torch
@pytest.mark.parametrize("mode", ["linear", "nearest"])
@pytest.mark.parametrize(("dim", "q"), [(None, 0.3), (1, 0.3), (1, [0.2, 0.7]), (None, [0.4])])
def test_graph_is_pytorchs(dim, q, mode):
    def run(lib):
        x = lib.tensor(DATA, requires_grad=True)
        q_value = lib.tensor(q, dtype=lib.float64) if isinstance(q, list) else q
        return _chain(lib.quantile(x, q_value, dim=dim, interpolation=mode).grad_fn)

    assert run(retrograd) == run(torch)


@needs_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_float32_values_and_gradients_match_pytorch(name, mode):
    data = np.random.default_rng(5).standard_normal((3, 6, 5)).astype(np.float32)
    data[0, 2, 1] = np.nan
    grads = []
    for lib in (retrograd, torch):
        x = lib.tensor(data, requires_grad=True)
        y = getattr(lib, name)(x, lib.tensor([0.1, 0.5, 0.95]), dim=1, keepdim=True, interpolation=mode)
        y.backward(lib.ones_like(y))
        grads.append((y.detach().numpy(), x.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = grads
    # Equal but for the last bit of lerp (PyTorch's kernel fuses a multiply-add).
    np.testing.assert_allclose(ours, theirs, rtol=2e-7, atol=0)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-6)
