from __future__ import annotations

from pathlib import Path

import pytest
import torch

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
    from isdarts.bench import Benchmark

    data.copy_benchmark_files()
    return Benchmark.load()


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: with the 2 cores shared, 2 threads run up to 30x slower than 1. Module
    scope: a module uses it for all its tests (``pytestmark``), module fixtures included."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data_root():
    """The repository's prepared data (CIFAR-10 and the benchmark table), prepared if missing."""
    from isdarts import data
    from isdarts.data.sources import data_root

    data.prepare("cifar10")
    data.copy_benchmark_files()
    return data_root().resolve()
