"""``importance.png``: the importance score of every (edge, op) at each shrink step, for every
run that shrinks (one row per run, one column per edge; one log scale for all panels).

A score of +inf (the 'none' op) is drawn as ▲ on a line of its own at the top, labelled
"+inf"; the op removed at a step (the largest score goes) is crossed; a score of 0, which a
log scale cannot show, sits on the bottom edge.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from isdarts.bench import EDGES, OPS
from isdarts.report.figures_common import (
    OP_COLORS,
    Run,
    edge_label,
    method_color,
    note_figure,
    save,
    score,
)


def _scale(steps_of_runs) -> tuple[float, float, float]:
    """(bottom, top, the height of the +inf line) of the one log scale."""
    finite = [
        s
        for steps in steps_of_runs
        for rec in steps
        for edge in rec["importance"]
        for s in map(score, edge)
        if math.isfinite(s) and s > 0
    ]
    lo, hi = (min(finite), max(finite)) if finite else (1.0, 10.0)
    bottom, top = lo / 2.5, hi * 2.5
    return bottom, top, top * 6


def _ticks(bottom: float, top: float, inf_at: float) -> tuple[list[float], list[str]]:
    first, last = math.ceil(math.log10(bottom)), math.floor(math.log10(top))
    step = max(1, (last - first + 1) // 4)  # at most about 4 decades labelled
    ks = list(range(first, last + 1, step))
    return [10.0**k for k in ks] + [inf_at], [f"$10^{{{k}}}$" for k in ks] + ["+inf"]


def _panel(ax, steps: list[dict], e: int, bottom: float, inf_at: float) -> None:
    xs = [rec["epoch"] for rec in steps]
    for i, op in enumerate(OPS):
        ys = [score(rec["importance"][e][i]) for rec in steps]
        shown = [bottom if y == 0 else (math.nan if y == math.inf else y) for y in ys]
        color = OP_COLORS[op]
        ax.plot(xs, shown, marker="o", markersize=3.5, linewidth=1.3, color=color)
        infs = [x for x, y in zip(xs, ys, strict=True) if y == math.inf]
        ax.plot(infs, [inf_at] * len(infs), linestyle="none", marker="^", ms=7, color=color)
        for x, y, rec in zip(xs, ys, steps, strict=True):
            if not math.isnan(y) and not rec["masks"][e][i]:
                at = inf_at if y == math.inf else (bottom if y == 0 else y)
                ax.plot([x], [at], marker="x", markersize=10, color="black", mew=1.5)


def importance_figure(runs: list[Run], out):
    shrinking = [r for r in runs if r.shrink_epochs]
    if not shrinking:
        return save(note_figure("no run with shrink steps (importance scores) in this set"), out)
    steps_of = [[rec for rec in run.log if rec.get("importance")] for run in shrinking]
    bottom, top, inf_at = _scale(steps_of)
    ticks, tick_labels = _ticks(bottom, top, inf_at)
    epochs = sorted({rec["epoch"] for steps in steps_of for rec in steps})
    rows = len(shrinking)
    fig = Figure(figsize=(15.0, 2.3 * rows + 1.4))
    axes = fig.subplots(rows, len(EDGES), squeeze=False, sharex=True, sharey=True)
    for r, (run, steps) in enumerate(zip(shrinking, steps_of, strict=True)):
        for e in range(len(EDGES)):
            ax = axes[r][e]
            _panel(ax, steps, e, bottom, inf_at)
            ax.set_yscale("log")
            ax.set_ylim(bottom, inf_at * 2.5)
            ax.axhline(top * 1.6, color="black", linewidth=0.6, linestyle=(0, (2, 2)))
            ax.set_yticks(ticks, tick_labels, fontsize=8)
            ax.minorticks_off()
            ax.set_xticks(epochs, [str(x) for x in epochs], fontsize=8)
            ax.set_xlim(epochs[0] - 0.6, epochs[-1] + 0.6)
            ax.grid(alpha=0.3)
            if r == 0:
                ax.set_title(f"edge: {edge_label(e)}", fontsize=9)
            if r == rows - 1:
                ax.set_xlabel("epoch (shrink step)", fontsize=9)
        axes[r][0].set_ylabel(
            f"{run.label}\nscore (log)", color=method_color(run.method), fontsize=9
        )
    handles = [Line2D([], [], color=OP_COLORS[op], marker="o", ms=4, label=op) for op in OPS] + [
        Line2D([], [], color="black", linestyle="none", marker="^", label="+inf (top line)"),
        Line2D([], [], color="black", linestyle="none", marker="x", mew=1.5, label="removed"),
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        fontsize=8,
        bbox_to_anchor=(0.5, -0.02),
    )
    datasets = ", ".join(sorted({r.dataset for r in shrinking}))
    fig.suptitle(
        f"Importance score of each op per edge at each shrink step, every run ({datasets}); "
        "at each step the op with the largest score on an edge is removed (×)",
        fontsize=10,
    )
    fig.subplots_adjust(hspace=0.3, wspace=0.08, bottom=0.25 if rows == 1 else 0.14)
    return save(fig, out)
