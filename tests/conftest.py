from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def cifar10():
    """The real CIFAR-10 (mirror or official), prepared once into the repo's data root."""
    from isdarts import data

    data.prepare("cifar10")
    return data.load_dataset("cifar10")


@pytest.fixture(scope="session")
def bench():
    from isdarts import data
    from isdarts.nb201 import Benchmark

    data.copy_benchmark_files()
    return Benchmark.load()
