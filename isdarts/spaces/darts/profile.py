"""DARTS-space search profiles: ``config/profiles/darts-search-<name>.yaml`` (kind
``search-darts``), the same shape as the NAS-Bench-201 ones with ``layers`` for the network."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

from isdarts.config import profiles
from isdarts.config.profiles import OriginalDartsSettings, SearchProfile


@dataclass(frozen=True)
class DartsSearchProfile(SearchProfile):
    """The paper's DARTS-space settings by default (C=16, 8 cells, 50 epochs, 7 shrink steps
    every 3 epochs); its ``darts:`` block is the original DARTS search."""

    space: ClassVar[str] = "darts"
    blocks: ClassVar[dict[str, type]] = {"darts": OriginalDartsSettings}
    epochs: int = 50
    shrink_steps: int = 7
    shrink_interval: int = 3
    channels_last: bool = False
    layers: int = 8
    darts: OriginalDartsSettings = field(default_factory=OriginalDartsSettings)


def load_search_profile(name_or_path: str | os.PathLike) -> DartsSearchProfile:
    return profiles.load(DartsSearchProfile, "search-darts", name_or_path)
