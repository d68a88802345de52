"""NAS-Bench-201 look-up speed: table load time and per-query time (after loading).

Usage: python benchmarks/nb201_lookup.py [--table PATH]
Last line: ``load_ms=<mean> query_us=<mean>``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from isdarts.bench import Benchmark


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    Benchmark.load(args.table)  # burn-in: imports, page cache
    loads = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        bench = Benchmark.load(args.table)
        loads.append(time.perf_counter() - t0)

    rng = random.Random(0)
    keys = [bench.archs[rng.randrange(len(bench))] for _ in range(10_000)]
    keys += [rng.randrange(len(bench)) for _ in range(10_000)]
    for k in keys[:100]:
        bench.query(k)
    t0 = time.perf_counter()
    for k in keys:
        bench.query(k)
    per_query = (time.perf_counter() - t0) / len(keys)

    print(f"table: {bench.path} ({len(bench)} architectures)")
    print(
        f"load: {1e3 * statistics.mean(loads):.1f} ms mean, {1e3 * min(loads):.1f} ms min over {args.repeats}"
    )
    print(f"query: {1e6 * per_query:.2f} us mean over {len(keys)} (strings and indices)")
    print(f"load_ms={1e3 * statistics.mean(loads):.1f} query_us={1e6 * per_query:.2f}")


if __name__ == "__main__":
    main()
