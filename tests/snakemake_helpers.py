"""Running the workflow for real in tests: `snakemake` as a subprocess in a temporary working
directory, with this interpreter's environment, and reading its job plans."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMOKE = REPO / "config" / "smoke.yaml"
PNG = b"\x89PNG\r\n\x1a\n"


def snakemake_cmd(
    workdir: Path,
    data_root: Path,
    *args: str,
    configfile: Path = SMOKE,
    config: tuple[str, ...] = (),
    profile: str = "default",
) -> list[str]:
    return [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        "--config",
        f"data_root={data_root}",
        *config,
        "--workflow-profile",
        str(REPO / "workflow" / "profiles" / profile),
        "--cores",
        "2",
        *args,
    ]


def env() -> dict[str, str]:
    """The rules call `python -m isdarts`: put this interpreter first on PATH."""
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    return e


def snakemake(workdir, data_root, *args, check=True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        snakemake_cmd(workdir, data_root, *args, **kw),
        cwd=workdir,
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    return proc


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run: rule -> number of jobs."""
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {
        m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"
    }
