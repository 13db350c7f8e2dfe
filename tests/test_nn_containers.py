"""Containers (Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict) and shape modules."""

from collections import OrderedDict

import pytest

import retrograd
from retrograd import nn


class Add(nn.Module):
    def __init__(self, amount):
        super().__init__()
        self.amount = nn.Parameter(retrograd.tensor(float(amount)))

    def forward(self, x):
        return x + self.amount

    def extra_repr(self):
        return f"amount={self.amount.item()}"


def test_sequential_runs_modules_in_order():
    model = nn.Sequential(Add(1), Add(2), nn.Identity())
    assert model(retrograd.zeros(1)).tolist() == [3.0]
    assert len(model) == 3


def test_sequential_indexing_slicing_and_append():
    first, second, third = Add(1), Add(2), Add(3)
    model = nn.Sequential(first, second)
    assert model[0] is first and model[-1] is second
    assert model.append(third) is model and model[2] is third
    sliced = model[1:]
    assert isinstance(sliced, nn.Sequential) and list(sliced) == [second, third]
    assert list(sliced._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        model[5]


def test_sequential_from_an_ordered_dict_keeps_names():
    model = nn.Sequential(OrderedDict(inc=Add(1), dec=Add(-1)))
    assert [name for name, _ in model.named_children()] == ["inc", "dec"]
    assert model.inc.amount.item() == 1.0


def test_sequential_delete_insert_and_setitem_renumber():
    model = nn.Sequential(Add(0), Add(1), Add(2))
    del model[0]
    assert list(model._modules) == ["0", "1"] and model[0].amount.item() == 1.0
    model.insert(0, Add(9))
    assert [m.amount.item() for m in model] == [9.0, 1.0, 2.0]
    model[1] = Add(5)
    assert model[1].amount.item() == 5.0
    assert len(model + nn.Sequential(Add(1))) == 4


def test_module_list_registers_and_indexes():
    layers = nn.ModuleList([Add(1), Add(2)])
    layers.append(Add(3))
    layers.extend([Add(4)])
    layers += [Add(5)]
    assert len(layers) == 5 and layers[-1].amount.item() == 5.0
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert [name for name, _ in layers.named_parameters()][:2] == ["0.amount", "1.amount"]
    layers.insert(0, Add(0))
    assert [m.amount.item() for m in layers] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3", "4"]
    with pytest.raises(IndexError, match="index 9 is out of range"):
        layers[9]


def test_module_list_repr_groups_repeats():
    layers = nn.ModuleList([Add(1), Add(1), Add(1), Add(2)])
    assert repr(layers) == "ModuleList(\n  (0-2): 3 x Add(amount=1.0)\n  (3): Add(amount=2.0)\n)"


def test_module_dict():
    layers = nn.ModuleDict({"a": Add(1)})
    layers["b"] = Add(2)
    assert list(layers) == ["a", "b"] and "a" in layers and len(layers) == 2
    assert [name for name, _ in layers.named_parameters()] == ["a.amount", "b.amount"]
    assert layers.pop("a").amount.item() == 1.0
    assert list(layers.keys()) == ["b"]
    layers.update([("c", Add(3))])
    assert [key for key, _ in layers.items()] == ["b", "c"]


def test_parameter_list_wraps_tensors_and_registers():
    parameters = nn.ParameterList([nn.Parameter(retrograd.zeros(2)), retrograd.zeros(2, 3, dtype=retrograd.float64)])
    assert isinstance(parameters[1], nn.Parameter) and parameters[1].requires_grad
    assert [name for name, _ in parameters.named_parameters()] == ["0", "1"]
    parameters.append(retrograd.ones(1))
    assert len(parameters) == 3
    assert repr(parameters) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [retrograd.float32 of size 2]\n"
        "    (1): Parameter containing: [retrograd.float64 of size 2x3]\n"
        "    (2): Parameter containing: [retrograd.float32 of size 1]\n"
        ")"
    )


def test_parameter_dict():
    parameters = nn.ParameterDict({"a": retrograd.zeros(2)})
    parameters["b"] = nn.Parameter(retrograd.ones(1))
    assert list(parameters) == ["a", "b"] and isinstance(parameters["a"], nn.Parameter)
    assert [name for name, _ in parameters.named_parameters()] == ["a", "b"]
    assert repr(nn.ParameterDict({"a": retrograd.zeros(2)})) == (
        "ParameterDict(  (a): Parameter containing: [retrograd.FloatTensor of size 2])"
    )
    del parameters["a"]
    assert list(parameters.keys()) == ["b"]


def test_container_reprs_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.ParameterList([retrograd.zeros(2), retrograd.zeros(2, 3, dtype=retrograd.float64)])
    theirs = torch.nn.ParameterList([torch.zeros(2), torch.zeros(2, 3, dtype=torch.float64)])
    assert repr(ours) == repr(theirs).replace("torch.", "retrograd.")
    ours_seq = nn.Sequential(nn.Identity(), nn.Flatten(), nn.Unflatten(1, (2, 2)))
    theirs_seq = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Flatten(), torch.nn.Unflatten(1, (2, 2)))
    assert repr(ours_seq) == repr(theirs_seq)


def test_flatten_and_unflatten():
    x = retrograd.arange(24, dtype=retrograd.float32).reshape(2, 3, 4)
    assert nn.Flatten()(x).shape == retrograd.Size([2, 12])
    assert nn.Flatten(0, 1)(x).shape == retrograd.Size([6, 4])
    assert nn.Unflatten(1, (3, 1))(x).shape == retrograd.Size([2, 3, 1, 4])
    assert nn.Unflatten(-1, (2, -1))(x).shape == retrograd.Size([2, 3, 2, 2])
    assert nn.Identity(1, unused=True)(x) is x


def test_flatten_is_differentiable():
    x = retrograd.ones(2, 3, requires_grad=True)
    (nn.Flatten(0)(x) * retrograd.arange(6, dtype=retrograd.float32)).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
