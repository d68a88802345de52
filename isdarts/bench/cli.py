"""``isdarts nb201 query`` and ``isdarts nb201 import``: NAS-Bench-201 look-ups."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from isdarts._io import path_arg
from isdarts.errors import IsdartsError


def _query(args: argparse.Namespace) -> int:
    from isdarts.bench import COLUMNS, Benchmark
    from isdarts.bench.cost import PREFIXES, cost_columns

    row = Benchmark.load(args.table).query(args.arch)
    costs = cost_columns(row["arch"])  # <prefix>_params_m, <prefix>_flops_m per data set
    if args.json:
        print(json.dumps({**row, **costs}))
    else:
        print(f"index {row['index']}: {row['arch']}")
        for c in COLUMNS:
            print(f"  {c:<17} {row[c]:.2f}")
        for prefix in PREFIXES.values():  # the benchmark's precision: 1 param, 10 FLOPs
            params, flops = costs[f"{prefix}_params_m"], costs[f"{prefix}_flops_m"]
            print(f"  {prefix + ' net':<17} {params:.6f} M params, {flops:.5f} M FLOPs")
    return 0


def _import(args: argparse.Namespace) -> int:
    from isdarts.bench.nats import import_nats
    from isdarts.bench.nb201 import TABLE_NAME
    from isdarts.data.sources import data_root

    default = data_root(args.root) / "nb201" / TABLE_NAME
    out = Path(args.out) if args.out else default
    if args.partial and out.resolve() == default.resolve():
        raise IsdartsError(
            f"--partial: a partial table never replaces the data root's table ({default}); "
            "name another file with --out"
        )
    if out.exists() and not args.force:
        raise IsdartsError(f"--out {out}: exists (pass --force to replace it)")
    path = import_nats(args.nats, out, partial=args.partial)
    print(f"wrote {path}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    nb = subparsers.add_parser("nb201", help="NAS-Bench-201 look-ups")
    nb_sub = nb.add_subparsers(dest="nb201_verb", required=True)
    q = nb_sub.add_parser(
        "query",
        help="the six benchmark columns of an architecture, and its network's params and FLOPs",
    )
    q.add_argument("arch", help="benchmark string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| or index")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.add_argument("--table", help="benchmark table (default: data root, else the mirror)")
    q.set_defaults(func=_query)
    imp = nb_sub.add_parser("import", help="convert an official NATS-Bench topology folder")
    imp.add_argument(
        "--nats", required=True, type=path_arg, help="path to NATS-tss-v1_0-3ffb9-simple"
    )
    imp.add_argument(
        "--out",
        type=path_arg,
        help="output CSV (default <data root>/nb201/nb201-200ep-accuracies.csv)",
    )
    imp.add_argument("--root", type=path_arg, help="data root (default $ISDARTS_DATA or ./data)")
    imp.add_argument(
        "--partial",
        action="store_true",
        help="accept a folder with fewer than 15,625 files (then --out names another file)",
    )
    imp.add_argument("--force", action="store_true", help="replace an existing table at --out")
    imp.set_defaults(func=_import)
