"""PC-DARTS (Xu et al., ICLR 2020): partial channel connections and edge normalisation
(settings: :class:`PcDartsSettings`).

Each edge sends the first 1/K of its input's channels through the softmax(alpha)-weighted ops
and lets the rest bypass them, then shuffles the channels in K groups (the supernet's partial
path, ``partial_channels``); each node sums its input edges weighted by a softmax over their
edge parameters ``beta`` (edge normalisation). No architecture step in the first
``warmup_epochs``. NAS-Bench-201 keeps every edge, so the cell is alpha's argmax per edge (an
edge's weight scales all its ops alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from isdarts.search.methods.base import Darts
from isdarts.search.step import Arch, ArchState, Mixture
from isdarts.spaces.nb201.names import EDGES


def node_softmax(beta: torch.Tensor, targets: list[int]) -> torch.Tensor:
    """A softmax of ``beta`` over the edges with the same target node (``targets[e]``)."""
    out = torch.empty_like(beta)
    for node in sorted(set(targets)):
        idx = [e for e, t in enumerate(targets) if t == node]
        out[idx] = torch.softmax(beta[idx], dim=0)
    return out


@dataclass
class PartialChannelArch(ArchState):
    graphable = False  # node_softmax indexes with Python lists (host-to-device copies)
    beta: nn.Parameter | None = None  # None: no edge normalisation
    targets: list[int] = field(default_factory=list)  # each edge's target node

    def parameters(self) -> list[torch.Tensor]:
        return [self.alpha] if self.beta is None else [self.alpha, self.beta]

    def edge_weights(self) -> torch.Tensor | None:
        return None if self.beta is None else node_softmax(self.beta, self.targets)

    def mixture(self, mask, grad: bool) -> Mixture:
        w, ew = torch.softmax(self.alpha, dim=-1), self.edge_weights()
        if not grad:
            w, ew = w.detach(), None if ew is None else ew.detach()
        return Mixture(mask, w, {} if ew is None else {"edge_weights": ew})

    def log_state(self) -> dict[str, Any] | None:
        ew = self.edge_weights()
        return None if ew is None else {"edge_weights": ew.detach().cpu().tolist()}


class PcDarts(Darts):
    name = "pcdarts"
    block = "pcdarts"

    def supernet_options(self, prof) -> dict[str, Any]:
        return {"partial_channels": self.settings(prof).partial_channels}

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        alpha = nn.Parameter(1e-3 * torch.randn(*shape, device=device))
        beta = None
        if self.settings(prof).edge_normalisation:
            beta = nn.Parameter(1e-3 * torch.randn(shape[0], device=device))
        params = [alpha] if beta is None else [alpha, beta]
        return PartialChannelArch(
            alpha,
            self.adam(prof, params),
            **self.arch_options(prof),
            beta=beta,
            targets=[dst for dst, _ in EDGES],
        )
