"""The kinds of job the workflow runs and the run profile each reads: the one place that maps
a job kind to its profile file and dataclass (``workflow/rules/common.smk`` uses it, so a bad
profile stops the workflow before any job starts).

==========  ====================================  =====================================
job kind    profile file                          dataclass
==========  ====================================  =====================================
``nb201``   ``config/profiles/<name>.yaml``       :class:`isdarts.spaces.nb201.profile.Profile`
``darts``   ``darts-search-<name>.yaml``          :class:`isdarts.spaces.darts.profile.DartsSearchProfile`
``train``   ``darts-train-<name>.yaml``           :class:`isdarts.train.profile.TrainProfile`
==========  ====================================  =====================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from isdarts import profiles
from isdarts.spaces.darts.profile import DartsSearchProfile
from isdarts.spaces.nb201.profile import Profile
from isdarts.train.profile import TrainProfile

JOB_PROFILES: dict[str, tuple[str, type]] = {
    "nb201": ("search-nb201", Profile),
    "darts": ("search-darts", DartsSearchProfile),
    "train": ("train", TrainProfile),
}


def profile_path(job: str, name: str, root: Path) -> Path:
    """The file of profile ``name`` for a job of kind ``job`` in the checkout ``root``."""
    prefix = profiles.KINDS[JOB_PROFILES[job][0]][0]
    return root / profiles.PROFILE_DIR / f"{prefix}{name}.yaml"


def load_profile(job: str, name_or_path: str | Path) -> Any:
    """The checked profile (a name or a file) of a job of kind ``job``."""
    kind, cls = JOB_PROFILES[job]
    return profiles.load(cls, kind, name_or_path)
