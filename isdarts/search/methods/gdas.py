"""GDAS (Dong & Yang, CVPR 2019): one op per edge sampled by the Gumbel-softmax in every
forward, hard in the forward and soft in the backward, the temperature annealed linearly
from ``tau_max`` to ``tau_min`` over the epochs (settings: :class:`GdasSettings`).

A forward computes only the sampled op of each edge, weighted by ``h = onehot - p.detach() +
p`` (value 1, gradient that of the softmax ``p``); as in the released GDAS forward, the hard
weights of the unsampled ops (value 0) are added to the edge's node as well, so that the
gradient of every op's probability, sampled or not, reaches alpha: the sum of the loss'
gradient over the node's elements. The weight step samples too, then the architecture step
samples afresh on a batch of the valid half. The cell is alpha's argmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from isdarts.config.baselines import GdasSettings
from isdarts.search.methods.base import Darts
from isdarts.search.step import Arch, ArchState, Mixture

_REDRAWS = 100  # Gumbel draws tried before a non-finite sample is an error


@dataclass
class GumbelArch(ArchState):
    graphable = False  # draws Gumbel noise per forward
    # GDAS.py ran under PyTorch < 2.0, whose zero_grad kept zero gradients: every weight, on
    # the sampled path or not, takes its SGD step (weight decay, momentum) in every step
    dense_sgd = True
    tau_max: float = 10.0
    tau_min: float = 0.1
    tau: float = 10.0

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        super().begin_epoch(epoch, epochs)
        span = max(epochs - 1, 1)
        self.tau = self.tau_max - (self.tau_max - self.tau_min) * epoch / span

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(the soft Gumbel-softmax probabilities p, the sampled op per edge)."""
        log_p = F.log_softmax(self.alpha, dim=-1)
        for _ in range(_REDRAWS):
            gumbel = -torch.empty_like(log_p).exponential_().log()
            probs = torch.softmax((log_p + gumbel) / self.tau, dim=-1)
            if torch.isfinite(gumbel).all() and torch.isfinite(probs).all():
                return probs, probs.argmax(-1)
        raise FloatingPointError(f"no finite Gumbel-softmax sample in {_REDRAWS} draws")

    def mixture(self, mask, grad: bool) -> Mixture:
        probs, index = self.sample()
        hard = F.one_hot(index, probs.shape[-1]).to(probs.dtype)
        chosen = hard.bool().tolist()
        single = [[c and m for c, m in zip(cr, mr)] for cr, mr in zip(chosen, mask)]
        if not grad:
            return Mixture(single, hard)
        weights = hard - probs.detach() + probs
        # the unsampled ops' hard weights: 0 in value, each with its gradient
        return Mixture(single, weights, {"unsampled": (weights * (1 - hard)).sum(-1)})

    def log_state(self) -> dict[str, Any]:
        return {"tau": self.tau}


class Gdas(Darts):
    name = "gdas"
    block = "gdas"

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        s: GdasSettings = self.settings(prof)
        alpha = torch.nn.Parameter(1e-3 * torch.randn(*shape, device=device))
        return GumbelArch(
            alpha,
            self.adam(prof, [alpha]),
            **self.arch_options(prof),
            tau_max=s.tau_max,
            tau_min=s.tau_min,
            tau=s.tau_max,
        )
