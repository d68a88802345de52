"""The small per-run files a report's claims rest on, copied beside the report: each search's
``result.json`` and ``log.jsonl`` (checked as the report reads them; checkpoints are not
copied) under ``<dir>/<method>/<dataset>/seed<seed>/``, so that a committed report can be
checked number by number without the results folder. A ``data_source`` that names a path of
the machine (results written before sources were labelled) is replaced by its label."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from isdarts._io import atomic_write, write_text_atomic
from isdarts.data.sources import source_label
from isdarts.errors import IsdartsError
from isdarts.report.evaluate import load_log, load_result, result_path


def run_folder(result: dict) -> Path:
    """A run's folder under the report's ``runs/``."""
    return Path(result["method"]) / result["dataset"] / f"seed{result['seed']}"


def copy_run_files(
    runs: list[str | os.PathLike],
    out: str | os.PathLike,
    listed: set[tuple[str, str, int]] | None = None,
) -> list[Path]:
    """Copy each run's files into ``out`` (replaced atomically, one file at a time); two runs
    of one method, data set and seed are an error, and so are runs other than the report's
    (``listed``: its runs table's method, data set and seed). Run folders of an earlier copy
    that are no longer among the runs are removed. Returns the folders written."""
    out = Path(out)
    results = [(run, load_result(run)) for run in runs]
    if listed is not None:
        given = {(r["method"], r["dataset"], int(r["seed"])) for _, r in results}
        if given != listed:
            missing = sorted(listed - given)
            extra = sorted(given - listed)
            parts = [f"{len(missing)} of the report's runs missing"] if missing else []
            parts += [f"{len(extra)} not in the report"] if extra else []
            first = (missing or extra)[0]
            raise IsdartsError(
                f"--results: {', '.join(parts)} (e.g. {first[0]} {first[1]} seed {first[2]}); "
                "name every run of the runs table, no other"
            )
    seen: dict[Path, Path] = {}
    for run, result in results:
        load_log(run, result)  # the log the figures read: complete and well formed
        folder = run_folder(result)
        src = result_path(run).parent
        if folder in seen:
            raise IsdartsError(f"{src}: a second run for {folder} (the first: {seen[folder]})")
        seen[folder] = src
        source = result.get("data_source")
        if isinstance(source, str) and source_label(source) != source:
            relabelled = {**result, "data_source": source_label(source)}
            write_text_atomic(out / folder / "result.json", json.dumps(relabelled, indent=2) + "\n")
        else:
            atomic_write(
                out / folder / "result.json", lambda p, s=src: shutil.copyfile(s / "result.json", p)
            )
        atomic_write(
            out / folder / "log.jsonl", lambda p, s=src: shutil.copyfile(s / "log.jsonl", p)
        )
    _remove_stale(out, set(seen))
    return [out / f for f in seen]


def _remove_stale(out: Path, kept: set[Path]) -> None:
    """Remove ``<method>/<dataset>/seed<k>/`` folders of an earlier copy that hold nothing but
    a run's two files and are not among ``kept`` (anything else there is left alone)."""
    for result in out.glob("*/*/seed*/result.json"):
        folder = result.parent
        if folder.relative_to(out) in kept:
            continue
        if {p.name for p in folder.iterdir()} <= {"result.json", "log.jsonl"}:
            for p in folder.iterdir():
                p.unlink()
            folder.rmdir()
            for parent in (folder.parent, folder.parent.parent):
                if parent != out and not any(parent.iterdir()):
                    parent.rmdir()


def check_linked(folder: str | os.PathLike, runs) -> Path:
    """``folder`` holds, for every run of the runs table ``runs``, that run's files (another
    report's copies, linked instead of copied a second time): its ``result.json`` names the
    same method, data set, seed and cell, and its log is complete."""
    folder = Path(folder)
    for r in runs.itertuples():
        run = folder / str(r.method) / str(r.dataset) / f"seed{int(r.seed)}"
        result = load_result(run)
        load_log(run, result)
        if result["arch"] != r.arch or int(result["seed"]) != int(r.seed):
            raise IsdartsError(
                f"{run}: not the runs table's {r.method} {r.dataset} seed {r.seed} "
                f"(cell {result['arch']}, expected {r.arch})"
            )
    return folder
