"""The NAS-Bench-201 figures on search folders in the exact format `isdarts search` writes
(result.json + log.jsonl, real benchmark rows): every PNG written, +inf scores, methods with
and without architecture weights (a late cell like IS-DARTS's and RSPS's), one seed, small
multiples without empty panels for all thirteen methods, and one colour meaning per figure
set."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from isdarts.bench import COLUMNS, OPS, parse, to_str
from isdarts.cli import main
from isdarts.config.methods import METHODS
from isdarts.errors import IsdartsError
from isdarts.report import figures
from isdarts.report.figures_cells import (
    _cell_counts,
    _mask_counts,
    _per_epoch,
    alphas_methods,
    ops_panels,
)
from isdarts.report.figures_common import load_runs, op_colors_clash
from isdarts.report.published import load_published

PUBLISHED = Path(__file__).resolve().parents[1] / "config" / "published.yaml"
PNG = b"\x89PNG\r\n\x1a\n"
NAMES = ("accuracy", "ops", "importance", "alphas")
SKIP_CELL = 1835  # all skip_connect: the DARTS collapse (about 54 % on CIFAR-10)
EPOCHS = 6


def _record(bench, epoch: int, cell, **extra) -> dict:
    row = bench.query(cell) if cell is not None else None
    return {
        "epoch": epoch,
        "train_loss": 2.0 - 0.1 * epoch,
        "train_acc": 10.0 + epoch,
        "lr": 0.025,
        "seconds": 1.0,
        "masks": [[1] * len(OPS) for _ in range(6)],
        "importance": None,
        "arch": row["arch"] if row else None,
        "index": row["index"] if row else None,
        "benchmark": {c: row[c] for c in COLUMNS} if row else None,
        **extra,
    }


def _softmax_drift(epoch: int, favour: int) -> list[list[float]]:
    w = [1.0 + (0.1 * epoch if k == favour else 0.0) for k in range(len(OPS))]
    return [[v / sum(w) for v in w] for _ in range(6)]


def _isdarts_log(bench, final: int) -> list[dict]:
    """No cell before the first shrink step (epoch 3); 'none' goes first with a score of +inf,
    then one op per edge at epochs 4 and 5 (the largest score); removed ops log null."""
    keep = parse(bench.arch(final))
    masks = [[1] * len(OPS) for _ in range(6)]
    log = []
    for epoch in range(1, EPOCHS + 1):
        importance = None
        if 3 <= epoch <= 5:
            importance = []
            for e, mask in enumerate(masks):
                scores = [
                    None if not m else "inf" if op == "none" else 10.0 ** (1 + i + epoch % 2)
                    for i, (op, m) in enumerate(zip(OPS, mask, strict=True))
                ]
                scores[OPS.index(keep[e])] = 1.0 if mask[OPS.index(keep[e])] else None
                importance.append(scores)
                alive = [i for i, s in enumerate(scores) if s is not None and OPS[i] != keep[e]]
                mask[max(alive, key=lambda i: math.inf if scores[i] == "inf" else scores[i])] = 0
        cell = final if epoch >= 3 else None
        rec = _record(bench, epoch, cell, importance=importance)
        rec["masks"] = [list(m) for m in masks]
        log.append(rec)
    return log


def _run(root, bench, method: str, seed: int, log: list[dict], profile="smoke"):
    out = root / method / f"seed{seed}"
    out.mkdir(parents=True)
    final = log[-1]["arch"]
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
        "wall_seconds": 10.0,
        "device": "cpu: test, 2 cores, 1 threads",
        "torch_version": "2.x",
        "isdarts_version": "0.1.0",
        "order": "shuffle",
        "benchmark_format": "isdarts-nb201-v1",
    }
    (out / "result.json").write_text(json.dumps(result))
    (out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    return out


@pytest.fixture()
def runs(tmp_path, bench):
    """IS-DARTS x 2 (shrink steps, +inf scores), DARTS x 2 (alphas; seed 1 collapses to
    all-skip), RSPS x 1 (no alphas, a cell only at its last epoch), GDAS x 1 (alphas)."""
    good = bench.index(to_str(["nor_conv_3x3"] * 6))
    mixed = bench.index(to_str(["nor_conv_3x3", "nor_conv_1x1"] * 3))
    darts = [
        [_record(bench, e, good, alphas=_softmax_drift(e, 3)) for e in range(1, EPOCHS + 1)],
        [
            _record(bench, e, good if e < 3 else SKIP_CELL, alphas=_softmax_drift(e, 1))
            for e in range(1, EPOCHS + 1)
        ],
    ]
    rsps = [
        _record(
            bench,
            e,
            mixed if e == EPOCHS else None,
            arch_state={"sampled": [[3] * len(OPS)] * 6},
        )
        for e in range(1, EPOCHS + 1)
    ]
    gdas = [_record(bench, e, mixed, alphas=_softmax_drift(e, 2)) for e in range(1, EPOCHS + 1)]
    return [
        _run(tmp_path, bench, "isdarts", 0, _isdarts_log(bench, good)),
        _run(tmp_path, bench, "isdarts", 1, _isdarts_log(bench, mixed)),
        _run(tmp_path, bench, "darts", 0, darts[0]),
        _run(tmp_path, bench, "darts", 1, darts[1]),
        _run(tmp_path, bench, "rsps", 0, rsps),
        _run(tmp_path, bench, "gdas", 0, gdas),
    ]


def _is_png(path) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG) and len(data) > 10_000


def test_the_figures_verb_writes_each_png(runs, tmp_path):
    out = {k: tmp_path / "figures" / f"{k}.png" for k in NAMES[:3]}
    args = ["figures", *map(str, runs), "--published", str(PUBLISHED)]
    assert main(args + [x for k, p in out.items() for x in (f"--{k}", str(p))]) == 0
    assert all(_is_png(p) for p in out.values())
    # alphas.png: DARTS and GDAS log alphas, IS-DARTS and RSPS do not
    alphas = tmp_path / "figures" / "alphas.png"
    assert figures.make_figures(runs, alphas=alphas) == [alphas]
    assert _is_png(alphas)


def test_one_seed_and_any_subset_of_methods(runs, tmp_path):
    published = load_published(PUBLISHED)
    for name, subset in (("isdarts", runs[:1]), ("rsps", runs[4:5]), ("gdas", runs[5:])):
        paths = [tmp_path / name / f"{k}.png" for k in NAMES]
        written = figures.make_figures(subset, *paths[:3], published, alphas=paths[3])
        assert written == paths and all(p.read_bytes().startswith(PNG) for p in paths)


def test_inf_scores_and_removed_ops_reach_the_importance_figure(runs, tmp_path):
    run = load_runs(runs[:1])[0]
    steps = [rec for rec in run.log if rec["importance"]]
    assert steps[0]["importance"][0][0] == "inf" and figures._score("inf") == math.inf
    assert any(s is None for rec in steps[1:] for edge in rec["importance"] for s in edge)
    assert figures._score(None) != figures._score(None)  # nan: a removed op is not drawn
    out = figures.make_figures(runs[:2], importance=tmp_path / "importance.png")
    assert _is_png(out[0])


def test_a_set_without_alphas_or_shrink_steps_gets_a_note_not_an_error(runs, tmp_path):
    no_alphas = figures.make_figures(runs[:2] + runs[4:5], alphas=tmp_path / "a.png")
    no_shrink = figures.make_figures(runs[2:4], importance=tmp_path / "i.png")
    assert no_alphas[0].read_bytes().startswith(PNG)
    assert no_shrink[0].read_bytes().startswith(PNG)


def test_malformed_alphas_are_refused_with_the_epoch(runs):
    log = (runs[2] / "log.jsonl").read_text().splitlines()
    rec = json.loads(log[1])
    rec["alphas"] = rec["alphas"][:5]
    log[1] = json.dumps(rec)
    (runs[2] / "log.jsonl").write_text("\n".join(log) + "\n")
    with pytest.raises(IsdartsError, match="epoch 2: 'alphas' is not 6 lists of 5"):
        figures.make_figures(runs[2:3], alphas=runs[2] / "alphas.png")


def test_op_counts_stay_within_the_six_edges(runs):
    for group in (load_runs(runs[:2]), load_runs(runs[2:4]), load_runs(runs[4:5])):
        for count in (_cell_counts, _mask_counts):
            per_op = _per_epoch(group, EPOCHS, count)
            for x in range(EPOCHS):
                values = [per_op[op][x] for op in OPS if not math.isnan(per_op[op][x])]
                assert all(0 <= v <= 6 for v in values)
                if count is _cell_counts and values:
                    assert sum(values) == pytest.approx(6)


def test_ops_have_no_method_colour():
    assert op_colors_clash() == set()


def test_small_multiples_have_no_empty_panel(runs) -> None:
    """ops: a cell panel per method, a candidates panel only for a method that shrinks;
    alphas: a row only for methods with weights on more than one epoch (not RSPS, which logs
    its final cell's counts only)."""
    loaded = load_runs(runs)
    assert ops_panels(loaded) == [
        ("isdarts", "cell"),
        ("isdarts", "candidates"),
        ("darts", "cell"),
        ("rsps", "cell"),
        ("gdas", "cell"),
    ]
    assert alphas_methods(loaded) == ["darts", "gdas"]


def test_every_figure_copes_with_all_thirteen_methods(bench, tmp_path) -> None:
    """The baselines' workflow runs the paper's thirteen methods, each on its own epochs."""
    good = bench.index(to_str(["nor_conv_3x3"] * 6))
    paths = []
    for k, method in enumerate(METHODS):
        epochs = 3 + k  # every method its own length
        log = [
            _record(bench, e, good, alphas=_softmax_drift(e, k % 5)) for e in range(1, epochs + 1)
        ]
        if method == "isdarts":
            log = _isdarts_log(bench, good)
        paths.append(_run(tmp_path, bench, method, 0, log))
    out = [tmp_path / "figures" / f"{k}.png" for k in NAMES]
    written = figures.make_figures(paths, *out[:3], load_published(PUBLISHED), alphas=out[3])
    assert written == out and all(_is_png(p) for p in out)
    loaded = load_runs(paths)
    assert len(ops_panels(loaded)) == len(METHODS) + 1  # IS-DARTS' candidates
    assert len(alphas_methods(loaded)) == len(METHODS) - 1  # all but IS-DARTS
