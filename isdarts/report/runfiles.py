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
    """A run's folder under the report's ``runs/``: its method, data set and seed, each a plain
    name (a ``/`` or ``..`` in an edited result would lead the copy out of the folder)."""
    parts = [str(result["method"]), str(result["dataset"]), f"seed{result['seed']}"]
    for part in parts:
        if not part or part in (".", "..") or not all(c.isalnum() or c in "-_." for c in part):
            raise IsdartsError(f"result {part!r}: not a plain name (letters, digits, - _ .)")
    return Path(*parts)


def copy_run_files(
    runs: list[str | os.PathLike],
    out: str | os.PathLike,
    listed: set[tuple[str, str, int]] | None = None,
) -> list[Path]:
    """Copy each run's files into ``out`` (replaced atomically, one file at a time); two runs
    of one method, data set and seed are an error, and so are runs other than the report's
    (``listed``: its runs table's method, data set and seed), and so is a run folder already in
    ``out`` that is not among the runs (nothing is deleted). Returns the folders written."""
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
    _refuse_stale(out, {run_folder(r) for _, r in results})
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
    return [out / f for f in seen]


def _refuse_stale(out: Path, kept: set[Path]) -> None:
    """Run folders in ``out`` that are not among the report's runs (an earlier copy, or a run
    of the user's) make the copy an error naming one: nothing is deleted."""
    for result in sorted(out.glob("*/*/seed*/result.json")):
        folder = result.parent
        if folder.relative_to(out) not in kept:
            raise IsdartsError(
                f"--run-files {out}: holds {folder.relative_to(out)}, not a run of this report; "
                "remove it or use an empty folder"
            )
