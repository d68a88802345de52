"""The search methods by name, as the command line, the workflow and the reports know them
(torch-free; the plug-ins themselves are :mod:`isdarts.search.methods`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodName:
    name: str  # --method, the workflow config's `methods`, result files
    label: str  # the reports' and figures' name
    spaces: tuple[str, ...]  # the search spaces it runs on
    color: str  # its colour in the figures


# the reports' order: the paper's method first, then the baselines as the paper's table lists them
METHOD_NAMES: tuple[MethodName, ...] = (
    MethodName("isdarts", "IS-DARTS", ("nb201", "darts"), "tab:blue"),
    MethodName("darts", "DARTS (1st order)", ("nb201", "darts"), "tab:red"),
    MethodName("darts2", "DARTS (2nd order)", ("nb201",), "tab:purple"),
    MethodName("rsps", "random search (RSPS)", ("nb201",), "tab:gray"),
    MethodName("enas", "ENAS", ("nb201",), "navy"),
    MethodName("gdas", "GDAS", ("nb201",), "tab:orange"),
    MethodName("setn", "SETN", ("nb201",), "tab:brown"),
    MethodName("snas", "SNAS", ("nb201",), "magenta"),
    MethodName("dsnas", "DSNAS", ("nb201",), "teal"),
    MethodName("pcdarts", "PC-DARTS", ("nb201",), "tab:olive"),
    MethodName("idarts", "iDARTS", ("nb201",), "maroon"),
    MethodName("drnas", "DrNAS", ("nb201",), "tab:cyan"),
    MethodName("betadarts", "beta-DARTS", ("nb201",), "tab:pink"),
)
METHODS: tuple[str, ...] = tuple(m.name for m in METHOD_NAMES)
NB201_ONLY: tuple[str, ...] = tuple(m.name for m in METHOD_NAMES if "darts" not in m.spaces)
METHOD_LABELS: dict[str, str] = {m.name: m.label for m in METHOD_NAMES}
METHOD_COLORS: dict[str, str] = {m.name: m.color for m in METHOD_NAMES}
