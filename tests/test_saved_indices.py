"""A node that reads an index, a mask or an input it keeps saves it as PyTorch's node does:
a backward after the saved tensor changed in place is refused, and so is a second backward
through the node (issue 11). PyTorch is checked alongside where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd


def _libraries():
    try:
        import torch
    except ImportError:
        return [retrograd]
    return [retrograd, torch]


def _input(lib):
    return lib.tensor(np.arange(12.0).reshape(3, 4), dtype=lib.float64, requires_grad=True)


def _source(lib, *shape):
    return lib.ones(*shape, dtype=lib.float64, requires_grad=True)


# name -> (the index or mask the op is given, the op of (lib, input, index))
INDEXED_OPS = {
    "index_fill": (lambda lib: lib.tensor([0, 2]), lambda lib, x, i: x.index_fill(1, i, 1.0)),
    "index_fill-negative": (lambda lib: lib.tensor([0, -1]), lambda lib, x, i: x.index_fill(1, i, 1.0)),
    "index_fill-tensor": (lambda lib: lib.tensor([0, 2]), lambda lib, x, i: x.index_fill(
        1, i, lib.tensor(2.0, dtype=lib.float64, requires_grad=True))),
    "index_copy": (lambda lib: lib.tensor([0, 2]), lambda lib, x, i: x.index_copy(1, i, _source(lib, 3, 2))),
    "index_add": (lambda lib: lib.tensor([0, 2]), lambda lib, x, i: x.index_add(1, i, _source(lib, 3, 2))),
    "index_select": (lambda lib: lib.tensor([0, 2]), lambda lib, x, i: x.index_select(1, i)),
    "gather": (lambda lib: lib.tensor([[0], [2], [1]]), lambda lib, x, i: x.gather(1, i)),
    "gather-int32": (lambda lib: lib.tensor([[0], [2], [1]], dtype=lib.int32), lambda lib, x, i: x.gather(1, i)),
    "scatter": (lambda lib: lib.tensor([[0], [2], [1]]), lambda lib, x, i: x.scatter(1, i, _source(lib, 3, 1))),
    "scatter-value": (lambda lib: lib.tensor([[0], [2], [1]]), lambda lib, x, i: x.scatter(1, i, 1.0)),
    "scatter_add": (lambda lib: lib.tensor([[0], [2], [1]]), lambda lib, x, i: x.scatter_add(
        1, i, _source(lib, 3, 1))),
    "scatter_reduce": (lambda lib: lib.tensor([[0], [2], [1]]), lambda lib, x, i: x.scatter_reduce(
        1, i, _source(lib, 3, 1), "sum")),
    "take": (lambda lib: lib.tensor([0, -5]), lambda lib, x, i: x.take(i)),
    "put": (lambda lib: lib.tensor([0, 5]), lambda lib, x, i: x.put(i, _source(lib, 2))),
    "masked_select": (lambda lib: lib.tensor([True, False, True, False]), lambda lib, x, i: x.masked_select(i)),
    "masked_scatter": (lambda lib: lib.tensor([True, False, True, False]), lambda lib, x, i: x.masked_scatter(
        i, _source(lib, 12))),
    "embedding": (lambda lib: lib.tensor([0, 2]), lambda lib, x, i: lib.nn.functional.embedding(i, x)),
}

_MODIFIED = "modified by an inplace operation"
_SECOND = "backward through the graph a second time"


def _change_in_place(lib, index) -> None:
    if index.dtype == lib.bool:
        index.logical_not_()
    else:
        index.zero_()


@pytest.mark.parametrize("name", list(INDEXED_OPS))
def test_changing_the_index_in_place_before_backward_is_refused(name):
    make_index, op = INDEXED_OPS[name]
    for lib in _libraries():
        index = make_index(lib)
        out = op(lib, _input(lib), index)
        _change_in_place(lib, index)
        with pytest.raises(RuntimeError, match=_MODIFIED):
            out.sum().backward()


@pytest.mark.parametrize("name", list(INDEXED_OPS))
def test_a_second_backward_through_an_indexing_node_is_refused(name):
    make_index, op = INDEXED_OPS[name]
    for lib in _libraries():
        out = op(lib, _input(lib), make_index(lib))
        out.sum().backward()
        with pytest.raises(RuntimeError, match=_SECOND):
            out.sum().backward()
        with pytest.raises(RuntimeError, match=_SECOND):
            out.grad_fn._saved_indices if name == "embedding" else getattr(
                out.grad_fn, "_saved_mask" if name.startswith("masked") else "_saved_index")


def test_take_along_dim_saves_a_new_index_so_changing_the_given_one_is_no_error():
    """PyTorch's take_along_dim wraps the index into a new tensor first: the given one may change."""
    for lib in _libraries():
        x = _input(lib)
        index = lib.tensor([[0], [2], [1]])
        out = lib.take_along_dim(x, index, 1)
        index.zero_()
        out.sum().backward()
        assert np.array_equal(x.grad.numpy()[:, :3], [[1, 0, 0], [0, 0, 1], [0, 1, 0]])


def test_the_gradient_reads_the_index_given_with_create_graph():
    """With create_graph the formulas read the saved index tensor; the derivative is the same."""
    for lib in _libraries():
        x = _input(lib)
        out = x.index_fill(1, lib.tensor([0, -1]), 1.0) * x
        (grad,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        (second,) = lib.autograd.grad(grad.sum(), x)
        expected = np.full((3, 4), 2.0)
        expected[:, [0, 3]] = 0.0
        assert np.array_equal(second.numpy(), expected)


def _pooled(lib, op: str, x):
    functional = lib.nn.functional
    return {"max_pool2d": lambda: functional.max_pool2d(x, 2),
            "avg_pool2d": lambda: functional.avg_pool2d(x, 2),
            "adaptive_max_pool2d": lambda: functional.adaptive_max_pool2d(x, 3),
            "adaptive_avg_pool2d": lambda: functional.adaptive_avg_pool2d(x, 3)}[op]()


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d"])
def test_a_pooling_node_checks_its_saved_input_though_its_gradient_does_not_read_it(op):
    for lib in _libraries():
        x = lib.tensor(np.arange(64.0).reshape(1, 4, 4, 4), dtype=lib.float64, requires_grad=True)
        out = _pooled(lib, op, x)
        out.sum().backward()
        with pytest.raises(RuntimeError, match=_SECOND):
            out.sum().backward()
        changed = x * 1
        out = _pooled(lib, op, changed)
        changed.add_(1)
        with pytest.raises(RuntimeError, match=_MODIFIED):
            out.sum().backward()


def test_max_pooling_saves_the_indices_it_returns():
    for lib in _libraries():
        x = lib.tensor(np.arange(32.0).reshape(1, 2, 4, 4), dtype=lib.float64, requires_grad=True)
        values, indices = lib.nn.functional.max_pool2d(x, 2, return_indices=True)
        assert np.array_equal(values.grad_fn._saved_result1.numpy(), indices.numpy())
        indices.zero_()
        with pytest.raises(RuntimeError, match=_MODIFIED):
            values.sum().backward()


def test_batch_norm_shows_its_running_statistics_unchecked():
    """A later training call updates the running statistics in place: no error, as PyTorch."""
    for lib in _libraries():
        mean, variance = lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)
        x = lib.tensor(np.arange(8.0).reshape(4, 2), dtype=lib.float64, requires_grad=True)
        first = lib.nn.functional.batch_norm(x, mean, variance, training=True)
        second = lib.nn.functional.batch_norm(x, mean, variance, training=True)
        assert first.grad_fn._saved_running_mean is mean
        (first.sum() + second.sum()).backward()
        with pytest.raises(RuntimeError, match=_SECOND):
            first.grad_fn._saved_running_var
