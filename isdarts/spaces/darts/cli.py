"""``isdarts genotype``: print a DARTS-space genotype, its size at C=36 / 20 cells, draw it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from isdarts._io import path_arg

MAX_LAYERS = 200  # ten times the paper's network; counting its parameters takes ~1 s


def _genotype(args: argparse.Namespace) -> int:
    from isdarts.spaces.darts.eval_net import params_m
    from isdarts.spaces.darts.names import load_genotype

    if args.plot:
        from isdarts._io import check_outputs

        inputs = [args.genotype] if Path(args.genotype).is_file() else []
        check_outputs({"--plot": args.plot}, inputs)
    g = load_genotype(args.genotype)
    size = params_m(g, args.channels, args.layers)
    if args.plot:
        from isdarts.spaces.darts.plot import plot_genotype

        name = args.title or Path(args.genotype).name
        plot_genotype(
            g,
            args.plot,
            title=f"{name} ({size:.2f} M params at C={args.channels}, {args.layers} cells)",
        )
    if args.json:
        print(
            json.dumps(
                {
                    "name": str(args.genotype),
                    "genotype": g.to_dict(),
                    "params_m": round(size, 6),
                    "channels": args.channels,
                    "layers": args.layers,
                }
            )
        )
    else:
        print(g)
        print(
            f"params_m {size:.6f} (C={args.channels}, {args.layers} cells, without the "
            "auxiliary head)"
        )
        if args.plot:
            print(f"wrote {args.plot}")
    return 0


def _at_least(low: int, high: int | None = None):
    """An argparse ``type=``: an integer >= ``low`` (and <= ``high``, if given; argparse names
    the option on failure)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            expect = f">= {low}" if high is None else f"in {low}..{high}"
            raise argparse.ArgumentTypeError(f"expected an integer {expect}, got {text!r}")
        return value

    return parse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "genotype", help="print a DARTS-space genotype and its parameter count; --plot draws it"
    )
    p.add_argument("genotype", help="reference name (isdarts_published, darts_v2) or genotype file")
    p.add_argument("--json", action="store_true", help="print one JSON object (key params_m)")
    p.add_argument(
        "--plot", metavar="FILE.png", type=path_arg, help="draw normal and reduction cells to a PNG"
    )
    p.add_argument("--title", help="name in the plot's title (default: the name or file name)")
    p.add_argument("--channels", type=_at_least(1), default=36, help="C for params_m (default 36)")
    p.add_argument(
        "--layers",
        # at least 3 as a training profile's layers (reduction cells at L//3, 2L//3); at most
        # MAX_LAYERS: building 10^8 cells to count their parameters would not end
        type=_at_least(3, MAX_LAYERS),
        default=20,
        help=f"cells for params_m (default 20, 3..{MAX_LAYERS})",
    )
    p.set_defaults(func=_genotype)
    return p
