"""The evidence behind one NAS-Bench-201 search's cell, from its epoch log (and the benchmark):
how decided the architecture weights were, how far they moved, how clearly IS-DARTS' shrink
steps separated removed from kept candidates, how well the supernet was trained, and where the
found cell ranks among all 15,625.

The search writes it into ``result.json`` (``evidence``) and the evaluation into the runs
table; both call :func:`log_evidence` and :func:`cell_ranks`, so the two cannot disagree.
Torch-free: the report layer reads it too.

Definitions (``w``: the softmax weights of one edge's ops, as the log's ``alphas`` holds them):

- **margin** of an edge: the winning op's weight minus the runner-up's (0: a tie; 1: one-hot);
- **entropy** of an edge: ``-sum w log w`` in nats (``log 5`` = 1.609 for 5 ops: uniform);
- **travel** of an edge: the Euclidean norm of ``log w - mean(log w)``, i.e. of alpha with its
  per-edge mean removed (the part of alpha the softmax sees), measured from uniform weights.
  The DARTS methods start alpha at ``1e-3 N(0, 1)``, whose own norm is about 0.002, so the
  travel from the true start differs from this by at most that much;
- **shrink gap** of an edge at one IS-DARTS shrink step: the smallest score among the
  candidates the step removed minus the largest score among those it kept, relative to the
  latter (the step removes the largest scores; +inf when it removed only ``none``, whose score
  is +inf). Small gaps mean the step's choice was close.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from isdarts.bench.nb201 import COLUMNS, NUM_ARCHS, Benchmark

# The test column of each search data set: what a cell is ranked on (the runs table's rank
# columns) and what the reports' verdicts and figures read.
TEST_COLUMN = {
    "cifar10": "cifar10_test",
    "cifar100": "cifar100_test",
    "ImageNet16-120": "imagenet16_test",
}
RANK_KEYS = {"cifar10": "c10", "cifar100": "c100", "ImageNet16-120": "in16"}


def margins(weights: np.ndarray) -> np.ndarray:
    """Per edge (row), the largest weight minus the second largest."""
    top = np.sort(np.asarray(weights, dtype=np.float64), axis=-1)
    return top[..., -1] - top[..., -2]


def entropies(weights: np.ndarray) -> np.ndarray:
    """Per edge, ``-sum w log w`` in nats (a zero weight adds nothing)."""
    w = np.asarray(weights, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(w > 0, -w * np.log(w), 0.0)
    return terms.sum(axis=-1)


def travels(weights: np.ndarray) -> np.ndarray:
    """Per edge, the norm of the centred log-weights: alpha's distance from a uniform start
    (see the module docstring). A zero weight (a one-hot row) travels infinitely far."""
    w = np.asarray(weights, dtype=np.float64)
    out = np.full(w.shape[:-1], np.inf)
    positive = (w > 0).all(axis=-1)
    logw = np.log(w[positive])
    centred = logw - logw.mean(axis=-1, keepdims=True)
    out[positive] = np.sqrt(np.square(centred).sum(axis=-1))
    return out


def shrink_gaps(before: Sequence[Sequence[int]], after: Sequence[Sequence[int]], scores) -> list:
    """Per edge, the relative score gap of one shrink step (module docstring); None for an edge
    the step left alone (nothing removed) or left without a candidate."""
    gaps: list[float | None] = []
    for m0, m1, s in zip(before, after, scores, strict=True):
        removed = [_score(s[o]) for o in range(len(m0)) if m0[o] and not m1[o]]
        kept = [_score(s[o]) for o in range(len(m1)) if m1[o]]
        if not removed or not kept:
            gaps.append(None)
            continue
        low, high = min(removed), max(kept)
        if math.isinf(low):
            gaps.append(math.inf)
        else:
            gaps.append((low - high) / abs(high) if high else math.inf)
    return gaps


def _score(value: Any) -> float:
    """A logged importance score (the log writes +inf as the string 'inf')."""
    return math.inf if value in ("inf", "Infinity") else float(value)


def _logged(gap: float | None) -> float | str | None:
    """A gap as the log writes numbers: +inf as the string 'inf' (JSON has no infinity)."""
    return "inf" if gap is not None and math.isinf(gap) else gap


def log_evidence(log: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The evidence of a search's epoch records (``log.jsonl``, epoch order). Keys absent from
    the log (no ``alphas``: IS-DARTS; no shrink step: the DARTS methods) are None."""
    if not log:
        raise ValueError("an empty search log has no evidence")
    last = log[-1]
    out: dict[str, Any] = {"supernet_train_acc": float(last["train_acc"])}
    alphas = last.get("alphas")
    if alphas is not None:
        w = np.asarray(alphas, dtype=np.float64)
        m, h, t = margins(w), entropies(w), travels(w)
        out.update(
            margins=[round(float(v), 6) for v in m],
            margin_min=float(m.min()),
            margin_median=float(np.median(m)),
            entropy_mean=float(h.mean()),
            travel_mean=float(t.mean()) if np.isfinite(t).all() else None,
        )
    else:
        out.update(
            margins=None, margin_min=None, margin_median=None, entropy_mean=None, travel_mean=None
        )
    steps = []
    previous = None
    for record in log:
        scores, masks = record.get("importance"), record.get("masks")
        if scores is not None and previous is not None and masks is not None:
            gaps = shrink_gaps(previous, masks, scores)
            steps.append({"epoch": record["epoch"], "gaps": [_logged(g) for g in gaps]})
        previous = masks if masks is not None else previous
    finite = [g for s in steps for g in s["gaps"] if isinstance(g, float)]
    out["shrink_gaps"] = steps or None
    out["shrink_gap_min"] = min(finite) if finite else None
    return out


def cell_ranks(bench: Benchmark, arch: str) -> dict[str, float]:
    """Rank (1 = best; ties share the best rank) and top share in % (rank / 15,625) of a cell on
    each data set's test column: ``rank_c10``, ``top_pct_c10``, ... (a partial table ranks among
    the cells it holds)."""
    row = bench.query(arch)
    out: dict[str, float] = {}
    for dataset, column in TEST_COLUMN.items():
        values = bench.values[:, COLUMNS.index(column)]
        rank = int((values > row[column]).sum()) + 1
        key = RANK_KEYS[dataset]
        out[f"rank_{key}"] = rank
        out[f"top_pct_{key}"] = 100.0 * rank / (len(values) if len(values) else NUM_ARCHS)
    return out
