"""nn.utils.parametrize: registering, chaining, assigning through right_inverse, caching,
removing and transferring parametrizations, against closed forms and PyTorch."""

import copy
import pickle

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch
from retrograd import nn
from retrograd.nn.utils import parametrize


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Doubled(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, Y):
        return Y / 2


class PlusOne(nn.Module):
    def forward(self, X):
        return X + 1

    def right_inverse(self, Y):
        return Y - 1


class Sum(nn.Module):
    """Two stored tensors, a quarter and three quarters of the weight."""

    def forward(self, A, B):
        return A + B

    def right_inverse(self, W):
        return W / 4, 3 * W / 4


class FirstRow(nn.Module):
    def forward(self, X):
        return X[0]


def _linear(values):
    layer = nn.Linear(2, 2)
    with retrograd.no_grad():
        layer.weight.copy_(retrograd.tensor(values))
    return layer


def test_the_class_becomes_parametrized_name_and_prints_the_chain():
    layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear"
    assert type(layer).__module__ == "retrograd.nn.utils.parametrize"
    assert isinstance(layer, nn.Linear)
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert parametrize.type_before_parametrizations(nn.ReLU()) is nn.ReLU
    assert repr(layer) == (
        "ParametrizedLinear(\n  in_features=3, out_features=3, bias=True\n"
        "  (parametrizations): ModuleDict(\n    (weight): ParametrizationList(\n"
        "      (0): Symmetric()\n    )\n  )\n)"
    )


def test_reading_the_tensor_applies_the_parametrization_to_the_original():
    layer = _linear([[1.0, 2.0], [3.0, 4.0]])
    parametrize.register_parametrization(layer, "weight", Symmetric())
    assert layer.weight.tolist() == [[1.0, 2.0], [2.0, 4.0]]
    assert layer.parametrizations.weight.original.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert isinstance(layer.parametrizations.weight.original, nn.Parameter)


def test_state_dict_and_parameters_hold_the_original_under_parametrizations():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [name for name, _ in layer.named_parameters()] == ["bias", "parametrizations.weight.original"]
    other = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    other.load_state_dict(layer.state_dict())
    assert retrograd.equal(other.weight, layer.weight)


def test_gradients_reach_the_original_through_the_parametrization():
    layer = _linear([[1.0, 2.0], [3.0, 4.0]])
    parametrize.register_parametrization(layer, "weight", Symmetric())
    layer.weight.sum().backward()
    # d/dX sum(triu(X) + triu(X, 1)^T): 1 on the diagonal, 2 above it, 0 below
    assert layer.parametrizations.weight.original.grad.tolist() == [[1.0, 2.0], [0.0, 1.0]]


def test_assignment_runs_right_inverse_in_place_on_the_same_parameter():
    layer = _linear([[1.0, 2.0], [3.0, 4.0]])
    parametrize.register_parametrization(layer, "weight", Doubled())
    original = layer.parametrizations.weight.original
    assert original.tolist() == [[0.5, 1.0], [1.5, 2.0]]  # right_inverse at registration
    layer.weight = retrograd.tensor([[8.0, 6.0], [4.0, 2.0]])
    assert layer.parametrizations.weight.original is original
    assert original.tolist() == [[4.0, 3.0], [2.0, 1.0]]
    assert layer.weight.tolist() == [[8.0, 6.0], [4.0, 2.0]]


def test_a_chain_applies_in_registration_order_and_inverts_in_reverse():
    layer = _linear([[1.0, 2.0], [3.0, 4.0]])
    parametrize.register_parametrization(layer, "weight", Doubled())
    parametrize.register_parametrization(layer, "weight", PlusOne())
    assert layer.weight.tolist() == [[2.0, 3.0], [4.0, 5.0]]  # 2 * original + 1
    layer.weight = retrograd.tensor([[5.0, 7.0], [9.0, 11.0]])
    assert layer.parametrizations.weight.original.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    assert "(1): PlusOne()" in repr(layer)


def test_assignment_needs_right_inverse_on_every_parametrization():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    before = layer.parametrizations.weight.original.clone()
    with pytest.raises(RuntimeError, match="Symmetric does not implement right_inverse"):
        layer.weight = retrograd.zeros(2, 2)
    assert retrograd.equal(layer.parametrizations.weight.original, before)


def test_right_inverse_returning_several_tensors_stores_original0_original1():
    layer = _linear([[4.0, 8.0], [12.0, 16.0]])
    parametrize.register_parametrization(layer, "weight", Sum())
    chain = layer.parametrizations.weight
    assert not chain.is_tensor and chain.ntensors == 2
    assert chain.original0.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert chain.original1.tolist() == [[3.0, 6.0], [9.0, 12.0]]
    assert isinstance(chain.original0, nn.Parameter) and chain.original1.requires_grad
    assert list(layer.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"
    ]
    layer.weight = retrograd.full((2, 2), 4.0)
    assert chain.original0.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)


def test_a_buffer_can_be_parametrized_and_stays_a_buffer():
    layer = nn.BatchNorm1d(2)
    parametrize.register_parametrization(layer, "running_var", Doubled())
    assert "parametrizations.running_var.original" in layer.state_dict()
    assert [name for name, _ in layer.named_buffers()][-1] == "parametrizations.running_var.original"
    assert layer.running_var.tolist() == [1.0, 1.0]


def test_shape_and_dtype_changes_need_unsafe():
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(2, 3), "weight", FirstRow())
    layer = nn.Linear(2, 3)
    before = layer.weight
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(layer, "weight", FirstRow())
    assert layer.weight is before and type(layer) is nn.Linear
    parametrize.register_parametrization(layer, "weight", FirstRow(), unsafe=True)
    assert layer.weight.shape == (2,)


def test_appending_checks_shape_unless_unsafe():
    layer = parametrize.register_parametrization(nn.Linear(2, 3), "weight", Doubled())
    with pytest.raises(ValueError, match=r"parametrization\(module.weight\).shape"):
        parametrize.register_parametrization(layer, "weight", FirstRow())
    assert len(layer.parametrizations.weight) == 1
    parametrize.register_parametrization(layer, "weight", FirstRow(), unsafe=True)
    assert layer.parametrizations.weight.unsafe


def test_cached_computes_each_tensor_once_inside_the_block():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    assert layer.weight is not layer.weight
    with parametrize.cached():
        first = layer.weight
        with parametrize.cached():
            assert layer.weight is first
        assert layer.weight is first
    assert layer.weight is not first


def test_remove_leave_parametrized_keeps_the_value_in_the_same_parameter():
    layer = _linear([[1.0, 2.0], [3.0, 4.0]])
    parametrize.register_parametrization(layer, "weight", Symmetric())
    original = layer.parametrizations.weight.original
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and not hasattr(layer, "parametrizations")
    assert layer.weight is original
    assert layer.weight.tolist() == [[1.0, 2.0], [2.0, 4.0]]
    assert list(layer.state_dict()) == ["bias", "weight"]


def test_remove_without_leaving_parametrized_restores_the_original():
    layer = _linear([[1.0, 2.0], [3.0, 4.0]])
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert layer.weight.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_remove_one_of_two_keeps_the_parametrized_class():
    layer = nn.Linear(2, 2)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrize.register_parametrization(layer, "bias", Doubled())
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer).__name__ == "ParametrizedLinear"
    assert parametrize.is_parametrized(layer) and not parametrize.is_parametrized(layer, "weight")
    assert parametrize.is_parametrized(layer, "bias")


def test_errors_name_the_missing_tensor():
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with name 'nope'"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nope", Symmetric())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(nn.Linear(2, 2), "weight")


def test_parametrization_follows_the_modules_training_mode():
    layer = nn.Linear(2, 2).eval()
    symmetric = Symmetric()
    parametrize.register_parametrization(layer, "weight", symmetric)
    assert not symmetric.training
    layer.train()
    assert symmetric.training


def test_transfer_shares_the_originals():
    source = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    target = nn.Linear(2, 2)
    parametrize.transfer_parametrizations_and_params(source, target)
    assert target.parametrizations.weight.original is source.parametrizations.weight.original
    assert retrograd.equal(target.weight, source.weight)
    assert type(target).__name__ == "ParametrizedLinear"


def test_transfer_creates_a_missing_tensor():
    source = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    target = nn.Identity()
    parametrize.transfer_parametrizations_and_params(source, target, "weight")
    assert retrograd.equal(target.weight, source.weight)


def test_deepcopy_copies_and_pickling_is_refused():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Symmetric())
    copied = copy.deepcopy(layer)
    assert type(copied) is type(layer)
    assert copied.parametrizations.weight.original is not layer.parametrizations.weight.original
    assert retrograd.equal(copied.weight, layer.weight)
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(layer)


def test_module_hooks_are_ordered_dicts_keyed_by_handle_ids():
    layer = nn.Linear(2, 2)
    first = layer.register_forward_pre_hook(lambda module, args: None)
    second = layer.register_forward_pre_hook(lambda module, args: None)
    assert type(layer._forward_pre_hooks).__name__ == "OrderedDict"
    assert list(layer._forward_pre_hooks) == [first.id, second.id]
    assert second.id == first.id + 1


@needs_torch
def test_chain_values_and_gradients_match_pytorch():
    values = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32)
    results = []
    for library, module in ((retrograd, nn), (torch, torch.nn)):
        class TorchSymmetric(module.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

        class TorchDoubled(module.Module):
            def forward(self, X):
                return 2 * X

        layer = module.Linear(3, 3)
        with library.no_grad():
            layer.weight.copy_(library.tensor(values))
            layer.bias.zero_()
        library.nn.utils.parametrize.register_parametrization(layer, "weight", TorchSymmetric())
        library.nn.utils.parametrize.register_parametrization(layer, "weight", TorchDoubled())
        layer(library.ones(2, 3)).pow(2).sum().backward()
        results.append((layer.weight.detach().numpy(), layer.parametrizations.weight.original.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5)
