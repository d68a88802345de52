"""Data: preparation into a cached uint8 array per split, loading, and in-memory batching."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from isdarts._io import unique_pairs
from isdarts.data.prepare import (
    DATASETS,
    copy_benchmark_files,
    dataset_info,
    load_split_arrays,
    prepare,
    read_meta,
)
from isdarts.data.sources import data_root, source_label
from isdarts.errors import IsdartsError

__all__ = ["DATASETS", "Dataset", "load_dataset", "load_split", "prepare", "dataset_info"]


@dataclass
class Dataset:
    name: str
    train_images: np.ndarray  # uint8 [N, H, W, 3]
    train_labels: np.ndarray  # int64 [N]
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str  # label only (no path), also for caches whose meta.json holds the path in it
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    num_classes: int


def load_dataset(name: str, root: str | os.PathLike | None = None) -> Dataset:
    """Load a prepared data set (verifying its sha256); IsdartsError if it is not prepared."""
    info = dataset_info(name)
    folder = data_root(root) / name
    meta = read_meta(folder, name)
    train = load_split_arrays(folder, "train", meta)
    test = load_split_arrays(folder, "test", meta)
    source = source_label(meta["source"])
    return Dataset(name, *train, *test, source, info.mean, info.std, info.num_classes)


def load_split(
    name: str = "cifar10", root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The standard NAS-Bench-201 25k/25k split of the CIFAR-10 training set: (train_idx, valid_idx)."""
    if name != "cifar10":
        raise IsdartsError(f"no standard train/valid split for '{name}' (only cifar10)")
    path = copy_benchmark_files(root) / "splits" / "cifar-split.txt"
    try:
        raw = json.loads(path.read_text(), object_pairs_hook=unique_pairs)
        idx = [np.array([int(i) for i in raw[k][1]], dtype=np.int64) for k in ("train", "valid")]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise IsdartsError(
            f"{path}: not a NAS-Bench-201 split file with 'train'/'valid' ({exc})"
        ) from None
    return idx[0], idx[1]
