"""Training profiles: ``config/profiles/darts-train-<name>.yaml`` loaded into a validated dataclass.

``isdarts train --profile cpu`` reads ``config/profiles/darts-train-cpu.yaml``; a YAML path
works too. Every key is optional (defaults: the paper's settings, spec section 6); an unknown
key or a bad value is an ``IsdartsError`` naming the key and the file.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from isdarts.errors import IsdartsError

PROFILE_DIR = Path("config") / "profiles"
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


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_CHECKS: dict[str, Any] = {
    "channels": lambda v: _int(v) and v >= 1,
    "layers": lambda v: _int(v) and v >= 3,
    "auxiliary_weight": lambda v: _num(v) and v >= 0,
    "drop_path": lambda v: _num(v) and 0 <= v < 1,
    "epochs": lambda v: _int(v) and v >= 1,
    "warmup_epochs": lambda v: _int(v) and v >= 0,
    "batch_size": lambda v: _int(v) and v >= 2,
    "lr": lambda v: _num(v) and v > 0,
    "lr_min": lambda v: _num(v) and v >= 0,
    "momentum": lambda v: _num(v) and 0 <= v < 1,
    "nesterov": lambda v: isinstance(v, bool),
    "weight_decay": lambda v: _num(v) and v >= 0,
    "grad_clip": lambda v: _num(v) and v > 0,
    "cutout": lambda v: _int(v) and v >= 0,
    "train_subset": lambda v: v is None or (_int(v) and v >= 2),
    "test_subset": lambda v: v is None or (_int(v) and v >= 1),
    "eval_batch_size": lambda v: _int(v) and v >= 1,
    "threads": lambda v: v is None or (_int(v) and v >= 1),
    "channels_last": lambda v: isinstance(v, bool),
}
assert set(_CHECKS) == {f.name for f in fields(TrainProfile)} - {"name"}


def read_checked(path: Path, checks: dict[str, Any], example: str) -> dict[str, Any]:
    """The YAML mapping in ``path``, every key known to ``checks`` and every value accepted."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise IsdartsError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise IsdartsError(f"{path}: expected a mapping of settings")
    for key, value in raw.items():
        if key not in checks:
            raise IsdartsError(f"{path}: unknown key '{key}' (expected one of "
                               f"{', '.join(sorted(checks))})")
        if not checks[key](value):
            raise IsdartsError(f"{path}: bad value {value!r} for '{key}' (see {example})")
    return raw


def resolve_prefixed(name_or_path: str | os.PathLike, prefix: str, what: str) -> Path:
    """A YAML path as given, else ``config/profiles/<prefix><name>.yaml`` under the current
    directory, then under the repository root."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        if p.is_file():
            return p
        raise IsdartsError(f"{what} file {p} not found")
    stem = str(name_or_path)
    stem = stem if stem.startswith(prefix) else prefix + stem
    repo = Path(__file__).resolve().parents[2]
    for base in (Path.cwd(), repo):
        cand = base / PROFILE_DIR / f"{stem}.yaml"
        if cand.is_file():
            return cand
    raise IsdartsError(f"{what} '{name_or_path}' not found as ./{PROFILE_DIR}/{stem}.yaml "
                       f"or {repo / PROFILE_DIR / (stem + '.yaml')} (names: smoke, cpu, paper)")


def load_train_profile(name_or_path: str | os.PathLike) -> TrainProfile:
    path = resolve_prefixed(name_or_path, PREFIX, "training profile")
    raw = read_checked(path, _CHECKS, "config/profiles/darts-train-paper.yaml")
    name = path.stem[len(PREFIX):] if path.stem.startswith(PREFIX) else path.stem
    prof = TrainProfile(name=name, **raw)
    if prof.warmup_epochs >= prof.epochs:
        raise IsdartsError(f"{path}: 'warmup_epochs' ({prof.warmup_epochs}) must be below "
                           f"'epochs' ({prof.epochs})")
    if prof.lr_min > prof.lr:
        raise IsdartsError(f"{path}: 'lr_min' ({prof.lr_min}) must not exceed 'lr' ({prof.lr})")
    return prof


def train_profile_dict(prof: TrainProfile) -> dict[str, Any]:
    return dataclasses.asdict(prof)
