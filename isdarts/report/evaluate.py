"""The evaluation of one finished search: the benchmark look-up of its final cell, with the
scale the search ran at (:data:`isdarts.report.setup.SCALE_COLUMNS`, from the settings its
``result.json`` recorded).

NAS-Bench-201 convention: the search runs on CIFAR-10 and the final cell is
looked up in the benchmark for all three data sets (six columns). Under the NATS-Bench
convention (search on CIFAR-100 or ImageNet16-120) the same six columns are recorded; the
search data set's own columns are the ones to read. The params and FLOPs of the cell's CIFAR-10
evaluation network (``params_m``, ``flops_m``) are counted from its string, without torch.

A search folder holds ``result.json`` (written last, atomically), ``log.jsonl`` (one line per
epoch) and ``checkpoint.pt``. The evaluation is one flat JSON object, one row of the runs table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from isdarts._io import parse_json, read_json, write_json_atomic
from isdarts.bench import COLUMNS, Benchmark
from isdarts.bench.cost import network_cost
from isdarts.bench.evidence import RANK_KEYS, cell_ranks, log_evidence
from isdarts.config.documents import check_document
from isdarts.errors import IsdartsError
from isdarts.report.setup import scale_record
from isdarts.spaces.darts.names import genotype_from_dict

# The evaluation network whose params and FLOPs an evaluation records (NAS-Bench-201's CIFAR-10
# network, the one its papers quote; cost columns of other data sets: `isdarts nb201 query`).
COST_DATASET = "cifar10"
COST_COLUMNS = ("params_m", "flops_m")
# Copied from result.json into the evaluation when present (the runs table's provenance columns).
CARRIED = (
    "epochs",
    "wall_seconds",
    "device",
    "data_source",
    "order",
    "torch_version",
    "isdarts_version",
    "benchmark_format",
)


# The evidence behind the cell (isdarts.bench.evidence), as runs table columns: the weights'
# margins (per edge, space-separated, and their minimum and median), entropy and travel (means
# over edges), IS-DARTS' shrink gaps (per step "epoch: gap per edge", and their minimum), the
# supernet's final training and held-out accuracy, the cell's rank and top share per data set.
EVIDENCE_COLUMNS = (
    "supernet_train_acc",
    "supernet_heldout_acc",
    "margins",
    "margin_min",
    "margin_median",
    "entropy_mean",
    "travel_mean",
    "shrink_gaps",
    "shrink_gap_min",
    *(f"{k}_{d}" for d in RANK_KEYS.values() for k in ("rank", "top_pct")),
)


def result_path(run: str | os.PathLike) -> Path:
    """``run`` may be a search folder or its ``result.json``."""
    path = Path(run)
    return path / "result.json" if path.is_dir() else path


def load_result(run: str | os.PathLike) -> dict[str, Any]:
    """The ``result.json`` of a finished search, checked against ``search-result.schema.yaml``
    (the keys the reports read and their types; finite numbers) and, in the DARTS space, its
    genotype."""
    path = result_path(run)
    try:
        result = read_json(path, finite=True)
    except FileNotFoundError:
        raise IsdartsError(f"{path}: no search result (the search has not finished)") from None
    check_document(path, result, "search-result")
    if result["space"] == "darts":
        genotype_from_dict(result["genotype"], f"{path}: genotype")
    return result


def load_log(run: str | os.PathLike, result: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The per-epoch records of ``log.jsonl`` beside ``result.json`` (``result``, read again if
    not given), in epoch order: each line checked against the space's log schema
    (``search-log-<space>.schema.yaml``: what the figures and the shrink table read), one line
    per epoch 1..N of the result's N epochs (a log cut short, or two runs' lines, is an error)."""
    result = load_result(run) if result is None else result
    path = result_path(run).parent / "log.jsonl"
    records: dict[int, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise IsdartsError(f"{path}: no epoch log beside the search result") from None
    except UnicodeDecodeError as exc:
        raise IsdartsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, line {n}"
        record = parse_json(line, where, finite=True)  # written with allow_nan=False
        epoch = record.get("epoch") if isinstance(record, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise IsdartsError(f"{where}: expected a JSON object with an integer 'epoch'")
        check_document(where, record, f"search-log-{result['space']}")
        if epoch in records:
            raise IsdartsError(f"{where}: epoch {epoch} a second time (two runs wrote this log?)")
        records[epoch] = record
    epochs = result["epochs"]
    if sorted(records) != list(range(1, epochs + 1)):
        raise IsdartsError(
            f"{path}: {len(records)} epoch lines, expected one per epoch 1..{epochs} of "
            f"{result_path(run).name} (cut short, or not this search's log?)"
        )
    return [records[e] for e in sorted(records)]


def cell_cost(arch: str) -> dict[str, float]:
    """``params_m`` and ``flops_m`` (millions) of the benchmark's CIFAR-10 evaluation network of
    the cell ``arch``, counted as NATS-Bench's ``get_cost_info`` counts them
    (:mod:`isdarts.bench.cost`): the runs table's cost columns, whatever the search data set."""
    cost = network_cost(arch, COST_DATASET)
    return {"params_m": cost.params_m, "flops_m": cost.flops_m}


def evaluate(run: str | os.PathLike, bench: Benchmark) -> dict[str, Any]:
    """One flat record: who ran what, the final cell, its six benchmark columns and the params
    and FLOPs of its CIFAR-10 evaluation network."""
    result = load_result(run)
    if result["space"] != "nb201":
        raise IsdartsError(
            f"{result_path(run)}: space '{result['space']}' has no benchmark look-up (expected nb201)"
        )
    check_identity(run, result)
    row = bench.query(result["arch"])
    record: dict[str, Any] = {
        k: result[k] for k in ("space", "method", "dataset", "seed", "profile")
    }
    record.update({"index": row["index"], "arch": row["arch"]})
    record.update({c: row[c] for c in COLUMNS})
    record.update(cell_cost(row["arch"]))
    record.update({k: result.get(k) for k in CARRIED})
    record["table"] = str(bench.path) if bench.path is not None else None
    record.update(evidence_columns(run, result, bench))
    record.update(scale_record(result))  # the scale it ran at, from its recorded settings
    return record


def check_identity(run, result: dict[str, Any]) -> None:
    """A result's fields against the identity recorded in the same file (what the run was
    started as): space, method, data set, seed and every setting of the profile."""
    identity = result.get("identity")
    if not isinstance(identity, dict):  # written before results carried their identity
        return
    where = result_path(run)
    for key in ("space", "method", "dataset", "seed"):
        if key in identity and identity[key] != result.get(key):
            raise IsdartsError(
                f"{where}: {key} {result.get(key)!r} disagrees with its identity "
                f"({identity[key]!r}): edited by hand?"
            )
    settings = result.get("profile_settings")
    recorded = identity.get("profile")
    if isinstance(settings, dict) and isinstance(recorded, dict):
        differs = sorted(k for k, v in recorded.items() if settings.get(k) != v)
        if differs:
            raise IsdartsError(
                f"{where}: profile_settings disagree with its identity in "
                f"{', '.join(differs[:5])}: edited by hand?"
            )


def evidence_columns(run, result: dict[str, Any], bench: Benchmark) -> dict[str, Any]:
    """The runs table's evidence of one search, computed from its log (so that runs searched
    before ``result.json`` carried ``evidence`` have it too) and checked against the evidence in
    ``result.json`` where there is one; the held-out accuracy exists only there."""
    log = load_log(run, result)
    last = log[-1].get("arch") if log else None
    if last is not None and last != result["arch"]:
        raise IsdartsError(
            f"{result_path(run)}: arch {result['arch']!r} is not the cell of its log's last "
            f"epoch ({last!r}): edited by hand, or not this search's log?"
        )
    ev = log_evidence(log)
    stored = result.get("evidence")
    if isinstance(stored, dict):
        for key in ("supernet_train_acc", "margins"):
            if stored.get(key) != ev[key]:
                raise IsdartsError(
                    f"{result_path(run)}: evidence.{key} {stored.get(key)!r} disagrees with "
                    f"log.jsonl ({ev[key]!r}): not this search's log?"
                )
    heldout = stored.get("supernet_heldout_acc") if isinstance(stored, dict) else None
    steps = ev["shrink_gaps"] or []
    return {
        "supernet_train_acc": ev["supernet_train_acc"],
        "supernet_heldout_acc": heldout,
        "margins": None if ev["margins"] is None else " ".join(f"{m:.4f}" for m in ev["margins"]),
        **{k: ev[k] for k in ("margin_min", "margin_median", "entropy_mean", "travel_mean")},
        "shrink_gaps": "; ".join(
            f"{s['epoch']}: " + " ".join(_gap(g) for g in s["gaps"]) for s in steps
        )
        or None,
        "shrink_gap_min": ev["shrink_gap_min"],
        **cell_ranks(bench, result["arch"]),
    }


def _gap(gap: float | str | None) -> str:
    return "-" if gap is None else "inf" if gap == "inf" else f"{gap:.3g}"


def write_evaluation(
    run: str | os.PathLike, out: str | os.PathLike, table: str | None = None
) -> dict:
    record = evaluate(run, Benchmark.load(table))
    write_json_atomic(out, record)
    return record
