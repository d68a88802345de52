"""``isdarts surrogate``: second-opinion scores of DARTS-space genotypes (YAHPO-NB301 surrogate)."""

from __future__ import annotations

import argparse
import json

from isdarts._io import path_arg


def _scores(args: argparse.Namespace) -> dict:
    """The JSON record of ``--json`` / ``--out``: one result per genotype named."""
    from isdarts.bench import surrogate as sg
    from isdarts.spaces.darts.names import load_genotype

    genotypes = [load_genotype(name) for name in args.genotypes]
    missing = None
    try:
        scores = sg.score_batch(genotypes, args.epoch, args.data_dir)
    except sg.Unavailable as exc:
        if not args.allow_missing:
            raise
        missing = str(exc)
        scores = [None] * len(genotypes)
    results = []
    for name, g, value in zip(args.genotypes, genotypes, scores):
        row: dict = {
            "name": str(name),
            "genotype": g.to_dict(),
            "score": None if value is None else round(value, 4),
            "reason": sg.unscorable_reason(g) or missing,
        }
        if args.nearest and value is None and missing is None:
            variants = sg.nearest_variants(g)
            if variants:
                row["nearest"] = {
                    **sg.summarize(sg.score_batch(variants, args.epoch, args.data_dir)),
                    "note": "approximation: scores of the nearest expressible variants (one op "
                    "of each offending node moved to another input), not of this genotype",
                }
        results.append(row)
    return {
        "surrogate": sg.LABEL,
        "metric": "cifar10_valid_acc",
        "epoch": args.epoch,
        "missing": missing,
        "results": results,
    }


def _surrogate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from isdarts._io import check_outputs, write_json_atomic
    from isdarts.bench import SURROGATE_LABEL

    if args.out:  # never over a genotype file it reads
        check_outputs({"--out": args.out}, [g for g in args.genotypes if Path(g).is_file()])
    record = _scores(args)
    results, missing = record["results"], record["missing"]
    what = f"predicted CIFAR-10 validation accuracy (%) after {args.epoch} epochs"
    if args.out:
        write_json_atomic(args.out, record)
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"{SURROGATE_LABEL}: {what}")
    if missing:
        print(f"  no scores ({len(results)} genotypes): {missing}")
        return 0
    width = max(len(r["name"]) for r in results)
    for r in results:
        if r["score"] is not None:
            print(f"  {r['name']:<{width}}  {r['score']:.2f}")
            continue
        print(f"  {r['name']:<{width}}  no score: {r['reason']}")
        near = r.get("nearest")
        if near:
            print(
                f"  {'':<{width}}  approximation, {near['n']} nearest expressible variants: "
                f"{near['min']:.2f}..{near['max']:.2f} (mean {near['mean']:.2f})"
            )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "surrogate",
        help="score DARTS-space genotypes with the YAHPO-NB301 surrogate "
        "(predicted CIFAR-10 validation accuracy; needs onnxruntime)",
    )
    p.add_argument(
        "genotypes",
        nargs="+",
        metavar="NAME_OR_FILE",
        help="reference name (isdarts_published, darts_v2), genotype file or search result.json",
    )
    p.add_argument(
        "--epoch",
        type=int,
        default=98,
        help="training epoch to predict, 1..98 (default 98, the end of NAS-Bench-301 training)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (key results: name, genotype, score, reason)",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        type=path_arg,
        help="also write that JSON object to FILE (atomically), e.g. for the workflow's report",
    )
    p.add_argument(
        "--allow-missing",
        action="store_true",
        help="where onnxruntime or the surrogate files are missing, give every genotype "
        "score null and that reason (key missing) instead of failing",
    )
    p.add_argument(
        "--nearest",
        action="store_true",
        help="for a genotype the NAS-Bench-301 "
        "space cannot express (two ops from one input), also score its nearest "
        "expressible variants (an approximation, labelled as such)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        type=path_arg,
        help="folder with model.onnx, config_space.json, "
        "encoding.json (default $ISDARTS_MIRROR/nb301-yahpo, else ../shared/data/"
        "nb301-yahpo)",
    )
    p.set_defaults(func=_surrogate)
    return p
