"""``reports/<profile>/darts/README.md``: a verdict written from the numbers (paired
differences between our cells, same seeds and budget), the grid of all cells, the DARTS-space
table with our cells (mean ± std over seeds, all trained under one reduced budget) beside the
published rows, the same-budget comparison seed by seed, the found cells (op counts; the full
genotypes folded away), the runs with their files, the cell diagrams, the sources and the
environment. Generated; not to be edited by hand.

Node numbers are the genotypes': inputs 0 (``c_{k-2}``) and 1 (``c_{k-1}``), intermediate
nodes 2..5 (the diagrams use them too).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from isdarts.bench import SURROGATE_LABEL
from isdarts.config.profiles import OriginalDartsSettings
from isdarts.report.darts import (
    BASELINE_CELL,
    cell_label,
    search_folder,
    summary_table,
    train_folder,
)
from isdarts.report.darts_inputs import SURROGATE_EPOCH, darts_settings
from isdarts.report.darts_shrink import markdown as shrink_markdown
from isdarts.report.markdown import environment_lines
from isdarts.report.mdtext import (
    check_figures,
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
from isdarts.report.published import PublishedRow
from isdarts.report.setup import SMOKE
from isdarts.report.tables import DARTS_RUNS, DARTS_SHRINK, read_csv
from isdarts.spaces.darts.names import parse_darts_text

GRID_TITLE = "All cells, found here and published (normal cell left, reduction cell right)"
SHORT_OPS = {
    "none": "none",
    "skip_connect": "skip",
    "sep_conv_3x3": "sep3",
    "sep_conv_5x5": "sep5",
    "dil_conv_3x3": "dil3",
    "dil_conv_5x5": "dil5",
    "avg_pool_3x3": "avg",
    "max_pool_3x3": "max",
}
# The comparisons the verdict makes, each (first, second): first minus second, same seeds.
VERDICT_PAIRS = (
    ("isdarts", "darts"),
    ("isdarts", "isdarts_published"),
    ("darts", "darts_v2"),
    ("isdarts_published", "darts_v2"),
)


def _budget(runs: pd.DataFrame) -> list[str]:
    """The reduced budgets in words (recorded by aggregation from each result's settings)."""
    profile = str(runs["profile"].iloc[0])
    lines = []
    paper_darts = darts_settings(dataclasses.asdict(OriginalDartsSettings()))
    for method, part in runs[runs.kind == "found"].groupby("cell", sort=False):
        for budget in dict.fromkeys(part["search_budget"].dropna()):
            if method == "darts":
                same = paper_darts in str(budget)
                paper = (
                    "Paper (Liu et al., ICLR 2019): C=16, 8 cells, 50 epochs, 25,000 images for "
                    "the weights and 25,000 for α, batch 64"
                    + (", the same settings otherwise." if same else f"; {paper_darts}.")
                )
            else:
                paper = "Paper: C=16, 8 cells, 50 epochs on 50,000 images."
            lines.append(
                f"- Search, {method_label(method)} (`darts-search-{profile}`): {budget}. {paper}"
            )
    for budget in dict.fromkeys(runs["train_budget"].dropna()):
        lines.append(
            f"- Final training (`darts-train-{profile}`, the same for every cell and seed): "
            f"{budget}. Paper: C=36, 20 cells, 600 epochs on 50,000 images."
        )
    return lines


def _cost(row: pd.Series) -> str:
    """Our search cost per search, its unit in the cell (CPU-h, or GPU-h on CUDA)."""
    if pd.isna(row["search_cost_hours_mean"]):
        return "–"
    return f"{num(row['search_cost_hours_mean'])} {row['search_cost_unit']}"


def op_counts(pairs) -> str:
    """A cell's ops, counted: ``4 skip, 2 dil5, ...`` (most frequent first)."""
    counts = Counter(op for op, _ in pairs)
    return ", ".join(f"{k} {SHORT_OPS.get(op, op)}" for op, k in counts.most_common())


def _seed_errors(runs: pd.DataFrame, cell: str) -> pd.Series:
    return runs[runs.cell == cell].set_index("seed")["test_error"].astype(float)


def paired_line(runs: pd.DataFrame, first: str, second: str) -> str | None:
    """One verdict bullet: ``first`` against ``second`` on the seeds both have (None if none):
    both means, the paired difference (first − second, mean ± std over seeds) and in how many
    seeds the first has the lower error."""
    a, b = _seed_errors(runs, first), _seed_errors(runs, second)
    seeds = sorted(set(a.index) & set(b.index))
    if not seeds:
        return None
    diff = a[seeds] - b[seeds]
    n, lower = len(seeds), int((diff < 0).sum())
    spread = f" ± {num(diff.std(ddof=1))}" if n > 1 else ""
    if lower == n:
        word = f"lower error in all {n} seeds" if n > 1 else "lower error (1 seed)"
    elif lower == 0 and (diff > 0).all():
        word = f"higher error in all {n} seeds" if n > 1 else "higher error (1 seed)"
    else:
        word = f"lower error in {lower} of {n} seeds: no consistent difference"
    return (
        f"- **{cell_label(first)}** vs **{cell_label(second)}**: {num(a[seeds].mean())} vs "
        f"{num(b[seeds].mean())} % test error, Δ = {signed(diff.mean())}{spread} points "
        f"(first − second, mean ± std over seeds {', '.join(str(k) for k in seeds)}); {word}."
    )


def verdict(runs: pd.DataFrame, summary: pd.DataFrame, published: list[PublishedRow]) -> list[str]:
    """The report's opening: paired comparisons of our cells, then how far the budget is from
    the published rows."""
    lines = ["## Verdict", ""]
    pairs = [paired_line(runs, a, b) for a, b in VERDICT_PAIRS]
    lines += [line for line in pairs if line] or [
        "- Fewer than two cells trained: nothing to compare."
    ]
    darts_rows = [r for r in published if r.space == "darts"]
    if darts_rows:
        best = min(r.mean["test_error"] for r in darts_rows)
        worst = max(r.mean["test_error"] for r in darts_rows)
        ours = summary["test_error_mean"].astype(float)
        lines.append(
            f"- At this reduced budget our cells reach {num(ours.min())}–{num(ours.max())} % "
            f"test error, the published rows {num(best)}–{num(worst)} % after 600 epochs at "
            "C=36 / 20 cells: the absolute errors are not comparable. Only the differences "
            "above compare like with like (cells trained under the same budget and seeds), and "
            "each rests on few seeds."
        )
    return [*lines, ""]


def budget_scope(runs: pd.DataFrame, summary: pd.DataFrame, published: list[PublishedRow]):
    """The report's opening: what a final training at this budget can and cannot show."""
    epochs = sorted({int(e) for e in runs["epochs"].dropna()})
    images = sorted({int(n) for n in runs["train_images"].dropna()})
    seeds = sorted({int(s) for s in runs["seed"]})
    ours = summary["test_error_mean"].astype(float)
    darts_rows = [r for r in published if r.space == "darts"]
    budget = (
        f"{' / '.join(map(str, epochs))} training epochs on {' / '.join(whole(n) for n in images)}"
        " images"
    )
    lines = [
        "## What this CPU budget can and cannot show",
        "",
        f"- **It cannot test the paper's DARTS-space numbers.** Every cell here is trained for "
        f"{budget} (the papers: 600 epochs on 50,000 images at C=36 with 20 cells); at that "
        f"budget our cells end at {num(ours.min())}–{num(ours.max())} % test error"
        + (
            f", the published rows at {num(min(r.mean['test_error'] for r in darts_rows))}–"
            f"{num(max(r.mean['test_error'] for r in darts_rows))} %"
            if darts_rows
            else ""
        )
        + ". An error this high says how fast a cell learns in a few epochs, not how good it "
        "ends up, so neither the published errors nor the ranking of the papers' cells can be "
        "checked here.",
        "- **It can compare our cells with each other**: cells found here and published cells "
        f"trained here share budget and seeds ({', '.join(map(str, seeds))}), so their paired "
        "differences below are like for like; with "
        f"{len(seeds)} seed{'s' * (len(seeds) != 1)} a cell, a difference smaller than its "
        "spread over seeds is no difference.",
        "",
    ]
    return lines


def render(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    published: list[PublishedRow],
    cells: list[Path],
    out: Path,
    shrink: pd.DataFrame | None = None,
    shrink_png: Path | None = None,
    grid: Path | None = None,
) -> str:
    """``shrink``: the IS-DARTS searches' shrink table (:mod:`isdarts.report.darts_shrink`),
    shown with ``shrink_png`` after the found cells; ``grid``: the figure of all cells
    (:func:`write_cells_grid`), shown after the verdict. Each run's files are linked when they
    lie in ``runs/`` beside ``out`` (:func:`isdarts.report.darts.copy_darts_run_files`)."""
    profile = str(runs["profile"].iloc[0])
    # every statistic from the runs at full precision (the summary file: checked against them)
    summary = summary_table(runs, published)
    by_cell = summary.set_index("cell")
    smoke = profile == SMOKE
    lines = [
        f"# DARTS-space reproduction, `{profile}` run profile",
        "",
        *(
            [
                f"> **Smoke run: not a result.** The `{profile}` profile checks that the DARTS-"
                "space workflow runs end to end;",
                "> its errors say nothing about the paper, so this report gives no verdict.",
                "",
            ]
            if smoke
            else []
        ),
        "Generated by `isdarts darts-report` at the end of the Snakemake workflow; do not edit by hand.",
        "Every cell, found here or published, is trained from scratch under the same reduced budget",
        "and seeds; CIFAR-10 test error in %.",
        "",
        *budget_scope(runs, summary, published),
        *(
            ["## Verdict", "", f"None: a `{profile}` run checks the workflow, not the paper.", ""]
            if smoke
            else verdict(runs, summary, published)
        ),
    ]
    if grid is not None:
        lines += images([grid], out, lambda png: GRID_TITLE)
    lines += ["## Setup", "", *_budget(runs)]
    devices = sorted({device_label(d) for d in runs["device"].dropna()})
    found = runs[runs.kind == "found"]
    lines += [
        f"- Trainings: {len(runs)} ({', '.join(f'{c} × {len(g)}' for c, g in runs.groupby('cell', sort=False))}), "
        f"seeds {', '.join(str(s) for s in sorted(runs['seed'].unique()))}; wall time "
        f"{minutes(runs['wall_seconds'].astype(float).sum())} in all, "
        f"{minutes(runs['wall_seconds'].astype(float).max())} for the longest.",
        f"- Searches: {len(found)}; wall time {minutes(found['search_wall_seconds'].astype(float).sum())} in all, "
        f"{minutes(found['search_wall_seconds'].astype(float).max())} for the longest."
        if len(found)
        else "- Searches: none (reference genotypes only).",
        f"- Machine: {'; '.join(devices) or 'not recorded'}; torch "
        f"{', '.join(sorted({str(v) for v in runs['torch_version'].dropna()})) or '?'}.",
        f"- Data: {'; '.join(sorted({data_source_label(s) for s in runs['data_source'].dropna()})) or 'not recorded'}.",
        "",
    ]

    lines += ["## CIFAR-10, DARTS space", ""]
    header = [
        "Method",
        "Test error (%)",
        "Params (M), C=36 / 20 cells",
        "Published search cost (GPU-days)",
        "Search cost here (per search)",
        "Training",
    ]
    rows, placed = [], set()

    def ours(cell: str) -> list[str]:
        r = by_cell.loc[cell]
        n = int(r["n"])
        params = (
            num(r["params_m_c36_l20_mean"])
            if r["kind"] == "reference"
            else f"{num(r['params_m_c36_l20_mean'])} ({num(r['params_m_c36_l20_min'])}–{num(r['params_m_c36_l20_max'])})"
        )
        return [
            f"**{cell_label(cell)}** (`{profile}`, {n} seed{'s' if n != 1 else ''})",
            f"**{pm(r['test_error_mean'], r['test_error_std'])}**",
            params,
            "–",
            _cost(r),
            f"`darts-train-{profile}`",
        ]

    for pub in (r for r in published if r.space == "darts"):
        std = pub.std["test_error"] if pub.std else None
        rows.append(
            [
                pub.method,
                pm(pub.mean["test_error"], std),
                num(pub.mean["params_m"]),
                f"{pub.mean['search_cost_gpu_days']:g}",
                "–",
                "600 epochs (published)",
            ]
        )
        if pub.ours in by_cell.index:
            rows.append(ours(pub.ours))
            placed.add(pub.ours)
    rows += [ours(c) for c in by_cell.index if c not in placed]
    lines += md_table(header, rows) + [""]
    lines += [
        "Published search cost: GPU-days of one search as the sources report it (see Sources "
        "below); ours: hours of one search on this machine (CPU-h = wall hours × threads; GPU-h "
        "on CUDA), mean over seeds.",
        "",
        "## Same budget, same seeds",
        "",
        f"Test error (%) per seed; Δ = paired difference to `{BASELINE_CELL}` over the seeds",
        f"both have (mean ± std); the last column is the {SURROGATE_LABEL}'s predicted",
        f"CIFAR-10 validation accuracy (%) of the cell at {SURROGATE_EPOCH} epochs (mean over the seeds' cells it",
        'can score, "k of n" when not all): a model fitted to NAS-Bench-301\'s training data,',
        "not a NAS-Bench-301 or NAS-Bench-201 result; – where the surrogate is not installed or",
        "the cell is outside NAS-Bench-301's space (two ops of one node on the same input, which",
        "IS-DARTS' node-wise shrink allows).",
        "",
    ]
    seeds = sorted(runs["seed"].unique())
    rows = []
    for cell in by_cell.index:
        part = runs[runs.cell == cell].set_index("seed")
        r = by_cell.loc[cell]
        per_seed = [num(float(part.at[k, "test_error"])) if k in part.index else "–" for k in seeds]
        delta = (
            "–"
            if cell == BASELINE_CELL
            else (
                signed(r["diff_vs_isdarts_published_mean"])
                if pd.isna(r["diff_vs_isdarts_published_std"])
                else f"{signed(r['diff_vs_isdarts_published_mean'])}±{num(r['diff_vs_isdarts_published_std'])}"
            )
        )
        params = num(part["params_m"].astype(float).mean())
        scored = int(r["surrogate_n"])
        surrogate = num(r["surrogate_val_acc_mean"]) + (
            f" ({scored} of {len(part)})" if 0 < scored < len(part) else ""
        )
        rows.append(
            [
                cell_label(cell),
                *per_seed,
                f"**{pm(r['test_error_mean'], r['test_error_std'])}**",
                delta,
                params,
                surrogate,
            ]
        )
    lines += md_table(
        [
            "Cell",
            *(f"seed {k}" for k in seeds),
            "mean ± std",
            f"Δ vs {BASELINE_CELL}",
            "Params (M), training size",
            SURROGATE_LABEL,
        ],
        rows,
    ) + [""]

    files = out.parent / "runs"  # the runs' result.json and log.jsonl, when copied beside
    diagrams = {Path(c).stem: Path(c) for c in cells}

    def link(text: str, target: Path) -> str:
        if not target.exists():
            return "–"
        rel = os.path.relpath(target.resolve(), out.parent.resolve())
        return f"[{text}]({rel}{'/' if target.is_dir() else ''})"

    if len(found):
        lines += [
            "## Cells found here",
            "",
            "Ops of each cell (8 pairs per cell, most frequent first: skip = skip_connect, "
            "sep3/sep5 = sep_conv_3x3/5x5, dil3/dil5 = dil_conv_3x3/5x5, avg/max = 3x3 pooling); "
            "the diagram and the search's files are linked; the full genotypes follow below.",
            "",
        ]
        rows = []
        for _, r in found.iterrows():
            g = parse_darts_text(str(r["genotype"]), "genotype")
            name = f"{r['cell']}-seed{r['seed']}"
            diagram = diagrams.get(name)
            rows.append(
                [
                    cell_label(r["cell"]),
                    str(r["seed"]),
                    op_counts(g.normal),
                    op_counts(g.reduce),
                    num(float(r["params_m_c36_l20"])),
                    minutes(float(r["search_wall_seconds"])),
                    device_label(r["search_device"]),
                    "–" if diagram is None else link(name, diagram),
                    link("files", files / search_folder(str(r["cell"]), int(r["seed"]))),
                ]
            )
        lines += md_table(
            [
                "Method",
                "Seed",
                "Normal cell ops",
                "Reduction cell ops",
                "Params (M), C=36 / 20",
                "Search wall time",
                "Search device",
                "Diagram",
                "Search files",
            ],
            rows,
        ) + [""]
    genotypes = {}
    for _, r in runs.iterrows():
        name = f"{r['cell']}-seed{r['seed']}" if r["kind"] == "found" else str(r["cell"])
        genotypes.setdefault(name, str(r["genotype"]))
    lines += [
        "<details>",
        f"<summary>Full genotypes ({len(genotypes)}; node numbers as in the diagrams: inputs 0 "
        "and 1, intermediate nodes 2–5)</summary>",
        "",
        *(f"- `{name}`: `{text}`" for name, text in genotypes.items()),
        "",
        "</details>",
        "",
    ]

    if shrink is not None:
        lines += shrink_markdown(shrink, shrink_png, out)

    lines += ["## Trainings", ""]
    if files.is_dir():
        lines += [
            "Each training's `result.json` and `log.jsonl` are in `runs/train/<cell>/seed<seed>/`, "
            "each search's in `runs/search/<method>/cifar10/seed<seed>/` (linked).",
            "",
        ]
    rows = [
        [
            cell_label(r["cell"]),
            str(r["seed"]),
            num(float(r["test_acc"])),
            num(float(r["test_error"])),
            num(float(r["params_m"])),
            minutes(float(r["wall_seconds"])),
            device_label(r["device"]),
            link("files", files / train_folder(str(r["cell"]), int(r["seed"]))),
        ]
        for _, r in runs.iterrows()
    ]
    lines += md_table(
        [
            "Cell",
            "Seed",
            "Test acc. (%)",
            "Test error (%)",
            "Params (M), training size",
            "Wall time",
            "Device",
            "Run files",
        ],
        rows,
    ) + [""]

    if cells:
        lines += [
            "## Cell diagrams",
            "",
            "Normal and reduction cell of every found (`<method>-seed<k>`) and reference genotype; "
            "nodes numbered as in the genotypes (inputs 0 = c_{k-2}, 1 = c_{k-1}, intermediate "
            "nodes 2–5).",
            "",
        ]
        lines += images(cells, out, lambda png: png.stem)

    lines += ["## Sources of the published rows", ""]
    lines += [f"- {r.method}: {r.source}" for r in published if r.space == "darts"]
    env = [
        line.replace("(`isdarts report`)", "(`isdarts darts-report`)")
        for line in environment_lines()
    ]
    env = [line.replace("the searches' own torch", "the runs' own torch") for line in env]
    lines += ["", *env]
    return "\n".join(lines) + "\n"


def write_cells_grid(runs_csv: str | os.PathLike, png: str | os.PathLike) -> Path:
    """The figure of every cell in the runs table, one row each: each found cell (method and
    seed), then each reference genotype, with its parameters at C=36 / 20 cells."""
    from isdarts.spaces.darts.plot import plot_cells_grid

    runs = read_csv(runs_csv, DARTS_RUNS)
    cells, seen = [], set()
    for _, r in runs.iterrows():
        found = r["kind"] == "found"
        key = (r["cell"], r["seed"] if found else None)
        if key in seen:
            continue
        seen.add(key)
        name = f"{cell_label(r['cell'])}, seed {r['seed']}" if found else cell_label(r["cell"])
        size = f" ({num(float(r['params_m_c36_l20']))} M params at C=36, 20 cells)"
        cells.append((name + size, parse_darts_text(str(r["genotype"]), str(runs_csv))))
    return plot_cells_grid(cells, png, title=GRID_TITLE)


def write_report(
    runs_csv,
    summary_csv,
    published: list[PublishedRow],
    cells,
    out,
    shrink=None,
    shrink_png=None,
    grid=None,
) -> Path:
    table = None if shrink is None else read_csv(shrink, DARTS_SHRINK)
    png = None if shrink_png is None else Path(shrink_png)
    grid = None if grid is None else Path(grid)
    check_figures([p for p in (png, grid) if p is not None])
    draw = functools.partial(render, shrink=table, shrink_png=png, grid=grid)
    return write_rendered(draw, runs_csv, summary_csv, published, cells, out, "darts")
