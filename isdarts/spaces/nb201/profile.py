"""NAS-Bench-201 search profiles: ``config/profiles/<name>.yaml`` (kind ``search-nb201``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

from isdarts.config import profiles
from isdarts.config.baselines import (
    BLOCKS,
    BetaDartsSettings,
    DrNasSettings,
    DsnasSettings,
    EnasSettings,
    GdasSettings,
    IdartsSettings,
    PcDartsSettings,
    RspsSettings,
    SetnSettings,
    SnasSettings,
)
from isdarts.config.profiles import DartsSettings, SearchProfile


@dataclass(frozen=True)
class Profile(SearchProfile):
    """The paper's NAS-Bench-201 settings by default (C=16, N=5, 30 epochs); each baseline's
    block its own paper's or code's (:mod:`isdarts.config.baselines`)."""

    space: ClassVar[str] = "nb201"
    blocks: ClassVar[dict[str, type]] = {"darts": DartsSettings, **BLOCKS}
    cells_per_stage: int = 5
    gdas: GdasSettings = field(default_factory=GdasSettings)
    pcdarts: PcDartsSettings = field(default_factory=PcDartsSettings)
    drnas: DrNasSettings = field(default_factory=DrNasSettings)
    betadarts: BetaDartsSettings = field(default_factory=BetaDartsSettings)
    rsps: RspsSettings = field(default_factory=RspsSettings)
    enas: EnasSettings = field(default_factory=EnasSettings)
    setn: SetnSettings = field(default_factory=SetnSettings)
    snas: SnasSettings = field(default_factory=SnasSettings)
    dsnas: DsnasSettings = field(default_factory=DsnasSettings)
    idarts: IdartsSettings = field(default_factory=IdartsSettings)


def load_profile(name_or_path: str | os.PathLike) -> Profile:
    return profiles.load(Profile, "search-nb201", name_or_path)
