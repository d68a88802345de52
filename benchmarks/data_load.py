"""Time to load (and sha256-verify) the prepared CIFAR-10 cache.

Last line: ``load_s=<mean>``.
"""

from __future__ import annotations

import statistics
import time

from isdarts.data import load_dataset


def main(repeats: int = 5) -> None:
    load_dataset("cifar10")  # burn-in
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ds = load_dataset("cifar10")
        times.append(time.perf_counter() - t0)
    n = len(ds.train_images) + len(ds.test_images)
    print(f"cifar10: {n} images, source: {ds.source}")
    print(
        f"load+verify: {statistics.mean(times):.3f} s mean, {min(times):.3f} s min over {repeats}"
    )
    print(f"load_s={statistics.mean(times):.3f}")


if __name__ == "__main__":
    main()
