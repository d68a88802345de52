"""NAS-Bench-201 (NATS-Bench topology space): cell strings and benchmark look-ups."""

from isdarts.nb201.arch import EDGES, OPS, parse, to_str
from isdarts.nb201.benchmark import COLUMNS, Benchmark

__all__ = ["COLUMNS", "EDGES", "OPS", "Benchmark", "parse", "to_str"]
