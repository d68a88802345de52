"""Convert the official NATS-Bench topology folder (``NATS-tss-v1_0-3ffb9-simple``) to our table.

Read with the ``nats_bench`` package, 200-epoch results, mean over seeds (``is_random=False``).
The table is checked against the schema before it is written, and its sha256 is recorded beside
it (``<table>.sha256.json``, :mod:`isdarts.data.sha_record`), which loading checks.
"""

from __future__ import annotations

import bz2
import os
from pathlib import Path
from unittest import mock

import pandas as pd

from isdarts._io import load_pickle
from isdarts.bench.nb201 import NUM_ARCHS, validate_table
from isdarts.data import sha_record
from isdarts.errors import IsdartsError


def _row(api, index: int) -> dict:
    def info(dataset: str) -> dict:
        return api.get_more_info(index, dataset, hp="200", is_random=False)

    c10v, c10, c100, in16 = (
        info(d) for d in ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
    )
    return {
        "index": index,
        "arch_str": api.arch(index),
        "cifar10_valid": c10v["valid-accuracy"],
        "cifar10_test": c10["test-accuracy"],
        "cifar100_valid": c100["valid-accuracy"],
        "cifar100_test": c100["test-accuracy"],
        "imagenet16_valid": in16["valid-accuracy"],
        "imagenet16_test": in16["test-accuracy"],
        "cifar10_valid_model_ori_test": c10v["test-accuracy"],
        "cifar100_ori_test": c100["valtest-accuracy"],
        "imagenet16_ori_test": in16["valtest-accuracy"],
    }


def available_indices(folder: Path) -> list[int]:
    """Indices whose per-architecture file the folder holds."""
    return sorted(int(p.name.split(".")[0]) for p in folder.glob("[0-9]*.pickle.pbz2"))


class _SafePickle:
    """Stands in for the ``pickle`` module inside NATS-Bench's loader."""

    load = staticmethod(load_pickle)

    @staticmethod
    def loads(data: bytes):
        import io

        return load_pickle(io.BytesIO(data))


def _safe_pickle_load(file_path, ext: str = ".pbz2"):
    """NATS-Bench's ``pickle_load`` (a ``.pbz2`` file, the extension optional) through
    :func:`isdarts._io.load_pickle`."""
    path = Path(file_path)
    if not path.is_file():
        path = Path(str(file_path) + ext)
    with bz2.BZ2File(path, "rb") as f:
        return load_pickle(f)


def import_nats(folder: str | os.PathLike, out: str | os.PathLike, partial: bool = False) -> Path:
    """Write the compact table (CSV) for every architecture of an official NATS-Bench folder.

    A full folder has 15,625 architecture files; with ``partial`` only those present are converted
    (e.g. the three-architecture test fixture).
    """
    folder = Path(folder)
    if not (folder / "meta.pickle.pbz2").is_file():
        raise IsdartsError(f"{folder}: not a NATS-Bench topology folder (no meta.pickle.pbz2)")
    indices = available_indices(folder)
    if len(indices) != NUM_ARCHS and not partial:
        raise IsdartsError(
            f"{folder}: holds {len(indices)} of {NUM_ARCHS} architecture files "
            "(download the full NATS-tss-v1_0-3ffb9-simple folder, or pass --partial)"
        )
    import nats_bench
    import nats_bench.api_topology
    import nats_bench.api_utils

    # its files are pickles: read with our allow-list instead of the package's plain pickle.load
    # (wherever the package reads one: its loader, and the names it was imported under)
    try:
        with (
            mock.patch.object(nats_bench.api_utils, "pickle_load", _safe_pickle_load),
            mock.patch.object(nats_bench.api_topology, "pickle_load", _safe_pickle_load),
            mock.patch.object(nats_bench.api_utils, "pickle", _SafePickle),
        ):
            api = nats_bench.create(str(folder), "tss", fast_mode=True, verbose=False)
            rows = [_row(api, i) for i in indices]
    except Exception as exc:  # the package raises bare exceptions on corrupt files
        raise IsdartsError(
            f"{folder}: cannot read with nats_bench ({type(exc).__name__}: {exc})"
        ) from None
    df = pd.DataFrame(rows)
    validate_table(df.copy(), f"{folder} (converted)")
    made_by = f"isdarts nb201 import --nats {folder.resolve()} --out {Path(out).resolve()}"
    if partial:
        made_by += " --partial"
    blob = df.to_csv(index=False, float_format="%.8f").encode()
    return sha_record.write_recorded(out, blob, made_by)
