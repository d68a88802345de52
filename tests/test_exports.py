"""The NAS-Bench-201 table for a paper (``isdarts report --wide --tex``) from the committed
``cpu-n1`` report's tables: the wide CSV holds the summary's numbers, our rows name the profile
and its scale, the LaTeX table every row with its special characters escaped in groups
(reference rows, published methods, ours last) under a caption with the scale, the committed
exports are those of the committed tables, and a bad summary is one error line. Also the
report's Environment section."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from cli_helpers import PUBLISHED, REPO, isdarts, one_line_error, report

from isdarts.bench import COLUMNS
from isdarts.cli import main
from isdarts.report.exports import tex_escape
from isdarts.report.mdtext import method_label
from isdarts.report.published import load_published

REPORT = REPO / "reports" / "cpu-n1"
RUNS, SUMMARY = REPORT / "runs.csv", REPORT / "summary.csv"


def _report(out, summary=SUMMARY, *extra: str) -> list[str]:
    return ["report", "--runs", str(RUNS), "--summary", str(summary)] + [
        "--published",
        str(PUBLISHED),
        "--out",
        str(out / "README.md"),
        *extra,
    ]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    wide, tex = out / "summary_wide.csv", out / "table.tex"
    assert main(_report(out, SUMMARY, "--wide", str(wide), "--tex", str(tex))) == 0
    return wide, tex


def _mean_std(text: str) -> tuple[float, float | None]:
    mean, _, std = text.partition(" ± ")
    return float(mean), float(std) if std and std != "–" else None


def _ours_label(method: str, runs: pd.DataFrame) -> str:
    """Our row's label: the method, the profile and the scale the runs recorded."""
    r = runs[runs.method == method].iloc[0]
    n = int((runs.method == method).sum())
    return (
        f"{method_label(method)}, this harness ({r['profile']}: C={r['channels']}, "
        f"N={r['cells_per_stage']}, {int(r['train_images']):,} images, {r['epochs']} epochs; "
        f"{n} seeds)"
    )


def test_wide_csv_holds_the_summary_numbers(exported):
    wide = pd.read_csv(exported[0], dtype={"seeds": str})
    summary = pd.read_csv(SUMMARY, dtype={"seeds": str})
    runs = pd.read_csv(RUNS)
    ours = wide[wide["kind"] == "this harness"]
    assert sorted(ours["method"]) == sorted(
        _ours_label(m, runs) for m in summary["method"].unique()
    )
    assert all(" (cpu-n1: C=8, N=1, 10,000 images, " in m for m in ours["method"])
    for method, part in summary.groupby("method"):
        row = ours[ours["method"] == _ours_label(method, runs)].iloc[0]
        assert row["n"] == part["n"].iloc[0] and row["seeds"] == part["seeds"].iloc[0]
        for _, s in part.iterrows():
            mean, std = _mean_std(row[s["metric"]])
            assert mean == pytest.approx(s["mean"], abs=0.005)
            assert std == pytest.approx(s["std"], abs=0.005)
    # the published rows of the report's table, each of ours right below the row it reproduces
    rows = [r for r in load_published(PUBLISHED) if r.space == "nb201"]
    published = wide[wide["kind"] == "published"]
    assert list(published["method"]) == [r.method for r in rows]
    for r in rows:
        values = wide.loc[wide["method"] == r.method].iloc[0]
        assert [_mean_std(values[c])[0] for c in COLUMNS] == [r.mean[c] for c in COLUMNS]
        if r.ours in set(summary["method"]):
            below = wide.iloc[wide.index[wide["method"] == r.method][0] + 1]
            assert below["method"] == _ours_label(r.ours, runs)
        # every published method's row shows mean ± std, "±" "–" where its source gives none
        if r.ours is not None or r.std is not None:
            assert all(" ± " in values[c] for c in COLUMNS), r.method
    assert len(wide) == len(rows) + len(ours)


def _tex_groups(text: str) -> list[list[str]]:
    """The table's row groups: the lines between one \\midrule and the next (or \\bottomrule)."""
    body = text[text.index("\\midrule") : text.index("\\bottomrule")]
    return [[line for line in g.splitlines() if line.strip()] for g in body.split("\\midrule")[1:]]


def test_tex_table_has_every_row_escaped_in_three_groups_ours_last(exported):
    text = exported[1].read_text(encoding="utf-8")
    assert "\\begin{tabular}{lcccccc}" in text and "\\toprule" in text and "\\bottomrule" in text
    wide = pd.read_csv(exported[0])
    reference, methods, ours = _tex_groups(text)
    assert [line.split(" & ")[0] for line in reference] == ["optimum of the benchmark", "ResNet"]
    assert len(reference) + len(methods) + len(ours) == len(wide)
    assert all(line.startswith("\\textbf{") for line in ours)
    assert not any("textbf" in line for line in reference + methods)
    for line in reference + methods + ours:
        assert line.endswith(" \\\\") and line.count(" & ") == len(COLUMNS)
    for _, row in wide[wide["kind"] == "published"].iterrows():
        line = next(
            x for x in reference + methods if x.startswith(tex_escape(row["method"]) + " &")
        )
        mean, std = _mean_std(row["cifar10_test"])
        if line in methods:  # mean ± std, "$\\pm$--" where the source gives no std
            assert f"{mean:.2f}$\\pm${'--' if std is None else f'{std:.2f}'}" in line
        else:  # a reference row: one network, its value alone
            assert "pm" not in line and f"{mean:.2f}" in line
    # ours: bold numbers and bold ± (\\boldmath), the profile named
    assert all(line.count("\\boldmath") == len(COLUMNS) for line in ours)
    assert r"\textbf{IS-DARTS, this harness (\texttt{cpu-n1}, 3 seeds)}" in text
    assert "±" not in text and "–" not in text


def test_tex_table_is_a_captioned_float_that_fits_a_column(exported):
    text = exported[1].read_text(encoding="utf-8")
    assert text.count("\\begin{table}[t]") == 1 and "\\end{table}" in text
    assert "\\resizebox{\\columnwidth}{!}{%" in text and "\\end{tabular}}" in text
    caption = text[text.index("\\caption{") : text.index("\\label{")]
    # the scale of our rows against the paper's, in the caption
    assert "\\texttt{cpu-n1}" in caption and "C=8, N=1, 10,000 images" in caption
    assert "C=16, N=5, 50,000 images" in caption and "IS-DARTS 14" in caption
    assert "IS-DARTS 30" in caption and "DARTS (1st order) 50" in caption
    assert "\\label{tab:nb201-cifar10-cpu-n1}" in text
    assert "table*" in text  # how to write it across both columns


def test_tex_escape():
    assert tex_escape("a_b & 100% #1 $x$ {y} ~z^2 \\") == (
        r"a\_b \& 100\% \#1 \$x\$ \{y\} \textasciitilde{}z\textasciicircum{}2 \textbackslash{}"
    )


def test_committed_exports_are_those_of_the_committed_summary(exported):
    wide, tex = exported
    assert (REPORT / "summary_wide.csv").read_bytes() == wide.read_bytes()
    assert (REPORT / "table.tex").read_bytes() == tex.read_bytes()


def _refused(tmp_path, summary, *extra):
    wide, tex = tmp_path / "wide.csv", tmp_path / "table.tex"
    res = report(tmp_path, RUNS, summary, "--wide", str(wide), "--tex", str(tex), *extra)
    assert not wide.exists() and not tex.exists()
    return res


def test_bad_summary_is_one_error_line(tmp_path):
    lines = SUMMARY.read_text().splitlines(keepends=True)
    bad = tmp_path / "summary.csv"
    cells = lines[1].split(",", 7)
    cells[6] = "high"  # the mean
    bad.write_text(lines[0] + ",".join(cells) + "".join(lines[2:]))
    one_line_error(_refused(tmp_path, bad), f"{bad}, line 2: column 'mean' holds 'high'")
    bad.write_text("".join(lines[:-1]))  # a benchmark column of one method missing
    one_line_error(_refused(tmp_path, bad), "expected each of")
    text = "".join(lines)
    bad.write_text(text[: text.rindex(',"')])  # cut mid-line
    one_line_error(_refused(tmp_path, bad), "ends in the middle of a line")


def test_exports_never_overwrite_an_input_or_each_other(tmp_path):
    tex = str(tmp_path / "t.tex")
    res = isdarts(*_report(tmp_path, SUMMARY, "--wide", str(SUMMARY), "--tex", tex))
    one_line_error(res, f"--wide {SUMMARY}: the input file")
    res = isdarts(*_report(tmp_path, SUMMARY, "--wide", tex, "--tex", tex))
    one_line_error(res, f"--tex {tex}: the same file as --wide")
    assert not (tmp_path / "README.md").exists() and not (tmp_path / "t.tex").exists()


def test_report_names_its_environment(exported):
    text = (exported[0].parent / "README.md").read_text()
    section = text[text.index("## Environment") :]
    assert re.search(r"Python \d+\.\d+\.\d+; torch \S+; numpy \S+; pandas \S+\.", section)
    assert re.search(r"git commit ([0-9a-f]{40}|unknown)\.", section)
