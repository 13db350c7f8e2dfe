"""docs/coverage.md is generated from tools/pytorch_names.json and the names retrograd has."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _coverage_tool():
    spec = importlib.util.spec_from_file_location("coverage_tool", ROOT / "tools" / "coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


coverage = _coverage_tool()


def test_coverage_page_is_in_step_with_the_code():
    page = (ROOT / "docs" / "coverage.md").read_text()
    assert page == coverage.render_page(coverage.load_names()), (
        "docs/coverage.md is stale: regenerate it with "
        "`PYTHONPATH=src python tools/coverage.py page > docs/coverage.md`"
    )


def test_every_partial_note_names_something_retrograd_has():
    names = coverage.load_names()["namespaces"]
    for namespace, notes in coverage.PARTIAL.items():
        holder = coverage._resolve(coverage.NAMESPACES[namespace])
        for name in notes:
            assert name in names[namespace], (namespace, name)
            assert coverage._has(holder, name), (namespace, name)


def test_a_name_retrograd_gains_moves_to_supported(monkeypatch):
    import retrograd

    names = {"pytorch": "2.13.0", "namespaces": {namespace: {} for namespace in coverage.NAMESPACES}}
    names["namespaces"]["torch"] = {"brand_new_op": "function"}
    assert "brand_new_op" in coverage.classify(names)["torch"]["missing"]
    monkeypatch.setattr(retrograd, "brand_new_op", lambda x: x, raising=False)
    assert coverage.classify(names)["torch"]["supported"] == ["brand_new_op"]


def test_reasons_sort_names_into_scope():
    assert coverage.reason_for("torch.Tensor", "conj")[1] is True
    assert coverage.reason_for("torch", "sparse_coo_tensor")[1] is True
    assert coverage.reason_for("torch.Tensor", "cuda")[1] is True
    assert coverage.reason_for("torch", "brand_new_op") == ("not implemented yet", False)


def _torch_version():
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__.split("+")[0]


@pytest.mark.skipif(_torch_version() != "2.13.0", reason="needs PyTorch 2.13.0 installed")
def test_checked_in_names_are_pytorch_2_13_names():
    import json
    import subprocess
    import sys

    # A fresh interpreter: importing PyTorch's submodules (as other tests do) adds names to torch.
    fresh = subprocess.run([sys.executable, str(ROOT / "tools" / "coverage.py"), "names-print"],
                           capture_output=True, text=True, check=True)
    assert json.loads(fresh.stdout) == coverage.load_names(), (
        "tools/pytorch_names.json is stale: regenerate it with `python tools/coverage.py names`"
    )
