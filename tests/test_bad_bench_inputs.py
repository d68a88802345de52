"""The NAS-Bench-201 table and the prepared data caches, given bad: a row that breaks the schema,
a table or cache whose bytes no longer match their recorded sha256, an index that only looks like
one. Each must be a one-line error naming the file (and row and column) with its fix, exit status
2 and no output; a corrupt cache that can be rebuilt is rebuilt, saying so."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import isdarts as _isdarts
from cli_helpers import one_line_error as _one_line_error

from isdarts import data
from isdarts.bench.nats import import_nats
from isdarts.bench.nb201 import COLUMNS, TABLE_NAME, Benchmark
from isdarts.data import sha_record
from isdarts.data.prepare import NB201_MADE_BY, copy_benchmark_files
from isdarts.data.sources import mirror_root
from isdarts.errors import IsdartsError

BOGUS_CELL = "|bogus_op~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _mirror() -> Path:
    mirror = mirror_root()
    if mirror is None or not (mirror / "nb201" / TABLE_NAME).is_file():
        pytest.skip("no data mirror with the NAS-Bench-201 table")
    return mirror


# ---------- small tables: the first 20 rows of the real one, one cell changed ----------
@pytest.fixture(scope="module")
def table_text(bench) -> tuple[str, list[str]]:
    lines = bench.path.read_text().splitlines(keepends=True)
    return lines[0], lines[1:21]


def _table(tmp_path: Path, table_text, row: int | None = None, column: str = "", value: str = ""):
    """A copy of the first 20 rows with ``column`` of data row ``row`` (0-based) set to ``value``;
    the file's line of that row is ``row + 2``."""
    header, rows = table_text
    rows = list(rows)
    if row is not None:
        names = header.strip().split(",")
        cells = rows[row].rstrip("\n").split(",")
        cells[names.index(column)] = value
        rows[row] = ",".join(cells) + "\n"
    path = tmp_path / "table.csv"
    path.write_text(header + "".join(rows))
    return path


@pytest.mark.parametrize(
    ("row", "column", "value", "needle"),
    [
        (3, "arch_str", BOGUS_CELL, "line 5, column arch_str: architecture '|bogus_op~0|"),
        (4, "cifar10_test", "981.98", "line 6, column cifar10_test: 981.98, expected an accuracy"),
        (5, "index", "5.5x", "line 7, column index: '5.5x', expected an integer benchmark index"),
        (6, "index", "2", "line 8, column index: 2 repeats line 4"),
    ],
)
def test_cli_query_on_a_table_breaking_the_schema(tmp_path, table_text, row, column, value, needle):
    table = _table(tmp_path, table_text, row, column, value)
    line = _one_line_error(_isdarts("nb201", "query", "0", "--table", str(table)), needle)
    assert f"{table}, " in line
    if column == "arch_str":
        assert "unknown op 'bogus_op'" in line


@pytest.mark.parametrize("arch", ["-5", "5.0", "+5", "1e3"])
def test_cli_query_of_a_number_that_is_no_index(bench, arch):
    res = _isdarts("nb201", "query", "--", arch)
    _one_line_error(res, f"architecture '{arch}': not a valid benchmark index")
    assert "0..15624" in res.stderr


def test_cli_query_on_a_corrupt_recorded_table(tmp_path, bench):
    _mirror()
    root = tmp_path / "root"
    copy_benchmark_files(root)
    table = root / "nb201" / TABLE_NAME
    with open(table, "ab") as f:
        f.write(b"\n")  # a blank line: the same table to pandas, not the same bytes
    line = _one_line_error(
        _isdarts("nb201", "query", "5", ISDARTS_DATA=str(root)), f"{table}: sha256 does not match"
    )
    assert line.endswith(f"rerun `{NB201_MADE_BY}`")


def test_cli_prepare_nb201_copies_a_corrupt_table_again(tmp_path, bench):
    mirror = _mirror()
    root = tmp_path / "root"
    copy_benchmark_files(root)
    table = root / "nb201" / TABLE_NAME
    table.write_bytes(table.read_bytes()[:1000])
    res = _isdarts("data", "prepare", "nb201", "--root", str(root))
    assert res.returncode == 0, res.stderr
    assert res.stderr == (
        f"isdarts: {table}: sha256 does not match {TABLE_NAME}.sha256.json (corrupt); "
        "copied it again from the mirror\n"
    )
    assert table.read_bytes() == (mirror / "nb201" / TABLE_NAME).read_bytes()
    assert len(Benchmark.load(table)) == 15625


def test_cli_prepare_nb201_without_a_mirror_names_the_corrupt_file(tmp_path, bench):
    _mirror()
    root = tmp_path / "root"
    copy_benchmark_files(root)
    split = root / "nb201" / "splits" / "cifar-split.txt"
    split.write_bytes(split.read_bytes()[:1000])
    before = _listing(root)
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    res = _isdarts("data", "prepare", "nb201", "--root", str(root), ISDARTS_MIRROR=str(empty))
    _one_line_error(res, f"{split}: sha256 does not match cifar-split.txt.sha256.json (corrupt)")
    assert "no mirror holds splits/cifar-split.txt" in res.stderr
    assert _listing(root) == before


def test_cli_prepare_nb201_keeps_a_corrupt_imported_table_and_names_the_import(tmp_path, bench):
    nats = _mirror() / "nb201" / "NATS-tss-v1_0-3ffb9-simple"
    root = tmp_path / "root"
    copy_benchmark_files(root)
    table = root / "nb201" / TABLE_NAME
    # a partial import never lands on the data root's table ...
    kept = table.read_bytes()
    res = _isdarts("nb201", "import", "--nats", str(nats), "--root", str(root), "--partial")
    _one_line_error(res, "--partial: a partial table never replaces the data root's table")
    assert table.read_bytes() == kept
    # ... a full import does (with --force over the copied table): recorded as one here
    made_by = f"isdarts nb201 import --nats {nats.resolve()} --out {table.resolve()} --force"
    sha_record.write_recorded(table, kept, made_by)
    with open(table, "ab") as f:
        f.write(b"\n")
    before = _listing(root)
    res = _isdarts("data", "prepare", "nb201", "--root", str(root))
    line = _one_line_error(res, f"{table}: sha256 does not match")
    assert f"rerun `isdarts nb201 import --nats {nats.resolve()}" in line
    assert f"`{NB201_MADE_BY} --force` to take the mirror's copy" in line
    assert _listing(root) == before


# ---------- the CIFAR-10 cache ----------
def _cifar10_source(tmp_path: Path) -> Path:
    """A tiny CIFAR-10 in the official pickle layout."""
    src = tmp_path / "src" / "cifar-10-batches-py"
    src.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, (4, 3 * 32 * 32), dtype=np.uint8)
        with open(src / name, "wb") as f:
            pickle.dump({b"data": images, b"labels": [0, 1, 2, 3]}, f)
    return src


def test_cli_prepare_cifar10_rebuilds_a_corrupt_cache(tmp_path):
    src = _cifar10_source(tmp_path)
    folder = data.prepare("cifar10", tmp_path / "root", src_path=src)
    good = _listing(folder)
    with open(folder / "train_images.npy", "r+b") as f:
        f.truncate(1000)
    res = _isdarts(
        "data", "prepare", "cifar10", "--root", str(tmp_path / "root"), "--from", str(src)
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == (
        f"isdarts: {folder / 'train_images.npy'}: sha256 does not match meta.json "
        "(corrupt cache); prepared cifar10 again\n"
    )
    assert res.stdout.startswith("cifar10: train (20, 32, 32, 3)")
    assert _listing(folder) == good
    # an intact cache is left alone, without a word
    res = _isdarts(
        "data", "prepare", "cifar10", "--root", str(tmp_path / "root"), "--from", str(src)
    )
    assert res.returncode == 0 and res.stderr == ""


def test_cli_prepare_cifar10_on_a_corrupt_cache_it_cannot_rebuild(tmp_path):
    folder = data.prepare("cifar10", tmp_path / "root", src_path=_cifar10_source(tmp_path))
    with open(folder / "train_images.npy", "r+b") as f:
        f.truncate(1000)
    before = _listing(folder)
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    res = _isdarts(
        "data",
        "prepare",
        "cifar10",
        "--root",
        str(tmp_path / "root"),
        "--source",
        "mirror",
        ISDARTS_MIRROR=str(empty),
    )
    line = _one_line_error(res, f"{folder / 'train_images.npy'}: sha256 does not match meta.json")
    assert "(corrupt cache) and cannot be prepared again: " in line
    assert "the mirror holds no cifar10 data" in line
    assert _listing(folder) == before


def test_cache_problem_names_each_kind_of_damage(tmp_path):
    from isdarts.data.prepare import cache_problem

    folder = data.prepare("cifar10", tmp_path / "root", src_path=_cifar10_source(tmp_path))
    assert cache_problem(folder) is None
    (folder / "test_labels.npy").unlink()
    assert cache_problem(folder) == f"{folder / 'test_labels.npy'}: missing"
    (folder / "meta.json").write_text("{")
    assert cache_problem(folder) == f"{folder / 'meta.json'}: malformed"


# ---------- unit tests: the sha256 record ----------
def test_sha_record_round_trip_and_mismatch(tmp_path):
    path = tmp_path / "t.csv"
    assert sha_record.read_record(path) is None and sha_record.matches(path, b"") is None
    sha_record.write_recorded(path, b"abc\n", "make t.csv")
    assert path.read_bytes() == b"abc\n"
    entry = json.loads(sha_record.record_path(path).read_text())
    assert entry == {
        "file": "t.csv",
        "sha256": sha_record.sha256(b"abc\n"),
        "bytes": 4,
        "made_by": "make t.csv",
    }
    assert sha_record.record_path(path).name == "t.csv.sha256.json"
    assert sha_record.matches(path, b"abc\n") is True
    sha_record.check(path, b"abc\n")
    assert sha_record.matches(path, b"abd\n") is False
    with pytest.raises(IsdartsError, match=r"t\.csv: sha256 does not match .*rerun `make t\.csv`$"):
        sha_record.check(path, b"abd\n")


@pytest.mark.parametrize("text", ["{", "[]", '{"sha256": "xyz", "made_by": "m"}', '{"sha256": 1}'])
def test_sha_record_malformed_is_an_error_naming_it(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text("x")
    sha_record.record_path(path).write_text(text)
    with pytest.raises(IsdartsError, match=r"t\.csv\.sha256\.json: not a sha256 record"):
        sha_record.check(path, b"x")


def test_prepare_nb201_records_a_legacy_copy_only_if_it_is_the_mirrors(tmp_path, bench):
    mirror = _mirror()
    root = tmp_path / "root"
    copy_benchmark_files(root)
    folder = root / "nb201"
    record = sha_record.record_path(folder / TABLE_NAME)
    assert json.loads(record.read_text())["made_by"] == NB201_MADE_BY
    record.unlink()  # a copy made before records existed
    copy_benchmark_files(root)
    assert record.is_file()
    record.unlink()  # an unrecorded table that differs from the mirror's: kept as it is
    table = folder / TABLE_NAME
    header, *rows = table.read_text().splitlines(keepends=True)
    table.write_text(header + "".join(rows[:3]))
    copy_benchmark_files(root)
    assert not record.exists() and len(Benchmark.load(table)) == 3
    copy_benchmark_files(root, force=True)
    assert table.read_bytes() == (mirror / "nb201" / TABLE_NAME).read_bytes()
    assert record.is_file()


def test_import_records_the_sha256_of_its_table(tmp_path):
    nats = _mirror() / "nb201" / "NATS-tss-v1_0-3ffb9-simple"
    out = import_nats(nats, tmp_path / "n.csv", partial=True)
    entry = sha_record.read_record(out)
    assert entry["sha256"] == sha_record.sha256(out.read_bytes())
    assert entry["made_by"].endswith(f"--out {out.resolve()} --partial")
    assert Benchmark.load(out).indices == [0, 11, 284]
    with open(out, "ab") as f:
        f.write(b"\n")
    with pytest.raises(IsdartsError, match=r"n\.csv: sha256 does not match .*isdarts nb201 import"):
        Benchmark.load(out)


# ---------- unit tests: the table schema ----------
@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (0, "arch_str", "|none~0|+|none~0|none~1|", r"line 2, column arch_str: .*expected 3"),
        (1, "arch_str", "", "line 3, column arch_str: empty, expected a NAS-Bench-201 cell"),
        (2, "arch_str", "7", r"line 4, column arch_str: architecture '7': expected 3"),
        (3, "index", "-1", "line 5, column index: -1, expected an integer benchmark index"),
        (3, "index", "15625", r"line 5, column index: 15625, expected .* within 0\.\.15624"),
        (4, "index", "5.5", "line 6, column index: 5.5, expected an integer"),
        (5, "cifar100_valid", "", r"line 7, column cifar100_valid: empty, expected an accuracy"),
        (6, "imagenet16_test", "abc", r"line 8, column imagenet16_test: 'abc', expected"),
        (7, "cifar10_valid", "inf", r"line 9, column cifar10_valid: inf, expected .*\[0, 100\]"),
        (8, "cifar10_valid", "-0.5", r"line 10, column cifar10_valid: -0\.5, expected"),
    ],
)
def test_schema_names_line_column_and_expectation(
    tmp_path, table_text, row, column, value, message
):
    table = _table(tmp_path, table_text, row, column, value)
    with pytest.raises(IsdartsError, match=f"^{table}, {message}"):
        Benchmark.load(table)


def test_schema_duplicate_arch_and_empty_table(tmp_path, table_text):
    header, rows = table_text
    arch = rows[0].split(",")[1]
    table = _table(tmp_path, table_text, 9, "arch_str", arch)
    with pytest.raises(IsdartsError, match="line 11, column arch_str: '.*' repeats line 2"):
        Benchmark.load(table)
    table.write_text(header)
    with pytest.raises(IsdartsError, match=r"table\.csv: no rows"):
        Benchmark.load(table)


def test_schema_accepts_partial_tables_integer_accuracies_and_extra_columns(tmp_path, table_text):
    header, rows = table_text
    names = header.strip().split(",")
    lines = []
    for line in rows[:3]:
        cells = line.rstrip("\n").split(",")
        for c in COLUMNS:
            cells[names.index(c)] = str(round(float(cells[names.index(c)])))
        lines.append(",".join(cells) + ",extra\n")
    table = tmp_path / "partial.csv"
    table.write_text(header.rstrip("\n") + ",note\n" + "".join(lines))
    b = Benchmark.load(table)
    assert len(b) == 3 and b.values.dtype == np.float64
    assert b.query(b.indices[1])["cifar10_test"] == round(float(rows[1].split(",")[3]))


def test_row_refuses_numbers_that_are_no_index(bench):
    for arch in ("-5", "5.0", " +7", "1e3", 5.0, np.float64(7)):
        with pytest.raises(IsdartsError, match="not a valid benchmark index"):
            bench.query(arch)
    assert bench.query(" 7 ")["index"] == 7 and bench.query(np.int64(7))["index"] == 7
    with pytest.raises(IsdartsError, match="index 15625: not in the benchmark table"):
        bench.query("15625")
