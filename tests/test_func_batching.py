"""vmap over every op of the table equals a loop over the batch.

For every sample of every op, each floating tensor argument gets a batch of perturbed
copies; `vmap(op)` over them must give what calling the op on each example gives, stacked.
Ops batch by their rule (one physical call on the whole batch) or fall back to a loop with
PyTorch's "performance drop" warning; only the ops in ALLOWED_FALLBACKS may fall back in a
sample, and every one of them must (so the set is exact). The gradient through each case
equals the loop's too.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import retrograd
from op_samples import samples_for
from retrograd.func import vmap
from retrograd.ops import table

BATCH = 2


# Ops whose examples, under vmap, are not the slices `batch[i]` the loop below compares with.
OWN_STORAGE = {
    "as_strided": "reads the storage: under vmap each example has its own, as in PyTorch (a window's "
                  "offset counts from the example's start; test_as_strided compares with PyTorch's vmap)",
    "as_strided_scatter": "reads the storage, as as_strided (PyTorch's vmap refuses it; "
                          "test_as_strided_scatter checks ours)",
}


def _cases():
    for name, info in sorted(table.items()):
        if samples_for(info) is None or name in OWN_STORAGE:
            continue
        for index, (args, kwargs) in enumerate(samples_for(info)(np.random.default_rng(0))):
            floats = [position for position, value in enumerate(args)
                      if isinstance(value, retrograd.Tensor) and value.dtype.is_floating_point]
            if not floats:
                continue
            yield pytest.param(info, args, kwargs, tuple(floats), id=f"{name}-{index}-all")
            if len(floats) > 1:
                yield pytest.param(info, args, kwargs, tuple(floats[:1]), id=f"{name}-{index}-first")
            tensors = [position for position, value in enumerate(args)
                       if isinstance(value, retrograd.Tensor)]
            if tensors != floats:  # integer indices and bool masks batched too (per example)
                yield pytest.param(info, args, kwargs, tuple(tensors), id=f"{name}-{index}-ints")


CASES = list(_cases())

# The ops that may fall back to a loop over the examples in some sample, as PyTorch's do:
# repeat_interleave by per-example repeats (each example's result may have its own size);
# embedding with max_norm and a batched weight (PyTorch has no rule for embedding_renorm_);
# quantile and nanquantile always (PyTorch has no rule for them).
# (PyTorch also falls back for take, masked_scatter, kl_div and triplet_margin_loss; here
# they have rules.)
ALLOWED_FALLBACKS = frozenset({"repeat_interleave", "embedding", "quantile", "nanquantile"})

_DYNAMIC_MASK = (RuntimeError, "vmap: We do not support batching operators that can support "
                               "dynamic shape. Attempting to batch over indexing with a boolean mask.")
_MASKED_SELECT = (RuntimeError, "vmap: Attempted to vmap over `mask` in torch.masked_select(self, "
                                "mask) We cannot support this because for each batch this would "
                                "return a differently shaped Tensor.")

# Samples that PyTorch's vmap refuses, with its error: batch_norm in training (and
# instance_norm with running statistics) updates
# running statistics that are not batched, in place; a batched bool mask would select a
# different number of elements from each example.
EXPECTED_ERRORS = {
    "batch_norm-3-all": (RuntimeError, "Batch norm got a batched tensor as input while the "
                                       "running_mean or running_var, which will be updated in "
                                       "place, were not batched."),
    "instance_norm-2-all": (RuntimeError, "Batch norm got a batched tensor as input while the "
                                          "running_mean or running_var, which will be updated in "
                                          "place, were not batched."),
    "__getitem__-8-ints": _DYNAMIC_MASK,
    "__getitem__-9-ints": _DYNAMIC_MASK,
    "masked_select-0-ints": _MASKED_SELECT,
    "masked_select-1-ints": _MASKED_SELECT,
}

# Ops whose batching rule must be used (no per-example fallback): elementwise, reductions,
# shape ops, products, the common layers and losses.
RULED = {
    "add", "sub", "mul", "div", "pow", "exp", "log", "sin", "tanh", "sigmoid", "relu", "abs",
    "clamp", "where", "maximum", "minimum", "sqrt", "neg", "masked_fill", "gelu", "silu",
    "leaky_relu", "softplus", "elu", "sum", "mean", "prod", "amax", "amin", "logsumexp", "var",
    "std", "cumsum", "softmax", "log_softmax", "sort", "view", "reshape", "expand", "transpose",
    "permute", "squeeze", "unsqueeze", "flatten", "movedim", "t", "cat", "stack", "flip", "roll",
    "tril", "triu", "select", "narrow", "split", "chunk", "unbind", "matmul", "mm", "bmm", "mv",
    "dot", "linear", "addmm", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "nll_loss", "binary_cross_entropy_with_logits", "eq", "gt", "argmax", "gather", "einsum",
    "layer_norm", "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "linalg.inv", "linalg.det", "linalg.slogdet", "linalg.solve", "linalg.cholesky", "linalg.eigh",
    "linalg.svd", "linalg.qr", "linalg.solve_triangular",
}


def _perturbed_batch(value: retrograd.Tensor, rng) -> retrograd.Tensor:
    if not value.dtype.is_floating_point:  # indices and masks: the sample's, then flipped
        assert BATCH == 2
        flipped = retrograd.flip(value, tuple(range(value.ndim))) if value.ndim else value
        return retrograd.stack([value, flipped])
    return retrograd.stack([
        value + retrograd.tensor(rng.uniform(-0.1, 0.1, tuple(value.shape)))
        for _ in range(BATCH)
    ])


def _call(info, kwargs):
    def run(*args):
        if info.mutates_input:
            args = (args[0].clone(), *args[1:])
        return info.function(*args, **kwargs)

    return run


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _case_id(request) -> str:
    return request.node.callspec.id


def _vmapped(info, args, kwargs, batched, requires_grad=False):
    """The batched inputs, the op under vmap, its output and the fallback warnings."""
    rng = np.random.default_rng(1)
    inputs = [_perturbed_batch(value, rng) if position in batched else value
              for position, value in enumerate(args)]
    if requires_grad:
        inputs = [value.requires_grad_() if position in batched and value.dtype.is_floating_point
                  else value for position, value in enumerate(inputs)]
    in_dims = tuple(0 if position in batched else None for position in range(len(args)))
    run = _call(info, kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = vmap(run, in_dims=in_dims)(*inputs)
    fell_back = [str(w.message) for w in caught if "performance drop" in str(w.message)]
    return inputs, run, out, fell_back


@pytest.mark.parametrize(("info", "args", "kwargs", "batched"), CASES)
def test_vmap_of_op_equals_loop_over_batch(info, args, kwargs, batched, request):
    if _case_id(request) in EXPECTED_ERRORS:
        error, message = EXPECTED_ERRORS[_case_id(request)]
        with pytest.raises(error, match=re.escape(message)):
            _vmapped(info, args, kwargs, batched)
        return
    inputs, run, out, fell_back = _vmapped(info, args, kwargs, batched)
    examples = [run(*[value[index] if position in batched else value
                      for position, value in enumerate(inputs)]) for index in range(BATCH)]
    for position, mine in enumerate(_as_tuple(out)):
        expected = retrograd.stack([_as_tuple(example)[position] for example in examples])
        assert tuple(mine.shape) == tuple(expected.shape)
        np.testing.assert_allclose(mine.detach().numpy(), expected.detach().numpy(),
                                   rtol=1e-9, atol=1e-12)
    if info.name in RULED or info.name not in ALLOWED_FALLBACKS:
        assert fell_back == []


def test_every_ruled_op_is_in_the_table():
    assert set(table) >= RULED | ALLOWED_FALLBACKS


def test_the_ops_that_fall_back_are_exactly_the_allowed_ones():
    fell_back = set()
    for case in CASES:
        info, args, kwargs, batched = case.values
        if case.id in EXPECTED_ERRORS:
            continue
        if _vmapped(info, args, kwargs, batched)[3]:
            fell_back.add(info.name)
    assert fell_back == ALLOWED_FALLBACKS


def _floating_outputs(out) -> list:
    return [value for value in _as_tuple(out)
            if isinstance(value, retrograd.Tensor) and value.dtype.is_floating_point]


@pytest.mark.parametrize(("info", "args", "kwargs", "batched"),
                         [case for case in CASES if case.values[0].differentiable
                          and case.id not in EXPECTED_ERRORS])
def test_gradient_through_vmap_of_op_equals_gradient_through_loop(info, args, kwargs, batched):
    """The graph a rule records (on the physical tensors) gives each example's gradient."""
    inputs, run, out, _ = _vmapped(info, args, kwargs, batched, requires_grad=True)
    outputs = [value for value in _floating_outputs(out) if value.requires_grad]
    if not outputs:
        pytest.skip("no differentiable output")
    sources = [inputs[position] for position in batched if inputs[position].dtype.is_floating_point]
    if not sources:
        pytest.skip("no floating input batched")
    rng = np.random.default_rng(5)
    weights = [retrograd.tensor(rng.standard_normal(tuple(value.shape))) for value in outputs]
    mine = retrograd.autograd.grad(sum((value * weight).sum() for value, weight in zip(outputs, weights)),
                                   sources, allow_unused=True)
    examples = [run(*[value[index] if position in batched else value
                      for position, value in enumerate(inputs)]) for index in range(BATCH)]
    looped = [retrograd.stack([_floating_outputs(example)[position] for example in examples])
              for position in range(len(_floating_outputs(examples[0])))]
    looped = [value for value, original in zip(looped, _floating_outputs(out)) if original.requires_grad]
    expected = retrograd.autograd.grad(
        sum((value * weight).sum() for value, weight in zip(looped, weights)), sources,
        allow_unused=True)
    for position, (a, b) in enumerate(zip(mine, expected)):
        if b is None:
            assert a is None or not a.numpy(force=True).any(), position
            continue
        # (force=True: sgn's gradient is a zero tensor, which numpy() refuses unforced)
        np.testing.assert_allclose(a.numpy(force=True), b.numpy(force=True), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["add", "sum", "matmul", "linear", "softmax", "max_pool2d",
                                  "avg_pool2d", "adaptive_avg_pool2d", "pad", "conv2d",
                                  "linalg.inv", "linalg.det", "linalg.solve", "linalg.eigvalsh"])
def test_gradient_through_vmap_of_op_equals_loop(name):
    """The graph a rule records (on physical tensors) differentiates like the loop's."""
    info = table[name]
    args, kwargs = samples_for(info)(np.random.default_rng(0))[0]
    rng = np.random.default_rng(2)
    batched = [_perturbed_batch(value, rng).requires_grad_() if isinstance(value, retrograd.Tensor)
               else value for value in args]
    in_dims = tuple(0 if isinstance(value, retrograd.Tensor) else None for value in batched)
    out = vmap(_call(info, kwargs), in_dims=in_dims)(*batched)
    weights = retrograd.tensor(rng.standard_normal(tuple(out.shape)))
    mine = retrograd.autograd.grad((out * weights).sum(), [b for b in batched if isinstance(b, retrograd.Tensor)])
    looped = retrograd.stack([
        _call(info, kwargs)(*[b[i] if isinstance(b, retrograd.Tensor) else b for b in batched])
        for i in range(BATCH)])
    expected = retrograd.autograd.grad((looped * weights).sum(),
                                       [b for b in batched if isinstance(b, retrograd.Tensor)])
    for a, b in zip(mine, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_op_without_rule_falls_back_with_pytorchs_warning():
    x = retrograd.randn(3, 4, 4)
    with pytest.warns(UserWarning, match="There is a performance drop because we have not yet "
                                         "implemented the batching rule for retrograd::histc"):
        out = vmap(lambda xi: retrograd.histc(xi, bins=5, min=-1, max=1))(x)
    expected = retrograd.stack([retrograd.histc(x[i], bins=5, min=-1, max=1) for i in range(3)])
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_per_example_gradients_of_a_convolution_use_grouped_weights():
    from retrograd.func import functional_call, grad

    retrograd.manual_seed(0)
    model = retrograd.nn.Sequential(retrograd.nn.Conv2d(2, 4, 3, padding=1), retrograd.nn.ReLU(),
                                    retrograd.nn.Conv2d(4, 4, 3, groups=2, stride=2)).double()
    params = {name: value.detach() for name, value in model.named_parameters()}
    x = retrograd.randn(3, 2, 6, 6, dtype=retrograd.float64)

    def loss(p, xi):
        return (functional_call(model, p, (xi,)) ** 2).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        per_example = vmap(grad(loss), in_dims=(None, 0))(params, x)
    for index in range(3):
        expected = grad(loss)(params, x[index])
        for name in params:
            np.testing.assert_allclose(per_example[name][index].numpy(), expected[name].numpy(),
                                       rtol=1e-10, atol=1e-12)


def test_writing_into_a_slice_of_a_batched_value_is_batched_and_differentiable():
    x = retrograd.randn(3, 4, 5, dtype=retrograd.float64, requires_grad=True)

    def f(a):
        b = a.clone()
        b[:, 1] = a[:, 0] * 2
        return b

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        out = vmap(f)(x)
    looped = retrograd.stack([f(x[i]) for i in range(3)])
    np.testing.assert_allclose(out.detach().numpy(), looped.detach().numpy())
    weights = retrograd.randn(3, 4, 5, dtype=retrograd.float64)
    (mine,) = retrograd.autograd.grad((out * weights).sum(), x)
    (expected,) = retrograd.autograd.grad((looped * weights).sum(), x)
    np.testing.assert_allclose(mine.numpy(), expected.numpy())


def test_layer_norm_with_per_example_weights_equals_a_loop():
    from retrograd.func import grad

    x = retrograd.randn(3, 2, 5, dtype=retrograd.float64)
    weight = retrograd.randn(5, dtype=retrograd.float64)
    bias = retrograd.randn(5, dtype=retrograd.float64)

    def loss(w, b, xi):
        return (retrograd.nn.functional.layer_norm(xi, (5,), w, b) ** 3).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_example = vmap(grad(loss, argnums=(0, 1)), in_dims=(None, None, 0))(weight, bias, x)
    for index in range(3):
        expected = grad(loss, argnums=(0, 1))(weight, bias, x[index])
        for mine, theirs in zip(per_example, expected):
            np.testing.assert_allclose(mine[index].numpy(), theirs.numpy(), rtol=1e-10)


def test_per_example_gradients_of_an_embedding_equal_a_loop():
    from retrograd.func import grad

    weight = retrograd.randn(6, 3, dtype=retrograd.float64)
    indices = retrograd.tensor([[0, 2, 2], [5, 1, 0]])

    def loss(w, idx):
        return (retrograd.nn.functional.embedding(idx, w) ** 2).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        per_example = vmap(grad(loss), in_dims=(None, 0))(weight, indices)
        looked_up = vmap(lambda idx: retrograd.nn.functional.embedding(idx, weight))(indices)
    np.testing.assert_allclose(looked_up.numpy(), weight.numpy()[indices.numpy()])
    for index in range(2):
        np.testing.assert_allclose(per_example[index].numpy(), grad(loss)(weight, indices[index]).numpy())


@pytest.mark.parametrize("options", [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1},
    {"weight": "weights"}, {"ignore_index": 1}, {"probabilities": True},
    {"probabilities": True, "label_smoothing": 0.2}, {"rows": True}, {"rows": True, "weight": "weights"},
], ids=str)
def test_cross_entropy_per_example_equals_a_loop(options):
    options = dict(options)
    rng = np.random.default_rng(3)
    rows = options.pop("rows", False)
    shape = (4, 2, 5) if rows else (4, 5)
    logits = retrograd.tensor(rng.standard_normal(shape))
    if options.pop("probabilities", False):
        target = retrograd.tensor(rng.dirichlet(np.ones(5), size=shape[:-1]))
    else:
        target = retrograd.tensor(rng.integers(0, 5, shape[:-1]))
    if options.get("weight") == "weights":
        options["weight"] = retrograd.tensor(rng.uniform(0.5, 2.0, 5))

    def loss(x, t):
        return retrograd.nn.functional.cross_entropy(x, t, **options)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batched, no fallback
        out = vmap(loss)(logits, target)
    expected = retrograd.stack([loss(logits[i], target[i]) for i in range(4)])
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)


def test_masked_select_by_a_batched_mask_is_refused_as_pytorch():
    x = retrograd.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=re.escape(
            "vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot "
            "support this because for each batch this would return a differently shaped Tensor.")):
        vmap(retrograd.masked_select)(x, x > 0)
    # a mask that is not batched selects as many elements from every example: batched
    mask = retrograd.tensor([True, False, True, True])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = vmap(retrograd.masked_select, in_dims=(0, None))(x, mask)
    np.testing.assert_allclose(out.numpy(), x.numpy()[:, np.broadcast_to(mask.numpy(), (3, 4))].reshape(2, -1))


def _write_by_mask(xi, mask):
    out = xi.clone()
    out[mask] = 0.5
    return out


@pytest.mark.parametrize("function", [lambda xi, mask: xi[mask], _write_by_mask], ids=["read", "write"])
def test_indexing_by_a_batched_bool_mask_is_refused_as_pytorch(function):
    x = retrograd.randn(2, 3)
    with pytest.raises(RuntimeError, match="vmap: We do not support batching operators that can "
                                           "support dynamic shape. Attempting to batch over "
                                           "indexing with a boolean mask."):
        vmap(function)(x, x > 0)


def _per_example_grads_equal_a_loop(model, x):
    from retrograd.func import functional_call, grad

    params = {name: value.detach() for name, value in model.named_parameters()}

    def loss(p, xi):
        return (functional_call(model, p, (xi,)) ** 2).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        per_example = vmap(grad(loss), in_dims=(None, 0))(params, x)
    for index in range(x.shape[0]):
        expected = grad(loss)(params, x[index])
        for name in params:
            np.testing.assert_allclose(per_example[name][index].numpy(), expected[name].numpy(),
                                       rtol=1e-10, atol=1e-12)


def test_per_example_gradients_of_a_transposed_convolution_use_grouped_weights():
    retrograd.manual_seed(0)
    model = retrograd.nn.Sequential(
        retrograd.nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1),
        retrograd.nn.Tanh(),
        retrograd.nn.ConvTranspose2d(4, 2, 2, groups=2),
    ).double()
    _per_example_grads_equal_a_loop(model, retrograd.randn(3, 2, 3, 3, dtype=retrograd.float64))


def test_per_example_gradients_of_group_and_batch_norm_layers_equal_a_loop():
    retrograd.manual_seed(0)
    model = retrograd.nn.Sequential(
        retrograd.nn.Conv1d(2, 4, 2), retrograd.nn.GroupNorm(2, 4), retrograd.nn.Tanh(),
        retrograd.nn.BatchNorm1d(4, track_running_stats=False), retrograd.nn.PReLU(4),
    ).double()
    _per_example_grads_equal_a_loop(model, retrograd.randn(3, 5, 2, 6, dtype=retrograd.float64))


@pytest.mark.parametrize("key", [
    "x[idx]", "x[:, idx]", "x[idx, :, jdx]", "x[:, idx, jdx]", "x[idx, 1]", "x[1, :, idx]",
    "x[True]", "x[None, idx]", "x[:, [0, 2]]", "x[[0, 1], :, [1, 0]]", "x[..., idx]",
    "x[idx, ..., jdx]", "x[idx, 1, jdx]", "x[0, ..., None, idx]",
])
@pytest.mark.parametrize("batched_index", [False, True], ids=["plain_index", "batched_index"])
def test_subscripts_of_batched_tensors_equal_a_loop_without_falling_back(key, batched_index):
    rng = np.random.default_rng(4)
    x = retrograd.tensor(rng.standard_normal((3, 3, 4, 3)), requires_grad=True)
    idx = retrograd.tensor(rng.integers(0, 2, (3, 2)) if batched_index else rng.integers(0, 2, 2))
    jdx = retrograd.tensor(rng.integers(0, 2, (3, 2)) if batched_index else rng.integers(0, 2, 2))
    in_dims = (0, 0 if batched_index else None, 0 if batched_index else None)

    def f(x, idx, jdx):
        return eval(key, {"x": x, "idx": idx, "jdx": jdx})

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        out = vmap(f, in_dims=in_dims)(x, idx, jdx)
    pick = (lambda value, i: value[i]) if batched_index else (lambda value, i: value)
    looped = retrograd.stack([f(x[i], pick(idx, i), pick(jdx, i)) for i in range(3)])
    np.testing.assert_allclose(out.detach().numpy(), looped.detach().numpy())
    weights = retrograd.tensor(rng.standard_normal(tuple(out.shape)))
    (mine,) = retrograd.autograd.grad((out * weights).sum(), x)
    (expected,) = retrograd.autograd.grad((looped * weights).sum(), x)
    np.testing.assert_allclose(mine.numpy(), expected.numpy())


def _values_like(region, scale):
    return retrograd.arange(region.numel(), dtype=retrograd.float64).reshape(region.shape) * scale


def _assert_vmap_equals_loop(f, x, rng):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = vmap(f)(x)
    looped = retrograd.stack([f(x[i]) for i in range(x.shape[0])])
    np.testing.assert_allclose(out.detach().numpy(), looped.detach().numpy())
    weights = retrograd.tensor(rng.standard_normal(tuple(out.shape)))
    (mine,) = retrograd.autograd.grad((out * weights).sum(), x)
    (expected,) = retrograd.autograd.grad((looped * weights).sum(), x)
    np.testing.assert_allclose(mine.numpy(), expected.numpy())
    return [w for w in caught if "performance drop" in str(w.message)]


_IDX, _JDX = retrograd.tensor([0, 2, 0]), retrograd.tensor([1, 0, 1])
_MASK = retrograd.tensor(np.random.default_rng(7).standard_normal((3, 4)) > 0)


@pytest.mark.parametrize("key", [(_IDX,), (slice(None), _IDX), (_IDX, 1), (1, slice(None), _IDX),
                                 (_MASK,), (Ellipsis, _IDX), (_IDX, slice(None), _JDX)],
                         ids=["idx", "slice-idx", "idx-int", "int-slice-idx", "mask", "ellipsis-idx",
                              "idx-slice-jdx"])
def test_writing_at_an_advanced_key_of_a_batched_value_equals_a_loop(key):
    """x[key] = v with plain index tensors: one physical write; a key whose index arrays are
    apart (NumPy would put the indexed dims first) goes example by example."""
    x = retrograd.tensor(np.random.default_rng(6).standard_normal((3, 3, 4, 3)), requires_grad=True)

    def f(xi):
        out = xi.clone()
        out[key] = _values_like(out[key], xi.sum())
        return out

    fell_back = _assert_vmap_equals_loop(f, x, np.random.default_rng(8))
    assert bool(fell_back) == (len(key) == 3 and key[0] is _IDX)


@pytest.mark.parametrize("indices", [(_IDX,), (None, _IDX), (_IDX, _JDX), (_MASK,)],
                         ids=["idx", "none-idx", "idx-jdx", "mask"])
def test_index_put_accumulating_into_a_batched_value_equals_a_loop(indices):
    x = retrograd.tensor(np.random.default_rng(9).standard_normal((3, 3, 4, 3)), requires_grad=True)

    def f(xi):
        region = xi[tuple(slice(None) if item is None else item for item in indices)]
        return xi.index_put(indices, _values_like(region, xi.sum()), accumulate=True)

    assert _assert_vmap_equals_loop(f, x, np.random.default_rng(10)) == []


def test_jacobian_of_masked_select_equals_pytorchs():
    """Batched cotangents through masked_select's backward (the rows of jacrev)."""
    torch = pytest.importorskip("torch")
    from retrograd.func import jacrev

    values = np.random.default_rng(11).standard_normal((4, 5))
    mine = jacrev(lambda x: x.masked_select(x > 0))(retrograd.tensor(values))
    theirs = torch.func.jacrev(lambda x: x.masked_select(x > 0))(torch.tensor(values))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy())


def _write_rows(xi, i):
    out = xi.clone()
    out[i] = xi[0] * 2
    return out


def _write_columns(xi, i):
    out = xi.clone()
    out[:, i] = 7.0
    return out


def _add_at_last_dim(xi, i):
    out = xi.clone()
    out[..., i] += 1.0
    return out


def _index_put_rows(xi, i):
    return xi.index_put((None, i), xi[:, :2] * 3, accumulate=True)


@pytest.mark.parametrize("write", [_write_rows, _write_columns, _add_at_last_dim, _index_put_rows],
                         ids=lambda f: f.__name__.lstrip("_"))
def test_writing_at_per_example_indices_equals_a_loop_without_falling_back(write):
    rng = np.random.default_rng(12)
    x = retrograd.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    idx = retrograd.tensor([[0, 1], [2, 3], [3, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        out = vmap(write)(x, idx)
    looped = retrograd.stack([write(x[i], idx[i]) for i in range(3)])
    np.testing.assert_allclose(out.detach().numpy(), looped.detach().numpy())
    weights = retrograd.tensor(rng.standard_normal(tuple(out.shape)))
    (mine,) = retrograd.autograd.grad((out * weights).sum(), x)
    (expected,) = retrograd.autograd.grad((looped * weights).sum(), x)
    np.testing.assert_allclose(mine.numpy(), expected.numpy())


_F = retrograd.nn.functional
_ROWS = retrograd.tensor([0, 2, 2])
_PER_EXAMPLE_SCALARS = {
    "getitem": lambda x: (x[_ROWS] ** 2).sum(),
    "gather": lambda x: (x.gather(1, retrograd.tensor([[0, 1]] * 4)) ** 3).sum(),
    "diagonal": lambda x: (x.diagonal() ** 3).sum(),
    "max": lambda x: (x.max(1).values ** 3).sum(),
    "embedding": lambda x: (_F.embedding(retrograd.tensor([1, 3]), x) ** 3).sum(),
    "cross_entropy": lambda x: _F.cross_entropy(x, retrograd.tensor([0, 1, 2, 3])),
    "batch_norm": lambda x: (_F.batch_norm(x, None, None, training=True) ** 3).sum(),
    "group_norm": lambda x: (_F.group_norm(x[None], 2) ** 3).sum(),
    "index_select": lambda x: (x.index_select(0, _ROWS) ** 3).sum(),
    "take": lambda x: (x.take(_ROWS) ** 3).sum(),
    "max_pool2d": lambda x: (_F.max_pool2d(x[None], 2) ** 3).sum(),
    "interpolate": lambda x: (_F.interpolate(x[None, None], scale_factor=2, mode="bilinear") ** 3).sum(),
    "conv_transpose2d": lambda x: (_F.conv_transpose2d(
        x[None, None], retrograd.ones(1, 2, 2, 2, dtype=retrograd.float64)) ** 3).sum(),
    "reflect_pad": lambda x: (_F.pad(x[None], (1, 1), mode="reflect") ** 3).sum(),
    "unfold": lambda x: (_F.unfold(x[None, None], 2) ** 3).sum(),
    "scatter_add": lambda x: (x.scatter_add(1, retrograd.tensor([[0, 0, 1, 1, 2]] * 4), x) ** 3).sum(),
    "index_put": lambda x: (x.clone().index_put((_ROWS,), x[:3] * 2) ** 3).sum(),
}


@pytest.mark.parametrize("name", sorted(_PER_EXAMPLE_SCALARS))
def test_per_example_hessians_are_batched_and_equal_a_loop(name):
    """vmap(hessian(f)): the backward formulas run on batched cotangents and tangents too."""
    from retrograd.func import hessian

    f = _PER_EXAMPLE_SCALARS[name]
    x = retrograd.tensor(np.random.default_rng(13).standard_normal((3, 4, 5)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        mine = vmap(hessian(f))(x)
    expected = retrograd.stack([hessian(f)(x[i]) for i in range(3)])
    np.testing.assert_allclose(mine.numpy(), expected.numpy(), rtol=1e-9, atol=1e-12)


IN_PLACE_SHAPE_CALLS = {
    "transpose_": lambda t: t.clone().transpose_(0, 2),
    "swapdims_": lambda t: (t.clone().swapdims_(2, 0) * 2).sum(0),
    "t_": lambda t: t.clone().squeeze_(1).t_(),
    "unsqueeze_": lambda t: t.clone().unsqueeze_(0),
    "squeeze_": lambda t: t.clone().squeeze_(),
    "squeeze_-dims": lambda t: t.clone().squeeze_((1, 2)),
}


@pytest.mark.parametrize("function", list(IN_PLACE_SHAPE_CALLS.values()), ids=list(IN_PLACE_SHAPE_CALLS))
def test_in_place_shape_methods_under_vmap_equal_pytorchs(function):
    """The batched tensor takes the new shape (its physical tensor too), and the gradient flows."""
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((BATCH, 3, 1, 4))
    ours = retrograd.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    result, expected = vmap(function)(ours), torch.vmap(function)(theirs)
    assert tuple(result.shape) == tuple(expected.shape)
    np.testing.assert_allclose(result.detach().numpy(), expected.detach().numpy())
    weights = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    (result * retrograd.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())



INDEX_CALLS = {
    "index_select": lambda x, i: retrograd.index_select(x, 1, i),
    "index_add": lambda x, i: x.index_add(1, i, retrograd.ones(3, 2, dtype=x.dtype)),
    "index_copy": lambda x, i: x.index_copy(1, i, retrograd.ones(3, 2, dtype=x.dtype)),
}


@pytest.mark.parametrize("name", list(INDEX_CALLS))
def test_index_ops_refuse_negative_per_example_positions_as_the_loop_does(name):
    """PyTorch refuses a negative position in these ops, batched or not: vmap raises the error
    the op raises on the example (before, the batched rule counted it from the end)."""
    inputs = retrograd.tensor(np.random.default_rng(0).standard_normal((BATCH, 3, 4)))
    index = retrograd.tensor([[-1, 0], [1, 2]][:BATCH])
    with pytest.raises(Exception) as from_the_loop:
        INDEX_CALLS[name](inputs[0], index[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loop's "performance drop" warning
        with pytest.raises(type(from_the_loop.value), match=re.escape(str(from_the_loop.value))):
            vmap(INDEX_CALLS[name])(inputs, index)
