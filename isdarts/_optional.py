"""Libraries the package checks its inputs with but can run without.

A GPU machine may offer torch, numpy, pandas, matplotlib and pyyaml only (no network to install
more): there ``benchmarks/device_check.sh`` runs the package from the source tree. Without
``jsonschema`` profiles and config documents are not schema-checked, without ``pandera`` the
NAS-Bench-201 table only for its columns; each is said once on stderr. An installed package
(``pip install``) always has both.
"""

from __future__ import annotations

import functools
import importlib
import sys
from types import ModuleType


@functools.cache
def optional(module: str, skipped: str) -> ModuleType | None:
    """``import module``, or None after one line on stderr saying what is ``skipped``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"isdarts: {module} is not installed: {skipped}", file=sys.stderr)
        return None
