"""``isdarts train``: train a DARTS-space genotype from scratch and report its test error."""

from __future__ import annotations

import argparse
from pathlib import Path

from isdarts._io import path_arg


def _train(args: argparse.Namespace) -> int:
    from isdarts.spaces.darts.names import load_genotype
    from isdarts.train.profile import load_train_profile
    from isdarts.train.run import TrainRequest, run_training

    req = TrainRequest(
        genotype=load_genotype(args.genotype),
        genotype_source=str(args.genotype),
        profile=load_train_profile(args.profile),
        seed=args.seed,
        out=Path(args.out),
        data_root=args.data_root,
        device=args.device,
    )
    r = run_training(req)
    print(
        f"{r['genotype_source']} seed {r['seed']} ({r['profile']}): test acc {r['test_acc']:.2f}% "
        f"error {r['test_error']:.2f}% on {r['test_images']} images, {r['params_m']:.3f} M params "
        f"({r['params_m_c36_l20']:.3f} M at C=36, 20 cells), {r['wall_seconds']:.0f} s"
    )
    return 0


def _seed(text: str) -> int:
    from isdarts.config.seeds import parse_seed

    try:
        return parse_seed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train a DARTS-space genotype from scratch (resumes from DIR/checkpoint.pt)",
        description="Train a genotype's evaluation network and write result.json, log.jsonl and "
        "checkpoint.pt into --out. Rerunning resumes; a finished run is not repeated.",
    )
    p.add_argument(
        "--genotype",
        required=True,
        help="reference name (isdarts_published, darts_v2), genotype JSON, search "
        "result.json, or a file with DARTS' Genotype(...) text",
    )
    p.add_argument(
        "--profile",
        default="cpu",
        help="config/profiles/darts-train-<name>.yaml (smoke, cpu, paper) or a YAML path",
    )
    p.add_argument("--seed", type=_seed, default=0, help="0..2^32-1")
    p.add_argument("--out", required=True, type=path_arg, help="output folder")
    p.add_argument("--data-root", type=path_arg, help="data root (default $ISDARTS_DATA or ./data)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.set_defaults(func=_train)
    return p
