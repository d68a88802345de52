"""Two ways to run the workflow's searches on this machine: side by side with one thread each,
or one at a time with all cores each (to choose `threads_per_search` and --cores).

Usage: python benchmarks/workflow_threads.py [--profile PATH] [--jobs 2] [--rounds 2]
Runs ``--jobs`` real searches (``python -m isdarts search``, IS-DARTS, seeds 0..jobs-1) both
ways, alternating the two ways for ``--rounds`` rounds, each in a fresh temporary folder; the
wall time counts everything a workflow job pays (interpreter start, data load, training,
importance passes, writing results). The default profile is a short cut of the `smoke`
profile's shape at a larger scale (C=8, N=2, 512 images, 3 epochs, one shrink step).
Last line: ``side_by_side_s=<mean> one_at_a_time_s=<mean> gain=<one_at_a_time/side_by_side>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROFILE = {
    "channels": 8,
    "cells_per_stage": 2,
    "batch_size": 64,
    "epochs": 3,
    "shrink_steps": 1,
    "shrink_interval": 1,
    "lr": 0.025,
    "lr_min": 0.001,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 3.0e-4,
    "grad_clip": 5.0,
    "train_subset": 512,
    "order": "shuffle",
    "threads": None,
    "channels_last": True,
    "darts": {
        "epochs": 4,
        "arch_lr": 3.0e-4,
        "arch_betas": [0.5, 0.999],
        "arch_weight_decay": 1.0e-3,
        "weight_decay": 5.0e-4,
    },
}


def search(profile: Path, seed: int, out: Path, threads: int) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [
        sys.executable,
        "-m",
        "isdarts",
        "search",
        "--method",
        "isdarts",
        "--seed",
        str(seed),
        "--profile",
        str(profile),
        "--device",
        "cpu",
        "--out",
        str(out / f"seed{seed}"),
    ]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def wait(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"search failed ({p.returncode}): {err[-2000:]}")


def side_by_side(profile: Path, jobs: int, cores: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        wait([search(profile, s, Path(tmp), threads=max(1, cores // jobs)) for s in range(jobs)])
        return time.perf_counter() - start


def one_at_a_time(profile: Path, jobs: int, cores: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for s in range(jobs):
            wait([search(profile, s, Path(tmp), threads=cores)])
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", help="run profile YAML (default: the built-in short profile)")
    ap.add_argument("--jobs", type=int, default=2, help="searches per measurement")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(args.profile) if args.profile else Path(tmp) / "threads-bench.yaml"
        if not args.profile:
            profile.write_text(yaml.safe_dump(PROFILE))
        print(f"{args.jobs} searches, {args.cores} cores, profile {profile.name}")
        burn_in = Path(tmp) / "burn-in.yaml"  # warms the file cache and the interpreter
        burn_in.write_text(
            yaml.safe_dump({**yaml.safe_load(profile.read_text()), "train_subset": 64})
        )
        wait([search(burn_in, 0, Path(tmp) / "burn-in", threads=args.cores)])
        a, b = [], []
        for r in range(args.rounds):
            a.append(side_by_side(profile, args.jobs, args.cores))
            b.append(one_at_a_time(profile, args.jobs, args.cores))
            print(
                f"round {r + 1}: side by side ({args.cores // args.jobs} thread each) {a[-1]:.1f} s, "
                f"one at a time ({args.cores} threads) {b[-1]:.1f} s",
                flush=True,
            )
    sa, sb = statistics.mean(a), statistics.mean(b)
    print(f"side_by_side_s={sa:.1f} one_at_a_time_s={sb:.1f} gain={sb / sa:.2f}")


if __name__ == "__main__":
    main()
