"""Run profiles: YAML files of settings under ``config/profiles/``, found by name or path and
checked key by key, so that a wrong key or value is an error naming it and the file."""

from __future__ import annotations

import os
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


def read_checked(path: Path, checks: dict[str, Any], example: str) -> dict[str, Any]:
    """The YAML mapping in ``path``, every key known to ``checks`` and every value accepted."""
    raw = read_mapping(path)
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
    raise IsdartsError(f"{what} '{name_or_path}' not found as ./{PROFILE_DIR}/{stem}.yaml "
                       f"or {repo / PROFILE_DIR / (stem + '.yaml')} (names: smoke, cpu, paper)")
