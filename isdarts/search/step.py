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

    def step(self, net: nn.Module, mask, x: torch.Tensor, y: torch.Tensor, where: str) -> None:
        """First-order architecture step: the valid loss' gradient at the current weights."""
        arch_loss = F.cross_entropy(net(x, mask, torch.softmax(self.alpha, dim=-1)), y)
        check_finite(arch_loss, f"{where} (architecture step)")
        self.optimizer.zero_grad(set_to_none=True)
        (self.alpha.grad,) = torch.autograd.grad(arch_loss, [self.alpha])
        self.optimizer.step()


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
        if arch is not None and arch.first:
            arch.step(net, mask, *next(valid_batches), f"{desc}, step {steps + 1}")
        logits = net(x, mask, None if arch is None else arch.weights())
        loss = F.cross_entropy(logits, y)
        value = check_finite(loss, f"{desc}, step {steps + 1}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        if arch is not None and not arch.first:
            arch.step(net, mask, *next(valid_batches), f"{desc}, step {steps + 1}")
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
