"""The verdict a NAS-Bench-201 report opens with, written from the numbers: per method, how
its runs compare with the published row, whether the published collapse (or the published
cell) came back, with the counts behind each word.

A search **collapsed** when its final cell scores below ``COLLAPSE_TEST`` % on the search data
set's test column or has at least ``COLLAPSE_EDGES`` of its 6 edges parameter-free (``none``,
``skip_connect``, ``avg_pool_3x3``): the published first-order DARTS runs all ended in the
all-skip cell (54.30 % CIFAR-10 test). A run **found the published cell** when its six benchmark
accuracies equal the published row's to the row's two decimals (a row with one cell behind it:
no std, or a std of 0 everywhere).
"""

from __future__ import annotations

import math

import pandas as pd

from isdarts.bench import COLUMNS
from isdarts.report.mdtext import method_label
from isdarts.report.published import PublishedRow, match

COLLAPSE_TEST = 80.0
COLLAPSE_EDGES = 4
PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3")
TEST_COLUMN = {
    "cifar10": "cifar10_test",
    "cifar100": "cifar100_test",
    "ImageNet16-120": "imagenet16_test",
}
TEST_NAME = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
DEFINITION = (
    f"collapsed = final cell below {COLLAPSE_TEST:.0f} % test accuracy or with at least "
    f"{COLLAPSE_EDGES} of its 6 edges parameter-free ({', '.join(PARAMETER_FREE)})"
)


def parameter_free_edges(arch: str) -> int:
    """How many of a cell string's 6 edges hold a parameter-free op."""
    ops = [part.split("~")[0] for part in arch.split("|") if "~" in part]
    return sum(op in PARAMETER_FREE for op in ops)


def collapsed(arch: str, test_acc: float) -> bool:
    return test_acc < COLLAPSE_TEST or parameter_free_edges(arch) >= COLLAPSE_EDGES


def _one_cell(row: PublishedRow) -> bool:
    """Whether a published row is the numbers of one cell (every run found the same one)."""
    return row.std is None or all(v == 0 for v in row.std.values() if v is not None)


def _found(runs: pd.DataFrame, row: PublishedRow) -> int:
    same = [
        all(math.isclose(round(float(r[c]), 2), row.mean[c], abs_tol=0.005) for c in COLUMNS)
        for _, r in runs.iterrows()
    ]
    return sum(same)


def method_verdict(runs: pd.DataFrame, dataset: str, row: PublishedRow | None) -> str:
    """One line for one method's runs on one search data set."""
    method = str(runs["method"].iloc[0])
    test = TEST_COLUMN[dataset]
    acc = runs[test].astype(float)
    n = len(runs)
    k = sum(collapsed(str(a), float(t)) for a, t in zip(runs["arch"], acc, strict=True))
    ours = f"{acc.mean():.2f}" + (f" ± {acc.std():.2f}" if n > 1 else "")
    seeds = f"{n} seed{'s' * (n != 1)}"
    head = f"**{method_label(method)}**: {ours} % {TEST_NAME[dataset]} test over {seeds}"
    if row is None:
        return f"{head} (no published row); {k} of {n} collapsed."
    pub = row.mean[test]
    gap = f"{acc.mean() - pub:+.2f} against the published {pub:.2f}"
    if pub < COLLAPSE_TEST:
        result = (
            f"the published collapse is reproduced in {k} of {n} runs"
            if k
            else f"the published collapse is **not reproduced** (0 of {n} runs collapsed)"
        )
        return f"{head}, {gap}: {result}."
    text = f"{head}, {gap}; {k} of {n} collapsed"
    if _one_cell(row):
        text += f"; {_found(runs, row)} of {n} found the published cell"
    return text + "."


def verdict_lines(runs: pd.DataFrame, published: list[PublishedRow]) -> list[str]:
    """Markdown bullets: one per (search data set, method) of ``runs``, in the runs' order."""
    lines = []
    for (space, dataset, method), part in runs.groupby(["space", "dataset", "method"], sort=False):
        row = match(published, str(space), str(method), str(dataset))
        lines.append(f"- {method_verdict(part, str(dataset), row)}")
    return lines
