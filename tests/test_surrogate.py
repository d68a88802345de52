"""YAHPO-NB301 surrogate scores: encoding, reference cells, errors, CLI, yahpo_gym cross-check."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from isdarts.bench import surrogate as sg
from isdarts.cli import main
from isdarts.errors import IsdartsError
from isdarts.spaces.darts.names import PRIMITIVES, Genotype, load_genotype


@pytest.fixture(scope="module")
def data():
    """The surrogate folder (mirror's nb301-yahpo); onnxruntime comes with the dev extra."""
    pytest.importorskip("onnxruntime")
    return sg.resolve_data_dir()


def _random_genotype(rng: random.Random) -> Genotype:
    """A genotype the NAS-Bench-301 space can express (two distinct inputs per node)."""
    cells = []
    for _ in range(2):
        pairs = []
        for i in range(4):
            for inp in sorted(rng.sample(range(i + 2), 2)):
                pairs.append((rng.choice(PRIMITIVES[1:]), inp))
        cells.append(tuple(pairs))
    return Genotype(cells[0], (2, 3, 4, 5), cells[1], (2, 3, 4, 5))


def _same_input() -> Genotype:
    g = load_genotype("darts_v2")
    normal = list(g.normal)
    normal[2:4] = [("sep_conv_3x3", 1), ("dil_conv_3x3", 1)]  # node 3: both ops from input 1
    return Genotype(tuple(normal), g.normal_concat, g.reduce, g.reduce_concat)


def test_darts_v2_scores_in_plausible_range(data) -> None:
    value = sg.score(load_genotype("darts_v2"))
    assert 90.0 < value < 96.0
    assert sg.score(load_genotype("darts_v2"), epoch=98) == value  # deterministic
    assert sg.score_batch([load_genotype("darts_v2")] * 3) == [value] * 3
    # the learning curve rises: epoch 1 is far below epoch 98
    assert sg.score(load_genotype("darts_v2"), epoch=1) < value - 20


def test_isdarts_published_is_unscorable_but_has_near_variants(data) -> None:
    g = load_genotype("isdarts_published")  # reduce node 3: dil_conv_5x5 and sep_conv_5x5 from 2
    reason = sg.unscorable_reason(g)
    assert reason is not None and "reduce cell node 3" in reason and "input 2" in reason
    with pytest.raises(sg.Unscorable, match="YAHPO-NB301 surrogate cannot score") as err:
        sg.score(g)
    assert isinstance(err.value, IsdartsError) and "\n" not in str(err.value)
    assert sg.score_batch([g, load_genotype("darts_v2")])[0] is None
    variants = sg.nearest_variants(g)
    assert len(variants) == 4  # two ops x the two other inputs (0, 1) of node 3
    assert all(sg.unscorable_reason(v) is None for v in variants)
    scores = sg.score_batch(variants)
    assert all(90.0 < s < 96.0 for s in scores)


def test_same_input_genotype_is_reported_not_scored(data) -> None:
    g = _same_input()
    assert "normal cell node 3 takes both ops (sep_conv_3x3, dil_conv_3x3) from input 1" in (
        sg.unscorable_reason(g)
    )
    with pytest.raises(sg.Unscorable):
        sg.to_config(g)
    assert sg.score_batch([g]) == [None]
    assert sg.nearest_variants(load_genotype("darts_v2")) == []
    assert len(sg.nearest_variants(g)) == 4  # node 3: either op, to input 0 or 2
    with pytest.raises(IsdartsError, match="4 nearest variants \\(limit 3\\)"):
        sg.nearest_variants(g, limit=3)


def test_concat_other_than_all_nodes_is_unscorable() -> None:
    g = load_genotype("darts_v2")
    g = Genotype(g.normal, (2, 3, 4), g.reduce, g.reduce_concat)
    assert "concatenates nodes [2, 3, 4]" in sg.unscorable_reason(g)


def test_config_matches_config_space_conditions(data) -> None:
    """Active edges are exactly those the config space's IN conditions allow, values legal."""
    space = json.loads((data / "config_space.json").read_text())
    hps = {h["name"]: h for h in space["hyperparameters"]}
    conds = {c["child"]: c for c in space["conditions"]}
    assert all(c["type"] == "IN" for c in conds.values()) and not space["forbiddens"]
    assert set(sg.CAT_NAMES) | {"epoch"} == set(hps)
    rng = random.Random(0)
    for g in [load_genotype("darts_v2"), *(_random_genotype(rng) for _ in range(50))]:
        config = sg.to_config(g, epoch=17)
        for name, value in config.items():
            assert name in hps and (name == "epoch" or value in hps[name]["choices"])
        for name in hps:
            if name == "epoch" or "inputs_node" in name:
                assert name in config
                continue
            active = name not in conds or config[conds[name]["parent"]] in conds[name]["values"]
            assert (name in config) == active, name


def test_epoch_and_data_dir_errors(tmp_path, monkeypatch) -> None:
    with pytest.raises(IsdartsError, match=r"epoch must be an integer in 1\.\.98, got 99"):
        sg.score(load_genotype("darts_v2"), epoch=99)
    with pytest.raises(IsdartsError) as err:
        sg.score(load_genotype("darts_v2"), data_dir=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "model.onnx") in msg
    monkeypatch.setenv("ISDARTS_MIRROR", str(tmp_path))
    with pytest.raises(IsdartsError) as err:
        sg.resolve_data_dir()
    assert "\n" not in str(err.value) and str(tmp_path / "nb301-yahpo") in str(err.value)


def test_missing_onnxruntime_names_the_extra(data, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    sg._model.cache_clear()
    try:
        with pytest.raises(IsdartsError, match=r"pip install 'isdarts\[surrogate\]'"):
            sg.score(load_genotype("darts_v2"))
    finally:
        sg._model.cache_clear()


def test_cli_json_and_text(data, tmp_path, capsys) -> None:
    result = tmp_path / "result.json"
    result.write_text(
        json.dumps({"method": "darts", "genotype": load_genotype("darts_v2").to_dict()})
    )
    assert (
        main(
            [
                "surrogate",
                "darts_v2",
                str(result),
                "isdarts_published",
                "--json",
                "--epoch",
                "50",
                "--nearest",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["surrogate"] == "YAHPO-NB301 surrogate" and out["epoch"] == 50
    rows = out["results"]
    assert rows[0]["score"] == rows[1]["score"] == round(sg.score(load_genotype("darts_v2"), 50), 4)
    assert rows[0]["reason"] is None and "nearest" not in rows[0]
    assert rows[2]["score"] is None and "node 3" in rows[2]["reason"]
    assert rows[2]["nearest"]["n"] == 4 and "approximation" in rows[2]["nearest"]["note"]
    assert main(["surrogate", "darts_v2", "isdarts_published"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("YAHPO-NB301 surrogate") and "no score:" in text
    assert main(["surrogate", "darts_v2", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(tmp_path / "model.onnx") in err


def test_cli_out_file_carries_genotypes(data, tmp_path, capsys) -> None:
    out = tmp_path / "sub" / "surrogate.json"
    assert main(["surrogate", "darts_v2", "isdarts_published", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("YAHPO-NB301 surrogate")
    rec = json.loads(out.read_text())
    assert rec["surrogate"] == "YAHPO-NB301 surrogate" and rec["missing"] is None
    rows = rec["results"]
    assert [r["name"] for r in rows] == ["darts_v2", "isdarts_published"]
    assert rows[0]["genotype"] == load_genotype("darts_v2").to_dict()
    assert rows[0]["score"] == round(sg.score(load_genotype("darts_v2")), 4)
    assert rows[1]["score"] is None and "node 3" in rows[1]["reason"]


def test_cli_allow_missing_writes_null_scores(tmp_path, capsys) -> None:
    out = tmp_path / "surrogate.json"
    args = ["surrogate", "darts_v2", "isdarts_published", "--data-dir", str(tmp_path)]
    assert main([*args, "--out", str(out)]) == 2  # missing files: an error without the flag
    assert not out.exists()
    capsys.readouterr()
    assert main([*args, "--out", str(out), "--allow-missing", "--nearest"]) == 0
    assert "no scores" in capsys.readouterr().out
    rec = json.loads(out.read_text())
    assert str(tmp_path) in rec["missing"] and "\n" not in rec["missing"]
    rows = rec["results"]
    assert [r["score"] for r in rows] == [None, None] and "nearest" not in rows[1]
    assert rows[0]["reason"] == rec["missing"] and "node 3" in rows[1]["reason"]
    assert rows[1]["genotype"] == load_genotype("isdarts_published").to_dict()
    assert main([*args, "--allow-missing", "--epoch", "99"]) == 2  # a bad epoch is still an error


def test_cli_allow_missing_onnxruntime(data, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    sg._model.cache_clear()
    try:
        args = ["surrogate", "darts_v2", "--data-dir", str(data), "--json"]
        assert main(args) == 2
        capsys.readouterr()
        assert main([*args, "--allow-missing"]) == 0
    finally:
        sg._model.cache_clear()
    printed = json.loads(capsys.readouterr().out)
    assert "onnxruntime" in printed["missing"] and printed["results"][0]["score"] is None


# --- cross-check against yahpo_gym's own BenchmarkSet("nb301").objective_function ------------
# yahpo-gym 1.0.2 pins numpy<2 and ConfigSpace 0.6, so it usually lives in a separate venv:
# ISDARTS_YAHPO_PYTHON=/path/to/venv/bin/python (with yahpo-gym==1.0.2 and onnxruntime).

_YAHPO_SCRIPT = r"""
import json, os, sys, tempfile
data = sys.argv[1]
tmp = tempfile.mkdtemp()
os.symlink(data, os.path.join(tmp, "nb301"))
settings = os.path.join(tmp, "settings.yaml")
with open(settings, "w") as fh:
    fh.write("data_path: " + tmp + "\n")
os.environ["YAHPO_LOCAL_CONFIG"] = settings
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # it prints a citation request
    from yahpo_gym import BenchmarkSet
    bench = BenchmarkSet("nb301", multithread=False)  # check=True: ConfigSpace validates configs
out = [bench.objective_function(c)[0]["val_accuracy"] for c in json.load(sys.stdin)]
print(json.dumps([float(v) for v in out]))
"""


def _yahpo_python() -> str | None:
    env = os.environ.get("ISDARTS_YAHPO_PYTHON")
    if env:
        return env
    try:
        import yahpo_gym  # noqa: F401
    except ImportError:
        return None
    return sys.executable


@pytest.mark.skipif(
    _yahpo_python() is None,
    reason="yahpo_gym not installed (set "
    "ISDARTS_YAHPO_PYTHON to a python with yahpo-gym==1.0.2 to run it)",
)
def test_agrees_with_yahpo_gym(data) -> None:
    rng = random.Random(1)
    genotypes = [
        load_genotype("darts_v2"),
        *sg.nearest_variants(load_genotype("isdarts_published")),
        *(_random_genotype(rng) for _ in range(10)),
    ]
    epochs = [98, 1, 50, 98, 7] + [rng.randint(1, 98) for _ in genotypes[5:]]
    configs = [sg.to_config(g, e) for g, e in zip(genotypes, epochs)]
    proc = subprocess.run(
        [_yahpo_python(), "-c", _YAHPO_SCRIPT, str(data.resolve())],
        input=json.dumps(configs),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    ours = [sg.score(g, e) for g, e in zip(genotypes, epochs)]
    assert ours == pytest.approx(theirs, abs=1e-4)
