"""DARTS-space importance probe and node-wise shrink step (the IS-DARTS paper's importance measure and shrink rule); the score
and the removal rule are :mod:`isdarts.spaces.importance`.

A node's candidates are its (input, op) pairs, i.e. the (edge, op) entries of its edges; the
shrink step removes pairs per cell kind and node until two remain.
"""

from __future__ import annotations

import numpy as np
import torch

from isdarts.spaces.darts.names import EDGES, KINDS, NONE, STEPS, K, Mask
from isdarts.spaces.importance import ImportanceSums, measure, remove_worst, sample_scores


class ImportanceProbe(ImportanceSums):
    """Per-sample importance summed per (cell, edge, op), the variance in float64."""

    def __init__(self, num_cells: int, device: torch.device | str = "cpu") -> None:
        super().__init__(num_cells, len(EDGES), K, device)

    def add(self, cell: int, e: int, k: int, x: torch.Tensor) -> None:
        """One op output [B, C, H, W]."""
        self.accumulate(cell, e, k, sample_scores(x.double().var(dim=1), x.shape[1]))

    def none(self, cell: int, e: int) -> None:
        self.infinite(cell, e, NONE)

    def scores(self, kinds: list[int]) -> np.ndarray:
        """[2, 14, 8]: per cell kind, the mean over samples, then over that kind's cells."""
        return _over_kinds(self.per_cell(), kinds)


def _over_kinds(per_cell: torch.Tensor, kinds: list[int]) -> np.ndarray:
    per_cell_np = per_cell.cpu().numpy()
    kinds_arr = np.array(kinds)
    return np.stack([per_cell_np[kinds_arr == kind].mean(0) for kind in range(len(KINDS))])


def measure_importance(net, batches, mask: Mask) -> np.ndarray:
    """Scores [2, 14, 8] over one pass (eval mode, no grad); removed candidates are NaN."""
    probe = ImportanceProbe(net.num_cells, next(net.parameters()).device)
    return measure(net, batches, mask, probe, lambda per_cell: _over_kinds(per_cell, net.kinds))


def shrink_nodes(mask: Mask, scores: np.ndarray, step: int, steps: int, keep: int = 2) -> Mask:
    """Spec section 5: per cell kind and node, remove the ``ceil((remaining - keep) /
    (steps - step))`` remaining (input, op) pairs with the largest score (ties: lower edge,
    then lower op first); ``step`` is 0-based."""
    new = [[row[:] for row in kind] for kind in mask]
    for t in range(len(KINDS)):
        for i in range(STEPS):
            alive = [
                (e, k)
                for e, (node, _) in enumerate(EDGES)
                if node == i
                for k in range(K)
                if mask[t][e][k]
            ]
            for e, k in remove_worst(
                alive, lambda ek, t=t: scores[t][ek[0]][ek[1]], step, steps, keep
            ):
                new[t][e][k] = False
    return new
