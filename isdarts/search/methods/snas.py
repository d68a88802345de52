"""SNAS (Xie et al., ICLR 2019): the op weights of every forward are a relaxed (concrete,
Gumbel-softmax) sample ``softmax((alpha + G) / tau)``, ``G`` Gumbel noise drawn afresh for each
forward and shared by all cells, ``tau`` annealed linearly over the epochs (settings:
:class:`SnasSettings`).

Single-level (:class:`SingleLevelArch`): the weight step's forward on a batch of the training
set carries the gradient to ``alpha`` too; its one backward of the training loss gives both,
the weights take their SGD step (their gradient clipped at the profile's norm), then alpha its
Adam step with its own clip (``arch_grad_clip``), as the released ``train_search.py`` does.
There is no valid half: the search trains on (the profile's subset of) the whole training set.
The cell is alpha's argmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from isdarts.config.baselines import SingleLevelSettings, SnasSettings
from isdarts.data import Dataset
from isdarts.search.methods.base import Darts, IsDarts, Loaders
from isdarts.search.step import Arch, ArchState, Batch, Mixture

_REDRAWS = 100  # noise draws tried before a non-finite sample is an error


def gumbel_like(x: torch.Tensor) -> torch.Tensor:
    """Standard Gumbel noise of ``x``'s shape (``-log E``, ``E ~ Exp(1)``), redrawn while a draw
    is not finite (``E == 0``)."""
    for _ in range(_REDRAWS):
        noise = -torch.empty_like(x).exponential_().log()
        if torch.isfinite(noise).all():
            return noise
    raise FloatingPointError(f"no finite Gumbel sample in {_REDRAWS} draws")


@dataclass
class SingleLevelArch(ArchState):
    """Alpha learned from the weight step's own backward (:attr:`Arch.single_level`): the
    step after the weight step clips what that backward left in ``alpha.grad`` and takes the
    optimiser's step. A sample whose loss does not reach alpha (every op into the output node
    ``none``) leaves no gradient: the step then sees zeros, as the released code's, whose
    gradients start at zero."""

    graphable = False  # draws noise per forward
    single_level = True
    arch_grad_clip: float | None = 10.0

    def step(self, net, mask, valid: Batch | None, train: Batch, weights_optimizer, where) -> None:
        params = self.parameters()
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if self.arch_grad_clip is not None:
            nn.utils.clip_grad_norm_(params, self.arch_grad_clip)
        self.optimizer.step()
        for p in params:
            p.grad = None  # the next weight step's backward starts afresh


@dataclass
class SnasArch(SingleLevelArch):
    tau_max: float = 1.0
    tau_min: float = 0.03
    tau: float = 1.0

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        """The released scheduler steps before every epoch, the first included: epoch ``e``
        (0-based) of ``E`` trains at ``tau_min + (tau_max - tau_min) (1 - (e + 1) / E)``, the
        last at ``tau_min``."""
        super().begin_epoch(epoch, epochs)
        self.tau = self.tau_min + (self.tau_max - self.tau_min) * (1 - (epoch + 1) / epochs)

    def relaxed(self, gumbel: torch.Tensor) -> torch.Tensor:
        """The concrete sample of noise ``gumbel``: ``softmax((alpha + gumbel) / tau)`` per edge
        (alpha is SNAS' log alpha, the logits of each edge's categorical)."""
        return torch.softmax((self.alpha + gumbel) / self.tau, dim=-1)

    def mixture(self, mask, grad: bool) -> Mixture:
        weights = self.relaxed(gumbel_like(self.alpha.detach()))
        return Mixture(mask, weights if grad else weights.detach())

    def log_state(self) -> dict[str, Any]:
        return {"tau": self.tau}


class SingleLevel(Darts):
    """A single-level method on the training set: one loader, no valid half."""

    def loaders(self, prof, ds: Dataset, data_root, seed: int, device) -> Loaders:
        return IsDarts().loaders(prof, ds, data_root, seed, device)

    def alpha(self, prof, shape: tuple[int, ...], device) -> nn.Parameter:
        """alpha ~ N(init_mean, init_std), drawn right after the supernet's weights."""
        s: SingleLevelSettings = self.settings(prof)
        return nn.Parameter(torch.empty(*shape, device=device).normal_(s.init_mean, s.init_std))


class Snas(SingleLevel):
    name = "snas"
    block = "snas"

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        s: SnasSettings = self.settings(prof)
        alpha = self.alpha(prof, shape, device)
        return SnasArch(
            alpha,
            self.adam(prof, [alpha]),
            arch_grad_clip=s.arch_grad_clip,
            tau_max=s.tau_max,
            tau_min=s.tau_min,
            tau=s.tau_max,
        )
