"""Run profiles: YAML files in ``config/profiles/`` loaded into a validated dataclass.

A profile names every setting of a search; the shrink logic is the same at every scale
(shrink points derived from ``epochs``, ``shrink_steps``, ``shrink_interval``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from isdarts.errors import IsdartsError
from isdarts.profiles import (
    ARCH_CHECKS,
    ORDER_CHECK,
    SHARED_CHECKS,
    check_mapping,
    is_int,
    read_mapping,
    resolve_prefixed,
)


@dataclass(frozen=True)
class DartsSettings:
    """First-order DARTS (spec section 8); network settings come from the profile."""

    epochs: int = 50
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    weight_decay: float = 5e-4


@dataclass(frozen=True)
class Profile:
    name: str
    channels: int = 16
    cells_per_stage: int = 5
    batch_size: int = 64
    epochs: int = 30
    shrink_steps: int = 4
    shrink_interval: int = 2
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    train_subset: int | None = None  # images of the training set used (None: all)
    order: str = "shuffle"  # shuffle | fixed (the authors' released setting)
    threads: int | None = None  # torch.set_num_threads (None: torch's default)
    channels_last: bool = True
    darts: DartsSettings = field(default_factory=DartsSettings)


_CHECKS: dict[str, Any] = {
    **SHARED_CHECKS,
    "cells_per_stage": lambda v: is_int(v) and v >= 1,
    "shrink_steps": lambda v: is_int(v) and 1 <= v <= 4,
    "shrink_interval": lambda v: is_int(v) and v >= 1,
    "order": ORDER_CHECK,
    "darts": lambda v: v is None or isinstance(v, dict),  # a mapping, checked by _DARTS_CHECKS
}
_DARTS_CHECKS: dict[str, Any] = {
    "epochs": SHARED_CHECKS["epochs"],
    **ARCH_CHECKS,
    "weight_decay": SHARED_CHECKS["weight_decay"],
}
assert set(_CHECKS) == {f.name for f in fields(Profile)} - {"name"}
assert set(_DARTS_CHECKS) == {f.name for f in fields(DartsSettings)}
EXAMPLE = "config/profiles/paper.yaml"


def resolve_profile_path(name_or_path: str | os.PathLike) -> Path:
    """A path as given if it exists; otherwise ``config/profiles/<name>.yaml`` relative to the
    current directory, then relative to the repository root (the package's parent)."""
    return resolve_prefixed(name_or_path, "", "profile")


def load_profile(name_or_path: str | os.PathLike) -> Profile:
    path = resolve_profile_path(name_or_path)
    raw = read_mapping(path)
    check_mapping(path, raw, _CHECKS, EXAMPLE)
    darts_raw = raw.pop("darts", None) or {}
    check_mapping(path, darts_raw, _DARTS_CHECKS, EXAMPLE, prefix="darts.")
    if "arch_betas" in darts_raw:
        darts_raw["arch_betas"] = tuple(float(b) for b in darts_raw["arch_betas"])
    prof = Profile(name=path.stem, darts=DartsSettings(**darts_raw), **raw)
    first = prof.epochs - prof.shrink_steps * prof.shrink_interval
    if first < 1:
        raise IsdartsError(
            f"{path}: 'epochs' ({prof.epochs}) must exceed shrink_steps * "
            f"shrink_interval ({prof.shrink_steps * prof.shrink_interval})"
        )
    if prof.lr_min > prof.lr:
        raise IsdartsError(f"{path}: 'lr_min' ({prof.lr_min}) must not exceed 'lr' ({prof.lr})")
    return prof


def profile_dict(prof: Profile) -> dict[str, Any]:
    d = dataclasses.asdict(prof)
    d["darts"]["arch_betas"] = list(d["darts"]["arch_betas"])
    return d
