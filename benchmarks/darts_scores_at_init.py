"""Importance scores of the DARTS-space supernet before any training: is the low score of
``skip_connect`` on a cell input already there at initialisation (structural), or learned?

Usage: python benchmarks/darts_scores_at_init.py [--profile cpu] [--seeds 0 1 2] [--batches 4]
Builds the search profile's supernet (the IS-DARTS one) with each seed's initial weights,
measures every (input, op) pair's score on ``--batches`` training batches of the profile's
subset, exactly as the first shrink step would, and prints per op the mean rank of its pairs
among their node's pairs (0 = the lowest score, kept longest; 1 = removed first), for cell
inputs and intermediate nodes, normal cells. Last line: the rank of skip_connect on cell inputs.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from isdarts.config import seeds
from isdarts.data import load_dataset
from isdarts.data.loader import BatchLoader, fixed_subset
from isdarts.spaces.darts.importance import measure_importance
from isdarts.spaces.darts.names import EDGES, PRIMITIVES, STEPS, full_mask
from isdarts.spaces.darts.profile import load_search_profile
from isdarts.spaces.darts.supernet import DartsSupernet, DartsSupernetConfig


def ranks(scores: np.ndarray) -> dict[tuple[str, str], list[float]]:
    """(op, source) -> rank shares of its pairs in the normal cell."""
    out: dict[tuple[str, str], list[float]] = {}
    for node in range(STEPS):
        pairs = [
            (scores[0][e][k], e, k)
            for e, (i, _) in enumerate(EDGES)
            if i == node
            for k in range(len(PRIMITIVES))
            if PRIMITIVES[k] != "none"
        ]
        pairs.sort()
        for r, (_, e, k) in enumerate(pairs):
            source = "cell input" if EDGES[e][1] < 2 else "node"
            out.setdefault((PRIMITIVES[k], source), []).append(r / (len(pairs) - 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--batches", type=int, default=4)
    args = ap.parse_args()
    prof = load_search_profile(args.profile)
    torch.set_num_threads(prof.threads or torch.get_num_threads())
    ds = load_dataset("cifar10")
    idx = fixed_subset(len(ds.train_labels), prof.train_subset)
    loader = BatchLoader(
        ds.train_images[idx],
        ds.train_labels[idx],
        prof.batch_size,
        mean=ds.mean,
        std=ds.std,
        augment=True,
        shuffle=True,
        seed=0,
    )
    pooled: dict[tuple[str, str], list[float]] = {}
    for seed in args.seeds:
        torch.manual_seed(seeds.init(seed))
        net = DartsSupernet(DartsSupernetConfig(prof.channels, prof.layers, 10))
        batches = (b for _, b in zip(range(args.batches), loader.batches(seed), strict=False))
        scores = measure_importance(net, batches, full_mask())
        for key, values in ranks(scores).items():
            pooled.setdefault(key, []).extend(values)
    print(f"profile {args.profile}, seeds {args.seeds}, {args.batches} batches, normal cells")
    print(f"{'op':<14} {'rank, cell input':>17} {'rank, node':>11}")
    for op in PRIMITIVES[1:]:
        a, b = pooled.get((op, "cell input"), []), pooled.get((op, "node"), [])
        print(f"{op:<14} {np.mean(a):>17.2f} {np.mean(b):>11.2f}")
    print(
        f"skip_connect_cell_input_rank_at_init={np.mean(pooled[('skip_connect', 'cell input')]):.2f}"
    )


if __name__ == "__main__":
    main()
