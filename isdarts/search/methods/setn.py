"""SETN (Dong & Yang, "One-Shot Neural Architecture Search via Self-Evaluated Template
Network", ICCV 2019) as the NAS-Bench-201 authors released it (``SETN.py``; settings:
:class:`SetnSettings`).

Each step first trains the weights of one cell drawn uniformly (one op per edge, the same cell
in every searched cell of the network, no rule against a node whose inputs are all ``none``),
then takes an Adam step on alpha with DARTS' softmax mixture of every op on a valid batch.
Neither step clips a gradient, and every weight takes its SGD step in every weight step, those
off the drawn cell with a zero gradient (weight decay and momentum only): the released loop
under the PyTorch of its time, whose ``zero_grad`` kept zero tensors once the architecture
step's mixture had given every weight a gradient (here from the first step on; there from the
second). After the last epoch the ``candidates`` cells of highest summed
log-softmax(alpha) (the template's most probable cells) are each scored by the supernet's top-1
accuracy on one unaugmented valid batch, and the best is the result.

The released script also runs that selection after every epoch to log a cell; here it runs
once, at the end, where its cell is the search's result (the rows before show alpha's most
probable cell, the first of the ranking).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.config import seeds
from isdarts.config.baselines import SetnSettings
from isdarts.data import Dataset
from isdarts.data.loader import BatchLoader
from isdarts.errors import IsdartsError
from isdarts.run.engine import check_finite
from isdarts.search.methods.base import Darts, Loaders, loader_kw
from isdarts.search.methods.rsps import PathSampler
from isdarts.search.step import ArchState, Batch, Batches, Mixture


def ranked_cells(alpha: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` cells (all where ``k`` < 0 or at least their number) of highest summed
    log-softmax(alpha) over their ops, as an op index per edge [k, edges], and those sums.

    As the released ranking: every cell of the space enumerated with the first edge slowest
    (xautodl's ``Structure.gen_all``), its sum accumulated edge by edge in edge order and in
    alpha's dtype (``get_log_prob``), the list sorted stably (equal sums keep the order of
    the enumeration)."""
    edges, ops = alpha.shape
    log_p = F.log_softmax(alpha.detach().cpu(), dim=-1)
    cells = torch.cartesian_prod(*[torch.arange(ops)] * edges)  # the last edge fastest
    total = log_p[0, cells[:, 0]]
    for e in range(1, edges):
        total = total + log_p[e, cells[:, e]]
    order = torch.sort(-total, stable=True).indices  # -x: ascending, ties in enumeration order
    if 0 <= k < len(order):
        order = order[:k]
    return cells[order], total[order]


@dataclass
class SetnArch(ArchState):
    """alpha and its Adam (the architecture step: DARTS' softmax mixture), a uniform path
    sampler for the weight steps and the final scoring (:class:`PathSampler`)."""

    # draws the weight step's cell on the host and builds its mask from Python lists
    graphable = False
    # the weights off the drawn cell take their SGD step too (zero gradient: decay, momentum),
    # as under the PyTorch of the released runs (zero_grad kept zero tensors)
    dense_sgd = True
    candidates: int = 100
    paths: PathSampler = field(init=False)

    def __post_init__(self) -> None:
        self.paths = PathSampler(tuple(self.alpha.shape), self.candidates, self.alpha.device)

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        super().begin_epoch(epoch, epochs)
        self.paths.begin_epoch(epoch, epochs)

    def mixture(self, mask, grad: bool) -> Mixture:
        """The weight step's forward: one uniformly drawn cell."""
        return self.paths.mixture(mask, grad)

    def loss(self, net: nn.Module, mask, valid: Batch, where: str) -> torch.Tensor:
        """The architecture step's loss: the valid loss under the softmax mixture of every op
        (the released ``joint`` mode)."""
        joint = ArchState.mixture(self, mask, grad=True)
        loss = F.cross_entropy(joint.forward(net, valid[0]), valid[1])
        check_finite(loss, f"{where} (architecture step)")
        return loss

    def finish(self, net: nn.Module, mask, valid: Batches) -> None:
        cells, log_probs = ranked_cells(self.alpha, self.candidates)
        self.paths.score(net, mask, iter(cells), valid)
        for entry, log_p in zip(self.paths.scores, log_probs.tolist(), strict=True):
            entry["log_prob"] = log_p

    def cell_logits(self) -> torch.Tensor | None:
        """alpha until the candidates are scored (its argmax: the first of the ranking), then
        the chosen cell."""
        if self.paths.chosen is None:
            return self.alpha.detach()
        return self.paths.cell_logits()

    def log_state(self) -> dict[str, Any]:
        return self.paths.log_state()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "paths": self.paths.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.paths.load_state_dict(state["paths"])


class Setn(Darts):
    name = "setn"
    block = "setn"

    def loaders(self, prof, ds: Dataset, data_root, seed: int, device) -> Loaders:
        """The two halves as DARTS', and the candidates' batches: the valid half without
        augmentation, ``select_batch_size`` images (the released ``valid_loader``), in passes
        of their own."""
        base = super().loaders(prof, ds, data_root, seed, device)
        s: SetnSettings = self.settings(prof)
        kw = {**loader_kw(prof, ds, seeds.select_stream(seed), device), "augment": False}
        select = BatchLoader(base.valid.images, base.valid.labels, s.select_batch_size, **kw)
        return replace(base, select=select)

    def arch(self, prof, shape: tuple[int, ...], device) -> SetnArch:
        s: SetnSettings = self.settings(prof)
        if s.clip_alpha:
            raise IsdartsError("setn.clip_alpha: SETN's weight step trains one cell, not alpha")
        state = super().arch(prof, shape, device)
        return SetnArch(
            state.alpha, state.optimizer, **self.arch_options(prof), candidates=s.candidates
        )
