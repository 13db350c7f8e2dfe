"""Numerical edge cases, matched against PyTorch.

Derivatives at kinks and ties (which subgradient), functions at the edge of their domain
(sqrt and log at 0), stable softmax-like functions at extreme logits, and float32 results
of every op in the table within PyTorch's float32 tolerance of float64 references.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from op_samples import samples_for
from retrograd.ops import table

INF = float("inf")


def _run(lib, function, arrays, dtype):
    inputs = [lib.tensor(np.asarray(array), dtype=getattr(lib, dtype), requires_grad=True) for array in arrays]
    out = function(lib, *inputs)
    outs = out if isinstance(out, tuple) else (out,)
    floating = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
    weights = np.random.default_rng(0)
    total = sum((o * lib.tensor(weights.uniform(0.5, 1.5, tuple(o.shape)), dtype=o.dtype)).sum() for o in floating)
    grads = lib.autograd.grad(total, inputs, allow_unused=True)
    values = [o.detach().numpy() for o in outs]
    return values, [None if g is None else g.numpy() for g in grads]


def assert_matches_pytorch(function, *arrays, dtype="float64", rtol=1e-12, atol=0.0):
    """Values and gradients of `function(lib, *inputs)` agree with PyTorch's, infs and NaNs included."""
    ours = _run(retrograd, function, arrays, dtype)
    theirs = _run(torch, function, arrays, dtype)
    for mine, reference in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        if reference is None:
            assert mine is None or not mine.any()
            continue
        assert mine.dtype == reference.dtype
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol, equal_nan=True)


KINKS = {
    "relu_at_0": (lambda lib, x: lib.relu(x), [[-1.0, 0.0, 1.0]]),
    "abs_at_0": (lambda lib, x: x.abs(), [[-1.0, 0.0, 1.0]]),
    "sign_at_0": (lambda lib, x: x.sign(), [[-1.0, 0.0, 1.0]]),
    "clamp_at_both_bounds": (lambda lib, x: x.clamp(0.0, 1.0), [[-0.5, 0.0, 0.5, 1.0, 1.5]]),
    "clamp_min_only": (lambda lib, x: x.clamp(min=0.0), [[-0.5, 0.0, 0.5]]),
    "clamp_tensor_bounds": (lambda lib, x, lo: x.clamp(min=lo), [[0.0, 1.0, 2.0], [0.0, 1.5, 2.0]]),
    "max_all_ties": (lambda lib, x: x.max(), [[1.0, 3.0, 3.0, 3.0]]),
    "min_all_ties": (lambda lib, x: x.min(), [[2.0, 1.0, 1.0]]),
    "max_dim_ties": (lambda lib, x: x.max(dim=1), [[[3.0, 3.0, 1.0], [2.0, 5.0, 5.0]]]),
    "amax_ties": (lambda lib, x: x.amax(dim=1), [[[3.0, 3.0, 1.0], [5.0, 5.0, 5.0]]]),
    "amin_ties_several_dims": (lambda lib, x: x.amin(dim=(0, 1)), [[[1.0, 1.0], [2.0, 1.0]]]),
    "maximum_ties": (lambda lib, a, b: lib.maximum(a, b), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]]),
    "minimum_ties": (lambda lib, a, b: lib.minimum(a, b), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]]),
    "fmax_ties": (lambda lib, a, b: lib.fmax(a, b), [[1.0, 2.0], [1.0, 0.0]]),
    "median_ties": (lambda lib, x: x.median(), [[1.0, 2.0, 2.0, 2.0, 3.0]]),
    "sort_ties": (lambda lib, x: x.sort(stable=True)[0], [[2.0, 1.0, 2.0, 1.0]]),
    "hardtanh_at_bounds": (lambda lib, x: lib.nn.functional.hardtanh(x), [[-1.0, 1.0, 0.0, -2.0]]),
    "relu6_at_bounds": (lambda lib, x: lib.nn.functional.relu6(x), [[0.0, 6.0, 3.0]]),
    "leaky_relu_at_0": (lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1), [[0.0, -1.0]]),
    "hardsigmoid_at_bounds": (lambda lib, x: lib.nn.functional.hardsigmoid(x), [[-3.0, 3.0, 0.0]]),
    "hardswish_at_bounds": (lambda lib, x: lib.nn.functional.hardswish(x), [[-3.0, 3.0, 0.0]]),
    "l1_loss_at_0": (lambda lib, a, b: lib.nn.functional.l1_loss(a, b), [[1.0, 2.0], [1.0, 3.0]]),
    "smooth_l1_at_beta": (lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b, beta=1.0), [[1.0, 0.0], [0.0, 0.0]]),
    "huber_at_delta": (lambda lib, a, b: lib.nn.functional.huber_loss(a, b, delta=1.0), [[1.0, -1.0], [0.0, 0.0]]),
    "vector_norm_at_0": (lambda lib, x: lib.linalg.vector_norm(x), [[0.0, 0.0, 0.0]]),
    "norm_at_0": (lambda lib, x: x.norm(), [[0.0, 0.0]]),
    "pow_0_at_0": (lambda lib, x: x**0.0, [[0.0, 1.0]]),
    "pow_2_at_0": (lambda lib, x: x**2.0, [[0.0, -1.0]]),
    "floor_and_round_are_flat": (lambda lib, x: x.floor() + x.round(), [[0.5, 1.0, -1.5]]),
    "where_with_a_nan_branch_unselected": (lambda lib, x: lib.where(x > 0, x, x * 2), [[1.0, -1.0, 0.0]]),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(KINKS))
def test_derivative_at_a_kink_matches_pytorch(name):
    function, arrays = KINKS[name]
    assert_matches_pytorch(function, *arrays)


DOMAIN_EDGES = {
    "sqrt_at_0": (lambda lib, x: x.sqrt(), [[0.0, 1.0]]),
    "rsqrt_at_0": (lambda lib, x: x.rsqrt(), [[0.0, 4.0]]),
    "log_at_0": (lambda lib, x: x.log(), [[0.0, 1.0]]),
    "log2_and_log10_at_0": (lambda lib, x: x.log2() + x.log10(), [[0.0, 2.0]]),
    "log1p_at_minus_1": (lambda lib, x: x.log1p(), [[-1.0, 0.0]]),
    "log_of_negative_is_nan": (lambda lib, x: x.log(), [[-1.0]]),
    "sqrt_of_negative_is_nan": (lambda lib, x: x.sqrt(), [[-1.0]]),
    "pow_half_at_0": (lambda lib, x: x**0.5, [[0.0, 1.0]]),
    "pow_negative_at_0": (lambda lib, x: x**-1.0, [[0.0, 1.0]]),
    "reciprocal_at_0": (lambda lib, x: x.reciprocal(), [[0.0, -0.0, 2.0]]),
    "div_by_0": (lambda lib, a, b: a / b, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]),
    "acos_asin_at_1": (lambda lib, x: x.acos() + x.asin(), [[1.0, -1.0]]),
    "atanh_at_1": (lambda lib, x: x.atanh(), [[1.0, -1.0]]),
    "erfinv_at_1": (lambda lib, x: x.erfinv(), [[1.0, -1.0, 0.0]]),
    "logit_at_0_and_1": (lambda lib, x: x.logit(), [[0.0, 1.0, 0.5]]),
    "logit_eps": (lambda lib, x: x.logit(eps=1e-6), [[0.0, 1.0, 0.5]]),
    "exp_overflow": (lambda lib, x: x.exp(), [[1000.0, -1000.0]]),
    "expm1_overflow": (lambda lib, x: x.expm1(), [[1000.0, -1000.0]]),
    "tanh_saturates": (lambda lib, x: x.tanh(), [[1000.0, -1000.0, 20.0]]),
    "cosh_overflow": (lambda lib, x: x.cosh(), [[1000.0]]),
    "atan2_at_origin": (lambda lib, a, b: lib.atan2(a, b), [[0.0, 1.0], [0.0, 0.0]]),
    "hypot_at_origin": (lambda lib, a, b: lib.hypot(a, b), [[0.0, 3.0], [0.0, 4.0]]),
    "nan_propagates_through_sum": (lambda lib, x: (x * 2).sum(), [[float("nan"), 1.0]]),
    "inf_minus_inf": (lambda lib, x: x - x, [[INF, -INF]]),
    "xlogy_like_zero_times_log_zero": (lambda lib, x: x * x.log(), [[0.0, 1.0]]),
    "prod_with_a_zero": (lambda lib, x: x.prod(), [[2.0, 0.0, 3.0]]),
    "prod_with_two_zeros": (lambda lib, x: x.prod(), [[0.0, 0.0, 3.0]]),
    "prod_dim_with_zero": (lambda lib, x: x.prod(dim=1), [[[0.0, 2.0], [3.0, 4.0]]]),
    "cumprod_with_a_zero": (lambda lib, x: x.cumprod(dim=0), [[2.0, 0.0, 3.0]]),
    "std_of_one_element": (lambda lib, x: x.std(), [[1.0]]),
    "var_of_constant": (lambda lib, x: x.var(), [[2.0, 2.0, 2.0]]),
    "normalize_zero_vector": (lambda lib, x: lib.nn.functional.normalize(x, dim=0), [[0.0, 0.0]]),
    "cosine_similarity_zero": (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=0), [[0.0, 0.0], [1.0, 2.0]]),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(DOMAIN_EDGES))
def test_edge_of_domain_matches_pytorch(name):
    function, arrays = DOMAIN_EDGES[name]
    assert_matches_pytorch(function, *arrays)


EXTREME = [[1000.0, 0.0, -1000.0], [1e308, 1e308, -1e308], [-1e4, -1e4, -1e4], [88.0, 89.0, 90.0]]
STABLE = {
    "softmax": lambda lib, x: x.softmax(dim=-1),
    "log_softmax": lambda lib, x: x.log_softmax(dim=-1),
    "softmin": lambda lib, x: lib.nn.functional.softmin(x, dim=-1),
    "logsumexp": lambda lib, x: x.logsumexp(dim=-1),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "softplus_beta": lambda lib, x: lib.nn.functional.softplus(x, beta=2.0, threshold=5.0),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "mish": lambda lib, x: lib.nn.functional.mish(x),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "cross_entropy": lambda lib, x: lib.nn.functional.cross_entropy(x.reshape(1, -1), lib.tensor([1])),
    "cross_entropy_smoothing": lambda lib, x: lib.nn.functional.cross_entropy(
        x.reshape(1, -1), lib.tensor([2]), label_smoothing=0.1
    ),
    "bce_with_logits": lambda lib, x: lib.nn.functional.binary_cross_entropy_with_logits(
        x, lib.tensor([1.0, 0.0, 1.0], dtype=x.dtype)
    ),
    "nll_of_log_softmax": lambda lib, x: lib.nn.functional.nll_loss(x.reshape(1, -1).log_softmax(-1), lib.tensor([0])),
}


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("logits", EXTREME, ids=["1000", "1e308", "equal_minus_1e4", "near_float32_exp_overflow"])
@pytest.mark.parametrize("name", sorted(STABLE))
def test_stable_functions_at_extreme_logits_match_pytorch(name, logits, dtype):
    if dtype == "float32" and abs(logits[0]) > 3e38:
        logits = [1e38, 1e38, -1e38]  # float32's largest finite values; 3e38 * 2 overflows inside PyTorch's gelu
    tolerance = {"float64": (1e-12, 0.0), "float32": (1.3e-6, 1e-5)}[dtype]
    assert_matches_pytorch(STABLE[name], logits, dtype=dtype, rtol=tolerance[0], atol=tolerance[1])


@pytest.mark.parametrize("name", sorted(STABLE))
def test_stable_functions_stay_finite_at_extreme_logits(name):
    values, grads = _run(retrograd, STABLE[name], [[1000.0, 0.0, -1000.0]], "float64")
    assert all(np.isfinite(v).all() for v in values)
    assert all(np.isfinite(g).all() for g in grads)


@needs_torch
def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    assert_matches_pytorch(lambda lib, x: x.logsumexp(dim=0), [-INF, -INF])


@needs_torch
def test_logsumexp_with_plus_infinity_is_infinity():
    assert_matches_pytorch(lambda lib, x: x.logsumexp(dim=0), [INF, 1.0])


@needs_torch
def test_softmax_with_minus_infinity_masks_to_zero():
    assert_matches_pytorch(lambda lib, x: x.softmax(dim=0), [-INF, 0.0, 1.0])


def _table_cases():
    for name, info in sorted(table.items()):
        if samples_for(info) is None or info.mutates_input:
            continue
        for index, (args, kwargs) in enumerate(samples_for(info)(np.random.default_rng(0))):
            yield pytest.param(info, args, kwargs, id=f"{name}-{index}")


def _cast(value, lib, dtype, requires_grad=True):
    """Sample args in `lib`, floating tensors cast to `dtype` (and requiring grad)."""
    if isinstance(value, retrograd.Tensor):
        array = value.detach().numpy()
        if value.dtype.is_floating_point:
            return lib.tensor(array.astype(dtype), requires_grad=requires_grad)
        return lib.tensor(array)
    if isinstance(value, tuple | list):
        return type(value)(_cast(item, lib, dtype, requires_grad) for item in value)
    if isinstance(value, dict):
        return {key: _cast(item, lib, dtype, requires_grad) for key, item in value.items()}
    if isinstance(value, retrograd.dtype):
        return getattr(lib, value.name)
    return value


def _leaves(value, lib) -> list:
    if isinstance(value, lib.Tensor):
        return [value] if value.requires_grad else []
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _leaves(item, lib)]
    return []


def _values_and_grads(info, args, kwargs, lib, dtype, requires_grad=True):
    from programs import torch_function

    function = info.function if lib is retrograd else torch_function(lib, info.torch_name)
    if info.gradcheck_wrapper is not None:
        function = info.gradcheck_wrapper(function)
    args, kwargs = _cast(args, lib, dtype, requires_grad), _cast(kwargs, lib, dtype, False)
    out = function(*args, **kwargs)
    outs = [o for o in (out if isinstance(out, tuple | list) else (out,)) if o.dtype.is_floating_point]
    leaves = _leaves(args, lib)
    weights = np.random.default_rng(3)
    total = sum((o * lib.tensor(weights.uniform(0.5, 1.5, tuple(o.shape)).astype(dtype))).sum()
                for o in outs if o.requires_grad)
    grads = []
    if leaves and not isinstance(total, int):
        grads = lib.autograd.grad(total, leaves, allow_unused=True)
    grads = [np.zeros(tuple(leaf.shape), dtype) if g is None else g.detach().numpy(force=True)
             for leaf, g in zip(leaves, grads)]  # force: sgn's gradient is a zero tensor
    return [o.detach().numpy() for o in outs] + grads


@needs_torch
@pytest.mark.parametrize(("info", "args", "kwargs"), list(_table_cases()))
def test_float32_results_are_within_pytorch_float32_tolerance_of_float64(info, args, kwargs):
    """Our float32 error against our float64 result is within PyTorch's float32 tolerance
    (rtol 1.3e-6, atol 1e-5), widened where PyTorch's own float32 error is larger."""
    try:
        theirs32 = _values_and_grads(info, args, kwargs, torch, np.float32)
        with_grad = True
    except RuntimeError as error:  # PyTorch refuses grad for some inputs (loss weights, running stats)
        assert "is not differentiable with respect to argument" in str(error)
        theirs32 = _values_and_grads(info, args, kwargs, torch, np.float32, False)
        with_grad = False
    theirs64 = _values_and_grads(info, args, kwargs, torch, np.float64, with_grad)
    ours32 = _values_and_grads(info, args, kwargs, retrograd, np.float32, with_grad)
    ours64 = _values_and_grads(info, args, kwargs, retrograd, np.float64, with_grad)
    assert len(ours32) == len(theirs32)
    for mine, reference, torch32, torch64 in zip(ours32, ours64, theirs32, theirs64):
        assert mine.dtype == torch32.dtype
        assert mine.shape == reference.shape
        torch_error = np.abs(torch32.astype(np.float64) - torch64)
        allowed = 1e-5 + 1.3e-6 * np.abs(reference) + 4 * torch_error
        error = np.abs(mine.astype(np.float64) - reference)
        assert (error <= allowed).all(), f"float32 error {error.max()} beyond {allowed.min()}"
