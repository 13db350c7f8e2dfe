"""`python -m benchmarks.forward_mode` writes its own section of docs/benchmarks.md (from
its table, with the command, machine and load), keeping the rest of the file."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import forward_mode, sections


def test_the_section_is_written_in_place_and_rewritten(tmp_path, capsys):
    markdown = tmp_path / "benchmarks.md"
    markdown.write_text("# Benchmarks\n\nOther sections.\n\n"
                        f"{sections.FORWARD_MODE_BEGIN}\n\nold numbers\n{sections.FORWARD_MODE_END}\n\n"
                        "## Later section\n")
    arguments = ["--quick", "--repeats", "1", "--sample-seconds", "0.001", "--markdown", str(markdown)]
    assert forward_mode.main(arguments) == 0
    printed = capsys.readouterr().out
    text = markdown.read_text()
    assert text.startswith("# Benchmarks\n\nOther sections.\n\n")
    assert text.rstrip().endswith("## Later section")
    assert "old numbers" not in text
    found = sections.find_section(text, sections.FORWARD_MODE_BEGIN, sections.FORWARD_MODE_END)
    assert found is not None
    table = printed.split("\nwrote ")[0].strip()
    assert table in found  # the table printed is the table written, not typed by hand
    assert "| H·v, f(x) = sum(tanh(Wx)²), n = 16 | forward-over-reverse |" in table
    assert ("- command: `python -m benchmarks.forward_mode --quick --repeats 1 "
            "--sample-seconds 0.001`") in found
    assert "- machine: " in found and "- load average (1, 5, 15 min) before / after: " in found
    assert forward_mode.main(arguments) == 0  # a second run replaces the section
    again = markdown.read_text()
    assert again.count(sections.FORWARD_MODE_BEGIN) == 1
    assert again.count(sections.FORWARD_MODE_END) == 1


def test_a_quick_run_writes_no_file_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(forward_mode, "REPOSITORY", tmp_path)
    assert forward_mode.main(["--quick", "--repeats", "1", "--sample-seconds", "0.001"]) == 0
    assert not (tmp_path / "docs").exists()
    assert "wrote" not in capsys.readouterr().out


def test_the_whole_file_generator_keeps_the_section(tmp_path):
    markdown = tmp_path / "benchmarks.md"
    kept = f"{sections.FORWARD_MODE_BEGIN}\n\nnumbers\n{sections.FORWARD_MODE_END}"
    markdown.write_text(f"# Benchmarks\n\nold\n\n{kept}\n")
    assert kept in sections.keep_sections(markdown, "# Benchmarks\n\nnew\n")
