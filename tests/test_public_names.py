"""Public classes show PyTorch's public module names (see Note [Public module names]), custom
Function nodes print as PyTorch's, built-in nodes keep `saved_tensors` to themselves, and
NumPy's floating-point warnings stay inside retrograd (see Note [No NumPy warnings])."""

import importlib
import inspect
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

import retrograd

try:
    import torch
except ImportError:  # the cross-check below skips
    torch = None

ROOT = Path(__file__).resolve().parents[1]
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

NAMESPACES = ("", "nn", "optim", "optim.lr_scheduler", "autograd", "autograd.graph", "autograd.profiler",
              "utils.data", "nn.utils", "nn.parallel", "linalg", "return_types", "utils.checkpoint")


def _namespace(root, path):
    for part in path.split(".") if path else ():
        root = getattr(root, part, None)
    return root


def _public_classes(root):
    for path in NAMESPACES:
        namespace = _namespace(root, path)
        for name in dir(namespace) if namespace is not None else ():
            found = getattr(namespace, name, None)
            if not name.startswith("_") and inspect.isclass(found):
                yield path, name, found


def test_type_of_a_tensor_prints_the_package():
    assert str(type(retrograd.ones(1))) == "<class 'retrograd.Tensor'>"
    assert repr(retrograd.nn.ZeroPad2d) == "<class 'retrograd.nn.modules.padding.ZeroPad2d'>"
    assert repr(type(retrograd.max(retrograd.ones(2, 2), 0))) == "<class 'retrograd.return_types.max'>"


def test_every_public_class_is_found_under_the_name_it_shows():
    """pickle and `from <module> import <class>` both rely on it."""
    for _path, name, found in _public_classes(retrograd):
        if not found.__module__.startswith("retrograd"):
            continue
        home = importlib.import_module(found.__module__)
        assert getattr(home, found.__qualname__, None) is found, (found.__module__, name)


def test_named_results_and_layers_pickle_by_their_public_names():
    result = pickle.loads(pickle.dumps(retrograd.sort(retrograd.tensor([2.0, 1.0]))))
    assert type(result) is retrograd.return_types.sort and result.values.tolist() == [1.0, 2.0]
    assert type(pickle.loads(pickle.dumps(retrograd.nn.ZeroPad2d(1)))) is retrograd.nn.ZeroPad2d


@needs_torch
def test_public_classes_show_pytorchs_module_names():
    ours = {(path, name): found for path, name, found in _public_classes(retrograd)}
    wrong = []
    for path, name, theirs in _public_classes(torch):
        found = ours.get((path, name))
        if found is None or not theirs.__module__.startswith("torch"):
            continue
        expected = re.sub(r"^torch(\._C)?", "retrograd", theirs.__module__)
        namespace = "retrograd" + (f".{path}" if path else "")
        if found.__module__ not in (expected, namespace):
            wrong.append((f"{path}.{name}", found.__module__, expected))
    assert wrong == []


class _Cube(retrograd.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


def test_a_custom_functions_node_prints_with_its_module_path():
    node = _Cube.apply(retrograd.ones(1, requires_grad=True)).grad_fn
    assert re.fullmatch(r"<retrograd\.autograd\.function\._CubeBackward object at 0x[0-9a-f]+>", repr(node))
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>",
                        repr((retrograd.ones(1, requires_grad=True) * 2).grad_fn))


def test_saved_tensors_is_on_custom_function_nodes_only():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    custom = _Cube.apply(x).grad_fn
    assert custom.saved_tensors[0] is x
    assert not [name for name in dir(custom) if name.startswith("_saved_")]
    built_in = (x * retrograd.tensor([3.0, 4.0])).grad_fn
    assert not hasattr(built_in, "saved_tensors")
    assert [name for name in dir(built_in) if name.startswith("_saved_")] == ["_saved_other", "_saved_self"]
    assert built_in._saved_other.tolist() == [3.0, 4.0]
    leaf_node = built_in.next_functions[0][0]
    assert not hasattr(leaf_node, "_saved_variable") and leaf_node.variable is x


_PROGRAM = """
import numpy as np
import retrograd as torch
print(torch.tensor(1e30) / torch.tensor(1e-30), torch.log(torch.tensor([-1.0, 0.0])))
x = torch.tensor([0.0], requires_grad=True)
torch.sqrt(x).sum().backward()
print(x.grad)
np.log(np.zeros(1))  # the user's own NumPy call still warns
"""


def test_numpy_floating_point_warnings_do_not_reach_the_user():
    """In a fresh process, as a user runs it (pytest resets warning filters set while it
    collects, so the check cannot run in this one)."""
    done = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.stdout == "tensor(inf) tensor([nan, -inf])\ntensor([inf])\n"
    warned = [line for line in done.stderr.splitlines() if "Warning" in line]
    assert len(warned) == 1 and "<string>" in warned[0] and "divide by zero encountered in log" in warned[0]
