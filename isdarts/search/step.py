"""One training epoch of the supernet: the weights' SGD steps and, for methods with
architecture parameters, their steps.

IS-DARTS: SGD on the network weights over the whole training set, every remaining op mixed
with weight 1/K. DARTS (spec section 8): per step one SGD step on the weights with a batch of
the train half, then one Adam step on alpha with a batch of the valid half (first order: the
gradient of the valid loss at the current weights); the original DARTS search takes the
architecture step first (``ArchState.first``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.run.engine import check_finite

Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class EpochStats:
    loss: float
    acc: float
    steps: int


@dataclass
class ArchState:
    """Architecture weights ``alpha`` (softmax over each edge's ops) and their optimiser."""

    alpha: nn.Parameter
    optimizer: torch.optim.Optimizer
    # The original DARTS steps alpha before the weights (on the same step's batches); the
    # NAS-Bench-201 authors' variant after them.
    first: bool = False

    def weights(self) -> torch.Tensor:
        """The op weights of a weight step (no gradient to alpha)."""
        return torch.softmax(self.alpha, dim=-1).detach()

    def step(
        self,
        net: nn.Module,
        mask,
        valid: tuple[torch.Tensor, torch.Tensor],
        train: tuple[torch.Tensor, torch.Tensor],
        weights_optimizer: torch.optim.Optimizer,
        where: str,
    ) -> None:
        """One Adam step on alpha with :meth:`gradient` (``train`` and the weights' optimiser
        serve the second-order gradient only)."""
        grad = self.gradient(net, mask, valid, train, weights_optimizer, where)
        self.optimizer.zero_grad(set_to_none=True)
        self.alpha.grad = grad
        self.optimizer.step()

    def gradient(self, net, mask, valid, train, weights_optimizer, where: str) -> torch.Tensor:
        """First order: the valid loss' gradient at the current weights."""
        arch_loss = F.cross_entropy(
            net(valid[0], mask, torch.softmax(self.alpha, dim=-1)), valid[1]
        )
        check_finite(arch_loss, f"{where} (architecture step)")
        return torch.autograd.grad(arch_loss, [self.alpha])[0]


@dataclass
class UnrolledArchState(ArchState):
    """Second-order DARTS (Liu et al., ICLR 2019, eq. 7-8): the valid loss' gradient after one
    virtual SGD step of the weights on the train batch, ``w' = w - xi (m + g + wd w)`` with the
    weights' own learning rate ``xi``, momentum term ``m`` and weight decay ``wd``, minus
    ``xi`` times the Hessian-vector product, taken by central finite differences at
    ``w +- r v`` (``v`` the valid loss' gradient at ``w'``, ``r = 0.01 / |v|``). The weights and
    the batch-norm buffers are restored afterwards."""

    epsilon: float = 0.01

    def gradient(self, net, mask, valid, train, weights_optimizer, where: str) -> torch.Tensor:
        params = [p for p in net.parameters() if p.requires_grad]
        group = weights_optimizer.param_groups[0]
        xi, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
        saved = [p.detach().clone() for p in params]
        buffers = [b.detach().clone() for b in net.buffers()]

        def train_loss() -> torch.Tensor:
            return F.cross_entropy(net(train[0], mask, torch.softmax(self.alpha, dim=-1)), train[1])

        try:
            g = torch.autograd.grad(train_loss(), params)
            with torch.no_grad():
                for p, w, gi in zip(params, saved, g, strict=True):
                    buf = weights_optimizer.state.get(p, {}).get("momentum_buffer")
                    step = gi + decay * w + (momentum * buf if buf is not None else 0.0)
                    p.copy_(w - xi * step)
            valid_loss = F.cross_entropy(
                net(valid[0], mask, torch.softmax(self.alpha, dim=-1)), valid[1]
            )
            check_finite(valid_loss, f"{where} (architecture step)")
            d_alpha, *v = torch.autograd.grad(valid_loss, [self.alpha, *params])
            r = self.epsilon / torch.cat([x.reshape(-1) for x in v]).norm()
            hessian = []
            for sign in (1.0, -1.0):
                with torch.no_grad():
                    for p, w, vi in zip(params, saved, v, strict=True):
                        p.copy_(w + sign * r * vi)
                hessian.append(torch.autograd.grad(train_loss(), [self.alpha])[0])
            return d_alpha - xi * (hessian[0] - hessian[1]) / (2 * r)
        finally:
            with torch.no_grad():
                for p, w in zip(params, saved, strict=True):
                    p.copy_(w)
                for b, kept in zip(net.buffers(), buffers, strict=True):
                    b.copy_(kept)


def _progress(total: int, desc: str):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    if not sys.stderr.isatty():
        return None
    return tqdm(total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


def train_epoch(
    net: nn.Module,
    batches: Batches,
    total: int,
    optimizer: torch.optim.Optimizer,
    *,
    mask,
    grad_clip: float,
    desc: str,
    arch: ArchState | None = None,
    valid_batches: Batches | None = None,
) -> EpochStats:
    """Train one epoch; with ``arch`` an architecture step follows (or, ``arch.first``,
    precedes) every weight step.
    Raises ``NonFiniteLoss`` on NaN/inf."""
    net.train()
    params = [p for p in net.parameters() if p.requires_grad]
    loss_sum, correct, seen, steps = 0.0, 0, 0, 0
    bar = _progress(total, desc)
    for x, y in batches:
        where = f"{desc}, step {steps + 1}"
        if arch is not None and arch.first:
            arch.step(net, mask, next(valid_batches), (x, y), optimizer, where)
        logits = net(x, mask, None if arch is None else arch.weights())
        loss = F.cross_entropy(logits, y)
        value = check_finite(loss, where)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        if arch is not None and not arch.first:
            arch.step(net, mask, next(valid_batches), (x, y), optimizer, where)
        n = len(y)
        loss_sum += value * n
        correct += int((logits.argmax(1) == y).sum())
        seen += n
        steps += 1
        if bar is not None:
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{100 * correct / seen:.1f}")
            bar.update(1)
    if bar is not None:
        bar.close()
    return EpochStats(loss_sum / max(seen, 1), 100.0 * correct / max(seen, 1), steps)
