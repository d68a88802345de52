"""The search engine both spaces share: data, supernet, epochs, shrink steps, checkpoint, log.

Per epoch: the cosine lr, a reseed from (seed, epoch), one epoch of supernet training
(IS-DARTS, or first-order DARTS with its architecture weights alpha), at the shrink points an
importance pass and a shrink step, one log row, the checkpoint (replaced atomically), the line
in ``log.jsonl`` and a progress line. What differs between the NAS-Bench-201 space
(:mod:`isdarts.search.run`) and the DARTS space (:mod:`isdarts.search.darts`) is a
:class:`SearchSpace`: the supernet, how a shrink step works and is logged, and the cell or
genotype a row reports.

Output folder: ``result.json`` (written last; the space says what is in it), ``log.jsonl``
(one line per epoch) and ``checkpoint.pt`` (replaced after every epoch). Rerunning the same
search resumes from the checkpoint; the data order and augmentation of an epoch depend only on
(seed, epoch) and everything else that changes during training is in the checkpoint, so a
resumed run ends with the same cell and numbers as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Union

import numpy as np
import torch
from torch import nn

from isdarts._io import atomic_write, write_json_atomic
from isdarts.data import Dataset, load_dataset, load_split
from isdarts.data.loader import BatchLoader
from isdarts.errors import IsdartsError
from isdarts.runtime import finished_result, fixed_subset, select_device, start_or_resume
from isdarts.search.importance import shrink_points
from isdarts.search.train import EpochStats, NonFiniteLoss, cosine_lr, train_epoch

if TYPE_CHECKING:
    from isdarts.search.darts import DartsSearchProfile
    from isdarts.search.profile import Profile

METHODS = ("isdarts", "darts")
IMPORTANCE_EPOCH_OFFSET = 10_000  # the importance pass after epoch e draws from (seed, 10000 + e)
VALID_SEED_OFFSET = 7_919  # DARTS' valid half: a different augmentation stream

# Both profiles name the loop's settings alike (batch_size, epochs, shrink_steps, lr, ...,
# and ``darts``: the first-order DARTS settings); only the network's fields differ.
SearchProfile = Union["Profile", "DartsSearchProfile"]
EpochHook = Callable[[int], None]


class SearchSpace(Protocol):
    """What the loop asks of a search space."""

    # a log row's keys in file order; a key a row lacks is skipped
    log_keys: ClassVar[tuple[str, ...]]
    # whether checkpoints carry the torch RNG state (NB201 ones always have; the per-epoch
    # reseed makes restoring it a no-op, but the checkpoint keys stay as they were)
    rng_in_checkpoint: ClassVar[bool]

    def supernet(self, num_classes: int) -> nn.Module:
        """The supernet, built right after ``torch.manual_seed(seed)``."""

    def alpha_shape(self) -> tuple[int, ...]:
        """Shape of first-order DARTS' architecture weights."""

    def new_state(self) -> dict[str, Any]:
        """The state of a fresh search: ``epoch``, ``mask``, ``log``, ``elapsed`` and what
        else the space keeps in the checkpoint."""

    def shrink_step(
        self, state: dict, net: nn.Module, batches: Iterator, step: int, steps: int
    ) -> np.ndarray:
        """Measure the candidates' importance on ``batches`` and remove candidates from
        ``state['mask']``; returns the scores."""

    def log_importance(self, scores: np.ndarray | None) -> dict[str, Any]:
        """The row fields of this epoch's shrink step (``scores`` None: none ran)."""

    def log_cell(self, state: dict, alpha: torch.Tensor | None) -> dict[str, Any]:
        """The row fields naming the current cell or genotype (from alpha for DARTS)."""

    def progress(self, row: dict, state: dict) -> str:
        """The end of an epoch's progress line (after loss, acc, lr and seconds)."""

    def result(self, run: SearchRun) -> dict:
        """The contents of ``result.json`` (an error if the search found no cell)."""


@dataclass
class SearchJob:
    """One search as the loop sees it; each space's request reduces to this."""

    method: str
    dataset: str
    seed: int
    profile: SearchProfile
    out: Path
    identity: dict  # what a checkpoint must match to be resumed
    what: str  # the identity in words, for the error about another run's checkpoint
    data_root: str | None = None
    device: str = "auto"


@dataclass
class SearchRun:
    """A finished loop: what the space's result file is made of."""

    state: dict
    epochs: int
    device: torch.device
    data_source: str


@dataclass
class _Loop:
    job: SearchJob
    space: SearchSpace
    net: nn.Module
    optimizer: torch.optim.Optimizer
    alpha: nn.Parameter | None
    arch_optimizer: torch.optim.Optimizer | None
    train: BatchLoader
    valid: BatchLoader | None
    device: torch.device
    data_source: str
    started: float  # time.perf_counter() when the run (or this resume of it) began
    epochs: int
    points: list[int]  # the epochs (1-based) a shrink step follows

    @property
    def ckpt_path(self) -> Path:
        return self.job.out / "checkpoint.pt"

    @property
    def log_path(self) -> Path:
        return self.job.out / "log.jsonl"


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise IsdartsError(f"--method {method}: expected one of {', '.join(METHODS)}")


def json_scores(scores: np.ndarray | None) -> list | None:
    """Importance scores for JSON: NaN (not measured) as null, infinite (``none``) as "inf"."""
    return None if scores is None else _json_values(scores.tolist())


def _json_values(v: Any) -> Any:
    if isinstance(v, list):
        return [_json_values(x) for x in v]
    return None if math.isnan(v) else ("inf" if math.isinf(v) else float(v))


def search_loaders(
    job: SearchJob, device: torch.device
) -> tuple[BatchLoader, BatchLoader | None, Dataset]:
    """IS-DARTS trains on (a fixed subset of) the whole training set; DARTS on the train half
    of the standard split, with the valid half for its architecture steps."""
    prof = job.profile
    ds = load_dataset(job.dataset, job.data_root)
    kw = dict(
        mean=ds.mean,
        std=ds.std,
        device=device,
        augment=True,
        shuffle=prof.order == "shuffle",
        seed=job.seed,
        channels_last=prof.channels_last,
    )
    if job.method == "isdarts":
        idx = fixed_subset(len(ds.train_labels), prof.train_subset)
        return (
            BatchLoader(ds.train_images[idx], ds.train_labels[idx], prof.batch_size, **kw),
            None,
            ds,
        )
    tr, va = load_split(job.dataset, job.data_root)
    half = None if prof.train_subset is None else prof.train_subset // 2
    tr, va = tr[fixed_subset(len(tr), half)], va[fixed_subset(len(va), half)]
    train = BatchLoader(ds.train_images[tr], ds.train_labels[tr], prof.batch_size, **kw)
    kw["seed"] = job.seed + VALID_SEED_OFFSET
    return train, BatchLoader(ds.train_images[va], ds.train_labels[va], prof.batch_size, **kw), ds


def _cycle(loader: BatchLoader, epoch: int) -> Iterator:
    """Valid batches for DARTS' architecture steps; restarts (next sub-epoch) if exhausted."""
    sub = 0
    while True:
        yield from loader.batches(epoch * 1_000 + sub)
        sub += 1


def _optimizers(job: SearchJob, space: SearchSpace, net: nn.Module, device: torch.device):
    """SGD on the supernet's weights; for DARTS also alpha (drawn right after the weights) and
    its Adam."""
    prof, darts = job.profile, job.method == "darts"
    opt = torch.optim.SGD(
        net.parameters(),
        lr=prof.lr,
        momentum=prof.momentum,
        nesterov=prof.nesterov,
        weight_decay=prof.darts.weight_decay if darts else prof.weight_decay,
    )
    if not darts:
        return opt, None, None
    alpha = nn.Parameter(1e-3 * torch.randn(*space.alpha_shape(), device=device))
    arch_opt = torch.optim.Adam(
        [alpha],
        lr=prof.darts.arch_lr,
        betas=prof.darts.arch_betas,
        weight_decay=prof.darts.arch_weight_decay,
    )
    return opt, alpha, arch_opt


def _prepare(job: SearchJob, make_space: Callable[[], SearchSpace]) -> _Loop:
    """Threads, device, data, the seeded supernet and its optimisers."""
    prof = job.profile
    if prof.threads is not None:
        torch.set_num_threads(prof.threads)
    device = select_device(job.device)
    started = time.perf_counter()
    space = make_space()
    train, valid, ds = search_loaders(job, device)
    torch.manual_seed(job.seed)
    net = space.supernet(ds.num_classes).to(device)
    if prof.channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt, alpha, arch_opt = _optimizers(job, space, net, device)
    if alpha is None:
        epochs = prof.epochs
        points = shrink_points(prof.epochs, prof.shrink_steps, prof.shrink_interval)
    else:
        epochs, points = prof.darts.epochs, []
    return _Loop(
        job,
        space,
        net,
        opt,
        alpha,
        arch_opt,
        train,
        valid,
        device,
        ds.source,
        started,
        epochs,
        points,
    )


def _start(loop: _Loop) -> dict:
    """The state to go on from: a fresh one, or the checkpoint's (restoring what it holds)."""
    ckpt = start_or_resume(
        loop.ckpt_path, loop.log_path, loop.job.identity, loop.device, loop.job.what, loop.epochs
    )
    if ckpt is None:
        return loop.space.new_state()
    loop.net.load_state_dict(ckpt["net"])
    loop.optimizer.load_state_dict(ckpt["optimizer"])
    if loop.alpha is not None:
        loop.alpha.data.copy_(ckpt["alpha"])
        loop.arch_optimizer.load_state_dict(ckpt["arch_optimizer"])
    if loop.space.rng_in_checkpoint:
        torch.set_rng_state(ckpt["rng_cpu"])
        if loop.device.type == "cuda" and ckpt.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(ckpt["rng_cuda"], loop.device)
    return ckpt["state"]


def _save(loop: _Loop, state: dict, row: dict) -> None:
    """Replace the checkpoint, then append the row to ``log.jsonl`` (on resume the log is cut
    back to the checkpoint's epochs)."""
    ckpt = {
        "identity": loop.job.identity,
        "state": state,
        "net": loop.net.state_dict(),
        "optimizer": loop.optimizer.state_dict(),
    }
    if loop.space.rng_in_checkpoint:
        ckpt["rng_cpu"] = torch.get_rng_state()
        cuda = loop.device.type == "cuda"
        ckpt["rng_cuda"] = torch.cuda.get_rng_state(loop.device) if cuda else None
    if loop.alpha is not None:
        ckpt["alpha"] = loop.alpha.detach().clone()
        ckpt["arch_optimizer"] = loop.arch_optimizer.state_dict()
    atomic_write(loop.ckpt_path, lambda p: torch.save(ckpt, p))
    with loop.log_path.open("a") as f:
        f.write(json.dumps(row, allow_nan=False) + "\n")


def _train(loop: _Loop, state: dict, e: int, desc: str) -> EpochStats:
    """One epoch of supernet training; a NaN/inf loss stops the search, keeping the last good
    checkpoint."""
    valid = None if loop.valid is None else _cycle(loop.valid, e)
    try:
        return train_epoch(
            loop.net,
            loop.train.batches(e),
            len(loop.train),
            loop.optimizer,
            mask=state["mask"],
            grad_clip=loop.job.profile.grad_clip,
            desc=desc,
            alpha=loop.alpha,
            arch_optimizer=loop.arch_optimizer,
            valid_batches=valid,
        )
    except NonFiniteLoss as exc:
        kept = (
            f"the last good checkpoint (epoch {state['epoch']}) is kept in {loop.ckpt_path}"
            if loop.ckpt_path.is_file()
            else "no checkpoint was written yet"
        )
        raise IsdartsError(f"{exc}; stopping ({kept}); try a smaller lr") from None


def _row(
    loop: _Loop,
    state: dict,
    e: int,
    stats: EpochStats,
    lr: float,
    scores: np.ndarray | None,
    t0: float,
) -> dict:
    """The epoch's log row, its keys in the space's order."""
    parts = {
        "epoch": e + 1,
        "train_loss": stats.loss,
        "train_acc": stats.acc,
        "lr": lr,
        **loop.space.log_importance(scores),
        **loop.space.log_cell(state, loop.alpha),
    }
    if loop.alpha is not None:
        parts["alphas"] = torch.softmax(loop.alpha.detach(), -1).cpu().tolist()
    parts["seconds"] = time.perf_counter() - t0
    unknown = parts.keys() - set(loop.space.log_keys)
    assert not unknown, f"log fields missing from the space's log_keys: {sorted(unknown)}"
    return {k: parts[k] for k in loop.space.log_keys if k in parts}


def _epoch(loop: _Loop, state: dict, e: int) -> tuple[dict, str]:
    """Train epoch ``e`` (0-based), then the shrink step if one follows it; returns the row and
    the progress line."""
    t0 = time.perf_counter()
    prof = loop.job.profile
    lr = cosine_lr(e, loop.epochs, prof.lr, prof.lr_min)
    for group in loop.optimizer.param_groups:
        group["lr"] = lr
    torch.manual_seed(loop.job.seed * 100_003 + e)
    desc = f"epoch {e + 1}/{loop.epochs}"
    stats = _train(loop, state, e, desc)
    scores = None
    if e + 1 in loop.points:
        batches = loop.train.batches(IMPORTANCE_EPOCH_OFFSET + e)
        step = loop.points.index(e + 1)
        scores = loop.space.shrink_step(state, loop.net, batches, step, prof.shrink_steps)
    row = _row(loop, state, e, stats, lr, scores, t0)
    line = (
        f"{desc} loss {stats.loss:.4f} acc {stats.acc:.2f}% lr {lr:.5f} "
        f"{row['seconds']:.1f}s {loop.space.progress(row, state)}"
    )
    return row, line


def run_supernet_search(
    job: SearchJob, make_space: Callable[[], SearchSpace], on_epoch_end: EpochHook | None = None
) -> dict:
    """Run (or resume, or skip if finished) one search; writes and returns the result dict.

    ``make_space()`` runs only for a search still to run, after the clock starts (the NB201
    space reads the benchmark table). ``on_epoch_end(epoch)`` runs after each epoch's
    checkpoint and log line (tests use it to kill a run).
    """
    done = finished_result(job.out)
    if done is not None:
        return done
    _check_method(job.method)
    loop = _prepare(job, make_space)
    state = _start(loop)
    t_base = state["elapsed"] - (time.perf_counter() - loop.started)
    for e in range(state["epoch"], loop.epochs):
        row, line = _epoch(loop, state, e)
        state["epoch"] = e + 1
        state["log"].append(row)
        state["elapsed"] = t_base + time.perf_counter() - loop.started
        _save(loop, state, row)
        print(line, file=sys.stderr)
        if on_epoch_end is not None:
            on_epoch_end(e + 1)
    result = loop.space.result(SearchRun(state, loop.epochs, loop.device, loop.data_source))
    write_json_atomic(job.out / "result.json", result)
    return result
