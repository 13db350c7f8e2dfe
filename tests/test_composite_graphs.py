"""Composite ops record the graph PyTorch records: the same node at the output and the same
nodes, with the same saved values, a few levels below it (`next_functions`), so a program
that walks or prints the graph sees what it sees under PyTorch; the gradients stay theirs."""

from __future__ import annotations

import numpy as np
import pytest

from test_grad_fn_names import _both_libraries, _comparable, _same, _saved_names

torch = pytest.importorskip("torch")


def _leaf(lib, shape, seed=0, requires_grad=True):
    values = np.random.default_rng(seed).standard_normal(shape)
    return lib.tensor(values, dtype=lib.float64, requires_grad=requires_grad)


def _graph(node, depth: int) -> list | None:
    """`node` and the nodes below it, `depth` levels deep: [name, [(saved name, value)...],
    [the graph of each next function...]]; None for an input that records nothing."""
    if node is None:
        return None
    saved = [(name, _comparable(getattr(node, name))) for name in _saved_names(node)]
    below = [_graph(child, depth - 1) for child, _ in node.next_functions] if depth else []
    return [node.name(), saved, below]


def _same_graph(mine, theirs) -> bool:
    if mine is None or theirs is None:
        return mine is theirs
    (name, saved, below), (their_name, their_saved, their_below) = mine, theirs
    return (name == their_name and [n for n, _ in saved] == [n for n, _ in their_saved]
            and all(_same(a, b) for (_, a), (_, b) in zip(saved, their_saved))
            and len(below) == len(their_below)
            and all(_same_graph(a, b) for a, b in zip(below, their_below)))


def _check(call, depth: int = 4):
    """Compares the graphs of `call(retrograd)` and `call(torch)` (an output, or a tuple of
    the output and what else the test reads) and the outputs' values; returns both calls'."""
    import retrograd

    mine_returned, theirs_returned = call(retrograd), call(torch)
    mine, theirs = (value[0] if isinstance(value, tuple) else value for value in (mine_returned, theirs_returned))
    assert _same_graph(_graph(mine.grad_fn, depth), _graph(theirs.grad_fn, depth)), (
        f"\nours:  {_graph(mine.grad_fn, depth)}\ntorch: {_graph(theirs.grad_fn, depth)}")
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    return mine_returned, theirs_returned


SUM_TO_SIZE = {
    "leading-and-kept": lambda lib: _leaf(lib, (2, 3, 4)).sum_to_size(3, 1),
    "kept-only": lambda lib: _leaf(lib, (2, 3, 4)).sum_to_size(1, 3, 1),
    "leading-only": lambda lib: _leaf(lib, (2, 3)).sum_to_size(3),
    "to-scalar": lambda lib: _leaf(lib, (2, 3)).sum_to_size(()),
    "scalar-to-scalar": lambda lib: _leaf(lib, ()).sum_to_size(()),
}


@pytest.mark.parametrize("call", list(SUM_TO_SIZE.values()), ids=list(SUM_TO_SIZE))
def test_sum_to_size_records_a_sum_and_a_view(call):
    _check(call)


def test_sum_to_size_to_its_own_shape_is_the_input():
    import retrograd

    for lib in (retrograd, torch):
        x = _leaf(lib, (2, 3)) * 1
        assert x.sum_to_size(2, 3) is x


def _instance_norm(lib, running=False, use_input_stats=True, transposed=False):
    x = _leaf(lib, (4, 3, 2) if transposed else (2, 3, 4))
    weight, bias = _leaf(lib, 3, seed=1), _leaf(lib, 3, seed=2)
    stats = (lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)) if running else (None, None)
    out = lib.nn.functional.instance_norm(x.transpose(0, 2) if transposed else x, *stats, weight, bias,
                                          use_input_stats=use_input_stats, momentum=0.3)
    return out, stats


INSTANCE_NORM = {
    "affine": lambda lib: _instance_norm(lib),
    "running": lambda lib: _instance_norm(lib, running=True),
    "eval": lambda lib: _instance_norm(lib, running=True, use_input_stats=False),
    "not-contiguous": lambda lib: _instance_norm(lib, transposed=True),
    "plain": lambda lib: (lib.nn.functional.instance_norm(_leaf(lib, (2, 2, 3, 2))), ()),
}


@pytest.mark.parametrize("call", list(INSTANCE_NORM.values()), ids=list(INSTANCE_NORM))
def test_instance_norm_records_batch_norm_of_one_sample(call):
    (_, mine), (_, theirs) = _check(call)
    for ours, reference in zip(mine, theirs):
        if reference is not None:
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-14)
            assert ours._version == reference._version


def _cdist(lib, shapes, p=2.0, compute_mode=None, same_rows=False, leaves=None):
    """cdist of two leaves (or `leaves` given), and the leaves; with `same_rows`, row 0 of x1
    is row 0 of x2 (a zero distance) and the other rows of x2 are 0.25 (ties for p = inf)."""
    leaves = leaves or (_leaf(lib, shapes[0], seed=1), _leaf(lib, shapes[1], seed=2))
    x1, x2 = leaves
    if same_rows:
        x1 = lib.cat([x2[..., :1, :], x1[..., 1:, :]], -2)
        x2 = lib.cat([x2[..., :1, :], x2[..., 1:, :] * 0 + 0.25], -2)
    kwargs = {} if compute_mode is None else {"compute_mode": compute_mode}
    return lib.cdist(x1, x2, p, **kwargs), leaves


CDIST_CASES = {
    **{f"p={p}": (((3, 2), (4, 2)), {"p": p, "same_rows": True})
       for p in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("inf"))},
    "batch-broadcast": (((1, 3, 2), (4, 2, 2)), {"p": 3.0}),
    "many-rows": (((30, 3), (4, 3)), {}),
    "many-rows-batched": (((2, 1, 3, 3), (3, 26, 3)), {}),
    "many-rows-one-batch": (((1, 30, 3), (4, 3)), {}),
    "mm-asked": (((3, 2), (4, 2)), {"compute_mode": "use_mm_for_euclid_dist"}),
    "mm-refused": (((30, 3), (4, 3)), {"compute_mode": "donot_use_mm_for_euclid_dist"}),
    "empty": (((0, 3), (40, 3)), {}),
}


def _check_with_gradients(call):
    """_check, then the gradients of the output (at a random gradient) for the leaves each
    call returns beside it, compared with PyTorch's."""
    import retrograd

    (mine, mine_leaves), (theirs, their_leaves) = _check(call)
    mine_leaves = [leaf for leaf in mine_leaves if leaf.requires_grad]
    their_leaves = [leaf for leaf in their_leaves if leaf.requires_grad]
    grad = np.random.default_rng(5).standard_normal(tuple(mine.shape))
    mine_grads = retrograd.autograd.grad(mine, mine_leaves, retrograd.tensor(grad), allow_unused=True)
    their_grads = torch.autograd.grad(theirs, their_leaves, torch.tensor(grad), allow_unused=True)
    for ours, reference in zip(mine_grads, their_grads, strict=True):
        assert (ours is None) == (reference is None)
        if reference is not None:
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("shapes", "options"), list(CDIST_CASES.values()), ids=list(CDIST_CASES))
def test_cdist_records_pytorchs_kernel_node_and_gradients(shapes, options):
    _check_with_gradients(lambda lib: _cdist(lib, shapes, **options))


@pytest.mark.parametrize("name", ["p=0.5", "p=1.5", "p=2.0", "p=3.0", "batch-broadcast", "many-rows-batched",
                                  "mm-asked"])
def test_cdist_derivatives_are_exact(name):
    import retrograd

    shapes, options = CDIST_CASES[name]
    options = dict(options, same_rows=False)  # (away from zero distances, where it has no derivative)
    leaves = tuple(_leaf(retrograd, shape, seed) for seed, shape in enumerate(shapes))

    def distance(x1, x2):
        return _cdist(retrograd, shapes, leaves=(x1, x2), **options)[0]

    assert retrograd.autograd.gradcheck(distance, leaves)
    assert retrograd.autograd.gradgradcheck(distance, leaves)
    assert retrograd.autograd.gradcheck(distance, leaves, check_forward_ad=True, check_backward_ad=False)


def test_cdist_refuses_what_pytorch_refuses():
    import retrograd

    calls = [lambda lib: lib.cdist(lib.ones(3), lib.ones(3, 3)),
             lambda lib: lib.cdist(lib.ones(3, 2), lib.ones(3, 3)),
             lambda lib: lib.cdist(lib.ones(3, 2), lib.ones(3, 2), p=-1),
             lambda lib: lib.cdist(lib.ones(3, 2), lib.ones(3, 2), compute_mode="x"),
             lambda lib: lib.cdist(lib.ones(3, 2), lib.ones(3, 2, dtype=lib.float64)),
             lambda lib: lib.cdist(lib.ones(3, 2, dtype=lib.int32), lib.ones(3, 2, dtype=lib.int32))]
    for call in calls:
        with pytest.raises((RuntimeError, ValueError)) as theirs:
            call(torch)
        with pytest.raises(theirs.type, match=str(theirs.value)):
            call(retrograd)


def _pairwise_distance(lib, shapes, second_requires_grad=True, **options):
    leaves = (_leaf(lib, shapes[0], seed=1), _leaf(lib, shapes[1], seed=2, requires_grad=second_requires_grad))
    return lib.nn.functional.pairwise_distance(*leaves, **options), leaves


PAIRWISE_DISTANCE = {
    "p=2": (((3, 4), (3, 4)), {}),
    "p=1.5-keepdim": (((3, 4), (4,)), {"p": 1.5, "keepdim": True}),
    "vectors": (((4,), (4,)), {"p": 1}),
    "p=inf": (((2, 3, 4), (3, 4)), {"p": float("inf")}),
    "p=0": (((3, 4), (3, 4)), {"p": 0}),
    "p=-1": (((3, 4), (3, 4)), {"p": -1, "eps": 0.0}),
    "second-without-grad": (((3, 4), (3, 4)), {"second_requires_grad": False}),
}


@pytest.mark.parametrize(("shapes", "options"), list(PAIRWISE_DISTANCE.values()), ids=list(PAIRWISE_DISTANCE))
def test_pairwise_distance_records_a_norm_of_the_shifted_difference(shapes, options):
    _check_with_gradients(lambda lib: _pairwise_distance(lib, shapes, **options))


def test_pairwise_distance_of_p0_gives_no_gradient_and_a_zero_tangent():
    for lib in _both_libraries():
        x, other = _leaf(lib, (3, 4)), _leaf(lib, (3, 4), seed=1, requires_grad=False)
        out = lib.nn.functional.pairwise_distance(x, other, p=0)
        assert lib.autograd.grad(out.sum(), x, create_graph=True, allow_unused=True) == (None,)
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(x.detach(), lib.ones(3, 4, dtype=lib.float64))
            tangent = lib.autograd.forward_ad.unpack_dual(
                lib.nn.functional.pairwise_distance(dual, other, p=0)).tangent
            assert np.array_equal(tangent.numpy(), np.zeros(3))


FOLDS = {
    "unfold": ((2, 3, 4, 5), lambda lib, x: lib.nn.functional.unfold(x, 2)),
    "unfold-geometry": ((2, 1, 4, 4), lambda lib, x: lib.nn.functional.unfold(
        x, (2, 3), dilation=(1, 2), padding=1, stride=2)),
    "unfold-unbatched": ((3, 4, 5), lambda lib, x: lib.nn.functional.unfold(x, (2, 1), padding=(0, 1))),
    "fold": ((2, 8, 6), lambda lib, x: lib.nn.functional.fold(x, (3, 4), 2)),
    "fold-geometry": ((2, 6, 6), lambda lib, x: lib.nn.functional.fold(
        x, (4, 5), (2, 3), stride=2, padding=1, dilation=(1, 2))),
    "fold-unbatched": ((4, 6), lambda lib, x: lib.nn.functional.fold(x, (3, 4), 2)),
}


@pytest.mark.parametrize(("shape", "call"), list(FOLDS.values()), ids=list(FOLDS))
def test_fold_and_unfold_record_pytorchs_nodes_and_their_gradients_each_other(shape, call):
    import retrograd

    def with_leaf(lib):
        x = _leaf(lib, shape)
        return call(lib, x), (x,)

    def recorded_gradient(lib):  # (create_graph: the other node of the pair, as PyTorch's)
        x = _leaf(lib, shape)
        out = call(lib, x)
        return lib.autograd.grad((out * out).sum(), x, create_graph=True)[0]

    _check_with_gradients(with_leaf)
    _check(recorded_gradient, depth=2)
    assert retrograd.autograd.gradgradcheck(lambda x: (call(retrograd, x) ** 2).sum(), (_leaf(retrograd, shape),))


COMBINATIONS = {
    "pairs": ((4,), {}),
    "triples": ((3,), {"r": 3}),
    "with-replacement": ((3,), {"r": 2, "with_replacement": True}),
    "one": ((3,), {"r": 1}),
    "more-than-the-elements": ((2,), {"r": 3}),
    "empty": ((0,), {}),
}


@pytest.mark.parametrize(("shape", "options"), list(COMBINATIONS.values()), ids=list(COMBINATIONS))
def test_combinations_records_a_grid_selected_and_stacked(shape, options):
    def combinations(lib):
        x = _leaf(lib, shape)
        return lib.combinations(x, **options), (x,)

    _check_with_gradients(combinations)


def test_combinations_of_none_is_an_empty_tensor_without_history():
    for lib in _both_libraries():
        out = lib.combinations(_leaf(lib, (3,)), 0)
        assert out.shape == (0,) and out.grad_fn is None and not out.requires_grad


KEYS = {
    "negative-int": (slice(None), -1),
    "negative-first": -2,
    "two-slices": (slice(1, None), slice(None, None, 2)),
    "none-ellipsis-int": (None, Ellipsis, 0),
    "two-ints": (0, -1),
    "int-none-slice": (1, None, slice(1, 3)),
    "slice-then-list": (slice(1, None), [0, 2]),
    "int-then-list": (0, None, [1, 1]),
}


@pytest.mark.parametrize("key", list(KEYS.values()), ids=list(KEYS))
def test_a_basic_key_records_one_node_per_component_as_pytorch(key):
    def indexed(lib):
        x = _leaf(lib, (3, 4))
        return x[key], (x,)

    _check_with_gradients(indexed)


MASKS = {
    "mask": lambda lib, x: x[x.detach() > 0],
    "mask-after-slice": lambda lib, x: x[:, lib.tensor([True, False, True, True])],
    "mask-and-list": lambda lib, x: x[lib.tensor([True, False, True]), [0, 3]],
    "index-put-mask": lambda lib, x: x.index_put((x.detach() > 0,), lib.tensor(2.0, dtype=lib.float64)),
    "index-put-masks-accumulated": lambda lib, x: x.index_put(
        (lib.tensor([True, False, True]),), lib.ones(4, dtype=lib.float64), accumulate=True),
}


@pytest.mark.parametrize("call", list(MASKS.values()), ids=list(MASKS))
def test_an_index_node_shows_a_mask_as_given(call):
    def indexed(lib):
        x = _leaf(lib, (3, 4))
        return call(lib, x), (x,)

    _check_with_gradients(indexed)


def test_attention_scales_both_sides_and_gives_zeros_for_a_query_that_sees_nothing():
    def attention(lib):
        query, key, value = _leaf(lib, (2, 3, 4)), _leaf(lib, (2, 5, 4), seed=1), _leaf(lib, (2, 5, 2), seed=2)
        mask = lib.tensor(np.array([[True] * 5, [False] * 5, [True, False, True, False, True]]))
        out = lib.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask)
        return out, (query, key, value)

    import retrograd

    mine, leaves = attention(retrograd)
    theirs, their_leaves = attention(torch)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert np.array_equal(mine.detach().numpy()[:, 1], np.zeros((2, 2)))
    softmax, their_softmax = mine.grad_fn, theirs.grad_fn
    for _ in range(8):  # (down the products' first inputs to the softmax)
        if softmax.name() == "SafeSoftmaxBackward0":
            break
        softmax, their_softmax = softmax.next_functions[0][0], their_softmax.next_functions[0][0]
    assert softmax.name() == their_softmax.name() == "SafeSoftmaxBackward0"
    assert _same_graph(_graph(mine.grad_fn, 4), _graph(theirs.grad_fn, 4))
    for ours, reference in zip(retrograd.autograd.grad(mine.sum(), leaves),
                               torch.autograd.grad(theirs.sum(), their_leaves), strict=True):
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)
