"""Run folders and command-line inputs that must give a one-line error, exit status 2 and no
output: another run's finished result, a folder another run holds, a seed out of range, an
output path that is a file or lies under one."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from isdarts.errors import IsdartsError
from isdarts.run.folder import LOCK, locked
from isdarts.search.loop import SearchRequest, run_search
from isdarts.spaces.darts.names import REFERENCE_GENOTYPES
from isdarts.spaces.nb201.profile import load_profile
from isdarts.train.profile import load_train_profile
from isdarts.train.run import TrainRequest, run_training

pytestmark = pytest.mark.usefixtures("one_thread")


def _isdarts(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "isdarts", *args], capture_output=True, text=True, timeout=300
    )


def _one_line_error(res: subprocess.CompletedProcess, needle: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert "Traceback" not in res.stderr
    assert len(lines) == 1 and lines[0].startswith("isdarts: error: "), res.stderr
    assert needle in lines[0], lines[0]


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
