"""The generated saving and backward of declared ops (Note [Generated saving and backward])."""

import contextlib
import inspect

import numpy as np
import pytest

import retrograd as torch
from retrograd.ops._formula import Formula
from retrograd.ops.pointwise.arithmetic import AddBackward0, MulBackward0
from retrograd.ops.pointwise.unary import SinBackward0


def _leaf(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


def test_each_plan_has_its_generated_functions_with_their_source():
    x, w = _leaf([1.0, 2.0]), torch.tensor([3.0, 4.0], dtype=torch.float64)
    x * w  # x needs a gradient, w does not: the plan of `needs` 0b01
    plan = MulBackward0._plans[1]
    assert "def save(node, inputs, params, outputs):" in plan.save.source
    assert "def backward_on_arrays(node, grads, batch, release, needed=None, plain=False):" in plan.backward_on_arrays.source
    # only the formula of `self` runs, and it reads `other` alone
    assert "formula_0(grad, saved_0)" in plan.backward_on_arrays.source
    assert "formula_1" not in plan.backward_on_arrays.source


def test_only_what_the_needed_formulas_read_is_saved():
    x, w = _leaf([1.0, 2.0]), torch.tensor([3.0, 4.0], dtype=torch.float64)
    y = x * w
    assert y.grad_fn._saved_other is w
    assert y.grad_fn._saved_self is None  # no formula that runs reads it (PyTorch shows None)
    x.detach().add_(1.0)  # x was not saved: changing it is no error (PyTorch's rule)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_both_modes_give_the_closed_form_gradients(create_graph):
    x, b = _leaf([0.5, 1.5, -2.0]), _leaf([[1.0], [2.0]])
    y = ((x.sin() * x + x * 0.5) + b).tanh()
    grad_x, grad_b = torch.autograd.grad(y.sum(), (x, b), create_graph=create_graph)
    a = x.detach().numpy()
    inner = np.sin(a) * a + a * 0.5 + b.detach().numpy()
    outer = 1 - np.tanh(inner) ** 2
    np.testing.assert_allclose(grad_x.numpy() if not create_graph else grad_x.detach().numpy(),
                               (outer * (np.cos(a) * a + np.sin(a) + 0.5)).sum(0))
    np.testing.assert_allclose(grad_b.detach().numpy(), outer.sum(1, keepdims=True))


def test_a_broadcast_gradient_is_summed_to_its_input_and_cast_to_its_dtype():
    x = _leaf([1.0, 2.0, 3.0], torch.float32)
    b = _leaf([[1.0], [2.0]], torch.float64)
    (x + b).sum().backward()
    assert x.grad.dtype is torch.float32 and b.grad.dtype is torch.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [[3.0], [3.0]])


def test_a_saved_input_changed_in_place_is_refused_by_the_generated_backward():
    x = _leaf([1.0, 2.0])
    a = x * 1.0
    y = a.sin()
    a.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()



@pytest.mark.parametrize("create_graph", [False, True])
def test_a_saved_tensor_kept_as_it_is_changed_in_place_is_refused(create_graph):
    x, w = _leaf([1.0, 2.0]), torch.tensor([3.0, 4.0], dtype=torch.float64)
    y = x * w  # w needs no gradient: kept as the tensor itself, not as a record
    w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(y.sum(), x, create_graph=create_graph)


def test_with_create_graph_a_saved_input_changed_in_place_is_refused():
    x = _leaf([1.0, 2.0])
    a = x * 1.0
    y = a.sin()
    a.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(y.sum(), x, create_graph=True)


def test_with_create_graph_the_plan_runs_its_generated_backward_on_tensors(monkeypatch):
    x, w = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    y = x * w
    source = y.grad_fn._plan_used.backward_on_tensors.source
    assert "def backward_on_tensors(node, grads):" in source
    assert "_unpacked" in source  # (only where a saved value is not the quick case)
    monkeypatch.setattr(Formula, "_unpacked", lambda *args: pytest.fail("the quick case left it"))
    grad_x, grad_w = torch.autograd.grad(y.sum(), (x, w), create_graph=True)
    assert grad_x.grad_fn is not None and grad_w.grad_fn is not None  # recorded: differentiable again
    np.testing.assert_array_equal(grad_x.detach().numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(grad_w.detach().numpy(), [1.0, 2.0])


def test_with_create_graph_a_formula_of_an_input_the_pass_skips_does_not_run(monkeypatch):
    x, w = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    y = x * w
    namespace = y.grad_fn._plan_used.backward_on_tensors.__globals__
    monkeypatch.setitem(namespace, "formula_1", lambda grad, self: pytest.fail("w's formula ran"))
    (grad_x,) = torch.autograd.grad(y.sum(), x, create_graph=True)  # (w's gradient is not asked for)
    np.testing.assert_array_equal(grad_x.detach().numpy(), [3.0, 4.0])


def test_the_pass_frees_the_saved_tensors_and_a_second_backward_is_refused():
    x = _leaf([1.0, 2.0])
    y = x.sin()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_self
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_the_pass_frees_a_saved_tensor_kept_as_it_is():
    x, w = _leaf([1.0, 2.0]), torch.tensor([3.0, 4.0], dtype=torch.float64)
    y = x * w  # w needs no gradient: kept as the tensor itself, not as a record
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_other


def test_the_pass_frees_the_saved_tensors_and_keeps_the_saved_shapes():
    x = _leaf([3.0, 1.0, 2.0])
    values, _ = x.sort()  # saves its indices (an output) and the shape of `self`
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    assert values.grad_fn._saved_self_sym_sizes == (3,)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        values.grad_fn._saved_indices


def test_the_plain_turn_leaves_a_node_with_a_hook_to_the_general_turn():
    x = _leaf([1.0, 2.0])
    y = x.sin()
    backward = y.grad_fn._plan_used.backward_on_arrays
    grads = [np.ones(2)]
    assert backward(y.grad_fn, grads, (), False, None, True) is not None
    y.grad_fn.register_prehook(lambda grad_outputs: None)
    assert backward(y.grad_fn, grads, (), False, None, True) is None
    np.testing.assert_allclose(backward(y.grad_fn, grads, (), False)[0], np.cos([1.0, 2.0]))


def test_a_post_hook_of_the_node_still_reads_its_saved_values_as_in_pytorch():
    x = _leaf([1.0, 2.0])
    y = x.sin()
    seen = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(y.grad_fn._saved_self))
    y.sum().backward()
    assert seen[0] is x
    with pytest.raises(RuntimeError, match="a second time"):
        y.grad_fn._saved_self


def test_retain_graph_keeps_the_saved_tensors():
    x = _leaf([1.0, 2.0])
    y = x.sin()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos([1.0, 2.0]))


def test_a_batched_pass_fits_the_generated_gradients_after_the_batch_dimension():
    x = _leaf([1.0, 2.0, 3.0])
    y = (x.exp() * x + x * 2).sin()
    jacobian = torch.autograd.functional.jacobian(lambda a: (a.exp() * a + a * 2).sin(), x,
                                                  vectorize=True)
    a = x.detach().numpy()
    expected = np.diag(np.cos(np.exp(a) * a + 2 * a) * (np.exp(a) * a + np.exp(a) + 2))
    np.testing.assert_allclose(jacobian.numpy(), expected)
    assert y.grad_fn is not None


def test_the_engine_runs_a_declared_node_through_its_plan(monkeypatch):
    def refuse(self, *grads):
        raise AssertionError("Formula.backward ran: the generated backward was bypassed")

    monkeypatch.setattr(Formula, "backward", refuse)
    x = _leaf([1.0, 2.0])
    (x.sin() + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]) + 1)


def test_formula_backward_still_serves_direct_calls_in_both_modes():
    x = _leaf([1.0, 2.0])
    y = x.sin()
    (on_tensors,) = y.grad_fn.backward(torch.ones(2, dtype=torch.float64))
    (on_arrays,) = y.grad_fn.backward(np.ones(2))
    np.testing.assert_allclose(on_tensors.detach().numpy(), np.cos([1.0, 2.0]))
    np.testing.assert_allclose(on_arrays, np.cos([1.0, 2.0]))


def test_a_declaration_may_not_override_backward():
    with pytest.raises(TypeError, match="declares its derivatives"):
        class _Wrong(Formula):
            inputs = ("self",)
            derivatives = {"self": lambda grad: grad}  # noqa: RUF012

            def backward(self, *grads):
                return grads


def test_the_plan_of_an_op_with_a_parameter_reads_its_default():
    x, y = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    (x + y).sum().backward()  # alpha left at its default: the generated backward reads it
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    x.grad = y.grad = None
    torch.add(x, y, alpha=3).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])
    assert "'alpha' in params" in AddBackward0._plans[3].backward_on_arrays.source


def test_saved_tensor_hooks_still_pack_through_the_general_way():
    packed = []
    x = _leaf([1.0, 2.0])
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        y = x.sin()
    assert packed == [x]
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]))
    assert SinBackward0._plans[1].save.source.count("node._pack(") == 1


# -- generated recording (Note [Generated recording]) -----------------------------------------


@contextlib.contextmanager
def _without_direct_entries():
    """Every call takes the long way: the op's function, `apply`, the record."""
    from retrograd.ops import _recording

    _recording.entries_off.add(1)
    try:
        yield
    finally:
        _recording.entries_off.add(-1)


def _recorded_three_ways(function, *inputs):
    """`function(*inputs)` recorded by the op's direct entry (where it has one), by its
    generated record, and by `_record`."""
    from retrograd.ops import _table

    direct = function(*inputs)
    node_class = type(direct.grad_fn)
    with _without_direct_entries():
        generated = function(*inputs)
        recorder = _table._recorders.pop(node_class)
        _table._recorders[node_class] = lambda args, params: _table._record(node_class, args, params)
        try:
            general = function(*inputs)
        finally:
            _table._recorders[node_class] = recorder
    return direct, generated, general


def _described(tensor):
    node = tensor.grad_fn
    saved = {name: getattr(node, "_saved_" + name) for name in node._saved_names()}
    edges = [(type(next_node).__name__, number) for next_node, number in node.next_functions]
    return (type(node), edges, node._input_meta, node._next_nrs, tensor._output_nr,
            tensor._requires_grad, tensor.dtype, tensor.shape, tensor._version, type(tensor._data),
            tensor._base is not None, tensor._data.base is not None,
            sorted(saved))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("function", [
    lambda x, w: x.sin(),
    lambda x, w: torch.sin(x),
    lambda x, w: x * 0.5,
    lambda x, w: x * 3,  # an int the dtype keeps
    lambda x, w: x + w,
    lambda x, w: w * x,
    lambda x, w: x / w,
    lambda x, w: torch.div(w, x) - x,
    lambda x, w: 2.0 - x,  # rsub: the number is a parameter of the node
    lambda x, w: torch.rsub(x, 3),
    lambda x, w: torch.rsub(x, w),  # a tensor: RsubBackward0, by the function
    lambda x, w: x + w.double(),  # two dtypes: promoted by the forward
    lambda x, w: x[None, :] * w[:, None],  # broadcast by the kernel
    lambda x, w: torch.add(x.exp(), w, alpha=2),
    lambda x, w: torch.atan2(w, x.tanh()),
    lambda x, w: 1.0 - x.sum() * 2,  # 0-d results: NumPy gives scalars, made 0-d arrays
    lambda x, w: x.sum().sigmoid() * x.sum().exp(),
    lambda x, w: x.unsqueeze(0).t(),  # views: they share their input's memory and version
    lambda x, w: torch.chunk(x * w, 2)[1].sigmoid(),  # an input that is output 1 of its node
    lambda x, w: -x.abs(),
    lambda x, w: torch.sum(x * w),  # parameters at their defaults
    lambda x, w: x.mean() * w,
    lambda x, w: x[:, None] @ w[None, :],  # two float matrices: MmBackward0
    lambda x, w: torch.matmul(w[None, :], x[:, None].exp()),
    lambda x, w: x[None, :].matmul(x[:, None]),
])
def test_direct_entries_and_generated_records_record_what_the_general_runner_does(function, dtype):
    x, w = _leaf([0.5, 1.5], dtype), torch.tensor([2.0, 3.0], dtype=dtype)
    results = _recorded_three_ways(function, x, w)
    direct = results[0]
    for other in results[1:]:
        assert _described(direct) == _described(other)
        np.testing.assert_array_equal(direct.detach().numpy(), other.detach().numpy())
    grads = [torch.autograd.grad(result.sum(), x)[0].numpy() for result in results]
    for grad in grads[1:]:
        np.testing.assert_array_equal(grads[0], grad)


def test_the_generated_record_keeps_the_number_of_a_later_output():
    x = _leaf([[3.0, 1.0], [2.0, 4.0]])
    later = torch.var_mean(x, dim=1)[1]  # output 1 of its node
    y = later * 2.0
    assert y.grad_fn.next_functions[0][1] == 1
    (grad,) = torch.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(grad.numpy(), np.full((2, 2), 1.0))


def test_a_view_recorded_by_the_generated_record_is_a_view_of_its_input():
    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1.0
    unwritten = y.t()
    y.add_(0.0)  # written through the base: the view's history is replayed (as PyTorch)
    assert unwritten._version == 1 and unwritten.grad_fn.name() == "AsStridedBackward0"
    y = x * 1.0
    view = y.t()
    assert view._base is y and view._version_counter is y._version_counter
    view.mul_(2.0)  # written through the view: the base sees it, and its history is rewritten
    assert y._version == 1 and y.grad_fn.name() == "torch::autograd::CopySlices"
    np.testing.assert_array_equal(y.detach().numpy(), [[2.0, 4.0], [6.0, 8.0]])
    (grad,) = torch.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(grad.numpy(), np.full((2, 2), 2.0))
    y.add_(1.0)  # written through the base: the view's history is replayed (as PyTorch)
    assert view._version == 2 and view.grad_fn.name() == "AsStridedBackward0"


def test_each_generated_record_shows_its_source():
    from retrograd.ops import _table

    x = _leaf([1.0])
    with _without_direct_entries():
        x.cos()
    source = _table._recorders[type(x.cos().grad_fn)].source
    assert source.startswith("def record(inputs, params):")
    assert "node.append(edge_0)" in source and "shared_meta_of_one(meta_0)" in source


# -- saved values as attributes (Note [Saved values as attributes]) ----------------------------


def test_declared_nodes_show_saved_values_as_properties_without_a_getattr_hook():
    x, w = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    node = (x * w).grad_fn
    assert "__getattr__" not in dir(type(node))  # attribute reads on nodes stay specialised
    assert isinstance(type(node).__dict__["_saved_self"], property)
    assert node._saved_self is x and node._saved_other is w
    with pytest.raises(AttributeError, match="'MulBackward0' object has no attribute '_saved_input'"):
        node._saved_input
    assert not hasattr(x.sin().grad_fn, "_saved_result")


def test_hand_written_nodes_still_find_their_saved_values_by_name():
    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    node = torch.linalg.det(x).grad_fn  # a hand-written node class
    assert type(node).__getattr__ is not None
    assert node._saved_A is x
    with pytest.raises(AttributeError, match="has no attribute '_saved_nothing'"):
        node._saved_nothing


# -- direct entries (Note [Direct entries], ops/_recording.py) ----------------------------------


def test_a_direct_entry_keeps_the_signature_name_and_doc_of_what_it_replaces():
    import inspect

    assert str(inspect.signature(torch.add)) == "(input, other, *, alpha=1)"
    assert str(inspect.signature(torch.Tensor.__mul__)) == "(self, other)"
    assert torch.sin.__name__ == "sin" and torch.sin.__doc__.startswith("The sine")
    assert torch.Tensor.__add__.source.startswith("def __add__(self, other):")
    assert "KERNEL(data_0, data_1)" in torch.mul.source and "KERNEL(data_0)" in torch.exp.source


def test_a_direct_entry_takes_the_long_way_for_anything_but_its_inputs():
    x, w = _leaf([1.0, 2.0]), torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert torch.add(x, w, alpha=2).tolist() == [7.0, 10.0]
    assert torch.sub(x, w, alpha=1).tolist() == [-2.0, -2.0]
    assert torch.div(w, x, rounding_mode="floor").grad_fn.name() == "DivBackward2"
    out = torch.empty(2, dtype=torch.float64)
    with torch.no_grad():
        assert torch.sin(x, out=out) is out
    np.testing.assert_allclose(out.numpy(), np.sin([1.0, 2.0]))
    assert x.__add__("a") is NotImplemented
    with pytest.raises(TypeError, match="unsupported operand"):
        x + "a"


def test_a_direct_entry_explains_failures_as_the_checked_function_does():
    with pytest.raises(TypeError, match=r"sin\(\): argument 'input' \(position 1\) must be Tensor, not str"):
        torch.sin("a")
    with pytest.raises(RuntimeError, match="must match the size"):
        torch.ones(2, requires_grad=True) * torch.ones(3)
    with pytest.raises(RuntimeError, match="must match the size"):
        torch.ones(2) + torch.ones(3)


def test_a_direct_entry_runs_without_recording_under_no_grad():
    x = _leaf([1.0, 2.0])
    with torch.no_grad():
        y = x * 2.0
        z = x.exp()
    assert y.grad_fn is None and not y.requires_grad and z.grad_fn is None
    np.testing.assert_array_equal(z.numpy(), np.exp([1.0, 2.0]))
    with torch.no_grad():
        total, mean, product = x.sum(), torch.mean(x), x[:, None] @ x[None, :]
    assert total.grad_fn is None and mean.grad_fn is None and product.grad_fn is None
    assert not (total.requires_grad or mean.requires_grad or product.requires_grad)
    assert (total.item(), mean.item()) == (3.0, 1.5) and product.tolist() == [[1.0, 2.0], [2.0, 4.0]]


def test_an_entry_with_parameters_records_itself_only_where_they_are_at_their_defaults(monkeypatch):
    from retrograd.ops.reduce import sums

    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    assert str(inspect.signature(torch.Tensor.sum)) == "(input, dim=None, keepdim: 'bool' = False, *, dtype=None)"
    assert torch.Tensor.mean.source.startswith("def mean(input, dim=DEFAULT_dim, keepdim=DEFAULT_keepdim, *,")
    with monkeypatch.context() as patched:  # the entry records `x.sum()`: sum's function is not called
        patched.setattr(sums, "apply", None)
        assert x.sum().grad_fn.name() == "SumBackward0" and torch.mean(x).grad_fn.name() == "MeanBackward0"
        with pytest.raises(TypeError):
            x.sum(keepdim=True)
    assert x.sum(0).grad_fn.name() == "SumBackward1" and x.mean(dim=1).grad_fn.name() == "MeanBackward1"
    kept = x.sum(dim=None, keepdim=True)
    assert kept.shape == (1, 1) and kept.grad_fn.name() == "SumBackward0"
    assert torch.mean(x, keepdim=True).tolist() == [[2.5]]
    assert x.sum(dtype=torch.float32).dtype is torch.float32
    assert torch.sum(torch.tensor([True, True])).dtype is torch.int64
    out = torch.empty((), dtype=torch.float64)
    with torch.no_grad():
        assert torch.sum(x, out=out) is out and out.item() == 10.0
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        torch.tensor([1, 2]).mean()
    with pytest.raises(TypeError, match=r"sum\(\): argument 'input' \(position 1\) must be Tensor, not int"):
        torch.sum(3)


def test_an_entry_passes_a_number_that_is_no_input_to_the_op_as_its_parameter(monkeypatch):
    from retrograd.ops.pointwise import arithmetic

    x, w = _leaf([1.0, 2.0]), torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert "params = {'other': other, 'alpha': PARAM_alpha}" in torch.Tensor.__rsub__.source
    with monkeypatch.context() as patched:  # the entry records `1 - x`: rsub's function is not called
        patched.setattr(arithmetic, "check_operand", None)
        y = 1 - x
        assert y.grad_fn.name() == "RsubBackward1" and y.grad_fn._saved_alpha == 1
        assert torch.rsub(x, 2.5).tolist() == [1.5, 0.5]
        with pytest.raises(TypeError):
            torch.rsub(x, 2, alpha=2)
    assert y.grad_fn._params == {"other": 1, "alpha": 1} and y.tolist() == [0.0, -1.0]
    assert torch.rsub(x, 2, alpha=2).tolist() == [0.0, -2.0]
    assert torch.rsub(x, w).grad_fn.name() == "RsubBackward0"
    with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
        True - x
    with torch.no_grad():
        z = 1.5 - x
    assert z.grad_fn is None and z.tolist() == [0.5, -0.5]
    with pytest.raises(TypeError, match="unsupported operand"):
        "a" - x


def test_matmuls_entry_records_two_float_matrices_and_leaves_every_other_case_to_matmul(monkeypatch):
    from retrograd.ops.linalg import products

    matrix, vector = _leaf([[1.0, 2.0], [3.0, 4.0]]), _leaf([1.0, 2.0])
    assert "isinstance(self, Tensor) and isinstance(other, Tensor)" in torch.Tensor.__matmul__.source
    with monkeypatch.context() as patched:  # the entry records matrices: matmul's function is not called
        patched.setattr(products, "_matmul_node", None)
        assert (matrix @ matrix).grad_fn.name() == "MmBackward0"
        assert torch.matmul(matrix, matrix.t()).grad_fn.name() == "MmBackward0"
        assert matrix.float().matmul(matrix.float()).grad_fn.name() == "MmBackward0"
        with pytest.raises(TypeError):
            matrix @ vector
    assert (vector @ matrix).grad_fn.name() == "SqueezeBackward4"
    assert (matrix @ vector).grad_fn.name() == "MvBackward0"
    assert (vector @ vector).grad_fn.name() == "DotBackward0"
    assert (matrix[None] @ matrix).grad_fn.name() == "UnsafeViewBackward0"
    assert (torch.tensor([[1, 2]]) @ torch.tensor([[3], [4]])).tolist() == [[11]]
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        matrix @ matrix.float()
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x2 and 1x2\)"):
        matrix @ matrix[:1]
    assert matrix.__matmul__(2) is NotImplemented
    with pytest.raises(TypeError, match="unsupported operand"):
        matrix @ 2


def _formula_classes(cls=Formula):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _formula_classes(subclass)


_KERNEL_CLASSES = sorted({cls for cls in _formula_classes() if cls.array_kernel is not None}, key=lambda c: c.__name__)


@pytest.mark.parametrize("node_class", _KERNEL_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_array_kernel_computes_what_its_forward_computes(node_class, dtype):
    assert len(_KERNEL_CLASSES) >= 10
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(0.1, 0.9, (2, 3)).astype(dtype) for _ in node_class.inputs]
    tensors = [torch.from_numpy(array) for array in arrays]
    cases = [(arrays, tensors)]
    if len(arrays) == 2:  # a number as the second operand, kept as a NumPy scalar of the dtype
        cases.append(([arrays[0], dtype(0.25)], [tensors[0], 0.25]))
    for kernel_arguments, forward_arguments in cases:
        with np.errstate(invalid="ignore"):  # (acosh below 1)
            by_kernel = node_class.array_kernel(*kernel_arguments)
            by_forward = node_class.forward(*forward_arguments)
        assert by_kernel.dtype == by_forward.dtype == dtype
        np.testing.assert_array_equal(by_kernel, by_forward)
