"""retrograd.func: each transform against closed forms, finite differences and PyTorch's
torch.func (where installed); composition; nn.Modules through functional_call."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd
import retrograd.nn.functional as F
from retrograd.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    stack_module_state,
    vjp,
    vmap,
)


def _t(array) -> retrograd.Tensor:
    return retrograd.tensor(np.asarray(array, dtype=np.float64))


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a.detach().numpy() if isinstance(a, retrograd.Tensor) else a),
                               np.asarray(b.detach().numpy() if isinstance(b, retrograd.Tensor) else b),
                               rtol=tol, atol=tol)


def _torch():
    return pytest.importorskip("torch")


X = _t(np.random.default_rng(0).uniform(-1, 1, (3, 4)))
Y = _t(np.random.default_rng(1).uniform(-1, 1, (3, 4)))


# ---------------------------------------------------------------------------
# grad and grad_and_value


def test_grad_of_cube_sum_is_three_x_squared():
    _close(grad(lambda x: (x ** 3).sum())(X), 3 * X ** 2)


def test_grad_argnums_tuple_gives_one_gradient_per_argument():
    gx, gy = grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(X, Y)
    _close(gx, Y)
    _close(gy, X)


def test_grad_of_a_dict_of_inputs_is_a_dict():
    result = grad(lambda p: (p["a"] * p["b"]).sum())({"a": X, "b": Y})
    assert set(result) == {"a", "b"}
    _close(result["a"], Y)


def test_grad_has_aux_returns_any_tree_of_tensors():
    gradient, aux = grad(lambda x: ((x ** 2).sum(), {"double": 2 * x, "list": [x + 1]}),
                         has_aux=True)(X)
    _close(gradient, 2 * X)
    _close(aux["double"], 2 * X)
    _close(aux["list"][0], X + 1)
    assert aux["double"].grad_fn is None


def test_grad_and_value_value_has_no_graph():
    gradient, value = grad_and_value(lambda x: (x ** 2).sum())(X)
    _close(value, (X ** 2).sum())
    assert value.grad_fn is None and not value.requires_grad
    _close(gradient, 2 * X)


def test_grad_never_touches_dot_grad():
    x = X.detach().clone().requires_grad_()
    grad(lambda a: (a ** 2).sum())(x)
    assert x.grad is None


def test_grad_of_input_requiring_grad_is_differentiable():
    x = X.detach().clone().requires_grad_()
    gradient = grad(lambda a: (a ** 3).sum())(x)
    assert gradient.requires_grad
    gradient.sum().backward()
    _close(x.grad, 6 * X)


def test_grad_of_grad_is_second_derivative():
    x = _t(1.5)
    _close(grad(grad(lambda a: a ** 4))(x), 12 * 1.5 ** 2)


def test_grad_inside_no_grad_still_differentiates():
    with retrograd.no_grad():
        _close(grad(lambda a: (a ** 2).sum())(X), 2 * X)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: grad(retrograd.sin)(X), RuntimeError, "Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 2 dims"),
    (lambda: grad(lambda a: 1.0)(X), RuntimeError, "Expected f\\(\\*args\\) to return a Tensor, got <class 'float'>"),
    (lambda: grad(retrograd.sin, argnums=3)(X), RuntimeError, "Got argnum=3, but only 1 positional inputs"),
    (lambda: grad(retrograd.sin, argnums=1.0)(X), RuntimeError, "argnums must be int or Tuple"),
    (lambda: grad(retrograd.sin, argnums=())(X), RuntimeError, "argnums must be non-empty"),
    (lambda: grad(lambda a: a.sum(), has_aux=True)(X), RuntimeError, "should be a tuple: \\(output, aux\\)"),
    (lambda: grad(lambda a: a.sum())(3.0), ValueError, "Thing passed to transform API must be Tensor"),
])
def test_grad_errors_are_pytorchs(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_grad_matches_torch_func():
    torch = _torch()
    f_ours = lambda x, y: (retrograd.sin(x) * y.exp()).sum()  # noqa: E731
    f_theirs = lambda x, y: (torch.sin(x) * y.exp()).sum()  # noqa: E731
    ours = grad(f_ours, argnums=(0, 1))(X, Y)
    theirs = torch.func.grad(f_theirs, argnums=(0, 1))(torch.tensor(X.numpy()), torch.tensor(Y.numpy()))
    for a, b in zip(ours, theirs):
        _close(a, b.numpy())


# ---------------------------------------------------------------------------
# vjp, jacrev, jacfwd, hessian, jvp, linearize


def test_vjp_of_sin_is_cosine_times_cotangent():
    output, vjp_fn = vjp(retrograd.sin, X)
    _close(output, retrograd.sin(X))
    (result,) = vjp_fn(Y)
    _close(result, retrograd.cos(X) * Y)
    (again,) = vjp_fn(Y)  # the graph is kept for further calls
    _close(again, result)


def test_vjp_cotangent_structure_must_match():
    _, vjp_fn = vjp(retrograd.sin, X)
    with pytest.raises(RuntimeError, match="Expected pytree structure of cotangents"):
        vjp_fn((X, X))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        vjp_fn(retrograd.ones(4, dtype=retrograd.float64))


def _jacobian_by_finite_differences(function, x, step=1e-6):
    flat = x.numpy().reshape(-1)
    columns = []
    for index in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[index] += step
        minus[index] -= step
        difference = (function(_t(plus.reshape(x.shape))) - function(_t(minus.reshape(x.shape)))).numpy()
        columns.append(difference.reshape(-1) / (2 * step))
    out_shape = function(x).shape
    return np.stack(columns, -1).reshape(tuple(out_shape) + tuple(x.shape))


def _f(x):
    return retrograd.tanh(x @ x.T).sum(0) * x[:, 0]


@pytest.mark.parametrize("transform", [jacrev, jacfwd])
def test_jacobian_matches_finite_differences(transform):
    _close(transform(_f)(X), _jacobian_by_finite_differences(_f, X), tol=1e-6)


def test_jacrev_chunk_size_gives_the_same_jacobian():
    _close(jacrev(_f, chunk_size=2)(X), jacrev(_f)(X))
    with pytest.raises(ValueError, match="jacrev: `chunk_size` should be greater than 0."):
        jacrev(_f, chunk_size=0)


def test_jacrev_argnums_and_has_aux():
    (jx, jy), aux = jacrev(lambda x, y: ((x * y).sum(1), x.sum()), argnums=(0, 1), has_aux=True)(X, Y)
    assert tuple(jx.shape) == (3, 3, 4)
    _close(jx[1, 1], Y[1])
    _close(jx[0, 1], np.zeros(4))
    _close(jy[2, 2], X[2])
    _close(aux, X.sum())


def test_jacfwd_equals_jacrev_for_several_outputs():
    function = lambda x: (retrograd.sin(x), (x ** 2).sum(1))  # noqa: E731
    forward, reverse = jacfwd(function)(X), jacrev(function)(X)
    for a, b in zip(forward, reverse):
        _close(a, b)


def test_hessian_of_cube_sum_is_diagonal_six_x():
    x = X[0]
    _close(hessian(lambda a: (a ** 3).sum())(x), retrograd.diag(6 * x))


def test_jacfwd_of_jacrev_is_the_hessian():
    x = X[0]
    function = lambda a: (retrograd.sin(a) * a.sum()).sum()  # noqa: E731
    _close(jacfwd(jacrev(function))(x), jacrev(jacrev(function))(x))


def test_jvp_of_sin_is_cosine_times_tangent():
    output, tangent = jvp(retrograd.sin, (X,), (Y,))
    _close(output, retrograd.sin(X))
    _close(tangent, retrograd.cos(X) * Y)


def test_jvp_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(retrograd.sin, X, X)
    with pytest.raises(RuntimeError, match="Trying to set a forward gradient that has a different size"):
        jvp(retrograd.sin, (X,), (retrograd.ones(4, dtype=retrograd.float64),))


def test_linearize_gives_the_jvp_at_the_primal():
    output, jvp_fn = linearize(retrograd.exp, X)
    _close(output, retrograd.exp(X))
    _close(jvp_fn(Y), retrograd.exp(X) * Y)


def test_jacrev_jacfwd_hessian_match_torch_func():
    torch = _torch()
    x = X[0]
    ours_f = lambda a: (retrograd.sin(a) * a.sum()).sum()  # noqa: E731
    theirs_f = lambda a: (torch.sin(a) * a.sum()).sum()  # noqa: E731
    tx = torch.tensor(x.numpy())
    _close(hessian(ours_f)(x), torch.func.hessian(theirs_f)(tx).numpy())
    _close(jacrev(retrograd.sin)(x), torch.func.jacrev(torch.sin)(tx).numpy())
    _close(jacfwd(retrograd.sin)(x), torch.func.jacfwd(torch.sin)(tx).numpy())
    _, ours = jvp(retrograd.tanh, (x,), (x,))
    _, theirs = torch.func.jvp(torch.tanh, (tx,), (tx,))
    _close(ours, theirs.numpy())


# ---------------------------------------------------------------------------
# vmap


def test_vmap_of_dot_is_rowwise_dot():
    _close(vmap(retrograd.dot)(X, Y), (X * Y).sum(1))


def test_vmap_in_dims_none_and_nested_tuples_and_dicts():
    weight = _t(np.random.default_rng(2).uniform(-1, 1, (5, 4)))

    def f(pair, scale):
        return pair[0]["w"] @ pair[1] * scale

    out = vmap(f, in_dims=(({"w": None}, 0), None))(({"w": weight}, X), 2.0)
    _close(out, 2.0 * X @ weight.T)


def test_vmap_in_dim_one_and_out_dim_one():
    _close(vmap(lambda a: a * 2, in_dims=1, out_dims=1)(X), X * 2)
    _close(vmap(retrograd.sum, in_dims=1)(X), X.sum(0))


def test_vmap_of_vmap_maps_two_dims():
    _close(vmap(vmap(retrograd.mul))(X, Y), X * Y)
    outer = vmap(vmap(lambda a, b: a * b, in_dims=(0, None)), in_dims=(None, 0))
    _close(outer(X[0], X[:, 0]), X[:, 0][:, None] * X[0][None, :])


def test_vmap_chunk_size_gives_the_same_result():
    _close(vmap(lambda a: a.softmax(0), chunk_size=2)(X), vmap(lambda a: a.softmax(0))(X))


def test_vmap_output_not_mapped_is_broadcast():
    out = vmap(lambda a: retrograd.ones(2))(X)
    assert tuple(out.shape) == (3, 2)


def test_vmap_out_dims_none_for_unbatched_output():
    out, constant = vmap(lambda a: (a * 2, retrograd.ones(2)), out_dims=(0, None))(X)
    assert tuple(constant.shape) == (2,)
    _close(out, 2 * X)


def test_vmap_is_also_retrograd_vmap():
    assert retrograd.vmap is vmap


def test_batched_tensor_prints_as_pytorchs():
    seen = []
    vmap(lambda a: seen.append(repr(a)) or a)(retrograd.ones(2, 3))
    assert seen[0].startswith("BatchedTensor(lvl=1, bdim=0, value=\n    tensor(")


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: vmap(retrograd.add)(X, retrograd.ones(5, 4, dtype=retrograd.float64)), ValueError,
     "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes \\[3, 5\\]"),
    (lambda: vmap(lambda a: 1)(X), ValueError,
     "must only return Tensors, got type <class 'int'>. Did you mean to set out_dims= to None"),
    (lambda: vmap(lambda a: retrograd.zeros(4, dtype=retrograd.float64).add_(a))(X), RuntimeError,
     "output with shape \\[4\\] doesn't match the broadcast shape \\[3, 4\\]"),
    (lambda: vmap(lambda a: a + retrograd.randn(4))(X), RuntimeError,
     "vmap: called random operation while in randomness error mode"),
    (lambda: vmap(lambda a: a.sum().item())(X), RuntimeError, "vmap: It looks like you're calling .item\\(\\)"),
    (lambda: vmap(lambda a: a if a.sum() > 0 else -a)(X), RuntimeError, "data-dependent control flow"),
    (lambda: vmap(retrograd.sin, in_dims=3)(X), ValueError, "Got in_dim=3 for some input"),
    (lambda: vmap(retrograd.sin, in_dims=None)(X), ValueError, "expected `in_dims` to be int or a"),
    (lambda: vmap(retrograd.add, in_dims=(0,))(X, X), ValueError, "in_dims is not compatible"),
    (lambda: vmap(lambda: retrograd.ones(1))(), ValueError, "got no inputs"),
    (lambda: vmap(retrograd.sin, randomness="foo")(X), RuntimeError,
     "Only allowed values for randomness are 'error', 'different', or 'same'. Got foo"),
    (lambda: vmap(retrograd.sin, chunk_size=0), ValueError, "chunk_size should be None or greater than 0"),
    (lambda: vmap(retrograd.sin, out_dims=None)(X), ValueError, "can not return a BatchedTensor when out_dim is None"),
])
def test_vmap_errors_are_pytorchs(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("draw", [
    lambda a: a * retrograd.randn(50, dtype=retrograd.float64),
    lambda a: retrograd.rand_like(a),
    lambda a: F.dropout(a + 10, 0.5),
    lambda a: retrograd.bernoulli(a * 0 + 0.5),
], ids=["randn", "rand_like", "dropout", "bernoulli"])
@pytest.mark.parametrize("randomness", ["same", "different"])
def test_vmap_randomness_same_shares_draws_and_different_does_not(draw, randomness):
    x = retrograd.ones(3, 50, dtype=retrograd.float64)
    out = vmap(draw, randomness=randomness)(x)
    assert tuple(out.shape) == (3, 50)
    rows_equal = bool((out[0] == out[1]).all())
    reads_batched_input = "bernoulli" in draw.__code__.co_names
    assert rows_equal == (randomness == "same" and not reads_batched_input)


def test_inplace_on_a_batched_value_writes_its_examples():
    x = X.clone()
    vmap(lambda a: a.mul_(2))(x)
    _close(x, 2 * X)


def test_vmap_matches_torch_vmap():
    torch = _torch()
    ours = vmap(lambda a, b: (a @ b.T).softmax(-1).sum(0), in_dims=(0, None))(X, Y)
    tx, ty = torch.tensor(X.numpy()), torch.tensor(Y.numpy())
    theirs = torch.vmap(lambda a, b: (a @ b.T).softmax(-1).sum(0), in_dims=(0, None))(tx, ty)
    _close(ours, theirs.numpy())


# ---------------------------------------------------------------------------
# Composition: per-example gradients


def _mlp():
    retrograd.manual_seed(0)
    return retrograd.nn.Sequential(retrograd.nn.Linear(4, 8), retrograd.nn.Tanh(), retrograd.nn.Linear(8, 3))


def test_per_example_gradients_of_an_mlp_equal_a_loop():
    model = _mlp().double()
    params = {name: value.detach() for name, value in model.named_parameters()}
    x = X
    y = retrograd.tensor([0, 2, 1])

    def loss(p, xi, yi):
        return F.cross_entropy(functional_call(model, p, (xi,)), yi)

    per_example = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for index in range(3):
        model.zero_grad()
        F.cross_entropy(model(x[index]), y[index]).backward()
        for name, parameter in model.named_parameters():
            _close(per_example[name][index], parameter.grad)


def test_per_example_gradients_match_torch_func():
    torch = _torch()
    model = _mlp().double()
    params = {name: value.detach() for name, value in model.named_parameters()}
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    torch_params = {name: torch.tensor(value.numpy()) for name, value in params.items()}
    y = [0, 2, 1]
    ours = vmap(grad(lambda p, xi, yi: F.cross_entropy(functional_call(model, p, (xi,)), yi)),
                in_dims=(None, 0, 0))(params, X, retrograd.tensor(y))
    theirs = torch.func.vmap(torch.func.grad(
        lambda p, xi, yi: torch.nn.functional.cross_entropy(torch.func.functional_call(torch_model, p, (xi,)), yi)),
        in_dims=(None, 0, 0))(torch_params, torch.tensor(X.numpy()), torch.tensor(y))
    for name in params:
        _close(ours[name], theirs[name].numpy())


def test_vmap_of_jacrev_is_a_batch_of_jacobians():
    out = vmap(jacrev(retrograd.sin))(X)
    for index in range(3):
        _close(out[index], retrograd.diag(retrograd.cos(X[index])))


def test_jacrev_of_vmap_is_block_diagonal():
    out = jacrev(vmap(retrograd.sin))(X)
    assert tuple(out.shape) == (3, 4, 3, 4)
    _close(out[1, :, 1, :], retrograd.diag(retrograd.cos(X[1])))
    _close(out[0, :, 1, :], np.zeros((4, 4)))


def test_vmap_of_vjp_fn_gives_rows_of_the_jacobian():
    _, vjp_fn = vjp(retrograd.sin, X[0])
    (rows,) = vmap(vjp_fn)(retrograd.eye(4, dtype=retrograd.float64))
    _close(rows, retrograd.diag(retrograd.cos(X[0])))


# ---------------------------------------------------------------------------
# functional_call and stack_module_state


def test_functional_call_uses_the_given_parameters_and_restores_the_module():
    layer = retrograd.nn.Linear(2, 1)
    before = layer.weight.detach().clone()
    weights = {"weight": retrograd.tensor([[1.0, 2.0]]), "bias": retrograd.tensor([0.5])}
    _close(functional_call(layer, weights, (retrograd.tensor([3.0, 4.0]),)), [11.5])
    _close(layer.weight, before)


def test_functional_call_several_dicts_and_buffers():
    norm = retrograd.nn.BatchNorm1d(2).eval()
    params = {"weight": retrograd.ones(2), "bias": retrograd.zeros(2)}
    buffers = {"running_mean": retrograd.tensor([1.0, 1.0]), "running_var": retrograd.tensor([4.0, 4.0])}
    out = functional_call(norm, (params, buffers), retrograd.tensor([[3.0, 5.0]]))
    _close(out, np.array([[1.0, 2.0]]) / np.sqrt(1 + 1e-5 / 4), tol=1e-6)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(norm, (params, params), retrograd.tensor([[3.0, 5.0]]))


def test_functional_call_ties_shared_weights():
    class Tied(retrograd.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = retrograd.nn.Linear(2, 2, bias=False)
            self.b = retrograd.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    model = Tied()
    out = functional_call(model, {"a.weight": 2 * retrograd.eye(2)}, (retrograd.ones(2),))
    _close(out, [4.0, 4.0])
    with pytest.raises(ValueError, match="which are tied. Consider using tie_weights=False"):
        functional_call(model, {"a.weight": retrograd.eye(2), "b.weight": retrograd.ones(2, 2)},
                        (retrograd.ones(2),))


def test_functional_call_strict_names_missing_and_unexpected_keys():
    layer = retrograd.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in reparametrizing for Linear:\n\tUnexpected "
                                           "key\\(s\\): 'foo'.\n\tMissing key\\(s\\): 'bias'."):
        functional_call(layer, {"foo": layer.weight, "weight": layer.weight}, (retrograd.ones(3),),
                        strict=True)


def test_stack_module_state_runs_an_ensemble_under_vmap():
    models = [_mlp() for _ in range(3)]
    for index, model in enumerate(models):
        retrograd.manual_seed(index)
        for parameter in model.parameters():
            parameter.data = retrograd.randn(*parameter.shape)
    params, buffers = stack_module_state(models)
    assert tuple(params["0.weight"].shape) == (3, 8, 4) and params["0.weight"].is_leaf
    x = retrograd.randn(5, 4)
    out = vmap(lambda p, b: functional_call(models[0], (p, b), (x,)))(params, buffers)
    for index, model in enumerate(models):
        _close(out[index], model(x), tol=1e-6)
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0."):
        stack_module_state([])


def test_per_example_gradient_benchmark_runs_and_checks_its_results():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import func as benchmark

    result = benchmark.run(batch=4, repeats=1, seconds=0.001, libraries=["retrograd"])
    assert set(result["milliseconds"]) == {"retrograd vmap(grad)", "retrograd loop of grad"}
    assert "| retrograd vmap(grad) |" in benchmark.table(result)


def test_jvp_jacfwd_and_hessian_run_forward_mode(monkeypatch):
    """With autograd.forward_ad, jvp carries dual numbers (no backward pass as a reverse-mode
    substitute, nested or not), and hessian is forward over reverse."""
    from retrograd.autograd import engine

    x = X[0]
    with monkeypatch.context() as patched:
        def refuse(*args, **kwargs):
            raise AssertionError("reverse-mode substitute used")

        patched.setattr(engine, "execute", refuse)
        _close(jvp(retrograd.exp, (x,), (Y[0],))[1], retrograd.exp(x) * Y[0])
        _close(jacfwd(retrograd.sin)(x), retrograd.diag(retrograd.cos(x)))
        _close(jacfwd(jacfwd(lambda a: (a ** 3).sum()))(x), retrograd.diag(6 * x))
    _close(hessian(lambda a: (a ** 3).sum())(x), retrograd.diag(6 * x))
    _close(vmap(jacfwd(retrograd.tanh))(X)[1], retrograd.diag(1 - retrograd.tanh(X[1]) ** 2))


def test_jacfwd_of_grad_through_sort_is_pytorchs():
    torch = _torch()

    def make(library):
        def f(x):
            return (x.sort().values * library.arange(3.0)).sum() + (x.sort(descending=True).values ** 2).sum()
        return f

    x = [0.3, -1.0, 2.0]
    ours = retrograd.func.jacfwd(retrograd.func.grad(make(retrograd)))(retrograd.tensor(x))
    theirs = torch.func.jacfwd(torch.func.grad(make(torch)))(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
