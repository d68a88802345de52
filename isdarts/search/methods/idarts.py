"""iDARTS (Zhang et al., ICML 2021): DARTS' bilevel search on the two halves of the split file
whose architecture gradient is the implicit function theorem's hypergradient at the current
weights ``w`` (settings: :class:`IdartsSettings`):

    dL_valid/dalpha - d2L_train/(dalpha dw) H^-1 dL_valid/dw,     H = d2L_train/dw2,

with ``H^-1`` approximated by the Neumann series ``eta sum_{k=0..K} (I - eta H)^k`` (``eta``:
the weights' current learning rate; the series converges when every eigenvalue of ``eta H``
lies in (0, 2)).
As the authors' code computes it: ``u = sum_k (I - eta H)^k v`` with ``v = dL_valid/dw`` by K
Hessian-vector products of the training loss (double backward), then the mixed second
derivative applied to ``u`` by central differences of ``dL_train/dalpha`` at ``w +- r u``,
``r = epsilon / |v|``, all on one training batch (here the last weight step's; the released
code draws a fresh one). The weights and batch-norm buffers are restored afterwards (the
released code leaves ``w + r (v - u)``, on purpose, as noise; not here). One architecture step
follows every ``inner_steps`` (T) weight steps, on a batch of the valid half. The cell is
alpha's argmax.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.config.baselines import IdartsSettings
from isdarts.run.engine import check_finite
from isdarts.search.methods.base import Darts
from isdarts.search.step import Arch, ArchState, Batch

Loss = Callable[[], torch.Tensor]


def _grad(loss: torch.Tensor, inputs: Sequence[torch.Tensor], **kw) -> list[torch.Tensor]:
    """``torch.autograd.grad`` with zeros where ``loss`` does not depend on an input."""
    grads = torch.autograd.grad(loss, inputs, allow_unused=True, **kw)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads, strict=True)]


def neumann_vector(
    train_loss: Loss, weights: Sequence[torch.Tensor], v: Sequence[torch.Tensor], eta: float, K: int
) -> list[torch.Tensor]:
    """``u = sum_{k=0..K} (I - eta H)^k v``, ``H`` the Hessian of ``train_loss`` in ``weights``
    (K Hessian-vector products by double backward through one forward)."""
    u = [x.detach().clone() for x in v]
    if K == 0:
        return u
    g = _grad(train_loss(), weights, create_graph=True)
    term = u
    for k in range(K):
        dot = sum((gi * ti).sum() for gi, ti in zip(g, term, strict=True))
        if not dot.requires_grad:  # the gradient does not depend on the weights: H = 0
            return [a + (K - k) * t for a, t in zip(u, term, strict=True)]
        hv = _grad(dot, weights, retain_graph=k + 1 < K)
        term = [t - eta * h for t, h in zip(term, hv, strict=True)]
        u = [a + t for a, t in zip(u, term, strict=True)]
    return u


def implicit_hypergradient(
    train_loss: Loss,
    valid_loss: Loss,
    weights: Sequence[torch.Tensor],
    arch: Sequence[torch.Tensor],
    eta: float,
    K: int,
    epsilon: float,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(``dL_valid/dalpha``, ``eta d2L_train/(dalpha dw) u``): the hypergradient is the first
    minus the second (module docstring). ``weights`` are moved in place for the central
    difference and put back exactly; the losses are closures over them."""
    grads = _grad(valid_loss(), [*arch, *weights])
    direct, v = grads[: len(arch)], grads[len(arch) :]
    norm = torch.cat([x.reshape(-1) for x in v]).norm()
    if float(norm) == 0.0:  # no weight moves the valid loss: no implicit term
        return direct, [torch.zeros_like(a) for a in arch]
    u = neumann_vector(train_loss, weights, v, eta, K)
    r = epsilon / norm
    saved = [w.detach().clone() for w in weights]
    ends = []
    try:
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for w, w0, ui in zip(weights, saved, u, strict=True):
                    w.copy_(w0 + sign * r * ui)
            ends.append(_grad(train_loss(), arch))
    finally:
        with torch.no_grad():
            for w, w0 in zip(weights, saved, strict=True):
                w.copy_(w0)
    implicit = [eta * (p - n) / (2 * r) for p, n in zip(*ends, strict=True)]
    return direct, implicit


@dataclass
class ImplicitArchState(ArchState):
    """DARTS' alpha and Adam with iDARTS' hypergradient, one step per ``inner_steps`` weight
    steps (:meth:`step` counts them; the count is checkpointed)."""

    graphable = False  # saves and restores the weights around its central difference
    inner_steps: int = 4  # T
    neumann_terms: int = 2  # K
    epsilon: float = 0.01
    weight_steps: int = 0  # weight steps so far (the architecture step follows every T-th)
    norms: tuple[float, float, int] = (0.0, 0.0, 0)  # this epoch: sum |direct|, |implicit|, steps

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        super().begin_epoch(epoch, epochs)
        self.norms = (0.0, 0.0, 0)

    def step(self, net, mask, valid: Batch, train: Batch, weights_optimizer, where: str) -> None:
        self.weight_steps += 1
        if self.weight_steps % self.inner_steps == 0:
            super().step(net, mask, valid, train, weights_optimizer, where)

    def gradient(self, net, mask, valid, train, weights_optimizer, where: str) -> list:
        weights = [p for p in net.parameters() if p.requires_grad]
        eta = weights_optimizer.param_groups[0]["lr"]
        buffers = [b.detach().clone() for b in net.buffers()]

        def loss_on(batch: Batch, check: bool = False) -> Loss:
            def loss() -> torch.Tensor:
                logits = net(batch[0], mask, torch.softmax(self.alpha, dim=-1))
                value = F.cross_entropy(logits, batch[1])
                if check:
                    check_finite(value, f"{where} (architecture step)")
                return value

            return loss

        try:
            direct, implicit = implicit_hypergradient(
                loss_on(train),
                loss_on(valid, check=True),
                weights,
                [self.alpha],
                eta,
                self.neumann_terms,
                self.epsilon,
            )
        finally:
            with torch.no_grad():
                for b, kept in zip(net.buffers(), buffers, strict=True):
                    b.copy_(kept)
        d, i, n = self.norms
        self.norms = (d + float(direct[0].norm()), i + float(implicit[0].norm()), n + 1)
        return [direct[0] - implicit[0]]

    def log_state(self) -> dict[str, Any]:
        """This epoch's architecture steps and the mean norms of the hypergradient's direct
        (``dL_valid/dalpha``) and implicit terms."""
        d, i, n = self.norms
        return {
            "arch_steps": n,
            "direct_norm": d / n if n else None,
            "implicit_norm": i / n if n else None,
        }

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "weight_steps": self.weight_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.weight_steps = int(state["weight_steps"])


class Idarts(Darts):
    name = "idarts"
    block = "idarts"

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        s: IdartsSettings = self.settings(prof)
        alpha = nn.Parameter(1e-3 * torch.randn(*shape, device=device))
        return ImplicitArchState(
            alpha,
            self.adam(prof, [alpha]),
            **self.arch_options(prof),
            inner_steps=s.inner_steps,
            neumann_terms=s.neumann_terms,
            epsilon=s.epsilon,
        )
