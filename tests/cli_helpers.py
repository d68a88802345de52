"""Running the command line as a user does, and the contract of a refused input: exit status
2, one stderr line ``isdarts: error: ...`` naming what was wrong, no traceback, nothing on
stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def isdarts(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """``python -m isdarts ARGS`` (``env``: extra environment variables)."""
    return subprocess.run(
        [sys.executable, "-m", "isdarts", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **env},
    )


def one_line_error(res: subprocess.CompletedProcess, needle: str) -> str:
    """The error line, after checking the contract and that it holds ``needle``."""
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert "Traceback" not in res.stderr
    assert len(lines) == 1 and lines[0].startswith("isdarts: error: "), res.stderr
    assert needle in lines[0], lines[0]
    assert res.stdout == "", res.stdout
    return lines[0]


REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "config" / "published.yaml"


def report(
    tmp_path: Path, runs: Path, summary: Path, *extra: str, published: Path = PUBLISHED
) -> subprocess.CompletedProcess:
    """``isdarts report`` of ``runs`` and ``summary`` into ``tmp_path``, for inputs that must
    be refused: no report may be left behind."""
    out = tmp_path / "report.md"
    res = isdarts(
        "report",
        "--runs",
        str(runs),
        "--summary",
        str(summary),
        "--published",
        str(published),
        "--out",
        str(out),
        *extra,
    )
    assert not out.exists()
    return res
