"""What the node-wise shrink steps of DARTS-space IS-DARTS searches removed, read from their
logs: the evidence for the question why our cells keep so many ``skip_connect`` pairs.

Each shrink step's log row holds the importance score of every (input, op) pair still in the
supernet (``null`` for pairs already removed, ``"inf"`` for ``none``). The pairs a step removed
are those it scored that the next step no longer scores (after the last step: those not in the
final genotype); the rule removes the largest scores, so a low score keeps a pair.

``shrink.csv`` (tidy, one row per search, shrink step, cell kind, node and scored pair): seed,
step (1-based), epoch, kind, node (2..5, DARTS notation), input, op, parameter_free, score,
rank (1 = the lowest score of the node's pairs at that step), pairs (the node's pairs at that
step), removed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from isdarts._io import atomic_write
from isdarts.errors import IsdartsError
from isdarts.report.evaluate import load_log, load_result
from isdarts.report.numbers import fixed
from isdarts.spaces.darts.names import EDGES, KINDS, PARAMETER_FREE, PRIMITIVES

COLUMNS = [
    "method",
    "seed",
    "profile",
    "step",
    "epoch",
    "kind",
    "node",
    "input",
    "op",
    "parameter_free",
    "score",
    "rank",
    "pairs",
    "removed",
]
OP_COLORS = {
    "skip_connect": "tab:red",
    "avg_pool_3x3": "tab:orange",
    "max_pool_3x3": "tab:brown",
    "sep_conv_3x3": "tab:blue",
    "sep_conv_5x5": "tab:cyan",
    "dil_conv_3x3": "tab:green",
    "dil_conv_5x5": "tab:olive",
}


def _score(value: Any) -> float | None:
    if value is None:
        return None
    return math.inf if value == "inf" else float(value)


def _final_pairs(result: dict, path: Path) -> set[tuple[int, int, int, str]]:
    """(kind, node, input, op) of the final genotype."""
    genotype = result.get("genotype") or {}
    pairs = set()
    for t, kind in enumerate(KINDS):
        for n, (op, j) in enumerate(genotype.get(kind) or []):
            pairs.add((t, n // 2, int(j), str(op)))
    if len(pairs) != 2 * 8:
        raise IsdartsError(f"{path}: its genotype does not hold 8 pairs per cell kind")
    return pairs


def search_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of one IS-DARTS DARTS-space search (a folder or its ``result.json``)."""
    result = load_result(path)
    if result["space"] != "darts" or result["method"] != "isdarts":
        raise IsdartsError(f"{path}: not a DARTS-space IS-DARTS search")
    steps = [row for row in load_log(path, result) if row.get("importance") is not None]
    if not steps:
        raise IsdartsError(f"{path}: its log has no shrink step")
    scored = []
    for row in steps:
        alive = {}
        for t in range(len(KINDS)):
            for e, (node, j) in enumerate(EDGES):
                for k, op in enumerate(PRIMITIVES):
                    s = _score(row["importance"][t][e][k])
                    if s is not None:
                        alive[(t, node, j, op)] = s
        scored.append(alive)
    after = [set(a) for a in scored[1:]] + [_final_pairs(result, Path(path))]
    rows = []
    for step, (row, alive, kept) in enumerate(zip(steps, scored, after, strict=True), start=1):
        for t in range(len(KINDS)):
            for node in range(4):
                pairs = sorted(
                    ((s, key) for key, s in alive.items() if key[0] == t and key[1] == node),
                    key=lambda p: (p[0], p[1]),
                )
                for rank, (s, key) in enumerate(pairs, start=1):
                    _, _, j, op = key
                    rows.append(
                        {
                            "method": result["method"],
                            "seed": int(result["seed"]),
                            "profile": result["profile"],
                            "step": step,
                            "epoch": int(row["epoch"]),
                            "kind": KINDS[t],
                            "node": node + 2,
                            "input": j,
                            "op": op,
                            "parameter_free": op in PARAMETER_FREE,
                            "score": s,
                            "rank": rank,
                            "pairs": len(pairs),
                            "removed": key not in kept,
                        }
                    )
    return rows


def shrink_table(searches: Iterable[str | os.PathLike]) -> pd.DataFrame:
    rows, seen = [], {}
    for path in searches:
        found = search_rows(path)
        if not found:
            continue
        key = (found[0]["seed"], found[0]["profile"])
        if key in seen:
            raise IsdartsError(
                f"{path}: the search of seed {key[0]} ({key[1]}) a second time (also {seen[key]})"
            )
        seen[key] = str(path)
        rows += found
    if not rows:
        raise IsdartsError("no searches to read")
    return pd.DataFrame(rows, columns=COLUMNS)


def step_summary(table: pd.DataFrame, kind: str = "normal") -> pd.DataFrame:
    """Per shrink step (mean over searches) in one cell kind: pairs before the step, the share
    of parameter-free ones, and of the ``skip_connect`` pairs, how many there were, how many
    went and their mean rank as a fraction of the node's pairs (0 = lowest score, the safest;
    1 = the highest, removed first)."""
    part = table[table.kind == kind]
    out = []
    for step, group in part.groupby("step"):
        per_search = group.groupby("seed")
        skip = group[group.op == "skip_connect"]
        after = group[~group.removed]
        out.append(
            {
                "step": int(step),
                "pairs": per_search.size().mean(),
                "parameter_free_share": group.parameter_free.mean(),
                "parameter_free_share_after": after.parameter_free.mean(),
                "skip_pairs": skip.groupby("seed")
                .size()
                .reindex(per_search.size().index)
                .fillna(0)
                .mean(),
                "skip_removed": skip.removed.sum() / per_search.ngroups,
                "skip_rank": _rank_share(skip),
                "conv_rank": _rank_share(group[~group.parameter_free]),
            }
        )
    return pd.DataFrame(out)


def by_source(table: pd.DataFrame, kind: str = "normal") -> pd.DataFrame:
    """Per op (``none`` aside): its mean rank over all steps when its input is a cell input
    (0, 1) and when it is an intermediate node (2..4), and how many of the final pairs it
    holds from each, summed over searches."""
    part = table[(table.kind == kind) & (table.op != "none")].assign(
        source=lambda t: t["input"].map(lambda j: "cell input" if j < 2 else "node"),
        share=lambda t: (t["rank"] - 1) / (t["pairs"] - 1).clip(lower=1),
    )
    final = part[(part.step == part.step.max()) & ~part.removed]
    out = []
    for op in (p for p in PRIMITIVES if p != "none"):
        row: dict[str, Any] = {"op": op}
        for source in ("cell input", "node"):
            sel = part[(part.op == op) & (part.source == source)]
            row[f"rank {source}"] = float(sel["share"].mean()) if len(sel) else math.nan
            row[f"final {source}"] = int(((final.op == op) & (final.source == source)).sum())
        out.append(row)
    return pd.DataFrame(out)


def _rank_share(group: pd.DataFrame) -> float:
    return float(((group["rank"] - 1) / (group["pairs"] - 1).clip(lower=1)).mean())


def write_figure(table: pd.DataFrame, out: str | os.PathLike) -> Path:
    """Left: median score of each op per shrink step (normal cells, over searches and nodes;
    log scale). Right: the share of parameter-free pairs among those left after each step,
    per search and cell kind."""
    fig = Figure(figsize=(11, 4.2))
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    normal = table[(table.kind == "normal") & (table.op != "none")]
    for op, color in OP_COLORS.items():
        part = normal[normal.op == op].groupby("step")["score"].median()
        if len(part):
            left.plot(part.index, part.values, "o-", color=color, label=op)
    left.set_yscale("log")
    left.set_xlabel("shrink step")
    left.set_ylabel("importance score (median; the largest are removed)")
    left.set_title("Normal cells: score of each op")
    left.legend(fontsize=7, ncol=2)
    styles = {"normal": "-", "reduce": "--"}
    for (seed, kind), group in table.groupby(["seed", "kind"]):
        kept = group[~group.removed].groupby("step")["parameter_free"].mean()
        right.plot(kept.index, kept.values, styles[kind], marker="o", label=f"seed {seed}, {kind}")
    right.axhline(0.5, color="gray", lw=0.8)
    right.set_ylim(-0.02, 1.02)
    right.set_xlabel("shrink step")
    right.set_ylabel("parameter-free share of the pairs left")
    right.set_title("Pairs left after each step")
    right.legend(fontsize=7)
    fig.tight_layout()
    return atomic_write(out, lambda p: fig.savefig(p, dpi=120, format="png"))


def write_shrink(
    searches: Iterable[str | os.PathLike], csv: str | os.PathLike, png: str | os.PathLike | None
) -> pd.DataFrame:
    table = shrink_table(searches)
    atomic_write(csv, lambda p: table.to_csv(p, index=False, float_format="%.6g"))
    if png is not None:
        write_figure(table, png)
    return table


def markdown(table: pd.DataFrame, png: Path | None, out: Path) -> list[str]:
    """The report section: per cell kind, the step summary; the ops each step removed in the
    normal cells; the figure."""
    from isdarts.report.mdtext import images, md_table

    n = table["seed"].nunique()
    lines = [
        "## Shrink steps of the IS-DARTS searches: which (input, op) pairs go",
        "",
        "Read from the searches' logs (`shrink.csv`). Each step removes, per node, the pairs with "
        "the largest importance score. *Rank*: a pair's place among its node's pairs at that step, "
        "0 = the lowest score (kept longest), 1 = the highest (removed first). Means over the "
        f"{n} search{'es' if n != 1 else ''}; *convolutions*: the four parametric ops.",
        "",
    ]
    for kind in KINDS:
        s = step_summary(table, kind)
        lines += [f"**{kind.capitalize()} cells**", ""]
        lines += md_table(
            [
                "Step",
                "Pairs before",
                "Parameter-free share before",
                "… after",
                "skip_connect pairs",
                "… removed",
                "skip_connect rank",
                "Convolutions' rank",
            ],
            [
                [
                    str(r.step),
                    fixed(r.pairs, 0),
                    fixed(r.parameter_free_share, 2),
                    fixed(r.parameter_free_share_after, 2),
                    fixed(r.skip_pairs, 1),
                    fixed(r.skip_removed, 1),
                    fixed(r.skip_rank, 2),
                    fixed(r.conv_rank, 2),
                ]
                for r in s.itertuples()
            ],
        ) + [""]
    src = by_source(table)
    lines += [
        "**By input, normal cells**: mean rank over all steps of each op on a cell input (0, 1) "
        "and on an intermediate node, and the final pairs it holds from each "
        f"(sum over {n} searches)",
        "",
    ]
    lines += md_table(
        ["Op", "Rank, cell input", "Rank, node", "Final pairs, cell input", "Final pairs, node"],
        [
            [
                r["op"],
                fixed(r["rank cell input"], 2),
                fixed(r["rank node"], 2),
                str(r["final cell input"]),
                str(r["final node"]),
            ]
            for _, r in src.iterrows()
        ],
    ) + [""]
    removed = table[(table.kind == "normal") & table.removed]
    counts = removed.groupby(["step", "op"]).size().unstack(fill_value=0)
    ops = [op for op in PRIMITIVES if op in counts.columns]
    lines += [f"**Pairs each step removed from the normal cells** (sum over {n} searches)", ""]
    lines += md_table(
        ["Step", *ops],
        [[str(step), *(str(int(counts.at[step, op])) for op in ops)] for step in counts.index],
    ) + [""]
    if png is not None:
        lines += images([png], out, lambda p: "Importance scores per op and the pairs left")
    return lines
