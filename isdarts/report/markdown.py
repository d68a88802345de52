"""``reports/<profile>/README.md``: the NAS-Bench-201 table in the paper's format with our rows
(mean +- std over seeds) next to the published ones, the differences, the runs behind them and
the figures. Generated; not to be edited by hand.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from collections import Counter
from importlib import metadata
from pathlib import Path

import pandas as pd

from isdarts.bench import COLUMNS
from isdarts.bench.evidence import RANK_KEYS, TEST_COLUMN
from isdarts.report.aggregate import summary_table
from isdarts.report.criteria import Criteria, provenance
from isdarts.report.mdtext import (
    data_source_label,
    device_label,
    images,
    md_table,
    method_label,
    minutes,
    num,
    pm,
    signed,
    write_rendered,
)
from isdarts.report.numbers import whole
from isdarts.report.published import PublishedRow, interleave
from isdarts.report.setup import Scale, label_scale, renamed_from, scale_of, setup_rows
from isdarts.report.verdict import definitions, verdict_lines

HEADERS = ("C10 val", "C10 test", "C100 val", "C100 test", "IN16 val", "IN16 test")
FIGURE_TITLES = {
    "accuracy": "Final accuracy per seed, and the current cell's test accuracy per epoch",
    "ops": "Ops in the current cell and candidates left, per epoch",
    "importance": "Importance scores per edge at each shrink step",
    "alphas": "Architecture weights (softmax) per edge and op, per epoch",
}
# The ops of a cell, shortened for the runs table's op counts.
SHORT_OPS = {
    "nor_conv_3x3": "conv3",
    "nor_conv_1x1": "conv1",
    "skip_connect": "skip",
    "avg_pool_3x3": "pool",
    "none": "none",
}


def ours_label(runs: pd.DataFrame, method: str, n: int) -> str:
    """Our row's name with its scale: ``IS-DARTS, this harness`` (bold) and
    ``(`cpu`: C=8, N=5, 2,000 images, 14 epochs; 3 seeds)``."""
    scale = label_scale(runs[runs["method"] == method], method)
    profile, _, words = scale.partition(": ")
    where = f"`{profile}`: {words}" if words else f"`{profile}`"
    return f"**{method_label(method)}, this harness** ({where}; {n} seed{'s' if n != 1 else ''})"


def _ours_row(runs: pd.DataFrame, summary: pd.DataFrame, space: str, method: str, dataset: str):
    part = summary[
        (summary.space == space) & (summary.method == method) & (summary.dataset == dataset)
    ]
    by = part.set_index("metric")
    n = int(by["n"].iloc[0])
    cells = [f"**{pm(by.at[c, 'mean'], by.at[c, 'std'])}**" for c in COLUMNS]
    return [ours_label(runs, method, n), *cells]


def published_cells(row: PublishedRow) -> list[str]:
    """A published row's cells: mean ± std for a method's row ("±–" where its source gives no
    std), the mean alone for a reference row (the optimum, ResNet: one network)."""
    if row.ours is None and row.std is None:
        return [num(row.mean[c]) for c in COLUMNS]
    return [pm(row.mean[c], row.std[c] if row.std else None) for c in COLUMNS]


def smoke_banner(scale: Scale) -> list[str]:
    """The banner of a smoke run's outputs: what it is for, and that it is no result."""
    words = scale.words()
    return [
        f"> **Smoke run: not a result.** The `{scale.profile}` profile"
        + (f" ({words})" if words else "")
        + " checks that the workflow runs end to end in a minute or two; its accuracies say",
        "> nothing about the paper, so this report gives no verdict. For a result run the default",
        "> workflow (`make reproduce`, the `cpu` profile).",
        "",
    ]


def setup_section(runs: pd.DataFrame) -> list[str]:
    """The scale of these runs against the paper's, from the settings the runs recorded."""
    scale = scale_of(runs)
    lines = [
        "## Setup against the paper",
        "",
        f"What these searches ran at (run profile `{scale.profile}`, as each run's `result.json`"
        " recorded it) against the paper's NAS-Bench-201 search (the IS-DARTS paper; each"
        " baseline at its own paper's or released code's epochs). Every cell found is then"
        " looked up in the benchmark, which trained it for 200 epochs at full size: the"
        " accuracies are comparable, the searches that found the cells are not.",
        "",
    ]
    lines += md_table(["Setting", f"this report (`{scale.profile}`)", "paper"], setup_rows(runs))
    return [*lines, ""]


def render(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    published: list[PublishedRow],
    figures: list[Path],
    out: Path,
    *,
    criteria: Criteria,
    run_files: str | os.PathLike | None = None,
) -> str:
    # every statistic from the runs at full precision (the summary file: checked against them)
    summary = summary_table(runs, published)
    scale = scale_of(runs)
    profile = scale.profile
    words = scale.words()
    lines = [
        f"# NAS-Bench-201 reproduction at the `{profile}` run profile"
        + (f" ({words})" if words else ""),
        "",
        *(smoke_banner(scale) if scale.smoke else []),
        "Generated by `isdarts report` at the end of the Snakemake workflow; do not edit by hand.",
        "Each search's final cell is looked up in NAS-Bench-201 (200-epoch training, mean over the",
        "benchmark's seeds) on all three data sets; accuracy in %. Our rows (bold) are mean ± std",
        "(sample std over seeds) directly below the published row they reproduce; ±– where there",
        "is no std (one seed, or none published).",
        "",
    ]
    recorded = renamed_from(runs)
    if recorded:
        lines += [
            f"The runs' files record the profile as `{recorded}`, its name when they ran; it is",
            f"`{profile}` now. The settings below are those the runs recorded.",
            "",
        ]
    lines += ["## Verdict", ""]
    if scale.smoke:
        lines += [
            f"None: a `{profile}` run checks the workflow, not the paper (see the banner above).",
            "",
        ]
    else:
        lines += [
            f"Applied from the criteria in {provenance(criteria)}, stated before the runs they "
            "judge; means with their 95 % Student-t interval over seeds.",
            "",
            *verdict_lines(runs, published, criteria),
            "",
            f"({definitions(criteria)})",
            "",
        ]
    lines += setup_section(runs)
    lead = [Path(f) for f in figures if Path(f).stem == "accuracy"]
    lines += images(lead, out, lambda png: FIGURE_TITLES.get(png.stem, png.stem))
    devices = sorted({device_label(d) for d in runs["device"].dropna()})
    sources = sorted({data_source_label(s) for s in runs["data_source"].dropna()})
    wall = runs["wall_seconds"].astype(float)
    lines += [
        f"- Searches: {len(runs)} ({', '.join(f'{method_label(m)} × {len(g)}' for m, g in runs.groupby('method', sort=False))}),"
        f" seeds {', '.join(str(s) for s in sorted(runs['seed'].unique()))}.",
        f"- Machine: {'; '.join(devices) or 'not recorded'}; torch {', '.join(sorted({str(v) for v in runs['torch_version'].dropna()})) or '?'}.",
        f"- Search wall time: {minutes(wall.sum())} in all, {minutes(wall.max())} for the longest search.",
        f"- Data: {'; '.join(sources) or 'not recorded'}.",
        "",
    ]
    for (space, dataset), part in runs.groupby(["space", "dataset"], sort=False):
        lines += [f"## NAS-Bench-201, search on {dataset}", ""]
        rows: list[list[str]] = []
        ours_methods = list(dict.fromkeys(part["method"]))
        for item in interleave(published, space, dataset, ours_methods):
            if isinstance(item, str):
                rows.append(_ours_row(part, summary, space, item, dataset))
            else:
                rows.append([item.method, *published_cells(item)])
        lines += md_table(["Method", *HEADERS], rows) + [""]

        part_sum = summary[(summary.space == space) & (summary.dataset == dataset)]
        diff_rows = []
        for method in ours_methods:
            by = part_sum[part_sum.method == method].set_index("metric")
            pub = by["published_method"].iloc[0]
            if isinstance(pub, str) and pub:
                diff_rows.append(
                    [
                        f"ours − published: {method_label(method)}",
                        *(signed(by.at[c, "difference"]) for c in COLUMNS),
                    ]
                )
            diff_rows.append(
                [
                    f"optimum − ours: {method_label(method)}",
                    *(signed(by.at[c, "gap_to_optimum"]) for c in COLUMNS),
                ]
            )
        lines += ["Differences (percentage points):", ""]
        lines += md_table(["", *HEADERS], diff_rows) + [""]

    lines += found_cells(runs)
    lines += ["## Runs", ""]
    files = run_files_folder(out, run_files)
    if files is not None:
        rel = os.path.relpath(files.resolve(), out.parent.resolve())
        lines += [
            f"Each run's `result.json` and `log.jsonl` are in `{Path(rel).as_posix()}/<method>/"
            "<data set>/seed<seed>/` (linked in the last column).",
            "",
        ]
    lines += [
        "Evidence per run: *ops* = the cell's ops over its 6 edges (conv3 / conv1 = 3x3 / 1x1",
        "convolution, skip, pool = 3x3 average pooling, none), *rank* = the cell's rank among all",
        "15,625 cells of the benchmark on each data set's test accuracy (1 = best), *margins* = the",
        "winning op's softmax weight minus the runner-up's (minimum / median over the 6 edges;",
        "decided edges reach the criteria's margin), *travel* = mean distance of alpha from uniform,",
        "*gap* = the smallest relative score gap of IS-DARTS' shrink steps, *supernet* = the",
        "supernet's final training accuracy / accuracy on held-out images, *params* = the",
        "parameters of the cell's CIFAR-10 evaluation network in NAS-Bench-201 (not the supernet's).",
        "The cell strings and every value: `runs.csv`.",
        "",
    ]
    header = [
        "Method",
        "Seed",
        "Cell",
        "Ops",
        "Test acc.",
        "Rank of 15,625: C10 / C100 / IN16",
        "Margins min / med",
        "Decided edges",
        "Travel",
        "Gap",
        "Supernet train",
        "Supernet held-out",
        "Params (M), C10 network",
        "Wall time",
        "Run files",
    ]
    run_rows = [_run_row(r, out, criteria, files) for _, r in runs.iterrows()]
    lines += constant_columns(header, run_rows, keep=("Method", "Seed", "Cell", "Run files"))
    lines += [""]

    rest = [Path(f) for f in figures if Path(f) not in lead]
    if rest:
        lines += ["## Figures", ""]
        lines += images(rest, out, lambda png: FIGURE_TITLES.get(png.stem, png.stem))

    cited = [r for r in published if r.space in set(runs["space"])]
    lines += ["## Sources of the published rows", ""]
    lines += [f"- {r.method}: {r.source}" for r in cited]
    lines += ["", *environment_lines()]
    return "\n".join(lines) + "\n"


def constant_columns(
    header: list[str], rows: list[list[str]], keep: tuple[str, ...] = ()
) -> list[str]:
    """A table whose columns holding one value in every row (and not in ``keep``) are left
    out and named in one line above it instead (a table of one row is kept whole)."""
    same = [
        j
        for j, name in enumerate(header)
        if name not in keep and len(rows) > 1 and len({r[j] for r in rows}) == 1
    ]
    lines = []
    if same:
        facts = "; ".join(
            f"{header[j]} {'not recorded' if rows[0][j] == '–' else rows[0][j]}" for j in same
        )
        lines += [f"The same in every run: {facts}.", ""]
    cols = [j for j in range(len(header)) if j not in same]
    return lines + md_table([header[j] for j in cols], [[r[j] for j in cols] for r in rows])


def package_version(name: str) -> str:
    """An installed package's version from its metadata (torch is never imported here)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    """The commit of the checkout this package runs from, or "unknown" (an installed copy, no
    git, not a repository)."""
    root = Path(__file__).resolve().parents[2]
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    out = proc.stdout.split()
    # a copy installed under site-packages of a venv inside some repository is not that commit
    if proc.returncode != 0 or len(out) != 2 or Path(out[0]).resolve() != root:
        return "unknown"
    return out[1]


def environment_lines() -> list[str]:
    """The report step's package versions and git commit (the searches' torch is under
    "Machine")."""
    versions = [f"Python {platform.python_version()}"]
    versions += [f"{name} {package_version(name)}" for name in ("torch", "numpy", "pandas")]
    return [
        "## Environment",
        "",
        "Of the step that wrote this report (`isdarts report`); the searches' own torch version "
        "is under Machine above.",
        "",
        f"- Packages: {'; '.join(versions)}.",
        f"- Code: git commit {git_commit()}.",
    ]


def _params(run: pd.Series) -> str:
    """The found cell's parameters at the benchmark's CIFAR-10 size ("–" in runs tables
    written before the column existed)."""
    return _value(run, "params_m", 3)


def op_counts(arch: str) -> str:
    """``3 conv3, 2 conv1, 1 skip``: the cell's ops over its 6 edges, most frequent first."""
    ops = [part.split("~")[0] for part in str(arch).split("|") if "~" in part]
    counts = Counter(ops)
    order = sorted(
        counts, key=lambda op: (-counts[op], list(SHORT_OPS).index(op) if op in SHORT_OPS else 9)
    )
    return ", ".join(f"{counts[op]} {SHORT_OPS.get(op, op)}" for op in order)


def run_files_folder(out: Path, given: str | os.PathLike | None = None) -> Path | None:
    """Where the runs' ``result.json`` and ``log.jsonl`` lie: ``given`` (the report's
    ``--run-files`` or ``--linked-run-files``), else ``runs/`` beside the report if there."""
    if given is not None:
        return Path(given)
    here = Path(out).parent / "runs"
    return here if here.is_dir() else None


def found_cells(runs: pd.DataFrame) -> list[str]:
    """How often each method found each cell, most often first (the distribution of found
    cells over seeds), with the cell's test accuracy and rank on its search data set."""
    rows = []
    for (method, dataset), part in runs.groupby(["method", "dataset"], sort=False):
        n = len(part)
        counts = part.groupby("index", sort=False).agg(
            runs=("seed", "count"), seeds=("seed", lambda s: ", ".join(map(str, sorted(s))))
        )
        counts = counts.sort_values("runs", ascending=False, kind="stable")
        for index, c in counts.iterrows():
            first = part[part["index"] == index].iloc[0]
            rows.append(
                [
                    method_label(str(method)),
                    str(index),
                    f"{int(c['runs'])} of {n}",
                    str(c["seeds"]),
                    num(float(first[TEST_COLUMN[str(dataset)]])),
                    _rank(first, RANK_KEYS[str(dataset)]),
                    op_counts(first["arch"]),
                ]
            )
    return [
        "## Found cells",
        "",
        "How often each method's seeds found each cell (benchmark index), most often first; the",
        "cell's test accuracy and its rank among the benchmark's 15,625 cells (1 = best) on the",
        "search data set.",
        "",
        *md_table(["Method", "Cell", "Runs", "Seeds", "Test acc.", "Rank of 15,625", "Ops"], rows),
        "",
    ]


def _value(run: pd.Series, key: str, places: int = 2) -> str:
    """A runs-table value as text ("–": missing, as in tables written before the column)."""
    value = run.get(key)
    return "–" if value is None or pd.isna(value) else num(float(value), places)


def _rank(run: pd.Series, key: str) -> str:
    value = run.get(f"rank_{key}")
    return "–" if value is None or pd.isna(value) else whole(value)


def _run_row(r: pd.Series, out: Path, criteria: Criteria, files: Path | None) -> list[str]:
    """One run's row of the runs table: the cell, its accuracy and the evidence behind it."""
    folder = Path(str(r["method"])) / str(r["dataset"]) / f"seed{r['seed']}"
    link = "–"
    if files is not None and (files / folder).is_dir():
        rel = Path(os.path.relpath((files / folder).resolve(), out.parent.resolve())).as_posix()
        link = f"[files]({rel}/)"
    decided = criteria.decided_edges(r.get("margins"))
    ranks = [_rank(r, d) for d in ("c10", "c100", "in16")]
    return [
        method_label(r["method"]),
        str(r["seed"]),
        str(r["index"]),
        op_counts(r["arch"]),
        num(float(r[TEST_COLUMN[r["dataset"]]])),
        " / ".join(ranks),
        f"{_value(r, 'margin_min', 3)} / {_value(r, 'margin_median', 3)}",
        "–" if decided is None else f"{decided} of 6",
        _value(r, "travel_mean"),
        _value(r, "shrink_gap_min", 3),
        _value(r, "supernet_train_acc", 1),
        _value(r, "supernet_heldout_acc", 1),
        _params(r),
        minutes(float(r["wall_seconds"])),
        link,
    ]


def write_report(
    runs_csv,
    summary_csv,
    published: list[PublishedRow],
    figures,
    out,
    criteria: Criteria,
    run_files: str | os.PathLike | None = None,
) -> Path:
    render_with = functools.partial(render, criteria=criteria, run_files=run_files)
    return write_rendered(render_with, runs_csv, summary_csv, published, figures, out, "nb201")
