"""One supernet training epoch as a CUDA graph (:mod:`isdarts.cuda_graph`).

The same epoch as :func:`isdarts.search.step.train_epoch`, written so that a whole step can be
captured: IS-DARTS' weight step, or DARTS' weight step with its architecture step before or
after it, as one graph. The loss and the accuracy are summed on the device and read once per
epoch; the finite-loss checks are kept on the device (:class:`isdarts.run.engine.DeferredChecks`)
and raised at the end of the epoch, naming the first bad step, before the engine saves anything
(so the last good checkpoint is kept, as in the eager loop). The step's Python values (the
epoch's learning rate, the op mask, a method's per-epoch schedule) are frozen at the capture,
so the graph is captured again every epoch, after one eager warm-up step.

With ``graphs`` False (or on the CPU) the same step runs eagerly: the tests compare it with
:func:`~isdarts.search.step.train_epoch` on the CPU, and the graphed one with it on CUDA.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.cuda_graph import GraphedStep
from isdarts.run import engine
from isdarts.search.step import Arch, Batches, EpochStats


def graphable(arch: Arch | None) -> bool:
    """Whether a method's step can be captured: no architecture state (IS-DARTS) or one whose
    step draws nothing at random and reads nothing back (:attr:`Arch.graphable`)."""
    return arch is None or (arch.graphable and not arch.clip_alpha)


def train_epoch_graphed(
    net: nn.Module,
    batches: Batches,
    total: int,
    optimizer: torch.optim.Optimizer,
    *,
    mask,
    grad_clip: float | None,
    desc: str,
    arch: Arch | None = None,
    valid_batches: Batches | None = None,
    graphs: bool = True,
) -> EpochStats:
    """:func:`isdarts.search.step.train_epoch` with every step captured as one CUDA graph
    (``graphs``) or run eagerly with the device-side sums and checks."""
    if not graphable(arch):
        raise ValueError(f"{type(arch).__name__}: its step cannot be captured as a CUDA graph")
    net.train()
    device = next(net.parameters()).device
    params = [p for p in net.parameters() if p.requires_grad]
    arch_steps = arch is not None and arch.steps
    checks = engine.DeferredChecks(device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)

    def step(x: torch.Tensor, y: torch.Tensor, *valid: torch.Tensor) -> None:
        checks.next_step()
        if arch_steps and arch.first:
            arch.step(net, mask, tuple(valid), (x, y), optimizer, desc)
        if arch is None:
            logits = net(x, mask, None)
        else:
            logits = arch.mixture(mask, grad=False).forward(net, x)
        loss = F.cross_entropy(logits, y)
        engine.check_finite(loss, desc)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        if arch_steps and not arch.first:
            arch.step(net, mask, tuple(valid), (x, y), optimizer, desc)
        loss_sum.add_(loss.detach().double() * y.shape[0])
        correct.add_((logits.argmax(1) == y).sum())

    graphed = GraphedStep(step, enabled=graphs and device.type == "cuda", name="training step")
    seen, steps = 0, 0
    with engine.deferred_checks(checks):
        for x, y in batches:
            valid = next(valid_batches) if arch_steps else ()
            graphed(x, y, *valid)
            seen += len(y)
            steps += 1
    checks.raise_if_bad(desc)
    acc = 100.0 * int(correct) / max(seen, 1)
    return EpochStats(float(loss_sum) / max(seen, 1), acc, steps)
