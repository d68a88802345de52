"""Draw a genotype's normal and reduction cells as graphs with matplotlib (no graphviz).

All nodes sit on one line, left to right: the cell inputs ``c_{k-2}``, ``c_{k-1}``, the
intermediate nodes, the output ``c_{k}``. Nodes are numbered as in the genotypes: the inputs
are 0 (``c_{k-2}``) and 1 (``c_{k-1}``), the intermediate nodes 2..5, so a pair ``(op, j)``
of a genotype is an arc from the node labelled ``j``. Each (op, input) pair is an arc labelled with its op
(the first input of a node above the line, the second below), so two ops on the same
(input, node) pair stay apart; ops have fixed colours across figures.
"""

from __future__ import annotations

import os
from pathlib import Path

from isdarts.spaces.darts.names import PRIMITIVES, Genotype

_COLOURS = dict(
    zip(
        PRIMITIVES,
        ["#999999", "#2ca02c", "#1f77b4", "#17becf", "#ff7f0e", "#d62728", "#9467bd", "#8c564b"],
        strict=True,
    )
)


_STEP = 1.6  # horizontal distance between neighbouring nodes


def _x(node: int | str, steps: int) -> float:
    return _STEP * (steps + 2.6) if node == "out" else _STEP * node


NUMBERING = (
    "nodes numbered as in the genotypes: inputs 0 = $c_{k-2}$, 1 = $c_{k-1}$, intermediate 2-5"
)


def draw_cell(ax, genotype: Genotype, kind: str, title: str | None = None) -> None:
    """An arc diagram: all nodes on one line; the first input of each node arcs above the
    line, the second below, with height growing with the distance, op name at the apex.
    ``title``: the axes' title (default: the cell kind and which arcs are which)."""
    import matplotlib.patches as mpatches

    pairs, concat = genotype.cell(kind)
    steps = len(pairs) // 2
    labels: dict[int | str, str] = {0: "0: $c_{k-2}$", 1: "1: $c_{k-1}$", "out": "$c_{k}$"}
    labels.update({2 + i: f"node {2 + i}" for i in range(steps)})
    top = 0.0

    def arc(src, dst, colour, rad, width=1.8, style="-|>"):
        x0, x1 = _x(src, steps), _x(dst, steps)
        ax.add_patch(
            mpatches.FancyArrowPatch(
                (x0, 0),
                (x1, 0),
                arrowstyle=style,
                mutation_scale=14,
                color=colour,
                lw=width,
                shrinkA=16,
                shrinkB=16,
                connectionstyle=f"arc3,rad={rad}",
                zorder=1,
            )
        )
        return (x0 + x1) / 2, -rad * (x1 - x0) / 2  # apex of the quadratic curve

    for k, (op, src) in enumerate(pairs):
        span = _x(2 + k // 2, steps) - _x(src, steps)
        height = 0.45 + 0.35 * span / _STEP  # longer arcs higher: apexes never coincide
        rad = 2 * height / span * (-1 if k % 2 == 0 else 1)  # first above, second below
        mx, my = arc(src, 2 + k // 2, _COLOURS[op], rad)
        top = max(top, abs(my))
        ax.text(
            mx,
            my,
            op,
            fontsize=9,
            ha="center",
            va="center",
            color=_COLOURS[op],
            zorder=3,
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec=_COLOURS[op], lw=0.8),
        )
    for n in concat:
        arc(n, "out", "#b0b0b0", 0.12, width=1.0)
    for node, text in labels.items():
        io = node in (0, 1, "out")
        ax.text(
            _x(node, steps),
            0,
            text,
            ha="center",
            va="center",
            fontsize=11,
            zorder=4,
            bbox=dict(boxstyle="round,pad=0.45", fc="#dddddd" if io else "#fff2b3", ec="black"),
        )
    ax.text(
        _x("out", steps),
        -0.55,
        "concat " + ", ".join(str(n) for n in concat),
        ha="center",
        va="top",
        fontsize=8,
        color="#777777",
    )
    ax.set_xlim(-0.8, _x("out", steps) + 0.8)
    ax.set_ylim(-top - 0.5, top + 0.5)
    ax.set_aspect("equal")  # arc3 bends in display space: equal scales keep apexes on the labels
    ax.set_axis_off()
    if title is None:
        title = f"{kind} cell (above: first input of a node, below: second)"
    ax.set_title(title, fontsize=11)


def plot_genotype(genotype: Genotype, path: str | os.PathLike, title: str = "") -> Path:
    """Write a PNG with the normal cell above the reduction cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from isdarts._io import atomic_write

    fig, axes = plt.subplots(2, 1, figsize=(11, 9))
    for ax, kind in zip(axes, ("normal", "reduce"), strict=True):
        draw_cell(ax, genotype, kind)
    fig.suptitle(f"{title}\n{NUMBERING}" if title else NUMBERING, fontsize=13)
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)
    return path


def plot_cells_grid(
    cells: list[tuple[str, Genotype]], path: str | os.PathLike, title: str = ""
) -> Path:
    """One PNG with every cell of ``cells`` ((name, genotype), one row each): the normal cell
    left, the reduction cell right, the name in each panel's title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from isdarts._io import atomic_write

    if not cells:
        raise ValueError("no cells to draw")
    height = 3.4 * len(cells) + 1.2
    fig, axes = plt.subplots(len(cells), 2, figsize=(19, height), squeeze=False)
    for row, (name, genotype) in zip(axes, cells, strict=True):
        for ax, kind in zip(row, ("normal", "reduce"), strict=True):
            draw_cell(ax, genotype, kind, title=f"{name}: {kind} cell")
    head = "above the line: first input of a node, below: second; " + NUMBERING
    fig.suptitle(f"{title}\n{head}" if title else head, fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 1 - 1.0 / height))  # room for the two-line title
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, dpi=100, format="png"))
    plt.close(fig)
    return path
