"""The scale study (``reports/scale/``): the same searches at each rung of a ladder of run
profiles (a workflow config whose ``profile`` is a list, e.g. ``config/scale.yaml``), side by
side: per rung and run the found cell, its accuracies, its parameter-free edges, whether it
collapsed (:mod:`isdarts.report.verdict`), the search's wall time and core-hours; per rung and
method the means; a figure of accuracy against search compute; and the rung the default
profile's rule picks.

The rule (stated in ``config/scale.yaml`` before the study ran, applied here to the measured
times, never to the accuracies): the cheapest rung with the paper's depth (5 cells per stage)
whose default workflow (3 seeds x IS-DARTS and DARTS, two single-thread searches side by side
on 2 cores) is projected to finish within ``DEFAULT_BUDGET_MIN`` minutes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from isdarts._io import atomic_write, write_text_atomic
from isdarts.bench.evidence import TEST_COLUMN
from isdarts.config.methods import METHOD_COLORS
from isdarts.errors import IsdartsError
from isdarts.report.criteria import Criteria, provenance
from isdarts.report.mdtext import md_table, method_label
from isdarts.report.numbers import fixed, pm, whole
from isdarts.report.published import PublishedRow, match
from isdarts.report.tables import NB201_RUNS, read_csv
from isdarts.report.verdict import definitions
from isdarts.spaces.nb201.profile import Profile, load_profile

DEFAULT_BUDGET_MIN = 35.0  # the default workflow's wall time on 2 cores
DEFAULT_SEEDS = 3
DEFAULT_DEPTH = 5  # the paper's cells per stage
CORES = 2


@dataclass(frozen=True)
class Rung:
    profile: Profile
    runs: pd.DataFrame  # its runs.csv, checked

    @property
    def name(self) -> str:
        return self.profile.name

    def _recorded(self, column: str):
        """The runs' recorded value of a scale column, if they all recorded the same one."""
        if column not in self.runs:
            return None
        values = {int(v) for v in self.runs[column].dropna()}
        return values.pop() if len(values) == 1 else None

    def epochs(self, method: str) -> int:
        part = self.runs[self.runs["method"] == method]["epochs"].dropna()
        if len(part):
            return int(part.iloc[0])
        return self.profile.darts.epochs if method == "darts" else self.profile.epochs

    def images(self) -> int:
        recorded = self._recorded("train_images")
        return recorded if recorded is not None else self.profile.train_subset or 50_000

    @property
    def channels(self) -> int:
        recorded = self._recorded("channels")
        return recorded if recorded is not None else self.profile.channels

    @property
    def cells_per_stage(self) -> int:
        recorded = self._recorded("cells_per_stage")
        return recorded if recorded is not None else self.profile.cells_per_stage

    def settings(self) -> tuple[int, int, int, int]:
        """(C, N, images, IS-DARTS epochs): the axes the ladder changes."""
        return (self.channels, self.cells_per_stage, self.images(), self.epochs("isdarts"))


def load_rungs(runs_csvs: list[str | os.PathLike], profiles: list[str | os.PathLike]) -> list[Rung]:
    """The rungs in the given order: each profile with its report's runs table."""
    if len(runs_csvs) != len(profiles):
        raise IsdartsError(
            f"--runs: expected one runs table per --profiles file ({len(profiles)}), "
            f"got {len(runs_csvs)}"
        )
    rungs = []
    for csv, prof in zip(runs_csvs, profiles, strict=True):
        runs = read_csv(csv, NB201_RUNS)
        profile = load_profile(prof)
        names = set(runs["profile"].astype(str))
        if names != {profile.name}:
            raise IsdartsError(
                f"{csv}: runs of profile(s) {sorted(names)}, expected {profile.name}"
            )
        rungs.append(Rung(profile, runs))
    return rungs


def _threads(device: str) -> int:
    """A CPU run's thread count from its device text ("cpu: ..., 1 thread"); 1 otherwise."""
    for part in str(device).split(","):
        words = part.split()
        if len(words) == 2 and words[1].startswith("thread") and words[0].isdigit():
            return int(words[0])
    return 1


def _get(r: pd.Series, key: str):
    """A runs-table value, None where the table has no such column or no value."""
    value = r.get(key)
    return None if value is None or pd.isna(value) else value


def scale_table(rungs: list[Rung], crit: Criteria) -> pd.DataFrame:
    """One row per rung and run, with the evidence behind each cell (decisive weights, the two
    kinds of collapse: :mod:`isdarts.report.criteria`)."""
    rows = []
    for rung in rungs:
        p = rung.profile
        for _, r in rung.runs.iterrows():
            test = float(r[TEST_COLUMN[str(r["dataset"])]])
            arch = str(r["arch"])
            gpu = str(r["device"]).startswith("cuda")
            hours = float(r["wall_seconds"]) / 3600 * (1 if gpu else _threads(r["device"]))
            rows.append(
                {
                    "rung": rung.name,
                    "channels": rung.channels,
                    "cells_per_stage": rung.cells_per_stage,
                    "images": rung.images(),
                    "method": r["method"],
                    "epochs": rung.epochs(str(r["method"])),
                    "dataset": r["dataset"],
                    "seed": int(r["seed"]),
                    "index": int(r["index"]),
                    "arch": arch,
                    "cifar10_test": float(r["cifar10_test"]),
                    "cifar100_test": float(r["cifar100_test"]),
                    "imagenet16_test": float(r["imagenet16_test"]),
                    "skip_edges": arch.count("skip_connect~"),
                    "none_edges": arch.count("none~"),
                    "parameter_free_edges": crit.parameter_free(arch),
                    "accuracy_collapse": crit.accuracy_collapse(test),
                    "structural_collapse": crit.structural_collapse(arch),
                    "collapsed": crit.collapsed(arch, test),
                    "arch_lr": p.darts.arch_lr,
                    "decided_edges": crit.decided_edges(_get(r, "margins")),
                    "decisive": crit.decisive(_get(r, "margins")),
                    "margin_min": _get(r, "margin_min"),
                    "margin_median": _get(r, "margin_median"),
                    "travel_mean": _get(r, "travel_mean"),
                    "supernet_train_acc": _get(r, "supernet_train_acc"),
                    "wall_minutes": float(r["wall_seconds"]) / 60,
                    "gpu_hours" if gpu else "core_hours": hours,
                }
            )
    return pd.DataFrame(rows)


def rung_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per rung and method: seeds, mean and std of the test accuracies, mean skip and
    parameter-free edges, collapsed runs, mean search minutes and core-hours."""
    g = table.groupby(["rung", "method"], sort=False)
    out = g.agg(
        seeds=("seed", "count"),
        cifar10_test=("cifar10_test", "mean"),
        cifar10_test_std=("cifar10_test", "std"),
        cifar100_test=("cifar100_test", "mean"),
        cifar100_test_std=("cifar100_test", "std"),
        imagenet16_test=("imagenet16_test", "mean"),
        imagenet16_test_std=("imagenet16_test", "std"),
        skip_edges=("skip_edges", "mean"),
        parameter_free_edges=("parameter_free_edges", "mean"),
        collapsed=("collapsed", "sum"),
        accuracy_collapse=("accuracy_collapse", "sum"),
        structural_collapse=("structural_collapse", "sum"),
        decisive=("decisive", "sum"),
        margin_median=("margin_median", "mean"),
        travel_mean=("travel_mean", "mean"),
        wall_minutes=("wall_minutes", "mean"),
    ).reset_index()
    hours = "core_hours" if "core_hours" in table else "gpu_hours"
    out[hours] = g[hours].mean().values
    return out


def projected_default_minutes(summary: pd.DataFrame, rung: str) -> float | None:
    """The default workflow at ``rung``: 3 seeds of IS-DARTS and DARTS, two searches side by
    side, from the rung's mean search times (None without both methods)."""
    part = summary[summary.rung == rung].set_index("method")
    if not {"isdarts", "darts"} <= set(part.index):
        return None
    total = DEFAULT_SEEDS * (part.at["isdarts", "wall_minutes"] + part.at["darts", "wall_minutes"])
    return total / CORES


def chosen_rung(rungs: list[Rung], summary: pd.DataFrame) -> tuple[str | None, dict[str, float]]:
    """The rung the rule picks (None: none qualifies) and every rung's projected minutes."""
    projected = {
        r.name: m for r in rungs if (m := projected_default_minutes(summary, r.name)) is not None
    }
    eligible = [
        r
        for r in rungs
        if r.cells_per_stage == DEFAULT_DEPTH
        and projected.get(r.name, float("inf")) <= DEFAULT_BUDGET_MIN
    ]
    if not eligible:
        return None, projected
    return min(eligible, key=lambda r: projected[r.name]).name, projected


AXES = ("C", "N", "images", "epochs")


def _short_images(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else whole(n)


def _axis_value(axis: str, value: int) -> str:
    if axis == "images":
        return _short_images(value) + " images"
    return f"{value} epochs" if axis == "epochs" else f"{axis}={value}"


def base_rung(rungs: list[Rung]) -> Rung:
    """The rung the ladder changes one axis at a time from: the one most other rungs differ
    from in exactly one of C, N, images and epochs (the first such in ladder order)."""

    def one_axis(base: Rung) -> int:
        return sum(
            sum(a != b for a, b in zip(base.settings(), r.settings(), strict=True)) == 1
            for r in rungs
        )

    return max(rungs, key=one_axis)


def changed_axes(rung: Rung, base: Rung) -> list[str]:
    """The axes along which ``rung`` differs from ``base``, as ``N=1`` etc."""
    return [
        _axis_value(axis, mine)
        for axis, mine, theirs in zip(AXES, rung.settings(), base.settings(), strict=True)
        if mine != theirs
    ]


def groups(rungs: list[Rung]) -> list[tuple[str, Rung]]:
    """The rungs in the figure's order with the axis each changes: the base rung, the rungs
    that change one axis (ladder order), then those that change several."""
    base = base_rung(rungs)
    c, n, images, epochs = base.settings()
    out = [(f"base: C={c}, N={n},\n{_short_images(images)} images, {epochs} ep.", base)]
    one = [(r, changed_axes(r, base)) for r in rungs if r is not base]
    for r, axes in sorted(one, key=lambda ra: len(ra[1]) > 1):
        if not axes:
            label = "same C, N, images, epochs"
        else:
            label = " & ".join(axes) if len(axes) > 1 else f"only {axes[0]}"
        out.append((label, r))
    return out


def draw(table: pd.DataFrame, summary: pd.DataFrame, published: list[PublishedRow], png,
         rungs: list[Rung] | None = None) -> Path:  # fmt: skip
    """Per rung (x: one slot each, grouped by the axis it changes from the base rung) each
    run as a point and each method's mean as a bar: the found cell's CIFAR-10 test accuracy,
    its parameter-free edges, and the search's minutes. No line joins rungs that differ along
    different axes."""
    order = groups(rungs) if rungs else [(r, None) for r in dict.fromkeys(table["rung"])]
    names = [r.name if isinstance(r, Rung) else str(label) for label, r in order]
    labels = [f"{label}\n({r.name})" if isinstance(r, Rung) else str(label) for label, r in order]
    methods = list(dict.fromkeys(table["method"]))
    fig = Figure(figsize=(max(8.0, 1.7 * len(names) + 2.0), 10.0))
    axes = fig.subplots(3, 1, sharex=True)
    panels = (
        ("cifar10_test", "CIFAR-10 test accuracy of the found cell (%)"),
        ("parameter_free_edges", "parameter-free edges of the found cell (of 6)"),
        ("wall_minutes", "search wall time (min, one search)"),
    )
    width = 0.7 / max(len(methods), 1)
    for ax, (column, ylabel) in zip(axes, panels, strict=True):
        for k, method in enumerate(methods):
            color = METHOD_COLORS.get(str(method), "black")
            shift = (k - (len(methods) - 1) / 2) * width
            for i, name in enumerate(names):
                part = table[(table.rung == name) & (table.method == method)]
                if part.empty:
                    continue
                values = part[column].astype(float).tolist()
                jitter = [(j - (len(values) - 1) / 2) * width * 0.25 for j in range(len(values))]
                ax.plot([i + shift + d for d in jitter], values, "o", color=color, ms=5,
                        alpha=0.8, label=method_label(str(method)) if i == 0 and column == "cifar10_test" else None)  # fmt: skip
                mean = sum(values) / len(values)
                ax.plot([i + shift - width * 0.4, i + shift + width * 0.4], [mean, mean],
                        color=color, lw=2.5)  # fmt: skip
            row = match(published, "nb201", str(method), "cifar10")
            if column == "cifar10_test" and row is not None:
                ax.axhline(row.mean["cifar10_test"], color=color, ls="--", lw=1,
                           label=f"{method_label(str(method))}, published: "
                           f"{fixed(row.mean['cifar10_test'])}")  # fmt: skip
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        for i in range(1, len(names)):
            ax.axvline(i - 0.5, color="gray", lw=0.5, alpha=0.5)
    axes[1].axhline(4, color="gray", ls=":", lw=1, label="structural collapse: 4 or more")
    axes[1].set_ylim(-0.3, 6.3)
    axes[1].legend(fontsize=7, loc="upper left")
    axes[2].set_ylim(bottom=0)
    axes[0].legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4)
    axes[-1].set_xticks(range(len(names)), labels, fontsize=8)
    axes[-1].set_xlim(-0.5, len(names) - 0.5)
    fig.suptitle(
        "Scale study: each run's found cell per rung (dots: seeds; bar: mean), rungs grouped by "
        "the setting they change from the base rung",
        fontsize=10,
        y=0.995,
    )
    fig.tight_layout()
    return atomic_write(png, lambda p: fig.savefig(p, dpi=130, format="png"))


def _seed_values(table: pd.DataFrame, rung: str, method: str, column: str, places: int) -> str:
    part = table[(table.rung == rung) & (table.method == method)].sort_values("seed")
    return ", ".join(fixed(v, places) for v in part[column].astype(float))


def render(
    rungs: list[Rung], table: pd.DataFrame, summary: pd.DataFrame, png_name: str, crit: Criteria
) -> str:
    choice, projected = chosen_rung(rungs, summary)
    base = base_rung(rungs)
    lines = [
        "# Scale study: how much search does IS-DARTS need?",
        "",
        "Generated by `isdarts scale-report` from each rung's `reports/<rung>/runs.csv`; do not",
        "edit by hand. Each rung is a run profile (a reduction of the paper's), every method and",
        f"seed searched at each. Criteria: {provenance(crit)}: {definitions(crit)}",
        "",
        "## The default profile's rule (stated before the runs)",
        "",
        f"The cheapest rung with {DEFAULT_DEPTH} cells per stage whose default workflow "
        f"({DEFAULT_SEEDS} seeds x IS-DARTS and DARTS, two single-thread searches side by side "
        f"on {CORES} cores) is projected to finish within {fixed(DEFAULT_BUDGET_MIN, 0)} minutes, "
        "from the rungs' measured search times (never from their accuracies).",
        "",
        f"**Rung picked: {choice or 'none qualifies'}.**",
        "",
        f"![Each run's found cell per rung, rungs grouped by the setting they change]({png_name})",
        "",
        "## Rungs",
        "",
        f"Each rung against the base rung `{base.name}` (the one the others change one setting "
        "at a time); the default workflow's minutes projected from the rung's search times.",
        "",
    ]
    rows = []
    for r in rungs:
        p = r.profile
        m = projected.get(r.name)
        changed = changed_axes(r, base)
        rows.append(
            [
                f"`{r.name}`",
                "base" if r is base else ", ".join(changed) or "none",
                str(r.channels),
                str(r.cells_per_stage),
                whole(r.images()),
                f"{r.epochs('isdarts') if 'isdarts' in set(r.runs.method) else p.epochs} / "
                f"{r.epochs('darts') if 'darts' in set(r.runs.method) else p.darts.epochs}",
                "–" if m is None else fixed(m, 0),
            ]
        )
    lines += md_table(
        ["rung", "changes", "C", "N", "images", "epochs (IS-DARTS / DARTS)",
         "default workflow (min)"],
        rows,
    )  # fmt: skip
    lines += [
        "",
        "## Per rung and method",
        "",
        "Test accuracy (%) of the found cells: mean ± std over seeds, and for CIFAR-10 each "
        "seed's value in seed order; edge counts per seed in seed order; search minutes and "
        "core-hours: mean per search.",
        "",
    ]
    hours = "core_hours" if "core_hours" in summary else "gpu_hours"
    rows = []
    for _, s in summary.iterrows():
        rung, method = str(s["rung"]), str(s["method"])
        rows.append(
            [
                f"`{rung}`",
                method_label(method),
                str(int(s["seeds"])),
                pm(s["cifar10_test"], s["cifar10_test_std"], sep=" ± "),
                _seed_values(table, rung, method, "cifar10_test", 2),
                pm(s["cifar100_test"], s["cifar100_test_std"], sep=" ± "),
                pm(s["imagenet16_test"], s["imagenet16_test_std"], sep=" ± "),
                _seed_values(table, rung, method, "skip_edges", 0),
                _seed_values(table, rung, method, "parameter_free_edges", 0),
                f"{int(s['accuracy_collapse'])} / {int(s['structural_collapse'])} of {int(s['seeds'])}",
                fixed(s["wall_minutes"], 1),
                fixed(s[hours], 2),
            ]
        )
    lines += md_table(
        ["rung", "method", "seeds", "C10 test", "C10 test per seed", "C100 test", "IN16 test",
         "skip edges per seed", "param.-free edges per seed", "collapse: accuracy / structural",
         "search min", hours.replace("_", "-")],
        rows,
    )  # fmt: skip
    lines += ["", "## Runs", "", "Every run: `scale.csv` beside this file.", ""]
    return "\n".join(lines) + "\n"


def write_scale_report(
    runs_csvs: list,
    profiles: list,
    published: list[PublishedRow],
    out: str | os.PathLike,
    crit: Criteria,
    study: str = "scale",
) -> list[Path]:
    """``out``/README.md, scale.csv and scale.png: the scale study, or (``study`` regime) the
    DARTS regime study (:mod:`isdarts.report.regime`)."""
    out = Path(out)
    rungs = load_rungs(runs_csvs, profiles)
    table = scale_table(rungs, crit)
    summary = rung_summary(table)
    written = [atomic_write(out / "scale.csv", lambda p: table.to_csv(p, index=False))]
    if study == "regime":
        from isdarts.report import regime

        written.append(regime.draw(table, published, out / "scale.png", crit))
        text = regime.render(rungs, table, summary, "scale.png", crit)
    else:
        written.append(draw(table, summary, published, out / "scale.png", rungs))
        text = render(rungs, table, summary, "scale.png", crit)
    written.append(write_text_atomic(out / "README.md", text))
    return written
