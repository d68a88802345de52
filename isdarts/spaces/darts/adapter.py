"""The DARTS space as the search loop sees it (:mod:`isdarts.search.loop`): the supernet,
the node-wise shrink step, and the current genotype (no benchmark table).

``result.json``'s ``genotype`` object is accepted by ``isdarts train --genotype``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from isdarts.errors import IsdartsError
from isdarts.spaces.darts.eval_net import params_m
from isdarts.spaces.darts.importance import measure_importance, shrink_nodes
from isdarts.spaces.darts.names import (
    EDGES,
    KINDS,
    NONE,
    PRIMITIVES,
    STEPS,
    Genotype,
    K,
    Mask,
    full_mask,
    genotype_from_dict,
)
from isdarts.spaces.darts.profile import DartsSearchProfile
from isdarts.spaces.darts.supernet import DartsSupernet, DartsSupernetConfig
from isdarts.spaces.importance import json_scores


def _remaining(mask: Mask) -> list[list[int]]:
    """Candidates left per cell kind and node."""
    return [
        [
            sum(sum(mask[t][e]) for e, (node, _) in enumerate(EDGES) if node == i)
            for i in range(STEPS)
        ]
        for t in range(len(KINDS))
    ]


def _genotype(cells: list[tuple]) -> Genotype:
    concat = tuple(range(2, 2 + STEPS))
    return Genotype(cells[0], concat, cells[1], concat)


def genotype_from_mask(mask: Mask) -> Genotype | None:
    """The genotype once every node has exactly two (input, op) pairs left, else None."""
    cells = []
    for t in range(len(KINDS)):
        pairs = []
        for i in range(STEPS):
            alive = [
                (PRIMITIVES[k], j)
                for e, (node, j) in enumerate(EDGES)
                if node == i
                for k in range(K)
                if mask[t][e][k]
            ]
            if len(alive) != 2 or any(op == "none" for op, _ in alive):
                return None
            pairs.extend(alive)
        cells.append(tuple(pairs))
    return _genotype(cells)


def genotype_from_alpha(alpha: torch.Tensor) -> Genotype:
    """DARTS' rule: per node, the two incoming edges whose strongest non-``none`` op has the
    largest softmax weight, each with that op."""
    probs = torch.softmax(alpha.detach().float().cpu(), dim=-1)
    cells = []
    for t in range(len(KINDS)):
        pairs = []
        for i in range(STEPS):
            best = []
            for e, (node, j) in enumerate(EDGES):
                if node != i:
                    continue
                w = probs[t, e].clone()
                w[NONE] = -1.0
                k = int(w.argmax())
                best.append((float(w[k]), -j, PRIMITIVES[k], j))
            best.sort(reverse=True)
            pairs.extend(sorted(((op, j) for _, _, op, j in best[:2]), key=lambda p: p[1]))
        cells.append(tuple(pairs))
    return _genotype(cells)


class DartsSpace:
    """Node-wise shrink; genotypes, sized at C=36 / 20 cells."""

    name: ClassVar[str] = "darts"
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

    def __init__(self, profile: DartsSearchProfile, dataset: str) -> None:
        if dataset != "cifar10":
            raise IsdartsError("--space darts searches on cifar10 only")
        self.profile = profile

    def supernet(self, num_classes: int, pool_bn: bool = False) -> nn.Module:
        prof = self.profile
        cfg = DartsSupernetConfig(prof.channels, prof.layers, num_classes, pool_bn=pool_bn)
        return DartsSupernet(cfg)

    def alpha_shape(self) -> tuple[int, ...]:
        return (len(KINDS), len(EDGES), K)

    def new_state(self) -> dict[str, Any]:
        return {"epoch": 0, "mask": full_mask(), "log": [], "elapsed": 0.0}

    def shrink_step(
        self, state: dict, net: nn.Module, batches, step: int, steps: int, graphs: bool = False
    ) -> np.ndarray:
        """``graphs`` is ignored: this space's passes run eagerly (CUDA graphs are for the
        NAS-Bench-201 space only)."""
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

    def result(self, state: dict) -> dict[str, Any]:
        """The final genotype's fields of ``result.json``."""
        final = state["log"][-1]["genotype"]
        if final is None:
            raise IsdartsError(
                "the search ended without a genotype (shrink steps did not complete)"
            )
        geno = genotype_from_dict(final, "search result")
        return {
            "genotype": geno.to_dict(),
            "genotype_str": str(geno),
            "params_m": params_m(geno),
            "search_cost_hours": state["elapsed"] / 3600,
        }
