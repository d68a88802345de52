import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from isdarts.bench import COLUMNS, EDGES, OPS, Benchmark, parse, to_str
from isdarts.bench.nats import import_nats
from isdarts.data.sources import mirror_root
from isdarts.errors import IsdartsError

ISDARTS_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
# Known rows from the data mirror's README (rounded to two decimals).
KNOWN = {
    9930: (ISDARTS_CELL, [91.55, 94.36, 73.49, 73.51, 46.37, 46.34]),
    1835: (ALL_SKIP, [39.77, 54.30, 15.03, 15.61, 16.43, 16.32]),
}


def test_parse_and_to_str_round_trip():
    ops = parse(ISDARTS_CELL)
    assert ops == [
        "nor_conv_3x3",
        "nor_conv_3x3",
        "nor_conv_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "nor_conv_3x3",
    ]
    assert to_str(ops) == ISDARTS_CELL
    assert len(EDGES) == 6 and EDGES[0] == (1, 0) and EDGES[-1] == (3, 2)


@pytest.mark.parametrize(
    "bad, fragment",
    [
        (ISDARTS_CELL.replace("skip_connect", "skip"), "unknown op 'skip'"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "3 '+'-separated"),
        (ISDARTS_CELL.replace("~1|+", "~2|+", 1), "should be '<op>~1'"),
        ("nor_conv_3x3~0|+|a~0|b~1|+|c~0|d~1|e~2|", "must start and end"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 inputs"),
    ],
)
def test_parse_rejects_malformed_strings(bad, fragment):
    with pytest.raises(IsdartsError, match=re.escape(fragment)):
        parse(bad)


def test_to_str_rejects_unknown_op():
    with pytest.raises(IsdartsError, match="unknown op 'conv'"):
        to_str(["conv"] * 6)


@pytest.mark.parametrize("index", sorted(KNOWN))
def test_query_known_rows(bench, index):
    arch, values = KNOWN[index]
    assert bench.index(arch) == index and bench.arch(index) == arch
    row = bench.query(arch)
    assert row["index"] == index and row["arch"] == arch
    assert [round(row[c], 2) for c in COLUMNS] == values
    assert bench.query(index) == row


def test_full_table_and_best_values(bench):
    assert len(bench) == 15625
    assert {round(v, 2) for v in [bench.best()["cifar10_test"]]} == {94.37}
    assert [round(bench.best()[c], 2) for c in COLUMNS] == [
        91.61,
        94.37,
        73.49,
        73.51,
        46.73,
        47.31,
    ]
    # every string in the table parses and round-trips
    for arch in bench.archs[:200]:
        assert to_str(parse(arch)) == arch
    assert all(op in OPS for op in parse(bench.arch(15624)))


def test_query_errors(bench):
    with pytest.raises(IsdartsError, match="index 15625"):
        bench.query(15625)
    with pytest.raises(IsdartsError, match="unknown op"):
        bench.query("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(IsdartsError, match="metric 'acc'"):
        bench.metric(0, "acc")


def test_load_rejects_wrong_table(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text("index,arch\n0,x\n")
    with pytest.raises(IsdartsError, match=r"t\.csv: not a NAS-Bench-201 table"):
        Benchmark.load(bad)
    with pytest.raises(IsdartsError, match="missing"):
        Benchmark.load(tmp_path / "nope.csv")


def _nats_fixture() -> Path:
    mirror = mirror_root()
    if mirror is None:
        pytest.skip("no data mirror with the NATS-Bench fixture")
    return mirror / "nb201" / "NATS-tss-v1_0-3ffb9-simple"


def test_official_nats_folder_matches_table(tmp_path, bench):
    out = import_nats(_nats_fixture(), tmp_path / "nats.csv", partial=True)
    official = Benchmark.load(out)
    assert official.indices == [0, 11, 284]
    for i in official.indices:
        ours, theirs = bench.query(i), official.query(i)
        assert ours["arch"] == theirs["arch"]
        for c in COLUMNS:
            assert theirs[c] == pytest.approx(ours[c], abs=1e-4), (i, c)


def test_import_refuses_partial_folder_unless_asked(tmp_path):
    with pytest.raises(IsdartsError, match="holds 3 of 15625"):
        import_nats(_nats_fixture(), tmp_path / "x.csv")
    with pytest.raises(IsdartsError, match="not a NATS-Bench topology folder"):
        import_nats(tmp_path, tmp_path / "x.csv")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "isdarts", *args], capture_output=True, text=True)


def test_cli_query_json_and_errors(bench):
    res = _cli("nb201", "query", ISDARTS_CELL, "--json")
    assert res.returncode == 0, res.stderr
    row = json.loads(res.stdout)
    assert list(row)[:8] == ["index", "arch", *COLUMNS] and row["index"] == 9930
    res = _cli("nb201", "query", "|bogus~0|")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("isdarts: error: architecture")


def test_cli_import_partial(tmp_path):
    res = _cli(
        "nb201",
        "import",
        "--nats",
        str(_nats_fixture()),
        "--out",
        str(tmp_path / "n.csv"),
        "--partial",
    )
    assert res.returncode == 0, res.stderr
    res = _cli("nb201", "query", "11", "--json", "--table", str(tmp_path / "n.csv"))
    assert json.loads(res.stdout)["index"] == 11
