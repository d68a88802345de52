"""IS-DARTS and first-order DARTS on the DARTS space (``isdarts search --space darts``).

Profiles: ``config/profiles/darts-search-<name>.yaml``. Output folder as in the NB201 search:
``result.json`` (written last; its ``genotype`` object is accepted by ``isdarts train
--genotype``), ``log.jsonl`` (one line per epoch) and ``checkpoint.pt`` (replaced atomically
after every epoch; rerunning resumes with identical results). The epoch loop reuses the NB201
trainer (:func:`isdarts.search.train.train_epoch`); the supernet, importance probe and
node-wise shrink are :mod:`isdarts.spaces.darts_supernet`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

import isdarts
from isdarts._io import atomic_write, write_json_atomic
from isdarts.data import load_dataset, load_split
from isdarts.data.loader import BatchLoader
from isdarts.errors import IsdartsError
from isdarts.profiles import is_int, is_num, read_checked, resolve_prefixed
from isdarts.runtime import device_name, fixed_subset, select_device, start_or_resume
from isdarts.search.importance import shrink_points
from isdarts.search.train import NonFiniteLoss, cosine_lr, train_epoch
from isdarts.spaces.darts_eval import params_m
from isdarts.spaces.darts_supernet import (
    EDGES,
    KINDS,
    DartsSupernet,
    DartsSupernetConfig,
    K,
    full_mask,
    genotype_from_alpha,
    genotype_from_mask,
    measure_importance,
    shrink_nodes,
)

IMPORTANCE_EPOCH_OFFSET = 10_000  # the importance pass after epoch e draws from (seed, 10000 + e)


@dataclass(frozen=True)
class DartsSearchProfile:
    name: str
    channels: int = 16
    layers: int = 8
    batch_size: int = 64
    epochs: int = 50  # E (IS-DARTS)
    shrink_steps: int = 7  # S
    shrink_interval: int = 3  # I: shrink after epochs range(E - S*I, E, I)
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    train_subset: int | None = None
    order: str = "shuffle"
    threads: int | None = None
    channels_last: bool = False
    darts_epochs: int = 50
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    darts_weight_decay: float = 5e-4


_CHECKS: dict[str, Any] = {
    "channels": lambda v: is_int(v) and v >= 1, "layers": lambda v: is_int(v) and v >= 3,
    "batch_size": lambda v: is_int(v) and v >= 2, "epochs": lambda v: is_int(v) and v >= 1,
    "shrink_steps": lambda v: is_int(v) and v >= 1, "shrink_interval": lambda v: is_int(v) and v >= 1,
    "lr": lambda v: is_num(v) and v > 0, "lr_min": lambda v: is_num(v) and v >= 0,
    "momentum": lambda v: is_num(v) and 0 <= v < 1, "nesterov": lambda v: isinstance(v, bool),
    "weight_decay": lambda v: is_num(v) and v >= 0, "grad_clip": lambda v: is_num(v) and v > 0,
    "train_subset": lambda v: v is None or (is_int(v) and v >= 2),
    "order": lambda v: v in ("shuffle", "fixed"),
    "threads": lambda v: v is None or (is_int(v) and v >= 1),
    "channels_last": lambda v: isinstance(v, bool), "darts_epochs": lambda v: is_int(v) and v >= 1,
    "arch_lr": lambda v: is_num(v) and v > 0,
    "arch_betas": lambda v: isinstance(v, list) and len(v) == 2 and all(is_num(b) and 0 <= b < 1 for b in v),
    "arch_weight_decay": lambda v: is_num(v) and v >= 0,
    "darts_weight_decay": lambda v: is_num(v) and v >= 0,
}


def load_search_profile(name_or_path: str) -> DartsSearchProfile:
    path = resolve_prefixed(name_or_path, "darts-search-", "DARTS-space search profile")
    raw = read_checked(path, _CHECKS, "config/profiles/darts-search-paper.yaml")
    if "arch_betas" in raw:
        raw["arch_betas"] = tuple(float(b) for b in raw["arch_betas"])
    name = path.stem.removeprefix("darts-search-")
    prof = DartsSearchProfile(name=name, **raw)
    if prof.epochs - prof.shrink_steps * prof.shrink_interval < 1:
        raise IsdartsError(f"{path}: 'epochs' ({prof.epochs}) must exceed shrink_steps * "
                           f"shrink_interval ({prof.shrink_steps * prof.shrink_interval})")
    return prof


@dataclass
class DartsSearchRequest:
    method: str  # isdarts | darts
    seed: int
    profile: DartsSearchProfile
    out: Path
    data_root: str | None = None
    device: str = "auto"

    def identity(self) -> dict:
        return {"space": "darts", "method": self.method, "seed": self.seed,
                "profile": dataclasses.asdict(self.profile)}


def _loaders(req: DartsSearchRequest, device: torch.device):
    prof = req.profile
    ds = load_dataset("cifar10", req.data_root)
    kw = dict(mean=ds.mean, std=ds.std, device=device, augment=True,
              shuffle=prof.order == "shuffle", seed=req.seed, channels_last=prof.channels_last)
    if req.method == "isdarts":
        idx = fixed_subset(len(ds.train_labels), prof.train_subset)
        return BatchLoader(ds.train_images[idx], ds.train_labels[idx], prof.batch_size, **kw), None, ds
    tr, va = load_split("cifar10", req.data_root)
    half = None if prof.train_subset is None else prof.train_subset // 2
    tr, va = tr[fixed_subset(len(tr), half)], va[fixed_subset(len(va), half)]
    train = BatchLoader(ds.train_images[tr], ds.train_labels[tr], prof.batch_size, **kw)
    kw["seed"] = req.seed + 7_919
    return train, BatchLoader(ds.train_images[va], ds.train_labels[va], prof.batch_size, **kw), ds


def _cycle(loader: BatchLoader, epoch: int):
    sub = 0
    while True:
        yield from loader.batches(epoch * 1_000 + sub)
        sub += 1


def _remaining(mask) -> list[list[int]]:
    """Candidates left per cell kind and node."""
    return [[sum(sum(mask[t][e]) for e, (node, _) in enumerate(EDGES) if node == i)
             for i in range(4)] for t in range(len(KINDS))]


def run_darts_search(req: DartsSearchRequest, on_epoch_end=None) -> dict:
    """Run (or resume, or skip if finished) one DARTS-space search; returns the result dict.
    ``on_epoch_end(epoch)`` runs after each epoch's checkpoint (tests use it to kill a run)."""
    result_path, ckpt_path, log_path = (req.out / n for n in ("result.json", "checkpoint.pt", "log.jsonl"))
    if result_path.is_file():
        print(f"isdarts: {result_path} exists; nothing to do", file=sys.stderr)
        return json.loads(result_path.read_text())
    if req.method not in ("isdarts", "darts"):
        raise IsdartsError(f"--method {req.method}: expected isdarts or darts")
    prof, darts = req.profile, req.method == "darts"
    if prof.threads is not None:
        torch.set_num_threads(prof.threads)
    device = select_device(req.device)
    start = time.perf_counter()
    train, valid, ds = _loaders(req, device)
    torch.manual_seed(req.seed)
    net = DartsSupernet(DartsSupernetConfig(prof.channels, prof.layers, ds.num_classes)).to(device)
    if prof.channels_last:
        net = net.to(memory_format=torch.channels_last)
    epochs = prof.darts_epochs if darts else prof.epochs
    opt = torch.optim.SGD(net.parameters(), lr=prof.lr, momentum=prof.momentum, nesterov=prof.nesterov,
                          weight_decay=prof.darts_weight_decay if darts else prof.weight_decay)
    alpha = arch_opt = None
    if darts:
        alpha = nn.Parameter(1e-3 * torch.randn(len(KINDS), len(EDGES), K, device=device))
        arch_opt = torch.optim.Adam([alpha], lr=prof.arch_lr, betas=prof.arch_betas,
                                    weight_decay=prof.arch_weight_decay)
    state: dict = {"epoch": 0, "mask": full_mask(), "log": [], "elapsed": 0.0}
    what = "search (method, seed or profile)"
    ckpt = start_or_resume(ckpt_path, log_path, req.identity(), device, what, epochs)
    if ckpt is not None:
        net.load_state_dict(ckpt["net"])
        opt.load_state_dict(ckpt["optimizer"])
        if darts:
            alpha.data.copy_(ckpt["alpha"])
            arch_opt.load_state_dict(ckpt["arch_optimizer"])
        state = ckpt["state"]
    points = [] if darts else shrink_points(prof.epochs, prof.shrink_steps, prof.shrink_interval)
    t_base = state["elapsed"] - (time.perf_counter() - start)

    for e in range(state["epoch"], epochs):
        t0 = time.perf_counter()
        lr = cosine_lr(e, epochs, prof.lr, prof.lr_min)
        for group in opt.param_groups:
            group["lr"] = lr
        torch.manual_seed(req.seed * 100_003 + e)
        desc = f"epoch {e + 1}/{epochs}"
        try:
            stats = train_epoch(net, train.batches(e), len(train), opt, mask=state["mask"],
                                grad_clip=prof.grad_clip, desc=desc, alpha=alpha, arch_optimizer=arch_opt,
                                valid_batches=_cycle(valid, e) if darts else None)
        except NonFiniteLoss as exc:
            kept = (f"the last good checkpoint (epoch {state['epoch']}) is kept in {ckpt_path}"
                    if ckpt_path.is_file() else "no checkpoint was written yet")
            raise IsdartsError(f"{exc}; stopping ({kept}); try a smaller lr") from None
        row: dict[str, Any] = {"epoch": e + 1, "train_loss": stats.loss, "train_acc": stats.acc,
                               "lr": lr}
        if e + 1 in points:
            scores = measure_importance(net, train.batches(IMPORTANCE_EPOCH_OFFSET + e), state["mask"])
            state["mask"] = shrink_nodes(state["mask"], scores, points.index(e + 1), prof.shrink_steps)
            row["importance"] = [[[None if math.isnan(v) else ("inf" if math.isinf(v) else v)
                                   for v in r] for r in kind] for kind in scores.tolist()]
        geno = genotype_from_alpha(alpha) if darts else genotype_from_mask(state["mask"])
        row["remaining"] = _remaining(state["mask"])
        row["genotype"] = None if geno is None else geno.to_dict()
        if darts:
            row["alphas"] = torch.softmax(alpha.detach(), -1).cpu().tolist()
        row["seconds"] = time.perf_counter() - t0
        state["epoch"] = e + 1
        state["log"].append(row)
        state["elapsed"] = t_base + time.perf_counter() - start
        ckpt = {"identity": req.identity(), "state": state, "net": net.state_dict(),
                "optimizer": opt.state_dict()}
        if darts:
            ckpt["alpha"] = alpha.detach().clone()
            ckpt["arch_optimizer"] = arch_opt.state_dict()
        atomic_write(ckpt_path, lambda p, c=ckpt: torch.save(c, p))
        with log_path.open("a") as f:
            f.write(json.dumps(row, allow_nan=False) + "\n")
        print(f"{desc} loss {stats.loss:.4f} acc {stats.acc:.2f}% lr {lr:.5f} {row['seconds']:.1f}s "
              f"candidates/node {row['remaining'][0]}", file=sys.stderr)
        if on_epoch_end is not None:
            on_epoch_end(e + 1)

    final = state["log"][-1]["genotype"]
    if final is None:
        raise IsdartsError("the search ended without a genotype (shrink steps did not complete)")
    from isdarts.genotype import genotype_from_dict

    geno = genotype_from_dict(final, "search result")
    result = {
        "space": "darts", "method": req.method, "dataset": "cifar10", "seed": req.seed,
        "profile": prof.name, "genotype": geno.to_dict(), "genotype_str": str(geno),
        "params_m": params_m(geno), "epochs": epochs, "wall_seconds": state["elapsed"],
        "search_cost_hours": state["elapsed"] / 3600, "data_source": ds.source,
        "device": device_name(device), "torch_version": torch.__version__,
        "isdarts_version": isdarts.__version__, "order": prof.order,
        "threads": torch.get_num_threads(), "profile_settings": dataclasses.asdict(prof),
    }
    write_json_atomic(result_path, result)
    return result


def search_cli(args) -> int:
    """``isdarts search --space darts``: the handler the search CLI dispatches to."""
    if args.dataset != "cifar10":
        raise IsdartsError("--space darts searches on cifar10 only")
    req = DartsSearchRequest(args.method, args.seed, load_search_profile(args.profile),
                             Path(args.out), args.data_root, args.device)
    r = run_darts_search(req)
    print(f"{r['method']} seed {r['seed']} (darts space, {r['profile']}): {r['genotype_str']}")
    print(f"  params_m {r['params_m']:.3f} at C=36, 20 cells; search {r['wall_seconds']:.0f} s")
    return 0
