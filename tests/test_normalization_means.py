"""The normalisations' means and variances computed with fewer NumPy calls (Note [Means as
NumPy computes them]) are NumPy's `mean` and `var` to the bit: forward values and every
gradient, of layer norm and of the norms that share its array helpers."""

import numpy as np
import pytest

import retrograd as torch
import retrograd.nn.functional as F
from bitwise import assert_same_bits
from retrograd.ops.nn import normalization


def _run(op, inputs):
    leaves = [x.detach().requires_grad_() for x in inputs]
    result = op(*leaves)
    grad = torch.linspace(-3, 2, result.numel()).reshape(result.shape).to(result.dtype)
    result.backward(grad)
    return [result.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves]


def _with_numpys_methods(monkeypatch, op, inputs):
    with monkeypatch.context() as patch:
        patch.setattr(normalization, "_SUMMED_AS_IS", ())
        return _run(op, inputs)


def _inputs(dtype, *shapes, special=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(dtype) * (10.0 if i == 0 else 1.0)
              for i, shape in enumerate(shapes)]
    if special:
        arrays[0].reshape(-1)[::7] = np.nan
        arrays[0].reshape(-1)[3::11] = np.inf
        arrays[0].reshape(-1)[5::13] = 1e30
    return [torch.tensor(a) for a in arrays]


CASES = {
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (5,), w, b), [(3, 4, 5), (5,), (5,)]),
    "layer_norm_2d": (lambda x, w, b: F.layer_norm(x, (4, 5), w, b), [(3, 4, 5), (4, 5), (4, 5)]),
    "layer_norm_plain": (lambda x: F.layer_norm(x, [5]), [(2, 5)]),
    "layer_norm_transposed": (lambda x, w: F.layer_norm(x.transpose(0, 1), (3,), w), [(3, 4), (3,)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(5, 3, 2), (3,), (3,)]),
    "instance_norm": (lambda x: F.instance_norm(x), [(2, 3, 6)]),
}


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("case", CASES)
def test_means_are_numpys(monkeypatch, case, dtype, special):
    op, shapes = CASES[case]
    inputs = _inputs(dtype, *shapes, special=special)
    assert_same_bits(_run(op, inputs), _with_numpys_methods(monkeypatch, op, inputs))


@pytest.mark.parametrize("case", ["layer_norm", "group_norm"])
def test_count_past_float32s_exact_integers_divides_as_numpy(monkeypatch, case):
    op, shapes = CASES[case]
    inputs = _inputs(np.float32, *shapes, seed=3)
    with monkeypatch.context() as patch:
        patch.setattr(normalization, "_EXACT_COUNTS", 0)  # (as a count above 2**24 goes)
        divided_as_numpy = _run(op, inputs)
    assert_same_bits(divided_as_numpy, _with_numpys_methods(monkeypatch, op, inputs))
    assert_same_bits(_run(op, inputs), divided_as_numpy)


def test_empty_input_keeps_numpys_methods():
    x = torch.zeros(0, 4, requires_grad=True)
    assert F.layer_norm(x, (4,)).shape == (0, 4)
