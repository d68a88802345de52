"""NAS-Bench-201 search profiles: ``config/profiles/<name>.yaml`` (kind ``search-nb201``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from isdarts.config import profiles
from isdarts.config.profiles import SearchProfile


@dataclass(frozen=True)
class Profile(SearchProfile):
    """The paper's NAS-Bench-201 settings by default (C=16, N=5, 30 epochs)."""

    space: ClassVar[str] = "nb201"
    cells_per_stage: int = 5


def load_profile(name_or_path: str | os.PathLike) -> Profile:
    return profiles.load(Profile, "search-nb201", name_or_path)
