"""The files the DARTS-space tables are made of: training and search ``result.json`` files
and the surrogate's scores, read and checked; a training's row of ``runs.csv``.

The surrogate's scores are read from the file ``isdarts surrogate --out`` wrote (the workflow's
``surrogate`` rule), matched to each training by genotype; nothing here runs a model.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from isdarts._io import read_json
from isdarts.bench import SURROGATE_LABEL
from isdarts.config.documents import check_document
from isdarts.errors import IsdartsError
from isdarts.spaces.darts.names import REFERENCE_GENOTYPES, Genotype, genotype_from_dict

SURROGATE_EPOCH = 98  # the epoch the report's surrogate column is predicted for
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


def _read(path: str | os.PathLike, what: str, schema: str | None = None) -> dict:
    """A JSON file; checked against ``schemas/<schema>.schema.yaml`` when one is named."""
    try:
        rec = read_json(path, finite=True)
    except FileNotFoundError as exc:
        raise IsdartsError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if schema is not None:
        check_document(path, rec, schema)
    return rec


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
            f"batch {p.get('batch_size')}; {darts_settings(p.get('darts') or {})}"
        )
    return (
        f"C={p.get('channels')}, {p.get('layers')} cells, {p.get('epochs')} epochs on "
        f"{p.get('train_subset')} images, batch {p.get('batch_size')}, {p.get('shrink_steps')} "
        f"node-wise shrink steps every {p.get('shrink_interval')} epoch(s) before the last"
    )


def darts_settings(d: dict) -> str:
    """The original DARTS search's settings a search ran with (the profile's ``darts:`` block,
    :class:`isdarts.config.profiles.OriginalDartsSettings`) in words."""
    betas = d.get("arch_betas") or ()
    order = "α step first, then weights" if d.get("arch_step_first") else "weights first, then α"
    return (
        f"first order, {order}; α: Adam lr {d.get('arch_lr')}, betas "
        f"({', '.join(str(b) for b in betas)}), weight decay {d.get('arch_weight_decay')}; weights: "
        f"SGD weight decay {d.get('weight_decay')}, "
        f"{'Nesterov' if d.get('nesterov') else 'no Nesterov'}; data split {d.get('split')}; "
        f"{'batch norm after pooling' if d.get('pool_bn') else 'no batch norm after pooling'}"
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
            f"{path}: scores at epoch {rec.get('epoch')!r}; the report shows epoch {SURROGATE_EPOCH}"
        )
    scores: dict[Genotype, float | None] = {}
    for i, result in enumerate(results):
        where = f"{path}: results[{i}]"
        if not isinstance(result, dict) or "genotype" not in result:
            raise IsdartsError(f"{where} lacks 'genotype' (rerun `isdarts surrogate ... --out`)")
        score = result.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise IsdartsError(f"{where}.score is {score!r} (expected a number, or null)")
        genotype = genotype_from_dict(result["genotype"], f"{where}.genotype")
        score = None if score is None else float(score)
        if scores.get(genotype, score) != score:
            raise IsdartsError(
                f"{where}: a second score of the genotype, {score} != {scores[genotype]}"
            )
        scores[genotype] = score
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


def read_searches(searches: Iterable[str | os.PathLike]) -> dict[Path, dict]:
    """DARTS-space search results by resolved path."""
    by_path = {}
    for path in searches:
        rec = _read(path, "search result", "search-result")
        if rec.get("space") != "darts":
            raise IsdartsError(
                f"{path}: not a DARTS-space search result (space {rec.get('space')!r})"
            )
        genotype_from_dict(rec["genotype"], f"{path}: genotype")
        by_path[Path(path).resolve()] = rec
    return by_path


def training_row(
    path: str | os.PathLike,
    by_path: dict[Path, dict],
    scores: dict[Genotype, float | None] | None,
    surrogate: str | os.PathLike | None,
) -> dict[str, Any]:
    """One training's row: its result, its cell (a reference name, or the method whose search
    found it, joined with that search) and the cell's surrogate score."""
    rec = _read(path, "training result", "training-result")
    source = str(rec["genotype_source"])
    row = {c: rec.get(c) for c in RUN_COLUMNS if c in rec}
    genotype = genotype_from_dict(rec["genotype"], str(path))
    row["genotype"] = str(genotype)
    row["train_budget"] = train_budget(rec)
    if abs(rec["test_acc"] + rec["test_error"] - 100) > 1e-6:
        raise IsdartsError(
            f"{path}: test_acc {rec['test_acc']} and test_error {rec['test_error']} do not add "
            "up to 100"
        )
    if source in REFERENCE_GENOTYPES:
        if genotype != REFERENCE_GENOTYPES[source]:
            raise IsdartsError(f"{path}: its genotype is not that of {source}, its source")
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
        if genotype_from_dict(search["genotype"]) != genotype:
            raise IsdartsError(f"{path}: its genotype is not that of {source}, its source")
        if int(search["seed"]) != int(rec["seed"]):
            raise IsdartsError(
                f"{path}: seed {rec['seed']} trains the cell of search seed {search['seed']}"
            )
    if scores is not None and genotype not in scores:
        raise IsdartsError(f"{path}: its genotype is not among the scores in {surrogate}")
    row["surrogate_val_acc"] = None if scores is None else scores[genotype]
    return row
