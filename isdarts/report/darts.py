"""DARTS-space tables: every final training (``isdarts train``) of a found cell or a reference
genotype, per cell mean ± std over seeds, beside the published DARTS-space rows.

``runs.csv`` (one row per training): cell (the method whose search found it, or the reference
genotype's name), kind (found / reference), seed, test accuracy and error, parameters at the
training size and at C=36 / 20 cells, the training's budget and wall time, and for found cells
the search's wall time and CPU- or GPU-hours (wall hours x threads on a CPU).

``summary.csv`` (one row per cell): n, seeds, test error mean / std / min / max, the paired
difference to ``isdarts_published`` (same seeds, same budget), parameters at C=36 / 20 cells,
search cost, the YAHPO-NB301 surrogate's mean over the cells it can score (``surrogate_n`` of
them), and the published row the cell is compared with (``ours`` in published.yaml).

The surrogate's scores are read from the file ``isdarts surrogate --out`` wrote (the workflow's
``surrogate`` rule), matched to each training by genotype; this module runs no model.

The published rows come from the papers' final training (600 epochs at C=36, 20 cells); the
reduced budget of a CPU run gives much larger errors, so the comparison that carries meaning
is between our cells, which share budget and seeds.

:func:`copy_darts_run_files` copies each search's and training's ``result.json`` and
``log.jsonl`` beside the report (``runs/search/<method>/cifar10/seed<k>/``, as
:func:`isdarts.report.runfiles.copy_run_files` lays searches out, and
``runs/train/<cell>/seed<k>/``), so that the committed report can be checked number by number.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from isdarts._io import atomic_write, parse_json, read_json, write_text_atomic
from isdarts.data.sources import source_label
from isdarts.errors import IsdartsError
from isdarts.report.darts_inputs import RUN_COLUMNS, read_searches, read_surrogate, training_row
from isdarts.report.mdtext import data_source_label, method_label
from isdarts.report.published import PublishedRow
from isdarts.report.runfiles import copy_run_files
from isdarts.report.tables import DARTS_RUNS, check_frame

BASELINE_CELL = "isdarts_published"  # the paired differences are taken against this cell
CELL_ORDER = ("isdarts", "darts", "isdarts_published", "darts_v2")
REFERENCE_LABELS = {
    "isdarts_published": "IS-DARTS published cell, trained here",
    "darts_v2": "DARTS (2nd order) published cell, trained here",
}
SUMMARY_COLUMNS = [
    "cell",
    "kind",
    "n",
    "seeds",
    "test_error_mean",
    "test_error_std",
    "test_error_min",
    "test_error_max",
    "test_acc_mean",
    "diff_vs_isdarts_published_mean",
    "diff_vs_isdarts_published_std",
    "params_m_c36_l20_mean",
    "params_m_c36_l20_min",
    "params_m_c36_l20_max",
    "search_cost_hours_mean",
    "search_cost_unit",
    "surrogate_val_acc_mean",
    "surrogate_n",
    "published_method",
    "published_test_error",
    "published_test_error_std",
    "published_params_m",
    "published_search_cost_gpu_days",
    "published_source",
]


def cell_label(cell: str) -> str:
    """A reference genotype's label, or that of the cells a method found."""
    return REFERENCE_LABELS.get(cell) or f"{method_label(cell)}, cell found here"


def runs_table(
    trainings: Iterable[str | os.PathLike],
    searches: Iterable[str | os.PathLike],
    surrogate: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """One row per training; a found cell's training is joined with the search that found it
    (the search result.json it was trained from). ``surrogate``: the file of surrogate scores
    (:func:`read_surrogate`) that fills ``surrogate_val_acc``; without it the column is empty."""
    scores = None if surrogate is None else read_surrogate(surrogate)
    by_path = read_searches(searches)
    paths = [str(p) for p in trainings]
    rows = [training_row(path, by_path, scores, surrogate) for path in paths]
    if not rows:
        raise IsdartsError("no trainings to aggregate")
    df = pd.DataFrame(rows)
    for c in RUN_COLUMNS:
        if c not in df.columns:
            df[c] = None
    check_frame(df, DARTS_RUNS, lambda i: "trainings" if i is None else paths[int(i)])
    df["data_source"] = df["data_source"].map(data_source_label)
    dup = df.duplicated(["cell", "seed"])
    if dup.any():
        first = df[dup].iloc[0]
        raise IsdartsError(f"two trainings of {first['cell']} seed {first['seed']}")
    if df["profile"].nunique() > 1:
        raise IsdartsError(f"trainings of several run profiles: {sorted(df['profile'].unique())}")
    order = {c: i for i, c in enumerate(CELL_ORDER)}
    df = df.assign(_c=df["cell"].map(lambda c: order.get(c, len(order))))
    df = df.sort_values(["_c", "cell", "seed"], kind="stable").drop(columns="_c")
    return df[RUN_COLUMNS].reset_index(drop=True)


def _published_for(published: list[PublishedRow], cell: str) -> PublishedRow | None:
    return next((r for r in published if r.space == "darts" and r.ours == cell), None)


def summary_table(runs: pd.DataFrame, published: list[PublishedRow]) -> pd.DataFrame:
    """Per cell: mean ± std over seeds, the paired difference to isdarts_published on the
    seeds both have, and the published row compared with."""
    base = runs[runs.cell == BASELINE_CELL].set_index("seed")["test_error"].astype(float)
    rows = []
    for cell, group in runs.groupby("cell", sort=False):
        err = group["test_error"].astype(float)
        paired = group.set_index("seed")["test_error"].astype(float).sub(base).dropna()
        pub = _published_for(published, cell)
        cost = group["search_cost_hours"].dropna().astype(float)
        surrogate = group["surrogate_val_acc"].dropna().astype(float)
        params = group["params_m_c36_l20"].astype(float)
        rows.append(
            {
                "cell": cell,
                "kind": group["kind"].iloc[0],
                "n": len(group),
                "seeds": " ".join(str(s) for s in group["seed"]),
                "test_error_mean": err.mean(),
                "test_error_std": err.std(ddof=1) if len(err) > 1 else None,
                "test_error_min": err.min(),
                "test_error_max": err.max(),
                "test_acc_mean": group["test_acc"].astype(float).mean(),
                "diff_vs_isdarts_published_mean": paired.mean()
                if len(paired) and cell != BASELINE_CELL
                else None,
                "diff_vs_isdarts_published_std": paired.std(ddof=1)
                if len(paired) > 1 and cell != BASELINE_CELL
                else None,
                "params_m_c36_l20_mean": params.mean(),
                "params_m_c36_l20_min": params.min(),
                "params_m_c36_l20_max": params.max(),
                "search_cost_hours_mean": cost.mean() if len(cost) else None,
                "search_cost_unit": group["search_cost_unit"].dropna().iloc[0]
                if len(cost)
                else None,
                "surrogate_val_acc_mean": surrogate.mean() if len(surrogate) else None,
                "surrogate_n": len(surrogate),
                "published_method": pub.method if pub else None,
                "published_test_error": pub.mean["test_error"] if pub else None,
                "published_test_error_std": pub.std["test_error"] if pub and pub.std else None,
                "published_params_m": pub.mean["params_m"] if pub else None,
                "published_search_cost_gpu_days": pub.mean["search_cost_gpu_days"] if pub else None,
                "published_source": pub.source if pub else None,
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


SEARCH_FILES = "search"  # runs/search/<method>/<dataset>/seed<k>/ (runfiles.run_folder)
TRAIN_FILES = "train"  # runs/train/<cell>/seed<k>/


def train_folder(cell: str, seed: int) -> Path:
    """A training's folder under the report's ``runs/``."""
    return Path(TRAIN_FILES) / cell / f"seed{seed}"


def search_folder(method: str, seed: int, dataset: str = "cifar10") -> Path:
    """A search's folder under the report's ``runs/``."""
    return Path(SEARCH_FILES) / method / dataset / f"seed{seed}"


def _check_train_log(path: Path, epochs: int) -> None:
    """A training's ``log.jsonl``: one JSON object per epoch 1..``epochs``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise IsdartsError(f"{path}: no epoch log beside the training result") from None
    seen = []
    for n, line in enumerate(lines, start=1):
        if line.strip():
            record = parse_json(line, f"{path}, line {n}", finite=True)
            seen.append(record.get("epoch") if isinstance(record, dict) else None)
    if seen != list(range(1, epochs + 1)):
        raise IsdartsError(
            f"{path}: epochs {seen[:3]}{'...' if len(seen) > 3 else ''} ({len(seen)} lines), "
            f"expected one line per epoch 1..{epochs} (cut short, or not this training's log?)"
        )


def copy_darts_run_files(
    trainings: Iterable[str | os.PathLike],
    searches: Iterable[str | os.PathLike],
    out: str | os.PathLike,
) -> list[Path]:
    """Copy each search's (:func:`copy_run_files`) and training's ``result.json`` and
    ``log.jsonl`` under ``out`` (each file replaced atomically); a training's cell is found as
    the runs table finds it (a reference name, or the method whose search it was trained from).
    A ``data_source`` naming a path of the machine is replaced by its label. Returns the
    folders written."""
    out = Path(out)
    searches = [str(s) for s in searches]
    written = copy_run_files(searches, out / SEARCH_FILES) if searches else []
    by_path = read_searches(searches)
    seen: dict[Path, str] = {}
    for path in map(Path, trainings):
        row = training_row(path, by_path, None, None)
        folder = train_folder(str(row["cell"]), int(row["seed"]))
        if folder in seen:
            raise IsdartsError(
                f"{path}: a second training for {folder} (the first: {seen[folder]})"
            )
        seen[folder] = str(path)
        rec = read_json(path)
        _check_train_log(path.parent / "log.jsonl", int(rec["epochs"]))
        source = rec.get("data_source")
        if isinstance(source, str) and source_label(source) != source:
            text = json.dumps({**rec, "data_source": source_label(source)}, indent=2) + "\n"
            write_text_atomic(out / folder / "result.json", text)
        else:
            atomic_write(out / folder / "result.json", lambda p, s=path: shutil.copyfile(s, p))
        log = path.parent / "log.jsonl"
        atomic_write(out / folder / "log.jsonl", lambda p, s=log: shutil.copyfile(s, p))
        written.append(out / folder)
    return written
