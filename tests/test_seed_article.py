"""The numbered behaviours of the seed article (MISSION.md), each as a test.

Printed output is compared literally, as the article prints it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import retrograd as torch

ROOT = Path(__file__).resolve().parents[1]
# Subprocesses import this checkout's sources, whatever retrograd is installed.
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

ARTICLE_OUTPUT = """\
tensor(7.)
requires_grad:  True True True True
is_leaf:  True False False False
grad:  tensor(7.) None None None
tensor(7.)
tensor(12.) tensor(4.)
tensor(12.)
tensor(12.) tensor(4.)
RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
tensor(6.)
tensor(6.)
tensor(6.)
tensor(18., grad_fn=<CopyBackwards>)
tensor(6., grad_fn=<CopyBackwards>)
RuntimeError: grad can be implicitly created only for scalar outputs
tensor([2., 4.])
"""


def _x_x_y():
    x = torch.tensor(2.0).requires_grad_()
    y = torch.tensor(3.0).requires_grad_()
    return x, y, x * x * y


def test_article_script_prints_what_the_article_prints():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "seed_article.py")],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    assert result.stdout == ARTICLE_OUTPUT


def test_1_graph_is_dynamic_and_values_printable_at_any_moment():
    x = torch.tensor(2.0, requires_grad=True)
    a = torch.add(x, 1)
    assert repr(a) == "tensor(3., grad_fn=<AddBackward0>)"
    b = a * a
    assert repr(b) == "tensor(9., grad_fn=<MulBackward0>)"
    assert b.grad_fn.next_functions[0][0] is a.grad_fn


@pytest.mark.parametrize(
    ("name", "function", "derivative"),
    [
        ("add", lambda x: x + 3, lambda x: 1.0),
        ("sub", lambda x: 3 - x, lambda x: -1.0),
        ("mul", lambda x: x * 3, lambda x: 3.0),
        ("div", lambda x: 3 / x, lambda x: -3 / x**2),
        ("sqrt", torch.sqrt, lambda x: 0.5 / x**0.5),
        ("pow", lambda x: x**3, lambda x: 3 * x**2),
        ("exp", torch.exp, lambda x: __import__("math").exp(x)),
        ("log", torch.log, lambda x: 1 / x),
        ("sin", torch.sin, lambda x: __import__("math").cos(x)),
        ("cos", torch.cos, lambda x: -__import__("math").sin(x)),
        ("tan", torch.tan, lambda x: 1 / __import__("math").cos(x) ** 2),
    ],
)
def test_2_operations_are_differentiable(name, function, derivative):
    x = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    function(x).backward()
    assert x.grad.item() == pytest.approx(derivative(0.7), rel=1e-12)


def test_3_only_leaves_keep_grad_and_nonleaf_grad_warns():
    x = torch.tensor(2.0, requires_grad=True)
    a = x + 1
    y = a * a
    y.backward()
    assert repr(x.grad) == "tensor(6.)"
    with pytest.warns(UserWarning, match=r"not a leaf Tensor.*retain_grad\(\)"):
        assert a.grad is None


def test_3_retain_grad_keeps_a_nonleaf_gradient():
    x = torch.tensor(2.0, requires_grad=True)
    a = x + 1
    a.retain_grad()
    (a * a).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(a.grad) == "tensor(6.)"


def test_4_and_8_attributes_of_the_worked_example():
    x = torch.tensor(2.0, requires_grad=True)
    a = torch.add(x, 1)
    b = torch.add(x, 2)
    y = torch.mul(a, b)
    y.backward()
    assert [t.requires_grad for t in (x, a, b, y)] == [True, True, True, True]
    assert [t.is_leaf for t in (x, a, b, y)] == [True, False, False, False]
    assert x.grad_fn is None and y.grad_fn.name() == "MulBackward0"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [repr(t.grad) for t in (x, a, b, y)] == ["tensor(7.)", "None", "None", "None"]


def test_5_requires_grad_defaults_and_propagation():
    plain = torch.tensor(1.0)
    assert plain.requires_grad is False
    weight = torch.tensor(2.0, requires_grad=True)
    assert (plain * weight).requires_grad is True
    assert (plain * 2).requires_grad is False


def test_5_a_leaf_without_a_differentiable_path_gets_no_gradient():
    x = torch.tensor(2.0, requires_grad=True)
    unused = torch.tensor(5.0, requires_grad=True)
    (x * 3).backward()
    assert unused.grad is None


def test_6_two_ways_to_make_a_leaf_that_requires_grad():
    first = torch.tensor(1.0).requires_grad_()
    second = torch.tensor(1.0, requires_grad=True)
    for leaf in (first, second):
        assert leaf.is_leaf and leaf.requires_grad
        assert repr(leaf) == "tensor(1., requires_grad=True)"


def test_7_backward_equals_autograd_backward_and_grad_fills_nothing():
    x = torch.tensor(2.0, requires_grad=True)
    y = (x + 1) * (x + 2)
    torch.autograd.backward(y)
    assert x.grad.item() == 7
    x2 = torch.tensor(2.0, requires_grad=True)
    result = torch.autograd.grad(outputs=(x2 + 1) * (x2 + 2), inputs=x2)
    assert isinstance(result, tuple) and repr(result[0]) == "tensor(7.)"
    assert x2.grad is None


def test_9_gradients_of_x_x_y():
    x, y, z = _x_x_y()
    z.backward()
    assert (repr(x.grad), repr(y.grad)) == ("tensor(12.)", "tensor(4.)")


def test_10_second_pass_raises_unless_graph_retained():
    x, y, z = _x_x_y()
    torch.autograd.grad(outputs=z, inputs=x)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        torch.autograd.grad(outputs=z, inputs=y)
    x, y, z = _x_x_y()
    torch.autograd.grad(outputs=z, inputs=x, retain_graph=True)
    assert repr(torch.autograd.grad(outputs=z, inputs=y)[0]) == "tensor(4.)"


def test_11_derivative_without_create_graph_cannot_be_differentiated():
    x, y, z = _x_x_y()
    grad_x = torch.autograd.grad(outputs=z, inputs=x, retain_graph=True)
    with pytest.raises(
        RuntimeError, match="^element 0 of tensors does not require grad and does not have a grad_fn$"
    ):
        torch.autograd.grad(outputs=grad_x, inputs=x)


def test_12_second_derivative_three_ways():
    x, y, z = _x_x_y()
    grad_x = torch.autograd.grad(outputs=z, inputs=x, create_graph=True)
    assert repr(torch.autograd.grad(outputs=grad_x, inputs=x)[0]) == "tensor(6.)"

    x, y, z = _x_x_y()
    torch.autograd.grad(outputs=z, inputs=x, create_graph=True)[0].backward()
    assert repr(x.grad) == "tensor(6.)"

    x, y, z = _x_x_y()
    with pytest.warns(UserWarning, match="reference cycle"):
        z.backward(create_graph=True)
    assert repr(torch.autograd.grad(outputs=x.grad, inputs=x)[0]) == "tensor(6.)"


def test_13_gradients_accumulate_and_zeroing_the_data_resets_them():
    x, y, z = _x_x_y()
    with pytest.warns(UserWarning):
        z.backward(create_graph=True)
    assert repr(x.grad) == "tensor(12., grad_fn=<CopyBackwards>)"
    x.grad.backward()
    assert repr(x.grad) == "tensor(18., grad_fn=<CopyBackwards>)"

    x, y, z = _x_x_y()
    with pytest.warns(UserWarning):
        z.backward(create_graph=True)
    x.grad.data.zero_()
    x.grad.backward()
    assert repr(x.grad) == "tensor(6., grad_fn=<CopyBackwards>)"


def test_14_only_scalar_outputs_get_an_implicit_gradient():
    x = torch.tensor([1.0, 2.0]).requires_grad_()
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar outputs$"):
        (x + 1).backward()
    assert x.grad is None
    (x * x).sum().backward()
    assert repr(x.grad) == "tensor([2., 4.])"


def test_14_a_vector_output_with_an_explicit_gradient():
    x = torch.tensor([1.0, 2.0]).requires_grad_()
    (x * x).backward(torch.tensor([1.0, 0.5]))
    assert repr(x.grad) == "tensor([2., 2.])"


def test_15_the_tour_draws_the_graph_and_matches_the_article():
    import io

    from retrograd._tour import run_tour

    out = io.StringIO()
    assert run_tour(out)
    text = out.getvalue()
    assert "MulBackward0" in text and "AccumulateGrad" in text
    assert text.count("[ok] matches the article") == 15 and "MISMATCH" not in text


def test_tour_command_line_matches_the_article_and_writes_the_pictures(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "retrograd", "tour"], capture_output=True, text=True, cwd=tmp_path, env=ENV
    )
    assert result.returncode == 0, result.stderr
    assert "all steps match." in result.stdout
    pictures = tmp_path / "retrograd-tour"
    assert (pictures / "seed_explorer.html").is_file()
    assert (pictures / "seed_y_after_backward.svg").is_file()
    assert (pictures / "seed_dz_dx_create_graph.svg").is_file()
