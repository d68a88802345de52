"""``isdarts data prepare``: prepare data sets and benchmark files once under the data root."""

from __future__ import annotations

import argparse

from isdarts._io import path_arg


def _prepare(args: argparse.Namespace) -> int:
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
        source = meta["source"] + (f", from {meta['source_path']}" if "source_path" in meta else "")
        print(f"{name}: {shapes} in {folder} (source: {source})")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    data_p = subparsers.add_parser("data", help="prepare data sets and benchmark files")
    data_sub = data_p.add_subparsers(dest="data_verb", required=True)
    prep = data_sub.add_parser(
        "prepare", help="prepare data sets once into cached uint8 arrays under the data root"
    )
    prep.add_argument("datasets", nargs="+", help="cifar10, cifar100, ImageNet16-120, nb201")
    prep.add_argument("--root", type=path_arg, help="data root (default $ISDARTS_DATA or ./data)")
    prep.add_argument("--source", default="auto", choices=["auto", "mirror", "official"])
    prep.add_argument(
        "--from",
        dest="src",
        type=path_arg,
        help="read a local copy (pickle batches or image-folder archive)",
    )
    prep.add_argument("--force", action="store_true", help="prepare again even if cached")
    prep.set_defaults(func=_prepare)
