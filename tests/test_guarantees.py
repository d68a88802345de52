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
