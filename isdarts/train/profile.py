"""Training profiles: ``config/profiles/darts-train-<name>.yaml`` loaded into a validated dataclass.

``isdarts train --profile cpu`` reads ``config/profiles/darts-train-cpu.yaml``; a YAML path
works too. Every key is optional (defaults: the paper's settings, spec section 6); an unknown
key or a bad value is an ``IsdartsError`` naming the key and the file.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import Any

from isdarts.errors import IsdartsError
from isdarts.profiles import SHARED_CHECKS, is_int, is_num, read_checked, resolve_prefixed

PREFIX = "darts-train-"


@dataclass(frozen=True)
class TrainProfile:
    name: str
    channels: int = 36
    layers: int = 20
    auxiliary_weight: float = 0.4  # 0: no auxiliary head
    drop_path: float = 0.2  # final drop-path probability, ramped linearly from 0
    epochs: int = 600  # including the warm-up epochs
    warmup_epochs: int = 5
    batch_size: int = 96
    lr: float = 0.025
    lr_min: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    cutout: int = 16
    train_subset: int | None = None  # training images used (None: all 50,000)
    test_subset: int | None = None  # test images evaluated (None: all 10,000)
    eval_batch_size: int = 500
    threads: int | None = None
    channels_last: bool = False


_CHECKS: dict[str, Any] = {
    **SHARED_CHECKS,
    "layers": lambda v: is_int(v) and v >= 3,
    "auxiliary_weight": lambda v: is_num(v) and v >= 0,
    "drop_path": lambda v: is_num(v) and 0 <= v < 1,
    "warmup_epochs": lambda v: is_int(v) and v >= 0,
    "cutout": lambda v: is_int(v) and v >= 0,
    "test_subset": lambda v: v is None or (is_int(v) and v >= 1),
    "eval_batch_size": lambda v: is_int(v) and v >= 1,
}
assert set(_CHECKS) == {f.name for f in fields(TrainProfile)} - {"name"}


def load_train_profile(name_or_path: str | os.PathLike) -> TrainProfile:
    path = resolve_prefixed(name_or_path, PREFIX, "training profile")
    raw = read_checked(path, _CHECKS, "config/profiles/darts-train-paper.yaml")
    name = path.stem[len(PREFIX) :] if path.stem.startswith(PREFIX) else path.stem
    prof = TrainProfile(name=name, **raw)
    if prof.warmup_epochs >= prof.epochs:
        raise IsdartsError(
            f"{path}: 'warmup_epochs' ({prof.warmup_epochs}) must be below 'epochs' ({prof.epochs})"
        )
    if prof.lr_min > prof.lr:
        raise IsdartsError(f"{path}: 'lr_min' ({prof.lr_min}) must not exceed 'lr' ({prof.lr})")
    return prof


def train_profile_dict(prof: TrainProfile) -> dict[str, Any]:
    return dataclasses.asdict(prof)
