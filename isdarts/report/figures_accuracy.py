"""``accuracy.png``: the current cell's benchmark test accuracy per epoch, per method.

Per method a bold mean over seeds, a min-max band and each seed as a thin line; the published
rows as dashed horizontal lines; epochs that end with a shrink step marked (▼ at the top and a
dotted line). When a few values lie far below the rest (a collapsed seed, a published DARTS
row), the y axis is broken: a small lower panel holds them, so that they do not stretch the
axis until the other lines merge; the caption says where it is broken and what lies below.
"""

from __future__ import annotations

import math
import textwrap

from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from isdarts.bench.evidence import TEST_COLUMN
from isdarts.report.figures_common import (
    Run,
    by_method,
    mean,
    method_color,
    save,
    seeds_text,
)
from isdarts.report.mdtext import method_label
from isdarts.report.published import PublishedRow, match

DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
MIN_RANGE = 20.0  # values within this many percentage points share one axis
MIN_BREAK = 8.0  # a gap (percentage points) narrower than this never breaks the axis
BREAK_SHARE = 0.3  # ... nor one narrower than this share of the whole range
SHARE_RATIO = 2.0  # methods whose epochs differ more: x = epoch / the method's epochs


def split_range(values: list[float], seed_values: list[float]) -> tuple[float, float] | None:
    """Where to break the y axis: the widest empty gap (a, b) between the values that keeps at
    least half of the seeds' values above it, if it is wide (``MIN_BREAK``, ``BREAK_SHARE``)
    and the values span more than ``MIN_RANGE``; None for one axis."""
    u = sorted(set(values))
    if len(u) < 2 or u[-1] - u[0] <= MIN_RANGE:
        return None
    best = None
    for a, b in zip(u, u[1:], strict=False):
        above = sum(v >= b for v in seed_values)
        if above * 2 >= len(seed_values) and (best is None or b - a > best[1] - best[0]):
            best = (a, b)
    if best is None:
        return None
    gap = best[1] - best[0]
    return best if gap >= max(MIN_BREAK, BREAK_SHARE * (u[-1] - u[0])) else None


def _limits(lo: float, hi: float) -> tuple[float, float]:
    pad = max(1.0, 0.06 * (hi - lo))
    return lo - pad, hi + pad


def _series(group: list[Run], column: str, last: int):
    """Epochs 1..last; per seed its accuracies (nan where no cell), and the mean/min/max."""
    xs = list(range(1, last + 1))
    per_seed = []
    for run in group:
        by_epoch = {rec["epoch"]: rec["benchmark"][column] for rec in run.log if rec["benchmark"]}
        per_seed.append([by_epoch.get(x, math.nan) for x in xs])
    cols = [[s[i] for s in per_seed if not math.isnan(s[i])] for i in range(len(xs))]
    return (
        xs,
        per_seed,
        [mean(c) for c in cols],
        [min(c) if c else math.nan for c in cols],
        [max(c) if c else math.nan for c in cols],
    )


def x_scales(lengths: dict[str, int]) -> dict[str, float]:
    """Each method's factor from epochs to the x axis: 1 (one epoch axis) unless the methods'
    lengths differ more than ``SHARE_RATIO``-fold, then 1 / its epochs (the share done)."""
    if max(lengths.values()) > SHARE_RATIO * min(lengths.values()):
        return {m: 1.0 / n for m, n in lengths.items()}
    return dict.fromkeys(lengths, 1.0)


def _start_note(method: str, group: list[Run]) -> str | None:
    """Why a method's lines start late (IS-DARTS: no cell before its first shrink step)."""
    firsts = [min((r["epoch"] for r in run.log if r.get("arch")), default=None) for run in group]
    firsts = [f for f in firsts if f is not None]
    if not firsts or min(firsts) == 1:
        return None
    first, name = min(firsts), method_label(method)
    last = max(run.epochs[-1] for run in group)
    shrinks = sorted({e for run in group for e in run.shrink_epochs})
    if first == last:
        return f"{name} has a cell only at its last epoch ({last}): one point per seed."
    if shrinks and first == shrinks[0]:
        return (
            f"{name} lines start at epoch {first}, its first shrink step (it has no cell before)."
        )
    return f"{name} has no cell before epoch {first}."


def _broken_marks(top, bottom) -> None:
    """The usual diagonal marks of a broken axis, and no spine across the break."""
    top.spines["bottom"].set_visible(False)
    bottom.spines["top"].set_visible(False)
    top.tick_params(bottom=False, labelbottom=False)
    kw = dict(marker=[(-1, -0.6), (1, 0.6)], markersize=10, linestyle="none", color="k", mec="k")
    top.plot([0, 1], [0, 0], transform=top.transAxes, clip_on=False, **kw)
    bottom.plot([0, 1], [1, 1], transform=bottom.transAxes, clip_on=False, **kw)


def _draw_dataset(fig: Figure, cell, runs: list[Run], dataset: str, published) -> None:
    column = TEST_COLUMN[dataset]
    groups = by_method(runs)
    last = max(run.epochs[-1] for run in runs)
    # methods of very different lengths (the baselines: 14 to 100 epochs; more than
    # SHARE_RATIO apart) share one x axis as the share of their search done, epoch / epochs
    lengths = {m: max(run.epochs[-1] for run in g) for m, g in groups.items()}
    scale = x_scales(lengths)
    share = any(f != 1.0 for f in scale.values())
    series = {m: _series(g, column, lengths[m] if share else last) for m, g in groups.items()}
    refs: list[tuple[str, PublishedRow]] = []
    for method in groups:
        row = match(list(published), runs[0].space, method, dataset)
        if row is not None:
            refs.append((method, row))
    seed_values = [v for s in series.values() for seed in s[1] for v in seed if not math.isnan(v)]
    # the means too: a mean between a collapsed seed and the others must not fall in the break
    means = [v for s in series.values() for v in s[2] if not math.isnan(v)]
    values = seed_values + means + [row.mean[column] for _, row in refs]
    split = split_range(values, seed_values) if seed_values else None

    if split is None:
        axes = [fig.add_subplot(cell)]
        lo, hi = (min(values), max(values)) if values else (0.0, 100.0)
        limits = [_limits(lo, hi)]
    else:
        sub = cell.subgridspec(2, 1, height_ratios=(3.2, 1), hspace=0.08)
        axes = [fig.add_subplot(sub[0])]
        axes.append(fig.add_subplot(sub[1], sharex=axes[0]))
        limits = [_limits(split[1], max(values)), _limits(min(values), split[0])]

    handles, labels = [], []
    for k, ax in enumerate(axes):
        for method, group in groups.items():
            color = method_color(method)
            xs, per_seed, mid, lo_, hi_ = series[method]
            xs = [x * scale[method] for x in xs]
            for ys in per_seed:
                ax.plot(xs, ys, color=color, linewidth=0.7, alpha=0.45, marker=".", ms=3)
            ax.fill_between(xs, lo_, hi_, color=color, alpha=0.16, linewidth=0)
            (line,) = ax.plot(xs, mid, color=color, linewidth=2.0, marker="o", markersize=3.5)
            shrinks = sorted({e for run in group for e in run.shrink_epochs})
            for e in shrinks:
                ax.axvline(e * scale[method], color=color, linestyle=":", linewidth=0.9, alpha=0.7)
            if k == 0:
                handles.append((Patch(color=color, alpha=0.25, linewidth=0), line))
                epochs = f", {lengths[method]} epochs" if share else ""
                labels.append(f"{method_label(method)} ({seeds_text(group)}{epochs})")
                if shrinks:
                    ax.plot(
                        [e * scale[method] for e in shrinks],
                        [1.0] * len(shrinks),
                        transform=blended_transform_factory(ax.transData, ax.transAxes),
                        linestyle="none",
                        marker="v",
                        markersize=7,
                        color=color,
                        clip_on=False,
                    )
                    handles.append(Line2D([], [], color=color, linestyle="none", marker="v"))
                    labels.append(
                        f"{method_label(method)}: shrink step, epoch "
                        + ", ".join(map(str, shrinks))
                    )
        for method, row in refs:
            value = row.mean[column]
            ref = ax.axhline(
                value, color=method_color(method), linewidth=1.6, linestyle=(0, (6, 2.5))
            )
            if k == 0:
                handles.append(ref)
                labels.append(f"{row.method}, published: {value:.2f}")
        ax.set_ylim(*limits[k])
        ax.grid(alpha=0.3)
        if share:
            ax.set_xlim(0.0, 1.02)
        else:
            ax.set_xlim(0.5, last + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(axes) == 2:
        _broken_marks(*axes)
        axes[1].yaxis.set_major_locator(MaxNLocator(nbins=2, steps=[1, 2, 5, 10]))
    name = DATASET_NAMES.get(dataset, dataset)
    axes[0].set_ylabel(f"{name} test accuracy (%)")
    axes[-1].set_xlabel(
        "share of the search done (epoch / the method's epochs)" if share else "epoch"
    )
    axes[0].set_title(
        f"NAS-Bench-201 {name} test accuracy of the current cell during the search on {name}",
        fontsize=10,
        pad=12,
    )
    axes[0].legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=1)},
        handlelength=3.2,
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
    )
    notes = [
        "Bold line: mean over seeds; band: min-max over seeds; thin lines: single seeds; "
        "dashed: published row; ▼ and dotted lines: epochs that end with a shrink step.",
    ]
    notes += [n for n in (_start_note(m, g) for m, g in groups.items()) if n]
    if share:
        notes.append(
            "The methods run different numbers of epochs ("
            + ", ".join(f"{method_label(m)} {n}" for m, n in lengths.items())
            + "): each is drawn against the share of its own search."
        )
    if split is not None:
        below = [f"{row.method}, published" for _, row in refs if row.mean[column] <= split[0]]
        below += [
            f"{run.label}"
            for g in groups.values()
            for run in g
            if any(rec["benchmark"] and rec["benchmark"][column] <= split[0] for rec in run.log)
        ]
        notes.append(
            f"The y axis is broken between {split[0]:.1f} and {split[1]:.1f} %: the small "
            f"lower panel, on its own scale, holds what lies below ({'; '.join(below)})."
        )
    axes[-1].text(
        0.0,
        -0.62 if len(axes) == 2 else -0.16,
        "\n".join(textwrap.fill(n, 130) for n in notes),
        transform=axes[-1].transAxes,
        va="top",
        ha="left",
        fontsize=8,
    )


def accuracy_figure(runs: list[Run], out, published: list[PublishedRow] = ()):
    datasets = sorted({r.dataset for r in runs})
    fig = Figure(figsize=(8.0, 4.6 * len(datasets)))
    grid = fig.add_gridspec(len(datasets), 1, hspace=0.7)
    for k, dataset in enumerate(datasets):
        _draw_dataset(fig, grid[k], [r for r in runs if r.dataset == dataset], dataset, published)
    return save(fig, out)
