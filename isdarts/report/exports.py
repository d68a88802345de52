"""The NAS-Bench-201 table for a paper, from the runs and ``summary.csv``: ``summary_wide.csv``
(one row per row of the report's table, the six benchmark columns as "mean ± std" text),
``table.tex`` (a booktabs table with its caption, to paste into a paper) and ``table.html`` (the
verdict, the setup against the paper and the table: the Snakemake report's page).

The rows are those of the report's table (:mod:`isdarts.report.markdown`): every published row
of the space and search data set in the order of ``config/published.yaml``, each of our
methods right below the published row it reproduces, ours without one at the end; in
``table.tex`` grouped instead (reference rows, published methods, ours last). Our rows name
the run profile and its scale. Numbers are written by :mod:`isdarts.report.numbers` from the
statistics of the runs at full precision.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from isdarts._io import atomic_write
from isdarts.bench import COLUMNS
from isdarts.report.aggregate import summary_table
from isdarts.report.criteria import Criteria, load_criteria
from isdarts.report.mdtext import method_label
from isdarts.report.numbers import fixed, missing, whole
from isdarts.report.published import PublishedRow, interleave
from isdarts.report.setup import (
    TRAIN_IMAGES,
    epochs_of,
    label_scale,
    paper_settings,
    scale_of,
    setup_rows,
)
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
    kind: str  # "published", "reference" (a published row of one network) or "this harness"
    method: str
    n: int | None
    seeds: str | None
    values: dict[str, tuple[float, float | None]]  # column -> (mean, std or None)
    scale: str = ""  # ours: the profile and its scale ("cpu: C=8, N=5, 2,000 images, ...")
    name: str = ""  # ours: the method's name

    @property
    def ours(self) -> bool:
        return self.kind == "this harness"

    @property
    def label(self) -> str:
        """The row's name: ours with the profile, its scale and the seeds."""
        if not self.ours:
            return self.method
        seeds = f"{self.n} seed{'s' * (self.n != 1)}"
        return (
            f"{self.method} ({self.scale}; {seeds})" if self.scale else f"{self.method} ({seeds})"
        )

    def cell(self, column: str, pm: str = " ± ", none: str = "–") -> str:
        """Mean ± std; the mean alone in a reference row; ``none`` where there is no std."""
        mean, std = self.values[column]
        return mean_std(mean, std, pm, alone=self.kind == "reference", none=none)


def mean_std(
    mean: float, std: float | None, pm: str = " ± ", alone: bool = False, none: str = "–"
) -> str:
    """``"89.62 ± 0.24"``, ``"89.62 ± –"`` where there is no std (one seed, none published),
    or (``alone``) the mean alone."""
    if alone:
        return fixed(mean)
    return f"{fixed(mean)}{pm}{none if missing(std) else fixed(std)}"


def read_summary(path: str | os.PathLike) -> pd.DataFrame:
    """The NAS-Bench-201 ``summary.csv``, checked (:mod:`isdarts.report.tables`): its schema and
    one row per method, data set and benchmark column."""
    _, schema, keys, per_group = TABLES[SPACE]
    summary = read_csv(path, schema)
    check_summary_rows(summary, keys, per_group, str(path))
    return summary


def _ours(summary: pd.DataFrame, method: str, dataset: str, scale: str) -> TableRow:
    by = summary[(summary.method == method) & (summary.dataset == dataset)].set_index("metric")
    std = {c: None if missing(by.at[c, "std"]) else float(by.at[c, "std"]) for c in COLUMNS}
    return TableRow(
        dataset=dataset,
        kind="this harness",
        method=f"{method_label(method)}, this harness",
        n=int(by["n"].iloc[0]),
        seeds=str(by["seeds"].iloc[0]),
        values={c: (float(by.at[c, "mean"]), std[c]) for c in COLUMNS},
        scale=scale,
        name=method,
    )


def table_rows(
    summary: pd.DataFrame, published: list[PublishedRow], runs: pd.DataFrame | None = None
) -> list[TableRow]:
    """The rows of the report's table, per search data set in the summary's order; with the
    runs, our statistics from them at full precision and our rows with their scale."""
    if runs is not None:
        summary = summary_table(runs, published)
    summary = summary[summary.space == SPACE]
    rows: list[TableRow] = []
    for dataset, part in summary.groupby("dataset", sort=False):
        ours = list(dict.fromkeys(part["method"]))
        for item in interleave(published, SPACE, str(dataset), ours):
            if isinstance(item, str):
                scale = "" if runs is None else label_scale(runs[runs.method == item], item)
                rows.append(_ours(part, item, str(dataset), scale))
                continue
            std = item.std or {}
            values = {c: (item.mean[c], std.get(c)) for c in COLUMNS}
            kind = "reference" if item.ours is None and item.std is None else "published"
            rows.append(TableRow(str(dataset), kind, item.method, None, None, values))
    return rows


def wide_table(rows: list[TableRow]) -> pd.DataFrame:
    records = [
        {
            "dataset": r.dataset,
            "kind": "published" if r.kind == "reference" else r.kind,
            "method": r.label if r.ours else r.method,
            "n": r.n,
            "seeds": r.seeds,
            **{c: r.cell(c) for c in COLUMNS},
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


TEX_PM = r"$\pm$"


def _tex_row(row: TableRow) -> str:
    if not row.ours:
        return (
            " & ".join([tex_escape(row.method), *(row.cell(c, TEX_PM, "--") for c in COLUMNS)])
            + r" \\"
        )
    profile = row.scale.partition(":")[0]
    name = tex_escape(f"{row.method} (") + rf"\texttt{{{tex_escape(profile)}}}"
    name += tex_escape(f", {row.n} seed{'s' * (row.n != 1)})")
    # \boldmath: the ± and the numbers of a bold row bold too
    cells = [rf"\textbf{{{name}}}"]
    cells += [rf"\textbf{{\boldmath {row.cell(c, TEX_PM, '--')}}}" for c in COLUMNS]
    return " & ".join(cells) + r" \\"


def tex_caption(rows: list[TableRow], dataset: str, runs: pd.DataFrame | None) -> str:
    """The caption: what the table holds, and our rows' scale against the paper's."""
    name = dict(GROUPS_BY_DATASET).get(dataset, dataset)
    text = (
        f"NAS-Bench-201, search on {name}: accuracy (\\%) of the found cells as the benchmark "
        "trained them (200 epochs). Published rows as printed in their sources ($\\pm$-- where "
        "a source gives no std)"
    )
    ours = [r for r in rows if r.ours and r.dataset == dataset]
    if not ours or runs is None:
        return text + "."
    scale, paper = scale_of(runs), paper_settings()
    epochs = ", ".join(
        f"{method_label(r.name)} {epochs_of(runs, r.name)}" for r in ours if epochs_of(runs, r.name)
    )
    paper_epochs = ", ".join(f"{method_label(r.name)} {_paper_epochs(r.name, paper)}" for r in ours)
    words = scale.words()
    text += (
        f"; in bold this harness, mean $\\pm$ std over seeds, its searches at the reduced run "
        f"profile \\texttt{{{tex_escape(scale.profile)}}}"
    )
    if words:
        text += (
            f" ({tex_escape(words)}; epochs: {tex_escape(epochs)}) against the paper's "
            f"C={paper['channels']}, N={paper['cells_per_stage']}, "
            f"{whole(TRAIN_IMAGES.get(dataset))} images (epochs: "
            f"{tex_escape(paper_epochs)})"
        )
    if scale.smoke:
        text = "SMOKE RUN, NOT A RESULT: its numbers check the pipeline only. " + text
    return text + "."


def _paper_epochs(method: str, paper: dict) -> str:
    from isdarts.report.setup import method_epochs

    value = method_epochs(method, paper)
    return "?" if value is None else str(value)


GROUPS_BY_DATASET = (
    ("cifar10", "CIFAR-10"),
    ("cifar100", "CIFAR-100"),
    ("ImageNet16-120", "ImageNet16-120"),
)


def tex_table(rows: list[TableRow], runs: pd.DataFrame | None = None) -> str:
    """One booktabs ``table`` per search data set: a caption with our scale, the reference
    rows, the published methods and ours (bold, last), each group after a ``\\midrule``;
    scaled to the column width (needs ``booktabs`` and ``graphicx``)."""
    profile = "" if runs is None else str(runs["profile"].iloc[0])
    blocks = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        part = [r for r in rows if r.dataset == dataset]
        groups = [
            [r for r in part if r.kind == "reference"],
            [r for r in part if r.kind == "published"],
            [r for r in part if r.ours],
        ]
        head = " & ".join(rf"\multicolumn{{2}}{{c}}{{{tex_escape(g)}}}" for g, _ in GROUPS)
        body: list[str] = []
        for group in (g for g in groups if g):
            body += [r"\midrule", *(_tex_row(r) for r in group)]
        label = re.sub(r"[^A-Za-z0-9-]+", "-", f"nb201-{dataset}-{profile}".strip("-")).lower()
        smoke = runs is not None and scale_of(runs).smoke
        lines = [
            f"% NAS-Bench-201, search on {dataset}. Written by isdarts from runs.csv and",
            "% summary.csv; do not edit by hand. Needs \\usepackage{booktabs} and \\usepackage{graphicx}.",
            "% As written: one column of a two-column paper (scaled to \\columnwidth). Across both",
            "% columns: write table* for table and \\textwidth for \\columnwidth.",
            *(
                ["% SMOKE RUN, NOT A RESULT: these numbers check the pipeline only."]
                if smoke
                else []
            ),
            r"\begin{table}[t]",
            r"\centering",
            rf"\caption{{{tex_caption(rows, dataset, runs)}}}",
            rf"\label{{tab:{label}}}",
            r"\resizebox{\columnwidth}{!}{%",
            r"\begin{tabular}{l" + "c" * len(COLUMNS) + "}",
            r"\toprule",
            rf" & {head} \\",
            r"\cmidrule(lr){2-3} \cmidrule(lr){4-5} \cmidrule(lr){6-7}",
            r"Method & " + " & ".join(["Valid", "Test"] * len(GROUPS)) + r" \\",
            *body,
            r"\bottomrule",
            r"\end{tabular}}",
            r"\end{table}",
        ]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def html_page(
    rows: list[TableRow],
    verdict: list[str],
    title: str,
    runs: pd.DataFrame | None = None,
) -> str:
    """A standalone HTML page (the Snakemake report shows it inline): a smoke run's banner,
    the verdict, the setup against the paper, then the table of ``rows`` per search data set,
    ours in bold with their scale; no number wraps."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    smoke = runs is not None and scale_of(runs).smoke
    if smoke:
        body.append(
            '<p class="smoke"><b>Smoke run: not a result.</b> This profile checks that the '
            "workflow runs end to end; its accuracies say nothing about the paper, so there is "
            "no verdict. For a result run the default workflow (<code>make reproduce</code>).</p>"
        )
    body.append("<h2>Verdict</h2>")
    if smoke:
        body.append("<p>None: a smoke run checks the workflow, not the paper.</p>")
    else:
        body.append("<ul>")
        for line in verdict:
            text = html.escape(line.removeprefix("- "))
            text = re.sub(r"\*\*\*(.+?)\*\*\*", r"<b><i>\1</i></b>", text)
            text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
            body.append("<li>" + re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text) + "</li>")
        body.append("</ul>")
    if runs is not None:
        profile = html.escape(str(runs["profile"].iloc[0]))
        body += [
            "<h2>Setup against the paper</h2>",
            "<p>What these searches ran at, as each run recorded it, against the paper's search. "
            "The benchmark trained every found cell for 200 epochs at full size: the accuracies "
            "are comparable, the searches are not.</p>",
            "<table>",
            f"<tr><th>Setting</th><th>this report ({profile})</th><th>paper</th></tr>",
            *(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in setup_rows(runs)
            ),
            "</table>",
        ]
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
            name = f"{r.label[:-1]}: {', '.join(str(r.seeds).split())})" if r.ours else r.label
            cells = [html.escape(name), *(html.escape(r.cell(c)) for c in COLUMNS)]
            tag = ' class="ours"' if r.ours else ""
            body.append(f"<tr{tag}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        body.append("</table>")
    style = (
        "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}"
        "td:first-child{text-align:left;white-space:normal}"
        "tr.ours{font-weight:bold;background:#eef4ff}"
        "p.smoke{border:2px solid #c00;background:#fee;padding:6px}"
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n<p>Accuracy in %, mean ± std over seeds (± – where there is no std: one seed, or "
        "none published); published rows as printed in their sources "
        "(config/published.yaml).</p>\n</body></html>\n"
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
    rows = table_rows(read_summary(summary_csv), published, runs)
    written = []
    if wide is not None:
        df = wide_table(rows)
        written.append(atomic_write(wide, lambda p: df.to_csv(p, index=False, encoding="utf-8")))
    if tex is not None:
        text = tex_table(rows, runs)
        written.append(atomic_write(tex, lambda p: p.write_text(text, encoding="utf-8")))
    if page is not None:
        title = "NAS-Bench-201 reproduction"
        if runs is not None:
            scale = scale_of(runs)
            words = scale.words()
            title += f" at the {scale.profile} run profile" + (f" ({words})" if words else "")
        verdict = (
            [] if runs is None else verdict_lines(runs, published, criteria or load_criteria())
        )
        doc = html_page(rows, verdict, title, runs)
        written.append(atomic_write(page, lambda p: p.write_text(doc, encoding="utf-8")))
    return written
