"""The scale a NAS-Bench-201 search ran at, against the paper's: the settings every report and
export states beside its numbers (channels C, cells per stage N, training images, epochs,
architecture steps).

Ours are read from what each search recorded (``result.json``'s ``profile_settings``; an
evaluation copies them into the runs table as :data:`SCALE_COLUMNS`), never from the current
profile files, whose names and settings change; the paper's are the NAS-Bench-201 profile's
defaults (:class:`isdarts.spaces.nb201.profile.Profile`: the IS-DARTS paper's search, each
baseline's block its own paper's or released code's settings).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from isdarts.config.methods import METHOD_LABELS
from isdarts.report.numbers import missing, whole

# Per run, from its recorded profile settings (empty in tables written before them).
SCALE_COLUMNS = (
    "channels",
    "cells_per_stage",
    "train_images",
    "batch_size",
    "shrink_steps",
    "shrink_interval",
    "arch_steps",
)
# The training images of each search data set when a profile uses them all (train_subset null).
TRAIN_IMAGES = {"cifar10": 50_000, "cifar100": 50_000, "ImageNet16-120": 151_700}
# The methods that take one architecture step per weight step on the valid half of the
# training images (after their block's warm-up epochs); their block in the profile.
ONE_ARCH_STEP_PER_BATCH = {
    "darts": "darts",
    "darts2": "darts",
    "gdas": "gdas",
    "pcdarts": "pcdarts",
    "drnas": "drnas",
    "betadarts": "betadarts",
    "setn": "setn",
}
SMOKE = "smoke"  # the profile that checks the pipeline runs; its numbers mean nothing


def _half(settings: dict[str, Any], dataset: str) -> int | None:
    """The images of each half (weights, architecture) of a bi-level search."""
    subset = settings.get("train_subset")
    if subset is not None:
        return int(subset) // 2
    return 25_000 if dataset == "cifar10" else None  # the CIFAR-10 split file's halves


def method_epochs(method: str, settings: dict[str, Any]) -> int | None:
    """The epochs a method searches for under ``settings`` (its block's, or the profile's)."""
    if method == "isdarts":
        return settings.get("epochs")
    block = settings.get(ONE_ARCH_STEP_PER_BATCH.get(method, method))
    return block.get("epochs") if isinstance(block, dict) else None


def arch_steps(method: str, settings: dict[str, Any], dataset: str) -> int | None:
    """Architecture (alpha) steps of one search: epochs after the warm-up times the batches of
    the valid half (None: not a method of one step per batch, or not known)."""
    block = settings.get(ONE_ARCH_STEP_PER_BATCH.get(method, ""))
    half, batch = _half(settings, dataset), settings.get("batch_size")
    if not isinstance(block, dict) or half is None or not batch:
        return None
    epochs = int(block["epochs"]) - int(block.get("warmup_epochs") or 0)
    return epochs * math.ceil(half / int(batch))


def scale_record(result: dict[str, Any]) -> dict[str, Any]:
    """The :data:`SCALE_COLUMNS` of one search from its ``result.json`` (None each where it
    recorded no ``profile_settings``)."""
    settings = result.get("profile_settings")
    if not isinstance(settings, dict):
        return dict.fromkeys(SCALE_COLUMNS)
    dataset, method = result["dataset"], result["method"]
    subset = settings.get("train_subset")
    return {
        "channels": settings.get("channels"),
        "cells_per_stage": settings.get("cells_per_stage"),
        "train_images": subset if subset is not None else TRAIN_IMAGES.get(dataset),
        "batch_size": settings.get("batch_size"),
        "shrink_steps": settings.get("shrink_steps"),
        "shrink_interval": settings.get("shrink_interval"),
        "arch_steps": arch_steps(method, settings, dataset),
    }


def paper_settings() -> dict[str, Any]:
    """The paper's NAS-Bench-201 search settings, as a ``profile_settings`` mapping."""
    from isdarts.spaces.nb201.profile import Profile

    return dataclasses.asdict(Profile("paper"))


def shrink_after(epochs, steps, interval) -> list[int]:
    """The epochs after which IS-DARTS shrinks: ``range(E - S*I, E, I)``."""
    if any(missing(v) for v in (epochs, steps, interval)):
        return []
    e, s, i = int(epochs), int(steps), int(interval)
    return list(range(e - s * i, e, i))


@dataclasses.dataclass(frozen=True)
class Scale:
    """The recorded scale of a runs table (one profile): None where not recorded."""

    profile: str
    channels: int | None
    cells_per_stage: int | None
    train_images: int | None
    batch_size: int | None

    @property
    def smoke(self) -> bool:
        return self.profile == SMOKE

    @property
    def known(self) -> bool:
        return self.channels is not None and self.cells_per_stage is not None

    def words(self, epochs: int | None = None) -> str:
        """``C=8, N=5, 2,000 images[, 14 epochs]`` ('' where not recorded)."""
        if not self.known:
            return ""
        parts = [f"C={self.channels}", f"N={self.cells_per_stage}"]
        if self.train_images is not None:
            parts.append(f"{whole(self.train_images)} images")
        if epochs is not None:
            parts.append(f"{epochs} epochs")
        return ", ".join(parts)


def _one(runs: pd.DataFrame, column: str) -> int | None:
    """The one value of ``column`` over the runs (None: not recorded; several: an error of
    the aggregation, shown as not recorded rather than as one of them)."""
    if column not in runs:
        return None
    values = {int(v) for v in runs[column] if not missing(v)}
    return values.pop() if len(values) == 1 else None


def scale_of(runs: pd.DataFrame) -> Scale:
    return Scale(
        profile=str(runs["profile"].iloc[0]),
        channels=_one(runs, "channels"),
        cells_per_stage=_one(runs, "cells_per_stage"),
        train_images=_one(runs, "train_images"),
        batch_size=_one(runs, "batch_size"),
    )


def epochs_of(runs: pd.DataFrame, method: str) -> int | None:
    return _one(runs[runs["method"] == method], "epochs")


def label_scale(runs: pd.DataFrame, method: str) -> str:
    """A row label's scale: ``cpu: C=8, N=5, 2,000 images, 14 epochs`` (the profile alone
    where the runs recorded no settings)."""
    scale = scale_of(runs)
    words = scale.words(epochs_of(runs, method))
    return f"{scale.profile}: {words}" if words else scale.profile


def renamed_from(runs: pd.DataFrame) -> str | None:
    """The profile name the runs recorded, where the report names them by a later one."""
    if "profile_recorded" not in runs:
        return None
    names = {str(v) for v in runs["profile_recorded"] if not missing(v)}
    return names.pop() if len(names) == 1 else None


def setup_rows(runs: pd.DataFrame) -> list[list[str]]:
    """The setup-vs-paper table: one row per setting, ours (recorded) and the paper's."""
    scale, paper = scale_of(runs), paper_settings()
    dataset = str(runs["dataset"].iloc[0])
    paper_images = TRAIN_IMAGES.get(dataset)

    def rec(v) -> str:
        return "not recorded" if v is None else whole(v)

    rows = [
        ["C (channels of the first cell stage)", rec(scale.channels), whole(paper["channels"])],
        ["N (search cells per stage)", rec(scale.cells_per_stage), whole(paper["cells_per_stage"])],
        [
            "training images (bi-level methods: half for the weights, half for alpha)",
            rec(scale.train_images),
            rec(paper_images),
        ],
        ["batch size", rec(scale.batch_size), whole(paper["batch_size"])],
    ]
    for method, part in runs.groupby("method", sort=False):
        method = str(method)
        ours_epochs, paper_epochs = epochs_of(part, method), method_epochs(method, paper)
        ours = [rec(ours_epochs)]
        theirs = [rec(paper_epochs)]
        what = "epochs"
        if method == "isdarts":
            after = shrink_after(
                ours_epochs, _one(part, "shrink_steps"), _one(part, "shrink_interval")
            )
            paper_after = shrink_after(
                paper["epochs"], paper["shrink_steps"], paper["shrink_interval"]
            )
            what += "; shrink steps after epochs"
            ours.append(", ".join(map(str, after)) or "not recorded")
            theirs.append(", ".join(map(str, paper_after)))
        elif method in ONE_ARCH_STEP_PER_BATCH:
            what += "; architecture steps"
            ours.append(rec(_one(part, "arch_steps")))
            theirs.append(rec(arch_steps(method, paper, dataset)))
        rows.append(
            [f"{METHOD_LABELS.get(method, method)}: {what}", "; ".join(ours), "; ".join(theirs)]
        )
    return rows
