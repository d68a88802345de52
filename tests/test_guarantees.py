"""What a user can rely on when a file the harness reads is hostile or damaged: a YAML or JSON
document that names a key twice is refused (naming the key and both lines), a checkpoint never
runs code, and a checkpoint whose saved state is damaged is one line, not a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
import yaml
from cli_helpers import REPO, isdarts, one_line_error
from hypothesis import given, settings
from hypothesis import strategies as st

from isdarts._io import parse_json, read_yaml
from isdarts.errors import IsdartsError

KEYS = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
SCALARS = st.one_of(st.integers(-1000, 1000), st.booleans(), st.text("xyz", max_size=4))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, SCALARS, min_size=1, max_size=6), st.data())
def test_yaml_with_a_key_given_twice_is_refused(tmp_path_factory, mapping, data):
    key = data.draw(st.sampled_from(sorted(mapping)))
    lines = [yaml.safe_dump({k: v}).strip() for k, v in mapping.items()]
    at = data.draw(st.integers(0, len(lines)))
    lines.insert(at, yaml.safe_dump({key: 1}).strip())
    path = tmp_path_factory.mktemp("y") / "p.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IsdartsError) as err:
        read_yaml(path)
    message = str(err.value)
    assert f"key {key!r} given twice" in message and str(path) in message
    first, second = sorted(i + 1 for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    assert f"lines {first} and {second}" in message


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, SCALARS, min_size=1, max_size=6), st.data())
def test_json_with_a_key_given_twice_is_refused(mapping, data):
    key = data.draw(st.sampled_from(sorted(mapping)))
    nested = data.draw(st.booleans())
    pairs = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in mapping.items()]
    pairs.insert(data.draw(st.integers(0, len(pairs))), f"{json.dumps(key)}: 0")
    body = "{\n" + ",\n".join(pairs) + "\n}"
    text = '{"outer": ' + body + "}" if nested else body
    with pytest.raises(IsdartsError, match=f"key {key!r} given twice"):
        parse_json(text, "x.json")


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, SCALARS, max_size=6))
def test_yaml_and_json_without_duplicates_read_as_before(tmp_path_factory, mapping):
    path = tmp_path_factory.mktemp("y") / "p.yaml"
    path.write_text(yaml.safe_dump(mapping))
    assert (read_yaml(path) or {}) == mapping
    assert parse_json(json.dumps(mapping), "x.json") == mapping


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n")
    assert read_yaml(path)["other"] == {"x": 3, "y": 2}


def test_a_profile_with_a_key_given_twice_is_one_line(tmp_path):
    text = (REPO / "config" / "profiles" / "smoke.yaml").read_text()
    path = tmp_path / "twice.yaml"
    path.write_text(text.replace("\nepochs: ", "\nepochs: 5\nepochs: ", 1))
    assert path.read_text() != text
    res = isdarts(
        "search", "--method", "isdarts", "--profile", str(path), "--out", str(tmp_path / "run")
    )
    one_line_error(res, "key 'epochs' given twice")
    assert not (tmp_path / "run").exists()


class _RunsCode:
    """An object whose unpickling runs a shell command (what a hostile checkpoint holds)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_that_would_run_code_is_refused_unread(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    marker = tmp_path / "ran"
    torch.save({"identity": {}, "state": _RunsCode(marker)}, out / "checkpoint.pt")
    res = isdarts(
        "search", "--method", "isdarts", "--profile", "smoke", "--device", "cpu", "--out", str(out)
    )
    one_line_error(res, "refused, it holds more than tensors and plain values")
    assert not marker.exists()


class _Stop(Exception):
    pass


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory, cifar10, bench):
    """A smoke search stopped after its second epoch: its checkpoint and log."""
    from isdarts.search.loop import SearchRequest, run_search
    from isdarts.spaces.nb201.profile import load_profile

    out = tmp_path_factory.mktemp("stopped") / "run"
    threads = torch.get_num_threads()

    def stop(epoch: int) -> None:
        if epoch >= 2:
            raise _Stop

    req = SearchRequest("isdarts", "cifar10", 0, load_profile("smoke"), out, device="cpu")
    try:
        with pytest.raises(_Stop):
            run_search(req, stop)
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.mark.parametrize(
    "edit, needle",
    [
        (
            lambda c: c["state"].update(epoch=-3),
            "damaged checkpoint (epoch -3 of 6 with 2 log rows)",
        ),
        (lambda c: c["state"].update(epoch=9), "damaged checkpoint (epoch 9 of 6"),
        (lambda c: c.update(state="garbage"), "damaged checkpoint (no epoch count and log)"),
        (lambda c: c.pop("state"), "damaged checkpoint (no epoch count and log)"),
        (lambda c: c.pop("net"), "its saved state does not fit this run: KeyError"),
        (lambda c: c.update(net={"x": torch.zeros(1)}), "does not fit this run"),
    ],
)
def test_a_damaged_checkpoint_is_one_line(stopped_run, tmp_path, edit, needle):
    out = tmp_path / "run"
    out.mkdir()
    ckpt = torch.load(stopped_run / "checkpoint.pt", weights_only=True)
    edit(ckpt)
    torch.save(ckpt, out / "checkpoint.pt")
    log = (stopped_run / "log.jsonl").read_text()
    (out / "log.jsonl").write_text(log)
    res = isdarts(
        "search", "--method", "isdarts", "--profile", "smoke", "--device", "cpu", "--out", str(out)
    )
    one_line_error(res, needle)
    assert (out / "log.jsonl").read_text() == log  # nothing rewritten


# ---------- no verb writes over a file it did not make ----------
def _search(out: Path, *extra: str):
    return isdarts(
        "search", "--method", "isdarts", "--profile", "smoke", "--device", "cpu",
        "--out", str(out), *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    "name, text, needle",
    [
        ("notes.txt", "mine\n", "holds files that are not this run's (notes.txt)"),
        ("log.jsonl", "my own log\n", "log.jsonl: not a run log of this harness"),
        ("log.jsonl", '{"step": 1}\n', "log.jsonl: not a run log of this harness"),
    ],
)
def test_a_search_never_writes_over_a_users_file(tmp_path, name, text, needle):
    out = tmp_path / "mine"
    out.mkdir()
    (out / name).write_text(text)
    one_line_error(_search(out), needle)
    assert (out / name).read_text() == text
    assert sorted(p.name for p in out.iterdir()) == [name]


def test_a_run_log_left_without_its_checkpoint_is_replaced(stopped_run, tmp_path):
    """Deleting the checkpoint to start over (what the messages advise) still works."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "log.jsonl").write_text((stopped_run / "log.jsonl").read_text())
    res = _search(out)
    assert res.returncode == 0, res.stderr
    assert "resuming" not in res.stderr
    assert len((out / "log.jsonl").read_text().splitlines()) == 6


def test_genotype_plot_never_writes_over_its_input(tmp_path):
    g = tmp_path / "g.json"
    res = isdarts("genotype", "darts_v2", "--json")
    assert res.returncode == 0, res.stderr
    g.write_text(json.dumps(json.loads(res.stdout)["genotype"]))
    before = g.read_bytes()
    one_line_error(isdarts("genotype", str(g), "--plot", str(g)), "would overwrite it")
    assert g.read_bytes() == before


def test_nb201_import_never_replaces_a_table_unasked(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("mine\n")
    nats = tmp_path / "nats"  # checked after the output: no folder needed
    res = isdarts("nb201", "import", "--nats", str(nats), "--out", str(table))
    one_line_error(res, "exists (pass --force to replace it)")
    assert table.read_text() == "mine\n"


# ---------- a profile says what it leaves to the defaults ----------
def _profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def test_a_profile_without_a_methods_block_says_so(tmp_path, cifar10, bench):
    from isdarts.config import profiles
    from isdarts.search.cli import say_defaults
    from isdarts.spaces.nb201.profile import load_profile

    smoke = (REPO / "config" / "profiles" / "smoke.yaml").read_text()
    text = smoke.split("\ngdas:")[0].replace("\ntrain_subset:", "\n#", 1) + "\n"
    prof = load_profile(_profile(tmp_path, text))
    path, missing = profiles.defaulted(prof)
    assert "train_subset" in missing and "gdas" in missing and "darts" not in missing
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        say_defaults(prof, "gdas", "nb201")
        say_defaults(prof, "darts", "nb201")
    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert "does not name train_subset, gdas:" in lines[0]
    assert "gdas" not in lines[1] and "train_subset" in lines[1]


def test_a_full_profile_says_nothing():
    import contextlib
    import io

    from isdarts.search.cli import say_defaults
    from isdarts.spaces.nb201.profile import load_profile

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        for method in ("isdarts", "darts", "gdas", "enas", "setn", "snas", "idarts"):
            say_defaults(load_profile("cpu"), method, "nb201")
    assert err.getvalue() == ""


def test_a_train_subset_above_the_data_is_an_error(tmp_path, cifar10, bench):
    smoke = (REPO / "config" / "profiles" / "smoke.yaml").read_text()
    import re

    text = re.sub(r"\ntrain_subset: *\d+", "\ntrain_subset: 60000", smoke, count=1)
    assert text != smoke
    path = _profile(tmp_path, text)
    res = isdarts(
        "search", "--method", "isdarts", "--profile", str(path), "--device", "cpu",
        "--out", str(tmp_path / "run"),
    )  # fmt: skip
    one_line_error(res, "train_subset 60000 exceeds the 50,000 training images of cifar10")


# ---------- what a verb reads from two places agrees ----------
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, cifar10, bench):
    out = tmp_path_factory.mktemp("finished") / "run"
    res = _search(out)
    assert res.returncode == 0, res.stderr
    return out


def _copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in ("result.json", "log.jsonl"):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


@pytest.mark.parametrize(
    "field, value, needle",
    [
        ("seed", 5, "seed 5 disagrees with its identity (0)"),
        ("method", "darts", "method 'darts' disagrees with its identity ('isdarts')"),
    ],
)
def test_evaluate_refuses_a_result_whose_fields_disagree_with_its_identity(
    finished_run, tmp_path, field, value, needle
):
    run = _copy_run(finished_run, tmp_path / "run")
    result = json.loads((run / "result.json").read_text())
    result[field] = value
    (run / "result.json").write_text(json.dumps(result))
    res = isdarts("evaluate", "--run", str(run), "--out", str(tmp_path / "e.json"))
    one_line_error(res, needle)
    assert not (tmp_path / "e.json").exists()


def test_evaluate_refuses_edited_profile_settings(finished_run, tmp_path):
    run = _copy_run(finished_run, tmp_path / "run")
    result = json.loads((run / "result.json").read_text())
    result["profile_settings"]["epochs"] = 30
    (run / "result.json").write_text(json.dumps(result))
    res = isdarts("evaluate", "--run", str(run), "--out", str(tmp_path / "e.json"))
    one_line_error(res, "profile_settings disagree with its identity in epochs")


def _aggregate(finished_run, tmp_path, published=REPO / "config" / "published.yaml"):
    evaluation = tmp_path / "e.json"
    res = isdarts("evaluate", "--run", str(finished_run), "--out", str(evaluation))
    assert res.returncode == 0, res.stderr
    runs, summary = tmp_path / "runs.csv", tmp_path / "summary.csv"
    return runs, summary, isdarts(
        "aggregate", str(evaluation), "--published", str(published),
        "--runs", str(runs), "--summary", str(summary),
    )  # fmt: skip


def test_report_refuses_a_summary_edited_away_from_its_runs(finished_run, tmp_path):
    runs, summary, res = _aggregate(finished_run, tmp_path)
    assert res.returncode == 0, res.stderr
    lines = summary.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("mean")] = "99.9000"
    summary.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    res = isdarts(
        "report", "--runs", str(runs), "--summary", str(summary),
        "--published", str(REPO / "config" / "published.yaml"), "--out", str(tmp_path / "r.md"),
    )  # fmt: skip
    one_line_error(res, "mean 99.9 is not that of its runs")
    assert not (tmp_path / "r.md").exists()


def test_a_published_value_outside_0_to_100_is_refused(finished_run, tmp_path):
    text = (REPO / "config" / "published.yaml").read_text()
    bad = tmp_path / "published.yaml"
    bad.write_text(text.replace("[80.42,", "[500,", 1))
    assert bad.read_text() != text
    _, _, res = _aggregate(finished_run, tmp_path, published=bad)
    one_line_error(res, "expected an accuracy in % (0..100)")


def test_run_files_must_be_the_reports_runs_and_nothing_else_is_touched(finished_run, tmp_path):
    from isdarts.report.runfiles import copy_run_files

    out = tmp_path / "runs"
    other = out / "darts" / "cifar10" / "seed7"
    other.mkdir(parents=True)
    for name in ("result.json", "log.jsonl"):
        (other / name).write_text("{}\n")
    with pytest.raises(IsdartsError, match=r"--results: 1 of the report's runs missing"):
        copy_run_files([finished_run], out, {("isdarts", "cifar10", 0), ("darts", "cifar10", 1)})
    with pytest.raises(IsdartsError, match=r"--results: 1 not in the report"):
        copy_run_files([finished_run], out, set())
    with pytest.raises(IsdartsError, match=r"holds darts/cifar10/seed7, not a run of this report"):
        copy_run_files([finished_run], out, {("isdarts", "cifar10", 0)})
    assert (other / "result.json").read_text() == "{}\n"  # nothing deleted
    assert not (out / "isdarts").exists()  # nothing copied either
    for name in ("result.json", "log.jsonl"):
        (other / name).unlink()
    (folder,) = copy_run_files([finished_run], out, {("isdarts", "cifar10", 0)})
    assert folder == out / "isdarts" / "cifar10" / "seed0"


def test_run_files_never_leave_their_folder(finished_run, tmp_path):
    from isdarts.report.runfiles import copy_run_files

    run = _copy_run(finished_run, tmp_path / "run")
    result = json.loads((run / "result.json").read_text())
    for method in ("../../victim", "/abs/victim"):
        (run / "result.json").write_text(json.dumps({**result, "method": method}))
        with pytest.raises(IsdartsError, match="not a plain name"):
            copy_run_files([run], tmp_path / "out")
    assert not (tmp_path / "victim").exists()


def test_a_finished_run_in_a_read_only_folder_is_nothing_to_do(finished_run, tmp_path):
    run = _copy_run(finished_run, tmp_path / "ro")
    run.chmod(0o555)
    try:
        if os.access(run, os.W_OK):  # root writes anyway: the case cannot arise
            pytest.skip("running as root: a read-only folder is still writable")
        res = _search(run)
        assert res.returncode == 0, res.stderr
        assert "nothing to do" in res.stderr
    finally:
        run.chmod(0o755)


def test_a_huge_profile_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("channels: 8\nx: [" + "1, " * 200_000 + "1]\n")
    res = isdarts(
        "search", "--method", "isdarts", "--profile", str(path), "--out", str(tmp_path / "r")
    )
    one_line_error(res, "bytes (expected a profile of settings, at most 256,000 bytes)")


def test_a_write_error_names_the_path_asked_for(tmp_path):
    from isdarts._io import write_text_atomic

    target = tmp_path / "x.png"
    target.mkdir()
    with pytest.raises(IsdartsError) as err:
        write_text_atomic(target, "data")
    assert str(err.value).startswith(f"{target}: ") and ".tmp" not in str(err.value)


def test_a_data_pickle_that_would_run_code_is_refused(tmp_path):
    import pickle

    from isdarts.data._formats import _unpickle

    marker = tmp_path / "ran"
    path = tmp_path / "data_batch_1"
    with open(path, "wb") as f:
        pickle.dump({b"data": _RunsCode(marker), b"labels": [0]}, f)
    with pytest.raises(IsdartsError, match=r"refused: it names (posix|os)\.system"):
        _unpickle(path)
    assert not marker.exists()


def test_a_nats_file_that_would_run_code_is_refused(tmp_path):
    import bz2
    import pickle
    import shutil

    from isdarts.bench.nats import import_nats

    src = Path(os.environ.get("ISDARTS_MIRROR", REPO.parent / "shared" / "data"))
    src = src / "nb201" / "NATS-tss-v1_0-3ffb9-simple"
    if not src.is_dir():
        pytest.skip("no NATS-Bench fixture in the data mirror")
    folder = tmp_path / "nats"
    shutil.copytree(src, folder)
    marker = tmp_path / "ran"
    first = sorted(folder.glob("[0-9]*.pickle.pbz2"))[0]
    with bz2.BZ2File(first, "wb") as f:
        pickle.dump({"x": _RunsCode(marker)}, f)
    with pytest.raises(IsdartsError, match="refused: it names"):
        import_nats(folder, tmp_path / "t.csv", partial=True)
    assert not marker.exists() and not (tmp_path / "t.csv").exists()


def test_a_workflow_config_with_a_key_given_twice_is_refused(tmp_path):
    import subprocess
    import sys

    config = tmp_path / "dup.yaml"
    config.write_text("profile: smoke\nprofile: cpu\n")
    snakemake = Path(sys.executable).parent / "snakemake"
    res = subprocess.run(
        [str(snakemake), "-n", "--configfile", str(config), "--directory", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode != 0
    assert "key 'profile' given twice (lines 1 and 2)" in res.stdout + res.stderr


# ---------- property-based: readers never raise anything but their one-line error ----------
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_read_or_refused_in_one_line(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("b") / "x"
    path.write_bytes(blob)
    for read in (read_yaml, lambda p: parse_json(p.read_bytes().decode("latin-1"), str(p))):
        try:
            read(path)
        except IsdartsError as exc:
            assert "\n" not in str(exc).strip()


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["result.json", "log.jsonl"]), st.data())
def test_random_edits_of_a_finished_run_are_caught_or_harmless(
    finished_run, bench, tmp_path_factory, name, data
):
    """Any edit of a finished run's files: evaluate either gives the run's own cell or a
    one-line error, never a traceback or another cell."""
    from isdarts.report.evaluate import evaluate

    run = _copy_run(finished_run, tmp_path_factory.mktemp("edit") / "run")
    text = (run / name).read_text()
    start = data.draw(st.integers(0, len(text) - 1))
    length = data.draw(st.integers(1, 12))
    insert = data.draw(st.text('0123456789.,:{}[]"x- \n', max_size=12))
    edited = text[:start] + insert + text[start + length :]
    (run / name).write_text(edited)
    try:
        record = evaluate(run, bench)
    except IsdartsError as exc:
        assert "\n" not in str(exc).strip()
        return
    original = json.loads((finished_run / "result.json").read_text())
    assert record["arch"] == original["arch"]


@pytest.mark.parametrize(
    "key, value, needle",
    [
        ("partial_channels", 3, "'pcdarts.partial_channels' (3) must divide 'channels' (4)"),
        ("warmup_epochs", 9, "'pcdarts.warmup_epochs' (9) must be below 'pcdarts.epochs'"),
    ],
)
def test_block_settings_that_cannot_work_are_refused(tmp_path, key, value, needle):
    import re

    smoke = (REPO / "config" / "profiles" / "smoke.yaml").read_text()
    head, block = smoke.split("\npcdarts:", 1)
    block = re.sub(rf"\n  {key}: *\d+", f"\n  {key}: {value}", block, count=1)
    path = _profile(tmp_path, head + "\npcdarts:" + block)
    assert path.read_text() != smoke
    res = isdarts(
        "search", "--method", "pcdarts", "--profile", str(path), "--out", str(tmp_path / "r")
    )
    one_line_error(res, needle)
