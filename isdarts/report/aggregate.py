"""Runs table and summary: mean +- std over seeds per space x method x data set, beside the
published value and the difference to it.

``runs.csv`` (tidy, one row per run): space, method, dataset, seed, profile, index, arch, the six
benchmark columns, params_m and flops_m (the cell's CIFAR-10 evaluation network, as NATS-Bench
counts them), epochs, wall_seconds, device, data_source, ...

Both are written with every digit of their numbers (the reports round them once, when they
write them: :mod:`isdarts.report.numbers`), never cut to a few decimals first.

``summary.csv`` (tidy, one row per space x method x search data set x benchmark column):
n (seeds), mean, std (sample std, ddof=1; empty for one seed), min, max, the matching published
row (method, mean, std, source), ``difference`` = ours - published, and the benchmark optimum
with ``gap_to_optimum`` = optimum - ours.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from isdarts._io import atomic_write, read_json
from isdarts.bench import COLUMNS
from isdarts.config.methods import METHODS
from isdarts.errors import IsdartsError
from isdarts.report.evaluate import CARRIED, COST_COLUMNS, EVIDENCE_COLUMNS, cell_cost
from isdarts.report.mdtext import data_source_label
from isdarts.report.published import PublishedRow, match, optimum
from isdarts.report.setup import SCALE_COLUMNS
from isdarts.report.tables import NB201_RUNS, check_frame

KEYS = ["space", "method", "dataset"]
METHOD_ORDER = METHODS  # rows and runs: the paper's method first
RUN_COLUMNS = [
    "space",
    "method",
    "dataset",
    "seed",
    "profile",
    "index",
    "arch",
    *COLUMNS,
    *COST_COLUMNS,  # params_m, flops_m: absent in evaluations written before them
    *CARRIED,  # the provenance an evaluation copies from result.json
    "table",
    *EVIDENCE_COLUMNS,  # absent in evaluations written before them
    *SCALE_COLUMNS,  # the recorded scale (isdarts.report.setup); absent before them
]
SUMMARY_COLUMNS = [
    *KEYS,
    "metric",
    "n",
    "seeds",
    "mean",
    "std",
    "min",
    "max",
    "published_method",
    "published_mean",
    "published_std",
    "difference",
    "optimum",
    "gap_to_optimum",
    "published_source",
]


def _one_table(df: pd.DataFrame) -> None:
    """The evaluations looked their cells up in one benchmark table: files of other paths are
    compared by content (sha256), and two that differ are an error naming both (a path no
    longer there cannot be compared and is let pass)."""
    tables = sorted({str(t) for t in df["table"].dropna()})
    if len(tables) < 2:
        return
    digests = {}
    for t in tables:
        try:
            digests[t] = hashlib.sha256(Path(t).read_bytes()).hexdigest()
        except OSError:
            digests[t] = None
    present = {t: d for t, d in digests.items() if d is not None}
    if len(set(present.values())) > 1:
        a, b = sorted(present)[:2]
        raise IsdartsError(
            f"evaluations against different benchmark tables ({a}, {b}); evaluate every run "
            "against one"
        )


def runs_table(
    evaluations: Iterable[str | os.PathLike], renamed: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per evaluation file, sorted by space, method, data set, seed. ``renamed``
    (recorded name -> current name): runs that recorded a run profile under a name it no
    longer has are named by the current one, the recorded name kept in ``profile_recorded``."""
    paths = [Path(p) for p in evaluations]
    records = []
    for path in paths:
        try:
            record = read_json(path, finite=True)
        except FileNotFoundError as exc:
            raise IsdartsError(f"{path}: cannot read evaluation ({exc.strerror})") from None
        if not isinstance(record, dict):
            raise IsdartsError(f"{path}: expected a JSON object (write it with `isdarts evaluate`)")
        records.append(record)
    if not records:
        raise IsdartsError("no evaluations to aggregate")
    df = pd.DataFrame.from_records(records)
    for c in RUN_COLUMNS[7 + len(COLUMNS) :]:  # costs and provenance: absent in older evaluations
        if c not in df.columns:
            df[c] = None
    # One evaluation is one row of the runs table: the same schema, naming the file.
    check_frame(df, NB201_RUNS, lambda i: "evaluations" if i is None else str(paths[int(i)]))
    # An older evaluation's costs from its cell (checked above), as `isdarts evaluate` counts them.
    older = df[list(COST_COLUMNS)].isna().any(axis=1)
    if older.any():
        costs = pd.DataFrame([cell_cost(a) for a in df.loc[older, "arch"]], index=df.index[older])
        for c in COST_COLUMNS:
            df[c] = df[c].astype("float64")
            df.loc[older, c] = costs[c]
    df["data_source"] = df["data_source"].map(data_source_label)
    if renamed:
        old = df["profile"].astype(str)
        unknown = sorted(set(renamed) - set(old))
        if unknown:
            raise IsdartsError(
                f"--renamed {unknown[0]}=...: no evaluation recorded the profile {unknown[0]} "
                f"(they recorded {', '.join(sorted(set(old)))})"
            )
        df["profile"] = old.map(lambda p: renamed.get(p, p))
        df["profile_recorded"] = old.where(old.isin(list(renamed)))
    for c in SCALE_COLUMNS:  # whole numbers, empty where not recorded
        df[c] = pd.to_numeric(df[c]).astype("Int64")
    dup = df.duplicated(KEYS + ["seed", "profile"])
    if dup.any():
        first = df[dup].iloc[0]
        raise IsdartsError(
            f"two evaluations of {first['method']} {first['dataset']} seed {first['seed']} "
            f"({first['profile']})"
        )
    if df["profile"].nunique() > 1:
        raise IsdartsError(f"evaluations of several run profiles: {sorted(df['profile'].unique())}")
    _one_table(df)
    df = df[RUN_COLUMNS + [c for c in df.columns if c not in RUN_COLUMNS]]
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    df = df.assign(_m=df["method"].map(lambda m: order.get(m, len(order))))
    df = df.sort_values(["space", "dataset", "_m", "method", "seed"], kind="stable")
    return df.drop(columns="_m").reset_index(drop=True)


def summary_table(runs: pd.DataFrame, published: list[PublishedRow]) -> pd.DataFrame:
    """Mean +- std per space x method x data set and benchmark column, beside the published row."""
    rows = []
    for (space, method, dataset), group in runs.groupby(KEYS, sort=False):
        pub = match(published, space, method, dataset)
        best = optimum(published, space)
        for col in COLUMNS:
            values = group[col].astype(float)
            mean = float(values.mean())
            std = float(values.std(ddof=1)) if len(values) > 1 else None
            row = {
                "space": space,
                "method": method,
                "dataset": dataset,
                "metric": col,
                "n": len(values),
                "seeds": " ".join(str(s) for s in group["seed"]),
                "mean": mean,
                "std": std,
                "min": float(values.min()),
                "max": float(values.max()),
                "published_method": pub.method if pub else None,
                "published_mean": pub.mean[col] if pub else None,
                "published_std": pub.std[col] if pub and pub.std else None,
                "difference": mean - pub.mean[col] if pub else None,
                "optimum": best.mean[col] if best else None,
                "gap_to_optimum": best.mean[col] - mean if best else None,
                "published_source": pub.source if pub else None,
            }
            rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Every digit of every number (the shortest text that reads back as the same float)."""
    return atomic_write(path, lambda p: df.to_csv(p, index=False))
