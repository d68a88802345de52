"""The README's and docs pages' results blocks are copies of the committed reports' sections,
made by ``isdarts readme``: a stale block is found, filled, and the repository's pages are in
sync."""

from __future__ import annotations

import pytest
from cli_helpers import REPO, isdarts, one_line_error

from isdarts.errors import IsdartsError
from isdarts.report.readme import BLOCK, section, sync_readme

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


TABLE = (
    "# R\n\n## Table\n\nSome text.\n\n| Method | a |\n| --- | --- |\n| ResNet | 1 |\n"
    "| DARTS (1st order) | 2 |\n| **DARTS (1st order), this harness** | **3** |\n"
    "| DARTS (2nd order) | 4 |\n| IS-DARTS | 5 |\n\nDifferences:\n\n| x |\n| --- |\n| DARTS |\n"
    "\n![fig](figures/a.png) and [runs](runs/x/#top), [web](https://example.org/a)\n"
)


def test_a_block_may_copy_only_some_rows_of_the_first_table(tmp_path) -> None:
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "README.md").write_text(TABLE)
    page = tmp_path / "README.md"
    page.write_text(
        "<!-- from rep/README.md#Table | rows: IS-DARTS; DARTS (1st order) -->\n<!-- end -->\n"
    )
    assert sync_readme(page) == ["rep/README.md#Table | rows: IS-DARTS; DARTS (1st order)"]
    assert page.read_text().splitlines()[1:-1] == [
        "| Method | a |",
        "| --- | --- |",
        "| DARTS (1st order) | 2 |",
        "| **DARTS (1st order), this harness** | **3** |",
        "| IS-DARTS | 5 |",
    ]
    page.write_text("<!-- from rep/README.md#Table | rows: GDAS -->\n<!-- end -->\n")
    one_line_error(isdarts("readme", str(page)), "no table row starting with 'GDAS'")


def test_relative_links_of_a_copied_section_point_from_the_page(tmp_path) -> None:
    (tmp_path / "reports" / "r").mkdir(parents=True)
    (tmp_path / "reports" / "r" / "README.md").write_text(TABLE)
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text("<!-- from ../reports/r/README.md#Table -->\n<!-- end -->\n")
    sync_readme(page)
    text = page.read_text()
    assert "![fig](../reports/r/figures/a.png)" in text
    assert "[runs](../reports/r/runs/x/#top)" in text and "(https://example.org/a)" in text


def pages_with_blocks() -> list:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return [p for p in pages if BLOCK.search(p.read_text(encoding="utf-8"))]


def test_the_repository_pages_match_the_committed_reports() -> None:
    assert REPO / "README.md" in pages_with_blocks()
    for page in pages_with_blocks():
        assert sync_readme(page, check=True) == [], page
