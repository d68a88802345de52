"""``accuracy.png``: where each method's cells ended up, and how they got there.

- Top row, one panel per data set (CIFAR-10, CIFAR-100, ImageNet16-120 test accuracy of the
  final cell): a strip plot, one dot per seed, a bar at each method's mean and a black dash at
  its published value.
- Below, small multiples: one row per method, one column per data set, each on the method's
  own epoch axis: the current cell's benchmark test accuracy per epoch, a bold mean over
  seeds, a min-max band and each seed thin; the method's published value as a dashed line (a
  note instead where it lies far outside the panel); epochs that end with a shrink step
  marked (▼ at the top and a dotted line).

No legend to decode: a method's panels carry its name in its colour; the caption under the
figure says what each mark is.
"""

from __future__ import annotations

import math
import textwrap

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from isdarts.report.figures_common import Run, by_method, mean, method_color, save, seeds_text
from isdarts.report.mdtext import method_label
from isdarts.report.numbers import fixed
from isdarts.report.published import PublishedRow, match

DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
# The three benchmark test columns every cell is looked up on, in the paper's order.
PANELS = (
    ("cifar10_test", "CIFAR-10"),
    ("cifar100_test", "CIFAR-100"),
    ("imagenet16_test", "ImageNet16-120"),
)
FAR = 10.0  # a published value further than this outside a panel's data: a note, not a line


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


def _final(run: Run, column: str) -> float:
    """The benchmark value of the run's final cell (its result's look-up)."""
    return float(run.result["benchmark"][column])


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
        return f"{name} has no cell before its first shrink step (epoch {first})."
    return f"{name} has no cell before epoch {first}."


def _groups(runs: list[Run]) -> list[tuple[str, str, list[Run]]]:
    """(method, search data set, runs) in the reports' order."""
    out = []
    for dataset in sorted({r.dataset for r in runs}):
        for method, group in by_method([r for r in runs if r.dataset == dataset]).items():
            out.append((method, dataset, group))
    return out


def _name(method: str, dataset: str, several: bool) -> str:
    return method_label(method) + (f" (search on {DATASET_NAMES[dataset]})" if several else "")


def _strip(ax, groups, column: str, title: str, published, several: bool) -> None:
    """One dot per seed of each group's final cell, a bar at the mean, a dash at the
    published value."""
    for i, (method, dataset, group) in enumerate(groups):
        color = method_color(method)
        values = [_final(run, column) for run in group]
        n = len(values)
        xs = [i + (j - (n - 1) / 2) * min(0.5 / max(n, 1), 0.12) for j in range(n)]
        ax.plot(xs, values, "o", color=color, ms=5, alpha=0.85)
        ax.plot([i - 0.3, i + 0.3], [mean(values)] * 2, color=color, lw=2.5)
        row = match(list(published), group[0].space, method, dataset)
        if row is not None:
            ax.plot([i - 0.38, i + 0.38], [row.mean[column]] * 2, color="black", lw=1.4, ls="--")
    ax.set_xticks(
        range(len(groups)),
        [_name(m, d, several) for m, d, _ in groups],
        rotation=35 if len(groups) > 3 else 0,
        ha="right" if len(groups) > 3 else "center",
        fontsize=8,
    )
    for label, (method, _, _) in zip(ax.get_xticklabels(), groups, strict=True):
        label.set_color(method_color(method))
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_title(f"{title} test accuracy of the final cell (%)", fontsize=9)
    ax.grid(alpha=0.3, axis="y")


def _trajectory(ax, group: list[Run], column: str, row: PublishedRow | None, color: str) -> None:
    last = max(run.epochs[-1] for run in group)
    xs, per_seed, mid, lo, hi = _series(group, column, last)
    for ys in per_seed:
        ax.plot(xs, ys, color=color, linewidth=0.7, alpha=0.45, marker=".", ms=3)
    ax.fill_between(xs, lo, hi, color=color, alpha=0.16, linewidth=0)
    ax.plot(xs, mid, color=color, linewidth=2.0, marker="o", markersize=3)
    shown = [v for ys in per_seed for v in ys if not math.isnan(v)]
    shrinks = sorted({e for run in group for e in run.shrink_epochs})
    for e in shrinks:
        ax.axvline(e, color=color, linestyle=":", linewidth=0.9, alpha=0.7)
    if shrinks:
        ax.plot(
            shrinks,
            [1.0] * len(shrinks),
            transform=blended_transform_factory(ax.transData, ax.transAxes),
            linestyle="none",
            marker="v",
            markersize=6,
            color=color,
            clip_on=False,
        )
    lo_, hi_ = (min(shown), max(shown)) if shown else (0.0, 100.0)
    if row is not None:
        value = row.mean[column]
        if lo_ - FAR <= value <= hi_ + FAR:
            ax.axhline(value, color="black", linewidth=1.2, linestyle=(0, (5, 2.5)))
            lo_, hi_ = min(lo_, value), max(hi_, value)
        else:
            where = "below" if value < lo_ else "above"
            ax.text(0.98, 0.04 if where == "below" else 0.9,
                    f"published {fixed(value)} ({where} this panel)",
                    transform=ax.transAxes, ha="right", fontsize=7, style="italic")  # fmt: skip
    pad = max(0.5, 0.08 * (hi_ - lo_))
    ax.set_ylim(lo_ - pad, hi_ + pad)
    ax.set_xlim(0.5, last + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def accuracy_figure(runs: list[Run], out, published: list[PublishedRow] = ()):
    groups = _groups(runs)
    several = len({d for _, d, _ in groups}) > 1
    rows = len(groups)
    spacer = len(groups) > 3  # an empty row for the strip plots' slanted method names
    height = 3.4 + (0.8 if spacer else 0.0) + 2.0 * rows
    fig = Figure(figsize=(12.0, height))
    ratios = [1.7] + ([0.3] if spacer else []) + [1.0] * rows
    grid = fig.add_gridspec(
        len(ratios), len(PANELS), height_ratios=ratios, hspace=0.55, wspace=0.22
    )
    first = len(ratios) - rows  # the grid row of the first method
    for k, (column, title) in enumerate(PANELS):
        _strip(fig.add_subplot(grid[0, k]), groups, column, title, published, several)
    for i, (method, dataset, group) in enumerate(groups, start=1):
        color = method_color(method)
        row = match(list(published), group[0].space, method, dataset)
        for k, (column, title) in enumerate(PANELS):
            ax = fig.add_subplot(grid[first + i - 1, k])
            _trajectory(ax, group, column, row, color)
            if i == 1:
                ax.set_title(f"{title} test accuracy of the current cell (%)", fontsize=9)
            if k == 0:
                ax.set_ylabel(
                    f"{_name(method, dataset, several)}\n{seeds_text(group)}",
                    color=color,
                    fontsize=8,
                )
            if i == rows:
                ax.set_xlabel("epoch (each method its own)", fontsize=8)
    notes = [
        "Top: each dot one seed's final cell, the coloured bar the mean over seeds, the black "
        "dashed bar the published value. Below, per method on its own epoch axis: bold line "
        "the mean over seeds, band min-max, thin lines single seeds; black dashed line the "
        "published value; ▼ and dotted lines: epochs that end with a shrink step.",
    ]
    notes += [n for n in (_start_note(m, g) for m, _, g in groups) if n]
    text = "\n".join(textwrap.fill(n, 150) for n in notes)
    # room under the last row for its epoch labels and the notes (about 0.15 in a line)
    bottom = 0.75 + 0.15 * (text.count("\n") + 1)
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.3 / height, bottom=bottom / height)
    fig.text(0.06, 0.1 / height, text, fontsize=8, va="bottom")
    return save(fig, out)
