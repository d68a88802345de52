"""A second adversarial pass: inputs that still gave a traceback, several lines of
error or a silent wrong result after the first fixes. Each case: exit status 2, one line on
stderr naming the file or field, no traceback, no output written (or, for an option argparse
refuses, its usage error).

The search folders, logs and trainings are made here (small, without running anything); the
report tables are the committed `cpu` report's."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import PUBLISHED
from cli_helpers import isdarts as _isdarts
from cli_helpers import one_line_error as _one_line_error
from cli_helpers import report as _report

from isdarts.errors import IsdartsError
from isdarts.spaces.darts.names import REFERENCE_GENOTYPES

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "reports" / "cpu-n1"
ARCH = "|skip_connect~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_1x1~2|"
HUGE = "1" * 5000  # past Python's 4300-digit limit for int()
DEEP = "[" * 100_000 + "]" * 100_000  # past the JSON parser's recursion limit


def _usage_error(res: subprocess.CompletedProcess, needle: str) -> None:
    """argparse's refusal of an option value: usage, then one error line naming the option."""
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert needle in res.stderr.strip().splitlines()[-1], res.stderr


# --- inputs made here ------------------------------------------------------------------------


def _write_log(folder: Path, lines: list) -> None:
    (folder / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))


def _nb201_search(folder: Path, epochs: int = 3, **edit) -> Path:
    """A finished NAS-Bench-201 search: result.json and a log with one shrink step."""
    folder.mkdir(parents=True)
    result = {
        "space": "nb201",
        "method": "isdarts",
        "dataset": "cifar10",
        "seed": 0,
        "profile": "smoke",
        "arch": ARCH,
        "epochs": epochs,
        "wall_seconds": 1.0,
    } | edit
    (folder / "result.json").write_text(json.dumps(result))
    log = [
        {
            "epoch": e,
            "masks": [[1] * 5 for _ in range(6)],
            "importance": [[1.0 + k for k in range(5)] for _ in range(6)] if e == 2 else None,
            "arch": ARCH,
            "benchmark": None,
        }
        for e in range(1, epochs + 1)
    ]
    _write_log(folder, log)
    return folder


def _darts_search(folder: Path, **edit) -> Path:
    """A finished DARTS-space IS-DARTS search (darts_v2's cell) with one shrink step."""
    folder.mkdir(parents=True)
    result = {
        "space": "darts",
        "method": "isdarts",
        "dataset": "cifar10",
        "seed": 0,
        "profile": "smoke",
        "genotype": REFERENCE_GENOTYPES["darts_v2"].to_dict(),
        "epochs": 2,
        "wall_seconds": 1.0,
    } | edit
    (folder / "result.json").write_text(json.dumps(result))
    scores = [[[1.0 + k for k in range(8)] for _ in range(14)] for _ in range(2)]
    _write_log(folder, [{"epoch": 1, "importance": scores}, {"epoch": 2, "importance": None}])
    return folder


def _training(path: Path, source: str = "darts_v2", genotype: str = "darts_v2", **edit) -> Path:
    """A finished DARTS-space training's result.json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "space": "darts",
        "genotype_source": source,
        "genotype": REFERENCE_GENOTYPES[genotype].to_dict(),
        "seed": 0,
        "profile": "smoke",
        "dataset": "cifar10",
        "test_acc": 60.0,
        "test_error": 40.0,
        "test_images": 200,
        "train_images": 128,
        "params_m": 0.01,
        "params_m_c36_l20": 3.3,
        "epochs": 3,
        "wall_seconds": 2.0,
    } | edit
    path.write_text(json.dumps(result))
    return path


def _evaluate(tmp_path: Path, run: Path, bench) -> subprocess.CompletedProcess:
    out = tmp_path / "evaluation.json"
    res = _isdarts("evaluate", "--run", str(run), "--out", str(out), "--bench", str(bench.path))
    assert not out.exists()
    return res


def _figures(tmp_path: Path, *runs: Path) -> subprocess.CompletedProcess:
    out = tmp_path / "accuracy.png"
    res = _isdarts("figures", *map(str, runs), "--accuracy", str(out), "--ops", str(out) + "2")
    assert not out.exists()
    return res


def _shrink(tmp_path: Path, *searches: Path, png: Path | None = None):
    csv = tmp_path / "shrink.csv"
    extra = [] if png is None else ["--png", str(png)]
    res = _isdarts("darts-shrink", *map(str, searches), "--csv", str(csv), *extra)
    assert not csv.exists()
    return res


def _darts_aggregate(tmp_path: Path, trainings, searches=(), surrogate=None):
    runs, summary = tmp_path / "out" / "runs.csv", tmp_path / "out" / "summary.csv"
    extra = [] if surrogate is None else ["--surrogate", str(surrogate)]
    res = _isdarts(
        "darts-aggregate",
        *map(str, trainings),
        "--searches",
        *map(str, searches),
        "--published",
        str(PUBLISHED),
        "--runs",
        str(runs),
        "--summary",
        str(summary),
        *extra,
    )
    assert not runs.exists() and not summary.exists()
    return res


# --- JSON the parser cannot take: a number of 5000 digits, nesting 10^5 deep ------------------


@pytest.mark.parametrize(
    "text, needle",
    [(f'{{"seed": {HUGE}}}', "a number with too many digits"), (DEEP, "nested too deeply")],
)
def test_json_past_the_parsers_limits_is_one_line_wherever_it_is_read(
    tmp_path, bench, text, needle
):
    run = _nb201_search(tmp_path / "run")
    (run / "result.json").write_text(text)
    _one_line_error(_evaluate(tmp_path, run, bench), f"result.json: not valid JSON ({needle})")

    run = _nb201_search(tmp_path / "logged")
    (run / "log.jsonl").write_text(text + "\n")
    _one_line_error(_figures(tmp_path, run), f"log.jsonl, line 1: not valid JSON ({needle})")

    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(text)
    runs = tmp_path / "runs.csv"
    args = ["--published", str(PUBLISHED), "--runs", str(runs), "--summary", str(runs) + "2"]
    _one_line_error(_isdarts("aggregate", str(evaluation), *args), f"{evaluation}: not valid JSON")

    training = _training(tmp_path / "t" / "result.json")
    training.write_text(text)
    _one_line_error(_darts_aggregate(tmp_path, [training]), f"{training}: not valid JSON")

    scores = tmp_path / "surrogate.json"
    scores.write_text(text)
    res = _darts_aggregate(tmp_path, [_training(tmp_path / "t2.json")], surrogate=scores)
    _one_line_error(res, f"{scores}: not valid JSON")


def test_a_search_folder_or_data_cache_past_the_parsers_limits_is_one_line(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.json").write_text(f'{{"seed": {HUGE}}}')
    base = ["search", "--method", "isdarts", "--profile", "smoke", "--device", "cpu"]
    res = _isdarts(*base, "--out", str(out), "--data-root", str(tmp_path / "none"))
    _one_line_error(res, "result.json: not valid JSON (a number with too many digits)")

    meta = tmp_path / "data" / "cifar10" / "meta.json"
    meta.parent.mkdir(parents=True)
    for text, needle in ((f'{{"a": {HUGE}}}', "too many digits"), ("[]", "corrupt (expected")):
        meta.write_text(text)
        res = _isdarts(*base, "--out", str(tmp_path / "o"), "--data-root", str(meta.parents[1]))
        _one_line_error(res, f"{meta}: ")
        assert needle in res.stderr and "data prepare cifar10 --force" in res.stderr


def test_a_sha256_record_past_the_parsers_limits_is_named(tmp_path, bench):
    table = tmp_path / "table.csv"
    shutil.copy(bench.path, table)
    (tmp_path / "table.csv.sha256.json").write_text(f'{{"sha256": {HUGE}}}')
    res = _isdarts("nb201", "query", "7500", "--table", str(table))
    _one_line_error(res, "table.csv.sha256.json: not a sha256 record")


# --- numbers a result file cannot hold: NaN, Infinity, 1e999 ----------------------------------


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999"])
def test_a_non_finite_number_in_a_result_is_refused(tmp_path, bench, value):
    run = _nb201_search(tmp_path / "run")
    text = (
        (run / "result.json").read_text().replace('"wall_seconds": 1.0', f'"wall_seconds": {value}')
    )
    (run / "result.json").write_text(text)
    _one_line_error(_evaluate(tmp_path, run, bench), "result.json: not valid JSON (")

    training = _training(tmp_path / "t" / "result.json")
    training.write_text(
        training.read_text().replace('"wall_seconds": 2.0', f'"wall_seconds": {value}')
    )
    _one_line_error(_darts_aggregate(tmp_path, [training]), f"{training}: not valid JSON (")


def test_an_infinite_wall_time_in_the_runs_table_is_refused(tmp_path):
    import pandas as pd

    df = pd.read_csv(REPORT / "runs.csv", dtype=str, keep_default_na=False)
    df.loc[0, "wall_seconds"] = "inf"
    bad = tmp_path / "runs.csv"
    df.to_csv(bad, index=False)
    res = _report(tmp_path, bad, REPORT / "summary.csv")
    _one_line_error(res, "line 2: column 'wall_seconds' holds inf (expected a finite number >= 0)")


# --- result.json: an index string as the cell, an unknown data set -----------------------------


def test_an_index_string_as_the_cell_is_not_looked_up(tmp_path, bench):
    run = _nb201_search(tmp_path / "run", arch="7500")
    _one_line_error(_evaluate(tmp_path, run, bench), "bad value '7500' for 'arch'")


def test_an_unknown_data_set_is_refused_before_the_figures(tmp_path):
    run = _nb201_search(tmp_path / "run", dataset="mnist")
    _one_line_error(_figures(tmp_path, run), "bad value 'mnist' for 'dataset'")


# --- log.jsonl: checked line by line against the space's log schema ----------------------------


def _edit_log(run: Path, line: int, **edit) -> None:
    rows = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    rows[line - 1].update(edit)
    _write_log(run, rows)


@pytest.mark.parametrize(
    "edit, needle",
    [
        ({"importance": [[1.0]]}, "line 2: bad value [[1.0]] for 'importance'"),
        ({"importance": [["abc"] * 5] * 6}, "line 2: bad value 'abc' for 'importance[0][0]'"),
        ({"masks": None}, "line 2: bad value None for 'masks'"),
        ({"masks": [[1]]}, "line 2: bad value [[1]] for 'masks'"),
        ({"benchmark": {"a": 1}}, "line 2: missing key 'benchmark.cifar10_valid'"),
        ({"arch": "bogus"}, "line 2: bad value 'bogus' for 'arch'"),
    ],
)
def test_a_bad_nb201_log_line_is_named_before_any_figure(tmp_path, edit, needle):
    run = _nb201_search(tmp_path / "run")
    _edit_log(run, 2, **edit)
    _one_line_error(_figures(tmp_path, run), f"log.jsonl, {needle}")


def test_a_log_cut_short_or_written_twice_is_refused(tmp_path):
    run = _nb201_search(tmp_path / "run")
    log = (run / "log.jsonl").read_text()
    (run / "log.jsonl").write_text(log + log)
    _one_line_error(_figures(tmp_path, run), "log.jsonl, line 4: epoch 1 a second time")
    (run / "log.jsonl").write_text("".join(log.splitlines(keepends=True)[:2]))
    _one_line_error(_figures(tmp_path, run), "2 epoch lines, expected one per epoch 1..3")


@pytest.mark.parametrize(
    "scores, needle",
    [
        ([1.0, 2.0], "bad value 1.0 for 'importance[0]'"),
        ([[["nan"] * 8] * 14] * 2, "bad value 'nan' for 'importance[0][0][0]'"),
        ([[[-1.0] * 8] * 14] * 2, "bad value -1.0 for 'importance[0][0][0]'"),
    ],
)
def test_a_bad_darts_log_line_is_named_before_the_shrink_table(tmp_path, scores, needle):
    search = _darts_search(tmp_path / "s")
    _edit_log(search, 1, importance=scores)
    _one_line_error(_shrink(tmp_path, search), f"log.jsonl, line 1: {needle}")


# --- figures and darts-shrink: the wrong space, the same run twice, a bad genotype -------------


def test_the_figures_refuse_a_darts_space_search(tmp_path):
    search = _darts_search(tmp_path / "s")
    _one_line_error(_figures(tmp_path, search), "a darts-space search; the figures draw")


def test_the_same_search_twice_is_refused(tmp_path):
    run = _nb201_search(tmp_path / "run")
    _one_line_error(_figures(tmp_path, run, run), "seed 0 on cifar10 (smoke) a second time")
    search = _darts_search(tmp_path / "s")
    _one_line_error(_shrink(tmp_path, search, search), "the search of seed 0 (smoke) a second time")


@pytest.mark.parametrize(
    "pair, needle",
    [(["conv_9x9", 0], "unknown op 'conv_9x9'"), (["skip_connect", "x"], "bad input index 'x'")],
)
def test_a_search_result_with_a_bad_genotype_is_refused(tmp_path, pair, needle):
    genotype = REFERENCE_GENOTYPES["darts_v2"].to_dict()
    genotype["normal"][0] = pair
    search = _darts_search(tmp_path / "s", genotype=genotype)
    _one_line_error(_shrink(tmp_path, search), f"result.json: genotype: {needle}")


# --- darts-aggregate: surrogate scores, a training that contradicts itself or its source --------


def _surrogate(tmp_path: Path, score) -> Path:
    path = tmp_path / "surrogate.json"
    record = {
        "surrogate": "YAHPO-NB301 surrogate",
        "epoch": 98,
        "results": [{"genotype": REFERENCE_GENOTYPES["darts_v2"].to_dict(), "score": score}],
    }
    path.write_text(json.dumps(record))
    return path


@pytest.mark.parametrize("score", ["abc", [1], True])
def test_a_surrogate_score_that_is_not_a_number_is_refused(tmp_path, score):
    scores = _surrogate(tmp_path, score)
    res = _darts_aggregate(tmp_path, [_training(tmp_path / "t.json")], surrogate=scores)
    _one_line_error(res, f"{scores}: results[0].score is {score!r} (expected a number, or null)")


def test_a_training_that_contradicts_itself_or_its_source_is_refused(tmp_path):
    bad = _training(tmp_path / "acc.json", test_acc=10.0)
    _one_line_error(_darts_aggregate(tmp_path, [bad]), "do not add up to 100")
    bad = _training(tmp_path / "ref.json", genotype="isdarts_published")
    _one_line_error(_darts_aggregate(tmp_path, [bad]), "its genotype is not that of darts_v2")
    search = _darts_search(tmp_path / "s") / "result.json"
    found = _training(tmp_path / "found.json", source=str(search), genotype="isdarts_published")
    res = _darts_aggregate(tmp_path, [found], [search])
    _one_line_error(res, f"its genotype is not that of {search}")


def test_a_search_with_a_malformed_darts_block_is_refused(tmp_path):
    search = _darts_search(tmp_path / "s", profile_settings={"darts": [1]}) / "result.json"
    found = _training(tmp_path / "found.json", source=str(search))
    res = _darts_aggregate(tmp_path, [found], [search])
    _one_line_error(res, "bad value [1] for 'profile_settings.darts'")


# --- report tables: a summary with a row too many or too few, two profiles, unreadable CSV -----


def _lines(src: Path, dst: Path, edit) -> Path:
    lines = src.read_text().splitlines(keepends=True)
    dst.write_text("".join(edit(lines)))
    return dst


@pytest.mark.parametrize(
    "runs_edit, summary_edit, needle",
    [
        (None, lambda ls: ls + ls[1:2], "have metric cifar10_valid,"),
        (None, lambda ls: ls[:-1], "(expected each of cifar10_valid"),
        (
            lambda ls: [ls[0], ls[1].replace(",cpu-n1,", ",smoke,", 1), *ls[2:]],
            None,
            "several run profiles",
        ),
    ],
)
def test_report_tables_that_do_not_fit_together_are_refused(
    tmp_path, runs_edit, summary_edit, needle
):
    runs = (
        REPORT / "runs.csv"
        if runs_edit is None
        else _lines(REPORT / "runs.csv", tmp_path / "r.csv", runs_edit)
    )
    summary = (
        REPORT / "summary.csv"
        if summary_edit is None
        else _lines(REPORT / "summary.csv", tmp_path / "s.csv", summary_edit)
    )
    _one_line_error(_report(tmp_path, runs, summary), needle)


def test_an_unreadable_report_table_is_one_line_naming_it(tmp_path):
    runs = tmp_path / "runs.csv"
    runs.write_bytes(bytes(range(256)) * 4)
    _one_line_error(_report(tmp_path, runs, REPORT / "summary.csv"), f"{runs}: cannot read table")
    runs.write_bytes((REPORT / "runs.csv").read_bytes().replace(b"cpu", b"c\xe9u"))
    _one_line_error(_report(tmp_path, runs, REPORT / "summary.csv"), f"{runs}: not UTF-8 text")


def test_a_figure_that_is_not_there_is_not_linked(tmp_path):
    res = _report(tmp_path, REPORT / "runs.csv", REPORT / "summary.csv", "--figures", "nope.png")
    _one_line_error(res, "nope.png: no such figure")
    out = tmp_path / "darts.md"
    darts = REPORT.parent / "cpu" / "darts"
    args = ["--runs", str(darts / "runs.csv"), "--summary", str(darts / "summary.csv")]
    args += ["--published", str(PUBLISHED), "--out", str(out), "--shrink-png", "x.png"]
    _one_line_error(_isdarts("darts-report", *args), "--shrink-png: the figure of the shrink table")
    assert not out.exists()


# --- output options: empty, a folder, two outputs one file, an output that is an input ---------


@pytest.mark.parametrize(
    "args, option",
    [
        (
            ["aggregate", "e.json", "--published", "p", "--runs", "r.csv", "--summary", ""],
            "--summary",
        ),
        (
            [
                "darts-aggregate",
                "t.json",
                "--published",
                "p",
                "--runs",
                "r",
                "--summary",
                "s",
                "--surrogate",
                "",
            ],
            "--surrogate",
        ),
        (["figures", "run", "--accuracy", ""], "--accuracy"),
        (["genotype", "darts_v2", "--plot", ""], "--plot"),
        (["surrogate", "darts_v2", "--allow-missing", "--out", ""], "--out"),
        (["nb201", "import", "--nats", "n", "--out", ""], "--out"),
        (["data", "prepare", "nb201", "--root", ""], "--root"),
    ],
)
def test_an_empty_path_option_is_refused_not_ignored(tmp_path, args, option):
    """'' was taken as 'not given' (no plot, no surrogate column) or as the working directory."""
    res = _isdarts(*args, cwd=tmp_path)
    _usage_error(res, f"argument {option}: expected a path, got an empty string")
    assert not any(tmp_path.iterdir())


def test_outputs_are_checked_before_anything_is_written(tmp_path, bench):
    search = _darts_search(tmp_path / "s")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    _one_line_error(_shrink(tmp_path, search, png=folder), "--png")

    runs = tmp_path / "t.csv"
    evaluation = tmp_path / "e.json"
    evaluation.write_text("{}")
    args = [
        str(evaluation),
        "--published",
        str(PUBLISHED),
        "--runs",
        str(runs),
        "--summary",
        str(runs),
    ]
    _one_line_error(_isdarts("aggregate", *args), "--summary")
    assert not runs.exists()

    copy = tmp_path / "runs.csv"
    shutil.copy(REPORT / "runs.csv", copy)
    res = _isdarts(
        "report",
        "--runs",
        str(copy),
        "--summary",
        str(REPORT / "summary.csv"),
        "--published",
        str(PUBLISHED),
        "--out",
        str(copy),
    )
    _one_line_error(res, "(would overwrite it)")
    assert copy.read_bytes() == (REPORT / "runs.csv").read_bytes()

    run = _nb201_search(tmp_path / "run")
    before = (run / "result.json").read_text()
    res = _isdarts(
        "evaluate", "--run", str(run), "--out", str(run / "result.json"), "--bench", str(bench.path)
    )
    _one_line_error(res, "(would overwrite it)")
    assert (run / "result.json").read_text() == before


# --- nb201 query, genotype: numbers past what the parsers and the machine take ----------------


def test_a_query_of_5000_digits_or_with_a_newline_is_one_line(bench):
    _one_line_error(
        _isdarts("nb201", "query", HUGE, "--table", str(bench.path)), "architecture index"
    )
    res = _isdarts("nb201", "query", ARCH + "\n", "--table", str(bench.path))
    _one_line_error(res, "\\n': not in the benchmark table")


def test_genotype_sizes_past_the_machine_are_refused_or_counted_without_memory():
    _usage_error(
        _isdarts("genotype", "darts_v2", "--layers", "100000000"), "expected an integer in 3..200"
    )
    res = _isdarts("genotype", "darts_v2", "--channels", "100000000", "--json")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert json.loads(res.stdout)["params_m"] > 1e12


def test_out_of_memory_in_a_run_is_one_line(tmp_path):
    from isdarts.run.engine import run
    from isdarts.run.folder import RunSpec

    def prepare():
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried"
        )

    with pytest.raises(IsdartsError, match="out of memory .*fewer channels"):
        run(RunSpec(tmp_path / "out", {"seed": 0}, "search"), prepare)
    assert not (tmp_path / "out").exists()


def test_a_thread_count_past_the_machine_is_refused(tmp_path):
    from isdarts.run.device import set_threads

    with pytest.raises(IsdartsError, match="threads 100000: expected at most 1024"):
        set_threads(100_000)
    profile = tmp_path / "p.yaml"
    profile.write_text(
        (REPO / "config" / "profiles" / "smoke.yaml")
        .read_text()
        .replace("threads: 1", "threads: 100000")
    )
    res = _isdarts(
        "search", "--method", "isdarts", "--profile", str(profile), "--out", str(tmp_path / "o")
    )
    _one_line_error(res, "bad value 100000 for 'threads'")


# --- a result from before results carried their identity: taken only if it is this run's -------


def test_a_legacy_result_of_another_run_is_an_error_not_a_result(tmp_path):
    out = _darts_search(tmp_path / "darts-search")
    base = ["--profile", "smoke", "--device", "cpu", "--data-root", str(tmp_path / "none")]
    res = _isdarts("search", "--method", "isdarts", "--out", str(out), *base)
    _one_line_error(res, "differs in: space; written before results carried their identity")
    res = _isdarts("train", "--genotype", "darts_v2", "--out", str(out), *base)
    _one_line_error(res, "differs in: kind (a search's result, not a training's)")
    other = _training(tmp_path / "training" / "result.json", genotype="isdarts_published")
    res = _isdarts("train", "--genotype", "darts_v2", "--out", str(other.parent), *base)
    _one_line_error(res, "differs in: genotype")


def test_a_legacy_result_of_this_run_is_still_taken(tmp_path):
    from isdarts.bench import COLUMNS

    out = _nb201_search(tmp_path / "run", index=7500, benchmark={c: 50.0 for c in COLUMNS})
    base = ["--profile", "smoke", "--device", "cpu", "--data-root", str(tmp_path / "none")]
    res = _isdarts("search", "--method", "isdarts", "--out", str(out), *base)
    assert res.returncode == 0, res.stderr
    assert "exists (no identity recorded); nothing to do" in res.stderr


# --- data prepare: an archive that is not one ------------------------------------------------


def test_a_corrupt_archive_is_one_line(tmp_path):
    archive = tmp_path / "x.tar.gz"
    archive.write_bytes(b"garbage")
    res = _isdarts(
        "data", "prepare", "cifar10", "--root", str(tmp_path / "r"), "--from", str(archive)
    )
    _one_line_error(res, f"{archive}: corrupt or truncated archive")
