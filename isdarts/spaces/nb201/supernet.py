"""NAS-Bench-201 supernet: cells of 4 nodes, 6 edges, 5 candidate ops per edge (Liu et al., ICLR 2019).

Edge ``e`` feeds node ``i`` from node ``j`` (``EDGES[e] == (i, j)``) with
``sum_k w[e, k] * op_k(node_j)``. IS-DARTS uses ``w = mask / K`` with K = 5 fixed; DARTS uses
``w = softmax(alpha)``. Two forward paths compute the same function:

- ``reference``: every op of every edge computed and multiplied by its weight, as written.
- ``fast``: removed ops (mask 0) and ``none`` (always zero) are skipped; the ReLU and the 3x3
  average pooling of a node are computed once for all edges leaving it; the convolutions of
  all edges leaving a node are fused into one convolution per kernel size (their weights
  concatenated along the output channels) followed by one batch norm, which is exact because
  cell batch norm is per channel with batch statistics and no affine parameters.

Both paths can report every candidate's importance (the IS-DARTS paper's measure) to a ``probe``.

A third path, ``partial``, serves PC-DARTS (Xu et al., ICLR 2020): with ``partial_channels``
K > 1 the ops of an edge see only the first C/K channels of their input, the other channels
bypass them, the two parts are concatenated and shuffled in K groups; each edge's output can be
scaled by an edge weight (PC-DARTS' edge normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.spaces.blocks import Classifier, stem
from isdarts.spaces.nb201.names import (
    CONV1,
    CONV3,
    EDGES,
    NONE,
    NUM_NODES,
    POOL,
    SKIP,
    K,
    Mask,
    full_mask,
)
from isdarts.spaces.nb201.names import OPS as OP_NAMES
from isdarts.spaces.nb201.ops import OPS, ResNetBasicBlock


@dataclass(frozen=True)
class SupernetConfig:
    channels: int = 16
    cells_per_stage: int = 5
    num_classes: int = 10
    partial_channels: int = 1  # PC-DARTS' K: 1/K of a node's channels go through the ops


class SearchCell(nn.Module):
    """One searchable cell: ``edges[e][op_name]`` holds the candidate op of edge ``e``."""

    def __init__(self, C: int, partial_channels: int = 1) -> None:
        super().__init__()
        if C % partial_channels:
            raise ValueError(f"{C} channels do not split into {partial_channels} groups")
        self.C, self.partial = C, partial_channels
        c = C // partial_channels
        self.edges = nn.ModuleList(
            nn.ModuleDict({name: OPS[name](c, c, 1) for name in OP_NAMES}) for _ in EDGES
        )

    def forward_partial(
        self, x: torch.Tensor, mask: Mask, w: torch.Tensor, edge_weights: torch.Tensor | None
    ) -> torch.Tensor:
        """PC-DARTS' edge: ``shuffle(cat(sum_k w[e, k] op_k(x[:, :C/K]), x[:, C/K:]), K)``,
        times ``edge_weights[e]`` when given; ops removed by ``mask`` and ``none`` skipped."""
        c = self.C // self.partial
        nodes = [x]
        for i in range(1, NUM_NODES):
            acc = None
            for e, (dst, j) in enumerate(EDGES):
                if dst != i:
                    continue
                part, rest = nodes[j][:, :c], nodes[j][:, c:]
                terms = [
                    w[e, k] * self.edges[e][name](part)
                    for k, name in enumerate(OP_NAMES)
                    if mask[e][k] and k != NONE
                ]
                mixed = sum(terms[1:], terms[0]) if terms else torch.zeros_like(part)
                out = channel_shuffle(torch.cat([mixed, rest], 1), self.partial)
                if edge_weights is not None:
                    out = out * edge_weights[e]
                acc = out if acc is None else acc + out
            nodes.append(acc)
        return nodes[-1]

    def forward_reference(self, x: torch.Tensor, w: torch.Tensor, probe=None, cell: int = 0):
        nodes = [x]
        for i in range(1, NUM_NODES):
            terms = []
            for e, (dst, j) in enumerate(EDGES):
                if dst != i:
                    continue
                for k, name in enumerate(OP_NAMES):
                    out = self.edges[e][name](nodes[j])
                    if probe is not None:
                        probe.reference(cell, e, k, out)
                    terms.append(w[e, k] * out)
            nodes.append(sum(terms))
        return nodes[-1]

    def _conv_group(self, src: torch.Tensor, e_list: list[int], name: str, pad: int):
        """One convolution for the ``name`` op of all edges in ``e_list`` (same input), then
        one batch norm; returns the output [B, len(e_list) * C, H, W]."""
        if len(e_list) == 1:
            weight = self.edges[e_list[0]][name][1].weight
        else:
            weight = torch.cat([self.edges[e][name][1].weight for e in e_list], 0)
        y = F.conv2d(src, weight, padding=pad)
        return F.batch_norm(y, None, None, training=True, momentum=0.0, eps=1e-5)

    def forward_fast(
        self,
        x: torch.Tensor,
        mask: Mask,
        w: torch.Tensor | None,
        probe=None,
        cell: int = 0,
        unsampled: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``w`` None means IS-DARTS' uniform ``mask / K``, otherwise per-op weights (DARTS).
        ``unsampled`` [6] (GDAS as released): a scalar per edge added to its node's sum."""
        nodes = [x]
        terms: list[list[torch.Tensor]] = [[] for _ in range(NUM_NODES)]

        def add(e: int, k: int, out: torch.Tensor) -> None:
            terms[EDGES[e][0]].append(out if w is None else out * w[e, k])

        for j in range(NUM_NODES - 1):
            src = nodes[j]
            out_edges = [e for e, (_, s) in enumerate(EDGES) if s == j]
            if probe is not None:
                for e in out_edges:
                    if mask[e][NONE]:
                        probe.fast_none(cell, e)
            skip_edges = [e for e in out_edges if mask[e][SKIP]]
            if skip_edges and probe is not None:
                probe.fast(cell, skip_edges, SKIP, src.unsqueeze(1))
            for e in skip_edges:
                add(e, SKIP, src)
            pool_edges = [e for e in out_edges if mask[e][POOL]]
            if pool_edges:
                pooled = F.avg_pool2d(src, 3, 1, 1, count_include_pad=False)
                if probe is not None:
                    probe.fast(cell, pool_edges, POOL, pooled.unsqueeze(1))
                for e in pool_edges:
                    add(e, POOL, pooled)
            conv_groups = [
                (k, name, pad, [e for e in out_edges if mask[e][k]])
                for k, name, pad in ((CONV3, "nor_conv_3x3", 1), (CONV1, "nor_conv_1x1", 0))
            ]
            if any(edges for *_, edges in conv_groups):
                relu = F.relu(src)
                for k, name, pad, edges in conv_groups:
                    if not edges:
                        continue
                    y = self._conv_group(relu, edges, name, pad)
                    if probe is not None:
                        b, _, h, wd = y.shape
                        probe.fast(cell, edges, k, y.view(b, len(edges), self.C, h, wd))
                    # split (not select) so that the backward is one cat in y's memory format
                    for e, part in zip(edges, y.split(self.C, dim=1)):
                        add(e, k, part)
            node = _node_sum(terms[j + 1], src, w is None)
            if unsampled is not None:
                node = node + unsampled[[e for e, (i, _) in enumerate(EDGES) if i == j + 1]].sum()
            nodes.append(node)
        return nodes[-1]


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` equal groups (ShuffleNet's channel shuffle)."""
    if groups == 1:
        return x
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


def _node_sum(ts: list[torch.Tensor], like: torch.Tensor, uniform: bool) -> torch.Tensor:
    if not ts:
        return torch.zeros_like(like)
    if len(ts) == 1:
        return ts[0] * (1.0 / K) if uniform else ts[0].clone()
    acc = ts[0] + ts[1]
    for t in ts[2:]:
        acc.add_(t)
    return acc.mul_(1.0 / K) if uniform else acc


class Supernet(nn.Module):
    """Stem, three stages of ``cells_per_stage`` search cells (C, 2C, 4C channels) separated
    by ResNet reduction blocks, classifier. All search cells share one op-weight matrix."""

    def __init__(self, cfg: SupernetConfig) -> None:
        super().__init__()
        C, N = cfg.channels, cfg.cells_per_stage
        self.cfg = cfg
        self.stem = stem(C)
        layers: list[nn.Module] = []
        for stage in range(3):
            c = C * 2**stage
            if stage:
                layers.append(ResNetBasicBlock(c // 2, c, 2))
            layers.extend(SearchCell(c, cfg.partial_channels) for _ in range(N))
        self.layers = nn.ModuleList(layers)
        self.classifier = Classifier(C * 4, cfg.num_classes)

    @property
    def num_cells(self) -> int:
        return 3 * self.cfg.cells_per_stage

    def forward(
        self,
        x: torch.Tensor,
        mask: Mask | None = None,
        weights: torch.Tensor | None = None,
        *,
        fast: bool = True,
        probe=None,
        edge_weights: torch.Tensor | None = None,
        unsampled: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits. ``mask`` [6][5] bools (None: all ops); ``weights`` [6, 5] tensor or None
        for the uniform ``mask / K``. The reference path builds ``mask / K`` itself.
        ``edge_weights`` [6] (PC-DARTS' edge normalisation) and ``partial_channels`` > 1 take
        the partial path (no probe). ``unsampled`` [6] (fast path only): GDAS' sum of the hard
        weights of each edge's unsampled ops (value 0), added to the edge's node as the released
        GDAS does, so that their gradient reaches alpha."""
        mask = full_mask() if mask is None else mask
        partial = self.cfg.partial_channels > 1 or edge_weights is not None
        if partial and probe is not None:
            raise ValueError("the partial-channel path measures no importance")
        if unsampled is not None and (partial or not fast):
            raise ValueError("unsampled ops' weights are added on the fast path only")
        if (partial or not fast) and weights is None:
            weights = torch.tensor(mask, dtype=x.dtype, device=x.device) / K
        x = self.stem(x)
        cell = 0
        for layer in self.layers:
            if isinstance(layer, SearchCell):
                if partial:
                    x = layer.forward_partial(x, mask, weights, edge_weights)
                elif fast:
                    x = layer.forward_fast(x, mask, weights, probe, cell, unsampled)
                else:
                    x = layer.forward_reference(x, weights, probe, cell)
                cell += 1
            else:
                x = layer(x)
        return self.classifier(x)
