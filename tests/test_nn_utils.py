"""nn.utils: gradient clipping and parameter <-> vector conversion, against closed forms and PyTorch."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch
from retrograd import nn
from retrograd.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def _parameters_with_grads(grads):
    parameters = []
    for grad in grads:
        parameter = nn.Parameter(retrograd.zeros(len(grad)))
        parameter.grad = retrograd.tensor(grad)
        parameters.append(parameter)
    return parameters


def test_clip_grad_norm_scales_all_gradients_together():
    parameters = _parameters_with_grads([[3.0, 0.0], [0.0, 4.0]])
    total = clip_grad_norm_(parameters, max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    assert parameters[0].grad.tolist() == pytest.approx([0.6, 0.0], rel=1e-5)
    assert parameters[1].grad.tolist() == pytest.approx([0.0, 0.8], rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients():
    parameters = _parameters_with_grads([[0.3, 0.4]])
    assert clip_grad_norm_(parameters, 1.0).item() == pytest.approx(0.5)
    assert parameters[0].grad.tolist() == pytest.approx([0.3, 0.4])


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
def test_clip_grad_norm_matches_pytorch(norm_type):
    torch = pytest.importorskip("torch")
    grads = [[1.0, -2.0, 0.5], [3.0, -0.25]]
    ours = _parameters_with_grads(grads)
    theirs = [torch.nn.Parameter(torch.zeros(len(g))) for g in grads]
    for parameter, grad in zip(theirs, grads):
        parameter.grad = torch.tensor(grad)
    our_total = clip_grad_norm_(ours, 0.7, norm_type=norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, 0.7, norm_type=norm_type)
    assert our_total.item() == pytest.approx(their_total.item(), rel=1e-6)
    assert our_total.dtype == retrograd.float32
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), other.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_error_if_nonfinite():
    parameters = _parameters_with_grads([[float("inf"), 1.0]])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(parameters, 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_without_grads_returns_zero():
    assert clip_grad_norm_([nn.Parameter(retrograd.ones(2))], 1.0).item() == 0.0


def test_clip_grad_value_clamps_each_element():
    parameters = _parameters_with_grads([[-3.0, 0.5, 2.0]])
    clip_grad_value_(parameters, 1.0)
    assert parameters[0].grad.tolist() == [-1.0, 0.5, 1.0]
    single = _parameters_with_grads([[5.0]])[0]
    clip_grad_value_(single, 2.0)
    assert single.grad.tolist() == [2.0]


def test_vector_to_parameters_fills_in_order():
    first, second = nn.Parameter(retrograd.zeros(2, 2)), nn.Parameter(retrograd.zeros(3))
    vector_to_parameters(retrograd.arange(7, dtype=retrograd.float32), [first, second])
    assert first.tolist() == [[0.0, 1.0], [2.0, 3.0]] and second.tolist() == [4.0, 5.0, 6.0]
    with pytest.raises(TypeError, match="expected retrograd.Tensor"):
        vector_to_parameters([1.0], [first])


def test_parameters_to_vector_is_differentiable():
    if not hasattr(retrograd, "cat"):
        pytest.skip("needs retrograd.cat (the shape operators)")
    first, second = nn.Parameter(retrograd.ones(2, 2)), nn.Parameter(retrograd.full((3,), 2.0))
    vector = parameters_to_vector([first, second])
    assert vector.tolist() == [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    (vector * retrograd.arange(7, dtype=retrograd.float32)).sum().backward()
    assert second.grad.tolist() == [4.0, 5.0, 6.0]


def _weight_norm_graph(library, dim, parametrized: bool):
    import warnings

    library.manual_seed(0)
    layer = library.nn.Conv1d(3, 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if parametrized:
            layer = library.nn.utils.parametrizations.weight_norm(layer, dim=dim)
        else:
            layer = library.nn.utils.weight_norm(layer, dim=dim)
    node = layer.weight.grad_fn
    layer(library.ones(2, 3, 5) * 0.3).sum().backward()
    gradients = [parameter.grad.numpy().tolist() for _, parameter in sorted(layer.named_parameters())]
    return type(node).__name__, sorted(name for name in dir(node) if name.startswith("_saved_")), gradients


WEIGHT_NORM_NODES = {0: "WeightNormInterfaceBackward0", 2: "WeightNormInterfaceBackward0",
                     1: "MulBackward0", None: "MulBackward0"}


@pytest.mark.parametrize("parametrized", [False, True])
@pytest.mark.parametrize("dim", [0, 2, 1, None])
def test_weight_norm_records_pytorchs_fused_node_on_the_first_or_last_dim(dim, parametrized):
    if parametrized and dim is None:
        pytest.skip("parametrizations.weight_norm takes an int dim")
    name, saved, _ = _weight_norm_graph(retrograd, dim, parametrized)
    assert name == WEIGHT_NORM_NODES[dim]
    if name == "WeightNormInterfaceBackward0":
        assert saved == ["_saved_dim", "_saved_g", "_saved_result1", "_saved_v"]


@needs_torch
@pytest.mark.parametrize("parametrized", [False, True])
@pytest.mark.parametrize("dim", [0, 2, 1])
def test_weight_norm_graph_and_gradients_are_pytorchs(dim, parametrized):
    import torch

    ours, theirs = _weight_norm_graph(retrograd, dim, parametrized), _weight_norm_graph(torch, dim, parametrized)
    assert ours[:2] == theirs[:2]
    for mine, reference in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dim", [0, 1])
def test_the_fused_weight_norm_node_is_twice_differentiable(dim):
    from retrograd.ops.nn.weight_norm import fused_weight_norm

    rng = np.random.default_rng(3)
    v = retrograd.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    g = retrograd.tensor(rng.standard_normal((2, 1) if dim == 0 else (1, 3)), requires_grad=True)
    assert retrograd.autograd.gradcheck(lambda a, b: fused_weight_norm(a, b, dim), (v, g))
    assert retrograd.autograd.gradgradcheck(lambda a, b: fused_weight_norm(a, b, dim), (v, g))
    result = fused_weight_norm(v, g, dim)
    norms = np.linalg.norm(v.detach().numpy(), axis=1 - dim, keepdims=True)
    np.testing.assert_allclose(result.grad_fn._saved_result1.numpy(), norms)
    assert result.grad_fn._saved_dim == dim
