"""The DARTS-space supernet for IS-DARTS and first-order DARTS (spec sections 2 and 5).

Each cell has two inputs (the previous two cells) and four intermediate nodes; node ``i``
has an edge from every earlier state ``j < 2 + i`` (14 edges, ``EDGES[e] == (i, j)``), and
every edge holds all eight ops. A node's candidates are its (input, op) pairs, i.e. the
(edge, op) entries of its edges. The mask has shape [2][14][8]: cell kind (0 normal,
1 reduce), edge, op. IS-DARTS: node = ``sum mask * op(state_j) / K`` over its edges and ops,
K = 8 fixed. DARTS: node = ``sum softmax(alpha[kind, e]) * op(state_j)``. Removed ops and
``none`` (always zero) are not computed. Cell batch norm: no affine, batch statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from isdarts.genotype import Genotype
from isdarts.spaces.darts_ops import PRIMITIVES, FactorizedReduce, ReLUConvBN, make_op

K = len(PRIMITIVES)
STEPS = 4
EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(STEPS) for j in range(2 + i))
NONE = PRIMITIVES.index("none")
KINDS = ("normal", "reduce")
Mask = list[list[list[bool]]]  # [kind][edge][op]


def full_mask() -> Mask:
    return [[[True] * K for _ in EDGES] for _ in KINDS]


@dataclass(frozen=True)
class DartsSupernetConfig:
    channels: int = 16
    layers: int = 8
    num_classes: int = 10
    stem_multiplier: int = 3


class ImportanceProbe:
    """Per-sample importance (spec section 4) summed per (cell, edge, op). For an output
    [B, C, H, W] the mean over C, H, W of ``3 (x - mu)^2 / sigma^6`` equals the pixel mean of
    ``3 (C - 1) / (C sigma^4)`` (sigma: unbiased std over channels); computed in float64.
    Zero variance (0/0) counts as +inf."""

    def __init__(self, num_cells: int, device: torch.device | str = "cpu") -> None:
        self.sums = torch.zeros(num_cells, len(EDGES), K, dtype=torch.float64, device=device)
        self.samples = 0

    def add(self, cell: int, e: int, k: int, x: torch.Tensor) -> None:
        c = x.shape[1]
        var = x.double().var(dim=1)
        f = 3.0 * (c - 1) / c / var.square()
        f = torch.where(var == 0, torch.full_like(f, math.inf), f)
        self.sums[cell, e, k] += f.mean(dim=(1, 2)).sum()

    def none(self, cell: int, e: int) -> None:
        self.sums[cell, e, NONE] = math.inf

    def scores(self, kinds: list[int]) -> np.ndarray:
        """[2, 14, 8]: per cell kind, the mean over samples, then over that kind's cells."""
        per_cell = (self.sums / max(self.samples, 1)).cpu().numpy()
        kinds_arr = np.array(kinds)
        return np.stack([per_cell[kinds_arr == kind].mean(0) for kind in range(len(KINDS))])


class SearchCell(nn.Module):
    def __init__(self, C_pp: int, C_p: int, C: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (
            FactorizedReduce(C_pp, C, affine=False)
            if reduction_prev
            else ReLUConvBN(C_pp, C, 1, 1, 0, affine=False)
        )
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList(
            nn.ModuleList(
                make_op(name, C, 2 if reduction and j < 2 else 1, affine=False)
                for name in PRIMITIVES
            )
            for _, j in EDGES
        )

    def forward(
        self,
        s0: torch.Tensor,
        s1: torch.Tensor,
        mask: list[list[bool]],
        weights: torch.Tensor | None,
        probe: ImportanceProbe | None,
        cell: int,
    ) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(STEPS):
            acc = None
            for e, (node, j) in enumerate(EDGES):
                if node != i:
                    continue
                for k in range(K):
                    if not mask[e][k]:
                        continue
                    if k == NONE:
                        if probe is not None:
                            probe.none(cell, e)
                        continue
                    out = self.edges[e][k](states[j])
                    if probe is not None:
                        probe.add(cell, e, k, out)
                    term = out if weights is None else out * weights[e, k]
                    acc = term if acc is None else acc + term
            if acc is None:  # only `none` left (or nothing): a zero node
                stride = 2 if self.reduction else 1
                acc = states[1][:, :, ::stride, ::stride].mul(0.0)
            elif weights is None:
                acc = acc * (1.0 / K)
            states.append(acc)
        return torch.cat(states[2:], dim=1)


class DartsSupernet(nn.Module):
    """Stem (``stem_multiplier * C`` channels), ``layers`` search cells with reductions at 1/3
    and 2/3 depth, global pooling, linear classifier."""

    def __init__(self, cfg: DartsSupernetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c_curr = cfg.stem_multiplier * cfg.channels
        self.stem = nn.Sequential(
            nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr)
        )
        C_pp, C_p, c_curr = c_curr, c_curr, cfg.channels
        reductions = (cfg.layers // 3, 2 * cfg.layers // 3)
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(cfg.layers):
            reduction = i in reductions
            if reduction:
                c_curr *= 2
            self.cells.append(SearchCell(C_pp, C_p, c_curr, reduction, reduction_prev))
            reduction_prev = reduction
            C_pp, C_p = C_p, STEPS * c_curr
        self.kinds = [int(c.reduction) for c in self.cells]
        self.classifier = nn.Linear(C_p, cfg.num_classes)

    @property
    def num_cells(self) -> int:
        return len(self.cells)

    def forward(
        self,
        x: torch.Tensor,
        mask: Mask | None = None,
        weights: torch.Tensor | None = None,
        *,
        fast: bool = True,
        probe: ImportanceProbe | None = None,
    ) -> torch.Tensor:
        """Logits. ``weights`` None: IS-DARTS' uniform ``mask / K``; else [2, 14, 8] (DARTS).
        ``fast`` is accepted for the NB201 trainer's interface (there is one path here)."""
        mask = full_mask() if mask is None else mask
        s0 = s1 = self.stem(x)
        for c, cell in enumerate(self.cells):
            kind = self.kinds[c]
            w = None if weights is None else weights[kind]
            s0, s1 = s1, cell(s0, s1, mask[kind], w, probe, c)
        return self.classifier(s1.mean(dim=(2, 3)))


@torch.no_grad()
def measure_importance(net: DartsSupernet, batches, mask: Mask) -> np.ndarray:
    """Scores [2, 14, 8] over one pass (eval mode, no grad); removed candidates are NaN."""
    was_training = net.training
    net.eval()
    probe = ImportanceProbe(net.num_cells, next(net.parameters()).device)
    try:
        for x, _ in batches:
            net(x, mask, probe=probe)
            probe.samples += len(x)
    finally:
        net.train(was_training)
    scores = probe.scores(net.kinds)
    scores[~np.array(mask, dtype=bool)] = np.nan
    return scores


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
            n_remove = math.ceil((len(alive) - keep) / (steps - step))
            for e, k in sorted(alive, key=lambda ek: (-scores[t][ek[0]][ek[1]], ek))[:n_remove]:
                new[t][e][k] = False
    return new


def genotype_from_mask(mask: Mask) -> Genotype | None:
    """The genotype once every node has exactly two (input, op) pairs left, else None."""
    cells = []
    for t in range(len(KINDS)):
        pairs = []
        for i in range(STEPS):
            alive = [
                (PRIMITIVES[k], j)
                for e, (node, j) in enumerate(EDGES)
                if node == i
                for k in range(K)
                if mask[t][e][k]
            ]
            if len(alive) != 2 or any(op == "none" for op, _ in alive):
                return None
            pairs.extend(alive)
        cells.append(tuple(pairs))
    concat = tuple(range(2, 2 + STEPS))
    return Genotype(cells[0], concat, cells[1], concat)


def genotype_from_alpha(alpha: torch.Tensor) -> Genotype:
    """DARTS' rule: per node, the two incoming edges whose strongest non-``none`` op has the
    largest softmax weight, each with that op."""
    probs = torch.softmax(alpha.detach().float().cpu(), dim=-1)
    cells = []
    for t in range(len(KINDS)):
        pairs = []
        for i in range(STEPS):
            best = []
            for e, (node, j) in enumerate(EDGES):
                if node != i:
                    continue
                w = probs[t, e].clone()
                w[NONE] = -1.0
                k = int(w.argmax())
                best.append((float(w[k]), -j, PRIMITIVES[k], j))
            best.sort(reverse=True)
            pairs.extend(sorted(((op, j) for _, _, op, j in best[:2]), key=lambda p: p[1]))
        cells.append(tuple(pairs))
    concat = tuple(range(2, 2 + STEPS))
    return Genotype(cells[0], concat, cells[1], concat)
