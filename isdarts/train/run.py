"""One final training of a DARTS-space genotype: data, network, epochs, checkpoint, result.

Output folder: ``result.json`` (written last), ``log.jsonl`` (one line per epoch) and
``checkpoint.pt`` (replaced atomically after every epoch). Rerunning the same command resumes
from the checkpoint: an epoch's data order, augmentation and drop-path draws depend only on
(seed, epoch), and the weights, optimizer state and log are in the checkpoint, so a killed
and resumed run ends with the same numbers as an uninterrupted one.

Learning rate per epoch ``e`` (0-based): ``lr * (e + 1) / W`` during the ``W`` warm-up epochs,
then cosine from ``lr`` to ``lr_min`` over the remaining epochs. Drop-path probability of
epoch ``e``: ``drop_path * e / epochs``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import isdarts
from isdarts._io import atomic_write, write_json_atomic
from isdarts.data import load_dataset
from isdarts.data.loader import BatchLoader
from isdarts.errors import IsdartsError
from isdarts.genotype import Genotype
from isdarts.runtime import (
    device_name,
    finished_result,
    fixed_subset,
    select_device,
    start_or_resume,
)
from isdarts.spaces.darts_eval import EvalNetConfig, NetworkCIFAR, count_params, params_m
from isdarts.train.profile import TrainProfile, train_profile_dict

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
            "profile": train_profile_dict(self.profile),
        }


def epoch_lr(e: int, prof: TrainProfile) -> float:
    if e < prof.warmup_epochs:
        return prof.lr * (e + 1) / prof.warmup_epochs
    span = prof.epochs - prof.warmup_epochs
    t = (e - prof.warmup_epochs) / span
    return prof.lr_min + 0.5 * (prof.lr - prof.lr_min) * (1 + math.cos(math.pi * t))


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
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(
                f"the training loss became {value} at epoch {epoch + 1}, step {step + 1}"
            )
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


def run_training(req: TrainRequest, on_epoch_end: EpochHook | None = None) -> dict:
    """Train (or resume, or skip if finished) one genotype; returns the result dict.
    ``on_epoch_end(epoch, net)`` runs after each epoch's checkpoint (tests use it)."""
    done = finished_result(req.out)
    if done is not None:
        return done
    result_path, ckpt_path, log_path = (
        req.out / n for n in ("result.json", "checkpoint.pt", "log.jsonl")
    )
    prof = req.profile
    if prof.threads is not None:
        torch.set_num_threads(prof.threads)
    device = select_device(req.device)
    start = time.perf_counter()
    ds = load_dataset(req.dataset, req.data_root)
    tr = fixed_subset(len(ds.train_labels), prof.train_subset)
    te = fixed_subset(len(ds.test_labels), prof.test_subset)
    kw = dict(mean=ds.mean, std=ds.std, device=device, channels_last=prof.channels_last)
    train = BatchLoader(
        ds.train_images[tr],
        ds.train_labels[tr],
        prof.batch_size,
        augment=True,
        cutout=prof.cutout,
        shuffle=True,
        seed=req.seed,
        **kw,
    )
    test = BatchLoader(
        ds.test_images[te],
        ds.test_labels[te],
        prof.eval_batch_size,
        augment=False,
        shuffle=False,
        **kw,
    )
    torch.manual_seed(req.seed)
    cfg = EvalNetConfig(prof.channels, prof.layers, prof.auxiliary_weight > 0, ds.num_classes)
    net = NetworkCIFAR(req.genotype, cfg).to(device)
    if prof.channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(
        net.parameters(),
        lr=prof.lr,
        momentum=prof.momentum,
        nesterov=prof.nesterov,
        weight_decay=prof.weight_decay,
    )
    state: dict = {"epoch": 0, "log": [], "elapsed": 0.0, "train_seconds": 0.0}
    what = "training (genotype, seed or profile)"
    ckpt = start_or_resume(ckpt_path, log_path, req.identity(), device, what, prof.epochs)
    if ckpt is not None:
        net.load_state_dict(ckpt["net"])
        opt.load_state_dict(ckpt["optimizer"])
        state = ckpt["state"]
    t_base = state["elapsed"] - (time.perf_counter() - start)

    for e in range(state["epoch"], prof.epochs):
        t0 = time.perf_counter()
        lr = epoch_lr(e, prof)
        for group in opt.param_groups:
            group["lr"] = lr
        net.drop_path_prob = prof.drop_path * e / prof.epochs
        torch.manual_seed(req.seed * 100_003 + e)  # drop-path draws depend on (seed, epoch) only
        try:
            stats = train_one_epoch(net, train, e, opt, prof)
        except FloatingPointError as exc:
            kept = (
                f"the last good checkpoint (epoch {state['epoch']}) is kept in {ckpt_path}"
                if ckpt_path.is_file()
                else "no checkpoint was written yet"
            )
            raise IsdartsError(f"{exc}; stopping ({kept}); try a smaller lr") from None
        seconds = time.perf_counter() - t0
        row = {
            "epoch": e + 1,
            **stats,
            "lr": lr,
            "drop_path": net.drop_path_prob,
            "seconds": seconds,
        }
        state["train_seconds"] += seconds
        if e + 1 == prof.epochs:
            row["test_loss"], row["test_acc"] = evaluate(net, test)
        state["epoch"] = e + 1
        state["log"].append(row)
        state["elapsed"] = t_base + time.perf_counter() - start
        ckpt = {
            "identity": req.identity(),
            "state": state,
            "net": net.state_dict(),
            "optimizer": opt.state_dict(),
        }
        atomic_write(ckpt_path, lambda p, c=ckpt: torch.save(c, p))
        with log_path.open("a") as f:
            f.write(json.dumps(row, allow_nan=False) + "\n")
        test_txt = f" test acc {row['test_acc']:.2f}%" if "test_acc" in row else ""
        print(
            f"epoch {e + 1}/{prof.epochs} loss {stats['train_loss']:.4f} acc "
            f"{stats['train_acc']:.2f}% lr {lr:.5f} {seconds:.1f}s{test_txt}",
            file=sys.stderr,
        )
        if on_epoch_end is not None:
            on_epoch_end(e + 1, net)

    final = state["log"][-1]
    result = {
        "space": "darts",
        "genotype_source": req.genotype_source,
        "genotype": req.genotype.to_dict(),
        "seed": req.seed,
        "profile": prof.name,
        "dataset": req.dataset,
        "test_acc": final["test_acc"],
        "test_error": 100.0 - final["test_acc"],
        "test_images": int(len(te)),
        "train_images": int(len(tr)),
        "params_m": count_params(net) / 1e6,
        "params_m_c36_l20": params_m(req.genotype),
        "epochs": prof.epochs,
        "wall_seconds": state["elapsed"],
        "train_seconds": state["train_seconds"],
        "data_source": ds.source,
        "device": device_name(device),
        "torch_version": torch.__version__,
        "isdarts_version": isdarts.__version__,
        "threads": torch.get_num_threads(),
        "profile_settings": train_profile_dict(prof),
    }
    write_json_atomic(result_path, result)
    return result
