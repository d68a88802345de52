"""The DARTS-space part of the workflow for real: config/darts-smoke.yaml end to end (searches
-> trainings of the found cells and the reference genotypes -> table, diagrams, report),
a rerun, a deleted training, and the aggregation's checks. About a minute on 2 cores."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import pytest
from snakemake_helpers import PNG, REPO, job_counts, snakemake

from isdarts.errors import IsdartsError
from isdarts.report import darts as darts_report
from isdarts.report.published import load_published
from isdarts.spaces.darts.names import genotype_from_dict

pytestmark = pytest.mark.slow

CONFIG = REPO / "config" / "darts-smoke.yaml"
METHODS, REFERENCES, SEEDS = ("isdarts", "darts"), ("isdarts_published", "darts_v2"), (0, 1)
CELLS = (*METHODS, *REFERENCES)


@pytest.fixture(scope="module")
def dag(tmp_path_factory, data_root):
    workdir = tmp_path_factory.mktemp("darts-smoke-dag")
    start = time.perf_counter()
    snakemake(workdir, data_root, configfile=CONFIG)
    print(f"DARTS smoke DAG: {time.perf_counter() - start:.1f} s wall on {os.cpu_count()} cores")
    return workdir


def training(workdir, cell, seed):
    return workdir / "results" / "smoke" / "darts-train" / cell / f"seed{seed}" / "result.json"


def search(workdir, method, seed):
    return (
        workdir / "results" / "smoke" / "darts" / method / "cifar10" / f"seed{seed}" / "result.json"
    )


def test_darts_dag_trains_found_and_reference_cells_under_one_budget(dag):
    for seed in SEEDS:
        for method in METHODS:
            found = json.loads(search(dag, method, seed).read_text())
            trained = json.loads(training(dag, method, seed).read_text())
            assert trained["genotype"] == found["genotype"] and trained["seed"] == seed
        for ref in REFERENCES:
            assert json.loads(training(dag, ref, seed).read_text())["genotype_source"] == ref
    budgets = {
        json.dumps(json.loads(training(dag, c, s).read_text())["profile_settings"], sort_keys=True)
        for c in CELLS
        for s in SEEDS
    }
    assert len(budgets) == 1


def test_darts_report_table_diagrams_and_published_rows(dag):
    folder = dag / "reports" / "smoke" / "darts"
    runs = pd.read_csv(folder / "runs.csv")
    assert sorted(zip(runs["cell"], runs["seed"], strict=True)) == sorted(
        (c, s) for c in CELLS for s in SEEDS
    )
    assert set(runs[runs.cell.isin(METHODS)]["kind"]) == {"found"}
    assert runs[runs.kind == "found"]["search_cost_hours"].notna().all()
    summary = pd.read_csv(folder / "summary.csv").set_index("cell")
    for cell in CELLS:
        errors = runs[runs.cell == cell]["test_error"]
        assert summary.at[cell, "test_error_mean"] == pytest.approx(errors.mean(), abs=1e-4)
        assert summary.at[cell, "n"] == len(SEEDS)
    base = runs[runs.cell == "isdarts_published"].set_index("seed")["test_error"]
    v2 = runs[runs.cell == "darts_v2"].set_index("seed")["test_error"]
    assert summary.at["darts_v2", "diff_vs_isdarts_published_mean"] == pytest.approx(
        (v2 - base).mean(), abs=1e-4
    )
    assert summary.at["darts_v2", "params_m_c36_l20_mean"] == pytest.approx(3.349342, abs=1e-4)
    assert summary.at["darts_v2", "published_test_error"] == 2.76
    assert summary.at["darts", "published_test_error"] == 3.00
    assert pd.isna(summary.at["isdarts", "published_method"])
    text = (folder / "README.md").read_text()
    assert "| DARTS (2nd order) | 2.76±0.09 | 3.30 | 1 | – | 600 epochs (published) |" in text
    assert "**IS-DARTS published cell, trained here** (`smoke`, 2 seeds)" in text
    assert "YAHPO-NB301 surrogate" in text
    names = [f"{m}-seed{s}" for m in METHODS for s in SEEDS] + list(REFERENCES)
    for name in names:
        png = folder / "cells" / f"{name}.png"
        assert png.read_bytes().startswith(PNG) and png.stat().st_size > 10_000
        assert f"(cells/{name}.png)" in text


def test_darts_rerun_does_nothing_and_a_deleted_training_reruns_alone(dag, data_root):
    assert "Nothing to be done" in snakemake(dag, data_root, "-n", configfile=CONFIG).stdout
    gone = training(dag, "darts_v2", 1)
    gone.unlink()
    planned = job_counts(snakemake(dag, data_root, "-n", configfile=CONFIG).stdout)
    assert planned == {"train": 1, "darts_aggregate": 1, "darts_report": 1, "all": 1}


def test_aggregation_refuses_a_training_without_its_search(dag, tmp_path):
    trainings = [training(dag, c, s) for c in CELLS for s in SEEDS if training(dag, c, s).is_file()]
    with pytest.raises(IsdartsError, match="not among the searches given"):
        darts_report.runs_table(trainings, [search(dag, "darts", s) for s in SEEDS])
    dup = [*trainings, trainings[0]]
    searches = [search(dag, m, s) for m in METHODS for s in SEEDS]
    with pytest.raises(IsdartsError, match="two trainings of"):
        darts_report.runs_table(dup, searches)


def test_surrogate_column_comes_from_the_surrogate_rule(dag, tmp_path):
    folder = dag / "reports" / "smoke" / "darts"
    rec = json.loads((dag / "results" / "smoke" / "darts-surrogate.json").read_text())
    assert rec["surrogate"] == "YAHPO-NB301 surrogate" and rec["epoch"] == 98
    names = [r["name"] for r in rec["results"]]
    assert names == [
        *(f"results/smoke/darts/{m}/cifar10/seed{s}/result.json" for m in METHODS for s in SEEDS),
        *REFERENCES,
    ]
    by_genotype = {str(genotype_from_dict(r["genotype"])): r["score"] for r in rec["results"]}
    runs = pd.read_csv(folder / "runs.csv")
    for _, row in runs.iterrows():
        score = by_genotype[row["genotype"]]
        if score is None:
            assert pd.isna(row["surrogate_val_acc"])
        else:
            assert row["surrogate_val_acc"] == pytest.approx(score, abs=1e-4)
    assert runs[runs.cell == "isdarts_published"]["surrogate_val_acc"].isna().all()
    if rec["missing"] is None:  # onnxruntime and the surrogate files are here
        assert runs[runs.cell == "darts_v2"]["surrogate_val_acc"].between(90, 96).all()
    # without the file the column is empty; a file lacking a trained cell or at another epoch
    # is an error naming it
    trainings = [training(dag, c, s) for c in CELLS for s in SEEDS if training(dag, c, s).is_file()]
    searches = [search(dag, m, s) for m in METHODS for s in SEEDS]
    assert darts_report.runs_table(trainings, searches)["surrogate_val_acc"].isna().all()
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({**rec, "results": rec["results"][:-1]}))
    with pytest.raises(IsdartsError, match="its genotype is not among the scores in"):
        darts_report.runs_table(trainings, searches, surrogate=partial)
    other = tmp_path / "epoch50.json"
    other.write_text(json.dumps({**rec, "epoch": 50}))
    with pytest.raises(IsdartsError, match="scores at epoch 50; the report shows epoch 98"):
        darts_report.runs_table(trainings, searches, surrogate=other)


def test_published_darts_rows_load():
    rows = [r for r in load_published(REPO / "config" / "published.yaml") if r.space == "darts"]
    by_id = {r.id: r for r in rows}
    assert by_id["darts_v2"].mean == {
        "test_error": 2.76,
        "params_m": 3.3,
        "search_cost_gpu_days": 1.0,
    }
    assert by_id["darts_v2"].std["test_error"] == 0.09 and by_id["darts_v2"].std["params_m"] is None
    assert by_id["darts_v1"].ours == "darts" and len(rows) == 7


def test_report_names_a_table_that_lacks_a_column(dag, tmp_path):
    from isdarts.report.darts_markdown import write_report

    folder = dag / "reports" / "smoke" / "darts"
    old = tmp_path / "summary.csv"
    pd.read_csv(folder / "summary.csv").drop(columns="surrogate_n").to_csv(old, index=False)
    published = load_published(REPO / "config" / "published.yaml")
    with pytest.raises(IsdartsError, match=r"summary.csv: lacks column\(s\) surrogate_n"):
        write_report(folder / "runs.csv", old, published, [], tmp_path / "README.md")


def test_shrink_table_follows_the_shrink_rule_and_reaches_the_report(dag):
    """darts-shrink read the IS-DARTS searches' logs: at every step and node it names as
    removed exactly the ceil((pairs - 2) / steps left) pairs with the largest scores, the pairs
    left after the last step are the genotype's, and the report shows the section."""
    import math

    folder = dag / "reports" / "smoke" / "darts"
    table = pd.read_csv(folder / "shrink.csv")
    assert sorted(table["seed"].unique()) == list(SEEDS) and set(table["method"]) == {"isdarts"}
    steps = int(table["step"].max())
    for (seed, step, kind, node), group in table.groupby(["seed", "step", "kind", "node"]):
        removed = group[group.removed]
        n_remove = math.ceil((len(group) - 2) / (steps - step + 1))
        assert len(removed) == n_remove, (seed, step, kind, node)
        assert removed["score"].min() >= group[~group.removed]["score"].max()
        assert sorted(group["rank"]) == list(range(1, len(group) + 1))
    for seed in SEEDS:
        genotype = json.loads(search(dag, "isdarts", seed).read_text())["genotype"]
        last = table[(table.seed == seed) & (table.step == steps) & ~table.removed]
        for kind in ("normal", "reduce"):
            kept = last[last.kind == kind].sort_values(["node", "input", "op"])
            expected = sorted((2 + n // 2, j, op) for n, (op, j) in enumerate(genotype[kind]))
            assert list(zip(kept["node"], kept["input"], kept["op"], strict=True)) == expected
    readme = (folder / "README.md").read_text()
    assert "## Shrink steps of the IS-DARTS searches" in readme and "(shrink.png)" in readme
    assert (folder / "shrink.png").read_bytes().startswith(PNG)
