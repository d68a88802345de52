"""Names of the DARTS (NASNet-style) space, without torch: the eight ops, the cell's edges and
nodes, and genotypes in the usual DARTS notation with JSON I/O and validation.

Each cell has two inputs (the previous two cells) and ``STEPS`` = 4 intermediate nodes; node
``i`` has an edge from every earlier state ``j < 2 + i`` (14 edges, ``EDGES[e] == (i, j)``).
A search mask has shape [2][14][8]: cell kind (``KINDS``: 0 normal, 1 reduce), edge, op.

A genotype lists, for the normal and the reduction cell, two ``(op, input)`` pairs per
intermediate node: node ``i`` (0-based) takes inputs from ``0`` and ``1`` (the outputs of the
two previous cells) and ``2 .. 2+i-1`` (earlier intermediate nodes). ``*_concat`` names the
nodes whose outputs are concatenated into the cell's output (all intermediate nodes: 2..5).

JSON form (what ``isdarts genotype --json`` prints and ``--genotype FILE`` reads)::

    {"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ...],
     "normal_concat": [2, 3, 4, 5],
     "reduce": [["max_pool_3x3", 0], ...],
     "reduce_concat": [2, 3, 4, 5]}

A file may also hold the DARTS repository's text form,
``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), ...)``.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isdarts._io import unique_pairs
from isdarts.errors import IsdartsError

PRIMITIVES: tuple[str, ...] = (
    "none",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
    "avg_pool_3x3",
    "max_pool_3x3",
)
PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3", "max_pool_3x3")
K = len(PRIMITIVES)
NONE = PRIMITIVES.index("none")
STEPS = 4
EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(STEPS) for j in range(2 + i))
KINDS = ("normal", "reduce")
Mask = list[list[list[bool]]]  # [kind][edge][op]
Pairs = tuple[tuple[str, int], ...]


def full_mask() -> Mask:
    return [[[True] * K for _ in EDGES] for _ in KINDS]


@dataclass(frozen=True)
class Genotype:
    normal: Pairs
    normal_concat: tuple[int, ...]
    reduce: Pairs
    reduce_concat: tuple[int, ...]

    @property
    def steps(self) -> int:
        """Intermediate nodes per cell."""
        return len(self.normal) // 2

    def cell(self, kind: str) -> tuple[Pairs, tuple[int, ...]]:
        return (
            (self.normal, self.normal_concat)
            if kind == "normal"
            else (self.reduce, self.reduce_concat)
        )

    def to_dict(self) -> dict[str, list]:
        return {
            "normal": [[op, i] for op, i in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [[op, i] for op, i in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __str__(self) -> str:
        def fmt(pairs: Pairs) -> str:
            return "[" + ", ".join(f"({op!r}, {i})" for op, i in pairs) + "]"

        return (
            f"Genotype(normal={fmt(self.normal)}, normal_concat={list(self.normal_concat)}, "
            f"reduce={fmt(self.reduce)}, reduce_concat={list(self.reduce_concat)})"
        )


def _pairs(raw: Any, kind: str, where: str) -> Pairs:
    if not isinstance(raw, (list, tuple)) or not raw or len(raw) % 2:
        raise IsdartsError(
            f"{where}: '{kind}' must be a non-empty list of (op, input) pairs, "
            "two per intermediate node"
        )
    pairs = []
    for k, item in enumerate(raw):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise IsdartsError(f"{where}: {kind}[{k}] is {item!r}, expected an (op, input) pair")
        op, inp = item
        if op not in PRIMITIVES:
            raise IsdartsError(
                f"{where}: unknown op {op!r} in {kind}[{k}] (expected one of "
                f"{', '.join(PRIMITIVES[1:])})"
            )
        if op == "none":
            raise IsdartsError(f"{where}: op 'none' in {kind}[{k}]: a genotype keeps real ops only")
        node = k // 2
        if isinstance(inp, bool) or not isinstance(inp, int) or not 0 <= inp < 2 + node:
            raise IsdartsError(
                f"{where}: bad input index {inp!r} in {kind}[{k}] (node {node + 2} "
                f"can take inputs 0..{node + 1})"
            )
        pairs.append((op, inp))
    return tuple(pairs)


def _concat(raw: Any, kind: str, steps: int, where: str) -> tuple[int, ...]:
    valid = range(2, 2 + steps)
    given = raw
    if isinstance(raw, range):  # one element past the valid ones at most: range(10**12) too
        raw = list(raw[: len(valid) + 1])
    if (
        not isinstance(raw, (list, tuple))
        or not raw
        or any(isinstance(i, bool) or not isinstance(i, int) or i not in valid for i in raw)
        or len(set(raw)) != len(raw)
    ):
        raise IsdartsError(
            f"{where}: bad '{kind}_concat' {given!r} (expected distinct node "
            f"indices in {valid.start}..{valid.stop - 1})"
        )
    return tuple(raw)


def genotype_from_dict(obj: Any, where: str = "genotype") -> Genotype:
    """Validate and build; ``IsdartsError`` naming ``where`` and the offending entry."""
    if not isinstance(obj, dict):
        raise IsdartsError(
            f"{where}: expected an object with keys normal, normal_concat, reduce, reduce_concat"
        )
    keys = {"normal", "normal_concat", "reduce", "reduce_concat"}
    unknown = [k for k in obj if k not in keys]
    if unknown:  # repr: a key of any type, a newline in it kept on the message's line
        raise IsdartsError(
            f"{where}: unknown key {str(unknown[0])!r} (expected {', '.join(sorted(keys))})"
        )
    normal, reduce = (_pairs(obj.get(k), k, where) for k in KINDS)
    if len(normal) != len(reduce):
        raise IsdartsError(f"{where}: normal and reduce cells have different node counts")
    steps = len(normal) // 2
    default = list(range(2, 2 + steps))
    return Genotype(
        normal,
        _concat(obj.get("normal_concat", default), "normal", steps, where),
        reduce,
        _concat(obj.get("reduce_concat", default), "reduce", steps, where),
    )


def parse_darts_text(text: str, where: str) -> Genotype:
    """The DARTS repository's ``Genotype(normal=[...], normal_concat=range(2, 6), ...)``."""
    try:
        call = ast.parse(text.strip(), mode="eval").body
        if not isinstance(call, ast.Call):
            raise ValueError("not a call")
        obj: dict[str, Any] = {}
        for kw in call.keywords:
            v = kw.value
            if kw.arg is None:
                raise ValueError("'**' arguments are not allowed")
            if isinstance(v, ast.Call) and getattr(v.func, "id", "") == "range" and not v.keywords:
                obj[kw.arg] = range(*(ast.literal_eval(a) for a in v.args))  # _concat lists it
            else:
                obj[kw.arg] = ast.literal_eval(v)
    except (SyntaxError, ValueError, TypeError, OverflowError) as exc:
        raise IsdartsError(
            f"{where}: not a genotype (JSON or Genotype(...) text): {_first_line(exc)}"
        ) from None
    except (MemoryError, RecursionError):  # CPython's parser on 10^4 nested operators
        raise IsdartsError(
            f"{where}: not a genotype (JSON or Genotype(...) text): nested too deeply"
        ) from None
    return genotype_from_dict(obj, where)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _ref(normal: list, reduce: list) -> Genotype:
    return genotype_from_dict({"normal": normal, "reduce": reduce}, "reference genotype")


# Spec section 6. ``isdarts_published``: the IS-DARTS authors' final DARTS-space cell.
# ``darts_v2``: the DARTS paper's second-order cell (2.76 +- 0.09 % test error, 3.3 M params).
REFERENCE_GENOTYPES: dict[str, Genotype] = {
    "isdarts_published": _ref(
        [
            ("sep_conv_5x5", 0),
            ("sep_conv_3x3", 1),
            ("dil_conv_5x5", 0),
            ("sep_conv_5x5", 1),
            ("sep_conv_5x5", 0),
            ("sep_conv_5x5", 1),
            ("sep_conv_3x3", 0),
            ("sep_conv_5x5", 2),
        ],
        [
            ("sep_conv_5x5", 0),
            ("max_pool_3x3", 1),
            ("dil_conv_5x5", 2),
            ("sep_conv_5x5", 2),
            ("sep_conv_5x5", 0),
            ("sep_conv_5x5", 2),
            ("dil_conv_5x5", 0),
            ("sep_conv_5x5", 2),
        ],
    ),
    "darts_v2": _ref(
        [
            ("sep_conv_3x3", 0),
            ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 0),
            ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1),
            ("skip_connect", 0),
            ("skip_connect", 0),
            ("dil_conv_3x3", 2),
        ],
        [
            ("max_pool_3x3", 0),
            ("max_pool_3x3", 1),
            ("skip_connect", 2),
            ("max_pool_3x3", 1),
            ("max_pool_3x3", 0),
            ("skip_connect", 2),
            ("skip_connect", 2),
            ("max_pool_3x3", 1),
        ],
    ),
}


def load_genotype(name_or_file: str | os.PathLike) -> Genotype:
    """A reference name (``isdarts_published``, ``darts_v2``), a genotype JSON file, a search
    ``result.json`` holding a ``genotype`` object, or a file with DARTS' ``Genotype(...)`` text."""
    key = str(name_or_file)
    if key in REFERENCE_GENOTYPES:
        return REFERENCE_GENOTYPES[key]
    path = Path(name_or_file)
    try:
        is_file = path.is_file()
    except OSError as exc:  # a name too long for the file system, a folder not searchable
        raise IsdartsError(f"genotype {key!r}: {exc.strerror}") from None
    if not is_file:
        raise IsdartsError(
            f"genotype {key!r}: neither a file nor a reference name "
            f"({', '.join(REFERENCE_GENOTYPES)})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IsdartsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if text.lstrip().startswith("Genotype("):
        return parse_darts_text(text, str(path))
    try:
        obj = json.loads(text, object_pairs_hook=unique_pairs)
    except json.JSONDecodeError as exc:
        raise IsdartsError(f"{path}: not valid JSON ({exc})") from None
    except ValueError:  # json's int() on a number past Python's 4300-digit limit
        raise IsdartsError(f"{path}: not valid JSON (a number with too many digits)") from None
    except RecursionError:  # arrays or objects nested 10^5 deep
        raise IsdartsError(f"{path}: not valid JSON (nested too deeply)") from None
    if isinstance(obj, dict) and "genotype" in obj and "normal" not in obj:
        obj = obj["genotype"]
    return genotype_from_dict(obj, str(path))
