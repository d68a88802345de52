"""Settings of the NAS-Bench-201 baselines besides DARTS: one block of a search profile each
(``gdas:``, ``pcdarts:``, ``drnas:``, ``betadarts:``, ``rsps:``, ``enas:``, ``setn:``,
``snas:``, ``dsnas:``, ``idarts:``), whose
defaults are what the method's own code or the NAS-Bench-201 authors' configuration used on
NAS-Bench-201.

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
- SETN: AutoDL-Projects' ``SETN.config``, ``SETN.sh`` and ``exps/NAS-Bench-201-algos/SETN.py``.
- ENAS: AutoDL-Projects ``ENAS.config``, ``ENAS.sh`` and ``exps/NAS-Bench-201-algos/ENAS.py``
  with xautodl's ``search_model_enas_utils.py`` (the controller).
- SNAS and DSNAS: their authors' SNAS-Series code (``SNAS/train_search.py``, ``model_search.py``,
  ``utils.py``; ``DSNAS/network.py``); neither published a NAS-Bench-201 setting, so these are
  their CIFAR-10 search's, single-level on the whole training set as that search is.
- iDARTS: its authors' NAS-Bench-201 search (``NAS_Bench201_codes``) and its paper.

Every bilevel method searches on the standard 25k/25k split file (the NAS-Bench-201 convention;
DrNAS' and beta-DARTS' code split the training set into its first and last halves instead;
SNAS and DSNAS are single-level, on the whole training set), the
network's learning rate, momentum, gradient clip and batch size are the profile's (ENAS: its
own learning rate schedule and batch size, ENAS.config's).
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
    """GDAS (Dong & Yang, CVPR 2019) as the NAS-Bench-201 authors released it: GDAS.config
    (250 epochs since its November 2019 revision, 240 before; weight decay 5e-4, Nesterov),
    GDAS.sh (tau from 10 to 0.1, Adam 3e-4 / 1e-3), GDAS.py (the weight step first, the
    gradient clip over all parameters, alpha included; valid images drawn with replacement).
    The scripts take the cells' batch-norm mode as an argument; their usage line runs BN=0 (no
    running statistics), which is the only mode the cells here have."""

    epochs: int = 250
    clip_alpha: bool = True
    valid_sampling: str = "replacement"
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


@dataclass(frozen=True)
class EnasSettings:
    """ENAS (Pham et al., ICML 2018) as the NAS-Bench-201 authors ran it: ENAS.config (310
    epochs of SGD with lr 0.05, momentum 0.9, Nesterov, weight decay 2.5e-4, batch 128 for both
    halves, the cosine ``eta_min + (lr - eta_min)(1 + cos(pi e / T_max)) / 2`` with T_max = 10
    epochs, i.e. a cosine that swings between 0.05 and 5e-4 every 20 epochs; the controller's
    Adam lr 1e-3, betas (0, 0.999), eps 1e-3), ENAS.sh (entropy weight 1e-4, baseline decay
    0.99, 50 controller steps of 20 samples per epoch, the best of 100 sampled cells at the
    end), ENAS.py and xautodl's ``search_model_enas_utils.Controller`` (a 2-layer LSTM of 32
    units, logits ``2.5 tanh(l / 5)``, both gradient norms clipped at 5). The weights' gradient
    clip and momentum are the profile's (5 and 0.9, as released)."""

    epochs: int = 310
    lr: float = 0.05  # the weights' SGD: ENAS.config's LR ...
    lr_min: float = 5e-4  # ... eta_min ...
    lr_period: int = 10  # ... and T_max (epochs from lr to lr_min; the cosine then rises again)
    weight_decay: float = 2.5e-4
    nesterov: bool = True
    batch_size: int = 128  # the weight steps' and the controller's batches
    arch_lr: float = 1e-3  # the controller's Adam
    arch_betas: tuple[float, float] = (0.0, 0.999)
    arch_eps: float = 1e-3
    lstm_size: int = 32
    lstm_layers: int = 2
    tanh_constant: float = 2.5
    temperature: float = 5.0
    entropy_weight: float = 1e-4  # the reward: valid accuracy (a fraction) + this x entropy
    baseline_decay: float = 0.99
    controller_steps: int = 50  # the controller's Adam steps per epoch ...
    controller_aggregate: int = 20  # ... each on the gradient summed over this many samples
    controller_grad_clip: float = 5.0
    candidates: int = 100  # cells sampled after the search, each scored on one valid batch


@dataclass(frozen=True)
class SetnSettings(ArchSettings):
    """SETN (Dong & Yang, ICCV 2019) as the NAS-Bench-201 authors released it: SETN.config
    (250 epochs, weight decay 5e-4, Nesterov, test_batch_size 512), SETN.sh (Adam 3e-4 /
    1e-3, select_num 100), SETN.py: each step trains one uniformly drawn cell, then alpha's
    softmax mixture of every op takes an Adam step on a valid batch (drawn with replacement,
    as its loader pairs them); neither step clips a gradient. After the last epoch the
    ``candidates`` cells of highest summed log-softmax(alpha) are each scored by top-1
    accuracy on one unaugmented valid batch of ``select_batch_size`` images."""

    epochs: int = 250
    valid_sampling: str = "replacement"
    grad_clip: float | None = None  # the weight step's gradient-norm clip (None: none)
    candidates: int = 100  # select_num
    select_batch_size: int = 512  # test_batch_size


@dataclass(frozen=True)
class SingleLevelSettings:
    """A single-level method (SNAS, DSNAS): the architecture parameters and the weights learn
    from one backward of the same training loss on the same batch of the training set (no valid
    half), each with its own optimiser and gradient-norm clip."""

    epochs: int = 150
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    weight_decay: float = 3e-4  # the network's SGD ...
    nesterov: bool = False  # ... without Nesterov momentum
    arch_grad_clip: float = 10.0  # alpha's own gradient-norm clip (the weights': the profile's)
    init_mean: float = 1.0  # alpha ~ N(init_mean, init_std) (the code's loc_mean, loc_std)
    init_std: float = 0.01


@dataclass(frozen=True)
class SnasSettings(SingleLevelSettings):
    """SNAS (Xie et al., ICLR 2019) as its authors released it (SNAS-Series, ``SNAS/``):
    ``train_search.py`` (150 epochs, batch 64, the network's SGD lr 0.025 cosine to 0.001,
    momentum 0.9 without Nesterov, weight decay 3e-4, its gradient clipped at 5 and alpha's at
    10; alpha's Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3 in its multi-GPU branch,
    which its single-GPU branch replaces by plain SGD at 3e-4), ``model_search.py`` (alpha ~
    N(1, 0.01); every forward's op weights ``softmax((alpha + Gumbel) / tau)``, one draw for all
    cells), ``utils.py`` (tau linear from ``--temp`` to ``--temp_min`` over the run, the first
    epoch already one step down) and the README's command (``--temp 1 --temp_min 0.03
    --temp_annealing``). Single-level on the whole training set: the code's second loader is
    the test set, read only to report. No NAS-Bench-201 setting of SNAS is published; this is
    its CIFAR-10 search without the README's resource penalty (the NAS-Bench-201 rows compare
    accuracy only) and without drop-path (the NAS-Bench-201 supernet has none)."""

    tau_max: float = 1.0  # the relaxation's temperature before the first epoch ...
    tau_min: float = 0.03  # ... falling linearly to this at the last


@dataclass(frozen=True)
class DsnasSettings(SingleLevelSettings):
    """DSNAS (Hu et al., CVPR 2020): one op per edge sampled from softmax(alpha) in every
    forward, only its path computed, the search gradient ``(onehot - softmax(alpha)) * dL/dZ``
    of the paper (the sampled op's weight Z, value 1). Its authors' CIFAR-10 cell search is
    SNAS-Series ``SNAS/train_search.py --dsnas`` with ``model_search.py`` (the settings of
    :class:`SnasSettings`, the loss of the sampled child plus ``log p(Z)`` whose alpha gradient
    is scaled per edge by ``dL/dZ``); its ImageNet search (``DSNAS/network.py``,
    ``train_imagenet.py``, ``configs/SinglePath240epoch_arch_lr_1e-3_decay_0.yaml``: alpha's
    Adam lr 1e-3, weight decay 0, label smoothing, a FLOPs loss, edges fixed once decided) is
    another space. No NAS-Bench-201 setting of DSNAS is published: the CIFAR-10 script's."""


@dataclass(frozen=True)
class IdartsSettings(ArchSettings):
    """iDARTS (Zhang et al., ICML 2021): DARTS' bilevel search on the two halves whose
    hypergradient is the implicit function theorem's, the inverse Hessian of the training loss
    approximated by the Neumann series ``eta * sum_{k=0..K} (I - eta H)^k`` (eta: the weights'
    learning rate). Its authors' NAS-Bench-201 search (``NAS_Bench201_codes/exps/algos/
    idarts.py`` as forked in Mirofil/iDARTS; the original miaozhang0525/iDARTS ships it as a
    notebook with ``configs/nas-benchmark/algos/DARTS.config``): K = 2, T = 4 weight steps per
    architecture step, the mixed second derivative by central differences at ``w +- r u`` with
    ``r = 0.01 / |dL_valid/dw|``, alpha's Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3;
    DARTS.config: 30 epochs of those search steps (here 120 passes of weight steps: the same
    number of weight and architecture steps), SGD lr 0.01 cosine to 0.001 (not carried: the loop
    runs every method at the profile's lr), weight decay 5e-4, Nesterov, batch 64; the NAS-Bench-201 loader's
    valid images drawn with replacement."""

    epochs: int = 120
    valid_sampling: str = "replacement"
    inner_steps: int = 4  # T: weight steps per architecture step
    neumann_terms: int = 2  # K: the series' terms k = 0..K (K Hessian-vector products)
    epsilon: float = 0.01  # r: the central difference's step is r / |dL_valid/dw|


# a NAS-Bench-201 profile's block -> its settings class (``darts``: DartsSettings)
BLOCKS: dict[str, type] = {
    "gdas": GdasSettings,
    "pcdarts": PcDartsSettings,
    "drnas": DrNasSettings,
    "betadarts": BetaDartsSettings,
    "rsps": RspsSettings,
    "setn": SetnSettings,
    "enas": EnasSettings,
    "snas": SnasSettings,
    "dsnas": DsnasSettings,
    "idarts": IdartsSettings,
}
