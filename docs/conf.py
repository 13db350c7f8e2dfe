"""Sphinx configuration of retrograd's documentation site.

Build it (the extra `docs` installs Sphinx and MyST):

    python3 -m pip install -e '.[docs]'
    python3 -m sphinx -W --keep-going -b html docs docs/_build/html

`tests/test_docs_site.py` builds it the same way (warnings are errors), checks every internal
link of the pages it wrote, and runs every example (`python3 -m sphinx -b doctest ...`).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE / "_ext"))

def _write_pictures() -> None:
    """The guide's graph pictures, drawn by retrograd.viz from the seed article's examples at
    every build (so they always show what the code draws today)."""
    from retrograd.viz import write_seed_pictures

    write_seed_pictures(HERE / "_generated")


_write_pictures()

project = "retrograd"
author = "the retrograd authors"
copyright = "the retrograd authors"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "myst_parser",
    "retrograd_api",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "benchmarks.md", "README.md"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# Docstrings are plain text with `code` in single backticks.
default_role = "code"
autodoc_member_order = "alphabetical"
autodoc_typehints = "signature"
autodoc_default_options = {"undoc-members": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
suppress_warnings = ["myst.header"]

# Examples in the docs run with `retrograd` imported, the way the docstrings show them.
doctest_global_setup = "import retrograd\nimport retrograd as torch\n"
doctest_test_doctest_blocks = "default"

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["retrograd.css"]
html_extra_path = ["_generated"]  # the explorer page of the seed example
html_theme_options = {"page_width": "1240px", "sidebar_width": "230px"}
html_title = "retrograd"
