"""``isdarts verify REPORT_DIR``: rerun one committed search from scratch and compare its epoch
log with the committed one.

A report folder keeps each search's ``result.json`` and ``log.jsonl`` under
``runs/<method>/<dataset>/seed<seed>/``. The rerun uses exactly what that ``result.json``
records: the run profile (``profile_settings``), the space, method, data set and seed, and the
thread count; it runs on the CPU, in a fresh folder, through the code path of
``isdarts search`` (:func:`isdarts.search.cli.search_request`). The two logs are then compared
line by line, key by key, for exact equality.

Timing keys (``seconds``, each epoch's wall-clock time) are ignored: they measure the machine
and its load, not the search, and no two runs repeat them; every other key (losses,
accuracies, learning rates, masks, importance scores, cells, architecture weights) must
repeat to the last bit. Whether it does depends on the CPU kernels ATen picks
(``cpu_capability``) and the torch version, so both are printed for both machines.

Exit status: 0 identical, 1 a difference (the first epoch and key, both values), 2 bad input.

This module sits above :mod:`isdarts.search` and :mod:`isdarts.report` (it reads the report's
files with the report's readers and reruns with the search): those two layers may not import
each other (the import-linter contract in ``pyproject.toml``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from isdarts._io import path_arg
from isdarts.config.methods import METHODS
from isdarts.errors import IsdartsError
from isdarts.search.cli import DATASETS, _seed, search_request

# Log keys that hold wall-clock time: they differ between any two runs.
TIMING_KEYS = frozenset({"seconds"})
_ABSENT = object()  # a key one of two compared values lacks
SEED_DIR = re.compile(r"seed(0|[1-9][0-9]*)")

Selection = tuple[str, str, int]  # method, data set, seed


def committed_runs(report: Path) -> dict[Selection, Path]:
    """The search folders ``runs/<method>/<dataset>/seed<seed>/`` of a report folder, in report
    order (methods as the reports list them, then data sets, then seeds)."""
    if not report.is_dir():
        what = "not a folder" if report.exists() else "no such report folder"
        raise IsdartsError(f"{report}: {what}")
    runs = report / "runs"
    if not runs.is_dir():
        raise IsdartsError(
            f"{report}: no runs/ folder (expected runs/<method>/<dataset>/seed<seed>/ "
            "holding result.json and log.jsonl)"
        )
    found: dict[Selection, Path] = {}
    for method_dir in _subdirs(runs):
        for dataset_dir in _subdirs(method_dir):
            for seed_dir in _subdirs(dataset_dir):
                match = SEED_DIR.fullmatch(seed_dir.name)
                if match:
                    found[method_dir.name, dataset_dir.name, int(match[1])] = seed_dir
    if not found:
        raise IsdartsError(f"{runs}: no search folders <method>/<dataset>/seed<seed>/")
    return dict(sorted(found.items(), key=lambda item: _order(item[0])))


def _subdirs(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]


def _order(sel: Selection) -> tuple:
    method, dataset, seed = sel
    m = METHODS.index(method) if method in METHODS else len(METHODS)
    d = DATASETS.index(dataset) if dataset in DATASETS else len(DATASETS)
    return (m, method, d, dataset, seed)


def select(
    runs: dict[Selection, Path],
    method: str | None,
    dataset: str | None,
    seed: int | None,
    where: Path,
) -> Selection:
    """The search to rerun: the first method in report order (or ``method``), its first data
    set (or ``dataset``), seed 0 (or ``seed``); an unknown one is an error listing the runs."""
    method = method or next(iter(runs))[0]
    seed = 0 if seed is None else seed
    if dataset is None:
        dataset = next((d for m, d, _ in runs if m == method), "cifar10")
    if (method, dataset, seed) not in runs:
        raise IsdartsError(
            f"no committed search {method} {dataset} seed {seed} in {where} "
            f"(committed: {_listing(runs)})"
        )
    return method, dataset, seed


def _listing(runs: dict[Selection, Path]) -> str:
    groups: dict[tuple[str, str], list[str]] = {}
    for method, dataset, seed in runs:
        groups.setdefault((method, dataset), []).append(str(seed))
    return "; ".join(f"{m} {d} seeds {', '.join(s)}" for (m, d), s in groups.items())


def _keep_folder(keep: str) -> Path:
    out = Path(keep)
    if out.exists() and not out.is_dir():
        raise IsdartsError(f"--keep {keep}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise IsdartsError(f"--keep {keep}: exists and is not empty (name a new or empty folder)")
    return out


def rerun(
    run_dir: Path,
    result: dict[str, Any],
    out: Path,
    scratch: Path,
    data_root: str | None,
    bench: str | None,
) -> dict[str, Any]:
    """Run the search ``result`` records from scratch into ``out`` on the CPU, as ``isdarts
    search`` would with its recorded profile (written to ``scratch`` as a profile file, so that
    the search's own loader checks it) and thread count; the rerun's result."""
    import yaml

    from isdarts.search.loop import run_search

    where = run_dir / "result.json"
    settings = result.get("profile_settings")
    if not isinstance(settings, dict):
        raise IsdartsError(f"{where}: no profile_settings recorded (cannot rebuild the profile)")
    path = scratch / "profile_settings.yaml"
    raw = {k: v for k, v in settings.items() if k != "name"}
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    args = argparse.Namespace(
        space=result["space"],
        method=result["method"],
        dataset=result["dataset"],
        seed=result["seed"],
        profile=str(path),
        threads=result.get("threads") or None,
        out=str(out),
        data_root=data_root,
        device="cpu",
        bench=bench,
        cuda_graphs="off",
    )
    try:
        req = search_request(args)
    except IsdartsError as exc:  # name the report's file, not the scratch copy
        raise IsdartsError(str(exc).replace(str(path), f"{where}: profile_settings")) from None
    name = str(settings.get("name", req.profile.name))
    req = dataclasses.replace(req, profile=dataclasses.replace(req.profile, name=name))
    print(
        f"rerunning {req.method} {req.dataset} seed {req.seed} ({req.space}, profile {name}, "
        f"{req.profile.threads} thread(s)) on the CPU in {out}",
        file=sys.stderr,
    )
    return run_search(req)


def first_difference(a: Any, b: Any, key: str) -> tuple[str, Any, Any] | None:
    """The first place (``key`` extended by ``.name`` and ``[i]``) where two JSON values
    differ, with both values there (``_ABSENT`` for a missing key); None if equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in [*a, *(k for k in b if k not in a)]:
            found = first_difference(a.get(k, _ABSENT), b.get(k, _ABSENT), f"{key}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{key}[{i}]")
            if found:
                return found
        return None
    if a is _ABSENT or b is _ABSENT or isinstance(a, bool) != isinstance(b, bool):
        return None if a is b else (key, a, b)
    return None if a == b else (key, a, b)


def compare_logs(
    committed: list[dict[str, Any]], new: list[dict[str, Any]]
) -> tuple[int, str, Any, Any] | None:
    """The first (epoch, key, committed value, rerun value) that differs, timing keys aside;
    None if the logs are identical."""
    for old_row, new_row in zip(committed, new, strict=False):
        keys = [*old_row, *(k for k in new_row if k not in old_row)]
        for k in keys:
            if k in TIMING_KEYS:
                continue
            found = first_difference(old_row.get(k, _ABSENT), new_row.get(k, _ABSENT), k)
            if found:
                return (old_row["epoch"], *found)
    if len(committed) != len(new):
        n = min(len(committed), len(new)) + 1
        return n, "epoch", n if len(committed) >= n else _ABSENT, n if len(new) >= n else _ABSENT
    return None


def _shown(value: Any, limit: int = 100) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def machine_line(label: str, result: dict[str, Any]) -> str:
    """``cpu_capability`` and torch version (and device) as a search records them."""
    cap = result.get("cpu_capability", "(not recorded)")
    torch_version = result.get("torch_version", "(not recorded)")
    device = result.get("device", "device not recorded")
    return f"{label} cpu_capability {cap}, torch {torch_version} ({device})"


def verify(args: argparse.Namespace) -> int:
    from isdarts.report.evaluate import load_log, load_result

    report = Path(args.report_dir)
    runs = committed_runs(report)
    sel = select(runs, args.method, args.dataset, args.seed, report / "runs")
    run_dir = runs[sel]
    missing = [n for n in ("result.json", "log.jsonl") if not (run_dir / n).is_file()]
    if missing:
        raise IsdartsError(f"{run_dir}: missing run file(s) {', '.join(missing)}")
    result = load_result(run_dir)
    committed = load_log(run_dir, result)
    keep = _keep_folder(args.keep) if args.keep else None
    with tempfile.TemporaryDirectory(prefix="isdarts-verify-") as tmp:
        scratch = Path(tmp)
        out = keep if keep is not None else scratch / "run"
        new_result = rerun(run_dir, result, out, scratch, args.data_root, args.bench)
        new = load_log(out, new_result)
    name = f"{sel[0]} {sel[1]} seed {sel[2]}"
    diff = compare_logs(committed, new)
    if diff is None:
        ignored = ", ".join(sorted(TIMING_KEYS))
        print(f"identical: {name}, {len(committed)} epochs compared (ignored: {ignored})")
    else:
        epoch, key, old, now = diff
        print(
            f"differs: {name}, epoch {epoch}, key {key}: committed {_shown(old)}, "
            f"rerun {_shown(now)}"
        )
    print(machine_line("committed run:", result))
    print(machine_line("this machine: ", new_result))
    return 0 if diff is None else 1


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "verify",
        help="rerun one committed search on the CPU and compare its log with the committed one",
        description="Rerun one search of REPORT_DIR/runs/<method>/<dataset>/seed<seed>/ from "
        "scratch with the settings its result.json records, on the CPU, and compare the new "
        "log.jsonl with the committed one (timing keys ignored). Exit status 0: identical, "
        "1: a difference, 2: bad input.",
    )
    p.add_argument("report_dir", metavar="REPORT_DIR", type=path_arg, help="e.g. reports/cpu")
    p.add_argument("--method", help="default: the first method in report order")
    p.add_argument("--dataset", help="default: the method's first data set")
    p.add_argument("--seed", type=_seed, help="default: 0")
    p.add_argument(
        "--keep",
        metavar="DIR",
        type=path_arg,
        help="rerun into DIR (new or empty) and keep it, instead of a temporary folder",
    )
    p.add_argument("--data-root", type=path_arg, help="data root (default $ISDARTS_DATA or ./data)")
    p.add_argument("--bench", help="NAS-Bench-201 table (default: data root, else the mirror)")
    p.set_defaults(func=verify)
    return p
