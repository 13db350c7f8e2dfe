"""The backward pass (autograd/engine.py), corner by corner, against PyTorch.

Written from the survivors of mutation testing (`python3 -m tools.mutation engine`, see
docs/mutation.md). Each scenario runs on retrograd and, when it is installed, on PyTorch, and
returns plain data (gradients as lists, names, messages with the library's name replaced by
`LIB`); the expected values written here are PyTorch's, and a cross-check compares the two.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import retrograd
from crosscheck import needs_torch, torch


def _error(call):
    try:
        call()
    except Exception as error:
        return f"{type(error).__name__}: {error}".replace("torch", "LIB").replace("retrograd", "LIB")
    return None


def _list(tensor):
    return None if tensor is None else tensor.tolist()


def _name(tensor):
    return None if tensor.grad_fn is None else type(tensor.grad_fn).__name__


# ---------------------------------------------------------------------------
# Scenarios: each takes the library and returns what it observed.


def _passes(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    z = y * 3
    t.autograd.backward([z.sum(), y.sum()])  # one root reaches the other
    result = {"roots": _list(x.grad)}
    grad = x.grad
    (x * 2).sum().backward()
    result["accumulates in place"] = (grad is x.grad, _list(x.grad))
    a = t.tensor([1.0, 2.0], requires_grad=True)
    b = t.tensor([3.0], requires_grad=True)
    (a * b).sum().backward(inputs=[b])
    result["inputs="] = (_list(a.grad), _list(b.grad))
    (a * b * 2).sum().backward(inputs=[a])
    result["inputs= again"] = (_list(a.grad), _list(b.grad))
    h = a * 2
    k = (h * h).sum()
    result["grad of a non-leaf"] = _list(t.autograd.grad(k, h, retain_graph=True)[0])
    result["grad of a non-leaf and a leaf"] = [_list(g) for g in t.autograd.grad(k, [a, h])]
    result["unused"] = _error(lambda: t.autograd.grad((a * 2).sum(), [a, b]))
    result["allow unused"] = [_list(g) for g in t.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)]
    result["materialized"] = [_list(g) for g in t.autograd.grad((a * 2).sum(), [a, b], allow_unused=True,
                                                                 materialize_grads=True)]
    c = t.tensor([1.0, 2.0], requires_grad=True)
    d = c * 2
    e = d * 3
    f = e * 4
    result["two inputs along one path"] = [_list(g) for g in t.autograd.grad(f.sum(), [d, c])]
    result["no .grad from autograd.grad"] = _list(c.grad)
    g = t.tensor([2.0, 3.0], requires_grad=True)
    outputs = list((g * 5).unbind(0))
    result["several outputs"] = _list(t.autograd.grad(outputs[0] * 2 + outputs[1], g)[0])
    result["gradient of a vector output"] = _list(t.autograd.grad(
        g * g, g, grad_outputs=t.tensor([1.0, -1.0]))[0])
    return result


PASSES = {
    "roots": [8.0, 16.0],
    "accumulates in place": (True, [10.0, 18.0]),
    "inputs=": (None, [3.0]),
    "inputs= again": ([6.0, 6.0], [3.0]),
    "grad of a non-leaf": [4.0, 8.0],
    "grad of a non-leaf and a leaf": [[8.0, 16.0], [4.0, 8.0]],
    "unused": "RuntimeError: The differentiated Tensor at index 1 appears to not have been used in the "
    "graph. Set allow_unused=True if this is the desired behavior.",
    "allow unused": [[2.0, 2.0], None],
    "materialized": [[2.0, 2.0], [0.0]],
    "two inputs along one path": [[12.0, 12.0], [24.0, 24.0]],
    "no .grad from autograd.grad": None,
    "several outputs": [10.0, 5.0],
    "gradient of a vector output": [4.0, -6.0],
}


def _shapes_and_dtypes(t):
    p = t.tensor([[1.0], [2.0]], requires_grad=True)
    q = t.tensor([1.0, 2.0, 3.0], dtype=t.float64, requires_grad=True)
    r = t.tensor(2.0, requires_grad=True)
    (p * q * r).sum().backward()
    s = t.tensor([[1.0, 2.0]], requires_grad=True)
    u = t.ones(3, 2, 2) * s
    u.sum().backward()
    half = t.tensor([1.0, 2.0], dtype=t.float16, requires_grad=True)
    (half.double() * 3).sum().backward()
    return {
        "broadcast": (_list(p.grad), str(p.grad.dtype), _list(q.grad), str(q.grad.dtype), _list(r.grad)),
        "leading and stretched": _list(s.grad),
        "cast back": (_list(half.grad), str(half.grad.dtype)),
    }


SHAPES_AND_DTYPES = {
    "broadcast": ([[12.0], [12.0]], "LIB.float32", [6.0, 6.0, 6.0], "LIB.float64", 18.0),
    "leading and stretched": [[6.0, 6.0]],
    "cast back": ([3.0, 3.0], "LIB.float16"),
}


def _create_graph(t):
    c = t.tensor([2.0], requires_grad=True)
    (gc,) = t.autograd.grad((c ** 3).sum(), c, create_graph=True)
    (gcc,) = t.autograd.grad(gc.sum(), c)
    leaf = t.tensor([2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (leaf ** 3).sum().backward(create_graph=True)
        first = (_list(leaf.grad), _name(leaf.grad), leaf.grad.requires_grad)
        (leaf ** 3).sum().backward(create_graph=True)
        second = (_list(leaf.grad), _name(leaf.grad))
        (gl,) = t.autograd.grad(leaf.grad.sum(), leaf)
        leaf.grad = None
        (leaf * 2).sum().backward(create_graph=True)  # a gradient that needs no graph
        third = (_list(leaf.grad), _name(leaf.grad), leaf.grad.requires_grad)
        (leaf ** 3).sum().backward()  # later without create_graph: added in place
        fourth = (_list(leaf.grad), _name(leaf.grad))
    root = t.tensor([1.0, 2.0], requires_grad=True)
    given = t.tensor([3.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.backward(given, create_graph=True)  # the leaf's gradient is the one given, copied
    (through,) = t.autograd.grad((root.grad * root.grad).sum(), given)
    given_leaf = (_list(root.grad), _name(root.grad), root.grad is given, _list(through))
    m = t.tensor([1.0, 2.0], requires_grad=True)
    n = m * 2
    n.retain_grad()
    (n * n).sum().backward(retain_graph=True)
    kept = n.grad
    (n * n).sum().backward()
    retained = (_list(kept), _list(n.grad), kept is n.grad, _list(m.grad))
    n2 = m * 2
    n2.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (n2 * n2).sum().backward(create_graph=True)
        retained_with_graph = [(_list(n2.grad), _name(n2.grad))]
        (n2 * n2).sum().backward(create_graph=True)
        retained_with_graph.append((_list(n2.grad), _name(n2.grad)))
    return {
        "grad with create_graph": (_list(gc), gc.requires_grad, _name(gc), t.is_grad_enabled(), _list(gcc)),
        ".grad first": first,
        ".grad second": second,
        ".grad differentiated": _list(gl),
        ".grad without a graph": third,
        ".grad then without create_graph": fourth,
        "retained": retained,
        "retained with create_graph": retained_with_graph,
        "a gradient given to a leaf root": given_leaf,
    }


CREATE_GRAPH = {
    "grad with create_graph": ([12.0], True, "MulBackward0", True, [12.0]),
    ".grad first": ([12.0], "CopyBackwards", True),
    ".grad second": ([24.0], "AddBackward0"),
    ".grad differentiated": [24.0],
    ".grad without a graph": ([2.0], None, False),
    ".grad then without create_graph": ([14.0], None),
    "retained": ([4.0, 8.0], [8.0, 16.0], False, [16.0, 32.0]),
    "retained with create_graph": [([4.0, 8.0], "CloneBackward0"), ([8.0, 16.0], "AddBackward0")],
    "a gradient given to a leaf root": ([3.0, 4.0], "CopyBackwards", False, [6.0, 8.0]),
}


def _hooks(t):
    u = t.tensor([1.0, 2.0], requires_grad=True)
    result = {}

    def shrink(grad):
        return grad[:1]

    def widen(grad):
        return grad.double()

    def listed(grad):
        return [1.0]

    def boolean(grad):
        return grad > 0

    for name, hook in (("shape", shrink), ("dtype", widen), ("not a tensor", listed), ("to bool", boolean)):
        v = u * 2
        v.register_hook(hook)
        result[f"tensor hook changes {name}"] = _error(lambda v=v: v.sum().backward())
        leaf = t.tensor([1.0, 2.0], requires_grad=True)
        leaf.register_hook(hook)
        result[f"leaf hook changes {name}"] = _error(lambda leaf=leaf: (leaf * 2).sum().backward())
    v = u * 2
    v.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0], grad_inputs[0]))
    result["post hook fills a None"] = _error(lambda: v.sum().backward())
    v = u * 2
    v.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0],))
    result["post hook count"] = _error(lambda: v.sum().backward())
    v = u * 2
    v.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0], grad_outputs[0]))
    result["pre hook count"] = _error(lambda: v.sum().backward())
    u.grad = None
    v = u * 2
    v.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (None, None))
    v.sum().backward()
    result["post hook drops the gradient"] = _list(u.grad)
    w = u * 3
    w.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, None))
    w.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] + 1,))
    w.register_hook(lambda grad: grad * 2)
    w.sum().backward()
    result["hooks replace"] = _list(u.grad)
    leaf = t.tensor([1.0, 2.0], requires_grad=True)
    order = []
    leaf.register_hook(lambda grad: order.append(("tensor", _list(grad))) or grad * 3)
    leaf.register_post_accumulate_grad_hook(lambda tensor: order.append(("post", _list(tensor.grad))))
    accumulator = (leaf * 1).grad_fn.next_functions[0][0]
    accumulator.register_prehook(lambda grad_outputs: order.append(("pre", _list(grad_outputs[0])))
                                 or (grad_outputs[0] + 1,))
    accumulator.register_hook(lambda grad_inputs, grad_outputs: order.append(
        ("node post", len(grad_inputs), _list(grad_outputs[0]))))
    (leaf * 2).sum().backward()
    (g,) = t.autograd.grad((leaf * 5).sum(), leaf)
    result["leaf hooks"] = (order, _list(leaf.grad), _list(g))
    return result


_SIZE = "RuntimeError: hook '{}' has changed the size of value"
_TYPE = "RuntimeError: hook '{}' has changed the type of value (was LIB.FloatTensor got LIB.DoubleTensor)"
HOOKS = {
    "tensor hook changes shape": _SIZE.format("shrink"),
    "leaf hook changes shape": _SIZE.format("shrink"),
    "tensor hook changes dtype": _TYPE.format("widen"),
    "leaf hook changes dtype": _TYPE.format("widen"),
    "tensor hook changes not a tensor": "TypeError: expected Variable, but hook returned 'list'",
    "tensor hook changes to bool": "RuntimeError: hook 'boolean' has changed the type of value (was "
    "LIB.FloatTensor got CPUBoolType)",
    "leaf hook changes to bool": "RuntimeError: hook 'boolean' has changed the type of value (was "
    "LIB.FloatTensor got CPUBoolType)",
    "leaf hook changes not a tensor": "TypeError: expected Variable, but hook returned 'list'",
    "post hook fills a None": "RuntimeError: can't replace a None gradient with a non-None value",
    "post hook count": "RuntimeError: hook '<lambda>' has returned an incorrect number of values (got 1, "
    "but expected 2)",
    "pre hook count": "RuntimeError: hook '<lambda>' has returned an incorrect number of values (got 2, "
    "but expected 1)",
    "post hook drops the gradient": None,
    "hooks replace": [90.0, 90.0],
    "leaf hooks": (
        # autograd.grad captures a leaf's gradient after its tensor hooks: its AccumulateGrad
        # does not run, nor do that node's hooks
        [("tensor", [2.0, 2.0]), ("pre", [6.0, 6.0]), ("post", [7.0, 7.0]), ("node post", 0, [7.0, 7.0]),
         ("tensor", [5.0, 5.0])],
        [7.0, 7.0], [15.0, 15.0]),
}


def _functions(t):
    class Bad(t.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2 + b

        @staticmethod
        def backward(ctx, grad):
            return (grad,)

    class Shape(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return t.ones(3)

    class Wide(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return t.ones(4, 2, dtype=t.float64)

    class Scaled(t.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad * 3, None

    class NaNs(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * float("nan")

    a = t.tensor([1.0, 2.0], requires_grad=True)
    b = t.tensor([1.0, 2.0], requires_grad=True)
    result = {
        "gradient count": _error(lambda: Bad.apply(a, b).sum().backward()),
        "gradient shape": _error(lambda: Shape.apply(a).sum().backward()),
    }
    Wide.apply(a).sum().backward()
    result["summed and cast"] = (_list(a.grad), str(a.grad.dtype))
    a.grad = None
    Scaled.apply(a, b).sum().backward()
    result["a None gradient"] = (_list(a.grad), _list(b.grad))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with t.autograd.detect_anomaly():
            result["anomaly: nan"] = _error(lambda: NaNs.apply(a).sum().backward())
            failure = _error(lambda: Shape.apply(a).sum().backward())
            result["anomaly: failure"] = failure
    messages = [str(warning.message) for warning in caught]
    result["anomaly: origin"] = [message.split("\n")[0] for message in messages
                                 if message.startswith("Error detected in")]
    result["anomaly: the forward call"] = any("Shape.apply(a)" in message for message in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with t.autograd.detect_anomaly(check_nan=False):
            a.grad = None
            NaNs.apply(a).sum().backward()
    result["anomaly without the nan check"] = str(a.grad.tolist())
    return result


FUNCTIONS = {
    "gradient count": "RuntimeError: function BadBackward returned an incorrect number of gradients "
    "(expected 2, got 1)",
    "gradient shape": "RuntimeError: Function ShapeBackward returned an invalid gradient at index 0 - got "
    "[3] but expected shape compatible with [2]",
    "summed and cast": ([4.0, 4.0], "LIB.float32"),
    "a None gradient": ([3.0, 3.0], None),
    "anomaly: nan": "RuntimeError: Function 'NaNsBackward' returned nan values in its 0th output.",
    "anomaly: failure": "RuntimeError: Function ShapeBackward returned an invalid gradient at index 0 - "
    "got [3] but expected shape compatible with [2]",
    "anomaly: origin": ["Error detected in NaNsBackward. Traceback of forward call that caused the error:",
                        "Error detected in ShapeBackward. Traceback of forward call that caused the error:"],
    "anomaly: the forward call": True,
    "anomaly without the nan check": "[nan, nan]",
}


def _modes_and_batches(t):
    a = t.tensor([1.0, 2.0], requires_grad=True)

    class Shape(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return t.ones(3)

    _error(lambda: Shape.apply(a).sum().backward())
    result = {"grad mode after a failed backward": t.is_grad_enabled()}
    x = t.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    seen = []
    x.register_hook(lambda grad: seen.append(t.is_grad_enabled()))
    with t.no_grad():
        y.backward()
        result["backward under no_grad"] = (_list(x.grad), t.is_grad_enabled())
    (gx,) = t.autograd.grad((x * x).sum(), x, create_graph=True)
    result["grad mode inside the pass"] = [*seen, gx.requires_grad]
    z = t.tensor([1.0, 2.0], requires_grad=True)
    w = z * t.tensor([3.0, 4.0])
    result["batched"] = _list(t.autograd.grad(w, z, grad_outputs=t.eye(2), is_grads_batched=True)[0])
    p = t.tensor([[1.0], [2.0]], requires_grad=True)
    q = p * t.tensor([1.0, 2.0, 3.0])
    g = t.autograd.grad(q, p, grad_outputs=t.ones(4, 2, 3), is_grads_batched=True)[0]
    result["batched and broadcast"] = (list(g.shape), _list(g[0]))
    half = t.tensor([1.0, 2.0], dtype=t.float16, requires_grad=True)
    g = t.autograd.grad(half.double() * 2, half, grad_outputs=t.ones(3, 2, dtype=t.float64),
                        is_grads_batched=True)[0]
    result["batched and cast"] = (list(g.shape), str(g.dtype))
    return result


MODES_AND_BATCHES = {
    "grad mode after a failed backward": True,
    "backward under no_grad": ([2.0, 2.0], False),
    "grad mode inside the pass": [False, True, True],
    "batched": [[3.0, 0.0], [0.0, 4.0]],
    "batched and broadcast": ([4, 2, 1], [[6.0], [6.0]]),
    "batched and cast": ([3, 2], "LIB.float16"),
}


SCENARIOS = {
    _passes: PASSES,
    _shapes_and_dtypes: SHAPES_AND_DTYPES,
    _create_graph: CREATE_GRAPH,
    _hooks: HOOKS,
    _functions: FUNCTIONS,
    _modes_and_batches: MODES_AND_BATCHES,
}
_IDS = [scenario.__name__.strip("_") for scenario in SCENARIOS]


def _plain(value):
    if isinstance(value, str):
        return value.replace("retrograd", "LIB").replace("torch", "LIB")
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_IDS)
def test_scenario(scenario):
    assert _plain(scenario(retrograd)) == _plain(SCENARIOS[scenario])


@needs_torch
@pytest.mark.parametrize("scenario", SCENARIOS, ids=_IDS)
def test_scenario_matches_pytorch(scenario):
    assert _plain(scenario(retrograd)) == _plain(scenario(torch))


def _hooks_of_a_node_with_an_unused_output(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    first, second = x.split(1)
    first.grad_fn.register_prehook(lambda grad_outputs: seen.append([g is None for g in grad_outputs]))
    first.sum().backward()
    first, second = x.split(1)
    first.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 5, None))
    x.grad = None
    first.sum().backward()
    return seen, _list(x.grad)


def test_node_hooks_see_one_gradient_per_output():
    assert _hooks_of_a_node_with_an_unused_output(retrograd) == ([[False, True]], [5.0, 0.0])


@needs_torch
def test_node_hooks_see_one_gradient_per_output_in_pytorch():
    assert _hooks_of_a_node_with_an_unused_output(torch) == ([[False, True]], [5.0, 0.0])


def _hooks_without_gradient(t):
    """Hooks of a node that runs see one gradient per (differentiable) output; tensor hooks of
    an output or leaf that gets no gradient are called with None and may not invent one."""
    seen = {}

    class Halves(t.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b, a * 2, a * 3

        @staticmethod
        def backward(ctx, grad, unused, also_unused):
            return grad, None

    a = t.tensor([1.0, 2.0], requires_grad=True)
    b = t.tensor([3.0, 4.0], requires_grad=True)
    calls = []
    b.register_hook(lambda grad: calls.append(("leaf", grad)))
    middle = b * 1
    middle.register_hook(lambda grad: calls.append(("non-leaf", grad)))
    product, _, _ = Halves.apply(a, middle)
    product.grad_fn.register_prehook(lambda grads: calls.append(("custom", [g is None for g in grads])))
    product.sum().backward()
    seen["custom Function"] = (calls, b.grad)
    x = t.tensor([1.0, 3.0], requires_grad=True)
    values, _ = x.max(0)
    calls = []
    values.grad_fn.register_hook(lambda grad_inputs, grads: calls.append(len(grads)))
    values.backward()
    seen["max's indices are no output"] = calls
    variance, mean = t.var_mean(t.tensor([[2.0, 1.0], [1.0, 5.0]], requires_grad=True), 0)
    calls = []
    variance.grad_fn.register_hook(lambda grad_inputs, grads: calls.append([g is None for g in grads]))
    mean.sum().backward()
    seen["an earlier output without gradient"] = calls
    first, second = t.tensor([1.0, 2.0], requires_grad=True).split(1)
    second.register_hook(lambda grad: t.ones(1))
    try:
        first.sum().backward()
    except RuntimeError as error:
        seen["a hook inventing a gradient"] = str(error)
    return seen


HOOKS_WITHOUT_GRADIENT = {
    "custom Function": ([("custom", [False, True, True]), ("non-leaf", None), ("leaf", None)], None),
    "max's indices are no output": [1],
    "an earlier output without gradient": [[True, False]],
    "a hook inventing a gradient": "can't replace a None gradient with a non-None value",
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_hooks_of_outputs_without_gradient(library):
    assert _hooks_without_gradient(library) == HOOKS_WITHOUT_GRADIENT


def test_the_first_gradient_is_copied_and_later_ones_added_in_place():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = x + x  # one node sends two gradients into x's buffer
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [2.0, 2.0]
    first = x.grad
    version = first._version
    y.sum().backward()
    assert x.grad is first and first.tolist() == [4.0, 4.0] and first._version == version + 1
    root = retrograd.tensor([1.0, 2.0], requires_grad=True)
    gradient = retrograd.tensor([5.0, 6.0])
    root.backward(gradient)  # the root is the leaf: the gradient given is not kept as .grad
    gradient.mul_(0)
    assert root.grad.tolist() == [5.0, 6.0]


def test_gradients_reach_leaves_in_the_order_of_the_inputs():
    a = retrograd.tensor([1.0], requires_grad=True)
    b = retrograd.tensor([2.0], requires_grad=True)
    c = retrograd.tensor([3.0], requires_grad=True)
    order = []
    for name, leaf in (("a", a), ("b", b), ("c", c)):
        leaf.register_hook(lambda grad, name=name: order.append(name))
    (retrograd.stack([c, a, b]) * 2).sum().backward()
    assert order == ["c", "a", "b"]


def test_an_integer_gradient_for_a_leaf_root_is_cast():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    (g,) = retrograd.autograd.grad(x, x, grad_outputs=retrograd.tensor([1, 2]))
    assert g.dtype == retrograd.float32 and g.tolist() == [1.0, 2.0]


def test_a_pass_computes_on_arrays_without_recording_anything():
    x = retrograd.tensor([1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    y = (x.exp() * x).sum()
    (g,) = retrograd.autograd.grad(y, x)
    assert g.grad_fn is None and not g.requires_grad
    np.testing.assert_allclose(g.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


def _which_nodes_run(t):
    hooks = t.autograd.graph
    x = t.tensor([1.0, 2.0], requires_grad=True)
    y, z, w = x * 2, x * 3, x * 4
    out = (y * z).sum()
    calls = []
    hooks.register_multi_grad_hook((y, z, w), lambda grads: calls.append([_list(g) for g in grads]))
    t.autograd.grad(out, [y], retain_graph=True)  # z's node does not run: y alone is awaited
    t.autograd.grad(out, [y, z], retain_graph=True)
    out.backward(retain_graph=True)  # w is not in this graph: never awaited
    half = t.tensor([1.0, 2.0], dtype=t.float16, requires_grad=True)
    (g,) = t.autograd.grad((half.double() * 3).sum(), half, create_graph=True)
    a = t.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.retain_grad()
    given = t.tensor([1.0, 2.0])
    b.backward(given)
    given.mul_(0)  # the retained gradient is a copy
    root = t.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.backward(t.tensor([3.0, 4.0], requires_grad=True) * 1, create_graph=True)
    return {"multi-grad hook": calls, "cast with create_graph": (_list(g), str(g.dtype)),
            "retained copy": _list(b.grad), ".grad with create_graph": (_list(root.grad), root.grad.output_nr)}


WHICH_NODES_RUN = {
    "multi-grad hook": [[[3.0, 6.0], None, None], [[3.0, 6.0], [2.0, 4.0], None],
                        [[3.0, 6.0], [2.0, 4.0], None]],
    "cast with create_graph": ([3.0, 3.0], "LIB.float16"),
    "retained copy": [1.0, 2.0],
    ".grad with create_graph": ([3.0, 4.0], 0),
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_which_nodes_run_and_what_is_copied(library):
    assert _plain(_which_nodes_run(library)) == _plain(WHICH_NODES_RUN)


def test_a_hook_without_a_name_is_named_by_its_repr():
    class Shrink:
        def __call__(self, grad):
            return grad[:1]

        def __repr__(self):
            return "Shrink()"

    class Twice:
        def __call__(self, grad_outputs):
            return (grad_outputs[0], grad_outputs[0])

        def __repr__(self):
            return "Twice()"

    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(Shrink())
    assert _error(lambda: y.sum().backward()) == "RuntimeError: hook 'Shrink()' has changed the size of value"
    y = x * 2
    y.grad_fn.register_prehook(Twice())
    assert _error(lambda: y.sum().backward()) == (
        "RuntimeError: hook 'Twice()' has returned an incorrect number of values (got 2, but expected 1)")


def test_batched_gradients_under_anomaly_detection():
    p = retrograd.tensor([[1.0], [2.0]], requires_grad=True)
    q = p * retrograd.tensor([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), \
            retrograd.autograd.detect_anomaly():
        (g,) = retrograd.autograd.grad(q, p, grad_outputs=retrograd.ones(4, 2, 3), is_grads_batched=True)
    assert list(g.shape) == [4, 2, 1] and g[0].tolist() == [[6.0], [6.0]]


def _corners(t):
    result = {}
    small = t.tensor([[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]]], requires_grad=True)  # (3, 1, 2)
    (small * t.ones(4, 3, 5, 2)).sum().backward()
    result["a middle dim and a leading one summed"] = _list(small.grad)

    class Narrow(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return t.ones(2)

    x = t.tensor([[1.0, 2.0]], requires_grad=True)
    result["a gradient with fewer dims"] = _error(lambda: Narrow.apply(x).sum().backward())
    a = t.tensor([1.0, 2.0], requires_grad=True)
    v = t.tensor([3.0], requires_grad=True)
    y = a * 2
    z = y * 3
    w = v * 4
    result["roots below roots"] = [_list(g) for g in t.autograd.grad([z.sum(), y.sum(), w.sum()], [a, v],
                                                                      retain_graph=True)]
    seen = []
    other = (v * 5).sum()
    other.grad_fn.register_prehook(lambda grad_outputs: seen.append("ran"))
    result["a root no input needs"] = ([_list(g) for g in t.autograd.grad([z.sum(), other], [a])], seen)
    p = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    parts = p.split(1)
    calls = []
    parts[0].register_hook(lambda grad: calls.append(0))
    parts[1].retain_grad()
    parts[2].register_hook(lambda grad: calls.append(2) or grad * 10)
    parts[0].retain_grad()
    parts[2].retain_grad()
    (parts[2] * 1).sum().backward()
    result["outputs after one without gradient"] = (2 in calls, _list(parts[0].grad), _list(parts[1].grad),
                                                    _list(parts[2].grad), _list(p.grad))
    q = t.tensor([1.0, 2.0], requires_grad=True)
    first, second = q.split(1)
    second.register_hook(lambda grad: grad)
    second.retain_grad()
    first.sum().backward()
    result["an output past the last gradient"] = (_list(second.grad), _list(q.grad))
    r = t.tensor([1.0, 2.0], requires_grad=True)
    s = r * r
    s.register_hook(lambda grad: grad * r)
    (g1,) = t.autograd.grad(s.sum(), r, create_graph=True)
    (g2,) = t.autograd.grad(g1.sum(), r)
    result["a hook's graph with create_graph"] = (_list(g1), _list(g2))
    return result


CORNERS = {
    "a middle dim and a leading one summed": [[[20.0, 20.0]], [[20.0, 20.0]], [[20.0, 20.0]]],
    "a gradient with fewer dims": "RuntimeError: Function NarrowBackward returned an invalid gradient at "
    "index 0 - got [2] but expected shape compatible with [1, 2]",
    "roots below roots": [[8.0, 8.0], [4.0]],
    "a root no input needs": ([[6.0, 6.0]], []),
    "outputs after one without gradient": (True, None, None, [10.0], [0.0, 0.0, 10.0]),
    "an output past the last gradient": (None, [1.0, 0.0]),
    "a hook's graph with create_graph": ([2.0, 8.0], [4.0, 8.0]),
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_corners_of_the_pass(library):
    assert _plain(_corners(library)) == _plain(CORNERS)


def test_a_hook_on_an_output_without_gradient_is_called_with_none():
    q = retrograd.tensor([1.0, 2.0], requires_grad=True)
    first, second = q.split(1)
    seen = []
    second.register_hook(lambda grad: seen.append(grad))
    first.sum().backward()
    assert seen == [None]


def test_the_anomaly_warning_carries_the_forward_stack():
    class Fails(retrograd.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("no")

    x = retrograd.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with retrograd.autograd.detect_anomaly():
            y = Fails.apply(x)
            with pytest.raises(ValueError, match="no") as raised:
                y.sum().backward()
    (origin,) = [str(w.message) for w in caught if str(w.message).startswith("Error detected in")]
    assert origin.startswith("Error detected in FailsBackward. Traceback of forward call that caused the "
                             "error:\n  File ")
    assert "y = Fails.apply(x)" in origin and "XXXX" not in origin
    assert raised.value.__notes__ == [origin]


def _more_corners(t):
    result = {}
    root = t.tensor([1.0, 2.0], requires_grad=True)
    given = t.tensor([3.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.backward(given, create_graph=True)
    with t.no_grad():
        given.mul_(0)
    result[".grad is a copy of the gradient given"] = _list(root.grad)
    x = t.tensor([1.0, 2.0], requires_grad=True)
    parts = x.split(1)
    (parts[0] * 2 + parts[1] * 3).sum().backward()
    parts = x.split(1)
    (parts[1] * 5 + parts[0] * 7).sum().backward()
    result["outputs arriving in either order"] = _list(x.grad)

    class Wrong(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return t.ones(2, 3)

    result["a wrong 2-d gradient"] = _error(lambda: Wrong.apply(t.ones(1, 2, requires_grad=True)).sum()
                                            .backward())
    p = t.tensor([[1.0], [2.0]], requires_grad=True)
    q = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (gp,) = t.autograd.grad((p * q * q).sum(), p, create_graph=True)
    (gq,) = t.autograd.grad(gp.sum(), q)
    result["broadcast under create_graph"] = (_list(gp), _list(gq))
    a = t.tensor([1.0, 2.0], requires_grad=True)
    v = t.tensor([3.0], requires_grad=True)
    y = a * 2
    z = y * 3
    w = v * 4
    ones = [t.ones(2), t.ones(2), t.ones(1)]
    result["a root below another"] = [_list(g) for g in t.autograd.grad([z, y, w], [a, v], grad_outputs=ones)]
    leaf = t.tensor([1.0, 2.0], requires_grad=True)
    other = t.tensor([1.0, 2.0], requires_grad=True)
    accumulator = (leaf * 1).grad_fn.next_functions[0][0]
    accumulator.register_prehook(lambda grad_outputs: (grad_outputs[0] + 1,))
    (leaf * 2 + other).sum().backward(inputs=[leaf])
    result["backward(inputs=) runs the leaf's pre-hooks"] = (_list(leaf.grad), _list(other.grad))

    class DropFirst(t.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return None, grad * 3

    c = t.tensor([1.0, 2.0], requires_grad=True)
    d = t.tensor([1.0, 2.0], requires_grad=True)
    DropFirst.apply(c * 2, d).sum().backward()
    result["a node reached by no gradient"] = (_list(c.grad), _list(d.grad))

    class Cube(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * 3 * a * a

    e = t.tensor([1.0, 2.0], requires_grad=True)
    (ge,) = t.autograd.grad(Cube.apply(e).sum(), e, create_graph=True)
    (gee,) = t.autograd.grad(ge.sum(), e)
    result["a custom Function twice"] = (_list(ge), _list(gee))
    f = t.tensor([1.0, 2.0], requires_grad=True)
    h = f * 2
    h.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * f, None))
    (gf,) = t.autograd.grad(h.sum(), f, create_graph=True)
    (gff,) = t.autograd.grad(gf.sum(), f)
    result["a node hook's graph"] = (_list(gf), _list(gff))
    g = t.tensor([1.0, 2.0], requires_grad=True)
    first, second = g.split(1)
    second.retain_grad()  # past the last gradient: skipped
    first.retain_grad()
    first.sum().backward()
    result["retained after one skipped"] = (_list(first.grad), _list(second.grad))
    k = t.tensor([1.0, 2.0], requires_grad=True)
    versions = []
    for _ in range(3):
        (k * 2).sum().backward()
        versions.append(k.grad._version)
    result[".grad versions"] = versions
    zero = t.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero.sqrt().sum().backward()
    result["inf arises silently"] = _list(zero.grad)
    return result


MORE_CORNERS = {
    ".grad is a copy of the gradient given": [3.0, 4.0],
    "outputs arriving in either order": [9.0, 8.0],
    "a wrong 2-d gradient": "RuntimeError: Function WrongBackward returned an invalid gradient at index 0 - "
    "got [2, 3] but expected shape compatible with [1, 2]",
    "broadcast under create_graph": ([[14.0], [14.0]], [4.0, 8.0, 12.0]),
    "a root below another": [[8.0, 8.0], [4.0]],
    "backward(inputs=) runs the leaf's pre-hooks": ([3.0, 3.0], None),
    "a node reached by no gradient": (None, [3.0, 3.0]),
    "a custom Function twice": ([3.0, 12.0], [6.0, 12.0]),
    "a node hook's graph": ([2.0, 4.0], [2.0, 2.0]),
    "retained after one skipped": ([1.0], None),
    ".grad versions": [0, 1, 2],
    "inf arises silently": [float("inf"), 0.5],
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_more_corners_of_the_pass(library):
    assert _plain(_more_corners(library)) == _plain(MORE_CORNERS)


def _still_more_corners(t):
    def prehook_grads(grads):
        return [None if grad is None else grad.tolist() for grad in grads]

    # outputs 0 and 2 of a split reach its node in that order: its buffer grows to take output 2
    x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    parts = x.split(1)
    seen = []
    parts[0].grad_fn.register_prehook(lambda grads: seen.append(prehook_grads(grads)))
    (parts[0] * parts[2]).sum().backward()
    later_output = (seen, x.grad.tolist())

    # a pass inside a hook of another pass: the outer pass is current again afterwards
    x = t.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * 3
    calls = []

    def inner_pass(grad):
        with t.enable_grad():
            (inner,) = t.autograd.grad((x * x).sum(), x)
        calls.append(("inner", inner.tolist()))

    b.register_hook(inner_pass)
    t.autograd.graph.register_multi_grad_hook((a,), lambda grads: calls.append(("multi", _list(grads[0]))))
    b.sum().backward()
    nested = (calls, x.grad.tolist())

    # a gradient computed inside a dual level carries its tangent (forward over reverse)
    forward_ad = t.autograd.forward_ad
    x = t.tensor([1.0, 2.0], requires_grad=True)
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, t.tensor([1.0, -1.0]))
        (grad,) = t.autograd.grad((dual ** 3).sum(), x)
        unpacked = forward_ad.unpack_dual(grad)
        over_reverse = (unpacked.primal.tolist(), _list(unpacked.tangent))

    # a custom backward whose gradient broadcasts to its input's shape is summed back to it
    class Spread(t.autograd.Function):
        @staticmethod
        def forward(ctx, value):
            return value * 1

        @staticmethod
        def backward(ctx, grad):
            return t.arange(12.0).reshape(1, 3, 4)

    x = t.ones(3, 1, requires_grad=True)
    Spread.apply(x).sum().backward()

    # a custom backward's gradient for an input that needs none is left out
    class Both(t.autograd.Function):
        @staticmethod
        def forward(ctx, value, weight):
            return value * weight

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad * 3

    v = t.tensor([1.0, 2.0], requires_grad=True)
    weight = t.tensor([5.0, 6.0])
    Both.apply(v, weight).sum().backward()
    unneeded = (v.grad.tolist(), weight.grad)

    # a node that only None reaches passes None on (its pre-hook sees it)
    class Drop(t.autograd.Function):
        @staticmethod
        def forward(ctx, value):
            return value * 1

        @staticmethod
        def backward(ctx, grad):
            return None

    v = t.tensor([1.0, 2.0], requires_grad=True)
    doubled = v * 2
    arrived = []
    doubled.grad_fn.register_prehook(lambda grads: arrived.append(grads[0]))
    (Drop.apply(doubled).sum() + (v * 3).sum()).backward()
    only_none = (v.grad.tolist(), arrived)

    # a hand-written node returning one gradient (not a tuple) in a create_graph pass
    matrix = t.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    (first,) = t.autograd.grad(t.linalg.inv(matrix).sum(), matrix, create_graph=True)
    (second,) = t.autograd.grad(first.sum(), matrix)
    inverse_twice = [[round(value, 5) for value in row] for row in first.tolist() + second.tolist()]

    # the .grad a create_graph pass makes is output 0 (an int) of its CopyBackwards
    y = t.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference cycle of backward(create_graph=True)
        (y * y).sum().backward(create_graph=True)
    return {
        "a later output grows the buffer": later_output,
        "a pass inside a pass": nested,
        "forward over reverse": over_reverse,
        "summed to the input's shape": x.grad.tolist(),
        "the copied .grad": (repr(y.grad.output_nr), _name(y.grad), y.grad.tolist()),
        "a gradient for an input that needs none": unneeded,
        "a node only None reaches": only_none,
        "inv differentiated twice": inverse_twice,
    }


STILL_MORE_CORNERS = {
    "a later output grows the buffer": ([[[3.0], None, [1.0]]], [3.0, 0.0, 1.0]),
    "a pass inside a pass": ([("inner", [2.0, 4.0]), ("multi", [3.0, 3.0])], [6.0, 6.0]),
    "forward over reverse": ([3.0, 12.0], [6.0, -12.0]),  # 3x², and its tangent 6x·[1, -1]
    "summed to the input's shape": [[6.0], [22.0], [38.0]],  # row sums of arange(12).reshape(3, 4)
    "the copied .grad": ("0", "CopyBackwards", [2.0, 4.0]),
    "a gradient for an input that needs none": ([2.0, 2.0], None),
    "a node only None reaches": ([3.0, 3.0], [None]),
    # d sum(inv(A)) = -(A^-T 1 1^T A^-T), then its own derivative, for A = [[2, 1], [1, 3]]
    "inv differentiated twice": [[-0.16, -0.08], [-0.08, -0.04], [0.192, 0.096], [0.096, 0.048]],
}


@pytest.mark.parametrize("library", [retrograd, pytest.param(torch, marks=needs_torch)],
                         ids=["retrograd", "torch"])
def test_still_more_corners_of_the_pass(library):
    assert _plain(_still_more_corners(library)) == _plain(STILL_MORE_CORNERS)
