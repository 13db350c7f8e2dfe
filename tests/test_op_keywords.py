"""The op keywords whose behaviour the gradient matrix (test_op_table) cannot check by finite
differences alone: PyTorch's gradient is not the derivative there (embedding's
scale_grad_by_freq and max_norm), the op writes into its arguments (running statistics), there
is no derivative (scatter's `reduce`), or the error and warning cases. Each test compares with
a closed form; those marked `needs_torch` compare with PyTorch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd.autograd import gradcheck

F = retrograd.nn.functional
SOURCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "src")


def _outcome(call):
    """What `call()` did: its result as arrays, or its error's type and message."""
    try:
        result = call()
    except Exception as error:  # the outcome is compared
        return type(error).__name__, str(error)
    results = result if isinstance(result, tuple) else (result,)
    return [item.detach().numpy() for item in results]


def _same_outcome(ours, theirs) -> None:
    assert type(ours) is type(theirs), (ours, theirs)
    if isinstance(ours, tuple):
        assert ours == theirs
        return
    for mine, reference in zip(ours, theirs, strict=True):
        assert (mine.dtype, mine.shape) == (reference.dtype, reference.shape)
        tolerance = 1e-10 if mine.dtype == np.float64 else 1e-5
        np.testing.assert_allclose(mine, reference, rtol=tolerance, atol=tolerance)


def _both(build):
    """`build(library)` run with retrograd and with PyTorch; their outcomes (values, dtypes and
    shapes, or error types and messages) must agree."""
    _same_outcome(_outcome(lambda: build(retrograd)), _outcome(lambda: build(torch)))


# ---------------------------------------------------------------------------
# cov: fweights and aweights

X = np.random.default_rng(0).standard_normal((3, 5))
FREQUENCIES = np.array([1, 2, 0, 3, 1])
WEIGHTS = np.random.default_rng(1).uniform(0.2, 2.0, 5)


def _weighted_cov_closed_form(x, frequencies, weights, correction):
    """The weighted covariance as NumPy defines it (np.cov's fweights, aweights, ddof)."""
    return np.cov(x, fweights=frequencies, aweights=weights, ddof=correction)


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_with_both_weights_is_numpys_weighted_covariance(correction):
    result = retrograd.cov(retrograd.tensor(X), correction=correction, fweights=retrograd.tensor(FREQUENCIES),
                           aweights=retrograd.tensor(WEIGHTS))
    expected = _weighted_cov_closed_form(X, FREQUENCIES, WEIGHTS, correction)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)


def test_cov_frequency_weights_count_repeated_observations():
    repeated = np.repeat(X, FREQUENCIES, axis=1)
    result = retrograd.cov(retrograd.tensor(X), fweights=retrograd.tensor(FREQUENCIES))
    np.testing.assert_allclose(result.numpy(), np.cov(repeated), rtol=1e-12)


def test_cov_gradient_reaches_input_and_aweights():
    x = retrograd.tensor(X, requires_grad=True)
    weights = retrograd.tensor(WEIGHTS, requires_grad=True)
    frequencies = retrograd.tensor(FREQUENCIES)
    assert gradcheck(lambda x, w: retrograd.cov(x, fweights=frequencies, aweights=w, correction=1), (x, weights))


@needs_torch
@pytest.mark.parametrize("correction", [0, 1, 3])
def test_cov_weights_values_and_gradients_match_pytorch(correction):
    grads = []
    for lib in (retrograd, torch):
        x = lib.tensor(X, requires_grad=True)
        weights = lib.tensor(WEIGHTS, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = lib.cov(x, correction=correction, fweights=lib.tensor(FREQUENCIES), aweights=weights)
        (out * lib.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
        grads.append((out.detach().numpy(), x.grad.numpy(), weights.grad.numpy()))
    for mine, reference in zip(*grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)


COV_CALLS = {
    "float fweights": lambda lib: lib.cov(lib.tensor(X), fweights=lib.tensor(FREQUENCIES).double()),
    "bool fweights": lambda lib: lib.cov(lib.tensor(X), fweights=lib.tensor([True] * 5)),
    "integer aweights": lambda lib: lib.cov(lib.tensor(X), aweights=lib.tensor(FREQUENCIES)),
    "negative fweights": lambda lib: lib.cov(lib.tensor(X), fweights=lib.tensor([1, 2, -1, 3, 1])),
    "negative aweights": lambda lib: lib.cov(lib.tensor(X), aweights=lib.tensor([1, 2, -1, 3, 1.0])),
    "NaN aweights": lambda lib: lib.cov(lib.tensor(X), aweights=lib.tensor([1, 2, float("nan"), 3, 1.0])),
    "2-d fweights": lambda lib: lib.cov(lib.tensor(X), fweights=lib.tensor([[1, 2, 1, 3, 1]])),
    "short fweights": lambda lib: lib.cov(lib.tensor(X), fweights=lib.tensor([1, 2, 1, 3])),
    "short aweights": lambda lib: lib.cov(lib.tensor(X), aweights=lib.tensor([1, 2, 1, 3.0])),
    "zero weights": lambda lib: lib.cov(lib.tensor(X), fweights=lib.tensor([0] * 5)),
    "3-d input": lambda lib: lib.cov(lib.ones(2, 3, 4)),
    "bool input": lambda lib: lib.cov(lib.ones(2, 3).bool()),
    "float correction": lambda lib: lib.cov(lib.ones(2, 3), correction=1.5),
    "int32 fweights": lambda lib: lib.cov(lib.tensor(X), fweights=lib.tensor(FREQUENCIES, dtype=lib.int32)),
    "integer input": lambda lib: lib.cov(lib.tensor([[1, 2, 3], [3, 1, 2]]), fweights=lib.tensor([1, 2, 2])),
    "float32 input": lambda lib: lib.cov(lib.tensor(X).float(), aweights=lib.tensor(WEIGHTS)),
    "one variable": lambda lib: lib.cov(lib.tensor([[1.0, 2.0, 4.0]]), aweights=lib.tensor([1.0, 2.0, 2.0])),
    "no observations": lambda lib: lib.cov(lib.ones(3, 0), fweights=lib.ones(0, dtype=lib.int64)),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(COV_CALLS))
def test_cov_weights_checks_and_dtypes_match_pytorch(name):
    _both(COV_CALLS[name])


def test_cov_without_degrees_of_freedom_warns_and_divides_by_zero():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        result = retrograd.cov(retrograd.tensor(X), correction=2, fweights=retrograd.tensor([0, 0, 0, 0, 1]))
    assert np.isnan(result.numpy()).all()


def _cov_by_zero(library):
    """cov with no degree of freedom left: inf on the diagonal, nan where a row is constant."""
    x = library.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], requires_grad=True)
    result = library.cov(x, correction=3)
    result.sum().backward()
    return result.detach().numpy(), x.grad.numpy()


def test_cov_dividing_by_zero_shows_only_its_own_warning():
    # Whatever the filters say (here: show everything), NumPy's "divide by zero" is not shown
    # (Note [No NumPy warnings]); PyTorch shows only the degrees-of-freedom warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values, gradient = _cov_by_zero(retrograd)
    assert [type(record.message) for record in caught] == [UserWarning]
    assert np.isinf(values[0, 0]) and np.isnan(values[1, 1]) and np.isnan(gradient).all()


@needs_torch
def test_cov_dividing_by_zero_gives_pytorchs_values_and_gradient():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ours, theirs in zip(_cov_by_zero(retrograd), _cov_by_zero(torch)):
            np.testing.assert_array_equal(ours, theirs)


def test_cov_leaves_the_weights_unchanged_when_it_refuses_them():
    weights = retrograd.tensor([1.0, -2.0, 3.0, 1.0, 1.0])
    with pytest.raises(RuntimeError, match="aweights cannot be negative"):
        retrograd.cov(retrograd.tensor(X), aweights=weights)
    assert weights.tolist() == [1.0, -2.0, 3.0, 1.0, 1.0] and weights._version == 0


# ---------------------------------------------------------------------------
# scatter with reduce (no derivative, as in PyTorch)

BASE = np.arange(1.0, 13.0).reshape(3, 4)
INDEX = np.array([[0, 0, 3], [1, 1, 1], [2, 0, 2]])
SOURCE = np.random.default_rng(2).uniform(-2, 2, (3, 3))


@pytest.fixture
def warnings_not_yet_shown(monkeypatch):
    """A process in which no warn-once warning has been shown yet."""
    monkeypatch.setattr(retrograd._warnings, "_shown_once", set())


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_combines_repeats_as_a_loop_does(reduce, warnings_not_yet_shown):
    expected = BASE.copy()
    for row in range(3):
        for column in range(3):
            target = (row, INDEX[row, column])
            if reduce == "add":
                expected[target] += SOURCE[row, column]
            else:
                expected[target] *= SOURCE[row, column]
    with pytest.warns(UserWarning, match="reduce argument of torch.scatter with Tensor src is deprecated"):
        result = retrograd.tensor(BASE).scatter(1, retrograd.tensor(INDEX), retrograd.tensor(SOURCE), reduce=reduce)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-15)


@pytest.mark.parametrize("reduce", [None, "add"])
def test_scatter_without_a_source_is_refused_as_by_pytorch(reduce):
    x = retrograd.tensor(BASE)
    with pytest.raises(TypeError, match="scatter\\(\\) received an invalid combination of arguments"):
        x.scatter_(1, retrograd.tensor(INDEX), reduce=reduce)
    assert x.numpy().tolist() == BASE.tolist()


@pytest.mark.parametrize("form", ["function", "method", "in place"])
def test_scatter_reduce_deprecation_points_at_the_callers_line(form, warnings_not_yet_shown):
    x, index, source = retrograd.tensor(BASE), retrograd.tensor(INDEX), retrograd.tensor(SOURCE)
    calls = {"function": lambda: retrograd.scatter(x, 1, index, source, reduce="add"),
             "method": lambda: x.scatter(1, index, source, reduce="add"),
             "in place": lambda: x.scatter_(1, index, source, reduce="add")}
    with pytest.warns(UserWarning, match="deprecated") as caught:
        calls[form]()
    assert [record.filename for record in caught] == [__file__]


def test_scatter_reduce_deprecation_is_shown_once_per_process(warnings_not_yet_shown):
    x, index, source = retrograd.tensor(BASE), retrograd.tensor(INDEX), retrograd.tensor(SOURCE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for reduce in ("add", "multiply", "add"):
            x.scatter(1, index, source, reduce=reduce)
        x.scatter_(1, index, source, reduce="add")
    assert [str(record.message)[:40] for record in caught] == ["The reduce argument of torch.scatter wit"]


@needs_torch
def test_scatter_reduce_deprecation_is_shown_once_in_pytorch_too():
    program = (
        "import warnings, {lib}\n"
        "warnings.simplefilter('always')\n"
        "x = {lib}.zeros(3)\n"
        "for reduce in ('add', 'multiply', 'add'):\n"
        "    x.scatter(0, {lib}.tensor([0, 1, 0]), {lib}.ones(3), reduce=reduce)\n"
    )
    counts = []
    for library in ("retrograd", "torch"):
        result = subprocess.run([sys.executable, "-c", program.format(lib=library)], capture_output=True,
                                text=True, env={**os.environ, "PYTHONPATH": SOURCE_DIR})
        counts.append(result.stderr.count("The reduce argument of torch.scatter with Tensor src is deprecated"))
    assert counts == [1, 1]


SCATTER_CALLS = {
    "add": lambda lib: lib.tensor(BASE).scatter(1, lib.tensor(INDEX), lib.tensor(SOURCE), reduce="add"),
    "multiply": lambda lib: lib.scatter(lib.tensor(BASE), 1, lib.tensor(INDEX), lib.tensor(SOURCE),
                                        reduce="multiply"),
    "value add": lambda lib: lib.tensor(BASE).scatter(0, lib.tensor(INDEX), 1.5, reduce="add"),
    "value keyword": lambda lib: lib.tensor(BASE).scatter(0, lib.tensor(INDEX), value=-2.0, reduce="multiply"),
    "integer multiply": lambda lib: lib.tensor([1, 2, 3]).scatter(0, lib.tensor([0, 0]), lib.tensor([5, 6]),
                                                                  reduce="multiply"),
    "integer, float value": lambda lib: lib.tensor([1, 2, 3]).scatter(0, lib.tensor([0, 0]), 2.5,
                                                                      reduce="multiply"),
    "bool add": lambda lib: lib.tensor([True, False]).scatter(0, lib.tensor([0, 0]), lib.tensor([True, True]),
                                                             reduce="add"),
    "in place": lambda lib: lib.tensor(BASE).scatter_(1, lib.tensor(INDEX), lib.tensor(SOURCE), reduce="add"),
    "unknown reduce": lambda lib: lib.tensor(BASE).scatter(1, lib.tensor(INDEX), lib.tensor(SOURCE), reduce="mean"),
    "sum is not a scatter reduce": lambda lib: lib.tensor(BASE).scatter(0, lib.tensor(INDEX), 1.0, reduce="sum"),
    "other dtype source": lambda lib: lib.tensor(BASE).scatter(1, lib.tensor(INDEX), lib.tensor(SOURCE).float(),
                                                               reduce="add"),
    "index out of range": lambda lib: lib.tensor(BASE).scatter(0, lib.tensor([[5]]), 1.0, reduce="add"),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(SCATTER_CALLS))
def test_scatter_reduce_values_and_errors_match_pytorch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(SCATTER_CALLS[name])


@needs_torch
@pytest.mark.parametrize("form", ["src", "value"])
def test_scatter_reduce_records_a_node_whose_backward_refuses_as_pytorchs(form):
    outcomes = []
    for lib in (retrograd, torch):
        x = lib.tensor(BASE, requires_grad=True)
        source = lib.tensor(SOURCE) if form == "src" else 2.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = x.scatter(1, lib.tensor(INDEX), source, reduce="multiply")
        name = type(out.grad_fn).__name__
        with pytest.raises(RuntimeError) as error:
            out.sum().backward()
        outcomes.append((name, str(error.value)))
    assert outcomes[0] == outcomes[1] == ("NotImplemented", "derivative for aten::scatter is not implemented")


def test_scatter_reduce_needs_no_gradient_to_run_and_leaves_input_unchanged_on_error():
    x = retrograd.tensor(BASE)
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        x.scatter_(0, retrograd.tensor(INDEX), 1.0, reduce="max")
    assert x.numpy().tolist() == BASE.tolist() and x._version == 0
    assert retrograd.tensor(BASE).scatter(1, retrograd.tensor(INDEX), 1.0, reduce="add").grad_fn is None


# ---------------------------------------------------------------------------
# scaled_dot_product_attention with grouped query heads


def test_grouped_query_attention_is_attention_with_key_and_value_heads_repeated():
    rng = np.random.default_rng(3)
    query, key, value = (retrograd.tensor(rng.standard_normal(shape))
                         for shape in ((2, 6, 3, 4), (2, 2, 5, 4), (2, 3, 5, 2)))
    grouped = F.scaled_dot_product_attention(query, key, value, enable_gqa=True)
    spelled_out = F.scaled_dot_product_attention(query, key.repeat_interleave(3, 1), value.repeat_interleave(2, 1))
    np.testing.assert_allclose(grouped.numpy(), spelled_out.numpy(), rtol=1e-12)


def test_grouped_query_attention_refuses_heads_that_do_not_divide():
    query, key = retrograd.ones(1, 6, 3, 4), retrograd.ones(1, 4, 5, 4)
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide the number of heads"):
        F.scaled_dot_product_attention(query, key, key, enable_gqa=True)


@needs_torch
def test_grouped_query_attention_errors_match_pytorch():
    for shapes in [((6, 3, 4), (4, 5, 4), (4, 5, 2)), ((3, 4), (5, 4), (5, 2)), ((6, 3, 4), (2, 5, 4), (3, 5, 2))]:
        def build(lib, shapes=shapes):
            return lib.nn.functional.scaled_dot_product_attention(*(lib.ones(*shape) for shape in shapes),
                                                                   enable_gqa=True)
        ours, theirs = _outcome(lambda: build(retrograd)), _outcome(lambda: build(torch))
        if isinstance(theirs, tuple):  # our message goes on to name the head counts
            assert ours[0] == theirs[0] and theirs[1] in ours[1]
        else:
            _same_outcome(ours, theirs)


# ---------------------------------------------------------------------------
# embedding: max_norm, norm_type, scale_grad_by_freq

WEIGHT = np.random.default_rng(4).uniform(-2, 2, (5, 3))
LOOKUPS = np.array([[0, 2, 2], [4, 2, 0]])
OUTPUT_GRAD = np.random.default_rng(5).standard_normal((2, 3, 3))


def test_scale_grad_by_freq_divides_each_rows_gradient_by_its_index_count():
    weight = retrograd.tensor(WEIGHT, requires_grad=True)
    out = F.embedding(retrograd.tensor(LOOKUPS), weight, scale_grad_by_freq=True)
    (out * retrograd.tensor(OUTPUT_GRAD)).sum().backward()
    expected = np.zeros_like(WEIGHT)
    counts = np.bincount(LOOKUPS.reshape(-1), minlength=5)
    for position, row in enumerate(LOOKUPS.reshape(-1)):
        expected[row] += OUTPUT_GRAD.reshape(-1, 3)[position] / counts[row]
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-14)


def test_max_norm_renormalises_the_looked_up_rows_of_weight_in_place():
    weight = retrograd.tensor(WEIGHT)
    F.embedding(retrograd.tensor([[0, 4]]), weight, max_norm=1.0, norm_type=1.0)
    norms = np.abs(weight.numpy()).sum(1)
    assert np.all(norms[[0, 4]] <= 1.0 + 1e-6)
    np.testing.assert_array_equal(weight.numpy()[1:4], WEIGHT[1:4])
    assert weight._version == 1


EMBEDDING_OPTIONS = [
    {"scale_grad_by_freq": True},
    {"scale_grad_by_freq": True, "padding_idx": 2},
    {"max_norm": 1.5},
    {"max_norm": 1.5, "norm_type": 1.0},
    {"max_norm": 2.0, "norm_type": float("inf"), "scale_grad_by_freq": True},
    {"max_norm": 100.0},
]


@needs_torch
@pytest.mark.parametrize("options", EMBEDDING_OPTIONS, ids=str)
def test_embedding_options_match_pytorch_values_weight_gradient_and_version(options):
    results = []
    for lib in (retrograd, torch):
        weight = lib.tensor(WEIGHT.copy(), requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(LOOKUPS), weight, **options)
        (out * lib.tensor(OUTPUT_GRAD)).sum().backward()
        results.append((out.detach().numpy(), weight.detach().numpy(), weight.grad.numpy(), weight._version))
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-14)


@needs_torch
def test_scale_grad_by_freq_double_backward_is_pytorchs():
    grads = []
    for lib in (retrograd, torch):
        weight = lib.tensor(WEIGHT, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(LOOKUPS), weight, scale_grad_by_freq=True)
        (first,) = lib.autograd.grad((out**2).sum(), weight, create_graph=True)
        (first * lib.tensor(np.arange(15.0).reshape(5, 3))).sum().backward()
        grads.append((first.detach().numpy(), weight.grad.numpy()))
    for mine, reference in zip(*grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


@needs_torch
def test_scale_grad_by_freq_under_vmap_counts_the_whole_batch_as_pytorch():
    outs = []
    for lib in (retrograd, torch):
        weight = lib.tensor(WEIGHT)
        func = lib.func

        def total(w, lib=lib, func=func):
            looked_up = func.vmap(lambda i: lib.nn.functional.embedding(i, w, scale_grad_by_freq=True))
            return looked_up(lib.tensor(LOOKUPS)).sum()

        outs.append(func.grad(total)(weight).numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-14)


# ---------------------------------------------------------------------------
# instance_norm: running statistics

INSTANCES = np.random.default_rng(6).standard_normal((2, 3, 4))
RUNNING_MEAN = np.random.default_rng(7).standard_normal(3)
RUNNING_VAR = np.random.default_rng(8).uniform(0.5, 2.0, 3)


def test_instance_norm_running_statistics_average_the_instances_unbiased():
    mean, var = retrograd.tensor(RUNNING_MEAN), retrograd.tensor(RUNNING_VAR)
    F.instance_norm(retrograd.tensor(INSTANCES), mean, var, momentum=0.25)
    np.testing.assert_allclose(mean.numpy(), 0.75 * RUNNING_MEAN + 0.25 * INSTANCES.mean(2).mean(0), rtol=1e-14)
    np.testing.assert_allclose(var.numpy(), 0.75 * RUNNING_VAR + 0.25 * INSTANCES.var(2, ddof=1).mean(0),
                               rtol=1e-14)


def test_instance_norm_without_input_stats_normalises_by_the_running_ones():
    out = F.instance_norm(retrograd.tensor(INSTANCES), retrograd.tensor(RUNNING_MEAN), retrograd.tensor(RUNNING_VAR),
                          use_input_stats=False, eps=0.0)
    expected = (INSTANCES - RUNNING_MEAN[:, None]) / np.sqrt(RUNNING_VAR[:, None])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("options", [{}, {"momentum": 0.3}, {"use_input_stats": False},
                                     {"use_input_stats": False, "momentum": 0.5}], ids=str)
def test_instance_norm_running_statistics_match_pytorch(options):
    results = []
    for lib in (retrograd, torch):
        x = lib.tensor(INSTANCES, requires_grad=True)
        mean, var = lib.tensor(RUNNING_MEAN), lib.tensor(RUNNING_VAR)
        out = lib.nn.functional.instance_norm(x, mean, var, **options)
        (out * lib.tensor(INSTANCES[::-1].copy())).sum().backward()
        results.append((out.detach().numpy(), mean.numpy(), var.numpy(), x.grad.numpy(),
                        np.array([mean._version, var._version])))
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("options", [{"use_input_stats": False}, {"momentum": None}], ids=str)
def test_instance_norm_refusals_match_pytorch(options):
    _both(lambda lib: lib.nn.functional.instance_norm(lib.tensor(INSTANCES), **options))


# ---------------------------------------------------------------------------
# interpolate: antialias, recompute_scale_factor


def test_antialiased_halving_averages_pairs_under_a_tent():
    """Shrinking by 2 with antialias weighs the inputs by a tent 4 wide: (1, 3, 3, 1) / 8
    inside, renormalised where it leaves the edge."""
    row = np.arange(8.0)
    image = retrograd.tensor(np.broadcast_to(row, (1, 1, 2, 8)).copy())
    out = F.interpolate(image, size=(2, 4), mode="bilinear", antialias=True)
    tent = np.array([1.0, 3.0, 3.0, 1.0])
    expected = [row[0:3] @ tent[1:] / 7, row[1:5] @ tent / 8, row[3:7] @ tent / 8, row[5:8] @ tent[:3] / 7]
    np.testing.assert_allclose(out.numpy()[0, 0, 0], expected, rtol=1e-14)


INTERPOLATE_CASES = [
    ((1, 2, 6, 7), {"size": (3, 4)}),
    ((1, 2, 6, 7), {"size": (9, 10)}),
    ((1, 2, 6, 7), {"scale_factor": 0.6}),
    ((1, 2, 6, 7), {"scale_factor": 0.35, "recompute_scale_factor": True}),
    ((1, 2, 6, 7), {"scale_factor": (0.5, 1.7)}),
    ((1, 2, 6, 7), {"size": (3, 4), "align_corners": True}),
    ((1, 2, 6, 7), {"size": (1, 9), "align_corners": True}),
    ((1, 1, 13, 4), {"size": (4, 4)}),
]


@needs_torch
@pytest.mark.parametrize(("shape", "options"), INTERPOLATE_CASES, ids=str)
def test_antialiased_bilinear_matches_pytorch(shape, options):
    data = np.random.default_rng(9).standard_normal(shape)
    results = []
    for lib in (retrograd, torch):
        x = lib.tensor(data, requires_grad=True)
        out = lib.nn.functional.interpolate(x, mode="bilinear", antialias=True, **options)
        (out * lib.tensor(np.arange(float(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy(), type(out.grad_fn).__name__))
    for mine, reference in zip(results[0][:2], results[1][:2]):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)
    assert results[0][2] == results[1][2] == "UpsampleBilinear2DAaBackward0"


INTERPOLATE_REFUSALS = {
    "antialias nearest": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), size=2, antialias=True),
    "antialias linear": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4), size=2, mode="linear",
                                                                  antialias=True),
    "recompute with size": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4), size=2,
                                                                     recompute_scale_factor=True),
    "recompute off with size": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4), size=2,
                                                                         recompute_scale_factor=False),
    "recompute linear": lambda lib: lib.nn.functional.interpolate(lib.tensor([[[1.0, 4.0, 2.0, 5.0, 3.0]]]),
                                                                  scale_factor=1.7, mode="linear",
                                                                  recompute_scale_factor=True),
    "no recompute linear": lambda lib: lib.nn.functional.interpolate(lib.tensor([[[1.0, 4.0, 2.0, 5.0, 3.0]]]),
                                                                     scale_factor=1.7, mode="linear",
                                                                     recompute_scale_factor=False),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(INTERPOLATE_REFUSALS))
def test_interpolate_keywords_and_refusals_match_pytorch(name):
    _both(INTERPOLATE_REFUSALS[name])


# ---------------------------------------------------------------------------
# linalg.pinv: hermitian


def _symmetric(rng, eigenvalues):
    basis, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    return (basis * np.asarray(eigenvalues)) @ basis.T


def test_hermitian_pinv_reads_the_lower_triangle_and_inverts_eigenvalues():
    symmetric = _symmetric(np.random.default_rng(10), [3.0, -2.0, 0.0])
    upper_garbage = symmetric + np.triu(np.full((3, 3), 7.0), 1)
    result = retrograd.linalg.pinv(retrograd.tensor(upper_garbage), hermitian=True)
    np.testing.assert_allclose(result.numpy(), np.linalg.pinv(symmetric, hermitian=True), atol=1e-12)


def test_hermitian_pinv_refuses_non_square_matrices():
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        retrograd.linalg.pinv(retrograd.ones(2, 3), hermitian=True)


@needs_torch
@pytest.mark.parametrize("options", [{}, {"rtol": 1e-3}, {"atol": 0.5}], ids=str)
def test_hermitian_pinv_values_and_gradient_match_pytorch(options):
    rng = np.random.default_rng(11)
    matrices = [_symmetric(rng, [3.0, -2.0, 1e-4]), rng.standard_normal((3, 3)), np.zeros((2, 2))]
    for matrix in matrices:
        results = []
        for lib in (retrograd, torch):
            a = lib.tensor(matrix, requires_grad=True)
            out = lib.linalg.pinv(a, hermitian=True, **options)
            (out * lib.tensor(np.arange(float(out.numel())).reshape(tuple(out.shape)))).sum().backward()
            results.append((out.detach().numpy(), a.grad.numpy()))
        for mine, reference in zip(*results):
            np.testing.assert_allclose(mine, reference, rtol=1e-8, atol=1e-10)
