"""``isdarts verify``: a smoke search laid out as a committed report reruns to an identical log;
an edited log line is named; bad input is one line, exit status 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import REPO, isdarts, one_line_error

ENV = {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def verify(report: Path, *args: str):
    return isdarts("verify", str(report), *args, cwd=REPO, **ENV)


@pytest.fixture(scope="module")
def report(tmp_path_factory, cifar10, bench) -> Path:
    """A report folder holding one smoke search: runs/isdarts/cifar10/seed0/."""
    tmp = tmp_path_factory.mktemp("verify")
    run = tmp / "search"
    res = isdarts(
        "search",
        "--method",
        "isdarts",
        "--profile",
        "smoke",
        "--device",
        "cpu",
        "--out",
        str(run),
        cwd=REPO,
        **ENV,
    )
    assert res.returncode == 0, res.stderr
    seed0 = tmp / "report" / "runs" / "isdarts" / "cifar10" / "seed0"
    seed0.mkdir(parents=True)
    for name in ("result.json", "log.jsonl"):
        shutil.copy(run / name, seed0 / name)
    return tmp / "report"


def _copy(report: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the report and its one search folder."""
    copy = tmp_path / "report"
    shutil.copytree(report, copy)
    return copy, copy / "runs" / "isdarts" / "cifar10" / "seed0"


def test_rerun_of_a_committed_search_is_identical(report, tmp_path):
    kept = tmp_path / "kept"
    res = verify(report, "--keep", str(kept))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "identical: isdarts cifar10 seed 0, 6 epochs compared (ignored: seconds)"
    assert lines[1].startswith("committed run: cpu_capability ")
    assert lines[2].startswith("this machine:  cpu_capability ")
    assert len(lines) == 3
    assert {"result.json", "log.jsonl", "checkpoint.pt"} <= {p.name for p in kept.iterdir()}


def test_an_edited_log_value_is_named_with_its_epoch_and_key(report, tmp_path):
    copy, seed0 = _copy(report, tmp_path)
    log = seed0 / "log.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    before = rows[1]["train_loss"]
    rows[1]["train_loss"] = before + 0.5
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = verify(copy)
    assert res.returncode == 1, res.stderr
    first = res.stdout.splitlines()[0]
    assert first.startswith("differs: isdarts cifar10 seed 0, epoch 2, key train_loss: ")
    assert f"committed {before + 0.5}, rerun {before}" in first
    assert "cpu_capability" in res.stdout


def test_a_missing_report_folder_is_one_line(tmp_path):
    one_line_error(verify(tmp_path / "nosuch"), "no such report folder")


def test_bad_selections_and_files_are_one_line_without_a_rerun(report, tmp_path):
    line = one_line_error(
        verify(report, "--seed", "3"), "no committed search isdarts cifar10 seed 3"
    )
    assert "committed: isdarts cifar10 seeds 0" in line
    one_line_error(verify(report, "--method", "darts"), "no committed search darts cifar10 seed 0")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("")
    one_line_error(verify(report, "--keep", str(busy)), "not empty")
    copy, seed0 = _copy(report, tmp_path)
    (seed0 / "result.json").write_text("{not json")
    one_line_error(verify(copy), "not valid JSON")
    (seed0 / "log.jsonl").unlink()
    one_line_error(verify(copy), "missing run file(s) log.jsonl")
