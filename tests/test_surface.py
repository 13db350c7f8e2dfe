"""The names real PyTorch programs reach for: legacy constructors, Variable, new_*, unique,
size=, in-place shape methods and function forms, register_backward_hook, DataParallel."""

import warnings

import numpy as np
import pytest

import retrograd
from retrograd import nn
from retrograd.autograd import Variable

try:
    import torch
except ImportError:  # the cross-checks below skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


# ---------------------------------------------------------------------------
# Legacy constructors


def test_tensor_constructor_gives_the_default_float_dtype_for_integer_data():
    total = retrograd.Tensor([0])
    assert total.dtype is retrograd.float32
    total += retrograd.tensor(1.5)
    assert total.tolist() == [1.5]


def test_tensor_constructor_follows_set_default_dtype():
    previous = retrograd.get_default_dtype()
    retrograd.set_default_dtype(retrograd.float64)
    try:
        assert retrograd.Tensor([1]).dtype is retrograd.float64
        assert retrograd.FloatTensor([1]).dtype is retrograd.float32
    finally:
        retrograd.set_default_dtype(previous)


def test_tensor_constructor_with_sizes_makes_that_shape():
    assert retrograd.Tensor(2, 3).shape == (2, 3)
    assert retrograd.Tensor(retrograd.Size([4])).shape == (4,)
    assert retrograd.Tensor().shape == (0,)


def test_tensor_constructor_of_a_tensor_shares_its_memory_and_dtype():
    source = retrograd.tensor([1, 2])
    alias = retrograd.Tensor(source)
    assert alias.dtype is retrograd.int64
    alias[0] = 7
    assert source.tolist() == [7, 2]


def test_tensor_constructor_refuses_strings_and_requires_grad():
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        retrograd.Tensor("a")
    with pytest.raises(TypeError):
        retrograd.Tensor([1.0], requires_grad=True)


@pytest.mark.parametrize("name, dtype", [
    ("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("LongTensor", "int64"),
    ("IntTensor", "int32"), ("ByteTensor", "uint8"), ("BoolTensor", "bool"),
])
def test_legacy_constructor_makes_its_dtype_and_isinstance_checks_it(name, dtype):
    legacy = getattr(retrograd, name)
    made = legacy([1, 0])
    assert made.dtype is getattr(retrograd, dtype)
    assert isinstance(made, legacy)
    assert type(made) is retrograd.Tensor
    others = [other for other in ("FloatTensor", "LongTensor") if other != name]
    assert not isinstance(made, getattr(retrograd, others[0]))
    assert legacy(3).shape == (3,)


def test_legacy_constructor_truncates_floats_and_refuses_another_dtype_tensor():
    assert retrograd.LongTensor([1.7, -2.2]).tolist() == [1, -2]
    with pytest.raises(TypeError, match="expected retrograd.FloatTensor"):
        retrograd.FloatTensor(retrograd.tensor([1, 2]))


def test_type_names_and_converts():
    x = retrograd.tensor([1.5])
    assert x.type() == "retrograd.FloatTensor"
    assert x.type(retrograd.LongTensor).dtype is retrograd.int64
    assert x.type("torch.DoubleTensor").dtype is retrograd.float64
    assert x.type(retrograd.float16).dtype is retrograd.float16


# ---------------------------------------------------------------------------
# Variable


def test_variable_returns_a_tensor_that_requires_grad_on_request():
    data = retrograd.ones(2)
    variable = Variable(data, requires_grad=True)
    assert type(variable) is retrograd.Tensor
    assert variable.requires_grad and variable.is_leaf
    assert not data.requires_grad
    (variable * 3).sum().backward()
    assert variable.grad.tolist() == [3.0, 3.0]


def test_every_tensor_is_a_variable():
    assert isinstance(retrograd.zeros(1), Variable)
    assert isinstance(nn.Parameter(retrograd.zeros(1)), Variable)
    assert not isinstance([1.0], Variable)


def test_variable_of_a_computed_tensor_is_cut_from_the_graph():
    x = retrograd.ones(2, requires_grad=True)
    variable = Variable(x * 2)
    assert variable.grad_fn is None and not variable.requires_grad


def test_variable_refuses_non_tensors_and_warns_about_volatile():
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1.0])
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(retrograd.ones(1), volatile=True)


# ---------------------------------------------------------------------------
# new_* and size=


def test_new_methods_take_self_dtype_unless_told():
    ints = retrograd.tensor([1])
    assert ints.new_zeros((2, 3)).dtype is retrograd.int64
    assert ints.new_ones(2).tolist() == [1, 1]
    assert ints.new_full((2,), 2.5).tolist() == [2, 2]
    assert ints.new_tensor([1.5]).tolist() == [1]
    assert ints.new_empty(2, 2).shape == (2, 2)
    assert ints.new_ones(2, dtype=retrograd.float64).dtype is retrograd.float64
    made = retrograd.tensor([1.0]).new_ones(2, requires_grad=True)
    assert made.requires_grad and made.is_leaf


def test_creation_functions_take_size_as_a_keyword():
    assert retrograd.randn(size=()).shape == ()
    assert retrograd.zeros(size=(2, 3)).shape == (2, 3)
    assert retrograd.ones(size=[2]).shape == (2,)
    assert retrograd.empty(size=(1,)).shape == (1,)
    assert retrograd.rand(size=(3,)).shape == (3,)
    assert retrograd.tensor([1.0]).new_zeros(size=(2,)).shape == (2,)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        retrograd.zeros(2, size=(2,))


@pytest.mark.parametrize("name, words", [
    ("zeros", 'zeros() missing 1 required positional arguments: "size"'),
    ("ones", 'ones() missing 1 required positional arguments: "size"'),
    ("empty", 'empty() missing 1 required positional arguments: "size"'),
    ("rand", "rand() received an invalid combination of arguments - got ()"),
    ("randn", "randn() received an invalid combination of arguments - got ()"),
])
def test_creation_functions_refuse_a_missing_size_as_pytorch(name, words):
    for library in [retrograd] + ([torch] if torch is not None else []):
        with pytest.raises(TypeError) as raised:
            getattr(library, name)()
        assert str(raised.value).startswith(words), library.__name__
    assert getattr(retrograd, name)(()).shape == ()  # an empty size is a size: a 0-d tensor


# ---------------------------------------------------------------------------
# unique


def test_unique_sorts_and_returns_inverse_and_counts():
    values, inverse, counts = retrograd.unique(
        retrograd.tensor([3, 1, 2, 3, 1]), return_inverse=True, return_counts=True
    )
    assert values.tolist() == [1, 2, 3]
    assert inverse.tolist() == [2, 0, 1, 2, 0]
    assert counts.tolist() == [2, 1, 2]


def test_unique_inverse_has_the_input_shape_and_nans_stay_apart():
    _, inverse = retrograd.tensor([[3, 1], [1, 3]]).unique(return_inverse=True)
    assert inverse.tolist() == [[1, 0], [0, 1]]
    result = retrograd.unique(retrograd.tensor([1.0, float("nan"), float("nan")]))
    assert result.shape == (3,)


def test_unique_along_a_dim_compares_slices():
    rows, inverse, counts = retrograd.unique(
        retrograd.tensor([[1, 2], [1, 2], [0, 5]]), dim=0, return_inverse=True, return_counts=True
    )
    assert rows.tolist() == [[0, 5], [1, 2]]
    assert inverse.tolist() == [1, 1, 0]
    assert counts.tolist() == [1, 2]


def test_unique_consecutive_keeps_one_of_each_run():
    values, inverse, counts = retrograd.unique_consecutive(
        retrograd.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True
    )
    assert values.tolist() == [1, 2, 3, 1, 2]
    assert inverse.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    assert counts.tolist() == [2, 2, 1, 2, 1]
    rows = retrograd.unique_consecutive(retrograd.tensor([[1, 2], [1, 2], [0, 5], [1, 2]]), dim=0)
    assert rows.tolist() == [[1, 2], [0, 5], [1, 2]]


def test_unique_of_a_tensor_that_requires_grad_has_no_derivative():
    x = retrograd.tensor([3.0, 1.0, 3.0], requires_grad=True)
    result = retrograd.unique(x)
    assert result.grad_fn.name() == "Unique2Backward0"
    with pytest.raises(NotImplementedError, match="the derivative for '_unique2' is not implemented"):
        result.sum().backward()


@needs_torch
@pytest.mark.parametrize("seed", range(6))
def test_unique_matches_pytorch(seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 4, size=(5, 3))
    for kwargs in ({}, {"dim": 0}, {"dim": 1}):
        for function in ("unique", "unique_consecutive"):
            ours = getattr(retrograd, function)(retrograd.tensor(data), return_inverse=True,
                                                return_counts=True, **kwargs)
            theirs = getattr(torch, function)(torch.tensor(data), return_inverse=True,
                                              return_counts=True, **kwargs)
            for mine, reference in zip(ours, theirs):
                assert mine.tolist() == reference.tolist(), (function, kwargs)


# ---------------------------------------------------------------------------
# In-place shape methods and function forms


def test_in_place_shape_methods_change_the_shape_and_take_the_history():
    leaf = retrograd.ones(2, 3, requires_grad=True)
    x = leaf * 2
    x.unsqueeze_(0)
    assert x.shape == (1, 2, 3) and x.grad_fn.name() == "UnsqueezeBackward1"
    assert x._version == 1
    x.squeeze_()
    assert x.grad_fn.name() == "SqueezeBackward3"
    x.t_()
    assert x.shape == (3, 2) and x.grad_fn.name() == "TBackward1"
    x.transpose_(0, 1)
    assert x.grad_fn.name() == "TransposeBackward1"
    (x * retrograd.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert leaf.grad.tolist() == [[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]


def test_in_place_shape_method_on_a_leaf_that_requires_grad_is_refused():
    leaf = retrograd.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.unsqueeze_(0)
    assert leaf.shape == (2,)


def test_in_place_shape_method_keeps_sharing_memory():
    base = retrograd.zeros(2, 3)
    row = base[0]
    base.t_()
    base[1, 0] = 5.0
    assert row.tolist() == [0.0, 5.0, 0.0]
    assert row._version == base._version


def test_t_refuses_more_than_two_dims():
    with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions"):
        retrograd.ones(2, 3, 4).t_()


def test_resize_keeps_leading_elements_and_refuses_tensors_that_require_grad():
    x = retrograd.arange(6.0)
    x.resize_(2, 2)
    assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    x.resize_(5)
    assert x.shape == (5,) and x.tolist()[:4] == [0.0, 1.0, 2.0, 3.0]
    x.resize_as_(retrograd.ones(1, 3))
    assert x.shape == (1, 3)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        retrograd.ones(2, requires_grad=True).resize_(3)


def test_function_forms_of_in_place_ops_write_into_their_input():
    x = retrograd.tensor([-1.0, 0.5])
    assert retrograd.relu_(x) is x
    assert x.tolist() == [0.0, 0.5]
    y = retrograd.tensor([0.0, 1.0])
    retrograd.exp_(y)
    assert y.tolist() == pytest.approx([1.0, np.e])
    assert retrograd.clamp_min_(retrograd.tensor([-1.0, 2.0]), 0).tolist() == [0.0, 2.0]


@needs_torch
def test_every_in_place_function_form_we_export_exists_in_pytorch():
    from retrograd._shape_inplace import function_forms

    for name in function_forms():
        assert hasattr(torch, name), name


# ---------------------------------------------------------------------------
# Module.register_backward_hook and DataParallel


def test_register_backward_hook_sees_the_last_node_gradients():
    module = nn.Tanh()
    seen = []
    module.register_backward_hook(lambda mod, grad_input, grad_output: seen.append(
        (mod, len(grad_input), grad_output[0].tolist())
    ))
    x = retrograd.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        (module(x) * 2).sum().backward()
    assert seen == [(module, 1, [2.0, 2.0])]


def test_register_backward_hook_may_replace_the_input_gradients():
    module = nn.Tanh()
    handle = module.register_backward_hook(lambda mod, grad_input, grad_output: (grad_input[0] * 0,))
    x = retrograd.tensor([0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module(x).sum().backward()
    assert x.grad.tolist() == [0.0]
    handle.remove()
    x.grad = None
    module(x).sum().backward()
    assert x.grad.tolist() == [1.0]


def test_register_backward_hook_warns_when_the_forward_records_several_nodes():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    model.register_backward_hook(lambda *args: None)
    with pytest.warns(FutureWarning, match="forward contains multiple autograd Nodes"):
        model(retrograd.ones(4, 3))


def test_regular_and_full_backward_hooks_cannot_be_mixed():
    module = nn.Linear(2, 2)
    module.register_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        module.register_full_backward_hook(lambda *args: None)


def test_data_parallel_wraps_the_module_on_the_cpu():
    inner = nn.Linear(2, 1)
    model = nn.DataParallel(inner)
    assert model.module is inner
    assert list(model.state_dict()) == ["module.weight", "module.bias"]
    x = retrograd.ones(3, 2)
    assert model(x).tolist() == inner(x).tolist()
    assert repr(model).startswith("DataParallel(\n  (module): Linear(")


SCALARS = [0.3, -1.5e300, float("nan"), 3, -(2**63), 2**63 - 1, True]


@needs_torch
@pytest.mark.parametrize("value", SCALARS, ids=repr)
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_tensor_of_a_python_scalar_is_pytorchs(value, default):
    previous = retrograd.get_default_dtype(), torch.get_default_dtype()
    retrograd.set_default_dtype(getattr(retrograd, default))
    torch.set_default_dtype(getattr(torch, default))
    try:
        ours, theirs = retrograd.tensor(value), torch.tensor(value)
    finally:
        retrograd.set_default_dtype(previous[0])
        torch.set_default_dtype(previous[1])
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1])
def test_tensor_of_a_python_int_beyond_int64_overflows_as_in_pytorch(value):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        retrograd.tensor(value)
