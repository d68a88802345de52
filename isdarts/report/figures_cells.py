"""``ops.png`` and ``alphas.png``: what the search holds per epoch, per method.

- ``ops``: small multiples, per method the current cell's op per edge as a stacked bar per
  epoch (mean over seeds, so a bar is always 6 edges high), and, for methods that shrink the
  supernet, a panel of how many candidates of each op are left (0..6 edges).
- ``alphas``: for methods whose log holds architecture weights (``alphas``: the softmax per
  edge), the weight of each op on each edge per epoch, mean over seeds; one row of six edge
  panels per method.

Every method is drawn on its own epoch axis (the baselines search for 14 to 250 epochs); no
panel is left empty; ops are coloured by ``OP_COLORS`` and methods are named in their own
colour.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from isdarts.bench import EDGES, OPS, parse
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
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
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


COLUMNS_PER_ROW = 4  # small multiples: panels per row


def ops_panels(runs: list[Run]) -> list[tuple[str, str]]:
    """The ops figure's panels in order: (method, "cell") for every method, each followed by
    (method, "candidates") if the method shrinks its supernet."""
    panels: list[tuple[str, str]] = []
    for method, group in by_method(runs).items():
        panels.append((method, "cell"))
        if _shrinks(group):
            panels.append((method, "candidates"))
    return panels


def alphas_methods(runs: list[Run]) -> list[str]:
    """The methods the alphas figure has a row for: those whose log holds architecture weights
    on more than one epoch."""
    return [m for m, g in by_method(runs).items() if _logs_alphas(g)]


def ops_figure(runs: list[Run], out):
    """Small multiples, each on its method's own epoch axis: per method the current cell's ops
    per epoch (stacked), and right after it, for a method that shrinks its supernet, the
    candidates left; no empty panel."""
    groups = by_method(runs)
    panels = ops_panels(runs)
    cols = min(COLUMNS_PER_ROW, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(3.7 * cols + 0.6, 2.9 * rows + 1.3))
    for k, (method, kind) in enumerate(panels):
        group = groups[method]
        last = max(run.epochs[-1] for run in group)
        ax = fig.add_subplot(rows, cols, k + 1)
        if kind == "cell":
            _cell_bars(ax, group, last)
            _title(ax, method, group, "op per edge of the current cell")
            ax.set_ylabel("edges (of 6), mean over seeds", fontsize=8)
        else:
            _candidate_lines(ax, group, last)
            _title(ax, method, group, "candidates left in the supernet")
            ax.set_ylabel("edges (of 6) keeping the op", fontsize=8)
        _epoch_axis(ax, last)
    fig.legend(
        handles=_op_handles("patch"),
        loc="lower center",
        ncol=len(OPS),
        fontsize=8,
        bbox_to_anchor=(0.5, 0.0),
        title="op (cell panels: stacked, bottom to top in this order)",
        title_fontsize=8,
    )
    shrinking = [method_label(m) for m, kind in panels if kind == "candidates"]
    note = (
        f"Candidates panels (the methods that shrink their supernet: {', '.join(shrinking)}): "
        "edges keeping each op, mean over seeds; coinciding lines nest (widest: none); dotted: "
        "shrink steps."
        if shrinking
        else "No method here shrinks its supernet (all ops stay on all edges): no candidates panel."
    )
    fig.suptitle("Ops per epoch, each method on its own epoch axis.\n" + note, fontsize=9)
    fig.subplots_adjust(
        hspace=0.7, wspace=0.3, bottom=1.1 / fig.get_figheight(), top=1 - 1.1 / fig.get_figheight()
    )
    return save(fig, out)


def _logs_alphas(group: list[Run]) -> bool:
    """Whether the method's log holds architecture weights on more than one epoch (RSPS: its
    final cell's counts only, no trajectory to draw)."""
    return any(sum(a is not None for a in r.alphas()) > 1 for r in group)


def alphas_figure(runs: list[Run], out):
    groups = {m: g for m, g in by_method(runs).items() if _logs_alphas(g)}
    if not groups:
        return save(note_figure("no method in this set logs architecture weights (alphas)"), out)
    fig = Figure(figsize=(15.0, 2.5 * len(groups) + 1.3))
    # each method's row on its own epoch axis
    axes = fig.subplots(len(groups), len(EDGES), squeeze=False, sharex="row")
    for i, (method, group) in enumerate(groups.items()):
        last = max(run.epochs[-1] for run in group)
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
            if e:
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
        "(each method its own epoch axis and y range)",
        fontsize=10,
    )
    height = fig.get_figheight()
    fig.subplots_adjust(hspace=0.45, wspace=0.08, bottom=0.75 / height, top=1 - 0.6 / height)
    return save(fig, out)
