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
from isdarts.profiles import is_num, read_mapping, resolve_prefixed


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


_CHECKS: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "channels": (int, lambda v: v >= 1),
    "cells_per_stage": (int, lambda v: v >= 1),
    "batch_size": (int, lambda v: v >= 2),
    "epochs": (int, lambda v: v >= 1),
    "shrink_steps": (int, lambda v: 1 <= v <= 4),
    "shrink_interval": (int, lambda v: v >= 1),
    "lr": ((int, float), lambda v: v > 0),
    "lr_min": ((int, float), lambda v: v >= 0),
    "momentum": ((int, float), lambda v: 0 <= v < 1),
    "nesterov": (bool, lambda v: True),
    "weight_decay": ((int, float), lambda v: v >= 0),
    "grad_clip": ((int, float), lambda v: v > 0),
    "train_subset": ((int, type(None)), lambda v: v is None or v >= 2),
    "order": (str, lambda v: v in ("shuffle", "fixed")),
    "threads": ((int, type(None)), lambda v: v is None or v >= 1),
    "channels_last": (bool, lambda v: True),
    "darts.epochs": (int, lambda v: v >= 1),
    "darts.arch_lr": ((int, float), lambda v: v > 0),
    "darts.arch_betas": (list, lambda v: len(v) == 2 and all(is_num(b) and 0 <= b < 1 for b in v)),
    "darts.arch_weight_decay": ((int, float), lambda v: v >= 0),
    "darts.weight_decay": ((int, float), lambda v: v >= 0),
}


def _check(path: Path, key: str, value: Any) -> None:
    types, ok = _CHECKS[key]
    allowed = types if isinstance(types, tuple) else (types,)
    wrong_type = not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)
    if wrong_type or not ok(value):
        raise IsdartsError(
            f"{path}: bad value {value!r} for '{key}' (see config/profiles/paper.yaml)"
        )


def _known(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def resolve_profile_path(name_or_path: str | os.PathLike) -> Path:
    """A path as given if it exists; otherwise ``config/profiles/<name>.yaml`` relative to the
    current directory, then relative to the repository root (the package's parent)."""
    return resolve_prefixed(name_or_path, "", "profile")


def load_profile(name_or_path: str | os.PathLike) -> Profile:
    path = resolve_profile_path(name_or_path)
    raw = read_mapping(path)
    known = _known(Profile) - {"name"}
    darts_raw = raw.pop("darts", {}) or {}
    for key, value in raw.items():
        if key not in known:
            raise IsdartsError(
                f"{path}: unknown key '{key}' (expected one of {', '.join(sorted(known))})"
            )
        _check(path, key, value)
    if not isinstance(darts_raw, dict):
        raise IsdartsError(f"{path}: 'darts' must be a mapping")
    for key, value in darts_raw.items():
        if key not in _known(DartsSettings):
            raise IsdartsError(
                f"{path}: unknown key 'darts.{key}' (expected one of "
                f"{', '.join(sorted(_known(DartsSettings)))})"
            )
        _check(path, f"darts.{key}", value)
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
