"""What the whole NAS-Bench-201 table costs at a run profile (``make baselines``: every method of
``config/baselines.yaml``, 3 seeds), measured one epoch per method before the runs.

For every method: one real epoch of the search loop (one thread, real CIFAR-10, the profile's
images), the epoch after any warm-up (so that PC-DARTS' epoch has its architecture steps), times
the method's epochs. The final candidate scoring of RSPS, SETN and ENAS (100 batches) and the
held-out evaluation are left out: seconds against the searches' minutes. Printed per method, then
the table's core-minutes and its wall time with ``--parallel`` single-thread searches side by
side (the default workflow on 2 cores: 2). Last line: ``table_wall_minutes=...``.

Usage: python benchmarks/baselines_cost.py [--profile cpu] [--seeds 3] [--parallel 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import torch
import yaml

from isdarts.config import REPO_ROOT
from isdarts.search.loop import SearchJob, SearchRequest
from isdarts.spaces.nb201.profile import load_profile


def epoch_seconds(method: str, prof) -> tuple[float, int]:
    """Seconds of one epoch of ``method`` at ``prof`` (after its warm-up), and its epochs."""
    with tempfile.TemporaryDirectory() as tmp:
        req = SearchRequest(method, "cifar10", 0, prof, Path(tmp), device="cpu", cuda_graphs="off")
        job = SearchJob(req)
        state = job.new_state()
        block = getattr(job.method, "block", None)
        warmup = getattr(getattr(prof, block), "warmup_epochs", 0) if block else 0
        e = min(warmup, job.epochs - 1)
        t0 = time.perf_counter()
        job.epoch(state, e)
        return time.perf_counter() - t0, job.epochs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    prof = dataclasses.replace(load_profile(args.profile), threads=1)
    methods = yaml.safe_load((REPO_ROOT / "config" / "baselines.yaml").read_text())["methods"]
    total = 0.0
    print("method  epochs  epoch_s  search_min")
    for method in methods:
        seconds, epochs = epoch_seconds(method, prof)
        minutes = seconds * epochs / 60
        total += args.seeds * minutes
        print(f"{method}  {epochs}  {seconds:.1f}  {minutes:.1f}", flush=True)
    print(f"table_core_minutes={total:.0f} ({len(methods)} methods x {args.seeds} seeds)")
    print(f"table_wall_minutes={total / args.parallel:.0f}")


if __name__ == "__main__":
    main()
