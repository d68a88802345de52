"""One final training of a DARTS-space genotype: data, network, epochs, result; run by the
resumable engine (:mod:`isdarts.run.engine`).

Output folder: ``result.json`` (written last), ``log.jsonl`` (one line per epoch) and
``checkpoint.pt`` (replaced atomically after every epoch). An epoch's data order, augmentation
and drop-path draws depend only on (seed, epoch) (:mod:`isdarts.config.seeds`), so a killed and
resumed run ends with the same numbers as an uninterrupted one.

Learning rate per epoch ``e`` (0-based): ``lr * (e + 1) / W`` during the ``W`` warm-up epochs,
then cosine from ``lr`` to ``lr_min`` over the remaining epochs. Drop-path probability of
epoch ``e``: ``drop_path * e / epochs``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.config import profiles, seeds
from isdarts.data import load_dataset
from isdarts.data.loader import BatchLoader, fixed_subset
from isdarts.run import engine
from isdarts.run.device import select_device, set_threads
from isdarts.run.folder import RunSpec
from isdarts.spaces.darts.eval_net import EvalNetConfig, NetworkCIFAR, count_params, params_m
from isdarts.spaces.darts.names import Genotype
from isdarts.train.profile import TrainProfile

EpochHook = Callable[[int, NetworkCIFAR], None]


@dataclass
class TrainRequest:
    genotype: Genotype
    genotype_source: str  # the name or file it came from
    profile: TrainProfile
    seed: int
    out: Path
    data_root: str | None = None
    device: str = "auto"
    dataset: str = "cifar10"

    def identity(self) -> dict:
        """What a checkpoint must match to be resumed."""
        return {
            "genotype": self.genotype.to_dict(),
            "seed": self.seed,
            "dataset": self.dataset,
            "profile": profiles.settings(self.profile),
        }


def epoch_lr(e: int, prof: TrainProfile) -> float:
    if e < prof.warmup_epochs:
        return prof.lr * (e + 1) / prof.warmup_epochs
    span = prof.epochs - prof.warmup_epochs
    return engine.cosine_lr(e - prof.warmup_epochs, span, prof.lr, prof.lr_min)


def train_one_epoch(
    net: NetworkCIFAR,
    loader: BatchLoader,
    epoch: int,
    opt: torch.optim.Optimizer,
    prof: TrainProfile,
) -> dict:
    net.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for step, (x, y) in enumerate(loader.batches(epoch)):
        logits, aux = net(x)
        loss = F.cross_entropy(logits, y)
        if aux is not None and prof.auxiliary_weight > 0:
            loss = loss + prof.auxiliary_weight * F.cross_entropy(aux, y)
        value = engine.check_finite(loss, f"epoch {epoch + 1}, step {step + 1}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), prof.grad_clip)
        opt.step()
        loss_sum += value * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    return {"train_loss": loss_sum / max(seen, 1), "train_acc": 100.0 * correct / max(seen, 1)}


@torch.no_grad()
def evaluate(net: NetworkCIFAR, loader: BatchLoader) -> tuple[float, float]:
    """(loss, accuracy %) over one pass without augmentation."""
    net.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    for x, y in loader.batches(0):
        logits, _ = net(x)
        loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
    return loss_sum / seen, 100.0 * correct / seen


class TrainJob:
    """One final training as the engine drives it."""

    def __init__(self, req: TrainRequest) -> None:
        prof = self.prof = req.profile
        self.req, self.epochs = req, prof.epochs
        set_threads(prof.threads)
        self.device = select_device(req.device)
        ds = load_dataset(req.dataset, req.data_root)
        self.data_source = ds.source
        tr = fixed_subset(len(ds.train_labels), prof.train_subset)
        te = fixed_subset(len(ds.test_labels), prof.test_subset)
        kw = dict(mean=ds.mean, std=ds.std, device=self.device, channels_last=prof.channels_last)
        self.train = BatchLoader(
            ds.train_images[tr],
            ds.train_labels[tr],
            prof.batch_size,
            augment=True,
            cutout=prof.cutout,
            shuffle=True,
            seed=req.seed,
            **kw,
        )
        self.test = BatchLoader(
            ds.test_images[te],
            ds.test_labels[te],
            prof.eval_batch_size,
            augment=False,
            shuffle=False,
            **kw,
        )
        torch.manual_seed(seeds.init(req.seed))
        cfg = EvalNetConfig(prof.channels, prof.layers, prof.auxiliary_weight > 0, ds.num_classes)
        self.net = NetworkCIFAR(req.genotype, cfg).to(self.device)
        if prof.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self.opt = engine.sgd(self.net.parameters(), prof)

    def new_state(self) -> dict[str, Any]:
        return {"epoch": 0, "log": [], "elapsed": 0.0, "train_seconds": 0.0}

    def restore(self, ckpt: dict[str, Any]) -> None:
        self.net.load_state_dict(ckpt["net"])
        self.opt.load_state_dict(ckpt["optimizer"])

    def checkpoint(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "optimizer": self.opt.state_dict()}

    def epoch(self, state: dict[str, Any], e: int) -> tuple[dict[str, Any], str]:
        t0, prof = time.perf_counter(), self.prof
        lr = epoch_lr(e, prof)
        engine.set_lr(self.opt, lr)
        self.net.drop_path_prob = prof.drop_path * e / prof.epochs
        torch.manual_seed(seeds.epoch_draws(self.req.seed, e))
        stats = train_one_epoch(self.net, self.train, e, self.opt, prof)
        seconds = time.perf_counter() - t0
        row = {"epoch": e + 1, **stats, "lr": lr, "drop_path": self.net.drop_path_prob}
        row["seconds"] = seconds
        state["train_seconds"] += seconds
        if e + 1 == prof.epochs:
            row["test_loss"], row["test_acc"] = evaluate(self.net, self.test)
        test_txt = f" test acc {row['test_acc']:.2f}%" if "test_acc" in row else ""
        line = (
            f"epoch {e + 1}/{prof.epochs} loss {stats['train_loss']:.4f} acc "
            f"{stats['train_acc']:.2f}% lr {lr:.5f} {seconds:.1f}s{test_txt}"
        )
        return row, line

    def result(self, state: dict[str, Any]) -> dict[str, Any]:
        req, final = self.req, state["log"][-1]
        return {
            "space": "darts",
            "genotype_source": req.genotype_source,
            "genotype": req.genotype.to_dict(),
            "seed": req.seed,
            "profile": self.prof.name,
            "dataset": req.dataset,
            "test_acc": final["test_acc"],
            "test_error": 100.0 - final["test_acc"],
            "test_images": len(self.test.labels),
            "train_images": len(self.train.labels),
            "params_m": count_params(self.net) / 1e6,
            "params_m_c36_l20": params_m(req.genotype),
            **engine.provenance(self, state, self.data_source),
            "train_seconds": state["train_seconds"],
            "profile_settings": profiles.settings(self.prof),
        }


def run_training(req: TrainRequest, on_epoch_end: EpochHook | None = None) -> dict:
    """Train (or resume, or skip if finished) one genotype; returns the result dict.
    ``on_epoch_end(epoch, net)`` runs after each epoch's checkpoint (tests use it)."""
    job: list[TrainJob] = []

    def prepare() -> TrainJob:
        job.append(TrainJob(req))
        return job[0]

    hook = None if on_epoch_end is None else (lambda epoch: on_epoch_end(epoch, job[0].net))
    spec = RunSpec(req.out, req.identity(), "training (genotype, seed or profile)")
    return engine.run(spec, prepare, hook)
