"""Figures of a set of searches (matplotlib, PNG, no pyplot and no global state).

- ``accuracy``: benchmark test accuracy of the current cell per epoch, one line per method and
  seed, with the published values as dashed lines (DARTS collapses, IS-DARTS holds).
- ``ops``: how many edges use each op in the current cell, and how many candidates of each op
  are still in the supernet, per epoch (mean over seeds), one column per method.
- ``importance``: the importance score of every (edge, op) at each shrink step of one IS-DARTS
  run (log scale; +inf drawn at the top), with the op removed at that step crossed.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from isdarts._io import atomic_write
from isdarts.bench import EDGES, OPS, parse
from isdarts.config.methods import METHOD_COLORS
from isdarts.errors import IsdartsError
from isdarts.report.evaluate import load_log, load_result
from isdarts.report.mdtext import method_label
from isdarts.report.published import PublishedRow, match

OP_COLORS = {
    "none": "tab:gray",
    "skip_connect": "tab:red",
    "nor_conv_1x1": "tab:green",
    "nor_conv_3x3": "tab:blue",
    "avg_pool_3x3": "tab:orange",
}
SEED_STYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
TEST_COLUMN = {
    "cifar10": "cifar10_test",
    "cifar100": "cifar100_test",
    "ImageNet16-120": "imagenet16_test",
}
DPI = 120
OFFSET = 0.07  # vertical offset between the op lines of the ops figure


class Run:
    """One search: its result and its per-epoch log."""

    def __init__(self, path: str | os.PathLike):
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
    return sorted(runs, key=lambda r: (r.space, r.dataset, r.method != "isdarts", r.method, r.seed))


def _save(fig: Figure, out: str | os.PathLike) -> Path:
    FigureCanvasAgg(fig)
    return atomic_write(out, lambda p: fig.savefig(p, format="png", dpi=DPI, bbox_inches="tight"))


def _score(value) -> float:
    """A logged importance score: None (removed op) -> nan, "inf" -> +inf."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        return math.inf if value.strip().lower() in ("inf", "+inf", "infinity") else float(value)
    return float(value)


def accuracy_figure(runs: list[Run], out, published: list[PublishedRow] = ()) -> Path:
    datasets = sorted({r.dataset for r in runs})
    fig = Figure(figsize=(7.5, 4.2 * len(datasets)))
    for k, dataset in enumerate(datasets):
        ax = fig.add_subplot(len(datasets), 1, k + 1)
        column = TEST_COLUMN[dataset]
        seeds = sorted({r.seed for r in runs})
        for run in (r for r in runs if r.dataset == dataset):
            xs = [rec["epoch"] for rec in run.log]
            ys = [rec["benchmark"][column] if rec.get("benchmark") else math.nan for rec in run.log]
            style = SEED_STYLES[seeds.index(run.seed) % len(SEED_STYLES)]
            ax.plot(
                xs,
                ys,
                linestyle=style,
                marker=".",
                color=METHOD_COLORS.get(run.method),
                label=run.label,
                alpha=0.9,
            )
            shrinks = [rec["epoch"] for rec in run.log if rec.get("importance")]
            ax.plot(
                shrinks,
                [ys[xs.index(e)] for e in shrinks],
                linestyle="none",
                marker="v",
                color=METHOD_COLORS.get(run.method),
                markersize=6,
            )
        for method in sorted({r.method for r in runs if r.dataset == dataset}):
            row = match(list(published), runs[0].space, method, dataset)
            if row is not None:
                ax.axhline(
                    row.mean[column],
                    color=METHOD_COLORS.get(method),
                    linewidth=0.8,
                    linestyle=(0, (6, 3)),
                    alpha=0.6,
                    label=f"{row.method}, published ({row.mean[column]:.2f})",
                )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"benchmark test accuracy (%), {dataset}")
        ax.set_title(
            f"Current cell's NAS-Bench-201 accuracy during the search on {dataset}"
            "\n(▼ = epoch ending with a shrink step)",
            fontsize=10,
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left", ncol=2)
    return _save(fig, out)


def _cell_counts(rec: dict) -> dict[str, float]:
    if not rec.get("arch"):
        return {op: math.nan for op in OPS}
    ops = parse(rec["arch"])
    return {op: float(ops.count(op)) for op in OPS}


def _mask_counts(rec: dict) -> dict[str, float]:
    masks = rec.get("masks")
    if not masks:
        return {op: math.nan for op in OPS}
    return {op: float(sum(edge[i] for edge in masks)) for i, op in enumerate(OPS)}


def _mean_over_runs(runs: list[Run], count) -> tuple[list[int], dict[str, list[float]]]:
    per_epoch: dict[int, list[dict[str, float]]] = defaultdict(list)
    for run in runs:
        for rec in run.log:
            per_epoch[rec["epoch"]].append(count(rec))
    epochs = sorted(per_epoch)
    means = {}
    for op in OPS:
        col = []
        for e in epochs:
            vals = [c[op] for c in per_epoch[e] if not math.isnan(c[op])]
            col.append(sum(vals) / len(vals) if vals else math.nan)
        means[op] = col
    return epochs, means


def ops_figure(runs: list[Run], out) -> Path:
    methods = list(dict.fromkeys(r.method for r in runs))
    fig = Figure(figsize=(5.0 * len(methods), 7.0))
    rows = (
        ("ops in the current cell", _cell_counts),
        ("candidates left in the supernet", _mask_counts),
    )
    for i, (title, count) in enumerate(rows):
        for j, method in enumerate(methods):
            ax = fig.add_subplot(2, len(methods), i * len(methods) + j + 1)
            group = [r for r in runs if r.method == method]
            epochs, means = _mean_over_runs(group, count)
            for k, op in enumerate(OPS):
                shift = (k - (len(OPS) - 1) / 2) * OFFSET  # equal counts stay visible
                ax.plot(
                    epochs,
                    [v + shift for v in means[op]],
                    marker=".",
                    color=OP_COLORS[op],
                    label=op,
                )
            ax.set_ylim(-0.3, len(EDGES) + 0.3)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel("edges (of 6), mean over seeds")
            ax.set_yticks(range(len(EDGES) + 1))
            seeds = ", ".join(str(r.seed) for r in group)
            ax.set_title(f"{method_label(method)}: {title}\n(seeds {seeds})", fontsize=10)
            ax.grid(alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    fig.suptitle(
        "Op counts per epoch (lines offset by ±0.14 so that equal counts stay visible)",
        fontsize=9,
        y=0.995,
    )
    fig.subplots_adjust(hspace=0.45)
    return _save(fig, out)


def importance_figure(runs: list[Run], out) -> Path:
    shrinking = [r for r in runs if any(rec.get("importance") for rec in r.log)]
    fig = Figure(figsize=(12.0, 6.5))
    if not shrinking:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(
            0.5,
            0.5,
            "no run with shrink steps (importance scores) in this set",
            ha="center",
            va="center",
        )
        ax.set_axis_off()
        return _save(fig, out)
    run = shrinking[0]
    steps = [rec for rec in run.log if rec.get("importance")]
    finite = [
        _score(v)
        for rec in steps
        for edge in rec["importance"]
        for v in edge
        if math.isfinite(_score(v)) and _score(v) > 0
    ]
    top = max(finite) * 10 if finite else 10.0
    bottom = min(finite) / 3 if finite else 1.0
    xs = list(range(1, len(steps) + 1))
    for e, (dst, src) in enumerate(EDGES):
        ax = fig.add_subplot(2, 3, e + 1)
        for i, op in enumerate(OPS):
            ys = [_score(rec["importance"][e][i]) for rec in steps]
            shown = [top if y == math.inf else y for y in ys]
            ax.plot(xs, shown, marker="o", markersize=4, color=OP_COLORS[op], label=op)
            for x, y, rec in zip(xs, ys, steps, strict=True):
                if y == math.inf:
                    ax.plot([x], [top], marker="^", markersize=8, color=OP_COLORS[op])
                removed = not math.isnan(y) and rec["masks"][e][i] == 0
                if removed:
                    ax.plot(
                        [x],
                        [top if y == math.inf else y],
                        marker="x",
                        markersize=11,
                        color="black",
                        markeredgewidth=1.5,
                    )
        ax.set_yscale("log")
        ax.set_ylim(bottom, top * 3)
        ax.set_xticks(
            xs, [f"{x}\n(ep {rec['epoch']})" for x, rec in zip(xs, steps, strict=True)], fontsize=7
        )
        ax.set_title(f"edge {src} → {dst}", fontsize=10)
        ax.grid(alpha=0.3, which="major")
        if e % 3 == 0:
            ax.set_ylabel("importance score (log)")
        if e == 0:
            handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=len(OPS), fontsize=8, bbox_to_anchor=(0.5, -0.02)
    )
    fig.suptitle(
        f"Importance per edge and op at each shrink step: {run.label} on {run.dataset} "
        "(▲ = +inf, × = removed at this step; the largest score goes)",
        fontsize=10,
    )
    fig.subplots_adjust(hspace=0.5, bottom=0.14)
    return _save(fig, out)


def make_figures(
    result_paths, accuracy=None, ops=None, importance=None, published: list[PublishedRow] = ()
) -> list[Path]:
    runs = load_runs(result_paths)
    written = []
    if accuracy:
        written.append(accuracy_figure(runs, accuracy, published))
    if ops:
        written.append(ops_figure(runs, ops))
    if importance:
        written.append(importance_figure(runs, importance))
    return written
