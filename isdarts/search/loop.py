"""The one search loop: any method (:mod:`isdarts.search.methods`) on any space
(:mod:`isdarts.spaces.nb201.adapter`, :mod:`isdarts.spaces.darts.adapter`), run by the
resumable engine (:mod:`isdarts.run.engine`).

Per epoch: the method's lr (a cosine), a reseed from (seed, epoch), one epoch of supernet
training (with the method's architecture steps, if any), the architecture's end-of-epoch step
(ENAS: its controller's training), at the method's shrink points an importance pass and the
space's shrink step, one log row. What differs between the spaces is the supernet, how a
shrink step works and is logged, and the cell or genotype a row reports.

Output folder: ``result.json`` (written last), ``log.jsonl`` (one line per epoch) and
``checkpoint.pt`` (replaced after every epoch). Rerunning the same search resumes from the
checkpoint and ends with the same cell and numbers as an uninterrupted run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from isdarts.bench import Benchmark
from isdarts.bench.evidence import cell_ranks, log_evidence
from isdarts.config import profiles, seeds
from isdarts.config.baselines import BLOCKS
from isdarts.data import load_dataset
from isdarts.errors import IsdartsError
from isdarts.run import engine
from isdarts.run.device import select_device, set_threads
from isdarts.run.folder import RunSpec
from isdarts.search.graphed import graphable, train_epoch_graphed
from isdarts.search.heldout import heldout_accuracy, heldout_index, heldout_loader
from isdarts.search.methods import get_method
from isdarts.search.step import train_epoch
from isdarts.spaces.darts.adapter import DartsSpace
from isdarts.spaces.nb201.adapter import Nb201Space

EpochHook = Callable[[int], None]


class SearchSpace(Protocol):
    """What the loop asks of a space's adapter (``isdarts.spaces.<space>.adapter``)."""

    log_keys: ClassVar[tuple[str, ...]]  # a log row's keys in file order (absent ones skipped)

    def supernet(self, num_classes: int, **options: Any) -> nn.Module:
        """The supernet, built right after the run's initialisation seed (``options``: the
        method's, :meth:`Method.supernet_options`)."""

    def alpha_shape(self) -> tuple[int, ...]:
        """Shape of the architecture weights of methods that have them."""

    def new_state(self) -> dict[str, Any]:
        """A fresh search's state: ``epoch``, ``mask``, ``log``, ``elapsed`` and what else the
        space keeps in the checkpoint."""

    def shrink_step(
        self, state: dict, net: nn.Module, batches, step: int, steps: int
    ) -> np.ndarray:
        """Measure the candidates' importance on ``batches``, remove candidates from
        ``state['mask']``; the scores."""

    def log_importance(self, scores: np.ndarray | None) -> dict[str, Any]:
        """The row fields of this epoch's shrink step (``scores`` None: none ran)."""

    def log_cell(self, state: dict, alpha: torch.Tensor | None) -> dict[str, Any]:
        """The row fields naming the current cell or genotype (read from alpha if given)."""

    def progress(self, row: dict, state: dict) -> str:
        """The end of an epoch's progress line."""

    def result(self, state: dict) -> dict[str, Any]:
        """The final cell's fields of ``result.json`` (an error if the search found none)."""


@dataclass
class SearchRequest:
    method: str
    dataset: str
    seed: int
    profile: profiles.SearchProfile
    out: Path
    data_root: str | None = None
    device: str = "auto"
    bench: str | None = None  # NAS-Bench-201 table (default: data root, else the mirror)
    # CUDA graphs for the training steps and the importance passes: "auto" (on CUDA, for the
    # NAS-Bench-201 space and the methods whose step can be captured), "on" (the same, but an
    # error without CUDA) or "off". Not part of the identity: graphs change the order of
    # nothing, only float rounding, like the thread count.
    cuda_graphs: str = "auto"

    @property
    def space(self) -> str:
        """The profile's space (each space has its own profile kind)."""
        return self.profile.space

    def identity(self) -> dict:
        """What a checkpoint must match to be resumed: the profile's settings but the thread
        count and the other baselines' blocks (an edit of the GDAS block leaves IS-DARTS runs
        valid; the ``darts`` block stays in every identity, as results written before the
        baselines' blocks existed carry it)."""
        settings = profiles.settings(self.profile)
        others = set(BLOCKS) - {self.method}
        return {
            "space": self.space,
            "method": self.method,
            "dataset": self.dataset,
            "seed": self.seed,
            "profile": {k: v for k, v in settings.items() if k != "threads" and k not in others},
        }


# space name -> the adapter of a request (built once the search is known to be unfinished)
SPACES: dict[str, Callable[[SearchRequest], SearchSpace]] = {
    "nb201": lambda req: Nb201Space(req.profile, Benchmark.load(req.bench)),
    "darts": lambda req: DartsSpace(req.profile, req.dataset),
}


class SearchJob:
    """One search as the engine drives it."""

    def __init__(self, req: SearchRequest) -> None:
        prof = self.prof = req.profile
        self.req = req
        self.method = get_method(req.method, req.space)
        set_threads(prof.threads)
        self.device = select_device(req.device)
        self.space = SPACES[req.space](req)
        ds = load_dataset(req.dataset, req.data_root)
        self.data_source = ds.source
        self.loaders = self.method.loaders(prof, ds, req.data_root, req.seed, self.device)
        if req.space == "nb201":
            idx = heldout_index(ds, req.data_root, self.loaders.train_index)
            self.heldout = heldout_loader(ds, idx, prof, self.device)
        torch.manual_seed(seeds.init(req.seed))
        options = self.method.supernet_options(prof)
        self.net = self.space.supernet(ds.num_classes, **options).to(self.device)
        if prof.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self.optimizer = engine.sgd(
            self.net.parameters(),
            prof,
            self.method.weight_decay(prof),
            self.method.nesterov(prof),
        )
        self.arch = self.method.arch(prof, self.space.alpha_shape(), self.device)
        self.epochs, self.points = self.method.schedule(prof)
        self.graphs = use_graphs(req.cuda_graphs, self.device, req.space, self.arch)

    def new_state(self) -> dict[str, Any]:
        return self.space.new_state()

    def restore(self, ckpt: dict[str, Any]) -> None:
        self.net.load_state_dict(ckpt["net"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.arch is not None:
            if "arch" in ckpt:
                self.arch.load_state_dict(ckpt["arch"])
            else:  # a checkpoint of an earlier version: alpha and its optimiser only
                self.arch.load_state_dict(
                    {"params": [ckpt["alpha"]], "optimizer": ckpt["arch_optimizer"]}
                )

    def checkpoint(self) -> dict[str, Any]:
        ckpt = {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}
        if self.arch is not None:
            ckpt["arch"] = self.arch.state_dict()
        return ckpt

    def epoch(self, state: dict[str, Any], e: int) -> tuple[dict[str, Any], str]:
        """Train epoch ``e`` (0-based), then the shrink step if one follows it."""
        t0 = time.perf_counter()
        prof, seed = self.prof, self.req.seed
        lr = self.method.learning_rate(prof, e, self.epochs)
        engine.set_lr(self.optimizer, lr)
        torch.manual_seed(seeds.epoch_draws(seed, e))
        desc = f"epoch {e + 1}/{self.epochs}"
        train = self.loaders.train
        if self.arch is not None:
            self.arch.begin_epoch(e, self.epochs)
        epoch_fn = train_epoch_graphed if self.graphs else train_epoch
        # the epoch's valid batches: the architecture steps', then where they left off
        # end_epoch's and (the last epoch) finish's
        valid = self.loaders.valid_batches(e)
        stats = epoch_fn(
            self.net,
            train.batches(e),
            len(train),
            self.optimizer,
            mask=state["mask"],
            grad_clip=self.method.grad_clip(prof),
            desc=desc,
            arch=self.arch,
            valid_batches=valid,
        )
        if self.arch is not None:
            self.arch.end_epoch(self.net, state["mask"], valid)
            if e + 1 == self.epochs:  # a loader of its own scores the candidates (SETN)
                select = self.loaders.select_batches(e)
                self.arch.finish(self.net, state["mask"], valid if select is None else select)
        scores = None
        if e + 1 in self.points:
            batches = train.batches(seeds.importance_epoch(e))
            step = self.points.index(e + 1)
            scores = self.space.shrink_step(
                state, self.net, batches, step, prof.shrink_steps, graphs=self.graphs
            )
        alpha = None if self.arch is None else self.arch.cell_logits()
        parts = {
            "epoch": e + 1,
            "train_loss": stats.loss,
            "train_acc": stats.acc,
            "lr": lr,
            **self.space.log_importance(scores),
            **self.space.log_cell(state, alpha),
        }
        if alpha is not None:
            parts["alphas"] = torch.softmax(alpha.detach(), -1).cpu().tolist()
        if self.arch is not None and (arch_state := self.arch.log_state()) is not None:
            parts["arch_state"] = arch_state
        parts["seconds"] = time.perf_counter() - t0
        unknown = parts.keys() - set(self.space.log_keys)
        assert not unknown, f"log fields missing from the space's log_keys: {sorted(unknown)}"
        row = {k: parts[k] for k in self.space.log_keys if k in parts}
        line = (
            f"{desc} loss {stats.loss:.4f} acc {stats.acc:.2f}% lr {lr:.5f} "
            f"{row['seconds']:.1f}s {self.space.progress(row, state)}"
        )
        return row, line

    def evidence(self, state: dict[str, Any], arch: str) -> dict[str, Any]:
        """What the cell rests on (:mod:`isdarts.bench.evidence`): the weights' margins, entropy
        and travel, the shrink steps' score gaps, the supernet's final training accuracy and its
        accuracy on held-out images (:mod:`isdarts.search.heldout`), the cell's ranks."""
        return {
            **log_evidence(state["log"]),
            "supernet_heldout_acc": heldout_accuracy(
                self.net, self.heldout, state["mask"], self.arch
            ),
            "heldout_images": len(self.heldout.images),
            **cell_ranks(self.space.bench, arch),
        }

    def result(self, state: dict[str, Any]) -> dict[str, Any]:
        req = self.req
        cell = self.space.result(state)
        evidence = {"evidence": self.evidence(state, cell["arch"])} if req.space == "nb201" else {}
        return {
            "space": req.space,
            "method": req.method,
            "dataset": req.dataset,
            "seed": req.seed,
            "profile": self.prof.name,
            **cell,
            **engine.provenance(self, state, self.data_source),
            "order": self.prof.order,
            **numerics(self.device, self.graphs),
            "profile_settings": profiles.settings(self.prof),
            **evidence,
        }


def use_graphs(choice: str, device: torch.device, space: str, arch) -> bool:
    """Whether a search captures its steps as CUDA graphs (``choice``: ``--cuda-graphs``):
    ``auto`` on CUDA for the NAS-Bench-201 space and a step that can be captured; ``on`` the
    same but an error on another device; ``off`` never."""
    if choice not in ("auto", "on", "off"):
        raise IsdartsError(f"--cuda-graphs {choice}: expected auto, on or off")
    if choice == "off":
        return False
    if device.type != "cuda":
        if choice == "on":
            raise IsdartsError(f"--cuda-graphs on: the run's device is {device.type}, not cuda")
        return False
    return space == "nb201" and graphable(arch)


def numerics(device: torch.device, graphs: bool) -> dict[str, Any]:
    """How a run computed: its dtype (float32 throughout), whether CUDA graphs ran its steps,
    and whether cuDNN convolutions and matrix products on CUDA may use TF32 (PyTorch's
    defaults: yes for convolutions, no for matrix products; always False on the CPU)."""
    cuda = device.type == "cuda"
    return {
        "dtype": "float32",
        "cuda_graphs": graphs,
        "tf32_conv": cuda and torch.backends.cudnn.allow_tf32,
        "tf32_matmul": cuda and torch.backends.cuda.matmul.allow_tf32,
    }


def run_search(req: SearchRequest, on_epoch_end: EpochHook | None = None) -> dict:
    """Run (or resume, or skip if finished) one search; returns the result dict.
    ``on_epoch_end(epoch)`` runs after each epoch's checkpoint (tests use it to kill a run)."""
    spec = RunSpec(req.out, req.identity(), "search (space, method, data set, seed or profile)")
    return engine.run(spec, lambda: SearchJob(req), on_epoch_end)
