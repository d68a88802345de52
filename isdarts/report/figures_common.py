"""What the NAS-Bench-201 figures share: the runs and their logs, the colours, saving a PNG.

One colour meaning per figure set: a method has its colour (``isdarts.config.methods``) in
every figure; the ops have their own palette (``OP_COLORS``), which shares no colour with any
method, so that red never means DARTS in one figure and an op in the next.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from isdarts._io import atomic_write
from isdarts.bench import EDGES, OPS
from isdarts.config.methods import METHOD_COLORS, METHODS
from isdarts.errors import IsdartsError
from isdarts.report.evaluate import load_log, load_result
from isdarts.report.mdtext import method_label

# The ops' palette: none a near-black (hatched where it fills an area), the two convolutions
# two greens, skip_connect brown, avg_pool a gold; none of them is a method's colour.
OP_COLORS = {
    "none": "#252525",
    "skip_connect": "#8c510a",
    "nor_conv_1x1": "#7fc97f",
    "nor_conv_3x3": "#1b7837",
    "avg_pool_3x3": "#e6ab02",
}
OP_HATCH = {"none": "////"}  # an area of 'none' is drawn white with black hatching
DPI = 120
FALLBACK_COLOR = "black"  # a method the names table does not know (never an op colour)


def method_color(method: str) -> str:
    return METHOD_COLORS.get(method, FALLBACK_COLOR)


def method_order(method: str) -> tuple[int, str]:
    """The reports' order: the names table's, unknown methods last by name."""
    return (METHODS.index(method) if method in METHODS else len(METHODS), method)


def edge_label(e: int) -> str:
    """An edge as NAS-Bench-201 strings name it: ``op~j`` in node i's group is ``node i <- j``."""
    dst, src = EDGES[e]
    return f"node {dst} <- {src}"


def op_colors_clash() -> set[str]:
    """Colours used both for an op and a method (empty: the house rule above)."""
    return {to_hex(c) for c in OP_COLORS.values()} & {to_hex(c) for c in METHOD_COLORS.values()}


class Run:
    """One search: its result and its per-epoch log."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.result: dict[str, Any] = load_result(path)
        if self.result["space"] != "nb201":
            raise IsdartsError(
                f"{path}: a {self.result['space']}-space search; the figures draw NAS-Bench-201 "
                "searches (DARTS space: isdarts darts-shrink)"
            )
        self.log: list[dict[str, Any]] = load_log(path, self.result)
        self.method: str = self.result["method"]
        self.seed: int = int(self.result["seed"])
        self.dataset: str = self.result["dataset"]
        self.space: str = self.result["space"]

    @property
    def label(self) -> str:
        return f"{method_label(self.method)}, seed {self.seed}"

    @property
    def epochs(self) -> list[int]:
        return [rec["epoch"] for rec in self.log]

    @property
    def shrink_epochs(self) -> list[int]:
        return [rec["epoch"] for rec in self.log if rec.get("importance")]

    def alphas(self) -> list[list[list[float]] | None]:
        """Per epoch the 6x5 architecture weights (softmax) the log holds, or None where it
        holds none; IsdartsError naming the line if they are not 6 lists of 5 numbers."""
        out: list[list[list[float]] | None] = []
        for rec in self.log:
            value = rec.get("alphas")
            if value is None:
                out.append(None)
                continue
            ok = (
                isinstance(value, list)
                and len(value) == len(EDGES)
                and all(isinstance(edge, list) and len(edge) == len(OPS) for edge in value)
                and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for edge in value
                    for v in edge
                )
            )
            if not ok:
                raise IsdartsError(
                    f"{self.path}: log.jsonl, epoch {rec['epoch']}: 'alphas' is not "
                    f"{len(EDGES)} lists of {len(OPS)} finite numbers"
                )
            out.append([[float(v) for v in edge] for edge in value])
        return out


def load_runs(paths) -> list[Run]:
    runs = [Run(p) for p in paths]
    seen: dict[tuple, str] = {}
    for path, run in zip(paths, runs, strict=True):
        key = (run.method, run.dataset, run.seed, run.result["profile"])
        if key in seen:
            raise IsdartsError(
                f"{path}: {run.label} on {run.dataset} ({key[3]}) a second time (also {seen[key]})"
            )
        seen[key] = str(path)
    return sorted(runs, key=lambda r: (r.space, r.dataset, method_order(r.method), r.seed))


def by_method(runs: list[Run]) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.method, []).append(run)
    return dict(sorted(groups.items(), key=lambda kv: method_order(kv[0])))


def seeds_text(group: list[Run]) -> str:
    seeds = [r.seed for r in group]
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


def score(value) -> float:
    """A logged importance score: None (removed op) -> nan, "inf" -> +inf."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        return math.inf if value.strip().lower() in ("inf", "+inf", "infinity") else float(value)
    return float(value)


def mean(values) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return sum(vals) / len(vals) if vals else math.nan


def save(fig: Figure, out: str | os.PathLike) -> Path:
    FigureCanvasAgg(fig)
    return atomic_write(out, lambda p: fig.savefig(p, format="png", dpi=DPI, bbox_inches="tight"))


def note_figure(text: str, size=(8.0, 2.0)) -> Figure:
    """A figure that says why there is nothing to draw."""
    fig = Figure(figsize=size)
    ax = fig.add_subplot(1, 1, 1)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig
