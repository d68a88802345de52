"""Run profiles: YAML files of settings under ``config/profiles/``, found by name or path and
checked key by key, so that a wrong key or value is an error naming it and the file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from isdarts.data.sources import REPO_ROOT
from isdarts.errors import IsdartsError

PROFILE_DIR = Path("config") / "profiles"


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_mapping(path: Path) -> dict[str, Any]:
    """The YAML mapping of settings in ``path`` (empty file: no settings)."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise IsdartsError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise IsdartsError(f"{path}: expected a mapping of settings")
    return raw


# The settings every profile kind (NB201 search, DARTS-space search, final training) names
# alike: the network width, the SGD run, the data subset and the CPU settings.
SHARED_CHECKS: dict[str, Callable[[Any], bool]] = {
    "channels": lambda v: is_int(v) and v >= 1,
    "batch_size": lambda v: is_int(v) and v >= 2,
    "epochs": lambda v: is_int(v) and v >= 1,
    "lr": lambda v: is_num(v) and v > 0,
    "lr_min": lambda v: is_num(v) and v >= 0,
    "momentum": lambda v: is_num(v) and 0 <= v < 1,
    "nesterov": lambda v: isinstance(v, bool),
    "weight_decay": lambda v: is_num(v) and v >= 0,
    "grad_clip": lambda v: is_num(v) and v > 0,
    "train_subset": lambda v: v is None or (is_int(v) and v >= 2),
    "threads": lambda v: v is None or (is_int(v) and v >= 1),
    "channels_last": lambda v: isinstance(v, bool),
}
# The search's data order, and first-order DARTS' architecture optimiser (its Adam on alpha).
ORDER_CHECK: Callable[[Any], bool] = lambda v: v in ("shuffle", "fixed")  # noqa: E731
ARCH_CHECKS: dict[str, Callable[[Any], bool]] = {
    "arch_lr": lambda v: is_num(v) and v > 0,
    "arch_betas": lambda v: (
        isinstance(v, list) and len(v) == 2 and all(is_num(b) and 0 <= b < 1 for b in v)
    ),
    "arch_weight_decay": lambda v: is_num(v) and v >= 0,
}


def check_mapping(
    path: Path, raw: dict[str, Any], checks: dict[str, Any], example: str, prefix: str = ""
) -> None:
    """Every key of ``raw`` known to ``checks`` and every value accepted; errors name the key
    (``prefix`` + key, for a nested mapping) and the file."""
    for key, value in raw.items():
        if key not in checks:
            raise IsdartsError(
                f"{path}: unknown key '{prefix}{key}' (expected one of "
                f"{', '.join(prefix + k for k in sorted(checks))})"
            )
        if not checks[key](value):
            raise IsdartsError(f"{path}: bad value {value!r} for '{prefix}{key}' (see {example})")


def read_checked(path: Path, checks: dict[str, Any], example: str) -> dict[str, Any]:
    """The YAML mapping in ``path``, every key known to ``checks`` and every value accepted."""
    raw = read_mapping(path)
    check_mapping(path, raw, checks, example)
    return raw


def resolve_prefixed(name_or_path: str | os.PathLike, prefix: str, what: str) -> Path:
    """A YAML path as given, else ``config/profiles/<prefix><name>.yaml`` under the current
    directory, then under the repository root."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.is_file():
        if p.is_file():
            return p
        raise IsdartsError(f"{what} file {p} not found")
    stem = str(name_or_path)
    stem = stem if stem.startswith(prefix) else prefix + stem
    repo = REPO_ROOT
    for base in (Path.cwd(), repo):
        cand = base / PROFILE_DIR / f"{stem}.yaml"
        if cand.is_file():
            return cand
    raise IsdartsError(
        f"{what} '{name_or_path}' not found as ./{PROFILE_DIR}/{stem}.yaml "
        f"or {repo / PROFILE_DIR / (stem + '.yaml')} (names: smoke, cpu, paper)"
    )
