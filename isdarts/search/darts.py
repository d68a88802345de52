"""IS-DARTS and first-order DARTS on the DARTS space (``isdarts search --space darts``).

Profiles: ``config/profiles/darts-search-<name>.yaml``. Output folder as in the NB201 search:
``result.json`` (written last; its ``genotype`` object is accepted by ``isdarts train
--genotype``), ``log.jsonl`` (one line per epoch) and ``checkpoint.pt`` (replaced atomically
after every epoch; rerunning resumes with identical results). The epochs are the shared search
engine (:mod:`isdarts.search.loop`); the supernet, importance probe and node-wise shrink are
:mod:`isdarts.spaces.darts_supernet`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

import isdarts
from isdarts.errors import IsdartsError
from isdarts.genotype import genotype_from_dict
from isdarts.profiles import (
    ARCH_CHECKS,
    ORDER_CHECK,
    SHARED_CHECKS,
    is_int,
    read_checked,
    resolve_prefixed,
)
from isdarts.runtime import device_name
from isdarts.search.loop import EpochHook, SearchJob, SearchRun, json_scores, run_supernet_search
from isdarts.search.profile import DartsSettings
from isdarts.spaces.darts_eval import params_m
from isdarts.spaces.darts_supernet import (
    EDGES,
    KINDS,
    STEPS,
    DartsSupernet,
    DartsSupernetConfig,
    K,
    full_mask,
    genotype_from_alpha,
    genotype_from_mask,
    measure_importance,
    shrink_nodes,
)


@dataclass(frozen=True)
class DartsSearchProfile:
    name: str
    channels: int = 16
    layers: int = 8
    batch_size: int = 64
    epochs: int = 50  # E (IS-DARTS)
    shrink_steps: int = 7  # S
    shrink_interval: int = 3  # I: shrink after epochs range(E - S*I, E, I)
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    train_subset: int | None = None
    order: str = "shuffle"
    threads: int | None = None
    channels_last: bool = False
    darts_epochs: int = 50
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    darts_weight_decay: float = 5e-4

    @property
    def darts(self) -> DartsSettings:
        """The first-order DARTS settings, named as in the NB201 profile (the search loop
        reads them from there)."""
        return DartsSettings(
            epochs=self.darts_epochs,
            arch_lr=self.arch_lr,
            arch_betas=self.arch_betas,
            arch_weight_decay=self.arch_weight_decay,
            weight_decay=self.darts_weight_decay,
        )


_CHECKS: dict[str, Any] = {
    **SHARED_CHECKS,
    "layers": lambda v: is_int(v) and v >= 3,
    "shrink_steps": lambda v: is_int(v) and v >= 1,
    "shrink_interval": lambda v: is_int(v) and v >= 1,
    "order": ORDER_CHECK,
    "darts_epochs": SHARED_CHECKS["epochs"],
    **ARCH_CHECKS,
    "darts_weight_decay": SHARED_CHECKS["weight_decay"],
}
assert set(_CHECKS) == {f.name for f in dataclasses.fields(DartsSearchProfile)} - {"name"}


def load_search_profile(name_or_path: str) -> DartsSearchProfile:
    path = resolve_prefixed(name_or_path, "darts-search-", "DARTS-space search profile")
    raw = read_checked(path, _CHECKS, "config/profiles/darts-search-paper.yaml")
    if "arch_betas" in raw:
        raw["arch_betas"] = tuple(float(b) for b in raw["arch_betas"])
    name = path.stem.removeprefix("darts-search-")
    prof = DartsSearchProfile(name=name, **raw)
    if prof.epochs - prof.shrink_steps * prof.shrink_interval < 1:
        raise IsdartsError(
            f"{path}: 'epochs' ({prof.epochs}) must exceed shrink_steps * "
            f"shrink_interval ({prof.shrink_steps * prof.shrink_interval})"
        )
    return prof


@dataclass
class DartsSearchRequest:
    method: str  # isdarts | darts
    seed: int
    profile: DartsSearchProfile
    out: Path
    data_root: str | None = None
    device: str = "auto"

    def identity(self) -> dict:
        """What a checkpoint must match to be resumed (threads may differ, as in NB201)."""
        profile = {k: v for k, v in dataclasses.asdict(self.profile).items() if k != "threads"}
        return {"space": "darts", "method": self.method, "seed": self.seed, "profile": profile}


def _remaining(mask) -> list[list[int]]:
    """Candidates left per cell kind and node."""
    return [
        [
            sum(sum(mask[t][e]) for e, (node, _) in enumerate(EDGES) if node == i)
            for i in range(STEPS)
        ]
        for t in range(len(KINDS))
    ]


@dataclass
class DartsSpace:
    """The DARTS space in the search loop: node-wise shrink, genotypes (no benchmark table)."""

    req: DartsSearchRequest
    log_keys: ClassVar[tuple[str, ...]] = (
        "epoch",
        "train_loss",
        "train_acc",
        "lr",
        "importance",
        "remaining",
        "genotype",
        "alphas",
        "seconds",
    )
    rng_in_checkpoint: ClassVar[bool] = False

    def supernet(self, num_classes: int) -> nn.Module:
        prof = self.req.profile
        return DartsSupernet(DartsSupernetConfig(prof.channels, prof.layers, num_classes))

    def alpha_shape(self) -> tuple[int, ...]:
        return (len(KINDS), len(EDGES), K)

    def new_state(self) -> dict[str, Any]:
        return {"epoch": 0, "mask": full_mask(), "log": [], "elapsed": 0.0}

    def shrink_step(
        self, state: dict, net: nn.Module, batches, step: int, steps: int
    ) -> np.ndarray:
        scores = measure_importance(net, batches, state["mask"])
        state["mask"] = shrink_nodes(state["mask"], scores, step, steps)
        return scores

    def log_importance(self, scores: np.ndarray | None) -> dict[str, Any]:
        return {} if scores is None else {"importance": json_scores(scores)}

    def log_cell(self, state: dict, alpha: torch.Tensor | None) -> dict[str, Any]:
        geno = genotype_from_mask(state["mask"]) if alpha is None else genotype_from_alpha(alpha)
        return {
            "remaining": _remaining(state["mask"]),
            "genotype": None if geno is None else geno.to_dict(),
        }

    def progress(self, row: dict, state: dict) -> str:
        return f"candidates/node {row['remaining'][0]}"

    def result(self, run: SearchRun) -> dict:
        req, final = self.req, run.state["log"][-1]["genotype"]
        if final is None:
            raise IsdartsError(
                "the search ended without a genotype (shrink steps did not complete)"
            )
        geno, elapsed = genotype_from_dict(final, "search result"), run.state["elapsed"]
        return {
            "space": "darts",
            "method": req.method,
            "dataset": "cifar10",
            "seed": req.seed,
            "profile": req.profile.name,
            "genotype": geno.to_dict(),
            "genotype_str": str(geno),
            "params_m": params_m(geno),
            "epochs": run.epochs,
            "wall_seconds": elapsed,
            "search_cost_hours": elapsed / 3600,
            "data_source": run.data_source,
            "device": device_name(run.device),
            "torch_version": torch.__version__,
            "isdarts_version": isdarts.__version__,
            "order": req.profile.order,
            "threads": torch.get_num_threads(),
            "profile_settings": dataclasses.asdict(req.profile),
        }


def run_darts_search(req: DartsSearchRequest, on_epoch_end: EpochHook | None = None) -> dict:
    """Run (or resume, or skip if finished) one DARTS-space search; returns the result dict.
    ``on_epoch_end(epoch)`` runs after each epoch's checkpoint (tests use it to kill a run)."""
    job = SearchJob(
        req.method,
        "cifar10",
        req.seed,
        req.profile,
        req.out,
        req.identity(),
        "search (method, seed or profile)",
        req.data_root,
        req.device,
    )
    return run_supernet_search(job, lambda: DartsSpace(req), on_epoch_end)


def search_cli(args, profile: DartsSearchProfile) -> int:
    """``isdarts search --space darts``: the handler the search CLI dispatches to, with the
    profile it loaded (``--threads`` applied)."""
    if args.dataset != "cifar10":
        raise IsdartsError("--space darts searches on cifar10 only")
    req = DartsSearchRequest(
        args.method, args.seed, profile, Path(args.out), args.data_root, args.device
    )
    r = run_darts_search(req)
    print(f"{r['method']} seed {r['seed']} (darts space, {r['profile']}): {r['genotype_str']}")
    print(f"  params_m {r['params_m']:.3f} at C=36, 20 cells; search {r['wall_seconds']:.0f} s")
    return 0
