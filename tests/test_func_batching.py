"""vmap over every op of the table equals a loop over the batch.

For every sample of every op, each floating tensor argument gets a batch of perturbed
copies; `vmap(op)` over them must give what calling the op on each example gives, stacked.
Ops batch by their rule (one physical call) or fall back to a loop with a warning; the
ops named in RULED must never fall back.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import retrograd
from op_samples import samples_for
from retrograd.func import vmap
from retrograd.ops import table

BATCH = 2


def _cases():
    for name, info in sorted(table.items()):
        if samples_for(info) is None:
            continue
        for index, (args, kwargs) in enumerate(samples_for(info)(np.random.default_rng(0))):
            floats = [position for position, value in enumerate(args)
                      if isinstance(value, retrograd.Tensor) and value.dtype.is_floating_point]
            if not floats:
                continue
            yield pytest.param(info, args, kwargs, tuple(floats), id=f"{name}-{index}-all")
            if len(floats) > 1:
                yield pytest.param(info, args, kwargs, tuple(floats[:1]), id=f"{name}-{index}-first")


CASES = list(_cases())

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


@pytest.mark.parametrize(("info", "args", "kwargs", "batched"), CASES)
def test_vmap_of_op_equals_loop_over_batch(info, args, kwargs, batched):
    rng = np.random.default_rng(1)
    inputs = [_perturbed_batch(value, rng) if position in batched else value
              for position, value in enumerate(args)]
    in_dims = tuple(0 if position in batched else None for position in range(len(args)))
    run = _call(info, kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = vmap(run, in_dims=in_dims)(*inputs)
    fell_back = [str(w.message) for w in caught if "performance drop" in str(w.message)]
    examples = [run(*[value[index] if position in batched else value
                      for position, value in enumerate(inputs)]) for index in range(BATCH)]
    for position, mine in enumerate(_as_tuple(out)):
        expected = retrograd.stack([_as_tuple(example)[position] for example in examples])
        assert tuple(mine.shape) == tuple(expected.shape)
        np.testing.assert_allclose(mine.detach().numpy(), expected.detach().numpy(),
                                   rtol=1e-9, atol=1e-12)
    if info.name in RULED:
        assert fell_back == []


def test_every_ruled_op_is_in_the_table():
    assert set(table) >= RULED


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
                                         "implemented the batching rule for retrograd::Trace"):
        out = vmap(retrograd.trace)(x)
    expected = retrograd.stack([retrograd.trace(x[i]) for i in range(3)])
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
