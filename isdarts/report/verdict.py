"""The verdict a NAS-Bench-201 report opens with, applied from the criteria stated before the
runs (``config/criteria.yaml``, :mod:`isdarts.report.criteria`): per published row that our
runs reproduce, *reproduced*, *not reproduced* or *undecided*, with the criterion in words and
the counts behind it; the 95 % interval of each mean and of the paired IS-DARTS - DARTS
difference; the two kinds of collapse counted apart; how many runs found the published cell
(a row with one cell behind it: no std, or a std of 0 everywhere: its six accuracies equal to
the row's two decimals).
"""

from __future__ import annotations

import math

import pandas as pd

from isdarts.bench import COLUMNS
from isdarts.bench.evidence import TEST_COLUMN
from isdarts.report.criteria import Criteria, paired, row_verdict, t_interval
from isdarts.report.mdtext import method_label
from isdarts.report.numbers import fixed
from isdarts.report.published import PublishedRow, match

TEST_NAME = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
# The pair whose paired difference the verdict gives (the paper's method against the collapse
# it fixes), over the seeds both have.
PAIR = ("isdarts", "darts")


def _one_cell(row: PublishedRow) -> bool:
    """Whether a published row is the numbers of one cell (every run found the same one)."""
    return row.std is None or all(v == 0 for v in row.std.values() if v is not None)


def _found(runs: pd.DataFrame, row: PublishedRow) -> int:
    same = [
        all(math.isclose(round(float(r[c]), 2), row.mean[c], abs_tol=0.005) for c in COLUMNS)
        for _, r in runs.iterrows()
    ]
    return sum(same)


def collapse_counts(runs: pd.DataFrame, dataset: str, crit: Criteria) -> tuple[int, int, int]:
    """(accuracy collapses, structural collapses, undecided runs) among ``runs``."""
    test = runs[TEST_COLUMN[dataset]].astype(float)
    margins = runs["margins"] if "margins" in runs else [None] * len(runs)
    acc = sum(crit.accuracy_collapse(t) for t in test)
    struct = sum(crit.structural_collapse(str(a)) for a in runs["arch"])
    undecided = sum(not crit.decisive(m) for m in margins)
    return acc, struct, undecided


def method_verdict(
    runs: pd.DataFrame, dataset: str, row: PublishedRow | None, crit: Criteria
) -> str:
    """One bullet for one method's runs on one search data set."""
    method = str(runs["method"].iloc[0])
    column = TEST_COLUMN[dataset]
    n = len(runs)
    acc, struct, undecided = collapse_counts(runs, dataset, crit)
    mean = t_interval(runs[column].values, crit.level)
    seeds = f"{n} seed{'s' * (n != 1)}"
    facts = (
        f"{mean.text(crit.level)} % {TEST_NAME[dataset]} test over {seeds}; "
        f"accuracy collapse in {acc}, structural collapse in {struct}, "
        f"undecided weights in {undecided} of {n} runs"
    )
    label = f"**{method_label(method)}**"
    if row is None:
        return f"- {label}: no published row. {facts}."
    diff = fixed(mean.mean - row.mean[column], sign=True)
    facts += f"; {diff} against the published {fixed(row.mean[column])}"
    if _one_cell(row) and row.mean[column] >= crit.accuracy_below:
        facts += f"; {_found(runs, row)} of {n} found the published cell"
    test = crit.rows.get(row.id)
    if test is None:
        return f"- {label} — *undecided* (no criterion for row `{row.id}`). {facts}."
    verdict = row_verdict(runs, column, row.mean[column], test, crit)
    return (
        f"- {label} — ***{verdict.word}*** ({verdict.reason}). {facts}. Criterion: {verdict.rule}."
    )


def pair_line(runs: pd.DataFrame, dataset: str, crit: Criteria) -> str | None:
    """The paired difference of :data:`PAIR` over the seeds both have, if both ran."""
    a, b = (runs[runs["method"] == m] for m in PAIR)
    if a.empty or b.empty:
        return None
    diff = paired(a, b, TEST_COLUMN[dataset], crit.level)
    if diff is None:
        return None
    seeds = sorted(set(a["seed"]) & set(b["seed"]))
    return (
        f"- {method_label(PAIR[0])} − {method_label(PAIR[1])}, paired over seeds "
        f"{', '.join(map(str, seeds))}: {diff.text(crit.level)} points of {TEST_NAME[dataset]} "
        "test accuracy."
    )


def verdict_lines(runs: pd.DataFrame, published: list[PublishedRow], crit: Criteria) -> list[str]:
    """Markdown bullets: one per (search data set, method) of ``runs``, in the runs' order, then
    the paired difference per search data set."""
    lines = []
    for (space, dataset, method), part in runs.groupby(["space", "dataset", "method"], sort=False):
        row = match(published, str(space), str(method), str(dataset))
        lines.append(method_verdict(part, str(dataset), row, crit))
    for dataset, part in runs.groupby("dataset", sort=False):
        line = pair_line(part, str(dataset), crit)
        if line:
            lines.append(line)
    return lines


def definitions(crit: Criteria) -> str:
    """The definitions the verdict uses, one paragraph."""
    return f"{crit.decisive_words}; {crit.collapse_words}."
