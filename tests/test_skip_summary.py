"""The test run ends by saying how many PyTorch cross-checks it skipped, and why."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
CROSSCHECK = (Path(__file__).parent / "crosscheck.py").read_text()


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
    torch_part, other_part = output.split("PyTorch cross-checks skipped")[1].split("Other skipped tests: 1")
    assert "chromium" not in torch_part
    assert "1 test: chromium is not installed" in other_part


def test_summary_says_none_were_skipped_when_pytorch_ran(pytester):
    pytest.importorskip("torch")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_plain="import torch\n\ndef test_plain():\n    assert torch.ones(1).item() == 1.0\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert "PyTorch cross-checks: none skipped (torch " in result.stdout.str()


def test_no_torch_runs_the_tests_that_need_no_pytorch_and_skips_the_cross_checks(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        crosscheck=CROSSCHECK,
        test_mixed="""
        from crosscheck import needs_torch, torch

        @needs_torch
        def test_against_pytorch():
            assert torch.ones(1).item() == 1.0

        def test_without_pytorch():
            assert torch is None
        """,
    )
    # In a subprocess: the option hides PyTorch for the whole interpreter while it runs.
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--no-torch", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    output = result.stdout.str()
    assert "PyTorch hidden by --no-torch" in output
    assert "PyTorch cross-checks skipped: 1 test" in output
    assert "could not import 'torch'" in output


def test_many_other_skip_reasons_are_summed_up(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_reasons="""
        import pytest

        @pytest.mark.parametrize("number", range(10))
        def test_skipped(number):
            pytest.skip(f"reason {number}")
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(skipped=10)
    output = result.stdout.str()
    assert "Other skipped tests: 10" in output
    assert "2 tests for 2 other reasons (-rs lists them)" in output


@pytest.mark.parametrize(("ci", "derandomized"), [("1", True), ("", False)])
def test_hypothesis_draws_the_same_examples_on_every_ci_run(pytester, monkeypatch, ci, derandomized):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_profile=f"""
        from hypothesis import settings

        def test_profile():
            assert settings.default.derandomize is {derandomized}
            assert (settings.default.database is None) is {derandomized}
            assert tuple(settings.default.suppress_health_check) == ()
        """
    )
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    # In a subprocess: loading a profile changes Hypothesis's defaults for the whole interpreter.
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_no_test_suppresses_every_hypothesis_health_check():
    # A health check names a real problem (too slow, too much filtering): suppress the one that
    # applies, with a reason, never all of them.
    tests = Path(__file__).parent
    wholesale = [
        path.name for path in sorted(tests.glob("*.py"))
        if "list(HealthCheck)" in path.read_text() and path.name != Path(__file__).name
    ]
    assert wholesale == []
