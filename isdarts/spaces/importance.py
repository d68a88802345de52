"""Candidate importance and the shrink rule of the IS-DARTS paper (He et al., AAAI 2024), the parts both
search spaces share: the per-sample score, the sums over a pass, the pass itself, the removal
rule and the shrink schedule.

For an op output ``x`` [B, C, H, W] the paper's score of a sample is the mean over C, H, W of
``F = 3 (x - mu)^2 / sigma^6`` with ``mu``, ``sigma`` the mean and unbiased std over channels.
Per pixel, the channel mean of ``(x - mu)^2`` is ``sigma^2 (C - 1) / C``, so the channel mean
of ``F`` is ``3 (C - 1) / (C sigma^4)``: a probe needs only the channel variance. A zero
variance gives +inf (0/0 counts as +inf, so ``none`` is always removed first).

The score is a mean of ``1 / sigma^4`` over pixels, dominated by pixels whose channel variance
is small, hence float64 from the variance on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from isdarts.cuda_graph import GraphedStep


def sample_scores(var: torch.Tensor, c: int) -> torch.Tensor:
    """Per-sample scores from the channel variance ``var`` (float64, [B, H, W, ...]) of an
    output with ``c`` channels: the pixel mean of ``3 (c - 1) / (c var^2)``; shape [B, ...].
    A zero variance divides a positive number by +0 and so gives +inf by itself."""
    return (3.0 * (c - 1) / c / var.square()).mean(dim=(1, 2))


class ImportanceSums:
    """Per-sample scores summed per (cell, edge, op) over one pass; ``samples`` counts the
    images. A space's probe adds its ops' outputs here."""

    def __init__(
        self, num_cells: int, num_edges: int, num_ops: int, device: torch.device | str = "cpu"
    ) -> None:
        self.sums = torch.zeros(num_cells, num_edges, num_ops, dtype=torch.float64, device=device)
        self.samples = 0
        # edge lists as index tensors on the device, made once: indexing with a Python list
        # copies it to the device on every call, which a CUDA graph cannot capture
        self._index: dict[tuple[int, ...], torch.Tensor] = {}

    def accumulate(
        self, cell: int, edges: int | list[int], k: int, per_sample: torch.Tensor
    ) -> None:
        """``per_sample``: [B] for one edge, [B, len(edges)] for several."""
        if isinstance(edges, int):
            self.sums[cell, edges, k] += per_sample.sum(0)
            return
        key = tuple(edges)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = torch.tensor(key, device=self.sums.device)
        # one output shared by several edges (skip, pooling) has one column: broadcast it
        total = per_sample.sum(0).expand(len(key))
        self.sums[cell, :, k].index_add_(0, index, total)

    def infinite(self, cell: int, e: int, k: int) -> None:
        """An op whose output is all zero (``none``): +inf, removed first."""
        self.sums[cell, e, k] = math.inf

    def per_cell(self) -> torch.Tensor:
        """[cells, edges, ops]: the mean over the samples seen."""
        return self.sums / max(self.samples, 1)


@torch.no_grad()
def measure(
    net: nn.Module,
    batches: Iterable[tuple[torch.Tensor, Any]],
    mask: Sequence,
    probe: ImportanceSums,
    reduce: Callable[[torch.Tensor], np.ndarray],
    graphs: bool = False,
    **forward: Any,
) -> np.ndarray:
    """One pass of ``batches`` through ``net(x, mask, probe=probe, **forward)`` in eval mode
    without gradients; ``reduce`` turns the per-cell means into the space's scores, shaped like
    ``mask``. Removed candidates get NaN. ``graphs``: on CUDA, the probe's forward is captured
    once as a CUDA graph and replayed per batch (:class:`isdarts.cuda_graph.GraphedStep`); the
    sums stay on the device either way."""
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device

    def probe_forward(x: torch.Tensor) -> None:
        net(x, mask, probe=probe, **forward)

    step = GraphedStep(
        probe_forward, enabled=graphs and device.type == "cuda", name="importance pass"
    )
    try:
        for x, _ in batches:
            step(x)
            probe.samples += len(x)
    finally:
        net.train(was_training)
    scores = reduce(probe.per_cell())
    scores[~np.array(mask, dtype=bool)] = np.nan
    return scores


def remove_worst(
    alive: list[Hashable], score: Callable[[Any], float], step: int, steps: int, keep: int
) -> list:
    """The shrink rule: of the ``alive`` candidates of one group (an edge, or a node), the
    ``ceil((len(alive) - keep) / (steps - step))`` with the largest score; ties go to the
    smaller candidate key first. ``step`` is 0-based."""
    n_remove = math.ceil((len(alive) - keep) / (steps - step))
    return sorted(alive, key=lambda c: (-score(c), c))[:n_remove]


def shrink_points(epochs: int, steps: int, interval: int) -> list[int]:
    """1-indexed epochs after which a shrink step happens: ``range(E - S*I, E, I)``."""
    return list(range(epochs - steps * interval, epochs, interval))


def json_scores(scores: np.ndarray | None) -> list | None:
    """Importance scores for JSON: NaN (not measured) as null, infinite (``none``) as "inf"."""
    return None if scores is None else _json_values(scores.tolist())


def _json_values(v: Any) -> Any:
    if isinstance(v, list):
        return [_json_values(x) for x in v]
    return None if math.isnan(v) else ("inf" if math.isinf(v) else float(v))
