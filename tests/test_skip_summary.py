"""The test run ends by saying how many PyTorch cross-checks it skipped, and why."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()


def test_summary_counts_skipped_pytorch_cross_checks_and_gives_the_reason(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_cross="""
        import pytest

        def _missing_torch():
            pytest.skip("could not import 'torch': No module named 'torch'")

        def test_one():
            _missing_torch()

        def test_two():
            _missing_torch()

        def test_gpu_only():
            pytest.skip("this PyTorch has a GPU")

        def test_other_tool():
            pytest.skip("chromium is not installed")

        def test_plain():
            pass
        """,
        test_module_level="""
        import pytest
        pytest.skip("could not import 'torch': No module named 'torch'", allow_module_level=True)
        """,
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, skipped=5)
    output = result.stdout.str()
    assert "PyTorch cross-checks skipped: 3 tests and 1 whole module" in output
    assert "2 tests and 1 module: could not import 'torch': No module named 'torch'" in output
    assert "1 test: this PyTorch has a GPU" in output
    assert "pip install -e '.[torch]'" in output
    assert "chromium" not in output.split("PyTorch cross-checks skipped")[1]


def test_summary_says_none_were_skipped_when_pytorch_ran(pytester):
    pytest.importorskip("torch")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_plain="import torch\n\ndef test_plain():\n    assert torch.ones(1).item() == 1.0\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert "PyTorch cross-checks: none skipped (torch " in result.stdout.str()
