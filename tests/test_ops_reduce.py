"""Reductions: values, named results, ties and zeros in gradients, dtypes and errors.

The op-table matrix checks gradients on generic samples; here are ties (how PyTorch
shares or routes the gradient), zeros in products, NaN, large magnitudes and errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch
from retrograd.autograd import gradcheck, gradgradcheck


def _grads(library, function, *values):
    tensors = [library.tensor(value, dtype=library.float64, requires_grad=True) for value in values]
    output = function(library, *tensors)
    weights = library.tensor(np.arange(1, output.numel() + 1, dtype=np.float64).reshape(tuple(output.shape)))
    (output * weights).sum().backward()
    return output.detach().numpy(), [t.grad.numpy() for t in tensors]


def _same_as_torch(function, *values):
    torch = pytest.importorskip("torch")
    mine_value, mine_grads = _grads(retrograd, function, *values)
    their_value, their_grads = _grads(torch, function, *values)
    np.testing.assert_allclose(mine_value, their_value, rtol=1e-12, equal_nan=True)
    for mine, theirs in zip(mine_grads, their_grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-300, equal_nan=True)


# ---------------------------------------------------------------------------
# Ties, zeros and NaN in gradients, as PyTorch routes them


@pytest.mark.parametrize(
    ("name", "function", "value"),
    [
        ("max of all shares among ties", lambda lib, x: lib.max(x), [1.0, 3.0, 3.0]),
        ("min of all shares among ties", lambda lib, x: lib.min(x), [1.0, 1.0, 3.0]),
        ("amax shares among ties", lambda lib, x: lib.amax(x, 1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
        ("amin shares among ties", lambda lib, x: lib.amin(x, 0, keepdim=True), [[1.0, 3.0], [1.0, 0.0]]),
        ("max along a dim picks the first", lambda lib, x: lib.max(x, 1).values, [[1.0, 3.0, 3.0]]),
        ("min along a dim picks the first", lambda lib, x: lib.min(x, 0)[0], [1.0, 0.0, 0.0]),
        ("prod with one zero", lambda lib, x: lib.prod(x), [0.0, 2.0, 3.0]),
        ("prod with two zeros", lambda lib, x: lib.prod(x), [0.0, 2.0, 0.0]),
        ("prod along a dim with zeros", lambda lib, x: lib.prod(x, 1),
         [[0.0, 2.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]),
        ("cumprod with zeros", lambda lib, x: lib.cumprod(x, 0), [2.0, 0.0, 3.0, 0.0, 4.0]),
        ("cummax ties take the later index", lambda lib, x: lib.cummax(x, 0).values,
         [1.0, 3.0, 3.0, 2.0, 5.0]),
        ("cummin", lambda lib, x: lib.cummin(x, 0).values, [3.0, 1.0, 1.0, 2.0, 0.0]),
        ("norm at zero", lambda lib, x: lib.norm(x), [0.0, 0.0]),
        ("1-norm at zero", lambda lib, x: lib.norm(x, 1), [0.0, 1.0]),
        ("inf-norm ties", lambda lib, x: lib.norm(x, math.inf), [3.0, -3.0, 1.0]),
        ("mode routes to its last occurrence", lambda lib, x: lib.mode(x).values, [3.0, 1.0, 1.0, 2.0, 2.0]),
        ("median", lambda lib, x: lib.median(x), [1.0, 3.0, 4.0, 2.0]),
        ("logsumexp at large values", lambda lib, x: lib.logsumexp(x, 0), [1000.0, 1000.0, 999.0]),
        ("logsumexp of -inf", lambda lib, x: lib.logsumexp(x, 0), [-math.inf, 0.0]),
        ("std of constants", lambda lib, x: lib.std(x, 1), [[1.0, 2.0, 4.0], [5.0, 6.0, 9.0]]),
        ("sort descending", lambda lib, x: lib.sort(x, descending=True).values, [3.0, 1.0, 2.0]),
        ("topk smallest", lambda lib, x: lib.topk(x, 2, largest=False).values, [3.0, 1.0, 2.0, 0.5]),
    ],
)
def test_gradient_routing_matches_pytorch(name, function, value):
    _same_as_torch(function, value)


def test_prod_gradient_with_zeros_is_twice_differentiable():
    x = retrograd.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5]], dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(lambda x: retrograd.prod(x, 1), (x,))
    assert gradgradcheck(lambda x: retrograd.prod(x, 1), (x,))
    assert gradgradcheck(lambda x: retrograd.prod(x), (x,))


def test_cumprod_gradient_with_zeros_is_twice_differentiable():
    x = retrograd.tensor([[2.0, 0.0, 3.0], [0.0, 1.5, 0.0]], dtype=retrograd.float64, requires_grad=True)
    assert gradcheck(lambda x: retrograd.cumprod(x, 1), (x,))
    assert gradgradcheck(lambda x: retrograd.cumprod(x, 1), (x,))


def test_second_derivative_of_prod_with_zeros_matches_pytorch():
    torch = pytest.importorskip("torch")

    def hessian_row(library):
        x = library.tensor([0.0, 2.0, 3.0, 0.5], dtype=library.float64, requires_grad=True)
        (grad,) = library.autograd.grad(library.prod(x), x, create_graph=True)
        (row,) = library.autograd.grad(grad.select(0, 0), x)
        return row.numpy()

    np.testing.assert_allclose(hessian_row(retrograd), hessian_row(torch), rtol=1e-12)


def test_value_selecting_ops_are_twice_differentiable():
    x = retrograd.tensor([[0.3, -1.2, 2.0, 0.7], [1.1, 0.2, -0.5, 0.9]], dtype=retrograd.float64,
                         requires_grad=True)
    for function in (
        lambda x: retrograd.sort(x, 1).values ** 2,
        lambda x: retrograd.topk(x, 2).values ** 2,
        lambda x: retrograd.max(x, 0).values ** 2,
        lambda x: retrograd.cummax(x, 1).values ** 2,
    ):
        assert gradgradcheck(function, (x,))


# ---------------------------------------------------------------------------
# Named results and index outputs


def test_max_along_a_dim_returns_a_named_tuple():
    values, indices = retrograd.max(retrograd.tensor([[1.0, 5.0, 5.0], [2.0, 2.0, 0.0]]), 1, keepdim=True)
    assert values.tolist() == [[5.0], [2.0]]
    assert indices.tolist() == [[1], [0]]
    result = retrograd.tensor([1.0, 3.0]).max(0)
    assert result.values.item() == 3.0 and result.indices.item() == 1
    assert repr(result).startswith("retrograd.return_types.max(\nvalues=tensor(3.),\nindices=tensor(1))")


def test_indices_are_not_differentiable():
    x = retrograd.tensor([1.0, 3.0], requires_grad=True)
    values, indices = x.max(0)
    assert values.requires_grad and values.grad_fn.name() == "MaxBackward0"
    assert not indices.requires_grad and indices.grad_fn is None
    assert indices.dtype is retrograd.int64


def test_max_with_a_tensor_is_the_elementwise_maximum():
    assert retrograd.max(retrograd.tensor([1.0, 4.0]), retrograd.tensor([2.0, 3.0])).tolist() == [2.0, 4.0]
    assert retrograd.tensor([1.0, 4.0]).min(retrograd.tensor([2.0, 3.0])).tolist() == [1.0, 3.0]


def test_grad_fn_names_match_pytorch():
    x = retrograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    names = {
        "MaxBackward1": x.max(), "AmaxBackward0": x.amax(), "ProdBackward0": x.prod(),
        "ProdBackward1": x.prod(0), "VarBackward0": x.var(), "StdBackward0": x.std(),
        "LogsumexpBackward0": x.logsumexp(0), "CumsumBackward0": x.cumsum(0),
        "CumprodBackward0": x.cumprod(0), "SortBackward0": x.sort().values,
        "TopkBackward0": x.topk(2).values, "MedianBackward0": x.median(),
        "MedianBackward1": x.median(0).values, "KthvalueBackward0": x.kthvalue(1).values,
        "ModeBackward0": x.mode().values, "CummaxBackward0": x.cummax(0).values,
        "LinalgVectorNormBackward0": x.norm(),
    }
    for name, result in names.items():
        assert result.grad_fn.name() == name


def test_orderings_match_pytorch_including_ties_and_nan():
    torch = pytest.importorskip("torch")
    nan = math.nan
    cases = [
        ("sort", [3.0, 1.0, 1.0, 2.0], {}),
        ("sort", [3.0, 1.0, 1.0, 2.0], {"descending": True}),
        ("sort", [1.0, nan, 3.0], {"descending": True}),
        ("sort", [1.0, nan, 3.0], {}),
        ("topk", [3.0, 1.0, 1.0, 2.0, 2.0], {"k": 3}),
        ("topk", [3.0, 1.0, 1.0, 2.0, 2.0], {"k": 3, "largest": False}),
        ("topk", [1.0, nan, 3.0], {"k": 2}),
        ("max", [[1.0, nan, 3.0]], {"dim": 1}),
        ("median", [[3.0, 1.0, 2.0, 4.0]], {"dim": 1}),
        ("mode", [[1.0, 2.0, 2.0, 3.0, 3.0], [4.0, 4.0, 4.0, 1.0, 1.0]], {"dim": 1}),
        ("cummax", [1.0, 3.0, 3.0, 2.0, 5.0], {"dim": 0}),
        ("cummin", [3.0, 1.0, 1.0, 2.0, 0.0], {"dim": 0}),
        ("kthvalue", [[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], {"k": 2, "dim": 1, "keepdim": True}),
    ]
    for name, value, options in cases:
        mine = getattr(retrograd, name)(retrograd.tensor(value), **options)
        theirs = getattr(torch, name)(torch.tensor(value), **options)
        np.testing.assert_array_equal(mine.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(mine.indices.numpy(), theirs.indices.numpy())


def test_sort_of_integers_descending():
    result = retrograd.sort(retrograd.tensor([3, 1, 2], dtype=retrograd.uint8), descending=True)
    assert result.values.tolist() == [3, 2, 1] and result.indices.tolist() == [0, 2, 1]
    assert retrograd.argsort(retrograd.tensor([3, 1, 2]), descending=True).tolist() == [0, 2, 1]


def test_argmax_and_argmin():
    x = retrograd.tensor([[1.0, 3.0], [3.0, 0.0]])
    assert retrograd.argmax(x).item() == 1
    assert x.argmax(1, keepdim=True).tolist() == [[1], [0]]
    assert x.argmin(0).tolist() == [0, 1]
    assert retrograd.argmax(x, keepdim=True).shape == (1, 1)
    assert retrograd.argmax(retrograd.tensor([1.0, math.nan, 3.0])).item() == 1


def test_zero_dim_tensors_reduce_along_dim_zero():
    x = retrograd.tensor(3.0)
    assert x.max(0).values.item() == 3.0 and x.max(0).indices.item() == 0
    assert x.sort().values.item() == 3.0
    assert x.cumsum(0).item() == 3.0
    assert x.argmax(0).shape == ()


# ---------------------------------------------------------------------------
# Values and dtypes


def test_var_and_std_options():
    x = retrograd.tensor([[1.0, 5.0, 5.0], [2.0, 2.0, 0.0]])
    np.testing.assert_allclose(retrograd.var(x, 1, unbiased=False).numpy(), [32 / 9, 8 / 9], rtol=1e-6)
    np.testing.assert_allclose(retrograd.var(x, False).item(), np.var(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(x.var(correction=0).item(), np.var(x.numpy()), rtol=1e-6)
    assert retrograd.std(x, 0, True, True).shape == (1, 3)
    variance, average = retrograd.var_mean(x, 1)
    np.testing.assert_allclose(average.numpy(), [11 / 3, 4 / 3], rtol=1e-6)
    np.testing.assert_allclose(variance.numpy(), np.var(x.numpy(), axis=1, ddof=1), rtol=1e-6)
    deviation, _ = retrograd.std_mean(x)
    np.testing.assert_allclose(deviation.item(), np.std(x.numpy(), ddof=1), rtol=1e-6)


def test_var_has_no_cancellation_for_large_offsets():
    x = retrograd.tensor([1e9 + 1, 1e9 + 2, 1e9 + 3], dtype=retrograd.float64)
    assert x.var().item() == 1.0


def test_var_of_one_element_is_nan_with_a_warning():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert math.isnan(retrograd.var(retrograd.tensor([1.0])).item())


def test_norm_is_stable_and_matches_closed_forms():
    x = retrograd.tensor([3.0, -4.0])
    assert x.norm().item() == 5.0
    assert x.norm(1).item() == 7.0
    assert x.norm(math.inf).item() == 4.0
    assert x.norm(-math.inf).item() == 3.0
    assert x.norm(0).item() == 2.0
    assert x.norm(3).item() == pytest.approx((27 + 64) ** (1 / 3))
    assert retrograd.tensor([3e30, 4e30]).norm().item() == pytest.approx(5e30)
    rows = retrograd.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert retrograd.norm(rows, dim=1, keepdim=True).tolist() == [[5.0], [0.0]]


def test_logsumexp_does_not_overflow():
    x = retrograd.tensor([1e4, 1e4])
    assert x.logsumexp(0).item() == pytest.approx(1e4 + math.log(2))
    assert retrograd.logsumexp(retrograd.tensor([1, 2]), 0).dtype is retrograd.float32
    assert retrograd.logsumexp(retrograd.tensor([-math.inf, -math.inf]), 0).item() == -math.inf


def test_integer_accumulation_dtypes():
    assert retrograd.prod(retrograd.tensor([True, True])).dtype is retrograd.int64
    assert retrograd.cumsum(retrograd.tensor([True, True]), 0).tolist() == [1, 2]
    assert retrograd.cumprod(retrograd.tensor([1, 2, 3], dtype=retrograd.int32), 0).dtype is retrograd.int64
    assert retrograd.cumsum(retrograd.tensor([1, 2]), 0, dtype=retrograd.float64).dtype is retrograd.float64


def test_all_any_count_nonzero():
    x = retrograd.tensor([[1, 0], [1, 1]])
    assert retrograd.all(x, 1).tolist() == [False, True]
    assert x.any().item() is True
    assert retrograd.any(retrograd.tensor([]).bool()).item() is False
    assert retrograd.all(retrograd.tensor([1, 0], dtype=retrograd.uint8)).dtype is retrograd.uint8
    assert retrograd.count_nonzero(retrograd.tensor([[1.0, 0.0], [2.0, 3.0]]), 0).tolist() == [2, 1]
    assert retrograd.count_nonzero(x).item() == 3


def test_cumsum_in_place():
    x = retrograd.tensor([1.0, 2.0, 3.0])
    x.cumsum_(0)
    assert x.tolist() == [1.0, 3.0, 6.0]


def test_reductions_match_pytorch_on_float32():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    mine, theirs = retrograd.tensor(values), torch.tensor(values)
    for name, args in [("prod", (1,)), ("var", (0,)), ("std", ()), ("norm", ()), ("logsumexp", (1,)),
                       ("cumsum", (1,)), ("cumprod", (0,)), ("amax", (1,)), ("median", ())]:
        ours = getattr(mine, name)(*args)
        reference = getattr(theirs, name)(*args)
        assert ours.dtype.name == str(reference.dtype).split(".")[1]
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=2e-6, atol=1e-6)


# ---------------------------------------------------------------------------
# Errors


def test_reducing_an_empty_tensor_without_a_dim():
    empty = retrograd.tensor([])
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified for input"):
        empty.max()
    with pytest.raises(IndexError, match="argmax\\(\\): Expected reduction dim to be specified"):
        empty.argmax()
    with pytest.raises(RuntimeError, match="amax\\(\\): Expected reduction dim to be specified"):
        empty.amax()
    with pytest.raises(IndexError, match="mode\\(\\): Expected reduction dim 0 to have non-zero size"):
        empty.mode()


def test_k_out_of_range():
    x = retrograd.ones(3)
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range for dimension 0"):
        x.kthvalue(5)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(5)


def test_bad_dims():
    x = retrograd.ones(2, 3)
    with pytest.raises(IndexError, match=r"out of range \(expected to be in range of \[-2, 1\], but got 3\)"):
        x.sort(3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.max(-3)
    with pytest.raises(TypeError, match="prod\\(\\): argument 'dim' \\(position 2\\) must be int, not tuple"):
        x.prod((0,))


def test_var_and_norm_refuse_integers():
    with pytest.raises(RuntimeError, match="std and var only support floating point and complex dtypes"):
        retrograd.var(retrograd.tensor([1, 2]))
    with pytest.raises(RuntimeError, match=r"floating point or complex tensor as input\. Got Long"):
        retrograd.norm(retrograd.tensor([1, 2]))


def test_var_refuses_unbiased_with_correction():
    with pytest.raises(TypeError, match="unbiased"):
        retrograd.var(retrograd.ones(2), unbiased=True, correction=1)


NAN = float("nan")
WITH_NANS = [[1.0, NAN, 3.0, 2.0], [NAN, 7.0, NAN, NAN], [3.0, NAN, 1.0, 2.0], [5.0, 4.0, NAN, NAN]]


def test_nanmedian_ignores_nans_and_gives_the_lower_median():
    x = retrograd.tensor(WITH_NANS, requires_grad=True)
    whole = retrograd.nanmedian(x)
    assert whole.item() == 3.0 and type(whole.grad_fn).__name__ == "NanmedianBackward0"
    whole.backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.5, 0.0], [0.0] * 4, [0.5, 0.0, 0.0, 0.0], [0.0] * 4]
    values, indices = x.nanmedian(1)
    assert values.tolist() == [2.0, 7.0, 2.0, 4.0] and indices.tolist() == [3, 1, 3, 1]
    assert type(values.grad_fn).__name__ == "NanmedianBackward1"
    kept = retrograd.nanmedian(x, 0, keepdim=True)
    assert kept.values.shape == (1, 4) and type(kept).__name__ == "nanmedian"


def test_nanmedian_of_nans_only_is_nan_and_of_nothing_is_nan():
    assert math.isnan(retrograd.nanmedian(retrograd.tensor([NAN, NAN])).item())
    assert math.isnan(retrograd.nanmedian(retrograd.tensor([NAN, NAN]), 0).values.item())
    assert math.isnan(retrograd.nanmedian(retrograd.tensor([])).item())
    assert retrograd.nanmedian(retrograd.zeros(2, 0), 0).values.shape == (0,)
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        retrograd.nanmedian(retrograd.zeros(2, 0), 1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        retrograd.nanmedian(retrograd.tensor([True]))
    assert retrograd.nanmedian(retrograd.tensor([4, 1, 3, 2])).item() == 2


@needs_torch
@pytest.mark.parametrize("options", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1}])
def test_nanmedian_values_indices_and_gradients_are_pytorchs(options):
    import torch

    results = []
    for library in (retrograd, torch):
        x = library.tensor(WITH_NANS, dtype=library.float64, requires_grad=True)
        result = library.nanmedian(x, **options)
        values = result if not options else result.values
        (values * library.arange(1.0, values.numel() + 1, dtype=library.float64).reshape(values.shape)).sum().backward()
        indices = None if not options else result.indices.tolist()
        results.append((values.tolist(), indices, x.grad.tolist()))
    assert results[0] == results[1]
