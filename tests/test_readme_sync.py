"""The README's results blocks are copies of the committed reports' sections, made by
``isdarts readme``: a stale block is found, filled, and the repository's README is in sync."""

from __future__ import annotations

import pytest
from cli_helpers import REPO, isdarts, one_line_error

from isdarts.errors import IsdartsError
from isdarts.report.readme import section, sync_readme

REPORT = "# R\n\n## Verdict\n\n- **A**: 1.00\n- **B**: 2.00\n\n## Table\n\n| x |\n"


def _files(tmp_path, body: str = "old text\n"):
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "README.md").write_text(REPORT)
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# top\n\nbefore\n<!-- from rep/README.md#Verdict -->\n{body}<!-- end -->\nafter\n"
    )
    return readme


def test_a_section_is_the_lines_up_to_the_next_heading(tmp_path) -> None:
    _files(tmp_path)
    assert section(tmp_path / "rep" / "README.md", "Verdict") == "- **A**: 1.00\n- **B**: 2.00\n"
    with pytest.raises(IsdartsError, match="no section '## Figures'"):
        section(tmp_path / "rep" / "README.md", "Figures")


def test_a_stale_block_is_reported_then_filled(tmp_path) -> None:
    readme = _files(tmp_path)
    res = isdarts("readme", str(readme), "--check")
    assert res.returncode == 1 and "stale block from rep/README.md#Verdict" in res.stdout
    assert "old text" in readme.read_text()
    assert sync_readme(readme) == ["rep/README.md#Verdict"]
    text = readme.read_text()
    assert "- **B**: 2.00\n<!-- end -->\nafter\n" in text and "old text" not in text
    assert text.startswith("# top\n\nbefore\n")
    assert isdarts("readme", str(readme), "--check").returncode == 0


def test_a_block_naming_a_missing_report_is_one_line(tmp_path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- from nowhere/README.md#Verdict -->\nx\n<!-- end -->\n")
    one_line_error(isdarts("readme", str(readme)), "nowhere/README.md: no such report")


def test_the_repository_readme_matches_the_committed_reports() -> None:
    assert sync_readme(REPO / "README.md", check=True) == []
