"""One training epoch of the supernet: the weights' SGD steps and, for methods with
architecture parameters, their steps.

IS-DARTS: SGD on the network weights over the whole training set, every remaining op mixed
with weight 1/K. A method with architecture parameters (an :class:`Arch`) says how a forward
mixes or samples the ops (:meth:`Arch.mixture`) and, per weight step, takes one step of its
own (DARTS: one Adam step on alpha with a batch of the valid half, after the weight step or,
``Arch.first``, before it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from isdarts.run.engine import check_finite

Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]
Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class EpochStats:
    loss: float
    acc: float
    steps: int


@dataclass(frozen=True)
class Mixture:
    """What one supernet forward computes: the ops of ``mask``, weighted by ``weights``
    ([edges, ops]; None: IS-DARTS' uniform ``mask / K``), and further keyword options of the
    supernet's forward (e.g. ``edge_weights``)."""

    mask: Any
    weights: torch.Tensor | None
    options: dict[str, torch.Tensor] = field(default_factory=dict)

    def forward(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return net(x, self.mask, self.weights, **self.options)


class Arch:
    """The architecture state of a method with one (None: IS-DARTS): how a forward weights
    or samples the ops, its per-step update, what the log shows, the cell it reads out.
    Subclasses: :class:`ArchState` (DARTS) and the baselines' states in
    :mod:`isdarts.search.methods`."""

    first: bool = False  # the architecture step before the weight step (else after it)
    steps: bool = True  # whether it takes a step per weight step (uses valid batches)
    # Whether the step may be captured as a CUDA graph (:mod:`isdarts.search.graphed`): it
    # draws nothing at random, reads nothing back to the host and builds no index tensor
    # from Python lists.
    graphable: bool = False
    # Whether the weight step's gradient-norm clip covers the architecture parameters too (the
    # NAS-Bench-201 authors' loops clip all the network's parameters): the weight step's forward
    # then carries alpha's gradient, added to what alpha's last step left in ``.grad``.
    clip_alpha: bool = False
    # Single-level (SNAS, DSNAS): the architecture parameters learn from the weight step's own
    # forward and loss. That forward then carries their gradient (left in ``.grad`` by its
    # backward, outside the weights' clip unless ``clip_alpha``), and :meth:`step`, after the
    # weight step, gets no valid batch (None; the method has no valid loader).
    single_level: bool = False
    # Whether every weight takes its SGD step (weight decay, momentum) in every weight step,
    # with a zero gradient where the forward did not reach it (an op off the sampled path): the
    # released NAS-Bench-201 loops under PyTorch < 2.0, whose zero_grad kept zero tensors
    # (SETN). Otherwise such weights are skipped (no gradient, no step).
    dense_sgd: bool = False

    def parameters(self) -> list[torch.Tensor]:
        """The architecture parameters (none: a path sampler)."""
        return []

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        """Before epoch ``epoch`` (0-based) of ``epochs``: schedules (temperature, weights)."""

    def mixture(self, mask, grad: bool) -> Mixture:
        """The ops one forward computes and their weights (``grad``: with the gradient to the
        architecture parameters, for an architecture step; else detached, for a weight step)."""
        raise NotImplementedError

    def step(self, net, mask, valid: Batch, train: Batch, weights_optimizer, where: str) -> None:
        """One architecture step."""

    def end_epoch(self, net: nn.Module, mask, valid: Batches | None) -> None:
        """After every epoch's weight steps, on the epoch's valid batches (ENAS: the
        controller's training)."""

    def finish(self, net: nn.Module, mask, valid: Batches) -> None:
        """After the last epoch's training and :meth:`end_epoch`, on the epoch's valid batches
        where :meth:`end_epoch` left them (e.g. pick the final cell)."""

    def cell_logits(self) -> torch.Tensor | None:
        """[edges, ops] scores whose softmax is the op distribution logged as ``alphas`` and
        whose argmax per edge is the current cell (None: no cell yet)."""
        return None

    def log_state(self) -> dict[str, Any] | None:
        """The method's own per-epoch state for the log's ``arch_state`` (None: nothing)."""
        return None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


@dataclass
class ArchState(Arch):
    """Architecture weights ``alpha`` (softmax over each edge's ops) and their optimiser;
    subclasses add parameters (:meth:`parameters`), a regulariser or another mixture."""

    alpha: nn.Parameter
    optimizer: torch.optim.Optimizer
    graphable = True  # a class attribute: DARTS' softmax mixture and first-order step
    # The original DARTS steps alpha before the weights (on the same step's batches); the
    # NAS-Bench-201 authors' variant after them.
    first: bool = False
    warmup_epochs: int = 0  # first epochs without architecture steps (PC-DARTS: 15)
    clip_alpha: bool = False  # see Arch.clip_alpha

    def begin_epoch(self, epoch: int, epochs: int) -> None:
        self.steps = epoch >= self.warmup_epochs

    def parameters(self) -> list[torch.Tensor]:
        return [self.alpha]

    def mixture(self, mask, grad: bool) -> Mixture:
        w = torch.softmax(self.alpha, dim=-1)
        return Mixture(mask, w if grad else w.detach())

    def regulariser(self) -> torch.Tensor | float:
        """Added to the architecture step's valid loss (DARTS: none)."""
        return 0.0

    def loss(self, net: nn.Module, mask, valid: Batch, where: str) -> torch.Tensor:
        """The architecture step's loss: the valid loss under the mixture, plus the regulariser."""
        loss = F.cross_entropy(self.mixture(mask, grad=True).forward(net, valid[0]), valid[1])
        check_finite(loss, f"{where} (architecture step)")
        return loss + self.regulariser()

    def step(self, net, mask, valid: Batch, train: Batch, weights_optimizer, where: str) -> None:
        """One step of the optimiser with :meth:`gradient` (``train`` and the weights'
        optimiser serve the second-order gradient only)."""
        grads = self.gradient(net, mask, valid, train, weights_optimizer, where)
        self.optimizer.zero_grad(set_to_none=True)
        for p, g in zip(self.parameters(), grads, strict=True):
            p.grad = g
        self.optimizer.step()

    def gradient(self, net, mask, valid, train, weights_optimizer, where: str) -> list:
        """First order: the gradient of :meth:`loss` at the current weights, one tensor per
        parameter; zero where the loss does not depend on it."""
        params = self.parameters()
        grads = torch.autograd.grad(self.loss(net, mask, valid, where), params, allow_unused=True)
        return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]

    def cell_logits(self) -> torch.Tensor | None:
        return self.alpha.detach()

    def state_dict(self) -> dict[str, Any]:
        state = {
            "params": [p.detach().clone() for p in self.parameters()],
            "optimizer": self.optimizer.state_dict(),
        }
        if self.clip_alpha:  # the next weight step's clip reads the last step's gradient
            state["grads"] = [None if p.grad is None else p.grad.clone() for p in self.parameters()]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for p, saved in zip(self.parameters(), state["params"], strict=True):
            p.data.copy_(saved)
        for p, grad in zip(self.parameters(), state.get("grads", []), strict=False):
            p.grad = None if grad is None else grad.clone()
        self.optimizer.load_state_dict(state["optimizer"])


@dataclass
class UnrolledArchState(ArchState):
    """Second-order DARTS (Liu et al., ICLR 2019, eq. 7-8): the valid loss' gradient after one
    virtual SGD step of the weights on the train batch, ``w' = w - xi (m + g + wd w)`` with the
    weights' own learning rate ``xi``, momentum term ``m`` and weight decay ``wd``, minus
    ``xi`` times the Hessian-vector product, taken by central finite differences at
    ``w +- r v`` (``v`` the valid loss' gradient at ``w'``, ``r = 0.01 / |v|``). The weights and
    the batch-norm buffers are restored afterwards."""

    epsilon: float = 0.01
    graphable = False  # saves and restores the weights around its virtual step

    def gradient(self, net, mask, valid, train, weights_optimizer, where: str) -> list:
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
            return [d_alpha - xi * (hessian[0] - hessian[1]) / (2 * r)]
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


def _next(batches: Batches | None) -> Batch | None:
    """The next valid batch (None: a single-level method has none)."""
    return None if batches is None else next(batches)


def train_epoch(
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
) -> EpochStats:
    """Train one epoch; with ``arch`` its step follows (or, ``arch.first``, precedes) every
    weight step, and its mixture weights (or samples) the ops of the weight step's forward.
    ``grad_clip``: the weight step's gradient-norm clip (None: none). Raises
    ``NonFiniteLoss`` on NaN/inf."""
    net.train()
    params = [p for p in net.parameters() if p.requires_grad]
    clip_alpha = arch is not None and arch.clip_alpha
    if clip_alpha:
        params = params + arch.parameters()
    arch_steps = arch is not None and arch.steps
    dense = arch is not None and arch.dense_sgd
    if dense:  # zero gradients, kept by zero_grad below, so that no weight skips a step
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
    loss_sum, correct, seen, steps = 0.0, 0, 0, 0
    bar = _progress(total, desc)
    for x, y in batches:
        where = f"{desc}, step {steps + 1}"
        if arch_steps and arch.first:
            arch.step(net, mask, _next(valid_batches), (x, y), optimizer, where)
        if arch is None:
            logits = net(x, mask, None)
        else:
            logits = arch.mixture(mask, grad=clip_alpha or arch.single_level).forward(net, x)
        loss = F.cross_entropy(logits, y)
        value = check_finite(loss, where)
        optimizer.zero_grad(set_to_none=not dense)
        loss.backward()
        if grad_clip is not None:  # None: no clip (SETN as released)
            nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        if arch_steps and not arch.first:
            arch.step(net, mask, _next(valid_batches), (x, y), optimizer, where)
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
