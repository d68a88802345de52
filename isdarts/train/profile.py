"""Training profiles: ``config/profiles/darts-train-<name>.yaml`` loaded into a validated dataclass.

``isdarts train --profile cpu`` reads ``config/profiles/darts-train-cpu.yaml``; a YAML path
works too. Every key is optional (defaults: the published final training, as in
``config/profiles/darts-train-paper.yaml``); an unknown key or a bad value is an
``IsdartsError`` naming the key and the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from isdarts.config import profiles


@dataclass(frozen=True)
class TrainProfile(profiles.RunProfile):
    """The paper's final training by default (C=36, 20 cells, 600 epochs)."""

    channels: int = 36
    batch_size: int = 96
    epochs: int = 600  # including the warm-up epochs
    lr_min: float = 0.0
    channels_last: bool = False
    layers: int = 20
    auxiliary_weight: float = 0.4  # 0: no auxiliary head
    drop_path: float = 0.2  # final drop-path probability, ramped linearly from 0
    warmup_epochs: int = 5
    cutout: int = 16
    test_subset: int | None = None  # test images evaluated (None: all 10,000)
    eval_batch_size: int = 500


def load_train_profile(name_or_path: str | os.PathLike) -> TrainProfile:
    return profiles.load(TrainProfile, "train", name_or_path)
