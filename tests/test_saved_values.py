"""A node saves only what the derivatives that will run read (PyTorch's rule).

So changing an input in place after the forward is an error only when a needed derivative
reads that input; and the saved names (`grad_fn._saved_<name>`) say what was kept.
"""

import numpy as np
import pytest

import retrograd as torch


def _leaf(*values):
    return torch.tensor(list(values), requires_grad=True)


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("mul by a number", lambda a, frozen: a * 2.0),
        ("div by a number", lambda a, frozen: a / 2.0),
        ("mul by a frozen tensor", lambda a, frozen: a * frozen),
        ("matmul with a frozen matrix", lambda a, frozen: a.reshape(1, 3) @ frozen.reshape(3, 1)),
        ("dot with a frozen vector", lambda a, frozen: torch.dot(a, frozen)),
        ("addcmul", lambda a, frozen: torch.addcmul(frozen, a, frozen)),
        ("addmm with frozen factor", lambda a, frozen: torch.addmm(
            frozen.reshape(1, 3), a.reshape(1, 3)[:, :1], frozen.reshape(1, 3))),
    ],
)
def test_changing_an_input_whose_value_no_derivative_reads_is_no_error(name, op):
    a_leaf = _leaf(1.0, 2.0, 3.0)
    frozen = torch.tensor([4.0, 5.0, 6.0])
    a = a_leaf * 1  # a non-leaf, so it may be changed in place
    m = op(a, frozen)
    a.add_(1)
    m.sum().backward()
    assert a_leaf.grad is not None


def test_changing_an_input_a_derivative_reads_still_raises():
    a_leaf, b = _leaf(1.0, 2.0), _leaf(3.0, 4.0)
    a = a_leaf * 1
    m = a * b  # b's derivative reads a
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        m.sum().backward()


def test_changing_a_frozen_factor_that_the_derivative_reads_raises():
    a = _leaf(1.0, 2.0)
    frozen = torch.tensor([3.0, 4.0])
    m = a * frozen
    frozen.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        m.sum().backward()


def test_a_tensor_no_needed_derivative_reads_is_saved_as_none():
    a, frozen = _leaf(1.0, 2.0), torch.tensor([3.0, 4.0])
    node = (a * frozen).grad_fn
    assert node._saved_self is None
    assert node._saved_other is frozen
    node = (a * a).grad_fn
    assert node._saved_self is a and node._saved_other is a


def test_numbers_are_kept_and_released_graph_keeps_them():
    a = _leaf(1.0, 2.0)
    y = torch.add(a, a, alpha=3)
    y.sum().backward()
    assert y.grad_fn._saved_alpha == 3
    y.sum().backward()  # nothing but a number was saved: a second pass is allowed
    np.testing.assert_array_equal(a.grad.numpy(), [8.0, 8.0])


@pytest.mark.parametrize(
    ("op", "shown"),
    [
        (lambda a: a * 0.5, torch.tensor(0.5, dtype=torch.float64)),
        (lambda a: a.mul(2), torch.tensor(2)),
        (lambda a: a / 2, torch.tensor(2)),
        (lambda a: torch.mul(a, True), torch.tensor(True)),
    ],
)
def test_a_number_given_for_a_tensor_input_is_saved_and_freed_as_a_tensor(op, shown):
    # Note [Numbers for tensor inputs]: PyTorch wraps the number in a 0-d tensor
    a = _leaf(1.0, 2.0)
    y = op(a)
    saved = y.grad_fn._saved_other
    assert isinstance(saved, torch.Tensor) and saved.dtype == shown.dtype and saved.item() == shown.item()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_other
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    z = op(a)
    z.sum().backward(retain_graph=True)
    z.sum().backward()  # (kept for a second pass when asked)


def test_a_number_given_for_a_tensor_input_is_freed_on_the_general_turn_too():
    a = _leaf(1.0, 2.0)
    y = a * 0.5
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: None)  # (a node with hooks)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_a_released_saved_tensor_cannot_be_read():
    a = _leaf(1.0, 2.0)
    y = a.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_result
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_einsum_with_a_frozen_operand_saves_only_what_the_gradient_reads():
    a_leaf = _leaf(1.0, 2.0, 3.0)
    frozen = torch.tensor([4.0, 5.0, 6.0])
    a = a_leaf * 1
    m = torch.einsum("i,i->", a, frozen)
    a.add_(1)
    m.backward()
    assert a_leaf.grad.tolist() == [4.0, 5.0, 6.0]


@pytest.mark.parametrize(("equation", "shapes", "name"), [
    ("ij,jk->ik", ((2, 3), (3, 4)), "ViewBackward0"),
    ("ij->ji", ((2, 3),), "PermuteBackward0"),
    ("ij->", ((2, 3),), "SumBackward1"),
    ("i,j->ij", ((3,), (2,)), "MulBackward0"),
    ("ij,ij->i", ((2, 3), (2, 3)), "ViewBackward0"),
])
def test_einsum_records_the_grad_fn_pytorch_shows(equation, shapes, name):
    operands = [torch.ones(*shape, requires_grad=True) for shape in shapes]
    assert torch.einsum(equation, *operands).grad_fn.name() == name


def test_where_with_one_argument_accepts_any_dtype():
    (indices,) = torch.where(torch.tensor([1, 0, 2]))
    assert indices.tolist() == [0, 2]


@pytest.mark.parametrize(("bias", "name"), [(False, "SqueezeBackward4"), (True, "ViewBackward0")])
def test_linear_on_a_vector_records_pytorchs_grad_fn(bias, name):
    layer = torch.nn.Linear(3, 2, bias=bias)
    assert layer(torch.ones(3)).grad_fn.name() == name


# -- how `_saved_<name>` is found (Note [Saved values as attributes], autograd/graph.py) ------


def test_a_new_declared_op_shows_its_saved_values_as_properties():
    """Made here, so that its class creation runs under the test (and under a mutant)."""
    from retrograd.ops._formula import Formula
    from retrograd.ops._table import apply

    class ScaledSinBackward0(Formula):
        @staticmethod
        def forward(self, scale=2.0):
            return np.sin(self._data) * scale

        derivatives = {"self": lambda grad, self, scale: grad * np.cos(self) * scale}  # noqa: RUF012

    assert "__getattr__" not in dir(ScaledSinBackward0)
    assert {"_saved_self", "_saved_scale"} <= set(ScaledSinBackward0.__dict__)
    x = _leaf(0.5, 1.0)
    node = apply(ScaledSinBackward0, x, scale=3.0).grad_fn
    assert node._saved_self is x and node._saved_scale == 3.0
    with pytest.raises(AttributeError, match="^'ScaledSinBackward0' object has no attribute '_saved_other'$"):
        node._saved_other

    class ShownOtherwise(ScaledSinBackward0):  # finds its values itself: looked up by name
        def _find_saved(self, name):
            return 7 if name == "seven" else super()._find_saved(name)

    node = apply(ShownOtherwise, x).grad_fn
    assert node._saved_seven == 7 and node._saved_self is x


def test_a_new_hand_written_node_finds_its_saved_values_by_name():
    from retrograd.autograd.graph import Node, _saved_by_name

    class CountedBackward(Node):
        __slots__ = ("count",)

    assert CountedBackward.__getattr__ is _saved_by_name
    node = CountedBackward()
    node.count = 3
    assert node._saved_count == 3
    with pytest.raises(AttributeError, match="^'CountedBackward' object has no attribute '_saved_size'$"):
        node._saved_size
    with pytest.raises(AttributeError, match="^'CountedBackward' object has no attribute 'size'$"):
        node.size
