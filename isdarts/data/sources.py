"""Where data comes from: the data root (our cache) and the local mirror.

Sources are tried in this order: ``$ISDARTS_MIRROR`` (a folder laid out like the project's
``../shared/data``), else ``../shared/data`` when it exists, else the official download.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from isdarts.config import REPO_ROOT
from isdarts.errors import IsdartsError


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The git-ignored folder holding prepared data: ``root``, else ``$ISDARTS_DATA``, else ``./data``."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get("ISDARTS_DATA", "data"))


def source_label(source: str) -> str:
    """A data source as results and reports name it: its label, never a path of the machine
    that prepared the data. ``data prepare`` records the label and the path apart; caches
    prepared before that hold both in ``source``, so a trailing parenthesised path is dropped
    (``mirror: CIFAR-10, JPEG-q75 mirror (/data/cifar10)`` -> ``mirror: CIFAR-10, JPEG-q75
    mirror``) and a path after ``kind:`` shortened to its last part (``local: /x/cifar-10``
    -> ``local: cifar-10``)."""
    text = re.sub(r"\s*\([^()]*[/\\][^()]*\)$", "", str(source))
    kind, sep, rest = text.partition(": ")
    if sep and re.search(r"[/\\]", rest):
        name = re.split(r"[/\\]", rest.rstrip("/\\"))[-1]
        return f"{kind}: {name}"
    return text


def mirror_root() -> Path | None:
    """The local data mirror, or None when there is none (then the official download is used)."""
    env = os.environ.get("ISDARTS_MIRROR")
    if env:
        path = Path(env)
        if not path.is_dir():
            raise IsdartsError(
                f"$ISDARTS_MIRROR={env}: not a folder (expected a folder laid out like shared/data)"
            )
        return path
    for candidate in (Path.cwd().parent / "shared" / "data", REPO_ROOT.parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None
