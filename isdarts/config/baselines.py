"""Settings of the NAS-Bench-201 baselines besides DARTS: one block of a search profile each
(``gdas:``, ``pcdarts:``, ``drnas:``, ``betadarts:``, ``rsps:``), whose defaults are what the
method's own code or the NAS-Bench-201 authors' configuration used on NAS-Bench-201.

Sources (read for the facts; no code taken):
- GDAS and RSPS: the NAS-Bench-201 authors' AutoDL-Projects, ``configs/nas-benchmark/algos/
  GDAS.config`` and ``RANDOM.config``, ``scripts-search/NAS-Bench-201-algos/GDAS.sh`` and
  ``RANDOM-NAS.sh``.
- PC-DARTS: its paper (Xu et al., ICLR 2020) and its code's ``train_search.py`` (K = 4, edge
  normalisation, arch lr 6e-4, 15 epochs without architecture steps); how the NAS-Bench-201
  rows were run is not published, so the network's SGD is the NAS-Bench-201 convention.
- DrNAS: its code's ``201-space/train_search.py`` (Chen et al., ICLR 2021), the non-progressive
  search (every channel, 100 epochs); its NAS-Bench-201 README names the progressive variant
  (partial channels 4 then 2, 5 then 3 ops per edge), which is not implemented here.
- beta-DARTS: its code's ``nasbench201/train_search.py`` (Ye et al., CVPR 2022).

Every method searches on the standard 25k/25k split file (the NAS-Bench-201 convention; DrNAS'
and beta-DARTS' code split the training set into its first and last halves instead), the
network's learning rate, momentum, gradient clip and batch size are the profile's.
"""

from __future__ import annotations

from dataclasses import dataclass

from isdarts.config.profiles import DartsSettings


@dataclass(frozen=True)
class ArchSettings(DartsSettings):
    """A gradient-based baseline: DARTS' settings (epochs, Adam on the architecture
    parameters, the network's weight decay) and three more."""

    nesterov: bool = True  # the network's SGD: Nesterov momentum
    arch_step_first: bool = False  # each step: the architecture step before the weight step
    warmup_epochs: int = 0  # first epochs without architecture steps


@dataclass(frozen=True)
class GdasSettings(ArchSettings):
    """GDAS (Dong & Yang, CVPR 2019): GDAS.config (240 epochs, weight decay 5e-4, Nesterov),
    GDAS.sh (tau from 10 to 0.1, Adam 3e-4 / 1e-3); the weight step first."""

    epochs: int = 240
    tau_max: float = 10.0  # Gumbel-softmax temperature at the first epoch ...
    tau_min: float = 0.1  # ... falling linearly to this at the last


@dataclass(frozen=True)
class PcDartsSettings(ArchSettings):
    """PC-DARTS (Xu et al., ICLR 2020): K = 4, edge normalisation, 50 epochs, arch Adam lr
    6e-4 / weight decay 1e-3, weight decay 3e-4 without Nesterov, no architecture step in the
    first 15 epochs, the architecture step first."""

    arch_lr: float = 6e-4
    weight_decay: float = 3e-4
    nesterov: bool = False
    arch_step_first: bool = True
    warmup_epochs: int = 15
    partial_channels: int = 4  # K: 1/K of a node's channels go through the ops
    edge_normalisation: bool = True  # a softmax weight per edge over each node's inputs


@dataclass(frozen=True)
class DrNasSettings(ArchSettings):
    """DrNAS (Chen et al., ICLR 2021), 201-space/train_search.py: 100 epochs, weight decay
    3e-4 without Nesterov, arch Adam lr 3e-4, the architecture step first; the regulariser
    ``l2`` (the code's default) is Adam's weight decay ``reg_scale`` on alpha, ``kl`` adds
    ``reg_scale`` times the KL divergence of each edge's Dirichlet from Dir(1, ..., 1)."""

    epochs: int = 100
    weight_decay: float = 3e-4
    nesterov: bool = False
    arch_step_first: bool = True
    arch_weight_decay: float = 0.0  # the code's Adam takes reg_scale instead (l2)
    regulariser: str = "l2"  # l2 | kl
    reg_scale: float = 1e-3


@dataclass(frozen=True)
class BetaDartsSettings(ArchSettings):
    """beta-DARTS (Ye et al., CVPR 2022), nasbench201/train_search.py: first-order DARTS for
    100 epochs, weight decay 3e-4 without Nesterov, the architecture step first, plus the
    beta-decay loss ``lambda * mean_e logsumexp(alpha_e)`` with ``lambda = beta_lambda *
    epoch / epochs`` (0 at the first epoch)."""

    epochs: int = 100
    weight_decay: float = 3e-4
    nesterov: bool = False
    arch_step_first: bool = True
    beta_lambda: float = 50.0


@dataclass(frozen=True)
class RspsSettings:
    """Random search with parameter sharing (Li & Talwalkar, UAI 2019) as the NAS-Bench-201
    authors ran it: RANDOM.config (250 epochs, weight decay 5e-4, Nesterov), RANDOM-NAS.sh (100
    candidates, each scored on one batch of the valid half without augmentation)."""

    epochs: int = 250
    weight_decay: float = 5e-4
    nesterov: bool = True
    candidates: int = 100
    # the candidates' batch: the NATS-Bench authors' weight-sharing.config (test_batch_size
    # 512); the value used with RANDOM.config is not recorded
    select_batch_size: int = 512


# a NAS-Bench-201 profile's block -> its settings class (``darts``: DartsSettings)
BLOCKS: dict[str, type] = {
    "gdas": GdasSettings,
    "pcdarts": PcDartsSettings,
    "drnas": DrNasSettings,
    "betadarts": BetaDartsSettings,
    "rsps": RspsSettings,
}
