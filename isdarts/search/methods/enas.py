"""ENAS (Pham et al., ICML 2018) as the NAS-Bench-201 authors ran it (settings:
:class:`EnasSettings`; sources: AutoDL-Projects ``ENAS.config``, ``ENAS.sh``,
``exps/NAS-Bench-201-algos/ENAS.py`` and xautodl's ``search_model_enas_utils.py``).

A controller, a 2-layer LSTM, writes a cell op by op (one op per edge, each step's input the
embedding of the op just chosen); every searched cell of the supernet computes that one path.
Each epoch:

1. the weights' epoch: every SGD step trains the path of a fresh sample;
2. the controller's training by REINFORCE on the valid half (:meth:`EnasArch.end_epoch`):
   ``controller_steps`` Adam steps, each on the loss summed over ``controller_aggregate``
   samples (and divided by their number), the gradient norm clipped first. A sample's loss is
   ``-log p(cell) * (reward - b)`` with ``reward = acc + entropy_weight * H``: ``acc`` the
   cell's top-1 accuracy (a fraction) on one valid batch, ``H`` the sum of the six edges'
   entropies, ``b`` the baseline.

After the last epoch the best of ``candidates`` sampled cells, each scored by its accuracy on
one valid batch, is the result (:meth:`PathSampler.finish`, as RSPS).

What the released loop does and this one too:

- the baseline ``B`` is carried from epoch to epoch but not updated within one: every sample
  of an epoch uses ``b = B - (1 - baseline_decay) (B - reward)``, and ``B`` becomes the last
  sample's ``b`` at the epoch's end; in the first epoch (no ``B`` yet) ``b = acc``, so the
  advantage is the entropy term alone;
- ``reward - b`` is not detached: the entropy's gradient flows through it as well as through
  ``log p``;
- the supernet is in eval mode for the controller's samples and the candidates (the stem's,
  the reduction blocks' and the classifier's batch norm on running statistics; the cells' on
  batch statistics either way); the valid batches are augmented, as large as the weights'.
  The controller has no dropout, so its train/eval mode changes nothing.

Not reproduced: the released loop also scores 10 sampled cells and the best one's accuracy on
the whole valid half after every epoch, for its log only (no effect on the search).

The log: ``alphas`` holds the controller's exact per-edge marginal op probabilities (the earlier
edges' ops summed out by enumerating every prefix, no sampling), and each row's cell is their
argmax; the last row's cell is the chosen candidate (one-hot ``alphas``, as RSPS).
``arch_state``: the weight steps' draws per edge and op, the controller's epoch (mean reward,
accuracy in %, entropy of the sampled cells, gradient norm before the clip, the baseline
after it) and the marginals; the candidates' scores in the last row.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn
from torch.distributions import Categorical

from isdarts.config.baselines import EnasSettings
from isdarts.run.engine import cosine_lr
from isdarts.search.methods.base import Darts, Loaders
from isdarts.search.methods.rsps import PathSampler
from isdarts.search.step import Arch, Batches


class Controller(nn.Module):
    """ENAS' controller for ``edges`` edges of ``ops`` candidate ops each: an LSTM whose output
    at step ``e`` gives edge ``e``'s op logits ``tanh_constant * tanh(head(h) / temperature)``;
    its first input is a learned vector, each later one the embedding of the op just drawn."""

    def __init__(
        self,
        edges: int,
        ops: int,
        lstm_size: int = 32,
        lstm_layers: int = 2,
        tanh_constant: float = 2.5,
        temperature: float = 5.0,
    ) -> None:
        super().__init__()
        self.edges, self.ops = edges, ops
        self.tanh_constant, self.temperature = tanh_constant, temperature
        self.start = nn.Parameter(torch.empty(1, 1, lstm_size))
        self.lstm = nn.LSTM(lstm_size, lstm_size, lstm_layers)
        self.embedding = nn.Embedding(ops, lstm_size)
        self.head = nn.Linear(lstm_size, ops)
        # the released initialisation: U(-0.1, 0.1) for these (in this order, after PyTorch's
        # defaults), the second LSTM layer and the biases keep PyTorch's defaults
        for w in (
            self.start,
            self.lstm.weight_hh_l0,
            self.lstm.weight_ih_l0,
            self.embedding.weight,
            self.head.weight,
        ):
            nn.init.uniform_(w, -0.1, 0.1)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.tanh_constant * torch.tanh(self.head(h) / self.temperature)

    def sample(self) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        """One cell drawn edge by edge (torch's generator): its ops, the sum of their
        log-probabilities and the sum of the edges' entropies (both with their graph)."""
        x, state = self.start, None
        ops: list[int] = []
        log_prob = entropy = torch.zeros((), dtype=self.start.dtype)
        for _ in range(self.edges):
            out, state = self.lstm(x, state)
            dist = Categorical(logits=self.logits(out[0, 0]))
            op = dist.sample()
            ops.append(int(op))
            log_prob = log_prob + dist.log_prob(op)
            entropy = entropy + dist.entropy()
            x = self.embedding(op).view(1, 1, -1)
        return ops, log_prob, entropy

    @torch.no_grad()
    def marginals(self) -> torch.Tensor:
        """[edges, ops]: each edge's op probabilities with the earlier edges' ops summed out,
        exactly (every prefix enumerated: ``ops ** (edges - 1)`` at the last edge)."""
        x, state = self.start, None
        prefix = torch.ones(1, dtype=self.start.dtype)  # the probability of each prefix
        rows = []
        for e in range(self.edges):
            out, state = self.lstm(x, state)
            joint = prefix[:, None] * torch.softmax(self.logits(out[0]), -1)  # [prefixes, ops]
            rows.append(joint.sum(0))
            if e + 1 < self.edges:  # prefix p followed by op k becomes prefix p * ops + k
                prefix = joint.reshape(-1)
                state = tuple(s.repeat_interleave(self.ops, dim=1) for s in state)
                x = self.embedding(torch.arange(self.ops).repeat(len(joint)))[None]
        return torch.stack(rows)


def reinforce_loss(
    log_prob: torch.Tensor,
    entropy: torch.Tensor,
    acc: float,
    baseline: float | None,
    entropy_weight: float,
    decay: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One sample's REINFORCE loss and its baseline ``b`` as the released loop forms them (the
    module docstring): ``baseline`` is the one carried from the previous epoch (None: none)."""
    reward = acc + entropy_weight * entropy
    if baseline is None:
        b = torch.full_like(reward, acc).detach()
    else:
        b = baseline - (1 - decay) * (baseline - reward)
    return -log_prob * (reward - b), b


class EnasArch(PathSampler):
    """The controller (on the CPU: it is small and its draws are read back op by op), its Adam,
    the baseline; single paths drawn from it for the weight steps and the candidates."""

    graphable = False  # draws each op on the host

    def __init__(self, shape: tuple[int, ...], settings: EnasSettings, device) -> None:
        super().__init__(shape, settings.candidates, device)
        s = self.settings = settings
        self.controller = Controller(
            shape[0], shape[1], s.lstm_size, s.lstm_layers, s.tanh_constant, s.temperature
        )
        self.optimizer = torch.optim.Adam(
            self.controller.parameters(), lr=s.arch_lr, betas=s.arch_betas, eps=s.arch_eps
        )
        self.baseline: float | None = None
        self.epoch_stats: dict[str, float] = {}  # the last controller epoch's means, for the log

    def draw(self) -> torch.Tensor:
        with torch.no_grad():
            ops, _, _ = self.controller.sample()
        return torch.tensor(ops)

    def end_epoch(self, net: nn.Module, mask, valid: Batches | None) -> None:
        """The controller's training on ``valid`` (module docstring)."""
        s = self.settings
        assert valid is not None, "ENAS trains its controller on the valid half"
        sums = {"reward": 0.0, "valid_acc": 0.0, "entropy": 0.0}
        norms = 0.0
        samples = s.controller_steps * s.controller_aggregate
        b = None
        net.eval()
        try:
            self.optimizer.zero_grad(set_to_none=True)
            for i in range(samples):
                x, y = next(valid)
                ops, log_prob, entropy = self.controller.sample()
                with torch.no_grad():
                    logits = self.path(torch.tensor(ops), mask).forward(net, x)
                acc = int((logits.argmax(1) == y).sum()) / len(y)
                loss, b = reinforce_loss(
                    log_prob, entropy, acc, self.baseline, s.entropy_weight, s.baseline_decay
                )
                (loss / s.controller_aggregate).backward()
                if (i + 1) % s.controller_aggregate == 0:
                    params = list(self.controller.parameters())
                    norm = nn.utils.clip_grad_norm_(params, s.controller_grad_clip)
                    self.optimizer.step()
                    self.optimizer.zero_grad(set_to_none=True)
                    norms += float(norm)
                h = float(entropy.detach())
                sums["reward"] += acc + s.entropy_weight * h
                sums["valid_acc"] += 100.0 * acc
                sums["entropy"] += h
        finally:
            net.train()
        if b is not None:
            self.baseline = float(b.detach())
        if samples:
            self.epoch_stats = {k: v / samples for k, v in sums.items()}
            self.epoch_stats["grad_norm"] = norms / s.controller_steps

    def cell_logits(self) -> torch.Tensor | None:
        """The chosen candidate once there is one, else the log of the controller's marginals."""
        if self.chosen is not None:
            return super().cell_logits()
        return self.controller.marginals().log()

    def log_state(self) -> dict[str, Any]:
        state = super().log_state()
        state.update(
            {k: float(v) for k, v in self.epoch_stats.items()},
            baseline=self.baseline,
            marginals=self.controller.marginals().tolist(),
        )
        return state

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "controller": dict(self.controller.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "baseline": self.baseline,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.controller.load_state_dict(state["controller"])
        # a checkpoint is loaded onto the run's device; the controller and its Adam stay on
        # the CPU (Adam would keep a step count loaded onto CUDA there)
        self.optimizer.load_state_dict(_on_cpu(state["optimizer"]))
        self.baseline = state["baseline"]


def _on_cpu(value: Any) -> Any:
    """``value`` with every tensor in it (in dicts and lists) moved to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: _on_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_on_cpu(v) for v in value]
    return value


class Enas(Darts):
    name = "enas"
    block = "enas"

    def loaders(self, prof, ds, data_root, seed: int, device) -> Loaders:
        """The two halves in batches of ENAS.config's size; the valid half's augmented."""
        s: EnasSettings = self.settings(prof)
        return super().loaders(
            dataclasses.replace(prof, batch_size=s.batch_size), ds, data_root, seed, device
        )

    def learning_rate(self, prof, epoch: int, epochs: int) -> float:
        """ENAS.config's cosine: from ``lr`` to ``lr_min`` in ``lr_period`` epochs, then back."""
        s: EnasSettings = self.settings(prof)
        return cosine_lr(epoch, s.lr_period, s.lr, s.lr_min)

    def arch(self, prof, shape: tuple[int, ...], device) -> Arch:
        return EnasArch(shape, self.settings(prof), device)
