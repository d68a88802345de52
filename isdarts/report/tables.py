"""The tables the report steps read, as DataFrame schemas (pandera): ``runs.csv`` and
``summary.csv`` of both spaces, and the evaluations ``isdarts aggregate`` makes its runs table
of (one ``evaluation.json`` is one row of the NAS-Bench-201 runs table).

A table that fails its schema is an error naming the file (or the evaluation), the column, the
CSV line and what was expected, never a report with a cut cell string or ``nan s`` in it. Two
checks a schema cannot make are added: a CSV that does not end with a newline was cut short,
and the summary must count the runs the runs table holds (a file cut at a line boundary).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from isdarts.bench import COLUMNS
from isdarts.config.seeds import MAX_SEED
from isdarts.errors import IsdartsError
from isdarts.report.evaluate import CARRIED, COST_COLUMNS, EVIDENCE_COLUMNS
from isdarts.report.numbers import fixed
from isdarts.report.setup import SCALE_COLUMNS
from isdarts.spaces.darts.names import PRIMITIVES, parse_darts_text
from isdarts.spaces.nb201.names import parse

NB201_INDICES = 15625
NB201_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def _valid(parser: Callable[[str], Any]) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        try:
            parser(value)
        except IsdartsError:
            return False
        return True

    return ok


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


# What each check expects, in words: the error message says it.
def _text(expect: str = "a non-empty text", *, required: bool = True) -> pa.Column:
    return pa.Column(
        checks=pa.Check(_is_text, element_wise=True, error=expect),
        nullable=not required,
        required=required,
    )


def _choice(values: tuple[str, ...], *, nullable: bool = False) -> pa.Column:
    return pa.Column(
        checks=pa.Check.isin(values, error=f"one of {', '.join(values)}"), nullable=nullable
    )


def _int(lo: int, hi: int | None = None, *, nullable: bool = False) -> pa.Column:
    """Whole numbers; nullable ones are read as floats, so they are checked for a zero fraction."""
    expect = f"a whole number in {lo}..{hi}" if hi is not None else f"a whole number >= {lo}"
    checks = [
        pa.Check(
            lambda s: (s >= lo) & (s <= hi if hi is not None else True) & (s % 1 == 0),
            error=expect,
        )
    ]
    return pa.Column(float, checks=checks, coerce=True, nullable=nullable)


def _number(lo: float | None = None, hi: float | None = None, *, nullable: bool = False):
    if lo is not None and hi is not None:
        check, expect = pa.Check.in_range(lo, hi), f"a number in {lo:g}..{hi:g}"
    elif lo is not None:  # finite: a wall time of inf seconds is no result
        check = pa.Check(lambda s: (s >= lo) & (s < float("inf")))
        expect = f"a finite number >= {lo:g}"
    else:
        check, expect = pa.Check(lambda s: s.abs() < float("inf")), "a finite number"
    check.error = expect
    return pa.Column(float, checks=check, coerce=True, nullable=nullable)


def _percent(*, nullable: bool = False) -> pa.Column:
    return _number(0, 100, nullable=nullable)


SEEDS_LIST = pa.Column(
    checks=pa.Check.str_matches(r"^\d+( \d+)*$", error="seeds separated by spaces, e.g. '0 1 2'"),
)
# The provenance an evaluation carries (text, possibly missing), and the benchmark table.
_OPTIONAL_TEXT = {
    c: _text(required=False) for c in (*CARRIED, "table") if c not in ("epochs", "wall_seconds")
}
NB201_CELL = "a NAS-Bench-201 cell string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|"


def _optional(column: pa.Column) -> pa.Column:
    return pa.Column(
        column.dtype, checks=column.checks, coerce=column.coerce, nullable=True, required=False
    )


_MARGINS_TEXT = re.compile(r"[01]\.\d+( [01]\.\d+){5}")
# element-wise: a column with no margins at all (IS-DARTS only) is read back as floats (NaN)
_MARGINS = pa.Column(
    checks=pa.Check(
        lambda v: isinstance(v, str) and _MARGINS_TEXT.fullmatch(v) is not None,
        element_wise=True,
        error="6 margins in 0..1 separated by spaces",
    )
)
_EVIDENCE = {
    "supernet_train_acc": _percent(),
    "supernet_heldout_acc": _percent(),
    "margins": _MARGINS,
    "margin_min": _number(0, 1),
    "margin_median": _number(0, 1),
    "entropy_mean": _number(0),
    "travel_mean": _number(0),
    "shrink_gaps": _text("shrink steps 'epoch: gap per edge' separated by '; '"),
    "shrink_gap_min": _number(),
    **{f"rank_{d}": _int(1, NB201_INDICES) for d in ("c10", "c100", "in16")},
    **{f"top_pct_{d}": _percent() for d in ("c10", "c100", "in16")},
}

NB201_RUNS = pa.DataFrameSchema(
    {
        "space": _choice(("nb201",)),
        "method": _text(),
        "dataset": _choice(NB201_DATASETS),
        "seed": _int(0, MAX_SEED),
        "profile": _text(),
        "index": _int(0, NB201_INDICES - 1),
        "arch": pa.Column(checks=pa.Check(_valid(parse), element_wise=True, error=NB201_CELL)),
        **{c: _percent() for c in COLUMNS},
        # The params and FLOPs (millions) of the cell's CIFAR-10 evaluation network (NATS-Bench's
        # count, isdarts.bench.cost). Optional and nullable: runs tables and evaluations written
        # before these columns have none (the committed reports/cpu/runs.csv); the aggregation
        # counts an older evaluation's from its cell.
        **{
            c: pa.Column(
                float,
                checks=pa.Check(
                    lambda s: (s > 0) & (s < float("inf")), error="a finite number > 0"
                ),
                coerce=True,
                nullable=True,
                required=False,
            )
            for c in COST_COLUMNS
        },
        "epochs": _int(1),
        "wall_seconds": _number(0),
        **_OPTIONAL_TEXT,
        # The evidence behind the cell (isdarts.report.evaluate.EVIDENCE_COLUMNS): optional and
        # nullable, as tables written before it have none and IS-DARTS has no weights' margins.
        **{c: _optional(_EVIDENCE[c]) for c in EVIDENCE_COLUMNS},
        # The scale each search recorded (isdarts.report.setup): optional and nullable, as
        # tables and results written before have none (arch_steps: none for some methods).
        **{c: _optional(_int(1)) for c in SCALE_COLUMNS},
        # The profile's name as the run files recorded it, where the report uses a later one.
        "profile_recorded": _text(required=False),
    },
    name="NAS-Bench-201 runs table",
)

NB201_SUMMARY = pa.DataFrameSchema(
    {
        "space": _choice(("nb201",)),
        "method": _text(),
        "dataset": _choice(NB201_DATASETS),
        "metric": _choice(tuple(COLUMNS)),
        "n": _int(1),
        "seeds": SEEDS_LIST,
        "mean": _percent(),
        "std": _number(0, nullable=True),
        "min": _percent(),
        "max": _percent(),
        "published_method": _text(required=False),
        "published_mean": _percent(nullable=True),
        "published_std": _number(0, nullable=True),
        "difference": _number(nullable=True),
        "optimum": _percent(nullable=True),
        "gap_to_optimum": _number(nullable=True),
        "published_source": _text(required=False),
    },
    name="NAS-Bench-201 summary table",
)

DARTS_GENOTYPE = "a Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])"

DARTS_RUNS = pa.DataFrameSchema(
    {
        "cell": _text(),
        "kind": _choice(("found", "reference")),
        "seed": _int(0, MAX_SEED),
        "profile": _text(),
        "test_acc": _percent(),
        "test_error": _percent(),
        "test_images": _int(1),
        "train_images": _int(1),
        "epochs": _int(1),
        "params_m": _number(0),
        "params_m_c36_l20": _number(0),
        "wall_seconds": _number(0),
        "search_wall_seconds": _number(0, nullable=True),
        "search_cost_hours": _number(0, nullable=True),
        "search_cost_unit": _choice(("CPU-h", "GPU-h"), nullable=True),
        "search_device": _text(required=False),
        "search_epochs": _int(1, nullable=True),
        "surrogate_val_acc": _percent(nullable=True),
        "genotype": pa.Column(
            checks=pa.Check(
                _valid(lambda g: parse_darts_text(g, "genotype")),
                element_wise=True,
                error=DARTS_GENOTYPE,
            )
        ),
        "train_budget": _text(required=False),
        "search_budget": _text(required=False),
        **_OPTIONAL_TEXT,
    },
    name="DARTS-space runs table",
)

DARTS_SUMMARY = pa.DataFrameSchema(
    {
        "cell": _text(),
        "kind": _choice(("found", "reference")),
        "n": _int(1),
        "seeds": SEEDS_LIST,
        "test_error_mean": _percent(),
        "test_error_std": _number(0, nullable=True),
        "test_error_min": _percent(),
        "test_error_max": _percent(),
        "test_acc_mean": _percent(),
        "diff_vs_isdarts_published_mean": _number(nullable=True),
        "diff_vs_isdarts_published_std": _number(0, nullable=True),
        "params_m_c36_l20_mean": _number(0),
        "params_m_c36_l20_min": _number(0),
        "params_m_c36_l20_max": _number(0),
        "search_cost_hours_mean": _number(0, nullable=True),
        "search_cost_unit": _choice(("CPU-h", "GPU-h"), nullable=True),
        "surrogate_val_acc_mean": _percent(nullable=True),
        "surrogate_n": _int(0),
        "published_method": _text(required=False),
        "published_test_error": _percent(nullable=True),
        "published_test_error_std": _number(0, nullable=True),
        "published_params_m": _number(0, nullable=True),
        "published_search_cost_gpu_days": _number(0, nullable=True),
        "published_source": _text(required=False),
    },
    name="DARTS-space summary table",
)

_BOOL = pa.Column(checks=pa.Check.isin([True, False], error="True or False"))

DARTS_SHRINK = pa.DataFrameSchema(
    {
        "method": _text(),
        "seed": _int(0, MAX_SEED),
        "profile": _text(),
        "step": _int(1),
        "epoch": _int(1),
        "kind": _choice(("normal", "reduce")),
        "node": _int(2, 5),
        "input": _int(0, 4),
        "op": _choice(PRIMITIVES),
        "parameter_free": _BOOL,
        "score": pa.Column(float, pa.Check.ge(0, error="a score >= 0 (inf for none)"), coerce=True),
        "rank": _int(1),
        "pairs": _int(1),
        "removed": _BOOL,
    },
    name="DARTS-space shrink table",
)

# Text columns a CSV must be read as text (a lone seed "0" or a version "2.1" would be a number).
_TEXT = {
    "seeds",
    "arch",
    "genotype",
    "profile",
    "profile_recorded",
    "method",
    "cell",
    "torch_version",
    "isdarts_version",
}


def check_frame(df: pd.DataFrame, schema: pa.DataFrameSchema, where: Callable[[Any], str]) -> None:
    """``df`` against ``schema``; IsdartsError naming ``where(row index)``, the column and the
    expectation of the first failure. ``where(None)`` names the table as a whole."""
    if df.empty:
        raise IsdartsError(f"{where(None)}: no rows (expected one row per run)")
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise IsdartsError(_first_failure(exc, schema, where)) from None


def _first_failure(exc: pa.errors.SchemaErrors, schema: pa.DataFrameSchema, where) -> str:
    cases = exc.failure_cases
    missing = cases[cases["check"] == "column_in_dataframe"]
    if len(missing):
        names = ", ".join(str(c) for c in missing["failure_case"])
        return f"{where(None)}: lacks column(s) {names} (rerun the step that wrote it)"
    # Rows in file order; a failed dtype coercion and the checks after it name the same value.
    cases = cases.sort_values("index", kind="stable", na_position="last")
    case = cases.iloc[0]
    column = case["column"]
    col = schema.columns.get(column)
    expect = next((c.error for c in (col.checks if col else []) if c.error), None)
    if expect is None:
        expect = f"a value of type {col.dtype}" if col is not None and col.dtype else "a value"
    if case["check"] == "not_nullable":
        expect, value = f"{expect}, not empty", "an empty value"
    else:
        value = case["failure_case"]
        value = repr(value.item() if hasattr(value, "item") else value)
    index = None if pd.isna(case["index"]) else case["index"]
    return f"{where(index)}: column '{column}' holds {value} (expected {expect})"


def read_csv(path: str | os.PathLike, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """A CSV the aggregation wrote, checked against ``schema``; IsdartsError naming the file, the
    column and the line of the first problem."""
    path = Path(path)
    try:
        text = path.read_bytes()
        df = pd.read_csv(io.BytesIO(text), dtype={c: str for c in _TEXT})
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise IsdartsError(f"{path}: cannot read table ({detail})") from None
    except UnicodeDecodeError as exc:
        raise IsdartsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if text and not text.endswith(b"\n"):
        raise IsdartsError(f"{path}: ends in the middle of a line (cut short? rerun the step)")

    def where(index: Any) -> str:
        return str(path) if index is None else f"{path}, line {int(index) + 2}"

    check_frame(df, schema, where)
    return df


def check_counts(
    runs: pd.DataFrame, summary: pd.DataFrame, keys: list[str], where: tuple[str, str]
) -> None:
    """Every group of the runs table is in the summary with the same number of runs and the same
    seeds, and the other way round: the two files are of one aggregation, neither cut short."""
    seeds = runs.groupby(keys, sort=False)["seed"].apply(lambda s: " ".join(str(int(v)) for v in s))
    listed = summary.drop_duplicates(keys).set_index(keys)["seeds"]
    for key in seeds.index.union(listed.index):
        name = " ".join(key) if isinstance(key, tuple) else str(key)
        ours, theirs = seeds.get(key), listed.get(key)
        if ours != theirs:
            raise IsdartsError(
                f"{where[0]} and {where[1]} disagree on {name}: seeds {ours or 'none'} in the "
                f"runs, {theirs or 'none'} in the summary (rerun the aggregation)"
            )


def check_summary_rows(
    summary: pd.DataFrame,
    keys: list[str],
    per_group: tuple[str, tuple[str, ...]] | None,
    where: str,
) -> None:
    """One summary row per group, or with ``per_group`` = (column, values) one per group and
    value of that column (NAS-Bench-201: each benchmark column once), no more, no fewer."""
    column, values = per_group if per_group is not None else (None, None)
    for key, group in summary.groupby(keys, sort=False):
        name = " ".join(key) if isinstance(key, tuple) else str(key)
        if column is None:
            if len(group) != 1:
                raise IsdartsError(
                    f"{where}: {len(group)} rows of {name} (expected one; rerun the aggregation)"
                )
        elif sorted(group[column]) != sorted(values):
            raise IsdartsError(
                f"{where}: the rows of {name} have {column} {', '.join(map(str, group[column]))} "
                f"(expected each of {', '.join(values)} once; rerun the aggregation)"
            )


# Per space: the runs and summary schemas, the keys a summary row is grouped by, and the column
# a group has one row per value of (if any).
TABLES = {
    "nb201": (
        NB201_RUNS,
        NB201_SUMMARY,
        ["space", "method", "dataset"],
        ("metric", tuple(COLUMNS)),
    ),
    "darts": (DARTS_RUNS, DARTS_SUMMARY, ["cell"], None),
}


def read_tables(
    runs_csv: str | os.PathLike, summary_csv: str | os.PathLike, space: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs and summary CSVs of one space, each checked against its schema and the two
    against each other."""
    runs_schema, summary_schema, keys, per_group = TABLES[space]
    runs, summary = read_csv(runs_csv, runs_schema), read_csv(summary_csv, summary_schema)
    if runs["profile"].nunique() > 1:
        raise IsdartsError(
            f"{runs_csv}: runs of several run profiles: {', '.join(sorted(runs['profile'].unique()))}"
        )
    check_summary_rows(summary, keys, per_group, str(summary_csv))
    check_counts(runs, summary, keys, (str(runs_csv), str(summary_csv)))
    if space == "nb201":
        check_statistics(runs, summary, keys, (str(runs_csv), str(summary_csv)))
    return runs, summary


# tables written before every digit was kept held 4 decimals: a statistic recomputed from such
# rounded runs may differ from the written one by about 1e-4
_WRITTEN = 2e-4


def check_statistics(
    runs: pd.DataFrame, summary: pd.DataFrame, keys: list[str], where: tuple[str, str]
) -> None:
    """Each summary row's n, mean, std, min and max are those of its runs (to the 4 decimals
    they are written with): an edited summary is refused, not printed beside verdicts computed
    from the runs."""
    groups = dict(iter(runs.groupby(keys, sort=False)))
    for _, row in summary.iterrows():
        key = tuple(row[k] for k in keys)
        values = groups[key][row["metric"]].astype(float)
        expected = {
            "n": float(len(values)),
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
            "min": float(values.min()),
            "max": float(values.max()),
        }
        for stat, want in expected.items():
            got = float(row[stat]) if pd.notna(row[stat]) else float("nan")
            same = (pd.isna(got) and pd.isna(want)) or abs(got - want) <= _WRITTEN
            if not same:
                raise IsdartsError(
                    f"{where[1]}: {' '.join(map(str, key))} {row['metric']} {stat} {got:g} is "
                    f"not that of its runs in {where[0]} ({fixed(want, 4)}); rerun the aggregation"
                )
