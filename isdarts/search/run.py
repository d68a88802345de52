"""A whole NAS-Bench-201 search: data, supernet, epochs, shrink steps, checkpoint, results.

Output folder: ``result.json`` (written last), ``log.jsonl`` (one line per epoch) and
``checkpoint.pt`` (replaced atomically after every epoch). Rerunning the same command resumes
from the checkpoint; the data order and augmentation of an epoch depend only on (seed, epoch)
and everything else that changes during training is in the checkpoint, so a resumed run ends
with the same cell and numbers as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

import isdarts
from isdarts._io import atomic_write, write_json_atomic
from isdarts.data import load_dataset, load_split
from isdarts.data.loader import BatchLoader
from isdarts.errors import IsdartsError
from isdarts.nb201 import COLUMNS, Benchmark, to_str
from isdarts.nb201.arch import OPS as OP_NAMES
from isdarts.runtime import device_name, fixed_subset, select_device, start_or_resume
from isdarts.search.importance import measure_importance, shrink, shrink_points, strongest
from isdarts.search.profile import Profile, profile_dict
from isdarts.search.train import NonFiniteLoss, cosine_lr, train_epoch
from isdarts.spaces.nb201 import K, Supernet, SupernetConfig, full_mask

METHODS = ("isdarts", "darts")
IMPORTANCE_EPOCH_OFFSET = 10_000  # the importance pass after epoch e draws from (seed, 10000 + e)


@dataclass
class SearchRequest:
    method: str
    dataset: str
    seed: int
    profile: Profile
    out: Path
    data_root: str | None = None
    device: str = "auto"
    bench: str | None = None
    space: str = "nb201"

    def identity(self) -> dict:
        """What a checkpoint must match to be resumed."""
        return {
            "space": self.space,
            "method": self.method,
            "dataset": self.dataset,
            "seed": self.seed,
            "profile": {k: v for k, v in profile_dict(self.profile).items() if k != "threads"},
        }


def _loaders(
    req: SearchRequest, device: torch.device
) -> tuple[BatchLoader, BatchLoader | None, str, int]:
    prof = req.profile
    ds = load_dataset(req.dataset, req.data_root)
    kw = dict(
        mean=ds.mean,
        std=ds.std,
        device=device,
        augment=True,
        shuffle=prof.order == "shuffle",
        seed=req.seed,
        channels_last=prof.channels_last,
    )
    if req.method == "isdarts":
        idx = fixed_subset(len(ds.train_labels), prof.train_subset)
        train = BatchLoader(ds.train_images[idx], ds.train_labels[idx], prof.batch_size, **kw)
        return train, None, ds.source, ds.num_classes
    train_idx, valid_idx = load_split(req.dataset, req.data_root)
    half = None if prof.train_subset is None else prof.train_subset // 2
    train_idx = train_idx[fixed_subset(len(train_idx), half)]
    valid_idx = valid_idx[fixed_subset(len(valid_idx), half)]
    train = BatchLoader(
        ds.train_images[train_idx], ds.train_labels[train_idx], prof.batch_size, **kw
    )
    kw["seed"] = req.seed + 7_919  # a different augmentation stream for the valid half
    valid = BatchLoader(
        ds.train_images[valid_idx], ds.train_labels[valid_idx], prof.batch_size, **kw
    )
    return train, valid, ds.source, ds.num_classes


def _cycle(loader: BatchLoader, epoch: int):
    """Valid batches for DARTS' architecture steps; restarts (next sub-epoch) if exhausted."""
    sub = 0
    while True:
        yield from loader.batches(epoch * 1_000 + sub)
        sub += 1


def _json_scores(scores: np.ndarray | None) -> list | None:
    if scores is None:
        return None
    return [
        [None if math.isnan(v) else ("inf" if math.isinf(v) else float(v)) for v in row]
        for row in scores.tolist()
    ]


def _cell(ops: list[int] | None, bench: Benchmark) -> tuple[str | None, int | None, dict | None]:
    if ops is None:
        return None, None, None
    arch = to_str([OP_NAMES[k] for k in ops])
    row = bench.query(arch)
    return arch, row["index"], {c: row[c] for c in COLUMNS}


def run_search(req: SearchRequest) -> dict:
    """Run (or resume, or skip if finished) one search; returns the result dict."""
    result_path, ckpt_path, log_path = (
        req.out / n for n in ("result.json", "checkpoint.pt", "log.jsonl")
    )
    if result_path.is_file():
        print(f"isdarts: {result_path} exists; nothing to do", file=sys.stderr)
        return json.loads(result_path.read_text())
    if req.method not in METHODS:
        raise IsdartsError(f"--method {req.method}: expected one of {', '.join(METHODS)}")
    prof = req.profile
    if prof.threads is not None:
        torch.set_num_threads(prof.threads)
    device = select_device(req.device)
    start = time.perf_counter()
    bench = Benchmark.load(req.bench)
    train, valid, source, num_classes = _loaders(req, device)
    torch.manual_seed(req.seed)
    net = Supernet(SupernetConfig(prof.channels, prof.cells_per_stage, num_classes)).to(device)
    if prof.channels_last:
        net = net.to(memory_format=torch.channels_last)
    darts = req.method == "darts"
    epochs = prof.darts.epochs if darts else prof.epochs
    wd = prof.darts.weight_decay if darts else prof.weight_decay
    opt = torch.optim.SGD(
        net.parameters(),
        lr=prof.lr,
        momentum=prof.momentum,
        nesterov=prof.nesterov,
        weight_decay=wd,
    )
    alpha = arch_opt = None
    if darts:
        alpha = nn.Parameter(1e-3 * torch.randn(len(full_mask()), K, device=device))
        arch_opt = torch.optim.Adam(
            [alpha],
            lr=prof.darts.arch_lr,
            betas=prof.darts.arch_betas,
            weight_decay=prof.darts.arch_weight_decay,
        )
    state = {"epoch": 0, "mask": full_mask(), "scores": None, "log": [], "elapsed": 0.0}
    what = "search (method, data set, seed or profile)"
    ckpt = start_or_resume(ckpt_path, log_path, req.identity(), device, what, epochs)
    if ckpt is not None:
        net.load_state_dict(ckpt["net"])
        opt.load_state_dict(ckpt["optimizer"])
        if darts:
            alpha.data.copy_(ckpt["alpha"])
            arch_opt.load_state_dict(ckpt["arch_optimizer"])
        torch.set_rng_state(ckpt["rng_cpu"])
        if device.type == "cuda" and ckpt.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(ckpt["rng_cuda"], device)
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
            stats = train_epoch(
                net,
                train.batches(e),
                len(train),
                opt,
                mask=state["mask"],
                grad_clip=prof.grad_clip,
                desc=desc,
                alpha=alpha,
                arch_optimizer=arch_opt,
                valid_batches=_cycle(valid, e) if darts else None,
            )
        except NonFiniteLoss as exc:
            kept = (
                f"the last good checkpoint (epoch {state['epoch']}) is kept in {ckpt_path}"
                if ckpt_path.is_file()
                else "no checkpoint was written yet"
            )
            raise IsdartsError(f"{exc}; stopping ({kept}); try a smaller lr") from None
        scores_json = None
        if e + 1 in points:
            step = points.index(e + 1)
            scores = measure_importance(
                net, train.batches(IMPORTANCE_EPOCH_OFFSET + e), state["mask"]
            )
            state["scores"] = scores
            scores_json = _json_scores(scores)
            state["mask"] = shrink(state["mask"], scores, step, prof.shrink_steps)
        if darts:
            probs = torch.softmax(alpha.detach(), -1).cpu()
            ops = probs.argmax(-1).tolist()
        else:
            ops = strongest(state["mask"], state["scores"])
        arch, index, columns = _cell(ops, bench)
        row = {
            "epoch": e + 1,
            "train_loss": stats.loss,
            "train_acc": stats.acc,
            "lr": lr,
            "seconds": time.perf_counter() - t0,
            "masks": [[int(b) for b in r] for r in state["mask"]],
            "importance": scores_json,
            "arch": arch,
            "index": index,
            "benchmark": columns,
        }
        if darts:
            row["alphas"] = probs.tolist()
        state["epoch"] = e + 1
        state["log"].append(row)
        state["elapsed"] = t_base + time.perf_counter() - start
        ckpt = {
            "identity": req.identity(),
            "state": state,
            "net": net.state_dict(),
            "optimizer": opt.state_dict(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        }
        if darts:
            ckpt["alpha"] = alpha.detach().clone()
            ckpt["arch_optimizer"] = arch_opt.state_dict()
        atomic_write(ckpt_path, lambda p, c=ckpt: torch.save(c, p))
        with log_path.open("a") as f:
            f.write(json.dumps(row, allow_nan=False) + "\n")
        c10 = "-" if columns is None else f"{columns['cifar10_test']:.2f}"
        print(
            f"{desc} loss {stats.loss:.4f} acc {stats.acc:.2f}% lr {lr:.5f} "
            f"{row['seconds']:.1f}s ops/edge {max(sum(r) for r in state['mask'])} "
            f"cell {index if index is not None else '-'} c10-test {c10}",
            file=sys.stderr,
        )

    final = state["log"][-1]
    if final["arch"] is None:
        raise IsdartsError("the search ended without a cell (no shrink step ran)")
    result = {
        "space": req.space,
        "method": req.method,
        "dataset": req.dataset,
        "seed": req.seed,
        "profile": prof.name,
        "data_source": source,
        "arch": final["arch"],
        "index": final["index"],
        "benchmark": final["benchmark"],
        "epochs": epochs,
        "wall_seconds": state["elapsed"],
        "device": device_name(device),
        "torch_version": torch.__version__,
        "isdarts_version": isdarts.__version__,
        "order": prof.order,
        "benchmark_format": bench.format_version,
        "threads": torch.get_num_threads(),
        "profile_settings": profile_dict(prof),
    }
    write_json_atomic(result_path, result)
    return result
