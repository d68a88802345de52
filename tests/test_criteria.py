"""The verdicts' criteria (config/criteria.yaml) and the per-run evidence they read: parsing,
the three verdicts on fixture runs, and the margin, entropy, travel, shrink-gap, rank and
interval computations against hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cli_helpers import PUBLISHED, REPO, isdarts, one_line_error

from isdarts.bench import COLUMNS
from isdarts.bench.evidence import (
    cell_ranks,
    entropies,
    log_evidence,
    margins,
    shrink_gaps,
    travels,
)
from isdarts.errors import IsdartsError
from isdarts.report.criteria import (
    NOT_REPRODUCED,
    REPRODUCED,
    UNDECIDED,
    RowTest,
    load_criteria,
    paired,
    row_verdict,
    t_interval,
)

CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
DECIDED = "0.3000 0.3000 0.3000 0.3000 0.0100 0.0100"  # 4 of 6 edges at or above 0.05
TIED = "0.3000 0.3000 0.3000 0.0100 0.0100 0.0100"  # 3 of 6: not decisive


def _runs(accs, cells=None, margins=None) -> pd.DataFrame:
    n = len(accs)
    return pd.DataFrame(
        {
            "seed": range(n),
            "arch": cells or [CONV] * n,
            "cifar10_test": accs,
            "margins": margins if margins is not None else [None] * n,
        }
    )


def test_the_committed_criteria_parse_and_name_every_published_nb201_row_ours_runs() -> None:
    crit = load_criteria()
    assert crit.margin == 0.05 and crit.edges == 4 and crit.level == 0.95
    from isdarts.report.published import load_published

    ours = {r.id for r in load_published(PUBLISHED) if r.space == "nb201" and r.ours}
    assert ours <= set(crit.rows)
    assert crit.rows["darts_v1"].kind == "collapse" and crit.rows["isdarts"].kind == "match"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("margin: 0.05", "margin: 0"), "decisive.margin"),
        (("edges: 4", "edges: 7"), "decisive.edges"),
        (("kind: t", "kind: bootstrap"), "interval.kind"),
        (("version: 1", "version: 1\nextra: 2"), "unknown key 'extra'"),
    ],
)
def test_a_bad_criteria_file_is_one_line_naming_the_field(tmp_path, edit, message) -> None:
    text = (REPO / "config/criteria.yaml").read_text()
    assert edit[0] in text
    bad = tmp_path / "criteria.yaml"
    bad.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(IsdartsError, match=message):
        load_criteria(bad)
    res = isdarts(
        "report",
        *("--runs", str(REPO / "reports/cpu-n1/runs.csv")),
        *("--summary", str(REPO / "reports/cpu-n1/summary.csv")),
        *("--published", str(PUBLISHED), "--criteria", str(bad)),
        *("--out", str(tmp_path / "R.md")),
    )
    one_line_error(res, str(bad))
    assert not (tmp_path / "R.md").exists()


def test_decisive_counts_edges_at_the_margin() -> None:
    crit = load_criteria()
    assert crit.decided_edges(DECIDED) == 4 and crit.decisive(DECIDED)
    assert crit.decided_edges(TIED) == 3 and not crit.decisive(TIED)
    assert crit.decided_edges(None) is None and crit.decisive(None)  # no softmax weights
    assert crit.decisive(math.nan)


def test_match_rows_reproduced_not_reproduced_and_undecided() -> None:
    crit = load_criteria()
    test = RowTest("match", tolerance=0.5, max_collapsed=0)
    # mean 94.10 in 93.86..94.86
    assert row_verdict(_runs([94.0, 94.2]), "cifar10_test", 94.36, test, crit).word == REPRODUCED
    # mean 93.0, interval tight and below the band
    v = row_verdict(_runs([93.0, 93.01, 92.99]), "cifar10_test", 94.36, test, crit)
    assert v.word == NOT_REPRODUCED and "wholly outside" in v.reason
    # the cpu report's three IS-DARTS seeds: mean 93.77 outside, interval reaches in
    v = row_verdict(_runs([93.98, 93.56, 93.76]), "cifar10_test", 94.36, test, crit)
    assert v.word == UNDECIDED and "reaches into it" in v.reason
    assert row_verdict(_runs([93.0]), "cifar10_test", 94.36, test, crit).word == UNDECIDED
    # a decisive collapse fails the row; a collapse from near-uniform weights is not counted,
    # and with most runs undecided the row is undecided
    collapsed = _runs([94.3, 54.3], [CONV, SKIP], [DECIDED, DECIDED])
    assert row_verdict(collapsed, "cifar10_test", 94.36, test, crit).word == NOT_REPRODUCED
    tied = _runs([94.3, 54.3, 94.3], [CONV, SKIP, CONV], [TIED, TIED, DECIDED])
    v = row_verdict(tied, "cifar10_test", 94.36, test, crit)
    assert v.word == UNDECIDED and "only 1 of 3 runs decisive" in v.reason


def test_collapse_rows_need_decisive_collapses() -> None:
    crit = load_criteria()
    test = RowTest("collapse", collapse="accuracy", share=0.5)
    skip3 = [54.3, 54.3, 54.3]
    decided = _runs(skip3, [SKIP] * 3, [DECIDED] * 3)
    assert row_verdict(decided, "cifar10_test", 54.3, test, crit).word == REPRODUCED
    # the same cells from tied weights: undecided (the committed cpu DARTS runs)
    tied = _runs(skip3, [SKIP] * 3, [TIED] * 3)
    v = row_verdict(tied, "cifar10_test", 54.3, test, crit)
    assert v.word == UNDECIDED and "3 undecided" in v.reason
    # two decisive runs without a collapse: 2 of 3 can no longer be reached
    fine = _runs([93.0, 93.5, 54.3], [CONV, CONV, SKIP], [DECIDED, DECIDED, TIED])
    assert row_verdict(fine, "cifar10_test", 54.3, test, crit).word == NOT_REPRODUCED
    # a structural collapse at 92 % is not the published accuracy collapse
    struct = _runs([92.0, 92.0], [SKIP, SKIP], [DECIDED, DECIDED])
    assert row_verdict(struct, "cifar10_test", 54.3, test, crit).word == NOT_REPRODUCED
    test_s = RowTest("collapse", collapse="structural", share=0.5)
    assert row_verdict(struct, "cifar10_test", 54.3, test_s, crit).word == REPRODUCED


def test_t_interval_and_paired_difference_by_hand() -> None:
    # mean 2, sample std 1, n 3: half width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051
    ci = t_interval([1.0, 2.0, 3.0], 0.95)
    assert ci.mean == 2.0 and ci.high - 2.0 == pytest.approx(4.302653 / math.sqrt(3), abs=1e-6)
    assert ci.low == pytest.approx(2.0 - 2.484138, abs=1e-6)
    assert t_interval([5.0], 0.95).low is None
    a = pd.DataFrame({"seed": [0, 1, 2, 3], "x": [90.0, 91.0, 92.0, 50.0]})
    b = pd.DataFrame({"seed": [2, 1, 0], "x": [52.0, 50.0, 60.0]})  # seeds 0-2 in another order
    diff = paired(a, b, "x", 0.95)
    assert diff.n == 3 and diff.mean == pytest.approx((30 + 41 + 40) / 3)


def test_margins_entropy_and_travel_by_hand() -> None:
    w = np.array([[0.2] * 5, [0.6, 0.1, 0.1, 0.1, 0.1], [0.4, 0.4, 0.1, 0.05, 0.05]])
    assert margins(w) == pytest.approx([0.0, 0.5, 0.0])
    assert entropies(w)[0] == pytest.approx(math.log(5))
    assert entropies(w)[1] == pytest.approx(-(0.6 * math.log(0.6) + 4 * 0.1 * math.log(0.1)))
    # uniform has not moved; [0.6, 0.1 x4]: log-weights centred, norm sqrt(4/5) * log 6
    t = travels(w)
    assert t[0] == pytest.approx(0.0) and t[1] == pytest.approx(math.sqrt(0.8) * math.log(6))
    assert travels(np.array([[1.0, 0, 0, 0, 0]]))[0] == math.inf  # one-hot (RSPS' log)


def test_shrink_gaps_by_hand() -> None:
    before = [[1, 1, 1, 1, 1], [0, 1, 1, 1, 0]]
    after = [[0, 1, 1, 1, 1], [0, 1, 1, 0, 0]]
    scores = [["inf", 2.0, 3.0, 4.0, 5.0], [None, 10.0, 20.0, 25.0, None]]
    gaps = shrink_gaps(before, after, scores)
    assert gaps[0] == math.inf  # only `none` (score +inf) removed
    assert gaps[1] == pytest.approx((25.0 - 20.0) / 20.0)
    log = [
        {"epoch": 1, "train_acc": 10.0, "masks": before, "importance": None},
        {"epoch": 2, "train_acc": 20.0, "masks": after, "importance": scores},
    ]
    ev = log_evidence(log)
    assert ev["supernet_train_acc"] == 20.0 and ev["margins"] is None
    assert ev["shrink_gaps"] == [{"epoch": 2, "gaps": ["inf", pytest.approx(0.25)]}]
    assert ev["shrink_gap_min"] == pytest.approx(0.25)


def test_ranks_among_all_cells(bench) -> None:
    best = bench.archs[int(np.argmax(bench.values[:, 1]))]  # cifar10_test
    ranks = cell_ranks(bench, best)
    assert ranks["rank_c10"] == 1 and ranks["top_pct_c10"] == pytest.approx(100 / 15625)
    worst = bench.archs[int(np.argmin(bench.values[:, 1]))]
    assert cell_ranks(bench, worst)["rank_c10"] > 15000
    # against pandas' own ranking (ties share the best rank) for a few cells of every data set
    table = pd.DataFrame(bench.values, columns=list(COLUMNS))
    for index in (1835, 9930, 5721, 0):
        row = bench.indices.index(index)
        ranks = cell_ranks(bench, bench.arch(index))
        for key, column in (
            ("c10", "cifar10_test"),
            ("c100", "cifar100_test"),
            ("in16", "imagenet16_test"),
        ):
            expected = table[column].rank(method="min", ascending=False)[row]
            assert ranks[f"rank_{key}"] == expected


def test_a_search_writes_its_evidence_into_result_json(tmp_path, cifar10, bench) -> None:
    """A smoke DARTS search: result.json carries the evidence of its log, the supernet's
    held-out accuracy on images neither of its steps used, and its cell's ranks; the
    evaluation's runs-table columns agree with it."""
    from isdarts.bench.evidence import cell_ranks
    from isdarts.data import load_dataset, load_split
    from isdarts.report.evaluate import evaluate, load_log
    from isdarts.search.heldout import HELDOUT_IMAGES, heldout_index
    from isdarts.search.loop import SearchRequest, run_search
    from isdarts.spaces.nb201.profile import load_profile

    prof = load_profile("smoke")
    result = run_search(SearchRequest("darts", "cifar10", 0, prof, tmp_path / "run", device="cpu"))
    ev = result["evidence"]
    assert ev == {**ev, **log_evidence(load_log(tmp_path / "run"))}
    assert 0 <= ev["supernet_heldout_acc"] <= 100 and ev["heldout_images"] == HELDOUT_IMAGES
    assert len(ev["margins"]) == 6 and ev["shrink_gaps"] is None
    assert {k: ev[k] for k in cell_ranks(bench, result["arch"])} == cell_ranks(
        bench, result["arch"]
    )
    # held out: in the split's valid half, none of the weight steps' or the architecture steps'
    ds = load_dataset("cifar10")
    train, valid = load_split("cifar10")
    idx = heldout_index(ds, None, train)
    assert len(idx) == HELDOUT_IMAGES and set(idx) <= set(valid)
    from isdarts.data.loader import fixed_subset

    arch_images = valid[fixed_subset(len(valid), prof.train_subset // 2)]
    assert not set(idx) & set(arch_images)
    row = evaluate(tmp_path / "run", bench)
    assert row["supernet_heldout_acc"] == ev["supernet_heldout_acc"]
    assert row["margins"] == " ".join(f"{m:.4f}" for m in ev["margins"])
