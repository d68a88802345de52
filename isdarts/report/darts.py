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
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from isdarts.bench import SURROGATE_LABEL
from isdarts.errors import IsdartsError
from isdarts.report.mdtext import data_source_label, method_label
from isdarts.report.published import PublishedRow
from isdarts.spaces.darts.names import REFERENCE_GENOTYPES, Genotype, genotype_from_dict

BASELINE_CELL = "isdarts_published"  # the paired differences are taken against this cell
SURROGATE_EPOCH = 98  # the epoch the report's surrogate column is predicted for
CELL_ORDER = ("isdarts", "darts", "isdarts_published", "darts_v2")
REFERENCE_LABELS = {
    "isdarts_published": "IS-DARTS published cell, trained here",
    "darts_v2": "DARTS (2nd order) published cell, trained here",
}
RUN_COLUMNS = [
    "cell",
    "kind",
    "seed",
    "profile",
    "test_acc",
    "test_error",
    "test_images",
    "train_images",
    "epochs",
    "params_m",
    "params_m_c36_l20",
    "wall_seconds",
    "device",
    "search_wall_seconds",
    "search_cost_hours",
    "search_cost_unit",
    "search_device",
    "search_epochs",
    "surrogate_val_acc",
    "genotype",
    "train_budget",
    "search_budget",
    "data_source",
    "torch_version",
    "isdarts_version",
]
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


def _read(path: str | os.PathLike, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise IsdartsError(f"{path}: cannot read {what} ({exc})") from None


def train_budget(rec: dict) -> str:
    """A training's budget in words, from the profile settings its result recorded."""
    p = rec.get("profile_settings") or {}
    return (
        f"C={p.get('channels')}, {p.get('layers')} cells, {rec.get('epochs')} epochs on "
        f"{rec.get('train_images')} images, batch {p.get('batch_size')}, cutout {p.get('cutout')}, "
        f"auxiliary {p.get('auxiliary_weight')}, drop-path {p.get('drop_path')}; test on "
        f"{rec.get('test_images')} images"
    )


def search_budget(rec: dict) -> str:
    """A search's budget in words (IS-DARTS: with its shrink schedule)."""
    p = rec.get("profile_settings") or {}
    if rec.get("method") == "darts":
        return (
            f"C={p.get('channels')}, {p.get('layers')} cells, {(p.get('darts') or {}).get('epochs')} epochs "
            f"on {p.get('train_subset')} images split into weight and architecture halves, "
            f"batch {p.get('batch_size')}"
        )
    return (
        f"C={p.get('channels')}, {p.get('layers')} cells, {p.get('epochs')} epochs on "
        f"{p.get('train_subset')} images, batch {p.get('batch_size')}, {p.get('shrink_steps')} "
        f"node-wise shrink steps every {p.get('shrink_interval')} epoch(s) before the last"
    )


def _search_cost(search: dict) -> tuple[float, str]:
    """Hours of the search: GPU-hours on CUDA, else CPU-hours (wall hours x threads)."""
    hours = float(search["wall_seconds"]) / 3600
    if str(search.get("device", "")).startswith("cuda"):
        return hours, "GPU-h"
    return hours * int(search.get("threads") or 1), "CPU-h"


def read_surrogate(path: str | os.PathLike) -> dict[Genotype, float | None]:
    """The YAHPO-NB301 surrogate's scores by genotype, from the JSON file ``isdarts surrogate
    --out`` wrote: ``None`` where it could not score a genotype (outside NAS-Bench-301's space,
    or onnxruntime or the surrogate files missing when the file was written)."""
    rec = _read(path, "surrogate scores")
    if not isinstance(rec, dict):
        rec = {}
    results = rec.get("results")
    if rec.get("surrogate") != SURROGATE_LABEL or not isinstance(results, list):
        raise IsdartsError(
            f"{path}: not a file of {SURROGATE_LABEL} scores (write it with "
            "`isdarts surrogate ... --out FILE`)"
        )
    if rec.get("epoch") != SURROGATE_EPOCH:
        raise IsdartsError(
            f"{path}: scores at epoch {rec.get('epoch')}; the report shows epoch {SURROGATE_EPOCH}"
        )
    scores: dict[Genotype, float | None] = {}
    for i, result in enumerate(results):
        where = f"{path}: results[{i}]"
        if not isinstance(result, dict) or "genotype" not in result:
            raise IsdartsError(f"{where} lacks 'genotype' (rerun `isdarts surrogate ... --out`)")
        score = result.get("score")
        scores[genotype_from_dict(result["genotype"], f"{where}.genotype")] = (
            None if score is None else float(score)
        )
    return scores


def _search_of(source: str, by_path: dict[Path, dict]) -> dict | None:
    """The search a training names as its genotype source: the same file, or, for a relative
    path recorded in another working directory (the workflow's), the search file it ends."""
    found = by_path.get(Path(source).resolve())
    if found is None and not Path(source).is_absolute():
        tail = Path(source).parts
        found = next(
            (rec for path, rec in by_path.items() if path.parts[-len(tail) :] == tail), None
        )
    return found


def runs_table(
    trainings: Iterable[str | os.PathLike],
    searches: Iterable[str | os.PathLike],
    surrogate: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """One row per training; a found cell's training is joined with the search that found it
    (the search result.json it was trained from). ``surrogate``: the file of surrogate scores
    (:func:`read_surrogate`) that fills ``surrogate_val_acc``; without it the column is empty."""
    scores = None if surrogate is None else read_surrogate(surrogate)
    by_path = {}
    for path in searches:
        rec = _read(path, "search result")
        if rec.get("space") != "darts":
            raise IsdartsError(
                f"{path}: not a DARTS-space search result (space {rec.get('space')!r})"
            )
        by_path[Path(path).resolve()] = rec
    rows = []
    for path in trainings:
        rec = _read(path, "training result")
        for key in (
            "genotype_source",
            "genotype",
            "seed",
            "test_acc",
            "test_error",
            "params_m_c36_l20",
        ):
            if key not in rec:
                raise IsdartsError(f"{path}: training result lacks '{key}'")
        source = str(rec["genotype_source"])
        row = {c: rec.get(c) for c in RUN_COLUMNS if c in rec}
        genotype = genotype_from_dict(rec["genotype"], str(path))
        row["genotype"] = str(genotype)
        row["train_budget"] = train_budget(rec)
        if source in REFERENCE_GENOTYPES:
            row.update(cell=source, kind="reference")
        else:
            search = _search_of(source, by_path)
            if search is None:
                raise IsdartsError(
                    f"{path}: trained from {source}, which is not among the searches given"
                )
            hours, unit = _search_cost(search)
            row.update(
                cell=search["method"],
                kind="found",
                search_wall_seconds=search["wall_seconds"],
                search_cost_hours=hours,
                search_cost_unit=unit,
                search_device=search.get("device"),
                search_epochs=search.get("epochs"),
                search_budget=search_budget(search),
            )
            if int(search["seed"]) != int(rec["seed"]):
                raise IsdartsError(
                    f"{path}: seed {rec['seed']} trains the cell of search seed {search['seed']}"
                )
        if scores is not None and genotype not in scores:
            raise IsdartsError(f"{path}: its genotype is not among the scores in {surrogate}")
        row["surrogate_val_acc"] = None if scores is None else scores[genotype]
        rows.append(row)
    if not rows:
        raise IsdartsError("no trainings to aggregate")
    df = pd.DataFrame(rows)
    for c in RUN_COLUMNS:
        if c not in df.columns:
            df[c] = None
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
