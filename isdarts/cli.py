"""Command line: ``python -m isdarts <verb> ...`` (also installed as ``isdarts``).

A thin layer over the package's functions; each verb's parser lives beside the layer it
drives and is registered here by name. User errors (``IsdartsError``) print one line,
``isdarts: error: <message>``, and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from isdarts.bench import cli as bench_cli
from isdarts.bench import surrogate_cli
from isdarts.data import cli as data_cli
from isdarts.errors import IsdartsError
from isdarts.report import cli as report_cli
from isdarts.search import cli as search_cli
from isdarts.spaces.darts import cli as genotype_cli
from isdarts.train import cli as train_cli

# In help order. A verb module's own imports are light (torch and friends are imported by the
# handlers), so an import error here is a bug to see, not a verb to hide.
VERBS = (data_cli, bench_cli, search_cli, train_cli, genotype_cli, surrogate_cli, report_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isdarts", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
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
