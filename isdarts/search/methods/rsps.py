"""Random search with parameter sharing (Li & Talwalkar, UAI 2019), as the NAS-Bench-201
authors ran it (settings: :class:`RspsSettings`): every weight step trains one path, an op
drawn uniformly for each edge; after the last epoch ``candidates`` cells are drawn uniformly,
each scored by the supernet's top-1 accuracy on one batch of the valid half (no augmentation,
``select_batch_size`` images), and the best is the result. No architecture parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from isdarts.config.baselines import RspsSettings
from isdarts.data.loader import BatchLoader
from isdarts.search.methods.base import Darts
from isdarts.search.step import Arch, Batches, Mixture


class PathSampler(Arch):
    """Uniform single paths for the weight steps, the best of N sampled cells at the end."""

    steps = False

    def __init__(self, shape: tuple[int, ...], candidates: int, device) -> None:
        self.shape, self.candidates, self.device = shape, candidates, device
        self.counts = np.zeros(shape, dtype=np.int64)  # this epoch's draws per edge and op
        self.chosen: list[int] | None = None
        self.scores: list[dict[str, Any]] = []

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        self.counts[:] = 0

    def draw(self) -> torch.Tensor:
        """One op per edge, uniformly (torch's generator: reseeded per epoch)."""
        return torch.randint(self.shape[1], (self.shape[0],))

    def path(self, ops: torch.Tensor, mask) -> Mixture:
        hard = F.one_hot(ops, self.shape[1]).float().to(self.device)
        chosen = hard.bool().tolist()
        single = [[c and m for c, m in zip(cr, mr)] for cr, mr in zip(chosen, mask)]
        return Mixture(single, hard)

    def mixture(self, mask, grad: bool) -> Mixture:
        ops = self.draw()
        self.counts[np.arange(self.shape[0]), ops.numpy()] += 1
        return self.path(ops, mask)

    def finish(self, net: nn.Module, mask, valid: Batches) -> None:
        self.score(net, mask, (self.draw() for _ in range(self.candidates)), valid)

    @torch.no_grad()
    def score(self, net: nn.Module, mask, cells: Iterable[torch.Tensor], valid: Batches) -> None:
        """Score each of ``cells`` (an op index per edge, taken one at a time) by the
        supernet's top-1 accuracy on the next valid batch, in eval mode (batch norm outside
        the cells on running statistics); the first of the most accurate is chosen (SETN:
        the candidates in alpha's order)."""
        net.eval()
        try:
            self.scores = []
            for ops in cells:
                x, y = next(valid)
                logits = self.path(ops, mask).forward(net, x)
                acc = 100.0 * float((logits.argmax(1) == y).float().mean())
                self.scores.append({"ops": ops.tolist(), "valid_acc": acc})
        finally:
            net.train()
        best = max(range(len(self.scores)), key=lambda i: (self.scores[i]["valid_acc"], -i))
        self.chosen = self.scores[best]["ops"]

    def cell_logits(self) -> torch.Tensor | None:
        if self.chosen is None:
            return None
        hard = F.one_hot(torch.tensor(self.chosen), self.shape[1]).bool()
        return torch.zeros(self.shape).masked_fill(~hard, float("-inf"))

    def log_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"sampled": self.counts.tolist()}
        if self.scores:
            state["candidates"] = self.scores
        return state

    def state_dict(self) -> dict[str, Any]:
        return {"chosen": self.chosen, "scores": self.scores}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.chosen, self.scores = state["chosen"], state["scores"]


class Rsps(Darts):
    name = "rsps"
    block = "rsps"

    def valid_loader(self, prof, images, labels, kw: dict) -> BatchLoader:
        """The candidates' batches: no augmentation, ``select_batch_size`` images."""
        s: RspsSettings = self.settings(prof)
        return BatchLoader(images, labels, s.select_batch_size, **{**kw, "augment": False})

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        return PathSampler(shape, self.settings(prof).candidates, device)
