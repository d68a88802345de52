"""The DARTS-space report a researcher reads in a minute: node numbers as in the genotypes, one
grid figure of all cells, no genotype strings in tables, published and our search costs in
separate columns, the original DARTS settings in the budget, a verdict first and the
environment last, each run's files beside the report. Built from the committed report's own
tables and run files (reports/cpu/darts), no search or training."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from isdarts.errors import IsdartsError
from isdarts.report.darts import copy_darts_run_files
from isdarts.report.darts_markdown import op_counts, paired_line, write_cells_grid, write_report
from isdarts.report.published import load_published
from isdarts.spaces.darts.names import REFERENCE_GENOTYPES

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "reports" / "cpu" / "darts"
PNG = b"\x89PNG\r\n\x1a\n"
SEEDS = (0, 1, 2)


def test_cell_diagram_numbers_nodes_as_the_genotype() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from isdarts.spaces.darts.plot import draw_cell

    fig, ax = plt.subplots()
    draw_cell(ax, REFERENCE_GENOTYPES["darts_v2"], "normal")
    texts = {t.get_text() for t in ax.texts}
    plt.close(fig)
    assert {"node 2", "node 3", "node 4", "node 5", "concat 2, 3, 4, 5"} <= texts
    assert "node 0" not in texts and any(t.startswith("0:") for t in texts)


def test_op_counts_and_paired_verdict() -> None:
    g = REFERENCE_GENOTYPES["darts_v2"]
    assert op_counts(g.normal) == "5 sep3, 2 skip, 1 dil3"
    runs = pd.DataFrame(
        {
            "cell": ["a"] * 3 + ["b"] * 3,
            "seed": [0, 1, 2] * 2,
            "test_error": [10.0, 11.0, 12.0, 11.0, 12.5, 12.0],
        }
    )
    line = paired_line(runs, "a", "b")
    assert "Δ = -0.83 ± 0.76" in line and "lower error in 2 of 3 seeds" in line
    assert "no consistent difference" in line
    runs.loc[2, "test_error"] = 11.5
    assert "lower error in all 3 seeds" in paired_line(runs, "a", "b")
    assert paired_line(runs, "a", "nothing") is None


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    """The committed run files laid out as the workflow's results (trainings name their
    search by its relative path), as the working directory."""
    for m in ("isdarts", "darts"):
        for k in SEEDS:
            shutil.copytree(
                REPORT / "runs" / "search" / m / "cifar10" / f"seed{k}",
                tmp_path / "results" / "cpu" / "darts" / m / "cifar10" / f"seed{k}",
            )
    shutil.copytree(REPORT / "runs" / "train", tmp_path / "results" / "cpu" / "darts-train")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _inputs():
    trainings = sorted(Path("results/cpu/darts-train").glob("*/seed*/result.json"))
    searches = sorted(Path("results/cpu/darts").glob("*/cifar10/seed*/result.json"))
    return trainings, searches


def test_run_files_grid_and_report(workdir) -> None:
    trainings, searches = _inputs()
    out = workdir / "report"
    written = copy_darts_run_files(trainings, searches, out / "runs")
    assert len(written) == 18
    for folder in written:
        assert {p.name for p in folder.iterdir()} == {"result.json", "log.jsonl"}
    assert (out / "runs" / "train" / "darts_v2" / "seed2" / "log.jsonl").is_file()
    assert (out / "runs" / "search" / "isdarts" / "cifar10" / "seed0" / "result.json").is_file()
    for name in ("runs.csv", "summary.csv", "shrink.csv", "shrink.png"):
        shutil.copy(REPORT / name, out / name)
    grid = write_cells_grid(out / "runs.csv", out / "cells.png")
    assert grid.read_bytes().startswith(PNG) and grid.stat().st_size > 50_000
    published = load_published(REPO / "config" / "published.yaml")
    readme = write_report(
        out / "runs.csv",
        out / "summary.csv",
        published,
        [],
        out / "README.md",
        shrink=out / "shrink.csv",
        shrink_png=out / "shrink.png",
        grid=grid,
    )
    text = readme.read_text()
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert not any("Genotype(" in row for row in rows)
    assert "<details>" in text and text.count("Genotype(") == 8
    # one unit per column: published GPU-days, ours with its unit in each cell
    assert "| Published search cost (GPU-days) | Search cost here (per search) |" in text
    assert not any("GPU-days" in row for row in rows if "Published search cost" not in row)
    assert "| DARTS (2nd order) | 2.76±0.09 | 3.30 | 1 | – | 600 epochs (published) |" in text
    assert "CPU-h |" in text
    # what the budget can and cannot show opens the report, then the verdict and the grid;
    # the environment last
    scope = "## What this CPU budget can and cannot show"
    assert text.index(scope) < text.index("## Verdict") < text.index("(cells.png)")
    assert text.index("(cells.png)") < text.index("\n| ")
    opening = text[text.index(scope) : text.index("## Verdict")]
    assert "**It cannot test the paper's DARTS-space numbers.**" in opening
    assert "8 training epochs on 8,000 images" in opening and "46.86–50.99 %" in opening
    assert "**It can compare our cells with each other**" in opening
    assert "the differences above are (same budget" not in text
    assert "Only the differences above compare like with like" in text
    # one rounding: the verdict's ± and the table's are both of the full-precision std
    assert "Δ = +0.02 ± 1.77 points" in text and "| -0.02±1.77 |" in text
    assert text.rstrip().splitlines()[-1].startswith("- Code: git commit")
    assert "## Environment" in text and "`isdarts darts-report`" in text
    assert "vs **DARTS (1st order), cell found here**" in text
    # the original DARTS search's settings, not only IS-DARTS'
    assert "α: Adam lr 0.0003, betas (0.5, 0.999)" in text and "no Nesterov" in text
    assert "[files](runs/train/darts_v2/seed2/)" in text
    assert "[files](runs/search/darts/cifar10/seed1/)" in text


def test_a_training_log_cut_short_is_named(workdir) -> None:
    trainings, searches = _inputs()
    log = trainings[0].parent / "log.jsonl"
    log.write_text(log.read_text().splitlines()[0] + "\n")
    with pytest.raises(IsdartsError, match="log.jsonl: epochs"):
        copy_darts_run_files(trainings, searches, workdir / "out")


def test_darts_rows_name_which_search_cost_figure_is_which() -> None:
    published = load_published(REPO / "config" / "published.yaml")
    rows = {r.method: r for r in published if r.space == "darts"}
    first, second = rows["DARTS (1st order)"], rows["DARTS (2nd order)"]
    assert first.mean["search_cost_gpu_days"] == 0.4 and "1.5 GPU-days" in first.source
    assert second.mean["search_cost_gpu_days"] == 1.0 and "4 GPU-days" in second.source
    assert "four repeated searches" in first.source
