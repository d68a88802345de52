"""The one resumable run engine of searches and final trainings.

A run owns one output folder (:mod:`isdarts.run.folder`): ``result.json`` (written last,
atomically), ``log.jsonl`` (one line per epoch) and ``checkpoint.pt`` (replaced atomically
after every epoch, before the log line). Holding the folder's lock, the engine

- does nothing for a finished run (``result.json`` carries this run's identity) and returns its
  result; another run's result is an error naming what differs;
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

import contextlib
import contextvars
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import torch

import isdarts
from isdarts._io import write_json_atomic
from isdarts.errors import IsdartsError
from isdarts.run.device import device_name
from isdarts.run.folder import RunSpec, finished_result, locked, save, start_or_resume

EpochHook = Callable[[int], None]


class NonFiniteLoss(IsdartsError):
    """A NaN or infinite training loss; the engine adds which checkpoint is kept."""


class DeferredChecks:
    """The finite-loss checks of one epoch kept on the device (a CUDA graph cannot read a loss
    back per step): the first step whose weight loss, and the first whose architecture loss,
    was NaN or infinite. :meth:`next_step` counts the steps on the device too, so that the
    checks can live inside a captured step; :meth:`raise_if_bad` reads them once."""

    def __init__(self, device: torch.device | str) -> None:
        self.step = torch.zeros((), dtype=torch.int64, device=device)
        never = torch.iinfo(torch.int64).max
        self.first_bad = torch.full((2,), never, dtype=torch.int64, device=device)
        self._never = never

    def next_step(self) -> None:
        self.step += 1

    def record(self, loss: torch.Tensor, where: str) -> None:
        site = 1 if "architecture" in where else 0
        bad = ~torch.isfinite(loss.detach())
        first = self.first_bad[site]
        self.first_bad[site] = torch.where(bad & (first == self._never), self.step, first)

    def raise_if_bad(self, desc: str) -> None:
        """:class:`NonFiniteLoss` naming the first bad step of the epoch ``desc``, if any."""
        weight, arch = (int(v) for v in self.first_bad.tolist())
        step = min(weight, arch)
        if step != self._never:
            kind = " (architecture step)" if arch <= weight else ""
            raise NonFiniteLoss(f"the training loss became non-finite at {desc}, step {step}{kind}")


_deferred: contextvars.ContextVar[DeferredChecks | None] = contextvars.ContextVar(
    "isdarts_deferred_checks", default=None
)


@contextlib.contextmanager
def deferred_checks(checks: DeferredChecks) -> Iterator[DeferredChecks]:
    """Within the block :func:`check_finite` records on the device instead of reading back."""
    token = _deferred.set(checks)
    try:
        yield checks
    finally:
        _deferred.reset(token)


def check_finite(loss: torch.Tensor, where: str) -> float:
    """The loss as a float; :class:`NonFiniteLoss` naming ``where`` if it is NaN or infinite.
    Inside :func:`deferred_checks` the check is recorded on the device and NaN returned (the
    value is not read back: the caller accumulates the loss on the device)."""
    checks = _deferred.get()
    if checks is not None:
        checks.record(loss, where)
        return math.nan
    value = loss.item()
    if not math.isfinite(value):
        raise NonFiniteLoss(f"the training loss became {value} at {where}")
    return value


def cosine_lr(step: int, steps: int, lr: float, lr_min: float) -> float:
    """Cosine annealing from ``lr`` (step 0) towards ``lr_min`` over ``steps`` steps."""
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * step / steps))


def sgd(
    params, prof: Any, weight_decay: float | None = None, nesterov: bool | None = None
) -> torch.optim.SGD:
    """SGD with a profile's momentum, Nesterov flag and weight decay (or ``weight_decay`` and
    ``nesterov`` where a method sets its own); the learning rate is set per epoch
    (:func:`set_lr`)."""
    wd = prof.weight_decay if weight_decay is None else weight_decay
    nesterov = prof.nesterov if nesterov is None else nesterov
    return torch.optim.SGD(
        params, lr=prof.lr, momentum=prof.momentum, nesterov=nesterov, weight_decay=wd
    )


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


class Job(Protocol):
    """One run as the engine drives it; built after the finished check."""

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


def provenance(job: Job, state: dict, data_source: str) -> dict[str, Any]:
    """What every result file records about how it was made."""
    return {
        "epochs": job.epochs,
        "wall_seconds": state["elapsed"],
        "data_source": data_source,
        "device": device_name(job.device),
        # the CPU kernels ATen picked (e.g. AVX2, AVX512): float results differ between them
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_version": torch.__version__,
        "isdarts_version": isdarts.__version__,
        "threads": torch.get_num_threads(),
    }


def _stopped(spec: RunSpec, state: dict, exc: NonFiniteLoss) -> IsdartsError:
    kept = (
        f"the last good checkpoint (epoch {state['epoch']}) is kept in {spec.ckpt_path}"
        if spec.ckpt_path.is_file()
        else "no checkpoint was written yet"
    )
    return IsdartsError(f"{exc}; stopping ({kept}); try a smaller lr")


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is torch (or Python) running out of memory: a profile too large for the
    machine (torch's CPU allocator raises a bare RuntimeError)."""
    return isinstance(exc, (MemoryError, torch.OutOfMemoryError)) or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)
    )


def run(spec: RunSpec, prepare: Callable[[], Job], on_epoch_end: EpochHook | None = None) -> dict:
    """:func:`_run`; running out of memory is one line naming the folder and the fix."""
    try:
        return _run(spec, prepare, on_epoch_end)
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise IsdartsError(
            f"{spec.out}: out of memory ({detail[:200]}); use a profile with fewer channels, "
            "cells or a smaller batch_size"
        ) from None


def _run(spec: RunSpec, prepare: Callable[[], Job], on_epoch_end: EpochHook | None) -> dict:
    """Run (or resume, or skip if finished) the job ``prepare()`` builds in ``spec.out``, holding
    the folder's lock; writes and returns its result (with the run's identity). ``prepare``
    runs only for a run still to do, after the clock starts. ``on_epoch_end(epoch)`` runs
    after each epoch's checkpoint and log line (tests use it to kill a run)."""
    if spec.result_path.is_file() and not os.access(spec.out, os.W_OK):
        # a finished run in a folder this user cannot write (a shared, read-only copy): its
        # result needs no lock, and any other state there cannot be changed anyway
        done = finished_result(spec)
        if done is not None:
            return done
    with locked(spec.out):
        done = finished_result(spec)
        if done is not None:
            return done
        started = time.perf_counter()
        job = prepare()
        state = start_or_resume(spec, job)
        t_base = state["elapsed"] - (time.perf_counter() - started)
        for e in range(state["epoch"], job.epochs):
            try:
                row, line = job.epoch(state, e)
            except NonFiniteLoss as exc:
                raise _stopped(spec, state, exc) from None
            state["epoch"] = e + 1
            state["log"].append(row)
            state["elapsed"] = t_base + time.perf_counter() - started
            save(spec, job, state, row)
            print(line, file=sys.stderr)
            if on_epoch_end is not None:
                on_epoch_end(e + 1)
        result = {**job.result(state), "identity": spec.identity}
        write_json_atomic(spec.result_path, result)
        return result
