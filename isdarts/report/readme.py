"""Numbers in the repository's README come from the committed reports, never by hand: each
block between ``<!-- from REPORT#SECTION -->`` and ``<!-- end -->`` is the body of the
``## SECTION`` of the Markdown report ``REPORT`` (a path relative to the README), copied by
``isdarts readme`` and checked by ``isdarts readme --check`` (the tests run it on the
repository's README, so a regenerated report with a stale README fails them).
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


def synced(readme: Path) -> tuple[str, list[str]]:
    """The README's text with every block filled from its report; the blocks that changed."""
    text = readme.read_text(encoding="utf-8")
    changed: list[str] = []

    def fill(m: re.Match) -> str:
        where = f"{m['report']}#{m['section']}"
        body = section(readme.parent / m["report"], m["section"].strip())
        if body != m["body"]:
            changed.append(where)
        return m.group(1) + body + m.group(5)

    new = BLOCK.sub(fill, text)
    if not BLOCK.search(text):
        raise IsdartsError(f"{readme}: no block '<!-- from REPORT#SECTION -->' ... '<!-- end -->'")
    return new, changed


def sync_readme(readme: str | os.PathLike, check: bool = False) -> list[str]:
    """Fill (or, ``check``, only compare) the README's generated blocks; the stale ones."""
    readme = Path(readme)
    new, changed = synced(readme)
    if changed and not check:
        write_text_atomic(readme, new)
    return changed
