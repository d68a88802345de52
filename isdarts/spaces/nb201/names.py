"""Names of the NAS-Bench-201 space, without torch: ops, edges, masks and cell strings.

A cell has 4 nodes; node ``i`` sums one op applied to each earlier node ``j < i`` (6 edges).
The benchmark writes a cell as ``|op~j|+|op~j|op~j|+|op~j|op~j|op~j|``, one ``+``-separated
group per node 1..3, each listing that node's inputs in order j = 0, 1, ...; for example the
published IS-DARTS cell (benchmark index 9930)::

    |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|

Here a cell is also a list of 6 op names in ``EDGES`` order (the string's left-to-right order).
"""

from __future__ import annotations

from isdarts.errors import IsdartsError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4
EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(1, NUM_NODES) for j in range(i))
K = len(OPS)
NONE, SKIP, CONV1, CONV3, POOL = range(K)
Mask = list[list[bool]]  # [edge][op]


def full_mask() -> Mask:
    return [[True] * K for _ in EDGES]


def parse(arch: str) -> list[str]:
    """The 6 op names of a benchmark string, in ``EDGES`` order; IsdartsError if malformed."""
    if not isinstance(arch, str):
        raise IsdartsError(f"architecture {arch!r}: expected a NAS-Bench-201 string")
    # every part of the input is quoted with repr: a newline in it stays on the message's line
    groups = arch.strip().split("+")
    if len(groups) != NUM_NODES - 1:
        raise IsdartsError(
            f"architecture {arch!r}: expected {NUM_NODES - 1} '+'-separated node groups, got {len(groups)}"
        )
    ops = []
    for node, group in enumerate(groups, start=1):
        if not (group.startswith("|") and group.endswith("|")):
            raise IsdartsError(
                f"architecture {arch!r}: node group {group!r} must start and end with '|'"
            )
        items = group[1:-1].split("|")
        if len(items) != node:
            raise IsdartsError(
                f"architecture {arch!r}: node {node} needs {node} inputs, got {len(items)}"
            )
        for j, item in enumerate(items):
            op, sep, src = item.partition("~")
            if not sep or src != str(j):
                raise IsdartsError(f"architecture {arch!r}: item {item!r} should be '<op>~{j}'")
            if op not in OPS:
                raise IsdartsError(
                    f"architecture {arch!r}: unknown op {op!r} (expected one of {', '.join(OPS)})"
                )
            ops.append(op)
    return ops


def to_str(ops: list[str] | tuple[str, ...]) -> str:
    """The benchmark string of 6 op names in ``EDGES`` order."""
    if not isinstance(ops, (list, tuple)) or len(ops) != len(EDGES):
        raise IsdartsError(f"cell {ops!r}: expected a list of {len(EDGES)} ops, one per edge")
    ops = list(ops)
    for op in ops:
        if not isinstance(op, str) or op not in OPS:
            raise IsdartsError(f"cell {ops}: unknown op {op!r} (expected one of {', '.join(OPS)})")
    groups, k = [], 0
    for node in range(1, NUM_NODES):
        groups.append("|" + "|".join(f"{ops[k + j]}~{j}" for j in range(node)) + "|")
        k += node
    return "+".join(groups)
