"""One training epoch of the supernet: IS-DARTS (single level) or first-order DARTS.

IS-DARTS: SGD on the network weights over the whole training set, every remaining op mixed
with weight 1/K. DARTS (spec section 8): per step one SGD step on the weights with a batch of
the train half, then one Adam step on alpha with a batch of the valid half (first order: the
gradient of the valid loss at the current weights).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.errors import IsdartsError
from isdarts.spaces.nb201 import Mask, Supernet


@dataclass
class EpochStats:
    loss: float
    acc: float
    steps: int


def cosine_lr(epoch: int, epochs: int, lr: float, lr_min: float) -> float:
    """Learning rate of 0-based ``epoch``: cosine from ``lr`` to ``lr_min`` over ``epochs``."""
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs))


def _progress(total: int, desc: str):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    if not sys.stderr.isatty():
        return None
    return tqdm(total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


class NonFiniteLoss(IsdartsError):
    pass


def _check(loss: torch.Tensor, where: str) -> float:
    value = loss.item()
    if not math.isfinite(value):
        raise NonFiniteLoss(f"the training loss became {value} at {where}")
    return value


def train_epoch(
    net: Supernet,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    total: int,
    optimizer: torch.optim.Optimizer,
    *,
    mask: Mask,
    grad_clip: float,
    desc: str,
    alpha: nn.Parameter | None = None,
    arch_optimizer: torch.optim.Optimizer | None = None,
    valid_batches: Iterator[tuple[torch.Tensor, torch.Tensor]] | None = None,
    fast: bool = True,
) -> EpochStats:
    """Train one epoch; DARTS when ``alpha`` is given. Raises ``NonFiniteLoss`` on NaN/inf."""
    net.train()
    params = [p for p in net.parameters() if p.requires_grad]
    loss_sum, correct, seen, steps = 0.0, 0, 0, 0
    bar = _progress(total, desc)
    for x, y in batches:
        weights = None if alpha is None else torch.softmax(alpha, dim=-1).detach()
        logits = net(x, mask, weights, fast=fast)
        loss = F.cross_entropy(logits, y)
        value = _check(loss, f"{desc}, step {steps + 1}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        if alpha is not None:
            xv, yv = next(valid_batches)
            arch_loss = F.cross_entropy(net(xv, mask, torch.softmax(alpha, dim=-1), fast=fast), yv)
            _check(arch_loss, f"{desc}, step {steps + 1} (architecture step)")
            arch_optimizer.zero_grad(set_to_none=True)
            (alpha.grad,) = torch.autograd.grad(arch_loss, [alpha])
            arch_optimizer.step()
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
