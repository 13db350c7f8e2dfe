"""torchviz, a real client of PyTorch's graph, draws retrograd's graphs as it draws PyTorch's.

torchviz imports `torch`; each test loads it twice, once on PyTorch and once with `torch`
aliased to retrograd (only while it is imported: the module keeps what it imported), and
compares the two drawings: the same nodes (labels and colours) and the same edges.
"""

import collections
import importlib
import re
import sys
import warnings

import pytest

import retrograd

try:
    import graphviz  # noqa: F401  (torchviz needs it)
    import torch
except ImportError:  # the tests below skip
    torch = None


def _load_torchviz(library):
    """torchviz's `make_dot`, imported with `torch` being `library`; sys.modules restored."""
    saved = {name: module for name, module in sys.modules.items()
             if name == "torch" or name.startswith(("torch.", "torchviz"))}
    for name in [name for name in sys.modules if name.startswith("torchviz")]:
        del sys.modules[name]
    try:
        if library is retrograd:
            sys.modules["torch"] = retrograd
            sys.modules["torch.autograd"] = retrograd.autograd
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torchviz imports distutils
            return importlib.import_module("torchviz").make_dot
    except ImportError:
        return None
    finally:
        for name in [name for name in sys.modules
                     if name == "torch" or name.startswith(("torch.", "torchviz"))]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture(scope="module")
def make_dots():
    if torch is None:
        pytest.skip("PyTorch or graphviz is not installed")
    theirs, ours = _load_torchviz(torch), _load_torchviz(retrograd)
    if theirs is None or ours is None:
        pytest.skip("torchviz is not installed (pip install torchviz)")
    return theirs, ours


def _structure(dot) -> tuple:
    """The drawing without ids: node (label, attributes) and edges between node labels."""
    labels = {}
    nodes = collections.Counter()
    edges = collections.Counter()
    for line in dot.body:
        node = re.match(r'\s*(\d+) \[label="?(.*?)"?( [a-z]+=.*)?\]$', line, re.S)
        edge = re.match(r"\s*(\d+) -> (\d+)(.*)$", line)
        if edge:
            edges[edge.group(1), edge.group(2), edge.group(3).strip()] += 1
        elif node:
            labels[node.group(1)] = node.group(2)
            nodes[node.group(2), (node.group(3) or "").strip()] += 1
    named_edges = collections.Counter(
        {(labels.get(a, "?"), labels.get(b, "?"), attrs): count for (a, b, attrs), count in edges.items()}
    )
    return nodes, named_edges


def _draw(make_dot, library, program, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchviz warns about retrograd's version number
        output, params = program(library)
        return _structure(make_dot(output, params=params, **options))


def _seed_article(torch):
    x = torch.tensor(2.0, requires_grad=True)
    a = torch.add(x, 1)
    b = torch.add(x, 2)
    y = torch.mul(a, b)
    return y, {"x": x}


def _seed_second_example(torch):
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)
    return x * x * y, {"x": x, "y": y}


def _mlp(torch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    loss = torch.nn.functional.mse_loss(model(torch.randn(5, 3)), torch.zeros(5, 1))
    return loss, dict(model.named_parameters())


def _custom_function(torch):
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    return Cube.apply(x).exp(), {"x": x}


PROGRAMS = [_seed_article, _seed_second_example, _mlp, _custom_function]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda program: program.__name__.strip("_"))
def test_torchviz_draws_retrograd_as_pytorch(make_dots, program):
    theirs, ours = make_dots
    assert _draw(ours, retrograd, program) == _draw(theirs, torch, program)


# With the attribute rows: AddmmBackward0's matrix strides (`mat1_sym_strides`, `()` for a
# matrix that needs no gradient), MseLossBackward0's reduction as PyTorch's enum number.
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda program: program.__name__.strip("_"))
def test_torchviz_shows_saved_values_and_attributes_as_for_pytorch(make_dots, program):
    theirs, ours = make_dots
    options = {"show_saved": True, "show_attrs": True}
    assert _draw(ours, retrograd, program, **options) == _draw(theirs, torch, program, **options)


def test_torchviz_leaves_torch_as_it_was(make_dots):
    assert sys.modules.get("torch") is torch
    assert "torchviz" not in sys.modules or sys.modules["torchviz"].make_dot is not make_dots[1]
