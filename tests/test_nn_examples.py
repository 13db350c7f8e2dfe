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


def _digits_common():
    import importlib.util

    spec = importlib.util.spec_from_file_location("digits_common", EXAMPLES / "digits_common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_progress_bar_advances_through_every_batch(capsys):
    pytest.importorskip("tqdm")
    import re

    import retrograd
    from retrograd.utils.data import DataLoader, TensorDataset

    common = _digits_common()
    retrograd.manual_seed(0)
    data = TensorDataset(retrograd.randn(40, 4), retrograd.randint(0, 3, (40,)))
    loader = DataLoader(data, batch_size=4)
    model = retrograd.nn.Linear(4, 3)
    optimizer = retrograd.optim.SGD(model.parameters(), lr=0.1)
    scheduler = retrograd.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    common.train(model, loader, loader, optimizer, scheduler, epochs=1, progress=True,
                 step_scheduler_per_batch=False)
    drawn = [int(count) for count in re.findall(r"(\d+)/10 \[", capsys.readouterr().err)]
    assert drawn == sorted(drawn) and set(drawn) == set(range(11))


def test_plots_go_to_the_ignored_output_folder():
    common = _digits_common()
    assert common.OUTPUT == EXAMPLES / "output"
    ignored = (EXAMPLES.parent / ".gitignore").read_text().splitlines()
    assert "examples/output/" in ignored
