"""A recorded op leaves the cyclic garbage collector one object to visit (Note [A light graph]).

The count is exact (no timing): new objects the collector tracks, after it has had the chance
to stop tracking tuples that hold only untracked things, divided by the ops recorded.
"""

import gc

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch

CHAIN = {
    "sin": lambda y, x: y.sin(),  # saves its input
    "sigmoid": lambda y, x: y.sigmoid(),  # saves its result
    "tanh": lambda y, x: y.tanh(),
    "add": lambda y, x: y + x,  # saves nothing
    "mul": lambda y, x: y * 0.5,
    "mul_self": lambda y, x: y * y,  # saves one input twice
    "relu": lambda y, x: y.relu(),
}


def _tracked_per_op(step, ops: int = 600) -> float:
    x = retrograd.tensor([0.5], requires_grad=True)
    y = x * 1.0
    for _ in range(3):  # (the op's first call generates its code: not a per-op cost)
        y = step(y, x)
    for _ in range(3):
        gc.collect()
    before = {id(value) for value in gc.get_objects()}
    for _ in range(ops):
        y = step(y, x)
    for _ in range(3):
        gc.collect()
    new = sum(1 for value in gc.get_objects() if id(value) not in before)
    del y
    return new / ops


@pytest.mark.parametrize("name", sorted(CHAIN))
def test_a_recorded_op_leaves_one_tracked_object(name):
    # the node, which holds its next nodes itself; the saved values (arrays, version
    # counters, numbers) are not tracked
    assert _tracked_per_op(CHAIN[name]) <= 1.02


def test_a_node_is_an_object_to_its_users_not_the_list_it_is_built_on():
    x = retrograd.tensor([0.5], requires_grad=True)
    leaf_node = (x * 2).grad_fn.next_functions[0][0]  # an AccumulateGrad: no next nodes
    other_leaf = (retrograd.tensor([1.0], requires_grad=True) * 2).grad_fn.next_functions[0][0]
    assert bool(leaf_node) and leaf_node != other_leaf and (leaf_node == other_leaf) is False
    assert len({leaf_node, other_leaf, leaf_node}) == 2
    with pytest.raises(TypeError):
        assert leaf_node < other_leaf
    node = (x * x).grad_fn
    assert node.next_functions == ((leaf_node, 0), (leaf_node, 0))
    assert not {"append", "sort", "extend", "__len__", "__getitem__"} & set(dir(node))
    assert "next_functions" in dir(node) and "_saved_self" in dir(node)


def test_the_saved_input_of_a_recorded_op_reads_back_with_its_history():
    x = retrograd.tensor([0.3, 0.7], requires_grad=True)
    y = x.exp()
    z = y.sin()
    saved = z.grad_fn._saved_self
    assert saved.grad_fn is y.grad_fn and saved._version == 0
    np.testing.assert_array_equal(saved.detach().numpy(), y.detach().numpy())
    (g,) = retrograd.autograd.grad(z.sum(), x, create_graph=True)
    (gg,) = retrograd.autograd.grad(g.sum(), x)
    value = x.detach().numpy()
    exact = np.exp(value) * np.cos(np.exp(value)) - np.exp(2 * value) * np.sin(np.exp(value))
    np.testing.assert_allclose(gg.numpy(), exact, rtol=1e-6)


def test_a_leaf_saved_by_an_op_reads_back_as_the_leaf_itself():
    x = retrograd.tensor([0.3, 0.7], requires_grad=True)
    assert x.sin().grad_fn._saved_self is x


@needs_torch
def test_a_saved_input_changed_in_place_raises_pytorchs_error():
    import torch

    messages = []
    for library in (torch, retrograd):
        x = library.tensor([0.3, 0.7], requires_grad=True)
        y = x.exp()
        z = y.sin()
        with library.no_grad():
            y.add_(1)
        with pytest.raises(RuntimeError) as raised:
            z.sum().backward()
        messages.append(str(raised.value).split(". Hint")[0].replace("torch.", "").replace("retrograd.", ""))
    assert messages[0] == messages[1]


def test_a_saved_result_read_back_shares_the_version_counter_of_the_result():
    x = retrograd.tensor([0.3, 0.7], requires_grad=True)
    y = x.exp()
    assert y.grad_fn._saved_result._version_counter is y._version_counter
    z = y.sin()
    assert z.grad_fn._saved_self._version_counter is y._version_counter


def test_nodes_of_ops_called_without_parameters_share_their_empty_parameters():
    x = retrograd.tensor([0.5], requires_grad=True)
    assert x.sin().grad_fn._params is x.exp().grad_fn._params == {}
    assert x.sum(0).grad_fn._params["dim"] == (0,)


def _tracked_before_any_collection(step, ops: int = 600) -> float:
    """New tracked objects per op while the collector has not run (so has untracked nothing):
    what makes its young collections come, and the objects each must visit."""
    x = retrograd.tensor([0.5], requires_grad=True)
    y = x * 1.0
    for _ in range(3):
        y = step(y, x)
    gc.collect()
    gc.disable()
    try:
        before = {id(value) for value in gc.get_objects()}
        for _ in range(ops):
            y = step(y, x)
        return sum(1 for value in gc.get_objects() if id(value) not in before) / ops
    finally:
        gc.enable()


def test_a_recorded_op_makes_no_tracked_tuple_for_its_input_metadata():
    # add: the node only; sin: the node, its saved values and their versions (tuples the
    # collector stops tracking when it first sees them); the (shape, dtype) pairs are shared
    assert _tracked_before_any_collection(CHAIN["add"]) <= 1.02
    assert _tracked_before_any_collection(CHAIN["sin"]) <= 4.02


def test_equal_input_metadata_is_one_shared_tuple():
    from retrograd.autograd import graph

    x = retrograd.tensor([0.5, 1.0], requires_grad=True)
    first, second = x.sin().grad_fn, (x * x).grad_fn.next_functions and x.exp().grad_fn
    assert first._input_meta is second._input_meta == (((2,), np.dtype(np.float32)),)
    double = retrograd.tensor([0.5, 1.0], dtype=retrograd.float64, requires_grad=True).sin().grad_fn
    assert double._input_meta == (((2,), np.dtype(np.float64)),)
    graph.shared_metas.clear()
    for size in range(1, graph._MOST_METAS + 10):
        graph.shared_meta((((size,), np.dtype(np.float32)),))
    assert 0 < len(graph.shared_metas) <= graph._MOST_METAS


def test_the_metadata_of_one_or_two_inputs_is_found_from_the_inputs_and_cleared_with_the_rest():
    from retrograd.autograd import graph

    x = retrograd.tensor([0.5, 1.0], requires_grad=True)
    y = retrograd.tensor([[2.0], [3.0]], requires_grad=True)
    pair, alone = (x + y).grad_fn._input_meta, x.sin().grad_fn._input_meta
    assert pair == (x._meta, y._meta) and alone == (x._meta,)
    assert graph.shared_metas[pair] is pair and graph.shared_metas[alone] is alone
    assert (x * y).grad_fn._input_meta is pair and x.exp().grad_fn._input_meta is alone
    assert (y + x).grad_fn._input_meta == (y._meta, x._meta)  # (order matters)
    assert (x + y.detach()).grad_fn._input_meta == (x._meta, None)
    graph.shared_metas.clear()
    for size in range(1, graph._MOST_METAS + 2):  # (the table fills and starts again)
        graph.shared_meta((((size,), np.dtype(np.float32)),))
    assert graph.shared_metas_of_one == {} and graph.shared_metas_of_two == {}
    assert (x - y).grad_fn._input_meta == (x._meta, y._meta)
    assert graph.shared_metas_of_two[x._meta][y._meta] is graph.shared_metas[(x._meta, y._meta)]


def test_hooks_and_traces_live_apart_from_the_nodes_and_tensors_that_have_none():
    x = retrograd.tensor([0.5, 1.0], requires_grad=True)
    y = x.sin()
    node = y.grad_fn
    assert node._extras is None and y._extras is None and x._extras is None
    assert node._hooks is node._pre_hooks is node._tensor_pre_hooks is node._anomaly_trace is None
    assert y._backward_hooks is None and y._retains_grad is False
    seen = []
    node.register_prehook(lambda grads: seen.append("pre"))
    y.retain_grad()
    y.register_hook(lambda grad: seen.append("tensor"))
    assert node._extras is not None and y._extras is not None
    assert list(node._tensor_pre_hooks) == [0] and y._retains_grad is True
    assert node._hooks is None and x._extras is None
    y.sum().backward()
    assert seen == ["tensor", "pre"] and y.grad.tolist() == [1.0, 1.0]
    with retrograd.autograd.detect_anomaly():
        traced = x.exp().grad_fn
    assert traced._anomaly_trace and traced._hooks is None


def test_a_tensor_keeps_its_shape_and_dtype_once_asked_and_an_elementwise_output_shares_it():
    from retrograd.autograd import graph

    x = retrograd.tensor([[0.5, 1.0, 1.5]], requires_grad=True)
    assert x._meta is None  # asked for by the first op that records it
    y = x.sin()
    assert x._meta is graph.meta_of(x._data) and x._meta == ((1, 3), np.dtype(np.float32))
    assert y._meta is x._meta and (y * 2.0)._meta is x._meta and (y + x)._meta is x._meta
    assert (y + x.sum())._meta is None  # broadcast: not known without asking
    assert hash(x._meta) == object.__hash__(x._meta)  # hashed by identity: no shape or dtype hashed


def _data_replaced(x):
    x.data = retrograd.ones(4)
    return x


@pytest.mark.parametrize("change", [
    _data_replaced,  # a leaf that requires grad, given another array
    lambda x: (x * 1.0).unsqueeze_(0),  # shape methods in place, on non-leaves
    lambda x: (x * 1.0).t_(),
    lambda x: x.detach().resize_(6),  # (resize_ refuses tensors that require grad)
], ids=["data", "unsqueeze_", "t_", "resize_"])
def test_a_tensor_whose_array_changes_shape_forgets_its_shape(change):
    x = retrograd.ones(2, 3, requires_grad=True)
    x.sin()  # (its shape is asked for, and kept)
    target = change(x)
    expected = tuple(target._data.shape)
    assert target._meta is None or target._meta == (expected, np.dtype(np.float32))
    leaf = retrograd.tensor(np.ones(expected, np.float32), requires_grad=True)
    z = leaf * target
    assert z.grad_fn._input_meta[0] == (expected, np.dtype(np.float32))
    if target.requires_grad:
        assert z.grad_fn._input_meta[1] == (expected, np.dtype(np.float32))
    z.sum().backward()
    assert leaf.grad.shape == expected
