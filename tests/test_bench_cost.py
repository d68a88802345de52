"""Params and FLOPs of NAS-Bench-201 evaluation networks (isdarts.bench.cost): the official
values of the NATS-Bench test fixture, exactly, and how the counts move when an op changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isdarts.bench import COLUMNS, EDGES, OPS, to_str
from isdarts.bench.cost import (
    DATASETS,
    PREFIXES,
    cost_columns,
    get_cost_info,
    network_cost,
)
from isdarts.data.sources import mirror_root
from isdarts.errors import IsdartsError

ISDARTS_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3")
STAGES = ((16, 32), (32, 16), (64, 8))  # channels and side of each stage on a 32x32 input


def _fixture() -> Path:
    mirror = mirror_root()
    if mirror is None:
        pytest.skip("no data mirror with the NATS-Bench fixture")
    return mirror / "nb201" / "NATS-tss-v1_0-3ffb9-simple"


@pytest.fixture(scope="module")
def official():
    """``{(index, data set): (arch, params M, FLOPs M)}`` read from the official files."""
    nats_bench = pytest.importorskip("nats_bench")
    api = nats_bench.create(str(_fixture()), "tss", fast_mode=True, verbose=False)
    out = {}
    for i in (0, 11, 284):
        for dataset in DATASETS:
            info = api.get_cost_info(i, dataset, hp="200")
            out[i, dataset] = (api.arch(i), float(info["params"]), float(info["flops"]))
    return out


def test_official_fixture_reproduced_exactly(official):
    assert len(official) == 12
    for (i, dataset), (arch, params, flops) in official.items():
        cost = network_cost(arch, dataset)
        # the benchmark stores counts / 1e6 as floats: the same whole numbers
        assert (cost.params, cost.flops) == (round(params * 1e6), round(flops * 1e6)), (i, dataset)
        info = get_cost_info(arch, dataset)
        assert info["params"] == pytest.approx(params, abs=5e-7)
        assert info["flops"] == pytest.approx(flops, abs=5e-6)


def test_known_values_without_the_fixture():
    """Index 284 as the fixture prints it (for machines without the mirror)."""
    arch = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|"
    got = {d: (network_cost(arch, d).params, network_cost(arch, d).flops) for d in DATASETS}
    assert got == {
        "cifar10": (101306, 11715210),
        "cifar10-valid": (101306, 11715210),
        "cifar100": (107156, 11721060),
        "ImageNet16-120": (108456, 2936440),
    }


def test_index_is_looked_up_in_the_table(bench):
    assert get_cost_info(9930, "cifar10", bench) == get_cost_info(ISDARTS_CELL, "cifar10")
    assert get_cost_info("9930", "cifar100", bench) == get_cost_info(ISDARTS_CELL, "cifar100")


def test_errors():
    with pytest.raises(IsdartsError, match="data set 'cifar1000'"):
        network_cost(ISDARTS_CELL, "cifar1000")
    with pytest.raises(IsdartsError, match="unknown op 'conv'"):
        network_cost("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")


def _op_delta(op: str) -> tuple[int, int]:
    """What one edge's op adds to a 32x32 network over a parameter-free op: N = 5 cells a stage."""
    k = {"nor_conv_3x3": 3, "nor_conv_1x1": 1}.get(op)
    if k is None:
        return 0, 0
    params = sum(5 * (k * k * c * c + 2 * c) for c, _ in STAGES)
    flops = sum(5 * k * k * c * c * side * side for c, side in STAGES)
    return params, flops


cells = st.lists(st.sampled_from(OPS), min_size=len(EDGES), max_size=len(EDGES))


@settings(max_examples=200, deadline=None)
@given(cells, st.integers(0, len(EDGES) - 1), st.sampled_from(OPS))
def test_replacing_an_op_adds_exactly_its_count(ops, edge, new):
    before = network_cost(to_str(ops))
    after_ops = list(ops)
    after_ops[edge] = new
    after = network_cost(to_str(after_ops))
    new_p, new_f = _op_delta(new)
    old_p, old_f = _op_delta(ops[edge])
    assert after.params - before.params == new_p - old_p
    assert after.flops - before.flops == new_f - old_f
    # monotone: a convolution never costs less than a parameter-free op, a 3x3 than a 1x1
    if ops[edge] in PARAMETER_FREE and new != ops[edge]:
        assert after.params >= before.params and after.flops >= before.flops


@settings(max_examples=100, deadline=None)
@given(cells)
def test_data_sets_differ_only_where_they_must(ops):
    arch = to_str(ops)
    c10, c100, in16 = (network_cost(arch, d) for d in ("cifar10", "cifar100", "ImageNet16-120"))
    assert network_cost(arch, "cifar10-valid") == c10
    head = {n: 64 * n + n for n in (10, 100, 120)}  # the linear layer: weights and bias
    assert c100.params - c10.params == head[100] - head[10]
    assert c100.flops - c10.flops == head[100] - head[10]
    assert in16.params - c10.params == head[120] - head[10]
    # a 16x16 input: a quarter of every convolution's positions; the linear layer unchanged
    assert in16.flops == (c10.flops - head[10]) // 4 + head[120]
    assert (c10.flops - head[10]) % 4 == 0


@pytest.mark.parametrize("op", ["nor_conv_1x1", "nor_conv_3x3"])
def test_every_conv_edge_costs_the_same(op):
    """The cost of a cell depends only on how many edges hold each op (no edge is pruned)."""
    base = network_cost(to_str(["none"] * len(EDGES)))
    for e in range(len(EDGES)):
        ops = ["skip_connect"] * len(EDGES)
        ops[e] = op
        cost = network_cost(to_str(ops))
        assert (cost.params - base.params, cost.flops - base.flops) == _op_delta(op)


def test_cost_columns_of_the_three_data_sets():
    cols = cost_columns(ISDARTS_CELL)
    assert list(cols) == [f"{p}_{m}" for p in PREFIXES.values() for m in ("params_m", "flops_m")]
    assert cols["cifar10_params_m"] == network_cost(ISDARTS_CELL).params_m
    assert cols["imagenet16_flops_m"] == network_cost(ISDARTS_CELL, "ImageNet16-120").flops_m


def test_cli_query_json_has_the_costs(bench):
    res = subprocess.run(
        [sys.executable, "-m", "isdarts", "nb201", "query", "9930", "--json"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    row = json.loads(res.stdout)
    assert list(row)[:8] == ["index", "arch", *COLUMNS]  # the existing keys first, unchanged
    assert row["index"] == 9930 and row["arch"] == ISDARTS_CELL
    for key, value in cost_columns(ISDARTS_CELL).items():
        assert row[key] == pytest.approx(value, abs=1e-9), key


# --- the runs table's cost columns (isdarts.report) -------------------------------------------

REPORT = Path(__file__).resolve().parents[1] / "reports" / "cpu-n1"


def _older_evaluation(tmp_path: Path, name: str, **edit) -> Path:
    """An evaluation as written before the cost columns (and the evidence and scale columns,
    which came later): the committed runs table's first row."""
    import pandas as pd

    from isdarts.report.evaluate import EVIDENCE_COLUMNS
    from isdarts.report.setup import SCALE_COLUMNS

    record = pd.read_csv(REPORT / "runs.csv").iloc[0].to_dict()
    dropped = ("params_m", "flops_m", *EVIDENCE_COLUMNS, *SCALE_COLUMNS, "profile_recorded")
    record = {k: v for k, v in record.items() if k not in dropped} | edit
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(record, default=str))
    return path


def test_runs_table_costs_new_and_older_evaluations(tmp_path):
    from isdarts.report import aggregate
    from isdarts.report.evaluate import cell_cost

    older = _older_evaluation(tmp_path, "old")
    arch = json.loads(older.read_text())["arch"]
    assert "params_m" not in json.loads(older.read_text())
    newer = _older_evaluation(tmp_path, "new", seed=7, **cell_cost(ISDARTS_CELL))
    table = aggregate.runs_table([older, newer])
    assert list(table.columns[: len(aggregate.RUN_COLUMNS)]) == aggregate.RUN_COLUMNS
    i = list(table.columns).index
    assert i("params_m") == i("imagenet16_test") + 1 and i("flops_m") == i("params_m") + 1
    by_seed = table.set_index("seed")
    cost = network_cost(arch, "cifar10")
    assert by_seed.at[0, "params_m"] == cost.params_m and by_seed.at[0, "flops_m"] == cost.flops_m
    assert by_seed.at[7, "params_m"] == network_cost(ISDARTS_CELL).params_m  # as evaluated
    assert cell_cost(ISDARTS_CELL) == {"params_m": 1.288506, "flops_m": 184.73025}
    # written and read back by the report steps (4 decimals in the CSV)
    from isdarts.report.tables import NB201_RUNS, read_csv

    back = read_csv(aggregate.write_csv(table, tmp_path / "runs.csv"), NB201_RUNS)
    assert back["params_m"].tolist() == pytest.approx(table["params_m"].tolist(), abs=5e-5)


def test_runs_csv_without_cost_columns_is_still_read(tmp_path):
    """A runs table written before the cost columns (the committed one without them)."""
    import pandas as pd

    from isdarts.report.tables import read_tables

    old = pd.read_csv(REPORT / "runs.csv").drop(columns=["params_m", "flops_m"])
    old.to_csv(tmp_path / "runs.csv", index=False)
    runs, _ = read_tables(tmp_path / "runs.csv", REPORT / "summary.csv", "nb201")
    assert "params_m" not in runs.columns and len(runs) == len(old)


@pytest.mark.parametrize("value", [-1.0, 0.0, "many"])
def test_a_bad_cost_in_an_evaluation_is_named(tmp_path, value):
    from isdarts.report import aggregate

    path = _older_evaluation(tmp_path, "bad", params_m=value, flops_m=1.0)
    with pytest.raises(IsdartsError, match=rf"{path}: column 'params_m' holds .*finite number > 0"):
        aggregate.runs_table([path])
