"""NAS-Bench-201 look-ups from the compact table of 200-epoch results (mean over seeds).

Columns (NAS-Bench-201 API terms, ``hp="200"``):

============================  =================  =========  ===========================================
column                        data set           set        meaning
============================  =================  =========  ===========================================
``cifar10_valid``             ``cifar10-valid``  x-valid    trained on the 25k train half, on the 25k valid half
``cifar10_test``              ``cifar10``        ori-test   trained on all 50k, on the 10k test set
``cifar100_valid`` / _test    ``cifar100``       x-valid /  the two 5k halves of the CIFAR-100 test set
                                                 x-test
``imagenet16_valid`` / _test  ``ImageNet16-120`` x-valid /  the two 3k halves of the ImageNet16-120 val set
                                                 x-test
============================  =================  =========  ===========================================

These six are the columns of every NAS-Bench-201 table in NAS papers. Loading reads only the
index, string and these six columns; a query is a dict look-up and six array reads.

Loading checks the table: its sha256 against the record beside it when there is one
(``<table>.sha256.json``, written by ``isdarts data prepare nb201`` and ``isdarts nb201 import``;
see :mod:`isdarts.data.sha_record`), then every row against a schema (:func:`validate_table`):
``index`` unique integers in 0..15624, ``arch_str`` unique NAS-Bench-201 cell strings, the six
columns accuracies in [0, 100]. A table may hold fewer than 15,625 rows.
"""

from __future__ import annotations

import functools
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from isdarts._optional import optional
from isdarts.data import sha_record
from isdarts.data.sources import data_root, mirror_root
from isdarts.errors import IsdartsError
from isdarts.spaces.nb201 import names as archmod

COLUMNS: tuple[str, ...] = (
    "cifar10_valid",
    "cifar10_test",
    "cifar100_valid",
    "cifar100_test",
    "imagenet16_valid",
    "imagenet16_test",
)
NUM_ARCHS = 15625
TABLE_NAME = "nb201-200ep-accuracies.csv"
# Dated versions of the table format written into every result that quotes the benchmark.
FORMAT_VERSIONS = {
    "2026-11-28": "isdarts-nb201-v1: 200-epoch mean accuracies, NB201 v1.1 cifar10-valid, NATS tss v1.0 rest",
}
FORMAT_VERSION = "isdarts-nb201-v1"


def default_table() -> Path:
    """``<data root>/nb201/<table>``, else the mirror's copy."""
    local = data_root() / "nb201" / TABLE_NAME
    if local.is_file():
        return local
    mirror = mirror_root()
    if mirror is not None and (mirror / "nb201" / TABLE_NAME).is_file():
        return mirror / "nb201" / TABLE_NAME
    raise IsdartsError(
        f"{local}: NAS-Bench-201 table missing; run `isdarts data prepare nb201` with a mirror, or "
        "download NATS-tss-v1_0-3ffb9-simple and run `isdarts nb201 import --nats PATH`"
    )


# Anything that reads as a number but not as a plain index: -5, +5, 5.0, 1e3, .5
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
_CELL = (
    r"\|"
    + r"\|\+\|".join(
        r"\|".join(f"(?:{'|'.join(map(re.escape, archmod.OPS))})~{j}" for j in range(node))
        for node in range(1, archmod.NUM_NODES)
    )
    + r"\|"
)
_EXPECTED = {
    "index": f"an integer benchmark index within 0..{NUM_ARCHS - 1}",
    "arch_str": "a NAS-Bench-201 cell string",
    **{c: "an accuracy (percent) within [0, 100]" for c in COLUMNS},
}


@functools.cache
def _schema():
    import pandera.pandas as pa  # on first load: 0.15-0.25 s with its first validation

    def cells(s: pd.Series) -> pd.Series:
        return s.str.fullmatch(_CELL)

    def once(s: pd.Series) -> pd.Series:
        return ~s.duplicated(keep=False)  # 10x faster than Column(unique=True) on strings

    unique = pa.Check(once, name="unique")
    return pa.DataFrameSchema(
        {
            "index": pa.Column("int64", [pa.Check.in_range(0, NUM_ARCHS - 1), unique]),
            "arch_str": pa.Column(str, [pa.Check(cells, name="nb201_cell"), unique]),
            **{c: pa.Column("float64", pa.Check.in_range(0, 100)) for c in COLUMNS},
        }
    )


def validate_table(df: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """``df`` (columns ``index``, ``arch_str`` and :data:`COLUMNS`, as read from the table at
    ``path``) if every row is valid, integer accuracies made floats; else IsdartsError naming
    the first bad cell by its line in the file and its column."""
    if len(df) == 0:
        raise IsdartsError(f"{path}: no rows (expected up to {NUM_ARCHS} architectures)")
    for c in COLUMNS:
        if pd.api.types.is_integer_dtype(df[c]):
            df[c] = df[c].astype(np.float64)
    pandera = optional("pandera", "the NAS-Bench-201 table is checked for its columns only")
    if pandera is None:
        missing = [c for c in ("index", "arch_str", *COLUMNS) if c not in df]
        if missing:
            raise IsdartsError(f"{path}: not a NAS-Bench-201 table (no column {missing[0]!r})")
        return df
    import pandera.errors

    try:
        return _schema().validate(df, inplace=True)
    except pandera.errors.SchemaError as exc:
        column = getattr(exc.schema, "name", None)
        if column not in _EXPECTED:
            why = " ".join(str(exc).split())[:200]
            raise IsdartsError(f"{path}: not a NAS-Bench-201 table ({why})") from None
        check = getattr(exc.check, "name", exc.check)
        raise IsdartsError(f"{path}, {_bad_cell(df, column, exc.reason_code, check)}") from None


def _bad_cell(df: pd.DataFrame, column: str, reason, check) -> str:
    """``line N, column C: <what is wrong>`` for the first bad cell of ``column`` (error path
    only; line 1 is the header)."""
    from pandera.errors import SchemaErrorReason as Why

    col = df[column]
    expected = _EXPECTED[column]
    if reason == Why.SERIES_CONTAINS_NULLS:
        row = int(np.flatnonzero(col.isna().to_numpy())[0])
        return f"line {row + 2}, column {column}: empty, expected {expected}"
    if check == "unique":
        row = int(np.flatnonzero(col.duplicated().to_numpy())[0])
        first = int(np.flatnonzero((col == col.iloc[row]).to_numpy())[0])
        return (
            f"line {row + 2}, column {column}: {_show(col.iloc[row])} repeats line {first + 2} "
            f"(expected each {column} once)"
        )
    ok = {"index": _is_integer, "arch_str": _is_cell}.get(column, _is_accuracy)
    row = next((r for r, v in enumerate(col.tolist()) if not ok(v)), 0)
    value = col.iloc[row]
    if column == "arch_str" and isinstance(value, str):
        try:
            archmod.parse(value)  # the precise reason: an unknown op, a missing group, ...
        except IsdartsError as exc:
            return f"line {row + 2}, column {column}: {exc}"
    return f"line {row + 2}, column {column}: {_show(value)}, expected {expected}"


def _is_integer(v) -> bool:
    if isinstance(v, str):
        return re.fullmatch(r"\s*\d+\s*", v, re.ASCII) is not None and int(v) < NUM_ARCHS
    if isinstance(v, (float, np.floating)) and not v.is_integer():
        return False
    return (
        isinstance(v, (int, float, np.number))
        and not isinstance(v, (bool, np.bool_))
        and 0 <= v < NUM_ARCHS
    )


def _is_cell(v) -> bool:
    return isinstance(v, str) and re.fullmatch(_CELL, v) is not None


def _is_accuracy(v) -> bool:
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return False
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
        return False
    return 0 <= v <= 100


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 100 else value[:97] + "...")
    return str(value.item() if isinstance(value, np.generic) else value)


class Benchmark:
    """The NAS-Bench-201 topology space: 15,625 cells and their six published accuracies."""

    format_version = FORMAT_VERSION

    def __init__(
        self, indices: list[int], archs: list[str], values: np.ndarray, path: Path | None = None
    ):
        """Rows are (benchmark index, string, six values); a partial table holds fewer than 15,625."""
        self.indices = [int(i) for i in indices]
        self.archs = archs
        self.values = values  # float64 [rows, len(COLUMNS)]
        self.path = path
        self._row_of_arch = {a: r for r, a in enumerate(archs)}
        self._row_of_index = {i: r for r, i in enumerate(self.indices)}
        if len(self._row_of_index) != len(self.indices) or len(self._row_of_arch) != len(archs):
            raise IsdartsError(f"{path}: duplicate benchmark indices or architecture strings")

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Benchmark:
        """The table at ``path`` (default :func:`default_table`), checked against its sha256
        record if it has one and against the schema; IsdartsError naming the file otherwise."""
        path = Path(path) if path is not None else default_table()
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise IsdartsError(f"{path}: NAS-Bench-201 table missing") from None
        sha_record.check(path, blob)
        try:
            df = pd.read_csv(io.BytesIO(blob), usecols=["index", "arch_str", *COLUMNS])
        except (ValueError, pd.errors.ParserError) as exc:
            why = " ".join(str(exc).split())
            raise IsdartsError(
                f"{path}: not a NAS-Bench-201 table (expected columns index, arch_str, {', '.join(COLUMNS)}): {why}"
            ) from None
        df = validate_table(df, path)
        values = df[list(COLUMNS)].to_numpy(dtype=np.float64)
        return cls(df["index"].tolist(), df["arch_str"].tolist(), values, path)

    def __len__(self) -> int:
        return len(self.archs)

    def _row(self, arch: str | int) -> int:
        if isinstance(arch, str) and arch.strip().isascii() and arch.strip().isdigit():
            if len(arch.strip().lstrip("0")) > len(str(NUM_ARCHS)):  # int() stops at 4300 digits
                raise IsdartsError(
                    f"architecture index {_show(arch)}: not in the benchmark table {self.path} "
                    f"(expected 0..{NUM_ARCHS - 1})"
                )
            arch = int(arch)
        elif isinstance(arch, (float, np.floating)) or (
            isinstance(arch, str) and _NUMBER.fullmatch(arch)
        ):
            raise IsdartsError(
                f"architecture {_show(arch)}: not a valid benchmark index (expected an integer "
                f"0..{NUM_ARCHS - 1} or a NAS-Bench-201 string)"
            )
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            row = self._row_of_index.get(int(arch))
            if row is None:
                raise IsdartsError(
                    f"architecture index {arch}: not in the benchmark table {self.path} "
                    f"(expected 0..{NUM_ARCHS - 1})"
                )
            return row
        row = self._row_of_arch.get(arch)
        if row is None:
            archmod.parse(arch)  # raises a precise error for malformed strings
            raise IsdartsError(
                f"architecture {_show(arch)}: not in the benchmark table {self.path}"
            )
        return row

    def index(self, arch: str | int) -> int:
        """Benchmark index of an architecture string (or an index, checked)."""
        return self.indices[self._row(arch)]

    def arch(self, index: int | str) -> str:
        """Benchmark string of an index (or a string, checked)."""
        return self.archs[self._row(index)]

    def query(self, arch: str | int) -> dict:
        """``{index, arch, <six columns>}`` for an architecture string or index."""
        row = self._row(arch)
        out: dict = {"index": self.indices[row], "arch": self.archs[row]}
        out.update({c: float(v) for c, v in zip(COLUMNS, self.values[row])})
        return out

    def metric(self, arch: str | int, column: str) -> float:
        if column not in COLUMNS:
            raise IsdartsError(f"metric '{column}': expected one of {', '.join(COLUMNS)}")
        return float(self.values[self._row(arch), COLUMNS.index(column)])

    def best(self) -> dict[str, float]:
        """The best value of each column over the whole space (the 'optimum' row of tables)."""
        return {c: float(v) for c, v in zip(COLUMNS, self.values.max(axis=0))}
