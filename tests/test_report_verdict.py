"""What a NAS-Bench-201 report opens with: the verdict written from the numbers, the HTML page
the Snakemake report shows first, and the per-run files copied beside the report."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from cli_helpers import PUBLISHED, REPO, isdarts, one_line_error

from isdarts.report.criteria import load_criteria
from isdarts.report.published import load_published
from isdarts.report.verdict import method_verdict, verdict_lines

ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
CELL_9930 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
COMMITTED = (str(REPO / "reports/cpu-n1/runs.csv"), str(REPO / "reports/cpu-n1/summary.csv"))
DECIDED = "0.5000 0.5000 0.5000 0.5000 0.5000 0.5000"  # every edge far above the margin
UNIFORM = "0.0020 0.0010 0.0030 0.0010 0.0040 0.0020"  # the cpu profile's DARTS weights


def _runs(method: str, cells: list[tuple[str, list[float]]], margins=None) -> pd.DataFrame:
    cols = ["cifar10_valid", "cifar10_test", "cifar100_valid", "cifar100_test"]
    cols += ["imagenet16_valid", "imagenet16_test"]
    rows = [
        {"space": "nb201", "method": method, "dataset": "cifar10", "seed": s, "arch": a}
        | dict(zip(cols, v, strict=True))
        | {"margins": margins}
        for s, (a, v) in enumerate(cells)
    ]
    return pd.DataFrame(rows)


def test_collapse_is_counted_in_two_kinds() -> None:
    crit = load_criteria()
    assert crit.parameter_free(ALL_SKIP) == 6 and crit.structural_collapse(ALL_SKIP)
    assert not crit.accuracy_collapse(93.0) and crit.collapsed(ALL_SKIP, 93.0)
    assert not crit.collapsed(ALL_SKIP, 93.0, "accuracy")
    assert crit.parameter_free(CELL_9930) == 1 and not crit.collapsed(CELL_9930, 94.36)
    assert crit.collapsed(CELL_9930, 79.9, "accuracy")
    assert not crit.collapsed(CELL_9930, 79.9, "structural")


def test_verdict_says_whether_the_published_collapse_and_cell_came_back() -> None:
    crit = load_criteria()
    published = load_published(PUBLISHED)
    rows = {r.ours: r for r in published if r.space == "nb201"}
    v9930 = [91.55, 94.36, 73.49, 73.51, 46.37, 46.34]
    skip = [39.77, 54.30, 15.03, 15.61, 16.43, 16.32]
    darts = _runs("darts", [(ALL_SKIP, skip)] * 2, DECIDED)
    line = method_verdict(darts, "cifar10", rows["darts"], crit)
    assert "54.30" in line and "***reproduced***" in line
    assert "accuracy collapse in 2, structural collapse in 2" in line
    # the same cells from weights that never left uniform: undecided, not reproduced
    line = method_verdict(
        _runs("darts", [(ALL_SKIP, skip)] * 2, UNIFORM), "cifar10", rows["darts"], crit
    )
    assert "***undecided***" in line and "2 undecided" in line
    fine = _runs("darts", [(CELL_9930, v9930)], DECIDED)
    assert "***not reproduced***" in method_verdict(fine, "cifar10", rows["darts"], crit)
    ours = _runs("isdarts", [(CELL_9930, v9930), (CELL_9930, [90.0, 93.0, 70, 70, 40, 40])])
    line = method_verdict(ours, "cifar10", rows["isdarts"], crit)
    assert "1 of 2 found the published cell" in line and "accuracy collapse in 0" in line
    assert "no published row" in method_verdict(ours, "cifar10", None, crit)


def test_the_committed_report_verdict_reads_its_runs() -> None:
    runs = pd.read_csv(COMMITTED[0])
    lines = verdict_lines(runs, load_published(PUBLISHED), load_criteria())
    pairs = runs.groupby(["dataset", "method"]).ngroups
    assert len(lines) == pairs + 1  # and the paired IS-DARTS - DARTS difference
    darts_test = runs[runs.method == "darts"]["cifar10_test"].mean()
    # its DARTS weights ended flat (margins below 0.05 on every edge): undecided
    assert any(f"{darts_test:.2f}" in line and "***undecided***" in line for line in lines)
    assert "paired over seeds 0, 1, 2" in lines[-1]
    # the same table without its evidence columns (as written before them): every run then
    # counts as decisive, and no DARTS run collapsed
    old = runs.drop(columns=["margins"])
    lines = verdict_lines(old, load_published(PUBLISHED), load_criteria())
    assert any(f"{darts_test:.2f}" in line and "***not reproduced***" in line for line in lines)


def test_report_writes_the_html_page_with_the_verdict_and_every_row(tmp_path) -> None:
    out = tmp_path / "README.md"
    res = isdarts(
        "report",
        *("--runs", COMMITTED[0], "--summary", COMMITTED[1], "--published", str(PUBLISHED)),
        *("--out", str(out), "--html", str(tmp_path / "table.html")),
    )
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "table.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<h2>Verdict</h2>" in page
    for row in load_published(PUBLISHED):
        if row.space == "nb201":
            assert f"<td>{row.method}</td>" in page.replace("&#x27;", "'")
    readme = out.read_text()
    assert readme.index("## Verdict") < readme.index("## NAS-Bench-201, search on")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, cifar10, bench):
    from isdarts.search.loop import SearchRequest, run_search
    from isdarts.spaces.nb201.profile import load_profile

    root = tmp_path_factory.mktemp("runs")
    prof = load_profile("smoke")
    for seed in (0, 1):
        run_search(SearchRequest("rsps", "cifar10", seed, prof, root / f"s{seed}", device="cpu"))
    return root


def test_run_files_are_copied_beside_the_report_and_linked(two_runs, tmp_path) -> None:
    from isdarts.report.runfiles import copy_run_files

    folders = copy_run_files([two_runs / "s0", two_runs / "s1" / "result.json"], tmp_path)
    assert [f.relative_to(tmp_path).as_posix() for f in folders] == [
        "rsps/cifar10/seed0",
        "rsps/cifar10/seed1",
    ]
    for seed in (0, 1):
        src, dst = two_runs / f"s{seed}", tmp_path / f"rsps/cifar10/seed{seed}"
        assert (dst / "log.jsonl").read_bytes() == (src / "log.jsonl").read_bytes()
        assert json.loads((dst / "result.json").read_text()) == json.loads(
            (src / "result.json").read_text()
        )
        assert not (dst / "checkpoint.pt").exists()


def test_run_files_refuse_two_runs_of_one_seed_and_a_missing_results_list(
    two_runs, tmp_path
) -> None:
    res = isdarts(
        "report",
        *("--runs", COMMITTED[0], "--summary", COMMITTED[1], "--published", str(PUBLISHED)),
        *("--out", str(tmp_path / "R.md"), "--run-files", str(tmp_path / "runs")),
    )
    one_line_error(res, "--run-files: expected the runs to copy")
    from isdarts.errors import IsdartsError
    from isdarts.report.runfiles import copy_run_files

    with pytest.raises(IsdartsError, match="a second run for rsps/cifar10/seed0"):
        copy_run_files([two_runs / "s0", two_runs / "s0"], tmp_path / "twice")


def test_a_machine_path_in_an_old_data_source_is_not_copied(two_runs, tmp_path) -> None:
    from isdarts.report.runfiles import copy_run_files

    old = tmp_path / "old"
    old.mkdir()
    result = json.loads((two_runs / "s0" / "result.json").read_text())
    result["data_source"] = "mirror: CIFAR-10, JPEG-q75 mirror (/home/someone/data/cifar10)"
    (old / "result.json").write_text(json.dumps(result))
    (old / "log.jsonl").write_bytes((two_runs / "s0" / "log.jsonl").read_bytes())
    (folder,) = copy_run_files([old], tmp_path / "out")
    copied = json.loads((folder / "result.json").read_text())
    assert copied["data_source"] == "mirror: CIFAR-10, JPEG-q75 mirror"
    assert {k: v for k, v in copied.items() if k != "data_source"} == {
        k: v for k, v in result.items() if k != "data_source"
    }
