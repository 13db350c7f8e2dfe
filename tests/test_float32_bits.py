"""float32 results that are bit for bit PyTorch's where retrograd follows its kernel, and the
page that reports the rest (tools/float32_bits.py -> docs/float32_bits.md)."""

import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest

import retrograd

try:
    import torch
except ImportError:  # the cross-checks below skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("float32_bits", ROOT / "tools" / "float32_bits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bits(values) -> np.ndarray:
    return np.asarray(values, np.float32).view(np.uint32)


def test_cube_of_a_float32_is_a_product_as_in_pytorch():
    """(tensor(3.7) ** 3).item() is 50.65300369262695 in PyTorch (a product, not powf)."""
    assert (retrograd.tensor(3.7) ** 3).item() == 50.65300369262695
    x = retrograd.tensor([1.1, -2.3, 0.7])
    assert (_bits((x ** 3).numpy()) == _bits(x.numpy() * x.numpy() * x.numpy())).all()


def test_signed_zeros_and_infinities_of_the_special_powers():
    zeros = retrograd.tensor([-0.0, 0.0])
    assert (zeros ** -1).tolist() == [-math.inf, math.inf]
    assert (zeros ** -0.5).tolist() == [-math.inf, math.inf]
    assert (zeros ** -2).tolist() == [math.inf, math.inf]
    assert math.copysign(1, (zeros ** 3)[0].item()) == -1


@needs_torch
@pytest.mark.parametrize("exponent", [2, 3, -1, -2, -0.5, 0, 1])
def test_special_powers_are_bit_identical_to_pytorch(exponent):
    values = np.random.default_rng(0).uniform(0.01, 10.0, 5000).astype(np.float32)
    if float(exponent).is_integer():
        values = values * np.where(np.arange(5000) % 2 == 0, 1, -1).astype(np.float32)
    ours = (retrograd.tensor(values) ** exponent).numpy()
    theirs = (torch.from_numpy(values) ** exponent).numpy()
    assert (_bits(ours) == _bits(theirs)).all()


@needs_torch
@pytest.mark.parametrize("steps", [1, 2, 3, 2000, 2001, 100_000])
def test_linspace_is_bit_identical_to_pytorch(steps):
    ours = retrograd.linspace(-math.pi, math.pi, steps).numpy()
    theirs = torch.linspace(-math.pi, math.pi, steps).numpy()
    assert (_bits(ours) == _bits(theirs)).all()


@needs_torch
def test_hardsigmoid_is_bit_identical_to_pytorch():
    values = np.random.default_rng(0).uniform(-6, 6, 5000).astype(np.float32)
    ours = retrograd.nn.functional.hardsigmoid(retrograd.tensor(values)).numpy()
    theirs = torch.nn.functional.hardsigmoid(torch.from_numpy(values)).numpy()
    assert (_bits(ours) == _bits(theirs)).all()


def test_the_page_lists_every_measured_op():
    tool = _tool()
    listed = set(re.findall(r"^\| `(.+?)` \| [0-9.]+ \|$", (ROOT / "docs" / "float32_bits.md").read_text(), re.M))
    expected = {name for name in tool.UNARY if hasattr(retrograd, name)} | set(tool.FUNCTIONAL) | set(tool.BINARY)
    expected |= {f"x ** {'1/3' if exponent == 1 / 3 else repr(exponent)}" for exponent in tool.POWERS}
    assert expected <= listed, "docs/float32_bits.md is stale: regenerate it with tools/float32_bits.py"


@needs_torch
def test_the_pages_exact_rows_are_still_exact():
    """Rows the page reports as bit-identical stay so (the other figures depend on the CPU)."""
    page = (ROOT / "docs" / "float32_bits.md").read_text()
    exact = set(re.findall(r"^\| `(.+?)` \| 1 \|$", page, re.M))
    measured = {op: fraction for _section, op, fraction in _tool().measurements(retrograd, torch)}
    assert {op for op in exact if measured.get(op) != 1.0} == set()
