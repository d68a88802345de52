"""Params and FLOPs of a NAS-Bench-201 cell's evaluation network, as the benchmark reports them
(NATS-Bench's ``api.get_cost_info(i, dataset)["params"]`` and ``["flops"]``), without torch.

The evaluation network (NAS-Bench-201's ``TinyNetwork``, C = 16, N = 5): a stem (3x3
convolution 3 -> C, batch norm), three stages of N cells at C, 2C and 4C channels, between the
stages a ResNet reduction block (ReLU-Conv3x3-BN with stride 2, ReLU-Conv3x3-BN, shortcut of
2x2 average pooling and a 1x1 convolution), then batch norm, ReLU, global average pooling and a
linear layer. In a cell, ``nor_conv_KxK`` is ReLU-ConvKxK-BN (no bias); ``skip_connect``,
``avg_pool_3x3`` and ``none`` have no parameters. Every batch norm is affine (2 parameters a
channel): the trained networks, unlike the search supernet's cells.

Counted as the NATS-Bench authors count (``xautodl``'s ``get_model_infos``): params are all
parameters; FLOPs are the multiply-adds of the convolutions (``k*k*C_in*C_out`` an output
position) and of the linear layer (``in*out``, plus ``out`` for its bias), for one image;
pooling, batch norm, ReLU and additions count nothing. Both in millions (``/ 1e6``). Checked
against the official values of the NATS-Bench test fixture (``tests/test_bench_cost.py``), e.g.
``|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|`` (index
284) on CIFAR-10: 0.101306 M params, 11.71521 M FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from isdarts.errors import IsdartsError
from isdarts.spaces.nb201.names import parse

if TYPE_CHECKING:
    from isdarts.bench.nb201 import Benchmark

# Benchmark data set name -> (classes, input side). cifar10-valid trains the same network.
DATASETS: dict[str, tuple[int, int]] = {
    "cifar10": (10, 32),
    "cifar10-valid": (10, 32),
    "cifar100": (100, 32),
    "ImageNet16-120": (120, 16),
}
# The three data sets of the benchmark table, by the prefix of its columns (cifar10_test, ...).
PREFIXES: dict[str, str] = {
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "ImageNet16-120": "imagenet16",
}
CHANNELS = 16
CELLS_PER_STAGE = 5
STAGES = 3


@dataclass(frozen=True)
class Cost:
    """Exact counts of one network: parameters and multiply-adds for one image."""

    params: int
    flops: int

    @property
    def params_m(self) -> float:
        return self.params / 1e6

    @property
    def flops_m(self) -> float:
        return self.flops / 1e6

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.params + other.params, self.flops + other.flops)

    def __mul__(self, n: int) -> Cost:
        return Cost(self.params * n, self.flops * n)


ZERO = Cost(0, 0)


def conv(c_in: int, c_out: int, kernel: int, side_out: int, *, bias: bool = False) -> Cost:
    """A convolution (one group) with a ``side_out`` x ``side_out`` output."""
    weights = kernel * kernel * c_in * c_out
    positions = side_out * side_out
    extra = c_out if bias else 0
    return Cost(weights + extra, (weights + extra) * positions)


def batch_norm(c: int) -> Cost:
    """Affine batch norm: weight and bias a channel, no FLOPs counted."""
    return Cost(2 * c, 0)


def linear(c_in: int, c_out: int) -> Cost:
    """A linear layer with bias."""
    return Cost(c_in * c_out + c_out, c_in * c_out + c_out)


def op_cost(op: str, c: int, side: int) -> Cost:
    """One cell op at ``c`` channels on a ``side`` x ``side`` map (stride 1)."""
    if op == "nor_conv_3x3":
        return conv(c, c, 3, side) + batch_norm(c)
    if op == "nor_conv_1x1":
        return conv(c, c, 1, side) + batch_norm(c)
    if op in ("none", "skip_connect", "avg_pool_3x3"):
        return ZERO
    raise IsdartsError(f"op {op!r}: not a NAS-Bench-201 op")


def reduction_cost(c_in: int, c_out: int, side_out: int) -> Cost:
    """The ResNet reduction block (its 2x2 average pooling counts nothing)."""
    return (
        conv(c_in, c_out, 3, side_out)
        + batch_norm(c_out)
        + conv(c_out, c_out, 3, side_out)
        + batch_norm(c_out)
        + conv(c_in, c_out, 1, side_out)
    )


def _dataset(dataset: str) -> tuple[int, int]:
    try:
        return DATASETS[dataset]
    except (KeyError, TypeError):
        raise IsdartsError(f"data set {dataset!r}: expected one of {', '.join(DATASETS)}") from None


def network_cost(
    arch: str,
    dataset: str = "cifar10",
    *,
    channels: int = CHANNELS,
    cells_per_stage: int = CELLS_PER_STAGE,
) -> Cost:
    """Exact params and FLOPs of the evaluation network of the cell ``arch`` (a benchmark
    string) on ``dataset``; IsdartsError for a malformed string or an unknown data set."""
    ops = parse(arch)
    classes, side = _dataset(dataset)
    total = conv(3, channels, 3, side) + batch_norm(channels)  # stem
    c = channels
    for stage in range(STAGES):
        if stage:
            side //= 2
            total = total + reduction_cost(c, 2 * c, side)
            c *= 2
        cell = sum((op_cost(op, c, side) for op in ops), ZERO)
        total = total + cell * cells_per_stage
    return total + batch_norm(c) + linear(c, classes)


def _arch_str(arch: str | int, bench: Benchmark | None) -> str:
    if isinstance(arch, str) and not arch.strip().isdigit():
        return arch
    if bench is None:
        from isdarts.bench.nb201 import Benchmark

        bench = Benchmark.load()
    return bench.query(arch)["arch"]


def get_cost_info(
    arch: str | int, dataset: str = "cifar10", bench: Benchmark | None = None
) -> dict[str, float]:
    """NATS-Bench's ``get_cost_info`` without the timings: ``{"params": M, "flops": M}`` of a
    cell string or benchmark index (an index is looked up in ``bench``, default the table)."""
    cost = network_cost(_arch_str(arch, bench), dataset)
    return {"params": cost.params_m, "flops": cost.flops_m}


def cost_columns(arch: str) -> dict[str, float]:
    """``<prefix>_params_m`` and ``<prefix>_flops_m`` of a cell string for each of the three
    data sets of the benchmark table (prefixes cifar10, cifar100, imagenet16)."""
    out: dict[str, float] = {}
    for dataset, prefix in PREFIXES.items():
        cost = network_cost(arch, dataset)
        out[f"{prefix}_params_m"] = cost.params_m
        out[f"{prefix}_flops_m"] = cost.flops_m
    return out
