"""Small Markdown formatters shared by the reports: numbers, mean ± std, tables, inline code."""

from __future__ import annotations

import math


def num(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def pm(mean, std) -> str:
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return num(mean)
    return f"{mean:.2f}±{std:.2f}"


def signed(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.2f}"


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def code(text: str) -> str:
    """Inline code inside a table cell: pipes escaped (GitHub tables split cells on them)."""
    return "`" + str(text).replace("|", "\\|") + "`"


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
