"""``ops.png`` and ``alphas.png``: what the search holds per epoch, per method.

- ``ops``: the current cell's op per edge as a stacked bar per epoch (mean over seeds, so a
  bar is always 6 edges high), and, for methods that shrink the supernet, how many candidates
  of each op are left (0..6 edges). A method that never shrinks gets no such panel, only a
  line that says so.
- ``alphas``: for methods whose log holds architecture weights (``alphas``: the softmax per
  edge), the weight of each op on each edge per epoch, mean over seeds; one row of six edge
  panels per method.

Every panel of a figure has the same epoch range; ops are coloured by ``OP_COLORS`` and
methods are named in their own colour.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from isdarts.bench import EDGES, OPS, parse
from isdarts.report.figures_accuracy import x_scales
from isdarts.report.figures_common import (
    OP_COLORS,
    OP_HATCH,
    Run,
    by_method,
    edge_label,
    mean,
    method_color,
    note_figure,
    save,
    seeds_text,
)
from isdarts.report.mdtext import method_label

NEST_WIDTHS = (5.0, 4.0, 3.0, 2.0, 1.0)  # coinciding candidate lines nest, widest first


def _op_handles(kind: str = "patch") -> list:
    if kind == "line":
        return [
            Line2D([], [], color=OP_COLORS[op], linewidth=w, label=op)
            for op, w in zip(OPS, NEST_WIDTHS, strict=True)
        ]
    return [
        Patch(
            facecolor="white" if op in OP_HATCH else OP_COLORS[op],
            edgecolor=OP_COLORS[op],
            hatch=OP_HATCH.get(op),
            label=op,
        )
        for op in OPS
    ]


def _per_epoch(group: list[Run], last: int, count) -> dict[str, list[float]]:
    """Per op, epochs 1..last: the mean over the seeds of ``count(record)`` (nan: none)."""
    out = {op: [] for op in OPS}
    for epoch in range(1, last + 1):
        counts = [count(run.log[epoch - 1]) for run in group if epoch <= len(run.log)]
        counts = [c for c in counts if c is not None]
        for op in OPS:
            out[op].append(mean(c[op] for c in counts) if counts else math.nan)
    return out


def _cell_counts(rec: dict) -> dict[str, float] | None:
    if not rec.get("arch"):
        return None
    ops = parse(rec["arch"])
    return {op: float(ops.count(op)) for op in OPS}


def _mask_counts(rec: dict) -> dict[str, float] | None:
    masks = rec.get("masks")
    if not masks:
        return None
    return {op: float(sum(bool(edge[i]) for edge in masks)) for i, op in enumerate(OPS)}


def _shrinks(group: list[Run]) -> bool:
    """Whether any run of the method ever drops a candidate."""
    return any(
        rec.get("masks") and not all(all(edge) for edge in rec["masks"])
        for run in group
        for rec in run.log
    )


def _title(ax, method: str, group: list[Run], what: str) -> None:
    ax.set_title(
        f"{method_label(method)}, {seeds_text(group)}\n{what}",
        fontsize=9,
        color=method_color(method),
    )


def _epoch_axis(ax, last: int) -> None:
    ax.set_xlim(0.4, last + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.tick_params(labelbottom=True)


def _cell_bars(ax, group: list[Run], last: int) -> None:
    counts = _per_epoch(group, last, _cell_counts)
    xs = list(range(1, last + 1))
    bottom = [0.0] * last
    for op in OPS:
        heights = [0.0 if math.isnan(v) else v for v in counts[op]]
        ax.bar(
            xs,
            heights,
            bottom=bottom,
            width=0.85,
            color="white" if op in OP_HATCH else OP_COLORS[op],
            edgecolor=OP_COLORS[op] if op in OP_HATCH else "white",
            hatch=OP_HATCH.get(op),
            linewidth=0.4,
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    first = next((x for x in xs if not math.isnan(counts[OPS[0]][x - 1])), None)
    if first is not None and first > 2:
        ax.text(
            first / 2,
            3.0,
            f"no cell\nbefore\nepoch {first}",
            ha="center",
            va="center",
            fontsize=7.5,
            style="italic",
        )
    ax.set_ylim(0, len(EDGES))
    ax.set_yticks(range(len(EDGES) + 1))
    ax.grid(alpha=0.3, axis="y")


def _candidate_lines(ax, group: list[Run], last: int) -> None:
    counts = _per_epoch(group, last, _mask_counts)
    xs = list(range(1, last + 1))
    for op, width in zip(OPS, NEST_WIDTHS, strict=True):
        ax.plot(xs, counts[op], color=OP_COLORS[op], linewidth=width, solid_capstyle="butt")
    for e in sorted({e for run in group for e in run.shrink_epochs}):
        ax.axvline(e, color="black", linestyle=":", linewidth=0.7, alpha=0.5)
    ax.set_ylim(-0.25, len(EDGES) + 0.25)
    ax.set_yticks(range(len(EDGES) + 1))
    ax.grid(alpha=0.3, axis="y")


def ops_figure(runs: list[Run], out):
    groups = by_method(runs)
    lengths = {m: max(run.epochs[-1] for run in g) for m, g in groups.items()}
    # one epoch range for every panel, unless the methods' lengths differ more than twofold
    # (the baselines: 14 to 100 epochs), then each panel its own method's
    own = len(set(x_scales(lengths).values())) > 1
    shrinking = [m for m, g in groups.items() if _shrinks(g)]
    n, rows = len(groups), 2 if shrinking else 1
    fig = Figure(figsize=(min(max(4.2 * n, 7.0), 26.0), 3.4 * rows + 1.2))
    axes = fig.subplots(rows, n, squeeze=False, sharex=not own)
    for j, (method, group) in enumerate(groups.items()):
        last = lengths[method] if own else max(lengths.values())
        ax = axes[0][j]
        _cell_bars(ax, group, last)
        _title(ax, method, group, "op per edge of the current cell")
        _epoch_axis(ax, last)
        if j == 0:
            ax.set_ylabel("edges (of 6), mean over seeds")
        if not shrinking:
            continue
        ax = axes[1][j]
        if method in shrinking:
            _candidate_lines(ax, group, last)
            _title(ax, method, group, "candidates left in the supernet")
            ax.set_ylabel("edges (of 6) keeping the op")
            _epoch_axis(ax, last)
        else:
            ax.set_axis_off()
            ax.text(
                0.5,
                0.5,
                f"{method_label(method)}:\nno shrinking, all {len(OPS)} ops stay\n"
                f"on all {len(EDGES)} edges (no panel)",
                ha="center",
                va="center",
                fontsize=9,
                color=method_color(method),
                transform=ax.transAxes,
            )
    fig.legend(
        handles=_op_handles("patch"),
        loc="lower center",
        ncol=len(OPS),
        fontsize=8,
        bbox_to_anchor=(0.5, -0.02),
        title="op (top row: stacked, bottom to top in this order)",
        title_fontsize=8,
    )
    note = (
        "Bottom row: candidates per op, mean over seeds; coinciding lines nest (widest: none); "
        "dotted: shrink steps."
        if shrinking
        else "No method in this set shrinks its supernet: no candidates panel."
    )
    fig.suptitle(f"Ops per epoch. {note}", fontsize=9)
    fig.subplots_adjust(hspace=0.55, wspace=0.25, bottom=0.2 if rows == 1 else 0.13)
    return save(fig, out)


def alphas_figure(runs: list[Run], out):
    groups = {m: g for m, g in by_method(runs).items() if any(any(r.alphas()) for r in g)}
    if not groups:
        return save(note_figure("no method in this set logs architecture weights (alphas)"), out)
    last = max(run.epochs[-1] for g in groups.values() for run in g)
    fig = Figure(figsize=(15.0, 2.5 * len(groups) + 1.3))
    axes = fig.subplots(len(groups), len(EDGES), squeeze=False, sharex=True)
    for i, (method, group) in enumerate(groups.items()):
        per_run = [r.alphas() for r in group]
        xs = list(range(1, last + 1))
        weights = [
            [
                [
                    mean(a[x - 1][e][k] for a in per_run if x <= len(a) and a[x - 1] is not None)
                    for x in xs
                ]
                for k in range(len(OPS))
            ]
            for e in range(len(EDGES))
        ]
        shown = [v for edge in weights for op in edge for v in op if not math.isnan(v)]
        lo, hi = min(shown + [1 / len(OPS)]), max(shown + [1 / len(OPS)])
        pad = max(0.1 * (hi - lo), 0.005)
        for e in range(len(EDGES)):
            ax = axes[i][e]
            ax.axhline(1 / len(OPS), color="black", linestyle=":", linewidth=0.8)
            for k, op in enumerate(OPS):
                ax.plot(xs, weights[e][k], color=OP_COLORS[op], linewidth=1.6, label=op)
            ax.set_ylim(max(0.0, lo - pad), min(1.0, hi + pad))
            ax.grid(alpha=0.3)
            _epoch_axis(ax, last)
            if i == 0:
                ax.set_title(f"edge: {edge_label(e)}", fontsize=9)
            if e == 0:
                ax.set_ylabel(
                    f"{method_label(method)}\n({seeds_text(group)})\nsoftmax weight",
                    color=method_color(method),
                    fontsize=9,
                )
            else:
                ax.tick_params(labelleft=False)
            if i < len(groups) - 1:
                ax.set_xlabel("")
    handles = [Line2D([], [], color=OP_COLORS[op], linewidth=1.6, label=op) for op in OPS]
    handles.append(Line2D([], [], color="black", linestyle=":", label=f"uniform (1/{len(OPS)})"))
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        fontsize=8,
        bbox_to_anchor=(0.5, -0.03),
    )
    fig.suptitle(
        "Architecture weights (softmax over the ops of each edge) per epoch, mean over seeds "
        "(y range: each method's own)",
        fontsize=10,
    )
    one = len(groups) == 1
    fig.subplots_adjust(
        hspace=0.35, wspace=0.08, bottom=0.2 if one else 0.12, top=0.84 if one else 0.9
    )
    return save(fig, out)
