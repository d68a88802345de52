"""What one search costs at each rung of the scale study (``config/profiles/scale-*.yaml``),
measured before the study runs so that its ladder fits its budget.

For every rung profile: one real epoch of ``isdarts search`` (the search loop itself, one
thread, real CIFAR-10) on a 1,024-image subset, for IS-DARTS (all ops, no shrink yet) and for
first-order DARTS (weights on 512 images of the train half, alpha on 512 of the valid half),
scaled linearly to the rung's images, times its epochs. IS-DARTS is projected at its first
epoch's cost for every epoch (an upper bound: later epochs compute fewer ops) plus its four
importance passes at one forward each. Last line: ``study_core_minutes=...`` (every rung, both
methods, ``--seeds`` seeds).

Usage: python benchmarks/scale_epoch_cost.py [--seeds 2] [--images 1024]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch

from isdarts.config import REPO_ROOT
from isdarts.search.loop import SearchJob, SearchRequest
from isdarts.spaces.nb201.profile import load_profile


def epoch_seconds(method: str, prof, images: int) -> float:
    """Seconds of one epoch of ``method`` at ``prof`` on ``images`` training images."""
    small = dataclasses.replace(prof, train_subset=images, threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        job = SearchJob(SearchRequest(method, "cifar10", 0, small, Path(tmp), device="cpu"))
        state = job.new_state()
        t0 = time.perf_counter()
        job.epoch(state, 0)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--images", type=int, default=1024)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rungs = sorted((REPO_ROOT / "config" / "profiles").glob("scale-*.yaml"))
    total = 0.0
    print("rung  C  N  images  E  E_darts  isdarts_epoch_s  darts_epoch_s  isdarts_min  darts_min")
    for path in rungs:
        prof = load_profile(path)
        images = prof.train_subset or 50_000
        is_epoch = epoch_seconds("isdarts", prof, args.images) * images / args.images
        da_epoch = epoch_seconds("darts", prof, args.images) * images / args.images
        is_min = (prof.epochs + prof.shrink_steps / 3) * is_epoch / 60
        da_min = prof.darts.epochs * da_epoch / 60
        total += args.seeds * (is_min + da_min)
        print(
            f"{prof.name}  {prof.channels}  {prof.cells_per_stage}  {images}  {prof.epochs}  "
            f"{prof.darts.epochs}  {is_epoch:.1f}  {da_epoch:.1f}  {is_min:.1f}  {da_min:.1f}",
            flush=True,
        )
    print(f"study_core_minutes={total:.0f}")


if __name__ == "__main__":
    main()
