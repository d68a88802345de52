"""Evaluation, aggregation, figures and the Markdown report on search folders in the exact
format `isdarts search` writes (result.json + log.jsonl), built from real benchmark rows."""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from isdarts.bench import COLUMNS, OPS, parse
from isdarts.cli import main
from isdarts.errors import IsdartsError
from isdarts.report import aggregate, evaluate, figures, published

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "config" / "published.yaml"
ISDARTS_CELL = 9930  # the published IS-DARTS cell
SKIP_CELL = 1835  # the all-skip cell of the DARTS collapse
PNG = b"\x89PNG\r\n\x1a\n"


def _isdarts_log(bench, final: int, epochs: int = 6, first_shrink: int = 2) -> list[dict]:
    """Masks shrink one op per edge after epochs 2..5; the removed op has the largest score."""
    final_ops = parse(bench.arch(final))
    masks = [[1] * len(OPS) for _ in final_ops]
    records = []
    for epoch in range(1, epochs + 1):
        importance = None
        if first_shrink <= epoch < first_shrink + len(OPS) - 1:
            importance = []
            for e, keep in enumerate(final_ops):
                alive = [i for i, m in enumerate(masks[e]) if m]
                order = [i for i in alive if OPS[i] != keep]
                scores = []
                for i, _ in enumerate(OPS):
                    if not masks[e][i]:
                        scores.append(None)
                    elif OPS[i] == "none":
                        scores.append("inf")
                    else:
                        scores.append(10.0 ** (2 + i) if OPS[i] != keep else 1.0)
                importance.append(scores)
                drop = max(order, key=lambda i: math.inf if OPS[i] == "none" else 10.0 ** (2 + i))
                masks[e][drop] = 0
        current = None
        if epoch >= first_shrink:
            current = [
                OPS[max((i for i, m in enumerate(edge) if m), key=lambda i: i == OPS.index(k))]
                for edge, k in zip(masks, final_ops, strict=True)
            ]
        arch = (
            bench.arch(final)
            if epoch == epochs
            else (None if current is None else _to_str(current))
        )
        row = bench.query(arch) if arch else None
        records.append(
            {
                "epoch": epoch,
                "train_loss": 2.0 - 0.1 * epoch,
                "train_acc": 10.0 + epoch,
                "lr": 0.025,
                "seconds": 1.0,
                "masks": [list(m) for m in masks],
                "importance": importance,
                "arch": arch,
                "index": row["index"] if row else None,
                "benchmark": {c: row[c] for c in COLUMNS} if row else None,
            }
        )
    return records


def _to_str(ops):
    from isdarts.bench import to_str

    return to_str(ops)


def _darts_log(bench, cells: list[int]) -> list[dict]:
    records = []
    for epoch, cell in enumerate(cells, start=1):
        row = bench.query(cell)
        records.append(
            {
                "epoch": epoch,
                "train_loss": 1.5,
                "train_acc": 40.0,
                "lr": 0.025,
                "seconds": 1.0,
                "masks": [[1] * len(OPS) for _ in range(6)],
                "importance": None,
                "arch": row["arch"],
                "index": row["index"],
                "benchmark": {c: row[c] for c in COLUMNS},
                "alphas": [[0.0] * len(OPS) for _ in range(6)],
            }
        )
    return records


def make_run(
    root, bench, method: str, seed: int, final: int, log: list[dict], profile="smoke", **extra
):
    out = root / method / f"seed{seed}"
    out.mkdir(parents=True)
    row = bench.query(final)
    result = {
        "space": "nb201",
        "method": method,
        "dataset": "cifar10",
        "seed": seed,
        "profile": profile,
        "data_source": "mirror: CIFAR-10, JPEG-q75 mirror (test)",
        "arch": row["arch"],
        "index": row["index"],
        "benchmark": {c: row[c] for c in COLUMNS},
        "epochs": len(log),
        "wall_seconds": 12.5 + seed,
        "device": "cpu: test, 2 cores, 1 threads",
        "torch_version": "2.x",
        "isdarts_version": "0.1.0",
        "order": "shuffle",
        "benchmark_format": "isdarts-nb201-v1",
        **extra,
    }
    (out / "result.json").write_text(json.dumps(result))
    (out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    return out


@pytest.fixture()
def runs(tmp_path, bench):
    """Two IS-DARTS seeds (9930 and a neighbour) and two DARTS seeds collapsing to all-skip."""
    other = bench.index(_to_str(["nor_conv_3x3"] * 6))
    return [
        make_run(tmp_path, bench, "isdarts", 0, ISDARTS_CELL, _isdarts_log(bench, ISDARTS_CELL)),
        make_run(tmp_path, bench, "isdarts", 1, other, _isdarts_log(bench, other)),
        make_run(tmp_path, bench, "darts", 0, SKIP_CELL, _darts_log(bench, [other, 11, SKIP_CELL])),
        make_run(
            tmp_path, bench, "darts", 1, SKIP_CELL, _darts_log(bench, [284, SKIP_CELL, SKIP_CELL])
        ),
    ]


def _evaluate_all(runs, bench, tmp_path):
    paths = []
    for run in runs:
        rec = evaluate.evaluate(run, bench)
        path = tmp_path / f"{rec['method']}-{rec['seed']}.json"
        path.write_text(json.dumps(rec))
        paths.append(path)
    return paths


def test_published_rows_match_the_benchmark(bench):
    rows = [r for r in published.load_published(PUBLISHED) if r.space == "nb201"]
    assert len(rows) == 15 and all(r.source for r in rows)
    by_id = {r.id: r for r in rows}
    for rid, cell in (("isdarts", ISDARTS_CELL), ("darts_v1", SKIP_CELL)):
        looked_up = bench.query(cell)
        assert all(round(looked_up[c], 2) == by_id[rid].mean[c] for c in COLUMNS), rid
    assert published.match(rows, "nb201", "isdarts", "cifar10").id == "isdarts"
    assert published.match(rows, "nb201", "darts", "cifar10").id == "darts_v1"
    assert published.match(rows, "nb201", "isdarts", "cifar100") is None
    assert by_id["rsps"].std["cifar10_test"] == 3.61 and by_id["isdarts"].std is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["nb201"]["rows"][0].update(colour="red"),
            "unknown key 'nb201.rows[0].colour'",
        ),
        (lambda d: d["nb201"]["rows"][1]["mean"].pop(), "expected a list of 6 numbers"),
        (lambda d: d["nb201"]["rows"][2].pop("source"), "missing key 'nb201.rows[2].source'"),
        (lambda d: d["nb201"].update(columns=5), "bad value 5 for 'nb201.columns'"),
        (lambda d: d["nb201"].update(rows=5), "bad value 5 for 'nb201.rows'"),
        (lambda d: d["nb201"]["rows"][0].update(id=["a", "b"]), "'nb201.rows[0].id'"),
        (lambda d: d["nb201"]["rows"][1]["mean"].__setitem__(2, "x"), "'nb201.rows[1].mean[2]'"),
        (lambda d: d["nb201"]["rows"][1]["mean"].__setitem__(2, float("nan")), "not a finite"),
        (lambda d: d.update(nas301={}), "unknown key 'nas301'"),
        (lambda d: d["darts"].pop("columns"), "missing key 'darts.columns'"),
        (lambda d: d["nb201"]["rows"][3].update(id="optimum"), "duplicate id 'optimum'"),
        (lambda d: d["nb201"]["rows"][2].update(ours="isdarts"), "a second row for ours: isdarts"),
    ],
)
def test_published_file_errors_name_the_field(tmp_path, edit, message):
    import yaml

    data = yaml.safe_load(PUBLISHED.read_text())
    edit(data)
    bad = tmp_path / "published.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(IsdartsError, match=re.escape(message)):
        published.load_published(bad)


def test_evaluate_looks_up_all_six_columns(runs, bench, tmp_path):
    out = tmp_path / "evaluation.json"
    assert (
        main(["evaluate", "--run", str(runs[0]), "--out", str(out), "--bench", str(bench.path)])
        == 0
    )
    rec = json.loads(out.read_text())
    assert rec["index"] == ISDARTS_CELL and rec["method"] == "isdarts" and rec["seed"] == 0
    assert rec["cifar10_test"] == pytest.approx(94.3633, abs=1e-3)
    assert rec["wall_seconds"] == 12.5 and rec["data_source"].startswith("mirror")


def test_evaluate_errors(tmp_path, bench):
    with pytest.raises(IsdartsError, match="has not finished"):
        evaluate.evaluate(tmp_path, bench)
    (tmp_path / "result.json").write_text(json.dumps({"space": "nb201"}))
    with pytest.raises(IsdartsError, match="missing key"):
        evaluate.evaluate(tmp_path, bench)


def test_aggregate_mean_std_and_differences(runs, bench, tmp_path):
    evals = _evaluate_all(runs, bench, tmp_path)
    table = aggregate.runs_table(evals)
    assert list(table["method"]) == ["isdarts", "isdarts", "darts", "darts"]
    assert list(table["seed"]) == [0, 1, 0, 1]
    summary = aggregate.summary_table(table, published.load_published(PUBLISHED))
    assert len(summary) == 2 * len(COLUMNS)
    s = summary.set_index(["method", "metric"])
    iso = table[table.method == "isdarts"]["cifar10_test"]
    assert s.at[("isdarts", "cifar10_test"), "mean"] == pytest.approx(iso.mean())
    assert s.at[("isdarts", "cifar10_test"), "std"] == pytest.approx(iso.std(ddof=1))
    assert s.at[("isdarts", "cifar10_test"), "difference"] == pytest.approx(iso.mean() - 94.36)
    assert s.at[("darts", "cifar10_test"), "std"] == pytest.approx(0.0)
    assert s.at[("darts", "cifar10_test"), "difference"] == pytest.approx(54.2967 - 54.30, abs=1e-3)
    assert s.at[("darts", "imagenet16_test"), "gap_to_optimum"] == pytest.approx(
        47.31 - 16.3222, abs=1e-3
    )
    assert s.at[("darts", "cifar10_test"), "published_method"] == "DARTS (1st order)"
    one = aggregate.summary_table(table[table.seed == 0], published.load_published(PUBLISHED))
    assert one["std"].isna().all() and (one["n"] == 1).all()


def test_aggregate_refuses_duplicates_and_mixed_profiles(runs, bench, tmp_path):
    evals = _evaluate_all(runs, bench, tmp_path)
    with pytest.raises(IsdartsError, match="two evaluations of isdarts cifar10 seed 0"):
        aggregate.runs_table([evals[0], evals[0]])
    rec = json.loads(evals[1].read_text())
    rec["profile"] = "cpu"
    evals[1].write_text(json.dumps(rec))
    with pytest.raises(IsdartsError, match="several run profiles"):
        aggregate.runs_table(evals)


def test_figures_are_pngs(runs, tmp_path):
    out = {k: tmp_path / f"{k}.png" for k in ("accuracy", "ops", "importance")}
    rc = main(
        [
            "figures",
            *map(str, runs),
            "--published",
            str(PUBLISHED),
            *(x for k, p in out.items() for x in (f"--{k}", str(p))),
        ]
    )
    assert rc == 0
    for path in out.values():
        data = path.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    darts_only = tmp_path / "importance-darts.png"
    figures.make_figures(runs[2:], importance=darts_only)  # no shrink steps: a note, no error
    assert darts_only.read_bytes().startswith(PNG)


def test_importance_scores_parse():
    assert figures._score("inf") == math.inf
    assert math.isnan(figures._score(None))
    assert figures._score(12.5) == 12.5


def test_markdown_report(runs, bench, tmp_path):
    evals = _evaluate_all(runs, bench, tmp_path)
    runs_csv, summary_csv = tmp_path / "runs.csv", tmp_path / "summary.csv"
    assert (
        main(
            [
                "aggregate",
                *map(str, evals),
                "--published",
                str(PUBLISHED),
                "--runs",
                str(runs_csv),
                "--summary",
                str(summary_csv),
            ]
        )
        == 0
    )
    fig = tmp_path / "report" / "figures" / "accuracy.png"
    figures.make_figures(runs, accuracy=fig)
    out = tmp_path / "report" / "README.md"
    assert (
        main(
            [
                "report",
                "--runs",
                str(runs_csv),
                "--summary",
                str(summary_csv),
                "--published",
                str(PUBLISHED),
                "--figures",
                str(fig),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text()
    lines = text.splitlines()
    header = "| Method | C10 val | C10 test | C100 val | C100 test | IN16 val | IN16 test |"
    assert header in lines
    # our rows sit right below the published row they reproduce
    i = next(n for n, line in enumerate(lines) if line.startswith("| IS-DARTS |"))
    # runs that recorded no settings: the profile alone beside the seeds
    assert lines[i + 1].startswith("| **IS-DARTS, this harness** (`smoke`; 2 seeds)")
    j = next(n for n, line in enumerate(lines) if line.startswith("| DARTS (1st order) |"))
    assert lines[j + 1].startswith("| **DARTS (1st order), this harness**")
    assert "**54.30±0.00**" in lines[j + 1]
    # the published IS-DARTS row has no std: "±–", as every row without one
    assert lines[i].startswith("| IS-DARTS | 91.55±– | 94.36±– |")
    title = "Final accuracy per seed, and the current cell's test accuracy per epoch"
    assert f"![{title}](figures/accuracy.png)" in text
    # runs table: one row per run with its evidence (the cell strings: runs.csv); a column
    # with one value in every run is left out and named above the table
    h = next(n for n, line in enumerate(lines) if line.startswith("| Method | Seed | Cell |"))
    assert "| Ops |" in lines[h] and "| Rank of 15,625: C10 / C100 / IN16 |" in lines[h]
    assert "| Params (M), C10 network |" in lines[h]
    assert "Supernet held-out" not in lines[h]
    assert lines[h - 2].startswith("The same in every run: ")
    assert "Supernet held-out not recorded" in lines[h - 2]
    run_rows = lines[h + 2 : lines.index("", h)]
    assert len(run_rows) == 4
    assert all(line.count("|") == lines[h].count("|") for line in run_rows)
    darts_rows = [line for line in run_rows if line.startswith("| DARTS (1st order) |")]
    assert len(darts_rows) == 2 and all(" of 6 |" in line for line in darts_rows)
    assert all("| 6 skip |" in line for line in darts_rows)  # the all-skip cell's op counts
    assert "13 s" in text and "JPEG-q75" in text  # 12.5 s: rounded half up
    summary = pd.read_csv(summary_csv)
    assert set(summary["method"]) == {"isdarts", "darts"}


def test_reports_name_the_data_source_by_its_label(runs, bench, tmp_path):
    """A source recorded with a path of the machine (caches prepared before meta.json held
    the path apart) shows as its label, in the tables and in the report."""
    evals = _evaluate_all(runs, bench, tmp_path)
    for path in evals:
        rec = json.loads(path.read_text())
        rec["data_source"] = "mirror: CIFAR-10, JPEG-q75 mirror (/machine/shared/data/cifar10)"
        path.write_text(json.dumps(rec))
    table = aggregate.runs_table(evals)
    assert set(table["data_source"]) == {"mirror: CIFAR-10, JPEG-q75 mirror"}
    # a runs table written before: the report drops the path too
    runs_csv, summary_csv = tmp_path / "runs.csv", tmp_path / "summary.csv"
    table.assign(data_source=json.loads(evals[0].read_text())["data_source"]).to_csv(
        runs_csv, index=False
    )
    aggregate.summary_table(table, published.load_published(PUBLISHED)).to_csv(
        summary_csv, index=False
    )
    out = tmp_path / "README.md"
    args = ["--runs", str(runs_csv), "--summary", str(summary_csv), "--published", str(PUBLISHED)]
    assert main(["report", *args, "--out", str(out)]) == 0
    text = out.read_text()
    assert "/machine" not in text
    assert "- Data: mirror: CIFAR-10, JPEG-q75 mirror." in text


# Packages the report layer never loads: it reads result files, it runs no model.
NOT_IN_REPORTS = ("torch", "torchvision", "onnxruntime", "isdarts.bench.surrogate")


def test_report_layer_imports_no_torch_and_no_surrogate():
    script = (
        "import importlib, pkgutil, sys\n"
        "import isdarts.report as r\n"
        "for m in pkgutil.iter_modules(r.__path__):\n"
        "    importlib.import_module('isdarts.report.' + m.name)\n"
        "print(sorted(sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = set(ast.literal_eval(proc.stdout.strip().splitlines()[-1]))
    assert "isdarts.report.darts" in loaded and "isdarts.report.cli" in loaded
    assert not {m for m in loaded for bad in NOT_IN_REPORTS if m == bad or m.startswith(bad + ".")}
    # nor later, inside a function: no import statement of the report layer names them
    for path in (REPO / "isdarts" / "report").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                assert not any(name == b or name.startswith(b + ".") for b in NOT_IN_REPORTS), (
                    f"{path.name}:{node.lineno} imports {name}"
                )


def _report_all(runs, bench, tmp_path, *extra: str) -> dict[str, str]:
    """Evaluate, aggregate and report ``runs`` with every export; the outputs' texts."""
    evals = _evaluate_all(runs, bench, tmp_path)
    runs_csv, summary_csv = tmp_path / "runs.csv", tmp_path / "summary.csv"
    args = ["aggregate", *map(str, evals), "--published", str(PUBLISHED)]
    assert main([*args, "--runs", str(runs_csv), "--summary", str(summary_csv)]) == 0
    out = {k: tmp_path / "report" / name for k, name in (
        ("readme", "README.md"), ("tex", "table.tex"), ("html", "table.html"),
        ("wide", "summary_wide.csv"))}  # fmt: skip
    rc = main(
        [
            "report",
            *("--runs", str(runs_csv), "--summary", str(summary_csv)),
            *("--published", str(PUBLISHED), "--out", str(out["readme"])),
            *("--tex", str(out["tex"]), "--html", str(out["html"]), "--wide", str(out["wide"])),
            *extra,
        ]
    )
    assert rc == 0
    return {k: p.read_text(encoding="utf-8") for k, p in out.items()}


def test_a_smoke_report_says_so_on_every_output_and_gives_no_verdict(runs, bench, tmp_path):
    text = _report_all(runs, bench, tmp_path)
    readme = text["readme"]
    banner = "> **Smoke run: not a result.** The `smoke` profile"
    assert banner in readme and readme.index(banner) < readme.index("## Verdict")
    verdict = readme[readme.index("## Verdict") : readme.index("## Setup against the paper")]
    assert "None: a `smoke` run checks the workflow" in verdict
    assert "reproduced" not in verdict and "***" not in verdict and "Criterion" not in verdict
    page = text["html"]
    assert "<b>Smoke run: not a result.</b>" in page and "<li>" not in page
    assert page.index("Smoke run") < page.index("<h2>Verdict</h2>")
    tex = text["tex"]
    assert tex.count("SMOKE RUN, NOT A RESULT") == 2  # a comment above, the caption
    assert "\\caption{SMOKE RUN, NOT A RESULT" in tex


def _settings(channels: int, cells: int, images: int) -> dict:
    """A result's recorded profile settings (the keys the scale is read from)."""
    return {
        "name": "cpu",
        "channels": channels,
        "cells_per_stage": cells,
        "batch_size": 64,
        "epochs": 6,
        "train_subset": images,
        "shrink_steps": 4,
        "shrink_interval": 1,
        "darts": {"epochs": 3, "arch_lr": 3e-4},
    }


def test_every_output_carries_the_scale_the_runs_recorded(bench, tmp_path):
    """The setup-vs-paper block, our row labels, the HTML page and the LaTeX caption carry the
    C, N, images and epochs the runs recorded (not the current profile file's: C=12 here)."""
    other = bench.index(_to_str(["nor_conv_3x3"] * 6))
    settings = {"profile": "cpu", "profile_settings": _settings(12, 3, 2000)}
    runs = [
        make_run(tmp_path, bench, "isdarts", seed, cell, _isdarts_log(bench, cell), **settings)
        for seed, cell in ((0, ISDARTS_CELL), (1, other))
    ] + [
        make_run(tmp_path, bench, "darts", s, SKIP_CELL, _darts_log(bench, [other, 11, SKIP_CELL]), **settings)
        for s in (0, 1)
    ]  # fmt: skip
    (tmp_path / "out").mkdir()
    text = _report_all(runs, bench, tmp_path / "out")
    readme = text["readme"]
    assert readme.startswith(
        "# NAS-Bench-201 reproduction at the `cpu` run profile (C=12, N=3, 2,000 images)"
    )
    assert "Smoke run" not in readme and "***" in readme  # a verdict
    setup = readme[readme.index("## Setup against the paper") :].split("\n## ")[0]
    assert "| Setting | this report (`cpu`) | paper |" in setup
    assert "| C (channels of the first cell stage) | 12 | 16 |" in setup
    assert "| N (search cells per stage) | 3 | 5 |" in setup
    assert "| 2,000 | 50,000 |" in setup
    # IS-DARTS: 6 epochs, shrink after 2, 3, 4, 5 (S=4, I=1); the paper: 30, after 22..28
    assert (
        "| IS-DARTS: epochs; shrink steps after epochs | 6; 2, 3, 4, 5 | 30; 22, 24, 26, 28 |"
        in setup
    )
    # DARTS: 3 epochs x ceil(1,000 / 64) = 48 architecture steps; the paper: 50 x 391
    assert "| DARTS (1st order): epochs; architecture steps | 3; 48 | 50; 19,550 |" in setup
    assert (
        "**IS-DARTS, this harness** (`cpu`: C=12, N=3, 2,000 images, 6 epochs; 2 seeds)" in readme
    )
    assert (
        "**DARTS (1st order), this harness** (`cpu`: C=12, N=3, 2,000 images, 3 epochs; 2 seeds)"
        in readme
    )
    assert (
        "<h1>NAS-Bench-201 reproduction at the cpu run profile (C=12, N=3, 2,000 images)</h1>"
        in text["html"]
    )
    assert "<h2>Setup against the paper</h2>" in text["html"]
    assert (
        "IS-DARTS, this harness (cpu: C=12, N=3, 2,000 images, 6 epochs; 2 seeds: 0, 1)"
        in text["html"]
    )
    caption = text["tex"][text["tex"].index("\\caption{") :].split("\n")[0]
    assert (
        "\\texttt{cpu} (C=12, N=3, 2,000 images; epochs: DARTS (1st order) 3, IS-DARTS 6)"
        in caption
    )
    assert "C=16, N=5, 50,000 images" in caption
    assert (
        "IS-DARTS, this harness (cpu: C=12, N=3, 2,000 images, 6 epochs; 2 seeds)" in text["wide"]
    )


def test_a_renamed_profile_is_named_by_its_new_name_and_the_recorded_one_kept(
    runs, bench, tmp_path
):
    evals = _evaluate_all(runs, bench, tmp_path)
    table = aggregate.runs_table(evals, renamed={"smoke": "smoke-old"})
    assert set(table["profile"]) == {"smoke-old"} and set(table["profile_recorded"]) == {"smoke"}
    with pytest.raises(IsdartsError, match="no evaluation recorded the profile cpu"):
        aggregate.runs_table(evals, renamed={"cpu": "cpu-n1"})
