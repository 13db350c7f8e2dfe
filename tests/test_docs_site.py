"""The documentation site builds without a warning, its internal links resolve, its examples run.

Needs the `docs` extra (Sphinx, MyST); skipped cleanly without it. One build per session:
HTML with warnings as errors, then the doctest builder on the same parsed sources.
"""

import html.parser
import importlib.util
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]

needs_sphinx = pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_parser") is None,
    reason="the docs extra is not installed (python3 -m pip install -e '.[docs]')",
)


def _sphinx(builder: str, out: Path, doctrees: Path, fresh: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", *(["-E"] if fresh else []),
         "-b", builder, "-d", str(doctrees), str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("site")
    built = _sphinx("html", base / "html", base / "doctrees")
    return base, built


@needs_sphinx
def test_site_builds_without_warnings(site):
    _base, built = site
    assert built.returncode == 0, built.stderr[-4000:]
    assert "WARNING" not in built.stderr and "ERROR" not in built.stderr, built.stderr[-4000:]


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "img" and values.get("src"):
            self.links.append(values["src"])


def _is_viewcode_backlink(page: Path, html_root: Path) -> bool:
    """Sphinx's highlighted-source pages link back to an object's entry by a name of its own
    choosing, which misses when one function is documented under two names (`retrograd.add`
    and `Tensor.add`); the page the link goes to is still checked, its anchor is not."""
    return "_modules" in page.relative_to(html_root.resolve()).parts


def _broken_links(html_root: Path) -> list[str]:
    pages = {}
    for page in html_root.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        pages[page.resolve()] = parser
    broken = []
    for page, parser in pages.items():
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("mailto:"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.name}: {link}")
            elif (parts.fragment and target.suffix == ".html" and parts.fragment not in pages[target].ids
                  and not _is_viewcode_backlink(page, html_root)):
                broken.append(f"{page.name}: {link} (no such anchor)")
    return broken


@needs_sphinx
def test_site_has_no_broken_internal_links(site):
    base, built = site
    assert built.returncode == 0, built.stderr[-4000:]
    assert _broken_links(base / "html") == []


@needs_sphinx
def test_site_covers_the_reference_and_the_guide(site):
    base, built = site
    assert built.returncode == 0, built.stderr[-4000:]
    html_root = base / "html"
    for page in ["tensors", "tensor_class", "autograd", "nn", "nn.functional", "optim", "data", "viz"]:
        assert (html_root / "api" / f"{page}.html").exists(), page
    tensors = (html_root / "api" / "tensors.html").read_text()
    assert 'id="retrograd.eye"' in tensors and 'id="retrograd.mul"' in tensors
    assert 'id="retrograd.nn.functional.unfold"' in (html_root / "api" / "nn.functional.html").read_text()
    guide = (html_root / "guide" / "how-retrograd-works.html").read_text()
    assert "Dependency counting" in guide and "_modules/retrograd/autograd/engine.html" in guide


@needs_sphinx
def test_every_example_in_the_docs_runs(site):
    base, built = site
    assert built.returncode == 0, built.stderr[-4000:]
    tested = _sphinx("doctest", base / "doctest", base / "doctrees", fresh=False)  # reuses the parse
    report = (base / "doctest" / "output.txt").read_text() if (base / "doctest" / "output.txt").exists() else ""
    assert tested.returncode == 0, (tested.stderr + report)[-6000:]
    assert "0 failures in tests" in report or " 0 failures" in report, report[-3000:]


def test_broken_link_finder_finds_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#x">b</a><a href="missing.html">m</a><p id="y"></p>')
    (tmp_path / "b.html").write_text('<p id="z"></p>')
    assert _broken_links(tmp_path) == ["a.html: b.html#x (no such anchor)", "a.html: missing.html"]
