"""A run's output folder: who may use it, what it holds, and whether that is this run's.

``result.json`` (written last) and ``checkpoint.pt`` both carry the run's identity (what it
is: space, method, data set, seed, profile contents, or genotype, seed, profile for a
training). A folder holding another run's result or checkpoint is an error naming what
differs, never taken for this run. While a run works in a folder it holds a lock on it
(``.lock``, with its pid): a second run on the same folder stops at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import pickle
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from isdarts._io import atomic_write, read_json, write_text_atomic
from isdarts.errors import IsdartsError


class Saved(Protocol):
    """What the run folder needs of a job (the engine's ``Job`` has it): its length, where its
    tensors live, a fresh state, and its models and optimisers to save and restore."""

    epochs: int
    device: torch.device

    def new_state(self) -> dict[str, Any]: ...

    def restore(self, ckpt: dict[str, Any]) -> None: ...

    def checkpoint(self) -> dict[str, Any]: ...


LOCK = ".lock"


@dataclass(frozen=True)
class RunSpec:
    """Where a run writes and what it is."""

    out: Path
    identity: dict[str, Any]  # what a result or checkpoint must match to be this run's
    what: str  # the run in words, e.g. "search (space, method, data set, seed or profile)"

    @property
    def result_path(self) -> Path:
        return self.out / "result.json"

    @property
    def ckpt_path(self) -> Path:
        return self.out / "checkpoint.pt"

    @property
    def log_path(self) -> Path:
        return self.out / "log.jsonl"


def _differs(theirs: Any, ours: dict[str, Any]) -> str:
    if not isinstance(theirs, dict):
        return "identity"
    return ", ".join(k for k in ours if theirs.get(k) != ours[k]) or "identity"


def _legacy_differs(result: dict[str, Any], ours: dict[str, Any]) -> str:
    """What of our identity a result without one holds otherwise: its kind (a training's
    result names its genotype_source) and each key but the profile (whose settings have gained
    keys since); a key it lacks differs."""
    training = "genotype" in ours
    if training != ("genotype_source" in result):
        return "kind (a search's result, not a training's)" if training else "kind (a training's)"
    return ", ".join(k for k in ours if k != "profile" and result.get(k) != ours[k])


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` for the run's life; another holder is an error naming its pid. A
    folder the run created and left empty is removed again."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise IsdartsError(f"--out {out}: exists and is not a folder") from None
    path = out / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            raise IsdartsError(
                f"{out}: in use by another run (pid {holder}); wait for it to end or use "
                "another --out"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise
            raise IsdartsError(f"{out}: cannot write there ({exc.strerror})") from None
        finally:
            path.unlink(missing_ok=True)
            if created and not any(out.iterdir()):
                out.rmdir()
    finally:
        os.close(fd)


def finished_result(spec: RunSpec) -> dict | None:
    """The result of this run if it already finished in ``spec.out`` (rerunning it does
    nothing), else None; another run's result is an error naming what differs."""
    path = spec.result_path
    if not path.is_file():
        return None
    try:
        result = read_json(path)
    except IsdartsError as exc:
        raise IsdartsError(f"{exc}; delete it to run again") from None
    if not isinstance(result, dict):
        raise IsdartsError(f"{path}: not a result file; delete it to run again")
    if "identity" not in result:  # written before results carried their identity
        differs = _legacy_differs(result, spec.identity)
        if differs:
            raise IsdartsError(
                f"{path}: the result of a different {spec.what} (differs in: {differs}; written "
                "before results carried their identity); use another --out or delete it"
            )
        print(f"isdarts: {path} exists (no identity recorded); nothing to do", file=sys.stderr)
        return result
    if result["identity"] != spec.identity:
        raise IsdartsError(
            f"{path}: the result of a different {spec.what} (differs in: "
            f"{_differs(result['identity'], spec.identity)}); use another --out or delete it"
        )
    print(f"isdarts: {path} exists; nothing to do", file=sys.stderr)
    return result


def load_checkpoint(path: Path, device: torch.device) -> dict:
    """A run's checkpoint; a corrupt or truncated file is an error naming it. Loaded with
    ``weights_only``: a checkpoint holds tensors and plain values only, and a file whose pickle
    asks for anything else (a class, a function: code to run) is refused unread."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).strip().splitlines()
        names = next((line for line in detail if "GLOBAL" in line or "global" in line), "")
        if not names:  # not a refused name: a damaged file
            raise IsdartsError(
                f"{path}: corrupt or unreadable checkpoint (UnpicklingError: "
                f"{detail[0] if detail else exc}); delete it to start the run over"
            ) from None
        raise IsdartsError(
            f"{path}: refused, it holds more than tensors and plain values"
            f"{' (' + names.strip()[:120] + ')' if names else ''}; an isdarts checkpoint never "
            "does: delete it to start the run over"
        ) from None
    except Exception as exc:  # torch raises many types for a damaged file
        raise IsdartsError(
            f"{path}: corrupt or unreadable checkpoint ({type(exc).__name__}: {exc}); "
            "delete it to start the run over"
        ) from None
    if not isinstance(ckpt, dict) or "identity" not in ckpt:
        raise IsdartsError(f"{path}: not an isdarts checkpoint; delete it to start the run over")
    return ckpt


RUN_FILES = frozenset({"result.json", "checkpoint.pt", "log.jsonl", LOCK})


def _own_log(path: Path) -> bool:
    """Whether ``path`` reads as a run log this harness wrote: JSON objects, one per line,
    each with its epoch number (a run's log outlives its checkpoint when a user deletes the
    checkpoint to start over)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError):
        return False
    return all(isinstance(r, dict) and type(r.get("epoch")) is int for r in rows)


def check_fresh_folder(spec: RunSpec) -> None:
    """Before a run starts afresh in ``spec.out``: the folder holds nothing but what a run of
    this harness writes (a log it can replace, a lock); any other file, or a ``log.jsonl`` that
    is not a run log, is the user's and is not written over."""
    foreign = sorted(
        p.name for p in spec.out.iterdir() if p.name not in RUN_FILES and not p.name.startswith(".")
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise IsdartsError(
            f"--out {spec.out}: holds files that are not this run's ({shown}); use an empty or "
            "new folder"
        )
    if spec.log_path.is_file() and not _own_log(spec.log_path):
        raise IsdartsError(
            f"{spec.log_path}: not a run log of this harness (would be replaced); use another "
            "--out or move it"
        )


def start_or_resume(spec: RunSpec, job: Saved) -> dict:
    """The state to go on from: the checkpoint's (restored into the job), else a fresh one.

    On resume ``log.jsonl`` is rewritten to the epochs the checkpoint holds, so lines of an
    epoch interrupted after its log line but before its checkpoint are dropped. On a fresh
    start any stale log is removed.
    """
    if not spec.ckpt_path.is_file():
        check_fresh_folder(spec)
        spec.log_path.unlink(missing_ok=True)
        return job.new_state()
    ckpt = load_checkpoint(spec.ckpt_path, job.device)
    if ckpt["identity"] != spec.identity:
        raise IsdartsError(
            f"{spec.ckpt_path}: made by a different {spec.what} (differs in: "
            f"{_differs(ckpt['identity'], spec.identity)}); use another --out or delete it"
        )
    state = ckpt.get("state")
    damaged = f"{spec.ckpt_path}: damaged checkpoint"
    if not (
        isinstance(state, dict)
        and type(state.get("epoch")) is int
        and isinstance(state.get("log"), list)
    ):
        raise IsdartsError(f"{damaged} (no epoch count and log); delete it to start the run over")
    if not 0 <= state["epoch"] <= job.epochs or len(state["log"]) != state["epoch"]:
        raise IsdartsError(
            f"{damaged} (epoch {state['epoch']} of {job.epochs} with {len(state['log'])} log "
            "rows); delete it to start the run over"
        )
    try:
        job.restore(ckpt)
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise IsdartsError(
            f"{damaged} (its saved state does not fit this run: {type(exc).__name__}); "
            "delete it to start the run over"
        ) from None
    write_text_atomic(spec.log_path, "".join(json.dumps(r) + "\n" for r in state["log"]))
    print(
        f"isdarts: resuming {spec.out} after epoch {state['epoch']}/{job.epochs}", file=sys.stderr
    )
    return state


def save(spec: RunSpec, job: Saved, state: dict, row: dict) -> None:
    """Replace the checkpoint, then append the row to ``log.jsonl``."""
    ckpt = {"identity": spec.identity, "state": state, **job.checkpoint()}
    try:
        atomic_write(spec.ckpt_path, lambda p: torch.save(ckpt, p))
    except RuntimeError as exc:  # torch's own writer: a full disk reads "unexpected pos"
        raise IsdartsError(
            f"{spec.ckpt_path}: cannot write the checkpoint ({exc}); is the disk full? The "
            "previous checkpoint is kept"
        ) from None
    with spec.log_path.open("a") as f:
        f.write(json.dumps(row, allow_nan=False) + "\n")
