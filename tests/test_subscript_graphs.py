"""`x[key]` and `x[key] = value` record PyTorch's nodes (Note [Slices that record nothing],
retrograd/ops/index/subscript.py): a slice of a tuple key that takes its whole dim records
nothing, a lone slice always records one, a bool indexes the dim it inserts, a write to the
whole tensor is a fill_ or copy_, and a written number converts (or fails) as PyTorch's."""

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch


def _chain(library, expression: str, shape=(4, 4)):
    """The grad_fn names from `expression`'s result down to x's `* 1`, its shape and values."""
    x = library.arange(float(np.prod(shape))).reshape(shape).requires_grad_() * 1
    result = eval(expression, {"x": x})
    names, node = [], result.grad_fn
    while node is not None and type(node).__name__ != "MulBackward0":
        names.append(type(node).__name__)
        node = node.next_functions[0][0]
    shares = result._is_view()
    return names, tuple(result.shape), result.detach().numpy().tolist(), shares


READ_CASES = [
    # (key, the nodes PyTorch records, newest first)
    ("x[:, 0:4]", ["AliasBackward0"]),
    ("x[0:5, 0:5]", ["AliasBackward0"]),
    ("x[..., 0:4]", ["AliasBackward0"]),
    ("x[(slice(0, 4),)]", ["AliasBackward0"]),
    ("x[:]", ["SliceBackward0"]),
    ("x[::1]", ["SliceBackward0"]),
    ("x[-4:, :]", ["SliceBackward0"]),
    ("x[0:4, 1:3]", ["SliceBackward0"]),
    ("x[0:4, 1]", ["SelectBackward0"]),
    ("x[1, 0:4]", ["SelectBackward0"]),
    ("x[1:, 0:4]", ["SliceBackward0"]),
    ("x[None, 0:4]", ["UnsqueezeBackward0"]),
    ("x[0:4, None]", ["UnsqueezeBackward0"]),
    ("x[[0, 1], 0:4]", ["IndexBackward0"]),
    ("x[0:4, [0, 1]]", ["IndexBackward0"]),
    ("x[1:3, ::2]", ["SliceBackward0", "SliceBackward0"]),
    ("x[True]", ["IndexBackward0", "UnsqueezeBackward0"]),
    ("x[True, 0:2]", ["IndexBackward0", "SliceBackward0", "UnsqueezeBackward0"]),
    ("x[True, True]", ["IndexBackward0", "UnsqueezeBackward0", "UnsqueezeBackward0"]),
    ("x[..., True]", ["IndexBackward0", "UnsqueezeBackward0"]),
    ("x[[0, 1], True]", ["IndexBackward0", "UnsqueezeBackward0"]),
    ("x[False]", ["IndexBackward0", "UnsqueezeBackward0"]),
]


@pytest.mark.parametrize(("key", "nodes"), READ_CASES, ids=[key for key, _ in READ_CASES])
def test_a_read_records_pytorchs_nodes(key, nodes):
    ours = _chain(retrograd, key)
    assert ours[0] == nodes
    if torch is not None:
        assert ours == _chain(torch, key)  # (nodes, shape, values, and whether it is a view)


def test_bool_keys_index_the_dim_they_insert():
    x = retrograd.arange(16.0).reshape(4, 4)
    assert x[True, True].shape == (1, 4, 4)
    assert x[[0, 1], True].shape == (2, 4)
    picked = x[True]
    picked[0, 0, 0] = 100.0  # (a copy: x keeps its values)
    assert x[0, 0].item() == 0.0 and not picked._is_view()


def _written(library, statement: str):
    x = library.arange(16.0).reshape(4, 4).requires_grad_()
    v = library.full((4,), 3.0, requires_grad=True)
    y = x * 1
    exec(statement.replace("torch.", "library."), {"y": y, "v": v, "library": library})
    y.sum().backward()
    return (type(y.grad_fn).__name__, y.detach().numpy().tolist(), x.grad.numpy().tolist(),
            None if v.grad is None else v.grad.tolist())


WRITE_CASES = [
    ("y[:] = 1", "FillBackward3"),
    ("y[0:4] = 1", "FillBackward3"),
    ("y[...] = 1", "FillBackward3"),
    ("y[:, 0:4] = 2", "FillBackward3"),
    ("y[:] = torch.tensor(2.)", "FillBackward3"),
    ("y[:] = v", "CopyBackwards"),
    ("y[:, :] = v", "CopyBackwards"),
    ("y[True] = 5", "CopySlices"),
    ("y[True] = v", "CopySlices"),
    ("y[True, 0] = 7", "CopySlices"),
    ("y[False, 0] = 3", "CopySlices"),
    ("y[False] = 3", "MulBackward0"),  # (nothing written, nothing recorded)
    ("y[None] = 1", "CopySlices"),
    ("y[0:4, 1] = 9", "CopySlices"),
    ("y[0, [1, 2]] = 5", "CopySlices"),
    ("y[1:, [0, 1]] = 5", "CopySlices"),
    ("y[[0, 1]] = 5", "IndexPutBackward0"),
    ("y[:, [0, 1]] = 5", "IndexPutBackward0"),
    ("y[y > 3] = 0", "IndexPutBackward0"),
]


@pytest.mark.parametrize(("statement", "node"), WRITE_CASES, ids=[statement for statement, _ in WRITE_CASES])
def test_a_write_records_pytorchs_node(statement, node):
    ours = _written(retrograd, statement)
    assert ours[0] == node
    if torch is not None:
        assert ours == _written(torch, statement)


def test_a_whole_write_of_a_shape_that_does_not_expand_raises_pytorchs_error():
    y = retrograd.zeros(4, 4)
    with pytest.raises(RuntimeError, match="expanded size of the tensor"):
        y[:] = retrograd.ones(3)
    assert y.tolist() == [[0.0] * 4] * 4


@pytest.mark.parametrize(("dtype", "value", "expected"), [
    ("uint8", -1, 255),
    ("uint8", -255, 1),
    ("uint8", -256, "uint8_t"),
    ("uint8", -0.5, "uint8_t"),
    ("int32", 2**40, "int"),
    ("int64", 1e300, "int64_t"),
    ("int8", 2.9, 2),
    ("float32", 1e300, "float"),
    ("float32", 1 + 2j, "float"),
    ("float16", 1e300, float("inf")),
    ("float64", 2**70, ValueError),
    ("bool", 1 + 2j, True),
])
def test_a_written_number_converts_as_pytorchs(dtype, value, expected):
    y = retrograd.zeros(3, dtype=getattr(retrograd, dtype))
    if expected is ValueError:
        with pytest.raises(ValueError, match="Overflow when unpacking long long"):
            y[0:2] = value
    elif isinstance(expected, str):
        with pytest.raises(RuntimeError, match=f"value cannot be converted to type {expected} without overflow"):
            y[0:2] = value
    else:
        y[0:2] = value
        assert y.tolist()[:2] == [expected, expected]
    if isinstance(expected, str) or expected is ValueError:
        assert not y.any().item()  # (unchanged)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"])
@pytest.mark.parametrize("key", ["0:2", ":", "[0, 1]"])
def test_written_numbers_match_pytorch(dtype, key):
    for value in (1 + 2j, 2**70, 2**40, -1, -256, 1e300, 2.5, -0.5, float("inf"), True):
        outcomes = []
        for library in (torch, retrograd):
            y = library.zeros(4, dtype=getattr(library, dtype))
            try:
                exec(f"y[{key}] = value", {"y": y, "value": value})
                outcomes.append(y.tolist())
            except (RuntimeError, ValueError) as error:
                outcomes.append((type(error), str(error)))
        assert outcomes[0] == outcomes[1], value


def test_a_write_checks_its_value_before_its_key_as_pytorch():
    y = retrograd.zeros(3)
    with pytest.raises(TypeError, match="can't assign a str"):
        y[10] = "a"
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        y[False] = 2**70
    with pytest.raises(IndexError, match="out of bounds"):
        y[10] = 1
