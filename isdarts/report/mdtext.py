"""Text shared by the reports and figures: method labels, numbers, mean ± std, tables, inline
code, embedded images, and writing a rendered report atomically."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

from isdarts._io import write_text_atomic
from isdarts.config.methods import METHOD_LABELS
from isdarts.data.sources import source_label
from isdarts.errors import IsdartsError
from isdarts.report import numbers
from isdarts.report.numbers import fixed
from isdarts.report.tables import read_tables


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def device_label(device) -> str:
    """A run's device as the reports show it ("1 threads" of results written before fixed)."""
    return str(device).replace(" 1 threads", " 1 thread")


def data_source_label(source):
    """A run's data source as the tables and reports show it: its label without a path of the
    machine (:func:`isdarts.data.sources.source_label`, also for tables written before); a
    missing one stays missing."""
    if source is None or (isinstance(source, float) and math.isnan(source)):
        return source
    return source_label(str(source))


def num(x, places: int = 2) -> str:
    """A number as every report writes it (:func:`isdarts.report.numbers.fixed`)."""
    return fixed(x, places)


def pm(mean, std) -> str:
    """Mean ± std; "±–" where there is no std (:func:`isdarts.report.numbers.pm`)."""
    return numbers.pm(mean, std)


def signed(x) -> str:
    return fixed(x, sign=True)


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def code(text: str) -> str:
    """Inline code inside a table cell: pipes escaped (GitHub tables split cells on them)."""
    return "`" + str(text).replace("|", "\\|") + "`"


def minutes(seconds: float) -> str:
    return f"{fixed(seconds / 60, 1)} min" if seconds >= 60 else f"{fixed(seconds, 0)} s"


def images(paths: list[Path], out: Path, title: Callable[[Path], str]) -> list[str]:
    """One ``###`` section per PNG, linked relative to the report file ``out``."""
    lines: list[str] = []
    for png in paths:
        rel = os.path.relpath(Path(png).resolve(), out.parent.resolve())
        lines += [f"### {title(Path(png))}", "", f"![{title(Path(png))}]({rel})", ""]
    return lines


def check_figures(pngs) -> None:
    """Each figure the report shows is a file (else the report would link to nothing)."""
    for png in pngs:
        if not Path(png).is_file():
            raise IsdartsError(f"{png}: no such figure (expected a PNG file the report shows)")


def write_rendered(
    render: Callable,
    runs_csv,
    summary_csv,
    published,
    pngs,
    out,
    space: str,
) -> Path:
    """Read the runs and summary CSVs of ``space`` (checked: :func:`tables.read_tables`), render
    the report and write it atomically to ``out``."""
    out = Path(out)
    runs, summary = read_tables(runs_csv, summary_csv, space)
    check_figures(pngs)
    return write_text_atomic(out, render(runs, summary, published, [Path(p) for p in pngs], out))
