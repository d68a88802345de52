"""Look-up benchmarks: the NAS-Bench-201 table (:mod:`isdarts.bench.nb201`), its import from
the official NATS-Bench folder (:mod:`isdarts.bench.nats`) and the YAHPO-NB301 surrogate of
DARTS-space cells (:mod:`isdarts.bench.surrogate`). None of them imports torch.

NATS-Bench-style API::

    from isdarts.bench import Benchmark, parse, to_str
    bench = Benchmark.load()
    bench.query(9930)["cifar10_test"]   # 94.36

Importing the package itself loads nothing (the CLI registers its verbs from here); the
names below are loaded on first use.
"""

import importlib
from typing import Any

# The surrogate's name in every message, JSON file and report (never "NAS-Bench-301"): defined
# here, not in isdarts.bench.surrogate, so that the report layer can print it without loading
# the surrogate.
SURROGATE_LABEL = "YAHPO-NB301 surrogate"
_HOMES = {
    "COLUMNS": "isdarts.bench.nb201",
    "Benchmark": "isdarts.bench.nb201",
    "EDGES": "isdarts.spaces.nb201.names",
    "OPS": "isdarts.spaces.nb201.names",
    "parse": "isdarts.spaces.nb201.names",
    "to_str": "isdarts.spaces.nb201.names",
}
__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'isdarts.bench' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
