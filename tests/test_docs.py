"""Generated documentation stays in step with the code."""

from pathlib import Path

from retrograd.ops._derivatives_doc import derivatives_markdown
from retrograd.ops._docs import operators_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_operators_page_is_generated_from_the_op_table():
    page = ROOT / "docs" / "operators.md"
    assert page.read_text() == operators_markdown(), (
        "docs/operators.md is stale: regenerate it with `python -m retrograd ops-doc > docs/operators.md`"
    )


def test_derivatives_page_is_generated_from_the_declarations():
    page = ROOT / "docs" / "derivatives.md"
    assert page.read_text() == derivatives_markdown(), (
        "docs/derivatives.md is stale: regenerate it with "
        "`python -m retrograd derivatives-doc > docs/derivatives.md`"
    )
