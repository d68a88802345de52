"""Published rows (``config/published.yaml``), loaded and checked.

The file lists, per search space (``nb201``, ``darts``), the search data set the rows refer to,
the column order (``COLUMNS_OF``) and one row per method: ``method`` (as printed), ``id``,
``source``, ``mean`` and optionally ``std`` (one value per column; in the DARTS space ``null``
where none was published) and ``ours`` (what of ours is compared with that row: an isdarts
method, or in the DARTS space also a reference genotype trained here).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from isdarts._io import read_yaml
from isdarts.bench import COLUMNS
from isdarts.config.documents import check_document
from isdarts.errors import IsdartsError

# DARTS space: CIFAR-10 test error (%) after the final training, parameters (M) at C=36 / 20
# cells, search cost (GPU-days).
DARTS_COLUMNS = ("test_error", "params_m", "search_cost_gpu_days")
COLUMNS_OF = {"nb201": tuple(COLUMNS), "darts": DARTS_COLUMNS}


@dataclass(frozen=True)
class PublishedRow:
    space: str
    search_dataset: str
    id: str
    method: str
    source: str
    mean: dict[str, float]
    std: dict[str, float | None] | None
    ours: str | None


def _numbers(path: Path, where: str, values: list, columns, allow_null: bool = False) -> dict:
    """The schema checked the types; here: one value per column, finite, null where allowed."""
    if len(values) != len(columns):
        raise IsdartsError(f"{path}: {where}: expected a list of {len(columns)} numbers")
    out = {}
    for c, v in zip(columns, values, strict=True):
        if v is None and allow_null:
            out[c] = None
        elif v is None or not math.isfinite(v):
            raise IsdartsError(f"{path}: {where}: '{v}' for {c} is not a finite number")
        else:
            out[c] = float(v)
    return out


def load_published(path: str | os.PathLike) -> list[PublishedRow]:
    """All rows of all spaces, in file order; IsdartsError naming the field if malformed
    (``schemas/published.schema.yaml``, then the columns of each space and unique ids)."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except FileNotFoundError:
        raise IsdartsError(f"{path}: published numbers file missing") from None
    check_document(path, raw, "published")
    rows: list[PublishedRow] = []
    for space, block in raw.items():
        columns = block["columns"]
        if list(columns) != list(COLUMNS_OF[space]):
            raise IsdartsError(f"{path}: {space}.columns: expected {', '.join(COLUMNS_OF[space])}")
        ids, ours_seen = set(), set()
        for n, row in enumerate(block["rows"]):
            where = f"{space}.rows[{n}]"
            if row["id"] in ids:
                raise IsdartsError(f"{path}: {where}: duplicate id '{row['id']}'")
            ids.add(row["id"])
            ours = row.get("ours")
            if ours is not None:
                if ours in ours_seen:
                    raise IsdartsError(f"{path}: {where}: a second row for ours: {ours}")
                ours_seen.add(ours)
            std = row.get("std")
            rows.append(
                PublishedRow(
                    space=space,
                    search_dataset=block["search_dataset"],
                    id=row["id"],
                    method=row["method"],
                    source=row["source"],
                    mean=_numbers(path, f"{where}.mean", row["mean"], columns),
                    std=None
                    if std is None
                    else _numbers(path, f"{where}.std", std, columns, allow_null=space == "darts"),
                    ours=ours,
                )
            )
    return rows


def match(rows: list[PublishedRow], space: str, method: str, dataset: str) -> PublishedRow | None:
    """The published row our (space, method, search data set) compares with, if any."""
    for row in rows:
        if row.space == space and row.ours == method and row.search_dataset == dataset:
            return row
    return None


def optimum(rows: list[PublishedRow], space: str) -> PublishedRow | None:
    for row in rows:
        if row.space == space and row.id == "optimum":
            return row
    return None


def interleave(
    rows: list[PublishedRow], space: str, dataset: str, ours: list[str]
) -> list[PublishedRow | str]:
    """The order of a report table: every published row of ``space`` and search data set
    ``dataset``, each of our methods (``ours``, by name) right below the row it reproduces,
    ours without one at the end."""
    order: list[PublishedRow | str] = []
    for row in rows:
        if row.space == space and row.search_dataset == dataset:
            order.append(row)
            if row.ours in ours:
                order.append(row.ours)
    return order + [m for m in ours if m not in order]
