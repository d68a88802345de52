"""The NAS-Bench-201 space as the search loop sees it (:mod:`isdarts.search.loop`): the
supernet, the edge-wise shrink step, and the current cell with its benchmark numbers.

A log row names the current cell (the strongest remaining op per edge, or DARTS' argmax) and
its benchmark look-up; ``result.json`` the final one.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from isdarts.errors import IsdartsError
from isdarts.spaces.importance import json_scores
from isdarts.spaces.nb201.importance import measure_importance, shrink, strongest
from isdarts.spaces.nb201.names import OPS, K, full_mask, to_str
from isdarts.spaces.nb201.profile import Profile
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig


class Lookup(Protocol):
    """The benchmark table (:class:`isdarts.bench.Benchmark`), as far as the space uses it."""

    format_version: str

    def query(self, arch: str | int) -> dict: ...


class Nb201Space:
    """Edge-wise shrink; cells looked up in the benchmark table."""

    name: ClassVar[str] = "nb201"
    log_keys: ClassVar[tuple[str, ...]] = (
        "epoch",
        "train_loss",
        "train_acc",
        "lr",
        "seconds",
        "masks",
        "importance",
        "arch",
        "index",
        "benchmark",
        "alphas",
        "arch_state",
    )

    def __init__(self, profile: Profile, bench: Lookup) -> None:
        self.profile, self.bench = profile, bench

    def supernet(self, num_classes: int, partial_channels: int = 1) -> nn.Module:
        """``partial_channels``: PC-DARTS' K (1: every channel through the ops)."""
        prof = self.profile
        cfg = SupernetConfig(prof.channels, prof.cells_per_stage, num_classes, partial_channels)
        return Supernet(cfg)

    def alpha_shape(self) -> tuple[int, ...]:
        return (len(full_mask()), K)

    def new_state(self) -> dict[str, Any]:
        # scores: the last importance measurement; the cell is its strongest remaining op
        return {"epoch": 0, "mask": full_mask(), "scores": None, "log": [], "elapsed": 0.0}

    def shrink_step(
        self, state: dict, net: nn.Module, batches, step: int, steps: int, graphs: bool = False
    ) -> np.ndarray:
        scores = measure_importance(net, batches, state["mask"], graphs=graphs)
        state["scores"] = scores.tolist()  # plain values: checkpoints load weights-only
        state["mask"] = shrink(state["mask"], scores, step, steps)
        return scores

    def log_importance(self, scores: np.ndarray | None) -> dict[str, Any]:
        return {"importance": json_scores(scores)}

    def _cell(self, ops: list[int] | None) -> tuple[str | None, int | None, dict | None]:
        if ops is None:
            return None, None, None
        row = self.bench.query(to_str([OPS[k] for k in ops]))
        columns = {c: v for c, v in row.items() if c not in ("index", "arch")}
        return row["arch"], row["index"], columns

    def log_cell(self, state: dict, alpha: torch.Tensor | None) -> dict[str, Any]:
        if alpha is not None:
            ops = torch.softmax(alpha.detach(), -1).cpu().argmax(-1).tolist()
        else:
            ops = strongest(state["mask"], state["scores"])
        arch, index, columns = self._cell(ops)
        masks = [[int(b) for b in r] for r in state["mask"]]
        return {"masks": masks, "arch": arch, "index": index, "benchmark": columns}

    def progress(self, row: dict, state: dict) -> str:
        c10 = "-" if row["benchmark"] is None else f"{row['benchmark']['cifar10_test']:.2f}"
        index = row["index"] if row["index"] is not None else "-"
        return f"ops/edge {max(sum(r) for r in state['mask'])} cell {index} c10-test {c10}"

    def result(self, state: dict) -> dict[str, Any]:
        """The final cell's fields of ``result.json``."""
        final = state["log"][-1]
        if final["arch"] is None:
            raise IsdartsError("the search ended without a cell (no shrink step ran)")
        return {
            "arch": final["arch"],
            "index": final["index"],
            "benchmark": final["benchmark"],
            "benchmark_format": self.bench.format_version,
        }
