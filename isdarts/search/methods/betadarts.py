"""beta-DARTS (Ye et al., CVPR 2022): first-order DARTS plus the beta-decay regulariser, the
mean over edges of ``logsumexp(alpha_e)``, weighted by ``lambda = beta_lambda * epoch /
epochs`` (0 at the first epoch; settings: :class:`BetaDartsSettings`). Its gradient is
softmax(alpha): it pulls every op's alpha down in proportion to its weight, which keeps the
softmax of alpha from saturating (the paper's "beta" is that softmax). The cell is alpha's
argmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from isdarts.config.baselines import BetaDartsSettings
from isdarts.search.methods.base import Darts
from isdarts.search.step import Arch, ArchState


def beta_decay(alpha: torch.Tensor) -> torch.Tensor:
    """The beta-decay loss: the mean over edges of ``logsumexp`` over each edge's ops."""
    return torch.logsumexp(alpha, dim=-1).mean()


@dataclass
class BetaDecayArch(ArchState):
    beta_lambda: float = 50.0
    weight: float = 0.0  # lambda of the current epoch

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        super().begin_epoch(epoch, epochs)
        self.weight = self.beta_lambda * epoch / epochs

    def regulariser(self) -> torch.Tensor | float:
        return self.weight * beta_decay(self.alpha)

    def log_state(self) -> dict[str, Any]:
        return {"lambda": self.weight, "beta_loss": float(beta_decay(self.alpha.detach()))}


class BetaDarts(Darts):
    name = "betadarts"
    block = "betadarts"

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        s: BetaDartsSettings = self.settings(prof)
        alpha = nn.Parameter(1e-3 * torch.randn(*shape, device=device))
        return BetaDecayArch(
            alpha, self.adam(prof, [alpha]), **self.arch_options(prof), beta_lambda=s.beta_lambda
        )
