"""The scale study: a workflow config with a list of run profiles, and the report that puts
the rungs side by side and applies the default profile's rule to their measured times."""

from __future__ import annotations

import pandas as pd
import pytest
from cli_helpers import PUBLISHED, isdarts, one_line_error
from snakemake_helpers import REPO, job_counts, snakemake

from isdarts.report.criteria import load_criteria
from isdarts.report.published import load_published
from isdarts.report.scale import (
    chosen_rung,
    groups,
    load_rungs,
    rung_summary,
    scale_table,
    write_scale_report,
)

CPU_RUNS = REPO / "reports" / "cpu-n1" / "runs.csv"
CPU_PROFILE = REPO / "config" / "profiles" / "cpu-n1.yaml"


def _rung(tmp_path, name: str, cells: int, minutes: float):
    """A rung: the committed cpu-n1 runs relabelled, at ``cells`` cells per stage (in its
    profile and in the settings its runs recorded) and searches of ``minutes`` each."""
    text = CPU_PROFILE.read_text().replace("cells_per_stage: 1 ", f"cells_per_stage: {cells} ")
    prof = tmp_path / f"{name}.yaml"
    prof.write_text(text)
    runs = pd.read_csv(CPU_RUNS)
    runs["profile"] = name
    runs["cells_per_stage"] = cells
    runs["wall_seconds"] = minutes * 60
    csv = tmp_path / f"{name}.csv"
    runs.to_csv(csv, index=False)
    return csv, prof


def test_the_rule_picks_the_cheapest_deep_rung_within_the_budget(tmp_path) -> None:
    shallow = _rung(tmp_path, "shallow", 1, 5.0)  # 15 min, but 1 cell per stage
    cheap = _rung(tmp_path, "deep-cheap", 5, 10.0)  # 3 x (10 + 10) / 2 = 30 min
    slow = _rung(tmp_path, "deep-slow", 5, 12.5)  # 37.5 min: over 35
    rungs = load_rungs([shallow[0], cheap[0], slow[0]], [shallow[1], cheap[1], slow[1]])
    table = scale_table(rungs, load_criteria())
    assert len(table) == 18 and set(table["rung"]) == {"shallow", "deep-cheap", "deep-slow"}
    assert (table["parameter_free_edges"] >= table["skip_edges"]).all()
    summary = rung_summary(table)
    choice, projected = chosen_rung(rungs, summary)
    assert choice == "deep-cheap"  # shallow is cheaper but has 1 cell per stage
    assert projected["deep-cheap"] == pytest.approx(30.0)
    assert projected["deep-slow"] == pytest.approx(37.5)
    only_slow = [r for r in rungs if r.name != "deep-cheap"]
    assert chosen_rung(only_slow, summary)[0] is None


def test_scale_report_writes_readme_table_and_figure(tmp_path) -> None:
    shallow = _rung(tmp_path, "shallow", 1, 5.0)
    deep = _rung(tmp_path, "deep", 5, 10.0)
    out = tmp_path / "scale"
    res = isdarts(
        "scale-report",
        *("--runs", str(shallow[0]), str(deep[0]), "--profiles", str(shallow[1]), str(deep[1])),
        *("--published", str(PUBLISHED), "--out", str(out)),
    )
    assert res.returncode == 0, res.stderr
    readme = (out / "README.md").read_text()
    assert "**Rung picked: deep.**" in readme and "stated before the runs" in readme
    assert (out / "scale.png").read_bytes()[:4] == b"\x89PNG"
    table = pd.read_csv(out / "scale.csv")
    assert list(table["rung"].unique()) == ["shallow", "deep"]
    assert load_published(PUBLISHED)  # the reference lines' source parses


def test_scale_report_refuses_a_runs_table_of_another_profile(tmp_path) -> None:
    deep = _rung(tmp_path, "deep", 5, 10.0)
    res = isdarts(
        "scale-report",
        *("--runs", str(deep[0]), "--profiles", str(CPU_PROFILE)),
        *("--published", str(PUBLISHED), "--out", str(tmp_path / "s")),
    )
    one_line_error(res, "runs of profile(s) ['deep'], expected cpu-n1")


def test_a_config_with_a_profile_list_runs_every_rung_and_the_scale_report(
    tmp_path, data_root
) -> None:
    proc = snakemake(tmp_path, data_root, "-n", config=("profile=[smoke,cpu]",))
    counts = job_counts(proc.stdout)
    # smoke config: 2 methods x 2 seeds at each of the 2 profiles; one report per profile
    assert counts["search"] == 8 and counts["report"] == 2 and counts["scale_report"] == 1
    bad = snakemake(tmp_path, data_root, "-n", config=("profile=[smoke,nope]",), check=False)
    assert bad.returncode != 0 and "run profile 'nope' has no file" in bad.stdout + bad.stderr


def test_the_scale_study_reads_each_rung_as_its_runs_recorded_it_and_groups_by_axis(
    tmp_path,
) -> None:
    """A rung's C, N and images are the ones its runs recorded (the profile file may have
    changed since); each rung is named by the setting it changes from the base rung, and
    every data set's accuracy has its ± and each seed's value."""
    base = _rung(tmp_path, "base", 5, 10.0)
    shallow = _rung(tmp_path, "shallow", 1, 5.0)
    wide = _rung(tmp_path, "wide", 5, 10.0)
    runs = pd.read_csv(wide[0])
    runs["channels"] = 16
    runs.to_csv(wide[0], index=False)
    rungs = load_rungs([base[0], shallow[0], wide[0]], [base[1], shallow[1], wide[1]])
    assert [r.channels for r in rungs] == [8, 8, 16]  # wide's profile file still says 8
    assert [label for label, _ in groups(rungs)][1:] == ["only N=1", "only C=16"]
    out = tmp_path / "scale"
    crit = load_criteria()
    write_scale_report([base[0], shallow[0], wide[0]], [base[1], shallow[1], wide[1]],
                       load_published(PUBLISHED), out, crit)  # fmt: skip
    text = (out / "README.md").read_text()
    assert "| `wide` | C=16 | 16 | 5 | 10,000 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `base` | IS-DARTS |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert all(" ± " in c for c in (cells[3], cells[5], cells[6]))  # C10, C100, IN16
    assert cells[4] == "93.07, 93.49, 93.19"  # each seed's C10 test accuracy, seed order
    assert cells[7] == "2, 0, 1"  # skip edges per seed
