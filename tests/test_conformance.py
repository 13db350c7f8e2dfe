"""Tutorial-style programs print the same under retrograd as under PyTorch (tests/conformance.py)."""

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("conformance", HERE / "conformance.py")
conformance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conformance)

PROGRAMS = conformance.programs()

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_program_prints_what_pytorch_printed(program):
    """Against PyTorch's recorded output (runs without PyTorch)."""
    problems = conformance.check(program)
    assert not problems, "\n".join(problems)


@needs_torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_program_prints_what_pytorch_prints_now(program):
    """Against PyTorch itself; also checks that the recorded output is current."""
    reference = conformance.run(program, "torch")
    assert reference.returncode == 0, reference.stderr[-2000:]
    assert reference.stdout == conformance.expected_output(program), (
        f"the recorded output of {program.stem} is stale: run `python tests/conformance.py --update`"
    )
    problems = conformance.check(program, reference.stdout)
    assert not problems, "\n".join(problems)


def test_lines_agree_up_to_module_names_spacing_and_rounding():
    agree = conformance.lines_agree
    assert agree("tensor([1.0000, 2.5000])", "tensor([1.0001, 2.5000])")
    assert agree("dtype=torch.float32", "dtype=retrograd.float32")
    assert agree("tensor([-0.0000,  1.0000])", "tensor([0.0000, 1.0000])")
    assert not agree("tensor([1.0000, 2.5000])", "tensor([1.0003, 2.5000])")
    assert not agree("3 call(s)", "4 call(s)")
    assert not agree("tensor([1., 2.])", "tensor([1., 3.])")
    assert not agree("tensor([1., 2.])", "tensor([1., 2., 3.])")
    assert not agree("Linear", "Bilinear")


def test_compare_reports_missing_lines():
    assert conformance.compare("a\nb\n", "a\n") == ["PyTorch printed 2 lines, retrograd 1"]
