"""`x[i]` and `x[a:b:s]` (a lone int or slice) recorded without building a `_Key` give what
`_parse_key` and `_apply_key` give: values, strides, the node and what it shows, the view's
base, the gradient, and every error."""

import numpy as np
import pytest

import retrograd as torch
from retrograd.ops.index import subscript

KEYS = [0, 2, -1, -3, slice(1, -1), slice(None), slice(None, None, 1), slice(0, 10), slice(-2, None),
        slice(1, None, 2), slice(5, 1), slice(-10, 10, 3), slice(None, 2, None)]


def _general(x, key):
    return subscript._apply_key(x, subscript._parse_key(key, x._data.shape))


def _described(result, leaf):
    node = result.grad_fn
    shown = {name: getattr(node, name) for name in dir(node) if name.startswith("_saved_")}
    base = result._base
    leaf.retain_grad()
    result.backward(torch.arange(result.numel(), dtype=result.dtype).reshape(result.shape))
    grad = leaf.grad.numpy()
    return (result.detach().numpy().tobytes(), result.shape, result.stride(), node.name(), repr(shown),
            base is leaf, grad.tobytes())


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("shape", [(4,), (3, 5)])
def test_lone_key_matches_the_general_path(key, shape):
    leaf = torch.arange(float(np.prod(shape))).reshape(shape).requires_grad_()
    x, y = leaf + 0, leaf + 0  # (non-leaves: a view of them records its node)
    assert _described(x[key], x) == _described(_general(y, key), y)


@pytest.mark.parametrize("key", [4, -5, slice(None, None, -1), slice(None, None, 0), slice(1.0, 2), True, np.int64(1)])
def test_other_keys_keep_their_path_and_errors(key):
    x = torch.arange(4.0)
    try:
        expected = _general(x, key).numpy().tolist()
    except Exception as error:  # (the error itself is compared)
        with pytest.raises(type(error)) as raised:
            x[key]
        assert str(raised.value) == str(error)
    else:
        assert x[key].numpy().tolist() == expected


def test_a_0d_tensor_refuses_both():
    for key in (0, slice(None)):
        with pytest.raises(IndexError, match="0-dim tensor"):
            torch.tensor(1.0)[key]
