"""The NAS-Bench-201 table for a paper, from ``summary.csv``: ``summary_wide.csv`` (one row per
row of the report's table, the six benchmark columns as "mean ± std" text) and ``table.tex``
(a booktabs tabular of the same rows, to paste into a paper).

The rows are those of the report's table (:mod:`isdarts.report.markdown`): every published row
of the space and search data set in the order of ``config/published.yaml``, each of our
methods right below the published row it reproduces, ours without one at the end. Numbers are
rounded to two decimals as in the report; the summary holds them to four.
"""

from __future__ import annotations

import html
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from isdarts._io import atomic_write
from isdarts.bench import COLUMNS
from isdarts.report.criteria import Criteria, load_criteria
from isdarts.report.mdtext import method_label
from isdarts.report.published import PublishedRow, interleave
from isdarts.report.tables import TABLES, check_summary_rows, read_csv
from isdarts.report.verdict import verdict_lines

SPACE = "nb201"
# The benchmark's data sets as the paper's table heads them, each with a valid and a test column.
GROUPS = (("CIFAR-10", COLUMNS[0:2]), ("CIFAR-100", COLUMNS[2:4]), ("ImageNet16-120", COLUMNS[4:6]))
WIDE_COLUMNS = ["dataset", "kind", "method", "n", "seeds", *COLUMNS]


@dataclass(frozen=True)
class TableRow:
    """One row of the table: a published one (``n`` and ``seeds`` None) or one of ours."""

    dataset: str
    kind: str  # "published" or "this harness"
    method: str
    n: int | None
    seeds: str | None
    values: dict[str, tuple[float, float | None]]  # column -> (mean, std or None)


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def mean_std(mean: float, std: float | None, pm: str = " ± ") -> str:
    """``"89.62 ± 0.24"``; the mean alone where there is no std (one seed, or none published)."""
    return f"{mean:.2f}" if _missing(std) else f"{mean:.2f}{pm}{std:.2f}"


def read_summary(path: str | os.PathLike) -> pd.DataFrame:
    """The NAS-Bench-201 ``summary.csv``, checked (:mod:`isdarts.report.tables`): its schema and
    one row per method, data set and benchmark column."""
    _, schema, keys, per_group = TABLES[SPACE]
    summary = read_csv(path, schema)
    check_summary_rows(summary, keys, per_group, str(path))
    return summary


def _ours(summary: pd.DataFrame, method: str, dataset: str) -> TableRow:
    by = summary[(summary.method == method) & (summary.dataset == dataset)].set_index("metric")
    std = {c: None if _missing(by.at[c, "std"]) else float(by.at[c, "std"]) for c in COLUMNS}
    return TableRow(
        dataset=dataset,
        kind="this harness",
        method=f"{method_label(method)}, this harness",
        n=int(by["n"].iloc[0]),
        seeds=str(by["seeds"].iloc[0]),
        values={c: (float(by.at[c, "mean"]), std[c]) for c in COLUMNS},
    )


def table_rows(summary: pd.DataFrame, published: list[PublishedRow]) -> list[TableRow]:
    """The rows of the report's table, per search data set in the summary's order."""
    summary = summary[summary.space == SPACE]
    rows: list[TableRow] = []
    for dataset, part in summary.groupby("dataset", sort=False):
        ours = list(dict.fromkeys(part["method"]))
        for item in interleave(published, SPACE, str(dataset), ours):
            if isinstance(item, str):
                rows.append(_ours(part, item, str(dataset)))
                continue
            std = item.std or {}
            values = {c: (item.mean[c], std.get(c)) for c in COLUMNS}
            rows.append(TableRow(str(dataset), "published", item.method, None, None, values))
    return rows


def wide_table(rows: list[TableRow]) -> pd.DataFrame:
    records = [
        {
            "dataset": r.dataset,
            "kind": r.kind,
            "method": r.method,
            "n": r.n,
            "seeds": r.seeds,
            **{c: mean_std(*r.values[c]) for c in COLUMNS},
        }
        for r in rows
    ]
    return pd.DataFrame(records, columns=WIDE_COLUMNS).astype({"n": "Int64"})


TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters written as text."""
    return "".join(TEX_SPECIAL.get(ch, ch) for ch in str(text))


def _tex_row(row: TableRow) -> str:
    ours = row.kind != "published"
    name = tex_escape(row.method + (f" ({row.n} seed{'s' * (row.n != 1)})" if ours else ""))
    cells = [name, *(mean_std(*row.values[c], pm=r"$\pm$") for c in COLUMNS)]
    if ours:
        cells = [rf"\textbf{{{c}}}" for c in cells]
    return " & ".join(cells) + r" \\"


def tex_table(rows: list[TableRow]) -> str:
    """One booktabs tabular per search data set (needs ``\\usepackage{booktabs}``)."""
    blocks = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        head = " & ".join(rf"\multicolumn{{2}}{{c}}{{{tex_escape(g)}}}" for g, _ in GROUPS)
        lines = [
            f"% NAS-Bench-201, search on {dataset}: accuracy (%), mean $\\pm$ std over seeds;",
            "% rows in bold: this harness. Written by isdarts from summary.csv; needs booktabs.",
            r"\begin{tabular}{l" + "c" * len(COLUMNS) + "}",
            r"\toprule",
            rf" & {head} \\",
            r"\cmidrule(lr){2-3} \cmidrule(lr){4-5} \cmidrule(lr){6-7}",
            r"Method & " + " & ".join(["Valid", "Test"] * len(GROUPS)) + r" \\",
            r"\midrule",
            *(_tex_row(r) for r in rows if r.dataset == dataset),
            r"\bottomrule",
            r"\end{tabular}",
        ]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def html_page(rows: list[TableRow], verdict: list[str], title: str) -> str:
    """A standalone HTML page (the Snakemake report shows it inline): the verdict, then the
    table of ``rows`` per search data set, ours in bold."""
    body = [f"<h1>{html.escape(title)}</h1>", "<h2>Verdict</h2>", "<ul>"]
    for line in verdict:
        text = html.escape(line.removeprefix("- "))
        text = re.sub(r"\*\*\*(.+?)\*\*\*", r"<b><i>\1</i></b>", text)
        text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
        body.append("<li>" + re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text) + "</li>")
    body.append("</ul>")
    for dataset in dict.fromkeys(r.dataset for r in rows):
        body += [
            f"<h2>NAS-Bench-201, search on {html.escape(dataset)}</h2>",
            "<table>",
            "<tr><th rowspan=2>Method</th>"
            + "".join(f"<th colspan=2>{html.escape(g)}</th>" for g, _ in GROUPS)
            + "</tr>",
            "<tr>" + "<th>valid</th><th>test</th>" * len(GROUPS) + "</tr>",
        ]
        for r in (r for r in rows if r.dataset == dataset):
            ours = r.kind != "published"
            name = r.method + (f" ({r.n} seed{'s' * (r.n != 1)}: {r.seeds})" if ours else "")
            cells = [html.escape(name), *(html.escape(mean_std(*r.values[c])) for c in COLUMNS)]
            tag = ' class="ours"' if ours else ""
            body.append(f"<tr{tag}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        body.append("</table>")
    style = (
        "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child{text-align:left}tr.ours{font-weight:bold;background:#eef4ff}"
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n<p>Accuracy in %, mean ± std over seeds; published rows as printed in their sources"
        " (config/published.yaml).</p>\n</body></html>\n"
    )


def write_exports(
    summary_csv: str | os.PathLike,
    published: list[PublishedRow],
    wide: str | os.PathLike | None = None,
    tex: str | os.PathLike | None = None,
    page: str | os.PathLike | None = None,
    runs: pd.DataFrame | None = None,
    criteria: Criteria | None = None,
) -> list[Path]:
    """Read ``summary_csv`` (checked) and write the wide CSV, the LaTeX table and the HTML
    page (with the verdict from ``runs``) atomically; each may be None. Returns the paths
    written."""
    rows = table_rows(read_summary(summary_csv), published)
    written = []
    if wide is not None:
        df = wide_table(rows)
        written.append(atomic_write(wide, lambda p: df.to_csv(p, index=False, encoding="utf-8")))
    if tex is not None:
        text = tex_table(rows)
        written.append(atomic_write(tex, lambda p: p.write_text(text, encoding="utf-8")))
    if page is not None:
        profile = "" if runs is None else f", `{runs['profile'].iloc[0]}` run profile"
        verdict = (
            [] if runs is None else verdict_lines(runs, published, criteria or load_criteria())
        )
        doc = html_page(rows, verdict, f"NAS-Bench-201 reproduction{profile}".replace("`", ""))
        written.append(atomic_write(page, lambda p: p.write_text(doc, encoding="utf-8")))
    return written
