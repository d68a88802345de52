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

    def epochs(self, method: str) -> int:
        return self.profile.darts.epochs if method == "darts" else self.profile.epochs

    def images(self) -> int:
        return self.profile.train_subset or 50_000


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
                    "channels": p.channels,
                    "cells_per_stage": p.cells_per_stage,
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
        imagenet16_test=("imagenet16_test", "mean"),
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
        if r.profile.cells_per_stage == DEFAULT_DEPTH
        and projected.get(r.name, float("inf")) <= DEFAULT_BUDGET_MIN
    ]
    if not eligible:
        return None, projected
    return min(eligible, key=lambda r: projected[r.name]).name, projected


def draw(table: pd.DataFrame, summary: pd.DataFrame, published: list[PublishedRow], png) -> Path:
    """Accuracy and parameter-free edges against search compute, one line per method."""
    hours = "core_hours" if "core_hours" in table else "gpu_hours"
    fig = Figure(figsize=(11, 4.2))
    ax_acc, ax_free = fig.subplots(1, 2)
    for method, part in summary.groupby("method", sort=False):
        part = part.assign(h=part[hours]).sort_values("h")
        color = METHOD_COLORS.get(str(method), "black")
        label = method_label(str(method))
        ax_acc.errorbar(
            part["h"], part["cifar10_test"], yerr=part["cifar10_test_std"].fillna(0),
            marker="o", color=color, label=label, capsize=3,
        )  # fmt: skip
        ax_free.plot(part["h"], part["parameter_free_edges"], marker="o", color=color, label=label)
        for _, r in part.iterrows():
            ax_acc.annotate(r["rung"].removeprefix("scale-"), (r["h"], r["cifar10_test"]),
                            fontsize=6, xytext=(3, 3), textcoords="offset points")  # fmt: skip
        row = match(published, "nb201", str(method), "cifar10")
        if row is not None:
            ax_acc.axhline(row.mean["cifar10_test"], color=color, ls="--", lw=1,
                           label=f"{label}, published: {row.mean['cifar10_test']:.2f}")  # fmt: skip
    runs_x = table[hours]
    ax_acc.scatter(runs_x, table["cifar10_test"], s=6, color="gray", alpha=0.5, label="single runs")
    for ax in (ax_acc, ax_free):
        ax.set_xscale("log")
        ax.set_xlabel(f"search compute per run ({hours.replace('_', '-')}, log scale)")
        ax.grid(alpha=0.3)
    ax_acc.set_ylabel("CIFAR-10 test accuracy of the found cell (%)")
    ax_free.set_ylabel("parameter-free edges of the found cell (of 6)")
    ax_free.set_ylim(-0.2, 6.2)
    ax_free.axhline(4, color="gray", ls=":", lw=1, label="collapse threshold (4 edges)")
    ax_acc.legend(fontsize=7, loc="lower right")
    ax_free.legend(fontsize=7, loc="upper right")
    fig.suptitle("Scale study: the found cells against search compute (mean ± std over seeds)")
    fig.tight_layout()
    return atomic_write(png, lambda p: fig.savefig(p, dpi=130, format="png"))


def render(
    rungs: list[Rung], table: pd.DataFrame, summary: pd.DataFrame, png_name: str, crit: Criteria
) -> str:
    choice, projected = chosen_rung(rungs, summary)
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
        f"on {CORES} cores) is projected to finish within {DEFAULT_BUDGET_MIN:.0f} minutes, "
        "from the rungs' measured search times (never from their accuracies).",
        "",
        f"**Rung picked: {choice or 'none qualifies'}.**",
        "",
        f"![Accuracy and parameter-free edges against search compute]({png_name})",
        "",
        "## Rungs",
        "",
    ]
    rows = []
    for r in rungs:
        p = r.profile
        m = projected.get(r.name)
        rows.append(
            [
                f"`{r.name}`",
                str(p.channels),
                str(p.cells_per_stage),
                f"{r.images():,}",
                f"{p.epochs} / {p.darts.epochs}",
                "–" if m is None else f"{m:.0f}",
            ]
        )
    lines += md_table(
        ["rung", "C", "N", "images", "epochs (IS-DARTS / DARTS)", "default workflow (min)"], rows
    )
    lines += ["", "## Per rung and method", ""]
    hours = "core_hours" if "core_hours" in summary else "gpu_hours"
    rows = [
        [
            f"`{s['rung']}`",
            method_label(str(s["method"])),
            str(int(s["seeds"])),
            f"{s['cifar10_test']:.2f} ± {0 if pd.isna(s['cifar10_test_std']) else s['cifar10_test_std']:.2f}",
            f"{s['cifar100_test']:.2f}",
            f"{s['imagenet16_test']:.2f}",
            f"{s['skip_edges']:.1f}",
            f"{s['parameter_free_edges']:.1f}",
            f"{int(s['accuracy_collapse'])} / {int(s['structural_collapse'])} of {int(s['seeds'])}",
            f"{s['wall_minutes']:.1f}",
            f"{s[hours]:.2f}",
        ]
        for _, s in summary.iterrows()
    ]
    lines += md_table(
        ["rung", "method", "seeds", "C10 test", "C100 test", "IN16 test", "skip edges",
         "param.-free edges", "collapse: accuracy / structural", "search min",
         hours.replace("_", "-")],
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
    written = [
        atomic_write(out / "scale.csv", lambda p: table.to_csv(p, index=False, float_format="%.4f"))
    ]
    if study == "regime":
        from isdarts.report import regime

        written.append(regime.draw(table, published, out / "scale.png", crit))
        text = regime.render(rungs, table, summary, "scale.png", crit)
    else:
        written.append(draw(table, summary, published, out / "scale.png"))
        text = render(rungs, table, summary, "scale.png", crit)
    written.append(write_text_atomic(out / "README.md", text))
    return written
