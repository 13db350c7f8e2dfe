"""Generated documentation stays in step with the code."""

from pathlib import Path

from retrograd._operators_page import operators_markdown
from retrograd.ops._derivatives_doc import derivatives_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_operators_page_is_generated_from_the_op_table():
    page = ROOT / "docs" / "operators.md"
    assert page.read_text() == operators_markdown(), (
        "docs/operators.md is stale: regenerate it with `python -m retrograd ops-doc > docs/operators.md`"
    )


def test_operators_page_is_grouped_by_family_with_a_contents_list():
    page = operators_markdown()
    assert "## Contents" in page
    assert "- [Linear algebra](#linear-algebra)" in page
    assert page.index("## Pointwise arithmetic and functions") < page.index("## Neural-network functions")


def test_operators_page_says_in_which_namespace_each_operator_lives():
    rows = {line.split(" — ")[0]: line for line in operators_markdown().splitlines() if line.startswith("| `")}
    assert "| `retrograd`, `F` |" in rows["| `unfold`"]
    assert "| `linalg` |" in rows["| `linalg.inv`"]
    assert "| `retrograd`, `Tensor` |" in rows["| `mul`"]


def test_readme_operator_counts_match_the_operators_page():
    import re

    counts = re.search(r"(\d+) operators, of which (\d+) differentiable", operators_markdown())
    readme = (ROOT / "README.md").read_text()
    assert f"{counts[1]} operators" in readme and f"{counts[2]} of them differentiable" in readme, (
        "README.md states operator counts that differ from docs/operators.md"
    )


def test_derivatives_page_is_generated_from_the_declarations():
    page = ROOT / "docs" / "derivatives.md"
    assert page.read_text() == derivatives_markdown(), (
        "docs/derivatives.md is stale: regenerate it with "
        "`python -m retrograd derivatives-doc > docs/derivatives.md`"
    )
