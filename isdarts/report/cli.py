"""Verbs after the search: ``isdarts evaluate``, ``isdarts aggregate``, ``isdarts figures``,
``isdarts report`` (NAS-Bench-201; ``report --wide --tex`` also writes its table for a paper) and
``isdarts darts-aggregate``, ``isdarts darts-report`` (DARTS space). Each is one workflow rule;
all take explicit input and output paths."""

from __future__ import annotations

import argparse
from pathlib import Path

from isdarts._io import check_outputs, path_arg
from isdarts.errors import IsdartsError


def _search_files(runs: list[str]) -> list:
    """The files a search folder (or its result.json) gives the report steps."""
    from isdarts.report.evaluate import result_path

    names = ("result.json", "log.jsonl", "checkpoint.pt")
    return [result_path(run).parent / name for run in runs for name in names]


def _table_files(table: str | None) -> list:
    """The benchmark table a verb reads (given, or the data root's) and its sha256 record."""
    from isdarts.bench.nb201 import TABLE_NAME
    from isdarts.data.sources import data_root

    path = Path(table) if table else data_root(None) / "nb201" / TABLE_NAME
    return [path, path.with_name(path.name + ".sha256.json")]


def _evaluate(args: argparse.Namespace) -> int:
    from isdarts.report.evaluate import write_evaluation
    from isdarts.report.numbers import fixed

    check_outputs({"--out": args.out}, [*_search_files([args.run]), *_table_files(args.bench)])
    rec = write_evaluation(args.run, args.out, table=args.bench)
    print(
        f"{rec['method']} {rec['dataset']} seed {rec['seed']}: cell {rec['index']} "
        f"C10 test {fixed(rec['cifar10_test'])} -> {args.out}"
    )
    return 0


def _aggregate(args: argparse.Namespace) -> int:
    from isdarts.report.aggregate import runs_table, summary_table, write_csv
    from isdarts.report.published import load_published

    check_outputs(
        {"--runs": args.runs, "--summary": args.summary}, [*args.evaluations, args.published]
    )
    runs = runs_table(args.evaluations, renamed=dict(args.renamed or []))
    summary = summary_table(runs, load_published(args.published))
    write_csv(runs, args.runs)
    write_csv(summary, args.summary)
    print(f"{len(runs)} runs -> {args.runs}; {len(summary)} summary rows -> {args.summary}")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from isdarts.report.figures import make_figures
    from isdarts.report.published import load_published

    outputs = {
        "--accuracy": args.accuracy,
        "--ops": args.ops,
        "--importance": args.importance,
        "--alphas": args.alphas,
    }
    check_outputs(outputs, [*_search_files(args.runs), *filter(None, [args.published])])
    published = load_published(args.published) if args.published else []
    written = make_figures(
        args.runs, args.accuracy, args.ops, args.importance, published, alphas=args.alphas
    )
    for path in written:
        print(f"wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from isdarts.report.criteria import load_criteria
    from isdarts.report.markdown import write_report
    from isdarts.report.published import load_published

    outputs = {"--out": args.out, "--wide": args.wide, "--tex": args.tex, "--html": args.html}
    check_outputs(
        outputs, [args.runs, args.summary, args.published, *args.figures, *_given(args.criteria)]
    )
    published = load_published(args.published)
    criteria = load_criteria(args.criteria)
    if args.run_files is not None and args.linked_run_files is not None:
        raise IsdartsError("--linked-run-files: the runs' files are copied (--run-files) or linked")
    if args.linked_run_files is not None:
        from isdarts.report.runfiles import check_linked
        from isdarts.report.tables import read_tables

        check_linked(args.linked_run_files, read_tables(args.runs, args.summary, "nb201")[0])
    if args.run_files is not None:
        from isdarts.report.runfiles import copy_run_files

        if not args.results:
            raise IsdartsError("--run-files: expected the runs to copy (--results RESULT...)")
        from isdarts.report.tables import read_tables

        runs, _ = read_tables(args.runs, args.summary, "nb201")
        listed = {(r.method, r.dataset, int(r.seed)) for r in runs.itertuples()}
        for folder in copy_run_files(args.results, args.run_files, listed):
            print(f"wrote {folder}")
    files = args.run_files if args.run_files is not None else args.linked_run_files
    path = write_report(
        args.runs, args.summary, published, args.figures, args.out, criteria, run_files=files
    )
    print(f"wrote {path}")
    if args.wide is not None or args.tex is not None or args.html is not None:
        from isdarts.report.exports import write_exports
        from isdarts.report.tables import read_tables

        runs, _ = read_tables(args.runs, args.summary, "nb201")
        for path in write_exports(
            args.summary, published, args.wide, args.tex, args.html, runs, criteria
        ):
            print(f"wrote {path}")
    return 0


def _darts_aggregate(args: argparse.Namespace) -> int:
    from isdarts.report.aggregate import write_csv
    from isdarts.report.darts import runs_table, summary_table
    from isdarts.report.published import load_published

    inputs = [*args.trainings, *args.searches, args.published, *filter(None, [args.surrogate])]
    check_outputs({"--runs": args.runs, "--summary": args.summary}, inputs)
    runs = runs_table(args.trainings, args.searches, surrogate=args.surrogate)
    summary = summary_table(runs, load_published(args.published))
    write_csv(runs, args.runs)
    write_csv(summary, args.summary)
    print(f"{len(runs)} trainings -> {args.runs}; {len(summary)} cells -> {args.summary}")
    return 0


def _darts_report(args: argparse.Namespace) -> int:
    from isdarts.errors import IsdartsError
    from isdarts.report.darts_markdown import write_report
    from isdarts.report.published import load_published

    if args.shrink_png is not None and args.shrink is None:
        raise IsdartsError("--shrink-png: the figure of the shrink table; give --shrink too")
    if args.run_files is not None and not args.trainings:
        raise IsdartsError("--run-files: expected the runs to copy (--trainings RESULT...)")
    inputs = [args.runs, args.summary, args.published, *args.cells, *args.trainings]
    outputs = {"--out": args.out, "--grid": args.grid}
    check_outputs(outputs, inputs + [*args.searches, *filter(None, [args.shrink, args.shrink_png])])
    if args.run_files is not None:
        from isdarts.report.darts import copy_darts_run_files

        for folder in copy_darts_run_files(args.trainings, args.searches, args.run_files):
            print(f"wrote {folder}")
    if args.grid is not None:
        from isdarts.report.darts_markdown import write_cells_grid

        print(f"wrote {write_cells_grid(args.runs, args.grid)}")
    path = write_report(
        args.runs,
        args.summary,
        load_published(args.published),
        args.cells,
        args.out,
        shrink=args.shrink,
        shrink_png=args.shrink_png,
        grid=args.grid,
    )
    print(f"wrote {path}")
    return 0


def _darts_shrink(args: argparse.Namespace) -> int:
    from isdarts.report.darts_shrink import write_shrink

    check_outputs({"--csv": args.csv, "--png": args.png}, _search_files(args.searches))
    table = write_shrink(args.searches, args.csv, args.png)
    print(f"{table['seed'].nunique()} searches, {len(table)} scored pairs -> {args.csv}")
    return 0


def _scale_report(args: argparse.Namespace) -> int:
    from isdarts.report.published import load_published
    from isdarts.report.scale import write_scale_report

    out = Path(args.out)
    check_outputs(
        {
            "--out": out / "README.md",
            "scale.csv": out / "scale.csv",
            "scale.png": out / "scale.png",
        },
        [*args.runs, *args.profiles, args.published, *_given(args.criteria)],
    )
    from isdarts.report.criteria import load_criteria

    criteria = load_criteria(args.criteria)
    published = load_published(args.published)
    for path in write_scale_report(args.runs, args.profiles, published, out, criteria, args.study):
        print(f"wrote {path}")
    return 0


def _readme(args: argparse.Namespace) -> int:
    from isdarts.report.readme import sync_readme

    stale = sync_readme(args.readme, check=args.check)
    for where in stale:
        print(f"{args.readme}: {'stale' if args.check else 'updated'} block from {where}")
    if args.check and stale:
        return 1
    if not stale:
        print(f"{args.readme}: every generated block matches its report")
    return 0


def _renaming(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old or not new or old == new:
        raise argparse.ArgumentTypeError(f"expected RECORDED=NAME, two different names: {text!r}")
    return old, new


def _given(path: str | None) -> list[str]:
    return [] if path is None else [path]


def _criteria_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--criteria",
        type=path_arg,
        help="the verdicts' criteria (default: the repository's config/criteria.yaml)",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    _add_nb201(subparsers)
    _add_darts(subparsers)
    sc = subparsers.add_parser(
        "scale-report",
        help="the scale study: every rung's runs side by side (reports/scale/)",
    )
    sc.add_argument("--runs", nargs="+", required=True, type=path_arg, help="each rung's runs CSV")
    sc.add_argument(
        "--profiles", nargs="+", required=True, type=path_arg, help="each rung's run profile YAML"
    )
    sc.add_argument("--published", required=True, type=path_arg, help="config/published.yaml")
    sc.add_argument(
        "--out", required=True, type=path_arg, help="folder: README.md, scale.csv, scale.png"
    )
    sc.add_argument(
        "--study",
        choices=("scale", "regime"),
        default="scale",
        help="scale: the default profile's rule; regime: the DARTS regime study's (config/regime.yaml)",
    )
    _criteria_arg(sc)
    sc.set_defaults(func=_scale_report)
    rd = subparsers.add_parser(
        "readme",
        help="fill the README's blocks '<!-- from REPORT#SECTION -->' from the committed reports",
    )
    rd.add_argument("readme", type=path_arg, help="the README (e.g. README.md)")
    rd.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a block is stale"
    )
    rd.set_defaults(func=_readme)


def _add_nb201(subparsers: argparse._SubParsersAction) -> None:
    ev = subparsers.add_parser(
        "evaluate", help="benchmark look-up of a finished search's final cell (all three data sets)"
    )
    ev.add_argument("--run", required=True, type=path_arg, help="search folder or its result.json")
    ev.add_argument("--out", required=True, type=path_arg, help="evaluation JSON to write")
    ev.add_argument("--bench", help="NAS-Bench-201 table (default: data root, else the mirror)")
    ev.set_defaults(func=_evaluate)

    ag = subparsers.add_parser(
        "aggregate", help="runs table and mean ± std per method next to the published numbers"
    )
    ag.add_argument(
        "evaluations", nargs="+", help="evaluation JSON files (from `isdarts evaluate`)"
    )
    ag.add_argument(
        "--published",
        required=True,
        type=path_arg,
        help="published numbers (config/published.yaml)",
    )
    ag.add_argument(
        "--runs", required=True, type=path_arg, help="runs CSV to write (one row per run)"
    )
    ag.add_argument(
        "--summary",
        required=True,
        type=path_arg,
        help="summary CSV to write (one row per method and column)",
    )
    ag.add_argument(
        "--renamed",
        metavar="RECORDED=NAME",
        type=_renaming,
        action="append",
        help="runs that recorded the run profile RECORDED, since renamed NAME: name them NAME "
        "(the recorded name is kept in the column profile_recorded)",
    )
    ag.set_defaults(func=_aggregate)

    fg = subparsers.add_parser("figures", help="PNG figures of a set of searches (from their logs)")
    fg.add_argument(
        "runs", nargs="+", help="search folders or their result.json (log.jsonl beside)"
    )
    fg.add_argument(
        "--accuracy",
        type=path_arg,
        help="PNG: benchmark test accuracy of the current cell per epoch",
    )
    fg.add_argument(
        "--ops", type=path_arg, help="PNG: op counts in the current cell and the supernet per epoch"
    )
    fg.add_argument(
        "--importance", type=path_arg, help="PNG: importance scores per edge at each shrink step"
    )
    fg.add_argument(
        "--alphas",
        type=path_arg,
        help="PNG: softmax architecture weights per edge and op per epoch (methods that log them)",
    )
    fg.add_argument(
        "--published", type=path_arg, help="published numbers, drawn as reference lines"
    )
    fg.set_defaults(func=_figures)

    rp = subparsers.add_parser(
        "report", help="Markdown report: table in the paper's format, runs, figures"
    )
    rp.add_argument(
        "--runs", required=True, type=path_arg, help="runs CSV (from `isdarts aggregate`)"
    )
    rp.add_argument(
        "--summary", required=True, type=path_arg, help="summary CSV (from `isdarts aggregate`)"
    )
    rp.add_argument(
        "--published",
        required=True,
        type=path_arg,
        help="published numbers (config/published.yaml)",
    )
    rp.add_argument("--figures", nargs="*", default=[], help="PNG files to show")
    rp.add_argument("--out", required=True, type=path_arg, help="Markdown file to write")
    rp.add_argument(
        "--wide",
        type=path_arg,
        help="also the table as CSV: one row per table row (published and ours), "
        "the benchmark columns as 'mean ± std' text",
    )
    rp.add_argument(
        "--tex", type=path_arg, help="also the table as a LaTeX tabular (booktabs), for a paper"
    )
    rp.add_argument(
        "--results", nargs="*", default=[], help="the searches' result.json (for --run-files)"
    )
    rp.add_argument(
        "--run-files",
        type=path_arg,
        help="folder to copy each search's result.json and log.jsonl into (linked from the runs)",
    )
    rp.add_argument(
        "--linked-run-files",
        type=path_arg,
        help="folder that already holds every run's files (another report's --run-files): "
        "checked and linked, not copied a second time",
    )
    rp.add_argument(
        "--html",
        type=path_arg,
        help="also the verdict and the table as an HTML page (the Snakemake report shows it)",
    )
    _criteria_arg(rp)
    rp.set_defaults(func=_report)


def _add_darts(subparsers: argparse._SubParsersAction) -> None:
    da = subparsers.add_parser(
        "darts-aggregate",
        help="DARTS space: trainings table and mean ± std per cell next to the published rows",
    )
    da.add_argument(
        "trainings", nargs="+", help="training result.json files (from `isdarts train`)"
    )
    da.add_argument(
        "--searches",
        nargs="*",
        default=[],
        help="search result.json files the found cells were trained from",
    )
    da.add_argument(
        "--published",
        required=True,
        type=path_arg,
        help="published numbers (config/published.yaml)",
    )
    da.add_argument(
        "--runs", required=True, type=path_arg, help="runs CSV to write (one row per training)"
    )
    da.add_argument(
        "--summary", required=True, type=path_arg, help="summary CSV to write (one row per cell)"
    )
    da.add_argument(
        "--surrogate",
        metavar="FILE",
        type=path_arg,
        help="YAHPO-NB301 surrogate scores of the cells (from `isdarts surrogate --out`); "
        "without it the surrogate column is empty",
    )
    da.set_defaults(func=_darts_aggregate)

    dr = subparsers.add_parser(
        "darts-report", help="DARTS space: Markdown report with the cell diagrams"
    )
    dr.add_argument(
        "--runs", required=True, type=path_arg, help="runs CSV (from `isdarts darts-aggregate`)"
    )
    dr.add_argument(
        "--summary",
        required=True,
        type=path_arg,
        help="summary CSV (from `isdarts darts-aggregate`)",
    )
    dr.add_argument(
        "--published",
        required=True,
        type=path_arg,
        help="published numbers (config/published.yaml)",
    )
    dr.add_argument("--cells", nargs="*", default=[], help="cell diagram PNGs to show")
    dr.add_argument(
        "--shrink", type=path_arg, help="shrink table of the IS-DARTS searches (darts-shrink)"
    )
    dr.add_argument("--shrink-png", type=path_arg, help="its figure (darts-shrink --png)")
    dr.add_argument(
        "--grid", type=path_arg, help="PNG to write and show: every cell of the runs table"
    )
    dr.add_argument(
        "--trainings", nargs="*", default=[], help="training result.json files (for --run-files)"
    )
    dr.add_argument(
        "--searches", nargs="*", default=[], help="search result.json files (for --run-files)"
    )
    dr.add_argument(
        "--run-files",
        type=path_arg,
        help="folder to copy each search's and training's result.json and log.jsonl into "
        "(linked from the report's tables)",
    )
    dr.add_argument("--out", required=True, type=path_arg, help="Markdown file to write")
    dr.set_defaults(func=_darts_report)

    ds = subparsers.add_parser(
        "darts-shrink",
        help="DARTS space: which (input, op) pairs each shrink step of IS-DARTS searches removed",
    )
    ds.add_argument("searches", nargs="+", help="IS-DARTS search folders or their result.json")
    ds.add_argument("--csv", required=True, type=path_arg, help="shrink table CSV to write")
    ds.add_argument("--png", type=path_arg, help="figure to write")
    ds.set_defaults(func=_darts_shrink)
