"""The one resumable run engine of searches and final trainings.

A run owns one output folder: ``result.json`` (written last, atomically), ``log.jsonl`` (one
line per epoch) and ``checkpoint.pt`` (replaced atomically after every epoch, before the log
line). The engine

- does nothing for a finished run (``result.json`` exists) and returns its result;
- resumes from ``checkpoint.pt`` when the checkpoint carries this run's identity (else an
  error naming what differs), cutting ``log.jsonl`` back to the epochs the checkpoint holds;
- runs the remaining epochs of a :class:`Job`, saving checkpoint and log line after each;
- stops on a non-finite loss (:class:`NonFiniteLoss`) with one line naming the epoch, step and
  the last good checkpoint, which it keeps;
- writes the job's result with the provenance every result file carries (:func:`provenance`).

A job's random draws depend on (seed, epoch) only (:mod:`isdarts.config.seeds`) and everything that
changes during training is in its checkpoint, so a resumed run ends with the same numbers as an
uninterrupted one.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch

import isdarts
from isdarts._io import atomic_write, write_json_atomic, write_text_atomic
from isdarts.errors import IsdartsError
from isdarts.run.device import device_name

EpochHook = Callable[[int], None]


class NonFiniteLoss(IsdartsError):
    """A NaN or infinite training loss; the engine adds which checkpoint is kept."""


def check_finite(loss: torch.Tensor, where: str) -> float:
    """The loss as a float; :class:`NonFiniteLoss` naming ``where`` if it is NaN or infinite."""
    value = loss.item()
    if not math.isfinite(value):
        raise NonFiniteLoss(f"the training loss became {value} at {where}")
    return value


def cosine_lr(step: int, steps: int, lr: float, lr_min: float) -> float:
    """Cosine annealing from ``lr`` (step 0) towards ``lr_min`` over ``steps`` steps."""
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * step / steps))


def sgd(params, prof: Any, weight_decay: float | None = None) -> torch.optim.SGD:
    """SGD with a profile's momentum, Nesterov flag and weight decay (or ``weight_decay``);
    the learning rate is set per epoch (:func:`set_lr`)."""
    wd = prof.weight_decay if weight_decay is None else weight_decay
    return torch.optim.SGD(
        params, lr=prof.lr, momentum=prof.momentum, nesterov=prof.nesterov, weight_decay=wd
    )


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


class Job(Protocol):
    """One run as the engine drives it; built after the finished check."""

    identity: dict  # what a checkpoint must match to be resumed
    what: str  # the identity in words, for the error about another run's checkpoint
    epochs: int
    device: torch.device

    def new_state(self) -> dict[str, Any]:
        """A fresh run's state: at least ``epoch`` 0, an empty ``log``, ``elapsed`` 0.0."""

    def restore(self, ckpt: dict[str, Any]) -> None:
        """Load the models and optimisers :meth:`checkpoint` saved."""

    def checkpoint(self) -> dict[str, Any]:
        """Models and optimisers to save beside the identity and the state."""

    def epoch(self, state: dict[str, Any], e: int) -> tuple[dict[str, Any], str]:
        """Run epoch ``e`` (0-based), updating ``state``; the log row and the progress line."""

    def result(self, state: dict[str, Any]) -> dict[str, Any]:
        """The job's own fields of ``result.json`` (the engine adds :func:`provenance`)."""


def finished_result(out: Path) -> dict | None:
    """The result of a run already finished in ``out`` (rerunning it does nothing), else None."""
    path = out / "result.json"
    if not path.is_file():
        return None
    print(f"isdarts: {path} exists; nothing to do", file=sys.stderr)
    return json.loads(path.read_text())


def load_checkpoint(path: Path, device: torch.device) -> dict:
    """A run's checkpoint; a corrupt or truncated file is an error naming it."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # torch raises many types for a damaged file
        raise IsdartsError(
            f"{path}: corrupt or unreadable checkpoint ({type(exc).__name__}: {exc}); "
            "delete it to start the run over"
        ) from None
    if not isinstance(ckpt, dict) or "identity" not in ckpt:
        raise IsdartsError(f"{path}: not an isdarts checkpoint; delete it to start the run over")
    return ckpt


def start_or_resume(out: Path, job: Job) -> dict:
    """The state to go on from: the checkpoint's (restored into the job), else a fresh one.

    On resume ``log.jsonl`` is rewritten to the epochs the checkpoint holds, so lines of an
    epoch interrupted after its log line but before its checkpoint are dropped. On a fresh
    start the output folder is created and any stale log removed.
    """
    ckpt_path, log_path = out / "checkpoint.pt", out / "log.jsonl"
    if not ckpt_path.is_file():
        out.mkdir(parents=True, exist_ok=True)
        log_path.unlink(missing_ok=True)
        return job.new_state()
    ckpt = load_checkpoint(ckpt_path, job.device)
    if ckpt["identity"] != job.identity:
        raise IsdartsError(
            f"{ckpt_path}: made by a different {job.what}; use another --out or delete it"
        )
    state = ckpt["state"]
    write_text_atomic(log_path, "".join(json.dumps(r) + "\n" for r in state["log"]))
    print(f"isdarts: resuming {out} after epoch {state['epoch']}/{job.epochs}", file=sys.stderr)
    job.restore(ckpt)
    return state


def provenance(job: Job, state: dict, data_source: str) -> dict[str, Any]:
    """What every result file records about how it was made."""
    return {
        "epochs": job.epochs,
        "wall_seconds": state["elapsed"],
        "data_source": data_source,
        "device": device_name(job.device),
        "torch_version": torch.__version__,
        "isdarts_version": isdarts.__version__,
        "threads": torch.get_num_threads(),
    }


def _save(out: Path, job: Job, state: dict, row: dict) -> None:
    """Replace the checkpoint, then append the row to ``log.jsonl``."""
    ckpt = {"identity": job.identity, "state": state, **job.checkpoint()}
    atomic_write(out / "checkpoint.pt", lambda p: torch.save(ckpt, p))
    with (out / "log.jsonl").open("a") as f:
        f.write(json.dumps(row, allow_nan=False) + "\n")


def _stopped(out: Path, state: dict, exc: NonFiniteLoss) -> IsdartsError:
    ckpt_path = out / "checkpoint.pt"
    kept = (
        f"the last good checkpoint (epoch {state['epoch']}) is kept in {ckpt_path}"
        if ckpt_path.is_file()
        else "no checkpoint was written yet"
    )
    return IsdartsError(f"{exc}; stopping ({kept}); try a smaller lr")


def run(out: Path, prepare: Callable[[], Job], on_epoch_end: EpochHook | None = None) -> dict:
    """Run (or resume, or skip if finished) the job ``prepare()`` builds; writes and returns
    its result. ``prepare`` runs only for a run still to do, after the clock starts.
    ``on_epoch_end(epoch)`` runs after each epoch's checkpoint and log line (tests use it to
    kill a run)."""
    done = finished_result(out)
    if done is not None:
        return done
    started = time.perf_counter()
    job = prepare()
    state = start_or_resume(out, job)
    t_base = state["elapsed"] - (time.perf_counter() - started)
    for e in range(state["epoch"], job.epochs):
        try:
            row, line = job.epoch(state, e)
        except NonFiniteLoss as exc:
            raise _stopped(out, state, exc) from None
        state["epoch"] = e + 1
        state["log"].append(row)
        state["elapsed"] = t_base + time.perf_counter() - started
        _save(out, job, state, row)
        print(line, file=sys.stderr)
        if on_epoch_end is not None:
            on_epoch_end(e + 1)
    result = job.result(state)
    write_json_atomic(out / "result.json", result)
    return result
