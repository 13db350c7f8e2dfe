"""nn.utils.parametrizations (orthogonal, weight_norm, spectral_norm) and the hook-based
nn.utils.weight_norm / spectral_norm: closed forms, gradchecks, and PyTorch's values."""

import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn
from retrograd.nn.utils import parametrizations, parametrize
from retrograd.nn.utils._matrix_maps import householder_product


def _identity_error(matrix):
    """max |Q^T Q - I| for a tall Q, |Q Q^T - I| for a wide one."""
    Q = matrix.detach().numpy().astype(np.float64)
    gram = Q.T @ Q if Q.shape[0] >= Q.shape[1] else Q @ Q.T
    return np.abs(gram - np.eye(gram.shape[0])).max()


# -- the matrix maps ------------------------------------------------------------


def test_householder_product_is_the_product_of_reflections():
    v = np.array([0.0, 2.0, 1.0])
    tau = 2.0 / (1.0 + 5.0)
    reflectors = retrograd.tensor([[0.0], [2.0], [1.0]], dtype=retrograd.float64)
    result = householder_product(reflectors, retrograd.tensor([tau], dtype=retrograd.float64))
    v[0] = 1.0
    expected = (np.eye(3) - tau * np.outer(v, v))[:, :1]
    np.testing.assert_allclose(result.numpy(), expected, atol=1e-15)


def test_householder_product_gradients_pass_gradcheck():
    rng = np.random.default_rng(2)
    reflectors = retrograd.tensor(np.tril(rng.standard_normal((4, 3)), -1), requires_grad=True)
    tau = retrograd.tensor(rng.random(3), requires_grad=True)
    assert retrograd.autograd.gradcheck(householder_product, (reflectors, tau))


@needs_torch
def test_householder_product_matches_pytorch():
    rng = np.random.default_rng(3)
    packed, tau = torch.geqrf(torch.tensor(rng.standard_normal((5, 3))))
    ours = householder_product(retrograd.tensor(packed.numpy()), retrograd.tensor(tau.numpy()))
    np.testing.assert_allclose(ours.numpy(), torch.linalg.householder_product(packed, tau).numpy(), atol=1e-13)


# -- orthogonal -------------------------------------------------------------------


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_orthogonal_weight_has_orthonormal_rows_or_columns(orthogonal_map, shape):
    layer = nn.Linear(shape[1], shape[0])
    parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map)
    assert _identity_error(layer.weight) < 1e-5
    optimizer = retrograd.optim.SGD(layer.parameters(), lr=0.1)
    layer(retrograd.randn(6, shape[1])).pow(2).sum().backward()
    optimizer.step()
    assert _identity_error(layer.weight) < 1e-5  # still orthogonal after a step


def test_orthogonal_starts_from_the_nearest_orthogonal_matrix_of_the_weight():
    values = np.array([[2.0, 1.0], [0.0, 3.0]])
    layer = nn.Linear(2, 2)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor(values))
    parametrizations.orthogonal(layer)
    q, r = np.linalg.qr(values)
    np.testing.assert_allclose(layer.weight.detach().numpy(), q * np.sign(np.diag(r)), atol=1e-6)


def test_orthogonal_keeps_an_orthogonal_weight_and_stores_minus_identity():
    rotation, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))
    rotation = rotation.astype(np.float32)
    layer = nn.Linear(4, 4)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor(rotation))
    parametrizations.orthogonal(layer)
    assert layer.weight.tolist() == rotation.tolist()  # kept as it is, not factorised again
    assert layer.parametrizations.weight.original.tolist() == (-np.eye(4)).tolist()
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]


def test_orthogonal_default_map_depends_on_the_shape():
    square = parametrizations.orthogonal(nn.Linear(3, 3))
    wide = parametrizations.orthogonal(nn.Linear(4, 3))
    assert square.parametrizations.weight[0].orthogonal_map.name == "matrix_exp"
    assert wide.parametrizations.weight[0].orthogonal_map.name == "householder"
    assert repr(square).count("(0): _Orthogonal()") == 1


def test_orthogonal_without_trivialization_holds_no_base():
    layer = nn.Linear(5, 3)
    parametrizations.orthogonal(layer, use_trivialization=False)
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert _identity_error(layer.weight) < 1e-5
    exponential = nn.Linear(3, 3)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        parametrizations.orthogonal(exponential, orthogonal_map="matrix_exp", use_trivialization=False)
        exponential.weight = retrograd.eye(3)


def test_orthogonal_assignment_sets_the_weight():
    layer = parametrizations.orthogonal(nn.Linear(2, 2))
    reflection = retrograd.tensor([[0.0, 1.0], [1.0, 0.0]])
    layer.weight = reflection
    np.testing.assert_allclose(layer.weight.detach().numpy(), reflection.numpy(), atol=1e-6)


def test_orthogonal_refuses_bad_input():
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'):
        parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        parametrizations.orthogonal(nn.Linear(2, 2), "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'gain'"):
        parametrizations.orthogonal(nn.Linear(2, 2), "gain")


# -- weight_norm ------------------------------------------------------------------


def test_weight_norm_splits_magnitude_and_direction():
    layer = nn.Linear(2, 2)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor([[3.0, 4.0], [0.0, 2.0]]))
    parametrizations.weight_norm(layer)
    chain = layer.parametrizations.weight
    assert chain.original0.tolist() == [[5.0], [2.0]]
    assert chain.original1.tolist() == [[3.0, 4.0], [0.0, 2.0]]
    with retrograd.no_grad():
        chain.original0.copy_(retrograd.tensor([[10.0], [1.0]]))
    assert layer.weight.tolist() == [[6.0, 8.0], [0.0, 1.0]]


def test_weight_norm_with_dim_none_has_one_magnitude():
    layer = nn.Linear(2, 2)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor([[1.0, 2.0], [2.0, 4.0]]))
    parametrizations.weight_norm(layer, dim=None)
    assert layer.parametrizations.weight.original0.shape == ()
    assert layer.parametrizations.weight.original0.item() == pytest.approx(5.0)


def test_weight_norm_loads_a_state_dict_of_the_hook_based_form():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = nn.utils.weight_norm(nn.Linear(3, 2))
    saved = old.state_dict()
    assert list(saved) == ["bias", "weight_g", "weight_v"]
    new = parametrizations.weight_norm(nn.Linear(3, 2))
    new.load_state_dict(saved)
    assert retrograd.allclose(new.weight, old.weight)
    assert list(saved) == ["bias", "weight_g", "weight_v"]  # the caller's dict is left alone


# -- spectral_norm ----------------------------------------------------------------


def test_spectral_norm_divides_by_the_largest_singular_value():
    layer = nn.Linear(3, 2)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    parametrizations.spectral_norm(layer)
    np.testing.assert_allclose(layer.weight.detach().numpy(), [[1.0, 0.0, 0.0], [0.0, 1 / 3, 0.0]], atol=1e-6)
    assert list(layer.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v",
    ]


def test_spectral_norm_power_iteration_runs_in_training_only():
    layer = parametrizations.spectral_norm(nn.Linear(4, 5), n_power_iterations=2)
    norm = layer.parametrizations.weight[0]
    u = norm._u
    layer.eval()
    before = u.clone()
    layer.weight
    assert retrograd.equal(norm._u, before)
    layer.train()
    with retrograd.no_grad():
        layer.parametrizations.weight.original.mul_(retrograd.randn(5, 4))
    layer.weight
    assert norm._u is u and not retrograd.equal(u, before)


def test_spectral_norm_of_a_vector_normalises_it():
    layer = nn.Linear(2, 2)
    with retrograd.no_grad():
        layer.bias.copy_(retrograd.tensor([3.0, 4.0]))
    parametrizations.spectral_norm(layer, "bias")
    assert layer.bias.tolist() == pytest.approx([0.6, 0.8])


def test_spectral_norm_refuses_bad_settings():
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)


def test_spectral_norm_uses_dim_1_for_transposed_convolutions():
    layer = parametrizations.spectral_norm(nn.ConvTranspose2d(2, 5, 3))
    assert layer.parametrizations.weight[0].dim == 1
    assert layer.parametrizations.weight[0]._u.shape == (5,)


# -- the hook-based forms ---------------------------------------------------------


def test_hook_based_weight_norm_keeps_g_and_v_and_recomputes_before_forward():
    layer = nn.Linear(2, 2)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor([[3.0, 4.0], [0.0, 2.0]]))
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        nn.utils.weight_norm(layer)
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight_g", "weight_v"]
    assert layer.weight_g.tolist() == [[5.0], [2.0]]
    with retrograd.no_grad():
        layer.weight_g.mul_(2)
    layer(retrograd.ones(1, 2))
    assert layer.weight.tolist() == [[6.0, 8.0], [0.0, 4.0]]
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(layer)
    nn.utils.remove_weight_norm(layer)
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight"]
    assert layer.weight.tolist() == [[6.0, 8.0], [0.0, 4.0]] and not layer._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(layer)


def test_hook_based_spectral_norm_has_orig_u_v_and_refines_in_training():
    layer = nn.Linear(3, 2)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    nn.utils.spectral_norm(layer, n_power_iterations=20)
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    layer(retrograd.ones(1, 3))
    np.testing.assert_allclose(layer.weight.detach().numpy(), [[1.0, 0.0, 0.0], [0.0, 1 / 3, 0.0]], atol=1e-6)
    layer.eval()
    u = layer.weight_u.clone()
    layer(retrograd.ones(1, 3))
    assert retrograd.equal(layer.weight_u, u)
    nn.utils.remove_spectral_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]
    assert not layer._state_dict_hooks and not layer._load_state_dict_pre_hooks


@needs_torch
@pytest.mark.parametrize("form", ["parametrized", "hooks"])
def test_spectral_norm_matches_pytorch_seeded(form):
    def build(library):
        library.manual_seed(5)
        layer = library.nn.Conv2d(2, 3, 2)
        if form == "parametrized":
            library.nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=2)
        else:
            library.nn.utils.spectral_norm(layer, n_power_iterations=2)
        x = library.randn(1, 2, 4, 4)
        # two calls in one graph: the power iteration of the second changes u and v in
        # place, so the first must have used copies
        (layer(x).pow(2).sum() + layer(x).pow(2).sum()).backward()
        original = layer.parametrizations.weight.original if form == "parametrized" else layer.weight_orig
        return layer.weight.detach().numpy(), original.grad.numpy()

    ours, theirs = build(retrograd), build(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("form", ["parametrized", "hooks"])
def test_weight_norm_values_and_gradients_match_pytorch(form):
    def build(library):
        library.manual_seed(11)
        layer = library.nn.Linear(4, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            if form == "parametrized":
                library.nn.utils.parametrizations.weight_norm(layer)
                g, v = layer.parametrizations.weight.original0, layer.parametrizations.weight.original1
            else:
                library.nn.utils.weight_norm(layer)
                g, v = layer.weight_g, layer.weight_v
        layer(library.randn(5, 4)).tanh().sum().backward()
        return layer.weight.detach().numpy(), g.grad.numpy(), v.grad.numpy()

    for ours, theirs in zip(build(retrograd), build(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_orthogonal_matches_pytorch_seeded(orthogonal_map, shape):
    def build(library):
        library.manual_seed(2)
        layer = library.nn.Linear(shape[1], shape[0])
        library.nn.utils.parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map)
        layer(library.randn(3, shape[1])).pow(2).sum().backward()
        return layer.weight.detach().numpy(), layer.parametrizations.weight.original.grad.numpy()

    for ours, theirs in zip(build(retrograd), build(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_parametrized_modules_are_reported_as_parametrized():
    assert parametrize.is_parametrized(parametrizations.weight_norm(nn.Linear(2, 2)))


@needs_torch
@pytest.mark.parametrize(("orthogonal_map", "use_trivialization"),
                         [("matrix_exp", True), ("cayley", True), ("householder", True), ("householder", False)])
@pytest.mark.parametrize("shape", [(2, 3, 3), (2, 4, 2), (2, 2, 5)])
def test_orthogonal_of_a_batch_of_matrices_matches_pytorch(orthogonal_map, use_trivialization, shape):
    def build(library):
        library.manual_seed(0)

        class Holder(library.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = library.nn.Parameter(library.randn(*shape))

        holder = Holder()
        library.nn.utils.parametrizations.orthogonal(
            holder, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization
        )
        holder.weight.pow(3).sum().backward()
        return holder.weight.detach().numpy(), holder.parametrizations.weight.original.grad.numpy()

    for ours, theirs in zip(build(retrograd), build(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
