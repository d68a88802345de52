"""A recorded sha256 for a prepared file that has no ``meta.json`` of its own (the NAS-Bench-201
table and split files): a JSON sidecar ``<file>.sha256.json`` beside it::

    {"file": "nb201-200ep-accuracies.csv", "sha256": "...", "bytes": 3020053,
     "made_by": "isdarts data prepare nb201"}

``made_by`` is the command that wrote the file: the fix a mismatch names. Writers replace the
file and then the record, each atomically, and remove the old record first, so an interrupted
write never leaves a record vouching for bytes it did not hash. A file without a record (one
given by path, or prepared before records existed) is simply unrecorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from isdarts._io import atomic_write, unique_pairs, write_json_atomic
from isdarts.errors import IsdartsError

SUFFIX = ".sha256.json"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def record_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + SUFFIX)


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def write_recorded(path: str | os.PathLike, blob: bytes, made_by: str) -> Path:
    """Write ``blob`` to ``path`` and its sha256 record beside it; returns ``path``."""
    path = Path(path)
    record = record_path(path)
    record.unlink(missing_ok=True)
    atomic_write(path, lambda p: p.write_bytes(blob))
    write_record(path, blob, made_by)
    return path


def write_record(path: str | os.PathLike, blob: bytes, made_by: str) -> Path:
    """Record the sha256 of ``blob``, the bytes now in ``path``."""
    path = Path(path)
    entry = {"file": path.name, "sha256": sha256(blob), "bytes": len(blob), "made_by": made_by}
    return write_json_atomic(record_path(path), entry)


def read_record(path: str | os.PathLike) -> dict | None:
    """The record of ``path``, or None when it has none; IsdartsError if the record is malformed."""
    record = record_path(path)
    try:
        entry = json.loads(record.read_text(), object_pairs_hook=unique_pairs)
    except FileNotFoundError:
        return None
    except (ValueError, RecursionError):  # bad JSON or UTF-8, a number of 4300 digits, deep nesting
        entry = None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("sha256"), str)
        or not _HEX64.fullmatch(entry["sha256"])
        or not isinstance(entry.get("made_by"), str)
    ):
        raise IsdartsError(
            f"{record}: not a sha256 record (expected JSON with 'sha256' and 'made_by'); "
            f"delete it and write {Path(path).name} again"
        )
    return entry


def matches(path: str | os.PathLike, blob: bytes) -> bool | None:
    """Whether ``blob`` (the bytes read from ``path``) matches the record of ``path``; None when
    there is no record. IsdartsError if the record is malformed."""
    entry = read_record(path)
    return None if entry is None else sha256(blob) == entry["sha256"]


def check(path: str | os.PathLike, blob: bytes) -> None:
    """IsdartsError naming the file and the command that rewrites it if ``blob`` (the bytes read
    from ``path``) does not match its record; nothing when it matches or there is no record."""
    entry = read_record(path)
    if entry is not None and sha256(blob) != entry["sha256"]:
        raise IsdartsError(
            f"{path}: sha256 does not match {record_path(path).name} (corrupt or changed since "
            f"it was written); rerun `{entry['made_by']}`"
        )
