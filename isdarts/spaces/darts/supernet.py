"""The DARTS-space supernet for IS-DARTS and first-order DARTS (He et al., AAAI 2024).

Each cell has two inputs (the previous two cells) and four intermediate nodes; node ``i``
has an edge from every earlier state ``j < 2 + i`` (14 edges, ``EDGES[e] == (i, j)``), and
every edge holds all eight ops. A node's candidates are its (input, op) pairs, i.e. the
(edge, op) entries of its edges. The mask has shape [2][14][8]: cell kind (0 normal,
1 reduce), edge, op. IS-DARTS: node = ``sum mask * op(state_j) / K`` over its edges and ops,
K = 8 fixed. DARTS: node = ``sum softmax(alpha[kind, e]) * op(state_j)``. Removed ops and
``none`` (always zero) are not computed. Cell batch norm: no affine, batch statistics.
After the last cell, the head of the authors' search network: batch norm, ReLU, global
average pooling, linear layer (:class:`isdarts.spaces.blocks.Classifier`, as NAS-Bench-201's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from isdarts.spaces.blocks import Classifier, ReLUConvBN, bn, stem
from isdarts.spaces.darts.names import EDGES, NONE, PRIMITIVES, STEPS, K, Mask, full_mask
from isdarts.spaces.darts.ops import FactorizedReduce, make_op

POOLS = ("avg_pool_3x3", "max_pool_3x3")

if TYPE_CHECKING:
    from isdarts.spaces.darts.importance import ImportanceProbe


@dataclass(frozen=True)
class DartsSupernetConfig:
    channels: int = 16
    layers: int = 8
    num_classes: int = 10
    stem_multiplier: int = 3
    # The original DARTS search follows each pooling candidate with a batch norm without
    # affine parameters; IS-DARTS' supernet does not.
    pool_bn: bool = False


def _candidate(name: str, C: int, stride: int, pool_bn: bool) -> nn.Module:
    op = make_op(name, C, stride, affine=False)
    if pool_bn and name in POOLS:
        return nn.Sequential(op, bn(C, affine=False))
    return op


class SearchCell(nn.Module):
    def __init__(
        self,
        C_pp: int,
        C_p: int,
        C: int,
        reduction: bool,
        reduction_prev: bool,
        pool_bn: bool = False,
    ) -> None:
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
                _candidate(name, C, 2 if reduction and j < 2 else 1, pool_bn) for name in PRIMITIVES
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
    and 2/3 depth, then the authors' head: batch norm, ReLU, global pooling, linear layer."""

    def __init__(self, cfg: DartsSupernetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c_curr = cfg.stem_multiplier * cfg.channels
        self.stem = stem(c_curr)
        C_pp, C_p, c_curr = c_curr, c_curr, cfg.channels
        reductions = (cfg.layers // 3, 2 * cfg.layers // 3)
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(cfg.layers):
            reduction = i in reductions
            if reduction:
                c_curr *= 2
            self.cells.append(SearchCell(C_pp, C_p, c_curr, reduction, reduction_prev, cfg.pool_bn))
            reduction_prev = reduction
            C_pp, C_p = C_p, STEPS * c_curr
        self.kinds = [int(c.reduction) for c in self.cells]
        self.classifier = Classifier(C_p, cfg.num_classes)

    @property
    def num_cells(self) -> int:
        return len(self.cells)

    def forward(
        self,
        x: torch.Tensor,
        mask: Mask | None = None,
        weights: torch.Tensor | None = None,
        *,
        probe: ImportanceProbe | None = None,
    ) -> torch.Tensor:
        """Logits. ``weights`` None: IS-DARTS' uniform ``mask / K``; else [2, 14, 8] (DARTS)."""
        mask = full_mask() if mask is None else mask
        s0 = s1 = self.stem(x)
        for c, cell in enumerate(self.cells):
            kind = self.kinds[c]
            w = None if weights is None else weights[kind]
            s0, s1 = s1, cell(s0, s1, mask[kind], w, probe, c)
        return self.classifier(s1)
