"""Declared reductions (Operators v2): what the formulas select, save and read.

Each op's gradient for a NaN or Inf incoming gradient is compared with PyTorch (where it is
installed) in both modes of a formula: on arrays (plain backward) and on Tensors
(create_graph). Ties, zeros and repeated values are in the input on purpose.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrograd

try:
    import torch
except ImportError:  # pragma: no cover - the PyTorch cross-checks skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

_VALUES = [[1.0, 3.0, 3.0, -1.0], [2.0, 0.0, 0.0, 5.0], [4.0, 4.0, -2.0, 0.5]]
# Which of tied elements topk and kthvalue pick is unspecified in PyTorch: no ties for them.
_DISTINCT = [[1.0, 3.0, 2.5, -1.0], [2.0, 0.0, -0.5, 5.0], [4.0, 4.5, -2.0, 0.5]]
_DISTINCT_FOR = ("topk", "kthvalue")

# name -> the op as a function of a tensor (the same code runs on retrograd and on torch).
OPS = {
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(1),
    "sum_keepdim": lambda x: x.sum((0, 1), keepdim=True),
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(0),
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "max_dim": lambda x: x.max(1)[0],
    "min_dim_keepdim": lambda x: x.min(0, keepdim=True)[0],
    "amax": lambda x: x.amax(1),
    "amin_all": lambda x: x.amin(),
    "median": lambda x: x.median(),
    "median_dim": lambda x: x.median(1)[0],
    "sort": lambda x: x.sort(1)[0],
    "sort_descending": lambda x: x.sort(0, descending=True)[0],
    "topk": lambda x: x.topk(2)[0],
    "kthvalue": lambda x: x.kthvalue(2, 1)[0],
    "mode": lambda x: x.mode(1)[0],
    "cummax": lambda x: x.cummax(1)[0],
    "cummin": lambda x: x.cummin(0)[0],
    "var": lambda x: x.var(1),
    "var_all_correction0": lambda x: x.var(correction=0),
    "std": lambda x: x.std(0),
    "std_all": lambda x: x.std(),
    "logsumexp": lambda x: x.logsumexp(1),
    "norm": lambda x: x.norm(),
    "norm_1_dim": lambda x: x.norm(1, 1),
    "norm_inf": lambda x: x.norm(math.inf, 1),
    "norm_-inf": lambda x: x.norm(-math.inf),
    "norm_3": lambda x: x.norm(3, 0),
    "norm_half": lambda x: x.norm(0.5, 1),
    "prod": lambda x: x.prod(),
    "prod_one_zero": lambda x: x[0].prod(),
    "prod_dim": lambda x: x.prod(1),
    "prod_dim0_keepdim": lambda x: x.prod(0, keepdim=True),
    "cumsum": lambda x: x.cumsum(1),
    "cumprod": lambda x: x.cumprod(1),
    "cumprod_dim0": lambda x: x.cumprod(0),
}


def _input(library, values=_VALUES):
    return library.tensor(values, dtype=library.float64, requires_grad=True)


def _incoming(shape, fill: float, seed: int = 0) -> np.ndarray:
    grad = np.random.default_rng(seed).standard_normal(shape)
    grad.reshape(-1)[0] = fill  # one bad element among ordinary ones
    return grad


def _gradient(library, name, fill, create_graph, whole=False):
    op = OPS[name]
    x = _input(library, _DISTINCT if name in _DISTINCT_FOR else _VALUES)
    y = op(x)
    grad = np.full(tuple(y.shape), fill) if whole else _incoming(tuple(y.shape), fill)
    (result,) = library.autograd.grad(y, x, library.tensor(grad), create_graph=create_graph)
    return result.detach().numpy()


@needs_torch
@pytest.mark.parametrize("create_graph", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("whole", [False, True], ids=["one", "all"])
@pytest.mark.parametrize("fill", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_bad_incoming_gradient_reaches_what_pytorch_reaches(name, fill, whole, create_graph):
    ours = _gradient(retrograd, name, fill, create_graph, whole)
    theirs = _gradient(torch, name, fill, create_graph, whole)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OPS))
def test_both_modes_agree(name):
    first = _gradient(retrograd, name, 0.5, False)
    second = _gradient(retrograd, name, 0.5, True)
    np.testing.assert_allclose(first, second, rtol=1e-12)


@pytest.mark.parametrize("op", [lambda x: x.max(), lambda x: x.min(), lambda x: x.median(),
                                lambda x: x.max(1)[0], lambda x: x.sort(1)[0]],
                         ids=["max", "min", "median", "max_dim", "sort"])
def test_selecting_gradient_keeps_nan_at_the_picked_elements(op):
    x = _input(retrograd, [[1.0, 7.0], [7.0, 2.0]])
    y = op(x)
    (grad,) = retrograd.autograd.grad(y, x, retrograd.full(y.shape, math.nan, dtype=retrograd.float64))
    picked = grad.numpy() != 0
    assert np.isnan(grad.numpy()[picked]).all()
    assert (grad.numpy()[~picked] == 0).all()
    assert picked.sum() < 4 or op(x).shape == (2, 2)


def test_full_max_ties_share_the_gradient_and_nan_result_goes_to_nans():
    x = _input(retrograd, [1.0, 3.0, 3.0])
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]
    x = _input(retrograd, [math.nan, 3.0, math.nan])
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]


SAVED = {
    "sum": (lambda x: x.sum(), []),
    "sum_dim": (lambda x: x.sum(1), ["_saved_dim", "_saved_keepdim"]),
    "max": (lambda x: x.max(), ["_saved_result", "_saved_self"]),
    "max_dim": (lambda x: x.max(1), ["_saved_dim", "_saved_indices", "_saved_keepdim"]),
    "amax": (lambda x: x.amax(1), ["_saved_dim", "_saved_keepdim", "_saved_result", "_saved_self"]),
    "median": (lambda x: x.median(), ["_saved_result", "_saved_self"]),
    "sort": (lambda x: x.sort(1), ["_saved_dim", "_saved_indices"]),
    "topk": (lambda x: x.topk(2), ["_saved_dim", "_saved_indices"]),
    "kthvalue": (lambda x: x.kthvalue(2, 1), ["_saved_dim", "_saved_indices", "_saved_keepdim"]),
    "cummax": (lambda x: x.cummax(1), ["_saved_dim", "_saved_indices", "_saved_self"]),
    "var": (lambda x: x.var(1), ["_saved_correction", "_saved_dim", "_saved_keepdim", "_saved_self"]),
    "std": (lambda x: x.std(1), ["_saved_correction", "_saved_dim", "_saved_keepdim", "_saved_result",
                                 "_saved_self"]),
    "norm": (lambda x: x.norm(), ["_saved_dim", "_saved_keepdim", "_saved_ord", "_saved_result",
                                  "_saved_self"]),
    "logsumexp": (lambda x: x.logsumexp(1), ["_saved_dim", "_saved_keepdim", "_saved_result",
                                              "_saved_self"]),
    "prod": (lambda x: x.prod(), ["_saved_result", "_saved_self"]),
    "prod_dim": (lambda x: x.prod(1), ["_saved_dim", "_saved_keepdim", "_saved_result", "_saved_self"]),
    "cumsum": (lambda x: x.cumsum(1), ["_saved_dim"]),
    "cumprod": (lambda x: x.cumprod(1), ["_saved_dim", "_saved_result", "_saved_self"]),
}


def _saved_names(grad_fn) -> set[str]:
    return {name for name in dir(grad_fn) if name.startswith("_saved_") and "sym" not in name}


@pytest.mark.parametrize("name", sorted(SAVED))
def test_grad_fn_saves_what_pytorch_saves(name):
    op, expected = SAVED[name]
    y = op(_input(retrograd))
    y = y[0] if isinstance(y, tuple) else y
    assert set(expected) <= _saved_names(y.grad_fn)
    if torch is not None:
        reference = op(_input(torch))
        reference = reference[0] if isinstance(reference, tuple) else reference
        assert type(y.grad_fn).__name__ == type(reference.grad_fn).__name__
        assert set(expected) <= _saved_names(reference.grad_fn)


@pytest.mark.parametrize("op", [lambda x: x.sum(), lambda x: x.sum(0), lambda x: x.mean(1),
                                lambda x: x.max(1)[0], lambda x: x.sort(0)[0], lambda x: x.topk(1)[0]],
                         ids=["sum", "sum_dim", "mean", "max_dim", "sort", "topk"])
def test_changing_the_input_in_place_is_fine_when_its_value_is_not_needed(op):
    x = _input(retrograd)
    base = x * 1.0
    y = op(base)
    base.add_(1.0)
    y.sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize("op", [lambda x: x.max(), lambda x: x.amax(0), lambda x: x.median(),
                                lambda x: x.cummax(1)[0], lambda x: x.prod(1), lambda x: x.std(),
                                lambda x: x.logsumexp(0)],
                         ids=["max", "amax", "median", "cummax", "prod", "std", "logsumexp"])
def test_changing_an_input_that_is_needed_still_raises(op):
    base = _input(retrograd) * 1.0
    y = op(base)
    base.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@needs_torch
@pytest.mark.parametrize("create_graph", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("fill", [1.0, math.nan, math.inf], ids=["one", "nan", "inf"])
@pytest.mark.parametrize("op", ["std", "norm"])
def test_no_spread_gives_zero_gradient_as_pytorch(op, fill, create_graph):
    values = [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]] if op == "std" else [[0.0, 0.0, 0.0], [1.0, 2.0, 4.0]]

    def gradient(library, create_graph):
        x = library.tensor(values, dtype=library.float64, requires_grad=True)
        y = x.std(1) if op == "std" else x.norm(2, 1)
        grad = library.tensor([fill, 0.5], dtype=library.float64)
        return library.autograd.grad(y, x, grad, create_graph=create_graph)[0].detach().numpy()

    ours, theirs = gradient(retrograd, create_graph), gradient(torch, False)
    if op == "std" or fill == 1.0:  # PyTorch selects for std; the 2-norm multiplies by a mask
        assert (ours[0] == 0).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_std_at_no_spread_is_twice_differentiable_without_nan():
    x = retrograd.tensor([2.0, 2.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    (grad,) = retrograd.autograd.grad(x.std(), x, create_graph=True)
    (second,) = retrograd.autograd.grad(grad.sum(), x)
    assert not np.isnan(grad.detach().numpy()).any()
    assert not np.isnan(second.numpy()).any()


@needs_torch
@pytest.mark.parametrize("create_graph", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("fill", [1.0, math.nan, math.inf], ids=["one", "nan", "inf"])
@pytest.mark.parametrize("p", [2, 3, 1.5, 1, 0.5, math.inf, -math.inf])
def test_norm_of_a_zero_slice_matches_pytorch(p, fill, create_graph):
    def gradient(library, create_graph):
        x = library.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]], dtype=library.float64, requires_grad=True)
        grad = library.tensor([fill, fill], dtype=library.float64)
        return library.autograd.grad(x.norm(p, 1), x, grad, create_graph=create_graph)[0].detach().numpy()

    np.testing.assert_allclose(gradient(retrograd, create_graph), gradient(torch, False), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("create_graph", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("op", ["cumprod", "prod_dim", "prod"])
def test_products_with_zeros_match_pytorch_for_any_incoming_gradient(op, create_graph):
    rng = np.random.default_rng(7)
    for trial in range(40):
        values = rng.integers(-2, 3, size=(3, 5)).astype(float)  # zeros, often several per slice
        dim = trial % 2
        bad = [np.nan, np.inf, -np.inf, 1.0][trial % 4]
        results = []
        for library in (retrograd, torch):
            x = library.tensor(values, dtype=library.float64, requires_grad=True)
            y = x.cumprod(dim) if op == "cumprod" else x.prod(dim) if op == "prod_dim" else x.prod()
            grad = np.random.default_rng(trial).standard_normal(tuple(y.shape))
            grad.reshape(-1)[trial % grad.size] = bad
            (result,) = library.autograd.grad(y, x, library.tensor(grad), create_graph=create_graph)
            results.append(result.detach().numpy())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12, err_msg=str(values))


FILLS = {
    "zero_": lambda base, other: base.zero_(),
    "fill_number": lambda base, other: base.fill_(2.5),
    "fill_tensor": lambda base, other: base.fill_(other.sum()),
    "copy_": lambda base, other: base.copy_(other[0]),
}


@pytest.mark.parametrize("create_graph", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("name", sorted(FILLS))
def test_overwritten_values_get_zeros_even_for_a_nan_gradient(name, create_graph):
    def gradients(library):
        x = library.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=library.float64, requires_grad=True)
        other = library.tensor([[5.0, 6.0], [7.0, 8.0]], dtype=library.float64, requires_grad=True)
        result = FILLS[name](x * 1.0, other)
        grad = library.tensor([[math.nan, 1.0], [2.0, math.inf]], dtype=library.float64)
        found = library.autograd.grad(result, (x, other), grad, allow_unused=True, create_graph=create_graph)
        return [None if g is None else g.detach().numpy() for g in found]

    ours = gradients(retrograd)
    assert (ours[0] == 0).all()
    assert type(FILLS[name](_input(retrograd) * 1.0, _input(retrograd)).grad_fn).__name__ == {
        "zero_": "ZeroBackward0", "fill_number": "FillBackward2", "fill_tensor": "FillBackward3",
        "copy_": "CopyBackwards"}[name]
    if torch is not None:
        theirs = gradients(torch)
        for mine, reference in zip(ours, theirs):
            assert (mine is None) == (reference is None)
            if mine is not None:
                np.testing.assert_allclose(mine, reference)


@needs_torch
@pytest.mark.parametrize("create_graph", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("used", ["spread", "mean", "both"])
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_spread_and_mean_in_one_node_as_pytorch(name, used, create_graph):
    def gradient(library):
        x = library.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], dtype=library.float64, requires_grad=True)
        spread, mean = getattr(library, name)(x, 1)
        outputs = {"spread": [spread], "mean": [mean], "both": [spread, mean]}[used]
        grads = [library.tensor([math.nan, 0.5], dtype=library.float64)] * len(outputs)
        assert type(spread.grad_fn).__name__ == {"var_mean": "VarMeanBackward0",
                                                 "std_mean": "StdMeanBackward0"}[name]
        return library.autograd.grad(outputs, x, grads, create_graph=create_graph)[0].detach().numpy()

    np.testing.assert_allclose(gradient(retrograd), gradient(torch), rtol=1e-12)
