"""torch.histogramdd: counts in a grid of bins against closed counts and PyTorch, weights,
density, given edges, and PyTorch's errors."""

import math

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch

POINTS = [[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0]]


def test_counts_and_weights_in_equal_bins_over_the_datas_range():
    hist, edges = retrograd.histogramdd(retrograd.tensor(POINTS), bins=[3, 3],
                                        weight=retrograd.tensor([1.0, 2.0, 4.0, 8.0]))
    assert hist.tolist() == [[0.0, 1.0, 0.0], [2.0, 0.0, 0.0], [4.0, 0.0, 8.0]]
    np.testing.assert_allclose(edges[0].numpy(), [0.0, 2 / 3, 4 / 3, 2.0], rtol=1e-6)


def test_density_divides_by_the_count_in_range_and_the_bin_volume():
    hist, _ = retrograd.histogramdd(retrograd.tensor(POINTS), bins=2, range=[0.0, 1.0, 0.0, 1.0],
                                    density=True)
    assert hist.tolist() == [[0.0, 2.0], [2.0, 0.0]]


def test_given_edges_and_a_constant_input():
    hist, edges = retrograd.histogramdd(retrograd.tensor(POINTS),
                                        bins=[retrograd.tensor([0.0, 1.0, 2.0]), retrograd.tensor([0.0, 2.0])])
    assert hist.tolist() == [[1.0], [3.0]] and len(edges) == 2
    hist, edges = retrograd.histogramdd(retrograd.zeros(3, 2), bins=2)
    assert hist.tolist() == [[0.0, 0.0], [0.0, 3.0]] and edges[0].tolist() == [-0.5, 0.0, 0.5]


def test_leading_dimensions_are_points():
    hist, _ = retrograd.histogramdd(retrograd.rand(2, 3, 2), bins=2)
    assert hist.shape == (2, 2) and hist.sum().item() == 6


_ERRORS = [
    (lambda: retrograd.histogramdd(retrograd.tensor(POINTS), bins=[3]), RuntimeError,
     "size of bins must be equal to the innermost dimension"),
    (lambda: retrograd.histogramdd(retrograd.tensor(POINTS).long(), bins=3), NotImplementedError,
     "\"histogramdd\" not implemented for 'Long'"),
    (lambda: retrograd.histogramdd(retrograd.tensor(POINTS), bins=3, range=[0.0, 1.0]), RuntimeError,
     "range should have 4 elements, but got 2"),
    (lambda: retrograd.histogramdd(retrograd.tensor([1.0, 2.0]), bins=2), RuntimeError,
     "at least 2 dimensions"),
    (lambda: retrograd.histogramdd(retrograd.tensor(POINTS), bins=2, range=[1.0, 0.0, 0.0, 1.0]),
     RuntimeError, "min should not exceed max"),
    (lambda: retrograd.histogramdd(retrograd.tensor([[math.nan, 1.0]]), bins=2), RuntimeError,
     "range \\[nan, nan\\] is not finite"),
    (lambda: retrograd.histogramdd(retrograd.tensor(POINTS), bins=0), RuntimeError, "bins must be > 0"),
]


@pytest.mark.parametrize("call, error, words", _ERRORS)
def test_bad_input_raises_pytorchs_error(call, error, words):
    with pytest.raises(error, match=words):
        call()


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", [{"bins": 4}, {"bins": [2, 3, 5]}, {"bins": 3, "density": True},
                                     {"bins": 3, "range": [-1.0, 1.0, 0.0, 2.0, -2.0, 0.5]},
                                     {"bins": 3, "weighted": True}])
def test_matches_pytorch(dtype, options):
    rng = np.random.default_rng(2)
    data = rng.standard_normal((200, 3)).astype(dtype)
    options = dict(options)
    ours_options, theirs_options = dict(options), dict(options)
    if options.pop("weighted", False):
        weights = rng.uniform(0, 2, 200).astype(dtype)
        del ours_options["weighted"], theirs_options["weighted"]
        ours_options["weight"], theirs_options["weight"] = retrograd.tensor(weights), torch.tensor(weights)
    ours = retrograd.histogramdd(retrograd.tensor(data), **ours_options)
    theirs = torch.histogramdd(torch.tensor(data), **theirs_options)
    assert ours.hist.dtype.name == dtype
    np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-5)
    for mine, expected in zip(ours.bin_edges, theirs.bin_edges):
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
