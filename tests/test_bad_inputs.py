"""Run folders and command-line inputs that must give a one-line error, exit status 2 and no
output: another run's finished result, a folder another run holds, a seed out of range, an
output path that is a file or lies under one."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest
from cli_helpers import PUBLISHED
from cli_helpers import isdarts as _isdarts
from cli_helpers import one_line_error as _one_line_error
from cli_helpers import report as _report

from isdarts.errors import IsdartsError
from isdarts.run.folder import LOCK, locked
from isdarts.search.loop import SearchRequest, run_search
from isdarts.spaces.darts.names import REFERENCE_GENOTYPES
from isdarts.spaces.nb201.profile import load_profile
from isdarts.train.profile import load_train_profile
from isdarts.train.run import TrainRequest, run_training

pytestmark = pytest.mark.usefixtures("one_thread")


def _search(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return _isdarts(
        "search",
        "--method",
        "isdarts",
        "--profile",
        "smoke",
        "--device",
        "cpu",
        "--out",
        str(out),
        *extra,
    )


def test_a_finished_search_of_another_run_is_an_error_not_a_result(cifar10, bench, tmp_path):
    req = SearchRequest("isdarts", "cifar10", 0, load_profile("smoke"), tmp_path, device="cpu")
    result = run_search(req)
    assert result["identity"] == req.identity()
    assert run_search(req)["arch"] == result["arch"]  # this run: nothing to do
    res = _search(tmp_path, "--seed", "3")
    _one_line_error(res, "result of a different search")
    assert "differs in: seed" in res.stderr
    other = dataclasses.replace(req, method="darts")
    with pytest.raises(IsdartsError, match="differs in: method"):
        run_search(other)


def test_a_finished_training_of_another_run_is_an_error(cifar10, tmp_path):
    prof = load_train_profile("smoke")
    geno = REFERENCE_GENOTYPES["isdarts_published"]
    run_training(TrainRequest(geno, "isdarts_published", prof, seed=3, out=tmp_path))
    other = TrainRequest(REFERENCE_GENOTYPES["darts_v2"], "darts_v2", prof, seed=3, out=tmp_path)
    with pytest.raises(IsdartsError, match=r"different training .*differs in: genotype"):
        run_training(other)


def test_a_folder_held_by_another_run_is_refused_at_once(tmp_path):
    out = tmp_path / "run"
    with locked(out):
        res = _search(out)
        assert (out / LOCK).read_text().strip() == str(os.getpid())
    _one_line_error(res, f"in use by another run (pid {os.getpid()})")
    assert not out.exists()  # released, and the empty folder it made removed


def test_seed_out_of_range_is_refused_at_parse_time(tmp_path):
    res = _search(tmp_path / "s", "--seed", str(2**32))
    assert res.returncode == 2 and "expected an integer in 0..4294967295" in res.stderr
    assert not (tmp_path / "s").exists()


def test_out_on_or_under_a_file_is_a_one_line_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    _one_line_error(_search(f), "exists and is not a folder")
    _one_line_error(_search(f / "sub"), "Not a directory")


def test_a_run_that_fails_before_its_first_epoch_leaves_no_folder(tmp_path):
    out = tmp_path / "never"
    res = _search(out, "--data-root", str(tmp_path / "no-data"))
    _one_line_error(res, "not prepared")
    assert not out.exists()


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "empty profile"),
        ("lr: .inf\n", "bad value inf for 'lr' (expected a finite number)"),
        ("darts:\n  arch_lr: .nan\n", "bad value nan for 'darts.arch_lr'"),
    ],
)
def test_an_empty_or_non_finite_profile_is_refused(tmp_path, text, needle):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    res = _search(tmp_path / "out", "--profile", str(path))
    _one_line_error(res, needle)
    assert str(path) in res.stderr and not (tmp_path / "out").exists()


# --- report inputs: the files the report steps read (runs.csv, summary.csv, evaluations,
# result.json, published.yaml), from the committed `cpu` report, made bad one way each.

REPORT = Path(__file__).resolve().parents[1] / "reports" / "cpu-n1"
DARTS_REPORT = REPORT.parent / "cpu" / "darts"


def _cut(tmp_path: Path, src: Path, keep: int | None = None, drop_bytes: int = 0) -> Path:
    """A copy of ``src`` with its first ``keep`` lines, or ``drop_bytes`` cut off its end."""
    data = src.read_bytes()
    if keep is not None:
        data = b"".join(data.splitlines(keepends=True)[:keep])
    dst = tmp_path / f"cut-{src.name}"
    dst.write_bytes(data[: len(data) - drop_bytes])
    return dst


def test_the_committed_report_tables_pass_their_schemas():
    from isdarts.report.tables import read_tables

    runs, summary = read_tables(REPORT / "runs.csv", REPORT / "summary.csv", "nb201")
    assert len(runs) >= 2 and len(summary) == 6 * summary.groupby(["method"]).ngroups
    runs, summary = read_tables(DARTS_REPORT / "runs.csv", DARTS_REPORT / "summary.csv", "darts")
    assert set(summary["cell"]) == set(runs["cell"])


@pytest.mark.parametrize(
    "runs_edit, summary_edit, needle",
    [
        ({"drop_bytes": 40}, {}, "cut-runs.csv: ends in the middle of a line"),
        ({"keep": 3}, {}, "disagree on nb201"),
        ({"keep": 1}, {}, "cut-runs.csv: no rows"),
        ({}, {"keep": 7}, "disagree on nb201 darts cifar10"),
    ],
)
def test_a_cut_report_table_is_an_error_not_a_report(tmp_path, runs_edit, summary_edit, needle):
    runs = _cut(tmp_path, REPORT / "runs.csv", **runs_edit) if runs_edit else REPORT / "runs.csv"
    summary = (
        _cut(tmp_path, REPORT / "summary.csv", **summary_edit)
        if summary_edit
        else REPORT / "summary.csv"
    )
    _one_line_error(_report(tmp_path, runs, summary), needle)


@pytest.mark.parametrize(
    "column, value, needle",
    [
        ("cifar10_test", "high", "line 2: column 'cifar10_test' holds 'high' (expected a number"),
        ("cifar10_test", "981.98", "holds 981.98 (expected a number in 0..100)"),
        ("arch", "|nor_conv_3x3~0|+|nor_con", "column 'arch'"),
        ("seed", "1.5", "column 'seed' holds 1.5 (expected a whole number"),
        ("wall_seconds", "", "column 'wall_seconds' holds an empty value"),
    ],
)
def test_a_bad_value_in_the_runs_table_names_line_and_column(tmp_path, column, value, needle):
    import pandas as pd

    df = pd.read_csv(REPORT / "runs.csv", dtype=str, keep_default_na=False)
    df.loc[0, column] = value
    bad = tmp_path / "runs.csv"
    df.to_csv(bad, index=False)
    _one_line_error(_report(tmp_path, bad, REPORT / "summary.csv"), needle)


def test_published_numbers_of_the_wrong_shape_are_a_one_line_error(tmp_path):
    import yaml

    data = yaml.safe_load(PUBLISHED.read_text())
    data["nb201"]["columns"] = 5
    bad = tmp_path / "published.yaml"
    bad.write_text(yaml.safe_dump(data))
    res = _report(tmp_path, REPORT / "runs.csv", REPORT / "summary.csv", published=bad)
    _one_line_error(res, "bad value 5 for 'nb201.columns' (expected a list of column names)")


def _evaluation(tmp_path: Path, **edit) -> Path:
    """An evaluation.json made from the committed runs table's first row, edited."""
    import pandas as pd

    row = pd.read_csv(REPORT / "runs.csv").iloc[0]
    record = row.astype(object).where(row.notna(), None).to_dict()  # a missing value is null
    record.update(edit)
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps(record, default=str))
    return path


@pytest.mark.parametrize(
    "edit, needle",
    [
        ({"cifar10_test": "high"}, "column 'cifar10_test' holds 'high'"),
        ({"arch": 123}, "column 'arch' holds 123"),
        ({"dataset": "mnist"}, "column 'dataset' holds 'mnist' (expected one of cifar10"),
    ],
)
def test_a_bad_evaluation_names_its_file(tmp_path, edit, needle):
    path = _evaluation(tmp_path, **edit)
    runs, summary = tmp_path / "runs.csv", tmp_path / "summary.csv"
    args = ["aggregate", str(path), "--published", str(PUBLISHED)]
    res = _isdarts(*args, "--runs", str(runs), "--summary", str(summary))
    _one_line_error(res, f"{path}: {needle}")
    assert not runs.exists() and not summary.exists()


def test_a_null_evaluation_is_a_one_line_error(tmp_path):
    path = tmp_path / "evaluation.json"
    path.write_text("null\n")
    args = ["aggregate", str(path), "--published", str(PUBLISHED)]
    res = _isdarts(*args, "--runs", str(tmp_path / "r.csv"), "--summary", str(tmp_path / "s.csv"))
    _one_line_error(res, "expected a JSON object")


@pytest.mark.parametrize(
    "edit, needle",
    [
        ({"arch": 123}, "bad value 123 for 'arch' (expected a NAS-Bench-201 cell string"),
        ({"seed": -1}, "bad value -1 for 'seed'"),
        ({"epochs": "14"}, "bad value '14' for 'epochs'"),
        (None, "expected a mapping of keys to values, not None"),
    ],
)
def test_a_bad_search_result_is_not_evaluated(tmp_path, bench, edit, needle):
    import pandas as pd

    row = pd.read_csv(REPORT / "runs.csv").iloc[0]
    keys = ("space", "method", "dataset", "profile", "arch")
    result = {k: row[k] for k in keys} | {"seed": 0, "epochs": 14, "wall_seconds": 1.0}
    result = None if edit is None else result | edit
    run = tmp_path / "run"
    run.mkdir()
    (run / "result.json").write_text(json.dumps(result))
    out = tmp_path / "evaluation.json"
    res = _isdarts("evaluate", "--run", str(run), "--out", str(out), "--bench", str(bench.path))
    _one_line_error(res, needle)
    assert not out.exists()


@pytest.mark.parametrize("verb", ["search", "evaluate", "report"])
def test_an_empty_output_path_is_refused(tmp_path, verb):
    """`--out ''` would write into the working directory."""
    before = sorted(Path.cwd().iterdir())
    extra = {
        "search": ["--method", "isdarts", "--profile", "smoke"],
        "evaluate": ["--run", str(tmp_path)],
        "report": ["--runs", "r.csv", "--summary", "s.csv", "--published", str(PUBLISHED)],
    }[verb]
    res = _isdarts(verb, *extra, "--out", "")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "argument --out: expected a path, got an empty string" in res.stderr
    assert sorted(Path.cwd().iterdir()) == before
