"""The criteria of the NAS-Bench-201 verdicts (``config/criteria.yaml``, stated before the runs
that test them) and their application: per run whether its weights were decisive and which
kind of collapse it shows, per published row reproduced / not reproduced / undecided with the
criterion in words, and the t intervals of means and of paired differences over seeds.

The verdict is a pure function of the runs table (the evidence columns of
:mod:`isdarts.report.evaluate`) and the criteria file; it never reads a model.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from isdarts._io import read_yaml
from isdarts._optional import optional
from isdarts.config.documents import check_document
from isdarts.errors import IsdartsError
from isdarts.report.numbers import fixed

# The repository's criteria (the workflow passes them explicitly, as config `criteria`).
DEFAULT_CRITERIA = Path(__file__).resolve().parents[2] / "config" / "criteria.yaml"
REPRODUCED, NOT_REPRODUCED, UNDECIDED = "reproduced", "not reproduced", "undecided"


@dataclass(frozen=True)
class RowTest:
    kind: str  # match | collapse
    tolerance: float | None = None  # match: +- percentage points around the published mean
    max_collapsed: int | None = None  # match: decisive collapsed runs allowed
    collapse: str | None = None  # collapse: accuracy | structural
    share: float | None = None  # collapse: share of the seeds that must show it


@dataclass(frozen=True)
class Criteria:
    path: Path
    stated: str
    level: float  # of the t intervals
    margin: float  # decisive: an edge's softmax winner - runner-up at least this ...
    edges: int  # ... on at least this many of the 6 edges
    accuracy_below: float
    parameter_free_edges: int
    parameter_free_ops: tuple[str, ...]
    rows: dict[str, RowTest]

    @property
    def collapse_words(self) -> str:
        return (
            f"accuracy collapse = test accuracy below {self.accuracy_below:g} %; structural "
            f"collapse = at least {self.parameter_free_edges} of 6 edges parameter-free "
            f"({', '.join(self.parameter_free_ops)})"
        )

    @property
    def decisive_words(self) -> str:
        return (
            f"decisive = on at least {self.edges} of 6 edges the winning op's softmax weight "
            f"exceeds the runner-up's by {self.margin:g} or more (methods without softmax "
            "weights: always)"
        )

    # Per run -----------------------------------------------------------------------------
    def decided_edges(self, margins: Any) -> int | None:
        """Edges whose margin reaches the threshold (None: the run has no softmax weights)."""
        if margins is None or (isinstance(margins, float) and math.isnan(margins)):
            return None
        return sum(float(m) >= self.margin for m in str(margins).split())

    def decisive(self, margins: Any) -> bool:
        n = self.decided_edges(margins)
        return n is None or n >= self.edges

    def parameter_free(self, arch: str) -> int:
        ops = [part.split("~")[0] for part in str(arch).split("|") if "~" in part]
        return sum(op in self.parameter_free_ops for op in ops)

    def accuracy_collapse(self, test_acc: float) -> bool:
        return float(test_acc) < self.accuracy_below

    def structural_collapse(self, arch: str) -> bool:
        return self.parameter_free(arch) >= self.parameter_free_edges

    def collapsed(self, arch: str, test_acc: float, kind: str | None = None) -> bool:
        """Either kind (``kind`` None) or the one named."""
        acc, struct = self.accuracy_collapse(test_acc), self.structural_collapse(arch)
        return {None: acc or struct, "accuracy": acc, "structural": struct}[kind]


def load_criteria(path: str | os.PathLike | None = None) -> Criteria:
    """The criteria file (default: the repository's ``config/criteria.yaml``), schema-checked."""
    path = Path(path) if path is not None else DEFAULT_CRITERIA
    try:
        doc = read_yaml(path)
    except FileNotFoundError:
        raise IsdartsError(f"{path}: criteria file not found") from None
    check_document(path, doc, "criteria")
    if not isinstance(doc, dict):
        raise IsdartsError(f"{path}: expected a mapping of criteria")
    return Criteria(
        path=path,
        stated=str(doc["stated"]),
        level=float(doc["interval"]["level"]),
        margin=float(doc["decisive"]["margin"]),
        edges=int(doc["decisive"]["edges"]),
        accuracy_below=float(doc["collapse"]["accuracy_below"]),
        parameter_free_edges=int(doc["collapse"]["parameter_free_edges"]),
        parameter_free_ops=tuple(doc["collapse"]["parameter_free_ops"]),
        rows={k: RowTest(**v) for k, v in doc["rows"].items()},
    )


def provenance(criteria: Criteria) -> str:
    """Which criteria a report applied: the file, its last commit (and whether the file differs
    from it) and its sha256, so that a reader can find the exact text with git."""
    blob = criteria.path.read_bytes()
    sha = hashlib.sha256(blob).hexdigest()[:12]
    folder = criteria.path.resolve().parent
    try:
        log = subprocess.run(
            ["git", "-C", str(folder), "log", "-1", "--format=%h %cs", "--", criteria.path.name],
            capture_output=True,
            text=True,
            timeout=30,
        )
        dirty = subprocess.run(
            ["git", "-C", str(folder), "diff", "--quiet", "HEAD", "--", criteria.path.name],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        log = dirty = None
    commit = log.stdout.strip() if log is not None and log.returncode == 0 else ""
    if not commit:
        where = "not under git"
    else:
        where = f"commit {commit}" + (", edited since" if dirty.returncode == 1 else "")
    return f"`{_shown(criteria.path)}` ({where}; sha256 {sha}; stated {criteria.stated})"


def _shown(path: Path) -> str:
    """The criteria file as a report names it: relative to the repository when inside it
    (never a path of the machine), else its name."""
    try:
        return path.resolve().relative_to(DEFAULT_CRITERIA.parents[1]).as_posix()
    except ValueError:
        return path.name


# Intervals ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    mean: float
    low: float | None  # None: one value (no interval), or scipy missing
    high: float | None
    n: int

    def text(self, level: float) -> str:
        if self.low is None:
            return f"{fixed(self.mean)} (n = {self.n}: no interval)"
        return (
            f"{fixed(self.mean)} [{fixed(self.low)}, {fixed(self.high)}] "
            f"({fixed(100 * level, 0)}% t interval)"
        )


def t_interval(values, level: float) -> Interval:
    """Student's t interval of the mean of ``values`` (the seeds' values)."""
    x = pd.Series(values, dtype="float64").dropna()
    n, mean = len(x), float(x.mean()) if len(x) else math.nan
    if n < 2:
        return Interval(mean, None, None, n)
    stats = optional("scipy.stats", "intervals are left out of the verdicts")
    if stats is None:
        return Interval(mean, None, None, n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def paired(a: pd.DataFrame, b: pd.DataFrame, column: str, level: float) -> Interval | None:
    """The t interval of ``a - b`` over the seeds both have (None: fewer than one)."""
    both = a.set_index("seed")[column].astype(float) - b.set_index("seed")[column].astype(float)
    both = both.dropna()
    return t_interval(both.values, level) if len(both) else None


# Per published row ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RowVerdict:
    word: str  # reproduced | not reproduced | undecided
    reason: str  # why, with the counts
    rule: str  # the row's criterion in words


def row_verdict(
    runs: pd.DataFrame, test_column: str, published_mean: float, test: RowTest, crit: Criteria
) -> RowVerdict:
    """Apply one row's test to the runs of its method on its search data set."""
    n = len(runs)
    acc = runs[test_column].astype(float)
    margins = runs["margins"] if "margins" in runs else pd.Series([None] * n, index=runs.index)
    decisive = [crit.decisive(m) for m in margins]
    d = sum(decisive)
    if test.kind == "collapse":
        need = math.ceil(test.share * n)
        hits = sum(
            dec and crit.collapsed(a, t, test.collapse)
            for dec, a, t in zip(decisive, runs["arch"], acc, strict=True)
        )
        misses = d - hits
        rule = (
            f"reproduced when at least {need} of the {n} seeds are decisive runs with an "
            f"{test.collapse} collapse; not reproduced when more than {n - need} decisive runs "
            "show none"
        )
        reason = (
            f"{hits} decisive run(s) with an {test.collapse} collapse, {misses} decisive without, "
            f"{n - d} undecided"
        )
        if hits >= need:
            return RowVerdict(REPRODUCED, reason, rule)
        if misses > n - need:
            return RowVerdict(NOT_REPRODUCED, reason, rule)
        return RowVerdict(UNDECIDED, reason, rule)
    # match
    lo_band, hi_band = published_mean - test.tolerance, published_mean + test.tolerance
    ci = t_interval(acc.values, crit.level)
    collapsed = sum(
        dec and crit.collapsed(a, t) for dec, a, t in zip(decisive, runs["arch"], acc, strict=True)
    )
    rule = (
        f"reproduced when the mean lies in {fixed(lo_band)}..{fixed(hi_band)} (published ± "
        f"{test.tolerance:g}) and at most {test.max_collapsed} decisive run(s) collapse; not "
        "reproduced when the interval lies wholly outside that band or more runs collapse"
    )
    if 2 * d < n:
        return RowVerdict(UNDECIDED, f"only {d} of {n} runs decisive", rule)
    if collapsed > test.max_collapsed:
        return RowVerdict(NOT_REPRODUCED, f"{collapsed} decisive run(s) collapsed", rule)
    if lo_band <= ci.mean <= hi_band:
        return RowVerdict(REPRODUCED, "the mean lies in the band", rule)
    if ci.low is not None and (ci.high < lo_band or ci.low > hi_band):
        return RowVerdict(NOT_REPRODUCED, "the interval lies wholly outside the band", rule)
    why = (
        "one seed, no interval"
        if n < 2
        else "the mean lies outside the band, its interval reaches into it"
    )
    return RowVerdict(UNDECIDED, why, rule)
