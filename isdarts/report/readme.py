"""Numbers in the repository's README and docs pages come from the committed reports, never by
hand: each block between ``<!-- from REPORT#SECTION -->`` and ``<!-- end -->`` is the body of
the ``## SECTION`` of the Markdown report ``REPORT`` (a path relative to the page), copied by
``isdarts readme`` and checked by ``isdarts readme --check`` (the tests run it on the
repository's pages, so a regenerated report with a stale page fails them).

``<!-- from REPORT#SECTION | rows: A; B -->`` copies only the section's first table: its header
and the rows whose first cell, bold marks removed, starts with ``A`` or ``B``. Relative links
in a copied body are rewritten to point from the page to the same file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from isdarts._io import write_text_atomic
from isdarts.errors import IsdartsError

BLOCK = re.compile(
    r"(<!-- from (?P<report>[^#\s]+)#(?P<section>[^>]+?) -->\n)(?P<body>.*?)(<!-- end -->)",
    re.DOTALL,
)
# A Markdown link or image target that is a relative path (not a URL, an anchor or absolute).
LINK = re.compile(r"(\]\()(?![a-z][a-z0-9+.-]*:|#|/)([^)\s#]+)(#[^)\s]*)?(\))")


def section(report: Path, title: str) -> str:
    """The body of ``## title`` in ``report``: the lines after the heading up to the next
    heading of any level (a sub-section's figures have paths relative to the report), blank
    lines at either end dropped."""
    try:
        lines = report.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise IsdartsError(f"{report}: no such report") from None
    heading = f"## {title}"
    if heading not in lines:
        raise IsdartsError(f"{report}: no section '{heading}'")
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"#{1,6} ", lines[i])), len(lines))
    body = "\n".join(lines[start:end]).strip("\n")
    return body + "\n"


def table_rows(body: str, prefixes: list[str], where: str) -> str:
    """The first table of ``body``: header, separator, and the rows whose first cell (without
    ``*``) starts with one of ``prefixes``, in the table's order."""
    lines = body.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if first is None:
        raise IsdartsError(f"{where}: no table")
    end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    header, rows = lines[first : first + 2], lines[first + 2 : end]

    def label(row: str) -> str:
        return row.strip("|").split("|")[0].replace("*", "").strip()

    for p in prefixes:
        if not any(label(r).startswith(p) for r in rows):
            raise IsdartsError(f"{where}: no table row starting with '{p}'")
    kept = [r for r in rows if any(label(r).startswith(p) for p in prefixes)]
    return "\n".join(header + kept) + "\n"


def rebase_links(body: str, report: Path, page: Path) -> str:
    """``body``'s relative link targets (relative to ``report``) made relative to ``page``."""

    def fix(m: re.Match) -> str:
        target = Path(os.path.relpath(report.parent / m[2], page.parent)).as_posix()
        slash = "/" if m[2].endswith("/") and not target.endswith("/") else ""
        return m[1] + target + slash + (m[3] or "") + m[4]

    return LINK.sub(fix, body)


def block_body(page: Path, report_name: str, spec: str) -> str:
    """What the block ``<!-- from report_name#spec -->`` of ``page`` should hold."""
    title, _, options = (s.strip() for s in spec.partition("|"))
    report = page.parent / report_name
    body = section(report, title)
    if options:
        key, _, value = (s.strip() for s in options.partition(":"))
        if key != "rows" or not value:
            raise IsdartsError(f"{page}: block option '{options}' (expected 'rows: A; B')")
        prefixes = [p.strip() for p in value.split(";") if p.strip()]
        body = table_rows(body, prefixes, f"{report_name}#{title}")
    return rebase_links(body, report, page)


def synced(readme: Path) -> tuple[str, list[str]]:
    """The page's text with every block filled from its report; the blocks that changed."""
    text = readme.read_text(encoding="utf-8")
    changed: list[str] = []

    def fill(m: re.Match) -> str:
        where = f"{m['report']}#{m['section']}"
        body = block_body(readme, m["report"], m["section"])
        if body != m["body"]:
            changed.append(where)
        return m.group(1) + body + m.group(5)

    new = BLOCK.sub(fill, text)
    if not BLOCK.search(text):
        raise IsdartsError(f"{readme}: no block '<!-- from REPORT#SECTION -->' ... '<!-- end -->'")
    return new, changed


def sync_readme(readme: str | os.PathLike, check: bool = False) -> list[str]:
    """Fill (or, ``check``, only compare) the page's generated blocks; the stale ones."""
    readme = Path(readme)
    new, changed = synced(readme)
    if changed and not check:
        write_text_atomic(readme, new)
    return changed
