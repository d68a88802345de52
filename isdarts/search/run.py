"""A whole NAS-Bench-201 search (``isdarts search``): the NB201 side of the search engine
(:mod:`isdarts.search.loop`) and the result file.

Output folder: ``result.json`` (written last), ``log.jsonl`` (one line per epoch) and
``checkpoint.pt`` (replaced atomically after every epoch). Rerunning the same command resumes
from the checkpoint with identical results. A row names the current cell (the strongest
remaining op per edge, or DARTS' argmax) and its benchmark numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

import isdarts
from isdarts.errors import IsdartsError
from isdarts.nb201 import COLUMNS, Benchmark, to_str
from isdarts.nb201.arch import OPS as OP_NAMES
from isdarts.runtime import device_name
from isdarts.search.importance import measure_importance, shrink, strongest
from isdarts.search.loop import EpochHook, SearchJob, SearchRun, json_scores, run_supernet_search
from isdarts.search.profile import Profile, profile_dict
from isdarts.spaces.nb201 import K, Supernet, SupernetConfig, full_mask


@dataclass
class SearchRequest:
    method: str
    dataset: str
    seed: int
    profile: Profile
    out: Path
    data_root: str | None = None
    device: str = "auto"
    bench: str | None = None
    space: str = "nb201"

    def identity(self) -> dict:
        """What a checkpoint must match to be resumed."""
        return {
            "space": self.space,
            "method": self.method,
            "dataset": self.dataset,
            "seed": self.seed,
            "profile": {k: v for k, v in profile_dict(self.profile).items() if k != "threads"},
        }


def _cell(ops: list[int] | None, bench: Benchmark) -> tuple[str | None, int | None, dict | None]:
    if ops is None:
        return None, None, None
    arch = to_str([OP_NAMES[k] for k in ops])
    row = bench.query(arch)
    return arch, row["index"], {c: row[c] for c in COLUMNS}


@dataclass
class Nb201Space:
    """The NAS-Bench-201 space in the search loop: edge-wise shrink, cells looked up in the
    benchmark table."""

    req: SearchRequest
    bench: Benchmark
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
    )
    rng_in_checkpoint: ClassVar[bool] = True

    def supernet(self, num_classes: int) -> nn.Module:
        prof = self.req.profile
        return Supernet(SupernetConfig(prof.channels, prof.cells_per_stage, num_classes))

    def alpha_shape(self) -> tuple[int, ...]:
        return (len(full_mask()), K)

    def new_state(self) -> dict[str, Any]:
        # scores: the last importance measurement; the cell is its strongest remaining op
        return {"epoch": 0, "mask": full_mask(), "scores": None, "log": [], "elapsed": 0.0}

    def shrink_step(
        self, state: dict, net: nn.Module, batches, step: int, steps: int
    ) -> np.ndarray:
        scores = measure_importance(net, batches, state["mask"])
        state["scores"] = scores
        state["mask"] = shrink(state["mask"], scores, step, steps)
        return scores

    def log_importance(self, scores: np.ndarray | None) -> dict[str, Any]:
        return {"importance": json_scores(scores)}

    def log_cell(self, state: dict, alpha: torch.Tensor | None) -> dict[str, Any]:
        if alpha is not None:
            ops = torch.softmax(alpha.detach(), -1).cpu().argmax(-1).tolist()
        else:
            ops = strongest(state["mask"], state["scores"])
        arch, index, columns = _cell(ops, self.bench)
        masks = [[int(b) for b in r] for r in state["mask"]]
        return {"masks": masks, "arch": arch, "index": index, "benchmark": columns}

    def progress(self, row: dict, state: dict) -> str:
        c10 = "-" if row["benchmark"] is None else f"{row['benchmark']['cifar10_test']:.2f}"
        index = row["index"] if row["index"] is not None else "-"
        return f"ops/edge {max(sum(r) for r in state['mask'])} cell {index} c10-test {c10}"

    def result(self, run: SearchRun) -> dict:
        req, final = self.req, run.state["log"][-1]
        if final["arch"] is None:
            raise IsdartsError("the search ended without a cell (no shrink step ran)")
        return {
            "space": req.space,
            "method": req.method,
            "dataset": req.dataset,
            "seed": req.seed,
            "profile": req.profile.name,
            "data_source": run.data_source,
            "arch": final["arch"],
            "index": final["index"],
            "benchmark": final["benchmark"],
            "epochs": run.epochs,
            "wall_seconds": run.state["elapsed"],
            "device": device_name(run.device),
            "torch_version": torch.__version__,
            "isdarts_version": isdarts.__version__,
            "order": req.profile.order,
            "benchmark_format": self.bench.format_version,
            "threads": torch.get_num_threads(),
            "profile_settings": profile_dict(req.profile),
        }


def run_search(req: SearchRequest, on_epoch_end: EpochHook | None = None) -> dict:
    """Run (or resume, or skip if finished) one search; returns the result dict.
    ``on_epoch_end(epoch)`` runs after each epoch's checkpoint (tests use it to kill a run)."""
    job = SearchJob(
        req.method,
        req.dataset,
        req.seed,
        req.profile,
        req.out,
        req.identity(),
        "search (method, data set, seed or profile)",
        req.data_root,
        req.device,
    )
    return run_supernet_search(
        job, lambda: Nb201Space(req, Benchmark.load(req.bench)), on_epoch_end
    )
