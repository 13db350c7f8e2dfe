"""The tour of the seed article (`python -m retrograd tour`): what it teaches and how it prints."""

import io
import subprocess
import sys
from pathlib import Path

from retrograd._tour import STEPS, _prompt_lines, run_tour

ROOT = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}


def tour_text(**options) -> str:
    out = io.StringIO()
    assert run_tour(out, **options)
    return out.getvalue()


def step_named(words: str):
    return next(step for step in STEPS if words in step.title)


def test_the_attributes_step_explains_all_four_attributes_grad_fn_too():
    explanation = step_named("four autograd attributes").explanation
    for attribute in ("requires_grad:", "grad_fn:", "is_leaf:", "grad:"):
        assert attribute in explanation


def test_a_step_shows_grad_fn_names_and_retain_grad():
    step = step_named("retain_grad()")
    assert "a.retain_grad()" in step.code
    assert step.expected == "grad_fn:  None AddBackward0 AddBackward0 MulBackward0\ntensor(4.) True None False"
    assert "[ok] matches PyTorch" in tour_text()


def test_define_by_run_is_shown_with_an_if_in_a_loop():
    step = step_named("Define-by-run")
    assert "for step in range(4):" in step.code and "if y < 10:" in step.code
    text = tour_text()
    assert "tensor(17., grad_fn=<AddBackward0>)\n    tensor(32.)" in text


def test_copy_backwards_is_explained():
    assert "CopyBackwards is the node of that copy" in step_named("accumulate").explanation


def test_every_line_fits_80_columns():
    text = tour_text()
    too_long = [line for line in text.splitlines() if len(line) > 80]
    assert too_long == []


def test_long_code_lines_continue_under_their_parenthesis():
    shown = _prompt_lines('print("requires_grad: ", x.requires_grad, a.requires_grad, b.requires_grad, '
                          "y.requires_grad)")
    first, second = shown.splitlines()
    assert first.startswith("    >>> print(") and second.startswith("    ...       b.requires_grad")
    assert _prompt_lines("    y = y * x") == "    ...     y = y * x\n"


def test_a_single_step_runs_with_the_variables_of_the_steps_before_it():
    number = STEPS.index(step_named("four autograd attributes")) + 1
    text = tour_text(only=number)
    assert "grad:  tensor(7.) None None None" in text and f"step {number} matches." in text


def test_step_out_of_range_is_an_error():
    result = subprocess.run([sys.executable, "-m", "retrograd", "tour", "--step", "99"],
                            capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode == 2
    assert f"--step must be between 1 and {len(STEPS)}, got 99" in result.stderr
