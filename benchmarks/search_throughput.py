"""Search throughput on NAS-Bench-201 at the paper's network size (C=16, 5 cells per stage,
batch 64) on real CIFAR-10: the reference path against the fast path.

- reference: every op of every edge computed and masked, default memory format, batches from
  the usual torchvision per-image pipeline (PIL, RandomCrop(32, 4), RandomHorizontalFlip,
  ToTensor, Normalize) through a DataLoader;
- fast: what ``isdarts search`` runs (removed ops skipped, shared ReLU and pooling per node,
  fused convolutions per node, channels-last, in-memory uint8 data with batched augmentation).

Measured per training step including the batch: burn-in steps first, then timed steps (the
median is kept, which resists other load on the machine); the fast path runs first so that the
peak memory after it is what a search needs.
The importance pass is timed per batch against a plain no-grad forward of the same batch.
``paper_hours`` projects a full ``paper`` search (30 epochs of 782 steps, 4 importance passes)
from steps timed with the op sets of each phase; which ops go at each step depends on the run,
so the projection assumes the order none, avg_pool_3x3, skip_connect, then the published cell
(index 9930). Last line: ``speedup=... importance_ratio=... paper_hours=...``.

Usage: python benchmarks/search_throughput.py [--threads N] [--rounds R] [--steps S]
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

from isdarts.data import load_dataset
from isdarts.data.loader import BatchLoader
from isdarts.spaces.nb201.importance import measure_importance
from isdarts.spaces.nb201.names import OPS as OP_NAMES
from isdarts.spaces.nb201.names import full_mask, parse
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig

PUBLISHED = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
STEPS_PER_EPOCH = 782  # ceil(50000 / 64)


def ops_mask(names: list[str]) -> list[list[bool]]:
    return [[n in names for n in OP_NAMES] for _ in range(6)]


# (epochs, mask) of a paper search; the importance pass after each phase uses its mask
PHASES = [
    (22, full_mask()),
    (2, ops_mask(["skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"])),
    (2, ops_mask(["skip_connect", "nor_conv_1x1", "nor_conv_3x3"])),
    (2, ops_mask(["nor_conv_1x1", "nor_conv_3x3"])),
    (2, [[n == op for n in OP_NAMES] for op in parse(PUBLISHED)]),
]


class TorchvisionData(torch.utils.data.Dataset):
    def __init__(self, images: np.ndarray, labels: np.ndarray, mean, std) -> None:
        self.images, self.labels = images, labels
        self.tf = transforms.Compose(
            [
                transforms.RandomCrop(32, padding=4),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                transforms.Normalize(mean, std),
            ]
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.tf(Image.fromarray(self.images[i])), int(self.labels[i])


def train_step(net, opt, batch, mask, fast: bool) -> None:
    x, y = batch
    loss = F.cross_entropy(net(x, mask, fast=fast), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    opt.step()


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=2, help="steps per path per round")
    ap.add_argument("--data-root")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ds = load_dataset("cifar10", args.data_root)
    cfg = SupernetConfig(16, 5, 10)
    torch.manual_seed(0)
    ref_net = Supernet(cfg)
    fast_net = Supernet(cfg).to(memory_format=torch.channels_last)
    fast_net.load_state_dict(ref_net.state_dict())
    sgd = dict(lr=0.025, momentum=0.9, nesterov=True, weight_decay=3e-4)
    ref_opt = torch.optim.SGD(ref_net.parameters(), **sgd)
    fast_opt = torch.optim.SGD(fast_net.parameters(), **sgd)
    ref_data = torch.utils.data.DataLoader(
        TorchvisionData(ds.train_images, ds.train_labels, ds.mean, ds.std),
        batch_size=64,
        shuffle=True,
        num_workers=0,
        generator=torch.Generator().manual_seed(0),
    )
    ref_iter = iter(ref_data)
    loader = BatchLoader(
        ds.train_images, ds.train_labels, 64, mean=ds.mean, std=ds.std, seed=0, channels_last=True
    )
    fast_iter = loader.batches(0)

    def ref_step():
        train_step(ref_net, ref_opt, next(ref_iter), full_mask(), fast=False)

    def fast_step(mask=None):
        train_step(fast_net, fast_opt, next(fast_iter), mask or full_mask(), fast=True)

    # the fast path first, so that the peak memory it reaches is what a search needs
    for _ in range(2):  # burn-in
        fast_step()
    fast_t = [timed(fast_step) for _ in range(args.rounds * args.steps)]
    fast_s = statistics.median(fast_t)
    x, y = next(fast_iter)
    fast_net.eval()
    forward_t, imp_t = [], []
    for _ in range(args.rounds):
        with torch.no_grad():
            forward_t.append(timed(lambda: fast_net(x, full_mask())))
        imp_t.append(timed(lambda: measure_importance(fast_net, [(x, y)], full_mask())))
    fast_net.train()
    fwd_s, imp_s = statistics.median(forward_t), statistics.median(imp_t)

    phase_rows, total = [], 0.0
    for epochs, mask in PHASES:
        if mask == full_mask():
            step_s, pass_s = fast_s, imp_s
        else:
            fast_step(mask)
            step_s = statistics.median(
                timed(lambda m=mask: fast_step(m)) for _ in range(args.steps)
            )
            pass_s = statistics.median(
                timed(lambda m=mask: measure_importance(fast_net, [(x, y)], m))
                for _ in range(args.steps)
            )
        ops = max(sum(r) for r in mask)
        seconds = epochs * STEPS_PER_EPOCH * step_s + STEPS_PER_EPOCH * pass_s
        total += seconds
        phase_rows.append((epochs, ops, step_s, pass_s, seconds))
    total -= STEPS_PER_EPOCH * phase_rows[-1][3]  # no importance pass after the last phase
    peak_fast_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    ref_step()  # burn-in
    ref_s = statistics.median(timed(ref_step) for _ in range(args.rounds * args.steps))
    ref_imp_s = timed(
        lambda: measure_importance(ref_net, [(x.contiguous(), y)], full_mask(), fast=False)
    )
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    print(
        f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, load average {' '.join(f'{v:.1f}' for v in __import__('os').getloadavg())}"
    )
    print("| measure (C=16, N=5, batch 64) | reference | fast |")
    print("| --- | --- | --- |")
    print(f"| training step, s | {ref_s:.3f} | {fast_s:.3f} |")
    print(f"| images / s | {64 / ref_s:.1f} | {64 / fast_s:.1f} |")
    print(f"| importance batch, s | {ref_imp_s:.3f} | {imp_s:.3f} |")
    print(f"| no-grad forward, s | | {fwd_s:.3f} |")
    print()
    print("| paper phase: epochs | ops per edge | step, s | importance batch, s | hours |")
    print("| --- | --- | --- | --- | --- |")
    for epochs, ops, step_s, pass_s, seconds in phase_rows:
        print(f"| {epochs} | {ops} | {step_s:.3f} | {pass_s:.3f} | {seconds / 3600:.2f} |")
    print(
        f"\npeak memory (max RSS): fast path {peak_fast_gb:.2f} GB (data set included), "
        f"after the reference path too {peak_gb:.2f} GB"
    )
    print(
        f"speedup={ref_s / fast_s:.2f} importance_ratio={imp_s / fwd_s:.2f} "
        f"paper_hours={total / 3600:.2f}"
    )


if __name__ == "__main__":
    main()
