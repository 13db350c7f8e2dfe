"""The digits examples reach their accuracy targets (slow: run with `pytest -m slow`)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.slow
@pytest.mark.parametrize(("script", "target"), [("digits_mlp.py", 0.97), ("digits_cnn.py", 0.98)])
def test_example_reaches_its_accuracy_target(script, target, tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    pytest.importorskip("matplotlib")
    pytest.importorskip("threadpoolctl")
    source = Path(__file__).resolve().parent.parent / "src"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--no-progress", "--plot", str(tmp_path / "curves.png")],
        capture_output=True, text=True, timeout=300, check=True,
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
    )
    final = next(line for line in result.stdout.splitlines() if "final test accuracy" in line)
    accuracy = float(final.split("final test accuracy ")[1].split("%")[0]) / 100
    assert accuracy >= target
    assert (tmp_path / "curves.png").stat().st_size > 0
