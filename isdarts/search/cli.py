"""``isdarts search``: one search, NAS-Bench-201 or DARTS space (IS-DARTS or the first-order
DARTS baseline)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from isdarts.errors import IsdartsError

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def _with_threads(profile, threads: int | None):
    if threads is None:
        return profile
    if threads < 1:
        raise IsdartsError(f"--threads {threads}: expected a positive number")
    return dataclasses.replace(profile, threads=threads)


def _search(args: argparse.Namespace) -> int:
    if args.space == "darts":  # profiles: config/profiles/darts-search-<name>.yaml
        from isdarts.search.darts import load_search_profile, search_cli

        return search_cli(args, _with_threads(load_search_profile(args.profile), args.threads))
    from isdarts.search.profile import load_profile
    from isdarts.search.run import SearchRequest, run_search

    req = SearchRequest(
        method=args.method,
        dataset=args.dataset,
        seed=args.seed,
        profile=_with_threads(load_profile(args.profile), args.threads),
        out=Path(args.out),
        data_root=args.data_root,
        device=args.device,
        bench=args.bench,
        space=args.space,
    )
    result = run_search(req)
    b = result["benchmark"]
    print(f"{result['method']} seed {result['seed']}: cell {result['index']} {result['arch']}")
    print(
        "  C10 val/test {:.2f}/{:.2f}  C100 val/test {:.2f}/{:.2f}  IN16 val/test {:.2f}/{:.2f}".format(
            *(
                b[c]
                for c in (
                    "cifar10_valid",
                    "cifar10_test",
                    "cifar100_valid",
                    "cifar100_test",
                    "imagenet16_valid",
                    "imagenet16_test",
                )
            )
        )
    )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "search",
        help="run one architecture search (resumes from DIR/checkpoint.pt)",
        description="Run one NAS-Bench-201 search and write result.json, log.jsonl and "
        "checkpoint.pt into --out. Rerunning resumes; a finished run is not repeated.",
    )
    p.add_argument("--space", default="nb201", choices=["nb201", "darts"], help="search space")
    p.add_argument("--method", required=True, choices=["isdarts", "darts"])
    p.add_argument(
        "--dataset",
        default="cifar10",
        choices=DATASETS,
        help="search data set (cifar100 / ImageNet16-120: NATS-Bench convention)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--profile",
        default="cpu",
        help="profile name in config/profiles (smoke, cpu, paper) or a YAML path",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--data-root", help="data root (default $ISDARTS_DATA or ./data)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument(
        "--threads",
        type=int,
        help="torch threads (default: the profile's 'threads'); not part of the "
        "checkpoint identity, so a run may resume with another value",
    )
    p.add_argument("--bench", help="NAS-Bench-201 table (default: data root, else the mirror)")
    p.set_defaults(func=_search)
    return p


add_search_parser = add_parser
