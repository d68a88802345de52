"""Prepare a data set once into a cached uint8 array file per split, with a recorded sha256.

Cache layout under the data root: ``<dataset>/<split>_images.npy`` (uint8 NHWC),
``<dataset>/<split>_labels.npy`` (int64) and ``<dataset>/meta.json`` (source: a label that
reports may show, source_path: where it was read on this machine; shapes, sha256 of each file,
format version). Plain .npy files load and hash in about 0.2 s for CIFAR-10.
Every file is written to a temporary name and renamed, so an interrupted preparation leaves
nothing that later passes as prepared. Preparing again verifies an existing cache first and
prepares a corrupt one again. The NAS-Bench-201 files (``nb201/``) are copied, each with a
sha256 record beside it (:mod:`isdarts.data.sha_record`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from isdarts._io import atomic_write, read_json, unique_pairs, write_json_atomic
from isdarts.data import _formats, sha_record
from isdarts.data.sources import data_root, mirror_root
from isdarts.errors import IsdartsError

FORMAT_VERSION = 1
CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    num_classes: int
    side: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


# Normalisation constants as the NAS-Bench-201 training pipeline uses them.
DATASETS: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo(
        "cifar10",
        10,
        32,
        (125.3 / 255, 123.0 / 255, 113.9 / 255),
        (63.0 / 255, 62.1 / 255, 66.7 / 255),
    ),
    "cifar100": DatasetInfo(
        "cifar100",
        100,
        32,
        (129.3 / 255, 124.1 / 255, 112.4 / 255),
        (68.2 / 255, 65.4 / 255, 70.4 / 255),
    ),
    "ImageNet16-120": DatasetInfo(
        "ImageNet16-120",
        120,
        16,
        (122.68 / 255, 116.66 / 255, 104.01 / 255),
        (63.22 / 255, 61.26 / 255, 65.09 / 255),
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise IsdartsError(f"unknown dataset '{name}' (expected one of {sorted(DATASETS)})")
    return DATASETS[name]


def _read_source(
    name: str, source: str, src_path: Path | None, root: Path
) -> tuple[dict, str, str]:
    """Return ``({split: (images, labels)}, label of the source, path it was read from)``; the
    label names no path of this machine (:func:`isdarts.data.sources.source_label`)."""
    if src_path is not None:
        path = Path(src_path)
        return _read_path(name, path, None), f"local: {path.resolve().name}", str(path)
    mirror = mirror_root() if source in ("auto", "mirror") else None
    if mirror is not None:
        if name == "cifar10" and (mirror / "cifar10" / "cifar-10-jpeg.tar.gz").is_file():
            splits = _formats.read_image_folder(
                mirror / "cifar10" / "cifar-10-jpeg.tar.gz",
                CIFAR10_CLASSES,
                mirror / "cifar10" / "train-order.txt",
            )
            return splits, "mirror: CIFAR-10, JPEG-q75 mirror", str(mirror / "cifar10")
        folder = mirror / {"cifar100": "cifar100", "ImageNet16-120": "imagenet16"}.get(name, name)
        if folder.is_dir():
            return _read_path(name, folder, None), f"mirror: {folder.name}", str(folder)
        if source == "mirror":
            raise IsdartsError(f"{mirror}: the mirror holds no {name} data")
    elif source == "mirror":
        raise IsdartsError(
            "no data mirror found (set $ISDARTS_MIRROR or place shared/data beside the repo)"
        )
    return _download(name, root / "downloads"), "official download", str(root / "downloads")


def _read_path(name: str, path: Path, order_file: Path | None) -> dict:
    """Read a user-supplied copy in any of the supported layouts."""
    if not path.exists():
        raise IsdartsError(f"{path}: missing")
    if name == "cifar10" and (path / "data_batch_1").exists():
        return _formats.read_cifar10_pickles(path)
    if name == "cifar10" and (path / "cifar-10-batches-py").is_dir():
        return _formats.read_cifar10_pickles(path / "cifar-10-batches-py")
    if name == "cifar100":
        sub = path / "cifar-100-python" if (path / "cifar-100-python").is_dir() else path
        return _formats.read_cifar100_pickles(sub)
    if name == "ImageNet16-120":
        return _formats.read_imagenet16_pickles(path)
    if name == "cifar10":
        order = order_file or (
            path.parent / "train-order.txt" if path.is_file() else path / "train-order.txt"
        )
        return _formats.read_image_folder(path, CIFAR10_CLASSES, order if order.is_file() else None)
    raise IsdartsError(f"{path}: no reader for dataset {name}")


def _download(name: str, target: Path) -> dict:
    if name == "ImageNet16-120":
        raise IsdartsError(
            "ImageNet16-120 has no automatic download: get ImageNet16.tar from the NAS-Bench-201 "
            "authors and run `isdarts data prepare ImageNet16-120 --from PATH/ImageNet16`"
        )
    from torchvision import datasets

    cls = {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100}[name]
    try:
        cls(str(target), train=True, download=True)
    except Exception as exc:  # network errors come in many types
        raise IsdartsError(
            f"{name}: the official download failed ({type(exc).__name__}: {exc}) and no mirror holds it; "
            f"place the official archive under {target} or pass --from PATH"
        ) from None
    sub = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}[name]
    return _read_path(name, target / sub, None)


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _load_npy(path: Path, sha256: str, name: str) -> np.ndarray:
    """Read a .npy file once into a writable buffer, check its sha256, view it as an array."""
    try:
        with open(path, "rb") as f:
            blob = bytearray(os.fstat(f.fileno()).st_size)
            f.readinto(blob)
    except FileNotFoundError:
        raise IsdartsError(
            f"{path}: missing; rerun `isdarts data prepare {name} --force`"
        ) from None
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise IsdartsError(
            f"{path}: sha256 does not match meta.json (corrupt cache); rerun "
            f"`isdarts data prepare {name} --force`"
        )
    header = io.BytesIO(blob[:4096])
    version = np.lib.format.read_magic(header)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
        version, np.lib.format.read_array_header_2_0
    )
    shape, fortran, dtype = read_header(header)
    return np.frombuffer(blob, dtype=dtype, offset=header.tell()).reshape(
        shape, order="F" if fortran else "C"
    )


def prepare(
    name: str,
    root: str | os.PathLike | None = None,
    source: str = "auto",
    src_path: str | os.PathLike | None = None,
    force: bool = False,
) -> Path:
    """Prepare ``name`` under the data root; returns the dataset's cache folder.

    ``source``: ``auto`` (mirror, else official download), ``mirror`` or ``official``;
    ``src_path`` reads a local copy instead (pickle batches or image-folder archive).
    """
    info = dataset_info(name)
    if source not in ("auto", "mirror", "official"):
        raise IsdartsError(f"source '{source}': expected auto, mirror or official")
    root = data_root(root)
    folder = root / name
    corrupt = None
    if (folder / "meta.json").is_file() and not force:
        corrupt = cache_problem(folder)
        if corrupt is None:
            return folder
    try:
        splits, label, path = _read_source(name, source, Path(src_path) if src_path else None, root)
    except IsdartsError as exc:
        if corrupt is None:
            raise
        raise IsdartsError(
            f"{corrupt} (corrupt cache) and cannot be prepared again: {exc}"
        ) from None
    meta = {
        "dataset": name,
        "source": label,
        "source_path": path,
        "format_version": FORMAT_VERSION,
        "num_classes": info.num_classes,
        "splits": {},
    }
    for split, (images, labels) in splits.items():
        if images.shape[1:] != (info.side, info.side, 3):
            raise IsdartsError(
                f"{name} {split}: images of shape {images.shape[1:]}, expected ({info.side}, {info.side}, 3)"
            )
        if labels.min() < 0 or labels.max() >= info.num_classes:
            raise IsdartsError(f"{name} {split}: labels outside 0..{info.num_classes - 1}")
        entry: dict = {"shape": list(images.shape)}
        for part, array in (("images", images), ("labels", labels.astype(np.int64))):
            blob = _npy_bytes(array)
            atomic_write(folder / f"{split}_{part}.npy", lambda p, b=blob: p.write_bytes(b))
            entry[part] = {
                "file": f"{split}_{part}.npy",
                "sha256": hashlib.sha256(blob).hexdigest(),
            }
        meta["splits"][split] = entry
    write_json_atomic(folder / "meta.json", meta)  # written last: its presence marks completion
    if corrupt is not None:
        print(f"isdarts: {corrupt} (corrupt cache); prepared {name} again", file=sys.stderr)
    return folder


def cache_problem(folder: Path) -> str | None:
    """Why the cache in ``folder`` is not intact: ``meta.json`` unreadable, or a file of it missing
    or not matching its sha256 there; None when it is intact (every file hashed, ~0.2 s)."""
    meta_path = folder / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(), object_pairs_hook=unique_pairs)
        files = [
            (folder / meta["splits"][split][part]["file"], meta["splits"][split][part]["sha256"])
            for split in ("train", "test")
            for part in ("images", "labels")
        ]
    except (ValueError, RecursionError, KeyError, TypeError):  # ValueError: JSON, UTF-8, digits
        return f"{meta_path}: malformed"
    for path, sha256 in files:
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
        except FileNotFoundError:
            return f"{path}: missing"
        if digest.hexdigest() != sha256:
            return f"{path}: sha256 does not match meta.json"
    return None


def load_split_arrays(folder: Path, split: str, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """Load one cached split, verifying its sha256 against meta.json."""
    entry = meta["splits"].get(split)
    if entry is None:
        raise IsdartsError(f"{folder / 'meta.json'}: no split '{split}'")
    name = meta["dataset"]
    try:
        images, labels = (
            _load_npy(folder / entry[part]["file"], entry[part]["sha256"], name)
            for part in ("images", "labels")
        )
    except (KeyError, TypeError):
        raise IsdartsError(
            f"{folder / 'meta.json'}: malformed; rerun `isdarts data prepare {name} --force`"
        ) from None
    return images, labels


def read_meta(folder: Path, name: str) -> dict:
    path = folder / "meta.json"
    fix = f"rerun `isdarts data prepare {name} --force`"
    try:
        meta = read_json(path)
    except FileNotFoundError:
        raise IsdartsError(
            f"{path}: {name} is not prepared; run `isdarts data prepare {name}`"
        ) from None
    except IsdartsError as exc:
        raise IsdartsError(f"{exc}; {fix}") from None
    if not (
        isinstance(meta, dict)
        and isinstance(meta.get("dataset"), str)
        and isinstance(meta.get("source"), str)
        and isinstance(meta.get("splits"), dict)
    ):
        raise IsdartsError(
            f"{path}: corrupt (expected an object with dataset, source, splits); {fix}"
        )
    return meta


NB201_FILES = ("nb201-200ep-accuracies.csv", "splits/cifar-split.txt")
NB201_MADE_BY = "isdarts data prepare nb201"


def copy_benchmark_files(root: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Copy the NAS-Bench-201 table and split files from the mirror into ``<root>/nb201``, each
    with its sha256 record.

    A file already there is kept if it matches its record. One that does not is copied again
    from the mirror (saying so on stderr) if this command wrote it, else it is an error naming
    the command that did (``isdarts nb201 import``). A file without a record (copied before
    records existed) is recorded if it equals the mirror's copy, else kept unrecorded.
    """
    folder = data_root(root) / "nb201"
    mirror = mirror_root()
    source = mirror / "nb201" if mirror is not None else None
    if source is not None and not (source / NB201_FILES[0]).is_file():
        source = None
    for rel in NB201_FILES:
        dst, src = folder / rel, (source / rel if source is not None else None)
        corrupt = None
        if dst.is_file() and not force:
            corrupt = _benchmark_file_problem(dst, src)
            if corrupt is None:
                continue
        if src is None or not src.is_file():
            if corrupt is not None:
                raise IsdartsError(
                    f"{corrupt} and no mirror holds {rel} to copy it again (set $ISDARTS_MIRROR)"
                )
            hint = (
                "download the NATS-Bench folder NATS-tss-v1_0-3ffb9-simple and run "
                "`isdarts nb201 import --nats PATH`"
                if rel == NB201_FILES[0]
                else "set $ISDARTS_MIRROR to a folder laid out like shared/data"
            )
            raise IsdartsError(f"{dst}: missing and no mirror found; {hint}")
        sha_record.write_recorded(dst, src.read_bytes(), NB201_MADE_BY)
        if corrupt is not None:
            print(f"isdarts: {corrupt}; copied it again from the mirror", file=sys.stderr)
    return folder


def _benchmark_file_problem(dst: Path, src: Path | None) -> str | None:
    """None if ``dst`` is to be kept; else why it is copied again (raising if it is not ours)."""
    blob = dst.read_bytes()
    try:
        entry = sha_record.read_record(dst)
    except IsdartsError:
        return f"{sha_record.record_path(dst)}: malformed sha256 record"
    if entry is None:  # from before records: vouch for it only if it is the mirror's copy
        if src is not None and src.is_file():
            if sha_record.sha256(src.read_bytes()) == sha_record.sha256(blob):
                sha_record.write_record(dst, blob, NB201_MADE_BY)
        return None
    if sha_record.sha256(blob) == entry["sha256"]:
        return None
    problem = f"{dst}: sha256 does not match {sha_record.record_path(dst).name}"
    if entry["made_by"] != NB201_MADE_BY:  # an imported table: not ours to replace unasked
        fix = f"rerun `{entry['made_by']}`"
        if src is not None and src.is_file():
            fix += f", or `{NB201_MADE_BY} --force` to take the mirror's copy"
        raise IsdartsError(f"{problem} (corrupt or changed since it was written); {fix}")
    return f"{problem} (corrupt)"
