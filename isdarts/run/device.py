"""The device a run uses, and how result files describe it."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

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
    threads = torch.get_num_threads()
    return f"cpu: {model}, {os.cpu_count()} cores, {threads} thread{'s' * (threads != 1)}"


MAX_THREADS = 1024  # torch starts a thread each: 10^5 of them exhaust the machine's memory


def set_threads(threads: int | None) -> None:
    """``torch.set_num_threads`` when a profile (or ``--threads``) fixes the count (None:
    torch's default)."""
    if threads is not None and threads > MAX_THREADS:
        raise IsdartsError(f"threads {threads}: expected at most {MAX_THREADS}")
    if threads is not None:
        torch.set_num_threads(threads)
