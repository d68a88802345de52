"""Second-opinion scores for DARTS-space genotypes from the YAHPO-NB301 surrogate.

The surrogate is YAHPO Gym's ``nb301`` scenario (Apache-2.0): an ONNX network fitted by YAHPO to
the NAS-Bench-301 training data. It predicts the CIFAR-10 *validation* accuracy (in percent) of a
DARTS-space cell pair after ``epoch`` training epochs (1..98). It is not the NAS-Bench-301
ensemble itself: every number from here is labelled "YAHPO-NB301 surrogate", never "NAS-Bench-301".

Files (``model.onnx``, ``config_space.json``, ``encoding.json``) are read from ``data_dir``,
else ``$ISDARTS_MIRROR/nb301-yahpo``, else ``../shared/data/nb301-yahpo`` (the data mirror, see
:func:`isdarts.data.sources.mirror_root`). Only ``onnxruntime`` is needed (``pip install
'isdarts[surrogate]'``); ``yahpo-gym`` itself is not used. The encoding below follows YAHPO's
``nb301`` scenario (``BenchmarkSet.objective_function``) and is cross-checked against it in
``tests/test_surrogate.py``:

* 34 categorical inputs ``x_cat`` (int32), in this order: ``edge_normal_0..13``,
  ``edge_reduce_0..13``, ``inputs_node_normal_3..5``, ``inputs_node_reduce_3..5`` (each name
  prefixed ``NetworkSelectorDatasetInfo_COLON_darts_COLON_``), every value integer-coded by
  ``encoding.json``; an inactive edge is ``"#na#"``.
* one continuous input ``x_cont`` (float32): the epoch.
* output column 0 is the validation accuracy in percent (column 1, the predicted runtime in
  seconds, is not used). The model takes one configuration per call.

The NAS-Bench-301 space numbers the 14 edges of a cell by node: node 2 (the first intermediate
node) owns edges 0-1 (inputs 0, 1), node 3 edges 2-4 (inputs 0..2), node 4 edges 5-8, node 5
edges 9-13; edge ``offset(node) + input`` carries the op from that input. Nodes 3-5 choose their
two inputs as ``"i_j"`` (i < j); node 2 always takes inputs 0 and 1.

**Genotypes the space cannot express.** NAS-Bench-301 requires the two inputs of a node to be
*distinct* (one op per edge), and every cell concatenates all four intermediate nodes. A DARTS
genotype may take both of a node's ops from the same input (IS-DARTS' published reduction cell
does: node 3 takes ``dil_conv_5x5`` and ``sep_conv_5x5`` both from node 2). Such a genotype gets
no score: :func:`score` raises :class:`Unscorable` (an ``IsdartsError``, one line naming the
cell and node), :func:`score_batch` returns ``None`` for it, and :func:`unscorable_reason` says
why. :func:`nearest_variants` lists the expressible genotypes one rewiring away (one op of each
offending node moved to another input), for an explicitly labelled approximation
(``isdarts surrogate --nearest``); it is never used unless asked for.

Where onnxruntime or the files are missing, loading raises :class:`Unavailable` (an
``IsdartsError``); ``isdarts surrogate --allow-missing`` then writes ``score: null`` with that
reason instead of failing.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from isdarts._io import unique_pairs
from isdarts.bench import SURROGATE_LABEL as LABEL
from isdarts.errors import IsdartsError
from isdarts.spaces.darts.names import KINDS, Genotype

MIN_EPOCH, MAX_EPOCH = 1, 98
FILES = ("model.onnx", "config_space.json", "encoding.json")
FOLDER = "nb301-yahpo"

_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
_STEPS = 4
# First edge of intermediate node 2, 3, 4, 5 (node n has inputs 0 .. n-1, so n edges).
_EDGE_OFFSET = {2: 0, 3: 2, 4: 5, 5: 9}
_EDGES = 14
_NA = "#na#"


def _edge_name(kind: str, k: int) -> str:
    return f"{_PREFIX}edge_{kind}_{k}"


def _inputs_name(kind: str, node: int) -> str:
    return f"{_PREFIX}inputs_node_{kind}_{node}"


# The model's categorical input order (YAHPO's nb301 ``cat_names``).
CAT_NAMES: tuple[str, ...] = (
    *(_edge_name(kind, k) for kind in KINDS for k in range(_EDGES)),
    *(_inputs_name(kind, n) for kind in KINDS for n in (3, 4, 5)),
)


class Unscorable(IsdartsError):
    """The genotype has no counterpart in the NAS-Bench-301 space (see the module docstring)."""


class Unavailable(IsdartsError):
    """The surrogate cannot be loaded here: onnxruntime or its files are missing."""


def resolve_data_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder holding the surrogate: ``path``, else the mirror's ``nb301-yahpo``; checked."""
    if path is not None:
        folder = Path(path)
    else:
        from isdarts.data.sources import mirror_root

        mirror = mirror_root()
        if mirror is None:
            raise Unavailable(
                f"{LABEL}: no data mirror found (set $ISDARTS_MIRROR to a folder "
                f"holding {FOLDER}/ with {', '.join(FILES)}, or pass a folder)"
            )
        folder = mirror / FOLDER
    if not folder.is_dir():
        raise Unavailable(
            f"{LABEL}: {folder} is not a folder (expected YAHPO Gym's nb301 "
            f"{', '.join(FILES)} there)"
        )
    for name in FILES:
        if not (folder / name).is_file():
            raise Unavailable(
                f"{LABEL}: {folder / name} not found (expected YAHPO Gym's nb301 "
                f"{', '.join(FILES)} in {folder})"
            )
    return folder


def unscorable_reason(genotype: Genotype) -> str | None:
    """Why ``genotype`` has no NAS-Bench-301 counterpart, or None when it has one."""
    if genotype.steps != _STEPS:
        return f"{genotype.steps} intermediate nodes per cell ({LABEL} needs {_STEPS})"
    for kind in KINDS:
        pairs, concat = genotype.cell(kind)
        if sorted(concat) != list(range(2, 2 + _STEPS)):
            return (
                f"{kind} cell concatenates nodes {list(concat)} ({LABEL} concatenates all "
                f"of 2..{1 + _STEPS})"
            )
        for i in range(_STEPS):
            (op_a, a), (op_b, b) = pairs[2 * i], pairs[2 * i + 1]
            if a == b:
                return (
                    f"{kind} cell node {i + 2} takes both ops ({op_a}, {op_b}) from input {a}; "
                    f"{LABEL} (NAS-Bench-301 space) needs two distinct inputs per node"
                )
    return None


def to_config(genotype: Genotype, epoch: int = MAX_EPOCH) -> dict[str, Any]:
    """The NAS-Bench-301 / YAHPO configuration (active hyperparameters only, plus ``epoch``)."""
    reason = unscorable_reason(genotype)
    if reason is not None:
        raise Unscorable(f"{LABEL} cannot score this genotype: {reason}")
    config: dict[str, Any] = {}
    for kind in KINDS:
        pairs, _ = genotype.cell(kind)
        for i in range(_STEPS):
            node = i + 2
            two = (pairs[2 * i], pairs[2 * i + 1])
            for op, inp in two:
                config[_edge_name(kind, _EDGE_OFFSET[node] + inp)] = op
            if node > 2:
                a, b = sorted(inp for _, inp in two)
                config[_inputs_name(kind, node)] = f"{a}_{b}"
    config["epoch"] = _check_epoch(epoch)
    return config


def _check_epoch(epoch: Any) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not MIN_EPOCH <= epoch <= MAX_EPOCH:
        raise IsdartsError(
            f"{LABEL}: epoch must be an integer in {MIN_EPOCH}..{MAX_EPOCH}, got {epoch!r}"
        )
    return epoch


class _Model:
    """The ONNX session and the integer coding of one surrogate folder."""

    def __init__(self, folder: Path):
        try:
            import numpy as np
            import onnxruntime as ort
        except ImportError:
            raise Unavailable(
                f"{LABEL} needs onnxruntime: pip install 'isdarts[surrogate]' "
                "(or pip install onnxruntime)"
            ) from None
        self._np = np
        path = folder / "encoding.json"
        try:
            encoding = json.loads(path.read_text(), object_pairs_hook=unique_pairs)
            self.codes = [encoding[name] for name in CAT_NAMES]
        except (ValueError, RecursionError, KeyError, TypeError) as exc:  # ValueError: bad JSON
            raise IsdartsError(
                f"{path}: not YAHPO's nb301 encoding ({type(exc).__name__}: {exc})"
            ) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(folder / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise IsdartsError(
                f"{folder / 'model.onnx'}: cannot load ({exc})".splitlines()[0]
            ) from None
        names = {i.name for i in self.session.get_inputs()}
        if names != {"x_cat", "x_cont"}:
            raise IsdartsError(
                f"{folder / 'model.onnx'}: inputs {sorted(names)}, expected "
                "x_cat and x_cont (YAHPO's nb301 model)"
            )
        self.output = self.session.get_outputs()[0].name

    def encode(self, config: dict[str, Any]):
        np = self._np
        cat = []
        for name, codes in zip(CAT_NAMES, self.codes):
            value = config.get(name, _NA)
            if value not in codes:
                raise IsdartsError(f"{LABEL}: value {value!r} of {name} is not in encoding.json")
            cat.append(codes[value])
        return (
            np.asarray([cat], dtype=np.int32),
            np.asarray([[config["epoch"]]], dtype=np.float32),
        )

    def predict(self, config: dict[str, Any]) -> float:
        x_cat, x_cont = self.encode(config)
        out = self.session.run([self.output], {"x_cat": x_cat, "x_cont": x_cont})[0]
        return float(out[0, 0])


@functools.lru_cache(maxsize=4)
def _model(folder: Path) -> _Model:
    return _Model(folder)


def load_model(path: str | os.PathLike | None = None) -> _Model:
    """The (cached) surrogate in :func:`resolve_data_dir` ``(path)``."""
    return _model(resolve_data_dir(path).resolve())


def score(
    genotype: Genotype, epoch: int = MAX_EPOCH, data_dir: str | os.PathLike | None = None
) -> float:
    """Predicted CIFAR-10 validation accuracy (%) after ``epoch`` epochs, by the YAHPO-NB301
    surrogate. Raises :class:`Unscorable` when the NAS-Bench-301 space cannot express it."""
    config = to_config(genotype, epoch)
    return load_model(data_dir).predict(config)


def score_batch(
    genotypes: Iterable[Genotype], epoch: int = MAX_EPOCH, data_dir: str | os.PathLike | None = None
) -> list[float | None]:
    """:func:`score` for each genotype, ``None`` where :func:`unscorable_reason` is not None."""
    _check_epoch(epoch)
    model = load_model(data_dir)
    return [
        None if unscorable_reason(g) is not None else model.predict(to_config(g, epoch))
        for g in genotypes
    ]


def nearest_variants(genotype: Genotype, limit: int = 4096) -> list[Genotype]:
    """Expressible genotypes one rewiring away: in every node whose two ops share an input, one of
    the two ops moves to another input of that node (all choices, all offending nodes combined).
    Empty when the genotype is expressible as it is or when the reason is not a shared input;
    ``IsdartsError`` when there would be more than ``limit`` variants."""
    if unscorable_reason(genotype) is None:
        return []
    count = 1
    for kind in KINDS:
        pairs, _ = genotype.cell(kind)
        for i in range(len(pairs) // 2):
            if pairs[2 * i][1] == pairs[2 * i + 1][1]:
                count *= 2 * (i + 1)  # either op, to any of the node's i + 1 other inputs
    if count > limit:
        raise IsdartsError(
            f"{LABEL}: {count} nearest variants (limit {limit}): too many nodes "
            "take both ops from one input"
        )
    cells: dict[str, list[list[tuple[tuple[str, int], ...]]]] = {}
    for kind in KINDS:
        pairs, _ = genotype.cell(kind)
        options = []
        for i in range(len(pairs) // 2):
            (op_a, a), (op_b, b) = pairs[2 * i], pairs[2 * i + 1]
            if a != b:
                options.append([(pairs[2 * i], pairs[2 * i + 1])])
                continue
            moved = [((op_a, j), (op_b, a)) for j in range(i + 2) if j != a]
            moved += [((op_a, a), (op_b, j)) for j in range(i + 2) if j != a]
            options.append(moved)
        cells[kind] = [sum(choice, ()) for choice in itertools.product(*options)]
    variants = [
        Genotype(tuple(n), genotype.normal_concat, tuple(r), genotype.reduce_concat)
        for n, r in itertools.product(cells["normal"], cells["reduce"])
    ]
    return [v for v in variants if unscorable_reason(v) is None]


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """``n``, ``min``, ``mean``, ``max`` of a list of scores (rounded to 4 decimals)."""
    return {
        "n": len(values),
        "min": round(min(values), 4),
        "mean": round(sum(values) / len(values), 4),
        "max": round(max(values), 4),
    }
