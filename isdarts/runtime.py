"""What every long run (search, final training) needs from its surroundings: the device,
a description of it for result files, and fixed subsets of a data set."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from isdarts._io import write_text_atomic
from isdarts.errors import IsdartsError


def select_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise IsdartsError("--device cuda: no CUDA device is available")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """E.g. ``cpu: AMD EPYC, 2 cores, 1 threads`` or ``cuda: NVIDIA H100``, for result files."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu: {model}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"


def fixed_subset(n_total: int, n: int | None) -> np.ndarray:
    """Indices of the first ``n`` of a fixed (seed-independent) permutation, ascending; all
    ``n_total`` when ``n`` is None or not smaller. Every seed and method sees the same images."""
    if n is None or n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(0).permutation(n_total)[:n])


def finished_result(out: Path) -> dict | None:
    """The result of a run already finished in ``out`` (rerunning it does nothing), else None."""
    path = out / "result.json"
    if not path.is_file():
        return None
    print(f"isdarts: {path} exists; nothing to do", file=sys.stderr)
    return json.loads(path.read_text())


def load_checkpoint(path: Path, device: torch.device) -> dict:
    """A run's checkpoint; a corrupt or truncated file is an error naming it."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # torch raises many types for a damaged file
        raise IsdartsError(
            f"{path}: corrupt or unreadable checkpoint ({type(exc).__name__}: {exc}); "
            "delete it to start the run over"
        ) from None
    if not isinstance(ckpt, dict) or "identity" not in ckpt:
        raise IsdartsError(f"{path}: not an isdarts checkpoint; delete it to start the run over")
    return ckpt


def start_or_resume(
    ckpt_path: Path, log_path: Path, identity: dict, device: torch.device, what: str, epochs: int
) -> dict | None:
    """The checkpoint to resume from, or None for a fresh start.

    A checkpoint must carry this run's ``identity`` (else an error naming ``what`` differs);
    on resume ``log.jsonl`` is rewritten to the epochs the checkpoint holds, so lines of an
    epoch interrupted after its log line but before its checkpoint are dropped. On a fresh
    start the output folder is created and any stale log removed.
    """
    if not ckpt_path.is_file():
        ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.unlink(missing_ok=True)
        return None
    ckpt = load_checkpoint(ckpt_path, device)
    if ckpt["identity"] != identity:
        raise IsdartsError(
            f"{ckpt_path}: made by a different {what}; use another --out or delete it"
        )
    state = ckpt["state"]
    write_text_atomic(log_path, "".join(json.dumps(r) + "\n" for r in state["log"]))
    print(
        f"isdarts: resuming {ckpt_path.parent} after epoch {state['epoch']}/{epochs}",
        file=sys.stderr,
    )
    return ckpt
