"""Command line: ``python -m isdarts <verb> ...`` (also installed as ``isdarts``).

A thin layer over the package's functions. User errors (``IsdartsError``) print one line,
``isdarts: error: <message>``, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from isdarts.errors import IsdartsError

Handler = Callable[[argparse.Namespace], int | None]


def _data_prepare(args: argparse.Namespace) -> int:
    from isdarts import data

    for name in args.datasets:
        if name == "nb201":
            folder = data.copy_benchmark_files(args.root, force=args.force)
            print(f"nb201: benchmark table and splits in {folder}")
            continue
        folder = data.prepare(
            name, args.root, source=args.source, src_path=args.src, force=args.force
        )
        meta = data.read_meta(folder, name)
        shapes = ", ".join(f"{k} {tuple(v['shape'])}" for k, v in meta["splits"].items())
        print(f"{name}: {shapes} in {folder} (source: {meta['source']})")
    return 0


def _nb201_query(args: argparse.Namespace) -> int:
    from isdarts.nb201 import COLUMNS, Benchmark

    bench = Benchmark.load(args.table)
    row = bench.query(args.arch)
    if args.json:
        print(json.dumps(row))
    else:
        print(f"index {row['index']}: {row['arch']}")
        for c in COLUMNS:
            print(f"  {c:<17} {row[c]:.2f}")
    return 0


def _nb201_import(args: argparse.Namespace) -> int:
    from isdarts.data.sources import data_root
    from isdarts.nb201.benchmark import TABLE_NAME
    from isdarts.nb201.nats import import_nats

    out = args.out or data_root(args.root) / "nb201" / TABLE_NAME
    path = import_nats(args.nats, out, partial=args.partial)
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isdarts", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)

    data_p = sub.add_parser("data", help="prepare data sets and benchmark files")
    data_sub = data_p.add_subparsers(dest="data_verb", required=True)
    prep = data_sub.add_parser(
        "prepare", help="prepare data sets once into cached uint8 arrays under the data root"
    )
    prep.add_argument("datasets", nargs="+", help="cifar10, cifar100, ImageNet16-120, nb201")
    prep.add_argument("--root", help="data root (default $ISDARTS_DATA or ./data)")
    prep.add_argument("--source", default="auto", choices=["auto", "mirror", "official"])
    prep.add_argument(
        "--from", dest="src", help="read a local copy (pickle batches or image-folder archive)"
    )
    prep.add_argument("--force", action="store_true", help="prepare again even if cached")
    prep.set_defaults(func=_data_prepare)

    nb = sub.add_parser("nb201", help="NAS-Bench-201 look-ups")
    nb_sub = nb.add_subparsers(dest="nb201_verb", required=True)
    q = nb_sub.add_parser("query", help="the six benchmark columns of an architecture")
    q.add_argument("arch", help="benchmark string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| or index")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.add_argument("--table", help="benchmark table (default: data root, else the mirror)")
    q.set_defaults(func=_nb201_query)
    imp = nb_sub.add_parser("import", help="convert an official NATS-Bench topology folder")
    imp.add_argument("--nats", required=True, help="path to NATS-tss-v1_0-3ffb9-simple")
    imp.add_argument(
        "--out", help="output CSV (default <data root>/nb201/nb201-200ep-accuracies.csv)"
    )
    imp.add_argument("--root", help="data root (default $ISDARTS_DATA or ./data)")
    imp.add_argument(
        "--partial", action="store_true", help="accept a folder with fewer than 15,625 files"
    )
    imp.set_defaults(func=_nb201_import)

    for module in (
        "isdarts.search.cli",
        "isdarts.train.cli",
        "isdarts.genotype_cli",
        "isdarts.surrogate_cli",
        "isdarts.report.cli",
    ):
        try:
            add = __import__(module, fromlist=["add_parser"]).add_parser
        except (ImportError, AttributeError):
            continue
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except IsdartsError as exc:
        print(f"isdarts: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("isdarts: interrupted", file=sys.stderr)
        return 130
