"""Readers for the on-disk formats of the image data sets, each returning uint8 NHWC arrays.

- CIFAR pickle batches (``cifar-10-batches-py``, ``cifar-100-python``): what torchvision downloads.
- Image-folder archives (``train/<class>/*.jpg``, ``test/<class>/*.jpg``), as a .tar.gz or a folder,
  with an optional order file listing the training images' archive paths in the original order.
- ImageNet16 pickle batches (``train_data_batch_1..10``, ``val_data``) as the NAS-Bench-201 authors
  distribute them.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from isdarts._io import load_pickle
from isdarts.errors import IsdartsError

Arrays = tuple[np.ndarray, np.ndarray]


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            obj = load_pickle(f, encoding="bytes")
    except FileNotFoundError:
        raise IsdartsError(f"{path}: missing (expected a pickle batch file)") from None
    except Exception as exc:  # truncated or not a pickle
        raise IsdartsError(
            f"{path}: unreadable pickle batch ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(obj, dict):
        raise IsdartsError(f"{path}: expected a dict of arrays, got {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _rows_to_nhwc(path: Path, data, side: int) -> np.ndarray:
    arr = np.asarray(data, dtype=np.uint8)
    if arr.ndim != 2 or arr.shape[1] != 3 * side * side:
        raise IsdartsError(f"{path}: 'data' has shape {arr.shape}, expected (N, {3 * side * side})")
    return np.ascontiguousarray(arr.reshape(-1, 3, side, side).transpose(0, 2, 3, 1))


def read_pickle_batches(files: list[Path], label_key: str, side: int = 32) -> Arrays:
    images, labels = [], []
    for path in files:
        batch = _unpickle(path)
        for key in ("data", label_key):
            if key not in batch:
                raise IsdartsError(f"{path}: no '{key}' entry (keys: {sorted(batch)})")
        x = _rows_to_nhwc(path, batch["data"], side)
        y = np.asarray(batch[label_key], dtype=np.int64)
        if len(y) != len(x):
            raise IsdartsError(f"{path}: {len(x)} images but {len(y)} labels")
        images.append(x)
        labels.append(y)
    return np.concatenate(images), np.concatenate(labels)


def read_cifar10_pickles(folder: Path) -> dict[str, Arrays]:
    folder = Path(folder)
    train = [folder / f"data_batch_{i}" for i in range(1, 6)]
    return {
        "train": read_pickle_batches(train, "labels"),
        "test": read_pickle_batches([folder / "test_batch"], "labels"),
    }


def read_cifar100_pickles(folder: Path) -> dict[str, Arrays]:
    folder = Path(folder)
    return {
        "train": read_pickle_batches([folder / "train"], "fine_labels"),
        "test": read_pickle_batches([folder / "test"], "fine_labels"),
    }


def read_imagenet16_pickles(folder: Path, num_classes: int = 120) -> dict[str, Arrays]:
    """ImageNet16-120: the 16x16 ImageNet batches restricted to labels 1..120, relabelled 0..119."""
    folder = Path(folder)
    out = {}
    files = {
        "train": [folder / f"train_data_batch_{i}" for i in range(1, 11)],
        "test": [folder / "val_data"],
    }
    for split, paths in files.items():
        x, y = read_pickle_batches(paths, "labels", side=16)
        keep = (y >= 1) & (y <= num_classes)
        out[split] = (np.ascontiguousarray(x[keep]), y[keep] - 1)
    return out


class _Archive:
    """Uniform access to an image-folder tree stored as a .tar(.gz) or a plain folder."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if self.path.is_dir():
            self._tar = None
            self.names = sorted(
                str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file()
            )
        else:
            # Read every member once, in archive order: random access into a .tar.gz would
            # decompress from the start for each image.
            try:
                with tarfile.open(self.path, "r:*") as tar:
                    self._blobs = {
                        m.name.lstrip("./"): tar.extractfile(m).read() for m in tar if m.isfile()
                    }
            except FileNotFoundError:
                raise IsdartsError(
                    f"{self.path}: missing (expected an image-folder archive)"
                ) from None
            except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
                detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise IsdartsError(
                    f"{self.path}: corrupt or truncated archive ({detail})"
                ) from None
            self._tar = True
            self.names = sorted(self._blobs)

    def read(self, name: str) -> bytes:
        if self._tar is None:
            return (self.path / name).read_bytes()
        return self._blobs[name]


def _decode(archive: _Archive, name: str, side: int) -> np.ndarray:
    try:
        img = Image.open(io.BytesIO(archive.read(name))).convert("RGB")
        arr = np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise IsdartsError(f"{archive.path}: cannot decode image {name} ({exc})") from None
    if arr.shape != (side, side, 3):
        raise IsdartsError(
            f"{archive.path}: image {name} has shape {arr.shape}, expected ({side}, {side}, 3)"
        )
    return arr


def read_image_folder(
    path: Path, classes: list[str], order_file: Path | None = None, side: int = 32
) -> dict[str, Arrays]:
    """Decode ``train/<class>/*`` and ``test/<class>/*``.

    Training images follow ``order_file`` (one archive path per line) when given, else class-major
    file-name order; test images are always class-major, file-name order.
    """
    archive = _Archive(path)
    class_index = {c: i for i, c in enumerate(classes)}
    listing: dict[str, list[str]] = {"train": [], "test": []}
    for name in archive.names:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] in listing:
            if parts[1] not in class_index:
                raise IsdartsError(
                    f"{path}: unknown class folder '{parts[1]}' in {name} (expected one of {classes})"
                )
            listing[parts[0]].append(name)
    for split in listing:
        if not listing[split]:
            raise IsdartsError(
                f"{path}: no images under {split}/<class>/ (expected an image-folder archive)"
            )
        listing[split].sort(key=lambda n: (class_index[n.split("/")[1]], n))
    if order_file is not None:
        listing["train"] = _read_order(Path(order_file), listing["train"])
    out = {}
    for split, names in listing.items():
        x = np.stack([_decode(archive, n, side) for n in names])
        y = np.array([class_index[n.split("/")[1]] for n in names], dtype=np.int64)
        out[split] = (x, y)
    return out


def _read_order(order_file: Path, train_names: list[str]) -> list[str]:
    try:
        lines = [
            ln.strip().lstrip("./") for ln in order_file.read_text().splitlines() if ln.strip()
        ]
    except FileNotFoundError:
        raise IsdartsError(f"{order_file}: order file missing") from None
    known = set(train_names)
    if len(lines) != len(train_names):
        raise IsdartsError(
            f"{order_file}: {len(lines)} lines, expected {len(train_names)} (one per training image)"
        )
    for i, name in enumerate(lines, start=1):
        if name not in known:
            raise IsdartsError(
                f"{order_file}: line {i} names '{name}', which is not a training image of the archive"
            )
    if len(set(lines)) != len(lines):
        raise IsdartsError(f"{order_file}: lists some training images more than once")
    return lines
