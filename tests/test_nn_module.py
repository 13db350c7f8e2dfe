"""nn.Parameter and nn.Module: registration, iteration, state_dict, modes, conversion, hooks, repr."""

import copy

import numpy as np
import pytest

import retrograd
from retrograd import nn


class Scale(nn.Module):
    """x * weight + bias, with a step counter buffer and a scratch (non-persistent) buffer."""

    def __init__(self, size=2):
        super().__init__()
        self.weight = nn.Parameter(retrograd.ones(size))
        self.bias = nn.Parameter(retrograd.zeros(size))
        self.register_buffer("steps", retrograd.zeros(1))
        self.register_buffer("scratch", retrograd.zeros(1), persistent=False)

    def forward(self, x):
        return x * self.weight + self.bias

    def extra_repr(self):
        return f"size={self.weight.shape[0]}"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Scale()
        self.block = nn.Sequential(Scale(), nn.Identity())
        self.gain = nn.Parameter(retrograd.tensor(2.0))

    def forward(self, x):
        return self.block(self.first(x)) * self.gain


# -- Parameter -------------------------------------------------------------


def test_parameter_is_a_leaf_that_requires_grad():
    parameter = nn.Parameter(retrograd.tensor([1.0, 2.0]))
    assert parameter.requires_grad and parameter.is_leaf and parameter.grad_fn is None
    assert isinstance(parameter, retrograd.Tensor)
    assert not nn.Parameter(retrograd.zeros(1), requires_grad=False).requires_grad


def test_parameter_repr():
    assert repr(nn.Parameter(retrograd.tensor([1.0, 2.0]))) == (
        "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    )
    assert repr(nn.Parameter(retrograd.tensor([1.0, 2.0]), requires_grad=False)) == (
        "Parameter containing:\ntensor([1., 2.])"
    )


def test_parameter_shares_memory_and_results_are_plain_tensors():
    data = retrograd.zeros(2)
    parameter = nn.Parameter(data)
    data.add_(1)
    assert parameter.tolist() == [1.0, 1.0]
    result = parameter * 2
    assert type(result) is retrograd.Tensor and result.grad_fn is not None


def test_parameter_deepcopy_keeps_the_type():
    parameter = nn.Parameter(retrograd.ones(2))
    copied = copy.deepcopy(parameter)
    assert isinstance(copied, nn.Parameter) and copied.requires_grad
    copied.data.add_(1)
    assert parameter.tolist() == [1.0, 1.0]


# -- registration and iteration --------------------------------------------


def test_attributes_register_parameters_buffers_and_children():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == [
        "gain", "first.weight", "first.bias", "block.0.weight", "block.0.bias",
    ]
    assert [name for name, _ in net.named_buffers()] == ["first.steps", "first.scratch", "block.0.steps",
                                                         "block.0.scratch"]
    assert [name for name, _ in net.named_children()] == ["first", "block"]
    assert [name for name, _ in net.named_modules()] == ["", "first", "block", "block.0", "block.1"]
    assert [name for name, _ in net.named_parameters(prefix="model", recurse=False)] == ["model.gain"]
    assert len(list(net.parameters())) == 5 and len(list(net.modules())) == 5


def test_shared_parameters_and_modules_are_listed_once():
    shared = Scale()
    net = nn.Sequential(shared, shared)
    assert len(list(net.parameters())) == 2
    assert [name for name, _ in net.named_modules()] == ["", "0"]
    assert len(list(net.named_parameters(remove_duplicate=False))) == 4


def test_reassigning_moves_a_name_between_registries():
    module = Scale()
    module.weight = None
    assert module.weight is None and "weight" in module._parameters
    assert [name for name, _ in module.named_parameters()] == ["bias"]
    module.steps = retrograd.ones(1)
    assert module._buffers["steps"].tolist() == [1.0]
    module.bias = nn.Parameter(retrograd.ones(2))
    del module.bias
    assert "bias" not in module._parameters
    with pytest.raises(AttributeError, match="'Scale' object has no attribute 'bias'"):
        module.bias


def test_get_submodule_and_parameter():
    net = Net()
    assert net.get_submodule("block.0") is net.block[0]
    assert net.get_parameter("block.0.weight") is net.block[0].weight
    with pytest.raises(AttributeError, match="has no attribute `missing`"):
        net.get_submodule("block.missing")


@pytest.mark.parametrize(
    ("action", "error", "words"),
    [
        (lambda m: m.register_parameter("a.b", None), KeyError, 'can\'t contain "."'),
        (lambda m: m.register_parameter("", None), KeyError, "can't be empty string"),
        (lambda m: m.register_parameter(1, None), TypeError, "parameter name should be a string. Got int"),
        (lambda m: m.register_parameter("x", retrograd.zeros(2)), TypeError,
         "cannot assign 'retrograd.FloatTensor' object to parameter 'x'"),
        (lambda m: setattr(m, "weight", retrograd.zeros(2)), TypeError,
         "cannot assign 'retrograd.FloatTensor' as parameter 'weight'"),
        (lambda m: m.register_buffer("weight", None), KeyError, "attribute 'weight' already exists"),
        (lambda m: m.register_buffer("b", 3), TypeError, "cannot assign 'int' object to buffer 'b'"),
        (lambda m: m.add_module("c", 3), TypeError, "int is not a Module subclass"),
        (lambda m: m.add_module("a.b", nn.Identity()), KeyError, 'module name can\'t contain ".", got: a.b'),
        (lambda m: m.nope, AttributeError, "'Scale' object has no attribute 'nope'"),
        (lambda m: m.forward_missing(), AttributeError, "no attribute"),
    ],
)
def test_registration_errors_match_pytorch(action, error, words):
    with pytest.raises(error) as caught:
        action(Scale())
    assert words in str(caught.value.args[0])


def test_registration_before_init_is_refused():
    class Early(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(retrograd.zeros(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward"'):
        nn.Module()(1)


# -- state_dict ------------------------------------------------------------


def test_state_dict_holds_parameters_and_persistent_buffers():
    net = Net()
    state = net.state_dict()
    assert list(state) == ["gain", "first.weight", "first.bias", "first.steps", "block.0.weight",
                           "block.0.bias", "block.0.steps"]
    assert not state["gain"].requires_grad
    state["first.weight"].add_(1)
    assert net.first.weight.tolist() == [2.0, 2.0]
    assert net.state_dict(keep_vars=True)["gain"] is net.gain
    assert list(net.first.state_dict(prefix="f.")) == ["f.weight", "f.bias", "f.steps"]


def test_load_state_dict_copies_values_in_place():
    source, target = Net(), Net()
    source.first.weight.data.mul_(3)
    weight = target.first.weight
    result = target.load_state_dict(source.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert target.first.weight is weight and weight.tolist() == [3.0, 3.0]


def test_load_state_dict_reports_keys_like_pytorch():
    module = Scale()
    with pytest.raises(RuntimeError) as caught:
        module.load_state_dict({"weight": retrograd.zeros(3), "foo": retrograd.zeros(1)})
    assert str(caught.value) == (
        'Error(s) in loading state_dict for Scale:\n\tMissing key(s) in state_dict: "bias", "steps". '
        '\n\tUnexpected key(s) in state_dict: "foo". \n\tsize mismatch for weight: copying a param with '
        "shape retrograd.Size([3]) from checkpoint, the shape in current model is retrograd.Size([2])."
    )
    result = module.load_state_dict({"weight": retrograd.full((2,), 5.0), "foo": retrograd.zeros(1)},
                                    strict=False)
    assert result.missing_keys == ["bias", "steps"] and result.unexpected_keys == ["foo"]
    assert module.weight.tolist() == [5.0, 5.0]


def test_load_state_dict_strict_refuses_an_unexpected_key_of_a_submodule():
    model = nn.Sequential(nn.Linear(2, 2))
    state = {**model.state_dict(), "0.extra": retrograd.zeros(1)}
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "0.extra"'):
        model.load_state_dict(state)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == ["0.extra"]


def test_load_state_dict_matches_pytorch_messages():
    torch = pytest.importorskip("torch")

    class TorchScale(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(2))
            self.bias = torch.nn.Parameter(torch.zeros(2))
            self.register_buffer("steps", torch.zeros(1))

    bad = {"weight": np.zeros(3, np.float32), "extra.x": np.zeros(1, np.float32)}
    with pytest.raises(RuntimeError) as theirs:
        TorchScale().load_state_dict({key: torch.tensor(value) for key, value in bad.items()})
    with pytest.raises(RuntimeError) as ours:
        Scale().load_state_dict({key: retrograd.tensor(value) for key, value in bad.items()})
    expected = str(theirs.value).replace("torch.Size", "retrograd.Size").replace("TorchScale", "Scale")
    assert str(ours.value) == expected


def test_load_state_dict_refuses_non_mappings():
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        Scale().load_state_dict([1, 2])


# -- modes, gradients, conversion ------------------------------------------


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert net.training and net.block[0].training
    assert net.eval() is net
    assert not any(module.training for module in net.modules())
    net.train()
    assert all(module.training for module in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    net = Net()
    net(retrograd.ones(2)).sum().backward()
    assert net.first.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert net.first.weight.grad.tolist() == [0.0, 0.0]
    net.zero_grad()
    assert net.first.weight.grad is None
    net.requires_grad_(False)
    assert not any(parameter.requires_grad for parameter in net.parameters())


def test_double_converts_parameters_in_place_and_keeps_their_identity():
    net = Net()
    weight = net.first.weight
    net(retrograd.ones(2)).sum().backward()
    assert net.double() is net
    assert net.first.weight is weight and weight.dtype == retrograd.float64
    assert weight.grad.dtype == retrograd.float64
    assert net.first.steps.dtype == retrograd.float64
    assert net.float().gain.dtype == retrograd.float32
    assert net.to(retrograd.float64).gain.dtype == retrograd.float64
    net(retrograd.ones(2, dtype=retrograd.float64)).sum().backward()


def test_to_leaves_integer_buffers_and_refuses_integer_dtypes():
    module = Scale()
    module.register_buffer("count", retrograd.tensor([3]))
    module.double()
    assert module.count.dtype == retrograd.int64
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        module.to(retrograd.int64)


def test_apply_visits_children_first():
    order = []
    Net().apply(lambda module: order.append(type(module).__name__))
    assert order == ["Scale", "Scale", "Identity", "Sequential", "Net"]


def test_deepcopy_of_a_module_is_independent():
    net = Net()
    clone = copy.deepcopy(net)
    clone.first.weight.data.add_(1)
    assert net.first.weight.tolist() == [1.0, 1.0]


# -- hooks -----------------------------------------------------------------


def test_forward_pre_hook_can_replace_the_input_and_forward_hook_the_output():
    module = Scale()
    calls = []
    pre = module.register_forward_pre_hook(lambda m, args: (args[0] * 10,))
    module.register_forward_hook(lambda m, args, output: calls.append(args[0].tolist()) or output + 1)
    assert module(retrograd.ones(2)).tolist() == [11.0, 11.0]
    assert calls == [[10.0, 10.0]]
    pre.remove()
    assert module(retrograd.ones(2)).tolist() == [2.0, 2.0]


def test_hooks_with_kwargs_and_prepend():
    module = Scale()
    order = []
    module.register_forward_hook(lambda m, a, o: order.append("second"))
    module.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)
    module.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 0,), kwargs), with_kwargs=True)
    assert module(retrograd.ones(2)).tolist() == [0.0, 0.0]
    assert order == ["first", "second"]


def test_full_backward_hook_sees_input_and_output_gradients():
    module = Scale()
    module.weight.data.fill_(3.0)
    seen = []
    module.register_full_backward_hook(lambda m, grad_input, grad_output: seen.append((grad_input, grad_output)))
    x = retrograd.ones(2, requires_grad=True)
    (module(x) * 2).sum().backward()
    (grad_input,), (grad_output,) = seen[0]
    assert grad_output.tolist() == [2.0, 2.0]
    assert grad_input.tolist() == [6.0, 6.0]
    assert x.grad.tolist() == [6.0, 6.0]


def test_full_backward_hook_can_replace_the_input_gradient():
    module = Scale()
    module.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0] * 0,))
    x = retrograd.ones(2, requires_grad=True)
    module(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert module.weight.grad.tolist() == [1.0, 1.0]


def test_full_backward_hook_without_input_grad_gets_none():
    module = Scale()
    seen = []
    module.register_full_backward_hook(lambda m, grad_input, grad_output: seen.append(grad_input))
    module(retrograd.ones(2)).sum().backward()
    assert seen == [(None,)]


def test_full_backward_hook_matches_pytorch():
    torch = pytest.importorskip("torch")

    def record(store):
        return lambda m, grad_input, grad_output: store.append(
            ([g.tolist() for g in grad_input], [g.tolist() for g in grad_output])
        )

    ours, theirs = [], []
    module = Scale()
    module.register_full_backward_hook(record(ours))
    x = retrograd.tensor([1.0, -2.0], requires_grad=True)
    (module(x) ** 2).sum().backward()
    linear = torch.nn.Module()
    linear.weight = torch.nn.Parameter(torch.ones(2))
    linear.bias = torch.nn.Parameter(torch.zeros(2))
    linear.forward = lambda x: x * linear.weight + linear.bias
    linear.register_full_backward_hook(record(theirs))
    y = torch.tensor([1.0, -2.0], requires_grad=True)
    (linear(y) ** 2).sum().backward()
    assert ours == theirs


# -- repr ------------------------------------------------------------------


def test_repr_nests_children_with_indentation():
    assert repr(Net()) == (
        "Net(\n"
        "  (first): Scale(size=2)\n"
        "  (block): Sequential(\n"
        "    (0): Scale(size=2)\n"
        "    (1): Identity()\n"
        "  )\n"
        ")"
    )


def test_multiline_extra_repr():
    class Multi(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Multi()) == "Multi(\n  a=1\n  b=2\n)"


def test_buffer_attribute_registers_a_buffer():
    module = nn.Module()
    module.steps = nn.Buffer(retrograd.ones(2), persistent=False)
    assert [name for name, _ in module.named_buffers()] == ["steps"]
    assert type(module.steps) is retrograd.Tensor
    assert module.state_dict() == {}
    module.count = nn.Buffer(retrograd.zeros(1))
    assert list(module.state_dict()) == ["count"]


def test_incompatible_keys_repr():
    result = Scale().load_state_dict({"x": retrograd.ones(1)}, strict=False)
    assert repr(result) == (
        "_IncompatibleKeys(missing_keys=['weight', 'bias', 'steps'], unexpected_keys=['x'])"
    )
