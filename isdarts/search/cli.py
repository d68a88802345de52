"""``isdarts search``: one search, NAS-Bench-201 or DARTS space (IS-DARTS or the first-order
DARTS baseline)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from isdarts._io import path_arg
from isdarts.config import profiles
from isdarts.config.methods import METHODS
from isdarts.errors import IsdartsError

if TYPE_CHECKING:
    from isdarts.search.loop import SearchRequest

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
SPACES = ("nb201", "darts")


def _load_profile(args: argparse.Namespace):
    """The space's profile (``config/profiles/<name>.yaml`` or ``darts-search-<name>.yaml``)
    with ``--threads`` applied."""
    if args.space == "darts":
        from isdarts.spaces.darts.profile import load_search_profile as load
    else:
        from isdarts.spaces.nb201.profile import load_profile as load
    profile = load(args.profile)
    if args.threads is None:
        return profile
    if args.threads < 1:
        raise IsdartsError(f"--threads {args.threads}: expected a positive number")
    return profiles.carry_defaulted(dataclasses.replace(profile, threads=args.threads), profile)


def say_defaults(profile, method: str, space: str) -> None:
    """One stderr line naming the settings this search uses that its profile file left to the
    defaults (the paper's, or the method's source's), if any."""
    from isdarts.search.methods import get_method

    path, missing = profiles.defaulted(profile)
    block = getattr(get_method(method, space), "block", None)
    blocks = set(getattr(type(profile), "blocks", {})) | {"darts"}
    used = [k for k in missing if k.split(".")[0] == block or k.split(".")[0] not in blocks]
    if not used:
        return
    shown = ", ".join(used[:8]) + (f" and {len(used) - 8} more" if len(used) > 8 else "")
    print(
        f"isdarts: profile {path} does not name {shown}: using the defaults (the paper's "
        "settings; a method's block: its source's)",
        file=sys.stderr,
    )


def _print_nb201(r: dict) -> None:
    b = r["benchmark"]
    print(f"{r['method']} seed {r['seed']}: cell {r['index']} {r['arch']}")
    columns = ("cifar10", "cifar100", "imagenet16")
    values = [f"{b[c + '_valid']:.2f}/{b[c + '_test']:.2f}" for c in columns]
    print("  C10 val/test {}  C100 val/test {}  IN16 val/test {}".format(*values))


def _print_darts(r: dict) -> None:
    print(f"{r['method']} seed {r['seed']} (darts space, {r['profile']}): {r['genotype_str']}")
    print(f"  params_m {r['params_m']:.3f} at C=36, 20 cells; search {r['wall_seconds']:.0f} s")


def search_request(args: argparse.Namespace) -> SearchRequest:
    """The search the parsed options of ``isdarts search`` ask for (``isdarts verify`` builds
    its rerun through here too)."""
    from isdarts.search.loop import SearchRequest

    return SearchRequest(
        method=args.method,
        dataset=args.dataset,
        seed=args.seed,
        profile=_load_profile(args),
        out=Path(args.out),
        data_root=args.data_root,
        device=args.device,
        bench=args.bench,
        cuda_graphs=args.cuda_graphs,
    )


def _search(args: argparse.Namespace) -> int:
    from isdarts.search.loop import run_search

    req = search_request(args)
    say_defaults(req.profile, req.method, req.space)
    result = run_search(req)
    (_print_darts if args.space == "darts" else _print_nb201)(result)
    return 0


def _seed(text: str) -> int:
    from isdarts.config.seeds import parse_seed

    try:
        return parse_seed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "search",
        help="run one architecture search (resumes from DIR/checkpoint.pt)",
        description="Run one search and write result.json, log.jsonl and checkpoint.pt into "
        "--out. Rerunning resumes; a finished run is not repeated.",
    )
    p.add_argument("--space", default="nb201", choices=SPACES, help="search space")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument(
        "--dataset",
        default="cifar10",
        choices=DATASETS,
        help="search data set (cifar100 / ImageNet16-120: NATS-Bench convention)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="0..2^32-1")
    p.add_argument(
        "--profile",
        default="cpu",
        help="profile name in config/profiles (smoke, cpu, paper; --space darts: "
        "darts-search-<name>.yaml) or a YAML path",
    )
    p.add_argument("--out", required=True, type=path_arg, help="output folder")
    p.add_argument("--data-root", type=path_arg, help="data root (default $ISDARTS_DATA or ./data)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument(
        "--cuda-graphs",
        default="auto",
        choices=["auto", "on", "off"],
        help="capture each training step and importance pass as a CUDA graph (auto: on CUDA, "
        "for NAS-Bench-201 searches whose step can be captured: isdarts, darts, betadarts); "
        "recorded in result.json, not part of the run's identity",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="torch threads (default: the profile's 'threads'); not part of the "
        "checkpoint identity, so a run may resume with another value",
    )
    p.add_argument("--bench", help="NAS-Bench-201 table (default: data root, else the mirror)")
    p.set_defaults(func=_search)
    return p
