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


def copy_run_files(runs: list[str | os.PathLike], out: str | os.PathLike) -> list[Path]:
    """Copy each run's files into ``out`` (replaced atomically, one file at a time); two runs
    of one method, data set and seed are an error. Returns the folders written."""
    out = Path(out)
    seen: dict[Path, Path] = {}
    for run in runs:
        result = load_result(run)
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
