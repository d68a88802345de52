"""``isdarts surrogate``: second-opinion scores of DARTS-space genotypes (YAHPO-NB301 surrogate)."""

from __future__ import annotations

import argparse
import json


def _surrogate(args: argparse.Namespace) -> int:
    from isdarts.bench import surrogate as sg
    from isdarts.spaces.darts.names import load_genotype

    genotypes = [load_genotype(name) for name in args.genotypes]
    scores = sg.score_batch(genotypes, args.epoch, args.data_dir)
    results = []
    for name, g, value in zip(args.genotypes, genotypes, scores):
        row: dict = {
            "name": str(name),
            "score": None if value is None else round(value, 4),
            "reason": sg.unscorable_reason(g),
        }
        if args.nearest and value is None:
            variants = sg.nearest_variants(g)
            if variants:
                row["nearest"] = {
                    **sg.summarize(sg.score_batch(variants, args.epoch, args.data_dir)),
                    "note": "approximation: scores of the nearest expressible variants (one op "
                    "of each offending node moved to another input), not of this genotype",
                }
        results.append(row)
    what = f"predicted CIFAR-10 validation accuracy (%) after {args.epoch} epochs"
    if args.json:
        print(
            json.dumps(
                {
                    "surrogate": sg.LABEL,
                    "metric": "cifar10_valid_acc",
                    "epoch": args.epoch,
                    "results": results,
                }
            )
        )
        return 0
    print(f"{sg.LABEL}: {what}")
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
        help="print one JSON object (key results: name, score, reason)",
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
        help="folder with model.onnx, config_space.json, "
        "encoding.json (default $ISDARTS_MIRROR/nb301-yahpo, else ../shared/data/"
        "nb301-yahpo)",
    )
    p.set_defaults(func=_surrogate)
    return p
