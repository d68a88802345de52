"""DrNAS (Chen et al., ICLR 2021): the op weights of an edge drawn from a Dirichlet
distribution whose concentration ``elu(alpha) + 1`` is learned through pathwise
(reparameterised) gradients (settings: :class:`DrNasSettings`).

Every forward draws fresh weights (a point on each edge's simplex); the weight step's draw is
detached. The regulariser: ``l2`` (the code's default) is Adam's weight decay ``reg_scale`` on
alpha; ``kl`` adds ``reg_scale`` times the KL divergence of each edge's Dirichlet from the
uniform Dir(1, ..., 1) to the architecture loss. The cell is the argmax of the Dirichlet's
mean (alpha's argmax).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Dirichlet, kl_divergence

from isdarts.config.baselines import DrNasSettings
from isdarts.search.methods.base import Darts
from isdarts.search.step import Arch, ArchState, Mixture


@dataclass
class DirichletArch(ArchState):
    graphable = False  # draws from the Dirichlet per forward
    kl_scale: float = 0.0  # the ``kl`` regulariser's weight (0: none)

    def concentration(self) -> torch.Tensor:
        return F.elu(self.alpha) + 1

    def mixture(self, mask, grad: bool) -> Mixture:
        weights = Dirichlet(self.concentration()).rsample()
        return Mixture(mask, weights if grad else weights.detach())

    def regulariser(self) -> torch.Tensor | float:
        if not self.kl_scale:
            return 0.0
        beta = self.concentration()
        uniform = Dirichlet(torch.ones_like(beta))
        return self.kl_scale * kl_divergence(Dirichlet(beta), uniform).sum()

    def cell_logits(self) -> torch.Tensor:
        """The log of the Dirichlet's mean (its softmax is the mean)."""
        beta = self.concentration().detach()
        return (beta / beta.sum(-1, keepdim=True)).log()

    def log_state(self) -> dict[str, Any]:
        return {"concentration": self.concentration().detach().cpu().tolist()}


class DrNas(Darts):
    name = "drnas"
    block = "drnas"

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        s: DrNasSettings = self.settings(prof)
        alpha = nn.Parameter(1e-3 * torch.randn(*shape, device=device))
        l2 = s.reg_scale if s.regulariser == "l2" else 0.0
        return DirichletArch(
            alpha,
            self.adam(prof, [alpha], weight_decay=s.arch_weight_decay + l2),
            **self.arch_options(prof),
            kl_scale=s.reg_scale if s.regulariser == "kl" else 0.0,
        )
