"""DSNAS (Hu et al., CVPR 2020): one op per edge sampled from ``p = softmax(alpha)`` in every
forward (one draw for all cells), only the sampled path computed, single-level on the training
set like SNAS (:class:`SingleLevelArch`; settings: :class:`DsnasSettings`).

The search gradient of the paper: with ``Z`` the one-hot sample (the sampled op ``s`` of edge
``e`` weighted by ``Z[e, s] = 1``), ``dL/dalpha[e] = dL/dZ[e, s] * d log p[e, s] / dalpha[e] =
dL/dZ[e, s] (onehot(s) - p[e])``, ``dL/dZ[e, s]`` summed over the cells that share ``Z``. The
released code gets it from the backward of ``L + sum_e log p[e, s]``, then scales alpha's
gradient of each edge by that edge's ``dL/dZ``. Here the weight step's forward weights the
sampled op by ``Z[e, s] p[e, s] / p[e, s].detach()``: exactly 1 in the forward, and its
gradient to alpha is ``Z[e, s] d log p[e, s] / dalpha``, so the ordinary backward of the
training loss leaves the same gradient in ``alpha.grad``. An edge whose sampled op is ``none``
has ``dL/dZ = 0`` (its output is zero), as in the released code. The cell is alpha's argmax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from isdarts.search.methods.snas import SingleLevel, SingleLevelArch, gumbel_like
from isdarts.search.step import Arch, Mixture


@dataclass
class DsnasArch(SingleLevelArch):
    counts: np.ndarray | None = field(default=None, repr=False)  # this epoch's draws [edges, ops]

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        super().begin_epoch(epoch, epochs)
        self.counts = np.zeros(tuple(self.alpha.shape), dtype=np.int64)

    def sample(self) -> torch.Tensor:
        """One op per edge drawn from softmax(alpha) (the Gumbel-max trick)."""
        alpha = self.alpha.detach()
        return (alpha + gumbel_like(alpha)).argmax(-1)

    def weights(self, index: torch.Tensor) -> torch.Tensor:
        """The sampled ops' weights: ``Z p_s / p_s.detach()``, one-hot in value, the gradient
        to alpha that of ``Z log p_s`` (module docstring)."""
        hard = F.one_hot(index, self.alpha.shape[-1]).to(self.alpha.dtype)
        p_s = (hard * torch.softmax(self.alpha, dim=-1)).sum(-1, keepdim=True)
        return hard * (p_s / p_s.detach())

    def mixture(self, mask, grad: bool) -> Mixture:
        index = self.sample()
        chosen = index.tolist()
        if self.counts is not None:
            self.counts[np.arange(len(chosen)), chosen] += 1
        single = [[k == c and m for k, m in enumerate(row)] for c, row in zip(chosen, mask)]
        if grad:
            return Mixture(single, self.weights(index))
        return Mixture(single, F.one_hot(index, self.alpha.shape[-1]).to(self.alpha.dtype))

    def log_state(self) -> dict[str, Any]:
        return {"sampled": None if self.counts is None else self.counts.tolist()}


class Dsnas(SingleLevel):
    name = "dsnas"
    block = "dsnas"

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        alpha = self.alpha(prof, shape, device)
        return DsnasArch(
            alpha, self.adam(prof, [alpha]), arch_grad_clip=self.settings(prof).arch_grad_clip
        )
